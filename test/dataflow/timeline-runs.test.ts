// Runs of timelines (src/dataflow/sequencer/runs.ts): a single-buffered program replays many
// consecutive timelines at once, reusing the plans it recorded while the iterations' plan-cache
// hits would build the same ones. With runs and without them (timeline replay on in both), and
// with timeline replay off, every result must be the same; a run that reuses a recorded plan
// whose reads differ must make them differ (the test can fail).
import { afterEach, describe, expect, it, vi } from "vitest";
import { CompiledCopies } from "../../src/dataflow/sequencer/copies.js";
import { IterationPlanner, type PlanHit } from "../../src/dataflow/sequencer/iteration.js";
import { TimelineReplay } from "../../src/dataflow/sequencer/timeline.js";
import type { IterationPlan } from "../../src/dataflow/sequencer/types.js";
import { compareRuns as compare } from "../helpers/results.js";
import { convLayer, type ConvLayer } from "../../src/workload/layer.js";
import { ARCHS, legalRandomMapping } from "./random-mappings.js";

const LAYERS: readonly ConvLayer[] = [
  // Strided, a large kernel (AlexNet conv1's kind): long dram tiles of single-buffered iterations.
  convLayer({ inChannels: 3, inHeight: 47, inWidth: 47, outChannels: 24, kernelHeight: 7, kernelWidth: 7, strides: [2, 2] }),
  // Padded: tiles at the layer's edges clip and read padding.
  convLayer({ inChannels: 8, inHeight: 27, inWidth: 27, outChannels: 32, kernelHeight: 5, kernelWidth: 5, pads: [2, 2, 2, 2] }),
  // Batch 2, asymmetric strides and padding.
  convLayer({ batch: 2, inChannels: 6, inHeight: 13, inWidth: 11, outChannels: 18, kernelHeight: 5, kernelWidth: 3, strides: [2, 1], pads: [2, 0, 1, 1] }),
];

/** Dataflows whose programs are single-buffered on these presets. */
const CASES: readonly { readonly arch: string; readonly dataflow: string }[] = [
  { arch: "chen2020", dataflow: "ws" },
  { arch: "chen2020", dataflow: "os" },
  { arch: "chen2020", dataflow: "is" },
  { arch: "chen2020", dataflow: "chen2020" },
  { arch: "eyeriss", dataflow: "os" },
  { arch: "eyeriss", dataflow: "is" },
  { arch: "eyeriss", dataflow: "ws" },
];

