/**
 * Two input-reuse rules in which Timeloop's model differs from convsim's, as closed forms over the
 * mapping's geometry (docs/counting.md, "In Timeloop's conventions", rules 6 and 7), each checked
 * against Timeloop's own reference outputs (test/formats/timeloop/reference.test.ts, eyeriss_like):
 *
 * - **Halo only along the innermost loop.** Timeloop fills a buffer with the difference between
 *   consecutive tiles only while the tile moves along the innermost loop of the level above (its
 *   nest analysis discards the residual state when the tile's stride changes: "hardware pattern
 *   generators may be unable to generate complicated patterns arising from residuals left over
 *   from ancestor loop iterations"); an outer loop's step brings the whole tile. convsim's global
 *   buffer keeps the words two consecutive tiles share whichever loop stepped. So Timeloop's input
 *   fills of the global buffer are counted here over the DRAM loop nest: each tile's bounding box
 *   (padding and skipped rows included, Timeloop's tile), less its overlap with the previous box
 *   when only the innermost DRAM loop of factor above 1 stepped (or the box did not move: a tile that
 *   stays is kept whichever loop stepped).
 * - **No diagonal multicast.** convsim's PEs whose windows read the same input row from different
 *   (output row, kernel row) starts share one global-buffer read (Eyeriss's diagonal multicast);
 *   Timeloop multicasts only to PEs whose coordinates differ in dimensions that do not index the
 *   inputs (K), so it reads once per distinct (N, G, C, P, R, Q, S) spatial start. The factor is
 *   the ratio of the two numbers of distinct tiles over the PE array.
 */
import { DIMS, dimSizes, inputSpan, tileStride, type Dim, type DimRecord, type Mapping } from "../../dataflow/mapping.js";
import type { ConvLayer } from "../../workload/layer.js";

/** An input box: per axis (N, G, C, rows, columns) `[lo, hi)`, rows and columns in padded coordinates. */
type Box = readonly (readonly [number, number])[];

function inputBox(layer: ConvLayer, start: DimRecord, ext: DimRecord): Box {
  const axis = (o: Dim, k: Dim, i: 0 | 1): [number, number] => {
    const lo = start[o] * layer.strides[i] + start[k] * layer.dilations[i];
    return [lo, lo + inputSpan(ext[o], ext[k], layer.strides[i], layer.dilations[i])];
  };
  return [[start.N, start.N + ext.N], [start.G, start.G + ext.G], [start.C, start.C + ext.C], axis("P", "R", 0), axis("Q", "S", 1)];
}

const words = (b: Box): number => b.reduce((a, [lo, hi]) => a * Math.max(0, hi - lo), 1);

function overlap(a: Box, b: Box): number {
  let n = 1;
  for (let i = 0; i < a.length; i++) n *= Math.max(0, Math.min(a[i]![1], b[i]![1]) - Math.max(a[i]![0], b[i]![0]));
  return n;
}

/**
 * The starts of a level's loops' iterations, in order: per iteration, each dimension's start (the
 * loops' indices times the product of the factors inside them, `inner` the level whose tile one
 * iteration covers) and the index of each loop.
 */
function* iterationStarts(m: Mapping, loops: readonly { dim: Dim; factor: number }[], inner: "gbuf" | "rf"): Generator<{ start: DimRecord; idx: readonly number[] }> {
  const step = loops.map((l, i) => tileStride(m, inner, l.dim) * loops.slice(i + 1).filter((x) => x.dim === l.dim).reduce((a, x) => a * x.factor, 1));
  const idx = loops.map(() => 0);
  for (;;) {
    const start = {} as Record<Dim, number>;
    for (const d of DIMS) start[d] = 0;
    loops.forEach((l, i) => (start[l.dim] += idx[i]! * step[i]!));
    yield { start, idx };
    let i = loops.length - 1;
    while (i >= 0 && ++idx[i]! === loops[i]!.factor) idx[i--] = 0;
    if (i < 0) return;
  }
}

/**
 * Timeloop's input fills of the global buffer (= its DRAM input reads) for a mapping whose global
 * buffer keeps the inputs: the first rule of the file header.
 */
export function timeloopGbufInputFills(layer: ConvLayer, m: Mapping): number {
  const sizes = dimSizes(layer);
  const innermost = m.dram.loops.map((l) => l.factor > 1).lastIndexOf(true);
  let total = 0;
  let prev: Box | undefined;
  for (const { start, idx } of iterationStarts(m, m.dram.loops, "gbuf")) {
    const ext = {} as Record<Dim, number>;
    for (const d of DIMS) ext[d] = Math.max(0, Math.min(tileStride(m, "gbuf", d), sizes[d] - start[d]));
    const box = inputBox(layer, start, ext);
    // The innermost loop stepped (a slide, or nothing moved), or the tile did not move at all.
    const kept = prev === undefined ? 0 : overlap(box, prev);
    const slid = prev !== undefined && ((innermost >= 0 && idx[innermost]! > 0) || (kept === words(box) && kept === words(prev)));
    total += words(box) - (slid ? kept : 0);
    prev = box;
  }
  return total;
}

/**
 * Timeloop's global-buffer input reads over convsim's: the second rule of the file header (1 when
 * convsim shares no diagonal).
 */
export function diagonalShareFactor(layer: ConvLayer, m: Mapping): number {
  const rf: Record<Dim, number> = {} as Record<Dim, number>;
  for (const d of DIMS) rf[d] = tileStride(m, "rf", d);
  const rowsShared = rf.P === 1 && rf.R === 1;
  const colsShared = rf.Q === 1 && rf.S === 1;
  const timeloop = new Set<string>();
  const convsim = new Set<string>();
  const sizes = dimSizes(layer);
  for (const { start: s } of iterationStarts(m, m.spatial.loops, "rf")) {
    if (DIMS.some((d) => s[d] >= sizes[d])) continue; // a PE past the layer's edge
    timeloop.add([s.N, s.G, s.C, s.P, s.R, s.Q, s.S].join(","));
    const row = rowsShared ? `${s.P * layer.strides[0] + s.R * layer.dilations[0]}` : `${s.P}:${s.R}`;
    const col = colsShared ? `${s.Q * layer.strides[1] + s.S * layer.dilations[1]}` : `${s.Q}:${s.S}`;
    convsim.add([s.N, s.G, s.C, row, col].join(","));
  }
  return timeloop.size / convsim.size;
}
