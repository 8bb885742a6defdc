/**
 * The delivery passes (GBuf or DRAM -> RF) for weights and shared tiles, and the psum fills: the
 * reads at the source and the multicast deliveries (one read, many PEs) they feed.
 */
import type { Box, Payload } from "../../core/index.js";
import type { DramTensor, GbufRegion } from "../../memory/index.js";
import type { PeRect } from "../../pe-array/index.js";
import { startKey } from "../nest.js";
import type { SeqContext } from "./context.js";
import { distinctKeys, rectangles } from "./geometry.js";
import { TAG_SPACE } from "./layout.js";
import { rowBoxes } from "./row-boxes.js";
import { addressPermutation, inPeOrder, joinPayloads, sameStructure, structureHash } from "./transfer.js";
import { C, G, K, N, P, Q, R, S, WEIGHT_DIMS, type DeliveryGroup, type Deferred, type Req } from "./types.js";
/** Where a delivery's reads come from: a GBuf region, or DRAM when the GBuf bypasses the tensor. */
type ReadSource = { readonly region: GbufRegion } | { readonly tensor: DramTensor };

/** A read of `box` from `source`, appended to `reads` and returned; checked runs state the tags it expects. */
function plannedRead(c: SeqContext, source: ReadSource, box: Box, tags: { space: number; offset: number; strides: number[] }, reads: Req[]): Req {
  const expect = c.checked ? { expect: tags } : {};
  const q: Req = "region" in source ? { to: "gbuf", msg: { op: "read", region: source.region, box, ...expect } } : { to: "dram", msg: { op: "read", tensor: source.tensor, box, ...expect } };
  reads.push(q);
  return q;
}

/**
 * Reads and deliveries for groups of PEs that each share one tile. Groups whose tiles have the
 * same structure (a class) are served by one transfer that hands each PE its group's tile (a box
 * index per PE), as a systolic array feeds all its rows at once: the same words and counts as one
 * transfer per group, in fewer transactions. A read is a Box, which is affine, so each run of the
 * class's groups whose tiles differ by one constant address step is gathered by its own read
 * (one per piece), and the transfer waits for all of them and sends their payloads one after
 * another. A group alone in its class goes as it is: one read per piece, one transfer per rectangle.
 */
export function emitDeliveries(c: SeqContext, part: "input" | "weight", groups: DeliveryGroup[], source: ReadSource, reads: Req[]): Deferred[] {
  const out: Deferred[] = [];
  const space = part === "input" ? TAG_SPACE.input : TAG_SPACE.weight;
  const read = (box: Box, tag: number, tagStrides: number[]): Req => plannedRead(c, source, box, { space, offset: tag, strides: tagStrides }, reads);
  for (const list of structureClasses(groups)) {
    if (list.length === 1) {
      const g = list[0]!;
      for (const p of g.pieces) {
        const q = read({ shape: p.shape, offset: p.src, strides: p.srcStrides }, p.tag, [...p.tagStrides]);
        out.push({ reads: [q], part, send: ([payload]) => g.rects.map((pes) => ({ to: "noc" as const, msg: { op: "deliver" as const, part, pes, box: p.dst, payload: payload! } })) });
      }
      continue;
    }
    list.sort((a, b) => a.pieces[0]!.src - b.pieces[0]!.src || a.pieces[0]!.tag - b.pieces[0]!.tag);
    const runs = constantStepRuns(list);
    // Box b of the transfer is the b-th group in run order (the order the reads' payloads come in).
    const { pes, boxIndex } = spanOfGroups(runs.flat());
    list[0]!.pieces.forEach((p, i) => {
      // (runs that step evenly are read together from the GBuf: runBlocks)
      const blocks = "region" in source ? runBlocks(runs, i) : runs.map(() => 1);
      // A read's payload joins as it is when its runs' groups are not interleaved (a block's runs
      // lie one after another in it); an interleaved one, [word][group] per run, joins run by run
      // (a block's cut into its runs' views: runPayloads).
      const reads: Req[] = [];
      const split: number[] = [];
      const groups: number[] = [];
      for (let k = 0, b = 0; b < blocks.length; k += blocks[b]!, b++) {
        const n = blocks[b]!;
        const g = n === 1 ? gatherRead(runs[k]!, i, read) : blockRead(runs.slice(k, k + n), i, read);
        reads.push(g.read);
        split.push(g.interleave ? n : 1);
        if (g.interleave) for (let j = 0; j < n; j++) groups.push(runs[k + j]!.length);
        else groups.push(1);
      }
      // (decided here, not at every replayed delivery)
      const cut = split.some((n) => n > 1) ? split : undefined;
      out.push({
        reads,
        part,
        send: (payloads) => {
          return [{ to: "noc", msg: { op: "deliver", part, pes, box: p.dst, payload: joinPayloads(cut ? runPayloads(payloads, cut) : (payloads as Payload[]), groups), boxIndex } }];
        },
      });
    });
  }
  return out;
}

