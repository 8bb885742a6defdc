/**
 * The input delivery pass (GBuf or DRAM -> RF): for the PEs whose input tile changes, the reads,
 * the network deliveries, the padding fills (generated in place, never fetched) and, with halo
 * reuse, the slides of the words a PE keeps.
 */
import type { Box } from "../../core/index.js";
import type { PeTagExpect } from "../../pe-array/index.js";
import type { SeqContext } from "./context.js";
import { emitDeliveries } from "./deliver.js";
import { rectangles, runsOf } from "./geometry.js";
import { TAG_SPACE } from "./layout.js";
import { C, G, N, type DeliveryGroup, type Deferred, type GbufInputTile, type InputSpan, type Piece, type Req, type SpanGroup } from "./types.js";

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
  const l = c.layer;
  const fromGbuf = c.m.gbuf.keep.input;
  const SH = c.spanH, SW = c.spanW;
  const re = c.nest.rfExtent;
  const ge = c.nest.gbufExtent;
  const MR = c.gbufInputRows, MC = c.gbufInputCols;
  const Ctot = l.inChannels;
  const HW = l.inHeight * l.inWidth;
  const groups: DeliveryGroup[] = [];
  // Padding bands by box: the PEs that need each (1 / NaN, for rectangles()) and, checked, their tag bases.
  const padding = new Map<string, { box: Box; need: Float64Array; tagBase: Float64Array | undefined }>();
  const rfStrides = [re[G]! * re[C]! * SH * SW, re[C]! * SH * SW, SH * SW];
  const tagStrides3 = [Ctot * c.Hp * c.Wp, c.Cg * c.Hp * c.Wp, c.Hp * c.Wp];
  for (const [, rects] of rectangles(keys, rows, cols)) {
    const pe0 = rects[0]!.row0 * cols + rects[0]!.col0;
    const start = peStart[pe0]!;
    const ext = peExt[pe0]!;
    // The span's padded origin (oh, ow), size and first channel.
    const at = c.spanAt(start, ext);
    const { oh, ow, rows: spanRows, cols: spanCols, ch0 } = at;
    const { rows: rr, cols: cc } = c.inputRowsCols(start, ext);
    const lead = [ext[N]!, ext[G]!, ext[C]!];
    // Span coordinates of the real input: rows [realTop, realBottom), columns [realLeft, realRight).
    const realTop = l.pads[0] - oh;
    const realBottom = realTop + l.inHeight;
    const realLeft = l.pads[1] - ow;
    const realRight = realLeft + l.inWidth;
    const clip = (v: number, n: number) => Math.max(0, Math.min(n, v));
    const dense = rr.length === clip(realBottom, spanRows) - clip(realTop, spanRows) && cc.length === clip(realRight, spanCols) - clip(realLeft, spanCols);
    const span = c.makeSpan(at, dense);
    // The part of the resident span this group keeps (padded coordinates), if any.
    let keep: { r0: number; r1: number; c0: number; c1: number } | undefined;
    const old = spans?.[pe0];
    if (spans) {
      const same = old !== undefined && rects.every((r) => {
        for (let i = 0; i < r.rows; i++) for (let j = 0; j < r.cols; j++) if (spans[(r.row0 + i) * cols + r.col0 + j] !== old) return false;
        return true;
      });
      if (same && old.dense && dense && old.n === span.n && old.ch0 === span.ch0 && old.en === span.en && old.eg === span.eg && old.ec === span.ec) {
        const r0 = Math.max(old.oh, oh), r1 = Math.min(old.oh + old.rows, oh + spanRows);
        const c0 = Math.max(old.ow, ow), c1 = Math.min(old.ow + old.cols, ow + spanCols);
        if (r1 > r0 && c1 > c0) keep = { r0, r1, c0, c1 };
      }
      const members: number[] | undefined = spanGroups ? [] : undefined;
      for (const r of rects) {
        for (let i = 0; i < r.rows; i++) {
          for (let j = 0; j < r.cols; j++) {
            spans[(r.row0 + i) * cols + r.col0 + j] = span;
            members?.push((r.row0 + i) * cols + r.col0 + j);
          }
        }
      }
      if (members) spanGroups!.push({ pe0, pes: Int32Array.from(members), dense });
    }
    if (keep) {
      // The kept words, from where they sit in the old span to their place in the new one.
      const from = (keep.r0 - old!.oh) * SW + (keep.c0 - old!.ow);
      const to = (keep.r0 - oh) * SW + (keep.c0 - ow);
      const shape = [...lead, keep.r1 - keep.r0, keep.c1 - keep.c0];
      const src: Box = { shape, offset: rfBase + from, strides: [...rfStrides, SW, 1] };
      const dst: Box = { shape, offset: rfBase + to, strides: [...rfStrides, SW, 1] };
      if (from !== to) for (const pes of rects) moves.push({ to: "pe", msg: { op: "slide", id: c.id(), part: "input", pes, src, dst } });
    }
    // Regions of the new span (span coordinates) to bring in: all of it, or what the kept part leaves.
    const regions: [number, number, number, number][] = []; // [row0, row1, col0, col1)
    if (!keep) {
      regions.push([0, spanRows, 0, spanCols]);
    } else {
      const k0 = keep.r0 - oh, k1 = keep.r1 - oh, j0 = keep.c0 - ow, j1 = keep.c1 - ow;
      if (k0 > 0) regions.push([0, k0, 0, spanCols]);
      if (k1 < spanRows) regions.push([k1, spanRows, 0, spanCols]);
      if (j0 > 0) regions.push([k0, k1, 0, j0]);
      if (j1 < spanCols) regions.push([k0, k1, j1, spanCols]);
    }
    const pieces: Piece[] = [];
    const srcRow = fromGbuf ? (c: number) => gbufInput!.rowRank.get(c)! : (c: number) => c;
    const srcCol = fromGbuf ? (c: number) => gbufInput!.colRank.get(c)! : (c: number) => c;
    for (const [a0, a1, b0, b1] of regions) {
      // Real inputs of the region: delivered.
      const rSub = rr.filter((c) => c + l.pads[0] - oh >= a0 && c + l.pads[0] - oh < a1);
      const cSub = cc.filter((c) => c + l.pads[1] - ow >= b0 && c + l.pads[1] - ow < b1);
      if (rSub.length > 0 && cSub.length > 0) {
        const rowRuns = runsOf(rSub, srcRow, (c) => c + l.pads[0] - oh);
        const colRuns = runsOf(cSub, srcCol, (c) => c + l.pads[1] - ow);
        for (const ra of rowRuns) {
          for (const cb of colRuns) {
            const shape = [...lead, ra.count, cb.count];
            const gs = gbufInput?.start;
            pieces.push({
              shape,
              src: fromGbuf
                ? (((start[N]! - gs![N]!) * ge[G]! + (start[G]! - gs![G]!)) * ge[C]! + (start[C]! - gs![C]!)) * MR * MC + ra.src0 * MC + cb.src0
                : c.xIndex(start[N]!, ch0, ra.coord0, cb.coord0),
              srcStrides: fromGbuf ? [ge[G]! * ge[C]! * MR * MC, ge[C]! * MR * MC, MR * MC, MC * ra.srcStep, cb.srcStep] : [Ctot * HW, c.Cg * HW, HW, l.inWidth * ra.coordStep, cb.coordStep],
              tag: c.xTag(start[N]!, ch0, ra.coord0 + l.pads[0], cb.coord0 + l.pads[1]),
              tagStrides: [...tagStrides3, c.Wp * ra.coordStep, cb.coordStep],
              dst: { shape, offset: rfBase + ra.dst0 * SW + cb.dst0, strides: [...rfStrides, SW * ra.dstStep, cb.dstStep] },
            });
          }
        }
      }
      // Padding of the region: the parts outside the real input hold the zero point (filled in place).
      const rt = clip(realTop, spanRows), rb = Math.max(rt, clip(realBottom, spanRows));
      const cl = clip(realLeft, spanCols), cr = Math.max(cl, clip(realRight, spanCols));
      const bands: [number, number, number, number][] = []; // [row0, rowCount, col0, colCount]
      const band = (r0: number, r1: number, c0: number, c1: number) => {
        if (r1 > r0 && c1 > c0) bands.push([r0, r1 - r0, c0, c1 - c0]);
      };
      band(a0, Math.min(a1, rt), b0, b1);
      band(Math.max(a0, rb), a1, b0, b1);
      band(Math.max(a0, rt), Math.min(a1, rb), b0, Math.min(b1, cl));
      band(Math.max(a0, rt), Math.min(a1, rb), Math.max(b0, cr), b1);
      for (const [br, bn, bc, bm] of bands) {
        const box: Box = { shape: [...lead, bn, bm], offset: rfBase + br * SW + bc, strides: [...rfStrides, SW, 1] };
        const key = `${lead[0]},${lead[1]},${lead[2]},${br},${bn},${bc},${bm}`;
        let pad = padding.get(key);
        if (!pad) padding.set(key, (pad = { box, need: padNeed(c, padding.size, rows * cols), tagBase: c.checked ? new Float64Array(rows * cols) : undefined }));
        const tagBase = c.checked ? c.xTag(start[N]!, ch0, oh + br, ow + bc) : 0;
        for (const r of rects) {
          for (let i = 0; i < r.rows; i++) {
            for (let j = 0; j < r.cols; j++) {
              pad.need[(r.row0 + i) * cols + r.col0 + j] = 1;
              if (pad.tagBase) pad.tagBase[(r.row0 + i) * cols + r.col0 + j] = tagBase;
            }
          }
        }
      }
    }
    if (pieces.length > 0) groups.push({ rects, pieces });
  }
  // Padding fills: one command per band shape and rectangle of PEs, with each PE's own tags.
  for (const { box, need, tagBase } of padding.values()) {
    for (const [, rects] of rectangles(need, rows, cols)) {
      for (const pes of rects) {
        let tags: { tags: PeTagExpect } | undefined;
        if (tagBase) {
          const perPe = new Float64Array(pes.rows * pes.cols);
          for (let i = 0; i < pes.rows; i++) for (let j = 0; j < pes.cols; j++) perPe[i * pes.cols + j] = tagBase[(pes.row0 + i) * cols + pes.col0 + j]!;
          tags = { tags: { space: TAG_SPACE.input, perPe, strides: [Ctot * c.Hp * c.Wp, c.Cg * c.Hp * c.Wp, c.Hp * c.Wp, c.Wp, 1] } };
        }
        fills.push({ to: "pe", msg: { op: "fill", id: c.id(), part: "input", pes, box, value: c.ops.xZeroPoint, ...tags } });
      }
    }
  }
  return emitDeliveries(c, "input", groups, fromGbuf ? { region: c.gbufRegions.input![half]! } : { tensor: c.hw.x }, reads);
}

/** Scratch for {@link deliverInputs}: the `i`-th padding band's PE mask, all NaN (reused: only read within one call). */
export function padNeed(c: SeqContext, i: number, n: number): Float64Array {
  let a = c.padPool[i];
  if (!a || a.length !== n) c.padPool[i] = a = new Float64Array(n);
  return a.fill(NaN);
}
