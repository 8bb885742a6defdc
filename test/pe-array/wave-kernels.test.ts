import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { CounterRegistry, Engine } from "../../src/core/index.js";
import { RegFile } from "../../src/memory/index.js";
import { compileWave, kernelFor, PeArray, runWave, WAVE_KERNEL_NAMES, WaveKernels, type MacWave, type WaveKernelName } from "../../src/pe-array/index.js";

const SPEC = { readPorts: 2, writePorts: 1 };

/** Entries a stream touches, offset included: offset + sum of (count - 1) * stride, plus one. */
const need = (loops: readonly number[], offset: number, strides: readonly number[]) => offset + loops.reduce((a, n, d) => a + (n - 1) * strides[d]!, 0) + 1;

/** Kernels, a register file in their memory and a plain one, sized for `wave` plus `slack` entries. */
function twoRegFiles(wave: MacWave, pes: number, slack: number) {
  const entries = {
    inputEntries: need(wave.loops, wave.input.offset, wave.input.strides) + slack,
    weightEntries: need(wave.loops, wave.weight.offset, wave.weight.strides) + slack,
    psumEntries: need(wave.loops, wave.psum.offset, wave.psum.strides) + slack,
    ...SPEC,
  };
  const kernels = WaveKernels.create(RegFile.words(entries, pes))!;
  const wasmRf = new RegFile(new CounterRegistry(), "rf", entries, pes, false, kernels.buffer);
  const jsRf = new RegFile(new CounterRegistry(), "rf", entries, pes, false);
  return { kernels, wasmRf, jsRf };
}

/**
 * Runs `wave` whole on an array of `rows x cols` PEs twice from the same register contents: with
 * the WebAssembly kernels and with the JavaScript kernel in the mapping's order. Returns both
 * psum partitions and the kernel that ran.
 */
function both(wave: MacWave, rows: number, cols: number, slack: number, fillSeed: number, extremes: boolean) {
  const { kernels, wasmRf, jsRf } = twoRegFiles(wave, rows * cols, slack);
  let s = fillSeed >>> 0;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0);
  for (const part of ["input", "weight", "psum"] as const) {
    const d = wasmRf.data[part];
    for (let i = 0; i < d.length; i++) {
      const r = next();
      // Operands: int16 values (extremes: -32768 only); psums: any int32.
      d[i] = part === "psum" ? r | 0 : extremes ? -32768 : (r >>> 16) - 32768;
    }
    jsRf.data[part].set(d);
  }
  const before = Int32Array.from(wasmRf.data.psum);
  const cwWasm = compileWave("pe", wave, wasmRf, false);
  const cwJs = compileWave("pe", wave, jsRf, false);
  const ran = kernels.run(cwWasm, wasmRf, cols);
  runWave(cwJs, jsRf, cols, 0, cwJs.macs, cwJs.order);
  const name = kernelFor(cwWasm.exec.si, cwWasm.exec.sw, cwWasm.exec.sp);
  return { ran, name, wasm: wasmRf.data.psum, js: jsRf.data.psum, before, kernels };
}

