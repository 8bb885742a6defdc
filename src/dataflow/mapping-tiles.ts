/**
 * Tile math of a Mapping: each level's tile extents (clipped to the layer), how often a tile is
 * entered, trips per level, the PEs the spatial level uses, each tensor's footprint in a level's
 * tile and storage, and how a streamed tensor crosses the array. Semantics in mapping.ts's
 * header (tiles aligned at multiples of their extent, footprints as maxima over tile instances,
 * the register file's dense input window); mapping.ts re-exports everything here.
 */
import { layerAxis, type ConvLayer } from "../workload/layer.js";
import { inputSpan, maxTouchedInputs } from "./input-axis.js";
import {
  dimSizes,
  DIMS,
  fusedGroupOf,
  LEVEL_INDEX,
  loopDims,
  loopNest,
  TENSOR_DIMS,
  TENSORS,
  type Axis,
  type Dim,
  type DimRecord,
  type FusedGroup,
  type LevelName,
  type Mapping,
  type StorageLevelName,
  type TensorName,
  type TensorWords,
} from "./mapping-ir.js";

/**
 * The product of the factors of `dim` at `level` and every level inside it: the unclipped extent
 * of that level's tile along `dim` (a multiple of the inner extents; tiles are aligned to it). A
 * fused dimension's tile is e_d (its group's extent) at the gbuf level, times its dram factors at
 * the dram level, and 1 at the spatial and rf levels (a PE holds one point of the group; the
 * spatial tile is a run of the flattened index, not a box: mapping.ts, "Fused dimensions").
 */
export function tileStride(m: Mapping, level: LevelName, dim: Dim): number {
  const g = fusedGroupOf(m, dim);
  if (g) {
    if (level === "spatial" || level === "rf") return 1;
    let product = g.extents[g.dims.indexOf(dim)]!;
    if (level === "dram") for (const l of m.dram.loops) if (l.dim === dim) product *= l.factor;
    return product;
  }
  let product = 1;
  for (const l of loopNest(m)) {
    if (l.dim === dim && LEVEL_INDEX[l.level] >= LEVEL_INDEX[level]) product *= l.factor;
  }
  return product;
}

/**
 * The clipped extents along a fused group's members of every dram tile, in tile order (outer
 * member slowest): each tile's E is their product.
 */
function fusedTiles(g: FusedGroup, layer: ConvLayer): number[][] {
  const sizes = dimSizes(layer);
  let tiles: number[][] = [[]];
  g.dims.forEach((d, k) => {
    const e = g.extents[k]!;
    const ext: number[] = [];
    for (let s = 0; s < sizes[d]; s += e) ext.push(Math.min(e, sizes[d] - s));
    tiles = tiles.flatMap((t) => ext.map((x) => [...t, x]));
  });
  return tiles;
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
 * number of array-wide waves of RF tiles; for `rf`, the number of (PE-tile) instances. `dims`:
 * only these dimensions' tiles (a fused group counted by its first member), e.g. a tensor's.
 */
export function tileVisits(m: Mapping, layer: ConvLayer, level: LevelName, dims: readonly Dim[] = DIMS): number {
  const sizes = dimSizes(layer);
  let n = 1;
  for (const d of dims) {
    const g = fusedGroupOf(m, d);
    if (g && level === "spatial") {
      // The folds of each dram tile: its E points, the spatial loops' product at a time.
      if (d !== g.dims[0]) continue;
      const fold = m.spatial.loops.reduce((a, l) => (l.dim === d ? a * l.factor : a), 1);
      n *= fusedTiles(g, layer).reduce((a, t) => a + Math.ceil(t.reduce((x, y) => x * y, 1) / fold), 0);
      continue;
    }
    n *= Math.ceil(sizes[d] / (level === "dram" ? sizes[d] : tileStride(m, level, d)));
  }
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
      const rows = maxTouchedInputs(layerAxis(layer, "h"), e.P, e.R);
      const cols = maxTouchedInputs(layerAxis(layer, "w"), e.Q, e.S);
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
    const mult = (level === "rf" && t === "output" ? m.rf.doubleBufferOutput === true : lv.doubleBuffer) ? 2 : 1;
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
    const line = alikeLine(m, t);
    out[t] = line === "row" ? "right" : line === "col" ? "down" : undefined;
  }
  return out;
}

/**
 * The line of the array along which every PE holds the same tile of `tensor`: `row` when no
 * column-axis spatial loop of factor > 1 runs over the tensor's dimensions (a fused group's loop
 * over any of its members'), else `col` when no row-axis loop does, else undefined.
 */
export function alikeLine(m: Mapping, tensor: TensorName): Axis | undefined {
  const along = (axis: Axis) => m.spatial.loops.every((l) => l.axis !== axis || l.factor <= 1 || !loopDims(m, l.dim).some((d) => TENSOR_DIMS[tensor].includes(d)));
  return along("col") ? "row" : along("row") ? "col" : undefined;
}

/**
 * The line of the array whose PEs a streamed output's partial sums are summed along, one line
 * into one sum, when every drain reduces whole lines over the neighbour links: the output's
 * {@link alikeLine}, provided some spatial loop of factor > 1 spreads a line's PEs (over
 * reduction dimensions: the alike rule leaves no other) and every spatial loop of factor > 1
 * across the lines runs over output dimensions only (so no two lines hold one output tile).
 * Undefined otherwise. `ws` and `is` on a systolic array: `col` (the window down the rows).
 */
export function reducedLine(m: Mapping): Axis | undefined {
  const line = alikeLine(m, "output");
  if (!line) return undefined;
  const within: Axis = line === "col" ? "row" : "col";
  const spread = m.spatial.loops.some((l) => l.axis === within && l.factor > 1);
  const distinct = m.spatial.loops.every((l) => l.axis === within || l.factor <= 1 || loopDims(m, l.dim).every((d) => TENSOR_DIMS.output.includes(d)));
  return spread && distinct ? line : undefined;
}
