/**
 * The fetch pass (DRAM -> GBuf): which GBuf input and weight tiles a dram iteration needs that
 * are not resident, planned as data (DRAM reads, halo copies within the GBuf, and the GBuf writes
 * each feeds), and the steps that move them. An input tile that overlaps the resident one keeps
 * the overlap (gbuf-halo.ts): only the rest is read from DRAM.
 */
import type { Box } from "../../core/index.js";
import { startKey } from "../nest.js";
import type { SeqContext } from "./context.js";
import { step, type Executor, type Steps } from "./executor.js";
import { placeInputTile, type InputPlacement } from "./gbuf-halo.js";
import { runsOf } from "./geometry.js";
import { TAG_SPACE, WEIGHT_WALK } from "./layout.js";
import { C, G, INPUT_DIMS, K, N, NO_REQS, R, S, WEIGHT_DIMS, type FetchPlan, type FetchWrite, type GbufInputTile, type OutputTile, type Req, type Thread } from "./types.js";

/**
 * Decides which GBuf tiles an iteration of the dram loops needs that are not resident, and where
 * they go: a changed tile goes to the other half of a double-buffered region. An input tile keeps
 * the halo it shares with the resident one: in place when single-buffered, copied from the old
 * half when double-buffered.
 */
export function planFetch(
  c: SeqContext,
  dStart: Int32Array,
  dExt: Int32Array,
  keys: { readonly input: number; readonly weight: number },
  halves: { readonly input: number; readonly weight: number },
  input: GbufInputTile | undefined,
  weight: OutputTile | undefined,
): FetchPlan {
  const m = c.m;
  const sizes = c.nest.sizes;
  const reads: Req[] = [];
  const copies: Req[] = [];
  const writes: FetchWrite[] = [];
  const plan = { keys: { input: keys.input, weight: keys.weight }, halves: { input: halves.input, weight: halves.weight }, input, weight, reads, copies, writes };
  if (m.gbuf.keep.input) {
    const key = startKey(dStart, INPUT_DIMS, sizes);
    if (key !== keys.input) {
      const double = c.gbufRegions.input!.length > 1;
      if (!Number.isNaN(keys.input)) plan.halves.input = double ? 1 - halves.input : 0;
      plan.keys.input = key;
      const next = placeInputTile(c, dStart, dExt, input, !double);
      plan.input = next.tile;
      writes.push(...fetchInputTile(c, next, plan.halves.input, reads));
      if (double && next.kept) writes.push(...copyHalo(c, input!, next, halves.input, plan.halves.input, copies));
    }
  }
  if (m.gbuf.keep.weight) {
    const key = startKey(dStart, WEIGHT_DIMS, sizes);
    if (key !== keys.weight) {
      if (!Number.isNaN(keys.weight)) plan.halves.weight = c.gbufRegions.weight!.length > 1 ? 1 - halves.weight : 0;
      plan.keys.weight = key;
      plan.weight = { start: dStart, ext: dExt };
      writes.push(fetchWeightTile(c, dStart, dExt, plan.halves.weight, reads));
    }
  }
  return plan;
}

/**
 * Moves a planned fetch: DRAM reads and halo copies' GBuf reads, then GBuf writes of what they
 * returned. `prev` is the fetch of the resident tiles (its thread, if it may still be running:
 * a prefetch). When either fetch copies a halo, the copies and the writes wait for it: the copies
 * read the tile it brings, and the writes go to the half it may still be copying from. The
 * writes also wait for `readers`, threads whose GBuf reads of the half they write may still be
 * to come ({@link readersOf}).
 */
export function* runFetch(x: Executor, plan: FetchPlan, prev?: { readonly thread: Thread | undefined; readonly plan: FetchPlan }, readers: readonly Thread[] = []): Steps {
  if (plan.reads.length === 0 && plan.copies.length === 0) return;
  const wait = prev?.thread && !prev.thread.done && (plan.copies.length > 0 || prev.plan.copies.length > 0) ? prev.thread : undefined;
  if (wait) {
    if (plan.reads.length > 0) x.keep(yield step("dram", plan.reads));
    yield { reason: "dram", reqs: NO_REQS, join: wait };
    if (plan.copies.length > 0) x.keep(yield step("gbuf", plan.copies));
  } else {
    x.keep(yield step("dram", [...plan.reads, ...plan.copies]));
  }
  for (const r of readers) if (!r.done) yield { reason: "gbuf", reqs: NO_REQS, join: r };
  const writes: Req[] = plan.writes.map((f) => ({ to: "gbuf", msg: { op: "write", region: f.region, box: f.box, payload: x.take(f.read) } }));
  x.keep(yield step("gbuf", writes));
}

