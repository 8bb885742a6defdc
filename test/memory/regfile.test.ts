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

describe("RegFile bulk operations", () => {
  it("fillMany equals fill in each PE, and counts the same", () => {
    fc.assert(
      fc.property(boxArb, fc.integer({ min: -5, max: 5 }), (box, value) => {
        const a = rf();
        const b = rf();
        const pes = Int32Array.of(4, 0, 2);
        const n = box.shape.reduce((x, y) => x * y, 1);
        a.fillMany("input", box, value, n, pes, 3);
        for (const p of pes) b.fill("input", p, box, value, undefined, n);
        return a.data.input.every((v, i) => v === b.data.input[i]) && a.counters.input.fill.value === b.counters.input.fill.value;
      }),
      { numRuns: 200, seed: 3 },
    );
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
