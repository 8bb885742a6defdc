import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvariantError, type Box } from "../../src/core/index.js";
import { markHeld } from "../../src/dataflow/sequencer/accumulate.js";
import { boxIndices } from "../helpers/box.js";

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
        const words = boxIndices(box);
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
        const words = boxIndices(box);
        fc.pre(words.length > 1);
        const k = 1 + (pick % (words.length - 1));
        // (a has-array whose k-th word of the box alone holds a partial sum; markHeld marks as it goes)
        const mixed = () => {
          const has = new Uint8Array(4096);
          has[words[k]!] = 1;
          return has;
        };
        expect(() => markHeld(mixed(), box)).toThrow(InvariantError);
        expect(() => markHeld(mixed(), box)).toThrow(`address ${words[k]}`);
      }),
      { numRuns: 200, seed: 12 },
    );
  });
});
