import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  compulsoryTraffic,
  lowerBounds,
  maxProduct3,
  paperBound,
  provableBound,
  segmentBound,
  segmentModel,
  boundaryCapacityWords,
  type LayerBounds,
} from "../../src/bounds/index.js";
import type { ArchSpec } from "../../src/arch/spec.js";
import { ConfigError } from "../../src/core/errors.js";
import { convLayer, convShape, fullyConnected, parseLayerShortForm } from "../../src/workload/layer.js";
import { smallLayer, usefulMacs } from "./brute.js";

/** Layers a bit larger than the brute-force ones, so that the provable bound exceeds the compulsory traffic. */
const mediumLayer = fc
  .record({
    base: smallLayer(6, 2),
    c: fc.integer({ min: 1, max: 12 }),
    k: fc.integer({ min: 1, max: 12 }),
    grow: fc.integer({ min: 0, max: 14 }),
  })
  .map(({ base, c, k, grow }) =>
    convLayer({
      ...base,
      inChannels: base.groups * c,
      outChannels: base.groups * k,
      inHeight: base.inHeight + grow,
      inWidth: base.inWidth + grow,
    }),
  );

describe("Lemma 1: the MACs of any set are bounded by its input, weight and output footprints", () => {
  it("|V| <= sqrt(R |X| |W| |Y|) and |V| <= uses * count, for random subsets of the MACs of random layers", () => {
    fc.assert(
      fc.property(smallLayer(7, 3), fc.integer({ min: 1, max: 100 }), fc.integer(), (l, pct, seed) => {
        const m = segmentModel(l);
        const all = usefulMacs(l);
        let state = seed >>> 0;
        const rand = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
        const V = all.filter(() => rand() * 100 < pct);
        const X = new Set(V.map((v) => v.x)).size;
        const W = new Set(V.map((v) => v.w)).size;
        const Y = new Set(V.map((v) => v.y)).size;
        const slack = 1 + 1e-9;
        expect(V.length).toBeLessThanOrEqual(Math.sqrt(m.reuse * X * W * Y) * slack);
        expect(V.length).toBeLessThanOrEqual(m.usesPerInput * X);
        expect(V.length).toBeLessThanOrEqual(m.usesPerWeight * W);
        expect(V.length).toBeLessThanOrEqual(m.usesPerOutput * Y);
        if (pct === 100) {
          expect(V.length).toBe(m.macs);
          expect(X).toBe(m.inputs);
          expect(W).toBe(m.weights);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("maxProduct3 (water-filling) equals the integer optimum on small boxes", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30 }), fc.tuple(fc.nat(12), fc.nat(12), fc.nat(12)), (sum, caps) => {
        let best = 0;
        for (let a = 0; a <= caps[0]; a++)
          for (let b = 0; b <= caps[1]; b++) {
            const c = Math.min(caps[2], sum - a - b);
            if (c >= 0) best = Math.max(best, a * b * c);
          }
        const real = maxProduct3(sum, caps);
        expect(real).toBeGreaterThanOrEqual(best - 1e-9); // the real optimum is at least the integer one
        expect(real).toBeLessThanOrEqual(((Math.min(sum, caps[0] + caps[1] + caps[2]) / 3) ** 3) + 1e-9);
      }),
      { numRuns: 300 },
    );
  });
});

describe("the paper's bound", () => {
  it("reduces to the matrix-multiplication bound 2MNK/sqrt(S) for 1x1 stride 1", () => {
    // M = 7*9 pixels, N = 48 output channels, K = 40 input channels
    const l = parseLayerShortForm("c=40,h=7,w=9,k=48,r=1");
    for (const S of [16, 1000, 4096, 123457]) {
      const p = paperBound(l, S);
      expect(p.reads).toBeCloseTo((2 * 63 * 48 * 40) / Math.sqrt(S), 6);
      expect(p.total).toBeCloseTo(p.reads + 63 * 48, 6);
    }
    const fc1 = fullyConnected(4096, 1000, 8);
    expect(paperBound(fc1, 1 << 16).reads).toBeCloseTo((2 * 8 * 1000 * 4096) / 256, 6);
  });

  it("uses the dense MACs and the maximum reuse (hand-worked example 2)", () => {
    const l = parseLayerShortForm("c=2,hw=4,k=2,r=3,pad=1");
    // MACs = 2 out * 16 pixels * 2 in * 9 = 576; R = 9; S = 64: 2*576/sqrt(576) = 48
    expect(paperBound(l, 64)).toEqual({ reads: 48, outputWrites: 32, total: 80 });
  });
});

describe("compulsory traffic", () => {
  it("counts touched inputs, used weights and outputs (hand-worked examples)", () => {
    expect(compulsoryTraffic(parseLayerShortForm("c=2,hw=4,k=2,r=3,pad=1"))).toEqual({ input: 32, weight: 36, output: 32, total: 100 });
    // stride 3 > kernel 2 on 8 columns: columns 0,1,3,4,6,7 are touched, 2 and 5 never
    expect(compulsoryTraffic(parseLayerShortForm("c=1,h=2,w=8,k=1,r=2,stride=3")).input).toBe(2 * 6);
    // input 1x1, pad 1, kernel 3: only the centre tap ever reads a real element
    expect(compulsoryTraffic(parseLayerShortForm("c=4,hw=1,k=5,r=3,pad=1")).weight).toBe(5 * 4 * 1);
  });

  it("equals brute-force counting on random layers", () => {
    fc.assert(
      fc.property(smallLayer(), (l) => {
        const all = usefulMacs(l);
        const c = compulsoryTraffic(l);
        expect(c.input).toBe(new Set(all.map((m) => m.x)).size);
        expect(c.weight).toBe(new Set(all.map((m) => m.w)).size);
        expect(c.output).toBe(convShape(l).outputElements);
      }),
      { numRuns: 150 },
    );
  });
});

describe("the provable bound", () => {
  it("hand-worked example 1 at one segment length: T = 4096 gives 8192", () => {
    const l = parseLayerShortForm("c=64,hw=8,k=64,r=1");
    const m = segmentModel(l);
    expect(m).toMatchObject({ macs: 262144, reuse: 1, inputs: 4096, weights: 4096, outputs: 4096, usesPerInput: 64, usesPerWeight: 64, usesPerOutput: 64 });
    // F = sqrt(1 * 2048^3) = 92681.9..., M / F = 2.83 -> ceil 3 -> 4096 * 2
    expect(segmentBound(m, 1024, 4096)).toBe(8192);
    expect(provableBound(l, 1024).total).toBeGreaterThanOrEqual(8192);
  });

  it("is sqrt(2)/2 of the paper's read term at leading order (large layers)", () => {
    const l = parseLayerShortForm("c=1024,hw=66,k=1024,r=3");
    for (const S of [1024, 16384]) {
      const ratio = provableBound(l, S).total / paperBound(l, S).reads;
      expect(ratio).toBeGreaterThan(0.7);
      expect(ratio).toBeLessThanOrEqual(Math.SQRT1_2);
    }
  });

  it("is 0 for a layer whose windows read no real input", () => {
    // width 1, left pad 1, stride 2, kernel 1: the only output column reads padding
    const l = convLayer({ inChannels: 1, inHeight: 1, inWidth: 1, outChannels: 2, kernelHeight: 1, kernelWidth: 1, strides: [1, 2], pads: [0, 1, 0, 0] });
    expect(provableBound(l, 4).total).toBe(0);
    expect(lowerBounds(l, { capacity: 4 }).headline).toBe(convShape(l).outputElements);
  });
});

function check(b1: LayerBounds, b2: LayerBounds): void {
  // b1 has the smaller capacity
  expect(b2.paper.total).toBeLessThanOrEqual(b1.paper.total);
  expect(b2.provable.total).toBeLessThanOrEqual(b1.provable.total);
  expect(b2.headline).toBeLessThanOrEqual(b1.headline);
  const a1 = b1.attainable?.traffic.total ?? Infinity;
  const a2 = b2.attainable?.traffic.total ?? Infinity;
  expect(a2).toBeLessThanOrEqual(a1);
  for (const b of [b1, b2]) {
    if (!b.attainable) continue;
    expect(b.attainable.traffic.total).toBeGreaterThanOrEqual(b.provable.total);
    expect(b.attainable.traffic.total).toBeGreaterThanOrEqual(b.compulsory.total);
    expect(b.attainable.traffic.input).toBeGreaterThanOrEqual(b.compulsory.input);
    expect(b.attainable.traffic.weight).toBeGreaterThanOrEqual(b.compulsory.weight);
    expect(b.attainable.traffic.output).toBe(b.compulsory.output);
  }
}

describe("properties over random layers and capacities", () => {
  it("every bound is non-increasing in S; attainable >= provable and >= compulsory (words)", () => {
    fc.assert(
      fc.property(mediumLayer, fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 0, max: 3000 }), fc.boolean(), (l, s1, ds, dbl) => {
        const staging = dbl ? "double" : "single";
        check(lowerBounds(l, { capacity: s1, staging }), lowerBounds(l, { capacity: s1 + ds, staging }));
      }),
      { numRuns: 250 },
    );
  });

  it("the same holds with capacities in bytes and mixed element widths", () => {
    fc.assert(
      fc.property(
        mediumLayer,
        fc.integer({ min: 2, max: 6000 }),
        fc.integer({ min: 0, max: 6000 }),
        fc.constantFrom("int8", "int16", "uint8"),
        fc.constantFrom("int8", "int16"),
        (l, s1, ds, input, weight) => {
          const types = { input, weight } as const;
          const b1 = lowerBounds(l, { capacity: { unit: "bytes", value: s1 as never }, types });
          const b2 = lowerBounds(l, { capacity: { unit: "bytes", value: (s1 + ds) as never }, types });
          expect(b1.capacityWords).toBe(Math.floor(s1 / (input === "int16" && weight === "int16" ? 2 : 1)));
          check(b1, b2);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("the provable bound is below the attainable one for large layers too (VGG, AlexNet, depthwise, FC)", () => {
    const layers = [
      "c=64,hw=224,k=64,r=3,pad=1",
      "c=3,hw=227,k=96,r=11,stride=4",
      "c=96,hw=27,k=256,r=5,pad=2,g=2",
      "c=32,hw=112,k=32,r=3,pad=1,g=32",
      "c=256,hw=56,k=256,r=3,pad=2,dil=2",
    ].map((t) => parseLayerShortForm(t));
    layers.push(fullyConnected(4096, 1000, 4));
    for (const l of layers) {
      for (const S of [512, 4096, 65536, 1 << 20]) {
        const b = lowerBounds(l, { capacity: S });
        expect(b.attainable).not.toBeNull();
        expect(b.attainable!.traffic.total).toBeGreaterThanOrEqual(b.headline);
      }
    }
  });
});

describe("attainable / paper", () => {
  /** 3x3, stride 1, no padding, hw x hw outputs, ch in and out channels. */
  const layer = (hw: number, ch: number) => convLayer({ inChannels: ch, outChannels: ch, inHeight: hw + 2, inWidth: hw + 2, kernelHeight: 3, kernelWidth: 3 });

  it("with S fixed, converges as the layer grows to the ratio of the best infinite-layer tile (the halo stays)", () => {
    const S = 1024;
    // Infinite layer: per MAC, inputs (y+2)(x+2)/(9 z x y) (halo included), weights 1/(b x y);
    // outputs vanish (1/(9 C)). Best over tiles that fit, single staging, b = 1.
    let limit = Infinity;
    for (let y = 1; y <= 64; y++)
      for (let x = 1; x <= 64; x++)
        for (let z = 1; z <= 1024; z++) {
          if (x * y * z + (y + 2) * (x + 2) + 9 * z > S) break;
          limit = Math.min(limit, ((y + 2) * (x + 2)) / (9 * z * x * y) + 1 / (x * y));
        }
    limit /= 2 / Math.sqrt(9 * S);
    // sizes divisible by the limit's tile (9 x 9 x 10), so that partial tiles do not blur the trend
    const ratios = [layer(18, 20), layer(72, 80), layer(288, 320), layer(720, 1280)].map((l) => lowerBounds(l, { capacity: S }).attainable!.overPaper);
    const gaps = ratios.map((r) => Math.abs(r - limit));
    for (let i = 1; i < gaps.length; i++) expect(gaps[i]!).toBeLessThan(gaps[i - 1]! / 2);
    expect(gaps[gaps.length - 1]!).toBeLessThan(0.003);
    expect(limit).toBeGreaterThan(1.3); // the halo of a ~10x8 tile does not vanish
  });

  it("tends to 1 as S grows with the layer (the halo vanishes)", () => {
    const cases: [number, number, number][] = [
      [1 << 10, 128, 256],
      [1 << 14, 128, 256],
      [1 << 18, 256, 1024],
      [1 << 20, 512, 2048],
    ];
    const ratios = cases.map(([S, hw, ch]) => lowerBounds(layer(hw, ch), { capacity: S }).attainable!.overPaper);
    for (let i = 1; i < ratios.length; i++) expect(ratios[i]!).toBeLessThan(ratios[i - 1]!);
    expect(ratios[ratios.length - 1]!).toBeLessThan(1.06);
    expect(ratios[ratios.length - 1]!).toBeGreaterThan(1);
  });
});

describe("options and boundaries", () => {
  const l = parseLayerShortForm("c=16,hw=16,k=16,r=3,pad=1");

  it("rejects bad options with a ConfigError naming the field", () => {
    expect(() => lowerBounds(l, { capacity: 0 })).toThrow(/options\.capacity must be a positive whole number/);
    expect(() => lowerBounds(l, { capacity: 1.5 })).toThrow(ConfigError);
    expect(() => lowerBounds(l, { capacity: 100, boundary: "l2" as never })).toThrow(/options\.boundary must be one of dram, gbuf/);
    expect(() => lowerBounds(l, { capacity: 100, types: { input: "int4" as never } })).toThrow(/options\.capacity\.types\.input/);
    expect(() => lowerBounds(l, { capacity: 100, staging: "triple" as never })).toThrow(/staging must be/);
    expect(() => lowerBounds({ ...l, strides: [0, 1] } as never, { capacity: 100 })).toThrow(/layer\.strides\[0\]/);
    expect(() => provableBound(l, -3)).toThrow(ConfigError);
    expect(() => lowerBounds(l, { capacity: { unit: "bytes", value: 1 as never }, types: { input: "int16", weight: "int16" } })).toThrow(/hold at least one element \(2 bytes/);
  });

  it("S in words: bytes / smallest element size; the attainable tile counts int32 psums at 4 bytes", () => {
    const b = lowerBounds(l, { capacity: { unit: "bytes", value: 8192 as never }, types: { input: "int16", weight: "int8" } });
    expect(b.capacityWords).toBe(8192);
    expect(b.attainable!.footprint.total).toBeLessThanOrEqual(8192);
    expect(b.attainable!.footprint.psum % 4).toBe(0);
    expect(lowerBounds(l, { capacity: { unit: "bytes", value: 8192 as never }, types: { input: "int16", weight: "int16" } }).capacityWords).toBe(4096);
  });

  it("derives S per boundary from an architecture", () => {
    const arch = {
      name: "t",
      gbuf: { capacityBytes: 110592 },
      rf: { inputEntries: 12, weightEntries: 224, psumEntries: 24 },
      array: { rows: 12, cols: 14 },
    } as unknown as ArchSpec;
    expect(boundaryCapacityWords(arch, "gbuf")).toBe(168 * 260);
    expect(boundaryCapacityWords(arch, "dram")).toBe(110592 + 168 * 260);
    expect(boundaryCapacityWords(arch, "dram", { input: "int16", weight: "int16" })).toBe(55296 + 168 * 260);
    expect(lowerBounds(l, { capacity: 43680, boundary: "gbuf" }).boundary).toBe("gbuf");
  });

  it("counts a shared RF pool's entries, and the GBuf's narrowest element among operands and psums", () => {
    const arch = {
      name: "t",
      gbuf: { capacityBytes: 110592, psumBytes: 2 },
      rf: { sharedEntries: 100 },
      array: { rows: 12, cols: 14 },
    } as unknown as ArchSpec;
    expect(boundaryCapacityWords(arch, "gbuf")).toBe(168 * 100);
    expect(boundaryCapacityWords(arch, "dram")).toBe(110592 + 168 * 100);
    // int16 operands and 2-byte psums: 2 bytes is the narrowest either way
    expect(boundaryCapacityWords(arch, "dram", { input: "int16", weight: "int16" })).toBe(55296 + 168 * 100);
  });
});

describe("bounds of a layer spec", () => {
  it("lowerBounds, paperBound, provableBound and compulsoryTraffic take a spec as convLayer does, with the same figures", async () => {
    const { convLayer } = await import("../../src/workload/layer.js");
    const b = await import("../../src/bounds/bounds.js");
    const spec = { inChannels: 16, inHeight: 13, inWidth: 13, outChannels: 32, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] as const };
    const layer = convLayer(spec);
    expect(b.lowerBounds(spec, { capacity: 4096 })).toEqual(b.lowerBounds(layer, { capacity: 4096 }));
    expect(b.paperBound(spec, 4096)).toEqual(b.paperBound(layer, 4096));
    expect(b.provableBound(spec, 4096)).toEqual(b.provableBound(layer, 4096));
    expect(b.compulsoryTraffic(spec)).toEqual(b.compulsoryTraffic(layer));
    expect(() => b.lowerBounds({ ...spec, inChannels: 0 }, { capacity: 4096 })).toThrow(/inChannels/);
  });
});
