/**
 * The input delivery pass (GBuf or DRAM -> RF): for the PEs whose input tile changes, the reads,
 * the network deliveries, the padding fills (generated in place, never fetched) and, with halo
 * reuse, the slides of the words a PE keeps.
 */
import type { Box } from "../../core/index.js";
import type { PeRect, PeTagExpect } from "../../pe-array/index.js";
import type { SeqContext } from "./context.js";
import { emitDeliveries } from "./deliver.js";
import { rectangles, runsOf } from "./geometry.js";
import { TAG_SPACE } from "./layout.js";
import { C, G, N, type DeliveryGroup, type Deferred, type GbufInputTile, type InputSpan, type Piece, type Req, type SpanGroup, type SpanPlace } from "./types.js";

/** Padding bands by box: the PEs that need each (1 / NaN, for rectangles()) and, checked, their tag bases. */
type Padding = Map<string, { box: Box; need: Float64Array; tagBase: Float64Array | undefined }>;

/** One group of PEs that share a new input tile: where its span sits and what it holds. */
interface SpanTile {
  readonly rects: readonly PeRect[];
  readonly start: Int32Array;
  readonly at: SpanPlace;
  /** Real rows and columns the tile reads (sorted). */
  readonly rr: number[];
  readonly cc: number[];
  /** Its N, G, C extents (the leading dimensions of every box). */
  readonly lead: number[];
  /** Span coordinates of the real input: rows [top, bottom), columns [left, right), clipped to the span. */
  readonly real: { readonly top: number; readonly bottom: number; readonly left: number; readonly right: number };
  readonly rfBase: number;
}

/**
 * Deliveries (and padding fills) of the PEs' new input tiles. With `spans` (single-buffered
 * register files), a PE whose new tile overlaps its resident one in the same channels keeps the
 * overlap: one move per rectangle of PEs shifts it to its new place in the span (`moves`), and
 * only the rest of the new span is delivered or padded (a sliding window keeping its halo).
 * Only dense spans (every row and column of the span read or padding) take part.
 */
export function deliverInputs(
  c: SeqContext,
  keys: Float64Array,
  rows: number,
  cols: number,
  peStart: Int32Array[],
  peExt: Int32Array[],
  gbufInput: GbufInputTile | undefined,
  half: number,
  reads: Req[],
  fills: Req[],
  rfBase: number,
  spans: (InputSpan | undefined)[] | undefined,
  moves: Req[],
  spanGroups?: SpanGroup[],
): Deferred[] {
  const groups: DeliveryGroup[] = [];
  const padding: Padding = new Map();
  for (const [, rects] of rectangles(keys, rows, cols)) {
    const pe0 = rects[0]!.row0 * cols + rects[0]!.col0;
    const tile = spanTile(c, rects, peStart[pe0]!, peExt[pe0]!, rfBase);
    const { at, rr, cc, real } = tile;
    const dense = rr.length === real.bottom - real.top && cc.length === real.right - real.left;
    const span = c.makeSpan(at, dense);
    const old = spans?.[pe0];
    const keep = spans ? keptPart(rects, cols, spans, old, span) : undefined;
    if (spans) {
      const members: number[] | undefined = spanGroups ? [] : undefined;
      forEachPe(rects, cols, (pe) => {
        spans[pe] = span;
        members?.push(pe);
      });
      if (members) spanGroups!.push({ pe0, pes: Int32Array.from(members), dense });
    }
    if (keep) slideKept(c, tile, old!, keep, moves);
    const pieces: Piece[] = [];
    for (const region of newRegions(at, keep)) {
      pieces.push(...regionPieces(c, tile, region, gbufInput));
      regionPadding(c, tile, region, padding, rows * cols, cols);
    }
    if (pieces.length > 0) groups.push({ rects: rects as PeRect[], pieces });
  }
  paddingFills(c, padding, rows, cols, fills);
  return emitDeliveries(c, "input", groups, c.m.gbuf.keep.input ? { region: c.gbufRegions.input![half]! } : { tensor: c.hw.x }, reads);
}

/** Calls `f` with every PE index (row-major over `cols`) of the rectangles. */
function forEachPe(rects: readonly PeRect[], cols: number, f: (pe: number) => void): void {
  for (const r of rects) for (let i = 0; i < r.rows; i++) for (let j = 0; j < r.cols; j++) f((r.row0 + i) * cols + r.col0 + j);
}

/** The span of a group's new tile (start, ext) and the real input it reads. */
function spanTile(c: SeqContext, rects: readonly PeRect[], start: Int32Array, ext: Int32Array, rfBase: number): SpanTile {
  const l = c.layer;
  const at = c.spanAt(start, ext);
  const { rows: rr, cols: cc } = c.inputRowsCols(start, ext);
  const clip = (v: number, n: number) => Math.max(0, Math.min(n, v));
  const top = l.pads[0] - at.oh;
  const left = l.pads[1] - at.ow;
  const real = { top: clip(top, at.rows), bottom: clip(top + l.inHeight, at.rows), left: clip(left, at.cols), right: clip(left + l.inWidth, at.cols) };
  return { rects, start, at, rr, cc, lead: [ext[N]!, ext[G]!, ext[C]!], real, rfBase };
}

