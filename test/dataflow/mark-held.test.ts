import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvariantError, type Box } from "../../src/core/index.js";
import { markHeld } from "../../src/dataflow/sequencer/accumulate.js";

/** The box's word addresses in order, by its shape (the oracle). */
function addresses(box: Box): number[] {
  const out: number[] = [];
  const walk = (d: number, at: number): void => {
    if (d === box.shape.length) {
      out.push(at);
      return;
    }
    for (let i = 0; i < box.shape[d]!; i++) walk(d + 1, at + i * box.strides[d]!);
  };
  walk(0, box.offset);
  return out;
}

// Boxes of rank 1-4 whose words are distinct and lie inside 4,096 words (strides of a dense
// layout of a larger block, or transposed).
const boxArb = fc
  .tuple(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 200 }), fc.boolean())
  .map(([shape, offset, reversed]): Box => {
    const dims = shape.map((e, i) => ({ e, i }));
    const order = reversed ? [...dims].reverse() : dims;
    const strides = new Array<number>(shape.length).fill(0);
    let s = 1;
    for (let k = order.length - 1; k >= 0; k--) {
      strides[order[k]!.i] = s;
      s *= order[k]!.e + 1;
    }
    return { shape, offset, strides };
  });

describe("markHeld", () => {
  it("marks every word of the box and says whether they held a partial sum, as word by word does", () => {
    fc.assert(
      fc.property(boxArb, fc.boolean(), (box, held) => {
        const has = new Uint8Array(4096);
        const words = addresses(box);
        if (held) for (const a of words) has[a] = 1;
        const before = has.slice();
        const got = markHeld(has, box);
        expect(got).toBe(held ? 1 : 0);
        for (let a = 0; a < has.length; a++) expect(has[a]).toBe(words.includes(a) ? 1 : before[a]);
      }),
      { numRuns: 200, seed: 11 },
    );
  });

  it("refuses a box whose words have different histories, naming the first that differs", () => {
    fc.assert(
      fc.property(boxArb, fc.nat(), (box, pick) => {
        const words = addresses(box);
        fc.pre(words.length > 1);
        const has = new Uint8Array(4096);
        const k = 1 + (pick % (words.length - 1));
        has[words[k]!] = 1;
        expect(() => markHeld(has, box)).toThrow(InvariantError);
        expect(() => markHeld(new Uint8Array(4096).fill(0).map((_, a) => (a === words[k] ? 1 : 0)), box)).toThrow(`address ${words[k]}`);
      }),
      { numRuns: 200, seed: 12 },
    );
  });
});
