/**
 * The GBuf input halo (src/dataflow/sequencer/gbuf-halo.ts, docs/counting.md "Sliding windows in
 * the GBuf"): when a dram loop slides the window, the next GBuf input tile keeps the rows and
 * columns it shares with the resident one and reads only the rest from DRAM.
 *
 * - Closed forms worked out by hand (P, R at the dram level; padding, stride; a jump back; a
 *   channel loop inside that forbids the halo) equal the simulated counters and dramTraffic;
 * - the drop against whole tiles is the halo: whole tiles are what the closed form counts without
 *   it (`dramTraffic + gbufInputHalo`), and a double-buffered GBuf copies exactly that halo;
 * - every run is bit-exact in checked mode, and unchecked runs (which replay plans that read a
 *   circular buffer) equal checked ones in every counter and cycle.
 */
import { describe, expect, it } from "vitest";
import { presets } from "../../src/arch/presets.js";
import { checkMapping } from "../../src/dataflow/legality.js";
import type { Mapping, TemporalLoop } from "../../src/dataflow/mapping.js";
import { simulate, type SimulationResult } from "../../src/dataflow/simulate.js";
import { dramTraffic, gbufInputHalo } from "../../src/dataflow/traffic.js";
import { convLayer, type ConvLayer } from "../../src/workload/layer.js";
import { network } from "../../src/workload/networks.js";

const value = (r: SimulationResult, name: string): number => r.counters[name]?.value ?? 0;
const KEEP = { input: true, weight: true, output: true };

/** A mapping with the given dram and gbuf loops, one PE per (R, C) pair when asked, whole rows in the RF. */
function mapping(dram: TemporalLoop[], gbuf: TemporalLoop[], doubleBuffer: boolean, spatial: Mapping["spatial"]["loops"] = [], rf: TemporalLoop[] = []): Mapping {
  return {
    dram: { loops: dram },
    gbuf: { loops: gbuf, keep: KEEP, doubleBuffer },
    spatial: { loops: spatial },
    rf: { loops: rf, keep: KEEP, doubleBuffer: false },
  };
}

/**
 * Runs a mapping checked and unchecked: both bit-exact, identical counters and cycles, the DRAM
 * words as dramTraffic counts them. Returns the checked run.
 */
function run(l: ConvLayer, m: Mapping): SimulationResult {
  const legal = checkMapping(m, l, presets.eyeriss);
  expect(legal, JSON.stringify(m)).toEqual({ ok: true });
  const c = simulate({ layer: l, arch: "eyeriss", dataflow: m, checked: true });
  const u = simulate({ layer: l, arch: "eyeriss", dataflow: m });
  expect(c.verification.ok).toBe(true);
  expect(u.verification.ok).toBe(true);
  expect(c.simulator.replayedIterations).toBe(0);
  for (const k of Object.keys(c.counters)) expect(value(u, k), k).toBe(value(c, k));
  expect(u.cycles).toBe(c.cycles);
  const t = dramTraffic(m, l);
  expect(value(c, "dram.read.input")).toBe(t.read.input);
  expect(value(c, "dram.read.weight")).toBe(t.read.weight);
  expect(value(c, "dram.write.output")).toBe(t.write.output);
  expect(value(c, "dram.read.output")).toBe(t.read.output);
  return c;
}

/** Checks the input words of a run: DRAM reads `dram` out of `whole` (whole tiles); GBuf writes and copies by buffering. */
function expectInputs(r: SimulationResult, whole: number, dram: number): void {
  const m = r.mapping;
  expect(value(r, "dram.read.input")).toBe(dram);
  expect(gbufInputHalo(m, r.layer)).toBe(whole - dram);
  expect(value(r, "gbuf.write.input")).toBe(m.gbuf.doubleBuffer ? whole : dram);
}

// 2 channels of 8 x 7, 3 x 3, padding 1: 8 x 7 outputs (docs/counting.md, the example).
const L = convLayer({ inChannels: 2, inHeight: 8, inWidth: 7, outChannels: 3, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] });
const PES: Mapping["spatial"]["loops"] = [
  { dim: "R", factor: 3, axis: "row" },
  { dim: "C", factor: 2, axis: "col" },
];

