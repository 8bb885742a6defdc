/**
 * The array tiles of `chen2020`: every way its template (chen2020.ts) can spread an output tile of
 * b x y x x x z partial sums over the PE array, with each PE's share in its register file.
 *
 * A PE row takes output positions (images N, rows P, columns Q) and, when positions leave rows
 * free, output channels K; a PE column takes output channels K. A PE holds, for one (input
 * channel, kernel tap), `b1 * span(y1) * span(x1)` inputs (its input window, dense in padded
 * coordinates: `span(y1) = (y1 - 1) * strideH + 1`), `z1` weights and `b1 * y1 * x1 * z1` psums;
 * each must fit its RF partition. The tile is then `b = N_sp * b1`, `y = P_sp * y1`, `x = Q_sp * x1`,
 * `z = K_row * K_col * z1`, clipped to the layer. Every spatial split the array allows is tried,
 * every per-PE share whose input window fits, and for each the most weights (z1) the partitions
 * allow, the fewest that cover the channels in as many tiles, or one (the finest grain of output
 * channels, for a GBuf tile of few channels that holds a whole reduction). Spatial loops follow
 * mapping.ts's rule that no iteration is empty in a full tile.
 *
 * Each spread comes in up to four variants. Orientation: positions along PE rows and channels
 * along columns, or `transposed` (positions along columns, channels along rows: the same PEs and
 * buses, the broadcasts swap axes), since 13 x 13 maps fill 13 of 14 columns but only 12 of 12
 * rows in pairs of whole rows. Buffering: single, or `rfDouble` (mapping.rf.doubleBuffer: the next
 * step's inputs and weights arrive during the current wave, each taking twice its share of its
 * partition; the PE then holds its whole window for each step, no halo slides in place).
 *
 * Each is scored by a `TileCost` (chen2020.ts: by default the DRAM traffic of the paper's
 * schedule at that tile), by its efficiency, the share of the array's MAC slots it keeps busy,
 * and by its speed, the efficiency less the cycles a step waits for its operands (an estimate:
 * {@link ArrayTile.speed}). {@link arrayTileSets} keeps the few each form of chen2020 chooses
 * among, without sorting them all (VGG-16 at batch 3 has some 130,000 distinct tiles on the
 * chen2020 preset).
 */
import { rfTensorEntries, type ArchSpec } from "../../arch/spec.js";
import type { Tile } from "../../bounds/tile.js";
import type { ConvLayer } from "../../workload/layer.js";
import { dimSizes, inputSpan, type DimRecord } from "../mapping.js";
import type { Factors } from "./common.js";
import { CostMemo } from "./cost-memo.js";

/** Scores a candidate output tile: lower is better. */
export type TileCost = (layer: ConvLayer, tile: Tile) => number;

/** One way to spread an output tile over the array. */
export interface ArrayTile {
  /** rf `{ N, P, Q, K }`, spatial `[Q_sp, P_sp, N_sp, K_row, K_col]` (the template's slots), no gbuf factors. */
  readonly factors: Factors;
  /** The output tile, clipped to the layer. */
  readonly tile: Tile;
  /** The tile's score (lower is better). */
  readonly cost: number;
  /** b * y * x * z. */
  readonly size: number;
  /** PEs the split uses. */
  readonly pes: number;
  /**
   * The share of the array's MAC slots the tile can keep busy: the layer's output points over
   * (PEs x array tiles x psums per PE), where the array tiles are `prod ceil(size / extent)`
   * over N, P, Q, K (each (channel, tap) step of a tile takes every PE its b1*y1*x1*z1 MAC
   * cycles, used or not). 1 when the tiles fill every PE and cover the layer exactly.
   */
  readonly efficiency: number;
  /**
   * The efficiency times the share of a step's cycles the MACs run, an estimate: a (channel, tap)
   * step's wave takes `w = b1*y1*x1*z1 / macsPerCycle` cycles, its deliveries `d` = the distinct
   * weights (z1 per channel slot) over the weight bus, plus the distinct new inputs over the
   * input bus (a window per position slot; single-buffered, only the columns the window slides
   * by, averaged over the kernel's columns), plus the MAC pipeline's latency and two cycles of
   * handshakes; a step takes `w + d` cycles single-buffered and `max(w, d)` double-buffered.
   */
  readonly speed: number;
  /** Positions along PE columns and channels along rows (see the file header). */
  readonly transposed: boolean;
  /** Inputs and weights double-buffered in the registers (mapping.rf.doubleBuffer). */
  readonly rfDouble: boolean;
}

