/**
 * Lower bounds on the traffic across one memory boundary for one convolution layer, and the
 * attainable optimum of the paper's dataflow. Derivations and proofs: docs/bounds.md.
 *
 * Model (red-blue pebble game without recomputation): below the boundary there is room for S
 * distinct elements (words) at a time; above it, the whole tensors. A MAC with a real input
 * (a padded tap contributes 0 and is free) needs its input element, its weight and its output's
 * partial sum below the boundary; inputs and weights start above it, every output must end above
 * it, and a partial sum is never discarded (each MAC runs once). Traffic = elements moved across
 * the boundary, all tensors (input, weight, partial-sum reads and writes), in words.
 *
 * Figures, per layer and capacity S:
 * - compulsory: every touched input, every used weight read once, every output written once;
 * - paper: `2 * MACs / sqrt(R * S)` reads + the output writes, as stated by Chen, Han & Wang,
 *   "Communication Lower Bound in Convolution Accelerators" (HPCA 2020, arXiv 1911.05662);
 * - provable: a Hong–Kung segment bound with a Loomis–Whitney count of the MACs one segment can
 *   do, lower-order terms included (leading term sqrt(2) * MACs / sqrt(R * S), a factor sqrt(2)
 *   below the paper's read term);
 * - attainable: the paper's output-tile dataflow at its best integer tile (see tile.ts).
 *
 * Boundaries: `dram` (DRAM <-> on chip; S = on-chip words) and `gbuf` (global buffer <->
 * registers; S = register words, a multicast counted as one read at the source). The math is
 * the same; only S differs.
 */
import { ConfigError } from "../core/errors.js";
import type { Capacity } from "../core/units.js";
import { rfEntriesPerPe, type ArchSpec } from "../arch/spec.js";
import { dtypeInfo, requireOperandType, DEFAULT_OPERAND_TYPE } from "../workload/dtype.js";
import { convShape, layerAxis, validLayer, type ConvLayer, type ConvLayerSpec } from "../workload/layer.js";
import { axisMaxTapsPerOutput, axisMaxUsesPerTap, axisUsedTaps, reuse, type ReuseFacts } from "./reuse.js";
import { budgetWords, minimumFootprint, searchTile, tileBudget, type OperandTypes, type Staging, type TensorTraffic, type TileBudget, type TilePlan } from "./tile.js";

/** A memory boundary: DRAM <-> on-chip storage, or global buffer <-> register files. */
export type Boundary = "dram" | "gbuf";

/** Every boundary, outermost first. */
export const BOUNDARIES: readonly Boundary[] = Object.freeze(["dram", "gbuf"]);

/** Options of {@link lowerBounds}. */
export interface BoundOptions {
  /**
   * The capacity below the boundary: a number of words, or a {@link Capacity} (words or bytes).
   * In bytes, the bounds use S = bytes / (smallest element size), the attainable tile counts
   * each element at its size (int32 psums: 4 bytes).
   */
  readonly capacity: Capacity | number;
  /** Which boundary the capacity belongs to (a label in the result). Default `dram`. */
  readonly boundary?: Boundary;
  /** Operand element types (default int8 and int8); they matter only for a capacity in bytes. */
  readonly types?: OperandTypes;
  /** Staging of the attainable dataflow's per-channel input slice and weights. Default `single`. */
  readonly staging?: Staging;
}

/** The paper's bound, leading order, as the paper states it. */
export interface PaperBound {
  /** `2 * MACs / sqrt(R * S)` with the dense MAC count and the maximum reuse R (0 when R = 0). */
  readonly reads: number;
  /** Every output written once. */
  readonly outputWrites: number;
  /** reads + outputWrites. */
  readonly total: number;
}

/** The provable bound and the segment size that gives it. */
export interface ProvableBound {
  /** A lower bound on the total traffic (all tensors, reads and writes), in words. */
  readonly total: number;
  /** The segment length T (transfers per segment) that attains the maximum. */
  readonly segmentTransfers: number;
  /** The most useful MACs one segment of T transfers can do, F(T), at that T. */
  readonly segmentMacs: number;
}

