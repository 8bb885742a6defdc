import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  axisInteriorReuse,
  axisMaxReuse,
  axisMaxTapsPerOutput,
  axisMaxUsesPerTap,
  axisUsedTaps,
  axisUses,
  reuse,
} from "../../src/bounds/index.js";
import { convShape, parseLayerShortForm, type LayerAxis } from "../../src/workload/layer.js";
import { bruteMaxReuse, smallLayer, usefulMacs } from "./brute.js";

/** A random valid axis (dilated kernel no larger than the padded input). */
const axisArb: fc.Arbitrary<LayerAxis> = fc
  .record({
    inSize: fc.integer({ min: 1, max: 30 }),
    kernel: fc.integer({ min: 1, max: 7 }),
    stride: fc.integer({ min: 1, max: 8 }),
    dilation: fc.integer({ min: 1, max: 5 }),
    padBegin: fc.integer({ min: 0, max: 6 }),
    padEnd: fc.integer({ min: 0, max: 6 }),
  })
  .map((r) => {
    const dk = (r.kernel - 1) * r.dilation + 1;
    const inSize = Math.max(r.inSize, dk - r.padBegin - r.padEnd);
    const outSize = Math.floor((inSize + r.padBegin + r.padEnd - dk) / r.stride) + 1;
    return { inSize, outSize, kernel: r.kernel, stride: r.stride, dilation: r.dilation, padBegin: r.padBegin };
  });

function bruteAxisUses(a: LayerAxis): number[] {
  const uses = new Array<number>(a.inSize).fill(0);
  for (let o = 0; o < a.outSize; o++)
    for (let k = 0; k < a.kernel; k++) {
      const i = o * a.stride - a.padBegin + k * a.dilation;
      if (i >= 0 && i < a.inSize) uses[i]!++;
    }
  return uses;
}

describe("reuse per axis", () => {
  it("the closed-form count per coordinate equals brute-force counting", () => {
    fc.assert(
      fc.property(axisArb, (a) => {
        const brute = bruteAxisUses(a);
        for (let i = -2; i < a.inSize + 2; i++) expect(axisUses(a, i)).toBe(brute[i] ?? 0);
        expect(axisMaxReuse(a)).toBe(Math.max(...brute));
      }),
      { numRuns: 400 },
    );
  });

  it("the interior closed form ceil(k*gcd(s,d)/s) bounds the maximum, and equals it when an interior element exists", () => {
    fc.assert(
      fc.property(axisArb, (a) => {
        expect(axisMaxReuse(a)).toBeLessThanOrEqual(axisInteriorReuse(a));
        // witness: i = m * stride with m = ceil((kernel-1)*dilation/stride) sees taps 0, step, 2*step, ...
        const m = Math.ceil(((a.kernel - 1) * a.dilation) / a.stride);
        if (a.padBegin === 0 && m <= a.outSize - 1 && m * a.stride <= a.inSize - 1) {
          expect(axisMaxReuse(a)).toBe(axisInteriorReuse(a));
        }
      }),
      { numRuns: 400 },
    );
  });

  it("per-tap uses, per-output taps and used taps equal brute force", () => {
    fc.assert(
      fc.property(axisArb, (a) => {
        let perTap = 0;
        let perOut = 0;
        let used = 0;
        const valid = (o: number, k: number) => {
          const i = o * a.stride - a.padBegin + k * a.dilation;
          return i >= 0 && i < a.inSize;
        };
        for (let k = 0; k < a.kernel; k++) {
          let n = 0;
          for (let o = 0; o < a.outSize; o++) if (valid(o, k)) n++;
          perTap = Math.max(perTap, n);
          if (n > 0) used++;
        }
        for (let o = 0; o < a.outSize; o++) {
          let n = 0;
          for (let k = 0; k < a.kernel; k++) if (valid(o, k)) n++;
          perOut = Math.max(perOut, n);
        }
        expect(axisMaxUsesPerTap(a)).toBe(perTap);
        expect(axisMaxTapsPerOutput(a)).toBe(perOut);
        expect(axisUsedTaps(a)).toBe(used);
      }),
      { numRuns: 200 },
    );
  });

  it("handles stride larger than the kernel and dilation equal to the stride (docs/bounds.md, example R)", () => {
    // in 9, kernel 3, stride 2, dilation 2: even rows read 1, 2, 3, 2, 1 times.
    const a: LayerAxis = { inSize: 9, outSize: 3, kernel: 3, stride: 2, dilation: 2, padBegin: 0 };
    expect([...Array(9).keys()].map((i) => axisUses(a, i))).toEqual([1, 0, 2, 0, 3, 0, 2, 0, 1]);
    expect(axisMaxReuse(a)).toBe(3);
    // kernel 3, stride 4: every input read at most once
    const b: LayerAxis = { inSize: 11, outSize: 3, kernel: 3, stride: 4, dilation: 1, padBegin: 0 };
    expect(axisMaxReuse(b)).toBe(1);
    expect(axisInteriorReuse(b)).toBe(1);
    // kernel 3, stride 2: 2 (the nominal 3/2 is an average)
    expect(axisInteriorReuse({ inSize: 9, outSize: 4, kernel: 3, stride: 2, dilation: 1, padBegin: 0 })).toBe(2);
  });
});

describe("reuse of a layer", () => {
  it("R equals brute-force counting over every input element and output channel (random small layers)", () => {
    fc.assert(
      fc.property(smallLayer(), (l) => {
        expect(reuse(l).max).toBe(bruteMaxReuse(l));
      }),
      { numRuns: 300 },
    );
  });

  it("the average is the mean use count over touched input elements, per output channel", () => {
    fc.assert(
      fc.property(smallLayer(), (l) => {
        const s = convShape(l);
        const macs = usefulMacs(l).length;
        const expected = s.touchedInputElements === 0 ? 0 : macs / (s.outChannelsPerGroup * s.touchedInputElements);
        expect(reuse(l).average).toBeCloseTo(expected, 12);
        expect(reuse(l).average).toBeLessThanOrEqual(reuse(l).max + 1e-12);
      }),
      { numRuns: 200 },
    );
  });

  it("worked examples: 3x3 stride 1 -> 9; AlexNet conv1 11x11 stride 4 -> 9; 2x2 stride 2 -> 1", () => {
    expect(reuse(parseLayerShortForm("c=64,hw=56,k=64,r=3,pad=1")).max).toBe(9);
    const alex = reuse(parseLayerShortForm("c=3,hw=227,k=96,r=11,stride=4"));
    expect(alex.max).toBe(9);
    expect(alex.nominal).toBeCloseTo(121 / 16, 12);
    expect(reuse(parseLayerShortForm("c=8,hw=8,k=8,r=2,stride=2")).max).toBe(1);
    // dilation 2 with stride 2 on 9x9: R = 3 * 3, average = (9/5)^2, nominal = 9/4
    const d = reuse(parseLayerShortForm("c=1,hw=9,k=1,r=3,stride=2,dil=2"));
    expect(d.max).toBe(9);
    expect(d.average).toBeCloseTo((9 / 5) ** 2, 12);
    expect(d.nominal).toBeCloseTo(9 / 4, 12);
  });
});