describe("runs of timelines", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("named dataflows on chen2020 and eyeriss: with runs, without them and with replay off, identical results", () => {
    let runs = 0;
    for (const { arch, dataflow } of CASES) {
      for (const [i, layer] of LAYERS.entries()) {
        const r = compare({ layer, arch, dataflow, types: { input: "uint8", weight: "int8" }, zeroPoints: { input: 3, weight: -2 } });
        expect(r.diffs, `layer ${i} ${dataflow} on ${arch}`).toEqual([]);
        runs += r.runs;
      }
    }
    expect(runs).toBeGreaterThan(100);
  });

  it("random legal mappings (>= 60) of mid-sized layers: with runs, without them and with replay off, identical results", () => {
    let runs = 0;
    let cases = 0;
    const layers = [
      convLayer({ inChannels: 4, inHeight: 19, inWidth: 19, outChannels: 8, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] }),
      convLayer({ inChannels: 3, inHeight: 23, inWidth: 21, outChannels: 6, kernelHeight: 5, kernelWidth: 5, strides: [2, 2] }),
    ];
    for (let seed = 1; cases < 60 && seed < 400; seed++) {
      const layer = layers[seed % layers.length]!;
      const arch = ARCHS[seed % ARCHS.length]!;
      const m = legalRandomMapping(layer, arch, seed);
      if (!m) continue;
      cases++;
      const r = compare({ layer, arch, dataflow: m, seed, zeroPoints: { input: 3, weight: -5 } });
      expect(r.diffs, `seed ${seed}: ${JSON.stringify(m)}`).toEqual([]);
      runs += r.runs;
    }
    expect(cases).toBe(60);
    expect(runs).toBeGreaterThan(0);
  });

  it("compiled copies: runs leave what the components leave, and a copy list that reads one word off goes wrong", () => {
    type Copies = { compiled: number; refused: number; run: (m: { gSeg: Int32Array }, p: unknown, M: Int32Array) => void };
    // (each GBuf segment's first source one word further on: five numbers a segment, the source second)
    const shifted = (m: { gSeg: Int32Array }) => ({ ...m, gSeg: m.gSeg.map((x, i) => (i % 5 === 1 ? x + 1 : x)) });
    const proto = CompiledCopies.prototype as unknown as Copies;
    const apply = vi.spyOn(CompiledCopies.prototype, "apply");
    const opts = { layer: LAYERS[1]!, arch: "chen2020", dataflow: "os" } as const;
    expect(compare(opts).diffs).toEqual([]);
    const copies = apply.mock.contexts.at(-1) as unknown as Copies;
    expect(copies.compiled).toBeGreaterThan(100);
    expect(copies.refused).toBe(0);
    // Every GBuf source one word further on: the self-check refuses each template (its copies
    // go through the components: still right) ...
    const real = proto.run;
    const off = vi.spyOn(proto, "run").mockImplementation(function (this: Copies, m, p, M) {
      real.call(this, shifted(m), p, M);
    });
    expect(compare(opts).diffs).toEqual([]);
    expect((apply.mock.contexts.at(-1) as unknown as Copies).refused).toBeGreaterThan(0);
    // ... but once compiled, the same lists replayed are wrong, and the comparison sees it.
    let calls = 0;
    off.mockImplementation(function (this: Copies, m, p, M) {
      real.call(this, calls++ % 2 === 1 ? shifted(m) : m, p, M);
    });
    expect(compare(opts).diffs.length).toBeGreaterThan(0);
  });

  it("compiled copies: a register-file copy list (halo slides) that reads one word off goes wrong", () => {
    type Copies = { run: (m: { rSeg: Int32Array }, p: unknown, M: Int32Array) => void };
    const proto = CompiledCopies.prototype as unknown as Copies;
    const real = proto.run;
    let slides = 0;
    let calls = 0;
    // (each register-file segment's first source one word further on, at every other call)
    vi.spyOn(proto, "run").mockImplementation(function (this: Copies, m, p, M) {
      if (m.rSeg.length > 0) slides++;
      real.call(this, m.rSeg.length > 0 && calls++ % 2 === 1 ? { ...m, rSeg: m.rSeg.map((x, i) => (i % 5 === 1 ? x + 1 : x)) } : m, p, M);
    });
    expect(compare({ layer: LAYERS[1]!, arch: "chen2020", dataflow: "chen2020" }).diffs.length).toBeGreaterThan(0);
    expect(slides).toBeGreaterThan(10);
  });

  it("runs beside the next tile's prefetch and write-backs (is and chen2020 on FC layers): identical, and only their own counters are set", () => {
    const layers = [
      convLayer({ inChannels: 1024, inHeight: 1, inWidth: 1, outChannels: 1024, kernelHeight: 1, kernelWidth: 1 }),
      convLayer({ batch: 2, inChannels: 768, inHeight: 1, inWidth: 1, outChannels: 600, kernelHeight: 1, kernelWidth: 1 }),
    ];
    type FinishRun = (b: Float64Array, ts: unknown, beside: boolean) => void;
    const proto = TimelineReplay.prototype as unknown as { finishRun: FinishRun };
    const real = proto.finishRun;
    const finish = vi.spyOn(proto, "finishRun");
    for (const layer of layers) for (const dataflow of ["is", "chen2020"]) expect(compare({ layer, arch: "chen2020", dataflow }).diffs).toEqual([]);
    expect(finish.mock.calls.filter((c) => c[2] && (c[1] as unknown[]).length > 1).length).toBeGreaterThan(100);
    // Setting every counter (the prefetch's and write-backs' DRAM and GBuf-write counters too)
    // loses their progress during the run: the comparison sees it.
    finish.mockImplementation(function (this: unknown, b, ts) {
      return real.call(this, b, ts, false);
    });
    expect(layers.some((layer) => compare({ layer, arch: "chen2020", dataflow: "is" }).diffs.length > 0)).toBe(true);
  });

  it("a run that reuses a recorded plan of the same template whose reads differ goes wrong, and the comparison sees it", () => {
    // Reads compared by template alone: a plan recorded in one dram tile is reused in another
    // whose GBuf tile sits elsewhere (another half, another rotation), reading the wrong words.
    vi.spyOn(IterationPlanner.prototype, "sameAs").mockImplementation((h: PlanHit, p: IterationPlan) => p.template === h.template && h.drains.length === 0);
    const found = LAYERS.some((layer) => compare({ layer, arch: "chen2020", dataflow: "chen2020" }).diffs.length > 0 || compare({ layer, arch: "chen2020", dataflow: "os" }).diffs.length > 0);
    expect(found).toBe(true);
  });
});
