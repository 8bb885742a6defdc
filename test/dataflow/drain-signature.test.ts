import { describe, expect, it } from "vitest";
import { simulate } from "../../src/dataflow/simulate.js";
import type { SeqContext } from "../../src/dataflow/sequencer/context.js";
import { drainSignature } from "../../src/dataflow/sequencer/drain.js";
import { LinkPlanner } from "../../src/dataflow/sequencer/links.js";
import { BatchLayout } from "../../src/dataflow/sequencer/psum-batch.js";
import { K, P, type DrainEntry } from "../../src/dataflow/sequencer/types.js";
import { difference } from "../helpers/difference.js";

// A GBuf output tile of 4 output channels x 3 rows x 1 column (channel stride 3, row stride 1);
// PE p's tile at channel p % 4, row floor(p / 4) (its offset), each of one word.
const NDIMS = 8;
const pes = [0, 1, 2, 3, 4, 5];
const offset = (pe: number) => {
  const o = new Int32Array(NDIMS);
  o[K] = pe % 4;
  o[P] = Math.floor(pe / 4);
  return o;
};
const gbufExtent = Int32Array.from([1, 1, 4, 1, 3, 1, 1, 1]);
const c = {
  streamOut: false,
  m: { gbuf: { keep: { output: true } } },
  nest: { groups: [], gbufExtent, peOffset: Array.from({ length: 8 }, (_, pe) => offset(pe)) },
  arch: { gbuf: { banks: 4, bankWordBytes: 8 } },
  // (the output tensor as the GBuf tile: 4 channels x 3 rows x 1 column)
  yTagStrides: () => [12, 12, 3, 1, 1],
} as unknown as SeqContext;
const region = { baseAddress: 64, elementBytes: 4 } as never;
const ext = Int32Array.from([1, 1, 1, 1, 1, 1, 1, 1]);
const gbufOutput = { start: new Int32Array(NDIMS), ext: gbufExtent };

/** The same records as a batch's list and as plain records. */
function both(iterStart: Int32Array, gen: number): { batch: readonly DrainEntry[]; plain: DrainEntry[] } {
  const layout = new BatchLayout(Int32Array.from(pes), pes.map(() => ext), new Float64Array(6).fill(1), new Float64Array(6).fill(1), Float64Array.from(pes), pes.map(offset), 0, 8);
  const batch = layout.take(iterStart, 100, gen).list;
  const plain = batch.map((e) => ({ pe: e.pe, key: e.key, start: Int32Array.from(e.start), ext, base: 0, extKey: 1, shapeKey: 1, gen }));
  return { batch, plain };
}

describe("drainSignature over a batch's records", () => {
  it("equals the signature of the same records made one by one, whether or not their tiles hold partial sums alike", () => {
    const { batch, plain } = both(new Int32Array(NDIMS), 3);
    const has = new Uint8Array(12);
    const sig = (entries: readonly DrainEntry[]) => Array.from(drainSignature(c, new LinkPlanner(c), entries, gbufOutput, has, region, false)!);
    // None holds a sum: the short form.
    expect(sig(batch)).toEqual(sig(plain));
    expect(sig(batch)[1]).toBe(-200);
    // All hold one: the short form, saying so.
    has.fill(1);
    expect(sig(batch)).toEqual(sig(plain));
    expect(sig(batch).slice(1, 3)).toEqual([-200, 1]);
    // One PE's tile (PE 5: channel 1, row 1, at 1 x 3 + 1 in the GBuf tile) does not: the long
    // form, each entry's flag in it.
    has[1 * 3 + 1] = 0;
    expect(sig(batch)).toEqual(sig(plain));
    expect(sig(batch)[1]).toBe(0);
    expect(sig(batch)).toContain(0);
  });
});

// The signature keys the GBuf requests an unchecked drain reuses (accumulate.ts,
// AccumulateShapes) and the timelines replay uses. The requests merge tiles whose places form one
// grid in the GBuf output tile and in the output tensor (transfer.ts, mergeGrid), so the
// signature must hold both: with the GBuf places alone, a drain of a fused group's points across
// two images (even in the GBuf, not in y) took the merged requests of an earlier drain within one
// image, and fast runs counted fewer GBuf bank writes and cycles than checked ones (found by a
// random campaign, session 36).
describe("drain signatures", () => {
  it("tell apart drains whose tiles lie alike in the GBuf but not in the output tensor: fast, reference and checked runs agree", () => {
    const c = {
      layer: { batch: 2, inChannels: 4, inHeight: 35, inWidth: 35, outChannels: 4, kernelHeight: 1, kernelWidth: 3, strides: [2, 2] as [number, number], pads: [1, 0, 2, 2] as [number, number, number, number], groups: 4 },
      types: { input: "int16" as const, weight: "int8" as const },
      seed: 995,
      arch: "systolic",
      dataflow: "os",
      archOverrides: { array: { rows: 16, cols: 5 } },
    };
    const fast = simulate(c);
    // (os on the systolic preset fuses N, P and Q: sixteen points a drain, some across the images)
    expect(fast.mapping.fuse?.[0]?.dims).toEqual(["N", "P", "Q"]);
    expect(fast.verification.ok).toBe(true);
    expect(difference(fast, simulate({ ...c, checked: true }))).toBeUndefined();
    expect(difference(fast, simulate({ ...c, mode: "reference" }))).toBeUndefined();
    expect(difference(fast, simulate({ ...c, timelineReplay: false }))).toBeUndefined();
  });
});
