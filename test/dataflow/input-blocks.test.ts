// Deliveries of groups of PEs that each need their own tile (sequencer/deliver.ts,
// emitDeliveries): runs of one constant step that step evenly are read from the GBuf as one
// two-level box, and the words reach the same PEs as with a read per run.
import { describe, expect, it } from "vitest";
import type { Box, Payload } from "../../src/core/index.js";
import type { GbufRegion } from "../../src/memory/index.js";
import type { SeqContext } from "../../src/dataflow/sequencer/context.js";
import { emitDeliveries } from "../../src/dataflow/sequencer/deliver.js";
import type { DeliveryGroup, Req } from "../../src/dataflow/sequencer/types.js";

const ONE = [1, 1, 1, 1, 1];
const DST: Box = { shape: ONE, offset: 0, strides: [1, 1, 1, 1, 1] };

/** One group per PE of a `rows` x `cols` array, PE (r, q) reading the word at `src(r, q)`. */
function groups(rows: number, cols: number, src: (r: number, q: number) => number): DeliveryGroup[] {
  const out: DeliveryGroup[] = [];
  for (let r = 0; r < rows; r++) {
    for (let q = 0; q < cols; q++) {
      const s = src(r, q);
      out.push({ rects: [{ row0: r, col0: q, rows: 1, cols: 1 }], pieces: [{ shape: ONE, src: s, srcStrides: [0, 0, 0, 0, 1], tag: 1000 + s, tagStrides: [0, 0, 0, 0, 1], dst: DST }] });
    }
  }
  return out;
}

const c = { checked: false } as unknown as SeqContext;
const region = { name: "x.0" } as unknown as GbufRegion;

/**
 * Plans the deliveries; answers each read with the addresses its box walks; returns the reads and
 * each PE's tile (its `n` words) as the delivery hands them over.
 */
function deliver(gs: DeliveryGroup[], fromGbuf = true, n = 1): { reads: Req[]; tile: (r: number, q: number) => number[] } {
  const reads: Req[] = [];
  const out = emitDeliveries(c, "input", gs, fromGbuf ? { region } : { tensor: {} as never }, reads);
  expect(out).toHaveLength(1);
  const payloads: Payload[] = out[0]!.reads.map((q) => ({ data: Int32Array.from(addresses((q.msg as { box: Box }).box)) }));
  const [send] = out[0]!.send(payloads);
  const m = send!.msg as { pes: { row0: number; col0: number; cols: number }; payload: Payload; boxIndex: Int32Array };
  return {
    reads,
    tile: (r, q) => {
      const b = m.boxIndex[(r - m.pes.row0) * m.pes.cols + (q - m.pes.col0)]!;
      return Array.from(m.payload.data.subarray(n * b, n * b + n));
    },
  };
}

/** The addresses a box walks, in order. */
function addresses(b: Box): number[] {
  const out: number[] = [];
  const walk = (d: number, at: number) => {
    if (d === b.shape.length) return void out.push(at);
    for (let i = 0; i < b.shape[d]!; i++) walk(d + 1, at + i * b.strides[d]!);
  };
  walk(0, b.offset);
  return out;
}

describe("input deliveries as blocks of runs", () => {
  it("a 4 x 5 array whose PEs read a 4 x 5 window (rows 50 apart) reads it as one box, each PE its word", () => {
    const src = (r: number, q: number) => 100 + 50 * r + q;
    const { reads, tile } = deliver(groups(4, 5, src));
    expect(reads).toHaveLength(1);
    expect((reads[0]!.msg as { box: Box }).box).toMatchObject({ shape: [4, 5, ...ONE], offset: 100, strides: [50, 1, 0, 0, 0, 0, 1] });
    for (let r = 0; r < 4; r++) for (let q = 0; q < 5; q++) expect(tile(r, q)).toEqual([src(r, q)]);
  });

  it("runs of other lengths or uneven starts stay reads of their own; DRAM reads stay one per run", () => {
    // Rows 0-2 step evenly (50 apart); row 3 starts 70 after row 2: two reads.
    const uneven = (r: number, q: number) => 100 + (r < 3 ? 50 * r : 170) + q;
    const a = deliver(groups(4, 5, uneven));
    expect(a.reads).toHaveLength(2);
    for (let r = 0; r < 4; r++) for (let q = 0; q < 5; q++) expect(a.tile(r, q)).toEqual([uneven(r, q)]);
    // From DRAM: a read per run, as before.
    const src = (r: number, q: number) => 100 + 50 * r + q;
    const b = deliver(groups(4, 5, src), false);
    expect(b.reads).toHaveLength(4);
    for (let r = 0; r < 4; r++) for (let q = 0; q < 5; q++) expect(b.tile(r, q)).toEqual([src(r, q)]);
  });

  it("interleaved runs (a step finer than the tile's words) are read as one box too, each PE its tile", () => {
    // Each PE reads 3 words 10 apart; neighbours start 1 apart (interleaved), rows 100 apart.
    const gs: DeliveryGroup[] = [];
    for (let r = 0; r < 3; r++) {
      for (let q = 0; q < 4; q++) {
        const s = 7 + 100 * r + q;
        gs.push({ rects: [{ row0: r, col0: q, rows: 1, cols: 1 }], pieces: [{ shape: [1, 1, 1, 1, 3], src: s, srcStrides: [0, 0, 0, 0, 10], tag: s, tagStrides: [0, 0, 0, 0, 10], dst: { shape: [1, 1, 1, 1, 3], offset: 0, strides: [1, 1, 1, 1, 1] } }] });
      }
    }
    const { reads, tile } = deliver(gs, true, 3);
    expect(reads).toHaveLength(1);
    for (let r = 0; r < 3; r++) for (let q = 0; q < 4; q++) expect(tile(r, q)).toEqual([0, 10, 20].map((d) => 7 + 100 * r + q + d));
  });
});
