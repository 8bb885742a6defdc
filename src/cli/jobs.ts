/**
 * Running many simulations for `convsim run`, `compare` and `sweep`: a job is one layer on one
 * architecture with one dataflow; {@link runJobs} runs a list of them in parallel on worker
 * threads (node:worker_threads), or in this thread with `jobs: 1`, and returns one summary row
 * ({@link LayerMetrics}) per job, in the jobs' order. Also the shared option helpers of those
 * commands (architecture, dataflow list, jobs, energy table), the legality pre-check that turns
 * "this dataflow cannot map this layer" into a reason before any simulation starts. The options
 * the three commands validate together are in report-options.ts, the progress bar in progress.ts.
 *
 * Workers: the worker is the sibling module `job-worker` (.ts under tsx, .js in dist/). From the
 * TypeScript sources (bin/convsim.js registers tsx in the main thread only, and loader hooks do
 * not reach a worker that way), the worker first registers tsx's ESM loader itself and then
 * imports job-worker.ts; from dist/ it runs job-worker.js directly.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { ConfigError, describeValue, InvariantError, requireOneOf } from "../core/errors.js";
import { parseJson } from "../core/fields.js";
import type { ArchSpec } from "../arch/spec.js";
import { PRESET_NAMES, resolveArch, type ArchOverrides, type ArchSpecInput } from "../arch/presets.js";
import type { RunLimits } from "../dataflow/budget.js";
import { buildMapping, DATAFLOW_CHOICES, DATAFLOW_NAMES } from "../dataflow/dataflows/index.js";
import { assertLegal } from "../dataflow/legality.js";
import type { Mapping } from "../dataflow/mapping.js";
import { simulate, type SimulateOptions, type SimulationResult } from "../dataflow/simulate.js";
import { EYERISS_ENERGY_TABLE, loadEnergyTable, type EnergyTable } from "../report/energy.js";
import { layerMetrics, type LayerMetrics } from "../report/metrics.js";
import { DEFAULT_OPERAND_TYPE, type OperandType } from "../workload/dtype.js";
import { convShape, LAYER_RULES, MAX_TENSOR_ELEMENTS, type ConvLayer } from "../workload/layer.js";
import { DEFAULT_NETWORK, selectLayers, type Network } from "../workload/networks.js";
import type { ModelOperands } from "../formats/onnx/layers.js";
import { loadNetworkOption, readTextFile } from "./args.js";
import { parseIntegerFlag } from "./numbers.js";
import type { OnnxOptionValues } from "./onnx.js";

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
  /** The model's own weights and zero points (`--weights model`); default seeded operands. */
  readonly operands?: ModelOperands;
  /** Types of the generated operands (default int8 for both). */
  readonly types?: OperandTypes;
  /** The run's memory and work limits (simulate() checks them again in the worker). */
  readonly limits?: RunLimits;
}

/** The operand types of a job. */
export interface OperandTypes {
  readonly input: OperandType;
  readonly weight: OperandType;
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
    // A model's own weights bring their types and zero points (the input type is the model's).
    ...(job.operands ? { w: job.operands.w, types: { input: job.operands.inputType }, zeroPoints: { input: job.operands.inputZeroPoint, weight: job.operands.wZeroPoint } } : {}),
    ...(onProgress ? { onProgress: (p: { macs: number }) => onProgress(p.macs) } : {}),
  });
  return layerMetrics(r, { energyTable: job.energyTable, dataflow: job.dataflow });
}

/** An error as it crosses a thread: enough to rebuild a ConfigError or an InvariantError. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly field?: string;
  readonly value?: unknown;
  readonly rule?: string;
  readonly component?: string;
  readonly stack?: string;
}

/** Flattens an error for postMessage. */
export function serializeError(e: unknown): SerializedError {
  if (e instanceof ConfigError) return { name: e.name, message: e.message, field: e.field, value: safeValue(e.value), rule: e.rule };
  if (e instanceof InvariantError) return { name: e.name, message: e.message, component: e.component };
  if (e instanceof Error) return { name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) };
  return { name: "Error", message: String(e) };
}

function safeValue(v: unknown): unknown {
  try {
    return structuredClone(v);
  } catch {
    return String(v);
  }
}

