/**
 * What every named dataflow shares: its options, and the fitting procedure that turns a loop-nest
 * template (which dimension goes where, in which order) into a legal Mapping for one layer and
 * one architecture.
 *
 * A template fixes the structure of a dataflow: the spatial loops (dimension and axis, outermost
 * first), the loop order at the rf, gbuf and dram levels, which factors may grow and in what
 * priority, and the keep / double-buffer flags. Fitting starts from the smallest tiles (every
 * factor 1 below DRAM, the dram loops covering the layer), fills the array (each spatial slot in
 * order takes the largest legal factor), then grows the rf factors and then the gbuf factors:
 * first round robin, doubling each knob in priority order while the mapping stays legal (so the
 * tile grows evenly, not along one dimension), then knob by knob to the largest legal factor
 * (binary search; every legality rule is monotone in a single factor, so the legal factors form a
 * prefix, and a step is taken only after it is checked legal). The dram factors are always the
 * remainder `ceil(size / inner)`. Gbuf factors are then balanced: the same number of tiles with
 * the smallest tile (`ceil(n / ceil(n / f))`), which never breaks legality. Loops of factor 1 are
 * left out of the result. The result is legal by construction; when even the smallest tiles do
 * not fit, the dataflow throws a ConfigError naming the rule that fails.
 */
import { ConfigError } from "../../core/errors.js";
import type { ArchSpec } from "../../arch/spec.js";
import type { ConvLayer } from "../../workload/layer.js";
import { checkMapping, type Legality, type OperandTypes } from "../legality.js";
import { dimSizes, DIMS, mapping, type Axis, type Dim, type DimRecord, type KeepFlags, type Mapping, type SpatialLoop, type TemporalLoop } from "../mapping.js";

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
  /** rf loop order, outermost first, and the rf factors that may grow, in priority order. */
  readonly rfOrder: readonly Dim[];
  readonly rfGrow: readonly Dim[];
  /** gbuf loop order, outermost first, and the gbuf factors that may grow, in priority order. */
  readonly gbufOrder: readonly Dim[];
  readonly gbufGrow: readonly Dim[];
  /** dram loop order, outermost first (must list every dimension). */
  readonly dramOrder: readonly Dim[];
  readonly gbufKeep: KeepFlags;
  readonly rfKeep: KeepFlags;
}

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

/** Builds the Mapping of a template at given factors (dram factors = the remainder). */
export function compose(t: Template, f: Factors, layer: ConvLayer, doubleBuffer: boolean): Mapping {
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
    dram: { loops: temporal(t.dramOrder, dram) },
    gbuf: { loops: temporal(t.gbufOrder, f.gbuf), keep: t.gbufKeep, doubleBuffer },
    spatial: { loops: spatial },
    rf: { loops: temporal(t.rfOrder, f.rf), keep: t.rfKeep, doubleBuffer: false },
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

/**
 * Fits a template to a layer and an architecture (see the file header), starting from `start`
 * factors (default all 1).
 * @throws ConfigError when the starting factors are not legal.
 */
export function fitTemplate(t: Template, layer: ConvLayer, arch: ArchSpec, options: DataflowOptions = {}, start?: Factors): Mapping {
  const sizes: DimRecord = dimSizes(layer);
  const db = options.doubleBuffer ?? true;
  const check = (f: Factors): Legality => checkMapping(compose(t, f, layer, db), layer, arch, { types: options.types ?? {} });
  let f: Factors = start ?? { rf: {}, spatial: t.spatial.map(() => 1), gbuf: {} };
  const first = check(f);
  if (!first.ok) throw cannotFit(t.name, arch, first);
  const legal = (g: Factors): boolean => check(g).ok;

  t.spatial.forEach((s, i) => {
    const cap = s.axis === "row" ? arch.array.rows : arch.array.cols;
    const with_ = (v: number): Factors => ({ ...f, spatial: f.spatial.map((x, j) => (j === i ? v : x)) });
    const v = largest(f.spatial[i] ?? 1, Math.min(cap, sizes[s.dim]), (x) => legal(with_(x)));
    f = with_(v);
  });
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

/** Declares a template (frozen; typed so its dimension names are checked). */
export function defineTemplate(t: Template): Template {
  return Object.freeze(t);
}
