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
 * allow, or one (the finest grain of output channels, for a GBuf tile of few channels that holds
 * a whole reduction). Spatial loops follow mapping.ts's rule that no iteration is empty in a full tile.
 *
 * Each is scored by a `TileCost` (chen2020.ts: by default the DRAM traffic of the paper's
 * schedule at that tile) and by its efficiency, the share of the array's MAC slots it keeps busy;
 * {@link arrayTileSets} keeps the few each form of chen2020 chooses among, without sorting them
 * all (VGG-16 at batch 3 has some 130,000 distinct tiles on the chen2020 preset).
 */
import { rfTensorEntries, type ArchSpec } from "../../arch/spec.js";
import type { Tile } from "../../bounds/tile.js";
import type { ConvLayer } from "../../workload/layer.js";
import { dimSizes, inputSpan, type DimRecord } from "../mapping.js";
import type { Factors } from "./common.js";

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
}

/** Largest f with (split - 1) * f < size (the rule a loop inside a spatial loop of `split` must meet). */
const maxInner = (size: number, split: number): number => (split <= 1 ? size : Math.floor((size - 1) / (split - 1)));

/** A spatial split: [Q_sp, P_sp, N_sp, K_row, K_col]. */
type Split = readonly [number, number, number, number, number];

/** Every spatial split the array allows (see the file header). */
function spatialSplits(sz: DimRecord, arch: ArchSpec): Split[] {
  const rows = arch.array.rows;
  const out: Split[] = [];
  for (let ksp = 1; ksp <= Math.min(sz.K, arch.array.cols); ksp++) {
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

/** Visits one way to spread a tile: a split, a PE's position share (b1, y1, x1) and its channels z1. */
type Visit = (split: Split, b1: number, y1: number, x1: number, z1: number) => void;

/**
 * Visits every per-PE share of every split whose input window and psums fit a PE, with the most
 * channels z1 the partitions allow, and with one.
 */
function forEachShare(sz: DimRecord, layer: ConvLayer, arch: ArchSpec, visit: Visit): void {
  const { input: inputEntries, psum: psumEntries, weight: weightEntries } = rfTensorEntries(arch.rf);
  const [sh, sw] = layer.strides;
  const [dh, dw] = layer.dilations;
  for (const split of spatialSplits(sz, arch)) {
    const [qsp, psp, nsp, krow, ksp] = split;
    const zMax = maxInner(sz.K, krow * ksp);
    for (let b1 = 1; b1 <= Math.min(maxInner(sz.N, nsp), inputEntries, psumEntries); b1++) {
      for (let y1 = 1; y1 <= maxInner(sz.P, psp) && b1 * y1 <= psumEntries && b1 * inputSpan(y1, 1, sh, dh) <= inputEntries; y1++) {
        const rows = b1 * inputSpan(y1, 1, sh, dh);
        for (let x1 = 1; x1 <= maxInner(sz.Q, qsp) && b1 * y1 * x1 <= psumEntries && rows * inputSpan(x1, 1, sw, dw) <= inputEntries; x1++) {
          const most = Math.min(weightEntries, Math.floor(psumEntries / (b1 * y1 * x1)), zMax);
          if (most >= 1) visit(split, b1, y1, x1, most);
          if (most > 1) visit(split, b1, y1, x1, 1);
        }
      }
    }
  }
}

/** The share of the array's MAC slots a spread keeps busy (see {@link ArrayTile.efficiency}). */
function efficiencyOf(sz: DimRecord, pes: number, split: Split, b1: number, y1: number, x1: number, z1: number): number {
  const [qsp, psp, nsp, krow, ksp] = split;
  const steps = Math.ceil(sz.N / (nsp * b1)) * Math.ceil(sz.P / (psp * y1)) * Math.ceil(sz.Q / (qsp * x1)) * Math.ceil(sz.K / (krow * ksp * z1));
  return (sz.N * sz.P * sz.Q * sz.K) / (pes * steps * b1 * y1 * x1 * z1);
}

/** Whether `a` ranks before `b`: cheaper, then more efficient (fewer MAC slots idle), then larger, then more PEs. */
function before(a: ArrayTile, b: ArrayTile): boolean {
  return a.cost !== b.cost ? a.cost < b.cost : a.efficiency !== b.efficiency ? a.efficiency > b.efficiency : a.size !== b.size ? a.size > b.size : a.pes > b.pes;
}

/** A short list of the best tiles by {@link before}, one per tile (its best spread), best first. */
class Best {
  readonly list: ArrayTile[] = [];
  constructor(private readonly length: number) {}

  /** Whether `c` would enter the list. */
  admits(c: ArrayTile): boolean {
    return this.list.length < this.length || before(c, this.list[this.list.length - 1]!);
  }

  add(c: ArrayTile): void {
    const same = this.list.findIndex((x) => x.tile.b === c.tile.b && x.tile.y === c.tile.y && x.tile.x === c.tile.x && x.tile.z === c.tile.z);
    if (same >= 0 && !before(c, this.list[same]!)) return;
    if (same >= 0) this.list.splice(same, 1);
    let i = this.list.length;
    while (i > 0 && before(c, this.list[i - 1]!)) i--;
    this.list.splice(i, 0, c);
    if (this.list.length > this.length) this.list.pop();
  }
}

/** The array tiles each form of chen2020 chooses among (see {@link arrayTileSets}). */
export interface ArrayTileSets {
  /** The cheapest tiles that `fits` accepts (the one-level form's GBuf staging), best first. */
  readonly fitting: readonly ArrayTile[];
  /** The `cheapest` best tiles, and the best of each distinct b, y, x and z (the two-level form's), best first. */
  readonly diverse: readonly ArrayTile[];
}

/**
 * The array tiles of the layer on the architecture (see the file header) whose efficiency is at
 * least `floor` times the best one's, ranked cheapest first (ties: the more efficient, which takes
 * fewer cycles, then the larger): the best `tries` that `fits` accepts, and the best `cheapest`
 * with the best of each distinct extent. One pass finds the best efficiency, a second the sets.
 */
export function arrayTileSets(layer: ConvLayer, arch: ArchSpec, cost: TileCost, options: { floor: number; fits: (t: Tile) => boolean; tries: number; cheapest: number }): ArrayTileSets {
  const sz = dimSizes(layer);
  const all = arch.array.rows * arch.array.cols;
  let top = 0;
  forEachShare(sz, layer, arch, (split, b1, y1, x1, z1) => (top = Math.max(top, efficiencyOf(sz, all, split, b1, y1, x1, z1))));
  const fitting = new Best(options.tries);
  const cheapest = new Best(options.cheapest);
  const perExtent = { b: new Map<number, ArrayTile>(), y: new Map<number, ArrayTile>(), x: new Map<number, ArrayTile>(), z: new Map<number, ArrayTile>() };
  forEachShare(sz, layer, arch, (split, b1, y1, x1, z1) => {
    const efficiency = efficiencyOf(sz, all, split, b1, y1, x1, z1);
    if (efficiency < options.floor * top) return;
    const [qsp, psp, nsp, krow, ksp] = split;
    const tile: Tile = { b: Math.min(sz.N, nsp * b1), y: Math.min(sz.P, psp * y1), x: Math.min(sz.Q, qsp * x1), z: Math.min(sz.K, krow * ksp * z1) };
    const factors: Factors = { rf: { N: b1, P: y1, Q: x1, K: z1 }, spatial: split, gbuf: {} };
    const c: ArrayTile = { factors, tile, cost: cost(layer, tile), size: tile.b * tile.y * tile.x * tile.z, pes: qsp * psp * nsp * krow * ksp, efficiency };
    if (fitting.admits(c) && options.fits(tile)) fitting.add(c);
    if (cheapest.admits(c)) cheapest.add(c);
    for (const k of ["b", "y", "x", "z"] as const) {
      const seen = perExtent[k].get(tile[k]);
      if (!seen || before(c, seen)) perExtent[k].set(tile[k], c);
    }
  });
  const diverse = new Set([...cheapest.list, ...Object.values(perExtent).flatMap((m) => [...m.values()])]);
  return { fitting: fitting.list, diverse: [...diverse].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0)) };
}
