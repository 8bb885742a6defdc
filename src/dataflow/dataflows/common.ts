/**
 * What every named dataflow shares: its options, and the two procedures that turn a loop-nest
 * template (which dimension goes where, in which order) into a legal Mapping for one layer and
 * one architecture: the search that ws, os, is and rs use ({@link searchTemplate}), and the greedy
 * fit that chen2020 falls back to ({@link fitTemplate}).
 *
 * A template fixes the structure of a dataflow: the spatial loops (dimension and axis, outermost
 * first), the loop order at the rf and gbuf levels, the dram loop orders allowed, which factors
 * may grow, and the keep / double-buffer flags. What is spatial and what stays in the registers
 * (the dataflow's identity) is the template's; the search only sizes the factors and picks one of
 * the allowed dram orders.
 *
 * The search, deterministic (same inputs, same mapping):
 * 1. Start from the smallest tiles (every factor 1 below DRAM); if they are not legal, throw a
 *    ConfigError naming the rule that fails.
 * 2. Fill the array: each spatial slot in order takes its largest legal factor.
 * 3. The structural rf factors (`rfFirst`, e.g. rs's whole filter row) take their largest legal
 *    factor, in order.
 * 4. The other rf factors: every combination of their largest legal factor (each alone) and the
 *    powers of two below it, whose register files fit.
 * 5. For each rf combination, the gbuf factors: every combination of balanced factors
 *    `ceil(n / c)` (n = the dimension's tiles of the inner levels, c = 1, 2, 3, 4, 6, 8, 12, 16,
 *    ... dram tiles, and c = n) whose GBuf tile fits. The capacity rule of legality.ts is
 *    computed in closed form, and once a factor does not fit, larger ones of that dimension are
 *    not tried (footprints only grow). The last dimension enumerated is K (or C, or N), whose
 *    factor changes no tile's words: for it only factor 1 and its largest fitting factor are
 *    scored (in between, a larger factor never scores worse). For each, every allowed dram
 *    order; the dram factors are the remainders `ceil(size / inner)`.
 * 6. Each candidate is scored `DRAM words + GBuf accesses / DRAM_WORD_WEIGHT` (256), both
 *    counted in closed form by traffic.ts: the DRAM words exactly as the Sequencer moves them, the
 *    GBuf accesses being the GBuf's reads that feed the PEs (a multicast is one read) and its
 *    partial-sum reads and writes. So DRAM traffic comes first, and GBuf traffic breaks ties and
 *    near-ties: a candidate that saves a few DRAM words at the cost of many GBuf accesses (such
 *    as one filter per PE with the filters streamed at the dram level) loses. Ties keep the first
 *    found: larger rf factors, then smaller gbuf factors, then the template's own dram order.
 * The winner is checked with checkMapping; an illegal winner, or a score that disagrees with
 * traffic.ts on the built mapping, is an InvariantError. Loops of factor 1 are left out. The
 * search assumes the GBuf keeps every tensor, as the four templates do. Cost: a few hundred
 * legality checks (steps 2-4) and up to a few hundred thousand closed-form scores: at most about
 * 150 ms per AlexNet or VGG-16 layer at batch 1 (more with larger batches).
 *
 * With a larger GBuf the candidates are a superset (as long as the array fill and the largest rf
 * factors do not change), so the score never rises; DRAM traffic alone may rise slightly when a
 * larger buffer opens a mapping with far fewer GBuf accesses.
 *
 * The greedy fit: steps 1 and 2, then grow the rf factors and then the gbuf factors: first round
 * robin, doubling each knob in priority order while the mapping stays legal, then knob by knob to
 * the largest legal factor (binary search; every legality rule is monotone in a single factor, so
 * the legal factors form a prefix). The dram factors are the remainders, in the template's
 * `dramOrder`; gbuf factors are then balanced (`ceil(n / ceil(n / f))`, the same number of tiles,
 * each as small as possible, which never breaks legality). When even the smallest tiles do not
 * fit, it throws a ConfigError naming the rule that fails.
 */
