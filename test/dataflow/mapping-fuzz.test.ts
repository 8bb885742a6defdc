/**
 * Property-based fuzz of the mapping boundary: `parseMapping`, `checkMapping` and `simulate` given
 * a user's mapping. Each case starts from a VALID mapping (a named dataflow's, as JSON, on a tiny
 * random layer, on each preset, some with a small arch override; or a random legal mapping of the
 * simulator's property tests, fused or not), then mutates the JSON:
 * - factors (0, -1, 1.5, NaN, huge, strings; doubled, halved, split between levels, moved to
 *   another level or dimension, swapped between loops);
 * - loop orders and names (shuffled, duplicated, dropped, added; unknown or miscased dimensions,
 *   wrong axes);
 * - keep / doubleBuffer / stream / doubleBufferOutput flags (flipped, wrong types, unknown
 *   tensors, on levels that have none; a tensor made to stream or bypass the RF with the rf loops
 *   that would reuse it moved out);
 * - `fuse` groups (well formed, walk.ts's fuseRandom, or arbitrary: bad dimensions and extents,
 *   members with loops below the dram level);
 * - unknown, missing, `__proto__` and `constructor` keys, whole subtrees replaced by values of
 *   the wrong type (null, arrays for objects), and what only an API caller can pass: a sparse
 *   array, a value that contains itself.
 * A case is given as an object or as JSON text, and runs fast, checked or in the reference engine.
 *
 * The oracle, per case (docs/inputs.md: "no input reaches a stack trace, a hang or an
 * out-of-memory. A bad input is a clear error that names the field ..., the value and the rule,
 * before any work starts"):
 * - `parseMapping(json, layer)` returns a mapping, or throws a ConfigError whose field is in the
 *   mapping (`mapping...`) and whose message reads "<field> must <rule>; got <value>"; what it
 *   returns round-trips through `mappingToJson`;
 * - `simulate` throws a ConfigError exactly when `parseMapping` or `checkMapping` refuses the
 *   mapping, naming the same field (its root `dataflow`, simulate's option, for the parse;
 *   `mapping` for the legality rules, as checkMapping names them), and otherwise returns outputs
 *   equal to the reference convolution bit for bit;
 * - a mutation whose value, name or key is wrong whatever the rest holds (a factor that is not a
 *   positive integer, null where a flag or a level belongs, an unknown key, a hole) is refused.
 * Any other error (TypeError, RangeError, InvariantError, StallError) fails.
 *
 * A second property: changes that keep the meaning (JSON keys reordered, loops of factor 1 added,
 * default fields dropped or spelt out, another name) give identical cycles, counters, stalls and
 * outputs.
 *
 * Deterministic (fast-check, fixed seed and numRuns). For exploration, MAPPING_FUZZ_RUNS scales the
 * run counts, MAPPING_FUZZ_SEED replaces the seed, MAPPING_FUZZ_MACS raises the layers' size (4000
 * MACs) and MAPPING_FUZZ_STATS prints what the cases reached:
 * `MAPPING_FUZZ_RUNS=20 MAPPING_FUZZ_SEED=7 npx vitest run test/dataflow/mapping-fuzz.test.ts`.
 * The regressions at the end pin the bugs it found.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { resolveArch, type ArchOverrides } from "../../src/arch/presets.js";
import type { ArchSpec } from "../../src/arch/spec.js";
import { ConfigError } from "../../src/core/errors.js";
import { buildMapping, DATAFLOW_NAMES } from "../../src/dataflow/dataflows/index.js";
import { checkMapping } from "../../src/dataflow/legality.js";
import { mappingToJson, parseMapping, type Mapping } from "../../src/dataflow/mapping.js";
import { simulate, type SimulationResult } from "../../src/dataflow/simulate.js";
import { convLayer, type ConvLayer } from "../../src/workload/layer.js";
import { ARCHS, legalRandomMapping } from "./random-mappings.js";
import { fuseRandom, layerArbitrary, rng } from "./walk.js";

const SCALE = Number(process.env.MAPPING_FUZZ_RUNS ?? "1");
const SEED = Number(process.env.MAPPING_FUZZ_SEED ?? "20240");
/** The layers' size: at most MAX_MACS MACs, the ranges of their shapes scaled by GROW (MAPPING_FUZZ_MACS: exploration only, larger layers are slower). */
const MAX_MACS = Number(process.env.MAPPING_FUZZ_MACS ?? "4000");
const GROW = Math.max(1, Math.round(Math.sqrt(MAX_MACS / 4000)));
const LIMITS = { maxMacs: 1_000_000, maxMemoryBytes: 2 ** 29 };
/** Exploration runs take longer than the default test timeout. */
const TIMEOUT = 60_000 * Math.max(1, SCALE) * (MAX_MACS / 4000);
/** simulate's default operand types (checkMapping's default is int16, the widest). */
const INT8 = { input: "int8", weight: "int8" } as const;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };
type Key = string | number;

const PRESETS = ["chen2020", "eyeriss", "systolic"] as const;
/** Small overrides of a preset (undefined: none); each keeps some named dataflows buildable. */
const OVERRIDES: readonly (ArchOverrides | undefined)[] = [
  undefined,
  undefined,
  { rf: { sharedEntries: 96 } },
  { array: { rows: 4, cols: 3 } },
  { gbuf: { capacityBytes: 4096 } },
  { noc: { neighbourLinks: false, forwarding: false } },
  { gbuf: { psumBytes: 3 } },
];

/**
 * Tiny layers (every feature: batch, groups, stride, dilation, asymmetric pads), at most a few
 * thousand MACs; one in four a wider map with few channels, which the systolic dataflows fold
 * (fused groups: dataflows/fold.ts).
 */
const tinyLayer: fc.Arbitrary<ConvLayer> = fc
  .oneof({ weight: 3, arbitrary: fc.constant({ hw: 8 * GROW, ck: GROW }) }, { weight: 1, arbitrary: fc.constant({ hw: 16 * GROW, ck: GROW - 1 }) })
  .chain(({ hw, ck }) => layerArbitrary({ batch: 1 + ck, groups: 2, cpg: 1 + 2 * ck, kpg: 2 + 2 * ck, hw, kh: 3, kw: 3, stride: 2, dilation: 2, pad: 1 }))
  .filter((l) => macsOf(l) <= MAX_MACS);

