/**
 * The two reuse rules of reuse.ts on small cases, against counts derived by hand (the reference
 * outputs they come from are in reference.test.ts: eyeriss_like).
 */
import { describe, expect, it } from "vitest";
import { mapping } from "../../../src/dataflow/mapping.js";
import { simulate } from "../../../src/dataflow/simulate.js";
import { timeloopCounts } from "../../../src/formats/timeloop/counts.js";
import { importTimeloop } from "../../../src/formats/timeloop/import.js";
import { diagonalShareFactor, timeloopGbufInputFills } from "../../../src/formats/timeloop/reuse.js";
import { convLayer } from "../../../src/workload/layer.js";
import { archYaml, mappingYaml, problemYaml } from "./helpers.js";

describe("timeloopGbufInputFills: the halo is kept only along the innermost DRAM loop", () => {
  // A 6 x 6 input, a 3 x 3 kernel, 4 x 4 outputs; DRAM loops over output rows (2 tiles, outer)
  // and output columns (2 tiles, inner): each global-buffer tile is a 4 x 4 input box.
  const r = importTimeloop({
    arch: archYaml({ rows: 1, cols: 1 }),
    problem: problemYaml({ C: 1, K: 1, R: 3, S: 3, N: 1, P: 4, Q: 4 }),
    // Timeloop's P is the width: DRAM's innermost loop (P, first in the permutation) steps columns.
    mapping: mappingYaml([
      ["DRAM", "temporal", "P2 Q2", "PQ"],
      ["RegisterFile", "temporal", "R3 S3 P2 Q2", "RSPQ"],
    ]),
  });

  it("each column step keeps 2 of the box's 4 columns; each row step (an outer loop) brings the whole box", () => {
    // (row 0, col 0): 16; (0, 1): 16 - 4 x 2 = 8; (1, 0): 16 (the stride changed); (1, 1): 8.
    expect(timeloopGbufInputFills(r.layer, r.mapping)).toBe(16 + 8 + 16 + 8);
  });

  it("convsim's global buffer also keeps the 2 x 2 corner across the row step; --counts timeloop reports Timeloop's 48", () => {
    const s = simulate({ layer: r.layer, arch: r.arch, dataflow: r.mapping });
    expect(s.counters["dram.read.input"]!.value).toBe(16 + 8 + (16 - 2 * 2) + 8);
    const c = timeloopCounts(s);
    expect(c.DRAM!.Inputs!.reads).toBe(48);
    expect(c.GlobalBuffer!.Inputs!.fills).toBe(48);
  });
});

describe("diagonalShareFactor: Timeloop reads once per (P, R) start where convsim reads once per input row", () => {
  const layer = (stride: number) => convLayer({ inChannels: 1, inHeight: 3 * stride + 3, inWidth: 6, outChannels: 1, kernelHeight: 3, kernelWidth: 3, strides: [stride, 1] });
  const rs = (stride: number) =>
    mapping(
      {
        spatial: { loops: [{ dim: "R", factor: 3, axis: "row" }, { dim: "P", factor: 4, axis: "col" }] },
        rf: { loops: [{ dim: "S", factor: 3 }, { dim: "Q", factor: 4 }] },
      },
      layer(stride),
    );

  it("stride 1: 12 (P, R) starts read input rows p + r, 6 distinct", () => {
    expect(diagonalShareFactor(layer(1), rs(1))).toBe(12 / 6);
  });

  it("stride 2: rows 2p + r, 9 distinct", () => {
    expect(diagonalShareFactor(layer(2), rs(2))).toBe(12 / 9);
  });

  it("1 when a PE's tile has two output rows (convsim then keys P and R apart, as Timeloop)", () => {
    const m = mapping({ spatial: { loops: [{ dim: "R", factor: 3, axis: "row" }, { dim: "P", factor: 2, axis: "col" }] }, rf: { loops: [{ dim: "P", factor: 2 }, { dim: "S", factor: 3 }, { dim: "Q", factor: 4 }] } }, layer(1));
    expect(diagonalShareFactor(layer(1), m)).toBe(1);
  });
});
