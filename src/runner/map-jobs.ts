/**
 * The mapper on many layers: a map job is one layer's search ({@link map}), the simulation of
 * its best mappings ({@link verifyMappings}: bit-exact, DRAM words checked against the closed
 * form) and the named dataflows' estimates on the same objective, as plain JSON (it crosses
 * threads, and `convsim map --shard` writes it as a record). {@link runMapJobs} runs a list of
 * them on worker threads (or in this thread with `jobs: 1`), the costliest first.
 *
 * Identical work runs once: jobs whose layers differ only in their name (VGG-16's conv3_2 and
 * conv3_3, conv4_2 and conv4_3, conv5_1 to conv5_3) with the same architecture and options share
 * one search and one set of simulations, whose result is reported under each name. Nothing in a
 * search or a simulation reads the layer's name (the seeded operands depend on the shape and the
 * seed), so the shared result is the one each job would compute alone (a test compares them).
 */
import type { ArchSpec } from "../arch/spec.js";
import { ConfigError } from "../core/errors.js";
import { buildMapping, DATAFLOW_NAMES } from "../dataflow/dataflows/index.js";
import { checkMapping } from "../dataflow/legality.js";
import type { Mapping } from "../dataflow/mapping.js";
import type { Budget } from "../mapper/budget.js";
import { CostModel, type Estimate, type Objective } from "../mapper/cost.js";
import { map, type MapCandidate, type StopReason } from "../mapper/search.js";
import { rankBySimulation, simulateCandidate, verifyMappings, type VerifiedCandidate } from "../mapper/verify.js";
import type { EnergyTable } from "../report/energy.js";
import { canonicalJson } from "../report/shard.js";
import type { OperandTypes } from "../workload/dtype.js";
import { convLayer, convShape, type ConvLayer } from "../workload/layer.js";
import { deserializeError, runOnWorkers, type SerializedError } from "./worker-pool.js";
import { ELEMENT_COST } from "./jobs.js";

/** One layer's mapper run: the search's options and how many winners to simulate. Plain data. */
export interface MapJob {
  readonly layer: ConvLayer;
  readonly arch: ArchSpec;
  readonly objective: Objective;
  /** Evaluations (deterministic) or seconds. */
  readonly budget: Budget;
  readonly seed: string;
  /** Mappings to keep. */
  readonly top: number;
  /** How many of the `top` to simulate (0 .. top). */
  readonly simulate: number;
  readonly types: OperandTypes;
  readonly energyTable: EnergyTable;
}

/** A kept mapping: its estimate, and what its simulation measured when it was simulated. */
export interface MapJobCandidate {
  readonly mapping: Mapping;
  readonly estimate: Estimate;
  readonly simulated?: VerifiedCandidate["simulated"];
  /** simulated cycles / estimated cycles. */
  readonly cycleRatio?: number;
  /** The named dataflow whose mapping this is, when it was simulated beside the search's winners. */
  readonly named?: string;
}

/** A named dataflow's estimate on the job's objective, or why it cannot map the layer. */
export interface NamedEstimate {
  readonly dataflow: string;
  readonly score?: number;
  readonly dramWords?: number;
  readonly reason?: string;
}

/** What a map job found: plain JSON. */
export interface MapJobResult {
  /** The objective's bound and the DRAM words' max(compulsory, provable). */
  readonly bound: number;
  readonly dramBound: number;
  readonly search: { readonly evaluations: number; readonly pruned: number; readonly illegal: number; readonly scored: number; readonly stoppedBy: StopReason };
  /**
   * The best mappings, best first; the first `simulate` of them simulated. With an objective
   * other than `dram`, the named dataflows whose estimates come within {@link RIVAL_SPAN} of the
   * winners' are simulated too (marked `named`), and every simulated mapping comes first, ordered
   * by its simulated value ({@link rankBySimulation}); the rest follow by the estimate.
   */
  readonly top: readonly MapJobCandidate[];
  /** How many of `top` (its first) are ordered by their simulated objective; absent when none were reordered. */
  readonly rankedBySimulation?: number;
  readonly named: readonly NamedEstimate[];
  /** Wall times of the search and of the simulations, milliseconds (records and reports drop them unless `--timing`). */
  readonly wallMs?: { readonly search: number; readonly simulate: number };
}

