/**
 * `chen2020`, the communication-optimal dataflow of Chen, Han & Wang, "Communication Lower Bound
 * in Convolution Accelerators" (HPCA 2020, arXiv 1911.05662), on convsim's PE array, at both
 * memory boundaries.
 *
 * The paper's schedule (our reading; the same schedule as the bounds module's attainable model,
 * src/bounds/tile.ts): an output tile of b x y x x x z partial sums (images x rows x columns x
 * output channels of one group) stays below a boundary while the input channels stream across
 * it; for each channel the input slice the tile reads (with its halo) and the z*kH*kW weights are
 * brought in, used and dropped; the tile's outputs leave once, complete. Partial sums never cross
 * the boundary except that final write.
 *
 * convsim has two boundaries below DRAM, and the principle applies at each:
 * - the RF level: the array's output tile (its PEs' psum registers) stays in the PEs while the
 *   input channels, one (channel, tap) at a time, stream from the GBuf;
 * - the GBuf level: a larger output tile stays in the GBuf while slices of input channels stream
 *   from DRAM, and within it the array's output tiles take their turns, each streaming the
 *   slice's channels from the GBuf (psums go back to the GBuf between slices, never to DRAM).
 * Two forms, both built here, and the one that scores better wins:
 * - one level ({@link CHEN2020_TEMPLATE}): the GBuf tile is the array's tile and the GBuf
 *   bypasses outputs (psums live only in the registers). dram: `G, N, K, P, Q` over output tiles,
 *   then `C` innermost (one GBuf tile is one input channel's slice and weights); gbuf: `R, S`.
 *   Best where the psum registers are the larger store (the `chen2020` preset).
 * - two levels ({@link CHEN2020_GBUF_TEMPLATE}): the GBuf keeps the output tile too. dram: `G, N,
 *   K, P, Q` (or `G, N, P, Q, K`: inputs then stay while the output-channel blocks pass) over GBuf
 *   tiles, then `C` (slices of channels); gbuf: `N, K, P, Q` over the array's tiles, then `C, R,
 *   S`. Best where the GBuf is the larger store (`eyeriss`, `systolic`).
 * In both: spatial, output positions across PE rows (Q, then P, then N) and output channels K
 * across PE columns: for one (channel, tap) the array computes an outer product, each input
 * broadcast along its row, each weight along its column; rows the positions leave free take more
 * output channels (K on both axes: an FC layer's channels fill the whole array). No reduction is
 * spatial. rf: each PE's share of the array's tile (`N, P, Q, K`: b1 x y1 x x1 x z1 psums); for a
 * tap it holds b1*y1*x1 inputs (its window) and z1 weights.
 *
 * Sizing. The array's tiles are enumerated (chen2020-tiles.ts), each with the share of the
 * array's MAC slots it keeps busy and its speed (that share less the cycles a step waits for its
 * operands); those below {@link EFFICIENCY_FLOOR} of the best share are dropped, and the rest
 * ranked by `tileCost` (default: the bounds module's exact traffic of the paper's schedule at
 * that tile, halos, padding and ceilings counted). One level: among the tiles within
 * {@link COST_SLACK} of the cheapest, the fastest whose mapping is legal (then the cheapest
 * others). Its spread may be transposed (positions along PE columns, channels along rows: 13 x 13
 * maps fill 13 of 14 columns) and its registers double-buffered (`mapping.rf.doubleBuffer`: the
 * next step's inputs and weights arrive during the wave, at half the partitions each), whichever
 * is faster (docs/mapping.md, chen2020's "Tile choice", has the measured effect). Two levels
 * (positions along rows, single-buffered registers): the GBuf tile is a multiple of one of a
 * diverse set of array tiles ({@link TWO_LEVEL_ARRAY_TILES}), sized with the channels per slice and the dram
 * order by the search of search.ts (steps 5-6: fewest DRAM words, then fewest GBuf accesses),
 * with the GBuf double-buffered and single-buffered (a double-buffered GBuf also doubles the
 * output tile it keeps) unless `options.doubleBuffer` says which. The two are compared by the
 * search's score, `DRAM words + GBuf accesses / 256` (ties: one level), unless `options.levels`
 * picks one; a two-level winner whose GBuf output tile is the array's bypasses outputs
 * ({@link bypassIdleOutputTile}), a pointwise layer's slices take several channels
 * ({@link widenSlices}), and the winner's splits are balanced (balance.ts). If neither form is legal (a GBuf too
 * small for one channel's slice at the full kernel), the one-level template is fitted greedily
 * instead: kernel rows and columns then move to the dram level.
 *
 * A slice of several channels changes the DRAM traffic only when it holds every channel of the
 * group: then, with the `G, N, P, Q, K` order, the inputs of a spatial tile stay in the GBuf while
 * the output-channel blocks pass (the whole input of a small layer is read once), or with `G, N,
 * K, P, Q` a block's weights stay while the spatial tiles pass. Otherwise the traffic is the
 * attainable model's at the GBuf tile (tilePlan), so it never exceeds it.
 */
