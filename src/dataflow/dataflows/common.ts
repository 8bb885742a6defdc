/**
 * What every named dataflow shares: its options, the loop-nest template (which dimension goes
 * where, in which order), the composition of a template at given factors into a Mapping, and the
 * greedy fit that chen2020 falls back to ({@link fitTemplate}). The search that ws, os, is and rs
 * use, and that chen2020 uses for its GBuf tile, is in search.ts; the balanced splits every
 * builder ends with are in balance.ts.
 *
 * A template fixes the structure of a dataflow: the spatial loops (dimension and axis, outermost
 * first), the loop order at the rf and gbuf levels, the dram loop orders allowed, which factors
 * may grow, and the keep / double-buffer flags. What is spatial and what stays in the registers
 * (the dataflow's identity) is the template's; the search only sizes the factors and picks one of
 * the allowed dram orders.
 *
 * The greedy fit: start from the smallest tiles (every factor 1 below DRAM; if they are not
 * legal, throw a ConfigError naming the rule that fails), fill the array (each spatial slot in
 * order takes its largest legal factor), then grow the rf factors and then the gbuf factors:
 * first round robin, doubling each knob in priority order while the mapping stays legal, then
 * knob by knob to the largest legal factor (binary search; every legality rule is monotone in a
 * single factor, so the legal factors form a prefix). The dram factors are the remainders, in the
 * template's `dramOrder`; the splits are then balanced (balance.ts: the same number of tiles,
 * each as small as the factors allow, which never breaks legality).
 */
import { ConfigError } from "../../core/errors.js";
import type { ArchSpec } from "../../arch/spec.js";
import type { ConvLayer } from "../../workload/layer.js";
import { checkMapping, type Legality, type OperandTypes } from "../legality.js";
import { dimSizes, DIMS, mapping, type Axis, type Dim, type DimRecord, type KeepFlags, type Mapping, type SpatialLoop, type TemporalLoop } from "../mapping.js";
import { finishMapping } from "./balance.js";
import type { FoldSpec } from "./fold.js";

/** Options every named dataflow accepts. */
export interface DataflowOptions {
  /** Operand types the mapping must fit (default int16 for both: then it fits every type). */
  readonly types?: OperandTypes;
  /**
   * Double-buffer the GBuf (prefetch the next DRAM tile while the current one is used). Default
   * true; chen2020, when this is absent, also tries a single-buffered GBuf for its two-level form
   * (a double-buffered GBuf doubles the output tile it keeps).
   */
  readonly doubleBuffer?: boolean;
  /**
   * Flatten dimensions over the array where a systolic template folds them (fold.ts; SCALE-Sim's
   * folds). Default true; false gives the search's mapping as it is, with no fused group (the
   * mapper's seeds: its search space has none).
   */
  readonly fold?: boolean;
}

/**
 * Checks the flags of {@link DataflowOptions} at a dataflow's entry.
 * @throws ConfigError naming `options.doubleBuffer` or `options.fold` when it is set to anything but a boolean.
 */
export function checkDataflowFlags(options: DataflowOptions): void {
  for (const k of ["doubleBuffer", "fold"] as const) {
    const v: unknown = options[k];
    if (v !== undefined && typeof v !== "boolean") throw new ConfigError(`options.${k}`, v, "be true or false");
  }
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
  /** Two accumulator sets where the psum partition holds the rf output tile twice (mapping.rf.doubleBufferOutput; search.ts). Default false. */
  readonly rfDoubleBufferOutput?: boolean;
  /** Dimensions flattened over an axis after the search, where that takes fewer folds (fold.ts; SCALE-Sim's folds). Default none. */
  readonly fold?: readonly FoldSpec[];
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
export function innerProduct(t: Template, f: Factors, dim: Dim): number {
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
export function largest(lo: number, hi: number, ok: (v: number) => boolean): number {
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (ok(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Steps 1 and 2 of both procedures: the smallest tiles, legal, and the array filled. */
export function fillArray(t: Template, sizes: DimRecord, arch: ArchSpec, check: (f: Factors) => Legality, start?: Factors): Factors {
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
  return finishMapping(compose(t, f, layer, db), layer, arch, options.types ?? {});
}

/** Declares a template (frozen; typed so its dimension names are checked). */
export function defineTemplate(t: Template): Template {
  return Object.freeze(t);
}
