/**
 * The loop nest of a Mapping as the Sequencer walks it: per-loop index weights, tile strides per
 * level, the PE each spatial index lands on, and odometers over the temporal levels. Pure index
 * math over the semantics of mapping.ts (mixed radix, outer loops coarser, tiles aligned at
 * multiples of their extent, iterations wholly beyond the edge skipped).
 *
 * Dimensions are numbered in canonical order N=0, G=1, K=2, C=3, P=4, Q=5, R=6, S=7.
 */
import type { ConvLayer } from "../workload/layer.js";
import { dimSizes, DIMS, type Dim, type Mapping } from "./mapping.js";

/** Index of each dimension in the start/extent vectors. */
export const DIM_INDEX: Readonly<Record<Dim, number>> = Object.freeze({ N: 0, G: 1, K: 2, C: 3, P: 4, Q: 5, R: 6, S: 7 });
/** Number of dimensions. */
export const NDIMS = 8;

/** One loop with the weight of its index: position along `dim` += index * weight. */
export interface WeightedLoop {
  readonly dim: number;
  readonly factor: number;
  readonly weight: number;
}

/** A fused group as the nest walks it (mapping.ts, "Fused dimensions"). */
export interface NestGroup {
  /** Its members (dimension indices, most significant first) and their dram-tile extents. */
  readonly dims: readonly number[];
  readonly extents: readonly number[];
}

/** The gbuf iterations of one dram tile: each one's start and, per fused group, its fold's first flattened index. */
export interface GbufIterations {
  readonly starts: Int32Array[];
  readonly folds: Int32Array[];
}

/** The nest, precomputed once per run. */
export class Nest {
  /** Size of each dimension. */
  readonly sizes: Int32Array;
  readonly dramLoops: readonly WeightedLoop[];
  /** The gbuf loops; a loop on a fused group's lead has `dim` NDIMS + the group's index (it steps the flattened index). */
  readonly gbufLoops: readonly WeightedLoop[];
  readonly rfLoops: readonly WeightedLoop[];
  /** Unclipped tile extent at the gbuf level (the body of one dram iteration). */
  readonly gbufStride: Int32Array;
  /** Unclipped tile extent of one PE (the rf level). */
  readonly rfStride: Int32Array;
  /** Full (clipped to the layer) extents of a GBuf tile and of an RF tile. */
  readonly gbufExtent: Int32Array;
  readonly rfExtent: Int32Array;
  /** PE rows and columns the spatial level uses. */
  readonly usedRows: number;
  readonly usedCols: number;
  /** The fused groups (empty: none). */
  readonly groups: readonly NestGroup[];
  /** The spatial loops along PE rows and along PE columns (with their weights). */
  private readonly rowLoops: readonly { dim: number; factor: number; weight: number }[];
  private readonly colLoops: readonly { dim: number; factor: number; weight: number }[];
  /** {@link peOffset} and {@link peFold}, made on first use. */
  private perPe: { readonly offsets: readonly Int32Array[]; readonly folds: readonly Int32Array[] } | undefined;

