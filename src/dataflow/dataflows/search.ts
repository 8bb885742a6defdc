/**
 * The search that sizes a template's factors to move the fewest DRAM words ({@link
 * searchTemplate}, used by ws, os, is and rs), and its inner part, the search over gbuf factors
 * and dram orders at fixed spatial and rf factors ({@link GbufSearch}, which chen2020 also runs
 * for its GBuf-level output tile).
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
 * 7. The winner's splits are balanced (balance.ts): the rf factor that the search took at its
 *    largest (367 of 384 channels, the rest, 17, in a second DRAM tile) shrinks to the same
 *    number of equal tiles (192 + 192), where that moves no more DRAM words or GBuf accesses.
 * The winner is checked with checkMapping; an illegal winner, or a score that disagrees with
 * traffic.ts on the built mapping, is an InvariantError. Loops of factor 1 are left out. The
 * search assumes the GBuf keeps every tensor, as the four templates do. Cost: a few hundred
 * legality checks (steps 2-4) and up to a few hundred thousand closed-form scores: at most about
 * 150 ms per AlexNet or VGG-16 layer at batch 1 (more with larger batches).
 *
 * With a larger GBuf the candidates are a superset (as long as the array fill and the largest rf
 * factors do not change), so the score never rises; DRAM traffic alone may rise slightly when a
 * larger buffer opens a mapping with far fewer GBuf accesses.
 */
import { InvariantError } from "../../core/errors.js";
import type { ArchSpec } from "../../arch/spec.js";
import type { ConvLayer } from "../../workload/layer.js";
import { checkMapping, tensorBytes, type Legality, type OperandTypes } from "../legality.js";
import { dimSizes, DIMS, mapping, TENSOR_DIMS, TENSORS, type Dim, type Mapping } from "../mapping.js";
import { dramTraffic, gbufArrayAccesses, layerTraffic, type AxisCoverage, type LayerTraffic } from "../traffic.js";
import { foldMapping } from "./fold.js";
import { finishMapping } from "./balance.js";
import { checkDataflowFlags, compose, fillArray, innerProduct, largest, type DataflowOptions, type Factors, type Template } from "./common.js";

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
  checkDataflowFlags(options);
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

  // Steps 5-7.
  const search = new GbufSearch(t, layerTraffic(layer), arch, tensorBytes(types, arch.gbuf.psumBytes), db);
  for (const rf of rfs) search.run({ ...base, rf });
  if (!search.best) throw new InvariantError(`dataflow.${t.name}`, "the search found no candidate, not even the smallest tiles");
  const balanced = finishMapping(searchedMapping(t, search.best, layer, arch, types, db), layer, arch, types);
  const folded = t.fold && options.fold !== false ? foldMapping(balanced, t.fold, layer, arch, types) : balanced;
  return t.rfDoubleBufferOutput ? withOutputSets(folded, layer, arch, types) : folded;
}

/**
 * `m` with two accumulator sets (mapping.rf.doubleBufferOutput) where the psum partition holds
 * its rf output tile twice; else `m` as it is. The rest of the mapping is unchanged, so its DRAM
 * and GBuf traffic are too; the drains run behind the next wave.
 */
function withOutputSets(m: Mapping, layer: ConvLayer, arch: ArchSpec, types: OperandTypes): Mapping {
  const sets = mapping({ ...m, rf: { ...m.rf, doubleBufferOutput: true } });
  return checkMapping(sets, layer, arch, { types }).ok ? sets : m;
}

/**
 * The mapping of a search's winner, checked: an illegal mapping, or DRAM words or GBuf accesses
 * that differ from what the search scored (traffic.ts on the built mapping), is an InvariantError.
 */