/** Largest f with (split - 1) * f < size (the rule a loop inside a spatial loop of `split` must meet). */
const maxInner = (size: number, split: number): number => (split <= 1 ? size : Math.floor((size - 1) / (split - 1)));

/** A spatial split: [Q_sp, P_sp, N_sp, K_row, K_col]. */
type Split = readonly [number, number, number, number, number];

/** Every spatial split of an array with `rows` position lines and `cols` channel lines (see the file header). */
function spatialSplits(sz: DimRecord, rows: number, cols: number): Split[] {
  const out: Split[] = [];
  for (let ksp = 1; ksp <= Math.min(sz.K, cols); ksp++) {
    for (let qsp = 1; qsp <= Math.min(sz.Q, rows); qsp++) {
      for (let psp = 1; psp <= Math.min(sz.P, Math.floor(rows / qsp)); psp++) {
        for (let nsp = 1; nsp <= Math.min(sz.N, Math.floor(rows / (qsp * psp))); nsp++) {
          // Rows the output positions leave free hold more output channels (K on both axes: the
          // output tile's z channels spread over the whole array, e.g. for FC layers).
          const spare = Math.floor(rows / (qsp * psp * nsp));
          for (const krow of spare > 1 ? [1, spare] : [1]) {
            if (krow > 1 && krow * ksp > sz.K) continue;
            out.push([qsp, psp, nsp, krow, ksp]);
          }
        }
      }
    }
  }
  return out;
}

/** An orientation and a buffering of a spread (see the file header). */
interface Variant {
  readonly transposed: boolean;
  readonly rfDouble: boolean;
}

/** The variants of an array: both orientations unless it is square, each single- and double-buffered. */
function variants(arch: ArchSpec): Variant[] {
  const out: Variant[] = [];
  for (const transposed of arch.array.rows === arch.array.cols ? [false] : [false, true]) {
    for (const rfDouble of [false, true]) out.push({ transposed, rfDouble });
  }
  return out;
}

/**
 * The per-PE shares of one split in one variant ({@link sharesOf}): `count` of them, the i-th at
 * `at[5i .. 5i + 4]` as b1, y1, x1, z1 and its {@link ArrayTile.efficiency}. One buffer serves
 * every split (a search visits hundreds of thousands of shares: a callback per share was most of
 * its time).
 */
class Shares {
  at = new Float64Array(5 * 512);
  count = 0;
  /** The split, layer and array the shares are of, and the layer's output points. */
  split: Split | undefined = undefined;
  sz: DimRecord | undefined = undefined;
  pes = 0;
  points = 0;

  /** Empties the list for the shares of a split. */
  start(split: Split, sz: DimRecord, pes: number): void {
    this.count = 0;
    this.split = split;
    this.sz = sz;
    this.pes = pes;
    this.points = sz.N * sz.P * sz.Q * sz.K;
  }

  /** Adds a share taking `slots` MAC slots on the whole array (see {@link sharesOf}). */
  push(b1: number, y1: number, x1: number, z1: number, slots: number): void {
    if (5 * (this.count + 1) > this.at.length) {
      const grown = new Float64Array(2 * this.at.length);
      grown.set(this.at);
      this.at = grown;
    }
    const i = 5 * this.count++;
    this.at[i] = b1;
    this.at[i + 1] = y1;
    this.at[i + 2] = x1;
    this.at[i + 3] = z1;
    this.at[i + 4] = slots <= Number.MAX_SAFE_INTEGER ? this.points / slots : exactEfficiency(this.sz!, this.pes, this.split!, b1, y1, x1, z1);
  }
}

const shares = new Shares();

/**
 * Lists in {@link shares} every per-PE share of a split, in a variant, whose input window and
 * psums fit a PE, with the most channels z1 the partitions allow, and with one (a double-buffered
 * operand has half its partition); each with its efficiency on an array of `pes` PEs.
 *
 * The efficiency is `points / (pes * slots)`: `points` the layer's output points, `slots` the
 * MAC slots a PE spends on the layer, `steps * b1 * y1 * x1 * z1` (steps: the array tiles that
 * cover the layer), here multiplied out loop by loop. Both are products of integers, so exact
 * below 2^53, and the quotient is the same whatever the order of the factors; above it (a very
 * large layer on a large array) {@link exactEfficiency} multiplies them in the order of an earlier
 * version of this search, so that its rounding, and its choices, stay as they were.
 */
