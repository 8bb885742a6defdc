/**
 * The accumulate pass: drained sums go into the GBuf output tile (or DRAM when the GBuf bypasses
 * outputs), added to what is there with a read-modify-write; an output tile leaving the GBuf is
 * written to DRAM, added to what DRAM holds for it.
 */
import { boxRows, fillRows, InvariantError, sameNumbers, type Box, type BoxRows, type Payload } from "../../core/index.js";
import { allocatePayload } from "../../workload/dtype.js";
import type { SeqContext } from "./context.js";
import { step, type Executor, type Steps } from "./executor.js";
import { TAG_SPACE } from "./layout.js";
import { addressOrder, mergeGrid } from "./transfer.js";
import { G, K, N, P, Q, type OutTile, type OutputTile, type Req, type Thread, type TileCoords } from "./types.js";

/** A drained sum on its way to memory: its output tile and words (and tags, checked). */
type Sum = { readonly tile: TileCoords; readonly data: Int32Array; readonly tags: Float64Array | undefined };

/** Adds drained sums into the GBuf output tile, or into DRAM when the GBuf bypasses outputs. */
export function* accumulate(
  c: SeqContext, x: Executor,
  sums: readonly Sum[],
  gbufOutput: OutputTile | undefined,
  gbufHas: Uint8Array | undefined,
  half: number,
  dramHas: Uint8Array,
): Steps {
  const toGbuf = c.m.gbuf.keep.output;
  const plan = accumulatePlan(c, sums, gbufOutput, gbufHas, dramHas);
  // Words that hold a partial sum already are added to by the accumulate unit at the memory (a
  // read-modify-write there); the others are written.
  const reqs: Req[] = [];
  for (const p of plan) {
    // (literals of one shape each, not spreads: they run per drain)
    const payload: Payload = { data: p.data, tags: p.tags };
    const expect = p.has && c.checked ? p.expect : undefined;
    const op = p.has ? ("accumulate" as const) : ("write" as const);
    reqs.push(toGbuf ? { to: "gbuf", msg: { op, region: c.gbufRegions.output![half]!, box: p.box, payload, expect } } : { to: "dram", msg: { op, tensor: c.hw.y, box: p.box, payload, expect } });
  }
  x.keep(yield step(toGbuf ? "gbuf" : "dram", reqs));
}

/**
 * The tiles {@link accumulate} sends: each sum's tile at its place (its words marked as holding
 * a partial sum, and whether they did), tiles of one shape and history on a regular grid merged
 * into one, each in address order. It only moves words, never adds them.
 */
function accumulatePlan(c: SeqContext, sums: readonly Sum[], gbufOutput: OutputTile | undefined, gbufHas: Uint8Array | undefined, dramHas: Uint8Array): OutTile[] {
  const toGbuf = c.m.gbuf.keep.output;
  const tiles: OutTile[] = [];
  const st = gbufOutputStrides(c);
  const yStrides = c.yTagStrides();
  for (const s of sums) {
    const { start, ext } = s.tile;
    const shape = [ext[N]!, ext[G]!, ext[K]!, ext[P]!, ext[Q]!];
    const yOff = c.yIndex(start[N]!, start[G]!, start[K]!, start[P]!, start[Q]!);
    const expect = { space: TAG_SPACE.output, offset: yOff, strides: yStrides };
    let box: Box;
    let has: number;
    if (toGbuf) {
      box = { shape, offset: gbufOutputOffset(st, start, gbufOutput!.start), strides: st };
      has = markHeld(gbufHas!, box);
    } else {
      box = { shape, offset: yOff, strides: yStrides };
      has = markHeld(dramHas, box);
    }
    tiles.push({ box, data: s.data, tags: s.tags, has, expect });
  }
  // Tiles of one shape and history whose places form a regular grid (the PEs of a drain, one
  // tile each) go to memory as one request: the drain path delivers them as one stream.
  const plan: OutTile[] = [];
  // Grouped by history and shape, groups in order of first appearance (few per drain: a linear
  // search, no string keys).
  const groups: (typeof tiles)[] = [];
  for (const t of tiles) {
    let g = groups.find((h) => h[0]!.has === t.has && sameNumbers(h[0]!.box.shape, t.box.shape));
    if (!g) groups.push((g = []));
    g.push(t);
  }
  for (const g of groups) {
    const merged = g.length > 1 ? mergeGrid(g) : undefined;
    for (const t of merged ? [merged] : g) plan.push(addressOrder(t));
  }
  return plan;
}

