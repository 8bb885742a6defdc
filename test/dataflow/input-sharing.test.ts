/**
 * PEs that read the same input rows share one input tile (sequencer/iteration.ts,
 * inputKeyWeights): when every PE's tile has one output row and one kernel row, PEs on a diagonal
 * of (kernel row, output row) that read input row p * stride + r * dilation get one GBuf read and
 * one bus word per source word (row-stationary's diagonal multicast; docs/counting.md).
 */
import { describe, expect, it } from "vitest";
import { simulate } from "../../src/dataflow/simulate.js";
import { convLayer } from "../../src/workload/layer.js";

const mapping = () => ({
  dram: { loops: [] },
  gbuf: { loops: [], keep: { input: true, weight: true, output: true }, doubleBuffer: false },
  spatial: { loops: [{ dim: "R", factor: 3, axis: "row" }, { dim: "P", factor: 4, axis: "col" }] },
  rf: { loops: [{ dim: "Q", factor: 4 }, { dim: "S", factor: 3 }], keep: { input: true, weight: true, output: true }, doubleBuffer: false },
});

describe("diagonal input sharing", () => {
  it("one GBuf read per distinct input row: 3 kernel rows x 4 output rows read 6 rows, not 12", () => {
    const layer = convLayer({ inChannels: 1, inHeight: 6, inWidth: 6, outChannels: 1, kernelHeight: 3, kernelWidth: 3 });
    for (const checked of [false, true]) {
      const r = simulate({ layer, arch: "eyeriss", dataflow: mapping(), checked });
      expect(r.verification.ok).toBe(true);
      const c = (k: string) => r.counters[k]!.value;
      // Input rows p + r for p in 0..3, r in 0..2: rows 0..5, each 6 words wide.
      expect(c("gbuf.read.input")).toBe(6 * 6);
      expect(c("noc.send.input")).toBe(6 * 6);
      // Every PE still receives its own row.
      expect(c("noc.deliver.input")).toBe(12 * 6);
    }
  });

  it("with stride 2 the diagonals read rows 2p + r: 4 output rows x 3 kernel rows read 9 distinct rows", () => {
    const layer = convLayer({ inChannels: 1, inHeight: 9, inWidth: 9, outChannels: 1, kernelHeight: 3, kernelWidth: 3, strides: [2, 2] });
    const r = simulate({ layer, arch: "eyeriss", dataflow: mapping(), checked: true });
    expect(r.verification.ok).toBe(true);
    // Rows {2p + r} = 0..8; each PE's window: 4 output columns at stride 2 with 3 kernel columns = all 9 columns.
    expect(r.counters["gbuf.read.input"]!.value).toBe(9 * 9);
    expect(r.counters["noc.deliver.input"]!.value).toBe(12 * 9);
  });
});