/** Random waves on small arrays: every kernel's stride pattern, odd lengths, zero points, sub-rectangles. */
function randomWaves() {
  const stride = fc.oneof(fc.constant(0), fc.constant(1), fc.integer({ min: 0, max: 5 }));
  return fc
    .record({
      depth: fc.integer({ min: 1, max: 4 }),
      loops: fc.array(fc.integer({ min: 1, max: 11 }), { minLength: 4, maxLength: 4 }),
      si: fc.array(stride, { minLength: 4, maxLength: 4 }),
      sw: fc.array(stride, { minLength: 4, maxLength: 4 }),
      sp: fc.array(stride, { minLength: 4, maxLength: 4 }),
      offsets: fc.tuple(fc.nat(3), fc.nat(3), fc.nat(3)),
      zi: fc.integer({ min: -128, max: 255 }),
      zw: fc.integer({ min: -128, max: 127 }),
      rows: fc.integer({ min: 1, max: 3 }),
      cols: fc.integer({ min: 1, max: 4 }),
      rect: fc.tuple(fc.nat(2), fc.nat(3), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 })),
      slack: fc.nat(3),
      seed: fc.nat(),
    })
    .map((a) => {
      const d = a.depth;
      const rows = Math.max(a.rows, a.rect[0] + 1);
      const cols = Math.max(a.cols, a.rect[1] + 1);
      const pes = { row0: a.rect[0], col0: a.rect[1], rows: Math.min(a.rect[2], rows - a.rect[0]), cols: Math.min(a.rect[3], cols - a.rect[1]) };
      const wave: MacWave = {
        pes,
        loops: a.loops.slice(0, d),
        input: { offset: a.offsets[0], strides: a.si.slice(0, d) },
        weight: { offset: a.offsets[1], strides: a.sw.slice(0, d) },
        psum: { offset: a.offsets[2], strides: a.sp.slice(0, d) },
        inputZero: a.zi,
        weightZero: a.zw,
      };
      return { wave, rows, cols, slack: a.slack, seed: a.seed };
    });
}

