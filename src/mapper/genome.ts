/**
 * The mapper's point in the search space (a {@link Genome}) and its translation to and from a
 * Mapping (src/dataflow/mapping.ts). A genome fixes, for every one of the eight dimensions, its
 * factor at the rf and gbuf levels and its spatial loops (several dimensions per array axis
 * allowed, one loop per dimension and axis, as the IR allows), the loop orders of the dram, gbuf
 * and rf levels (each a permutation of all eight dimensions: loops of factor 1 are left out),
 * the GBuf's keep flags, both levels' double buffering, and the streamed tensors (kept from a
 * seed; the mapper never adds one). The dram factors are not part of the genome: each is the
 * remainder `ceil(size / (rf x spatial x gbuf))`, the only value the coverage rule allows.
 *
 * {@link normalize} clamps a genome into the IR's coverage rule (no loop with an iteration that
 * is empty even in a full tile: every factor at most the tiles left by the levels inside it) and
 * the array's shape (the spatial factors of an axis multiply to at most its PEs), so that every
 * genome maps to a well-formed Mapping whatever a mutation did; the other rules (capacities,
 * reduction paths, streaming) are legality's (src/dataflow/legality.ts) and filter candidates.
 */
import type { ArchSpec } from "../arch/spec.js";
import { InvariantError } from "../core/errors.js";
import { dimSizes, DIMS, KEEP_ALL, type Axis, type Dim, type DimRecord, type KeepFlags, type Mapping, type SpatialLoop, type TemporalLoop } from "../dataflow/mapping.js";
import type { ConvLayer } from "../workload/layer.js";

/** One spatial loop of a genome. */
export interface SpatialGene {
  readonly dim: Dim;
  readonly axis: Axis;
  readonly factor: number;
}

/** A point of the search space (see the file header). Plain data; treat as immutable. */
export interface Genome {
  /** rf factor per dimension (1 for none). */
  readonly rf: DimRecord;
  /** gbuf factor per dimension (1 for none). */
  readonly gbuf: DimRecord;
  /** Spatial loops, outermost first. */
  readonly spatial: readonly SpatialGene[];
  /** Loop orders, outermost first, each a permutation of the eight dimensions. */
  readonly dramOrder: readonly Dim[];
  readonly gbufOrder: readonly Dim[];
  readonly rfOrder: readonly Dim[];
  readonly gbufKeep: KeepFlags;
  readonly gbufDoubleBuffer: boolean;
  readonly rfDoubleBuffer: boolean;
  /** Streamed tensors (mapping.rf.stream), from a seed only. */
  readonly rfStream?: KeepFlags;
  /** Two accumulator sets (mapping.rf.doubleBufferOutput), from a seed only. */
  readonly rfDoubleBufferOutput?: true;
}

/** A DimRecord of ones. */
export const ONES: DimRecord = Object.freeze({ N: 1, G: 1, K: 1, C: 1, P: 1, Q: 1, R: 1, S: 1 });

/** A permutation of every dimension beginning with `first` (in its order), the rest in canonical order. */
export function completeOrder(first: readonly Dim[]): Dim[] {
  return [...first, ...DIMS.filter((d) => !first.includes(d))];
}

/** The product of the spatial factors of `dim`. */
export function spatialProduct(spatial: readonly SpatialGene[], dim: Dim): number {
  let p = 1;
  for (const s of spatial) if (s.dim === dim) p *= s.factor;
  return p;
}

/** The genome of a mapping (factors per level, orders completed with the missing dimensions). */
export function genomeOf(m: Mapping): Genome {
  if (m.fuse) throw new InvariantError("mapper.genomeOf", "a genome has no fused groups; seed the mapper with an unfolded mapping (DataflowOptions.fold false)");
  const factors = (loops: readonly TemporalLoop[]): DimRecord => {
    const f: Record<Dim, number> = { ...ONES };
    for (const l of loops) f[l.dim] = l.factor;
    return Object.freeze(f);
  };
  return Object.freeze({
    rf: factors(m.rf.loops),
    gbuf: factors(m.gbuf.loops),
    spatial: Object.freeze(m.spatial.loops.map((l) => Object.freeze({ dim: l.dim, axis: l.axis, factor: l.factor }))),
    dramOrder: Object.freeze(completeOrder(m.dram.loops.map((l) => l.dim))),
    gbufOrder: Object.freeze(completeOrder(m.gbuf.loops.map((l) => l.dim))),
    rfOrder: Object.freeze(completeOrder(m.rf.loops.map((l) => l.dim))),
    gbufKeep: m.gbuf.keep,
    gbufDoubleBuffer: m.gbuf.doubleBuffer,
    rfDoubleBuffer: m.rf.doubleBuffer,
    ...(m.rf.stream ? { rfStream: m.rf.stream } : {}),
    ...(m.rf.doubleBufferOutput ? { rfDoubleBufferOutput: true as const } : {}),
  });
}

