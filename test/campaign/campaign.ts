/**
 * A random campaign over the simulator (`npm run campaign`; not part of `npm test`, which runs
 * a few of its cases: campaign.test.ts). Each case is a random layer on a named dataflow and
 * preset (kind `named`: random operand types, zero points, GBuf capacities and array shapes) or
 * on a random legal mapping of the tests' small architectures (`mappings`, `fused`: with fused
 * dimensions; `streamed`: on a small array that forwards operands, streaming one to three tensors
 * through the PEs, as the systolic dataflows do), simulated with timeline replay on and off; every few cases also in checked mode
 * and in reference mode. Every run must verify against the reference convolution, the runs of
 * a case must agree on outputs, cycles, counters and stalls, the DRAM words must equal the
 * closed form the mapper counts wherever it claims to be exact (`exactTraffic`), and no run may
 * beat a lower bound (the cycle bound; max(compulsory, provable) words at the DRAM and GBuf).
 * Kind `mapper` runs the mapper's search instead (random layers, presets, objectives, small
 * budgets) and simulates its best mappings: each must verify, move the DRAM words the search
 * counted, and take 0.25x to 10x the cycles it estimated (check `estimate`: a far-off estimate
 * misleads the search; session 37's estimate was 0.45x to 2.9x on the bench's draws, and 9x on
 * one of 3,272 random searches, where PEs that share a weight tile form no rectangle: docs/mapper.md). The property tests run a few hundred such cases with fixed seeds; a campaign of
 * minutes runs tens of thousands (session 35's found a prefetch that overwrote a GBuf half before
 * its last reads, and plan signatures cut short; session 36's, drain signatures blind to the
 * output tensor, and mappings whose DRAM words the mapper's closed form miscounted).
 */
import seedrandom from "seedrandom";
import { ConfigError } from "../../src/core/errors.js";
import type { ArchOverrides } from "../../src/arch/presets.js";
import type { ArchSpec } from "../../src/arch/spec.js";
import type { Mapping } from "../../src/dataflow/mapping.js";
import { simulate, type SimulateOptions, type SimulationResult } from "../../src/dataflow/simulate.js";
import { dramTraffic } from "../../src/dataflow/traffic.js";
import { exactTraffic, OBJECTIVES, type Objective } from "../../src/mapper/cost.js";
import { map } from "../../src/mapper/search.js";
import { verifyMappings } from "../../src/mapper/verify.js";
import { resolveArch } from "../../src/arch/presets.js";
import type { OperandTypes } from "../../src/workload/dtype.js";
import { convLayer, type ConvLayerSpec } from "../../src/workload/layer.js";
import { difference } from "../helpers/difference.js";
import { ARCHS, legalRandomMapping, legalStreamedMapping, STREAM_ARCH } from "../dataflow/random-mappings.js";

/** What a campaign draws its cases from (see the file header). */
export const CAMPAIGN_KINDS = ["named", "mappings", "fused", "streamed", "mapper"] as const;
export type CampaignKind = (typeof CAMPAIGN_KINDS)[number];

/** A campaign's settings. */
export interface CampaignOptions {
  readonly kind: CampaignKind;
  /** The seed of every random choice (the same seed, the same cases). */
  readonly seed: string;
  /** Stop after this many cases run ... */
  readonly cases?: number;
  /** ... or after this many milliseconds, whichever comes first. */
  readonly ms?: number;
  /** Also in checked mode every n-th case, and in reference mode every m-th (default 6 and 20). */
  readonly checkedEvery?: number;
  readonly referenceEvery?: number;
  /** Layers up to this many times larger in channels and rows (default 1: at most 12 channels a group, 18 x 18). */
  readonly scale?: number;
}

/** A case, as simulate() takes it (replay on and off aside): enough to run it again. */
export type CampaignCase = Omit<SimulateOptions, "timelineReplay" | "checked" | "mode"> & { readonly layer: ConvLayerSpec; readonly arch: string | ArchSpec; readonly dataflow: string | Mapping };

