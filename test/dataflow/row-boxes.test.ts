import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import { rowBoxes, type RowBox } from "../../src/dataflow/sequencer/row-boxes.js";

/** The (src, tag) pairs a list of boxes stands for, row by row. */
function expand(boxes: readonly RowBox[], src0: readonly number[], tag0: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const b of boxes) {
    expect(out.length).toBe(b.from);
    for (let m = 0; m < b.outer; m++) {
      for (let t = 0; t < b.inner; t++) out.push([src0[b.from]! + m * b.srcOuter + t * b.srcInner, tag0[b.from]! + m * b.tagOuter + t * b.tagInner]);
    }
  }
  return out;
}

/** Rows that stand for nested loops (outermost first) with address and tag strides, from the flattened index `first`. */
function loopRows(extents: readonly number[], src: readonly number[], tag: readonly number[], first: number, rows: number): [number[], number[]] {
  const sv: number[] = [];
  const tv: number[] = [];
  for (let f = first; f < first + rows; f++) {
    let rest = f;
    let s = 0;
    let t = 0;
    for (let d = extents.length - 1; d >= 0; d--) {
      const i = rest % extents[d]!;
      rest = Math.floor(rest / extents[d]!);
      s += i * src[d]!;
      t += i * tag[d]!;
    }
    sv.push(s);
    tv.push(t);
  }
  return [sv, tv];
}

describe("rowBoxes", () => {
  it("keeps an affine sequence one box, and splits C x R x S rows where the tags are not affine (a systolic array's weight rows)", () => {
    expect(rowBoxes([5, 7, 9, 11], [1, 2, 3, 4])).toEqual([{ from: 0, outer: 1, inner: 4, srcOuter: 0, srcInner: 2, tagOuter: 0, tagInner: 1 }]);
    // C 3 x R 11 x S 3 over 99 rows: addresses in a [C, R, S] tile (33, 3, 1), tags in an 11 x 11 kernel (121, 11, 1).
    const [sv, tv] = loopRows([3, 11, 3], [33, 3, 1], [121, 11, 1], 0, 99);
    const boxes = rowBoxes(sv, tv);
    expect(boxes).toEqual([{ from: 0, outer: 33, inner: 3, srcOuter: 3, srcInner: 1, tagOuter: 11, tagInner: 1 }]);
    expect(expand(boxes, sv, tv)).toEqual(sv.map((s, i) => [s, tv[i]]));
  });

  it("aligns its boxes when the rows start within a run (a chunk of a fused group)", () => {
    // Fused R x S x C (11, 11, 3), a chunk of 32 rows from 32: starts at c = 2.
    const [sv, tv] = loopRows([11, 11, 3], [11, 1, 121], [11, 1, 121], 32, 32);
    const boxes = rowBoxes(sv, tv);
    expect(boxes.map((b) => [b.from, b.outer, b.inner])).toEqual([
      [0, 1, 1],
      [1, 10, 3],
      [31, 1, 1],
    ]);
    expect(expand(boxes, sv, tv)).toEqual(sv.map((s, i) => [s, tv[i]]));
  });

  it("covers every row exactly, in order, on random loop nests and arbitrary sequences", () => {
    const rng = seedrandom("row-boxes");
    for (let trial = 0; trial < 300; trial++) {
      const depth = 1 + Math.floor(rng() * 3);
      const extents = Array.from({ length: depth }, () => 1 + Math.floor(rng() * 6));
      const total = extents.reduce((a, b) => a * b, 1);
      const src = extents.map(() => Math.floor(rng() * 40) - 10);
      const tag = extents.map(() => Math.floor(rng() * 40));
      const first = Math.floor(rng() * total);
      const rows = 1 + Math.floor(rng() * (total - first));
      const [sv, tv] = trial % 5 === 4 ? [Array.from({ length: rows }, () => Math.floor(rng() * 9)), Array.from({ length: rows }, () => Math.floor(rng() * 9))] : loopRows(extents, src, tag, first, rows);
      const boxes = rowBoxes(sv, tv);
      expect(expand(boxes, sv, tv)).toEqual(sv.map((s, i) => [s, tv[i]]));
      // Never more boxes than rows, and a whole loop nest's rows (from its start) in few.
      expect(boxes.length).toBeLessThanOrEqual(rows);
      if (first === 0 && rows === total && depth <= 2 && trial % 5 !== 4) expect(boxes.length).toBeLessThanOrEqual(depth === 1 ? 1 : extents[0]!);
    }
  });
});
