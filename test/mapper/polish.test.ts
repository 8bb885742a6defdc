/**
 * The mapper's polish move (src/mapper/polish.ts): a candidate's GBuf level re-sized by the named
 * dataflows' GbufSearch at the candidate's spatial and rf factors. From a candidate with every
 * gbuf factor 1 (a point of the polish's own space), the result is legal, keeps the inner levels,
 * and scores no worse on the search's score (DRAM words + GBuf accesses / 256); a candidate that
 * bypasses a tensor also gets the same factors with its own keep flags.
 */
import { describe, expect, it } from "vitest";
import { resolveArch } from "../../src/arch/presets.js";
import { buildMapping } from "../../src/dataflow/dataflows/index.js";
import { DRAM_WORD_WEIGHT } from "../../src/dataflow/dataflows/search.js";
import { checkMapping } from "../../src/dataflow/legality.js";
import { ONES, genomeOf, normalize, toMapping, type Genome } from "../../src/mapper/genome.js";
import { polish } from "../../src/mapper/polish.js";
import { dimSizes, type Mapping } from "../../src/dataflow/mapping.js";
import { dramTraffic, gbufArrayAccesses } from "../../src/dataflow/traffic.js";
import { convLayer } from "../../src/workload/layer.js";

const layer = convLayer({ name: "mid", inChannels: 32, inHeight: 28, inWidth: 28, outChannels: 64, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] });
const types = { input: "int8", weight: "int8" } as const;
const score = (m: Mapping) => dramTraffic(m, layer).total + gbufArrayAccesses(m, layer).total / DRAM_WORD_WEIGHT;

describe("polish", () => {
  for (const [preset, dataflow, bytes] of [
    ["eyeriss", "rs", 16384],
    ["eyeriss", "ws", 8192],
    ["chen2020", "os", 4096],
  ] as const) {
    it(`re-sizes the GBuf level of ${dataflow} on ${preset}, ${bytes} B GBuf (gbuf factors 1), to a legal mapping that scores no worse`, () => {
      const arch = resolveArch(preset, { gbuf: { capacityBytes: bytes } });
      const named = genomeOf(buildMapping(dataflow, layer, arch, { types }));
      const flat: Genome = normalize({ ...named, gbuf: ONES, gbufKeep: { input: true, weight: true, output: true } }, dimSizes(layer), arch);
      const start = toMapping(flat, layer);
      expect(checkMapping(start, layer, arch, { types }).ok).toBe(true);
      const [m, ...rest] = polish(flat, layer, arch, types);
      expect(rest).toHaveLength(0);
      expect(checkMapping(m!, layer, arch, { types }).ok).toBe(true);
      expect(m!.rf.loops).toEqual(start.rf.loops);
      expect(m!.spatial.loops).toEqual(start.spatial.loops);
      expect(score(m!)).toBeLessThanOrEqual(score(start));
      expect(dramTraffic(m!, layer).total).toBeLessThan(dramTraffic(start, layer).total);
    });
  }

  it("gives a candidate that bypasses outputs (chen2020's one-level form) a second mapping with its keep flags", () => {
    const arch = resolveArch("chen2020", { gbuf: { capacityBytes: 4096 } });
    const g = normalize({ ...genomeOf(buildMapping("chen2020", layer, arch, { types })), gbuf: ONES }, dimSizes(layer), arch);
    expect(g.gbufKeep).toEqual({ input: true, weight: true, output: false });
    const start = toMapping(g, layer);
    const out = polish(g, layer, arch, types);
    expect(out).toHaveLength(2);
    expect(out[0]!.gbuf.keep).toEqual({ input: true, weight: true, output: true });
    expect(out[1]!.gbuf.keep).toEqual(g.gbufKeep);
    expect(out[1]!.gbuf.loops).toEqual(out[0]!.gbuf.loops);
    // The output tile does not fit the GBuf: only the bypassing form is legal, here with fewer DRAM words.
    expect(checkMapping(out[0]!, layer, arch, { types }).ok).toBe(false);
    expect(checkMapping(out[1]!, layer, arch, { types }).ok).toBe(true);
    expect(dramTraffic(out[1]!, layer).total).toBeLessThan(dramTraffic(start, layer).total);
  });
});
