import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { InvariantError } from "../../src/core/index.js";
import { sumOfOneDrain } from "../../src/pe-array/drain-sum.js";

/** The sum as the drain path defines it: each PE's words into its slot, added with int32 wrap-around. */
function expected(data: readonly number[], slot: readonly number[], n: number, words: number): { sum: number[]; adds: number } {
  const sum = new Array<number>(words).fill(0);
  const set = new Set<number>();
  let adds = 0;
  slot.forEach((at, i) => {
    for (let k = 0; k < n; k++) sum[at + k] = set.has(at) ? (sum[at + k]! + data[i * n + k]!) | 0 : data[i * n + k]!;
    if (set.has(at)) adds += n;
    set.add(at);
  });
  return { sum, adds };
}

describe("sumOfOneDrain", () => {
  it("copies each slot's first PE and adds the others, with wrap-around, on random slot lists", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 40 }),
        fc.integer(),
        (n, slots, picks, seed) => {
          const words = n * slots + (seed & 3);
          const slot = Int32Array.from(picks, (p) => (p % slots) * n);
          let s = seed;
          const data = Array.from({ length: slot.length * n }, () => (s = (Math.imul(s, 1103515245) + 12345) | 0));
          const want = expected(data, [...slot], n, words);
          // (twice: the second call takes the list's plan)
          for (let r = 0; r < 2; r++) {
            const got = sumOfOneDrain(Int32Array.from(data), slot, n, words, "noc", 1);
            expect(Array.from(got.sum)).toEqual(want.sum);
            expect(got.adds).toBe(want.adds);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("refuses a slot outside the sum or overlapping another, naming the drain", () => {
    expect(() => sumOfOneDrain(new Int32Array(4), Int32Array.from([0, 3]), 2, 4, "noc", 7)).toThrow(new InvariantError("noc", "drain 7: slot 3 outside a sum of 4 words"));
    expect(() => sumOfOneDrain(new Int32Array(4), Int32Array.from([0, 1]), 2, 4, "noc", 7)).toThrow(/drain 7: slot 1 overlaps another slot of its sum/);
    expect(() => sumOfOneDrain(new Int32Array(2), Int32Array.from([-1]), 2, 4, "noc", 7)).toThrow(/slot -1 outside/);
    // A plan is per word count: the same list with other words per PE is checked again.
    const slot = Int32Array.from([0, 2]);
    expect(sumOfOneDrain(new Int32Array(4).fill(1), slot, 2, 4, "noc", 1).sum).toEqual(Int32Array.from([1, 1, 1, 1]));
    expect(() => sumOfOneDrain(new Int32Array(6), slot, 3, 6, "noc", 2)).toThrow(/slot 2 overlaps/);
  });
});