import type { ArchSpec } from "../../arch/spec.js";
import { tileBudget, tilePlan, tileTrafficOf, type Tile } from "../../bounds/tile.js";
import { ConfigError } from "../../core/errors.js";
import { bytes as toBytes } from "../../core/units.js";
import type { ConvLayer } from "../../workload/layer.js";
import { checkMapping, tensorBytes, type OperandTypes } from "../legality.js";
import { dimSizes, KEEP_ALL, mapping, TENSOR_DIMS, tileExtents, type Mapping, type TemporalLoop } from "../mapping.js";
import { dramTraffic, gbufArrayAccesses, layerTraffic } from "../traffic.js";
import { finishMapping } from "./balance.js";
import { arrayTileSets, type ArrayTile, type TileCost } from "./chen2020-tiles.js";
import { checkDataflowFlags, compose, defineTemplate, fitTemplate, largest, type DataflowOptions, type Template } from "./common.js";
import { DRAM_WORD_WEIGHT, GbufSearch, searchedMapping } from "./search.js";

export type { TileCost } from "./chen2020-tiles.js";

/** Options of {@link chen2020}. */
export interface Chen2020Options extends DataflowOptions {
  /** The tile score (default {@link attainableTraffic}). */
  readonly tileCost?: TileCost;
  /**
   * Which form to build: 1, psums only in the PEs ({@link CHEN2020_TEMPLATE}); 2, an output tile
   * in the GBuf too ({@link CHEN2020_GBUF_TEMPLATE}). Default: the one that scores better.
   */
  readonly levels?: 1 | 2;
  /**
   * How far above the cheapest array tile's score a tile may be and still be chosen for its speed
   * (`score <= least + costSlack * |least|`; chen2020-tiles.ts, `ArrayTile.speed`). Default
   * {@link COST_SLACK} with the default score, 0 (the score alone decides) with `tileCost`.
   */
  readonly costSlack?: number;
}

/** The default tile score: the DRAM traffic of the paper's schedule at that tile, from src/bounds. */
export const attainableTraffic: TileCost = (layer, tile) => tilePlan(layer, tile, WORDS_BUDGET).traffic.total;

/** Any budget: the traffic of a tile does not depend on it. */
const WORDS_BUDGET = tileBudget(1);

/**
 * The least share of the best array tile's compute efficiency (chen2020-tiles.ts) an array tile
 * must reach to be used: a quarter. The score is DRAM-first, and without a floor the two-level
 * form can take tiles that leave most PEs idle for a few per cent fewer DRAM words (an earlier
 * version took 11 of 168 PEs, efficiency 0.06, for AlexNet conv1 at batch 4 on the chen2020
 * preset). With a quarter, chen2020 on eyeriss still moves no more DRAM words than rs on any
 * AlexNet convolution at batch 1 and 4 (its tiles there keep 0.30 to 0.87 of the MAC slots busy).
 */
export const EFFICIENCY_FLOOR = 0.25;

/**
 * The two-level form tries the {@link TWO_LEVEL_ARRAY_TILES} cheapest array tiles and the
 * cheapest of each distinct b, y, x and z. The GBuf tile is a multiple of the array tile, so the
 * set spans the granularities a GBuf tile can take (a small z for a tile that holds a whole
 * reduction, a whole row for one that holds a whole map); the cheapest give the fewest GBuf
 * accesses. Within a few per cent of trying every array tile, at a hundredth of the time (AlexNet
 * at batch 4 on eyeriss).
 */
