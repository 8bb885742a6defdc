/**
 * The Mapping's data: its dimensions, levels and tensors, the types of its loops and levels, and
 * the two facts every pass over it starts from, the size of each dimension of a layer
 * ({@link dimSizes}) and the whole nest flattened outermost first ({@link loopNest}). The
 * semantics (loop order, mixed-radix index, tiles, keep and bypass, imperfect factors) are in
 * mapping.ts's header, which re-exports everything here; import from mapping.ts.
 */
import { convShape, type ConvLayer } from "../workload/layer.js";

/** The eight dimensions of a convolution's iteration space, in canonical order. */
export const DIMS = Object.freeze(["N", "G", "K", "C", "P", "Q", "R", "S"] as const);
/** One dimension of the iteration space. */
export type Dim = (typeof DIMS)[number];

/** The loop levels of a mapping, outermost first. */
export const LEVELS = Object.freeze(["dram", "gbuf", "spatial", "rf"] as const);
/** One loop level. */
export type LevelName = (typeof LEVELS)[number];
/** The levels that are storage below DRAM and carry keep / double-buffer flags. */
export type StorageLevelName = "gbuf" | "rf";

/** The three tensors (data spaces). `output` covers partial sums and final outputs (int32). */
export const TENSORS = Object.freeze(["input", "weight", "output"] as const);
/** One tensor. */
export type TensorName = (typeof TENSORS)[number];

/** An axis of the PE array: `row` unrolls across PE rows, `col` across PE columns. */
export type Axis = "row" | "col";

/** A temporal loop: `for dim in 0..factor`. */
export interface TemporalLoop {
  readonly dim: Dim;
  readonly factor: number;
}

/** A spatial loop: `factor` instances of the body side by side on one array axis. */
export interface SpatialLoop {
  readonly dim: Dim;
  readonly factor: number;
  readonly axis: Axis;
}

/** Per-tensor keep (true) or bypass (false) flags of a storage level. */
export type KeepFlags = Readonly<Record<TensorName, boolean>>;

/** The dram level: temporal loops only (DRAM is the backing store and keeps every tensor). */
export interface DramLevel {
  readonly loops: readonly TemporalLoop[];
}

/** A storage level below DRAM (gbuf or rf): temporal loops, keep flags, double buffering. */
export interface StorageLevel {
  readonly loops: readonly TemporalLoop[];
  readonly keep: KeepFlags;
  readonly doubleBuffer: boolean;
}

/**
 * The rf level: a storage level whose tensors may also stream. A tensor in `stream` does not stay
 * in the PE: its rf tile passes through one pipeline register, a word per step, entering at the
 * edge of the array and forwarded PE to PE over the links, one cycle per hop (a systolic array;
 * needs `arch.noc.forwarding`). Its RF footprint is that one register. See docs/mapping.md.
 */
export interface RfLevel extends StorageLevel {
  /** Tensors that stream through the PEs instead of staying (absent: none). */
  readonly stream?: KeepFlags;
  /**
   * Two sets of accumulators (Gemmini's `c1`/`c2`): when every PE's output tile changes, the new
   * tiles accumulate in the other set while the old ones drain alongside the next wave, instead
   * of the array waiting for the drain. The psum partition holds two rf output tiles. `doubleBuffer`
   * doubles the operand tiles only; this doubles the output tile. Not with a streamed output, which
   * already alternates (absent: false). See docs/mapping.md.
   */
  readonly doubleBufferOutput?: boolean;
}

/** The spatial level: loops unrolled across the PE array. */
export interface SpatialLevel {
  readonly loops: readonly SpatialLoop[];
}

/**
 * A fused group (mapping.ts, "Fused dimensions"): dimensions flattened into one index below the
 * dram level, the first (the lead) naming it there; `extents[i]` is the dram tile's extent along
 * `dims[i]` (unclipped; dram tiles are aligned at its multiples).
 */
export interface FusedGroup {
  readonly dims: readonly Dim[];
  readonly extents: readonly number[];
}