function macsOf(l: ConvLayer): number {
  return Object.values(dimSizesOf(l)).reduce((a, x) => a * x, 1);
}

/** One starting point: a layer, an architecture and a legal mapping of the layer on it. */
interface Base {
  readonly layer: ConvLayer;
  /** As simulate takes it: a preset's name, or a spec. */
  readonly preset: string | ArchSpec;
  readonly overrides: ArchOverrides | undefined;
  readonly arch: ArchSpec;
  readonly mapping: Mapping;
  /** The dataflow that built it, or the seed of a random mapping. */
  readonly label: string;
}

/**
 * A named dataflow's mapping on a preset (with an override), or (one case in four) a random legal
 * mapping, fused one time in two, on one of the small architectures of the simulator's property
 * tests (random-mappings.ts): other loop orders, factors and GBuf bypasses than the dataflows'.
 */
const baseCase = fc.record({
  layer: tinyLayer,
  preset: fc.constantFrom(...PRESETS),
  o: fc.nat(OVERRIDES.length - 1),
  df: fc.constantFrom(...DATAFLOW_NAMES),
  random: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.record({ arch: fc.nat(ARCHS.length - 1), seed: fc.nat(), fused: fc.boolean() }) }),
});

const builtCache = new Map<string, Base | undefined>();
/** The base, built once per draw; undefined when the dataflow does not fit (or no random mapping is legal). */
function baseOf(c: typeof baseCase extends fc.Arbitrary<infer T> ? T : never): Base | undefined {
  const key = JSON.stringify(c);
  if (builtCache.has(key)) return builtCache.get(key);
  let base: Base | undefined;
  if (c.random) {
    const arch = ARCHS[c.random.arch]!;
    const m = legalRandomMapping(c.layer, arch, c.random.seed, c.random.fused);
    if (m) base = { layer: c.layer, preset: arch, overrides: undefined, arch, mapping: parseMapping(m, c.layer), label: `random ${c.random.seed}${c.random.fused ? " fused" : ""}` };
  } else {
    const overrides = OVERRIDES[c.o];
    const arch = resolveArch(c.preset, overrides);
    try {
      base = { layer: c.layer, preset: c.preset, overrides, arch, mapping: buildMapping(c.df, c.layer, arch), label: c.df };
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
    }
  }
  builtCache.set(key, base);
  return base;
}

// ---------------------------------------------------------------------------------------------
// Mutations: descriptors drawn by fast-check (indices taken modulo what the mapping has, so they
// apply to any mapping and shrink), applied to a fresh copy of the mapping's JSON.

const LEVEL_NAMES = ["dram", "gbuf", "spatial", "rf"] as const;
const DIM_NAMES = ["N", "G", "K", "C", "P", "Q", "R", "S"];
/** Values a user may put where a number, a flag or an object belongs. */
const WEIRD: readonly Json[] = [0, -1, 1.5, 2 ** 53, 2 ** 31, 1e300, -0, "2", "", null, true, false, [], [2], {}, { factor: 2 }];
const NON_JSON = [NaN, Infinity, -Infinity, undefined] as unknown as Json[];
const weird = fc.oneof(fc.constantFrom(...WEIRD), fc.constantFrom(...NON_JSON), fc.integer({ min: -2, max: 40 }));
const dimName = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...DIM_NAMES) }, { weight: 1, arbitrary: fc.constantFrom<Json>("X", "k", "p", "", "NN", null, 3, ["K"]) });
const tensorName = fc.oneof({ weight: 4, arbitrary: fc.constantFrom("input", "weight", "output") }, { weight: 1, arbitrary: fc.constantFrom("psum", "Input", "", "inputs", "__proto__", "constructor") });
const flagValue = fc.oneof({ weight: 4, arbitrary: fc.boolean() as fc.Arbitrary<Json> }, { weight: 1, arbitrary: weird });

