/**
 * Balanced factor splits: the last step of every named dataflow (docs/mapping.md, "Balanced
 * splits").
 *
 * A loop of factor f over a tile of n points cuts it into f tiles of the extent T of its body
 * (the product of the dimension's factors inside it), the last one holding the remainder
 * `n - (f - 1) * T` (mapping.ts: tiles are aligned at multiples of their extent). A builder that
 * sizes T first and takes f = ceil(n / T) can leave a remainder much smaller than the others:
 * `os` on the systolic preset streamed single-tower AlexNet conv5's 384 input channels as 375 + 9.
 * The same number of tiles can be as equal as `ceil(n / f)` (192 + 192), which moves the same
 * words and evens out the iterations: the long one no longer waits on a prefetch that the short
 * one hid nothing behind, and the short one no longer pays a whole iteration's fixed costs (skew,
 * deliveries, drain) for little work. That layer: 596,015 cycles instead of 679,776 (-12 %),
 * the same DRAM words.
 *
 * The IR cannot state unequal tiles, so balancing a loop means shrinking its body: for each
 * dimension, from the outermost loop in, the factors inside loop j (each at most its current
 * value, so every footprint only shrinks and the mapping stays legal) take the combination
 * of least product that still covers the loop's tile in f_j tiles, `prod >= ceil(n_j / f_j)`, and
 * leaves every loop of the dimension with as many tiles over the run as before (`ceil(size /
 * the extent of its body)`). So 55 rows cut 16 + 16 + 16 + 7 at DRAM, each 16 in two array steps
 * of 8 rows (7 steps in all), stay so: 14 + 14 + 14 + 13 would need steps of 7 rows, 8 of them.
 * Spatial factors stay: filling the array is the template's (search.ts, step 2), and a split
 * across PEs that ends short costs no step (the PEs beyond the edge idle in the same waves). Ties
 * go to larger rf factors (fewer iterations). The next loop in then splits the new, smaller tile,
 * `n_{j+1} = min(n_j, prod)`.
 *
 * A dimension's new split is kept only if the mapping stays legal and moves no more DRAM words
 * and no more GBuf accesses than before (closed form, traffic.ts); otherwise that dimension keeps
 * its factors. Tiles at the layer's edge that an outer loop leaves partial are split by the same
 * factors as the full ones (the IR has one factor per loop), so they can still end short.
 */
import type { ArchSpec } from "../../arch/spec.js";
import type { ConvLayer } from "../../workload/layer.js";
import { checkMapping, type OperandTypes } from "../legality.js";
import { dimSizes, DIMS, loopNest, mapping, type Dim, type LevelName, type Mapping } from "../mapping.js";
import { dramTraffic, gbufArrayAccesses } from "../traffic.js";
import { spreadGroups } from "./groups.js";

/** One loop of a dimension: its level, its position in that level's list, its factor. */
interface DimLoop {
  readonly level: LevelName;
  readonly index: number;
  factor: number;
}

/** Most factor combinations tried for one loop's body (beyond it, only the innermost factor moves). */
const MAX_COMBINATIONS = 1 << 16;

/** Preference among bodies of equal product: larger rf factors (fewer iterations), then the current values. */
function prefer(a: readonly number[], b: readonly number[], loops: readonly DimLoop[]): boolean {
  const rf = (v: readonly number[]) => v.reduce((p, x, i) => (loops[i]!.level === "rf" ? p * x : p), 1);
  return rf(a) > rf(b);
}

/** The product of the factors of `v` from index `from` on. */
const productFrom = (v: readonly number[], from: number): number => v.reduce((p, x, i) => (i >= from ? p * x : p), 1);

/**
 * The factors of least product >= target for a loop's body, the loops outermost first: each
 * temporal factor in 1..its current value, each spatial factor kept (the array fill is the
 * template's), and every loop's number of tiles over the run (`ceil(size / its body's extent)`,
 * given in `counts`) kept. Exhaustive over the inner factors, the outermost one computed; when the
 * combinations are too many, only the innermost factor changes.
 */
