/**
 * traffic.ts: the closed-form DRAM count against the simulated counters, and the named
 * dataflows' search judged by it.
 *
 * - dramTraffic equals `dram.read.*` / `dram.write.output` of simulate() for random small layers
 *   x random legal mappings whose GBuf keeps every tensor, and for every named dataflow on small
 *   layers; gbufArrayAccesses is at least the GBuf's operand reads and partial-sum accesses for the
 *   searched dataflows there;
 * - exactTraffic vouches for the count only where it holds: random legal mappings that bypass
 *   weights or outputs (plain and fused) agree wherever it vouches, one mapping per condition it
 *   adds (double-buffered register files, fused dimensions, a streamed operand the GBuf bypasses)
 *   is refused and does differ, and an edge tile whose inner loop makes fewer trips is counted;
 * - the searched dataflows (ws, os, is, rs) stay within 4x of the DRAM bound on AlexNet CONV3-5
 *   at the chen2020 and eyeriss presets (counted by dramTraffic, which the first tests tie to the
 *   simulator), their score never rises and their DRAM traffic never rises as the GBuf doubles,
 *   and they are deterministic.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { presets, resolveArch } from "../../src/arch/presets.js";
import { boundaryCapacityWords, lowerBounds } from "../../src/bounds/bounds.js";
import { DRAM_WORD_WEIGHT } from "../../src/dataflow/dataflows/search.js";
import { buildMapping, DATAFLOW_NAMES } from "../../src/dataflow/dataflows/index.js";
import { checkMapping } from "../../src/dataflow/legality.js";
import type { Mapping } from "../../src/dataflow/mapping.js";
import { simulate, type SimulationResult } from "../../src/dataflow/simulate.js";
import { dramTraffic, gbufArrayAccesses } from "../../src/dataflow/traffic.js";
import { convLayer, type ConvLayer } from "../../src/workload/layer.js";
import { network } from "../../src/workload/networks.js";
import { exactTraffic } from "../../src/mapper/cost.js";
import { map } from "../../src/mapper/search.js";
import { verifyMappings } from "../../src/mapper/verify.js";
import { ARCHS, legalRandomMapping } from "./random-mappings.js";
import { randomMapping, rng, smallLayer } from "./walk.js";

const value = (r: SimulationResult, name: string): number => r.counters[name]?.value ?? 0;

/** The simulated DRAM words in the shape dramTraffic returns. */
function simulatedDram(r: SimulationResult) {
  return {
    read: { input: value(r, "dram.read.input"), weight: value(r, "dram.read.weight"), output: value(r, "dram.read.output") },
    write: { input: 0, weight: 0, output: value(r, "dram.write.output") },
  };
}

/** Whether some window of the layer reads a real input (the Sequencer needs one; see simulate.test.ts). */
function readsRealInput(l: ConvLayer): boolean {
  const some = (inSize: number, outSize: number, k: number, stride: number, dil: number, pad: number) => {
    for (let o = 0; o < outSize; o++) for (let t = 0; t < k; t++) if (o * stride - pad + t * dil >= 0 && o * stride - pad + t * dil < inSize) return true;
    return false;
  };
  const outH = Math.floor((l.inHeight + l.pads[0] + l.pads[2] - ((l.kernelHeight - 1) * l.dilations[0] + 1)) / l.strides[0]) + 1;
  const outW = Math.floor((l.inWidth + l.pads[1] + l.pads[3] - ((l.kernelWidth - 1) * l.dilations[1] + 1)) / l.strides[1]) + 1;
  return some(l.inHeight, outH, l.kernelHeight, l.strides[0], l.dilations[0], l.pads[0]) && some(l.inWidth, outW, l.kernelWidth, l.strides[1], l.dilations[1], l.pads[1]);
}

