/**
 * `chen2020`, the communication-optimal dataflow of Chen, Han & Wang, "Communication Lower Bound
 * in Convolution Accelerators" (HPCA 2020, arXiv 1911.05662), on convsim's PE array.
 *
 * The paper's off-chip schedule (our reading; the same schedule as the bounds module's attainable
 * model, src/bounds/tile.ts): an output tile of b x y x x x z partial sums (images x rows x columns
 * x output channels of one group) stays on chip while the input channels stream; for each channel
 * the input slice the tile reads (with its halo) and the z*kH*kW weights are brought in, used and
 * dropped; the tile's outputs leave once, complete. Partial sums never travel between the global
 * buffer and the registers except that final drain.
 *
 * As a loop nest:
 * - dram: `G, N, K, P, Q` over output tiles, then `C` innermost: one GBuf tile is one input
 *   channel's slice and weights, prefetched (double-buffered) while the previous one computes.
 * - gbuf: `R, S` (the channel's kernel taps); the GBuf keeps inputs and weights and bypasses
 *   outputs: partial sums live only in the PEs' registers.
 * - spatial: output positions across PE rows (Q, then P, then N), output channels K across PE
 *   columns: for one (channel, tap) the array computes an outer product, each input broadcast
 *   along its row, each weight along its column. Rows the positions leave free take more output
 *   channels (K on both axes: an FC layer's z channels fill the whole array and its input is
 *   broadcast to every PE). No reduction is spatial.
 * - rf: each PE's share of the output tile (`N, P, Q, K`: b' x y' x x' x z' psums); for a tap it
 *   holds b'y'x' inputs and z' weights and does b'y'x'z' MACs.
 * So the output tile is b = N_sp*b', y = P_sp*y', x = Q_sp*x', z = K_sp*z', and the partial sums
 * may use every PE's psum registers (rows x cols x psumEntries int32 words); the GBuf holds only
 * the staged channel. The GBuf tile's footprint is exactly the model's staging footprint.
 *
 * The tile: every (spatial split, per-PE split) the array and the RF partitions allow is scored
 * by `tileCost` (default: the bounds module's exact traffic of the paper's schedule at that tile,
 * `tilePlan(...).traffic.total`, halos, padding and ceilings counted); the cheapest whose mapping
 * is legal wins (ties: the larger tile), and its splits are balanced (balance.ts). `tileCost` is
 * the swap point for another tile search.
 * If no such tile is legal (a GBuf too small for one channel's slice at the full kernel), the
 * template is fitted greedily instead, kernel rows and columns then move to the dram level.
 */
import type { ArchSpec } from "../../arch/spec.js";
import { tileBudget, tilePlan, type Tile } from "../../bounds/tile.js";
import type { ConvLayer } from "../../workload/layer.js";
import { bytes as toBytes } from "../../core/units.js";
import { checkMapping } from "../legality.js";
import { dimSizes, KEEP_ALL, tileExtents, type Mapping } from "../mapping.js";
import { balanceMapping } from "./balance.js";
import { compose, defineTemplate, fitTemplate, type DataflowOptions, type Factors, type Template } from "./common.js";

/** Scores a candidate output tile: lower is better. */
export type TileCost = (layer: ConvLayer, tile: Tile) => number;

/** Options of {@link chen2020}. */
export interface Chen2020Options extends DataflowOptions {
  /** The tile score (default {@link attainableTraffic}). */
  readonly tileCost?: TileCost;
}

/** The default tile score: the DRAM traffic of the paper's schedule at that tile, from src/bounds. */
export const attainableTraffic: TileCost = (layer, tile) => tilePlan(layer, tile, WORDS_BUDGET).traffic.total;

/** Any budget: the traffic of a tile does not depend on it. */
const WORDS_BUDGET = tileBudget(1);

/** The loop-nest template of `chen2020` (see the file header). */
export const CHEN2020_TEMPLATE: Template = defineTemplate({
  name: "chen2020",
  spatial: [
    { dim: "Q", axis: "row" },
    { dim: "P", axis: "row" },
    { dim: "N", axis: "row" },
    { dim: "K", axis: "row" },
    { dim: "K", axis: "col" },
  ],
  rfOrder: ["N", "P", "Q", "K"],
  rfGrow: ["K", "Q", "P", "N"],
  gbufOrder: ["C", "R", "S"],
  gbufGrow: ["S", "R"],
  dramOrder: ["G", "N", "K", "P", "Q", "C", "R", "S"],
  gbufKeep: Object.freeze({ input: true, weight: true, output: false }),
  rfKeep: KEEP_ALL,
});

