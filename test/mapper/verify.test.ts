/**
 * The mapper's winners simulated (src/mapper/verify.ts): bit-exact, and the simulated DRAM words
 * equal the closed form's per tensor and direction (verifyMappings throws otherwise), for a
 * search that keeps the GBuf's tensors and one on an architecture where bypassing pays.
 */
import { describe, expect, it } from "vitest";
import { resolveArch } from "../../src/arch/presets.js";
import { map, rankBySimulation, verifyMappings, type VerifiedCandidate } from "../../src/mapper/index.js";
import { bestMapping } from "../../src/mapper/best.js";
import { buildMapping } from "../../src/dataflow/dataflows/index.js";
import { checkMapping } from "../../src/dataflow/legality.js";
import { convLayer } from "../../src/workload/layer.js";

const layer = convLayer({ name: "tiny", inChannels: 8, inHeight: 10, inWidth: 10, outChannels: 16, kernelHeight: 3, kernelWidth: 3, strides: [2, 2] });

describe("verifyMappings", () => {
  for (const [name, arch] of [
    ["chen2020", resolveArch("chen2020", { gbuf: { capacityBytes: 1024 } })],
    ["eyeriss", resolveArch("eyeriss", { gbuf: { capacityBytes: 1024 } })],
  ] as const) {
    it(`simulates the best mappings bit-exactly with the DRAM words the closed form counts (${name}, small GBuf)`, () => {
      const r = map(layer, arch, { budget: 300, stopWithin: 0, top: 3, objective: "energy" });
      const v = verifyMappings(r);
      expect(v).toHaveLength(3);
      for (const c of v) {
        expect(c.simulated.verified).toBe(true);
        expect(c.simulated.dramWords).toBe(c.estimate.dram.total);
        expect(c.cycleRatio).toBeGreaterThan(0);
      }
    });
  }
});

describe("the best dataflow", () => {
  it("builds a legal mapping through the dataflow registry, named best", () => {
    const arch = resolveArch("eyeriss");
    const m = buildMapping("best", layer, arch);
    expect(m.name).toBe("best");
    expect(checkMapping(m, layer, arch).ok).toBe(true);
    expect(bestMapping(layer, arch)).toEqual(m);
  });
});

describe("rankBySimulation", () => {
  const c = (name: string, cycles: number, energy: number) => ({ mapping: { name }, simulated: { dramWords: 10, cycles, energy, verified: true } }) as unknown as VerifiedCandidate;
  const names = (v: VerifiedCandidate[]) => v.map((x) => x.mapping.name);
  const list = [c("a", 30, 1), c("b", 10, 4), c("c", 20, 2), c("d", 10, 3)];

  it("orders by the simulated objective, keeping the estimate's order among equal values", () => {
    expect(names(rankBySimulation(list, "cycles"))).toEqual(["b", "d", "c", "a"]);
    expect(names(rankBySimulation(list, "energy"))).toEqual(["a", "c", "d", "b"]);
    // edp: 30, 40, 40, 30
    expect(names(rankBySimulation(list, "edp"))).toEqual(["a", "d", "b", "c"]);
    expect(names(rankBySimulation(list, "dram"))).toEqual(["a", "b", "c", "d"]);
    expect(names(list)).toEqual(["a", "b", "c", "d"]);
  });
});