describe("WebAssembly wave kernels", () => {
  it("run a wave in pieces (partial rows at either end), with register writes between them, exactly as the JavaScript kernel in the mapping's order", () => {
    const seen = Object.fromEntries(WAVE_KERNEL_NAMES.map((n) => [n, 0])) as Record<WaveKernelName, number>;
    let partialRows = 0;
    let tailOfOne = 0;
    fc.assert(
      fc.property(randomWaves(), fc.nat(), fc.nat(), ({ wave, rows, cols, slack, seed }, cutSeed, writeSeed) => {
        const { kernels, wasmRf, jsRf } = twoRegFiles(wave, rows * cols, slack);
        let st = seed >>> 0;
        const next = () => (st = (Math.imul(st, 1103515245) + 12345) >>> 0);
        const write = (part: "input" | "weight" | "psum", all: boolean) => {
          const d = wasmRf.data[part];
          for (let k = 0; k < d.length; k++) {
            if (!all && next() % 3 !== 0) continue;
            d[k] = part === "psum" ? next() | 0 : (next() >>> 16) - 32768;
            jsRf.data[part][k] = d[k]!;
          }
        };
        for (const part of ["input", "weight", "psum"] as const) write(part, true);
        const cwWasm = compileWave("pe", wave, wasmRf, false);
        const cwJs = compileWave("pe", wave, jsRf, false);
        const macs = cwWasm.macs;
        // Pieces of 1 to 2 rows' worth of MACs: they start and end anywhere in a row.
        const inner = cwWasm.order.inner;
        const bounds = [0];
        st = cutSeed >>> 0;
        while (bounds[bounds.length - 1]! < macs) bounds.push(Math.min(macs, bounds[bounds.length - 1]! + 1 + (next() % (2 * inner))));
        st = writeSeed >>> 0;
        for (let k = 0; k + 1 < bounds.length; k++) {
          const [t0, t1] = [bounds[k]!, bounds[k + 1]!];
          if (t0 % inner !== 0) partialRows++;
          if (t1 % inner === 1 && t1 - t0 > 1) tailOfOne++;
          expect(kernels.runPiece(cwWasm, cwWasm.order, t0, t1, wasmRf, cols)).toBe(true);
          runWave(cwJs, jsRf, cols, t0, t1, cwJs.order);
          // A register write between pieces (streamed operands arrive mid-wave).
          write(k % 2 === 0 ? "input" : "weight", false);
        }
        const name = kernelFor(cwWasm.order.si, cwWasm.order.sw, cwWasm.order.sp);
        expect(kernels.pieces[name]).toBe(bounds.length - 1);
        seen[name]++;
        expect([...wasmRf.data.psum]).toEqual([...jsRf.data.psum]);
      }),
      { numRuns: 500, seed: 11 },
    );
    for (const n of WAVE_KERNEL_NAMES) expect(seen[n], n).toBeGreaterThan(5);
    expect(partialRows).toBeGreaterThan(1000);
    expect(tailOfOne).toBeGreaterThan(100);
  });

  it("run a sequence of waves on one register file, PE rectangles of one size at different corners among them, as the JavaScript kernel", () => {
    // The PE table of the last wave is kept while the rectangle stays: a rectangle of the same
    // size elsewhere, or another size, must get its own.
    const [rows, cols] = [3, 4];
    const rects = [
      { row0: 0, col0: 0, rows: 2, cols: 2 },
      { row0: 1, col0: 0, rows: 2, cols: 2 },
      { row0: 1, col0: 2, rows: 2, cols: 2 },
      { row0: 0, col0: 1, rows: 3, cols: 3 },
      { row0: 0, col0: 0, rows: 1, cols: 4 },
      { row0: 0, col0: 0, rows: 2, cols: 3 },
      { row0: 0, col0: 0, rows: 3, cols: 2 },
    ];
    const base: MacWave = { pes: rects[0]!, loops: [3, 5], input: { offset: 0, strides: [5, 1] }, weight: { offset: 0, strides: [0, 1] }, psum: { offset: 0, strides: [1, 0] }, inputZero: 3, weightZero: -2 };
    const { kernels, wasmRf, jsRf } = twoRegFiles(base, rows * cols, 0);
    let st = 5;
    const next = () => (st = (Math.imul(st, 1103515245) + 12345) >>> 0);
    for (const part of ["input", "weight"] as const) {
      const d = wasmRf.data[part];
      for (let i = 0; i < d.length; i++) d[i] = (next() >>> 24) - 128;
      jsRf.data[part].set(d);
    }
    for (const k of [0, 0, 1, 1, 2, 0, 5, 3, 3, 4, 2, 1, 4, 0, 5, 0, 6]) {
      const wave = { ...base, pes: rects[k]! };
      expect(kernels.run(compileWave("pe", wave, wasmRf, false), wasmRf, cols)).toBe(true);
      const cw = compileWave("pe", wave, jsRf, false);
      runWave(cw, jsRf, cols, 0, cw.macs, cw.order);
      expect([...wasmRf.data.psum]).toEqual([...jsRf.data.psum]);
    }
  });

  it("refuse a piece outside the nest", () => {
    const entries = { inputEntries: 8, weightEntries: 8, psumEntries: 8, ...SPEC };
    const kernels = WaveKernels.create(RegFile.words(entries, 1))!;
    const rf = new RegFile(new CounterRegistry(), "rf", entries, 1, false, kernels.buffer);
    const wave: MacWave = { pes: { row0: 0, col0: 0, rows: 1, cols: 1 }, loops: [2, 3], input: { offset: 0, strides: [3, 1] }, weight: { offset: 0, strides: [0, 1] }, psum: { offset: 0, strides: [1, 0] } };
    const cw = compileWave("pe", wave, rf, false);
    expect(() => kernels.runPiece(cw, cw.order, 0, 7, rf, 1)).toThrow(/not a piece of a 6-MAC nest/);
    expect(() => kernels.runPiece(cw, cw.order, 3, 3, rf, 1)).toThrow(/not a piece/);
    expect(kernels.runPiece(cw, cw.order, 1, 5, rf, 1)).toBe(true);
  });

  it("are available on this platform (Node 20 has WebAssembly with SIMD)", () => {
    expect(WaveKernels.available()).toBe(true);
  });

  it("leave exactly the JavaScript kernel's partial sums on random waves, every kernel", () => {
    const arb = randomWaves();
    const seen = Object.fromEntries(WAVE_KERNEL_NAMES.map((n) => [n, 0])) as Record<WaveKernelName, number>;
    fc.assert(
      fc.property(arb, ({ wave, rows, cols, slack, seed }) => {
        const r = both(wave, rows, cols, slack, seed, false);
        expect(r.ran).toBe(true);
        expect(r.kernels.calls[r.name]).toBe(1);
        seen[r.name]++;
        expect([...r.wasm]).toEqual([...r.js]);
      }),
      { numRuns: 600, seed: 7 },
    );
    for (const n of WAVE_KERNEL_NAMES) expect(seen[n], n).toBeGreaterThan(10);
  });

  it("wrap around exactly like int32 on extreme operands, in every vector kernel and their scalar tails", () => {
    // Every MAC adds (-32768 - 255) * (-32768 + 128) = 1,077,870,720, so sums wrap within a row;
    // rows of 11 or 33 MACs end in scalar tails.
    const cases: { wave: MacWave; kernel: WaveKernelName }[] = [
      { kernel: "vall", wave: { pes: { row0: 0, col0: 0, rows: 2, cols: 2 }, loops: [3, 11], input: { offset: 0, strides: [11, 1] }, weight: { offset: 0, strides: [11, 1] }, psum: { offset: 0, strides: [11, 1] } } },
      { kernel: "vw0", wave: { pes: { row0: 0, col0: 0, rows: 2, cols: 2 }, loops: [3, 11], input: { offset: 1, strides: [0, 1] }, weight: { offset: 0, strides: [1, 0] }, psum: { offset: 0, strides: [11, 1] } } },
      { kernel: "vi0", wave: { pes: { row0: 0, col0: 0, rows: 2, cols: 2 }, loops: [3, 11], input: { offset: 0, strides: [1, 0] }, weight: { offset: 2, strides: [11, 1] }, psum: { offset: 0, strides: [11, 1] } } },
      { kernel: "vred", wave: { pes: { row0: 0, col0: 0, rows: 2, cols: 2 }, loops: [3, 11], input: { offset: 0, strides: [11, 1] }, weight: { offset: 0, strides: [0, 1] }, psum: { offset: 1, strides: [1, 0] } } },
      { kernel: "sred", wave: { pes: { row0: 0, col0: 0, rows: 2, cols: 2 }, loops: [3, 11], input: { offset: 0, strides: [1, 2] }, weight: { offset: 0, strides: [0, 1] }, psum: { offset: 0, strides: [1, 0] } } },
      { kernel: "scalar", wave: { pes: { row0: 0, col0: 0, rows: 2, cols: 2 }, loops: [3, 11], input: { offset: 0, strides: [1, 3] }, weight: { offset: 0, strides: [0, 1] }, psum: { offset: 0, strides: [11, 2] } } },
    ];
    for (const { wave, kernel } of cases) {
      const w = { ...wave, inputZero: 255, weightZero: -128 };
      const r = both(w, 2, 2, 1, 99, true);
      expect(r.name).toBe(kernel);
      expect(r.ran).toBe(true);
      expect([...r.wasm]).toEqual([...r.js]);
      // A second oracle: each psum the wave touches, from the exact sum in BigInt.
      const touched = new Map<number, bigint>();
      const [n0, n1] = w.loops as [number, number];
      for (let i = 0; i < n0; i++) {
        for (let j = 0; j < n1; j++) {
          const pa = w.psum.offset + i * w.psum.strides[0]! + j * w.psum.strides[1]!;
          touched.set(pa, (touched.get(pa) ?? 0n) + (-32768n - 255n) * (-32768n + 128n));
        }
      }
      const E = r.wasm.length / 4;
      for (let p = 0; p < 4; p++) {
        for (const [pa, sum] of touched) expect(r.wasm[p * E + pa]).toBe(Number(BigInt.asIntN(32, BigInt(r.before[p * E + pa]!) + sum)));
      }
    }
  });

  it("decline a wave whose tables do not fit their scratch, touching nothing", () => {
    const entries = { inputEntries: 40, weightEntries: 40, psumEntries: 40, ...SPEC };
    const kernels = WaveKernels.create(RegFile.words(entries, 4), 3 * (4 + 2))!;
    const rf = new RegFile(new CounterRegistry(), "rf", entries, 4, false, kernels.buffer);
    rf.data.input.fill(3);
    rf.data.weight.fill(5);
    const fits = compileWave("pe", { pes: { row0: 0, col0: 0, rows: 2, cols: 2 }, loops: [2, 4], input: { offset: 0, strides: [4, 1] }, weight: { offset: 0, strides: [0, 1] }, psum: { offset: 0, strides: [1, 0] } }, rf, false);
    const tooBig = compileWave("pe", { pes: { row0: 0, col0: 0, rows: 2, cols: 2 }, loops: [3, 4], input: { offset: 0, strides: [4, 1] }, weight: { offset: 0, strides: [0, 1] }, psum: { offset: 0, strides: [1, 0] } }, rf, false);
    expect(kernels.run(tooBig, rf, 2)).toBe(false);
    expect([...rf.data.psum].every((v) => v === 0)).toBe(true);
    expect(kernels.run(fits, rf, 2)).toBe(true);
    expect(rf.data.psum[0]).toBe(60);
    expect(rf.data.psum[1]).toBe(60);
    expect(rf.data.psum[2]).toBe(0);
  });

  it("serve a PeArray in unchecked runs only, unless turned off", () => {
    const spec = { array: { rows: 2, cols: 3, macsPerCycle: 1, pipelineLatency: 1 }, rf: { inputEntries: 8, weightEntries: 8, psumEntries: 4, ...SPEC } };
    const on = new PeArray(new Engine({ mode: "fast" }), spec);
    expect(on.kernels).toBeInstanceOf(WaveKernels);
    expect(on.rf.data.psum.buffer).toBe(on.kernels!.buffer);
    expect(new PeArray(new Engine({ mode: "fast" }), spec, { wasm: false }).kernels).toBeUndefined();
    expect(new PeArray(new Engine({ mode: "fast", checked: true }), spec).kernels).toBeUndefined();
  });

  it("refuse a register file that is not in their memory, or that reaches into their scratch", () => {
    const entries = { inputEntries: 8, weightEntries: 8, psumEntries: 8, ...SPEC };
    const kernels = WaveKernels.create(RegFile.words(entries, 2))!;
    const wave: MacWave = { pes: { row0: 0, col0: 0, rows: 1, cols: 1 }, loops: [4], input: { offset: 0, strides: [1] }, weight: { offset: 0, strides: [1] }, psum: { offset: 0, strides: [0] } };
    const elsewhere = new RegFile(new CounterRegistry(), "rf", entries, 2, false);
    expect(() => kernels.run(compileWave("pe", wave, elsewhere, false), elsewhere, 2)).toThrow(/register file in their memory/);
    const tooBig = new RegFile(new CounterRegistry(), "rf", entries, 3, false, kernels.buffer);
    expect(() => kernels.run(compileWave("pe", wave, tooBig, false), tooBig, 3)).toThrow(/below their scratch/);
    const fits = new RegFile(new CounterRegistry(), "rf", entries, 2, false, kernels.buffer);
    expect(kernels.run(compileWave("pe", wave, fits, false), fits, 2)).toBe(true);
  });

  it("choose the kernel from the innermost strides", () => {
    expect(kernelFor(1, 1, 1)).toBe("vall");
    expect(kernelFor(1, 0, 1)).toBe("vw0");
    expect(kernelFor(0, 1, 1)).toBe("vi0");
    expect(kernelFor(1, 1, 0)).toBe("vred");
    expect(kernelFor(2, 1, 0)).toBe("sred");
    expect(kernelFor(0, 0, 0)).toBe("sred");
    expect(kernelFor(1, 1, 2)).toBe("scalar");
    expect(kernelFor(3, 1, 4)).toBe("scalar");
    expect(kernelFor(4, 0, 1)).toBe("vgw0");
    expect(kernelFor(0, 0, 1)).toBe("vgw0");
    expect(kernelFor(2, 1, 1)).toBe("vgat");
    expect(kernelFor(0, 3, 1)).toBe("vgat");
    expect(kernelFor(1, 2, 1)).toBe("vgat");
  });
});
