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

/** Visits one way to spread a tile: a split, a PE's position share (b1, y1, x1) and its channels z1, in a variant. */
type Visit = (split: Split, b1: number, y1: number, x1: number, z1: number, v: Variant) => void;

/** The variants of an array: both orientations unless it is square, each single- and double-buffered. */
function variants(arch: ArchSpec): Variant[] {
  const out: Variant[] = [];
  for (const transposed of arch.array.rows === arch.array.cols ? [false] : [false, true]) {
    for (const rfDouble of [false, true]) out.push({ transposed, rfDouble });
  }
  return out;
}

/**
 * Visits every per-PE share of every split, in every variant, whose input window and psums fit a
 * PE, with the most channels z1 the partitions allow, and with one.
 */
function forEachShare(sz: DimRecord, layer: ConvLayer, arch: ArchSpec, visit: Visit, minPes: () => number = () => 0): void {
  for (const v of variants(arch)) {
    const { rows, cols } = arch.array;
    for (const split of spatialSplits(sz, v.transposed ? cols : rows, v.transposed ? rows : cols)) {
      if (split[0] * split[1] * split[2] * split[3] * split[4] >= minPes()) forEachShareOf(split, sz, layer, arch, v, visit);
    }
  }
}

/** {@link forEachShare} for one split and variant (a double-buffered operand has half its partition). */
function forEachShareOf(split: Split, sz: DimRecord, layer: ConvLayer, arch: ArchSpec, v: Variant, visit: Visit): void {
  const entries = rfTensorEntries(arch.rf);
  const psumEntries = entries.psum;
  const inputEntries = v.rfDouble ? Math.floor(entries.input / 2) : entries.input;
  const weightEntries = v.rfDouble ? Math.floor(entries.weight / 2) : entries.weight;
  const [sh, sw] = layer.strides;
  const [dh, dw] = layer.dilations;
  const [qsp, psp, nsp, krow, ksp] = split;
  const lines = krow * ksp;
  const zMax = maxInner(sz.K, lines);
  for (let b1 = 1; b1 <= Math.min(maxInner(sz.N, nsp), inputEntries, psumEntries); b1++) {
    for (let y1 = 1; y1 <= maxInner(sz.P, psp) && b1 * y1 <= psumEntries && b1 * inputSpan(y1, 1, sh, dh) <= inputEntries; y1++) {
      const rows = b1 * inputSpan(y1, 1, sh, dh);
      for (let x1 = 1; x1 <= maxInner(sz.Q, qsp) && b1 * y1 * x1 <= psumEntries && rows * inputSpan(x1, 1, sw, dw) <= inputEntries; x1++) {
        const most = Math.min(weightEntries, Math.floor(psumEntries / (b1 * y1 * x1)), zMax);
        if (most < 1) continue;
        visit(split, b1, y1, x1, most, v);
        // As few channels as cover K in as many tiles as `most` does (fewer idle MAC slots).
        const even = Math.ceil(sz.K / (lines * Math.ceil(sz.K / (lines * most))));
        if (even < most && even > 1) visit(split, b1, y1, x1, even, v);
        if (most > 1) visit(split, b1, y1, x1, 1, v);
      }
    }
  }
}

