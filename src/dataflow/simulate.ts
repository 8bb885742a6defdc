/**
 * simulate(): one layer, bit-exactly, through the modeled accelerator (DESIGN.md, "The flow of
 * one simulation"), in small steps:
 * - resolveInputs: validates every input at the boundary, in a fixed order, and builds the mapping
 *   (a named dataflow or a user's) and checks its legality, before any work;
 * - buildSystem (system.ts): the engine and the components from the ArchSpec, connected from the
 *   topology table; the controller it builds is sequencerFor's: loadOperands puts the operands
 *   into the DRAM model (with their tags in checked mode), then the Sequencer is built over them;
 * - runSystem: the Sequencer starts, the engine runs to quiescence or to maxCycles;
 * - verify: the output is read back out of the DRAM model and compared with `referenceConv`;
 * - assembleResult: the counters, cycles, utilization, stalls, the traffic per level, the traffic
 *   at each memory boundary against the lower bounds, and the cycles against the cycle bound.
 */
import { ConfigError, tagOf, type CounterSnapshot, type RunResult, type SimMode } from "../core/index.js";
import { checkField, rejectUnknownKeys, type FieldRule } from "../core/fields.js";
import type { ArchSpec } from "../arch/spec.js";
import { resolveArch, type ArchOverrides, type ArchSpecInput } from "../arch/presets.js";
import { boundaryCapacityWords, cycleLowerBound, lowerBounds, type CycleBound, type LayerBounds } from "../bounds/index.js";
import { RegFile, type DramTensor, type RegFileLayout, type RfPartition } from "../memory/index.js";
import { STALL_CAUSES, type StallCause, type WaveKernelName } from "../pe-array/index.js";
import { dtypeOfArray, requireOperandType, requireZeroPoint, type IntArray, type OperandType, DEFAULT_OPERAND_TYPE } from "../workload/dtype.js";
import { convLayer, convShape, type ConvLayer, type ConvLayerSpec } from "../workload/layer.js";
import { checkOperands, compareOutputs, referenceConv, type ConvOperands, type Verification } from "../workload/reference.js";
import { layerTensors } from "../workload/tensors.js";
import { isFullyConnected, referenceFcTransposed } from "../workload/reference-fc.js";
import { referenceFcTransposedWasm } from "../workload/reference-fc-wasm.js";
import { buildMapping, DATAFLOW_CHOICES } from "./dataflows/index.js";
import { assertLegal, checkPsumWidth, RF_ENTRY_FIELDS, rfLayout } from "./legality.js";
import { alikeLine, parseMapping, reducedLine, streamFlows, tileFootprint, type Mapping, type TensorName } from "./mapping.js";
import { Nest } from "./nest.js";
import { layoutWeights, Sequencer, TAG_SPACE, weightLayout } from "./sequencer/index.js";
import { buildSystem, type Hardware, type System } from "./system.js";
import { checkLimitNames, checkLimits, checkRfStorage, checkSchedule, checkSimulationBudget, type LimitNames, type RunLimits } from "./budget.js";