/** The attainable traffic of the paper's dataflow at its best tile (see tile.ts). */
export interface AttainableTraffic extends TilePlan {
  /** attainable total / paper total. */
  readonly overPaper: number;
  /** attainable total / max(compulsory, provable). */
  readonly overHeadline: number;
}

/** Every figure for one layer at one boundary. */
export interface LayerBounds {
  readonly layer: ConvLayer;
  readonly boundary: Boundary;
  /** S, in words (elements), used by the bounds. */
  readonly capacityWords: number;
  /** The tile budget the attainable search used. */
  readonly budget: TileBudget;
  /** Dense MACs (padded taps included). */
  readonly macs: number;
  /** MACs whose input is real (the ones any schedule must do). */
  readonly usefulMacs: number;
  readonly reuse: ReuseFacts;
  readonly compulsory: TensorTraffic;
  readonly paper: PaperBound;
  readonly provable: ProvableBound;
  /** max(compulsory.total, provable.total): the headline minimum. */
  readonly headline: number;
  /** The attainable traffic, or null when not even a 1x1x1x1 tile fits. */
  readonly attainable: AttainableTraffic | null;
  /** The footprint of the smallest tile, in the budget's unit. */
  readonly minimumTileFootprint: number;
}

/** The layer constants the segment bound needs. */
export interface SegmentModel {
  /** Useful MACs M. */
  readonly macs: number;
  /** Maximum reuse R of an input element per output channel. */
  readonly reuse: number;
  /** Touched input elements (cap on the inputs a segment can use). */
  readonly inputs: number;
  /** Used weights. */
  readonly weights: number;
  /** Output elements. */
  readonly outputs: number;
  /** Most MACs that read one input element: outChannelsPerGroup * R. */
  readonly usesPerInput: number;
  /** Most MACs that read one weight: batch * (most outputs per tap, rows) * (same, columns). */
  readonly usesPerWeight: number;
  /** Most MACs into one output: inChannelsPerGroup * (most real taps per output, rows) * (columns). */
  readonly usesPerOutput: number;
}

/** The constants of the segment bound for a layer. */
export function segmentModel(layer: ConvLayer): SegmentModel {
  const s = convShape(layer);
  const rows = layerAxis(layer, "h");
  const cols = layerAxis(layer, "w");
  const R = reuse(layer).max;
  return Object.freeze({
    macs: s.usefulMacs,
    reuse: R,
    inputs: s.touchedInputElements,
    weights: usedWeights(layer),
    outputs: s.outputElements,
    usesPerInput: s.outChannelsPerGroup * R,
    usesPerWeight: layer.batch * axisMaxUsesPerTap(rows) * axisMaxUsesPerTap(cols),
    usesPerOutput: s.inChannelsPerGroup * axisMaxTapsPerOutput(rows) * axisMaxTapsPerOutput(cols),
  });
}

/** Weights whose tap reads a real input for some output: outChannels * Cg * usedTapRows * usedTapCols. */
export function usedWeights(layer: ConvLayer): number {
  const s = convShape(layer);
  return layer.outChannels * s.inChannelsPerGroup * axisUsedTaps(layerAxis(layer, "h")) * axisUsedTaps(layerAxis(layer, "w"));
}

/** The largest a*b*c with a+b+c <= sum and 0 <= a,b,c <= their caps (water-filling). */
export function maxProduct3(sum: number, caps: readonly [number, number, number]): number {
  // (the caps ascending, sorted by hand: the bound's search calls this many times per boundary,
  // and a copied, sorted array per call was 2% of a short simulation's profile)
  const lo = Math.min(caps[0], caps[1]);
  const hi = Math.max(caps[0], caps[1]);
  const u1 = Math.min(lo, caps[2]);
  const u3 = Math.max(hi, caps[2]);
  const u2 = caps[2] < lo ? lo : caps[2] > hi ? hi : caps[2];
  if (u1 + u2 + u3 <= sum) return u1 * u2 * u3;
  if (u1 >= sum / 3) return (sum / 3) ** 3;
  const rest = sum - u1;
  if (u2 >= rest / 2) return u1 * (rest / 2) * (rest / 2);
  return u1 * u2 * (rest - u2);
}

