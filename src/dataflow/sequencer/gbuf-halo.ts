/**
 * Halo reuse in the GBuf input tile (DRAM -> GBuf; docs/counting.md, "DRAM -> GBuf"). When a loop
 * that slides the window (P, Q, R, S) sits at the dram level, the next dram iteration's input
 * tile shares rows or columns with the resident one: the shared words stay on chip and only the
 * rest is fetched (Timeloop's sliding-window reuse). This file is the pure geometry of it:
 * which words of the resident tile the next one keeps, and where the next tile's rows and
 * columns sit in the GBuf.
 *
 * Kept: the new tile keeps words of the resident one only in the same images and channels (equal
 * N, G, C starts and extents). Per axis (rows, columns) it keeps the stored coordinates both
 * tiles have when their stored coordinates are the same, or when both are consecutive (a dense
 * window: then the overlap is one interval); otherwise (a stride or a dilation skips rows, and
 * the rows differ) none. Words are kept only when both axes keep some: the kept words are the
 * kept rows x the kept columns.
 *
 * Layout: the tile is stored compactly (docs/mapping.md, "Input tiles and halo"): per N, G, C, a
 * `MR x MC` block of the stored rows and columns, each at its slot. A fresh tile puts its k-th
 * stored row (column) at slot k. A single-buffered GBuf keeps the halo in place: along a
 * consecutive axis the block is a circular buffer (a line buffer), the row `v` at slot
 * `(v - first + rot) mod MR`, where the first stored row `first` sits at slot `rot`; the next tile
 * continues the same map (its `rot` moves with its first row), so every kept row stays where it is
 * and the new rows take the slots of the rows that left. No word is copied: this is re-addressing.
 * A double-buffered GBuf fetches the next tile into the other half while the current one is in
 * use: the new tile is laid out fresh there, and its kept words are copied from the old half
 * (fetch.ts), a GBuf read and write each, instead of a DRAM read.
 */
import type { SeqContext } from "./context.js";
import { C, G, N, type GbufInputTile } from "./types.js";

/** The next GBuf input tile, and the rows and columns of the resident one it keeps. */
export interface InputPlacement {
  readonly tile: GbufInputTile;
  /** The kept rows and columns (sorted, both non-empty), or undefined when nothing is kept. */
  readonly kept: { readonly rows: readonly number[]; readonly cols: readonly number[] } | undefined;
}

/** One axis of a GBuf input tile: stored coordinates (sorted), the slot of each, and the map's origin. */
interface Axis {
  readonly coords: readonly number[];
  readonly rank: Map<number, number>;
  /** The first coordinate when the coordinates are consecutive, else NaN. */
  readonly run: number;
  /** The slot of the first coordinate (0 unless the axis is a rotated circular buffer). */
  readonly rot: number;
}

/**
 * Places the input tile of the dram iteration at (`start`, `ext`) given the resident tile `old`
 * (see the file header): `inPlace` when the new tile overwrites the old one's region (a
 * single-buffered GBuf), else it goes to the other half.
 */
export function placeInputTile(c: SeqContext, start: Int32Array, ext: Int32Array, old: GbufInputTile | undefined, inPlace: boolean): InputPlacement {
  const { rows, cols } = c.inputRowsCols(start, ext);
  const keptRows = old && sameChannels(old, start, ext) ? keptAxis(old.rows, old.rowRun, rows, runOf(rows)) : undefined;
  const keptCols = keptRows ? keptAxis(old!.cols, old!.colRun, cols, runOf(cols)) : undefined;
  const kept = keptRows && keptCols ? { rows: keptRows, cols: keptCols } : undefined;
  const from = kept && inPlace ? old : undefined;
  const r = axisOf(rows, c.gbufInputRows, from && { coords: from.rows, rank: from.rowRank, run: from.rowRun, rot: from.rowRot });
  const k = axisOf(cols, c.gbufInputCols, from && { coords: from.cols, rank: from.colRank, run: from.colRun, rot: from.colRot });
  const tile: GbufInputTile = { start, ext, rowRank: r.rank, colRank: k.rank, rowRun: r.run, colRun: k.run, rows: r.coords, cols: k.coords, rowRot: r.rot, colRot: k.rot };
  return { tile, kept };
}

/** The first of sorted coordinates when they are consecutive, else NaN. */
function runOf(v: readonly number[]): number {
  return v.length > 0 && v[v.length - 1]! - v[0]! === v.length - 1 ? v[0]! : NaN;
}

/** Whether the resident tile holds the same images and channels as the tile at (`start`, `ext`). */
function sameChannels(old: GbufInputTile, start: Int32Array, ext: Int32Array): boolean {
  for (const d of [N, G, C]) if (old.start[d] !== start[d] || old.ext[d] !== ext[d]) return false;
  return true;
}

/** The coordinates of one axis the new tile keeps (see the file header), or undefined: none. */
function keptAxis(old: readonly number[], oldRun: number, now: readonly number[], nowRun: number): number[] | undefined {
  if (old.length === 0 || now.length === 0) return undefined;
  if (old.length === now.length && old.every((v, i) => v === now[i])) return [...now];
  if (Number.isNaN(oldRun) || Number.isNaN(nowRun)) return undefined;
  const lo = Math.max(oldRun, nowRun);
  const hi = Math.min(oldRun + old.length, nowRun + now.length);
  return hi > lo ? Array.from({ length: hi - lo }, (_, i) => lo + i) : undefined;
}

/**
 * The slots of an axis's stored coordinates: fresh (the k-th at slot k), or continuing the
 * resident tile's map `from` (the same coordinates: the same map; consecutive ones: the circular
 * map moved with the first coordinate).
 */
function axisOf(coords: readonly number[], slots: number, from: Axis | undefined): Axis {
  const run = runOf(coords);
  if (from && from.coords.length === coords.length && from.coords.every((v, i) => v === coords[i])) return from;
  if (!from || Number.isNaN(run) || Number.isNaN(from.run)) return { coords, rank: new Map(coords.map((v, i) => [v, i])), run, rot: 0 };
  const mod = (v: number) => ((v % slots) + slots) % slots;
  const rot = mod(from.rot + run - from.run);
  return { coords, rank: new Map(coords.map((v) => [v, mod(v - run + rot)])), run, rot };
}