function sharesOf(split: Split, sz: DimRecord, layer: ConvLayer, arch: ArchSpec, v: Variant, pes: number): Shares {
  const entries = rfTensorEntries(arch.rf);
  const psumEntries = entries.psum;
  const inputEntries = v.rfDouble ? Math.floor(entries.input / 2) : entries.input;
  const weightEntries = v.rfDouble ? Math.floor(entries.weight / 2) : entries.weight;
  const [sh, sw] = layer.strides;
  const [dh, dw] = layer.dilations;
  const [qsp, psp, nsp, krow, ksp] = split;
  const lines = krow * ksp;
  const zMax = maxInner(sz.K, lines);
  const yMax = maxInner(sz.P, psp);
  const xMax = maxInner(sz.Q, qsp);
  shares.start(split, sz, pes);
  for (let b1 = 1; b1 <= Math.min(maxInner(sz.N, nsp), inputEntries, psumEntries); b1++) {
    const slotsB = pes * Math.ceil(sz.N / (nsp * b1)) * b1;
    for (let y1 = 1; y1 <= yMax && b1 * y1 <= psumEntries; y1++) {
      const rows = b1 * inputSpan(y1, 1, sh, dh);
      if (rows > inputEntries) break;
      const slotsBY = slotsB * Math.ceil(sz.P / (psp * y1)) * y1;
      for (let x1 = 1; x1 <= xMax && b1 * y1 * x1 <= psumEntries; x1++) {
        if (rows * inputSpan(x1, 1, sw, dw) > inputEntries) break;
        const most = Math.min(weightEntries, Math.floor(psumEntries / (b1 * y1 * x1)), zMax);
        if (most < 1) continue;
        const slots = slotsBY * Math.ceil(sz.Q / (qsp * x1)) * x1;
        // As few channels as cover K in as many tiles as `most` does (fewer idle MAC slots).
        const even = Math.ceil(sz.K / (lines * Math.ceil(sz.K / (lines * most))));
        shares.push(b1, y1, x1, most, slots * Math.ceil(sz.K / (lines * most)) * most);
        if (even < most && even > 1) shares.push(b1, y1, x1, even, slots * Math.ceil(sz.K / (lines * even)) * even);
        if (most > 1) shares.push(b1, y1, x1, 1, slots * Math.ceil(sz.K / lines));
      }
    }
  }
  return shares;
}

/**
 * Calls `visit` with the shares ({@link sharesOf}, efficiencies on the whole array) of every
 * split of the array, in every variant, that uses at least `minPes()` PEs (asked before each
 * split). In order (variants, then {@link spatialSplits}' order), or, `widest`, the splits of
 * all variants by their PEs, most first (ties in that order), stopping at the first below
 * `minPes()`: for a search whose bound only rises, as {@link bestEfficiency}'s.
 */
function forEachSplit(sz: DimRecord, layer: ConvLayer, arch: ArchSpec, minPes: () => number, visit: (split: Split, v: Variant, shares: Shares) => void, widest = false): void {
  const all = arch.array.rows * arch.array.cols;
  const { rows, cols } = arch.array;
  const splits = variants(arch).flatMap((v) => spatialSplits(sz, v.transposed ? cols : rows, v.transposed ? rows : cols).map((split) => ({ v, split, pes: split[0] * split[1] * split[2] * split[3] * split[4] })));
  if (widest) splits.sort((a, b) => b.pes - a.pes);
  for (const { v, split, pes } of splits) {
    if (pes >= minPes()) visit(split, v, sharesOf(split, sz, layer, arch, v, all));
    else if (widest) return;
  }
}

/** {@link ArrayTile.efficiency} with the factors multiplied in the order of an earlier version (see {@link sharesOf}). */
function exactEfficiency(sz: DimRecord, pes: number, split: Split, b1: number, y1: number, x1: number, z1: number): number {
  const steps = Math.ceil(sz.N / (split[2] * b1)) * Math.ceil(sz.P / (split[1] * y1)) * Math.ceil(sz.Q / (split[0] * x1)) * Math.ceil(sz.K / (split[3] * split[4] * z1));
  return (sz.N * sz.P * sz.Q * sz.K) / (pes * steps * b1 * y1 * x1 * z1);
}

