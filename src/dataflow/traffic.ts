/**
 * A closed-form count of the words a Mapping moves across the DRAM boundary, and an estimate of
 * the GBuf accesses towards the PE array, without running anything. The dataflow builders rank
 * candidate mappings with it (dataflows/common.ts); a test checks it against the simulated
 * counters.
 *
 * The conventions are the Sequencer's (src/dataflow/sequencer/component.ts header, docs/counting.md):
 * - A tensor's tile at a storage level is identified by its start along the tensor's dimensions
 *   (input: N, G, C, P, Q, R, S; weight: G, K, C, R, S; output: N, G, K, P, Q). It is fetched
 *   again whenever that start changes between consecutive iterations of the loops above the level:
 *   loops over dimensions the tensor does not depend on keep it resident only when they are
 *   inside its innermost relevant loop.
 * - So, over a sequence of temporal loops (outermost first, factor-1 loops ignored), let j be the
 *   innermost loop over a dimension relevant to the tensor. Every tile of the tensor is visited
 *   `rep` times, where `rep` is the product, over the irrelevant dimensions with loops outside j,
 *   of their number of distinct starts there (`ceil(size / extent inside the innermost such
 *   loop)`; tiles are aligned and iterations wholly beyond the edge are skipped). The words of
 *   all tiles of one visit add up to the tensor: `|W|` for weights, `|Y|` for outputs, and for
 *   inputs `N * G * C * RowSum * ColSum`, where RowSum is the sum over every (output-row tile,
 *   kernel-row tile) pair of the real input rows it touches (padding and skipped rows are never
 *   moved; the halo shared by neighbouring tiles is counted in each), likewise ColSum.
 * - Inputs and weights are read `rep` times. Outputs leave `rep` times: the first time a tile is
 *   written, every later time its partial sums are added to the copy already there
 *   (read-modify-write): `rep * |Y|` writes and `(rep - 1) * |Y|` reads.
 * - Weights and outputs at the edge of nested loops ({@link LayerTraffic.visitedWords}): where a
 *   loop over a dimension sits inside another loop over it and the outer loop's last tile is
 *   short enough to leave the inner one a single trip, that inner loop does not change the tiles
 *   along that edge, so their innermost changing loop is an outer one, and the loops between the
 *   two no longer bring them back (the Sequencer keeps a tile whose start does not change).
 *
 * DRAM boundary: a tensor the GBuf keeps moves in GBuf tiles over the dram loops; this count is
 * exact (the Sequencer's `dram.read.*` and `dram.write.output`; a test compares them on small
 * layers of every dataflow). A tensor the GBuf bypasses moves in RF tiles over the dram and gbuf
 * loops together (straight between DRAM and the PEs; PEs holding the same tile share one
 * transfer); this is exact too (mapper/cost.ts, `exactTraffic`) except when a PE idles at the
 * edge of the layer (its tile beyond the edge) and later resumes the tile it held, which the
 * Sequencer does not move again; when the register files (or, for outputs, the partial sums) are
 * double-buffered, each half keeping the tile it last held, so tiles that alternate between the
 * halves come back without a fetch; when the tensor streams through the PEs (`rf.stream`: it is
 * fetched at every gbuf iteration); for fused dimensions (below); and for inputs whose window
 * slides in a single-buffered RF (its halo is kept, so fewer words come from DRAM than counted
 * here).
 *
 * Input halo at the DRAM boundary ({@link LayerTraffic.inputHalo}, {@link gbufInputHalo}): a GBuf
 * input tile keeps the rows and columns it shares with the one before it in the same images and
 * channels (a loop that slides the window at the dram level; sequencer/gbuf-halo.ts), so those
 * words are not read from DRAM again: `dram.read.input` is the count above less the halo, summed
 * in closed form over the dram loop that steps between two tiles.
 *
 * GBuf side ({@link gbufArrayAccesses}): the same count at RF-tile granularity over the dram and
 * gbuf loops gives the GBuf reads that feed the PEs (a multicast is one read) and the partial-sum
 * words added into the GBuf (a write per drained word, a read when the GBuf copy already holds a
 * partial sum). It is an estimate: a PE idle at the edge of the layer that later resumes the
 * tile it held is not served again by the Sequencer, and the count does not see that (it then
 * counts more reads or partial-sum accesses than the simulator), and it does not see the input
 * halo a single-buffered RF keeps as its window slides (docs/counting.md), which makes the
 * simulator read fewer inputs. It adds the input halo a double-buffered GBuf copies from one half
 * to the other (a read and a write per word; exact). The dataflow search uses it to break ties and
 * near-ties of DRAM traffic.
 *
 * Fused dimensions (mapping.ts, "Fused dimensions") are counted on the mapping's box view
 * ({@link boxView}): the same dram loops and tiles, with each fused group's folds replaced by
 * loops over its members (extent e_d each) where the group's gbuf loops were. At the DRAM
 * boundary a tensor the GBuf keeps moves in the same dram tiles, so that count stays exact. Where
 * it goes by RF tiles (a tensor the GBuf bypasses, and the GBuf side) it is an estimate: the view
 * counts each point's tile once per visit, as the folds deliver them, but for a tensor that does
 * not depend on the group it counts a visit per point where the folds make one per fold, when a
 * loop over that tensor's dimensions sits inside the group's.
 */
