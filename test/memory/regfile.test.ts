import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CounterRegistry } from "../../src/core/counters.js";
import type { Box } from "../../src/core/box.js";
import { RegFile } from "../../src/memory/regfile.js";

const spec = { inputEntries: 40, weightEntries: 8, psumEntries: 16, readPorts: 2, writePorts: 2 };

function rf(): RegFile {
  const r = new RegFile(new CounterRegistry(), "rf", spec, 6, false);
  for (let i = 0; i < r.data.input.length; i++) r.data.input[i] = i * 3 + 1;
  return r;
}

/** A random box inside a 40-entry partition: up to 3 dimensions, positive strides. */
const boxArb = fc
  .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 0, max: 8 }))
  .map(([a, b, c, is, off]): Box => ({ shape: [a, b, c], offset: off, strides: [b * c * is + 1, c * is, is] }))
  .filter((b) => b.offset + (b.shape[0]! - 1) * b.strides[0]! + (b.shape[1]! - 1) * b.strides[1]! + (b.shape[2]! - 1) * b.strides[2]! < 40);

describe("RegFile layout", () => {
  it("is built from three partitions, not a pool (simulate() carves a pool into them)", () => {
    expect(() => new RegFile(new CounterRegistry(), "rf", { ...spec, sharedEntries: 64 } as never, 6, false)).toThrow(
      "rf.sharedEntries must be absent: a RegFile is built from its three partitions (simulate() carves them out of a shared pool for the mapping); got 64",
    );
    expect(() => new RegFile(new CounterRegistry(), "rf", { ...spec, psumEntries: -1 }, 6, false)).toThrow("rf.psumEntries must be an integer in [0, 1048576]; got -1");
  });
});

describe("RegFile line buffers (rf.lines)", () => {
  // 6 PEs in 2 rows of 3: inputs shared along rows, weights along columns.
  const lined = () => new RegFile(new CounterRegistry(), "rf", { ...spec, lines: { input: "row", weight: "col" } }, 6, false, undefined, 3);
  const box: Box = { shape: [2, 3], offset: 1, strides: [10, 1] };

  it("keeps one slice per line, and PEs of a line address the same words", () => {
    expect(RegFile.words({ ...spec, lines: { input: "row", weight: "col" } }, 6, 3)).toBe(2 * 40 + 3 * 8 + 6 * 16);
    const r = lined();
    expect(r.data.input.length).toBe(2 * 40);
    expect(r.data.weight.length).toBe(3 * 8);
    expect([...r.base.input]).toEqual([0, 0, 0, 40, 40, 40]);
    expect([...r.base.weight]).toEqual([0, 8, 16, 0, 8, 16]);
    expect([...r.base.psum]).toEqual([0, 16, 32, 48, 64, 80]);
    r.writeListed(box, { data: Int32Array.from({ length: 6 }, (_, i) => i + 1) }, 6, r.writeList("input", Int32Array.of(0), Int32Array.of(0), 1));
    expect([...r.contents("input", 2).subarray(0, 4)]).toEqual([0, 1, 2, 3]);
    expect([...r.contents("input", 3).subarray(0, 4)]).toEqual([0, 0, 0, 0]);
  });

  it("counts every PE's access, and slides each line's slice once", () => {
    const r = lined();
    const payload = { data: Int32Array.from({ length: 6 }, (_, i) => 7 * i + 1) };
    const pes = Int32Array.of(0, 1, 2, 3, 4, 5);
    r.writeListed(box, payload, 6, r.writeList("input", pes, new Int32Array(6), 6));
    expect(r.counters.input.write.value).toBe(36);
    const dst: Box = { ...box, offset: 0 };
    r.slideMany("input", box, dst, pes, 6);
    expect(r.counters.input.slide.value).toBe(36);
    // Slid once, not three times (a second slide would leave 8, 15, 15 at the front).
    const want = [1, 8, 15, 15, 0, 0, 0, 0, 0, 0, 22, 29, 36];
    expect([...r.contents("input", 1).subarray(0, 13)]).toEqual(want);
    expect([...r.contents("input", 4).subarray(0, 13)]).toEqual(want);
  });

  it("refuses a malformed line buffer, naming the field", () => {
    expect(() => new RegFile(new CounterRegistry(), "rf", { ...spec, lines: { output: "row" } as never }, 6, false, undefined, 3)).toThrow(
      'rf.lines.output must name a partition (input, weight, psum); got "row"',
    );
    expect(() => new RegFile(new CounterRegistry(), "rf", { ...spec, lines: { input: "diag" } as never }, 6, false, undefined, 3)).toThrow('rf.lines.input must be "row" or "col"; got "diag"');
  });

  it("sums a psum line in its one slice: a reduction hop moves no words but is counted, an idle clear is skipped, and two PEs of a line may not read it", () => {
    // 6 PEs in 2 rows of 3, partial sums shared down the columns.
    const r = new RegFile(new CounterRegistry(), "rf", { ...spec, lines: { psum: "col" } }, 6, false, undefined, 3);
    expect([...r.base.psum]).toEqual([0, 16, 32, 0, 16, 32]);
    expect(r.isLineBuffer("psum")).toBe(true);
    expect(r.isLineBuffer("input")).toBe(false);
    const b: Box = { shape: [4], offset: 2, strides: [1] };
    // Both PEs of column 1 add into the slice (as a MAC wave does through the bases).
    for (const pe of [1, 4]) for (let i = 0; i < 4; i++) r.data.psum[r.base.psum[pe]! + 2 + i]! += 10 * pe + i;
    r.reduceMany("psum", b, Int32Array.of(4), Int32Array.of(1), 1);
    expect([...r.data.psum.subarray(18, 22)]).toEqual([50, 52, 54, 56]);
    expect(r.counters.psum.read.value).toBe(8);
    expect(r.counters.psum.write.value).toBe(4);
    const out = new Int32Array(4);
    r.readMany("psum", b, out, Int32Array.of(1), 1);
    expect([...out]).toEqual([50, 52, 54, 56]);
    expect(() => r.readMany("psum", b, new Int32Array(8), Int32Array.of(1, 4), 2)).toThrow("two PEs of one line");
    // PEs of different lines read their own sums together.
    expect(() => r.readMany("psum", b, new Int32Array(8), Int32Array.of(1, 2), 2)).not.toThrow();
  });

  it("refuses a malformed set of partitions the words pass through, naming the field", () => {
    expect(() => new RegFile(new CounterRegistry(), "rf", { ...spec, passing: { output: true } as never }, 6, false, undefined, 3)).toThrow(
      "rf.passing.output must name a partition (input, weight, psum); got true",
    );
    expect(() => new RegFile(new CounterRegistry(), "rf", { ...spec, passing: { psum: 1 } as never }, 6, false, undefined, 3)).toThrow("rf.passing.psum must be true or absent; got 1");
  });
});