/** Progress of one job in this thread: the search's evaluations, then the simulations. */
export type MapJobProgress = { readonly phase: "search"; readonly evaluations: number; readonly best: number | undefined } | { readonly phase: "simulate"; readonly count: number };

/** A named dataflow's legal mapping on the layer with its estimate, or why it has none. */
interface NamedCandidate {
  readonly dataflow: string;
  readonly candidate?: MapCandidate;
  readonly reason?: string;
}

/** Each named dataflow's mapping and estimate on the cost model's objective (those that fit, else the reason): built once, for the notes and the rivals. */
function namedCandidates(layer: ConvLayer, arch: ArchSpec, cost: CostModel): NamedCandidate[] {
  return DATAFLOW_NAMES.map((dataflow) => {
    try {
      const mapping = buildMapping(dataflow, layer, arch, { types: cost.types });
      const v = checkMapping(mapping, layer, arch, { types: cost.types });
      if (!v.ok) return { dataflow, reason: v.reason };
      return { dataflow, candidate: { mapping, estimate: cost.estimate(mapping) } };
    } catch (e) {
      if (e instanceof ConfigError) return { dataflow, reason: e.message };
      throw e;
    }
  });
}

/** A named dataflow's estimate as the report carries it. */
function asEstimate({ dataflow, candidate, reason }: NamedCandidate): NamedEstimate {
  return candidate ? { dataflow, score: candidate.estimate.score, dramWords: candidate.estimate.dram.total } : { dataflow, reason: reason! };
}

/**
 * Runs one map job in this thread (file header).
 * @throws ConfigError when the search finds no legal mapping; InvariantError when a simulated
 *   DRAM count differs from the closed form.
 */
export function runMapJob(job: MapJob, onProgress?: (p: MapJobProgress) => void): MapJobResult {
  const { arch, objective, types, energyTable } = job;
  // A layer that crossed a thread is a plain copy; the shape caches (convShape, layerTraffic)
  // key on the validated, frozen ConvLayer, and without one every search step recomputed them
  // (VGG-16 conv3_2's search: 2.4 s in this thread, 21.5 s in a worker).
  const layer = convLayer(job.layer);
  const t0 = performance.now();
  const result = map(layer, arch, { objective, budget: job.budget, seed: job.seed, top: job.top, types, energyTable, ...(onProgress ? { onProgress: (p) => onProgress({ phase: "search", evaluations: p.evaluations, best: p.best }) } : {}) });
  const t1 = performance.now();
  onProgress?.({ phase: "simulate", count: Math.min(job.simulate, result.top.length) });
  const kept = result.top.slice(0, job.simulate);
  const simulated = verifyMappings({ ...result, top: kept });
  // The named dataflows' mappings (the search's seeds) whose estimates come near the winners' are
  // simulated beside them: an estimate can misrank them (docs/mapper.md, "Verification").
  const named = namedCandidates(layer, arch, new CostModel(layer, arch, { objective, types, energyTable }));
  const rivals = objective !== "dram" && simulated.length > 0 ? namedRivals(named, kept) : [];
  const all = [...simulated, ...rivals.map((c) => simulateCandidate(result, c).candidate)];
  // Simulated mappings go first, ordered by what they cost simulated (the estimate's order for dram).
  const rerank = objective !== "dram" && all.length > 1;
  const verified = rerank ? rankBySimulation(all, objective) : all;
  const t2 = performance.now();
  const candidate = (c: MapJobCandidate | VerifiedCandidate): MapJobCandidate => ({
    mapping: c.mapping,
    estimate: c.estimate,
    ...(c.simulated ? { simulated: c.simulated, cycleRatio: c.cycleRatio! } : {}),
    ...(rivals.some((r) => r.mapping === c.mapping) ? { named: c.mapping.name } : {}),
  });
  return {
    bound: result.bound,
    dramBound: result.dramBound,
    search: { evaluations: result.evaluations, pruned: result.pruned, illegal: result.illegal, scored: result.scored, stoppedBy: result.stoppedBy },
    ...(rerank ? { rankedBySimulation: verified.length } : {}),
    top: [...verified, ...result.top.slice(kept.length)].map(candidate),
    named: named.map(asEstimate),
    wallMs: { search: t1 - t0, simulate: t2 - t1 },
  };
}

