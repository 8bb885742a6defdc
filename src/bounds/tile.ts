/**
 * The attainable traffic: the exact traffic of the output-tile dataflow of Chen, Han & Wang,
 * "Communication Lower Bound in Convolution Accelerators" (HPCA 2020, arXiv 1911.05662,
 * off-chip dataflow), at an integer tile, and the search for the best tile under a capacity.
 *
 * The schedule (the `chen2020` dataflow reproduces it; docs/bounds.md, "The attainable model"):
 *
 * ```
 * for each group g, each output tile (b images x y rows x x columns x z channels of group g):
 *   psums of the tile stay below the boundary (never spilled)
 *   for each input channel c of group g:
 *     read the input slice: the tile's images x the input rows and columns that some output of
 *       the tile reads through a real (non-padding) tap      (padding and skipped rows never read)
 *     read the weights w[k][c][:][:] of the tile's z channels  (all kH*kW taps)
 *     accumulate
 *   write the tile's outputs once
 * ```
 *
 * Tiles have fixed sizes along each dimension, starting at 0; the last one is partial. An
 * output-channel tile never straddles a group. The steps run in the order groups, batch tiles,
 * output-channel tiles, row tiles, column tiles, then channels innermost (the order of the
 * `chen2020` mapping, which the Sequencer executes), and a staged slice is kept only when the very
 * next step needs the same one: the halo shared by adjacent tiles is read again, and inputs are
 * read once per output-channel tile. Traffic, per tensor, in elements:
 *
 * ```
 * input  = groups * ceil(Kg / z) * batch * Cg * RowSum(y) * ColSum(x)
 * weight = weightElements * ceil(batch / b) * ceil(outH / y) * ceil(outW / x)
 * output = outputElements
 * ```
 *
 * except with one input channel per group (depthwise), where consecutive steps can need the same
 * slice: a z-block's weights serve all its spatial tiles, so weight = weightElements times
 * ceil(batch / b) when there are several z-blocks, times 1 when there is one; and with a single
 * spatial tile the input slice serves every z-block, so input = groups * batch * RowSum * ColSum.
 *
 * where RowSum(y) is the sum over the row tiles of the number of distinct real input rows each
 * reads (likewise ColSum). Footprint (what counts against the capacity): the full psum tile
 * `b*y*x*z` plus `staging` times (one channel's largest input slice `b*maxRows(y)*maxCols(x)`
 * plus one channel's weights `z*kH*kW`), each element weighted by its size in the budget's unit.
 */
import { ConfigError } from "../core/errors.js";
import { words, type Capacity } from "../core/units.js";
import { dtypeInfo, requireOperandType, type OperandTypes, DEFAULT_OPERAND_TYPE } from "../workload/dtype.js";
import { convShape, layerAxis, type ConvLayer, type ConvShape, type LayerAxis } from "../workload/layer.js";

/** An output tile: b images x y output rows x x output columns x z output channels (paper's b, x, y, z). */
export interface Tile {
  /** Images (batch) per tile. */
  readonly b: number;
  /** Output columns (width) per tile. */
  readonly x: number;
  /** Output rows (height) per tile. */
  readonly y: number;
  /** Output channels per tile, within one group. */
  readonly z: number;
}

/** Traffic across one boundary, per tensor, in elements (words of each tensor's type). */
export interface TensorTraffic {
  /** Input elements read. */
  readonly input: number;
  /** Weight elements read. */
  readonly weight: number;
  /** Output elements written. */
  readonly output: number;
  /** input + weight + output. */
  readonly total: number;
}

/** How a tile of one axis covers the input: per tile size. */
export interface AxisTiling {
  /** Output positions per tile (the last tile may be shorter). */
  readonly tileSize: number;
  /** Number of tiles: ceil(outSize / tileSize). */
  readonly tiles: number;
  /** Sum over the tiles of the distinct real input coordinates each tile reads. */
  readonly inputSum: number;
  /** The most distinct real input coordinates any one tile reads. */
  readonly inputMax: number;
}

/**
 * The input coverage of every tile size 1..outSize of an axis (index = tile size; index 0 unused).
 * Exact by enumeration of (output, tap) pairs: O(outSize^2 * kernel) per axis.
 */
