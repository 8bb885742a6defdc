/**
 * The mapper's moves through the search space: a seeded random stream ({@link Rng}), a random
 * genome ({@link randomGenome}) and the mutations of a genome ({@link mutate}). Every draw comes
 * from the stream, so a seed fixes the whole sequence of candidates (given the same scores).
 *
 * Factor values: at a level whose inner levels leave n tiles of a dimension, the useful factors
 * are `ceil(n / c)` for c = 1 .. n (each gives a different number of tiles above; the rest are
 * imperfect factors that cover the same tiles with a larger last one): {@link usefulFactors}.
 * Mutations: set one factor of one level to a useful value (near the current one, or any); move
 * a prime factor of a dimension from one level to another; swap two dimensions of a loop order
 * (among those with a loop at that level), or move one elsewhere; move all of a dimension's tiles
 * between the gbuf and the dram level; re-draw the spatial loops of an axis (one or two dimensions); flip
 * a GBuf keep flag (weights or outputs) or a level's double buffering. Genomes are normalized
 * (genome.ts) after every move.
 */
import type { ArchSpec } from "../arch/spec.js";
import { DIMS, type Axis, type Dim, type DimRecord, type KeepFlags } from "../dataflow/mapping.js";
import { seededTensor } from "../workload/tensors.js";
import { normalize, ONES, spatialProduct, type Genome, type SpatialGene } from "./genome.js";

/** Values a stream block holds. */
const BLOCK = 4096;

/**
 * A deterministic random stream: blocks of seedrandom's ARC4 output (the generator the seeded
 * tensors use, src/workload/tensors.ts), block b seeded with `mapper/<seed>/<b>`.
 */
export class Rng {
  private block: Int16Array = new Int16Array(0);
  private pos = 0;
  private blocks = 0;

  constructor(private readonly seed: string) {}

  /** A number in [0, 1). */
  next(): number {
    if (this.pos >= this.block.length) {
      this.block = seededTensor("int16", BLOCK, `mapper/${this.seed}/${this.blocks++}`);
      this.pos = 0;
    }
    return (this.block[this.pos++]! + 32768) / 65536;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.min(n - 1, Math.floor(this.next() * n));
  }

