/** The mapper's genomes (src/mapper/genome.ts): a named dataflow's mapping survives the round trip, and normalize keeps any genome well formed. */
import { describe, expect, it } from "vitest";
import { resolveArch } from "../../src/arch/presets.js";
import { buildMapping, DATAFLOW_NAMES } from "../../src/dataflow/dataflows/index.js";
import { checkCoverage, dimSizes, parseMapping } from "../../src/dataflow/mapping.js";
import { genomeOf, mappingKey, normalize, toMapping } from "../../src/mapper/genome.js";
import { mutate, randomGenome, Rng, usefulFactors } from "../../src/mapper/moves.js";
import { convLayer } from "../../src/workload/layer.js";

const layer = convLayer({ inChannels: 16, inHeight: 13, inWidth: 13, outChannels: 24, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] });

describe("genomes", () => {
  it("map a named dataflow's mapping back to the same loops and flags", () => {
    for (const arch of [resolveArch("eyeriss"), resolveArch("chen2020"), resolveArch("systolic")]) {
      for (const d of DATAFLOW_NAMES) {
        let m;
        try {
          m = buildMapping(d, layer, arch, { fold: false });
        } catch {
          continue;
        }
        const back = toMapping(normalize(genomeOf(m), dimSizes(layer), arch), layer);
        expect(mappingKey(back)).toBe(mappingKey(m));
      }
    }
  });

  it("stay well formed (coverage, array shape) through random draws and mutations", () => {
    const arch = resolveArch("eyeriss");
    const sizes = dimSizes(layer);
    const rng = new Rng("t");
    for (let i = 0; i < 200; i++) {
      let g = randomGenome(rng, sizes, arch);
      for (let j = 0; j < 5; j++) g = mutate(g, rng, sizes, arch);
      const m = parseMapping(toMapping(g, layer));
      expect(checkCoverage(m, layer)).toBeUndefined();
      const rows = m.spatial.loops.filter((l) => l.axis === "row").reduce((p, l) => p * l.factor, 1);
      const cols = m.spatial.loops.filter((l) => l.axis === "col").reduce((p, l) => p * l.factor, 1);
      expect(rows).toBeLessThanOrEqual(arch.array.rows);
      expect(cols).toBeLessThanOrEqual(arch.array.cols);
    }
  });

  it("draw useful factors: every tile count once", () => {
    expect(usefulFactors(13)).toEqual([1, 2, 3, 4, 5, 7, 13]);
    expect(usefulFactors(1)).toEqual([1]);
  });
});