/** A complete mapping of one layer (see the file header for the exact semantics). */
export interface Mapping {
  /** Optional label, e.g. the dataflow that built it (`rs`). */
  readonly name?: string;
  /** Fused groups (absent: none); see mapping.ts, "Fused dimensions". */
  readonly fuse?: readonly FusedGroup[];
  readonly dram: DramLevel;
  readonly gbuf: StorageLevel;
  readonly spatial: SpatialLevel;
  readonly rf: RfLevel;
}

/** A loop of any level, flattened with its level: what {@link loopNest} returns. */
export interface NestLoop {
  readonly level: LevelName;
  readonly dim: Dim;
  readonly factor: number;
  /** Present on spatial loops only. */
  readonly axis?: Axis;
}

/** One number per dimension. */
export type DimRecord = Readonly<Record<Dim, number>>;

/** Per-tensor word counts. */
export type TensorWords = Readonly<Record<TensorName, number>>;

/** The dimensions each tensor is indexed by (projection of the iteration space). */
export const TENSOR_DIMS: Readonly<Record<TensorName, readonly Dim[]>> = Object.freeze({
  input: Object.freeze(["N", "G", "C", "P", "Q", "R", "S"] as Dim[]),
  weight: Object.freeze(["G", "K", "C", "R", "S"] as Dim[]),
  output: Object.freeze(["N", "G", "K", "P", "Q"] as Dim[]),
});

/** Dimensions summed over (a loop over one of them accumulates into the same output). */
export const REDUCTION_DIMS: readonly Dim[] = Object.freeze(["C", "R", "S"] as Dim[]);

/** The size of every dimension of a layer's iteration space. */
export function dimSizes(layer: ConvLayer): DimRecord {
  const s = convShape(layer);
  return Object.freeze({
    N: layer.batch,
    G: layer.groups,
    K: s.outChannelsPerGroup,
    C: s.inChannelsPerGroup,
    P: s.outHeight,
    Q: s.outWidth,
    R: layer.kernelHeight,
    S: layer.kernelWidth,
  });
}

/** The whole loop nest, outermost first, each loop tagged with its level. */
export function loopNest(m: Mapping): NestLoop[] {
  const out: NestLoop[] = [];
  for (const l of m.dram.loops) out.push({ level: "dram", dim: l.dim, factor: l.factor });
  for (const l of m.gbuf.loops) out.push({ level: "gbuf", dim: l.dim, factor: l.factor });
  for (const l of m.spatial.loops) out.push({ level: "spatial", dim: l.dim, factor: l.factor, axis: l.axis });
  for (const l of m.rf.loops) out.push({ level: "rf", dim: l.dim, factor: l.factor });
  return out;
}


/** The fused group `dim` belongs to (as lead or member), if any. */
export function fusedGroupOf(m: Mapping, dim: Dim): FusedGroup | undefined {
  if (!m.fuse) return undefined;
  for (const g of m.fuse) if (g.dims.includes(dim)) return g;
  return undefined;
}

/**
 * The dimensions a loop over `dim` steps through: its fused group's when `dim` leads one (a loop
 * below the dram level on the lead walks the flattened index), else `dim` alone.
 */
export function loopDims(m: Mapping, dim: Dim): readonly Dim[] {
  const g = fusedGroupOf(m, dim);
  return g && g.dims[0] === dim ? g.dims : [dim];
}

/** Each level's depth, outermost 0 (dram) to innermost 3 (rf). */
export const LEVEL_INDEX: Readonly<Record<LevelName, number>> = Object.freeze({ dram: 0, gbuf: 1, spatial: 2, rf: 3 });

/** Keep every tensor. */
export const KEEP_ALL: KeepFlags = Object.freeze({ input: true, weight: true, output: true });

/** A short human description of a loop, e.g. `k2 in 0..4`. */
export function describeLoop(l: NestLoop): string {
  return `${l.dim.toLowerCase()}${3 - LEVEL_INDEX[l.level]} in 0..${l.factor}`;
}