export function axisTilings(axis: LayerAxis): AxisTiling[] {
  const { inSize, outSize, kernel, stride, dilation, padBegin } = axis;
  const stamp = new Int32Array(inSize);
  let mark = 0;
  const result: AxisTiling[] = [{ tileSize: 0, tiles: 0, inputSum: 0, inputMax: 0 }];
  for (let size = 1; size <= outSize; size++) {
    let sum = 0;
    let max = 0;
    let tiles = 0;
    for (let o0 = 0; o0 < outSize; o0 += size) {
      mark++;
      tiles++;
      let n = 0;
      const end = Math.min(outSize, o0 + size);
      for (let o = o0; o < end; o++) {
        const base = o * stride - padBegin;
        for (let k = 0; k < kernel; k++) {
          const i = base + k * dilation;
          if (i >= 0 && i < inSize && stamp[i] !== mark) {
            stamp[i] = mark;
            n++;
          }
        }
      }
      sum += n;
      if (n > max) max = n;
    }
    result.push({ tileSize: size, tiles, inputSum: sum, inputMax: max });
  }
  return result;
}

/** The coverage of one tile size of an axis (see {@link axisTilings}). */
export function axisTiling(axis: LayerAxis, size: number): AxisTiling {
  if (!Number.isInteger(size) || size < 1 || size > axis.outSize) throw new ConfigError("tileSize", size, `be an integer in [1, ${axis.outSize}]`);
  return axisTilings(axis)[size]!;
}

/** Whether the input slice and the weights are staged once (single) or twice (double buffering). */
export type Staging = "single" | "double";

/**
 * A capacity and the convention for counting a tile's footprint against it. In `words`, every
 * element (input, weight, int32 psum) is one word; in `bytes`, an element takes its type's size
 * (psums 4 bytes).
 */
export interface TileBudget {
  /** The capacity, in `unit`. */
  readonly limit: number;
  readonly unit: "words" | "bytes";
  /** Units one input element takes. */
  readonly inputUnits: number;
  /** Units one weight element takes. */
  readonly weightUnits: number;
  /** Units one partial sum (int32) takes. */
  readonly psumUnits: number;
  /** Staging copies of the per-channel input slice and weights: 1 (single) or 2 (double). */
  readonly staging: 1 | 2;
}

/** Element types of the operands (partial sums are int32); here both default to int8. */
export type { OperandTypes };

/**
 * Builds a {@link TileBudget}.
 * @param field option name for errors, e.g. `options.capacity`.
 * @throws ConfigError for a non-positive capacity, an unknown type or staging.
 */
export function tileBudget(capacity: Capacity | number, types: OperandTypes = {}, staging: Staging = "single", field = "capacity"): TileBudget {
  const cap: Capacity = typeof capacity === "number" ? { unit: "words", value: words(capacity) } : capacity;
  if (cap === null || typeof cap !== "object" || (cap.unit !== "words" && cap.unit !== "bytes")) {
    throw new ConfigError(field, capacity, "be a number of words or a capacity { unit: 'words' | 'bytes', value }");
  }
  if (typeof cap.value !== "number" || !Number.isSafeInteger(cap.value) || cap.value < 1) {
    throw new ConfigError(field, capacity, "be a positive whole number of words or bytes");
  }
  const input = requireOperandType(`${field}.types.input`, types.input ?? DEFAULT_OPERAND_TYPE);
  const weight = requireOperandType(`${field}.types.weight`, types.weight ?? DEFAULT_OPERAND_TYPE);
  if (staging !== "single" && staging !== "double") throw new ConfigError("staging", staging, 'be "single" or "double"');
  const bytes = cap.unit === "bytes";
  const smallest = Math.min(dtypeInfo(input).bytes, dtypeInfo(weight).bytes);
  if (bytes && cap.value < smallest) {
    throw new ConfigError(field, capacity, `hold at least one element (${smallest} bytes for ${input} inputs and ${weight} weights)`);
  }
  return Object.freeze({
    limit: cap.value,
    unit: cap.unit,
    inputUnits: bytes ? dtypeInfo(input).bytes : 1,
    weightUnits: bytes ? dtypeInfo(weight).bytes : 1,
    psumUnits: bytes ? dtypeInfo("int32").bytes : 1,
    staging: staging === "double" ? 2 : 1,
  });
}