describe("RegFile bulk operations", () => {
  it("fillMany equals fill in each PE, and counts the same (plain and line buffers)", () => {
    fc.assert(
      fc.property(boxArb, fc.integer({ min: -5, max: 5 }), fc.boolean(), (box, value, lines) => {
        const make = () => (lines ? new RegFile(new CounterRegistry(), "rf", { ...spec, lines: { input: "col" as const } }, 6, false, undefined, 3) : rf());
        const a = make();
        const b = make();
        for (let i = 0; i < a.data.input.length; i++) a.data.input[i] = b.data.input[i] = 100 + i;
        // (PEs 0 and 3 share a column's slice when the input is a line buffer, as do 4 and 1)
        const pes = Int32Array.of(4, 0, 2, 3, 1);
        const n = box.shape.reduce((x, y) => x * y, 1);
        a.fillMany("input", box, value, n, pes, 5);
        for (const p of pes) b.fill("input", p, box, value, undefined, n);
        return a.data.input.every((v, i) => v === b.data.input[i]) && a.counters.input.fill.value === b.counters.input.fill.value;
      }),
      { numRuns: 200, seed: 3 },
    );
  });

  it("writeListed of a writeList equals write in each PE, in order, and counts the same (plain and line buffers)", () => {
    // PE lists with repeats and PEs left out (-1); a line buffer's PEs share slices, so the list
    // drops a copy only where the slice already got the same box in the call.
    const listArb = fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: -1, max: 3 })), { minLength: 1, maxLength: 10 });
    fc.assert(
      fc.property(boxArb, listArb, fc.boolean(), (box, entries, lines) => {
        const make = () => new RegFile(new CounterRegistry(), "rf", lines ? { ...spec, lines: { input: "row" as const } } : spec, 6, false, undefined, 3);
        const a = make();
        const b = make();
        const n = box.shape.reduce((x, y) => x * y, 1);
        const payload = { data: Int32Array.from({ length: 4 * n }, (_, i) => 11 * i - 7) };
        const pes = Int32Array.from(entries, ([p]) => p);
        const boxes = Int32Array.from(entries, ([, f]) => f);
        a.writeListed(box, payload, n, a.writeList("input", pes, boxes, entries.length));
        for (const [p, f] of entries) if (f >= 0) b.write("input", p, box, payload, f * n, n);
        expect([...a.data.input]).toEqual([...b.data.input]);
        expect(a.counters.input.write.value).toBe(b.counters.input.write.value);
      }),
      { numRuns: 300, seed: 5 },
    );
  });

  it("fillMany and readMany of a long contiguous row (TypedArray.fill and set) equal fill and read per PE", () => {
    const wide = { ...spec, psumEntries: 100 };
    const make = () => new RegFile(new CounterRegistry(), "rf", wide, 6, false);
    for (const [len, off] of [[47, 3], [48, 0], [70, 30], [100, 0]] as const) {
      const box: Box = { shape: [1, len], offset: off, strides: [100, 1] };
      const a = make();
      const b = make();
      const pes = Int32Array.of(5, 1, 3);
      a.fillMany("psum", box, 7, len, pes, 3);
      for (const p of pes) b.fill("psum", p, box, 7, undefined, len);
      expect([...a.data.psum]).toEqual([...b.data.psum]);
      for (let i = 0; i < a.data.psum.length; i++) a.data.psum[i] = b.data.psum[i] = (i * 7919) % 1000;
      const got = new Int32Array(3 * len);
      const want = new Int32Array(3 * len);
      a.readMany("psum", box, got, pes, 3);
      pes.forEach((p, i) => b.read("psum", p, box, want, undefined, i * len, len, undefined));
      expect([...got]).toEqual([...want]);
      expect([a.counters.psum.fill.value, a.counters.psum.read.value]).toEqual([b.counters.psum.fill.value, b.counters.psum.read.value]);
    }
  });

  it("readMany equals read from each PE, in order, and counts the same", () => {
    fc.assert(
      fc.property(boxArb, (box) => {
        const a = rf();
        const b = rf();
        const pes = Int32Array.of(3, 0, 5, 2);
        const n = box.shape.reduce((x, y) => x * y, 1);
        const got = new Int32Array(4 * n);
        const want = new Int32Array(4 * n);
        a.readMany("input", box, got, pes, 4);
        pes.forEach((p, i) => b.read("input", p, box, want, undefined, i * n, n, undefined));
        expect([...got]).toEqual([...want]);
        expect(a.counters.input.read.value).toBe(b.counters.input.read.value);
        expect(a.counters.input.read.value).toBe(4 * n);
      }),
      { numRuns: 200, seed: 4 },
    );
  });

  it("slideMany moves a window by a constant offset like a gather and scatter through a copy", () => {
    fc.assert(
      fc.property(boxArb, fc.integer({ min: -8, max: 8 }), (src, delta) => {
        const dst: Box = { ...src, offset: src.offset + delta };
        const last = dst.offset + (src.shape[0]! - 1) * src.strides[0]! + (src.shape[1]! - 1) * src.strides[1]! + (src.shape[2]! - 1) * src.strides[2]!;
        if (dst.offset < 0 || last >= 40) return true;
        const a = rf();
        const pes = Int32Array.of(1, 5);
        const before = a.data.input.slice();
        a.slideMany("input", src, dst, pes, 2);
        // The definition: read every source word first, then write them in box order.
        const want = before.slice();
        for (const p of pes) {
          const words: number[] = [];
          const at = (b: Box, i: number, j: number, k: number) => p * 40 + b.offset + i * b.strides[0]! + j * b.strides[1]! + k * b.strides[2]!;
          for (let i = 0; i < src.shape[0]!; i++) for (let j = 0; j < src.shape[1]!; j++) for (let k = 0; k < src.shape[2]!; k++) words.push(before[at(src, i, j, k)]!);
          let w = 0;
          for (let i = 0; i < src.shape[0]!; i++) for (let j = 0; j < src.shape[1]!; j++) for (let k = 0; k < src.shape[2]!; k++) want[at(dst, i, j, k)] = words[w++]!;
        }
        return a.data.input.every((v, i) => v === want[i]);
      }),
      { numRuns: 300, seed: 5 },
    );
  });
});
