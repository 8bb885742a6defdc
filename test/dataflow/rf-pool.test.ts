/**
 * A register file that is one pool (arch.rf.sharedEntries): the simulator carves it into the
 * partitions the mapping needs (simulate.ts, legality.ts `rfLayout`).
 *
 * - the same mapping on a partitioned RF and on a pool of the same total: identical outputs,
 *   counters, cycles and stalls, on every preset (streamed systolic tensors included), in the
 *   fast and the checked engine;
 * - a mapping whose weight tile is too big for its partition but whose tiles fit the pool
 *   together: refused on the partitions, accepted on the pool, and bit-exact there.
 */
import { describe, expect, it } from "vitest";
import { resolveArch } from "../../src/arch/presets.js";
import { rfEntriesPerPe, type ArchSpec } from "../../src/arch/spec.js";
import { ConfigError } from "../../src/core/errors.js";
import { rfLayout } from "../../src/dataflow/legality.js";
import { mapping, type Mapping } from "../../src/dataflow/mapping.js";
import { simulate, type SimulationResult } from "../../src/dataflow/simulate.js";
import { convLayer, type ConvLayer } from "../../src/workload/layer.js";

const layer = convLayer({ inChannels: 4, inHeight: 6, inWidth: 6, outChannels: 8, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] });

/** The architecture with its partitions replaced by one pool of the same total. */
const pooled = (arch: ArchSpec): ArchSpec => resolveArch(arch, { name: `${arch.name}-pooled`, rf: { sharedEntries: rfEntriesPerPe(arch.rf) } });

/** Everything a run reports that the model determines (not wall times, not the arch). */
function modelOf(r: SimulationResult) {
  return { output: r.output, verification: r.verification.ok, cycles: r.cycles, stalls: r.stalls, counters: r.counters, traffic: r.traffic, boundaries: r.boundaries };
}

function run(l: ConvLayer, arch: ArchSpec, m: Mapping | string, checked: boolean): SimulationResult {
  return simulate({ layer: l, arch, dataflow: m, types: { input: "int8", weight: "int8" }, zeroPoints: { input: 3, weight: -2 }, checked });
}

describe("a shared register-file pool", () => {
  const cases = [
    ["eyeriss", "rs"],
    ["eyeriss", "os"],
    ["chen2020", "chen2020"],
    ["systolic", "ws"],
    ["systolic", "os"],
  ] as const;
  for (const [preset, df] of cases) {
    it(`runs ${preset}'s ${df} mapping exactly as its partitions do (same total)`, () => {
      const arch = resolveArch(preset);
      for (const checked of [false, true]) {
        const a = run(layer, arch, df, checked);
        const b = run(layer, pooled(arch), a.mapping, checked);
        expect(a.verification.ok).toBe(true);
        expect(modelOf(b)).toEqual(modelOf(a));
      }
    });
  }

  // C at dram; K 2 x P 6 in the GBuf; Q 6 across PE rows; per PE K 4 x R 3 x S 3:
  // rf tiles input 3 x 3 = 9, weight 4 x 9 = 36, psum 4: 49 entries.
  const bigWeights = mapping({
    dram: { loops: [{ dim: "C", factor: 4 }] },
    gbuf: { loops: [{ dim: "K", factor: 2 }, { dim: "P", factor: 6 }] },
    spatial: { loops: [{ dim: "Q", factor: 6, axis: "row" }] },
    rf: { loops: [{ dim: "K", factor: 4 }, { dim: "R", factor: 3 }, { dim: "S", factor: 3 }] },
  });

  it("accepts a mapping that fits only pooled, runs it bit-exactly, and counts as roomy partitions would", () => {
    const partitions = resolveArch("eyeriss", { rf: { inputEntries: 12, weightEntries: 24, psumEntries: 24 } });
    expect(() => run(layer, partitions, bigWeights, false)).toThrow(ConfigError);
    expect(() => run(layer, partitions, bigWeights, false)).toThrow(/^mapping\.rf\.keep\.weight must fit the RF's weight partition, arch\.rf\.weightEntries = 24 entries/);
    expect(rfLayout(pooled(partitions).rf, bigWeights, layer)).toEqual({ inputEntries: 9, weightEntries: 36, psumEntries: 4, readPorts: 3, writePorts: 3 });
    const roomy = resolveArch("eyeriss", { rf: { inputEntries: 12, weightEntries: 36, psumEntries: 24 } });
    for (const checked of [false, true]) {
      const p = run(layer, pooled(partitions), bigWeights, checked);
      expect(p.verification.ok).toBe(true);
      expect(p.macs).toBe(8 * 6 * 6 * 4 * 9);
      const r = run(layer, roomy, bigWeights, checked);
      expect({ ...modelOf(p), boundaries: undefined }).toEqual({ ...modelOf(r), boundaries: undefined });
    }
  });

  it("refuses a pool smaller than the tiles, naming the field, the tiles and the pool", () => {
    const small = resolveArch("eyeriss", { rf: { sharedEntries: 48 } });
    expect(() => run(layer, small, bigWeights, false)).toThrow(
      "arch.rf.sharedEntries must hold the mapping's rf tiles: input 9 + weight 36 + psum 4 = 49 entries; shrink the rf tile (move factors out of the rf level); got 48",
    );
    expect(run(layer, resolveArch("eyeriss", { rf: { sharedEntries: 49 } }), bigWeights, false).verification.ok).toBe(true);
  });

  it("builds named dataflows for a pooled preset (legal, bit-exact)", () => {
    for (const df of ["chen2020", "ws", "os", "is", "rs"]) {
      const r = run(layer, pooled(resolveArch("eyeriss")), df, true);
      expect(r.verification.ok, df).toBe(true);
    }
  });
});