/** Mutations that keep the mapping well formed, mostly: they change its meaning (factors, orders, flags). */
const semantic = fc.oneof(
  fc.record({ k: fc.constant("factor" as const), loop: fc.nat(), value: fc.oneof(fc.constantFrom("double", "halve", "inc", "dec"), fc.integer({ min: 1, max: 12 })) }),
  fc.record({ k: fc.constant("moveLevel" as const), loop: fc.nat(), to: fc.constantFrom(...LEVEL_NAMES), at: fc.nat(), merge: fc.boolean() }),
  fc.record({ k: fc.constant("moveDim" as const), loop: fc.nat(), dim: fc.constantFrom<Json>(...DIM_NAMES) }),
  fc.record({ k: fc.constant("swapFactors" as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ k: fc.constant("shuffle" as const), level: fc.constantFrom(...LEVEL_NAMES), seed: fc.nat() }),
  fc.record({ k: fc.constant("axis" as const), loop: fc.nat(), value: fc.constant<Json>("swap") }),
  fc.record({ k: fc.constant("split" as const), loop: fc.nat(), to: fc.constantFrom(...LEVEL_NAMES), at: fc.nat(), part: fc.integer({ min: 2, max: 5 }) }),
  fc.record({ k: fc.constant("addLoop" as const), level: fc.constantFrom(...LEVEL_NAMES), dim: fc.constantFrom<Json>(...DIM_NAMES), factor: fc.integer({ min: 1, max: 4 }) as fc.Arbitrary<Json>, axis: fc.constantFrom<Json>("row", "col"), at: fc.nat() }),
  fc.record({ k: fc.constant("flag" as const), level: fc.constant("gbuf"), field: fc.constantFrom("keep", "doubleBuffer"), tensor: fc.constantFrom("input", "weight", "output"), value: fc.boolean() as fc.Arbitrary<Json> }),
  fc.record({ k: fc.constant("flag" as const), level: fc.constant("rf"), field: fc.constantFrom("keep", "stream", "stream", "doubleBuffer", "doubleBufferOutput"), tensor: fc.constantFrom("input", "weight", "output"), value: fc.boolean() as fc.Arbitrary<Json> }),
  fc.record({ k: fc.constant("fuseRandom" as const), seed: fc.nat() }),
  fc.record({ k: fc.constant("passThrough" as const), tensor: fc.constantFrom("input", "weight", "output"), how: fc.constantFrom("stream", "bypass") }),
  fc.record({ k: fc.constant("fuse" as const), dims: fc.uniqueArray(fc.constantFrom<Json>(...DIM_NAMES), { minLength: 2, maxLength: 3 }), extents: fc.array(fc.integer({ min: 1, max: 8 }) as fc.Arbitrary<Json>, { minLength: 3, maxLength: 3 }), append: fc.boolean(), fit: fc.constant(true) }),
);
/** Mutations that break the mapping's form, mostly: wrong types and values, unknown names and keys. */
const structural = fc.oneof(
  fc.record({ k: fc.constant("factor" as const), loop: fc.nat(), value: weird }),
  fc.record({ k: fc.constant("moveDim" as const), loop: fc.nat(), dim: dimName }),
  fc.record({ k: fc.constant("dup" as const), loop: fc.nat() }),
  fc.record({ k: fc.constant("drop" as const), loop: fc.nat() }),
  fc.record({ k: fc.constant("axis" as const), loop: fc.nat(), value: fc.constantFrom<Json>("row", "col", "ROW", "diag", null, 0) }),
  fc.record({ k: fc.constant("addLoop" as const), level: fc.constantFrom(...LEVEL_NAMES), dim: dimName, factor: fc.oneof(fc.integer({ min: 1, max: 6 }), weird), axis: fc.constantFrom<Json>("row", "col"), at: fc.nat() }),
  fc.record({ k: fc.constant("flag" as const), level: fc.constantFrom("gbuf", "rf", "rf", "dram", "spatial"), field: fc.constantFrom("keep", "stream", "stream", "doubleBuffer", "doubleBufferOutput"), tensor: tensorName, value: flagValue }),
  fc.record({ k: fc.constant("fuse" as const), dims: fc.array(dimName, { minLength: 0, maxLength: 4 }), extents: fc.array(fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 8 }) as fc.Arbitrary<Json> }, { weight: 1, arbitrary: weird }), { maxLength: 4 }), append: fc.boolean(), fit: fc.boolean() }),
  fc.record({ k: fc.constant("key" as const), node: fc.nat(), key: fc.constantFrom("bogus", "__proto__", "constructor", "prototype", "Loops", "factors", "keep", "axis"), value: fc.oneof(weird, fc.constant<Json>({ rows: 2 })) }),
  fc.record({ k: fc.constant("delete" as const), node: fc.nat() }),
  fc.record({ k: fc.constant("replace" as const), node: fc.nat(), value: fc.oneof(weird, fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>) }),
  // What only an API caller can pass: a sparse array (a hole), a value that contains itself.
  fc.record({ k: fc.constant("hole" as const), node: fc.nat() }),
  fc.record({ k: fc.constant("cycle" as const), node: fc.nat(), up: fc.nat() }),
);
const mutation = fc.oneof({ weight: 3, arbitrary: semantic }, { weight: 1, arbitrary: structural });
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