describe("dramTraffic", () => {
  it("equals the simulated DRAM words for random legal mappings whose GBuf keeps every tensor", () => {
    let runs = 0;
    fc.assert(
      fc.property(smallLayer.filter(readsRealInput), fc.nat(1e6), (l, seed) => {
        const rnd = rng(seed);
        for (let i = 0; i < 40; i++) {
          const m0 = randomMapping(l, rnd);
          const m: Mapping = { ...m0, gbuf: { ...m0.gbuf, keep: { input: true, weight: true, output: true } }, rf: { ...m0.rf, keep: { input: true, weight: true, output: true } } };
          if (!checkMapping(m, l, presets.eyeriss).ok) continue;
          const r = simulate({ layer: l, arch: presets.eyeriss, dataflow: m });
          const { read, write } = dramTraffic(r.mapping, l);
          expect({ read, write }, JSON.stringify(m)).toEqual(simulatedDram(r));
          runs++;
          return;
        }
      }),
      { numRuns: 25 },
    );
    expect(runs).toBeGreaterThan(12);
  });

  it("equals the simulated DRAM words for random legal mappings that bypass weights or outputs, wherever exactTraffic vouches for it", () => {
    // (before exactTraffic asked for single-buffered register files and even nesting, 596 of
    // 7,317 such mappings it vouched for differed: a random campaign, session 36)
    let runs = 0;
    fc.assert(
      fc.property(smallLayer, fc.nat(2), fc.integer(), fc.boolean(), fc.nat(2), (l, a, seed, fused, bypass) => {
        const m0 = legalRandomMapping(l, ARCHS[a]!, seed, fused);
        if (!m0) return;
        // (bypass weights, outputs or both, in single-buffered register files: where the conditions bite)
        const keep = { input: true, weight: bypass === 1, output: bypass === 0 };
        const m: Mapping = { ...m0, gbuf: { ...m0.gbuf, keep }, rf: { ...m0.rf, doubleBuffer: false } };
        if (!exactTraffic(m, l) || !checkMapping(m, l, ARCHS[a]!).ok) return;
        const r = simulate({ layer: l, arch: ARCHS[a]!, dataflow: m });
        const { read, write } = dramTraffic(r.mapping, l);
        expect({ read, write }, JSON.stringify(m)).toEqual(simulatedDram(r));
        runs++;
      }),
      { numRuns: 600 },
    );
    expect(runs).toBeGreaterThan(50);
  });

  // Small layers (simulating every dataflow costs seconds): every shape feature between them.
  const cases: { name: string; layer: ConvLayer; presets: ("eyeriss" | "chen2020")[] }[] = [
    {
      name: "5x5 stride 2, batch 2",
      layer: convLayer({ batch: 2, inChannels: 4, inHeight: 9, inWidth: 9, outChannels: 6, kernelHeight: 5, kernelWidth: 5, pads: [2, 2, 2, 2], strides: [2, 2] }),
      presets: ["eyeriss"],
    },
    {
      name: "grouped, dilated, asymmetric pads",
      layer: convLayer({ inChannels: 12, inHeight: 17, inWidth: 11, outChannels: 18, kernelHeight: 3, kernelWidth: 2, dilations: [2, 1], pads: [1, 0, 2, 1], groups: 3 }),
      presets: ["chen2020"],
    },
  ];
  for (const c of cases) {
    it(`equals the simulated DRAM words of every named dataflow, and bounds the GBuf accesses of the searched ones: ${c.name}`, () => {
      const l = c.layer;
      for (const a of c.presets) {
        for (const d of DATAFLOW_NAMES) {
          const r = simulate({ layer: l, arch: a, dataflow: d });
          const { read, write } = dramTraffic(r.mapping, l);
          expect({ read, write }, `${d} on ${a}`).toEqual(simulatedDram(r));
          if (d === "chen2020") continue;
          // An estimate: a PE idle at the layer's edge that resumes the tile it held is not
          // served again (os on chen2020 here), so the simulated counts may be lower.
          const g = gbufArrayAccesses(r.mapping, l);
          expect(g.read.input, `${d} on ${a}`).toBeGreaterThanOrEqual(value(r, "gbuf.read.input"));
          expect(g.read.weight, `${d} on ${a}`).toBeGreaterThanOrEqual(value(r, "gbuf.read.weight"));
          // Partial sums: every GBuf output access except the reads that write tiles back to DRAM.
          expect(g.read.output + g.write.output, `${d} on ${a}`).toBeGreaterThanOrEqual(value(r, "gbuf.read.output") + value(r, "gbuf.write.output") - value(r, "dram.write.output"));
        }
      }
    });
  }
});

