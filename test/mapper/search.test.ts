/**
 * The mapper's search (src/mapper/search.ts): deterministic for a seed and an evaluation budget,
 * never worse than the named dataflows it starts from, never below the provable bound, and never
 * worse with twice the GBuf when it starts from the smaller capacity's best. Small layers and
 * budgets (a few hundred evaluations) keep it fast.
 */
import { describe, expect, it } from "vitest";
import { resolveArch } from "../../src/arch/presets.js";
import { buildMapping, DATAFLOW_NAMES } from "../../src/dataflow/dataflows/index.js";
import { checkMapping } from "../../src/dataflow/legality.js";
import { dramTraffic } from "../../src/dataflow/traffic.js";
import { CostModel, map, type Objective } from "../../src/mapper/index.js";
import { convLayer } from "../../src/workload/layer.js";
import { configError } from "../helpers/errors.js";

const layer = convLayer({ name: "small", inChannels: 16, inHeight: 14, inWidth: 14, outChannels: 32, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] });
/** A GBuf small enough that no named dataflow reaches the bound. */
const arch = resolveArch("eyeriss", { name: "eyeriss-4k", gbuf: { capacityBytes: 4096 } });
const types = { input: "int8", weight: "int8" } as const;

describe("map", () => {
  it("gives the same result for the same seed and evaluation budget, and another for another seed", () => {
    const run = (seed: number) => map(layer, arch, { budget: 400, seed, stopWithin: 0, top: 3 });
    const a = run(1);
    const b = run(1);
    expect(b.top.map((c) => c.mapping)).toEqual(a.top.map((c) => c.mapping));
    expect(b.evaluations).toBe(400);
    expect([b.pruned, b.illegal, b.scored]).toEqual([a.pruned, a.illegal, a.scored]);
    const c = run(2);
    expect(c.top.map((x) => JSON.stringify(x.mapping))).not.toEqual(a.top.map((x) => JSON.stringify(x.mapping)));
  });

  for (const objective of ["dram", "energy", "cycles"] as Objective[]) {
    it(`returns legal mappings, best first, no worse than any named dataflow (objective ${objective})`, () => {
      const r = map(layer, arch, { objective, budget: 300, stopWithin: 0, top: 4 });
      const cost = new CostModel(layer, arch, { objective, types });
      for (const c of r.top) {
        expect(checkMapping(c.mapping, layer, arch, { types }).ok).toBe(true);
        expect(c.estimate.dram).toEqual(dramTraffic(c.mapping, layer));
        expect(c.estimate.dram.total).toBeGreaterThanOrEqual(r.dramBound);
      }
      const scores = r.top.map((c) => c.estimate.score);
      expect([...scores].sort((x, y) => x - y)).toEqual(scores);
      for (const d of DATAFLOW_NAMES) {
        const m = buildMapping(d, layer, arch, { types });
        expect(r.best.estimate.score).toBeLessThanOrEqual(cost.estimate(m).score);
      }
    });
  }

  it("finds fewer DRAM words than every named dataflow when they are far from the bound", () => {
    const r = map(layer, arch, { budget: 1500, stopWithin: 0 });
    const named = Math.min(...DATAFLOW_NAMES.map((d) => dramTraffic(buildMapping(d, layer, arch, { types }), layer).total));
    expect(r.best.estimate.dram.total).toBeLessThan(named);
  });

  it("stops when the best is within stopWithin of the bound", () => {
    const roomy = resolveArch("eyeriss");
    const r = map(layer, roomy, { budget: 5000 });
    expect(r.stoppedBy).toBe("bound");
    expect(r.evaluations).toBeLessThan(5000);
    expect(r.best.estimate.score).toBeLessThanOrEqual(r.bound * 1.01);
  });

  it("is never worse with twice the GBuf, starting from the best at the smaller capacity", () => {
    for (const bytes of [2048, 4096, 8192]) {
      const small = resolveArch("eyeriss", { gbuf: { capacityBytes: bytes } });
      const large = resolveArch("eyeriss", { gbuf: { capacityBytes: 2 * bytes } });
      const s = map(layer, small, { budget: 200, stopWithin: 0, top: 1 });
      const l = map(layer, large, { budget: 200, stopWithin: 0, top: 1, seeds: [s.best.mapping] });
      expect(l.best.estimate.score).toBeLessThanOrEqual(s.best.estimate.score);
    }
  });

  it("refuses bad options with a ConfigError naming them", () => {
    expect(configError(() => map(layer, arch, { objective: "speed" as Objective })).field).toBe("objective");
    expect(configError(() => map(layer, arch, { top: 0 })).field).toBe("top");
    expect(configError(() => map(layer, arch, { budget: "ten" })).field).toBe("budget");
  });
});