import { convShape, layerAxis, type ConvLayer, type LayerAxis } from "../workload/layer.js";
import { axisCoverage, dimSizes, DIMS, loopNest, TENSOR_DIMS, TENSORS, touchedInputs, type AxisCoverage, type Dim, type FusedGroup, type Mapping, type TensorName, type TensorWords } from "./mapping.js";

export { axisCoverage, type AxisCoverage } from "./mapping.js";

/** Words moved across one boundary, per tensor and direction. */
export interface BoundaryWords {
  /** Words read from the upper level: operands, and partial sums read back for an add. */
  readonly read: TensorWords;
  /** Words written into the upper level (outputs and partial sums only). */
  readonly write: TensorWords;
  /** All reads and writes. */
  readonly total: number;
}

/** A temporal loop with the extent of its body along its dimension (the loop's index weight). */
export interface WeightedLoop {
  readonly dim: Dim;
  readonly factor: number;
  /** Product of the factors of `dim` inside this loop (all levels): its tile extent, unclipped. */
  readonly weight: number;
}

/** Per-tensor flags: which dimensions the tensor is indexed by. */
const RELEVANT: Readonly<Record<TensorName, ReadonlySet<Dim>>> = Object.freeze({
  input: new Set(TENSOR_DIMS.input),
  weight: new Set(TENSOR_DIMS.weight),
  output: new Set(TENSOR_DIMS.output),
});

/**
 * Per-layer facts the counts need, memoized: the sizes, the tensor sizes and the input coverage
 * of each tile shape. One instance serves any number of mappings of the layer.
 */
export class LayerTraffic {
  readonly sizes: Readonly<Record<Dim, number>>;
  readonly weightWords: number;
  readonly outputWords: number;
  private readonly rows: LayerAxis;
  private readonly cols: LayerAxis;
  private readonly rowCache = new Map<number, AxisCoverage>();
  private readonly colCache = new Map<number, AxisCoverage>();
  /** Memo of {@link axisHalo} per axis, indexed by (output tile, tap tile, roles); -1: not yet. */
  private readonly rowHalo: Float64Array;
  private readonly colHalo: Float64Array;

  constructor(readonly layer: ConvLayer) {
    this.sizes = dimSizes(layer);
    const s = convShape(layer);
    this.weightWords = s.weightElements;
    this.outputWords = s.outputElements;
    this.rows = layerAxis(layer, "h");
    this.cols = layerAxis(layer, "w");
    const memo = (a: LayerAxis) => new Float64Array((a.outSize + 1) * (a.kernel + 1) * 9).fill(-1);
    this.rowHalo = memo(this.rows);
    this.colHalo = memo(this.cols);
  }

  /** Input coverage of the row axis by tiles of `p` output rows and `r` kernel rows. */
  rowCoverage(p: number, r: number): AxisCoverage {
    return LayerTraffic.coverage(this.rowCache, this.rows, Math.min(p, this.sizes.P), Math.min(r, this.sizes.R), this.sizes.R);
  }

  /** Input coverage of the column axis by tiles of `q` output columns and `s` kernel columns. */
  colCoverage(q: number, s: number): AxisCoverage {
    return LayerTraffic.coverage(this.colCache, this.cols, Math.min(q, this.sizes.Q), Math.min(s, this.sizes.S), this.sizes.S);
  }