/** Relative inflation of F so that floating-point rounding can only weaken the bound. */
const F_SLACK = 1 + 1e-12;

/**
 * F(T): an upper bound on the useful MACs that a segment with at most T transfers can do with
 * S words below the boundary. The segment uses a <= S + T inputs, b <= S + T weights and
 * c <= S + T outputs with a + b + c <= 2S + T (docs/bounds.md, Lemma 2), each also capped by its
 * tensor's size; then MACs <= sqrt(R a b c) (Loomis–Whitney, Lemma 1) and MACs <= uses * count
 * for each tensor.
 */
export function maxSegmentMacs(m: SegmentModel, S: number, T: number): number {
  const sum = 2 * S + T;
  const a = Math.min(S + T, m.inputs);
  const b = Math.min(S + T, m.weights);
  const c = Math.min(S + T, m.outputs);
  const f = Math.min(
    Math.sqrt(m.reuse * maxProduct3(sum, [a, b, c])),
    m.usesPerInput * Math.min(a, sum),
    m.usesPerWeight * Math.min(b, sum),
    m.usesPerOutput * Math.min(c, sum),
    m.macs,
  );
  return f * F_SLACK;
}

/**
 * The segment bound for one segment length T: traffic >= T * (ceil(M / F(T)) - 1). Valid for
 * every T >= 1 (docs/bounds.md, Theorem).
 */
export function segmentBound(m: SegmentModel, S: number, T: number): number {
  if (m.macs === 0) return 0;
  const F = maxSegmentMacs(m, S, T);
  return T * (Math.ceil(m.macs / F) - 1);
}

/** Segment lengths tried: ceil(2^(j/16)) for j = 0 .. 16*53, deduplicated; independent of S. */
const SEGMENT_GRID: readonly number[] = (() => {
  const out: number[] = [];
  for (let j = 0; j <= 16 * 53; j++) {
    const t = Math.ceil(2 ** (j / 16));
    if (out[out.length - 1] !== t) out.push(t);
  }
  return Object.freeze(out);
})();

/**
 * The provable bound: the maximum of {@link segmentBound} over a fixed grid of segment lengths
 * (a grid that does not depend on S, so the bound is non-increasing in S).
 * @throws ConfigError for an invalid layer (a ConvLayer or a layer spec), or unless S is a positive integer.
 */
export function provableBound(layer: ConvLayer | ConvLayerSpec, S: number): ProvableBound {
  requireWords("capacityWords", S);
  const m = segmentModel(validLayer(layer));
  let best = 0;
  let bestT = SEGMENT_GRID[0]!;
  for (const T of SEGMENT_GRID) {
    const q = segmentBound(m, S, T);
    if (q > best) {
      best = q;
      bestT = T;
    }
  }
  return Object.freeze({ total: best, segmentTransfers: bestT, segmentMacs: m.macs === 0 ? 0 : maxSegmentMacs(m, S, bestT) });
}

/**
 * The paper's bound (see {@link PaperBound}) of a ConvLayer or a layer spec.
 * @throws ConfigError for an invalid layer, or unless S is a positive integer.
 */
export function paperBound(layerSpec: ConvLayer | ConvLayerSpec, S: number): PaperBound {
  requireWords("capacityWords", S);
  const layer = validLayer(layerSpec);
  const s = convShape(layer);
  const R = reuse(layer).max;
  const reads = R === 0 ? 0 : (2 * s.macs) / Math.sqrt(R * S);
  return Object.freeze({ reads, outputWrites: s.outputElements, total: reads + s.outputElements });
}

