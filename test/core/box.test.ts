import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BoxMemo, boxExtent, boxRows, boxSize, fillBox, forEachRow, gather, gatherRows, normalizeBox, scatter, scatterRows, type Box } from "../../src/core/index.js";
import { boxIndices } from "../helpers/box.js";

const LENGTH = 200_000;

/**
 * Random boxes of rank 1 to 4 within `[0, LENGTH)`, with unit extents, chained (mergeable),
 * zero and negative strides, and long contiguous runs, so every path of the copies is taken.
 */
const arbBox = fc
  .array(
    fc.record({
      extent: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 14, max: 40 })),
      stride: fc.oneof(fc.constant(0), fc.constant(1), fc.integer({ min: -9, max: 60 }), fc.constant("chain" as const)),
    }),
    { minLength: 1, maxLength: 4 },
  )
  .map((dims): Box => {
    // "chain": the stride that merges this dimension into the next inner one.
    const shape = dims.map((d) => d.extent);
    const strides: number[] = new Array<number>(dims.length).fill(1);
    for (let d = dims.length - 1; d >= 0; d--) {
      const s = dims[d]!.stride;
      strides[d] = s === "chain" ? (d === dims.length - 1 ? 1 : shape[d + 1]! * strides[d + 1]!) : s;
    }
    let min = 0;
    for (let d = 0; d < shape.length; d++) min += Math.min(0, (shape[d]! - 1) * strides[d]!);
    return { shape, offset: -min + 3, strides };
  })
  .filter((box) => boxExtent(box).max < LENGTH);
const source = Int32Array.from({ length: LENGTH }, (_, i) => (i * 2654435761) | 0);

describe("boxes", () => {
  it("normalizeBox keeps the words and their order, and only ever shortens the rank", () => {
    fc.assert(
      fc.property(arbBox, (box) => {
        const n = normalizeBox(box);
        expect(boxIndices(n)).toEqual(boxIndices(box));
        expect(n.shape.length).toBeLessThanOrEqual(box.shape.length);
        expect(n.shape.every((e) => e > 1) || (n.shape.length === 1 && n.shape[0] === 1)).toBe(true);
        for (let d = 1; d < n.shape.length; d++) expect(n.strides[d - 1]).not.toBe(n.shape[d]! * n.strides[d]!);
      }),
    );
  });

  it("normalizeBox merges a matrix column into one strided run and drops unit dimensions", () => {
    expect(normalizeBox({ shape: [2046, 1], offset: 7, strides: [9216, 1] })).toEqual({ shape: [2046], offset: 7, strides: [9216] });
    expect(normalizeBox({ shape: [3, 4, 5], offset: 0, strides: [20, 5, 1] })).toEqual({ shape: [60], offset: 0, strides: [1] });
    expect(normalizeBox({ shape: [1, 1], offset: 4, strides: [3, 8] })).toEqual({ shape: [1], offset: 4, strides: [1] });
    const canon = { shape: [3, 4], offset: 0, strides: [10, 1] };
    expect(normalizeBox(canon)).toBe(canon);
  });

  it("gather, scatter, fillBox, forEachRow and the compiled forms visit the words of the definition, in order", () => {
    fc.assert(
      fc.property(arbBox, fc.integer({ min: 0, max: 5 }), (box, at) => {
        const want = boxIndices(box);
        const n = boxSize(box.shape);
        // gather
        const dense = new Int32Array(n + at + 2);
        expect(gather(source, box, dense, at)).toBe(n);
        expect(Array.from(dense.subarray(at, at + n))).toEqual(want.map((i) => source[i]!));
        expect(dense[at + n]).toBe(0);
        const viaRows = new Int32Array(n + at);
        gatherRows(source, boxRows(box), 0, viaRows, at);
        expect(Array.from(viaRows.subarray(at))).toEqual(want.map((i) => source[i]!));
        // scatter: the last write of a word wins (zero strides write a word more than once)
        const payload = Int32Array.from({ length: n + at }, (_, i) => i * 7 + 1);
        const expected = new Map<number, number>();
        want.forEach((i, k) => expected.set(i, payload[at + k]!));
        const dst = new Int32Array(LENGTH);
        expect(scatter(payload, at, dst, box)).toBe(n);
        const dst2 = new Int32Array(LENGTH + 5);
        scatterRows(payload, at, dst2, boxRows(box), 5);
        for (const [i, v] of expected) {
          expect(dst[i]).toBe(v);
          expect(dst2[i + 5]).toBe(v);
        }
        let touched = 0;
        for (let i = 0; i < LENGTH; i++) if (dst[i] !== 0) touched++;
        expect(touched).toBe(expected.size);
        // forEachRow: the box's own rows (not normalized), in order
        const viaEach: number[] = [];
        let rowCount = 0;
        forEachRow(box, (start, length, stride) => {
          expect([length, stride]).toEqual([box.shape.at(-1), box.strides.at(-1)]);
          for (let i = 0; i < length; i++) viaEach.push(start + i * stride);
          rowCount++;
        });
        expect(viaEach).toEqual(want);
        expect(rowCount).toBe(n / box.shape.at(-1)!);
        // fillBox: exactly the box's words
        const filled = new Int32Array(LENGTH);
        fillBox(filled, box, -5);
        let set = 0;
        for (let i = 0; i < LENGTH; i++) if (filled[i] !== 0) set++;
        expect(set).toBe(expected.size);
        for (const i of expected.keys()) expect(filled[i]).toBe(-5);
      }),
      { numRuns: 300 },
    );
  });

  it("BoxMemo tells apart every part of its key and empties itself at capacity", () => {
    const memo = new BoxMemo<string>(8);
    const box = (shape: number[], strides: number[]): Box => ({ shape, offset: 0, strides });
    const keys: [number, number, number, Box][] = [
      [0, 1, 0, box([4, 3], [3, 1])],
      [1, 1, 0, box([4, 3], [3, 1])],
      [0, 2, 0, box([4, 3], [3, 1])],
      [0, 1, 4, box([4, 3], [3, 1])],
      [0, 1, 0, box([3, 4], [3, 1])],
      [0, 1, 0, box([4, 3], [4, 1])],
      [0, 1, 0, box([4, 3, 1], [3, 1, 1])],
    ];
    keys.forEach(([a, b, c, bx], i) => {
      expect(memo.get(a, b, c, bx)).toBeUndefined();
      memo.set(a, b, c, bx, `v${i}`);
    });
    // a different box object with the same shape and strides (and offset ignored) hits
    keys.forEach(([a, b, c, bx], i) => expect(memo.get(a, b, c, { ...bx, offset: 99, shape: [...bx.shape] })).toBe(`v${i}`));
    memo.set(9, 9, 9, box([1], [1]), "last");
    expect(memo.get(9, 9, 9, box([1], [1]))).toBe("last");
    memo.set(8, 8, 8, box([1], [1]), "overflow");
    expect(memo.get(0, 1, 0, keys[0]![3])).toBeUndefined();
    expect(memo.get(8, 8, 8, box([1], [1]))).toBe("overflow");
  });
});