/** The share of the array's MAC slots a spread keeps busy (see {@link ArrayTile.efficiency}). */
function efficiencyOf(sz: DimRecord, pes: number, split: Split, b1: number, y1: number, x1: number, z1: number): number {
  // (indexed, not destructured: this runs for every spread, twice)
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
 * The best efficiency of any spread of the layer on the array. A spread's efficiency is at most its
 * split's PEs over the array's (its steps cover the layer: steps * b1*y1*x1*z1 >= N*P*Q*K / PEs),
 * so a split of fewer PEs than the best so far times the array's cannot raise it, and in
 * {@link arrayTileSets}' pass one of fewer than the floor's share of the best has no spread above
 * the floor: neither is visited (`margin`, a hair below 1, against rounding; 0 visits every split).
 */
function bestEfficiency(sz: DimRecord, layer: ConvLayer, arch: ArchSpec, margin: number): number {
  const all = arch.array.rows * arch.array.cols;
  let top = 0;
  forEachShare(sz, layer, arch, (split, b1, y1, x1, z1) => (top = Math.max(top, efficiencyOf(sz, all, split, b1, y1, x1, z1))), () => top * all * margin);
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
  /** Visit every split, including those the efficiency bound rules out (the same sets, slower: the tests' oracle). */
  readonly exhaustive?: boolean;
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
  // The best tile of each extent, per kind (b, y, x, z), indexed by the extent; `order` lists
  // each kind's extents as first seen (the order the diverse set is assembled in).
  const perExtent = [sz.N, sz.P, sz.Q, sz.K].map((most) => ({ best: new Array<ArrayTile | undefined>(most + 1).fill(undefined), order: [] as number[] }));
  // Tiles within the slack of the cheapest so far (pruned when a cheaper one arrives).
  let least = Infinity;
  let near: ArrayTile[] = [];
  let prune = NEAR_LIMIT;
  // Many spreads (variants, splits) make the same tile: its cost once.
  const costs = new CostMemo();
  const within = (c: number) => c <= least + options.slack * Math.abs(least);
  // A spread's scores, which the rankings read, before it is made a tile (most are never kept).
  const probe: { -readonly [K in keyof Scores]: Scores[K] } = { cost: 0, speed: 0, efficiency: 0, size: 0, pes: 0 };
  const better = [false, false, false, false];
  forEachShare(sz, layer, arch, (split, b1, y1, x1, z1, v) => {
    const efficiency = efficiencyOf(sz, all, split, b1, y1, x1, z1);
    if (efficiency < options.floor * top) return;
    const [qsp, psp, nsp, krow, ksp] = split;
    const b = Math.min(sz.N, nsp * b1), y = Math.min(sz.P, psp * y1), x = Math.min(sz.Q, qsp * x1), z = Math.min(sz.K, krow * ksp * z1);
    const key = ((b * (sz.P + 1) + y) * (sz.Q + 1) + x) * (sz.K + 1) + z;
    let tileCost = costs.get(key);
    if (tileCost === undefined) costs.set(key, (tileCost = cost(layer, { b, y, x, z })));
    least = Math.min(least, tileCost);
    // The other variants compete on speed only, within the slack (the base variant's tiles are
    // the fallbacks and the two-level form's).
    const base = !v.transposed && !v.rfDouble;
    const inSlack = within(tileCost);
    if (!base && !inSlack) return;
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
      for (let k = 0; k < 4; k++) {
        const seen = perExtent[k]!.best[k === 0 ? b : k === 1 ? y : k === 2 ? x : z];
        better[k] = !seen || before(probe, seen);
        anyBetter ||= better[k]!;
      }
    }
    if (!inSlack && !fits && !cheap && !anyBetter) return;
    const tile: Tile = { b, y, x, z };
    const factors: Factors = { rf: { N: b1, P: y1, Q: x1, K: z1 }, spatial: split, gbuf: {} };
    const c: ArrayTile = { factors, tile, cost: tileCost, size: probe.size, pes: probe.pes, efficiency, speed, transposed: v.transposed, rfDouble: v.rfDouble };
    if (inSlack) near.push(c);
    if (near.length > prune) {
      near = near.filter((t) => within(t.cost));
      prune = Math.max(NEAR_LIMIT, 2 * near.length);
    }
    if (!base) return;
    if (fits) fitting.add(c);
    if (cheap) cheapest.add(c);
    for (let k = 0; k < 4; k++) {
      if (!better[k]) continue;
      const e = perExtent[k]!;
      const at = k === 0 ? b : k === 1 ? y : k === 2 ? x : z;
      if (!e.best[at]) e.order.push(at);
      e.best[at] = c;
    }
  }, () => minPes);
  const fast = new Best(options.tries, faster);
  for (const c of near) if (within(c.cost) && fast.admits(c) && options.fits(c.tile)) fast.add(c);
  const fits = [...new Set([...fast.list, ...fitting.list])].slice(0, options.tries);
  const diverse = new Set([...cheapest.list, ...perExtent.flatMap((e) => e.order.map((at) => e.best[at]!))]);
  return { fitting: fits, diverse: [...diverse].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0)) };
}
