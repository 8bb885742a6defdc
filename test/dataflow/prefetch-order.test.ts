/**
 * A pipelined program plans two iterations ahead, so when its planning enters dram tile t + 1 and
 * starts the prefetch of tile t + 2 (into the GBuf half tile t used), tile t's last reads may
 * still be waiting in a thread of their own for tile t's prefetch. The prefetch's GBuf writes
 * must wait for them (fetch.ts, readersOf), or they overwrite words those reads have not taken
 * yet. Found by a random campaign (replay on and off, outputs verified) on the systolic preset:
 * 40 of 560 outputs wrong, and checked mode stopping at "checked read of x.1[0] ... expected
 * x(padded)[198] but the word holds x(padded)[440]" (tile t + 2's word).
 */
import { describe, expect, it } from "vitest";
import { simulate } from "../../src/dataflow/simulate.js";
import { readersOf, type PendingReads } from "../../src/dataflow/sequencer/fetch.js";
import { thread, type FetchPlan, type Req } from "../../src/dataflow/sequencer/types.js";
import type { GbufRegion } from "../../src/memory/gbuf.js";
import { convLayer } from "../../src/workload/layer.js";
import { difference } from "../helpers/difference.js";

// Two groups of one channel, batch 2, seven output rows in dram tiles of six and one: the
// one-row tiles have a single iteration, whose reads wait for their tile's prefetch.
const base = { batch: 2, inChannels: 2, inHeight: 18, inWidth: 11, outChannels: 8, kernelHeight: 2, kernelWidth: 2, strides: [3, 2] as [number, number], pads: [2, 0, 2, 0] as [number, number, number, number], groups: 2 };
const LAYERS = [base, { ...base, inWidth: 10 }, { ...base, pads: [2, 0, 0, 0] as [number, number, number, number] }];

describe("a prefetch waits for the reads of the half it writes", () => {
  for (const [i, spec] of LAYERS.entries()) {
    it(`systolic os, int16 inputs, layer ${i}: checked, fast and reference runs verify, with the same cycles`, () => {
      const opts = { layer: convLayer(spec), arch: "systolic", dataflow: "os", types: { input: "int16", weight: "int8" }, seed: 736 } as const;
      const fast = simulate(opts);
      const checked = simulate({ ...opts, checked: true });
      const reference = simulate({ ...opts, mode: "reference" });
      for (const r of [fast, checked, reference]) expect(r.verification.mismatches).toBe(0);
      expect(checked.cycles).toBe(fast.cycles);
      expect(reference.cycles).toBe(fast.cycles);
    });
  }

  it("readersOf gives the running threads whose GBuf reads touch a region the fetch writes, and forgets finished ones", () => {
    const region = (name: string) => ({ name }) as unknown as GbufRegion;
    const x0 = region("x.0"), x1 = region("x.1"), w0 = region("w.0");
    const read = (r: GbufRegion): Req => ({ to: "gbuf", msg: { op: "read", region: r, box: { shape: [1], offset: 0, strides: [1] } } }) as Req;
    const running = () => thread((function* () {})());
    const a = running(), b = running(), c = running(), d = running();
    d.done = true;
    const pending: PendingReads[] = [
      { thread: a, reads: [read(x0)] },
      { thread: b, reads: [read(x1), read(w0)] },
      { thread: c, reads: [read(w0)] },
      { thread: d, reads: [read(x1)] },
    ];
    const plan = { writes: [{ region: x1, box: { shape: [1], offset: 0, strides: [1] }, read: read(x0) }] } as unknown as FetchPlan;
    expect(readersOf(plan, pending)).toEqual([b]);
    expect(pending.map((p) => p.thread)).toEqual([a, b, c]);
  });
});

// A dram tile that keeps an operand's GBuf tile from the tile before (no fetch of its own for it)
// reads what that tile's prefetch writes: when the prefetch still runs as the tile is entered
// (the program plans ahead), the tile's reads wait for it too (program.ts, nextPlan). Found by a
// random campaign (session 36): the second K tile's weights were read from GBuf half 1 at cycle
// 145 by the tile after it (same K, next image), the prefetch writing them at 177; checked mode
// stopped at "checked read of w.1[0] ... expected w[120] but the word holds empty (never
// written)". The fast runs verified: those tiles read only padding, so their outputs do not
// depend on the weights.
describe("a tile that keeps an operand waits for the prefetch that wrote it", () => {
  const cases = [
    { layer: { batch: 2, inChannels: 8, inHeight: 21, inWidth: 1, outChannels: 30, kernelHeight: 1, kernelWidth: 1, strides: [1, 3], pads: [1, 2, 1, 0] }, types: { input: "uint8", weight: "int8" }, seed: 959, arch: "systolic", dataflow: "is", archOverrides: { gbuf: { capacityBytes: 4096 } } },
    { layer: { inChannels: 128, inHeight: 10, inWidth: 23, outChannels: 120, kernelHeight: 1, kernelWidth: 1, strides: [3, 3], pads: [2, 0, 1, 1], groups: 4 }, types: { input: "uint8", weight: "int8" }, seed: 297, zeroPoints: { input: 16, weight: 2 }, arch: "systolic", dataflow: "os" },
  ] as const;
  for (const [i, c] of cases.entries()) {
    it(`case ${i}: checked runs verify, and fast, reference and replay-off runs equal them`, () => {
      const opts = c as unknown as Parameters<typeof simulate>[0];
      const checked = simulate({ ...opts, checked: true });
      expect(checked.verification.ok).toBe(true);
      for (const other of [simulate(opts), simulate({ ...opts, mode: "reference" }), simulate({ ...opts, timelineReplay: false })]) expect(difference(other, checked)).toBeUndefined();
    });
  }
});