/** Options of {@link simulate}. */
export interface SimulateOptions {
  /** The layer. */
  readonly layer: ConvLayer | ConvLayerSpec;
  /** A preset name (`eyeriss`, `chen2020`, `systolic`) or a spec. Default `chen2020`. */
  readonly arch?: string | ArchSpec | ArchSpecInput;
  /** Field overrides merged over the arch (e.g. `{ gbuf: { capacityBytes: "64KiB" } }`). */
  readonly archOverrides?: ArchOverrides;
  /** A named dataflow (`chen2020`, `ws`, `os`, `is`, `rs`), the mapper (`best`), or a Mapping (object or JSON). Default `chen2020`. */
  readonly dataflow?: string | Mapping | Record<string, unknown>;
  /**
   * Input tensor (NCHW): an Int8Array, Uint8Array or Int16Array (typed as any integer array, so
   * `readNpy(...).data` is taken as it is; another array type is a ConfigError). Default: seeded.
   */
  readonly x?: IntArray;
  /** Weight tensor (OIHW), typed likewise. Default: seeded. */
  readonly w?: IntArray;
  /** Seed for generated operands. Default 1. */
  readonly seed?: string | number;
  /** Element types of generated operands. Default int8 for both. */
  readonly types?: { readonly input?: OperandType; readonly weight?: OperandType };
  /** Zero points. Default 0 for both. */
  readonly zeroPoints?: { readonly input?: number; readonly weight?: number };
  /** Checked mode: every storage word carries a tag and every read checks it. Default false. */
  readonly checked?: boolean;
  /** Engine mode. Default `fast`. */
  readonly mode?: SimMode;
  /** Cycle cap; a run that reaches it throws, naming what is stalled. Default 2^52. */
  readonly maxCycles?: number;
  /** Called as the run progresses (MACs issued so far). */
  readonly onProgress?: (p: { readonly macs: number; readonly totalMacs: number }) => void;
  /**
   * Replay recorded iteration timelines where a run allows it (fast, unchecked runs;
   * docs/design-notes.md, "Timeline replay"). Default true. Outputs, counters, cycles and stalls
   * are identical either way; only the simulator's speed differs.
   */
  readonly timelineReplay?: boolean;
  /**
   * Memory and work limits, checked before anything is allocated (src/dataflow/budget.ts).
   * Default: half of this machine's memory (`os.totalmem()`), 10^11 MACs.
   */
  readonly limits?: RunLimits;
  /** How the limits' errors name the layer and what raises each limit (default `layer`, `limits.maxMemoryBytes`, `limits.maxMacs`; the CLI gives its options). */
  readonly limitNames?: LimitNames;
}

/** Words moved across one level, per tensor and kind. */
export interface LevelTraffic {
  readonly read: Readonly<Record<TensorName, number>>;
  readonly write: Readonly<Record<TensorName, number>>;
  /** Reads plus writes, all tensors. */
  readonly total: number;
}

/** Traffic at one memory boundary against its bounds. */
export interface BoundaryReport {
  /** Words that crossed the boundary (reads of inputs and weights into the level below, output and partial-sum traffic both ways). */
  readonly measured: number;
  /** The bounds at this boundary (compulsory, paper, provable, attainable). */
  readonly bounds: LayerBounds;
  /** max(compulsory, provable): the headline minimum. */
  readonly minimum: number;
  /** measured / minimum. */
  readonly ratio: number;
  /** measured / the paper's bound. */
  readonly ratioToPaper: number;
}

/** The run's cycles against its cycle lower bound (src/bounds/cycles.ts, docs/timing.md). */
export interface CycleBoundReport extends CycleBound {
  /** PEs the mapping uses (used rows x used columns): the compute term's PEs. */
  readonly pesUsed: number;
  /** The run's cycles / the bound (>= 1; below 1 would be a bug in the simulator or the bound). */
  readonly ratio: number;
}

/** The result of one simulated layer. */
export interface SimulationResult {
  readonly layer: ConvLayer;
  readonly arch: ArchSpec;
  readonly mapping: Mapping;
  /** The output read back from the DRAM model (NCHW, int32). */
  readonly output: Int32Array;
  readonly verification: Verification;
  readonly cycles: number;
  readonly macs: number;
  /** PE utilization: MACs / (PEs x cycles x MACs per PE per cycle). */
  readonly utilization: number;
  /** Idle PE-cycles per cause; `busy` holds the busy PE-cycles. */
  readonly stalls: Readonly<Record<StallCause | "busy", number>>;
  /** Every counter of every component. */
  readonly counters: CounterSnapshot;
  /** Word traffic per level. */
  readonly traffic: { readonly dram: LevelTraffic; readonly gbuf: LevelTraffic; readonly rf: LevelTraffic };
  /** Traffic at each boundary against its bounds. */
  readonly boundaries: { readonly dram: BoundaryReport; readonly gbuf: BoundaryReport };
  /** Cycles against the cycle lower bound (compute, DRAM bus, GBuf ports, network buses), and the binding resource. */
  readonly cycleBound: CycleBoundReport;
  /** Wall time of the simulation, ms (not part of the model), verification included. */
  readonly wallMs: number;
  /** Of `wallMs`, the time the reference convolution for the verification took, ms. */
  readonly referenceMs: number;
  /** How much work the simulation took (about the simulator, not the model). */
  readonly simulator: SimulatorStats;
}

