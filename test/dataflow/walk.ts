/**
 * Test references for the Mapping IR, sharing no code with src/dataflow beyond the Mapping type:
 * a plain walker over a loop nest (mixed-radix indices, iterations beyond the edge skipped),
 * brute-force tile footprints, random small layers and random mappings.
 */
import fc from "fast-check";
import type { Mapping } from "../../src/dataflow/mapping.js";
import { convLayer, convShape, type ConvLayer } from "../../src/workload/layer.js";

const seedEnv = process.env.FC_SEED;
if (seedEnv !== "random") fc.configureGlobal({ seed: seedEnv === undefined ? 20200220 : Number(seedEnv) });

export const DIM_ORDER = ["N", "G", "K", "C", "P", "Q", "R", "S"] as const;
type D = (typeof DIM_ORDER)[number];

/** Sizes of the iteration space, computed here from the layer directly. */
export function sizesOf(l: ConvLayer): Record<D, number> {
  const s = convShape(l);
  return { N: l.batch, G: l.groups, K: l.outChannels / l.groups, C: l.inChannels / l.groups, P: s.outHeight, Q: s.outWidth, R: l.kernelHeight, S: l.kernelWidth };
}

/** A loop of the flattened nest: over a dimension, or (`g`) over fused group g's flattened index. */
interface WalkLoop {
  level: string;
  dim: D | number;
  factor: number;
  weight: number;
}

function flatten(m: Mapping): WalkLoop[] {
  const loops: WalkLoop[] = [];
  const fuse = m.fuse ?? [];
  for (const level of ["dram", "gbuf", "spatial", "rf"] as const) {
    for (const l of m[level].loops) {
      const g = level === "dram" ? -1 : fuse.findIndex((x) => x.dims[0] === l.dim);
      loops.push({ level, dim: g >= 0 ? g : (l.dim as D), factor: l.factor, weight: 1 });
    }
  }
  // weight of loop j for its dim = product of the dim's factors inside it (a fused member's dram
  // loops: times its dram-tile extent).
  for (let j = 0; j < loops.length; j++) {
    const d = loops[j]!.dim;
    const g = typeof d === "string" ? fuse.find((x) => x.dims.includes(d)) : undefined;
    let w = g ? g.extents[g.dims.indexOf(d as D)]! : 1;
    for (let i = j + 1; i < loops.length; i++) if (loops[i]!.dim === d) w *= loops[i]!.factor;
    loops[j]!.weight = w;
  }
  return loops;
}

/**
 * Calls `visit(point, key)` for every point of the nest inside the layer, in nest order. `key` is
 * the tuple of loop indices outside `level` (what identifies one instance of that level's tile).
 * A fused group's flattened index is decoded, last member fastest, over its dram tile's extents
 * clipped at the layer's edge (mapping.ts, "Fused dimensions").
 */
export function walk(m: Mapping, l: ConvLayer, level: "dram" | "gbuf" | "spatial" | "rf", visit: (p: Record<D, number>, key: string) => void): void {
  const loops = flatten(m);
  const sizes = sizesOf(l);
  const fuse = m.fuse ?? [];
  const firstInside = loops.findIndex((x) => ["dram", "gbuf", "spatial", "rf"].indexOf(x.level) >= ["dram", "gbuf", "spatial", "rf"].indexOf(level));
  const cut = firstInside < 0 ? loops.length : firstInside;
  const idx: Record<D, number> = { N: 0, G: 0, K: 0, C: 0, P: 0, Q: 0, R: 0, S: 0 };
  const flat = fuse.map(() => 0);
  const ext = (g: number) => fuse[g]!.dims.map((d, k) => Math.min(fuse[g]!.extents[k]!, sizes[d as D] - idx[d as D]));
  const inside = (d: D | number) => (typeof d === "string" ? idx[d] < sizes[d] : flat[d]! < ext(d).reduce((a, e) => a * e, 1));
  const point = (): Record<D, number> => {
    const p = { ...idx };
    fuse.forEach((g, gi) => {
      const e = ext(gi);
      let rest = flat[gi]!;
      for (let k = g.dims.length - 1; k >= 0; k--) {
        p[g.dims[k] as D] += rest % e[k]!;
        rest = Math.floor(rest / e[k]!);
      }
    });
    return p;
  };
  const path: number[] = [];
  const rec = (j: number): void => {
    if (j === loops.length) {
      visit(point(), path.slice(0, cut).join(","));
      return;
    }
    const lp = loops[j]!;
    const add = (v: number) => (typeof lp.dim === "string" ? (idx[lp.dim] += v) : (flat[lp.dim] = flat[lp.dim]! + v));
    for (let i = 0; i < lp.factor; i++) {
      add(i * lp.weight);
      if (inside(lp.dim)) {
        path.push(i);
        rec(j + 1);
        path.pop();
      }
      add(-i * lp.weight);
    }
  };
  rec(0);
}