/** A rectangle of a span (padded coordinates or span coordinates): rows [r0, r1), columns [c0, c1). */
interface Part {
  readonly r0: number;
  readonly r1: number;
  readonly c0: number;
  readonly c1: number;
}

/**
 * The part of the resident span a group keeps (padded coordinates), if any: every PE of the
 * group holds the same dense span in the same channels, and it overlaps the new one.
 */
function keptPart(rects: readonly PeRect[], cols: number, spans: readonly (InputSpan | undefined)[], old: InputSpan | undefined, span: InputSpan): Part | undefined {
  if (old === undefined || !old.dense || !span.dense) return undefined;
  let same = true;
  forEachPe(rects, cols, (pe) => {
    if (spans[pe] !== old) same = false;
  });
  if (!same || old.n !== span.n || old.ch0 !== span.ch0 || old.en !== span.en || old.eg !== span.eg || old.ec !== span.ec) return undefined;
  const r0 = Math.max(old.oh, span.oh), r1 = Math.min(old.oh + old.rows, span.oh + span.rows);
  const c0 = Math.max(old.ow, span.ow), c1 = Math.min(old.ow + old.cols, span.ow + span.cols);
  return r1 > r0 && c1 > c0 ? { r0, r1, c0, c1 } : undefined;
}

/** The RF strides of an input span over [N, G, C]. */
function rfStrides(c: SeqContext): number[] {
  const re = c.nest.rfExtent;
  const SH = c.spanH, SW = c.spanW;
  return [re[G]! * re[C]! * SH * SW, re[C]! * SH * SW, SH * SW];
}

/** The slides of the kept words, from where they sit in the old span to their place in the new one. */
function slideKept(c: SeqContext, tile: SpanTile, old: InputSpan, keep: Part, moves: Req[]): void {
  const SW = c.spanW;
  const from = (keep.r0 - old.oh) * SW + (keep.c0 - old.ow);
  const to = (keep.r0 - tile.at.oh) * SW + (keep.c0 - tile.at.ow);
  if (from === to) return;
  const shape = [...tile.lead, keep.r1 - keep.r0, keep.c1 - keep.c0];
  const strides = [...rfStrides(c), SW, 1];
  const src: Box = { shape, offset: tile.rfBase + from, strides };
  const dst: Box = { shape, offset: tile.rfBase + to, strides };
  for (const pes of tile.rects) moves.push({ to: "pe", msg: { op: "slide", part: "input", pes, src, dst } });
}

/** Regions of the new span (span coordinates) to bring in: all of it, or what the kept part leaves. */
function newRegions(at: SpanPlace, keep: Part | undefined): Part[] {
  if (!keep) return [{ r0: 0, r1: at.rows, c0: 0, c1: at.cols }];
  const regions: Part[] = [];
  const k0 = keep.r0 - at.oh, k1 = keep.r1 - at.oh, j0 = keep.c0 - at.ow, j1 = keep.c1 - at.ow;
  if (k0 > 0) regions.push({ r0: 0, r1: k0, c0: 0, c1: at.cols });
  if (k1 < at.rows) regions.push({ r0: k1, r1: at.rows, c0: 0, c1: at.cols });
  if (j0 > 0) regions.push({ r0: k0, r1: k1, c0: 0, c1: j0 });
  if (j1 < at.cols) regions.push({ r0: k0, r1: k1, c0: j1, c1: at.cols });
  return regions;
}