/**
 * The capacity S, in words, that the lower bounds use for a budget: in words, the limit; in
 * bytes, the limit divided by the smallest element size (rounded down). This is the most
 * elements the memory could hold at once, so a bound computed with it holds for any mix.
 */
export function budgetWords(budget: TileBudget): number {
  return Math.floor(budget.limit / Math.min(budget.inputUnits, budget.weightUnits, budget.psumUnits));
}

/** What a tile occupies below the boundary, in the budget's unit. */
export interface TileFootprint {
  readonly psum: number;
  readonly input: number;
  readonly weight: number;
  readonly total: number;
}

/** A tile, its exact traffic and its footprint. */
export interface TilePlan {
  readonly tile: Tile;
  readonly traffic: TensorTraffic;
  readonly footprint: TileFootprint;
}

function checkTile(layer: ConvLayer, tile: Tile): void {
  const s = convShape(layer);
  const limits: [keyof Tile, number][] = [
    ["b", layer.batch],
    ["x", s.outWidth],
    ["y", s.outHeight],
    ["z", s.outChannelsPerGroup],
  ];
  for (const [k, max] of limits) {
    const v = tile[k];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > max) {
      throw new ConfigError(`tile.${k}`, v, `be an integer in [1, ${max}]`);
    }
  }
}

interface LayerFacts {
  readonly rows: AxisTiling[];
  readonly cols: AxisTiling[];
}

const factsCache = new WeakMap<ConvLayer, LayerFacts>();

function layerFacts(layer: ConvLayer): LayerFacts {
  let f = factsCache.get(layer);
  if (!f) {
    f = { rows: axisTilings(layerAxis(layer, "h")), cols: axisTilings(layerAxis(layer, "w")) };
    factsCache.set(layer, f);
  }
  return f;
}

/**
 * Input and weight reads of the schedule with `nz` output-channel blocks, `nb` batch tiles and the
 * given row and column tilings. A staged slice stays when the very next step needs the same one
 * (see the file header), which happens only with one input channel per group.
 */
function operandTraffic(layer: ConvLayer, s: ConvShape, nz: number, nb: number, rows: AxisTiling, cols: AxisTiling): { input: number; weight: number } {
  const spatialTiles = rows.tiles * cols.tiles;
  const oneChannel = s.inChannelsPerGroup === 1;
  const perBlock = layer.groups * layer.batch * s.inChannelsPerGroup * rows.inputSum * cols.inputSum;
  return {
    input: oneChannel && spatialTiles === 1 ? perBlock : perBlock * nz,
    weight: oneChannel ? s.weightElements * (nz === 1 ? 1 : nb) : s.weightElements * nb * spatialTiles,
  };
}

function plan(layer: ConvLayer, tile: Tile, rows: AxisTiling, cols: AxisTiling, budget: TileBudget): TilePlan {
  const s = convShape(layer);
  const nz = Math.ceil(s.outChannelsPerGroup / tile.z);
  const { input, weight } = operandTraffic(layer, s, nz, Math.ceil(layer.batch / tile.b), rows, cols);
  const output = s.outputElements;
  const taps = layer.kernelHeight * layer.kernelWidth;
  const psumF = tile.b * tile.y * tile.x * tile.z * budget.psumUnits;
  const inputF = budget.staging * tile.b * rows.inputMax * cols.inputMax * budget.inputUnits;
  const weightF = budget.staging * tile.z * taps * budget.weightUnits;
  return {
    tile,
    traffic: { input, weight, output, total: input + weight + output },
    footprint: { psum: psumF, input: inputF, weight: weightF, total: psumF + inputF + weightF },
  };
}

/**
 * The exact traffic and footprint of the dataflow at a given tile (see the file header).
 * @throws ConfigError when a tile dimension is outside [1, its layer dimension].
 */
export function tilePlan(layer: ConvLayer, tile: Tile, budget: TileBudget): TilePlan {
  checkTile(layer, tile);
  const f = layerFacts(layer);
  return plan(layer, tile, f.rows[tile.y]!, f.cols[tile.x]!, budget);
}