export const TWO_LEVEL_ARRAY_TILES = 8;

/**
 * How far above the cheapest array tile's cost (DRAM words, by default) a tile may score and
 * still be chosen for its speed (chen2020-tiles.ts, `ArrayTile.speed`): 5 %.
 */
export const COST_SLACK = 0.05;

/** The one-level form tries the cheapest array tiles whose GBuf staging fits, in order, until one is legal; at most this many. */
const ONE_LEVEL_TRIES = 32;

const SPATIAL = [
  { dim: "Q", axis: "row" },
  { dim: "P", axis: "row" },
  { dim: "N", axis: "row" },
  { dim: "K", axis: "row" },
  { dim: "K", axis: "col" },
] as const;

/** The one-level template of `chen2020`: psums only in the PEs (see the file header). */
export const CHEN2020_TEMPLATE: Template = defineTemplate({
  name: "chen2020",
  spatial: SPATIAL,
  rfOrder: ["N", "P", "Q", "K"],
  rfGrow: ["K", "Q", "P", "N"],
  gbufOrder: ["C", "R", "S"],
  gbufGrow: ["S", "R"],
  dramOrder: ["G", "N", "K", "P", "Q", "C", "R", "S"],
  gbufKeep: Object.freeze({ input: true, weight: true, output: false }),
  rfKeep: KEEP_ALL,
});

/** The two-level template of `chen2020`: the GBuf keeps an output tile of several array tiles (see the file header). */
export const CHEN2020_GBUF_TEMPLATE: Template = defineTemplate({
  ...CHEN2020_TEMPLATE,
  gbufOrder: ["N", "K", "P", "Q", "C", "R", "S"],
  gbufGrow: ["N", "K", "P", "Q", "C"],
  dramOrders: [
    ["G", "N", "K", "P", "Q", "C", "R", "S"],
    ["G", "N", "P", "Q", "K", "C", "R", "S"],
  ],
  gbufKeep: KEEP_ALL,
});

/** The spatial slots transposed: positions along columns, channels along rows (chen2020-tiles.ts). */
const SPATIAL_TRANSPOSED = SPATIAL.map((s) => ({ dim: s.dim, axis: s.axis === "row" ? "col" : "row" }) as const);

/** A template in an array tile's variant: transposed, double-buffered registers (chen2020-tiles.ts). */
function inVariant(t: Template, tile: ArrayTile): Template {
  if (!tile.transposed && !tile.rfDouble) return t;
  return { ...t, spatial: tile.transposed ? SPATIAL_TRANSPOSED : t.spatial, rfDoubleBuffer: tile.rfDouble };
}

/** The output tile (b, x, y, z) of a chen2020-shaped mapping: the N, Q, P, K extents of its GBuf tile. */
export function chen2020Tile(m: Mapping, layer: ConvLayer): Tile {
  const e = tileExtents(m, layer, "gbuf");
  return { b: e.N, x: e.Q, y: e.P, z: e.K };
}

/** A built candidate and its score (DRAM words + GBuf accesses / DRAM_WORD_WEIGHT). */
interface Scored {
  readonly mapping: Mapping;
  readonly score: number;
}

/** The GBuf staging the one-level form needs (the bounds model's footprint): whether a tile's fits. */
function stagingFits(layer: ConvLayer, arch: ArchSpec, types: OperandTypes, db: boolean): (t: Tile) => boolean {
  const staging = tileBudget({ unit: "bytes", value: toBytes(arch.gbuf.capacityBytes) }, { input: types.input ?? "int16", weight: types.weight ?? "int16" }, db ? "double" : "single");
  return (t) => {
    const f = tilePlan(layer, t, staging).footprint;
    return f.input + f.weight <= arch.gbuf.capacityBytes;
  };
}