describe("the searched dataflows at the DRAM boundary", () => {
  const types = { input: "int8", weight: "int8" } as const;
  const alexnet = network("alexnet").layers;
  const layer = (name: string): ConvLayer => alexnet.find((l) => l.name === name)!;
  const SEARCHED = ["ws", "os", "is", "rs"] as const;

  it("stay within 4x of the DRAM bound on AlexNet CONV3-5 (chen2020 and eyeriss presets)", () => {
    for (const a of ["chen2020", "eyeriss"] as const) {
      const arch = presets[a];
      for (const name of ["conv3", "conv4", "conv5"]) {
        const l = layer(name);
        const bound = lowerBounds(l, { boundary: "dram", capacity: boundaryCapacityWords(arch, "dram", types), types }).headline;
        for (const d of SEARCHED) {
          const words = dramTraffic(buildMapping(d, l, arch, { types }), l).total;
          expect(words / bound, `${d} on ${a}, ${name}`).toBeLessThanOrEqual(4);
        }
      }
    }
  });

  it("never move more DRAM words, nor score worse, as the GBuf doubles (AlexNet CONV3)", () => {
    const l = layer("conv3");
    for (const a of ["chen2020", "eyeriss"] as const) {
      for (const d of SEARCHED) {
        let prev = { dram: Infinity, score: Infinity };
        for (let kib = 16; kib <= 512; kib *= 2) {
          const arch = resolveArch(a, { gbuf: { capacityBytes: kib * 1024 } });
          const m = buildMapping(d, l, arch, { types });
          const dram = dramTraffic(m, l).total;
          const score = dram + gbufArrayAccesses(m, l).total / DRAM_WORD_WEIGHT;
          expect(dram, `${d} on ${a} at ${kib} KiB`).toBeLessThanOrEqual(prev.dram);
          expect(score, `${d} on ${a} at ${kib} KiB`).toBeLessThanOrEqual(prev.score);
          prev = { dram, score };
        }
      }
    }
  });

  it("are deterministic", () => {
    const l = layer("conv2");
    for (const d of SEARCHED) expect(buildMapping(d, l, presets.eyeriss)).toEqual(buildMapping(d, l, presets.eyeriss));
  });
});

