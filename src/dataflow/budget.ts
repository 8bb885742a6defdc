/**
 * Limits checked before any allocation: a run's memory, estimated from the layer and the
 * architecture, against the machine (a fraction of `os.totalmem()`) or a given limit, and its work
 * (MACs) against a work limit. A run that would not fit is refused with a ConfigError naming the
 * field that costs the most, the estimate and the limit, in microseconds, instead of failing
 * minutes later with an out-of-memory or a RangeError (docs/inputs.md).
 *
 * The estimate counts what a run holds at once (not the simulator's small per-component state):
 * - the operands and their copies: x and w as given or generated, the DRAM model's copies (w laid
 *   out in streaming order), y in DRAM, the output read back and the reference output (int32);
 * - in checked mode, a float64 tag per DRAM word and per input tag;
 * - the global buffer (its capacity, and a tag per byte-sized word in checked mode);
 * - every PE's register file (rows x cols x entries per PE x 4 bytes, twice for streamed tiles;
 *   a tag each in checked mode), which lives in the wave kernels' WebAssembly memory and so also
 *   has a hard bound of {@link MAX_RF_STORAGE_BYTES}.
 * Once the mapping is known, {@link checkRfStorage} checks the register files the run will build
 * for it: a tile that streams or bypasses the RF is staged whole, twice, which the mapping sizes
 * and the estimate above cannot know; and {@link checkSchedule} the iteration starts the
 * Sequencer holds on the JavaScript heap, at most {@link MAX_SCHEDULE_STARTS}.
 */
import { totalmem } from "node:os";
import { ConfigError } from "../core/errors.js";
import { formatBytes } from "../core/units.js";
import { rfEntriesPerPe, type ArchSpec } from "../arch/spec.js";
import { dtypeInfo, type OperandType, DEFAULT_OPERAND_TYPE } from "../workload/dtype.js";
import { convShape, type ConvLayer } from "../workload/layer.js";
import { levelTrips, type Mapping } from "./mapping.js";

/** The fraction of the machine's memory (`os.totalmem()`) a run may use by default. */
export const DEFAULT_MEMORY_FRACTION = 0.5;
/**
 * The default work limit, in MACs: 10^11, about half an hour of simulation at the simulator's
 * typical 50 M MACs per second (a plain reference convolution: a few minutes).
 */
export const DEFAULT_MAX_MACS = 1e11;
/** The register files' bound: they live in a WebAssembly memory (32-bit, at most 4 GiB), kept to 1 GiB. */
export const MAX_RF_STORAGE_BYTES = 2 ** 30;
/**
 * The most iteration starts the Sequencer's program holds at once: one per dram iteration (all of
 * them), plus one per gbuf iteration of the current dram tile (and as many fold indices with fused
 * groups). Each is a small typed array on the JavaScript heap, about 250 bytes: 2^22 take about
 * 1 GiB of the heap's 4 GiB (Node's default on a 64-bit machine), where more crashed the process
 * (`JavaScript heap out of memory`). The named dataflows on AlexNet and VGG-16 (batch 1 and 4, each
 * preset) hold at most 215,310 (VGG-16 conv2_2, batch 4, `ws` on `chen2020`).
 */
export const MAX_SCHEDULE_STARTS = 2 ** 22;
/** The field of the register files' term in {@link simulationMemory}: what sizes them before a mapping is known. */
const RF_TERM_FIELD = "arch.array (rows x cols) and arch.rf";

/** Limits of one run; each defaults as documented. */
export interface RunLimits {
  /** Bytes the run may hold at once. Default: {@link DEFAULT_MEMORY_FRACTION} of `os.totalmem()`. */
  readonly maxMemoryBytes?: number;
  /** MACs the run may take. Default {@link DEFAULT_MAX_MACS}. */
  readonly maxMacs?: number;
}

/** How the limits' errors name things: the layer, the options that raise the limits. */
export interface LimitNames {
  /** The layer as the user gave it (default `layer`; the CLI says `--layer`). */
  readonly layer?: string;
  /** What raises the memory limit (default `limits.maxMemoryBytes`; the CLI says `--max-memory`). */
  readonly maxMemory?: string;
  /** What raises the work limit (default `limits.maxMacs`; the CLI says `--max-macs`). */
  readonly maxMacs?: string;
}

/** One term of a memory estimate: what holds the bytes, named by the field that sizes it. */
export interface MemoryTerm {
  readonly field: string;
  readonly what: string;
  readonly bytes: number;
}

/** The default memory limit: {@link DEFAULT_MEMORY_FRACTION} of this machine's memory. */
export function defaultMemoryLimit(): number {
  return Math.floor(totalmem() * DEFAULT_MEMORY_FRACTION);
}