/** GBuf reads issued by a thread of their own (a pipelined program's reads that wait for their tile's prefetch). */
export interface PendingReads {
  readonly thread: Thread;
  readonly reads: readonly Req[];
}

/**
 * Of `pending`, the threads still running whose reads touch a GBuf region `plan` writes: a
 * prefetch into a half must not overwrite words that a read of the tile before still has to
 * take (a pipelined program plans two iterations ahead, so the prefetch of tile t + 2 may start
 * while tile t's last reads wait for tile t's own prefetch). Drops the finished ones from `pending`.
 */
export function readersOf(plan: FetchPlan, pending: PendingReads[]): Thread[] {
  for (let i = pending.length - 1; i >= 0; i--) if (pending[i]!.thread.done) pending.splice(i, 1);
  const written = new Set(plan.writes.map((w) => w.region));
  return pending.filter((p) => p.reads.some((q) => q.to === "gbuf" && written.has(q.msg.region))).map((p) => p.thread);
}

/** Sorted coordinates of `all` not in `kept` (sorted). */
function without(all: readonly number[], kept: readonly number[]): number[] {
  const k = new Set(kept);
  return all.filter((v) => !k.has(v));
}

/**
 * The DRAM reads of an input tile's words that are not kept (only the rows and columns some
 * window reads, in runs: the rows the kept part does not cover, then the kept rows' other
 * columns) and the GBuf writes they feed, at the slots of the tile's rows and columns.
 */
export function fetchInputTile(c: SeqContext, next: InputPlacement, half: number, fetch: Req[]): FetchWrite[] {
  const { tile, kept } = next;
  const parts = kept
    ? [
        { rows: without(tile.rows, kept.rows), cols: tile.cols },
        { rows: kept.rows, cols: without(tile.cols, kept.cols) },
      ]
    : [{ rows: tile.rows, cols: tile.cols }];
  const done: FetchWrite[] = [];
  for (const part of parts) done.push(...fetchInputPart(c, tile, part.rows, part.cols, half, fetch));
  return done;
}

/** The DRAM reads of rows x cols of an input tile (in runs) and the GBuf writes they feed. */
function fetchInputPart(c: SeqContext, tile: GbufInputTile, rows: readonly number[], cols: readonly number[], half: number, fetch: Req[]): FetchWrite[] {
  const { start, ext } = tile;
  const region = c.gbufRegions.input![half]!;
  const MC = c.gbufInputCols;
  const l = c.layer;
  const rowRuns = runsOf(rows, (v) => v, (v) => tile.rowRank.get(v)!);
  const colRuns = runsOf(cols, (v) => v, (v) => tile.colRank.get(v)!);
  const done: FetchWrite[] = [];
  const Ctot = l.inChannels;
  const HW = l.inHeight * l.inWidth;
  const ch0 = start[G]! * c.Cg + start[C]!;
  for (const rr of rowRuns) {
    for (const cr of colRuns) {
      const shape = [ext[N]!, ext[G]!, ext[C]!, rr.count, cr.count];
      const box: Box = {
        shape,
        offset: c.xIndex(start[N]!, ch0, rr.coord0, cr.coord0),
        strides: [Ctot * HW, c.Cg * HW, HW, l.inWidth * rr.coordStep, cr.coordStep],
      };
      const read: Req = { to: "dram", msg: { op: "read", tensor: c.hw.x, box, ...(c.checked ? { expect: inputTags(c, start, rr.coord0, cr.coord0, rr.coordStep, cr.coordStep) } : {}) } };
      fetch.push(read);
      const dst: Box = { shape, offset: rr.dst0 * MC + cr.dst0, strides: [...gbufInputStrides(c), MC * rr.dstStep, cr.dstStep] };
      done.push({ read, region, box: dst });
    }
  }
  return done;
}