/** The pieces that deliver a region's real inputs (runs of rows and columns, from the GBuf or DRAM). */
function regionPieces(c: SeqContext, tile: SpanTile, region: Part, gbufInput: GbufInputTile | undefined): Piece[] {
  const l = c.layer;
  const { start, at, lead } = tile;
  const { oh, ow, ch0 } = at;
  const rSub = tile.rr.filter((v) => v + l.pads[0] - oh >= region.r0 && v + l.pads[0] - oh < region.r1);
  const cSub = tile.cc.filter((v) => v + l.pads[1] - ow >= region.c0 && v + l.pads[1] - ow < region.c1);
  if (rSub.length === 0 || cSub.length === 0) return [];
  const fromGbuf = c.m.gbuf.keep.input;
  const ge = c.nest.gbufExtent;
  const MR = c.gbufInputRows, MC = c.gbufInputCols, SW = c.spanW;
  const Ctot = l.inChannels, HW = l.inHeight * l.inWidth;
  const srcRow = fromGbuf ? (v: number) => gbufInput!.rowRank.get(v)! : (v: number) => v;
  const srcCol = fromGbuf ? (v: number) => gbufInput!.colRank.get(v)! : (v: number) => v;
  const rowRuns = runsOf(rSub, srcRow, (v) => v + l.pads[0] - oh);
  const colRuns = runsOf(cSub, srcCol, (v) => v + l.pads[1] - ow);
  const rfS = rfStrides(c);
  const tagStrides3 = [Ctot * c.Hp * c.Wp, c.Cg * c.Hp * c.Wp, c.Hp * c.Wp];
  const gs = gbufInput?.start;
  const pieces: Piece[] = [];
  for (const ra of rowRuns) {
    for (const cb of colRuns) {
      const shape = [...lead, ra.count, cb.count];
      pieces.push({
        shape,
        src: fromGbuf
          ? (((start[N]! - gs![N]!) * ge[G]! + (start[G]! - gs![G]!)) * ge[C]! + (start[C]! - gs![C]!)) * MR * MC + ra.src0 * MC + cb.src0
          : c.xIndex(start[N]!, ch0, ra.coord0, cb.coord0),
        srcStrides: fromGbuf ? [ge[G]! * ge[C]! * MR * MC, ge[C]! * MR * MC, MR * MC, MC * ra.srcStep, cb.srcStep] : [Ctot * HW, c.Cg * HW, HW, l.inWidth * ra.coordStep, cb.coordStep],
        tag: c.xTag(start[N]!, ch0, ra.coord0 + l.pads[0], cb.coord0 + l.pads[1]),
        tagStrides: [...tagStrides3, c.Wp * ra.coordStep, cb.coordStep],
        dst: { shape, offset: tile.rfBase + ra.dst0 * SW + cb.dst0, strides: [...rfS, SW * ra.dstStep, cb.dstStep] },
      });
    }
  }
  return pieces;
}

/** Records the padding of a region (the parts outside the real input, which hold the zero point) in `padding`. */
function regionPadding(c: SeqContext, tile: SpanTile, region: Part, padding: Padding, pes: number, cols: number): void {
  const { r0: a0, r1: a1, c0: b0, c1: b1 } = region;
  const { top: rt, left: cl } = tile.real;
  const rb = Math.max(rt, tile.real.bottom), cr = Math.max(cl, tile.real.right);
  const bands: [number, number, number, number][] = []; // [row0, rowCount, col0, colCount]
  const band = (r0: number, r1: number, c0: number, c1: number) => {
    if (r1 > r0 && c1 > c0) bands.push([r0, r1 - r0, c0, c1 - c0]);
  };
  band(a0, Math.min(a1, rt), b0, b1);
  band(Math.max(a0, rb), a1, b0, b1);
  band(Math.max(a0, rt), Math.min(a1, rb), b0, Math.min(b1, cl));
  band(Math.max(a0, rt), Math.min(a1, rb), Math.max(b0, cr), b1);
  const { lead, at } = tile;
  const strides = [...rfStrides(c), c.spanW, 1];
  for (const [br, bn, bc, bm] of bands) {
    const box: Box = { shape: [...lead, bn, bm], offset: tile.rfBase + br * c.spanW + bc, strides };
    const key = `${lead[0]},${lead[1]},${lead[2]},${br},${bn},${bc},${bm}`;
    let pad = padding.get(key);
    if (!pad) padding.set(key, (pad = { box, need: padNeed(c, padding.size, pes), tagBase: c.checked ? new Float64Array(pes) : undefined }));
    const tagBase = c.checked ? c.xTag(tile.start[N]!, at.ch0, at.oh + br, at.ow + bc) : 0;
    const p = pad;
    forEachPe(tile.rects, cols, (pe) => {
      p.need[pe] = 1;
      if (p.tagBase) p.tagBase[pe] = tagBase;
    });
  }
}

/** Padding fills: one command per band shape and rectangle of PEs, with each PE's own tags. */
function paddingFills(c: SeqContext, padding: Padding, rows: number, cols: number, fills: Req[]): void {
  const l = c.layer;
  for (const { box, need, tagBase } of padding.values()) {
    for (const [, rects] of rectangles(need, rows, cols)) {
      for (const pes of rects) {
        let tags: { tags: PeTagExpect } | undefined;
        if (tagBase) {
          const perPe = new Float64Array(pes.rows * pes.cols);
          for (let i = 0; i < pes.rows; i++) for (let j = 0; j < pes.cols; j++) perPe[i * pes.cols + j] = tagBase[(pes.row0 + i) * cols + pes.col0 + j]!;
          tags = { tags: { space: TAG_SPACE.input, perPe, strides: [l.inChannels * c.Hp * c.Wp, c.Cg * c.Hp * c.Wp, c.Hp * c.Wp, c.Wp, 1] } };
        }
        fills.push({ to: "pe", msg: { op: "fill", part: "input", pes, box, value: c.ops.xZeroPoint, ...tags } });
      }
    }
  }
}

/** Scratch for {@link deliverInputs}: the `i`-th padding band's PE mask, all NaN (reused: only read within one call). */
export function padNeed(c: SeqContext, i: number, n: number): Float64Array {
  let a = c.padPool[i];
  if (!a || a.length !== n) c.padPool[i] = a = new Float64Array(n);
  return a.fill(NaN);
}
