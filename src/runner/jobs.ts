/**
 * Many simulations at once: a job is one layer on one architecture with one dataflow;
 * {@link runJobs} runs a list of them in parallel on worker threads (node:worker_threads), or in
 * this thread with `jobs: 1`, and returns one summary row ({@link LayerMetrics}) per job, in the
 * jobs' order. {@link mappingCheck} turns "this dataflow cannot map this layer" into a reason
 * before any simulation starts. Used by `runNetwork` and by `convsim compare` and `sweep`.
 */
import { ConfigError } from "../core/errors.js";
import type { ArchSpec } from "../arch/spec.js";
import { buildMapping } from "../dataflow/dataflows/index.js";
import { assertLegal } from "../dataflow/legality.js";
import type { Mapping } from "../dataflow/mapping.js";
import { simulate } from "../dataflow/simulate.js";
import { convShape, validLayer, type ConvLayer } from "../workload/layer.js";
import type { EnergyTable } from "../report/energy.js";
import type { LimitNames, RunLimits } from "../dataflow/budget.js";
import type { ModelOperands } from "../formats/onnx/layers.js";
import { DEFAULT_OPERAND_TYPE, type OperandTypes } from "../workload/dtype.js";
import { layerMetrics, type LayerMetrics } from "../report/metrics.js";
import { deserializeError, WorkerPool, type SerializedError } from "./worker-pool.js";

/** One simulation: a layer, an architecture, a named dataflow. Plain data (it crosses threads). */
export interface SimJob {
  readonly layer: ConvLayer;
  readonly arch: ArchSpec;
  readonly dataflow: string;
  /** The dataflow's mapping when {@link mappingCheck} already built it (not built again). */
  readonly mapping?: Mapping;
  /** Checked mode (tags on every storage word). */
  readonly checked: boolean;
  readonly energyTable: EnergyTable;
  /** The model's own weights and zero points (an ONNX model, `--weights model`); default seeded operands. */
  readonly operands?: ModelOperands;
  /** Types of the generated operands (default int8 for both). */
  readonly types?: OperandTypes;
  /** The run's memory and work limits (simulate() checks them again in the worker). */
  readonly limits?: RunLimits;
  /** How the limits' errors name the layer and the limits (SimulateOptions.limitNames). */
  readonly limitNames?: LimitNames;
}

/** What a job ended with: its summary row, or the error it threw. */
export type SimJobOutcome = { readonly ok: true; readonly metrics: LayerMetrics } | { readonly ok: false; readonly error: Error };

/** Runs one job in this thread. */
export function runSimJob(job: SimJob, onProgress?: (macs: number) => void): LayerMetrics {
  const r = simulate({
    layer: job.layer,
    arch: job.arch,
    dataflow: job.mapping ?? job.dataflow,
    checked: job.checked,
    ...(job.types ? { types: job.types } : {}),
    ...(job.limits ? { limits: job.limits } : {}),
    ...(job.limitNames ? { limitNames: job.limitNames } : {}),
    // A model's own weights bring their types and zero points (the input type is the model's).
    ...(job.operands ? { w: job.operands.w, types: { input: job.operands.inputType }, zeroPoints: { input: job.operands.inputZeroPoint, weight: job.operands.wZeroPoint } } : {}),
    ...(onProgress ? { onProgress: (p: { macs: number }) => onProgress(p.macs) } : {}),
  });
  return layerMetrics(r, { energyTable: job.energyTable, dataflow: job.dataflow });
}

/** Options of {@link runJobs}. */
export interface RunJobsOptions {
  /** Worker threads (1: run in this thread). */
  readonly jobs: number;
  /** Called with the MACs done so far over all jobs and the jobs finished. */
  readonly onProgress?: (macs: number, finished: number) => void;
}

/**
 * Worker threads that take requests: worker-pool.ts's WorkerPool, which {@link withWorkerPool}
 * makes (typed here without Node's worker types, so that the package's declarations need none).
 * Internal: not exported from the package.
 */