/**
 * Clamps a genome into the coverage rule and the array's shape (file header): rf factors at most
 * the size; spatial loops of factor 1 dropped, one per dimension and axis (the first kept), each
 * axis's product within the array (the last loops of an axis shrink first), each spatial factor
 * at most the tiles its inner loops leave; gbuf factors likewise.
 */
export function normalize(g: Genome, sizes: DimRecord, arch: ArchSpec): Genome {
  const rf: Record<Dim, number> = { ...ONES };
  for (const d of DIMS) rf[d] = clamp(g.rf[d], 1, sizes[d]);
  const seen = new Set<string>();
  let spatial = g.spatial.filter((s) => {
    const key = `${s.dim}/${s.axis}`;
    if (s.factor <= 1 || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  spatial = fitAxes(spatial, arch);
  // Coverage of the spatial loops, innermost (last listed) first: at most the tiles left inside.
  const inner: Record<Dim, number> = { ...rf };
  const clipped: SpatialGene[] = [];
  for (let i = spatial.length - 1; i >= 0; i--) {
    const s = spatial[i]!;
    const f = Math.min(s.factor, Math.ceil(sizes[s.dim] / inner[s.dim]));
    if (f > 1) clipped.unshift({ dim: s.dim, axis: s.axis, factor: f });
    inner[s.dim] *= f;
  }
  const gbuf: Record<Dim, number> = { ...ONES };
  for (const d of DIMS) gbuf[d] = clamp(g.gbuf[d], 1, Math.ceil(sizes[d] / inner[d]));
  return Object.freeze({ ...g, rf: Object.freeze(rf), gbuf: Object.freeze(gbuf), spatial: Object.freeze(clipped) });
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, Math.floor(v)));
}

/** Shrinks the last spatial loops of an over-full axis until the axis fits the array. */
function fitAxes(spatial: SpatialGene[], arch: ArchSpec): SpatialGene[] {
  const out = spatial.map((s) => ({ ...s }));
  for (const axis of ["row", "col"] as const) {
    const cap = axis === "row" ? arch.array.rows : arch.array.cols;
    const idx = out.map((s, i) => (s.axis === axis ? i : -1)).filter((i) => i >= 0);
    let product = idx.reduce((p, i) => p * out[i]!.factor, 1);
    for (let j = idx.length - 1; j >= 0 && product > cap; j--) {
      const s = out[idx[j]!]!;
      const others = product / s.factor;
      s.factor = Math.max(1, Math.floor(cap / others));
      product = others * s.factor;
    }
  }
  return out.filter((s) => s.factor > 1);
}

/**
 * The Mapping of a (normalized) genome: the dram factors are the remainders, loops of factor 1
 * are left out, the rf level keeps every tensor (the simulated PE reads its operands from its
 * register file). Built without validation: `checkMapping` (legality.ts) judges it.
 */
export function toMapping(g: Genome, layer: ConvLayer, name = "best"): Mapping {
  const sizes = dimSizes(layer);
  const temporal = (order: readonly Dim[], f: (d: Dim) => number): TemporalLoop[] =>
    order.filter((d) => f(d) > 1).map((d) => Object.freeze({ dim: d, factor: f(d) }));
  const dram = (d: Dim) => Math.ceil(sizes[d] / (g.rf[d] * g.gbuf[d] * spatialProduct(g.spatial, d)));
  const spatial: SpatialLoop[] = g.spatial.map((s) => Object.freeze({ dim: s.dim, factor: s.factor, axis: s.axis }));
  return Object.freeze({
    name,
    dram: Object.freeze({ loops: Object.freeze(temporal(g.dramOrder, dram)) }),
    gbuf: Object.freeze({ loops: Object.freeze(temporal(g.gbufOrder, (d) => g.gbuf[d])), keep: g.gbufKeep, doubleBuffer: g.gbufDoubleBuffer }),
    spatial: Object.freeze({ loops: Object.freeze(spatial) }),
    rf: Object.freeze({
      loops: Object.freeze(temporal(g.rfOrder, (d) => g.rf[d])),
      keep: KEEP_ALL,
      doubleBuffer: g.rfDoubleBuffer,
      ...(g.rfStream ? { stream: g.rfStream } : {}),
      ...(g.rfDoubleBufferOutput ? { doubleBufferOutput: true } : {}),
    }),
  });
}

/** A key that identifies a mapping's loops and flags (for de-duplication). */
export function mappingKey(m: Mapping): string {
  const loops = (ls: readonly { dim: Dim; factor: number; axis?: Axis }[]) => ls.map((l) => `${l.dim}${l.axis === "col" ? "'" : ""}${l.factor}`).join(",");
  const flags = (k: KeepFlags | undefined) => (k ? `${+k.input}${+k.weight}${+k.output}` : "-");
  return `${loops(m.dram.loops)}|${loops(m.gbuf.loops)}|${loops(m.spatial.loops)}|${loops(m.rf.loops)}|${flags(m.gbuf.keep)}${+m.gbuf.doubleBuffer}${+m.rf.doubleBuffer}${+(m.rf.doubleBufferOutput ?? false)}${flags(m.rf.stream)}`;
}