/** The share of a step's cycles the MACs run (see {@link ArrayTile.speed}). */
function stepShare(layer: ConvLayer, arch: ArchSpec, split: Split, b1: number, y1: number, x1: number, z1: number, v: Variant): number {
  // (indexed, not destructured: a frozen array's destructuring was a quarter of the search)
  const wave = (b1 * y1 * x1 * z1) / arch.array.macsPerCycle;
  const spanY = inputSpan(y1, 1, layer.strides[0], layer.dilations[0]);
  const spanX = inputSpan(x1, 1, layer.strides[1], layer.dilations[1]);
  const S = layer.kernelWidth;
  const cols = v.rfDouble ? spanX : (spanX + S - 1) / S;
  const inputs = split[0] * split[1] * split[2] * b1 * spanY * cols;
  const weights = split[3] * split[4] * z1;
  const deliver = Math.ceil(weights / arch.noc.weightWordsPerCycle) + Math.ceil(inputs / arch.noc.inputWordsPerCycle) + arch.array.pipelineLatency + 2;
  return wave / (v.rfDouble ? Math.max(wave, deliver) : wave + deliver);
}

/** What the rankings read of a tile: its scores (a spread is judged on them before it is made a tile). */
type Scores = Pick<ArrayTile, "cost" | "speed" | "efficiency" | "size" | "pes">;

/** Whether `a` ranks before `b` by traffic: cheaper, then faster, then more efficient, then larger, then more PEs. */
function before(a: Scores, b: Scores): boolean {
  if (a.cost !== b.cost) return a.cost < b.cost;
  return faster(a, b);
}

/** Whether `a` ranks before `b` by speed: faster, then cheaper, then more efficient, then larger, then more PEs. */
function faster(a: Scores, b: Scores): boolean {
  if (a.speed !== b.speed) return a.speed > b.speed;
  if (a.cost !== b.cost) return a.cost < b.cost;
  return a.efficiency !== b.efficiency ? a.efficiency > b.efficiency : a.size !== b.size ? a.size > b.size : a.pes > b.pes;
}

/** Tiles within the slack kept before those a cheaper tile has pushed out of it are dropped (then twice as many as stay). */
const NEAR_LIMIT = 8192;

/** A short list of the best tiles by a ranking, one per tile (its best spread), best first. */
class Best {
  readonly list: ArrayTile[] = [];
  constructor(
    private readonly length: number,
    private readonly ranks: (a: Scores, b: Scores) => boolean = before,
  ) {}

  /** Whether a tile with scores `c` would enter the list. */
  admits(c: Scores): boolean {
    return this.list.length < this.length || this.ranks(c, this.list[this.list.length - 1]!);
  }

  add(c: ArrayTile): void {
    const same = this.list.findIndex((x) => x.tile.b === c.tile.b && x.tile.y === c.tile.y && x.tile.x === c.tile.x && x.tile.z === c.tile.z);
    if (same >= 0 && !this.ranks(c, this.list[same]!)) return;
    if (same >= 0) this.list.splice(same, 1);
    let i = this.list.length;
    while (i > 0 && this.ranks(c, this.list[i - 1]!)) i--;
    this.list.splice(i, 0, c);
    if (this.list.length > this.length) this.list.pop();
  }
}

/**
 * The best tile of each extent, per kind (b, y, x, z), by {@link before}: {@link judge} says
 * whether a spread would replace any (and notes which), {@link add} then keeps its tile there.
 */
class BestPerExtent {
  /** Per kind, the best tile of each extent, indexed by the extent. */
  private readonly best: (ArrayTile | undefined)[][];
  /** Per kind, its extents as first seen (the order {@link list} gives them in). */
  private readonly order: number[][] = [[], [], [], []];
  /** Per kind, whether the spread last judged ranks before the best of its extent. */
  private readonly better = [false, false, false, false];

  constructor(sz: DimRecord) {
    this.best = [sz.N, sz.P, sz.Q, sz.K].map((most) => new Array<ArrayTile | undefined>(most + 1).fill(undefined));
  }

  /** Whether a spread with scores `c` and extents b, y, x, z ranks before the best of any of its extents. */
  judge(c: Scores, b: number, y: number, x: number, z: number): boolean {
    let any = false;
    for (let k = 0; k < 4; k++) {
      const seen = this.best[k]![k === 0 ? b : k === 1 ? y : k === 2 ? x : z];
      this.better[k] = !seen || before(c, seen);
      any ||= this.better[k]!;
    }
    return any;
  }