import { ConfigError, InvariantError } from "../../core/errors.js";
import type { ArchSpec } from "../../arch/spec.js";
import type { ConvLayer } from "../../workload/layer.js";
import { checkMapping, tensorBytes, type Legality, type OperandTypes } from "../legality.js";
import { dimSizes, DIMS, mapping, TENSOR_DIMS, TENSORS, type Axis, type Dim, type DimRecord, type KeepFlags, type Mapping, type SpatialLoop, type TemporalLoop } from "../mapping.js";
import { dramTraffic, gbufArrayAccesses, layerTraffic, type LayerTraffic } from "../traffic.js";

/** Options every named dataflow accepts. */
export interface DataflowOptions {
  /** Operand types the mapping must fit (default int16 for both: then it fits every type). */
  readonly types?: OperandTypes;
  /** Double-buffer the GBuf (prefetch the next DRAM tile while the current one is used). Default true. */
  readonly doubleBuffer?: boolean;
}

/** A named dataflow: builds a legal Mapping for a layer on an architecture, or throws a ConfigError. */
export type Dataflow = (layer: ConvLayer, arch: ArchSpec, options?: DataflowOptions) => Mapping;

/** One spatial slot of a template: a dimension on an axis. */
export interface SpatialSlot {
  readonly dim: Dim;
  readonly axis: Axis;
}

/** The structure of a dataflow (see the file header). */
export interface Template {
  readonly name: string;
  /** Spatial loops, outermost first; each grows (in this order) to fill its axis. */
  readonly spatial: readonly SpatialSlot[];
  /**
   * rf loop order, outermost first, and the rf factors that may grow: in priority order for the
   * greedy fit; the search tries combinations of them, larger first.
   */
  readonly rfOrder: readonly Dim[];
  readonly rfGrow: readonly Dim[];
  /**
   * rf factors that are part of the dataflow's structure: the search gives each its largest legal
   * factor, in this order, before it sizes the others (default none).
   */
  readonly rfFirst?: readonly Dim[];
  /** gbuf loop order, outermost first, and the gbuf factors that may grow (in priority order for the greedy fit). */
  readonly gbufOrder: readonly Dim[];
  readonly gbufGrow: readonly Dim[];
  /** dram loop order, outermost first (must list every dimension): the greedy fit's, and the search's first choice. */
  readonly dramOrder: readonly Dim[];
  /** Other dram loop orders the search may choose (each lists every dimension; default none). */
  readonly dramOrders?: readonly (readonly Dim[])[];
  readonly gbufKeep: KeepFlags;
  readonly rfKeep: KeepFlags;
  /** Tensors that stream through the PEs (a systolic array; mapping.rf.stream). Default none. */
  readonly rfStream?: KeepFlags;
  /** Double-buffered register files (mapping.rf.doubleBuffer). Default false. */
  readonly rfDoubleBuffer?: boolean;
}

/**
 * The dram loop orders that keep one tensor's GBuf tile resident across the loops it does not
 * depend on: the three classes of dimensions (K; C, R, S; N, P, Q), each tensor depending on two,
 * in every order. Outermost first; groups always outermost.
 */
export const DRAM_ORDERS: readonly (readonly Dim[])[] = Object.freeze(
  [
    // outputs stay while the reduction streams (inputs re-read per K tile, or weights per pixel tile)
    ["G", "N", "K", "P", "Q", "C", "R", "S"],
    ["G", "N", "P", "Q", "K", "C", "R", "S"],
    // weights stay while the pixels stream (partial sums spilled per reduction tile)
    ["G", "K", "C", "R", "S", "N", "P", "Q"],
    ["G", "C", "R", "S", "K", "N", "P", "Q"],
    // inputs stay while the output channels stream
    ["G", "N", "P", "Q", "C", "R", "S", "K"],
    ["G", "C", "R", "S", "N", "P", "Q", "K"],
  ].map((o) => Object.freeze(o as Dim[])),
);

/** Factors below DRAM: rf and gbuf per dimension, spatial per slot (same order as the template). */
export interface Factors {
  readonly rf: Partial<Record<Dim, number>>;
  readonly spatial: readonly number[];
  readonly gbuf: Partial<Record<Dim, number>>;
}