/** Largest number of distinct elements of `tensor` any instance of `level`'s tile touches (real inputs only). */
export function bruteFootprint(m: Mapping, l: ConvLayer, level: "gbuf" | "spatial" | "rf", tensor: "input" | "weight" | "output"): number {
  const groups = new Map<string, Set<string>>();
  walk(m, l, level, (p, key) => {
    let id: string | undefined;
    if (tensor === "weight") id = `${p.G},${p.K},${p.C},${p.R},${p.S}`;
    else if (tensor === "output") id = `${p.N},${p.G},${p.K},${p.P},${p.Q}`;
    else {
      const h = p.P * l.strides[0] - l.pads[0] + p.R * l.dilations[0];
      const w = p.Q * l.strides[1] - l.pads[1] + p.S * l.dilations[1];
      if (h >= 0 && h < l.inHeight && w >= 0 && w < l.inWidth) id = `${p.N},${p.G},${p.C},${h},${w}`;
    }
    let set = groups.get(key);
    if (!set) groups.set(key, (set = new Set()));
    if (id !== undefined) set.add(id);
  });
  let best = 0;
  for (const s of groups.values()) best = Math.max(best, s.size);
  return best;
}

/** The largest values {@link layerArbitrary} draws (each from 1, the pads from 0). */
export interface LayerRanges {
  readonly batch: number;
  readonly groups: number;
  /** Input and output channels per group. */
  readonly cpg: number;
  readonly kpg: number;
  /** Input height and width. */
  readonly hw: number;
  readonly kh: number;
  readonly kw: number;
  readonly stride: number;
  readonly dilation: number;
  readonly pad: number;
}

/** Random valid layers within `r` (every feature: batch, groups, stride, dilation, asymmetric pads, 1x1). */
export function layerArbitrary(r: LayerRanges): fc.Arbitrary<ConvLayer> {
  const upTo = (max: number) => fc.integer({ min: 1, max });
  return fc
    .record({
      batch: upTo(r.batch),
      groups: upTo(r.groups),
      cpg: upTo(r.cpg),
      kpg: upTo(r.kpg),
      h: upTo(r.hw),
      w: upTo(r.hw),
      kh: upTo(r.kh),
      kw: upTo(r.kw),
      sh: upTo(r.stride),
      sw: upTo(r.stride),
      dh: upTo(r.dilation),
      dw: upTo(r.dilation),
      pads: fc.tuple(fc.nat(r.pad), fc.nat(r.pad), fc.nat(r.pad), fc.nat(r.pad)),
    })
    .filter((x) => (x.kh - 1) * x.dh + 1 <= x.h + x.pads[0] + x.pads[2] && (x.kw - 1) * x.dw + 1 <= x.w + x.pads[1] + x.pads[3])
    .map((x) =>
      convLayer({
        batch: x.batch,
        groups: x.groups,
        inChannels: x.cpg * x.groups,
        outChannels: x.kpg * x.groups,
        inHeight: x.h,
        inWidth: x.w,
        kernelHeight: x.kh,
        kernelWidth: x.kw,
        strides: [x.sh, x.sw],
        dilations: [x.dh, x.dw],
        pads: x.pads,
      }),
    );
}

/** Random small valid layers (all features: batch, groups, stride, dilation, asymmetric pads, 1x1). */
export const smallLayer: fc.Arbitrary<ConvLayer> = layerArbitrary({ batch: 2, groups: 3, cpg: 4, kpg: 5, hw: 9, kh: 4, kw: 3, stride: 3, dilation: 2, pad: 2 });