/** The simulator's own work in one run: not part of the model, and no count depends on it. */
export interface SimulatorStats {
  /** Engine steps: cycles ticked one by one plus jumps over idle spans. */
  readonly engineSteps: number;
  /** Iterations of the gbuf loops the Sequencer planned. */
  readonly iterations: number;
  /** Of those, iterations replayed from an earlier plan with the same signature (unchecked runs). */
  readonly replayedIterations: number;
  /** Iteration timelines replayed (fast, unchecked runs; {@link SimulateOptions.timelineReplay}). */
  readonly replayedTimelines: number;
  /**
   * Of those, runs of consecutive timelines replayed at once (single-buffered programs; their
   * timelines count in {@link replayedTimelines} too; docs/design-notes.md, "Runs of timelines").
   */
  readonly timelineRuns: number;
  /**
   * MAC waves run whole by the WebAssembly kernels (unchecked fast runs; the others run in
   * JavaScript), by kernel (src/pe-array/wave-kernels.ts). Empty when none ran.
   */
  readonly wasmWaves: Readonly<Partial<Record<WaveKernelName, number>>>;
  /**
   * Pieces of waves run in pieces (register writes arrive mid-wave, e.g. streamed operands) that
   * the WebAssembly kernels ran, by kernel (unchecked fast runs). Empty when none ran.
   */
  readonly wasmPieces: Readonly<Partial<Record<WaveKernelName, number>>>;
}

const TENSORS: readonly TensorName[] = ["input", "weight", "output"];

function level(values: Readonly<Record<string, number>>, prefix: string, outputName = "output"): LevelTraffic {
  const get = (k: string) => values[k] ?? 0;
  const read = { input: get(`${prefix}.read.input`), weight: get(`${prefix}.read.weight`), output: get(`${prefix}.read.${outputName}`) };
  const write = { input: get(`${prefix}.write.input`), weight: get(`${prefix}.write.weight`), output: get(`${prefix}.write.${outputName}`) };
  let total = 0;
  for (const t of TENSORS) total += read[t] + write[t];
  return { read, write, total };
}

function resolveMapping(df: SimulateOptions["dataflow"], layer: ConvLayer, arch: ArchSpec, types: { input: OperandType; weight: OperandType }): Mapping {
  if (df === undefined || typeof df === "string") {
    const name = df ?? "chen2020";
    if (typeof name === "string" && name.trim().startsWith("{")) return parseMapping(name, layer, "dataflow");
    if (!DATAFLOW_CHOICES.includes(name)) throw new ConfigError("dataflow", name, `be one of ${DATAFLOW_CHOICES.join(", ")}, or a Mapping`);
    return buildMapping(name, layer, arch, { types });
  }
  return parseMapping(df, layer, "dataflow");
}

