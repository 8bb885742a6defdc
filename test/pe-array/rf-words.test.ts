import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { CounterRegistry, InvariantError, type Box } from "../../src/core/index.js";
import { RegFile, type RegFileLayout, type RfPartition } from "../../src/memory/index.js";
import { WaveKernels } from "../../src/pe-array/index.js";
import { RF_WORDS_SCRATCH_WORDS } from "../../src/pe-array/rf-words.js";

/** The kernels' word loops, a register file in their memory and a plain one, with the same words. */
function twoRegFiles(layout: RegFileLayout, rows: number, cols: number, seed: number) {
  const pes = rows * cols;
  const kernels = WaveKernels.create(RegFile.words(layout, pes, cols))!;
  const wasmRf = new RegFile(new CounterRegistry(), "rf", layout, pes, false, kernels.buffer, cols);
  const jsRf = new RegFile(new CounterRegistry(), "rf", layout, pes, false, undefined, cols);
  let s = seed >>> 0;
  for (const part of ["input", "weight", "psum"] as const) {
    const d = wasmRf.data[part];
    for (let i = 0; i < d.length; i++) d[i] = s = (Math.imul(s, 1103515245) + 12345) | 0;
    jsRf.data[part].set(d);
  }
  return { words: kernels.words!, wasmRf, jsRf };
}

/** The flat indices of a rectangle's PEs, in rectangle order. */
function pesOf(r: { row0: number; col0: number; rows: number; cols: number }, pitch: number): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < r.rows; i++) for (let j = 0; j < r.cols; j++) out.push((r.row0 + i) * pitch + r.col0 + j);
  return Int32Array.from(out);
}

const counts = (rf: RegFile, part: RfPartition) => ({ read: rf.counters[part].read.value, fill: rf.counters[part].fill.value });

/** A random array, partition sizes, a one-row box in a partition, a rectangle of PEs and a value. */
const cases = fc
  .record({
    rows: fc.integer({ min: 1, max: 6 }),
    cols: fc.integer({ min: 1, max: 7 }),
    entries: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 3, maxLength: 3 }),
    part: fc.constantFrom<RfPartition>("input", "weight", "psum"),
    inner: fc.integer({ min: 1, max: 13 }),
    stride: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 4 })),
    at: fc.nat(),
    wrapped: fc.boolean(),
    r: fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
    value: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    seed: fc.integer(),
  })
  .map((c) => {
    const parts = ["input", "weight", "psum"] as const;
    const idx = parts.indexOf(c.part);
    const span = (c.inner - 1) * c.stride + 1;
    const entries = c.entries.map((e, i) => (i === idx ? Math.max(e, span) : e));
    const layout: RegFileLayout = { inputEntries: entries[0]!, weightEntries: entries[1]!, psumEntries: entries[2]!, readPorts: 2, writePorts: 1 };
    const offset = c.at % (entries[idx]! - span + 1);
    // (a one-row box written as such, or with a leading dimension of one)
    const box: Box = c.wrapped ? { shape: [1, c.inner], offset, strides: [entries[idx]!, c.stride] } : { shape: [c.inner], offset, strides: [c.stride] };
    const row0 = c.r[0]! % c.rows;
    const col0 = c.r[1]! % c.cols;
    const rect = { row0, col0, rows: 1 + (c.r[2]! % (c.rows - row0)), cols: 1 + (c.r[3]! % (c.cols - col0)) };
    return { ...c, layout, box, rect };
  });