/** A case of kind `mapper`: a search (map()) whose best mappings are simulated (verifyMappings). */
export interface MapperCase {
  readonly layer: ConvLayerSpec;
  readonly arch: string;
  readonly archOverrides?: ArchOverrides;
  readonly objective: Objective;
  readonly budget: number;
  readonly top: number;
  readonly seed: number;
  readonly types: OperandTypes;
}

/** Simulated / estimated cycles a mapper case's winners must stay within (check `estimate`). */
export const ESTIMATE_RANGE: readonly [number, number] = [0.25, 10];

/** A case that failed: which check, what differed (or the error), and the case. */
export interface CampaignFailure {
  readonly check: "replay" | "checked" | "reference" | "traffic" | "bounds" | "mapper" | "estimate" | "error";
  readonly what: string;
  readonly case: CampaignCase | MapperCase;
}

/** What a campaign did. */
export interface CampaignResult {
  readonly cases: number;
  /** Cases no mapping or dataflow could map (a ConfigError before any simulation). */
  readonly skipped: number;
  readonly failures: readonly CampaignFailure[];
  readonly timelinesReplayed: number;
}

const NAMED: readonly { readonly arch: string; readonly dataflows: readonly string[] }[] = [
  { arch: "chen2020", dataflows: ["chen2020", "ws", "os", "is", "rs"] },
  { arch: "eyeriss", dataflows: ["chen2020", "ws", "os", "is", "rs"] },
  { arch: "systolic", dataflows: ["ws", "os", "is"] },
];
const TYPES: readonly OperandTypes[] = [
  { input: "int8", weight: "int8" },
  { input: "uint8", weight: "int8" },
  { input: "int16", weight: "int8" },
  { input: "int8", weight: "int16" },
  { input: "int16", weight: "int16" },
];

/** A random small layer (`x` times larger at most): groups, strides, dilations, asymmetric padding, batch 2, pointwise and FC shapes. */
function randomLayer(r: () => number, x: number): ConvLayerSpec {
  const int = (a: number, b: number) => a + Math.floor(r() * (b - a + 1));
  const g = [1, 1, 1, 2, 4][int(0, 4)]!;
  if (r() < 0.2) return { batch: int(1, 2), inChannels: g * int(1, 40 * x), inHeight: 1, inWidth: 1, outChannels: g * int(1, 40 * x), kernelHeight: 1, kernelWidth: 1, groups: g };
  const kh = int(1, 5), kw = r() < 0.5 ? kh : int(1, 5);
  const dh = r() < 0.25 ? 2 : 1, dw = r() < 0.5 ? dh : 1;
  const pads: [number, number, number, number] = [int(0, 2), int(0, 2), int(0, 2), int(0, 2)];
  const inHeight = int(Math.max(1, (kh - 1) * dh + 1 - pads[0] - pads[2]), 18 * x);
  const inWidth = int(Math.max(1, (kw - 1) * dw + 1 - pads[1] - pads[3]), 18 * x);
  const sh = int(1, 3);
  return { batch: int(1, 2), inChannels: g * int(1, 12 * x), inHeight, inWidth, outChannels: g * int(1, 12 * x), kernelHeight: kh, kernelWidth: kw, strides: [sh, r() < 0.5 ? sh : int(1, 3)], dilations: [dh, dw], pads, groups: g };
}

/** Random GBuf capacities and array shapes over a preset (kinds `named` and `mapper`). */
function randomOverrides(r: () => number): ArchOverrides | undefined {
  const int = (a: number, b: number) => a + Math.floor(r() * (b - a + 1));
  const ov: { -readonly [K in keyof ArchOverrides]: ArchOverrides[K] } = {};
  if (r() < 0.5) ov.gbuf = { capacityBytes: [2048, 4096, 8192, 16384, 65536][int(0, 4)]! };
  if (r() < 0.3) ov.array = { rows: int(2, 16), cols: int(2, 16) };
  return Object.keys(ov).length > 0 ? ov : undefined;
}