/**
 * The register files the simulator allocates: the architecture's partitions, or a shared pool
 * carved into the partitions the mapping needs (`rfLayout`, legality.ts), except that a streamed
 * tensor (mapping.rf.stream) gets room for its whole rf tile twice: the previous wave's partial sums
 * drain from one half while the next wave accumulates in the other, and the next wave's streamed
 * operands arrive in one half while the current wave reads the other (the edge feeders stream
 * them during the wave). In the hardware that tile passes through one pipeline register, which is what
 * legality charges against the partition; the simulator keeps the words the register will hold
 * one after the other, so MAC waves address them as they would a resident tile. A streamed
 * operand's buffer is kept once per line it flows along (`RegFileLayout.lines`: every PE of the
 * line holds the same words), so its storage grows with the array's side, not with its PEs; so is
 * a kept input or weight partition that every PE of a row (column) holds alike ({@link alikeLine}:
 * e.g. `chen2020`'s inputs along rows and weights along columns), whose deliveries, slides and
 * fills then move the words once per line instead of once per PE (accesses are still counted per
 * PE; why that is exact: docs/design-notes.md, "Register files of PEs that hold alike share one
 * slice"). A streamed output that every PE of a line shares (summed down the line over the
 * neighbour links: `ws` and `is` on a systolic array) accumulates in one slice per line in
 * unchecked runs, so its storage too grows with the side (AlexNet conv1, `ws` on 128 x 128 with a
 * 4 MiB GBuf: 99 M psum words before, 0.6 M now); checked runs keep one per PE. An
 * operand the RF bypasses (mapping.rf.keep false) is staged the same way, per PE, in a partition
 * whose accesses are not register accesses (`RegFileLayout.staged`).
 * @param checked a checked run (each PE keeps its own partial sums, tagged).
 */
export function streamBuffers(arch: ArchSpec, m: Mapping, layer: ConvLayer, checked = false): RegFileLayout {
  const rf: { -readonly [K in keyof RegFileLayout]: RegFileLayout[K] } = { ...rfLayout(arch.rf, m, layer) };
  const flows = streamFlows(m);
  const lines: Partial<Record<RfPartition, "row" | "col">> = {};
  const staged: Partial<Record<"input" | "weight", true>> = {};
  const passing: Partial<Record<RfPartition, true>> = {};
  for (const t of TENSORS) {
    const bypass = t !== "output" && !m.rf.keep[t];
    if (!m.rf.stream?.[t] && !bypass) {
      const line = t === "output" ? undefined : alikeLine(m, t);
      if (line) lines[t as "input" | "weight"] = line;
      continue;
    }
    // Two halves: a streamed output drains from one while the next wave fills the other; an
    // operand that passes through the PE has its next words arrive in one while the wave reads
    // the other (sequencer/program.ts).
    const need = tileFootprint(m, layer, "rf", t) * 2;
    rf[RF_ENTRY_FIELDS[t]] = bypass ? need : Math.max(rf[RF_ENTRY_FIELDS[t]], need);
    if (bypass) staged[t] = true;
    else passing[t === "output" ? "psum" : t] = true;
    if (!bypass && t !== "output" && flows[t]) lines[t] = flows[t] === "right" ? "row" : "col";
    // A streamed output that every PE of a line shares is summed down the line over the
    // neighbour links: unchecked, the line accumulates into one slice (RegFile's header).
    const outLine = t === "output" && !checked && arch.noc.neighbourLinks ? reducedLine(m) : undefined;
    if (outLine) lines.psum = outLine;
  }
  if (Object.keys(passing).length > 0) rf.passing = passing;
  if (Object.keys(lines).length > 0) rf.lines = lines;
  if (Object.keys(staged).length > 0) rf.staged = staged;
  return rf;
}

/** The inputs of one run, validated. */
interface RunInputs {
  readonly layer: ConvLayer;
  readonly arch: ArchSpec;
  readonly mapping: Mapping;
  /** The register files' layout for the mapping ({@link streamBuffers}). */
  readonly rf: RegFileLayout;
  /** The operands; the weights IOHW when `wIOHW` (seeded FC weights drawn in their DRAM layout). */
  readonly ops: ConvOperands;
  readonly wIOHW: boolean;
  readonly mode: SimMode;
  readonly checked: boolean;
  readonly maxCycles: number;
  readonly onProgress: SimulateOptions["onProgress"];
  readonly timelineReplay: boolean;
}