describe("RfWords (the register files' word loops in WebAssembly)", () => {
  it("fills every PE of a rectangle as RegFile.fillMany does, counted alike", () => {
    fc.assert(
      fc.property(cases, (c) => {
        const { words, wasmRf, jsRf } = twoRegFiles(c.layout, c.rows, c.cols, c.seed);
        const n = c.inner;
        expect(words.fillRect(wasmRf, c.part, c.box, c.value, n, c.rect, c.cols)).toBe(true);
        const pes = pesOf(c.rect, c.cols);
        jsRf.fillMany(c.part, c.box, c.value, n, pes, pes.length);
        for (const part of ["input", "weight", "psum"] as const) expect(Array.from(wasmRf.data[part])).toEqual(Array.from(jsRf.data[part]));
        expect(counts(wasmRf, c.part)).toEqual(counts(jsRf, c.part));
      }),
      { numRuns: 300 },
    );
  });

  it("reads every PE of a rectangle densely in rectangle order as RegFile.readMany does, counted alike", () => {
    fc.assert(
      fc.property(cases, (c) => {
        const { words, wasmRf, jsRf } = twoRegFiles(c.layout, c.rows, c.cols, c.seed);
        const total = c.inner * c.rect.rows * c.rect.cols;
        const got = new Int32Array(total).fill(7);
        expect(words.readRect(wasmRf, c.part, c.box, got, c.rect, c.cols)).toBe(true);
        const want = new Int32Array(total);
        const pes = pesOf(c.rect, c.cols);
        jsRf.readMany(c.part, c.box, want, pes, pes.length);
        expect(Array.from(got)).toEqual(Array.from(want));
        expect(counts(wasmRf, c.part)).toEqual(counts(jsRf, c.part));
      }),
      { numRuns: 300 },
    );
  });

  it("declines, having done nothing, what only the JavaScript loops run", () => {
    const layout: RegFileLayout = { inputEntries: 8, weightEntries: 8, psumEntries: 8, readPorts: 2, writePorts: 1 };
    const { words, wasmRf } = twoRegFiles(layout, 2, 3, 1);
    const before = Int32Array.from(wasmRf.data.psum);
    const rect = { row0: 0, col0: 0, rows: 2, cols: 3 };
    // A box of two rows.
    expect(words.fillRect(wasmRf, "psum", { shape: [2, 2], offset: 0, strides: [4, 1] }, 0, 4, rect, 3)).toBe(false);
    expect(words.readRect(wasmRf, "psum", { shape: [2, 2], offset: 0, strides: [4, 1] }, new Int32Array(24), rect, 3)).toBe(false);
    // A destination that is not an Int32Array.
    expect(words.readRect(wasmRf, "psum", { shape: [2], offset: 0, strides: [1] }, new Int16Array(12), rect, 3)).toBe(false);
    expect(Array.from(wasmRf.data.psum)).toEqual(Array.from(before));
    expect(counts(wasmRf, "psum")).toEqual({ read: 0, fill: 0 });
    // A register file outside the kernels' memory, a checked one, a line buffer.
    const plain = new RegFile(new CounterRegistry(), "rf", layout, 6, false, undefined, 3);
    expect(words.fillRect(plain, "psum", { shape: [2], offset: 0, strides: [1] }, 0, 2, rect, 3)).toBe(false);
    const checked = new RegFile(new CounterRegistry(), "rf", layout, 6, true, undefined, 3);
    expect(words.fillRect(checked, "psum", { shape: [2], offset: 0, strides: [1] }, 0, 2, rect, 3)).toBe(false);
    const lines = { ...layout, lines: { input: "row" as const } };
    const k = WaveKernels.create(RegFile.words(lines, 6, 3))!;
    const lined = new RegFile(new CounterRegistry(), "rf", lines, 6, false, k.buffer, 3);
    expect(k.words!.fillRect(lined, "input", { shape: [2], offset: 0, strides: [1] }, 0, 2, rect, 3)).toBe(false);
    expect(k.words!.fillRect(lined, "psum", { shape: [2], offset: 0, strides: [1] }, 5, 2, rect, 3)).toBe(true);
  });

  it("declines a read larger than its scratch (the JavaScript loop then runs)", () => {
    const layout: RegFileLayout = { inputEntries: 4, weightEntries: 4, psumEntries: 40, readPorts: 2, writePorts: 1 };
    const { words, wasmRf } = twoRegFiles(layout, 64, 64, 3);
    const n = Math.ceil(RF_WORDS_SCRATCH_WORDS / (64 * 64)) + 1;
    const box: Box = { shape: [n], offset: 0, strides: [1] };
    expect(words.readRect(wasmRf, "psum", box, new Int32Array(n * 4096), { row0: 0, col0: 0, rows: 64, cols: 64 }, 64)).toBe(false);
    expect(words.readRect(wasmRf, "psum", box, new Int32Array(n * 2048), { row0: 0, col0: 0, rows: 32, cols: 64 }, 64)).toBe(true);
  });

  it("refuses a rectangle or a box outside the array", () => {
    const layout: RegFileLayout = { inputEntries: 8, weightEntries: 8, psumEntries: 8, readPorts: 2, writePorts: 1 };
    const { words, wasmRf } = twoRegFiles(layout, 2, 3, 1);
    const box: Box = { shape: [2], offset: 0, strides: [1] };
    expect(() => words.fillRect(wasmRf, "psum", box, 0, 2, { row0: 1, col0: 0, rows: 2, cols: 3 }, 3)).toThrow(InvariantError);
    expect(() => words.fillRect(wasmRf, "psum", box, 0, 2, { row0: 0, col0: 2, rows: 1, cols: 2 }, 3)).toThrow(InvariantError);
    expect(() => words.readRect(wasmRf, "psum", { shape: [2], offset: 7, strides: [1] }, new Int32Array(12), { row0: 0, col0: 0, rows: 2, cols: 3 }, 3)).toThrow(InvariantError);
  });
});