/** The memory a simulation holds at once, term by term (see the file header). */
export function simulationMemory(layer: ConvLayer, arch: ArchSpec, options: { readonly types?: { readonly input?: OperandType; readonly weight?: OperandType }; readonly checked?: boolean; readonly layerName?: string } = {}): MemoryTerm[] {
  const s = convShape(layer);
  const L = options.layerName ?? "layer";
  const xb = dtypeInfo(options.types?.input ?? DEFAULT_OPERAND_TYPE).bytes;
  const wb = dtypeInfo(options.types?.weight ?? DEFAULT_OPERAND_TYPE).bytes;
  const tag = options.checked ? 8 : 0;
  const pes = arch.array.rows * arch.array.cols;
  return [
    { field: L, what: "input tensor (operand and DRAM copy)", bytes: s.inputElements * (2 * xb + 2 * tag) },
    { field: L, what: "weight tensor (operand and DRAM copies)", bytes: s.weightElements * (3 * wb + 2 * tag) },
    { field: L, what: "output tensor (DRAM, read back, reference)", bytes: s.outputElements * (3 * 4 + tag) },
    { field: "arch.gbuf.capacityBytes", what: "global buffer", bytes: arch.gbuf.capacityBytes * (1 + tag) },
    { field: RF_TERM_FIELD, what: `register files (${pes} PEs x ${rfEntriesPerPe(arch.rf)} entries)`, bytes: pes * rfEntriesPerPe(arch.rf) * 2 * (4 + tag) },
  ];
}

/** The memory a reference convolution holds at once: the operands and the int32 output (twice when verifying a dump). */
export function referenceMemory(layer: ConvLayer, types: { readonly input?: OperandType; readonly weight?: OperandType } = {}, outputs = 1, layerName = "layer"): MemoryTerm[] {
  const s = convShape(layer);
  return [
    { field: layerName, what: "input tensor", bytes: s.inputElements * dtypeInfo(types.input ?? DEFAULT_OPERAND_TYPE).bytes },
    { field: layerName, what: "weight tensor", bytes: s.weightElements * dtypeInfo(types.weight ?? DEFAULT_OPERAND_TYPE).bytes },
    { field: layerName, what: `output tensor${outputs > 1 ? "s" : ""}`, bytes: s.outputElements * 4 * outputs },
  ];
}

/**
 * Refuses a run whose estimated memory exceeds the limit, naming the costliest term's field, the
 * estimate and the limit.
 * @throws ConfigError before anything is allocated.
 */
export function checkMemory(terms: readonly MemoryTerm[], limits: RunLimits = {}, names: LimitNames = {}): void {
  const limit = limits.maxMemoryBytes ?? defaultMemoryLimit();
  const total = terms.reduce((a, t) => a + t.bytes, 0);
  if (total <= limit) return;
  const top = [...terms].sort((a, b) => b.bytes - a.bytes)[0]!;
  const whose = limits.maxMemoryBytes === undefined ? `${DEFAULT_MEMORY_FRACTION * 100}% of this machine's ${formatBytes(totalmem())}; raise it with ${names.maxMemory ?? "limits.maxMemoryBytes"}` : `set by ${names.maxMemory ?? "limits.maxMemoryBytes"}`;
  throw new ConfigError(
    top.field,
    `an estimated ${formatBytes(total)}`,
    `fit the memory limit of ${formatBytes(limit)} (${whose})`,
    `largest: ${top.what}, ${formatBytes(top.bytes)}`,
  );
}

/**
 * Refuses work above the MAC limit.
 * @param macs the run's MACs (all its layers).
 * @throws ConfigError naming the layer (or `names.layer`), the MACs and the limit.
 */
export function checkWork(macs: number, limits: RunLimits = {}, names: LimitNames = {}): void {
  const limit = limits.maxMacs ?? DEFAULT_MAX_MACS;
  if (macs <= limit) return;
  throw new ConfigError(names.layer ?? "layer", `${macs.toExponential(2)} MACs`, `take at most ${limit.toExponential(2)} MACs (the work limit; raise it with ${names.maxMacs ?? "limits.maxMacs"})`);
}

/**
 * Checks the limits' own values: positive integers.
 * @throws ConfigError naming `limits.maxMemoryBytes` or `limits.maxMacs`.
 */
export function checkLimits(limits: unknown, path = "limits"): RunLimits {
  if (limits === undefined) return {};
  if (limits === null || typeof limits !== "object") throw new ConfigError(path, limits, "be an object { maxMemoryBytes?, maxMacs? }");
  const l = limits as Record<string, unknown>;
  for (const k of Object.keys(l)) if (k !== "maxMemoryBytes" && k !== "maxMacs") throw new ConfigError(`${path}.${k}`, l[k], "be one of maxMemoryBytes, maxMacs");
  for (const k of ["maxMemoryBytes", "maxMacs"] as const) {
    const v = l[k];
    if (v !== undefined && (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1)) throw new ConfigError(`${path}.${k}`, v, "be a positive integer");
  }
  return l as RunLimits;
}

/**
 * Checks how the limits' errors are to name things: each of {@link LimitNames}' fields, when
 * given, a non-empty string.
 * @throws ConfigError naming `limitNames` or the field.
 */
