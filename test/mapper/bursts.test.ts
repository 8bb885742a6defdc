import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { resolveArch } from "../../src/arch/presets.js";
import { boxBursts, burstCycles } from "../../src/mapper/bursts.js";

/**
 * The bursts a box of a row-major array takes, by brute force: every element's bytes, their
 * aligned bursts counted once, averaged over the array's start at each element offset in a burst.
 */
function bruteBursts(extents: readonly number[], sizes: readonly number[], elemBytes: number, burstBytes: number): number {
  const strides = sizes.map((_, i) => sizes.slice(i + 1).reduce((a, x) => a * x, 1));
  const starts: number[] = [0];
  extents.forEach((e, i) => {
    const next: number[] = [];
    for (const s of starts) for (let k = 0; k < e; k++) next.push(s + k * strides[i]!);
    starts.splice(0, starts.length, ...next);
  });
  let sum = 0;
  const offsets = burstBytes / elemBytes;
  for (let o = 0; o < offsets; o++) {
    const bursts = new Set<number>();
    for (const s of starts) for (let b = 0; b < elemBytes; b++) bursts.add(Math.floor((o * elemBytes + s * elemBytes + b) / burstBytes));
    sum += bursts.size;
  }
  return sum / offsets;
}

describe("the mapper's DRAM burst estimate", () => {
  it("counts a box's bursts as a brute-force count averaged over the array's alignment", () => {
    const box = fc
      .tuple(fc.integer({ min: 1, max: 4 }), fc.constantFrom(1, 2, 4), fc.constantFrom(8, 16, 64))
      .chain(([dims, elem, burst]) =>
        fc.tuple(
          fc.array(fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 8 })), { minLength: dims, maxLength: dims }),
          fc.constant(elem),
          fc.constant(burst),
        ),
      );
    fc.assert(
      fc.property(box, ([dims, elem, burst]) => {
        const sizes = dims.map(([s]) => s);
        const extents = dims.map(([s, e]) => 1 + (e % s));
        expect(boxBursts(extents, sizes, elem, burst)).toBeCloseTo(bruteBursts(extents, sizes, elem, burst), 9);
      }),
      { numRuns: 300, seed: 37 },
    );
  });

  it("merges rows closer than a burst and keeps farther ones apart", () => {
    // 4 rows of 8 int8 in rows of 16 bytes: gaps of 8 < 64, one span of 56 bytes.
    expect(boxBursts([4, 8], [4, 16], 1, 64)).toBeCloseTo(1 + 55 / 64, 12);
    // rows of 100 bytes: gaps of 92 >= 64, four spans of 8 bytes.
    expect(boxBursts([4, 8], [4, 100], 1, 64)).toBeCloseTo(4 * (1 + 7 / 64), 12);
    // a whole array: one span.
    expect(boxBursts([3, 5, 7], [3, 5, 7], 4, 64)).toBeCloseTo(1 + (105 * 4 - 4) / 64, 12);
  });

  it("takes a burst's bus time, or its share of the outstanding window when latency binds", () => {
    // systolic: 64-B bursts at 32 B/cycle, 80 cycles of latency, 16 in flight: (80 + 2) / 16.
    expect(burstCycles(resolveArch("systolic"))).toBeCloseTo(82 / 16, 12);
    // eyeriss: 64 B at 16 B/cycle (4 cycles), (20 + 4) / 8 = 3: the bus binds.
    expect(burstCycles(resolveArch("eyeriss"))).toBe(4);
    expect(burstCycles(resolveArch("eyeriss", { dram: { model: "ideal" } }))).toBe(0);
  });
});