  /** {@link axisCoverage} of (outTile, kTile) on `axis`, memoized in `cache` (kTile <= kernel). */
  private static coverage(cache: Map<number, AxisCoverage>, axis: LayerAxis, outTile: number, kTile: number, kernel: number): AxisCoverage {
    const key = outTile * (kernel + 1) + kTile;
    let c = cache.get(key);
    if (!c) cache.set(key, (c = axisCoverage(axis, outTile, kTile)));
    return c;
  }

  /**
   * How many times each tile of `tensor` is visited by a sequence of temporal loops (outermost
   * first; see the file header).
   */
  visits(loops: readonly WeightedLoop[], tensor: TensorName): number {
    const relevant = RELEVANT[tensor];
    let j = -1;
    for (let i = 0; i < loops.length; i++) if (loops[i]!.factor > 1 && relevant.has(loops[i]!.dim)) j = i;
    return this.repOutside(loops, relevant, j);
  }

  /**
   * How many times a tile whose innermost loop that changes it is `loops[j]` (-1: none) is
   * visited: the product, over the irrelevant dimensions with loops outside j, of their number of
   * distinct starts there (the innermost such loop of each sets it).
   */
  private repOutside(loops: readonly WeightedLoop[], relevant: ReadonlySet<Dim>, j: number): number {
    const inner = new Map<Dim, number>();
    for (let i = 0; i < j; i++) {
      const l = loops[i]!;
      if (l.factor > 1 && !relevant.has(l.dim)) inner.set(l.dim, l.weight);
    }
    let rep = 1;
    for (const [d, w] of inner) rep *= Math.ceil(this.sizes[d] / w);
    return rep;
  }

  /**
   * The words of every tile of `tensor` (weights or outputs, whose tiles' words are products over
   * their dimensions) times the visits each gets over `loops` (outermost first): {@link visits}
   * times the tensor's words when every tile is visited alike. Where a loop over a dimension sits
   * inside another loop over it, the outer loop's last tile may be shorter and the inner loop make
   * fewer trips there; with one trip it no longer changes the tile, so along that edge the
   * innermost loop that does is an outer one, and the loops between them no longer bring the tile
   * back (the Sequencer keeps it). Each dimension's tiles are classed by their innermost loop that
   * changes them ({@link edgeClasses}); a tile is visited as the innermost of its dimensions' says.
   */
  visitedWords(loops: readonly WeightedLoop[], tensor: "weight" | "output"): number {
    const relevant = RELEVANT[tensor];
    // (no dimension with two loops: every tile alike, the innermost loop that changes one the
    // innermost relevant one that makes more than one trip; the search asks this per candidate)
    let j = -1;
    let nested = false;
    for (let i = 0; i < loops.length && !nested; i++) {
      const l = loops[i]!;
      if (l.factor <= 1 || !relevant.has(l.dim)) continue;
      for (let k = 0; k < i; k++) if (loops[k]!.dim === l.dim && loops[k]!.factor > 1) nested = true;
      if (this.sizes[l.dim] > l.weight) j = i;
    }
    if (!nested) return this.repOutside(loops, relevant, j) * (tensor === "weight" ? this.weightWords : this.outputWords);
    const classes: ReadonlyMap<number, number>[] = [];
    for (const d of relevant) classes.push(this.edgeClasses(loops, d));
    let total = 0;
    const walk = (k: number, j: number, words: number): void => {
      if (k === classes.length) {
        total += this.repOutside(loops, relevant, j) * words;
        return;
      }
      for (const [jd, w] of classes[k]!) walk(k + 1, Math.max(j, jd), words * w);
    };
    walk(0, -1, 1);
    return total;
  }

  /**
   * The extent along `d` of the tiles whose innermost loop (index in `loops`) that changes them
   * is each index (-1: none): a loop over `d` changes a tile when it makes more than one trip in
   * the tile of the loop over `d` outside it that holds the tile (the whole dimension for the
   * outermost), tiles aligned and clipped at the edge.
   */
  private edgeClasses(loops: readonly WeightedLoop[], d: Dim): Map<number, number> {
    const size = this.sizes[d];
    const at: number[] = [];
    for (let i = 0; i < loops.length; i++) if (loops[i]!.dim === d && loops[i]!.factor > 1) at.push(i);
    const out = new Map<number, number>();
    if (at.length === 0) return out.set(-1, size);
    // (the innermost loop's tiles: every outer loop's tile is a whole number of them)
    const unit = loops[at[at.length - 1]!]!.weight;
    for (let start = 0; start < size; start += unit) {
      let j = -1;
      let from = 0;
      let extent = size;
      for (const p of at) {
        const w = loops[p]!.weight;
        if (extent > w) j = p;
        const o = Math.floor((start - from) / w);
        from += o * w;
        extent = Math.min(w, extent - o * w);
      }
      out.set(j, (out.get(j) ?? 0) + Math.min(unit, size - start));
    }
    return out;
  }