describe("the GBuf input halo: closed forms by hand", () => {
  const PQ = (db: boolean) => mapping([{ dim: "P", factor: 4 }, { dim: "Q", factor: 2 }], [{ dim: "P", factor: 2 }, { dim: "Q", factor: 4 }, { dim: "K", factor: 3 }], db, PES, [{ dim: "S", factor: 3 }]);

  it("P then Q at the dram level (docs/counting.md): 172 of 252 words; double-buffered, 80 copied", () => {
    // Row tiles 0..2, 1..4, 3..6, 5..7 (14 rows); column tiles 0..4, 3..6 (9): whole tiles
    // 2 x 14 x 9 = 252. Q steps keep columns 3..4: 2 x 14 x 2 = 56; P steps (Q back to its
    // first tile) keep 2 rows x columns 3..4: 3 x 2 x 2 x 2 = 24.
    const single = run(L, PQ(false));
    const double = run(L, PQ(true));
    expectInputs(single, 252, 172);
    expectInputs(double, 252, 172);
    // The double-buffered GBuf copies the 80 kept words between its halves: a read and a write each
    // (the reads that feed the PEs are the same).
    expect(value(double, "gbuf.read.input") - value(single, "gbuf.read.input")).toBe(80);
    expect(value(double, "noc.send.input")).toBe(value(single, "noc.send.input"));
  });

  for (const db of [false, true]) {
    const buf = db ? "double-buffered" : "single-buffered";
    it(`Q then P: the P steps keep 2 rows of every column tile, Q's step jumps back and keeps nothing: 144, ${buf}`, () => {
      // 3 P steps x 2 channels x 2 rows x (5 + 4) columns = 108.
      const m = mapping([{ dim: "Q", factor: 2 }, { dim: "P", factor: 4 }], [{ dim: "P", factor: 2 }, { dim: "Q", factor: 4 }, { dim: "K", factor: 3 }], db, PES, [{ dim: "S", factor: 3 }]);
      expectInputs(run(L, m), 252, 144);
    });

    it(`K then P, two row tiles: the jump back to the first keeps their overlap too, ${buf}`, () => {
      // Row tiles 0..4 and 3..7 (5 + 5 rows), all 7 columns: whole 3 x 2 x 10 x 7 = 420. Each of
      // the 3 forward steps and the 2 jumps back keeps rows 3..4: 5 x 2 x 2 x 7 = 140.
      const m = mapping([{ dim: "K", factor: 3 }, { dim: "P", factor: 2 }], [{ dim: "P", factor: 4 }, { dim: "Q", factor: 7 }], db, PES, [{ dim: "S", factor: 3 }]);
      expectInputs(run(L, m), 420, 280);
    });
  }

  it("R at the dram level: every input is read once", () => {
    // 1 channel of 6 x 6, 3 x 3, padding 1. Kernel row r reads rows p + r - 1: 0..4, 0..5, 1..5
    // (16 rows x 6 columns = 96 words whole); each step keeps 5 rows: 96 - 2 x 5 x 6 = 36, the
    // compulsory traffic.
    const l = convLayer({ inChannels: 1, inHeight: 6, inWidth: 6, outChannels: 2, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] });
    for (const db of [false, true]) {
      const m = mapping([{ dim: "R", factor: 3 }], [{ dim: "P", factor: 6 }, { dim: "K", factor: 2 }], db, [{ dim: "Q", factor: 6, axis: "col" }], [{ dim: "S", factor: 3 }]);
      expectInputs(run(l, m), 96, 36);
    }
  });

  it("stride 2 with P at the dram level keeps the one shared row; with R there, nothing (the rows interleave)", () => {
    // 1 channel of 9 x 2, 3 x 1 kernel, stride 2 vertically, padding 1 above and below: 5 x 2
    // outputs. P tiles of 2 rows read rows 0..3, 3..7, 7..8 (11 x 2 = 22 words whole); each step
    // keeps one row of 2 columns: 22 - 4 = 18, the compulsory traffic.
    const l = convLayer({ inChannels: 1, inHeight: 9, inWidth: 2, outChannels: 2, kernelHeight: 3, kernelWidth: 1, strides: [2, 1], pads: [1, 0, 1, 0] });
    expectInputs(run(l, mapping([{ dim: "P", factor: 3 }], [{ dim: "P", factor: 2 }, { dim: "R", factor: 3 }, { dim: "K", factor: 2 }], false, [{ dim: "Q", factor: 2, axis: "col" }])), 22, 18);
    // Kernel row r reads rows 2p + r - 1: {1,3,5,7}, {0,2,4,6,8}, {1,3,5,7}: not consecutive,
    // and no two consecutive tiles the same: whole tiles, (4 + 5 + 4) rows x 2 = 26.
    expectInputs(run(l, mapping([{ dim: "R", factor: 3 }], [{ dim: "P", factor: 5 }, { dim: "K", factor: 2 }], true, [{ dim: "Q", factor: 2, axis: "col" }])), 26, 26);
  });

  it("no halo when a channel loop runs inside the sliding one (the tiles change channel)", () => {
    const m = mapping([{ dim: "P", factor: 4 }, { dim: "C", factor: 2 }], [{ dim: "P", factor: 2 }, { dim: "Q", factor: 7 }, { dim: "K", factor: 3 }], false, [{ dim: "R", factor: 3, axis: "row" }], [{ dim: "S", factor: 3 }]);
    // 2 channels x 14 rows x 7 columns, each tile read whole.
    expectInputs(run(L, m), 196, 196);
  });
});

