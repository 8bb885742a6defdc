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
 * Fused dimensions (`fuse`): a group of dimensions flattened into one index below the dram level,
 * as SCALE-Sim folds an array over output pixels (os) or over C x R x S (ws, is): the rows of one
 * fold take consecutive pixels even across the end of an output row, so 169 pixels of a 13 x 13
 * layer fill 32 rows in 6 folds where whole factors of P and Q fill 26 in 7. A group lists its
 * dimensions (first = most significant; the first is its lead) and the dram tile's extent along
 * each, e_d. The dram loops of a member are ordinary loops over tiles of e_d (aligned at its
 * multiples: a loop's index weight is e_d times the factors of d's dram loops inside it; `e_d <=
 * size_d`). Below the dram level the group is one dimension, named by the lead: gbuf and spatial
 * loops on the lead step through the flattened index of the current dram tile, points 0 ..
 * E - 1 where E is the product of the tile's extents along the members (clipped at the layer's
 * edge, so an edge tile is packed densely too), point i sitting at the tile's start plus the
 * mixed-radix digits of i over those clipped extents (last member fastest). Those loops follow the
 * usual rules over the full tile's E = prod e_d (cover it, no iteration empty); iterations at or past
 * a tile's E are skipped (the last fold of a tile is partial, its other PEs idle). No loop below
 * the dram level is on a non-lead member, and no rf loop is on the lead: a PE holds one point of
 * the group per gbuf iteration. So a level's tile is still a box at the gbuf level (the dram tile:
 * e_d along each member) and at the rf level (1 along each member); the spatial tile is a run of
 * the flattened index.
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
 *
 * Files: this one builds and validates mappings (structure only; the layer- and arch-dependent
 * rules are in legality.ts) and re-exports the rest, so that `mapping.js` is the one import: the
 * IR's types and constants (mapping-ir.ts), the tile math (mapping-tiles.ts) and the input-axis
 * math (input-axis.ts).
 */
import { ConfigError } from "../core/errors.js";
import { rejectUnknownKeys, rejectUnsafeKeys } from "../core/fields.js";
import type { ConvLayer } from "../workload/layer.js";
import {
  dimSizes,
  DIMS,
  KEEP_ALL,
  loopNest,
  TENSORS,
  type Dim,
  type KeepFlags,
  type LevelName,
  fusedGroupOf,
  type FusedGroup,
  type Mapping,
  type SpatialLoop,
  type TemporalLoop,
  type TensorName,
} from "./mapping-ir.js";

export {
  DIMS,
  LEVELS,
  TENSORS,
  TENSOR_DIMS,
  REDUCTION_DIMS,
  KEEP_ALL,
  dimSizes,
  loopNest,
  describeLoop,
  fusedGroupOf,
  loopDims,
  type FusedGroup,
  type Dim,
  type LevelName,
  type StorageLevelName,
  type TensorName,
  type Axis,
  type TemporalLoop,
  type SpatialLoop,
  type KeepFlags,
  type DramLevel,
  type StorageLevel,
  type RfLevel,
  type SpatialLevel,
  type Mapping,
  type NestLoop,
  type DimRecord,
  type TensorWords,
} from "./mapping-ir.js";
export {
  tileStride,
  tileExtents,
  tileVisits,
  levelTrips,
  spatialShape,
  tileFootprint,
  levelFootprint,
  streamFlows,
  alikeLine,
  reducedLine,
  type StreamFlow,
} from "./mapping-tiles.js";
export {
  inputSpan,
  touchedInputs,
  maxTouchedInputs,
  axisCoverage,
  type AxisCoverage,
} from "./input-axis.js";

