/**
 * The option helpers that `convsim run`, `compare`, `sweep` and the other commands share
 * (architecture, memory models, network and layers, dataflow list, jobs, energy table), and
 * `simulate` on a worker thread for `convsim simulate` on a terminal. The jobs themselves (one
 * layer on one architecture with one dataflow), their worker pool and the legality pre-check
 * live in src/runner/jobs.ts and are re-exported here; the options the three reporting commands
 * validate together are in report-options.ts, the progress bar in progress.ts.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { ConfigError, describeValue, requireOneOf } from "../core/errors.js";
import { parseJson } from "../core/fields.js";
import type { ArchSpec } from "../arch/spec.js";
import { PRESET_NAMES, resolveArch, type ArchOverrides, type ArchSpecInput } from "../arch/presets.js";
import { DATAFLOW_CHOICES, DATAFLOW_NAMES } from "../dataflow/dataflows/index.js";
import type { SimulateOptions, SimulationResult } from "../dataflow/simulate.js";
import { simulateAsync } from "../runner/async.js";
import { defaultDataflows } from "../runner/network.js";
import { EYERISS_ENERGY_TABLE, loadEnergyTable, type EnergyTable } from "../report/energy.js";
import { LAYER_RULES, MAX_TENSOR_ELEMENTS, type ConvLayer } from "../workload/layer.js";
import { DEFAULT_NETWORK, selectLayers, type Network } from "../workload/networks.js";
import { loadNetworkOption, readTextFile } from "./args.js";
import { parseIntegerFlag } from "./numbers.js";
import type { OnnxOptionValues } from "./onnx.js";

export { checkMappings, jobCost, runJobs, runJobsOn, runSimJob, mappingCheck, withWorkerPool, type MappingCheck, type RequestPool, type RunJobsOptions, type SimJob, type SimJobOutcome } from "../runner/jobs.js";
export type { OperandTypes } from "../workload/dtype.js";
export { archLabel, defaultDataflow, defaultDataflows } from "../runner/network.js";

/**
 * Runs one whole simulation on a worker thread ({@link simulateAsync}) and resolves to its result,
 * reporting progress (MACs issued); the main thread stays free to handle Ctrl-C.
 * @throws what simulate() throws (a ConfigError keeps its message).
 */
export function simulateInWorker(options: Omit<SimulateOptions, "onProgress">, onProgress?: (macs: number) => void): Promise<SimulationResult> {
  return simulateAsync({ ...options, ...(onProgress ? { onProgress: (p: { macs: number }) => onProgress(p.macs) } : {}) } as SimulateOptions);
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



/** The `--energy` option: a user table from a JSON file, or the default Eyeriss table. */
export function energyOption(file: string | undefined): EnergyTable {
  return file === undefined ? EYERISS_ENERGY_TABLE : loadEnergyTable(file, "--energy");
}