/**
 * Simulates one layer bit-exactly on an accelerator with a dataflow.
 * @throws ConfigError for any invalid input (layer, arch, mapping, tensors, options), or a run
 *   over its memory or work limits (`limits`), before any work.
 * @throws StallError when the run reaches `maxCycles`, naming what is stalled.
 * @throws InvariantError on a simulator bug (a broken internal invariant; please report it).
 */
export function simulate(options: SimulateOptions): SimulationResult {
  const t0 = performance.now();
  const inputs = resolveInputs(options);
  const sys = buildSystem(inputs.arch, {
    mode: inputs.mode,
    checked: inputs.checked,
    rf: inputs.rf,
    controller: (hw) => sequencerFor(inputs, hw),
  });
  const run = runSystem(sys, inputs.maxCycles);
  const verified = verify(inputs, sys);
  return assembleResult(inputs, sys, run, verified, t0);
}

/** Every field of {@link SimulateOptions}: any other is refused (a misspelt option is not ignored). */
const SIMULATE_OPTION_KEYS: readonly string[] = Object.freeze(["layer", "arch", "archOverrides", "dataflow", "x", "w", "seed", "types", "zeroPoints", "checked", "mode", "maxCycles", "onProgress", "timelineReplay", "limits", "limitNames"]);

/** The rule of simulate()'s switches (`checked`, `timelineReplay`). */
const OPTIONAL_BOOL: FieldRule = Object.freeze({ kind: "bool", optional: true, doc: "a switch" });

/** Validates the options, in a fixed order (the first invalid field is the one reported). */
function resolveInputs(options: SimulateOptions): RunInputs {
  if (options === null || typeof options !== "object") throw new ConfigError("options", options, "be an object");
  rejectUnknownKeys("options", options as unknown as Record<string, unknown>, SIMULATE_OPTION_KEYS);
  const layer = convLayer(options.layer);
  const arch = resolveArch((options.arch ?? "chen2020") as string, options.archOverrides as ArchOverrides | undefined);
  if (options.mode !== undefined && options.mode !== "fast" && options.mode !== "reference") throw new ConfigError("mode", options.mode, 'be "fast" or "reference"');
  checkField("checked", options.checked, OPTIONAL_BOOL);
  checkField("timelineReplay", options.timelineReplay, OPTIONAL_BOOL);
  const maxCycles = options.maxCycles ?? 2 ** 52;
  if (!Number.isSafeInteger(maxCycles) || maxCycles < 1) throw new ConfigError("maxCycles", maxCycles, "be a positive integer");
  const budgetTypes = { input: operandTypeOf(options.x, options.types?.input), weight: operandTypeOf(options.w, options.types?.weight) };
  const [limits, names] = [checkLimits(options.limits), checkLimitNames(options.limitNames)];
  checkSimulationBudget(layer, arch, { types: budgetTypes, checked: options.checked ?? false }, limits, names);
  const checked = options.checked ?? false;
  // Operands both seeded are drawn once the mapping is known (their checks come first, in the
  // same order): a fully connected layer's weights in their DRAM layout.
  const seeded = options.x === undefined && options.w === undefined ? seededTypes(options) : undefined;
  const given = seeded ? undefined : resolveOperands(options, layer);
  const types = seeded ?? { input: given!.xType, weight: given!.wType };
  const mapping = resolveMapping(options.dataflow, layer, arch, types);
  const wIOHW = seeded !== undefined && !checked && isFullyConnected({ layer }) && weightLayout(mapping, layer) === "IOHW";
  const ops = given ?? drawOperands(options, layer, seeded!, wIOHW);
  assertLegal(mapping, layer, arch, { types });
  checkPsumWidth(layer, arch, ops);
  checkSchedule(mapping);
  const rf = streamBuffers(arch, mapping, layer, checked);
  const perPe = `input ${rf.inputEntries}, weight ${rf.weightEntries}, psum ${rf.psumEntries}`;
  checkRfStorage(layer, arch, RegFile.words(rf, arch.array.rows * arch.array.cols, arch.array.cols), perPe, { types: budgetTypes, checked }, limits, names);
  const mode = options.mode ?? "fast";
  return { layer, arch, mapping, rf, ops, wIOHW, mode, checked, maxCycles, onProgress: options.onProgress, timelineReplay: options.timelineReplay ?? true };
}