/**
 * The halo copy of a double-buffered GBuf: the kept words' GBuf reads from the old tile's half
 * (at its slots) and the writes into the new tile's half (at the new tile's slots).
 */
function copyHalo(c: SeqContext, old: GbufInputTile, next: InputPlacement, oldHalf: number, half: number, copies: Req[]): FetchWrite[] {
  const { tile, kept } = next;
  const from = c.gbufRegions.input![oldHalf]!;
  const to = c.gbufRegions.input![half]!;
  const MC = c.gbufInputCols;
  const lead = [tile.ext[N]!, tile.ext[G]!, tile.ext[C]!];
  const strides = gbufInputStrides(c);
  const rowRuns = runsOf(kept!.rows, (v) => old.rowRank.get(v)!, (v) => tile.rowRank.get(v)!);
  const colRuns = runsOf(kept!.cols, (v) => old.colRank.get(v)!, (v) => tile.colRank.get(v)!);
  const done: FetchWrite[] = [];
  for (const rr of rowRuns) {
    for (const cr of colRuns) {
      const shape = [...lead, rr.count, cr.count];
      const box: Box = { shape, offset: rr.src0 * MC + cr.src0, strides: [...strides, MC * rr.srcStep, cr.srcStep] };
      const read: Req = { to: "gbuf", msg: { op: "read", region: from, box, ...(c.checked ? { expect: inputTags(c, tile.start, rr.coord0, cr.coord0, rr.coordStep, cr.coordStep) } : {}) } };
      copies.push(read);
      done.push({ read, region: to, box: { shape, offset: rr.dst0 * MC + cr.dst0, strides: [...strides, MC * rr.dstStep, cr.dstStep] } });
    }
  }
  return done;
}

/** Strides over [N, G, C] of a GBuf input region (a tile's first word at 0). */
function gbufInputStrides(c: SeqContext): number[] {
  const ge = c.nest.gbufExtent;
  const MR = c.gbufInputRows, MC = c.gbufInputCols;
  return [ge[G]! * ge[C]! * MR * MC, ge[C]! * MR * MC, MR * MC];
}

/** The tags (checked mode) of input words [N, G, C, rows, cols] of a tile from real (row, col), with the given steps. */
function inputTags(c: SeqContext, start: Int32Array, row: number, col: number, rowStep: number, colStep: number) {
  const l = c.layer;
  const HpWp = c.Hp * c.Wp;
  return {
    space: TAG_SPACE.input,
    offset: c.xTag(start[N]!, start[G]! * c.Cg + start[C]!, row + l.pads[0], col + l.pads[1]),
    strides: [l.inChannels * HpWp, c.Cg * HpWp, HpWp, c.Wp * rowStep, colStep],
  };
}


/** The DRAM read of a weight tile and the GBuf write it feeds. */
export function fetchWeightTile(c: SeqContext, start: Int32Array, ext: Int32Array, half: number, fetch: Req[]): FetchWrite {
  const region = c.gbufRegions.weight![half]!;
  const l = c.layer;
  const RS = l.kernelHeight * l.kernelWidth;
  // The box walks the layout's order ([G, K, C, R, S] for OIHW), so that its words come in DRAM
  // address order (the runs the layout makes); the GBuf side walks the same order.
  const order = WEIGHT_WALK[c.wLayout];
  const pick = (v: ArrayLike<number>): number[] => order.map((d) => v[d]!);
  const srcStrides = [c.Kg * c.Cg * RS, c.Cg * RS, RS, l.kernelWidth, 1];
  const offset = c.wIndex(start[G]!, start[K]!, start[C]!, start[R]!, start[S]!);
  const shape = pick([ext[G]!, ext[K]!, ext[C]!, ext[R]!, ext[S]!]);
  const read: Req = {
    to: "dram",
    msg: {
      op: "read",
      tensor: c.hw.w,
      box: { shape, offset: c.wDram(start[G]!, start[K]!, start[C]!, start[R]!, start[S]!), strides: pick(c.wDramStrides()) },
      ...(c.checked ? { expect: { space: TAG_SPACE.weight, offset, strides: pick(srcStrides) } } : {}),
    },
  };
  fetch.push(read);
  const dst: Box = { shape, offset: 0, strides: pick(c.gbufWeightStrides()) };
  return { read, region, box: dst };
}