/**
 * The named dataflows' mappings whose estimated score is within {@link RIVAL_SPAN} of the best kept
 * mapping's and that are not among the kept ones.
 */
function namedRivals(named: readonly NamedCandidate[], kept: readonly MapCandidate[]): MapCandidate[] {
  const best = Math.min(...kept.map((c) => c.estimate.score));
  const seen = new Set(kept.map((c) => canonicalJson({ ...c.mapping, name: undefined })));
  return named.flatMap(({ candidate: c }) => (c && c.estimate.score <= RIVAL_SPAN * best && !seen.has(canonicalJson({ ...c.mapping, name: undefined })) ? [c] : []));
}

/** How far above the best kept mapping's estimated score a named dataflow's may be and still be simulated beside it. */
export const RIVAL_SPAN = 2;

/** What makes a job's work: everything but the layer's name ({@link runMapJobs} runs equal work once). */
export function mapWorkKey(job: MapJob): string {
  return canonicalJson({ ...job, layer: { ...job.layer, name: undefined } });
}

/**
 * A job's estimated cost, for scheduling the longest first: the simulated mappings' MACs plus
 * `ELEMENT_COST` per tensor element each (as `jobCost` in jobs.ts weighs a simulation whose
 * mapping is not known yet), plus a search's worth.
 */
function mapJobCost(job: MapJob): number {
  const s = convShape(job.layer);
  return (job.simulate + 1) * (s.macs + ELEMENT_COST * (s.inputElements + s.weightElements + s.outputElements));
}

/** Options of {@link runMapJobs}. */
export interface RunMapJobsOptions {
  /** Worker threads (1: run in this thread). */
  readonly jobs: number;
  /** Called in this thread with the progress of the job running there (`jobs: 1` only). */
  readonly onJobProgress?: (job: MapJob, p: MapJobProgress) => void;
  /** Called when a job (or a group of equal jobs) finished: the jobs finished so far and their total. */
  readonly onFinished?: (finished: number, total: number) => void;
}

/**
 * Runs map jobs, each distinct work once ({@link mapWorkKey}), the costliest first, on up to
 * `jobs` worker threads; resolves to one result per job, in the jobs' order.
 * @throws the first failed job's error (a ConfigError or InvariantError keeps its type).
 */
export async function runMapJobs(jobs: readonly MapJob[], options: RunMapJobsOptions): Promise<MapJobResult[]> {
  const groups = new Map<string, number[]>();
  jobs.forEach((job, i) => {
    const key = mapWorkKey(job);
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  const firsts = [...groups.values()].map((g) => g[0]!);
  const results: (MapJobResult | undefined)[] = new Array(jobs.length).fill(undefined);
  let finished = 0;
  const settle = (first: number, result: MapJobResult) => {
    const members = groups.get(mapWorkKey(jobs[first]!))!;
    for (const i of members) results[i] = result;
    finished += members.length;
    options.onFinished?.(finished, jobs.length);
  };
  const order = firsts.sort((a, b) => mapJobCost(jobs[b]!) - mapJobCost(jobs[a]!) || a - b);
  if (Math.min(options.jobs, order.length) <= 1) {
    for (const i of order) settle(i, runMapJob(jobs[i]!, options.onJobProgress && ((p) => options.onJobProgress!(jobs[i]!, p))));
    return results as MapJobResult[];
  }
  let failure: Error | undefined;
  await runOnWorkers(order, options.jobs, (i) => ({ type: "map", index: i, job: jobs[i] }), (reply) => {
    if (reply.type === "done") settle(reply.index, reply.result as MapJobResult);
    else if (reply.type === "error") failure ??= deserializeError(reply.error as SerializedError);
  });
  if (failure) throw failure;
  return results as MapJobResult[];
}