describe("chen2020 at the DRAM boundary (issue 14: both levels)", () => {
  const types = { input: "int8", weight: "int8" } as const;
  const convs = (net: string, batch: number) => network(net, batch).layers.filter((l) => l.kernelHeight > 1);

  it("moves no more DRAM words than rs on eyeriss on any AlexNet convolution, at batch 1 and 4", () => {
    // dramTraffic equals the simulator's DRAM counters for every named dataflow (above); checked
    // by simulation on AlexNet conv3 at batch 1: chen2020 992,896 words, rs 992,896.
    for (const batch of [1, 4]) {
      for (const l of convs("alexnet", batch)) {
        const chen = dramTraffic(buildMapping("chen2020", l, presets.eyeriss, { types }), l).total;
        const rs = dramTraffic(buildMapping("rs", l, presets.eyeriss, { types }), l).total;
        expect(chen, `${l.name} at batch ${batch}`).toBeLessThanOrEqual(rs);
      }
    }
  });

  it("moves no more DRAM words on its own preset than before (AlexNet at batch 4, VGG-16 at batch 3)", () => {
    // Measured before issue 14 (psums only in the PEs' registers; 64 / 32 / 192 RF entries).
    const before: Record<string, number> = {
      "alexnet conv1": 5247240, "alexnet conv2": 3095040, "alexnet conv3": 3067392, "alexnet conv4": 2365440, "alexnet conv5": 1576960,
      "vgg16 conv1_1": 10772328, "vgg16 conv1_2": 33922560, "vgg16 conv2_1": 17051136, "vgg16 conv2_2": 29285376, "vgg16 conv3_1": 14450688,
      "vgg16 conv3_2": 26492928, "vgg16 conv4_1": 13443072, "vgg16 conv4_2": 25681920, "vgg16 conv5_1": 6574080,
    };
    for (const [net, batch] of [["alexnet", 4], ["vgg16", 3]] as const) {
      for (const l of convs(net, batch)) {
        const was = before[`${net} ${l.name}`];
        if (was === undefined) continue; // a repeated shape (conv3_3, conv4_3, conv5_2, conv5_3)
        expect(dramTraffic(buildMapping("chen2020", l, presets.chen2020, { types }), l).total, `${net} ${l.name}`).toBeLessThanOrEqual(was);
      }
    }
  });
});