/** Rebuilds an error flattened by {@link serializeError}: a ConfigError keeps its message, an InvariantError its component. */
export function deserializeError(s: SerializedError): Error {
  if (s.name === "ConfigError" && s.field !== undefined && s.rule !== undefined) {
    const e = new ConfigError(s.field, s.value, s.rule);
    e.message = s.message;
    return e;
  }
  if (s.name === "InvariantError" && s.component !== undefined) {
    const e = new InvariantError(s.component, "");
    e.message = s.message;
    return e;
  }
  const e = new Error(s.message);
  e.name = s.name;
  if (s.stack) e.stack = s.stack;
  return e;
}

/** Options of {@link runJobs}. */
export interface RunJobsOptions {
  /** Worker threads (1: run in this thread). */
  readonly jobs: number;
  /** Called with the MACs done so far over all jobs and the jobs finished. */
  readonly onProgress?: (macs: number, finished: number) => void;
}

function tsxApiUrl(): string {
  const req = createRequire(import.meta.url);
  const pkgPath = req.resolve("tsx/package.json");
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as { exports?: Record<string, { import?: { default?: string } } | string> };
  const entry = pkg.exports?.["./esm/api"];
  const rel = typeof entry === "object" ? entry.import?.default : undefined;
  if (!rel) throw new Error("tsx does not export ./esm/api (import); cannot start TypeScript workers");
  return pathToFileURL(join(dirname(pkgPath), rel)).href;
}

/** Starts one worker thread running job-worker (.ts through tsx, or .js from dist/). */
export function startWorker(): Worker {
  const self = import.meta.url;
  if (self.endsWith(".ts")) {
    const api = tsxApiUrl();
    const entry = new URL("./job-worker.ts", self).href;
    const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
    return new Worker(code, { eval: true });
  }
  return new Worker(new URL("./job-worker.js", self));
}

interface WorkerMessage {
  readonly type: "progress" | "done" | "error" | "result";
  readonly index: number;
  readonly macs?: number;
  readonly metrics?: LayerMetrics;
  readonly error?: SerializedError;
}

/**
 * A job's estimated cost, for scheduling the longest first: its MACs plus 8 per tensor element.
 * Every element of a tensor travels DRAM -> GBuf -> RF, which costs the simulator about as much as
 * 8 MACs (AlexNet on the chen2020 preset: conv2 4.0 s for 224 M MACs, fc6 4.9 s for 38 M MACs and
 * 38 M weights), so FC layers, which move one weight per MAC, are not left for last.
 */
export function jobCost(job: SimJob): number {
  const s = convShape(job.layer);
  return s.macs + 8 * (s.inputElements + s.weightElements + s.outputElements);
}

/**
 * Runs the jobs, the costliest first ({@link jobCost}), on up to `jobs` worker threads (never more threads than
 * jobs); resolves to one outcome per job, in the jobs' order. A job's error is its outcome; a
 * worker that dies rejects the whole run.
 */