  constructor(m: Mapping, layer: ConvLayer) {
    const sizes = dimSizes(layer);
    this.sizes = Int32Array.from(DIMS.map((d) => sizes[d]));
    // (plain arrays, not the mapping's frozen ones: V8 reads a frozen array's elements 2.6x as
    // slowly, and placeFused reads these per PE and iteration)
    this.groups = (m.fuse ?? []).map((g) => ({ dims: g.dims.map((d) => DIM_INDEX[d]), extents: [...g.extents] }));
    const groupOf = (d: Dim) => (m.fuse ?? []).findIndex((g) => g.dims[0] === d);
    // Below the dram level a loop on a fused group's lead walks its flattened index: dimension NDIMS + group.
    const below = (d: Dim) => (groupOf(d) >= 0 ? NDIMS + groupOf(d) : DIM_INDEX[d]);
    const all: { level: string; dim: number; factor: number; axis?: string }[] = [];
    for (const l of m.dram.loops) all.push({ level: "dram", dim: DIM_INDEX[l.dim], factor: l.factor });
    for (const l of m.gbuf.loops) all.push({ level: "gbuf", dim: below(l.dim), factor: l.factor });
    for (const l of m.spatial.loops) all.push({ level: "spatial", dim: below(l.dim), factor: l.factor, axis: l.axis });
    for (const l of m.rf.loops) all.push({ level: "rf", dim: DIM_INDEX[l.dim], factor: l.factor });
    // A fused member's dram tiles are its group's extent long.
    const unit = new Int32Array(NDIMS).fill(1);
    for (const g of this.groups) g.dims.forEach((d, k) => (unit[d] = g.extents[k]!));
    const weighted = all.map((l, j) => {
      let w = l.level === "dram" ? unit[l.dim]! : 1;
      for (let i = j + 1; i < all.length; i++) if (all[i]!.dim === l.dim) w *= all[i]!.factor;
      return { ...l, weight: w };
    });
    const pick = (level: string) => weighted.filter((l) => l.level === level).map((l) => ({ dim: l.dim, factor: l.factor, weight: l.weight }));
    this.dramLoops = pick("dram");
    this.gbufLoops = pick("gbuf");
    this.rfLoops = pick("rf");
    const strideFrom = (levels: string[], s: Int32Array) => {
      for (const l of weighted) if (levels.includes(l.level) && l.dim < NDIMS) s[l.dim]! *= l.factor;
      return s;
    };
    this.gbufStride = strideFrom(["gbuf", "spatial", "rf"], unit.slice());
    this.rfStride = strideFrom(["rf"], new Int32Array(NDIMS).fill(1));
    this.gbufExtent = this.gbufStride.map((v, d) => Math.min(v, this.sizes[d]!));
    this.rfExtent = this.rfStride.map((v, d) => Math.min(v, this.sizes[d]!));
    const rowLoops = weighted.filter((l) => l.level === "spatial" && l.axis === "row");
    const colLoops = weighted.filter((l) => l.level === "spatial" && l.axis === "col");
    this.usedRows = rowLoops.reduce((a, l) => a * l.factor, 1);
    this.usedCols = colLoops.reduce((a, l) => a * l.factor, 1);
    this.rowLoops = rowLoops;
    this.colLoops = colLoops;
  }

  /**
   * Per used PE (row-major over usedRows x usedCols): the spatial part of its tile start (0 along
   * fused dimensions). Made on first use: a mapping search builds many nests and reads a few PEs
   * of each ({@link peOffsetInto}); on a 128 x 128 array every nest made 49,152 arrays.
   */
  get peOffset(): readonly Int32Array[] {
    return this.everyPe().offsets;
  }

  /** Per used PE, per fused group: its offset in the flattened index of a fold (see {@link peOffset}). */
  get peFold(): readonly Int32Array[] {
    return this.everyPe().folds;
  }

  /**
   * PE `pe`'s spatial offset into `out[0, NDIMS)` and its fold offsets into `out[NDIMS, NDIMS +
   * groups)` (`out` is overwritten): one entry of {@link peOffset} and {@link peFold}.
   */
  peOffsetInto(pe: number, out: Int32Array): Int32Array {
    out.fill(0);
    decode(this.rowLoops, Math.floor(pe / this.usedCols), out);
    decode(this.colLoops, pe % this.usedCols, out);
    return out;
  }

  private everyPe(): { readonly offsets: readonly Int32Array[]; readonly folds: readonly Int32Array[] } {
    if (this.perPe) return this.perPe;
    const offsets: Int32Array[] = [];
    const folds: Int32Array[] = [];
    const off = new Int32Array(NDIMS + this.groups.length);
    for (let pe = 0; pe < this.usedRows * this.usedCols; pe++) {
      this.peOffsetInto(pe, off);
      offsets.push(off.slice(0, NDIMS));
      folds.push(off.slice(NDIMS));
    }
    return (this.perPe = { offsets, folds });
  }

