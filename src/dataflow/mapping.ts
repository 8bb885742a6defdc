/**
 * The Mapping: convsim's loop-nest IR (DESIGN "Three inputs"; STYLE rule 7). A mapping says how
 * the iteration space of one convolution layer is tiled in time and space over the three-level
 * hierarchy DRAM -> global buffer (GBuf) -> per-PE register files (RF). It is plain data: a
 * JSON-serializable object that {@link parseMapping} validates, `formatMapping` prints and
 * `checkMapping` (legality.ts) checks against a layer and an architecture. Semantics follow
 * Timeloop's mapping (Parashar et al., ISPASS 2019: loops per storage level, a level's tile is
 * its own loops and everything inside them, keep/bypass per level and data space).
 *
 * Dimensions (one point = one MAC):
 *   N batch, G group, K output channels per group, C input channels per group,
 *   P output rows, Q output columns, R kernel rows, S kernel columns.
 *   y[n][g*K+k][p][q] += x[n][g*C+c][p*strideH - padTop + r*dilH][q*strideW - padLeft + s*dilW]
 *                        * w[g*K+k][c][r][s]
 *
 * Levels, outermost first:
 *   dram    temporal loops; their body is one GBuf tile.         DRAM keeps every tensor.
 *   gbuf    temporal loops; their body is the RF tiles of all PEs. The GBuf holds the gbuf tile.
 *   spatial loops unrolled across the PE array, each on axis `row` or `col`.
 *   rf      temporal loops inside one PE; their body is one MAC.   The RF holds the rf tile.
 * The tile of a level is the box spanned by its own loops and every loop inside it (so the gbuf
 * tile is gbuf x spatial x rf, the spatial tile is the union of all PEs' rf tiles, the rf tile is
 * one PE's). `keep[tensor]` on the gbuf and rf levels says whether that storage holds the tensor's
 * tile (bypass: the tensor goes between the next outer keeping level and the consumer directly).
 * `doubleBuffer` doubles the level's footprint for every tensor it keeps (the next tile is
 * fetched while the current one is used), except the rf level's outputs: double-buffered
 * register files alternate their input and weight tiles, and the psum tile stays one accumulator
 * (docs/timing.md, the Sequencer).
 *
 * Loop order and index: within a level, loops are listed outermost first. A dimension appears at
 * most once per temporal level and at most once per axis of the spatial level. For one dimension,
 * let its loops from the outside in have factors f_1 .. f_m and let T_j = f_{j+1} * ... * f_m (the
 * extent of the tile inside loop j). The index is sum_j i_j * T_j (mixed radix, outer loops
 * coarser). In the spatial level, the PE row of a point is the mixed-radix number of its
 * row-axis loop indices in list order (first = most significant), likewise for columns.
 *
 * Imperfect factors: the product of a dimension's factors may exceed its size (e.g. 55 rows as
 * 4 x 14). Points whose index reaches the size do not exist: an iteration whose whole tile lies
 * beyond the edge is skipped (no transfer, no MAC, no cycle), and the last tile at each level is
 * partial. A loop must not have an iteration that is empty even in the first (full) tile:
 * `(f_j - 1) * T_j < size` for every loop j of the dimension (so a factor is never larger than the
 * number of tiles needed), and the factors must cover the size: `f_1 * ... * f_m >= size`. Tiles
 * are aligned at multiples of their extent, so a level's tile is entered exactly
 * `prod_d ceil(size_d / extent_d)` times over a run ({@link tileVisits}).
 *
 * Input tiles and halo: the input rows a tile reads are `o*stride - padBegin + k*dilation` for
 * the tile's output rows o and kernel rows k; their span is `(p-1)*stride + (r-1)*dil + 1`
 * ({@link inputSpan}). Storage holds only the rows some (o, k) of the tile actually reads and that
 * are real (padding is generated at the consumer, never stored or fetched; with stride larger than
 * the dilated kernel, or dilation, rows inside the span may be unread and are not stored). The
 * footprint of a level is the maximum, over every tile instance of that level, of the distinct
 * real elements the tile touches ({@link tileFootprint}); for inputs it is the product of the
 * per-axis maxima of distinct real rows and columns, times the tile's N and G*C extents.
 *
 * The register file is the exception: a PE stores its input window as the dense span in padded
 * coordinates, `N*G*C * inputSpan(P, R) * inputSpan(Q, S)` entries, because the MAC wave reads it
 * with affine addresses (row = p*stride + r*dilation); padding is filled in place by the PE and
 * rows the window skips stay empty, so neither is ever fetched or delivered.
 *
 * Word widths: footprints are in words (elements). Inputs and weights take their operand type's
 * bytes, outputs and partial sums int32 (4 bytes); see legality.ts for capacities.
 */
