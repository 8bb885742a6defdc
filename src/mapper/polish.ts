/**
 * The mapper's polish move: a kept candidate's GBuf level re-sized by the named dataflows' own
 * search over gbuf factors and dram orders (`GbufSearch`, src/dataflow/dataflows/search.ts,
 * steps 5-6), at the candidate's spatial and rf factors and its rf and gbuf loop orders.
 *
 * The DRAM words of a mapping depend only on its GBuf tile (the product of the rf, spatial and
 * gbuf factors per dimension), its dram loop order and its keep flags; the levels below decide
 * legality of the register files and the array. So with the inner levels fixed, `GbufSearch`
 * tries every combination of balanced gbuf factors (`ceil(n / c)` for c = 1, 2, 3, 4, 6, 8, ...)
 * whose GBuf tile fits, in each dram order that keeps one tensor resident (`DRAM_ORDERS`) and in
 * the candidate's own, and returns the one with the fewest DRAM words (then GBuf accesses). The
 * random moves reach such a point one factor at a time, each step scored on its own; the polish
 * reaches it in one evaluation. The search counts DRAM words for a GBuf that keeps every tensor
 * (its closed form assumes it), single- or double-buffered as the candidate is. When the
 * candidate bypasses a tensor at the GBuf, that tensor takes no room in the search's capacity
 * rule, and the winner comes twice: keeping every tensor (illegal if the bypassed tensor's tile
 * does not fit) and with the candidate's keep flags (its DRAM words then differ from what the
 * search counted: a heuristic, not an optimum). The results are candidates like any other,
 * judged by legality and scored by the cost model.
 */
import type { ArchSpec } from "../arch/spec.js";
import { DRAM_ORDERS, compose, type Factors, type Template } from "../dataflow/dataflows/common.js";
import { GbufSearch } from "../dataflow/dataflows/search.js";
import { tensorBytes, type OperandTypes } from "../dataflow/legality.js";
import { KEEP_ALL, type Dim, type Mapping } from "../dataflow/mapping.js";
import { layerTraffic } from "../dataflow/traffic.js";
import type { ConvLayer } from "../workload/layer.js";
import type { Genome } from "./genome.js";

/** The dimensions whose gbuf factor the polish searches (groups stay at the dram level). */
const GROW: readonly Dim[] = ["N", "K", "C", "P", "Q", "R", "S"];

/**
 * The genome's GBuf level re-sized for the fewest DRAM words (file header): one mapping, two
 * when the genome bypasses a tensor at the GBuf, none when not even the smallest GBuf tile fits.
 */
export function polish(g: Genome, layer: ConvLayer, arch: ArchSpec, types: OperandTypes): Mapping[] {
  const t: Template = {
    name: "best",
    spatial: g.spatial.map((s) => ({ dim: s.dim, axis: s.axis })),
    rfOrder: g.rfOrder,
    rfGrow: [],
    gbufOrder: g.gbufOrder,
    gbufGrow: GROW,
    dramOrder: g.dramOrder,
    dramOrders: DRAM_ORDERS,
    gbufKeep: KEEP_ALL,
    rfKeep: KEEP_ALL,
    rfDoubleBuffer: g.rfDoubleBuffer,
    ...(g.rfStream ? { rfStream: g.rfStream } : {}),
  };
  const f: Factors = { rf: { ...g.rf }, spatial: g.spatial.map((s) => s.factor), gbuf: {} };
  // A tensor the candidate bypasses takes no GBuf room in the search's capacity rule.
  const full = tensorBytes(types, arch.gbuf.psumBytes);
  const kept = g.gbufKeep;
  const bytes = { input: kept.input ? full.input : 0, weight: kept.weight ? full.weight : 0, output: kept.output ? full.output : 0 };
  const search = new GbufSearch(t, layerTraffic(layer), arch, bytes, g.gbufDoubleBuffer);
  search.run(f);
  const best = search.best;
  if (!best) return [];
  const composed = compose(t, best.factors, layer, g.gbufDoubleBuffer, best.order);
  // (two accumulator sets come from a seed; legality judges them with the rest)
  const m: Mapping = g.rfDoubleBufferOutput ? { ...composed, rf: { ...composed.rf, doubleBufferOutput: true } } : composed;
  return kept.input && kept.weight && kept.output ? [m] : [m, { ...m, gbuf: { ...m.gbuf, keep: kept } }];
}