/**
 * The total traffic of {@link tilePlan} (`traffic.total`) at tiles of one layer, as a function of
 * the tile's b, y, x and z: the same numbers without checking each tile or looking the layer up
 * again, for searches that score hundreds of thousands of tiles (chen2020's array tiles). Each
 * extent must be an integer in [1, the layer's] (not checked).
 */
export function tileTrafficOf(layer: ConvLayer): (b: number, y: number, x: number, z: number) => number {
  const s = convShape(layer);
  const f = layerFacts(layer);
  return (b, y, x, z) => {
    const { input, weight } = operandTraffic(layer, s, Math.ceil(s.outChannelsPerGroup / z), Math.ceil(layer.batch / b), f.rows[y]!, f.cols[x]!);
    return input + weight + s.outputElements;
  };
}

/**
 * The smallest footprint of any tile (the 1x1x1x1 tile), in the budget's unit: a budget below
 * it holds no tile.
 */
export function minimumFootprint(layer: ConvLayer, budget: TileBudget): number {
  return tilePlan(layer, { b: 1, x: 1, y: 1, z: 1 }, budget).footprint.total;
}

/**
 * Searches every integer tile for the least total traffic whose footprint fits the budget.
 * Ties go to the smaller footprint, then to the first found in the order b, y, x ascending.
 * For each (b, y, x), z is the largest that fits, then balanced: z = ceil(Kg / ceil(Kg / zmax))
 * (same number of channel tiles, smaller footprint), or 1 when the tile reads no real input. Only the smallest b of each ceil(N / b)
 * is tried (input traffic does not depend on b). Cost: O(distinct(ceil(N/b)) * outH * outW)
 * plus the axis tilings.
 * @returns the best plan, or null when not even the 1x1x1x1 tile fits.
 */
export function searchTile(layer: ConvLayer, budget: TileBudget): TilePlan | null {
  const s = convShape(layer);
  const { rows, cols } = layerFacts(layer);
  const N = layer.batch;
  const P = s.outHeight;
  const Q = s.outWidth;
  const Kg = s.outChannelsPerGroup;
  const taps = layer.kernelHeight * layer.kernelWidth;
  const { psumUnits, inputUnits, weightUnits, staging, limit } = budget;
  let bestTotal = Infinity;
  let bestFoot = Infinity;
  let best: Tile | null = null;
  let prevBatchTiles = -1;
  for (let b = 1; b <= N; b++) {
    const batchTiles = Math.ceil(N / b);
    if (batchTiles === prevBatchTiles) continue;
    prevBatchTiles = batchTiles;
    for (let y = 1; y <= P; y++) {
      const r = rows[y]!;
      if (b * y * psumUnits + staging * taps * weightUnits > limit) break;
      for (let x = 1; x <= Q; x++) {
        const c = cols[x]!;
        const perZ = b * y * x * psumUnits + staging * taps * weightUnits;
        const fixed = staging * b * r.inputMax * c.inputMax * inputUnits;
        if (b * y * x * psumUnits + staging * taps * weightUnits > limit) break;
        const zmax = Math.min(Kg, Math.floor((limit - fixed) / perZ));
        if (zmax < 1) continue;
        // no real input under this tile's windows: z does not change the traffic, so take 1
        const noInput = r.inputSum === 0 || c.inputSum === 0;
        const nz = noInput ? Kg : Math.ceil(Kg / zmax);
        const z = noInput ? 1 : Math.ceil(Kg / nz);
        // Traffic never grows as z grows (fewer blocks); among the z with the least traffic the
        // smallest has the smallest footprint: ceil(Kg / nz), or 1 when the block count does not
        // matter (no real input, or a depthwise layer whose slices are kept across blocks).
        for (const [zz, nzz] of z === 1 ? [[1, nz]] : [[z, nz], [1, Kg]]) {
          const op = operandTraffic(layer, s, nzz!, batchTiles, r, c);
          const total = op.input + op.weight + s.outputElements;
          if (total > bestTotal) continue;
          const foot = fixed + zz! * perZ;
          if (total < bestTotal || foot < bestFoot) {
            bestTotal = total;
            bestFoot = foot;
            best = { b, x, y, z: zz! };
          }
        }
      }
    }
  }
  return best === null ? null : plan(layer, best, rows[best.y]!, cols[best.x]!, budget);
}
