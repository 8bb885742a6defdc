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

/** The nest, precomputed once per run. */
export class Nest {
  /** Size of each dimension. */
  readonly sizes: Int32Array;
  readonly dramLoops: readonly WeightedLoop[];
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
  /** Per used PE (row-major over usedRows x usedCols): the spatial part of its tile start. */
  readonly peOffset: readonly Int32Array[];

  constructor(m: Mapping, layer: ConvLayer) {
    const sizes = dimSizes(layer);
    this.sizes = Int32Array.from(DIMS.map((d) => sizes[d]));
    const all: { level: string; dim: number; factor: number; axis?: string }[] = [];
    for (const l of m.dram.loops) all.push({ level: "dram", dim: DIM_INDEX[l.dim], factor: l.factor });
    for (const l of m.gbuf.loops) all.push({ level: "gbuf", dim: DIM_INDEX[l.dim], factor: l.factor });
    for (const l of m.spatial.loops) all.push({ level: "spatial", dim: DIM_INDEX[l.dim], factor: l.factor, axis: l.axis });
    for (const l of m.rf.loops) all.push({ level: "rf", dim: DIM_INDEX[l.dim], factor: l.factor });
    const weighted = all.map((l, j) => {
      let w = 1;
      for (let i = j + 1; i < all.length; i++) if (all[i]!.dim === l.dim) w *= all[i]!.factor;
      return { ...l, weight: w };
    });
    const pick = (level: string) => weighted.filter((l) => l.level === level).map((l) => ({ dim: l.dim, factor: l.factor, weight: l.weight }));
    this.dramLoops = pick("dram");
    this.gbufLoops = pick("gbuf");
    this.rfLoops = pick("rf");
    const strideFrom = (levels: string[]) => {
      const s = new Int32Array(NDIMS).fill(1);
      for (const l of weighted) if (levels.includes(l.level)) s[l.dim]! *= l.factor;
      return s;
    };
    this.gbufStride = strideFrom(["gbuf", "spatial", "rf"]);
    this.rfStride = strideFrom(["rf"]);
    this.gbufExtent = this.gbufStride.map((v, d) => Math.min(v, this.sizes[d]!));
    this.rfExtent = this.rfStride.map((v, d) => Math.min(v, this.sizes[d]!));
    const rowLoops = weighted.filter((l) => l.level === "spatial" && l.axis === "row");
    const colLoops = weighted.filter((l) => l.level === "spatial" && l.axis === "col");
    this.usedRows = rowLoops.reduce((a, l) => a * l.factor, 1);
    this.usedCols = colLoops.reduce((a, l) => a * l.factor, 1);
    const offsets: Int32Array[] = [];
    for (let r = 0; r < this.usedRows; r++) {
      for (let c = 0; c < this.usedCols; c++) {
        const off = new Int32Array(NDIMS);
        decode(rowLoops, r, off);
        decode(colLoops, c, off);
        offsets.push(off);
      }
    }
    this.peOffset = offsets;
  }

  /** Calls `body(start)` for every iteration of `loops` (outermost first) offset by `base`, skipping iterations beyond the edge. */
  *iterate(loops: readonly WeightedLoop[], base: Int32Array): Generator<Int32Array> {
    const n = loops.length;
    const idx = new Int32Array(n);
    const start = new Int32Array(base);
    for (;;) {
      let inside = true;
      for (let d = 0; d < NDIMS; d++) if (start[d]! >= this.sizes[d]!) inside = false;
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