/**
 * An unchecked drain's GBuf requests as its drain signature fixes them (drain.ts,
 * drainSignature): per request its op, its box (offset relative to the first sum's tile; its
 * rows compiled), and for each of its words the index in the drain's sum it comes from.
 */
interface AccumulateShape {
  readonly reqs: readonly {
    readonly op: "write" | "accumulate";
    readonly shape: readonly number[];
    readonly strides: readonly number[];
    readonly rows: BoxRows;
    readonly rel: number;
    readonly gather: Int32Array;
    /** Where `gather` starts in the sum when it lists words one after another (the payload is then a view of the sum), else -1. */
    readonly run: number;
  }[];
}

/**
 * Accumulate shapes by drain signature serial (unchecked runs). Bounded: a new map once it holds
 * {@link AccumulateShapes.limit} (only speed depends on what it still holds).
 */
export class AccumulateShapes {
  static readonly limit = 256;
  private byKey = new Map<number, AccumulateShape>();

  get(key: number): AccumulateShape | undefined {
    return this.byKey.get(key);
  }

  set(key: number, shape: AccumulateShape): void {
    if (this.byKey.size >= AccumulateShapes.limit) this.byKey = new Map();
    this.byKey.set(key, shape);
  }
}

/**
 * {@link accumulate} into the GBuf output tile for an unchecked drain whose signature has serial
 * `key`: the sums are slots of `total` (slot i: the tile `entries[slotEntry[i]]`, from
 * `slotAt[i]`, `slotWords[i]` words; the list of tiles is made only when the key is new). Equal
 * signatures place every tile at the same displacement from the first one's, in the GBuf output
 * tile and in the output tensor, with the same histories (drainSignature), so the requests are
 * the same up to that offset: the first drain
 * with a key plans them as accumulate() does, on the words' indices in `total` instead of their
 * values (the plan only moves words), and keeps the result; every drain with the key gathers its
 * payloads by those indices and marks the words as holding a partial sum.
 */
export function* accumulateShaped(
  c: SeqContext, x: Executor,
  memo: AccumulateShapes,
  key: number,
  entries: readonly TileCoords[],
  slotEntry: Int32Array,
  total: Int32Array,
  slotAt: Int32Array,
  slotWords: Int32Array,
  gbufOutput: OutputTile,
  gbufHas: Uint8Array,
  half: number,
): Steps {
  const anchor = gbufOutputOffset(gbufOutputStrides(c), entries[slotEntry[0]!]!.start, gbufOutput.start);
  let shape = memo.get(key);
  if (shape) {
    for (const r of shape.reqs) fillRows(gbufHas, r.rows, anchor + r.rel, 1);
  } else {
    const tiles = Array.from(slotEntry, (k) => entries[k]!);
    // (each slot's word indices by a plain loop: Int32Array.from with a mapping over 16,384
    // slots, at every drain of a 128 x 128 array, was 2% of its run)
    const sums = tiles.map((tile, i) => {
      const data = new Int32Array(slotWords[i]!);
      for (let k = 0, at = slotAt[i]!; k < data.length; k++) data[k] = at + k;
      return { tile, data, tags: undefined };
    });
    const plan = accumulatePlan(c, sums, gbufOutput, gbufHas, new Uint8Array(0));
    shape = {
      reqs: plan.map((p) => ({
        op: p.has ? ("accumulate" as const) : ("write" as const),
        shape: p.box.shape,
        strides: p.box.strides,
        rows: boxRows({ shape: p.box.shape, offset: 0, strides: p.box.strides }),
        rel: p.box.offset - anchor,
        gather: p.data as Int32Array,
        run: runStart(p.data as Int32Array),
      })),
    };
    memo.set(key, shape);
  }
  const region = c.gbufRegions.output![half]!;
  const reqs: Req[] = [];
  for (const r of shape.reqs) {
    const g = r.gather;
    let data: Int32Array;
    if (r.run >= 0) {
      // (words that lie in order in the sum, as a ws drain's columns: a view, nothing copied;
      // the sum dies with the drain and nothing writes it meanwhile)
      data = total.subarray(r.run, r.run + g.length);
    } else {
      data = allocatePayload("int32", g.length);
      for (let k = 0; k < g.length; k++) data[k] = total[g[k]!]!;
    }
    // (the literals accumulate() makes: one shape each)
    const payload: Payload = { data, tags: undefined };
    reqs.push({ to: "gbuf", msg: { op: r.op, region, box: { shape: r.shape, offset: anchor + r.rel, strides: r.strides }, payload, expect: undefined } });
  }
  x.keep(yield step("gbuf", reqs));
}

