/**
 * The accumulate pass: drained sums go into the GBuf output tile (or DRAM when the GBuf bypasses
 * outputs), added to what is there with a read-modify-write; an output tile leaving the GBuf is
 * written to DRAM, added to what DRAM holds for it.
 */
import { InvariantError, sameNumbers, type Box, type Payload } from "../../core/index.js";
import type { SeqContext } from "./context.js";
import { step, type Executor, type Steps } from "./executor.js";
import { TAG_SPACE } from "./layout.js";
import { addressOrder, mergeGrid } from "./transfer.js";
import { G, K, N, P, Q, type OutTile, type OutputTile, type Req, type TileCoords } from "./types.js";

/** Adds drained sums into the GBuf output tile, or into DRAM when the GBuf bypasses outputs. */
export function* accumulate(
  c: SeqContext, x: Executor,
  sums: { tile: TileCoords; data: Int32Array; tags: Float64Array | undefined }[],
  gbufOutput: OutputTile | undefined,
  gbufHas: Uint8Array | undefined,
  half: number,
  dramHas: Uint8Array,
): Steps {
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
  yield* x.run(step(toGbuf ? "gbuf" : "dram", reqs));
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

/** Writes the GBuf output tile to DRAM, adding what DRAM already holds for it. */
export function* evictOutput(c: SeqContext, x: Executor, tile: OutputTile, half: number, dramHas: Uint8Array): Steps {
  const { start, ext } = tile;
  const shape = [ext[N]!, ext[G]!, ext[K]!, ext[P]!, ext[Q]!];
  const gst = gbufOutputStrides(c);
  const yOff = c.yIndex(start[N]!, start[G]!, start[K]!, start[P]!, start[Q]!);
  const expect = { space: TAG_SPACE.output, offset: yOff, strides: c.yTagStrides() };
  const dbox: Box = { shape, offset: yOff, strides: c.yTagStrides() };
  const has = markHeld(dramHas, dbox);
  const read: Req = { to: "gbuf", msg: { op: "read", region: c.gbufRegions.output![half]!, box: { shape, offset: 0, strides: gst }, ...(c.checked ? { expect } : {}) } };
  yield* x.run(step("gbuf", [read]));
  const p = x.take(read);
  // Outputs DRAM already holds a partial sum of are added to there (a read-modify-write).
  const op = has ? ("accumulate" as const) : ("write" as const);
  yield* x.run(step("dram", [{ to: "dram", msg: { op, tensor: c.hw.y, box: dbox, payload: p, ...(has && c.checked ? { expect } : {}) } }]));
}

