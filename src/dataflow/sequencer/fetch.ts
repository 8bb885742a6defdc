/**
 * The fetch pass (DRAM -> GBuf): which GBuf input and weight tiles a dram iteration needs that
 * are not resident, planned as data (DRAM reads, and the GBuf writes each feeds), and the steps
 * that move them.
 */
import type { Box } from "../../core/index.js";
import { startKey } from "../nest.js";
import type { SeqContext } from "./context.js";
import { step, type Executor, type Steps } from "./executor.js";
import { runsOf } from "./geometry.js";
import { TAG_SPACE } from "./layout.js";
import { C, G, INPUT_DIMS, K, N, R, S, WEIGHT_DIMS, type FetchPlan, type FetchWrite, type GbufInputTile, type OutputTile, type Req } from "./types.js";

/**
 * Decides which GBuf tiles an iteration of the dram loops needs that are not resident, and where
 * they go: a changed tile goes to the other half of a double-buffered region.
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
  const writes: FetchWrite[] = [];
  const plan = { keys: { input: keys.input, weight: keys.weight }, halves: { input: halves.input, weight: halves.weight }, input, weight, reads, writes };
  if (m.gbuf.keep.input) {
    const key = startKey(dStart, INPUT_DIMS, sizes);
    if (key !== keys.input) {
      if (!Number.isNaN(keys.input)) plan.halves.input = c.gbufRegions.input!.length > 1 ? 1 - halves.input : 0;
      plan.keys.input = key;
      const { rows: rr, cols: cc } = c.inputRowsCols(dStart, dExt);
      const run = (v: readonly number[]) => (v.length > 0 && v[v.length - 1]! - v[0]! === v.length - 1 ? v[0]! : NaN);
      plan.input = { start: dStart, ext: dExt, rowRank: new Map(rr.map((v, i) => [v, i])), colRank: new Map(cc.map((v, i) => [v, i])), rowRun: run(rr), colRun: run(cc) };
      writes.push(...fetchInputTile(c, dStart, dExt, rr, cc, plan.halves.input, reads));
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

/** Moves a planned fetch: DRAM reads, then GBuf writes of what they returned. */
export function* runFetch(c: SeqContext, x: Executor, plan: FetchPlan): Steps {
  if (plan.reads.length === 0) return;
  yield* x.run(step("dram", plan.reads));
  const writes: Req[] = plan.writes.map((f) => ({ to: "gbuf", msg: { op: "write", id: c.id(), region: f.region, box: f.box, payload: x.take(f.readId) } }));
  yield* x.run(step("gbuf", writes));
}

/**
 * The DRAM reads of an input tile (only the rows and columns some window reads, in runs) and the
 * GBuf writes they feed (compact layout: the rank of each stored row and column).
 */
export function fetchInputTile(c: SeqContext, start: Int32Array, ext: Int32Array, rows: number[], cols: number[], half: number, fetch: Req[]): FetchWrite[] {
  const region = c.gbufRegions.input![half]!;
  const MR = c.gbufInputRows;
  const MC = c.gbufInputCols;
  const ge = c.nest.gbufExtent;
  const l = c.layer;
  const rowRuns = runsOf(rows, (c) => c, (c) => rows.indexOf(c));
  const colRuns = runsOf(cols, (c) => c, (c) => cols.indexOf(c));
  const done: FetchWrite[] = [];
  const Ctot = l.inChannels;
  const HW = l.inHeight * l.inWidth;
  for (const rr of rowRuns) {
    for (const cr of colRuns) {
      const shape = [ext[N]!, ext[G]!, ext[C]!, rr.count, cr.count];
      const ch0 = start[G]! * c.Cg + start[C]!;
      const box: Box = {
        shape,
        offset: c.xIndex(start[N]!, ch0, rr.coord0, cr.coord0),
        strides: [Ctot * HW, c.Cg * HW, HW, l.inWidth * rr.coordStep, cr.coordStep],
      };
      const tagBox = {
        space: TAG_SPACE.input,
        offset: c.xTag(start[N]!, ch0, rr.coord0 + l.pads[0], cr.coord0 + l.pads[1]),
        strides: [Ctot * c.Hp * c.Wp, c.Cg * c.Hp * c.Wp, c.Hp * c.Wp, c.Wp * rr.coordStep, cr.coordStep],
      };
      const id = c.id();
      fetch.push({ to: "dram", msg: { op: "read", id, tensor: c.hw.x, box, ...(c.checked ? { expect: tagBox } : {}) } });
      const dst: Box = {
        shape,
        offset: rr.dst0 * MC + cr.dst0,
        strides: [ge[G]! * ge[C]! * MR * MC, ge[C]! * MR * MC, MR * MC, MC * rr.dstStep, cr.dstStep],
      };
      done.push({ readId: id, region, box: dst });
    }
  }
  return done;
}

/** The DRAM read of a weight tile and the GBuf write it feeds. */
export function fetchWeightTile(c: SeqContext, start: Int32Array, ext: Int32Array, half: number, fetch: Req[]): FetchWrite {
  const region = c.gbufRegions.weight![half]!;
  const l = c.layer;
  const RS = l.kernelHeight * l.kernelWidth;
  const shape = [ext[G]!, ext[K]!, ext[C]!, ext[R]!, ext[S]!];
  const srcStrides = [c.Kg * c.Cg * RS, c.Cg * RS, RS, l.kernelWidth, 1];
  const offset = c.wIndex(start[G]!, start[K]!, start[C]!, start[R]!, start[S]!);
  const id = c.id();
  fetch.push({
    to: "dram",
    msg: {
      op: "read",
      id,
      tensor: c.hw.w,
      box: { shape, offset: c.wDram(start[G]!, start[K]!, start[C]!, start[R]!, start[S]!), strides: c.wDramStrides() },
      ...(c.checked ? { expect: { space: TAG_SPACE.weight, offset, strides: srcStrides } } : {}),
    },
  });
  const dst: Box = { shape, offset: 0, strides: c.gbufWeightStrides() };
  return { readId: id, region, box: dst };
}