export interface RequestPool {
  /** The number of workers. */
  readonly threads: number;
  /** Runs the requests of `order`; resolves when each has ended (WorkerPool.run). */
  run(order: readonly number[], request: (index: number) => unknown, onReply: (reply: { readonly type: string; readonly index: number; readonly [field: string]: unknown }) => void, kinds?: (index: number) => string): Promise<void>;
}

interface WorkerMessage {
  readonly type: "progress" | "done" | "error";
  readonly index: number;
  readonly macs?: number;
  readonly metrics?: LayerMetrics;
  readonly error?: SerializedError;
}

/**
 * A job's estimated cost, for scheduling the longest first, in nanoseconds of one core: 1 per
 * MAC, {@link ELEMENT_COST} per tensor element (every element travels DRAM -> GBuf -> RF, and is
 * generated, laid out and verified) and {@link ITERATION_COST} per iteration of the mapping's
 * dram and gbuf loops (planning, replay keys, messages), when the job carries its mapping. Fitted
 * on chen2020's layers of AlexNet and VGG-16 on the chen2020 preset (`run --jobs 1 --timing`,
 * session 16; within about 1.5x of each layer's time): AlexNet conv1, 105 M MACs in 60,984
 * iterations, took 3.1 s, about as long as fc6 (38 M MACs, 38 M weights, 18,440 iterations);
 * conv2, 224 M MACs in 9,600 iterations, 1.2 s. An estimate from MACs and elements alone (the
 * previous one) put conv1 sixth of AlexNet's eight layers, so on two workers it started last and
 * ran alone.
 */
export function jobCost(job: SimJob): number {
  const s = convShape(job.layer);
  const m = job.mapping;
  const iterations = m ? [...m.dram.loops, ...m.gbuf.loops].reduce((a, l) => a * l.factor, 1) : 0;
  return s.macs + ELEMENT_COST * (s.inputElements + s.weightElements + s.outputElements) + ITERATION_COST * iterations;
}

/**
 * A job's kind, for keeping a worker on one kind (worker-pool.ts, nextOfKind): its dataflow, and
 * whether its layer is fully connected (a 1 x 1 input and kernel: other programs and code paths
 * than a convolution's).
 */
export function jobKind(job: SimJob): string {
  const L = job.layer;
  return `${job.dataflow}/${L.inHeight === 1 && L.inWidth === 1 && L.kernelHeight === 1 && L.kernelWidth === 1 ? "fc" : "conv"}`;
}

/** {@link jobCost}'s weight of a tensor element, in MACs (60 ns against 1 ns a MAC). */
export const ELEMENT_COST = 60;

/** {@link jobCost}'s weight of an iteration, in MACs (45 us against 1 ns a MAC). */
export const ITERATION_COST = 45_000;

/**
 * Runs the jobs, the costliest first ({@link jobCost}), on up to `jobs` worker threads (never more threads than
 * jobs); resolves to one outcome per job, in the jobs' order. A job's error is its outcome; a
 * worker that dies rejects the whole run.
 */
export async function runJobs(jobs: readonly SimJob[], options: RunJobsOptions): Promise<SimJobOutcome[]> {
  return runJobsOn(jobs, options, undefined);
}

/** {@link runJobs} on `pool`'s workers when given (their number replaces `options.jobs`). Internal. */
export async function runJobsOn(jobs: readonly SimJob[], options: RunJobsOptions, pool: RequestPool | undefined): Promise<SimJobOutcome[]> {
  const outcomes: (SimJobOutcome | undefined)[] = new Array(jobs.length).fill(undefined);
  const progress = new Float64Array(jobs.length);
  let finished = 0;
  const report = () => {
    if (!options.onProgress) return;
    let macs = 0;
    for (const m of progress) macs += m;
    options.onProgress(macs, finished);
  };
  const order = jobs.map((_, i) => i).sort((a, b) => jobCost(jobs[b]!) - jobCost(jobs[a]!));
  const threads = Math.min(pool?.threads ?? options.jobs, jobs.length);
  if (threads <= 1 && !pool) {
    for (const i of order) {
      try {
        outcomes[i] = { ok: true, metrics: runSimJob(jobs[i]!, (m) => ((progress[i] = m), report())) };
      } catch (e) {
        outcomes[i] = { ok: false, error: e instanceof Error ? e : new Error(String(e)) };
      }
      progress[i] = convShape(jobs[i]!.layer).macs;
      finished++;
      report();
    }
    return outcomes as SimJobOutcome[];
  }
  const run = (p: RequestPool) => p.run(order, (i) => ({ type: "job", index: i, job: jobs[i] }), (reply) => {
    const msg = reply as unknown as WorkerMessage;
    if (msg.type === "progress") {
      progress[msg.index] = msg.macs ?? 0;
      report();
      return;
    }
    outcomes[msg.index] = msg.type === "done" ? { ok: true, metrics: msg.metrics! } : { ok: false, error: deserializeError(msg.error!) };
    progress[msg.index] = convShape(jobs[msg.index]!.layer).macs;
    finished++;
    report();
  }, (i) => jobKind(jobs[i]!));
  await (pool ? run(pool) : WorkerPool.using(threads, run));
  return outcomes as SimJobOutcome[];
}