/**
 * The compulsory traffic of a ConvLayer or a layer spec: touched inputs, used weights, outputs, each once.
 * @throws ConfigError for an invalid layer.
 */
export function compulsoryTraffic(layerSpec: ConvLayer | ConvLayerSpec): TensorTraffic {
  const layer = validLayer(layerSpec);
  const s = convShape(layer);
  const input = s.touchedInputElements;
  const weight = usedWeights(layer);
  const output = s.outputElements;
  return Object.freeze({ input, weight, output, total: input + weight + output });
}

function requireWords(field: string, S: unknown): number {
  if (typeof S !== "number" || !Number.isSafeInteger(S) || S < 1) throw new ConfigError(field, S, "be a positive whole number of words");
  return S;
}

/**
 * Every figure of one layer at one boundary: compulsory, paper, provable, the headline
 * max(compulsory, provable), and the attainable traffic with its tile.
 * @param layer a ConvLayer, or a layer spec (as `convLayer` takes; validated here).
 * @throws ConfigError for an invalid layer or option, before any work.
 */
export function lowerBounds(layer: ConvLayer | ConvLayerSpec, options: BoundOptions): LayerBounds {
  const l = validLayer(layer);
  if (options === null || typeof options !== "object") throw new ConfigError("options", options, "be an object with a capacity");
  const boundary = options.boundary ?? "dram";
  if (!BOUNDARIES.includes(boundary)) throw new ConfigError("options.boundary", boundary, `be one of ${BOUNDARIES.join(", ")}`);
  const budget = tileBudget(options.capacity, options.types ?? {}, options.staging ?? "single", "options.capacity");
  const S = budgetWords(budget);
  const s = convShape(l);
  const compulsory = compulsoryTraffic(l);
  const paper = paperBound(l, S);
  const provable = provableBound(l, S);
  const headline = Math.max(compulsory.total, provable.total);
  const best = searchTile(l, budget);
  const attainable: AttainableTraffic | null =
    best === null ? null : Object.freeze({ ...best, overPaper: best.traffic.total / paper.total, overHeadline: best.traffic.total / headline });
  return Object.freeze({
    layer: l,
    boundary,
    capacityWords: S,
    budget,
    macs: s.macs,
    usefulMacs: s.usefulMacs,
    reuse: reuse(l),
    compulsory,
    paper,
    provable,
    headline,
    attainable,
    minimumTileFootprint: minimumFootprint(l, budget),
  });
}

/**
 * S in words at a boundary of an architecture, for the bounds: `gbuf` = every register-file
 * entry of the array (one element each; a shared pool's entries, or the three partitions'); `dram`
 * = the global buffer's bytes divided by the smallest element size it stores (the operand types'
 * and `gbuf.psumBytes`, default 4: the most elements it can hold) plus the register-file entries.
 * Storage not in the spec (pipeline registers, accumulators) is not counted; add it if a dataflow
 * uses it.
 * @throws ConfigError for an unknown boundary or operand type.
 */
export function boundaryCapacityWords(arch: ArchSpec, boundary: Boundary, types: OperandTypes = {}): number {
  if (!BOUNDARIES.includes(boundary)) throw new ConfigError("boundary", boundary, `be one of ${BOUNDARIES.join(", ")}`);
  const input = requireOperandType("types.input", types.input ?? DEFAULT_OPERAND_TYPE);
  const weight = requireOperandType("types.weight", types.weight ?? DEFAULT_OPERAND_TYPE);
  const pes = arch.array.rows * arch.array.cols;
  const rfWords = pes * rfEntriesPerPe(arch.rf);
  if (boundary === "gbuf") return rfWords;
  const minBytes = Math.min(dtypeInfo(input).bytes, dtypeInfo(weight).bytes, arch.gbuf.psumBytes ?? dtypeInfo("int32").bytes);
  return Math.floor(arch.gbuf.capacityBytes / minBytes) + rfWords;
}
