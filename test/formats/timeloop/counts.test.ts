/**
 * timeloopCounts: on small Timeloop-style mappings, convsim's counts converted to Timeloop's
 * conventions equal the counts derived by hand in Timeloop's model (each closed form below is
 * written from the problem's sizes and the mapping's factors, with its reasoning).
 */
import { describe, expect, it } from "vitest";
import { simulate } from "../../../src/dataflow/simulate.js";
import { timeloopCounts, type TimeloopCounts } from "../../../src/formats/timeloop/counts.js";
import { importTimeloop, type TimeloopSpecs } from "../../../src/formats/timeloop/import.js";
import { resolveArch } from "../../../src/arch/presets.js";
import { buildMapping } from "../../../src/dataflow/dataflows/index.js";
import { convLayer } from "../../../src/workload/layer.js";
import { configError } from "../../helpers/errors.js";
import { archYaml, fixture, mappingYaml, problemYaml } from "./helpers.js";

function counts(specs: TimeloopSpecs): TimeloopCounts {
  const r = importTimeloop(specs);
  const s = simulate({ layer: r.layer, arch: r.arch, dataflow: r.mapping });
  expect(s.verification.ok).toBe(true);
  return timeloopCounts(s);
}

const a = (reads: number, fills: number, updates: number) => ({ reads, fills, updates });

describe("Timeloop conventions against hand-derived Timeloop counts", () => {
  it("v03-small: output channels split at DRAM, a sliding window at the global buffer, C reduced across PE rows", () => {
    const [C, K, R, S, P, Q] = [4, 8, 3, 3, 6, 6];
    const O = K * P * Q; // outputs
    const W = C * K * R * S; // weights
    const I = C * (P + R - 1) * (Q + S - 1); // the unpadded input, 8 x 8 per channel
    const macs = O * C * R * S;
    const c = counts(fixture("v03-small"));
    // DRAM: every weight once (a K half's tile per iteration); inputs once (K, the only DRAM loop,
    // does not index them); every output written once, never read back.
    expect(c.DRAM).toEqual({ Weights: a(W, 0, 0), Inputs: a(I, 0, 0), Outputs: a(0, 0, O) });
    // Global buffer: filled with what DRAM reads. Inputs read out per K half, per PE row (channel),
    // as a 3 x 8 window that slides one row per Q step: 24 words, then 8 per step (a multicast to
    // the 4 PE columns is one read). Outputs: one update per output (the 4 rows' partial sums are
    // summed on the way), none read (first-read elision).
    const inW = P + R - 1;
    expect(c.GlobalBuffer).toEqual({ Weights: a(W, W, 0), Inputs: a(2 * C * (S * inW + (Q - 1) * inW), I, 0), Outputs: a(0, 0, O) });
    expect(c.GlobalBuffer!.Inputs!.reads).toBe(512);
    // Register files: each of the 16 PEs gets its 9 weights per K half and 64 input words per K half;
    // one psum update per MAC, each of the O x C (PE, output) pairs' first update reads nothing.
    expect(c.RegisterFile).toEqual({ Weights: a(macs, 2 * 16 * R * S, 0), Inputs: a(macs, 2 * 16 * 64, 0), Outputs: a(macs - O * C, 0, macs) });
  });

  it("spilled partial sums: C split at DRAM outside K, so each output leaves the chip once and comes back", () => {
    const [C, K, P, Q] = [8, 4, 4, 4];
    const O = K * P * Q;
    const macs = O * C;
    const c = counts({
      arch: archYaml({ rows: 1, cols: 2, gbufDepth: 256, rfDepth: 128 }),
      problem: problemYaml({ C, K, R: 1, S: 1, N: 1, P, Q }),
      mapping: mappingYaml([
        ["DRAM", "temporal", "K2 C2", "KC"],
        ["GlobalBuffer", "spatial", "K2", "K", 1],
        ["RegisterFile", "temporal", "C4 P4 Q4", "CPQ"],
      ]),
    });
    const Cd = 2; // the DRAM level's C factor: each output's partial sum visits the chip twice
    expect(c.DRAM).toEqual({ Weights: a(K * C, 0, 0), Inputs: a(C * P * Q, 0, 0), Outputs: a((Cd - 1) * O, 0, Cd * O) });
    // The global buffer is filled back with the spilled partial sums, updated by every drain,
    // and reads all but the first update of each output.
    expect(c.GlobalBuffer!.Outputs).toEqual(a((Cd - 1) * O, (Cd - 1) * O, Cd * O));
    // Inputs: a C half's 64 words, read once for both PEs (multicast), kept while K changes.
    expect(c.GlobalBuffer!.Inputs).toEqual(a(C * P * Q, C * P * Q, 0));
    // Register files: the spilled partial sums are filled back into them too.
    expect(c.RegisterFile!.Outputs).toEqual(a(macs - O, (Cd - 1) * O, macs));
    expect(c.RegisterFile!.Inputs).toEqual(a(macs, 2 * C * P * Q, 0));
  });

  it("bounding boxes: a stride-2 1x1 convolution reads every other row and column, Timeloop's tiles span them all", () => {
    const c = counts({
      arch: archYaml({ rows: 1, cols: 2 }),
      problem: problemYaml({ C: 1, K: 2, R: 1, S: 1, N: 1, P: 3, Q: 3, Wstride: 2, Hstride: 2 }),
      mapping: mappingYaml([
        ["GlobalBuffer", "temporal", "Q3", "Q"],
        ["GlobalBuffer", "spatial", "K2", "K", 1],
        ["RegisterFile", "temporal", "P3", "P"],
      ]),
    });
    // The input is 5 x 5; convsim reads its 9 touched words, Timeloop the whole box.
    expect(c.DRAM!.Inputs).toEqual(a(25, 0, 0));
    // Three output rows, each a 1 x 5 box (rows 0, 2, 4 do not overlap), one multicast read each,
    // delivered to both PEs.
    expect(c.GlobalBuffer!.Inputs).toEqual(a(15, 25, 0));
    expect(c.RegisterFile!.Inputs).toEqual(a(18, 30, 0));
    expect(c.DRAM!.Outputs).toEqual(a(0, 0, 18));
  });
});

describe("timeloopCounts: names and refusals", () => {
  it("keys the levels by the architecture's level names, the defaults without them", () => {
    const layer = { inChannels: 4, inHeight: 6, inWidth: 6, outChannels: 4, kernelHeight: 3, kernelWidth: 3 };
    const s = simulate({ layer, arch: "eyeriss", dataflow: "rs" });
    expect(Object.keys(timeloopCounts(s))).toEqual(["DRAM", "GlobalBuffer", "RegisterFile"]);
    const v04 = importTimeloop(fixture("v04-eyeriss"));
    expect(Object.keys(timeloopCounts(simulate({ layer: v04.layer, arch: v04.arch, dataflow: v04.mapping })))).toEqual(["DRAM", "shared_glb", "weights_spad", "ifmap_spad", "psum_spad"]);
  });

  it("refuses operands streamed through a systolic array", () => {
    const layer = convLayer({ inChannels: 4, inHeight: 4, inWidth: 4, outChannels: 4, kernelHeight: 1, kernelWidth: 1 });
    const arch = resolveArch("systolic");
    const s = simulate({ layer, arch, dataflow: buildMapping("os", layer, arch) });
    expect(configError(() => timeloopCounts(s)).message).toContain("--counts timeloop must be used without streamed operands");
  });
});
