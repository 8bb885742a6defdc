import { describe, expect, it } from "vitest";
import { PRESET_NAMES, presets } from "../../src/arch/presets.js";
import { buildMapping, DATAFLOW_NAMES } from "../../src/dataflow/dataflows/index.js";
import { spreadGroups } from "../../src/dataflow/dataflows/groups.js";
import { checkMapping } from "../../src/dataflow/legality.js";
import { mapping, type Mapping } from "../../src/dataflow/mapping.js";
import { simulate } from "../../src/dataflow/simulate.js";
import { dramTraffic, gbufArrayAccesses } from "../../src/dataflow/traffic.js";
import { network } from "../../src/workload/networks.js";
import { convLayer, type ConvLayer } from "../../src/workload/layer.js";

/** MobileNetV2's block15_dw with fewer groups (960 -> 48): 7 x 7 outputs per group. */
const dw = convLayer({ inChannels: 48, inHeight: 7, inWidth: 7, outChannels: 48, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1], groups: 48 });

/** `m` with its spatial G loop folded back into the dram loop over the groups (what the builders made before groups.ts). */
function unspread(m: Mapping, l: ConvLayer): Mapping {
  const spatial = m.spatial.loops.filter((x) => x.dim !== "G");
  const dram = [{ dim: "G" as const, factor: l.groups }, ...m.dram.loops.filter((x) => x.dim !== "G")];
  return mapping({ ...m, dram: { loops: dram }, spatial: { loops: spatial } }, l);
}

const spatialG = (m: Mapping) => m.spatial.loops.find((x) => x.dim === "G");

describe("groups side by side (dataflows/groups.ts)", () => {
  it("chen2020 puts a depthwise layer's groups on the idle rows: the same DRAM words and GBuf accesses, bit-exact, fewer cycles", () => {
    const m = buildMapping("chen2020", dw, presets.chen2020);
    const g = spatialG(m);
    expect(g?.axis).toBe("row");
    // 48 groups over 12 rows: 4 dram steps of 12
    expect(g?.factor).toBe(12);
    expect(m.dram.loops.find((x) => x.dim === "G")?.factor).toBe(4);
    const before = unspread(m, dw);
    expect(checkMapping(before, dw, presets.chen2020).ok).toBe(true);
    expect(dramTraffic(m, dw)).toEqual(dramTraffic(before, dw));
    expect(gbufArrayAccesses(m, dw)).toEqual(gbufArrayAccesses(before, dw));
    const a = simulate({ layer: dw, arch: "chen2020", dataflow: m });
    const b = simulate({ layer: dw, arch: "chen2020", dataflow: before });
    expect(a.verification.ok && b.verification.ok).toBe(true);
    expect(a.counters["dram.read.input"]!.value).toBe(b.counters["dram.read.input"]!.value);
    expect(a.counters["dram.read.weight"]!.value).toBe(b.counters["dram.read.weight"]!.value);
    expect(a.cycles).toBeLessThan(0.8 * b.cycles);
  });

  it("balances the groups over the dram steps (32 groups in 12 rows: 11 + 11 + 10), and stops at what the GBuf holds", () => {
    const l = convLayer({ inChannels: 32, inHeight: 7, inWidth: 7, outChannels: 32, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1], groups: 32 });
    const m = buildMapping("chen2020", l, presets.chen2020);
    expect(spatialG(m)?.factor).toBe(11);
    expect(m.dram.loops.find((x) => x.dim === "G")?.factor).toBe(3);
    // a GBuf that holds one group's slices only (double-buffered, regions aligned to bank
    // words: 250 bytes here) keeps the groups at the dram level; one that holds three, three
    const base = unspread(m, l);
    const gbuf = (capacityBytes: number) => ({ ...presets.chen2020, gbuf: { ...presets.chen2020.gbuf, capacityBytes } });
    expect(checkMapping(base, l, gbuf(250)).ok).toBe(true);
    expect(checkMapping(base, l, gbuf(249)).ok).toBe(false);
    expect(spreadGroups(base, l, gbuf(250), {})).toBe(base);
    const three = spreadGroups(base, l, gbuf(3 * 250), {});
    expect(spatialG(three)?.factor).toBe(3);
    expect(checkMapping(three, l, gbuf(3 * 250)).ok).toBe(true);
    expect(spatialG(spreadGroups(base, l, presets.chen2020, {}))?.factor).toBe(11);
  });

  it("every named dataflow on every preset: legal and bit-exact on a depthwise layer; streamed operands keep one group per line", () => {
    const l = convLayer({ inChannels: 16, inHeight: 8, inWidth: 8, outChannels: 16, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1], groups: 16 });
    for (const a of PRESET_NAMES) {
      for (const d of DATAFLOW_NAMES) {
        let m: Mapping;
        try {
          m = buildMapping(d, l, presets[a]);
        } catch {
          continue; // (a dataflow that cannot map the layer on the preset)
        }
        const streamed = Boolean(m.rf.stream && (m.rf.stream.input || m.rf.stream.weight || m.rf.stream.output));
        if (streamed) expect(spatialG(m), `${d} on ${a}`).toBeUndefined();
        expect(checkMapping(m, l, presets[a]).ok, `${d} on ${a}`).toBe(true);
        expect(simulate({ layer: l, arch: a, dataflow: m }).verification.ok, `${d} on ${a}`).toBe(true);
      }
    }
  });

  it("AlexNet's two-tower layers fill the array already: no dataflow on any preset puts their groups side by side", () => {
    for (const l of network("alexnet").layers.filter((x) => x.groups > 1)) {
      for (const a of PRESET_NAMES) for (const d of DATAFLOW_NAMES) expect(spatialG(buildMapping(d, l, presets[a])), `${l.name} ${d} on ${a}`).toBeUndefined();
    }
  });
});