  /**
   * The input words the GBuf keeps as the dram loops slide the window (the halo: see the file
   * header), over one run of the dram loops: `dims[0..len)` are their dimensions (indices in DIMS
   * order, outermost first), `factor` and `extent` give per dimension index the dram factor and
   * the GBuf tile's (unclipped) extent. Each dimension has at most one dram loop and every
   * iteration of it is inside the layer (mapping.ts), so between two consecutive tiles one loop i
   * steps and every loop inside it resets from its last index to 0. A halo is kept only in the
   * same images and channels: no loop over N, G or C at or inside i (up to the innermost loop over
   * an input dimension). The transitions at such an i add up to `N*G*C * KSteps * RowHalo *
   * ColHalo`: KSteps is the product of the factors of the K loops outside i (times `factor - 1`
   * when i is over K); RowHalo sums the rows kept ({@link keptCoords}) over the (P, R) tile pairs
   * of those transitions (per dimension: the same tile when its loop is outside i or absent, the
   * next one when it is i, the last then the first when it is inside i), ColHalo likewise.
   */
  inputHalo(dims: ArrayLike<number>, len: number, factor: ArrayLike<number>, extent: ArrayLike<number>): number {
    // (no closures nor arrays: the search calls this for every candidate)
    let j = -1;
    let lastChannel = -1;
    let atP = -1, atQ = -1, atR = -1, atS = -1;
    for (let i = 0; i < len; i++) {
      const d = dims[i]!;
      if (factor[d]! <= 1 || d === I_K) continue;
      j = i;
      if (d === I_N || d === I_G || d === I_C) lastChannel = i;
      else if (d === I_P) atP = i;
      else if (d === I_Q) atQ = i;
      else if (d === I_R) atR = i;
      else atS = i;
    }
    if (j <= lastChannel) return 0;
    let kSteps = 1;
    for (let i = 0; i <= lastChannel; i++) if (dims[i] === I_K) kSteps *= factor[I_K]!;
    let words = 0;
    for (let i = lastChannel + 1; i <= j; i++) {
      const d = dims[i]!;
      const f = factor[d]!;
      if (f <= 1) continue;
      const steps = d === I_K ? kSteps * (f - 1) : kSteps;
      if (d === I_K) kSteps *= f;
      const rows = this.axisHalo(this.rows, this.rowHalo, extent[I_P]!, extent[I_R]!, roleAt(atP, i), roleAt(atR, i));
      if (rows === 0) continue;
      words += steps * rows * this.axisHalo(this.cols, this.colHalo, extent[I_Q]!, extent[I_S]!, roleAt(atQ, i), roleAt(atS, i));
    }
    const s = this.sizes;
    return s.N * s.G * s.C * words;
  }

  /**
   * The coordinates of one axis kept, summed over the transitions of tiles of `o` outputs and `k`
   * taps whose output (tap) tile has role `ro` (`rk`): see {@link inputHalo}. Memoized in `cache`.
   */
  private axisHalo(axis: LayerAxis, cache: Float64Array, o: number, k: number, ro: number, rk: number): number {
    const ot = o < axis.outSize ? o : axis.outSize, kt = k < axis.kernel ? k : axis.kernel;
    const key = ((ot * (axis.kernel + 1) + kt) * 3 + ro) * 3 + rk;
    let sum = cache[key]!;
    if (sum >= 0) return sum;
    const pairs = (role: number, tiles: number): [number, number][] =>
      role === SAME ? Array.from({ length: tiles }, (_, a) => [a, a]) : role === STEP ? Array.from({ length: tiles - 1 }, (_, a) => [a, a + 1]) : [[tiles - 1, 0]];
    sum = 0;
    for (const [oa, ob] of pairs(ro, Math.ceil(axis.outSize / ot))) {
      for (const [ka, kb] of pairs(rk, Math.ceil(axis.kernel / kt))) {
        sum += keptCoords(touchedInputs(axis, oa * ot, ot, ka * kt, kt), touchedInputs(axis, ob * ot, ot, kb * kt, kt));
      }
    }
    cache[key] = sum;
    return sum;
  }