/** The class's groups (sorted by address) cut into runs whose tiles differ by one constant step. */
function constantStepRuns(list: readonly DeliveryGroup[]): DeliveryGroup[][] {
  const runs: DeliveryGroup[][] = [];
  let run: DeliveryGroup[] = [];
  for (const g of list) {
    if (run.length >= 2 && !sameStep(stepOf(run[0]!, run[1]!), stepOf(run[run.length - 1]!, g))) {
      runs.push(run);
      run = [];
    }
    run.push(g);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

/**
 * The read of piece `i` of every group of a run: one box with the run's step as a dimension (a
 * single group's piece as it is). The read walks addresses in order, so when the groups' tiles
 * interleave (their step is finer than the piece's innermost stride, e.g. the columns of a
 * systolic array each streaming one pixel's channels) the group index goes innermost, and the
 * payload is transposed back to one tile after another (`interleave`).
 */
function gatherRead(run: readonly DeliveryGroup[], i: number, read: (box: Box, tag: number, tagStrides: number[]) => Req): { read: Req; interleave: boolean } {
  const r = runBox(run, i);
  return { read: read(r.box, r.tag, r.tagStrides), interleave: r.interleave };
}

/** {@link gatherRead}'s box, expected tags and order. */
function runBox(run: readonly DeliveryGroup[], i: number): { box: Box; tag: number; tagStrides: number[]; interleave: boolean } {
  const p = run[0]!.pieces[i]!;
  if (run.length === 1) return { box: { shape: p.shape, offset: p.src, strides: p.srcStrides }, tag: p.tag, tagStrides: [...p.tagStrides], interleave: false };
  const [srcStep, tagStep] = stepOf(run[0]!, run[1]!)[i]!;
  let d = p.shape.length - 1;
  while (d >= 0 && p.shape[d]! <= 1) d--;
  const interleave = d >= 0 && Math.abs(srcStep) < Math.abs(p.srcStrides[d]!);
  const box: Box = interleave
    ? { shape: [...p.shape, run.length], offset: p.src, strides: [...p.srcStrides, srcStep] }
    : { shape: [run.length, ...p.shape], offset: p.src, strides: [srcStep, ...p.srcStrides] };
  return { box, tag: p.tag, tagStrides: interleave ? [...p.tagStrides, tagStep] : [tagStep, ...p.tagStrides], interleave };
}

/**
 * How many runs each read of piece `i` gathers, in run order: runs of one length whose steps
 * within (piece `i`'s source and tag) are equal and whose starts step evenly are one two-level
 * box ({@link blockRead}); any other run is read alone (1). The same words as a read per run, in
 * the same order, in fewer requests (docs/timing.md, "Input loads as blocks").
 */
function runBlocks(runs: readonly (readonly DeliveryGroup[])[], i: number): number[] {
  const blocks: number[] = [];
  const first = (k: number) => runs[k]![0]!.pieces[i]!;
  const inner = (k: number) => (runs[k]!.length > 1 ? stepOf(runs[k]![0]!, runs[k]![1]!)[i]! : undefined);
  const fits = (k: number, k0: number): boolean => {
    const a = runs[k0]!, b = runs[k]!;
    if (a.length !== b.length) return false;
    const ia = inner(k0), ib = inner(k);
    if (ia && ib && (ia[0] !== ib[0] || ia[1] !== ib[1])) return false;
    if (k - k0 < 2) return true;
    return first(k).src - first(k - 1).src === first(k0 + 1).src - first(k0).src && first(k).tag - first(k - 1).tag === first(k0 + 1).tag - first(k0).tag;
  };
  for (let k0 = 0; k0 < runs.length; ) {
    let k = k0 + 1;
    while (k < runs.length && fits(k, k0)) k++;
    blocks.push(k - k0);
    k0 = k;
  }
  return blocks;
}

/**
 * The read of piece `i` of every group of `block`, runs of one length stepping evenly
 * ({@link runBlocks}): {@link gatherRead}'s box of the first run with the step between runs as
 * an outer dimension, so the payload holds the runs' payloads one after another.
 */
function blockRead(block: readonly (readonly DeliveryGroup[])[], i: number, read: (box: Box, tag: number, tagStrides: number[]) => Req): { read: Req; interleave: boolean } {
  const r = runBox(block[0]!, i);
  const p0 = block[0]![0]!.pieces[i]!, p1 = block[1]![0]!.pieces[i]!;
  const box: Box = { shape: [block.length, ...r.box.shape], offset: r.box.offset, strides: [p1.src - p0.src, ...r.box.strides] };
  return { read: read(box, r.tag, [p1.tag - p0.tag, ...r.tagStrides]), interleave: r.interleave };
}

/** The payloads to join from the reads' (`split`: the parts to cut each into): a block's cut into its runs' equal parts (views). */
function runPayloads(payloads: readonly (Payload | undefined)[], split: readonly number[]): Payload[] {
  const out: Payload[] = [];
  split.forEach((n, b) => {
    const p = payloads[b]!;
    if (n === 1) {
      out.push(p);
      return;
    }
    const len = p.data.length / n;
    for (let k = 0; k < n; k++) {
      const data = p.data.subarray(k * len, (k + 1) * len);
      out.push(p.tags ? { data, tags: p.tags.subarray(k * len, (k + 1) * len) } : { data });
    }
  });
  return out;
}

/** Classes of groups with the same structure, in order of first appearance (found by a hash, confirmed by comparing the structures). */
function structureClasses(groups: readonly DeliveryGroup[]): DeliveryGroup[][] {
  const classes: DeliveryGroup[][] = [];
  const byHash = new Map<number, DeliveryGroup[][]>();
  for (const g of groups) {
    if (g.pieces.length === 0) continue;
    const h = structureHash(g.pieces);
    let bucket = byHash.get(h);
    if (!bucket) byHash.set(h, (bucket = []));
    let list = bucket.find((k) => sameStructure(k[0]!.pieces, g.pieces));
    if (!list) {
      list = [];
      bucket.push(list);
      classes.push(list);
    }
    list.push(g);
  }
  return classes;
}

/** Per piece, the address and tag step from group `a`'s tile to group `b`'s. */
function stepOf(a: DeliveryGroup, b: DeliveryGroup): (readonly [number, number])[] {
  return a.pieces.map((p, i) => [b.pieces[i]!.src - p.src, b.pieces[i]!.tag - p.tag] as const);
}

function sameStep(x: readonly (readonly [number, number])[], y: readonly (readonly [number, number])[]): boolean {
  return x.every((v, i) => v[0] === y[i]![0] && v[1] === y[i]![1]);
}

/** The rectangle of PEs the groups cover, and each PE's group (its box index; -1: none). */
function spanOfGroups(run: readonly DeliveryGroup[]): { pes: PeRect; boxIndex: Int32Array } {
  let r0 = Infinity, c0 = Infinity, r1 = -1, c1 = -1;
  for (const g of run) {
    for (const r of g.rects) {
      r0 = Math.min(r0, r.row0);
      c0 = Math.min(c0, r.col0);
      r1 = Math.max(r1, r.row0 + r.rows);
      c1 = Math.max(c1, r.col0 + r.cols);
    }
  }
  const pes: PeRect = { row0: r0, col0: c0, rows: r1 - r0, cols: c1 - c0 };
  const boxIndex = new Int32Array(pes.rows * pes.cols).fill(-1);
  run.forEach((g, b) => {
    for (const r of g.rects) for (let i = 0; i < r.rows; i++) for (let j = 0; j < r.cols; j++) boxIndex[(r.row0 - r0 + i) * pes.cols + (r.col0 - c0 + j)] = b;
  });
  return { pes, boxIndex };
}

/** How a weight delivery finds a PE's tile ({@link perPeDeliveries}): its source address and tag index, and their strides within a tile. */
interface TileSources {
  readonly srcOf: (st: Int32Array) => number;
  readonly tagOf: (st: Int32Array) => number;
  readonly srcStrides: readonly number[];
  readonly tagStrides: readonly number[];
  readonly source: ReadSource;
}

/**
 * The order a box of `shape` and `strides` is read in: its own when its dimensions of more than
 * one element already lie in address order (the others move no word), else address order.
 */
function readOrder(shape: readonly number[], strides: readonly number[]): number[] {
  const order = addressPermutation(strides);
  let last = -1;
  for (const k of order) {
    if (shape[k]! <= 1) continue;
    if (k < last) return order;
    last = k;
  }
  return shape.map((_, k) => k);
}

/**
 * A rectangle of PEs that each need their own weight tile of one extent (box `d` in their
 * registers; `at(i, j)` the start of PE (i, j) of the rectangle): when the tiles' sources and tags
 * are affine along the columns and, down the rows, in two-level boxes (a PE row may stand for
 * several spatial loops: row-boxes.ts), one read per box, with its dimensions in address order
 * (largest stride outermost: consecutive words share bank words), and one transfer that hands
 * each PE its own tile, in PE order. False, planning nothing, when they are not.
 */
function perPeDeliveries(c: SeqContext, rect: PeRect, at: (i: number, j: number) => Int32Array, t: TileSources, d: Box, reads: Req[], out: Deferred[]): boolean {
  const sv = new Float64Array(rect.rows);
  const tv = new Float64Array(rect.rows);
  for (let i = 0; i < rect.rows; i++) {
    sv[i] = t.srcOf(at(i, 0));
    tv[i] = t.tagOf(at(i, 0));
  }
  const cj = rect.cols > 1 ? t.srcOf(at(0, 1)) - sv[0]! : 0;
  const tj = rect.cols > 1 ? t.tagOf(at(0, 1)) - tv[0]! : 0;
  for (let i = 0; i < rect.rows; i++) {
    for (let j = 1; j < rect.cols; j++) {
      const st = at(i, j);
      if (t.srcOf(st) !== sv[i]! + j * cj || t.tagOf(st) !== tv[i]! + j * tj) return false;
    }
  }
  for (const b of rowBoxes(sv, tv)) {
    const pes: PeRect = { row0: rect.row0 + b.from, col0: rect.col0, rows: b.outer * b.inner, cols: rect.cols };
    const two = b.outer > 1;
    const shape = [...(two ? [b.outer, b.inner] : [b.inner]), rect.cols, ...d.shape];
    const srcStrides = [...(two ? [b.srcOuter, b.srcInner] : [b.srcInner]), cj, ...t.srcStrides];
    const tagStrides = [...(two ? [b.tagOuter, b.tagInner] : [b.tagInner]), tj, ...t.tagStrides];
    const order = readOrder(shape, srcStrides);
    const pick = (a: readonly number[]) => order.map((k) => a[k]!);
    const q = plannedRead(c, t.source, { shape: pick(shape), offset: sv[b.from]!, strides: pick(srcStrides) }, { space: TAG_SPACE.weight, offset: tv[b.from]!, strides: pick(tagStrides) }, reads);
    const send = order.every((k, i) => k === i)
      ? ([payload]: readonly Payload[]): Req[] => [{ to: "noc", msg: { op: "deliver", part: "weight", pes, box: d, payload: payload!, perPe: true } }]
      : ([payload]: readonly Payload[]): Req[] => [{ to: "noc", msg: { op: "deliver", part: "weight", pes, box: d, payload: inPeOrder(payload!, shape, order), perPe: true } }];
    out.push({ reads: [q], part: "weight", send });
  }
  return true;
}

/** Reads and deliveries of the PEs' new weight tiles (a few gathered reads when every PE needs its own). */
export function deliverWeights(
  c: SeqContext,
  keys: Float64Array,
  rows: number,
  cols: number,
  peStart: Int32Array[],
  peExt: Int32Array[],
  gbufWeight: { start: Int32Array; ext: Int32Array } | undefined,
  half: number,
  reads: Req[],
  rfBase: number,
): Deferred[] {
  const l = c.layer;
  const out: Deferred[] = [];
  const re = c.nest.rfExtent;
  const RS = l.kernelHeight * l.kernelWidth;
  const tagStrides = [c.Kg * c.Cg * RS, c.Cg * RS, RS, l.kernelWidth, 1];
  const fromGbuf = c.m.gbuf.keep.weight;
  const gs = gbufWeight?.start;
  const gStrides = c.gbufWeightStrides();
  // Source address of a PE's tile (GBuf region or DRAM) and its tag index.
  const srcOf = (st: Int32Array) =>
    fromGbuf
      ? (st[G]! - gs![G]!) * gStrides[0]! + (st[K]! - gs![K]!) * gStrides[1]! + (st[C]! - gs![C]!) * gStrides[2]! + (st[R]! - gs![R]!) * gStrides[3]! + (st[S]! - gs![S]!) * gStrides[4]!
      : c.wDram(st[G]!, st[K]!, st[C]!, st[R]!, st[S]!);
  const tagOf = (st: Int32Array) => c.wIndex(st[G]!, st[K]!, st[C]!, st[R]!, st[S]!);
  const srcStrides = fromGbuf ? gStrides : c.wDramStrides();
  const dst = (ext: Int32Array): Box => ({ shape: [ext[G]!, ext[K]!, ext[C]!, ext[R]!, ext[S]!], offset: rfBase, strides: [re[K]! * re[C]! * re[R]! * re[S]!, re[C]! * re[R]! * re[S]!, re[R]! * re[S]!, re[S]!, 1] });
  const source: ReadSource = fromGbuf ? { region: c.gbufRegions.weight![half]! } : { tensor: c.hw.w };
  const tiles: TileSources = { srcOf, tagOf, srcStrides, tagStrides, source };
  // Every PE needs its own tile (no sharing): when the tiles' sources are affine in the PE's
  // position (down the rows, in boxes: perPeDeliveries), a few reads gather them and one
  // transfer per read hands each PE its own (per-PE payload).
  if (distinctKeys(keys) > 1) {
    const extKeys = new Float64Array(keys.length).fill(NaN);
    for (let pe = 0; pe < keys.length; pe++) if (!Number.isNaN(keys[pe]!)) extKeys[pe] = startKey(peExt[pe]!, WEIGHT_DIMS, c.nest.sizes);
    const rest = new Float64Array(keys.length).fill(NaN);
    for (const [, rects] of rectangles(extKeys, rows, cols)) {
      for (const rect of rects) {
        const at = (i: number, j: number) => peStart[(rect.row0 + i) * cols + rect.col0 + j]!;
        if (perPeDeliveries(c, rect, at, tiles, dst(peExt[rect.row0 * cols + rect.col0]!), reads, out)) continue;
        for (let i = 0; i < rect.rows; i++) for (let j = 0; j < rect.cols; j++) rest[(rect.row0 + i) * cols + rect.col0 + j] = keys[(rect.row0 + i) * cols + rect.col0 + j]!;
      }
    }
    keys = rest;
  }
  const shared: DeliveryGroup[] = [];
  for (const [, rects] of rectangles(keys, rows, cols)) {
    const pe0 = rects[0]!.row0 * cols + rects[0]!.col0;
    const start = peStart[pe0]!;
    const d = dst(peExt[pe0]!);
    shared.push({ rects, pieces: [{ shape: [...d.shape], src: srcOf(start), srcStrides, tag: tagOf(start), tagStrides, dst: d }] });
  }
  out.push(...emitDeliveries(c, "weight", shared, source, reads));
  return out;
}

/** Fills of the PEs' new psum tiles with 0 (one per rectangle of equal tile shapes). */
export function psumInit(c: SeqContext, keys: Float64Array, rows: number, cols: number, peStart: Int32Array[], peExt: Int32Array[]): Req[] {
  const out: Req[] = [];
  for (const [, rects] of rectangles(keys, rows, cols)) {
    for (const pes of rects) {
      const ext = peExt[pes.row0 * cols + pes.col0]!;
      const box = c.psumBox(ext, c.psumBase);
      // The tags the words take, checked runs only: each PE's output tile's. (Spread into the
      // message as the input fills spread theirs, so that fills share one object shape.)
      let tags = {};
      if (c.checked) {
        const perPe = new Float64Array(pes.rows * pes.cols);
        for (let i = 0; i < pes.rows; i++) {
          for (let j = 0; j < pes.cols; j++) {
            const s = peStart[(pes.row0 + i) * cols + pes.col0 + j]!;
            perPe[i * pes.cols + j] = c.yIndex(s[N]!, s[G]!, s[K]!, s[P]!, s[Q]!);
          }
        }
        tags = { tags: { space: TAG_SPACE.output, perPe, strides: c.yTagStrides() } };
      }
      out.push({ to: "pe", msg: { op: "fill", part: "psum", pes, box, value: 0, ...tags } });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