/** A random search: a layer on a preset, an objective, a small budget of evaluations. */
function drawMapperCase(r: () => number, x: number): MapperCase {
  const int = (a: number, b: number) => a + Math.floor(r() * (b - a + 1));
  const archOverrides = randomOverrides(r);
  return {
    layer: randomLayer(r, x),
    arch: NAMED[int(0, NAMED.length - 1)]!.arch,
    ...(archOverrides ? { archOverrides } : {}),
    objective: OBJECTIVES[int(0, OBJECTIVES.length - 1)]!,
    budget: int(200, 1500),
    top: int(3, 8),
    seed: int(1, 1000),
    types: TYPES[int(0, TYPES.length - 1)]!,
  };
}

/**
 * Runs a search and simulates its best mappings (verifyMappings throws when a simulated DRAM count
 * differs from the closed form the search ranked them by); what failed, or undefined. A layer no
 * mapping fits (a ConfigError) is `skipped`.
 */
function runMapperCase(c: MapperCase): { failure?: string; skipped?: true; estimate?: true } {
  const layer = convLayer(c.layer);
  const arch = resolveArch(c.arch, c.archOverrides);
  let result;
  try {
    result = map(layer, arch, { objective: c.objective, budget: c.budget, top: c.top, seed: c.seed, types: c.types });
  } catch (e) {
    if (e instanceof ConfigError) return { skipped: true };
    throw e;
  }
  const verified = verifyMappings(result, { seed: c.seed });
  const wrong = verified.findIndex((v) => !v.simulated.verified);
  if (wrong >= 0) return { failure: `mapping ${wrong + 1} of ${verified.length}: its output differs from the reference convolution` };
  // The cycle estimate ranks the search's candidates (docs/mapper.md, "Cycles"): far off, it misleads.
  const off = verified.findIndex((v) => !(v.cycleRatio >= ESTIMATE_RANGE[0] && v.cycleRatio <= ESTIMATE_RANGE[1]));
  return off >= 0 ? { failure: `mapping ${off + 1} of ${verified.length}: simulated ${verified[off]!.simulated.cycles} cycles, ${verified[off]!.cycleRatio.toFixed(2)}x the estimate ${verified[off]!.estimate.cycles} (outside ${ESTIMATE_RANGE[0]}x to ${ESTIMATE_RANGE[1]}x)`, estimate: true } : {};
}

/** The next case of a campaign, or undefined when the draw has no legal mapping. */
function drawCase(kind: CampaignKind, r: () => number, n: number, x: number): CampaignCase | undefined {
  const int = (a: number, b: number) => a + Math.floor(r() * (b - a + 1));
  const spec = randomLayer(r, x);
  const types = TYPES[int(0, TYPES.length - 1)]!;
  const zeroPoints = types.input === "uint8" && r() < 0.5 ? { input: int(0, 20), weight: int(-3, 3) } : undefined;
  const common = { layer: spec, types, seed: int(1, 1000), ...(zeroPoints ? { zeroPoints } : {}) };
  if (kind === "named") {
    const { arch, dataflows } = NAMED[int(0, NAMED.length - 1)]!;
    const ov = randomOverrides(r);
    return { ...common, arch, dataflow: dataflows[int(0, dataflows.length - 1)]!, ...(ov ? { archOverrides: ov } : {}) };
  }
  const layer = convLayer(spec);
  if (kind === "streamed") {
    const m = legalStreamedMapping(layer, int(0, 2 ** 31), r() < 0.3);
    return m ? { ...common, arch: STREAM_ARCH, dataflow: m } : undefined;
  }
  const arch = ARCHS[n % ARCHS.length]!;
  const m = legalRandomMapping(layer, arch, int(0, 2 ** 31), kind === "fused");
  return m ? { ...common, arch, dataflow: m } : undefined;
}

/**
 * Where the closed-form DRAM words (traffic.ts, `dramTraffic`: what the mapper's cost model
 * counts) differ from the run's `dram.read.*` and `dram.write.*`, for a mapping whose count it
 * claims exact (cost.ts, `exactTraffic`); undefined when they agree or it claims nothing.
 */
function trafficDifference(r: SimulationResult): string | undefined {
  if (!exactTraffic(r.mapping, r.layer)) return undefined;
  const model = dramTraffic(r.mapping, r.layer);
  const parts: string[] = [];
  for (const dir of ["read", "write"] as const) {
    for (const t of ["input", "weight", "output"] as const) {
      const simulated = r.counters[`dram.${dir}.${t}`]?.value ?? 0;
      if (model[dir][t] !== simulated) parts.push(`dram.${dir}.${t}: closed form ${model[dir][t]}, simulated ${simulated}`);
    }
  }
  return parts.length > 0 ? parts.join("; ") : undefined;
}

