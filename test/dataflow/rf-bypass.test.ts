/**
 * RF bypass (mapping.rf.keep.input / .weight false): the operand goes from the network straight
 * to the MAC (legality rule 4c; simulate.ts stages its words in a partition whose accesses are
 * not register accesses, RegFileLayout.staged). Closed forms, as a second oracle:
 * - no `rf.*.<operand>` access at all;
 * - `noc.deliver.weight` = MACs (every MAC takes its weight from the network);
 * - `noc.deliver.input` = the MACs whose input is a real element (padding is generated at the PE),
 *   counted here by brute force over the iteration space;
 * - outputs bit-exact, in the fast, checked and reference engines, which agree on every count.
 */
import { describe, expect, it } from "vitest";
import { resolveArch } from "../../src/arch/presets.js";
import { buildMapping } from "../../src/dataflow/dataflows/index.js";
import { checkMapping } from "../../src/dataflow/legality.js";
import type { Mapping } from "../../src/dataflow/mapping.js";
import { simulate } from "../../src/dataflow/simulate.js";
import { convLayer, type ConvLayer } from "../../src/workload/layer.js";

const layer = convLayer({ inChannels: 4, inHeight: 7, inWidth: 6, outChannels: 8, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1], strides: [2, 1] });
const eyeriss = resolveArch("eyeriss");

function bypass(m: Mapping, t: "input" | "weight"): Mapping {
  return { ...m, rf: { ...m.rf, keep: { ...m.rf.keep, [t]: false } } };
}

/** MACs whose input element is real (not padding), by brute force. */
function realInputMacs(l: ConvLayer): number {
  const [sh, sw] = l.strides;
  const outH = Math.floor((l.inHeight + l.pads[0] + l.pads[2] - l.kernelHeight) / sh) + 1;
  const outW = Math.floor((l.inWidth + l.pads[1] + l.pads[3] - l.kernelWidth) / sw) + 1;
  let n = 0;
  for (let p = 0; p < outH; p++)
    for (let q = 0; q < outW; q++)
      for (let r = 0; r < l.kernelHeight; r++)
        for (let s = 0; s < l.kernelWidth; s++) {
          const y = p * sh - l.pads[0] + r;
          const x = q * sw - l.pads[1] + s;
          if (y >= 0 && y < l.inHeight && x >= 0 && x < l.inWidth) n++;
        }
  return n * l.inChannels * l.outChannels * l.batch;
}

describe("RF bypass in simulate", () => {
  it("weights from the network straight to the MAC: no RF access, one delivery per MAC, bit-exact in every engine", () => {
    const m = bypass(buildMapping("os", layer, eyeriss), "weight");
    expect(checkMapping(m, layer, eyeriss)).toEqual({ ok: true });
    const fast = simulate({ layer, arch: eyeriss, dataflow: m, zeroPoints: { input: 2, weight: -3 } });
    const checked = simulate({ layer, arch: eyeriss, dataflow: m, zeroPoints: { input: 2, weight: -3 }, checked: true });
    const reference = simulate({ layer, arch: eyeriss, dataflow: m, zeroPoints: { input: 2, weight: -3 }, mode: "reference" });
    for (const r of [fast, checked, reference]) expect(r.verification.ok).toBe(true);
    const c = (k: string) => fast.counters[k]!.value;
    expect([c("rf.read.weight"), c("rf.write.weight"), c("rf.fill.weight")]).toEqual([0, 0, 0]);
    expect(c("noc.deliver.weight")).toBe(c("pe.mac"));
    expect(c("rf.read.input")).toBe(c("pe.mac"));
    expect(checked.counters).toEqual(fast.counters);
    expect([checked.cycles, reference.cycles]).toEqual([fast.cycles, fast.cycles]);
    expect(reference.counters).toEqual(fast.counters);
  });

  it("inputs from the network straight to the MAC: deliveries = MACs on real inputs (padding generated at the PE)", () => {
    const m = bypass(buildMapping("os", layer, eyeriss), "input");
    const r = simulate({ layer, arch: eyeriss, dataflow: m, checked: true });
    expect(r.verification.ok).toBe(true);
    const c = (k: string) => r.counters[k]!.value;
    expect([c("rf.read.input"), c("rf.write.input"), c("rf.fill.input"), c("rf.slide.input")]).toEqual([0, 0, 0, 0]);
    expect(c("noc.deliver.input")).toBe(realInputMacs(layer));
    expect(c("pe.mac")).toBe(8 * 4 * 4 * 6 * 9);
  });

  it("refuses what it cannot model, naming the rule: a reused bypassed word, an output bypass", () => {
    const rs = bypass(buildMapping("rs", layer, eyeriss), "input");
    expect(checkMapping(rs, layer, eyeriss)).toMatchObject({ ok: false, level: "rf", reason: expect.stringContaining("must index the bypassed input (a word that bypasses the RF reaches the MAC once") });
    const os = buildMapping("os", layer, eyeriss);
    const out = { ...os, rf: { ...os.rf, keep: { ...os.rf.keep, output: false } } };
    expect(checkMapping(out, layer, eyeriss)).toMatchObject({ ok: false, field: "mapping.rf.keep.output" });
    expect(() => simulate({ layer, arch: eyeriss, dataflow: out })).toThrow("mapping.rf.keep.output must be true: a PE accumulates its partial sums in its register file");
  });
});