describe("the GBuf input halo: replays read the circular buffer right", () => {
  it("a single-buffered GBuf sliding over P with many gbuf iterations per tile: unchecked (replaying) equals checked", () => {
    const l = convLayer({ inChannels: 3, inHeight: 16, inWidth: 12, outChannels: 4, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] });
    for (const db of [false, true]) {
      const m = mapping([{ dim: "P", factor: 4 }], [{ dim: "P", factor: 4 }, { dim: "C", factor: 3 }, { dim: "Q", factor: 3 }], db, [{ dim: "R", factor: 3, axis: "row" }, { dim: "K", factor: 4, axis: "col" }], [{ dim: "Q", factor: 4 }, { dim: "S", factor: 3 }]);
      run(l, m);
      const u = simulate({ layer: l, arch: "eyeriss", dataflow: m });
      expect(u.simulator.replayedIterations).toBeGreaterThan(0);
      // Row tiles 0..4, 3..8, 7..12, 11..15 (5 + 6 + 6 + 5 = 22 rows) x 12 columns x 3 channels
      // whole; 3 steps keep 2 rows each.
      expect(value(u, "dram.read.input")).toBe(3 * 22 * 12 - 3 * 3 * 2 * 12);
    }
  });
});

describe("plans replayed across rotations of the circular buffer", () => {
  it("an iteration whose columns do not wrap replays a plan made at another rotation (its reads moved by the slots' difference)", () => {
    // Eight dram tiles along Q, each 10 output columns (12 input columns, kept 2 at each step:
    // the block rotates by 10 of its 12 slots a tile); a gbuf iteration reads 2 + 2 columns from
    // its origin, which wraps only at the last slots. Keyed by the rotation and the origin's rank
    // (as before), 141 of the 480 iterations were planned fresh; keyed by the origin's slot where
    // the columns wrap and by nothing where they do not, 13. Both exact: checked and unchecked agree.
    const l = convLayer({ inChannels: 2, inHeight: 4, inWidth: 82, outChannels: 2, kernelHeight: 1, kernelWidth: 3 });
    const m = mapping([{ dim: "Q", factor: 8 }], [{ dim: "C", factor: 2 }, { dim: "Q", factor: 5 }, { dim: "S", factor: 3 }, { dim: "P", factor: 2 }], false, [
      { dim: "Q", factor: 2, axis: "row" },
      { dim: "P", factor: 2, axis: "row" },
      { dim: "K", factor: 2, axis: "col" },
    ]);
    run(l, m);
    const u = simulate({ layer: l, arch: "eyeriss", dataflow: m });
    expect(u.simulator.iterations).toBe(480);
    expect(u.simulator.iterations - u.simulator.replayedIterations).toBeLessThanOrEqual(13);
  });
});

describe("the GBuf input halo on AlexNet CONV3 (docs/counting.md)", () => {
  it("ws's tiles on the chen2020 preset with P and R at the dram level: 1,211,392 DRAM input words instead of 3,447,808", () => {
    // Counted in closed form (equal to the simulated counters on the cases above, and to a
    // simulation of this mapping: `convsim simulate --layer c=256,hw=13,k=384,r=3,pad=1`).
    const l = network("alexnet").layers.find((x) => x.name === "conv3")!;
    const m: Mapping = {
      dram: { loops: [{ dim: "K", factor: 28 }, { dim: "C", factor: 11 }, { dim: "P", factor: 2 }, { dim: "R", factor: 3 }] },
      gbuf: { loops: [{ dim: "S", factor: 3 }, { dim: "P", factor: 7 }, { dim: "Q", factor: 13 }], keep: KEEP, doubleBuffer: true },
      spatial: { loops: [{ dim: "C", factor: 12, axis: "row" }, { dim: "K", factor: 14, axis: "col" }] },
      rf: { loops: [{ dim: "C", factor: 2 }], keep: KEEP, doubleBuffer: false },
    };
    expect(checkMapping(m, l, presets.chen2020, { types: { input: "int8", weight: "int8" } })).toEqual({ ok: true });
    // Whole tiles: 28 K tiles x 256 channels x 13 columns x 37 rows (kernel rows 0, 1, 2 read
    // rows 0..5, 0..6, 1..7 for output rows 0..6, and 6..11, 7..12, 8..12 for output rows 7..12).
    // The steps keep 6, 6, 2 (rows 6..7, from the first P tile to the second), 5 and 5 rows: 13
    // of 37 come from DRAM, every input once per K tile (the C steps change channel: no halo).
    expect(dramTraffic(m, l).read.input + gbufInputHalo(m, l)).toBe(28 * 256 * 13 * 37);
    expect(dramTraffic(m, l).read.input).toBe(28 * 256 * 13 * 13);
    expect(28 * 256 * 13 * 13).toBe(1211392);
  });
});