  /** Keeps `c`, the spread last judged, as the best of the extents it ranks before. */
  add(c: ArrayTile): void {
    const { b, y, x, z } = c.tile;
    for (let k = 0; k < 4; k++) {
      if (!this.better[k]) continue;
      const at = k === 0 ? b : k === 1 ? y : k === 2 ? x : z;
      if (!this.best[k]![at]) this.order[k]!.push(at);
      this.best[k]![at] = c;
    }
  }

  /** The best tiles, kind by kind, each kind's extents in the order first seen. */
  list(): ArrayTile[] {
    return this.order.flatMap((o, k) => o.map((at) => this.best[k]![at]!));
  }
}

/**
 * The best efficiency of any spread of the layer on the array. A spread's efficiency is at most its
 * split's PEs over the array's (its steps cover the layer: steps * b1*y1*x1*z1 >= N*P*Q*K / PEs),
 * so a split of fewer PEs than the best so far times the array's cannot raise it, and in
 * {@link arrayTileSets}' pass one of fewer than the floor's share of the best has no spread above
 * the floor: neither is visited (`margin`, a hair below 1, against rounding; 0 visits every split).
 * Here the splits are taken widest first, so the best rises early and the pass stops at the
 * first split too narrow to raise it (a maximum, so the order changes nothing else).
 */
function bestEfficiency(sz: DimRecord, layer: ConvLayer, arch: ArchSpec, margin: number): number {
  const all = arch.array.rows * arch.array.cols;
  let top = 0;
  forEachSplit(
    sz,
    layer,
    arch,
    () => top * all * margin,
    (_split, _v, sh) => {
      for (let i = 0; i < sh.count; i++) top = Math.max(top, sh.at[5 * i + 4]!);
    },
    true,
  );
  return top;
}

/** The array tiles each form of chen2020 chooses among (see {@link arrayTileSets}). */
export interface ArrayTileSets {
  /**
   * The tiles that `fits` accepts (the one-level form's GBuf staging), best first: the fastest
   * within the cost slack, then the cheapest.
   */
  readonly fitting: readonly ArrayTile[];
  /**
   * The two-level form's: the `cheapest` best tiles and the best of each distinct b, y, x and z,
   * best first; positions along rows and registers single-buffered only (the form's GBuf search
   * scores traffic, not speed).
   */
  readonly diverse: readonly ArrayTile[];
}

/** How {@link arrayTileSets} chooses (see there). */
export interface TileChoice {
  /** The least share of the best efficiency a tile must reach. */
  readonly floor: number;
  /** The one-level form's staging rule: whether a tile's GBuf footprint fits. */
  readonly fits: (t: Tile) => boolean;
  /** How many fitting tiles to keep. */
  readonly tries: number;
  /** How many tiles to keep for the two-level form. */
  readonly cheapest: number;
  /** How far above the cheapest cost a tile may score and still be ranked by speed: `cost <= min + slack * |min|`. */
  readonly slack: number;
  /**
   * The cost at one tile of the layer, as a function of its extents, giving the numbers the
   * search's `cost` gives, and cheap enough to ask at every spread (chen2020's default score:
   * bounds/tile.ts's `tileTrafficOf`). Without it `cost` is asked once per tile (a memo).
   */
  readonly costOf?: (b: number, y: number, x: number, z: number) => number;
  /** Visit every split, including those the efficiency bound rules out (the same sets, slower: the tests' oracle). */
  readonly exhaustive?: boolean;
}

/** `cost` at a tile of `layer` by its extents, asked once per tile: many spreads (variants, splits) make the same tile. */
function memoized(cost: TileCost, layer: ConvLayer, sz: DimRecord): (b: number, y: number, x: number, z: number) => number {
  const costs = new CostMemo();
  return (b, y, x, z) => {
    const key = ((b * (sz.P + 1) + y) * (sz.Q + 1) + x) * (sz.K + 1) + z;
    let c = costs.get(key);
    if (c === undefined) costs.set(key, (c = cost(layer, { b, y, x, z })));
    return c;
  };
}