/** `g[0]` when `g` lists consecutive indices (g[k] = g[0] + k), else -1. */
function runStart(g: Int32Array): number {
  for (let k = 1; k < g.length; k++) if (g[k] !== g[0]! + k) return -1;
  return g.length > 0 ? g[0]! : -1;
}

/** The strides of the GBuf output tile over [N, G, K, P, Q]. */
export function gbufOutputStrides(c: SeqContext): number[] {
  const ge = c.nest.gbufExtent;
  return [ge[G]! * ge[K]! * ge[P]! * ge[Q]!, ge[K]! * ge[P]! * ge[Q]!, ge[P]! * ge[Q]!, ge[Q]!, 1];
}

/** Where an output tile starting at `start` begins in the GBuf output tile starting at `gs` (strides `st`). */
export function gbufOutputOffset(st: readonly number[], start: ArrayLike<number>, gs: ArrayLike<number>): number {
  return (start[N]! - gs[N]!) * st[0]! + (start[G]! - gs[G]!) * st[1]! + (start[K]! - gs[K]!) * st[2]! + (start[P]! - gs[P]!) * st[3]! + (start[Q]! - gs[Q]!);
}

/**
 * Whether the words of `box` in a has-array already hold a partial sum; marks them as holding one.
 * Every word of a tile shares its history, so a mixed box is a Sequencer bug.
 */
export function markHeld(has: Uint8Array, box: Box): number {
  const shape = box.shape;
  let first = -1;
  const idx = new Array<number>(shape.length).fill(0);
  for (;;) {
    let a = box.offset;
    for (let d = 0; d < shape.length; d++) a += idx[d]! * box.strides[d]!;
    const v = has[a]!;
    if (first === -1) first = v;
    else if (v !== first) throw new InvariantError("sequencer", `output words of one tile have different accumulation histories (address ${a})`);
    has[a] = 1;
    let d = shape.length - 1;
    for (; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
    if (d < 0) break;
  }
  return first;
}

/**
 * Where a write-back running beside the program is ({@link evictOutput}): `dramOnly` once its GBuf
 * read is over and its one step left is the DRAM write (a timeline may then replay beside it:
 * timeline.ts, `Beside`).
 */
export interface WriteBackPhase {
  dramOnly: boolean;
}

/** An output write-back running beside the program (program.ts), and where it is ({@link evictOutput}). */
export interface WriteBack {
  readonly thread: Thread;
  readonly phase: WriteBackPhase;
}

/**
 * Writes the GBuf output tile to DRAM, adding what DRAM already holds for it: one GBuf read, then
 * one DRAM write (`phase`, if given, marks the change).
 */
export function* evictOutput(c: SeqContext, x: Executor, tile: OutputTile, half: number, dramHas: Uint8Array, phase?: WriteBackPhase): Steps {
  const { start, ext } = tile;
  const shape = [ext[N]!, ext[G]!, ext[K]!, ext[P]!, ext[Q]!];
  const gst = gbufOutputStrides(c);
  const yOff = c.yIndex(start[N]!, start[G]!, start[K]!, start[P]!, start[Q]!);
  const expect = { space: TAG_SPACE.output, offset: yOff, strides: c.yTagStrides() };
  const dbox: Box = { shape, offset: yOff, strides: c.yTagStrides() };
  const has = markHeld(dramHas, dbox);
  const read: Req = { to: "gbuf", msg: { op: "read", region: c.gbufRegions.output![half]!, box: { shape, offset: 0, strides: gst }, ...(c.checked ? { expect } : {}) } };
  x.keep(yield step("gbuf", [read]));
  const p = x.take(read);
  // Outputs DRAM already holds a partial sum of are added to there (a read-modify-write).
  const op = has ? ("accumulate" as const) : ("write" as const);
  if (phase) phase.dramOnly = true;
  x.keep(yield step("dram", [{ to: "dram", msg: { op, tensor: c.hw.y, box: dbox, payload: p, ...(has && c.checked ? { expect } : {}) } }]));
}