  /** Words of `tensor` in one visit of all its tiles, for tiles of the given (unclipped) extents. */
  wordsPerVisit(tensor: TensorName, extent: Readonly<Record<Dim, number>>): number {
    switch (tensor) {
      case "weight":
        return this.weightWords;
      case "output":
        return this.outputWords;
      case "input": {
        const s = this.sizes;
        return s.N * s.G * s.C * this.rowCoverage(extent.P, extent.R).sum * this.colCoverage(extent.Q, extent.S).sum;
      }
    }
  }
}

/** Dimension indices (DIMS order) the halo count uses. */
const I_N = 0, I_G = 1, I_K = 2, I_C = 3, I_P = 4, I_Q = 5, I_R = 6, I_S = 7;
/** How a dimension's dram tile changes between two consecutive GBuf tiles (see {@link LayerTraffic.inputHalo}): the same, the next, the last then the first. */
const SAME = 0, STEP = 1, RESET = 2;

/** The role of a dimension whose dram loop is at `at` (-1: none) in the transitions at loop `i`. */
function roleAt(at: number, i: number): number {
  return at < i ? SAME : at === i ? STEP : RESET;
}

/**
 * How many stored coordinates of one axis a GBuf input tile keeps from the one before (both
 * sorted): all of them when they are the same, the overlap when both are consecutive, else none
 * (src/dataflow/sequencer/gbuf-halo.ts).
 */
function keptCoords(old: readonly number[], now: readonly number[]): number {
  if (old.length === 0 || now.length === 0) return 0;
  if (old.length === now.length && old.every((v, i) => v === now[i])) return now.length;
  const run = (v: readonly number[]) => v[v.length - 1]! - v[0]! === v.length - 1;
  if (!run(old) || !run(now)) return 0;
  return Math.max(0, Math.min(old[old.length - 1]!, now[now.length - 1]!) - Math.max(old[0]!, now[0]!) + 1);
}

/**
 * A fused mapping's box view (see the file header): no fused groups; each group's gbuf and spatial
 * loops on its lead replaced by one gbuf loop per member, factor e_d, where the lead's first gbuf
 * loop was (else after the gbuf loops). A mapping without fused groups is returned as it is.
 */
export function boxView(m: Mapping): Mapping {
  if (!m.fuse) return m;
  const leads = new Map(m.fuse.map((g) => [g.dims[0]!, g]));
  const gbuf: { dim: Dim; factor: number }[] = [];
  const placed = new Set<Dim>();
  const members = (g: FusedGroup) => g.dims.map((d, k) => ({ dim: d, factor: g.extents[k]! }));
  for (const l of m.gbuf.loops) {
    const g = leads.get(l.dim);
    if (!g) gbuf.push(l);
    else if (!placed.has(l.dim)) {
      placed.add(l.dim);
      gbuf.push(...members(g));
    }
  }
  for (const [lead, g] of leads) if (!placed.has(lead)) gbuf.push(...members(g));
  const { fuse: _fuse, ...rest } = m;
  return { ...rest, gbuf: { ...m.gbuf, loops: gbuf }, spatial: { loops: m.spatial.loops.filter((l) => !leads.has(l.dim)) } };
}

const cache = new WeakMap<ConvLayer, LayerTraffic>();

/** The memoized {@link LayerTraffic} of a layer. */
export function layerTraffic(layer: ConvLayer): LayerTraffic {
  let t = cache.get(layer);
  if (!t) cache.set(layer, (t = new LayerTraffic(layer)));
  return t;
}

/** The temporal loops of some levels, outermost first, with their index weights over the whole nest. */
function weightedLoops(m: Mapping, levels: readonly ("dram" | "gbuf")[]): WeightedLoop[] {
  const nest = loopNest(m);
  const out: WeightedLoop[] = [];
  nest.forEach((l, j) => {
    if (!(levels as readonly string[]).includes(l.level)) return;
    let w = 1;
    for (let i = j + 1; i < nest.length; i++) if (nest[i]!.dim === l.dim) w *= nest[i]!.factor;
    out.push({ dim: l.dim, factor: l.factor, weight: w });
  });
  return out;
}

/** The unclipped tile extent of each dimension at a level (its factors and every factor inside). */
function strides(m: Mapping, level: "gbuf" | "rf"): Record<Dim, number> {
  const from = level === "gbuf" ? ["gbuf", "spatial", "rf"] : ["rf"];
  const e = {} as Record<Dim, number>;
  for (const d of DIMS) e[d] = 1;
  for (const l of loopNest(m)) if (from.includes(l.level)) e[l.dim] *= l.factor;
  return e;
}