/** The types of seeded operands, and their zero points checked against them (as resolveOperands would, in its order). */
function seededTypes(options: SimulateOptions): { input: OperandType; weight: OperandType } {
  const input = requireOperandType("types.input", options.types?.input ?? DEFAULT_OPERAND_TYPE);
  const weight = requireOperandType("types.weight", options.types?.weight ?? DEFAULT_OPERAND_TYPE);
  requireZeroPoint("zeroPoints.input", options.zeroPoints?.input ?? 0, input);
  requireZeroPoint("zeroPoints.weight", options.zeroPoints?.weight ?? 0, weight);
  return { input, weight };
}

/**
 * Seeded operands of `types` (the values {@link resolveOperands} would draw), the weights drawn
 * IOHW when `wIOHW` (a fully connected layer whose dataflow keeps them so in DRAM: tensors.ts,
 * layerTensors' `weightOrder`): the OIHW tensor is never made, nor transposed.
 */
function drawOperands(options: SimulateOptions, layer: ConvLayer, types: { input: OperandType; weight: OperandType }, wIOHW: boolean): ConvOperands {
  const { x, w } = layerTensors(layer, { seed: options.seed ?? 1, xType: types.input, wType: types.weight, weightOrder: wIOHW ? "IOHW" : "OIHW" });
  return checkOperands(layer, x, w, { xZeroPoint: options.zeroPoints?.input ?? 0, wZeroPoint: options.zeroPoints?.weight ?? 0 });
}

/** The element type an operand will have, for the memory estimate (int16 when it cannot tell yet: the widest). */
function operandTypeOf(given: unknown, type: unknown): OperandType {
  const t = given !== undefined ? dtypeOfArray(given) : (type ?? DEFAULT_OPERAND_TYPE);
  return t === "int8" || t === "uint8" ? t : "int16";
}

/** The operands: the user's, or seeded ones of the requested types; checked against the layer with their zero points. */
function resolveOperands(options: SimulateOptions, layer: ConvLayer): ConvOperands {
  let x = options.x;
  let w = options.w;
  if (x === undefined || w === undefined) {
    const t = layerTensors(layer, {
      seed: options.seed ?? 1,
      xType: requireOperandType("types.input", options.types?.input ?? DEFAULT_OPERAND_TYPE),
      wType: requireOperandType("types.weight", options.types?.weight ?? DEFAULT_OPERAND_TYPE),
    });
    x ??= t.x;
    w ??= t.w;
  }
  const xType = dtypeOfArray(x);
  const wType = dtypeOfArray(w);
  if (xType === "int8" || xType === "uint8" || xType === "int16") requireZeroPoint("zeroPoints.input", options.zeroPoints?.input ?? 0, xType);
  if (wType === "int8" || wType === "uint8" || wType === "int16") requireZeroPoint("zeroPoints.weight", options.zeroPoints?.weight ?? 0, wType);
  return checkOperands(layer, x, w, { xZeroPoint: options.zeroPoints?.input ?? 0, wZeroPoint: options.zeroPoints?.weight ?? 0 });
}

/** The controller of the run: loads the operands into the DRAM model, then builds the Sequencer over them. */
function sequencerFor(inputs: RunInputs, hw: Hardware): Sequencer {
  const { layer, arch, mapping, ops } = inputs;
  const tensors = loadOperands(hw, layer, mapping, ops, inputs.wIOHW);
  const operands = { xType: ops.xType, wType: ops.wType, xZeroPoint: ops.xZeroPoint, wZeroPoint: ops.wZeroPoint };
  return new Sequencer(hw.engine, layer, arch, mapping, operands, { dram: hw.dram, gbuf: hw.gbuf, noc: hw.noc, pe: hw.pe, ...tensors }, inputs.onProgress, { timelineReplay: inputs.timelineReplay });
}