/** The one-level form: the cheapest array tile whose mapping (the GBuf staging one channel) is legal. */
function oneLevel(tiles: readonly ArrayTile[], layer: ConvLayer, arch: ArchSpec, types: OperandTypes, db: boolean): Scored | undefined {
  const sz = dimSizes(layer);
  for (const c of tiles) {
    const m = compose(inVariant(CHEN2020_TEMPLATE, c), { ...c.factors, gbuf: { R: sz.R, S: sz.S } }, layer, db);
    if (!checkMapping(m, layer, arch, { types }).ok) continue;
    return { mapping: m, score: dramTraffic(m, layer).total + gbufArrayAccesses(m, layer).total / DRAM_WORD_WEIGHT };
  }
  return undefined;
}

/** The two-level form: the best GBuf tile over the given array tiles (positions along rows, single-buffered registers), for one GBuf buffering. */
function twoLevel(tiles: readonly ArrayTile[], layer: ConvLayer, arch: ArchSpec, types: OperandTypes, db: boolean): Scored | undefined {
  const t = CHEN2020_GBUF_TEMPLATE;
  const sz = dimSizes(layer);
  const search = new GbufSearch(t, layerTraffic(layer), arch, tensorBytes(types, arch.gbuf.psumBytes), db);
  for (const c of tiles) {
    const start = { ...c.factors, gbuf: { R: sz.R, S: sz.S } };
    // An array tile's shares each fit a partition; in a shared pool (arch.rf.sharedEntries) they
    // must fit it together (legality rule 6), which the GBuf search does not check: as oneLevel.
    if (arch.rf.sharedEntries !== undefined && !checkMapping(compose(t, start, layer, db), layer, arch, { types }).ok) continue;
    search.run(start);
  }
  if (!search.best) return undefined;
  return { mapping: searchedMapping(t, search.best, layer, arch, types, db), score: search.best.score };
}

/**
 * A two-level mapping whose GBuf output tile is the array's (no GBuf loop over an output
 * dimension) keeps its partial sums in the PEs' registers through every slice, as the one-level form
 * does: the GBuf's copy of the output tile only holds the finished outputs on their way to DRAM.
 * The GBuf then bypasses outputs (the drain writes DRAM), which frees that space for the slices
 * and moves the same DRAM words with fewer GBuf accesses; kept only where that holds (closed form)
 * and the mapping stays legal. AlexNet fc6 on the `chen2020` preset: 16 KiB of the 24 KiB GBuf.
 */
function bypassIdleOutputTile(m: Mapping, layer: ConvLayer, arch: ArchSpec, types: OperandTypes): Mapping {
  if (!m.gbuf.keep.output || m.gbuf.loops.some((l) => TENSOR_DIMS.output.includes(l.dim))) return m;
  const b = mapping({ ...m, gbuf: { ...m.gbuf, keep: { ...m.gbuf.keep, output: false } } }, layer);
  if (!checkMapping(b, layer, arch, { types }).ok) return m;
  const same = dramTraffic(b, layer).total <= dramTraffic(m, layer).total && gbufArrayAccesses(b, layer).total <= gbufArrayAccesses(m, layer).total;
  return same ? b : m;
}

/**
 * Slices of several channels: moves channels of the innermost DRAM loop, when it is `C`, into the
 * GBuf tile, as many as stay legal (GBuf capacity), where that moves the same DRAM words (the
 * closed form; it does whenever nothing but `C` runs inside the output tile's loops) and the same
 * GBuf accesses. The paper's schedule is unchanged (the channels of an output tile still stream
 * through once); what changes is the size of a DRAM transfer. With one channel per slice, a
 * pointwise layer (1 x 1 kernel: AlexNet's and VGG-16's FC layers) made every array step its own
 * DRAM tile, with a transfer of one step's weights (2 KiB on fc6) and a tile boundary per step;
 * several channels per slice make one transfer of several steps' weights, and the steps of a
 * slice follow one another without a boundary (docs/mapping.md, chen2020's "Slices"). Layers with
 * larger kernels keep one channel per slice: their slices already hold `R x S` steps. So do
 * mappings with double-buffered registers, where wider slices measured slower: AlexNet fc8 on the
 * `chen2020` preset took 555,039 cycles with one channel per slice, 621,377 with two and 632,516
 * with four. A pipelined program plans two iterations ahead and starts a tile's prefetch when it
 * enters the tile before; with one channel per slice that keeps two or three slices' fetches in
 * flight, while a wider slice's fetch (its DRAM reads, then its GBuf writes) starts one slice
 * ahead and its latency shows (a trace of c=8, k=1000 shows both).
 */