function boundaryWords(read: Record<TensorName, number>, write: Record<TensorName, number>): BoundaryWords {
  let total = 0;
  for (const t of TENSORS) total += read[t] + write[t];
  return Object.freeze({ read: Object.freeze(read), write: Object.freeze(write), total });
}

/**
 * The input words a mapping's GBuf keeps from one dram tile to the next (the halo of a sliding
 * window; docs/counting.md): read from DRAM once instead of again, and, when the GBuf is
 * double-buffered, copied from one half to the other. 0 when the GBuf bypasses inputs.
 */
export function gbufInputHalo(mapping: Mapping, layer: ConvLayer): number {
  const m = boxView(mapping);
  return m.gbuf.keep.input ? dramInputHalo(m, layerTraffic(layer)) : 0;
}

/** {@link LayerTraffic.inputHalo} of a mapping's dram loops and GBuf tiles. */
function dramInputHalo(m: Mapping, lt: LayerTraffic): number {
  // (typed arrays, as the search passes them: one shape for inputHalo's reads)
  const factor = new Float64Array(DIMS.length).fill(1);
  const dims = Int8Array.from(m.dram.loops, (l) => DIMS.indexOf(l.dim));
  m.dram.loops.forEach((l, i) => (factor[dims[i]!] = l.factor));
  const tile = strides(m, "gbuf");
  return lt.inputHalo(dims, dims.length, factor, Float64Array.from(DIMS, (d) => tile[d]));
}

/**
 * The words a mapping moves across the DRAM boundary, per tensor (see the file header): what
 * `simulate` counts as `dram.read.*` and `dram.write.*`.
 */
export function dramTraffic(mapping: Mapping, layer: ConvLayer): BoundaryWords {
  const m = boxView(mapping);
  const lt = layerTraffic(layer);
  const dramLoops = weightedLoops(m, ["dram"]);
  const bothLoops = weightedLoops(m, ["dram", "gbuf"]);
  const gbufTile = strides(m, "gbuf");
  const rfTile = strides(m, "rf");
  const read = { input: 0, weight: 0, output: 0 };
  const write = { input: 0, weight: 0, output: 0 };
  for (const t of TENSORS) {
    const kept = m.gbuf.keep[t];
    const loops = kept ? dramLoops : bothLoops;
    if (t === "input") read.input = lt.visits(loops, t) * lt.wordsPerVisit(t, kept ? gbufTile : rfTile);
    else if (t === "weight") read.weight = lt.visitedWords(loops, t);
    else {
      // (every visit writes the tile; each after the first reads it back to add to it)
      write.output = lt.visitedWords(loops, t);
      read.output = write.output - lt.outputWords;
    }
  }
  if (m.gbuf.keep.input) read.input -= dramInputHalo(m, lt);
  return boundaryWords(read, write);
}

/**
 * An estimate of the GBuf's accesses towards the PE array (see the file header): reads of the
 * input and weight tiles delivered to the PEs (a multicast is one read), the partial-sum words
 * added into the GBuf's output tiles (reads and writes), and the input halo a double-buffered
 * GBuf copies between its halves (reads and writes). Zero for a tensor the GBuf bypasses.
 */
export function gbufArrayAccesses(mapping: Mapping, layer: ConvLayer): BoundaryWords {
  const m = boxView(mapping);
  const lt = layerTraffic(layer);
  const both = weightedLoops(m, ["dram", "gbuf"]);
  const rfTile = strides(m, "rf");
  const read = { input: 0, weight: 0, output: 0 };
  const write = { input: 0, weight: 0, output: 0 };
  // A double-buffered GBuf copies the input halo between its halves: a read and a write per word.
  if (m.gbuf.keep.input && m.gbuf.doubleBuffer) read.input = write.input = dramInputHalo(m, lt);
  for (const t of TENSORS) {
    if (!m.gbuf.keep[t]) continue;
    const rep = lt.visits(both, t);
    const words = lt.wordsPerVisit(t, rfTile);
    if (t === "output") {
      const evictions = lt.visits(weightedLoops(m, ["dram"]), t);
      write.output = rep * words;
      read.output = (rep - evictions) * words;
    } else {
      read[t] += rep * words;
    }
  }
  return boundaryWords(read, write);
}