/** The names of the operands' tensors in the DRAM model. */
const DRAM_TENSOR = { x: "x", w: "w", y: "y" } as const;

/**
 * Puts x and the weights into the DRAM model and allocates y. Weights sit in DRAM in the order the
 * dataflow streams them (sequencer/layout.ts, WeightLayout). In checked mode every word carries
 * its tag: an input its index in the padded input (so padding has tags of its own), a weight its
 * index in OIHW.
 */
function loadOperands(hw: Hardware, layer: ConvLayer, mapping: Mapping, ops: ConvOperands, wIOHW: boolean): { x: DramTensor; w: DramTensor; y: DramTensor } {
  const { engine, dram } = hw;
  engine.nameTagSpace(TAG_SPACE.input, "x(padded)");
  engine.nameTagSpace(TAG_SPACE.weight, "w");
  engine.nameTagSpace(TAG_SPACE.output, "y");
  const xTags = engine.checked ? paddedInputTags(layer) : undefined;
  const x = dram.load(DRAM_TENSOR.x, "input", ops.x, xTags ? { tags: xTags } : {});
  // (weights drawn in their layout are ours, as is a layout's new array: DRAM may keep either)
  const laid = wIOHW ? { data: ops.w, index: undefined } : layoutWeights(ops.w, layer, weightLayout(mapping, layer), engine.checked);
  const adopt = wIOHW || laid.data !== ops.w;
  const w = dram.load(DRAM_TENSOR.w, "weight", laid.data, laid.index ? { tags: laid.index.map((i) => tagOf(TAG_SPACE.weight, i)), adopt } : { adopt });
  const y = dram.allocate(DRAM_TENSOR.y, "output", "int32", convShape(layer).outputElements);
  return { x, w, y };
}

/** The tag of each input word (NCHW): its index in the padded input. */
function paddedInputTags(layer: ConvLayer): Float64Array {
  const { batch: Nb, inChannels: Ct, inHeight: H, inWidth: W } = layer;
  const Hp = H + layer.pads[0] + layer.pads[2];
  const Wp = W + layer.pads[1] + layer.pads[3];
  const tags = new Float64Array(convShape(layer).inputElements);
  let i = 0;
  for (let n = 0; n < Nb; n++)
    for (let c = 0; c < Ct; c++)
      for (let h = 0; h < H; h++)
        for (let ww = 0; ww < W; ww++) tags[i++] = tagOf(TAG_SPACE.input, ((n * Ct + c) * Hp + h + layer.pads[0]) * Wp + ww + layer.pads[1]);
  return tags;
}

/**
 * Prepares the Sequencer's program (it allocates the GBuf regions), then runs the engine to
 * quiescence. A run that reaches `maxCycles` throws a StallError naming what is stalled.
 */
function runSystem(sys: System, maxCycles: number): RunResult {
  sys.sequencer.start();
  return sys.engine.run({ maxCycles });
}

/** The output read back out of the DRAM model, and its comparison with `referenceConv` (timed). */
interface VerifiedOutput {
  readonly output: Int32Array;
  readonly verification: Verification;
  readonly referenceMs: number;
}

/** Reads y out of the DRAM model and compares it with the reference convolution of the same operands. */
function verify(inputs: RunInputs, sys: System): VerifiedOutput {
  const { layer, ops } = inputs;
  const output = new Int32Array(sys.dram.contents(DRAM_TENSOR.y) as Int32Array);
  const r0 = performance.now();
  const expected = inputs.wIOHW ? (referenceFcTransposedWasm(ops) ?? referenceFcTransposed(ops)) : referenceConv(layer, ops.x, ops.w, { xZeroPoint: ops.xZeroPoint, wZeroPoint: ops.wZeroPoint });
  const referenceMs = performance.now() - r0;
  return { output, verification: compareOutputs(layer, expected, output), referenceMs };
}