function leastCover(loops: readonly DimLoop[], target: number, size: number, counts: readonly number[]): number[] {
  const current = loops.map((l) => l.factor);
  const lowest = loops.map((l) => (l.level === "spatial" ? l.factor : 1));
  let best = current;
  let bestProduct = productFrom(current, 0);
  const consider = (v: number[]): void => {
    const p = productFrom(v, 0);
    if (p < target || p > bestProduct) return;
    if (!counts.every((c, i) => Math.ceil(size / productFrom(v, i + 1)) === c)) return;
    if (p < bestProduct || prefer(v, best, loops)) {
      best = v;
      bestProduct = p;
    }
  };
  const last = loops.length - 1;
  if (current.reduce((p, x, i) => (i > 0 ? p * (x - lowest[i]! + 1) : p), 1) > MAX_COMBINATIONS) {
    const rest = productFrom(current.slice(0, -1), 0);
    consider([...current.slice(0, -1), Math.min(current[last]!, Math.max(lowest[last]!, Math.ceil(target / rest)))]);
    return best;
  }
  const v = [...lowest];
  const walk = (k: number, inner: number): void => {
    if (k === 0) {
      v[0] = Math.max(lowest[0]!, Math.ceil(target / inner));
      if (v[0] <= current[0]!) consider([...v]);
      return;
    }
    for (let x = lowest[k]!; x <= current[k]!; x++) {
      v[k] = x;
      walk(k - 1, inner * x);
      if (inner * x >= target) break; // larger x only grows the product
    }
  };
  walk(last, 1);
  return best;
}

/** The loops of one dimension, outermost first (the nest's order). */
function dimLoops(m: Mapping, d: Dim): DimLoop[] {
  const position: Record<LevelName, number> = { dram: 0, gbuf: 0, spatial: 0, rf: 0 };
  const out: DimLoop[] = [];
  for (const l of loopNest(m)) {
    const index = position[l.level]++;
    if (l.dim === d) out.push({ level: l.level, index, factor: l.factor });
  }
  return out;
}

/** Balances one dimension's loops in place (see the file header). */
function balanceLoops(loops: DimLoop[], size: number): void {
  const factors = loops.map((l) => l.factor);
  const counts = factors.map((_, k) => Math.ceil(size / productFrom(factors, k + 1)));
  let n = size;
  for (let j = 0; j + 1 < loops.length; j++) {
    const f = loops[j]!.factor;
    const body = loops.slice(j + 1);
    if (f > 1) {
      const v = leastCover(body, Math.ceil(n / f), size, counts.slice(j + 1));
      body.forEach((l, i) => (l.factor = v[i]!));
    }
    n = Math.min(n, body.reduce((p, l) => p * l.factor, 1));
  }
}

/** The mapping with one dimension's factors replaced (loops of factor 1 dropped). */
function withFactors(m: Mapping, loops: readonly DimLoop[]): Mapping {
  const factor = (level: LevelName, index: number, f: number) => loops.find((l) => l.level === level && l.index === index)?.factor ?? f;
  const temporal = (level: "dram" | "gbuf" | "rf") =>
    m[level].loops.map((l, i) => ({ dim: l.dim, factor: factor(level, i, l.factor) })).filter((l) => l.factor > 1);
  return mapping({
    ...(m.name !== undefined ? { name: m.name } : {}),
    dram: { loops: temporal("dram") },
    gbuf: { ...m.gbuf, loops: temporal("gbuf") },
    spatial: { loops: m.spatial.loops.map((l, i) => ({ ...l, factor: factor("spatial", i, l.factor) })).filter((l) => l.factor > 1) },
    rf: { ...m.rf, loops: temporal("rf") },
  });
}

/**
 * The last steps of every named dataflow: groups side by side on PEs one group leaves idle
 * (groups.ts), then every split balanced ({@link balanceMapping}).
 */
export function finishMapping(m: Mapping, layer: ConvLayer, arch: ArchSpec, types: OperandTypes = {}): Mapping {
  return balanceMapping(spreadGroups(m, layer, arch, types), layer, arch, types);
}

/**
 * Balances every dimension's split of a legal mapping (see the file header): the same number of
 * tiles at every loop, each as small as the factors allow, kept per dimension only where the
 * mapping stays legal and moves no more DRAM words and no more GBuf accesses.
 */
export function balanceMapping(m: Mapping, layer: ConvLayer, arch: ArchSpec, types: OperandTypes = {}): Mapping {
  const sizes = dimSizes(layer);
  let best = m;
  let dram = dramTraffic(m, layer).total;
  let gbuf = gbufArrayAccesses(m, layer).total;
  for (const d of DIMS) {
    const loops = dimLoops(best, d);
    const before = loops.map((l) => l.factor);
    balanceLoops(loops, sizes[d]);
    if (loops.every((l, i) => l.factor === before[i])) continue;
    const candidate = withFactors(best, loops);
    const dramNext = dramTraffic(candidate, layer).total;
    const gbufNext = gbufArrayAccesses(candidate, layer).total;
    if (dramNext > dram || gbufNext > gbuf || !checkMapping(candidate, layer, arch, { types }).ok) continue;
    best = candidate;
    dram = dramNext;
    gbuf = gbufNext;
  }
  return best;
}