/** A loop of the mapping: its level's array and its index there. */
interface LoopRef {
  readonly level: (typeof LEVEL_NAMES)[number];
  readonly loops: Json[];
  readonly i: number;
}
function loopsOf(m: Obj): LoopRef[] {
  const out: LoopRef[] = [];
  for (const level of LEVEL_NAMES) {
    const lv = m[level];
    if (!isObj(lv) || !Array.isArray(lv.loops)) continue;
    lv.loops.forEach((_, i) => out.push({ level, loops: lv.loops as Json[], i }));
  }
  return out;
}
function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
/** Every node below the root: its parent and key. */
function nodesOf(root: Json): { parent: Obj | Json[]; key: Key }[] {
  const out: { parent: Obj | Json[]; key: Key }[] = [];
  const seen = new Set<unknown>();
  const visit = (v: Json): void => {
    if (seen.has(v)) return; // (a mutation may have made a cycle)
    if (v !== null && typeof v === "object") seen.add(v);
    if (Array.isArray(v)) v.forEach((x, i) => (out.push({ parent: v, key: i }), visit(x)));
    else if (isObj(v)) for (const k of Object.keys(v)) (out.push({ parent: v, key: k }), visit(v[k]!));
  };
  visit(root);
  return out;
}
/** Sets an own property (so `__proto__` becomes a key, as JSON.parse makes it, not a prototype). */
function setKey(o: Obj, key: string, value: Json): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}
function levelObj(m: Obj, level: string): Obj {
  if (!isObj(m[level])) setKey(m, level, {});
  return m[level] as Obj;
}
function levelLoops(m: Obj, level: string): Json[] {
  const lv = levelObj(m, level);
  if (!Array.isArray(lv.loops)) setKey(lv, "loops", []);
  return lv.loops as Json[];
}
function pseudoShuffle<T>(a: T[], seed: number): T[] {
  let s = seed + 1;
  for (let i = a.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

const kindOf = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);
const positiveInt = (v: unknown): boolean => typeof v === "number" && Number.isSafeInteger(v) && v >= 1;
/** Fields whose value must be a boolean, and the tensors of the per-tensor flags. */
const TENSOR_KEYS = ["input", "weight", "output"];

/**
 * Applies one mutation to `m` in place. Returns why the result must be refused whatever else the
 * mapping holds (a value of the wrong type or form, an unknown name or key), or undefined.
 */
function apply(m: Obj, drawn: Mutation, layer: ConvLayer): string | undefined {
  const mu = structuredClone(drawn); // (its values go into the mapping, which later mutations change)
  const loops = loopsOf(m);
  const pick = (n: number): LoopRef | undefined => (loops.length === 0 ? undefined : loops[n % loops.length]);
  switch (mu.k) {
    case "factor": {
      const r = pick(mu.loop);
      if (!r || !isObj(r.loops[r.i])) return;
      const l = r.loops[r.i] as Obj;
      const f = typeof l.factor === "number" ? l.factor : 1;
      const rel: Record<string, number> = { double: f * 2, halve: Math.max(1, Math.floor(f / 2)), inc: f + 1, dec: f - 1 };
      l.factor = typeof mu.value === "string" && mu.value in rel ? rel[mu.value]! : mu.value;
      return positiveInt(l.factor) ? undefined : "a factor that is not a positive integer";
    }
    case "moveLevel": {
      const r = pick(mu.loop);
      if (!r) return;
      const [l] = r.loops.splice(r.i, 1);
      if (!isObj(l)) return;
      const to = levelLoops(m, mu.to);
      const same = to.find((x) => isObj(x) && x.dim === l.dim && (mu.to !== "spatial" || x.axis === (l.axis ?? "row")));
      if (mu.merge && isObj(same) && typeof same.factor === "number" && typeof l.factor === "number") {
        same.factor *= l.factor;
        return;
      }
      const moved: Obj = { dim: l.dim!, factor: l.factor! };
      if (mu.to === "spatial") moved.axis = l.axis ?? (mu.at % 2 === 0 ? "row" : "col");
      to.splice(mu.at % (to.length + 1), 0, moved);
      return;
    }
    case "moveDim": {
      const r = pick(mu.loop);
      if (!r || !isObj(r.loops[r.i])) return;
      (r.loops[r.i] as Obj).dim = mu.dim;
      return DIM_NAMES.includes(mu.dim as string) ? undefined : "an unknown dimension";
    }
    case "swapFactors": {
      const a = pick(mu.a);
      const b = pick(mu.b);
      if (!a || !b || !isObj(a.loops[a.i]) || !isObj(b.loops[b.i])) return;
      const la = a.loops[a.i] as Obj;
      const lb = b.loops[b.i] as Obj;
      [la.factor, lb.factor] = [lb.factor!, la.factor!];
      return;
    }
    case "shuffle": {
      const lv = m[mu.level];
      if (isObj(lv) && Array.isArray(lv.loops)) pseudoShuffle(lv.loops, mu.seed);
      return;
    }
    case "split": {
      // f = a x b: the loop keeps a, a new loop of b on the same dimension goes to another level.
      const r = pick(mu.loop);
      const l = r && r.loops[r.i];
      if (!r || !isObj(l) || typeof l.factor !== "number" || l.factor % mu.part !== 0) return;
      l.factor /= mu.part;
      const to = levelLoops(m, mu.to);
      const moved: Obj = { dim: l.dim!, factor: mu.part };
      if (mu.to === "spatial") moved.axis = mu.at % 2 === 0 ? "row" : "col";
      to.splice(mu.at % (to.length + 1), 0, moved);
      return;
    }
    case "dup": {
      const r = pick(mu.loop);
      if (r) r.loops.splice(r.i, 0, structuredClone(r.loops[r.i]!));
      return;
    }
    case "drop": {
      const r = pick(mu.loop);
      if (r) r.loops.splice(r.i, 1);
      return;
    }
    case "axis": {
      const r = pick(mu.loop);
      if (!r || !isObj(r.loops[r.i]) || (mu.value === "swap" && r.level !== "spatial")) return;
      const l = r.loops[r.i] as Obj;
      l.axis = mu.value === "swap" ? (l.axis === "row" ? "col" : "row") : mu.value;
      return l.axis === "row" || l.axis === "col" ? undefined : r.level === "spatial" ? "an unknown axis" : "an axis on a temporal loop";
    }
    case "addLoop": {
      const to = levelLoops(m, mu.level);
      const l: Obj = { dim: mu.dim, factor: mu.factor };
      if (mu.level === "spatial") l.axis = mu.axis;
      to.splice(mu.at % (to.length + 1), 0, l);
      return;
    }
    case "flag": {
      const lv = levelObj(m, mu.level);
      const known = mu.level === "rf" || (mu.level === "gbuf" && (mu.field === "keep" || mu.field === "doubleBuffer"));
      const valueOk = typeof mu.value === "boolean" || mu.value === undefined;
      if (mu.field === "doubleBuffer" || mu.field === "doubleBufferOutput") {
        setKey(lv, mu.field, mu.value);
        return !known && mu.value !== undefined ? `${mu.field} on the ${mu.level} level` : valueOk ? undefined : `${mu.field} not a boolean`;
      }
      if (!isObj(lv[mu.field])) setKey(lv, mu.field, {});
      setKey(lv[mu.field] as Obj, mu.tensor, mu.value);
      if (mu.value === undefined) return undefined;
      return !known ? `${mu.field} on the ${mu.level} level` : !TENSOR_KEYS.includes(mu.tensor) ? `an unknown tensor in ${mu.field}` : valueOk ? undefined : `${mu.field}.${mu.tensor} not a boolean`;
    }
    case "fuse": {
      const sizes: Record<string, number> = dimSizesOf(layer);
      // `fit`: extents within the sizes (the group's members otherwise unchanged), else as drawn.
      const extents = mu.dims.map((d, i) => {
        const e = mu.extents[i] ?? 1;
        return mu.fit && typeof e === "number" && typeof d === "string" && sizes[d] !== undefined ? Math.max(1, Math.min(Math.abs(Math.trunc(e)) || 1, sizes[d])) : e;
      });
      const group: Obj = { dims: mu.dims, extents: mu.fit ? extents : mu.extents };
      if (mu.append && Array.isArray(m.fuse)) m.fuse.push(group);
      else m.fuse = [group];
      return;
    }
    case "key": {
      const objs = [m, ...nodesOf(m).map((n) => (n.parent as Record<Key, Json>)[n.key]).filter(isObj)];
      setKey(objs[mu.node % objs.length]!, mu.key, mu.value);
      return ["bogus", "__proto__", "constructor", "prototype", "Loops", "factors"].includes(mu.key) && mu.value !== undefined ? `a key ${mu.key}` : undefined;
    }
    case "delete": {
      const ns = nodesOf(m);
      if (ns.length === 0) return;
      const n = ns[mu.node % ns.length]!;
      if (Array.isArray(n.parent)) n.parent.splice(n.key as number, 1);
      else delete n.parent[n.key];
      return;
    }
    case "fuseRandom": {
      // A fused group made well formed (walk.ts): its members' loops rebuilt over the group.
      const parsed = attempt(() => parseMapping(m));
      const fused = parsed.ok ? fuseRandom(parsed.value, layer, rng(mu.seed)) : undefined;
      if (!fused) return;
      for (const k of Object.keys(m)) delete m[k];
      Object.assign(m, JSON.parse(JSON.stringify(fused)) as Obj);
      return;
    }
    case "passThrough": {
      // The tensor streams or bypasses the RF, and the rf loops that would reuse a word of it
      // move to the gbuf level, innermost (legality rules 4b and 4c).
      const rf = levelObj(m, "rf");
      const field = mu.how === "stream" ? "stream" : "keep";
      if (!isObj(rf[field])) setKey(rf, field, {});
      (rf[field] as Obj)[mu.tensor] = mu.how === "stream";
      const indexes = { input: ["N", "G", "C", "P", "Q", "R", "S"], weight: ["G", "K", "C", "R", "S"], output: ["N", "G", "K", "P", "Q"] }[mu.tensor]!;
      const rfLoops = levelLoops(m, "rf");
      const stay = rfLoops.filter((l) => isObj(l) && indexes.includes(l.dim as string));
      // (an input that passes through takes P or R, Q or S, at the rf level: not both)
      const out = rfLoops.filter((l) => !stay.includes(l) || (mu.tensor === "input" && isObj(l) && ((l.dim === "R" && stay.some((x) => isObj(x) && x.dim === "P")) || (l.dim === "S" && stay.some((x) => isObj(x) && x.dim === "Q")))));
      const gbuf = levelLoops(m, "gbuf");
      for (const l of out) {
        rfLoops.splice(rfLoops.indexOf(l), 1);
        const same = gbuf.find((x) => isObj(x) && isObj(l) && x.dim === l.dim);
        if (isObj(same) && isObj(l) && typeof same.factor === "number" && typeof l.factor === "number") same.factor *= l.factor;
        else gbuf.push(l);
      }
      return;
    }
    case "hole": {
      const arrays = nodesOf(m).map((n) => (n.parent as Record<Key, Json>)[n.key]).filter((v): v is Json[] => Array.isArray(v) && v.length > 0);
      if (arrays.length === 0) return;
      const a = arrays[mu.node % arrays.length]!;
      delete a[mu.node % a.length];
      return "a hole in an array";
    }
    case "cycle": {
      // A field set to one of the objects that contain it (the root included).
      const chain = [m, ...nodesOf(m).map((n) => (n.parent as Record<Key, Json>)[n.key]).filter(isObj)];
      const at = chain[mu.node % chain.length]!;
      const keys = Object.keys(at);
      setKey(at, keys.length > 0 ? keys[mu.up % keys.length]! : "loops", ancestorOf(m, at, mu.up));
      return "a value that contains itself";
    }
    case "replace": {
      const ns = nodesOf(m);
      if (ns.length === 0) return;
      const n = ns[mu.node % ns.length]!;
      const old = (n.parent as Record<Key, Json>)[n.key];
      if (Array.isArray(n.parent)) n.parent[n.key as number] = mu.value;
      else setKey(n.parent, n.key as string, mu.value);
      // Every number of a mapping is a positive integer (factors, extents).
      if (mu.value === undefined) return undefined;
      if (kindOf(old) !== kindOf(mu.value)) return `a ${kindOf(old)} replaced by a ${kindOf(mu.value)}`;
      return typeof mu.value === "number" && !positiveInt(mu.value) ? "a number that is not a positive integer" : undefined;
    }
  }
}

/** One of the objects on the path from `root` to `node` (`node` included). */
function ancestorOf(root: Obj, node: Obj, pickAt: number): Obj {
  const path: Obj[] = [];
  const seen = new Set<unknown>();
  const find = (v: Json, trail: Obj[]): boolean => {
    if (v === node) return (path.push(...trail, node), true);
    if (seen.has(v)) return false;
    seen.add(v);
    if (Array.isArray(v)) return v.some((x) => find(x, trail));
    return isObj(v) && Object.values(v).some((x) => find(x, [...trail, v]));
  };
  find(root, []);
  return path[pickAt % path.length]!;
}

function dimSizesOf(l: ConvLayer): Record<string, number> {
  const p = Math.floor((l.inHeight + l.pads[0] + l.pads[2] - (l.kernelHeight - 1) * l.dilations[0] - 1) / l.strides[0]) + 1;
  const q = Math.floor((l.inWidth + l.pads[1] + l.pads[3] - (l.kernelWidth - 1) * l.dilations[1] - 1) / l.strides[1]) + 1;
  return { N: l.batch, G: l.groups, K: l.outChannels / l.groups, C: l.inChannels / l.groups, P: p, Q: q, R: l.kernelHeight, S: l.kernelWidth };
}

function jsonOf(m: Mapping): Obj {
  return JSON.parse(mappingToJson(m)) as Obj;
}

// ---------------------------------------------------------------------------------------------
// The oracle.

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };
function attempt<T>(f: () => T): Outcome<T> {
  try {
    return { ok: true, value: f() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** The ConfigError of a failed outcome (anything else fails the test), its field in the mapping. */
function configErrorOf(o: Outcome<unknown>, what: string): ConfigError {
  if (o.ok) throw new Error(`${what}: expected a ConfigError, it returned`);
  const e = o.error;
  if (!(e instanceof ConfigError)) throw new Error(`${what}: threw ${(e as Error)?.name ?? typeof e}, not a ConfigError: ${(e as Error)?.stack ?? String(e)}`);
  // The field names where in the mapping the problem is (a legality rule on a pooled RF names
  // the pool it overflows); the message reads "<field> must <rule>; got <value>".
  expect(e.field, `${what}: ${e.message}`).toMatch(/^(mapping|dataflow)([.[]|$)|^arch\.rf\.sharedEntries$/);
  expect(e.message.startsWith(`${e.field} must ${e.rule}; got `), `${what}: ${e.message}`).toBe(true);
  return e;
}
/** A field with simulate's root (`dataflow`, its option) read as the mapping's own (`mapping`). */
const inMapping = (field: string): string => field.replace(/^dataflow/, "mapping");

/** MAPPING_FUZZ_STATS: what the cases reached (outcomes, rules broken, features run), printed at the end. */
const STATS = process.env.MAPPING_FUZZ_STATS ? new Map<string, number>() : undefined;
const tally = (key: string): void => void STATS?.set(key, (STATS.get(key) ?? 0) + 1);

/** How a case runs: checked mode (every read checks its word's tag) and the engine's mode. */
interface RunMode {
  readonly checked: boolean;
  readonly mode: "fast" | "reference";
}
const FAST: RunMode = { checked: false, mode: "fast" };
const runMode = fc.oneof({ weight: 6, arbitrary: fc.constant(FAST) }, { weight: 1, arbitrary: fc.record({ checked: fc.boolean(), mode: fc.constantFrom<"fast" | "reference">("fast", "reference") }) });

function runSim(base: Base, dataflow: unknown, how: RunMode = FAST): SimulationResult {
  return simulate({ layer: base.layer, arch: base.preset, archOverrides: base.overrides, dataflow: dataflow as Record<string, unknown>, limits: LIMITS, ...how });
}

/** Checks one mutated mapping against the oracle (file header); returns what happened. */
function checkCase(base: Base, mutated: Json, asText: boolean, how: RunMode, what: string): "parse" | "illegal" | "ran" {
  const input = asText ? (safeJson(mutated) ?? mutated) : mutated;
  const parsed = attempt(() => parseMapping(input, base.layer));
  const sim = attempt(() => runSim(base, input, how));
  if (!parsed.ok) {
    const pe = configErrorOf(parsed, `${what}: parseMapping`);
    tally(`refused: ${pe.rule.slice(0, 40)}`);
    const se = configErrorOf(sim, `${what}: simulate`);
    expect(inMapping(se.field), `${what}: simulate's error names another field: ${se.message} (parseMapping: ${pe.message})`).toBe(pe.field);
    return "parse";
  }
  const m = parsed.value;
  expect(parseMapping(JSON.parse(mappingToJson(m)) as unknown), `${what}: round trip`).toEqual(m);
  const legal = attempt(() => checkMapping(m, base.layer, base.arch, { types: INT8 }));
  if (!legal.ok) throw new Error(`${what}: checkMapping threw ${(legal.error as Error).stack}`);
  if (!legal.value.ok) {
    const se = configErrorOf(sim, `${what}: simulate`);
    expect(inMapping(se.field), `${what}: simulate's error names another field: ${se.message} (checkMapping: ${legal.value.reason})`).toBe(legal.value.field);
    return "illegal";
  }
  const features = { fuse: !!m.fuse, stream: !!m.rf.stream, doubleBufferOutput: !!m.rf.doubleBufferOutput, rfBypass: !m.rf.keep.input || !m.rf.keep.weight, gbufBypass: !Object.values(m.gbuf.keep).every(Boolean), checked: how.checked };
  for (const [k, on] of Object.entries(features)) if (on) tally(`ran: ${k}`);
  if (!sim.ok) throw new Error(`${what}: a legal mapping failed to simulate: ${(sim.error as Error)?.stack ?? String(sim.error)}`);
  const v = sim.value.verification;
  expect(v.ok && v.mismatches === 0, `${what}: outputs differ from the reference: ${JSON.stringify(v)}`).toBe(true);
  expect(sim.value.mapping).toEqual(m);
  return "ran";
}

/** JSON text, or undefined for a value that contains itself. */
function safeJson(v: unknown): string | undefined {
  try {
    return JSON.stringify(v);
  } catch {
    return undefined;
  }
}

function describeCase(base: Base, mapping: Json, muts: readonly unknown[]): string {
  const layer = base.layer;
  const l = `n=${layer.batch},g=${layer.groups},c=${layer.inChannels},k=${layer.outChannels},h=${layer.inHeight},w=${layer.inWidth},r=${layer.kernelHeight}x${layer.kernelWidth},stride=${layer.strides.join("x")},dil=${layer.dilations.join("x")},pads=${layer.pads.join(",")}`;
  return `layer ${l} on ${base.arch.name}${base.overrides ? ` + ${JSON.stringify(base.overrides)}` : ""}, base ${base.label}, mutations ${JSON.stringify(muts)} -> ${safeJson(mapping) ?? "(a value that contains itself)"}`;
}

// ---------------------------------------------------------------------------------------------
// Changes that keep the meaning.

const neutral = fc.oneof(
  fc.record({ k: fc.constant("reorderKeys" as const), seed: fc.nat() }),
  fc.record({ k: fc.constant("unitLoop" as const), level: fc.constantFrom(...LEVEL_NAMES), dim: fc.constantFrom(...DIM_NAMES), axis: fc.constantFrom("row", "col"), at: fc.nat() }),
  fc.record({ k: fc.constant("dropDefaults" as const) }),
  fc.record({ k: fc.constant("spellDefaults" as const) }),
  fc.record({ k: fc.constant("rename" as const), name: fc.string({ maxLength: 8 }) }),
);
type Neutral = typeof neutral extends fc.Arbitrary<infer T> ? T : never;

/** `v` with every object's keys in a shuffled order. */
function reorderKeys(v: Json, seed: number): Json {
  if (Array.isArray(v)) return v.map((x) => reorderKeys(x, seed + 1));
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const k of pseudoShuffle(Object.keys(v), seed)) setKey(out, k, reorderKeys(v[k]!, seed + 1));
  return out;
}

/** Applies a change that keeps the meaning; returns the new JSON. */
function applyNeutral(m: Obj, mu: Neutral, base: Base): Obj {
  switch (mu.k) {
    case "reorderKeys":
      return reorderKeys(m, mu.seed) as Obj;
    case "unitLoop": {
      // A loop of factor 1 where the dimension has none (below the dram level a fused group is
      // its lead's only, and the lead has no rf loop).
      const group = base.mapping.fuse?.find((g) => g.dims.includes(mu.dim as never));
      if (group && mu.level !== "dram" && (group.dims[0] !== mu.dim || mu.level === "rf")) return m;
      const loops = levelLoops(m, mu.level);
      if (loops.some((l) => isObj(l) && l.dim === mu.dim && (mu.level !== "spatial" || l.axis === mu.axis))) return m;
      loops.splice(mu.at % (loops.length + 1), 0, mu.level === "spatial" ? { dim: mu.dim, factor: 1, axis: mu.axis } : { dim: mu.dim, factor: 1 });
      return m;
    }
    case "dropDefaults": {
      for (const level of ["gbuf", "rf"]) {
        const lv = m[level];
        if (!isObj(lv)) continue;
        if (lv.doubleBuffer === false) delete lv.doubleBuffer;
        if (isObj(lv.keep) && Object.values(lv.keep).every((x) => x === true)) delete lv.keep;
      }
      for (const level of LEVEL_NAMES) {
        const lv = m[level];
        if (!isObj(lv)) continue;
        if (Array.isArray(lv.loops) && lv.loops.length === 0) delete lv.loops;
        if (Object.keys(lv).length === 0) delete m[level];
      }
      return m;
    }
    case "spellDefaults": {
      const rf = levelObj(m, "rf");
      if (rf.stream === undefined) rf.stream = { input: false, weight: false, output: false };
      if (rf.doubleBufferOutput === undefined) rf.doubleBufferOutput = false;
      if (m.fuse === undefined) m.fuse = [];
      for (const level of ["gbuf", "rf"]) {
        const lv = levelObj(m, level);
        if (isObj(lv.keep)) for (const t of TENSOR_KEYS) if (lv.keep[t] === true) delete lv.keep[t];
      }
      return m;
    }
    case "rename":
      m.name = mu.name;
      return m;
  }
}

const resultCache = new Map<Base, SimulationResult>();
/** What must not change: cycles, every counter, the stalls, the outputs. */
function observed(r: SimulationResult): unknown {
  return { cycles: r.cycles, counters: r.counters, stalls: r.stalls, output: Array.from(r.output), verification: r.verification };
}

describe("mapping boundary fuzz", () => {
  it("a mutated mapping is refused with a ConfigError in the mapping, or simulates bit-exactly", () => {
    const seen = { parse: 0, illegal: 0, ran: 0, skipped: 0 };
    fc.assert(
      fc.property(baseCase, fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.boolean(), runMode, (c, muts, asText, how) => {
        const base = baseOf(c);
        if (!base) return void seen.skipped++;
        const m = jsonOf(base.mapping);
        let refuse: string | undefined;
        for (const mu of muts) refuse = apply(m, mu, base.layer);
        const what = describeCase(base, m, muts);
        const outcome = checkCase(base, m, asText, how, `${what} (${JSON.stringify(how)})`);
        // The last mutation's wrong value, name or key must be refused, whatever the rest holds.
        if (refuse) expect(outcome, `${what}: ${refuse} was accepted`).toBe("parse");
        seen[outcome]++;
      }),
      { numRuns: Math.round(700 * SCALE), seed: SEED },
    );
    if (STATS) console.log(JSON.stringify(seen), [...STATS].sort((a, b) => b[1] - a[1]));
    // The fuzz reaches all three outcomes (a fuzz whose cases all fail to parse proves little).
    expect(seen.ran).toBeGreaterThan(0);
    expect(seen.illegal).toBeGreaterThan(0);
    expect(seen.parse).toBeGreaterThan(0);
  }, TIMEOUT);

  it("a change that keeps the meaning keeps cycles, counters and stalls", () => {
    let compared = 0;
    fc.assert(
      fc.property(baseCase, fc.array(neutral, { minLength: 1, maxLength: 4 }), fc.boolean(), (c, muts, asText) => {
        const base = baseOf(c);
        if (!base) return;
        let before = resultCache.get(base);
        if (!before) resultCache.set(base, (before = runSim(base, base.mapping)));
        let m = jsonOf(base.mapping);
        for (const mu of muts) m = applyNeutral(m, mu, base);
        const what = describeCase(base, m, muts);
        const after = attempt(() => runSim(base, asText ? JSON.stringify(m) : m));
        if (!after.ok) throw new Error(`${what}: ${(after.error as Error).stack}`);
        expect(observed(after.value), what).toEqual(observed(before));
        compared++;
      }),
      { numRuns: Math.round(100 * SCALE), seed: SEED },
    );
    expect(compared).toBeGreaterThan(0);
  }, TIMEOUT);
});

// ---------------------------------------------------------------------------------------------
// Regressions: the bugs the fuzz found, each pinned by its smallest case.

/** The ConfigError `f` throws (anything else fails). */
function configError(f: () => unknown): ConfigError {
  const o = attempt(f);
  if (o.ok) throw new Error("expected a ConfigError, it returned");
  if (!(o.error instanceof ConfigError)) throw o.error;
  return o.error;
}

describe("mapping boundary regressions", () => {
  const layer = convLayer({ inChannels: 2, inHeight: 4, inWidth: 4, outChannels: 3, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] });
  const valid = (): Obj => jsonOf(buildMapping("rs", layer, resolveArch("eyeriss")));

  it("null is not an absent field: a level or a flag given null is refused, not taken as the default", () => {
    // Before: `"gbuf": null` was read as {} and `"keep": { "input": null }` as true (keep).
    const cases: [(m: Obj) => void, string][] = [
      [(m) => (m.gbuf = null), "mapping.gbuf"],
      [(m) => (m.dram = null), "mapping.dram"],
      [(m) => ((m.rf as Obj).keep = { input: null }), "mapping.rf.keep.input"],
      [(m) => ((m.gbuf as Obj).keep = { output: null, input: true }), "mapping.gbuf.keep.output"],
      [(m) => ((m.rf as Obj).stream = { weight: null }), "mapping.rf.stream.weight"],
    ];
    for (const [mutate, field] of cases) {
      const m = valid();
      mutate(m);
      const e = configError(() => parseMapping(JSON.stringify(m), layer));
      expect(e.field).toBe(field);
      expect(e.message).toBe(`${field} must ${e.rule}; got null`);
      expect(configError(() => simulate({ layer, arch: "eyeriss", dataflow: m, limits: LIMITS })).field).toBe(field.replace(/^mapping/, "dataflow"));
    }
    // Absent still means the default.
    const m = valid();
    delete (m.rf as Obj).keep;
    expect(parseMapping(m, layer).rf.keep).toEqual({ input: true, weight: true, output: true });
  });

  it("a mapping object that contains itself is refused, naming the field that closes the cycle (it hung)", () => {
    const m = valid();
    ((m.dram as Obj).loops as Json[]).push(m);
    expect(configError(() => parseMapping(m)).message).toBe('mapping.dram.loops[0] must not refer back to mapping, which contains it (a cycle: the input must be plain data); got "a reference to mapping"');
    const n = valid();
    setKey(n.rf as Obj, "keep", n.rf as Obj);
    expect(configError(() => simulate({ layer, arch: "eyeriss", dataflow: n, limits: LIMITS })).field).toBe("dataflow.rf.keep");
    // One object in two fields is no cycle.
    const shared = valid();
    const keep = { input: true, weight: true, output: true };
    (shared.gbuf as Obj).keep = keep;
    (shared.rf as Obj).keep = keep;
    expect(parseMapping(shared, layer).gbuf.keep).toEqual(keep);
  });

  it("a sparse array (a hole) is refused at the hole; it passed the parse and crashed the run with a TypeError", () => {
    const m = valid();
    const loops = (m.gbuf as Obj).loops as Json[];
    loops.unshift({ dim: "N", factor: 1 });
    delete loops[0];
    expect(configError(() => parseMapping(m, layer)).message).toBe("mapping.gbuf.loops[0] must be a loop object { dim, factor }; got undefined");
    expect(configError(() => simulate({ layer, arch: "eyeriss", dataflow: m, limits: LIMITS })).field).toBe("dataflow.gbuf.loops[0]");
    const dims = ["P", "Q"];
    delete dims[0];
    expect(configError(() => parseMapping({ fuse: [{ dims, extents: [1, 1] }] })).field).toBe("mapping.fuse[0].dims[0]");
  });

  it("a legal mapping whose staged RF tiles exceed the register files' bound is refused before the run (it threw a RangeError)", () => {
    // Bypassing the RF stages each PE's whole rf tile, twice: 4096 PEs x 2 x 2 x 495,616 words.
    const big = { inChannels: 4096, inHeight: 11, inWidth: 11, outChannels: 1, kernelHeight: 11, kernelWidth: 11 };
    const bypass = {
      gbuf: { keep: { input: false, weight: false, output: true } },
      rf: { loops: [{ dim: "C", factor: 4096 }, { dim: "R", factor: 11 }, { dim: "S", factor: 11 }], keep: { input: false, weight: false, output: true } },
    };
    const arch = resolveArch("eyeriss", { array: { rows: 64, cols: 64 } });
    expect(checkMapping(parseMapping(bypass, convLayer(big)), convLayer(big), arch).ok).toBe(true);
    const e = configError(() => simulate({ layer: big, arch, dataflow: bypass }));
    expect(e.field).toBe("mapping.rf");
    expect(e.message).toMatch(/^mapping\.rf must give register files of at most 1 GiB in all, .*input 991232, weight 991232, psum 24 entries per PE on 64 x 64 PEs.*; got "30\.25 GiB of register files"$/);
    // Within the bound, the staging counts in the memory estimate: it names the mapping.
    const mid = { ...big, inChannels: 1024 };
    const midMapping = { ...bypass, rf: { ...bypass.rf, loops: [{ dim: "C", factor: 1024 }, { dim: "R", factor: 11 }, { dim: "S", factor: 11 }] } };
    const m = configError(() => simulate({ layer: mid, arch: "eyeriss", dataflow: midMapping, limits: { maxMemoryBytes: 2 ** 28 } }));
    expect(m.field).toBe("mapping.rf");
    expect(m.message).toContain("register files with the mapping's staged tiles (input 247808, weight 247808, psum 24 entries per PE)");
  });

  it("a legal mapping of more iterations than the Sequencer can hold is refused before the run (it ran out of JavaScript heap)", () => {
    // One MAC per gbuf iteration: 10^8 iteration starts (the process aborted after 37 s).
    const n = 100;
    const big = { inChannels: n, inHeight: n, inWidth: n, outChannels: n, kernelHeight: 1, kernelWidth: 1 };
    const loops = ["K", "C", "P", "Q"].map((dim) => ({ dim, factor: n }));
    const e = configError(() => simulate({ layer: big, arch: "eyeriss", dataflow: { gbuf: { loops, keep: { input: false, weight: false, output: false } } } }));
    expect(e.field).toBe("mapping.gbuf.loops");
    expect(e.message).toMatch(/^mapping\.gbuf\.loops must give at most 4194304 iterations of the dram loops and of the gbuf loops together .*; got "dram 1 \+ gbuf 100000000 iterations"$/);
    // The same nest over dram iterations names the dram loops.
    expect(configError(() => simulate({ layer: big, arch: "eyeriss", dataflow: { dram: { loops } } })).field).toBe("mapping.dram.loops");
  });

  it("chen2020 on a pooled RF keeps to the pool in its two-level form (its search chose an illegal mapping: InvariantError)", () => {
    const l = { inChannels: 1, inHeight: 12, inWidth: 37, outChannels: 1, kernelHeight: 1, kernelWidth: 1, pads: [0, 0, 1, 0] as [number, number, number, number] };
    const r = simulate({ layer: l, arch: "chen2020", archOverrides: { rf: { sharedEntries: 96 } }, dataflow: "chen2020", limits: LIMITS });
    expect(r.verification.ok && r.verification.mismatches === 0).toBe(true);
  });
});