/** The result: counters, stalls, traffic per level, boundaries against the bounds, cycles against the cycle bound. */
function assembleResult(inputs: RunInputs, sys: System, run: RunResult, verified: VerifiedOutput, t0: number): SimulationResult {
  const { layer, arch, mapping } = inputs;
  const values = sys.engine.counters.values();
  const macs = values["pe.mac"] ?? 0;
  const cycles = run.cycles as number;
  const traffic = { dram: level(values, "dram"), gbuf: level(values, "gbuf"), rf: level(values, "rf", "psum") };
  const nest = new Nest(mapping, layer);
  const pesUsed = nest.usedRows * nest.usedCols;
  const cycleBound = cycleLowerBound(values, arch, pesUsed);
  const { pe } = sys;
  return {
    layer,
    arch,
    mapping,
    output: verified.output,
    verification: verified.verification,
    cycles,
    macs,
    utilization: macs / (arch.array.rows * arch.array.cols * cycles * arch.array.macsPerCycle),
    stalls: stallsOf(values),
    counters: sys.engine.counters.snapshot(),
    traffic,
    boundaries: boundaries(inputs, values, traffic.dram.total),
    cycleBound: { ...cycleBound, pesUsed, ratio: cycles / cycleBound.cycles },
    wallMs: performance.now() - t0,
    referenceMs: verified.referenceMs,
    simulator: { engineSteps: run.steps, ...sys.sequencer.planStats(), wasmWaves: ranKernels(pe.kernels?.calls), wasmPieces: ranKernels(pe.kernels?.pieces) },
  };
}

/** Busy PE-cycles, and idle PE-cycles per cause. */
function stallsOf(values: Readonly<Record<string, number>>): Record<StallCause | "busy", number> {
  const stalls = { busy: values["pe.busy"] ?? 0 } as Record<StallCause | "busy", number>;
  for (const c of STALL_CAUSES) stalls[c] = values[`pe.idle.${c}`] ?? 0;
  return stalls;
}

/** Traffic at the DRAM and GBuf boundaries against their lower bounds. */
function boundaries(inputs: RunInputs, values: Readonly<Record<string, number>>, dramWords: number): SimulationResult["boundaries"] {
  const { layer, arch, mapping, ops } = inputs;
  const report = (measured: number, b: LayerBounds): BoundaryReport => {
    const minimum = b.headline;
    return { measured, bounds: b, minimum, ratio: measured / minimum, ratioToPaper: measured / b.paper.total };
  };
  const bTypes = { input: ops.xType, weight: ops.wType };
  const dramBounds = lowerBounds(layer, { boundary: "dram", capacity: boundaryCapacityWords(arch, "dram", bTypes), types: bTypes });
  const gbufBounds = lowerBounds(layer, { boundary: "gbuf", capacity: boundaryCapacityWords(arch, "gbuf", bTypes), types: bTypes });
  // Into and out of the PE array: words the network delivered into RFs (each delivered word
  // crosses the GBuf/RF boundary once) plus words drained out. A streamed operand crosses at the
  // array's edge only (`pe.inject`); its other receipts come from a neighbour's register.
  const into = (part: "input" | "weight") => values[mapping.rf.stream?.[part] ? `pe.inject.${part}` : `noc.deliver.${part}`] ?? 0;
  const nocIn = into("input") + into("weight") + (values["noc.deliver.psum"] ?? 0);
  const nocOut = Object.entries(values)
    .filter(([k]) => k.startsWith("noc.drain."))
    .reduce((a, [, v]) => a + v, 0);
  return { dram: report(dramWords, dramBounds), gbuf: report(nocIn + nocOut, gbufBounds) };
}

/** The kernels that ran, with their counts. */
function ranKernels(calls: Readonly<Record<WaveKernelName, number>> | undefined): Partial<Record<WaveKernelName, number>> {
  return calls ? Object.fromEntries(Object.entries(calls).filter(([, n]) => n > 0)) : {};
}
