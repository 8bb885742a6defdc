import { describe, expect, it } from "vitest";
import { simulate } from "../../src/dataflow/simulate.js";

/** The output-stationary fold of docs/timing.md ("A systolic fold"): K on rows, Q on columns, C at the gbuf level. */
function fold(c: number) {
  const mapping = {
    name: "os-fold",
    dram: { loops: [] },
    gbuf: { loops: [{ dim: "C", factor: c }], keep: { input: true, weight: true, output: true }, doubleBuffer: false },
    spatial: {
      loops: [
        { dim: "Q", factor: 32, axis: "col" },
        { dim: "K", factor: 32, axis: "row" },
      ],
    },
    rf: { loops: [], keep: { input: true, weight: true, output: true }, doubleBuffer: false },
  };
  const layer = { inChannels: c, inHeight: 1, inWidth: 32, outChannels: 32, kernelHeight: 1, kernelWidth: 1 };
  return simulate({ layer, arch: "systolic", dataflow: mapping });
}

describe("a systolic fold (docs/timing.md)", () => {
  it("costs 34.125 cycles per reduction step against SCALE-Sim's 1, with the per-step breakdown the docs give", () => {
    const a = fold(64);
    const b = fold(128);
    expect(a.verification.ok && b.verification.ok).toBe(true);
    expect([a.cycles, b.cycles]).toEqual([3897, 6081]);
    const scaleSim = (t: number) => 2 * 32 + 32 + t - 2;
    expect([scaleSim(64), scaleSim(128)]).toEqual([158, 222]);
    const perStep = (k: string) => ((b.counters[k]?.value ?? 0) - (a.counters[k]?.value ?? 0)) / 64 / 1024;
    expect((b.cycles - a.cycles) / 64).toBe(34.125);
    expect(perStep("pe.busy")).toBe(1);
    expect(perStep("pe.idle.pipeline")).toBe(1);
    expect(perStep("pe.idle.network")).toBe(2);
    expect(perStep("pe.idle.gbuf")).toBe(25);
    expect(perStep("pe.idle.dram")).toBe(5.125);
    // One step's 32 weights are 32 bank words; its 32 int8 inputs, 4.
    expect((b.counters["gbuf.bankReads.weight"]!.value - a.counters["gbuf.bankReads.weight"]!.value) / 64).toBe(32);
    expect((b.counters["gbuf.bankReads.input"]!.value - a.counters["gbuf.bankReads.input"]!.value) / 64).toBe(4);
  });
});