export function searchedMapping(t: Template, best: SearchBest, layer: ConvLayer, arch: ArchSpec, types: OperandTypes, db: boolean): Mapping {
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

/** The best candidate of a {@link GbufSearch}: its score, the two counts it adds up, its factors and dram order. */
export interface SearchBest {
  readonly score: number;
  readonly dram: number;
  readonly gbufArray: number;
  readonly factors: Factors;
  readonly order: readonly Dim[];
}

/**
 * The candidates of one {@link GbufSearch.run}: per dimension the gbuf factors tried (`cand`), the
 * GBuf tile extent (`ext`) and dram factor (`trips`) of each, the distinct starts of the gbuf loop
 * (`n`); the input rows and columns each (P, R) and (Q, S) candidate pair covers, most and summed
 * (`rows`, `cols`, indexed `p * nR + r` and `q * nS + s`); the input words per visit at RF and
 * at layer granularity.
 */
interface Space {
  readonly n: Float64Array;
  readonly cand: number[][];
  readonly ext: number[][];
  readonly trips: number[][];
  readonly nR: number;
  readonly nS: number;
  readonly rows: { readonly max: number[]; readonly sum: number[] };
  readonly cols: { readonly max: number[]; readonly sum: number[] };
  readonly inputRf: number;
  readonly inputAll: number;
  /** Input words every schedule reads from DRAM at least once (a lower bound under any halo). */
  readonly inputOnce: number;
}

/**
 * Steps 5 and 6 of the search for one layer: the gbuf factors and dram order of each rf
 * combination given to {@link GbufSearch.run}; `best` is the best over every run so far.
 */
export class GbufSearch {
  best: SearchBest | undefined;
  private readonly sizes: Float64Array;
  private readonly orders: readonly (readonly Dim[])[];
  /** Per order: its dram dims followed by the gbuf dims (indices), and the level of each (0 dram, 1 gbuf). */
  private readonly seqs: readonly { readonly dims: Int8Array; readonly levels: Int8Array; readonly dramLen: number }[];
  private readonly grow: ReadonlySet<number>;
  private readonly capacity: number;
  private readonly bankWord: number;
  private readonly copies: number;
  /** Scratch: the gbuf factors and dram factors of the candidate being scored. */
  private readonly g = new Float64Array(8).fill(1);
  private readonly tr = new Float64Array(8);
  /** The candidate's GBuf tile extents (for the input halo). */
  private readonly gbufTile = new Float64Array(8);

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

  /** The candidate gbuf factors of a run (see {@link Space}); a gbuf factor given in `f` is fixed. */
  private space(f: Factors): Space {
    const lt = this.lt;
    const S = this.sizes;
    const inner = new Float64Array(8);
    const n = new Float64Array(8);
    for (const d of DIMS) {
      const i = DIM_INDEX[d];
      inner[i] = innerProduct(this.t, { ...f, gbuf: {} }, d);
      n[i] = Math.ceil(S[i]! / inner[i]!);
    }
    const fixed = DIMS.map((d) => f.gbuf[d]);
    const cand = Array.from(n, (x, d) => (fixed[d] !== undefined ? [fixed[d]] : x > 1 && this.grow.has(d) ? balancedFactors(x) : [1]));
    const coverage = (outs: number[], taps: number[], o: number, t: number, of: (a: number, b: number) => AxisCoverage) => {
      const max: number[] = [];
      const sum: number[] = [];
      for (const a of outs) for (const b of taps) {
        const c = of(a * inner[o]!, b * inner[t]!);
        max.push(c.max);
        sum.push(c.sum);
      }
      return { max, sum };
    };
    const rf = (d: Dim): number => f.rf[d] ?? 1;
    return {
      n,
      cand,
      ext: cand.map((c, d) => c.map((v) => Math.min(S[d]!, v * inner[d]!))),
      trips: cand.map((c, d) => c.map((v) => Math.ceil(S[d]! / (v * inner[d]!)))),
      nR: cand[iR]!.length,
      nS: cand[iS]!.length,
      rows: coverage(cand[iP]!, cand[iR]!, iP, iR, (a, b) => lt.rowCoverage(a, b)),
      cols: coverage(cand[iQ]!, cand[iS]!, iQ, iS, (a, b) => lt.colCoverage(a, b)),
      inputRf: S[iN]! * S[iG]! * S[iC]! * lt.rowCoverage(rf("P"), rf("R")).sum * lt.colCoverage(rf("Q"), rf("S")).sum,
      inputAll: S[iN]! * S[iG]! * S[iC]!,
      // Every input some window reads comes from DRAM at least once, whatever the halo.
      inputOnce: S[iN]! * S[iG]! * S[iC]! * lt.rowCoverage(S[iP]!, S[iR]!).sum * lt.colCoverage(S[iQ]!, S[iS]!).sum,
    };
  }

  /** The end of a region of `words` elements of `b` bytes placed after `placed` bytes, at bank-word boundaries (each copy). */
  private place(placed: number, words: number, b: number): number {
    const region = Math.max(1, words) * b;
    for (let c = 0; c < this.copies; c++) placed = Math.ceil(placed / this.bankWord) * this.bankWord + region;
    return placed;
  }

  /** Whether the GBuf tile of the candidate `idx` fits (legality.ts's capacity rule, in closed form). */
  private fits(sp: Space, idx: Int32Array): boolean {
    const e = (d: number) => sp.ext[d]![idx[d]!]!;
    const wIn = e(iN) * e(iG) * e(iC) * sp.rows.max[idx[iP]! * sp.nR + idx[iR]!]! * sp.cols.max[idx[iQ]! * sp.nS + idx[iS]!]!;
    const wW = e(iG) * e(iK) * e(iC) * e(iR) * e(iS);
    const wOut = e(iN) * e(iG) * e(iK) * e(iP) * e(iQ);
    const { input, weight, output } = this.bytes;
    if ((wIn * input + wW * weight + wOut * output) * this.copies > this.capacity) return false;
    return this.place(this.place(this.place(0, wIn, input), wW, weight), wOut, output) <= this.capacity;
  }

  /** Scores the candidate `idx` in every dram order and keeps it if it is the best so far. */
  private leaf(sp: Space, idx: Int32Array, f: Factors): void {
    const g = this.g;
    const tr = this.tr;
    const gbufTile = this.gbufTile;
    for (let d = 0; d < 8; d++) {
      g[d] = sp.cand[d]![idx[d]!]!;
      tr[d] = sp.trips[d]![idx[d]!]!;
      gbufTile[d] = sp.ext[d]![idx[d]!]!;
    }
    const W = this.lt.weightWords;
    const Y = this.lt.outputWords;
    const inputDram = sp.inputAll * sp.rows.sum[idx[iP]! * sp.nR + idx[iR]!]! * sp.cols.sum[idx[iQ]! * sp.nS + idx[iS]!]!;
    for (let o = 0; o < this.seqs.length; o++) {
      const { dims, levels, dramLen } = this.seqs[o]!;
      const repO = visits(dims, levels, dramLen, MASK_OUTPUT, tr, g, sp.n);
      const rest = visits(dims, levels, dramLen, MASK_WEIGHT, tr, g, sp.n) * W + (2 * repO - 1) * Y;
      const best = this.best;
      if (best && rest + sp.inputOnce > best.score) continue;
      // The input halo the GBuf keeps across dram tiles (copied between halves when double-buffered).
      const halo = this.lt.inputHalo(dims, dramLen, tr, gbufTile);
      const dram = visits(dims, levels, dramLen, MASK_INPUT, tr, g, sp.n) * inputDram - halo + rest;
      if (best && dram > best.score) continue;
      const all = dims.length;
      const gbufArray =
        visits(dims, levels, all, MASK_INPUT, tr, g, sp.n) * sp.inputRf +
        visits(dims, levels, all, MASK_WEIGHT, tr, g, sp.n) * W +
        (2 * visits(dims, levels, all, MASK_OUTPUT, tr, g, sp.n) - repO) * Y +
        (this.copies - 1) * 2 * halo;
      const score = dram + gbufArray / DRAM_WORD_WEIGHT;
      if (best && !(score < best.score || (score === best.score && (dram < best.dram || (dram === best.dram && gbufArray < best.gbufArray))))) continue;
      const gb: Partial<Record<Dim, number>> = {};
      DIMS.forEach((d, i) => {
        if (g[i]! > 1) gb[d] = g[i]!;
      });
      this.best = { score, dram, gbufArray, factors: { ...f, gbuf: gb }, order: this.orders[o]! };
    }
  }

  /**
   * Searches the gbuf factors and dram orders at the given spatial and rf factors. A gbuf factor
   * given in `f` is fixed (chen2020's whole kernel), the others are searched.
   */
  run(f: Factors): void {
    const sp = this.space(f);
    const idx = new Int32Array(8);
    const fits = () => this.fits(sp, idx);
    const leaf = () => this.leaf(sp, idx, f);
    // Depth first over the dimensions with several candidates; a factor that does not fit (with
    // every later dimension at its smallest) ends its dimension's loop: footprints only grow. The
    // last dimension is one whose factor changes no tile's words (N, C or K, when they grow): with
    // everything else fixed, a larger factor of it never scores worse, except that having a gbuf
    // loop at all may (it moves the loop a tensor's reuse depends on), so only its factor 1 and
    // its largest fitting factor are scored.
    const cand = sp.cand;
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