export function checkLimitNames(names: unknown, path = "limitNames"): LimitNames {
  if (names === undefined) return {};
  if (names === null || typeof names !== "object" || Array.isArray(names)) throw new ConfigError(path, names, "be an object { layer?, maxMemory?, maxMacs? }");
  const n = names as Record<string, unknown>;
  for (const [k, v] of Object.entries(n)) {
    if (k !== "layer" && k !== "maxMemory" && k !== "maxMacs") throw new ConfigError(`${path}.${k}`, v, "be one of layer, maxMemory, maxMacs");
    if (v !== undefined && (typeof v !== "string" || v === "")) throw new ConfigError(`${path}.${k}`, v, "be a non-empty string");
  }
  return n as LimitNames;
}

/** Options of a simulation's budget check: the operand types and checked mode, which size the estimate. */
export interface SimulationBudgetOptions {
  readonly types?: { readonly input?: OperandType; readonly weight?: OperandType };
  readonly checked?: boolean;
}

/**
 * Checks a simulation against every limit, before anything is allocated: the register files'
 * WebAssembly bound, the memory estimate ({@link simulationMemory}) and the work limit.
 * @throws ConfigError naming the field, the estimate and the limit.
 */
export function checkSimulationBudget(layer: ConvLayer, arch: ArchSpec, options: SimulationBudgetOptions = {}, limits: RunLimits = {}, names: LimitNames = {}): void {
  const pes = arch.array.rows * arch.array.cols;
  const rfBytes = pes * rfEntriesPerPe(arch.rf) * 4;
  if (rfBytes > MAX_RF_STORAGE_BYTES) {
    throw new ConfigError(RF_TERM_FIELD, `${arch.array.rows} x ${arch.array.cols} PEs x ${rfEntriesPerPe(arch.rf)} entries = ${formatBytes(rfBytes)}`, `give register files of at most ${formatBytes(MAX_RF_STORAGE_BYTES)} in all (they live in the MAC kernels' WebAssembly memory)`);
  }
  checkMemory(simulationMemory(layer, arch, { ...options, ...(names.layer ? { layerName: names.layer } : {}) }), limits, names);
  checkWork(convShape(layer).macs, limits, names);
}

/**
 * Checks the register files a run builds for its mapping, once the mapping is known: `words`, the
 * words of every partition of every PE (or line) as the simulator lays them out (simulate.ts,
 * `streamBuffers`: the architecture's partitions, and a tile that streams or bypasses the RF
 * staged whole, twice), within {@link MAX_RF_STORAGE_BYTES}, and the memory estimate with them in
 * place of the architecture's entries within the memory limit. A legal mapping may stage tiles far
 * larger than the registers (legality charges a streamed tile one entry, a bypassed one none).
 * @param perPe the entries of each partition in one PE, for the message.
 * @throws ConfigError naming `mapping.rf`, the storage and the bound, before anything is allocated.
 */
export function checkRfStorage(layer: ConvLayer, arch: ArchSpec, words: number, perPe: string, options: SimulationBudgetOptions = {}, limits: RunLimits = {}, names: LimitNames = {}): void {
  const bytes = words * 4;
  if (bytes > MAX_RF_STORAGE_BYTES) {
    throw new ConfigError(
      "mapping.rf",
      `${formatBytes(bytes)} of register files`,
      `give register files of at most ${formatBytes(MAX_RF_STORAGE_BYTES)} in all, as they live in the MAC kernels' WebAssembly memory (${perPe} entries per PE on ${arch.array.rows} x ${arch.array.cols} PEs: a tile that streams or bypasses the RF is staged whole, twice); move the rf loops over it to the gbuf level, or keep it in the RF`,
    );
  }
  const staged = words * (4 + (options.checked ? 8 : 0));
  const terms = simulationMemory(layer, arch, { ...options, ...(names.layer ? { layerName: names.layer } : {}) }).map((t) =>
    t.field === RF_TERM_FIELD && staged > t.bytes ? { field: "mapping.rf", what: `register files with the mapping's staged tiles (${perPe} entries per PE)`, bytes: staged } : t,
  );
  checkMemory(terms, limits, names);
}

/**
 * Checks the iteration starts a run's Sequencer holds at once ({@link MAX_SCHEDULE_STARTS}): every
 * dram iteration's (the product of the dram factors) and one dram tile's gbuf iterations' (the
 * product of the gbuf factors: a full tile has them all).
 * @throws ConfigError naming the mapping's level with more iterations, the counts and the bound.
 */
export function checkSchedule(m: Mapping): void {
  const dram = levelTrips(m, "dram");
  const gbuf = levelTrips(m, "gbuf");
  if (dram + gbuf <= MAX_SCHEDULE_STARTS) return;
  throw new ConfigError(
    `mapping.${dram >= gbuf ? "dram" : "gbuf"}.loops`,
    `dram ${dram} + gbuf ${gbuf} iterations`,
    `give at most ${MAX_SCHEDULE_STARTS} iterations of the dram loops and of the gbuf loops together (the Sequencer holds the start of every dram iteration and of every gbuf iteration of a dram tile, about 250 bytes each on the JavaScript heap); move factors to the spatial or rf level (larger tiles, fewer iterations)`,
  );
}