/** The product of the factors of `dim` below the dram level. */
function innerProduct(t: Template, f: Factors, dim: Dim): number {
  let p = (f.rf[dim] ?? 1) * (f.gbuf[dim] ?? 1);
  t.spatial.forEach((s, i) => {
    if (s.dim === dim) p *= f.spatial[i] ?? 1;
  });
  return p;
}

/** Builds the Mapping of a template at given factors (dram factors = the remainder), in a dram order (default the template's). */
export function compose(t: Template, f: Factors, layer: ConvLayer, doubleBuffer: boolean, dramOrder: readonly Dim[] = t.dramOrder): Mapping {
  const sizes = dimSizes(layer);
  const temporal = (order: readonly Dim[], fs: Partial<Record<Dim, number>>): TemporalLoop[] =>
    order.filter((d) => (fs[d] ?? 1) > 1).map((d) => ({ dim: d, factor: fs[d]! }));
  const dram: Partial<Record<Dim, number>> = {};
  for (const d of DIMS) dram[d] = Math.ceil(sizes[d] / innerProduct(t, f, d));
  const spatial: SpatialLoop[] = [];
  t.spatial.forEach((s, i) => {
    const v = f.spatial[i] ?? 1;
    if (v > 1) spatial.push({ dim: s.dim, axis: s.axis, factor: v });
  });
  return mapping({
    name: t.name,
    dram: { loops: temporal(dramOrder, dram) },
    gbuf: { loops: temporal(t.gbufOrder, f.gbuf), keep: t.gbufKeep, doubleBuffer },
    spatial: { loops: spatial },
    rf: { loops: temporal(t.rfOrder, f.rf), keep: t.rfKeep, doubleBuffer: t.rfDoubleBuffer ?? false, ...(t.rfStream ? { stream: t.rfStream } : {}) },
  });
}

/** The ConfigError a dataflow throws when a layer cannot be mapped at all. */
export function cannotFit(name: string, arch: ArchSpec, v: Legality): ConfigError {
  const reason = v.ok ? "no legal mapping found" : v.reason;
  return new ConfigError(`dataflow.${name}`, arch.name, "fit the layer's smallest tiles on the architecture", reason);
}

