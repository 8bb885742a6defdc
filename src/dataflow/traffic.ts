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
 *   moved; the halo shared by neighbouring tiles is moved again), likewise ColSum.
 * - Inputs and weights are read `rep` times. Outputs leave `rep` times: the first time a tile is
 *   written, every later time its partial sums are added to the copy already there
 *   (read-modify-write): `rep * |Y|` writes and `(rep - 1) * |Y|` reads.
 *
 * DRAM boundary: a tensor the GBuf keeps moves in GBuf tiles over the dram loops; this count is
 * exact (the Sequencer's `dram.read.*` and `dram.write.output`; a test compares them on small
 * layers of every dataflow). A tensor the GBuf bypasses moves in RF tiles over the dram and gbuf
 * loops together (straight between DRAM and the PEs; PEs holding the same tile share one
 * transfer); this is exact too except when a PE idles at the edge of the layer (its tile beyond
 * the edge) and later resumes the tile it held, which the Sequencer does not move again.
 *
 * GBuf side ({@link gbufArrayAccesses}): the same count at RF-tile granularity over the dram and
 * gbuf loops gives the GBuf reads that feed the PEs (a multicast is one read) and the partial-sum
 * words added into the GBuf (a write per drained word, a read when the GBuf copy already holds a
 * partial sum). It is an estimate: a PE idle at the edge of the layer that later resumes the
 * tile it held is not served again by the Sequencer, and the count does not see that (it then
 * counts more reads or partial-sum accesses than the simulator), and it does not see the input
 * halo a single-buffered RF keeps as its window slides (docs/counting.md), which makes the
 * simulator read fewer inputs. The dataflow search uses it to break ties and near-ties of DRAM
 * traffic.
 */
import { convShape, type ConvLayer } from "../workload/layer.js";
import { axisCoverage, dimSizes, DIMS, inputAxis, loopNest, TENSOR_DIMS, TENSORS, type AxisCoverage, type Dim, type InputAxis, type Mapping, type TensorName, type TensorWords } from "./mapping.js";

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
  private readonly rows: InputAxis;
  private readonly cols: InputAxis;
  private readonly rowCache = new Map<number, AxisCoverage>();
  private readonly colCache = new Map<number, AxisCoverage>();

  constructor(readonly layer: ConvLayer) {
    this.sizes = dimSizes(layer);
    const s = convShape(layer);
    this.weightWords = s.weightElements;
    this.outputWords = s.outputElements;
    this.rows = inputAxis(layer, "h");
    this.cols = inputAxis(layer, "w");
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
  private static coverage(cache: Map<number, AxisCoverage>, axis: InputAxis, outTile: number, kTile: number, kernel: number): AxisCoverage {
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
    // The innermost loop of each irrelevant dimension outside j sets its number of distinct starts.
    const inner = new Map<Dim, number>();
    for (let i = 0; i < j; i++) {
      const l = loops[i]!;
      if (l.factor > 1 && !relevant.has(l.dim)) inner.set(l.dim, l.weight);
    }
    let rep = 1;
    for (const [d, w] of inner) rep *= Math.ceil(this.sizes[d] / w);
    return rep;
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
 * The words a mapping moves across the DRAM boundary, per tensor (see the file header): what
 * `simulate` counts as `dram.read.*` and `dram.write.*`.
 */
export function dramTraffic(m: Mapping, layer: ConvLayer): BoundaryWords {
  const lt = layerTraffic(layer);
  const dramLoops = weightedLoops(m, ["dram"]);
  const bothLoops = weightedLoops(m, ["dram", "gbuf"]);
  const gbufTile = strides(m, "gbuf");
  const rfTile = strides(m, "rf");
  const read = { input: 0, weight: 0, output: 0 };
  const write = { input: 0, weight: 0, output: 0 };
  for (const t of TENSORS) {
    const kept = m.gbuf.keep[t];
    const rep = lt.visits(kept ? dramLoops : bothLoops, t);
    const words = lt.wordsPerVisit(t, kept ? gbufTile : rfTile);
    if (t === "output") {
      write.output = rep * words;
      read.output = (rep - 1) * words;
    } else {
      read[t] = rep * words;
    }
  }
  return boundaryWords(read, write);
}

/**
 * An estimate of the GBuf's accesses towards the PE array (see the file header): reads of the
 * input and weight tiles delivered to the PEs (a multicast is one read), and the partial-sum words
 * added into the GBuf's output tiles (reads and writes). Zero for a tensor the GBuf bypasses.
 */
export function gbufArrayAccesses(m: Mapping, layer: ConvLayer): BoundaryWords {
  const lt = layerTraffic(layer);
  const both = weightedLoops(m, ["dram", "gbuf"]);
  const rfTile = strides(m, "rf");
  const read = { input: 0, weight: 0, output: 0 };
  const write = { input: 0, weight: 0, output: 0 };
  for (const t of TENSORS) {
    if (!m.gbuf.keep[t]) continue;
    const rep = lt.visits(both, t);
    const words = lt.wordsPerVisit(t, rfTile);
    if (t === "output") {
      const evictions = lt.visits(weightedLoops(m, ["dram"]), t);
      write.output = rep * words;
      read.output = (rep - evictions) * words;
    } else {
      read[t] = rep * words;
    }
  }
  return boundaryWords(read, write);
}