/**
 * Where a run did better than a lower bound allows: cycles below the cycle bound, or the words
 * across the DRAM or GBuf boundary below max(compulsory, provable) there; undefined when none.
 */
function belowBounds(r: SimulationResult): string | undefined {
  const parts: string[] = [];
  if (r.cycles < r.cycleBound.cycles) parts.push(`cycles ${r.cycles} < bound ${r.cycleBound.cycles}`);
  for (const b of ["dram", "gbuf"] as const) {
    const x = r.boundaries[b];
    if (x.measured < x.minimum) parts.push(`${b} words ${x.measured} < bound ${x.minimum}`);
  }
  return parts.length > 0 ? parts.join("; ") : undefined;
}

/** Runs a campaign (see the file header); its failures list each case that failed a check. */
export function runCampaign(o: CampaignOptions): CampaignResult {
  if (!CAMPAIGN_KINDS.includes(o.kind)) throw new ConfigError("kind", o.kind, `be one of ${CAMPAIGN_KINDS.join(", ")}`);
  if (o.cases === undefined && o.ms === undefined) throw new ConfigError("cases", o.cases, "be given, or a time limit (ms)");
  for (const [field, v] of [["cases", o.cases], ["ms", o.ms], ["checkedEvery", o.checkedEvery], ["referenceEvery", o.referenceEvery], ["scale", o.scale]] as const) {
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) throw new ConfigError(field, v, "be a positive integer");
  }
  const r = seedrandom(`campaign/${o.kind}/${o.seed}`);
  const t0 = performance.now();
  const failures: CampaignFailure[] = [];
  let cases = 0, skipped = 0, replayed = 0, draws = 0;
  while ((o.cases === undefined || cases < o.cases) && (o.ms === undefined || performance.now() - t0 < o.ms)) {
    if (o.kind === "mapper") {
      const m = drawMapperCase(r, o.scale ?? 1);
      try {
        const out = runMapperCase(m);
        if (out.skipped) skipped++;
        else cases++;
        if (out.failure) failures.push({ check: out.estimate ? "estimate" : "mapper", what: out.failure, case: m });
      } catch (e) {
        cases++;
        failures.push({ check: "mapper", what: e instanceof Error ? e.message : String(e), case: m });
      }
      continue;
    }
    const c = drawCase(o.kind, r, draws++, o.scale ?? 1);
    if (!c) {
      skipped++;
      continue;
    }
    const run = (extra: Partial<SimulateOptions>): SimulationResult => simulate({ ...(c as SimulateOptions), ...extra });
    const checks: [CampaignFailure["check"], () => SimulationResult][] = [["replay", () => run({ timelineReplay: false })]];
    if ((cases + 1) % (o.checkedEvery ?? 6) === 0) checks.push(["checked", () => run({ checked: true })]);
    if ((cases + 1) % (o.referenceEvery ?? 20) === 0) checks.push(["reference", () => run({ mode: "reference" })]);
    let fast: SimulationResult;
    try {
      fast = run({ timelineReplay: true });
    } catch (e) {
      if (e instanceof ConfigError) skipped++;
      else failures.push({ check: "error", what: e instanceof Error ? e.message : String(e), case: c });
      continue;
    }
    cases++;
    replayed += fast.simulator.replayedTimelines;
    const traffic = trafficDifference(fast);
    if (traffic) failures.push({ check: "traffic", what: traffic, case: c });
    const below = belowBounds(fast);
    if (below) failures.push({ check: "bounds", what: below, case: c });
    for (const [check, other] of checks) {
      try {
        const what = difference(fast, other());
        if (what) failures.push({ check, what, case: c });
      } catch (e) {
        failures.push({ check, what: e instanceof Error ? e.message : String(e), case: c });
      }
    }
  }
  return { cases, skipped, failures, timelinesReplayed: replayed };
}