/** Largest v in [lo, hi] with ok(v), given ok(lo) and ok monotone (true then false). */
function largest(lo: number, hi: number, ok: (v: number) => boolean): number {
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (ok(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Steps 1 and 2 of both procedures: the smallest tiles, legal, and the array filled. */
function fillArray(t: Template, sizes: DimRecord, arch: ArchSpec, check: (f: Factors) => Legality, start?: Factors): Factors {
  let f: Factors = start ?? { rf: {}, spatial: t.spatial.map(() => 1), gbuf: {} };
  const first = check(f);
  if (!first.ok) throw cannotFit(t.name, arch, first);
  t.spatial.forEach((s, i) => {
    const cap = s.axis === "row" ? arch.array.rows : arch.array.cols;
    const with_ = (v: number): Factors => ({ ...f, spatial: f.spatial.map((x, j) => (j === i ? v : x)) });
    const v = largest(f.spatial[i] ?? 1, Math.min(cap, sizes[s.dim]), (x) => check(with_(x)).ok);
    f = with_(v);
  });
  return f;
}

/**
 * Fits a template greedily (see the file header), starting from `start` factors (default all 1).
 * @throws ConfigError when the starting factors are not legal.
 */
export function fitTemplate(t: Template, layer: ConvLayer, arch: ArchSpec, options: DataflowOptions = {}, start?: Factors): Mapping {
  const sizes: DimRecord = dimSizes(layer);
  const db = options.doubleBuffer ?? true;
  const check = (f: Factors): Legality => checkMapping(compose(t, f, layer, db), layer, arch, { types: options.types ?? {} });
  const legal = (g: Factors): boolean => check(g).ok;
  let f = fillArray(t, sizes, arch, check, start);
  for (const level of ["rf", "gbuf"] as const) {
    const knobs = level === "rf" ? t.rfGrow : t.gbufGrow;
    const with_ = (d: Dim, v: number): Factors => ({ ...f, [level]: { ...f[level], [d]: v } });
    // Round robin, doubling: tiles grow evenly across the knobs (a squarer tile reuses more).
    for (let grown = true; grown; ) {
      grown = false;
      for (const d of knobs) {
        const v = f[level][d] ?? 1;
        const next = Math.min(2 * v, sizes[d]);
        if (next > v && legal(with_(d, next))) {
          f = with_(d, next);
          grown = true;
        }
      }
    }
    // Then fill what is left, knob by knob in priority order.
    for (const d of knobs) f = with_(d, largest(f[level][d] ?? 1, sizes[d], (x) => legal(with_(d, x))));
  }
  // Balance the gbuf tiles: as many tiles, each as small as possible.
  for (const d of t.gbufGrow) {
    const v = f.gbuf[d] ?? 1;
    if (v <= 1) continue;
    const inner = innerProduct(t, f, d) / v;
    const n = Math.ceil(sizes[d] / inner);
    const balanced = Math.ceil(n / Math.ceil(n / v));
    if (balanced < v) {
      const g: Factors = { ...f, gbuf: { ...f.gbuf, [d]: balanced } };
      if (legal(g)) f = g;
    }
  }
  return compose(t, f, layer, db);
}

// ---------------------------------------------------------------------------------------------
// The search

/** Dimension index in DIMS order (N G K C P Q R S). */
const DIM_INDEX: Readonly<Record<Dim, number>> = Object.freeze({ N: 0, G: 1, K: 2, C: 3, P: 4, Q: 5, R: 6, S: 7 });
const [iN, iG, iK, iC, iP, iQ, iR, iS] = [0, 1, 2, 3, 4, 5, 6, 7] as const;
const maskOf = (dims: readonly Dim[]): number => dims.reduce((m, d) => m | (1 << DIM_INDEX[d]), 0);
const MASK_INPUT = maskOf(TENSOR_DIMS.input);
const MASK_WEIGHT = maskOf(TENSOR_DIMS.weight);
const MASK_OUTPUT = maskOf(TENSOR_DIMS.output);

/**
 * How many GBuf accesses one DRAM word is worth in the search's score, `DRAM words + GBuf
 * accesses / DRAM_WORD_WEIGHT` (see the file header): about 8x the energy ratio of the two
 * (200 : 6 in the default energy table, src/report/energy.ts), so DRAM traffic comes first.
 */
export const DRAM_WORD_WEIGHT = 256;

/** The gbuf factors the search tries for a dimension of n inner tiles: ceil(n / c) for c in 1, 2, 3, 4, 6, 8, 12, ..., n; ascending. */
function balancedFactors(n: number): number[] {
  const fs = new Set<number>([1]);
  for (let c = 1; c < n; c *= 2) {
    fs.add(Math.ceil(n / c));
    if (c >= 2 && 1.5 * c < n) fs.add(Math.ceil(n / (1.5 * c)));
  }
  return [...fs].sort((a, b) => a - b);
}

/** The values the search tries for an rf factor whose largest legal value is `hi`: hi and the powers of two below it, largest first. */
function rfValues(hi: number): number[] {
  const out = [hi];
  for (let v = 1; v < hi; v *= 2) out.push(v);
  return [...new Set(out)].sort((a, b) => b - a);
}

/**
 * Sizes a template's factors by a search that minimises DRAM traffic (see the file header).
 * @throws ConfigError when not even the smallest tiles fit the architecture.
 */
export function searchTemplate(t: Template, layer: ConvLayer, arch: ArchSpec, options: DataflowOptions = {}): Mapping {
  if (!TENSORS.every((x) => t.gbufKeep[x])) throw new InvariantError(`dataflow.${t.name}`, "the search needs a template whose GBuf keeps every tensor");
  const sizes = dimSizes(layer);
  const db = options.doubleBuffer ?? true;
  const types = options.types ?? {};
  const check = (f: Factors): Legality => checkMapping(compose(t, f, layer, db), layer, arch, { types });
  const legal = (f: Factors): boolean => check(f).ok;

  // Steps 1-3: the array, then the structural rf factors.
  let base = fillArray(t, sizes, arch, check);
  for (const d of t.rfFirst ?? []) {
    const with_ = (v: number): Factors => ({ ...base, rf: { ...base.rf, [d]: v } });
    base = with_(largest(base.rf[d] ?? 1, sizes[d], (x) => legal(with_(x))));
  }
  // Step 4: the rf combinations that fit, largest first.
  const knobs = t.rfGrow.filter((d) => !(t.rfFirst ?? []).includes(d));
  const values = knobs.map((d) => {
    const with_ = (v: number): Factors => ({ ...base, rf: { ...base.rf, [d]: v } });
    return rfValues(largest(base.rf[d] ?? 1, sizes[d], (x) => legal(with_(x))));
  });
  const rfs: Partial<Record<Dim, number>>[] = [];
  const pick = (i: number, rf: Partial<Record<Dim, number>>): void => {
    if (i === knobs.length) {
      if (legal({ ...base, rf })) rfs.push(rf);
      return;
    }
    for (const v of values[i]!) pick(i + 1, { ...rf, [knobs[i]!]: v });
  };
  pick(0, { ...base.rf });

  // Steps 5-6.
  const search = new GbufSearch(t, layerTraffic(layer), arch, tensorBytes(types, arch.gbuf.psumBytes), db);
  for (const rf of rfs) search.run({ ...base, rf });
  const best = search.best;
  if (!best) throw new InvariantError(`dataflow.${t.name}`, "the search found no candidate, not even the smallest tiles");
  const m = compose(t, best.factors, layer, db, best.order);
  const v = checkMapping(m, layer, arch, { types });
  if (!v.ok) throw new InvariantError(`dataflow.${t.name}`, `the search chose an illegal mapping (${v.reason})`);
  const dram = dramTraffic(m, layer).total;
  const gbufArray = gbufArrayAccesses(m, layer).total;
  if (dram !== best.dram || gbufArray !== best.gbufArray) {
    throw new InvariantError(`dataflow.${t.name}`, `the search scored ${best.dram} DRAM words and ${best.gbufArray} GBuf accesses; traffic.ts counts ${dram} and ${gbufArray}`);
  }
  return m;
}

/**
 * Visits of each tile of a tensor (of dimension mask `mask`) by the first `len` loops of a
 * sequence (traffic.ts): position i runs dimension `dims[i]` at level `levels[i]` (0 dram, factor
 * and distinct starts `t`; 1 gbuf, factor `g` and distinct starts `n`).
 */
function visits(dims: Int8Array, levels: Int8Array, len: number, mask: number, t: Float64Array, g: Float64Array, n: Float64Array): number {
  let j = -1;
  for (let i = 0; i < len; i++) {
    const d = dims[i]!;
    if ((mask >> d) & 1 && (levels[i] === 0 ? t[d]! : g[d]!) > 1) j = i;
  }
  let rep = 1;
  let seen = 0;
  // Innermost first: the first loop met of a dimension is its innermost outside j.
  for (let i = j - 1; i >= 0; i--) {
    const d = dims[i]!;
    if ((mask >> d) & 1 || (seen >> d) & 1) continue;
    const dram = levels[i] === 0;
    if ((dram ? t[d]! : g[d]!) <= 1) continue;
    seen |= 1 << d;
    rep *= dram ? t[d]! : n[d]!;
  }
  return rep;
}

interface Best {
  readonly score: number;
  readonly dram: number;
  readonly gbufArray: number;
  readonly factors: Factors;
  readonly order: readonly Dim[];
}

/** Steps 5 and 6 of the search for one layer: the gbuf factors and dram order of each rf combination. */
class GbufSearch {
  best: Best | undefined;
  private readonly sizes: Float64Array;
  private readonly orders: readonly (readonly Dim[])[];
  /** Per order: its dram dims followed by the gbuf dims (indices), and the level of each (0 dram, 1 gbuf). */
  private readonly seqs: readonly { readonly dims: Int8Array; readonly levels: Int8Array; readonly dramLen: number }[];
  private readonly grow: ReadonlySet<number>;
  private readonly capacity: number;
  private readonly bankWord: number;
  private readonly copies: number;

  constructor(
    private readonly t: Template,
    private readonly lt: LayerTraffic,
    arch: ArchSpec,
    private readonly bytes: Readonly<Record<"input" | "weight" | "output", number>>,
    db: boolean,
  ) {
    this.sizes = Float64Array.from(DIMS.map((d) => lt.sizes[d]));
    this.orders = [t.dramOrder, ...(t.dramOrders ?? []).filter((o) => o.join() !== t.dramOrder.join())];
    const gbufDims = t.gbufOrder.map((d) => DIM_INDEX[d]);
    this.seqs = this.orders.map((o) => {
      const dims = [...o.map((d) => DIM_INDEX[d]), ...gbufDims];
      return { dims: Int8Array.from(dims), levels: Int8Array.from(dims.map((_, i) => (i < o.length ? 0 : 1))), dramLen: o.length };
    });
    this.grow = new Set(t.gbufGrow.map((d) => DIM_INDEX[d]));
    this.capacity = arch.gbuf.capacityBytes;
    this.bankWord = arch.gbuf.bankWordBytes;
    this.copies = db ? 2 : 1;
  }

  /** Searches the gbuf factors and dram orders at the given spatial and rf factors. */
  run(f: Factors): void {
    const lt = this.lt;
    const S = this.sizes;
    const inner = new Float64Array(8);
    const n = new Float64Array(8);
    for (const d of DIMS) {
      const i = DIM_INDEX[d];
      inner[i] = innerProduct(this.t, f, d);
      n[i] = Math.ceil(S[i]! / inner[i]!);
    }
    // Candidate gbuf factors per dimension, with their GBuf tile extents and dram factors.
    const cand = Array.from(n, (x, d) => (x > 1 && this.grow.has(d) ? balancedFactors(x) : [1]));
    const ext = cand.map((c, d) => c.map((v) => Math.min(S[d]!, v * inner[d]!)));
    const trips = cand.map((c, d) => c.map((v) => Math.ceil(S[d]! / (v * inner[d]!))));
    const nR = cand[iR]!.length;
    const nS = cand[iS]!.length;
    const rowMax: number[] = [];
    const rowSum: number[] = [];
    const colMax: number[] = [];
    const colSum: number[] = [];
    cand[iP]!.forEach((p) =>
      cand[iR]!.forEach((r) => {
        const c = lt.rowCoverage(p * inner[iP]!, r * inner[iR]!);
        rowMax.push(c.max);
        rowSum.push(c.sum);
      }),
    );
    cand[iQ]!.forEach((q) =>
      cand[iS]!.forEach((s) => {
        const c = lt.colCoverage(q * inner[iQ]!, s * inner[iS]!);
        colMax.push(c.max);
        colSum.push(c.sum);
      }),
    );
    const rf = (d: Dim): number => f.rf[d] ?? 1;
    // Words per visit at RF granularity (the GBuf side), fixed by the rf factors.
    const inputRf = S[iN]! * S[iG]! * S[iC]! * lt.rowCoverage(rf("P"), rf("R")).sum * lt.colCoverage(rf("Q"), rf("S")).sum;
    const inputAll = S[iN]! * S[iG]! * S[iC]!;
    // Every input some window reads comes from DRAM at least once, whatever the halo.
    const inputOnce = inputAll * lt.rowCoverage(S[iP]!, S[iR]!).sum * lt.colCoverage(S[iQ]!, S[iS]!).sum;
    const idx = new Int32Array(8);
    const g = new Float64Array(8).fill(1);
    const tr = new Float64Array(8);
    const W = lt.weightWords;
    const Y = lt.outputWords;
    const bIn = this.bytes.input;
    const bW = this.bytes.weight;
    const bOut = this.bytes.output;
    const copies = this.copies;
    const bw = this.bankWord;
    const cap = this.capacity;
    const place = (placed: number, words: number, b: number): number => {
      const region = Math.max(1, words) * b;
      for (let c = 0; c < copies; c++) placed = Math.ceil(placed / bw) * bw + region;
      return placed;
    };
    const fits = (): boolean => {
      const eN = ext[iN]![idx[iN]!]!;
      const eG = ext[iG]![idx[iG]!]!;
      const eK = ext[iK]![idx[iK]!]!;
      const eC = ext[iC]![idx[iC]!]!;
      const eP = ext[iP]![idx[iP]!]!;
      const eQ = ext[iQ]![idx[iQ]!]!;
      const eR = ext[iR]![idx[iR]!]!;
      const eS = ext[iS]![idx[iS]!]!;
      const wIn = eN * eG * eC * rowMax[idx[iP]! * nR + idx[iR]!]! * colMax[idx[iQ]! * nS + idx[iS]!]!;
      const wW = eG * eK * eC * eR * eS;
      const wOut = eN * eG * eK * eP * eQ;
      if ((wIn * bIn + wW * bW + wOut * bOut) * copies > cap) return false;
      return place(place(place(0, wIn, bIn), wW, bW), wOut, bOut) <= cap;
    };
    const gbufTile = new Float64Array(8);
    const leaf = (): void => {
      for (let d = 0; d < 8; d++) {
        g[d] = cand[d]![idx[d]!]!;
        tr[d] = trips[d]![idx[d]!]!;
        gbufTile[d] = ext[d]![idx[d]!]!;
      }
      const inputDram = inputAll * rowSum[idx[iP]! * nR + idx[iR]!]! * colSum[idx[iQ]! * nS + idx[iS]!]!;
      for (let o = 0; o < this.seqs.length; o++) {
        const seq = this.seqs[o]!;
        const repO = visits(seq.dims, seq.levels, seq.dramLen, MASK_OUTPUT, tr, g, n);
        const rest = visits(seq.dims, seq.levels, seq.dramLen, MASK_WEIGHT, tr, g, n) * W + (2 * repO - 1) * Y;
        const best = this.best;
        if (best && rest + inputOnce > best.score) continue;
        // The input halo the GBuf keeps across dram tiles (copied between halves when double-buffered).
        const halo = lt.inputHalo(seq.dims, seq.dramLen, tr, gbufTile);
        const dram = visits(seq.dims, seq.levels, seq.dramLen, MASK_INPUT, tr, g, n) * inputDram - halo + rest;
        if (best && dram > best.score) continue;
        const all = seq.dims.length;
        const gbufArray =
          visits(seq.dims, seq.levels, all, MASK_INPUT, tr, g, n) * inputRf +
          visits(seq.dims, seq.levels, all, MASK_WEIGHT, tr, g, n) * W +
          (2 * visits(seq.dims, seq.levels, all, MASK_OUTPUT, tr, g, n) - repO) * Y +
          (copies - 1) * 2 * halo;
        const score = dram + gbufArray / DRAM_WORD_WEIGHT;
        if (best && !(score < best.score || (score === best.score && (dram < best.dram || (dram === best.dram && gbufArray < best.gbufArray))))) continue;
        const gb: Partial<Record<Dim, number>> = {};
        DIMS.forEach((d, i) => {
          if (g[i]! > 1) gb[d] = g[i]!;
        });
        this.best = { score, dram, gbufArray, factors: { ...f, gbuf: gb }, order: this.orders[o]! };
      }
    };
    // Depth first over the dimensions with several candidates; a factor that does not fit (with
    // every later dimension at its smallest) ends its dimension's loop: footprints only grow. The
    // last dimension is one whose factor changes no tile's words (N, C or K, when they grow): with
    // everything else fixed, a larger factor of it never scores worse, except that having a gbuf
    // loop at all may (it moves the loop a tensor's reuse depends on), so only its factor 1 and
    // its largest fitting factor are scored.
    const dims = [iN, iP, iQ, iR, iS, iC, iK].filter((d) => cand[d]!.length > 1 && this.grow.has(d));
    const last = dims.length - 1;
    const monotoneLast = last >= 0 && (dims[last] === iN || dims[last] === iC || dims[last] === iK);
    const rec = (k: number): boolean => {
      if (!fits()) return false;
      if (k === dims.length) {
        leaf();
        return true;
      }
      const d = dims[k]!;
      if (k === last && monotoneLast) {
        leaf();
        let top = 0;
        for (let i = 1; i < cand[d]!.length; i++) {
          idx[d] = i;
          if (!fits()) break;
          top = i;
        }
        if (top > 0) {
          idx[d] = top;
          leaf();
        }
      } else {
        for (let i = 0; i < cand[d]!.length; i++) {
          idx[d] = i;
          if (!rec(k + 1)) break;
        }
      }
      idx[d] = 0;
      return true;
    };
    rec(0);
  }
}

/** Declares a template (frozen; typed so its dimension names are checked). */
export function defineTemplate(t: Template): Template {
  return Object.freeze(t);
}