import { ConfigError } from "../core/errors.js";
import { rejectUnknownKeys, rejectUnsafeKeys } from "../core/fields.js";
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
}

/** The spatial level: loops unrolled across the PE array. */
export interface SpatialLevel {
  readonly loops: readonly SpatialLoop[];
}

/** A complete mapping of one layer (see the file header for the exact semantics). */
export interface Mapping {
  /** Optional label, e.g. the dataflow that built it (`rs`). */
  readonly name?: string;
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

const LEVEL_INDEX: Readonly<Record<LevelName, number>> = Object.freeze({ dram: 0, gbuf: 1, spatial: 2, rf: 3 });

/**
 * The product of the factors of `dim` at `level` and every level inside it: the unclipped extent
 * of that level's tile along `dim` (a multiple of the inner extents; tiles are aligned to it).
 */
export function tileStride(m: Mapping, level: LevelName, dim: Dim): number {
  let product = 1;
  for (const l of loopNest(m)) {
    if (l.dim === dim && LEVEL_INDEX[l.level] >= LEVEL_INDEX[level]) product *= l.factor;
  }
  return product;
}

/**
 * The extent of each dimension of a level's tile (its loops and everything inside them),
 * clipped to the layer: `min(size, product of the factors)`. This is the largest (full) tile;
 * tiles at the edges are smaller. `dram` gives the whole layer.
 */
export function tileExtents(m: Mapping, layer: ConvLayer, level: LevelName): DimRecord {
  const sizes = dimSizes(layer);
  const out = {} as Record<Dim, number>;
  for (const d of DIMS) out[d] = level === "dram" ? sizes[d] : Math.min(sizes[d], tileStride(m, level, d));
  return Object.freeze(out);
}

/**
 * How many times a level's tile is entered over the whole run (every non-empty tile instance,
 * repeats included): `prod_d ceil(size_d / stride_d)`. For `dram` it is 1; for `spatial` it is the
 * number of array-wide waves of RF tiles; for `rf`, the number of (PE-tile) instances.
 */
export function tileVisits(m: Mapping, layer: ConvLayer, level: LevelName): number {
  const sizes = dimSizes(layer);
  let n = 1;
  for (const d of DIMS) n *= Math.ceil(sizes[d] / (level === "dram" ? sizes[d] : tileStride(m, level, d)));
  return n;
}

/** The number of iterations of one level's own loops for one full tile: the product of its factors. */
export function levelTrips(m: Mapping, level: LevelName): number {
  let n = 1;
  for (const l of m[level].loops) n *= l.factor;
  return n;
}

/** PEs used by the spatial level: rows (product of row-axis factors) and columns. */
export function spatialShape(m: Mapping): { readonly rows: number; readonly cols: number } {
  let rows = 1;
  let cols = 1;
  for (const l of m.spatial.loops) {
    if (l.axis === "row") rows *= l.factor;
    else cols *= l.factor;
  }
  return { rows, cols };
}

/**
 * Span of input rows (or columns) covered by `outCount` consecutive outputs and `kernelCount`
 * consecutive kernel taps: `(outCount-1)*stride + (kernelCount-1)*dilation + 1`. Rows inside the
 * span may be padding or (with stride > dilated kernel, or dilation) unread.
 */
export function inputSpan(outCount: number, kernelCount: number, stride: number, dilation: number): number {
  if (outCount <= 0 || kernelCount <= 0) return 0;
  return (outCount - 1) * stride + (kernelCount - 1) * dilation + 1;
}

/** One spatial axis of a layer as the tiling math needs it. */
export interface InputAxis {
  /** Real input size along the axis. */
  readonly inSize: number;
  /** Output size along the axis. */
  readonly outSize: number;
  /** Kernel taps along the axis. */
  readonly kernel: number;
  readonly stride: number;
  readonly dilation: number;
  /** Padding before the first real element. */
  readonly padBegin: number;
}

/** The row (`h`) or column (`w`) axis of a layer. */
export function inputAxis(layer: ConvLayer, which: "h" | "w"): InputAxis {
  const s = convShape(layer);
  const i = which === "h" ? 0 : 1;
  return {
    inSize: which === "h" ? layer.inHeight : layer.inWidth,
    outSize: which === "h" ? s.outHeight : s.outWidth,
    kernel: which === "h" ? layer.kernelHeight : layer.kernelWidth,
    stride: layer.strides[i],
    dilation: layer.dilations[i],
    padBegin: layer.pads[which === "h" ? 0 : 1],
  };
}

/**
 * The real input coordinates (sorted, distinct) read by outputs `[outStart, outStart+outCount)`
 * through taps `[kStart, kStart+kCount)` along one axis; counts are clipped to the axis.
 */
export function touchedInputs(axis: InputAxis, outStart: number, outCount: number, kStart: number, kCount: number): number[] {
  const oEnd = Math.min(axis.outSize, outStart + outCount);
  const kEnd = Math.min(axis.kernel, kStart + kCount);
  const seen = new Set<number>();
  for (let o = outStart; o < oEnd; o++) {
    for (let k = kStart; k < kEnd; k++) {
      const i = o * axis.stride - axis.padBegin + k * axis.dilation;
      if (i >= 0 && i < axis.inSize) seen.add(i);
    }
  }
  return [...seen].sort((a, b) => a - b);
}

/**
 * The largest number of distinct real input coordinates that any tile of `outTile` outputs by
 * `kTile` taps reads along one axis, over every aligned tile position (tiles start at multiples of
 * their extent and the last ones are partial). Exact, by enumeration (cost: outSize * kernel).
 */
export function maxTouchedInputs(axis: InputAxis, outTile: number, kTile: number): number {
  return axisCoverage(axis, outTile, kTile).max;
}

/** The sum and the maximum, over aligned tiles, of the real input coordinates each reads. */
export interface AxisCoverage {
  /** Sum over every (output tile, tap tile) pair of the distinct real input coordinates it reads. */
  readonly sum: number;
  /** The most distinct real input coordinates any one pair reads. */
  readonly max: number;
}

/** The input coverage of one axis by tiles of `outTile` outputs and `kTile` taps (aligned; exact by enumeration). */
export function axisCoverage(axis: InputAxis, outTile: number, kTile: number): AxisCoverage {
  const ot = Math.min(outTile, axis.outSize);
  const kt = Math.min(kTile, axis.kernel);
  const stamp = new Int32Array(axis.inSize).fill(-1);
  let sum = 0;
  let max = 0;
  let id = 0;
  for (let o0 = 0; o0 < axis.outSize; o0 += ot) {
    const oEnd = Math.min(axis.outSize, o0 + ot);
    for (let k0 = 0; k0 < axis.kernel; k0 += kt, id++) {
      const kEnd = Math.min(axis.kernel, k0 + kt);
      let count = 0;
      for (let o = o0; o < oEnd; o++) {
        const base = o * axis.stride - axis.padBegin;
        for (let k = k0; k < kEnd; k++) {
          const i = base + k * axis.dilation;
          if (i >= 0 && i < axis.inSize && stamp[i] !== id) {
            stamp[i] = id;
            count++;
          }
        }
      }
      sum += count;
      if (count > max) max = count;
    }
  }
  return { sum, max };
}

/**
 * Words of `tensor` in the largest instance of a level's tile (not doubled, keep ignored).
 * Weights: G*K*C*R*S extents. Outputs: N*G*K*P*Q extents (int32 partial sums). Inputs: N and G*C
 * extents times the maximum distinct real rows and columns any tile instance reads (halo
 * included, padding and unread rows excluded; see the file header).
 */
export function tileFootprint(m: Mapping, layer: ConvLayer, level: LevelName, tensor: TensorName): number {
  const e = tileExtents(m, layer, level);
  switch (tensor) {
    case "weight":
      return e.G * e.K * e.C * e.R * e.S;
    case "output":
      return e.N * e.G * e.K * e.P * e.Q;
    case "input": {
      if (level === "rf") {
        // A PE's register file holds its window as a dense span in padded coordinates, because
        // the MAC wave addresses it affinely (row = p*stride + r*dilation): padding is filled in
        // place (never fetched) and rows the window skips are left empty (never delivered).
        const spanRows = inputSpan(e.P, e.R, layer.strides[0], layer.dilations[0]);
        const spanCols = inputSpan(e.Q, e.S, layer.strides[1], layer.dilations[1]);
        return e.N * e.G * e.C * spanRows * spanCols;
      }
      const rows = maxTouchedInputs(inputAxis(layer, "h"), e.P, e.R);
      const cols = maxTouchedInputs(inputAxis(layer, "w"), e.Q, e.S);
      return e.N * e.G * e.C * rows * cols;
    }
  }
}

/**
 * Words each tensor occupies in a storage level: the tile footprint if the level keeps the
 * tensor (doubled with double buffering, except the rf level's outputs: the psum tile being
 * accumulated is not double-buffered), else 0.
 */
export function levelFootprint(m: Mapping, layer: ConvLayer, level: StorageLevelName): TensorWords {
  const lv = m[level];
  const out = {} as Record<TensorName, number>;
  for (const t of TENSORS) {
    const mult = lv.doubleBuffer && !(level === "rf" && t === "output") ? 2 : 1;
    // A streamed tensor occupies its pipeline register only (RfLevel.stream).
    out[t] = !lv.keep[t] ? 0 : level === "rf" && m.rf.stream?.[t] ? 1 : tileFootprint(m, layer, level, t) * mult;
  }
  return Object.freeze(out);
}

/** How a streamed tensor crosses the array: entering at the left edge and moving right, or at the top and moving down. */
export type StreamFlow = "right" | "down";

/**
 * The flow of each streamed tensor of `m` (RfLevel.stream): `right` when every PE of a row needs
 * the same tile (no col-axis spatial loop over the tensor's dimensions), else `down` when every
 * PE of a column does, else undefined (it cannot stream: legality reports it).
 */
export function streamFlows(m: Mapping): Partial<Record<TensorName, StreamFlow | undefined>> {
  const out: Partial<Record<TensorName, StreamFlow | undefined>> = {};
  for (const t of TENSORS) {
    if (!m.rf.stream?.[t]) continue;
    const along = (axis: Axis) => m.spatial.loops.every((l) => l.axis !== axis || l.factor <= 1 || !TENSOR_DIMS[t].includes(l.dim));
    out[t] = along("col") ? "right" : along("row") ? "down" : undefined;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Construction and validation (structure only; the layer- and arch-dependent rules are in
// legality.ts).

/** Keep every tensor. */
export const KEEP_ALL: KeepFlags = Object.freeze({ input: true, weight: true, output: true });

/** The parts a mapping is built from; loops with factor 1 may be omitted. */
export interface MappingSpec {
  name?: string;
  dram?: { loops?: readonly TemporalLoop[] };
  gbuf?: { loops?: readonly TemporalLoop[]; keep?: Partial<Record<TensorName, boolean>>; doubleBuffer?: boolean };
  spatial?: { loops?: readonly SpatialLoop[] };
  rf?: { loops?: readonly TemporalLoop[]; keep?: Partial<Record<TensorName, boolean>>; doubleBuffer?: boolean; stream?: Partial<Record<TensorName, boolean>> };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function parseLoops(path: string, raw: unknown, spatial: boolean): (TemporalLoop | SpatialLoop)[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new ConfigError(path, raw, "be an array of loops such as { \"dim\": \"K\", \"factor\": 4 }");
  const seen = new Set<string>();
  return raw.map((l, i) => {
    const lp = `${path}[${i}]`;
    if (!isObject(l)) throw new ConfigError(lp, l, `be a loop object { dim, factor${spatial ? ", axis" : ""} }`);
    rejectUnknownKeys(lp, l, spatial ? ["dim", "factor", "axis"] : ["dim", "factor"]);
    if (typeof l.dim !== "string" || !(DIMS as readonly string[]).includes(l.dim)) {
      throw new ConfigError(`${lp}.dim`, l.dim, `be one of ${DIMS.join(", ")}`);
    }
    if (typeof l.factor !== "number" || !Number.isSafeInteger(l.factor) || l.factor < 1) {
      throw new ConfigError(`${lp}.factor`, l.factor, "be a positive integer");
    }
    const dim = l.dim as Dim;
    if (spatial) {
      if (l.axis !== "row" && l.axis !== "col") throw new ConfigError(`${lp}.axis`, l.axis, 'be "row" or "col"');
      const key = `${dim}/${l.axis}`;
      if (seen.has(key)) throw new ConfigError(`${lp}.dim`, dim, `appear at most once per axis of the spatial level (${dim} is already on axis ${l.axis})`);
      seen.add(key);
      return Object.freeze({ dim, factor: l.factor, axis: l.axis });
    }
    if (seen.has(dim)) throw new ConfigError(`${lp}.dim`, dim, "appear at most once per temporal level");
    seen.add(dim);
    return Object.freeze({ dim, factor: l.factor });
  });
}

/** Per-tensor flags: an object of booleans, a missing tensor taking `fallback`. */
function parseFlags(path: string, raw: unknown, fallback: boolean, example: string): Record<TensorName, boolean> {
  if (!isObject(raw)) throw new ConfigError(path, raw, `be an object of per-tensor booleans, e.g. ${example}`);
  rejectUnknownKeys(path, raw, TENSORS);
  const out = {} as Record<TensorName, boolean>;
  for (const t of TENSORS) {
    const v = raw[t] ?? fallback;
    if (typeof v !== "boolean") throw new ConfigError(`${path}.${t}`, v, "be a boolean");
    out[t] = v;
  }
  return out;
}

function parseKeep(path: string, raw: unknown): KeepFlags {
  if (raw === undefined) return KEEP_ALL;
  return Object.freeze(parseFlags(path, raw, true, "{ input, weight, output }"));
}

function parseDoubleBuffer(path: string, raw: unknown): boolean {
  if (raw === undefined) return false;
  if (typeof raw !== "boolean") throw new ConfigError(path, raw, "be a boolean");
  return raw;
}

/** `rf.stream`: per-tensor flags (missing: false); a streamed tensor must be kept at the rf level (it passes through its register). */
function parseStream(path: string, raw: unknown, keep: KeepFlags): KeepFlags {
  const out = parseFlags(path, raw, false, "{ input: true }");
  for (const t of TENSORS) {
    if (out[t] && !keep[t]) throw new ConfigError(`${path}.${t}`, true, `be false while mapping.rf.keep.${t} is false (a streamed tensor passes through the PE's register)`);
  }
  return Object.freeze(out);
}

/**
 * Validates a mapping's structure and returns it normalized and frozen. Defaults: a missing level
 * has no loops, a missing `keep` keeps every tensor, a missing `doubleBuffer` is false. Accepts a
 * JSON string or an object. Unknown fields are errors. When `layer` is given, the factors are also
 * checked against it ({@link checkCoverage}): they cover every dimension and no loop has an
 * iteration that is empty even in a full tile.
 * @param path prefix of error field names (default `mapping`).
 * @throws ConfigError naming the field, the value and the rule.
 */
export function parseMapping(json: unknown, layer?: ConvLayer, path = "mapping"): Mapping {
  let raw = json;
  if (typeof json === "string") {
    try {
      raw = JSON.parse(json) as unknown;
    } catch (e) {
      throw new ConfigError(path, json.length > 60 ? json.slice(0, 57) + "..." : json, "be valid JSON", (e as Error).message);
    }
  }
  if (!isObject(raw)) throw new ConfigError(path, raw, "be an object with levels dram, gbuf, spatial, rf");
  rejectUnsafeKeys(path, raw);
  rejectUnknownKeys(path, raw, ["name", "dram", "gbuf", "spatial", "rf"]);
  if (raw.name !== undefined && typeof raw.name !== "string") throw new ConfigError(`${path}.name`, raw.name, "be a string");
  const level = (name: LevelName): Record<string, unknown> => {
    const v = raw[name] ?? {};
    if (!isObject(v)) throw new ConfigError(`${path}.${name}`, v, "be an object with a loops array");
    return v;
  };
  const dram = level("dram");
  rejectUnknownKeys(`${path}.dram`, dram, ["loops"]);
  const gbuf = level("gbuf");
  rejectUnknownKeys(`${path}.gbuf`, gbuf, ["loops", "keep", "doubleBuffer"]);
  const spatial = level("spatial");
  rejectUnknownKeys(`${path}.spatial`, spatial, ["loops"]);
  const rf = level("rf");
  rejectUnknownKeys(`${path}.rf`, rf, ["loops", "keep", "doubleBuffer", "stream"]);
  const rfKeep = parseKeep(`${path}.rf.keep`, rf.keep);
  const stream = rf.stream === undefined ? undefined : parseStream(`${path}.rf.stream`, rf.stream, rfKeep);
  const m: Mapping = Object.freeze({
    ...(raw.name !== undefined ? { name: raw.name as string } : {}),
    dram: Object.freeze({ loops: Object.freeze(parseLoops(`${path}.dram.loops`, dram.loops, false)) as readonly TemporalLoop[] }),
    gbuf: Object.freeze({
      loops: Object.freeze(parseLoops(`${path}.gbuf.loops`, gbuf.loops, false)) as readonly TemporalLoop[],
      keep: parseKeep(`${path}.gbuf.keep`, gbuf.keep),
      doubleBuffer: parseDoubleBuffer(`${path}.gbuf.doubleBuffer`, gbuf.doubleBuffer),
    }),
    spatial: Object.freeze({ loops: Object.freeze(parseLoops(`${path}.spatial.loops`, spatial.loops, true)) as readonly SpatialLoop[] }),
    rf: Object.freeze({
      loops: Object.freeze(parseLoops(`${path}.rf.loops`, rf.loops, false)) as readonly TemporalLoop[],
      keep: rfKeep,
      doubleBuffer: parseDoubleBuffer(`${path}.rf.doubleBuffer`, rf.doubleBuffer),
      ...(stream && TENSORS.some((t) => stream[t]) ? { stream } : {}),
    }),
  });
  if (layer !== undefined) {
    const problem = checkCoverage(m, layer, path);
    if (problem) throw new ConfigError(problem.field, problem.value, problem.rule);
  }
  return m;
}

/** Builds a mapping from its parts (same rules and defaults as {@link parseMapping}). */
export function mapping(spec: MappingSpec, layer?: ConvLayer): Mapping {
  return parseMapping(spec, layer);
}

/** The plain JSON form of a mapping (every field explicit). `parseMapping(JSON.parse(mappingToJson(m)))` equals `m`. */
export function mappingToJson(m: Mapping, indent = 2): string {
  return JSON.stringify(m, null, indent);
}

/** A coverage problem: which loop (or dimension) and why. */
export interface CoverageProblem {
  readonly level: LevelName;
  readonly field: string;
  readonly value: unknown;
  readonly rule: string;
}

/**
 * Checks the factors against the layer: for every dimension, the product of its factors is at
 * least its size, and for every loop j, `(f_j - 1) * T_j < size` (no iteration is empty even in
 * the first, full tile). Returns the first problem, or undefined.
 */
export function checkCoverage(m: Mapping, layer: ConvLayer, path = "mapping"): CoverageProblem | undefined {
  const sizes = dimSizes(layer);
  const nest = loopNest(m);
  const index: Record<LevelName, number> = { dram: 0, gbuf: 0, spatial: 0, rf: 0 };
  const positions = nest.map((l) => index[l.level]++);
  for (const d of DIMS) {
    const size = sizes[d];
    let product = 1;
    for (const l of nest) if (l.dim === d) product *= l.factor;
    if (product < size) {
      return {
        level: "dram",
        field: `${path}.${d}`,
        value: product,
        rule: `give factors of ${d} whose product covers its size ${size} (add or enlarge a loop over ${d}, e.g. at the dram level)`,
      };
    }
    let inner = product;
    for (let j = 0; j < nest.length; j++) {
      const l = nest[j]!;
      if (l.dim !== d) continue;
      inner /= l.factor;
      if ((l.factor - 1) * inner >= size) {
        return {
          level: l.level,
          field: `${path}.${l.level}.loops[${positions[j]}].factor`,
          value: l.factor,
          rule: `leave no iteration empty in a full tile: (factor - 1) * ${inner} (the ${d} extent inside this loop) must be below the size of ${d}, ${size}, so the factor must be at most ${Math.ceil(size / inner)}`,
        };
      }
    }
  }
  return undefined;
}

/** A short human description of a loop, e.g. `k2 in 0..4`. */
export function describeLoop(l: NestLoop): string {
  return `${l.dim.toLowerCase()}${3 - LEVEL_INDEX[l.level]} in 0..${l.factor}`;
}