/** The output tile (b, x, y, z) of a chen2020-shaped mapping: the N, Q, P, K extents of its GBuf tile. */
export function chen2020Tile(m: Mapping, layer: ConvLayer): Tile {
  const e = tileExtents(m, layer, "gbuf");
  return { b: e.N, x: e.Q, y: e.P, z: e.K };
}

/** Largest f with (split - 1) * f < size (the rule a loop inside a spatial loop of `split` must meet). */
const maxInner = (size: number, split: number): number => (split <= 1 ? size : Math.floor((size - 1) / (split - 1)));

interface Candidate {
  readonly factors: Factors;
  readonly tile: Tile;
  readonly cost: number;
  readonly size: number;
  readonly stagingBytes: number;
}

/**
 * Builds the chen2020 mapping of a layer (see the file header).
 * @throws ConfigError when not even the smallest tiles fit the architecture.
 */
export function chen2020(layer: ConvLayer, arch: ArchSpec, options: Chen2020Options = {}): Mapping {
  const t = CHEN2020_TEMPLATE;
  const sz = dimSizes(layer);
  const db = options.doubleBuffer ?? true;
  const cost = options.tileCost ?? attainableTraffic;
  const rows = arch.array.rows;
  const cols = arch.array.cols;
  const { inputEntries, weightEntries, psumEntries } = arch.rf;
  // The GBuf's staging footprint per tile is the model's: (input slice + z*R*S weights) x staging.
  const staging = tileBudget(
    { unit: "bytes", value: toBytes(arch.gbuf.capacityBytes) },
    { input: options.types?.input ?? "int16", weight: options.types?.weight ?? "int16" },
    db ? "double" : "single",
  );

  const seen = new Map<number, Candidate>();
  const candidates: Candidate[] = [];
  for (let ksp = 1; ksp <= Math.min(sz.K, cols); ksp++) {
    for (let qsp = 1; qsp <= Math.min(sz.Q, rows); qsp++) {
      for (let psp = 1; psp <= Math.min(sz.P, Math.floor(rows / qsp)); psp++) {
        for (let nsp = 1; nsp <= Math.min(sz.N, Math.floor(rows / (qsp * psp))); nsp++) {
          // Rows the output positions leave free hold more output channels (K on both axes: the
          // output tile's z channels spread over the whole array, e.g. for FC layers).
          const spare = Math.floor(rows / (qsp * psp * nsp));
          for (const krow of spare > 1 ? [1, spare] : [1]) {
          if (krow * ksp > sz.K && krow > 1) continue;
          const perPe = Math.min(inputEntries, psumEntries);
          for (let b1 = 1; b1 <= Math.min(maxInner(sz.N, nsp), perPe); b1++) {
            for (let y1 = 1; y1 <= Math.min(maxInner(sz.P, psp), Math.floor(perPe / b1)); y1++) {
              for (let x1 = 1; x1 <= Math.min(maxInner(sz.Q, qsp), Math.floor(perPe / (b1 * y1))); x1++) {
                const m1 = b1 * y1 * x1;
                const z1 = Math.min(weightEntries, Math.floor(psumEntries / m1), maxInner(sz.K, krow * ksp));
                if (z1 < 1) continue;
                const b = Math.min(sz.N, nsp * b1);
                const y = Math.min(sz.P, psp * y1);
                const x = Math.min(sz.Q, qsp * x1);
                const z = Math.min(sz.K, krow * ksp * z1);
                const key = ((b * (sz.P + 1) + y) * (sz.Q + 1) + x) * (sz.K + 1) + z;
                if (seen.has(key)) continue;
                const tile: Tile = { b, y, x, z };
                const plan = tilePlan(layer, tile, staging);
                const c: Candidate = {
                  factors: { rf: { N: b1, P: y1, Q: x1, K: z1 }, spatial: [qsp, psp, nsp, krow, ksp], gbuf: { R: sz.R, S: sz.S } },
                  tile,
                  // (the default score is this plan's traffic, which does not depend on the budget)
                  cost: cost === attainableTraffic ? plan.traffic.total : cost(layer, tile),
                  size: tile.b * tile.y * tile.x * tile.z,
                  stagingBytes: plan.footprint.input + plan.footprint.weight,
                };
                seen.set(key, c);
                if (c.stagingBytes <= arch.gbuf.capacityBytes) candidates.push(c);
              }
            }
          }
          }
        }
      }
    }
  }
  candidates.sort((a, b) => a.cost - b.cost || b.size - a.size);
  for (const c of candidates) {
    const m = compose(t, c.factors, layer, db);
    if (checkMapping(m, layer, arch, { types: options.types ?? {} }).ok) return balanceMapping(m, layer, arch, options.types ?? {});
  }
  // No tile keeps the whole kernel in the GBuf: fit greedily (kernel loops may go to dram).
  return fitTemplate(t, layer, arch, options);
}