  /** One element of a non-empty list. */
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

/** The useful factors of a level that n tiles remain for: ceil(n / c), c = 1 .. n, ascending. */
export function usefulFactors(n: number): number[] {
  const out = new Set<number>();
  for (let c = 1; c <= n; c++) out.add(Math.ceil(n / c));
  return [...out].sort((a, b) => a - b);
}

/** The tiles of `dim` left above the levels inside `level` (rf < spatial < gbuf). */
export function tilesLeft(g: Genome, sizes: DimRecord, dim: Dim, level: "rf" | "gbuf" | "spatial"): number {
  const inner = level === "rf" ? 1 : level === "spatial" ? g.rf[dim] : g.rf[dim] * spatialProduct(g.spatial, dim);
  return Math.ceil(sizes[dim] / inner);
}

/** A random value among the useful factors, biased towards small moves from `current`. */
function drawFactor(rng: Rng, n: number, current: number): number {
  const values = usefulFactors(n);
  if (rng.next() < 0.5) return rng.pick(values);
  const at = values.findIndex((v) => v >= current);
  const i = Math.max(0, Math.min(values.length - 1, (at < 0 ? values.length - 1 : at) + (rng.next() < 0.5 ? -1 : 1) * (1 + rng.int(2))));
  return values[i]!;
}

/** Random spatial loops for one axis: one dimension filling it, or two sharing it. */
function drawAxis(rng: Rng, sizes: DimRecord, axis: Axis, cap: number, exclude: readonly Dim[]): SpatialGene[] {
  const dims = DIMS.filter((d) => sizes[d] > 1 && !exclude.includes(d));
  if (dims.length === 0) return [];
  const a = rng.pick(dims);
  if (rng.next() < 0.6 || dims.length === 1) return [{ dim: a, axis, factor: Math.min(cap, sizes[a]) }];
  const b = rng.pick(dims.filter((d) => d !== a));
  const fa = Math.min(sizes[a], rng.pick(usefulFactors(cap)));
  return [
    { dim: a, axis, factor: fa },
    { dim: b, axis, factor: Math.min(sizes[b], Math.max(1, Math.floor(cap / fa))) },
  ];
}

/** A random permutation of the eight dimensions. */
export function shuffled(rng: Rng): Dim[] {
  const out = [...DIMS];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A random genome (normalized): random spatial loops, rf and gbuf factors, orders and flags. */
export function randomGenome(rng: Rng, sizes: DimRecord, arch: ArchSpec): Genome {
  const row = drawAxis(rng, sizes, "row", arch.array.rows, []);
  const col = drawAxis(rng, sizes, "col", arch.array.cols, row.map((s) => s.dim));
  const rf: Record<Dim, number> = { ...ONES };
  const gbuf: Record<Dim, number> = { ...ONES };
  const base: Genome = { rf, gbuf, spatial: [...row, ...col], dramOrder: shuffled(rng), gbufOrder: shuffled(rng), rfOrder: shuffled(rng), gbufKeep: { input: true, weight: true, output: true }, gbufDoubleBuffer: rng.next() < 0.5, rfDoubleBuffer: false };
  for (const d of DIMS) if (rng.next() < 0.3) rf[d] = drawFactor(rng, sizes[d], 1);
  const partial = normalize(base, sizes, arch);
  for (const d of DIMS) if (rng.next() < 0.5) gbuf[d] = drawFactor(rng, tilesLeft(partial, sizes, d, "gbuf"), 1);
  return normalize({ ...partial, gbuf }, sizes, arch);
}

/** The smallest prime factor of n > 1. */
function smallestPrime(n: number): number {
  for (let p = 2; p * p <= n; p++) if (n % p === 0) return p;
  return n;
}

type Mutation = (g: Genome, rng: Rng, sizes: DimRecord, arch: ArchSpec) => Genome;

const setFactor: Mutation = (g, rng, sizes) => {
  const d = rng.pick(DIMS.filter((x) => sizes[x] > 1));
  const level = rng.pick(["rf", "gbuf", "gbuf"] as const);
  return { ...g, [level]: { ...g[level], [d]: drawFactor(rng, tilesLeft(g, sizes, d, level), g[level][d]) } };
};

const moveFactor: Mutation = (g, rng, sizes) => {
  const d = rng.pick(DIMS.filter((x) => sizes[x] > 1));
  // Levels: rf, gbuf, dram (the remainder: growing it shrinks the others).
  const from = rng.pick(["rf", "gbuf", "dram"] as const);
  const to = rng.pick((["rf", "gbuf", "dram"] as const).filter((l) => l !== from));
  const src = from === "dram" ? Math.ceil(tilesLeft(g, sizes, d, "gbuf") / g.gbuf[d]) : g[from][d];
  if (src <= 1) return g;
  const p = smallestPrime(src);
  const next = { rf: { ...g.rf }, gbuf: { ...g.gbuf } };
  if (from !== "dram") next[from][d] = Math.ceil(src / p);
  if (to !== "dram") next[to][d] = g[to][d] * p;
  return { ...g, ...next };
};

const reorder: Mutation = (g, rng, sizes) => {
  const key = rng.pick(["dramOrder", "dramOrder", "gbufOrder", "rfOrder"] as const);
  const order = [...g[key]];
  // Only the dimensions with a loop at the level change the mapping.
  const active = (d: Dim) => (key === "rfOrder" ? g.rf[d] : key === "gbufOrder" ? g.gbuf[d] : Math.ceil(tilesLeft(g, sizes, d, "gbuf") / g.gbuf[d])) > 1;
  const at = order.map((d, i) => (active(d) ? i : -1)).filter((i) => i >= 0);
  if (at.length < 2) return g;
  const i = rng.pick(at);
  const j = rng.pick(at.filter((x) => x !== i));
  if (rng.next() < 0.5) {
    [order[i], order[j]] = [order[j]!, order[i]!];
  } else {
    const [d] = order.splice(i, 1);
    order.splice(j, 0, d!);
  }
  return { ...g, [key]: order };
};

/** Moves all of a dimension's tiles between the gbuf level and the dram level (a large step). */
const sweep: Mutation = (g, rng, sizes) => {
  const d = rng.pick(DIMS.filter((x) => sizes[x] > 1));
  const n = tilesLeft(g, sizes, d, "gbuf");
  return { ...g, gbuf: { ...g.gbuf, [d]: g.gbuf[d] > 1 ? 1 : n } };
};

const respatial: Mutation = (g, rng, sizes, arch) => {
  const axis = rng.pick(["row", "col"] as const);
  const other = g.spatial.filter((s) => s.axis !== axis);
  const fresh = drawAxis(rng, sizes, axis, axis === "row" ? arch.array.rows : arch.array.cols, other.map((s) => s.dim));
  return { ...g, spatial: axis === "row" ? [...fresh, ...other] : [...other, ...fresh] };
};

const flipFlag: Mutation = (g, rng) => {
  const which = rng.int(4);
  if (which === 0) return { ...g, gbufDoubleBuffer: !g.gbufDoubleBuffer };
  if (which === 1) return { ...g, rfDoubleBuffer: !g.rfDoubleBuffer };
  const t = which === 2 ? "weight" : "output";
  const keep: KeepFlags = { ...g.gbufKeep, [t]: !g.gbufKeep[t] };
  return { ...g, gbufKeep: keep };
};

/** Mutations and their weights (how often each is drawn). */
const MUTATIONS: readonly (readonly [Mutation, number])[] = [
  [setFactor, 4],
  [moveFactor, 4],
  [reorder, 3],
  [sweep, 1],
  [respatial, 1],
  [flipFlag, 1],
];
const TOTAL_WEIGHT = MUTATIONS.reduce((s, [, w]) => s + w, 0);

/** One to three random mutations of `g`, normalized (see the file header). */
export function mutate(g: Genome, rng: Rng, sizes: DimRecord, arch: ArchSpec): Genome {
  let out = g;
  const n = 1 + rng.int(3);
  for (let i = 0; i < n; i++) {
    let r = rng.next() * TOTAL_WEIGHT;
    let move = MUTATIONS[0]![0];
    for (const [m, w] of MUTATIONS) {
      if (r < w) {
        move = m;
        break;
      }
      r -= w;
    }
    out = normalize(move(out, rng, sizes, arch), sizes, arch);
  }
  return out;
}
