/**
 * Psum tile records made together (sequencer/psum-batch.ts) and the settled psum state that
 * decides when they are (sequencer/settled.ts). A batch's record must read as the per-PE record
 * Residency.psumTile makes (key: the iteration's output key plus the PE's offset; start: the
 * iteration's start plus its offset; the iteration's count), issue after issue; a batch is
 * issued again only once every record of its last issue is back; and the drain of every active
 * PE may skip the drains pass only when no idle PE holds a leaving tile. The simulations that use
 * them are checked against runs without replay and checked runs in simulate.test.ts and
 * timeline-replay.test.ts; these pin the parts no mapping in those tests is known to reach.
 */
import { describe, expect, it } from "vitest";
import { NDIMS } from "../../src/dataflow/nest.js";
import { BatchLayout, batchOf } from "../../src/dataflow/sequencer/psum-batch.js";
import { Settled } from "../../src/dataflow/sequencer/settled.js";
import type { Residency } from "../../src/dataflow/sequencer/residency.js";

const dims = (...v: number[]) => Int32Array.from({ length: NDIMS }, (_, d) => v[d] ?? 0);

/** Three active PEs (1, 2, 4) of six, each with its extent, keys and offset. */
function layout(): BatchLayout {
  const pes = Int32Array.of(1, 2, 4);
  const ext = [dims(1, 1, 2), dims(1, 1, 2), dims(1, 1, 1)];
  const offset = [dims(0, 0, 0, 0, 2), dims(0, 0, 2), dims(0, 0, 2, 0, 2)];
  return new BatchLayout(pes, ext, Float64Array.of(11, 11, 12), Float64Array.of(21, 21, 22), Float64Array.of(100, 200, 300), offset, 8, 6);
}

describe("psum batches", () => {
  it("a record reads as the per-PE record: key, start and iteration from its batch's current issue", () => {
    const l = layout();
    const b = l.take(dims(0, 1, 4, 0, 6, 3), 5000, 7);
    expect(b.list.map((e) => [e.pe, e.key, e.gen, e.base, e.extKey, e.shapeKey])).toEqual([
      [1, 5100, 7, 8, 11, 21],
      [2, 5200, 7, 8, 11, 21],
      [4, 5300, 7, 8, 12, 22],
    ]);
    expect(Array.from(b.list[0]!.start)).toEqual([0, 1, 4, 0, 8, 3, 0, 0]);
    expect(Array.from(b.list[1]!.start)).toEqual([0, 1, 6, 0, 6, 3, 0, 0]);
    expect(Array.from(b.list[2]!.start)).toEqual([0, 1, 6, 0, 8, 3, 0, 0]);
    expect(b.list[2]!.ext).toBe(l.ext[2]);
    // Issued again (once its records are back): the same records read the new iteration's.
    b.released(3);
    const again = l.take(dims(0, 0, 8, 0, 0, 1), 9000, 8);
    expect(again).toBe(b);
    expect(again.list[0]).toBe(b.list[0]);
    expect(again.list.map((e) => [e.key, e.gen])).toEqual([
      [9100, 8],
      [9200, 8],
      [9300, 8],
    ]);
    expect(Array.from(again.list[0]!.start)).toEqual([0, 0, 8, 0, 2, 1, 0, 0]);
    expect(Array.from(again.list[2]!.start)).toEqual([0, 0, 10, 0, 2, 1, 0, 0]);
  });

  it("the layout's new-psum keys: the extent key of each active PE, NaN for the idle ones", () => {
    const keys = Array.from(layout().psumKeys);
    expect(keys.map((k) => (Number.isNaN(k) ? "-" : k))).toEqual(["-", 11, 11, "-", 12, "-"]);
  });

  it("a batch is issued again only once every record of its last issue is back", () => {
    const l = layout();
    const a = l.take(dims(), 0, 1);
    const b = l.take(dims(), 10, 2);
    expect(b).not.toBe(a);
    a.released(2);
    expect(l.take(dims(), 20, 3)).not.toBe(a);
    a.released(1);
    expect(l.take(dims(), 30, 4)).toBe(a);
  });

  it("batchOf names the batch of its list only", () => {
    const l = layout();
    const a = l.take(dims(), 0, 1);
    const list = a.list;
    expect(batchOf(list)).toBe(a);
    expect(batchOf(list.slice())).toBeUndefined();
    expect(batchOf(list.slice(1))).toBeUndefined();
    expect(batchOf([])).toBeUndefined();
    expect(batchOf(l.take(dims(), 5, 2).list)).not.toBe(a);
  });
});

describe("the settled psum state", () => {
  /** A residency stand-in: only the PEs' activity is read. */
  const res = (active: number[], pes: number) => ({ peActive: Uint8Array.from({ length: pes }, (_, pe) => (active.includes(pe) ? 1 : 0)), placeEpoch: 3, psumEpoch: 4 }) as unknown as Residency;
  const off = Float64Array.of(0, 10, 20, 30);

  it("keeps the placement, epochs, active count and idle keys; a move keeps all but the start's key and the psum epoch", () => {
    const s = Settled.after(1000, res([0, 1], 4), 2, [1020]);
    expect([s.outKey0, s.placeEpoch, s.psumEpoch, s.active, Array.from(s.idleKeys)]).toEqual([1000, 3, 4, 2, [1020]]);
    const m = s.moved(2000, 5);
    expect([m.outKey0, m.placeEpoch, m.psumEpoch, m.active, Array.from(m.idleKeys)]).toEqual([2000, 3, 5, 2, [1020]]);
  });

  it("an idle PE's tile leaves with the active PEs' exactly when an active PE held its key", () => {
    // Active PEs 0 and 1 held keys 1000 and 1010 (the settled start's 1000 plus their offsets).
    const leaving = (idle: number[]) => Settled.after(1000, res([0, 1], 4), 2, idle).idleLeaving(res([0, 1], 4), off);
    expect(leaving([1010])).toBe(true);
    expect(leaving([1020, 1000])).toBe(true);
    // Keys no active PE held: PE 2's and 3's own offsets, or another start's.
    expect(leaving([1020, 1030])).toBe(false);
    expect(leaving([990, 1005])).toBe(false);
    // After a move, the keys the active PEs held are the new start's plus their offsets.
    const moved = Settled.after(1000, res([0, 1], 4), 2, [2010]).moved(2000, 5);
    expect(moved.idleLeaving(res([0, 1], 4), off)).toBe(true);
    expect(Settled.after(1000, res([0, 1], 4), 2, [2010]).idleLeaving(res([0, 1], 4), off)).toBe(false);
  });
});