/** A random mapping of `l` whose factors obey the coverage rules (random orders, axes, flags). */
export function randomMapping(l: ConvLayer, rnd: () => number): Mapping {
  const sizes = sizesOf(l);
  const pick = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const shuffle = <T>(a: T[]): T[] => {
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  };
  const rf: { dim: D; factor: number }[] = [];
  const sp: { dim: D; factor: number; axis: "row" | "col" }[] = [];
  const gb: { dim: D; factor: number }[] = [];
  const dr: { dim: D; factor: number }[] = [];
  for (const d of DIM_ORDER) {
    const n = sizes[d];
    const f0 = pick(1, n);
    const f1 = pick(1, Math.ceil(n / f0));
    const f2 = pick(1, Math.ceil(n / (f0 * f1)));
    const f3 = Math.ceil(n / (f0 * f1 * f2));
    if (f0 > 1) rf.push({ dim: d, factor: f0 });
    if (f1 > 1) sp.push({ dim: d, factor: f1, axis: rnd() < 0.5 ? "row" : "col" });
    if (f2 > 1) gb.push({ dim: d, factor: f2 });
    if (f3 > 1 || rnd() < 0.2) dr.push({ dim: d, factor: f3 });
  }
  const keep = () => ({ input: rnd() < 0.8, weight: rnd() < 0.8, output: rnd() < 0.8 });
  return {
    dram: { loops: shuffle(dr) },
    gbuf: { loops: shuffle(gb), keep: keep(), doubleBuffer: rnd() < 0.5 },
    spatial: { loops: shuffle(sp) },
    rf: { loops: shuffle(rf), keep: keep(), doubleBuffer: rnd() < 0.5 },
  };
}

/**
 * Fuses a random group of two or three of `m`'s dimensions (mapping.ts, "Fused dimensions"): their
 * loops are replaced by dram loops over tiles of a random extent, and a gbuf and a spatial loop on
 * the lead over the flattened tile. Undefined when fewer than two dimensions have size > 1.
 */
export function fuseRandom(m: Mapping, l: ConvLayer, rnd: () => number): Mapping | undefined {
  const sizes = sizesOf(l);
  const pick = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  const open = DIM_ORDER.filter((d) => sizes[d] > 1);
  if (open.length < 2) return undefined;
  const dims: D[] = [];
  const n = Math.min(open.length, rnd() < 0.7 ? 2 : 3);
  while (dims.length < n) {
    const d = open[Math.floor(rnd() * open.length)]!;
    if (!dims.includes(d)) dims.push(d);
  }
  const extents = dims.map((d) => pick(1, sizes[d]));
  const keepLoop = (x: { dim: D }) => !dims.includes(x.dim);
  const insert = <T>(a: T[], x: T) => a.splice(pick(0, a.length), 0, x);
  const dram = m.dram.loops.filter(keepLoop);
  dims.forEach((d, k) => {
    const f = Math.ceil(sizes[d] / extents[k]!);
    if (f > 1) insert(dram, { dim: d, factor: f });
  });
  const points = extents.reduce((a, x) => a * x, 1);
  const fs = pick(1, points);
  const fg = Math.ceil(points / fs);
  const gbuf = m.gbuf.loops.filter(keepLoop);
  if (fg > 1) insert(gbuf, { dim: dims[0]!, factor: fg });
  const spatial = m.spatial.loops.filter(keepLoop);
  if (fs > 1) insert(spatial, { dim: dims[0]!, factor: fs, axis: rnd() < 0.5 ? "row" : "col" });
  return {
    ...m,
    fuse: [{ dims, extents }],
    dram: { loops: dram },
    gbuf: { ...m.gbuf, loops: gbuf },
    spatial: { loops: spatial },
    rf: { ...m.rf, loops: m.rf.loops.filter(keepLoop) },
  };
}

/** A seeded uniform generator (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Checks that the nest visits every point of the layer exactly once; returns the number of points. */
export function visitCounts(m: Mapping, l: ConvLayer): { points: number; expected: number; repeats: number; missing: number } {
  const s = sizesOf(l);
  const strides: number[] = [];
  let total = 1;
  for (let i = DIM_ORDER.length - 1; i >= 0; i--) {
    strides[i] = total;
    total *= s[DIM_ORDER[i]!];
  }
  const seen = new Uint8Array(total);
  let points = 0;
  let repeats = 0;
  walk(m, l, "rf", (p) => {
    let flat = 0;
    DIM_ORDER.forEach((d, i) => (flat += p[d] * strides[i]!));
    if (seen[flat]) repeats++;
    seen[flat] = 1;
    points++;
  });
  let missing = 0;
  for (let i = 0; i < total; i++) if (!seen[i]) missing++;
  return { points, expected: total, repeats, missing };
}
