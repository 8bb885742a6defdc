/**
 * The ideal memory models (dram.model = gbuf.model = "ideal", `--memory ideal`) against the real
 * ones, end to end: the same outputs (bit-exact), the same counts of every action, never more
 * cycles; the systolic fold of docs/timing.md with ideal memory, beside SCALE-Sim's model; and a
 * DRAM channel whose bursts are smaller than its bus (dram.burstsPerCycle).
 */
import { describe, expect, it } from "vitest";
import type { ArchOverrides } from "../../src/arch/presets.js";
import { simulate, type SimulationResult } from "../../src/dataflow/simulate.js";
import { parseLayerShortForm } from "../../src/workload/layer.js";
import { foldLayer, foldMapping } from "../helpers/fold.js";

const IDEAL: ArchOverrides = { dram: { model: "ideal" }, gbuf: { model: "ideal" } };

/** Every counter that counts actions (words, bytes, bursts, accesses, MACs, ...), not cycles. */
function actions(r: SimulationResult): Record<string, number> {
  return Object.fromEntries(Object.entries(r.counters).filter(([, c]) => c.unit !== "cycles" && c.unit !== "PE-cycles").map(([k, c]) => [k, c.value]));
}

const CASES: readonly (readonly [arch: string, dataflow: string, layer: string])[] = [
  ["chen2020", "chen2020", "c=8,hw=9,k=24,r=3,pad=1"],
  ["chen2020", "is", "c=8,hw=9,k=16,r=3,pad=1"],
  ["eyeriss", "rs", "c=8,hw=9,k=16,r=3,pad=1"],
  ["eyeriss", "os", "c=8,hw=9,k=16,r=3,pad=1"],
  ["eyeriss", "ws", "c=4,hw=9,k=16,r=3,stride=2"],
  ["systolic", "os", "c=64,hw=8,k=32,r=1"],
  ["systolic", "ws", "c=16,hw=8,k=32,r=3,pad=1"],
];

describe("ideal memory against the real models", () => {
  for (const [arch, dataflow, l] of CASES) {
    it(`${dataflow} on ${arch}, ${l}: bit-exact, the same action counts, no more cycles`, () => {
      const layer = parseLayerShortForm(l);
      const real = simulate({ layer, arch, dataflow });
      const ideal = simulate({ layer, arch, dataflow, archOverrides: IDEAL });
      // Checked mode: every word read holds what the reader expects, however early it arrives.
      const checked = simulate({ layer, arch, dataflow, archOverrides: IDEAL, checked: true });
      for (const r of [real, ideal, checked]) expect(r.verification.ok).toBe(true);
      expect(Array.from(ideal.output)).toEqual(Array.from(real.output));
      expect(actions(ideal)).toEqual(actions(real));
      expect(actions(checked)).toEqual(actions(real));
      expect(checked.cycles).toBe(ideal.cycles);
      expect(ideal.cycles).toBeLessThanOrEqual(real.cycles);
      expect(ideal.arch.dram.model).toBe("ideal");
      expect(ideal.arch.gbuf.model).toBe("ideal");
      for (const k of ["read", "write"]) expect(ideal.counters[`gbuf.${k}ConflictCycles.input`]!.value).toBe(0);
    });
  }

  it("each model is chosen on its own: an ideal DRAM or an ideal GBuf alone lands in between", () => {
    const layer = parseLayerShortForm("c=8,hw=9,k=16,r=3,pad=1");
    const run = (archOverrides?: ArchOverrides) => simulate({ layer, arch: "eyeriss", dataflow: "os", ...(archOverrides ? { archOverrides } : {}) });
    const real = run();
    const both = run(IDEAL);
    for (const one of [run({ dram: { model: "ideal" } }), run({ gbuf: { model: "ideal" } })]) {
      expect(actions(one)).toEqual(actions(real));
      expect(one.cycles).toBeLessThanOrEqual(real.cycles);
      expect(one.cycles).toBeGreaterThanOrEqual(both.cycles);
    }
  });

  it("fast and reference engine modes agree with ideal memory", () => {
    const layer = parseLayerShortForm("c=3,hw=6,k=8,r=3,pad=1");
    const fast = simulate({ layer, arch: "chen2020", archOverrides: IDEAL });
    const reference = simulate({ layer, arch: "chen2020", archOverrides: IDEAL, mode: "reference" });
    expect(reference.cycles).toBe(fast.cycles);
    expect(reference.counters).toEqual(fast.counters);
    expect(Array.from(reference.output)).toEqual(Array.from(fast.output));
  });
});

/** The output-stationary fold of docs/timing.md ("A systolic fold"), as test/dataflow/systolic-fold.test.ts builds it. */
function idealFold(c: number, folds: number, doubleBuffer: boolean): SimulationResult {
  return simulate({ layer: foldLayer(c, folds), arch: "systolic", dataflow: foldMapping(c, folds, doubleBuffer), archOverrides: IDEAL });
}

describe("a systolic fold with ideal memory (docs/timing.md)", () => {
  it("takes 242 cycles for T = 64 and 370 for T = 128: the skew, two cycles a step, the drain", () => {
    const a = idealFold(64, 1, false);
    const b = idealFold(128, 1, false);
    expect(a.verification.ok && b.verification.ok).toBe(true);
    expect([a.cycles, b.cycles]).toEqual([242, 370]);
    const perPe = (r: SimulationResult, k: string) => (r.counters[k]?.value ?? 0) / 1024;
    // Per fold of T = 64: 64 MAC steps, 65 delivering the streams before the wave, 63 skew, 35
    // drain, and the memory's request round trips (2 cycles each): 4 dram, 8 gbuf; 3 control.
    expect(["pe.busy", "pe.idle.network", "pe.idle.pipeline", "pe.idle.drain", "pe.idle.dram", "pe.idle.gbuf", "pe.idle.control"].map((k) => perPe(a, k))).toEqual([64, 65, 63, 35, 4, 8, 3]);
    expect((b.cycles - a.cycles) / 64).toBe(2);
  });

  it("over four folds double-buffered: 743 cycles, against SCALE-Sim's 4 x 158 = 632", () => {
    const d = idealFold(64, 4, true);
    expect(d.verification.ok).toBe(true);
    expect(d.cycles).toBe(743);
    expect(4 * (2 * 32 + 32 + 64 - 2)).toBe(632);
  });
});

describe("a DRAM channel wider than its bursts (dram.burstsPerCycle)", () => {
  it("issues two 64-B bursts a cycle on a 128 B/cycle bus by default: fewer cycles than one a cycle, the same counts", () => {
    const layer = parseLayerShortForm("c=64,hw=8,k=32,r=1");
    const run = (burstsPerCycle?: number) =>
      simulate({ layer, arch: "systolic", dataflow: "os", archOverrides: { dram: { bytesPerCycle: 128, maxOutstanding: 256, ...(burstsPerCycle ? { burstsPerCycle } : {}) } } });
    const two = run();
    const one = run(1);
    expect(two.verification.ok && one.verification.ok).toBe(true);
    expect(actions(two)).toEqual(actions(one));
    expect([two.cycles, one.cycles]).toEqual([670, 776]);
  });
});