function widenSlices(m: Mapping, layer: ConvLayer, arch: ArchSpec, types: OperandTypes): Mapping {
  const d = m.dram.loops;
  const last = d[d.length - 1];
  if (layer.kernelHeight * layer.kernelWidth > 1 || m.rf.doubleBuffer || !last || last.dim !== "C" || last.factor < 2) return m;
  const g = m.gbuf.loops;
  const at = g.findIndex((l) => l.dim === "C");
  const inner = at >= 0 ? g[at]!.factor : 1;
  const words = dramTraffic(m, layer).total;
  const accesses = gbufArrayAccesses(m, layer).total;
  // (the search's last legal probe is its answer: kept, not built again)
  let found: Mapping | undefined;
  const widened = (f: number): Mapping | undefined => {
    const dram: TemporalLoop[] = [...d.slice(0, -1)];
    const outer = Math.ceil(last.factor / f);
    if (outer > 1) dram.push({ dim: "C", factor: outer });
    const gbuf: TemporalLoop[] = at >= 0 ? g.map((l, i) => (i === at ? { dim: "C", factor: inner * f } : l)) : [{ dim: "C", factor: f }, ...g];
    const w = mapping({ ...m, dram: { loops: dram }, gbuf: { ...m.gbuf, loops: gbuf } }, layer);
    if (!checkMapping(w, layer, arch, { types }).ok) return undefined;
    if (dramTraffic(w, layer).total !== words || gbufArrayAccesses(w, layer).total !== accesses) return undefined;
    return (found = w);
  };
  const f = largest(1, last.factor, (v) => v === 1 || widened(v) !== undefined);
  return f > 1 ? found! : m;
}

/**
 * Builds the chen2020 mapping of a layer (see the file header).
 * @throws ConfigError when not even the smallest tiles fit the architecture, `options.levels`
 * is neither 1 nor 2, or `options.costSlack` is not a finite number >= 0.
 */
export function chen2020(layer: ConvLayer, arch: ArchSpec, options: Chen2020Options = {}): Mapping {
  checkDataflowFlags(options);
  if (options.levels !== undefined && options.levels !== 1 && options.levels !== 2) {
    throw new ConfigError("options.levels", options.levels, "be 1 (the output tile in the PEs' registers) or 2 (in the GBuf too), or be left out to take the better");
  }
  const slack = options.costSlack ?? (options.tileCost ? 0 : COST_SLACK);
  if (typeof slack !== "number" || !Number.isFinite(slack) || slack < 0) {
    throw new ConfigError("options.costSlack", slack, "be a finite number >= 0 (the share of the cheapest tile's score a faster tile may add)");
  }
  const types = options.types ?? {};
  const cost = options.tileCost ?? attainableTraffic;
  const oneDb = options.doubleBuffer ?? true;
  const fits = stagingFits(layer, arch, types, oneDb);
  const costOf = options.tileCost ? undefined : tileTrafficOf(layer);
  const sets = arrayTileSets(layer, arch, cost, { floor: EFFICIENCY_FLOOR, fits, tries: ONE_LEVEL_TRIES, cheapest: TWO_LEVEL_ARRAY_TILES, slack, ...(costOf ? { costOf } : {}) });
  const buffering = options.levels === 1 ? [] : options.doubleBuffer === undefined ? [true, false] : [options.doubleBuffer];
  let best = options.levels === 2 ? undefined : oneLevel(sets.fitting, layer, arch, types, oneDb);
  for (const db of buffering) {
    const two = twoLevel(sets.diverse, layer, arch, types, db);
    if (two && (!best || two.score < best.score)) best = two;
  }
  // No tile keeps the whole kernel in the GBuf: fit greedily (kernel loops may go to dram).
  if (!best) return fitTemplate(CHEN2020_TEMPLATE, layer, arch, options);
  // (levels: 2 asks for the output tile in the GBuf: it stays there)
  const kept = options.levels === 2 ? best.mapping : bypassIdleOutputTile(best.mapping, layer, arch, types);
  const slices = widenSlices(kept, layer, arch, types);
  return finishMapping(slices, layer, arch, types);
}