/**
 * Runs `f` with a pool of `threads` workers when `threads` > 1 (undefined otherwise: the work
 * runs in this thread), closing it after `f`, whatever `f` ends with. The workers start at once,
 * loading the simulator while this thread goes on; {@link checkMappings} and {@link runJobsOn} given
 * the pool share them. Internal.
 */
export async function withWorkerPool<T>(threads: number, f: (pool: RequestPool | undefined) => Promise<T>): Promise<T> {
  return threads <= 1 ? f(undefined) : WorkerPool.using(threads, f);
}

/** A mapping to build and check: a named dataflow on a layer and an architecture. Plain data (it crosses threads). */
export interface MappingRequest {
  readonly layer: ConvLayer;
  readonly arch: ArchSpec;
  readonly dataflow: string;
  /** Types of the generated operands (default int8 for both). */
  readonly types?: OperandTypes;
}

/** What {@link mappingCheck} gives: the mapping, or why the dataflow cannot map the layer. */
export type MappingCheck = { readonly ok: true; readonly mapping: Mapping } | { readonly ok: false; readonly reason: string };

/**
 * {@link mappingCheck} of every request, on `pool`'s workers when given (the builders of a large
 * network take seconds: `chen2020` on VGG-16's 16 layers about 1.9 s in one thread), else in this
 * thread; one result per request, in order. Nothing is simulated. Internal.
 * @throws a builder's error that is not a ConfigError (a bug), after every request has ended.
 */
export async function checkMappings(requests: readonly MappingRequest[], pool?: RequestPool): Promise<MappingCheck[]> {
  if (!pool || requests.length <= 1) return requests.map((r) => mappingCheck(r.layer, r.arch, r.dataflow, r.types));
  const checks: (MappingCheck | undefined)[] = requests.map(() => undefined);
  let failure: Error | undefined;
  await pool.run(
    requests.map((_, i) => i),
    (i) => ({ type: "check", index: i, request: requests[i] }),
    (reply) => {
      const msg = reply as unknown as { type: "done" | "error" | "progress"; index: number; check?: MappingCheck; error?: SerializedError };
      if (msg.type === "done") checks[msg.index] = msg.check;
      else if (msg.type === "error") failure ??= deserializeError(msg.error!);
    },
  );
  if (failure) throw failure;
  return checks as MappingCheck[];
}

/**
 * Whether a named dataflow can map a layer on an architecture (the mapping builds and is legal),
 * checked without simulating; the reason when it cannot. Generated operands are `types` (default int8).
 */
export function mappingCheck(layer: ConvLayer, arch: ArchSpec, dataflow: string, types: OperandTypes = { input: DEFAULT_OPERAND_TYPE, weight: DEFAULT_OPERAND_TYPE }): MappingCheck {
  try {
    const valid = validLayer(layer);
    const mapping = buildMapping(dataflow, valid, arch, { types });
    assertLegal(mapping, valid, arch, { types });
    return { ok: true, mapping };
  } catch (e) {
    if (e instanceof ConfigError) return { ok: false, reason: e.message };
    throw e;
  }
}