export async function runJobs(jobs: readonly SimJob[], options: RunJobsOptions): Promise<SimJobOutcome[]> {
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
  const threads = Math.min(options.jobs, jobs.length);
  if (threads <= 1) {
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
  const queue = [...order];
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let running = 0;
      const next = (w: Worker) => {
        const i = queue.shift();
        if (i === undefined) {
          if (running === 0) resolve();
          return;
        }
        running++;
        w.postMessage({ type: "run", index: i, job: jobs[i] });
      };
      for (let t = 0; t < threads; t++) {
        const w = startWorker();
        workers.push(w);
        w.on("message", (msg: WorkerMessage) => {
          if (msg.type === "progress") {
            progress[msg.index] = msg.macs ?? 0;
            report();
            return;
          }
          outcomes[msg.index] = msg.type === "done" ? { ok: true, metrics: msg.metrics! } : { ok: false, error: deserializeError(msg.error!) };
          progress[msg.index] = convShape(jobs[msg.index]!.layer).macs;
          finished++;
          running--;
          report();
          next(w);
          if (running === 0 && queue.length === 0) resolve();
        });
        w.on("error", (e) => reject(e));
        w.on("exit", (code) => {
          if (outcomes.some((o) => o === undefined)) reject(new Error(`a simulation worker exited (code ${code}) before its jobs were done`));
        });
        next(w);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return outcomes as SimJobOutcome[];
}

/**
 * Runs one whole simulation on a worker thread and resolves to its result (structured-cloned),
 * reporting progress (MACs issued); the main thread stays free to handle Ctrl-C. The worker ends
 * with the simulation.
 * @throws what simulate() throws (a ConfigError keeps its message).
 */
export async function simulateInWorker(options: Omit<SimulateOptions, "onProgress">, onProgress?: (macs: number) => void): Promise<SimulationResult> {
  const w = startWorker();
  try {
    return await new Promise<SimulationResult>((resolve, reject) => {
      w.on("message", (msg: WorkerMessage & { readonly result?: SimulationResult }) => {
        if (msg.type === "progress") onProgress?.(msg.macs ?? 0);
        else if (msg.type === "result") resolve(msg.result!);
        else if (msg.type === "error") reject(deserializeError(msg.error!));
      });
      w.on("error", reject);
      w.on("exit", (code) => reject(new Error(`the simulation worker exited (code ${code}) before it finished`)));
      w.postMessage({ type: "simulate", index: 0, options });
    });
  } finally {
    await w.terminate();
  }
}

/** The `--jobs` option: a positive integer; default the machine's available parallelism. */
export function jobsOption(text: string | undefined): number {
  return parseIntegerFlag("--jobs", text, 1, 1024) ?? availableParallelism();
}

/** The values of `--memory`: `arch` keeps the architecture's memory models, `ideal` sets both to ideal. */
export const MEMORY_OPTION_VALUES = ["arch", "ideal"] as const;

/**
 * The `--memory` option as arch overrides: `ideal` sets `dram.model` and `gbuf.model` to `ideal`
 * (docs/timing.md); `arch` (the default) changes nothing.
 * @throws ConfigError for another value, listing the known ones.
 */
export function memoryOverrides(text: string | undefined): ArchOverrides {
  const v = requireOneOf("--memory", text ?? "arch", MEMORY_OPTION_VALUES);
  return v === "ideal" ? { dram: { model: "ideal" }, gbuf: { model: "ideal" } } : {};
}

/** How a report names an architecture: its name, and its memory models when they are not the defaults. */
export function archLabel(arch: ArchSpec): string {
  const models = [arch.dram.model !== undefined && arch.dram.model !== "channel" ? `${arch.dram.model} DRAM` : "", arch.gbuf.model !== undefined && arch.gbuf.model !== "banked" ? `${arch.gbuf.model} GBuf` : ""].filter(Boolean);
  return models.length ? `${arch.name} (${models.join(", ")})` : arch.name;
}

/**
 * The `--arch` option: a preset name, or a complete ArchSpec as a JSON file or inline JSON;
 * `overrides` (e.g. from `--arch-override`) are merged over it, then the `--memory` option.
 */
export function archOption(text: string | undefined, overrides?: ArchOverrides, memory?: string): ArchSpec {
  let arch: ArchSpec;
  try {
    arch = archFromText(text, overrides);
  } catch (e) {
    throw overrides ? renameOverrideError(e, overrides) : e;
  }
  const m = memoryOverrides(memory);
  return m.dram ? resolveArch(arch, m) : arch;
}

/** An error about a field `--arch-override` set (`arch.rf.psumEntries`), renamed as the user typed it: `--arch-override rf.psumEntries`. */
function renameOverrideError(e: unknown, overrides: ArchOverrides): unknown {
  if (!(e instanceof ConfigError)) return e;
  const m = /^arch\.(\w+)\.(\w+)$/.exec(e.field);
  const section = m ? (overrides as Record<string, unknown>)[m[1]!] : undefined;
  if (!m || section === null || typeof section !== "object" || !(m[2]! in section)) return e;
  const renamed = new ConfigError(`--arch-override ${m[1]}.${m[2]}`, e.value, e.rule);
  renamed.message = e.message.replace(e.field, renamed.field);
  return renamed;
}

function archFromText(text: string | undefined, overrides?: ArchOverrides): ArchSpec {
  const v = text ?? "chen2020";
  if ((PRESET_NAMES as readonly string[]).includes(v)) return resolveArch(v, overrides);
  const inline = v.trim().startsWith("{");
  if (inline || existsSync(v)) {
    const json = parseJson("--arch", inline ? v : readTextFile("--arch", v));
    if (json === null || typeof json !== "object" || Array.isArray(json)) throw new ConfigError("--arch", v, "hold an ArchSpec object (name, dram, gbuf, rf, array, noc)");
    return resolveArch(json as ArchSpecInput, overrides, "arch");
  }
  throw new ConfigError("--arch", v, `be a preset (${PRESET_NAMES.join(", ")}), an architecture JSON file or inline JSON`);
}

/** The `--batch` option: a decimal integer within the layer rule's bounds (LAYER_RULES.batch), default 1. */
export function batchOption(text: string | undefined): number {
  return parseIntegerFlag("--batch", text, LAYER_RULES.batch.min, LAYER_RULES.batch.max) ?? 1;
}

/**
 * A network (`--net`) at a batch size, with a layer whose tensors outgrow the limit at that batch
 * reported against `--batch`, the option that made them too large.
 */
export function networkOption(text: string, batchText: string | undefined, onnx: OnnxOptionValues = {}): Network {
  const batch = batchOption(batchText);
  try {
    return loadNetworkOption(text, batch, onnx);
  } catch (e) {
    if (batchText !== undefined && e instanceof ConfigError && e.rule.startsWith("give tensors of at most")) {
      throw new ConfigError("--batch", batchText, `keep every layer's tensors within ${MAX_TENSOR_ELEMENTS} elements`, `${e.field}: ${describeValue(e.value)}`);
    }
    throw e;
  }
}

/** `--net`, `--batch` and `--layers` (and an ONNX model's `--input-shape`, `--weights`): the network (default AlexNet) and the selected layers, at least one. */
export function networkLayersOption(values: { readonly net?: string; readonly batch?: string; readonly layers?: string } & OnnxOptionValues): { net: Network; batch: number; layers: readonly ConvLayer[] } {
  const batch = batchOption(values.batch);
  const net = networkOption(values.net ?? DEFAULT_NETWORK, values.batch, values);
  const layers = selectLayers(net, values.layers);
  if (layers.length === 0) throw new ConfigError("--layers", values.layers, "select at least one layer");
  // An ONNX model's batch is its input's unless --batch is given: report the layers' own.
  return { net, batch: net.layers[0]!.batch, layers };
}

/** A `--dataflows` list (default every built-in dataflow; `best`, the mapper, on request); names checked, duplicates refused. */
export function dataflowsOption(text: string | undefined, field = "--dataflows", arch?: ArchSpec): string[] {
  if (text === undefined) return arch ? defaultDataflows(arch) : [...DATAFLOW_NAMES];
  const names = text.split(",").map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new ConfigError(field, text, `list dataflows among ${DATAFLOW_CHOICES.join(", ")}`);
  for (const n of names) {
    if (!DATAFLOW_CHOICES.includes(n)) throw new ConfigError(field, n, `be one of ${DATAFLOW_CHOICES.join(", ")}`);
  }
  if (new Set(names).size !== names.length) throw new ConfigError(field, text, "name each dataflow once");
  return names;
}

/**
 * The dataflows `compare` and `sweep` run when none are named: all of them, except on an array
 * that forwards operands (`arch.noc.forwarding`, the systolic preset), where the systolic ones,
 * ws, os and is (chen2020 and rs keep their tiles in registers a systolic PE does not have, and
 * simulate slowly there).
 */
export function defaultDataflows(arch: ArchSpec): string[] {
  return arch.noc.forwarding ? ["ws", "os", "is"] : [...DATAFLOW_NAMES];
}

/** The dataflow `run` uses when none is named: chen2020, or os on an array that forwards operands. */
export function defaultDataflow(arch: ArchSpec): string {
  return arch.noc.forwarding ? "os" : "chen2020";
}

/** The `--energy` option: a user table from a JSON file, or the default Eyeriss table. */
export function energyOption(file: string | undefined): EnergyTable {
  return file === undefined ? EYERISS_ENERGY_TABLE : loadEnergyTable(file, "--energy");
}

/**
 * Whether a named dataflow can map a layer on an architecture (the mapping builds and is legal),
 * checked without simulating; the reason when it cannot, for operands of `types` (default int8).
 */
export function mappingCheck(layer: ConvLayer, arch: ArchSpec, dataflow: string, types: OperandTypes = { input: DEFAULT_OPERAND_TYPE, weight: DEFAULT_OPERAND_TYPE }): { ok: true; mapping: Mapping } | { ok: false; reason: string } {
  try {
    const mapping = buildMapping(dataflow, layer, arch, { types });
    assertLegal(mapping, layer, arch, { types });
    return { ok: true, mapping };
  } catch (e) {
    if (e instanceof ConfigError) return { ok: false, reason: e.message };
    throw e;
  }
}