  /**
   * The gbuf iterations of the dram tile at `dStart`, in order. Without fused groups, those of
   * {@link iterate}; with them, the loops on a lead step its fold's flattened index, and an
   * iteration whose fold starts at or past its tile's points is skipped.
   */
  gbufIterations(dStart: Int32Array): GbufIterations {
    const starts: Int32Array[] = [];
    const folds: Int32Array[] = [];
    const ng = this.groups.length;
    if (ng === 0) {
      for (const a of this.iterate(this.gbufLoops, dStart)) starts.push(new Int32Array(a)); // iterate() reuses its array
      return { starts, folds };
    }
    const points = this.groups.map((_, g) => this.foldPoints(g, dStart));
    const base = new Int32Array(NDIMS + ng);
    base.set(dStart);
    for (const a of this.iterate(this.gbufLoops, base, points)) {
      starts.push(a.slice(0, NDIMS));
      folds.push(a.slice(NDIMS));
    }
    return { starts, folds };
  }

  /** The points of fused group `g` in the dram tile at `start`: the product of its members' clipped extents. */
  foldPoints(g: number, start: Int32Array): number {
    const grp = this.groups[g]!;
    let n = 1;
    grp.dims.forEach((d, k) => (n *= Math.max(0, Math.min(grp.extents[k]!, this.sizes[d]! - start[d]!))));
    return n;
  }

  /**
   * Places point `flat` of fused group `g` of the dram tile at `tileStart`: writes its members'
   * coordinates into `out`; false when the tile has no such point.
   */
  placeFused(g: number, tileStart: Int32Array, flat: number, out: Int32Array): boolean {
    const grp = this.groups[g]!;
    let rest = flat;
    for (let k = grp.dims.length - 1; k >= 0; k--) {
      const d = grp.dims[k]!;
      const ext = Math.max(0, Math.min(grp.extents[k]!, this.sizes[d]! - tileStart[d]!));
      if (ext === 0) return false;
      out[d] = tileStart[d]! + (rest % ext);
      rest = Math.floor(rest / ext);
    }
    return rest === 0;
  }

  /**
   * Calls `body(start)` for every iteration of `loops` (outermost first) offset by `base`, skipping
   * iterations beyond the edge. Entries of `base` past the NDIMS dimensions are fused groups'
   * flattened indices, bounded by `bounds` (their tile's points).
   */
  *iterate(loops: readonly WeightedLoop[], base: Int32Array, bounds: readonly number[] = []): Generator<Int32Array> {
    const n = loops.length;
    const idx = new Int32Array(n);
    const start = new Int32Array(base);
    for (;;) {
      let inside = true;
      for (let d = 0; d < NDIMS; d++) if (start[d]! >= this.sizes[d]!) inside = false;
      for (let g = 0; g < bounds.length; g++) if (start[NDIMS + g]! >= bounds[g]!) inside = false;
      if (inside) yield start;
      // odometer: innermost loop fastest
      let j = n - 1;
      for (; j >= 0; j--) {
        const l = loops[j]!;
        idx[j]!++;
        start[l.dim]! += l.weight;
        if (idx[j]! < l.factor) break;
        start[l.dim]! -= l.weight * l.factor;
        idx[j] = 0;
      }
      if (j < 0) return;
    }
  }

  /** Clipped extent of a tile at `start` with unclipped extent `stride`, per dimension. */
  extent(start: Int32Array, stride: Int32Array, out: Int32Array): Int32Array {
    for (let d = 0; d < NDIMS; d++) out[d] = Math.max(0, Math.min(stride[d]!, this.sizes[d]! - start[d]!));
    return out;
  }
}

function decode(loops: readonly { dim: number; factor: number; weight: number }[], index: number, off: Int32Array): void {
  // First loop of the axis is the most significant digit.
  let rest = index;
  for (let j = loops.length - 1; j >= 0; j--) {
    const l = loops[j]!;
    const i = rest % l.factor;
    rest = Math.floor(rest / l.factor);
    off[l.dim]! += i * l.weight;
  }
}

/**
 * A key for the part of a tile start that a tensor depends on: a mixed-radix number over the
 * given dimensions (exact: the product of all dimension sizes is the dense MAC count, < 2^53).
 */
export function startKey(start: Int32Array | readonly number[], dims: readonly number[], sizes: Int32Array): number {
  let k = 0;
  for (const d of dims) k = k * (sizes[d]! + 1) + start[d]!;
  return k;
}