/** The parts a mapping is built from; loops with factor 1 may be omitted. */
export interface MappingSpec {
  name?: string;
  fuse?: readonly { dims: readonly Dim[]; extents: readonly number[] }[];
  dram?: { loops?: readonly TemporalLoop[] };
  gbuf?: { loops?: readonly TemporalLoop[]; keep?: Partial<Record<TensorName, boolean>>; doubleBuffer?: boolean };
  spatial?: { loops?: readonly SpatialLoop[] };
  rf?: { loops?: readonly TemporalLoop[]; keep?: Partial<Record<TensorName, boolean>>; doubleBuffer?: boolean; stream?: Partial<Record<TensorName, boolean>>; doubleBufferOutput?: boolean };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function parseLoops(path: string, raw: unknown, spatial: boolean): (TemporalLoop | SpatialLoop)[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new ConfigError(path, raw, "be an array of loops such as { \"dim\": \"K\", \"factor\": 4 }");
  const seen = new Set<string>();
  // (Array.from, not map: an API caller's sparse array has holes that map would skip and keep)
  return Array.from(raw as unknown[], (l, i) => {
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
  const flag = (t: TensorName): boolean => {
    // (absent is the default; null is a value, and not a boolean)
    const v = raw[t] === undefined ? fallback : raw[t];
    if (typeof v !== "boolean") throw new ConfigError(`${path}.${t}`, v, "be a boolean");
    return v;
  };
  // (one object literal, as KEEP_ALL's: every flag set has one shape ("Hot objects have one shape"))
  return { input: flag("input"), weight: flag("weight"), output: flag("output") };
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

/** `fuse`: disjoint groups of at least two distinct dimensions, each with a positive extent per dimension. */
function parseFuse(path: string, raw: unknown): FusedGroup[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new ConfigError(path, raw, 'be an array of fused groups such as { "dims": ["P", "Q"], "extents": [13, 13] }');
  const used = new Set<string>();
  return Array.from(raw as unknown[], (g, i) => {
    const gp = `${path}[${i}]`;
    if (!isObject(g)) throw new ConfigError(gp, g, "be a fused group { dims, extents }");
    rejectUnknownKeys(gp, g, ["dims", "extents"]);
    if (!Array.isArray(g.dims) || g.dims.length < 2) throw new ConfigError(`${gp}.dims`, g.dims, "be an array of at least two dimensions, e.g. [\"P\", \"Q\"]");
    if (!Array.isArray(g.extents) || g.extents.length !== g.dims.length) {
      throw new ConfigError(`${gp}.extents`, g.extents, `be an array of ${g.dims.length} dram-tile extents, one per dimension of ${gp}.dims`);
    }
    const dims = Array.from(g.dims as unknown[], (d, j) => {
      if (typeof d !== "string" || !(DIMS as readonly string[]).includes(d)) throw new ConfigError(`${gp}.dims[${j}]`, d, `be one of ${DIMS.join(", ")}`);
      if (used.has(d)) throw new ConfigError(`${gp}.dims[${j}]`, d, "appear in one fused group only, once");
      used.add(d);
      return d as Dim;
    });
    const extents = Array.from(g.extents as unknown[], (e, j) => {
      if (typeof e !== "number" || !Number.isSafeInteger(e) || e < 1) throw new ConfigError(`${gp}.extents[${j}]`, e, "be a positive integer");
      return e;
    });
    return Object.freeze({ dims: Object.freeze(dims), extents: Object.freeze(extents) });
  });
}

/** Below the dram level a fused group is its lead: no loop on another member, no rf loop on the lead. */
function checkFusedLoops(m: Mapping, path: string): void {
  for (const g of m.fuse ?? []) {
    for (const level of ["gbuf", "spatial", "rf"] as const) {
      m[level].loops.forEach((l, i) => {
        if (!g.dims.includes(l.dim)) return;
        if (l.dim !== g.dims[0]) {
          throw new ConfigError(`${path}.${level}.loops[${i}].dim`, l.dim, `not be ${l.dim}: it is fused into ${g.dims.join(" x ")}, which loops below the dram level name by its lead, ${g.dims[0]}`);
        }
        if (level === "rf") {
          throw new ConfigError(`${path}.rf.loops[${i}].dim`, l.dim, `not be ${l.dim}, the lead of the fused group ${g.dims.join(" x ")}: a PE holds one point of a fused group per gbuf iteration (loop over it at the gbuf or spatial level)`);
        }
      });
    }
  }
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
  rejectUnknownKeys(path, raw, ["name", "fuse", "dram", "gbuf", "spatial", "rf"]);
  if (raw.name !== undefined && typeof raw.name !== "string") throw new ConfigError(`${path}.name`, raw.name, "be a string");
  const level = (name: LevelName): Record<string, unknown> => {
    const v = raw[name] === undefined ? {} : raw[name];
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
  rejectUnknownKeys(`${path}.rf`, rf, ["loops", "keep", "doubleBuffer", "stream", "doubleBufferOutput"]);
  const rfKeep = parseKeep(`${path}.rf.keep`, rf.keep);
  const stream = rf.stream === undefined ? undefined : parseStream(`${path}.rf.stream`, rf.stream, rfKeep);
  const doubleBufferOutput = parseDoubleBuffer(`${path}.rf.doubleBufferOutput`, rf.doubleBufferOutput);
  if (doubleBufferOutput && stream?.output) {
    throw new ConfigError(`${path}.rf.doubleBufferOutput`, true, "be false or absent when the output streams (rf.stream.output): a streamed output already drains from one half while the next wave fills the other");
  }
  const fuse = parseFuse(`${path}.fuse`, raw.fuse);
  // Every mapping has one shape: the optional fields are present, undefined when absent (the JSON
  // form leaves them out), so the simulator's reads of a mapping see one hidden class whichever
  // fields a dataflow sets ("Hot objects have one shape", docs/design-notes.md).
  const m: Mapping = Object.freeze({
    name: raw.name as string | undefined,
    fuse: fuse.length > 0 ? Object.freeze(fuse) : undefined,
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
      stream: stream && TENSORS.some((t) => stream[t]) ? stream : undefined,
      doubleBufferOutput: doubleBufferOutput ? true : undefined,
    }),
  });
  checkFusedLoops(m, path);
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
  // The loops of d at the given levels, each with its field, covering `size` from the tile extent `unit`.
  const cover = (d: Dim, size: number, unit: number, levels: readonly LevelName[], what: string): CoverageProblem | undefined => {
    const js = nest.flatMap((l, j) => (l.dim === d && levels.includes(l.level) ? [j] : []));
    let product = unit;
    for (const j of js) product *= nest[j]!.factor;
    if (product < size) {
      return {
        level: levels[0]!,
        field: `${path}.${d}`,
        value: product,
        rule: `give factors of ${what} whose product covers its size ${size} (add or enlarge a loop over ${d}, e.g. at the ${levels[0]} level)`,
      };
    }
    let inner = product;
    for (const j of js) {
      const l = nest[j]!;
      inner /= l.factor;
      if ((l.factor - 1) * inner >= size) {
        return {
          level: l.level,
          field: `${path}.${l.level}.loops[${positions[j]}].factor`,
          value: l.factor,
          rule: `leave no iteration empty in a full tile: (factor - 1) * ${inner} (the ${what} extent inside this loop) must be below the size of ${what}, ${size}, so the factor must be at most ${Math.ceil(size / inner)}`,
        };
      }
    }
    return undefined;
  };
  for (const d of DIMS) {
    const g = fusedGroupOf(m, d);
    if (!g) {
      const problem = cover(d, sizes[d], 1, ["dram", "gbuf", "spatial", "rf"], d);
      if (problem) return problem;
      continue;
    }
    const gi = m.fuse!.indexOf(g);
    const k = g.dims.indexOf(d);
    const e = g.extents[k]!;
    if (e > sizes[d]) return { level: "dram", field: `${path}.fuse[${gi}].extents[${k}]`, value: e, rule: `be at most the size of ${d}, ${sizes[d]}` };
    const problem = cover(d, sizes[d], e, ["dram"], `${d} (in dram tiles of ${e}, its fused extent)`);
    if (problem) return problem;
    if (k !== 0) continue;
    const full = g.extents.reduce((a, x) => a * x, 1);
    const flat = cover(d, full, 1, ["gbuf", "spatial"], `the fused ${g.dims.join(" x ")} (${full} points per dram tile)`);
    if (flat) return flat;
  }
  return undefined;
}