/**
 * The array tiles of the layer on the architecture (see the file header) whose efficiency is at
 * least `floor` times the best one's. Those whose cost is within `slack` of the cheapest rank
 * fastest first ({@link ArrayTile.speed}: a tile that moves a few per cent more DRAM words may
 * keep many more MACs busy); the others cheapest first. `fitting`: the best `tries` that `fits`
 * accepts; `diverse`: the best `cheapest` by cost, with the best of each extent (variants aside).
 * One pass finds the best efficiency, a second the sets.
 */
export function arrayTileSets(layer: ConvLayer, arch: ArchSpec, cost: TileCost, options: TileChoice): ArrayTileSets {
  const sz = dimSizes(layer);
  const all = arch.array.rows * arch.array.cols;
  const margin = options.exhaustive ? 0 : 1 - 1e-9;
  const top = bestEfficiency(sz, layer, arch, margin); // (splits of fewer PEs than minPes are not visited: see there)
  const minPes = options.floor * top * all * margin;
  const fitting = new Best(options.tries);
  const cheapest = new Best(options.cheapest);
  const perExtent = new BestPerExtent(sz);
  // Tiles within the slack of the cheapest so far (pruned when a cheaper one arrives).
  let least = Infinity;
  let near: ArrayTile[] = [];
  let prune = NEAR_LIMIT;
  const costOf = options.costOf ?? memoized(cost, layer, sz);
  const within = (c: number) => c <= least + options.slack * Math.abs(least);
  // A spread's scores, which the rankings read, before it is made a tile (most are never kept).
  const probe: { -readonly [K in keyof Scores]: Scores[K] } = { cost: 0, speed: 0, efficiency: 0, size: 0, pes: 0 };
  forEachSplit(sz, layer, arch, () => minPes, (split, v, sh) => {
    const [qsp, psp, nsp, krow, ksp] = split;
    // The other variants compete on speed only, within the slack (the base variant's tiles are
    // the fallbacks and the two-level form's).
    const base = !v.transposed && !v.rfDouble;
    for (let i = 0; i < sh.count; i++) {
      const efficiency = sh.at[5 * i + 4]!;
      if (efficiency < options.floor * top) continue;
      const b1 = sh.at[5 * i]!, y1 = sh.at[5 * i + 1]!, x1 = sh.at[5 * i + 2]!, z1 = sh.at[5 * i + 3]!;
      const b = Math.min(sz.N, nsp * b1), y = Math.min(sz.P, psp * y1), x = Math.min(sz.Q, qsp * x1), z = Math.min(sz.K, krow * ksp * z1);
      const tileCost = costOf(b, y, x, z);
      least = Math.min(least, tileCost);
      const inSlack = within(tileCost);
      if (!base && !inSlack) continue;
      const speed = efficiency * stepShare(layer, arch, split, b1, y1, x1, z1, v);
      probe.cost = tileCost;
      probe.speed = speed;
      probe.efficiency = efficiency;
      probe.size = b * y * x * z;
      probe.pes = qsp * psp * nsp * krow * ksp;
      // Which lists it enters, judged on its scores (all a ranking reads).
      let fits = false;
      let cheap = false;
      let anyBetter = false;
      if (base) {
        fits = fitting.admits(probe) && options.fits({ b, y, x, z });
        cheap = cheapest.admits(probe);
        anyBetter = perExtent.judge(probe, b, y, x, z);
      }
      if (!inSlack && !fits && !cheap && !anyBetter) continue;
      const tile: Tile = { b, y, x, z };
      const factors: Factors = { rf: { N: b1, P: y1, Q: x1, K: z1 }, spatial: split, gbuf: {} };
      const c: ArrayTile = { factors, tile, cost: tileCost, size: probe.size, pes: probe.pes, efficiency, speed, transposed: v.transposed, rfDouble: v.rfDouble };
      if (inSlack) near.push(c);
      if (near.length > prune) {
        near = near.filter((t) => within(t.cost));
        prune = Math.max(NEAR_LIMIT, 2 * near.length);
      }
      if (!base) continue;
      if (fits) fitting.add(c);
      if (cheap) cheapest.add(c);
      if (anyBetter) perExtent.add(c);
    }
  });
  const fast = new Best(options.tries, faster);
  for (const c of near) if (within(c.cost) && fast.admits(c) && options.fits(c.tile)) fast.add(c);
  const fits = [...new Set([...fast.list, ...fitting.list])].slice(0, options.tries);
  const diverse = new Set([...cheapest.list, ...perExtent.list()]);
  return { fitting: fits, diverse: [...diverse].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0)) };
}