describe("exactTraffic", () => {
  // One mapping per condition exactTraffic adds to the bypass case (each found by a random
  // campaign; each meets every other condition): the closed form differs from the simulation, and
  // exactTraffic does not vouch for it.
  const L = (spec: Parameters<typeof convLayer>[0]) => convLayer(spec);
  const cases: { why: string; layer: ConvLayer; arch: number; mapping: Mapping }[] = [
    {
      why: "double-buffered register files keep a weight tile in each half, so tiles that alternate come back without a fetch",
      layer: L({ inChannels: 2, inHeight: 9, inWidth: 8, outChannels: 3, kernelHeight: 1, kernelWidth: 1 }),
      arch: 2,
      mapping: {
        dram: { loops: [{ dim: "Q", factor: 2 }, { dim: "P", factor: 1 }, { dim: "K", factor: 2 }] },
        gbuf: { loops: [{ dim: "P", factor: 2 }], keep: { input: true, weight: false, output: true }, doubleBuffer: true },
        spatial: { loops: [{ dim: "C", factor: 2, axis: "row" }] },
        rf: { loops: [{ dim: "Q", factor: 4 }, { dim: "P", factor: 7 }, { dim: "K", factor: 2 }], keep: { input: true, weight: true, output: true }, doubleBuffer: true },
      } as Mapping,
    },
    {
      why: "fused dimensions: the count of RF tiles on the box view is an estimate",
      layer: L({ inChannels: 1, inHeight: 6, inWidth: 3, outChannels: 5, kernelHeight: 2, kernelWidth: 2 }),
      arch: 2,
      mapping: {
        dram: { loops: [{ dim: "P", factor: 2 }, { dim: "K", factor: 1 }, { dim: "N", factor: 1 }, { dim: "G", factor: 1 }] },
        gbuf: { loops: [{ dim: "S", factor: 3 }], keep: { input: true, weight: false, output: true }, doubleBuffer: true },
        spatial: { loops: [{ dim: "S", factor: 2, axis: "row" }] },
        rf: { loops: [{ dim: "R", factor: 2 }, { dim: "Q", factor: 2 }, { dim: "K", factor: 5 }], keep: { input: true, weight: true, output: true }, doubleBuffer: false },
        fuse: [{ dims: ["S", "P"], extents: [2, 3] }],
      } as Mapping,
    },
  ];
  for (const c of cases) {
    it(`does not vouch where the count differs: ${c.why}`, () => {
      const arch = ARCHS[c.arch]!;
      expect(checkMapping(c.mapping, c.layer, arch).ok).toBe(true);
      const r = simulate({ layer: c.layer, arch, dataflow: c.mapping });
      const { read, write } = dramTraffic(r.mapping, c.layer);
      expect({ read, write }).not.toEqual(simulatedDram(r));
      expect(exactTraffic(c.mapping, c.layer)).toBe(false);
    });
  }

  it("counts exactly an edge tile whose inner loop makes fewer trips: the loops between it and the outer loop no longer bring the tile back", () => {
    // (dram Q in tiles of 4, 4 and 1 columns: in the last the gbuf loop over Q makes one trip, so
    // its output tiles stay in the register files across the gbuf loops over C and K)
    const layer = L({ inChannels: 2, inHeight: 10, inWidth: 10, outChannels: 8, kernelHeight: 2, kernelWidth: 2 });
    const mapping = {
      dram: { loops: [{ dim: "Q", factor: 3 }, { dim: "N", factor: 1 }, { dim: "K", factor: 2 }] },
      gbuf: { loops: [{ dim: "Q", factor: 4 }, { dim: "C", factor: 2 }, { dim: "K", factor: 2 }], keep: { input: true, weight: true, output: false }, doubleBuffer: false },
      spatial: { loops: [] },
      rf: { loops: [{ dim: "R", factor: 2 }, { dim: "P", factor: 9 }, { dim: "K", factor: 3 }, { dim: "S", factor: 2 }], keep: { input: true, weight: true, output: true }, doubleBuffer: false },
    } as Mapping;
    expect(checkMapping(mapping, layer, ARCHS[0]!).ok).toBe(true);
    const r = simulate({ layer, arch: ARCHS[0]!, dataflow: mapping });
    const { read, write } = dramTraffic(r.mapping, layer);
    expect({ read, write }).toEqual(simulatedDram(r));
    // (every tile visited alike would be 648 reads and 1,296 writes)
    expect([read.output, write.output]).toEqual([486, 1134]);
    expect(exactTraffic(mapping, layer)).toBe(true);
  });

  it("does not vouch for a streamed operand the GBuf bypasses (fetched at every gbuf iteration), nor for a double-buffered psum the GBuf bypasses", () => {
    const base: Mapping = {
      dram: { loops: [{ dim: "P", factor: 4 }] },
      gbuf: { loops: [{ dim: "Q", factor: 4 }], keep: { input: true, weight: false, output: true }, doubleBuffer: false },
      spatial: { loops: [{ dim: "K", factor: 2, axis: "col" }] },
      rf: { loops: [{ dim: "C", factor: 2 }], keep: { input: true, weight: true, output: true }, doubleBuffer: false },
    } as Mapping;
    const l = L({ inChannels: 2, inHeight: 4, inWidth: 4, outChannels: 2, kernelHeight: 1, kernelWidth: 1 });
    expect(exactTraffic(base, l)).toBe(true);
    expect(exactTraffic({ ...base, rf: { ...base.rf, stream: { input: false, weight: true, output: false } } }, l)).toBe(false);
    const noOut = { ...base, gbuf: { ...base.gbuf, keep: { input: true, weight: true, output: false } } };
    expect(exactTraffic(noOut, l)).toBe(true);
    expect(exactTraffic({ ...noOut, rf: { ...noOut.rf, doubleBufferOutput: true } }, l)).toBe(false);
  });

  it("the mapper's best mappings on the systolic preset simulate to its closed form (a streamed, bypassed operand once crashed verifyMappings)", () => {
    for (const spec of [{ inChannels: 3, inHeight: 17, inWidth: 17, outChannels: 10, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] as [number, number, number, number] }, { inChannels: 13, inHeight: 11, inWidth: 11, outChannels: 7, kernelHeight: 3, kernelWidth: 3 }]) {
      const result = map(L(spec), presets.systolic, { objective: "energy", budget: 3000, top: 10 });
      const verified = verifyMappings(result);
      expect(verified.every((v) => v.simulated.verified)).toBe(true);
    }
  });
});
