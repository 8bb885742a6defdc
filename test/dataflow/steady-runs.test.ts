// Runs of pipelined timelines (src/dataflow/sequencer/steady-runs.ts): a chained pipeline's
// timelines replayed many at once must give exactly what replaying them one by one, and
// simulating them, give; and a run that reuses a recorded plan it should not, or sets counters
// it should not, must make the comparison fail.
import { afterEach, describe, expect, it, vi } from "vitest";
import { IterationPlanner, type PlanHit } from "../../src/dataflow/sequencer/iteration.js";
import { RunBook } from "../../src/dataflow/sequencer/runs.js";
import { SteadyRuns } from "../../src/dataflow/sequencer/steady-runs.js";
import { TimelineReplay } from "../../src/dataflow/sequencer/timeline.js";
import type { IterationPlan } from "../../src/dataflow/sequencer/types.js";
import { compareRuns } from "../helpers/results.js";
import { convLayer } from "../../src/workload/layer.js";
import { chen2020Variant } from "./preset-variants.js";
import { rng } from "./walk.js";

/** Layers chen2020 chains on its preset: AlexNet conv3's kind with fewer channels, and a VGG-like 3 x 3 layer. */
const LAYERS = [
  convLayer({ inChannels: 64, inHeight: 13, inWidth: 13, outChannels: 48, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] }),
  convLayer({ inChannels: 64, inHeight: 28, inWidth: 28, outChannels: 64, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] }),
  convLayer({ inChannels: 128, inHeight: 13, inWidth: 13, outChannels: 96, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] }),
];

describe("runs of pipelined timelines", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("chen2020 on its preset: with runs, without them and with replay off, identical outputs, counters, cycles and stalls", () => {
    const replay = vi.spyOn(SteadyRuns.prototype, "replay");
    let runs = 0;
    for (const [i, layer] of LAYERS.entries()) {
      const r = compareRuns({ layer, arch: "chen2020", dataflow: "chen2020", types: { input: "uint8", weight: "int8" }, zeroPoints: { input: 3, weight: -2 } });
      expect(r.diffs, `layer ${i}`).toEqual([]);
      runs += r.runs;
    }
    expect(runs).toBeGreaterThan(100);
    // (beside the next tile's prefetch, too)
    expect(replay.mock.calls.filter((c) => c[0].beside !== undefined).length).toBeGreaterThan(50);
  });

  it("chen2020 on random layers and random variants of its preset: identical results", () => {
    const rnd = rng(20261205);
    let runs = 0;
    let cases = 0;
    for (let i = 0; i < 24; i++) {
      const { layer, archOverrides } = chen2020Variant(rnd);
      const res = compareRuns({ layer, arch: "chen2020", archOverrides, dataflow: "chen2020", seed: i });
      expect(res.diffs, JSON.stringify({ layer, archOverrides })).toEqual([]);
      if (res.runs > 0) cases++;
      runs += res.runs;
    }
    expect(cases).toBeGreaterThanOrEqual(3);
    expect(runs).toBeGreaterThan(50);
  });

  it("a run that reuses a recorded plan of the same template whose reads differ goes wrong, and the comparison sees it", () => {
    // (AlexNet conv3's kind, unpadded: the same template recurs with other reads there)
    const layer = convLayer({ inChannels: 192, inHeight: 15, inWidth: 15, outChannels: 256, kernelHeight: 3, kernelWidth: 3 });
    const r = compareRuns({ layer, arch: "chen2020", dataflow: "chen2020" });
    expect(r.diffs).toEqual([]);
    expect(r.runs).toBeGreaterThan(100);
    // Runs kept under their first timeline alone, whatever their position in the dram tile, and
    // plans compared by template alone: a run goes on with reads at the recorded offsets.
    const get = RunBook.prototype.get;
    const keep = RunBook.prototype.keep;
    vi.spyOn(RunBook.prototype, "get").mockImplementation(function (this: RunBook, t) {
      return get.call(this, t, 0);
    });
    vi.spyOn(RunBook.prototype, "keep").mockImplementation(function (this: RunBook, first, steps) {
      keep.call(this, first, steps, 0);
    });
    vi.spyOn(IterationPlanner.prototype, "sameAs").mockImplementation((h: PlanHit, p: IterationPlan) => p.template === h.template && !p.drainsBehind);
    expect(compareRuns({ layer, arch: "chen2020", dataflow: "chen2020" }).diffs.length).toBeGreaterThan(0);
  });

  it("a run beside a prefetch that sets the prefetch's counters too goes wrong, and the comparison sees it", () => {
    const real = TimelineReplay.prototype.finishRun;
    vi.spyOn(TimelineReplay.prototype, "finishRun").mockImplementation(function (this: TimelineReplay, b, ts) {
      real.call(this, b, ts, false);
    });
    expect(LAYERS.some((layer) => compareRuns({ layer, arch: "chen2020", dataflow: "chen2020" }).diffs.length > 0)).toBe(true);
  });
});
