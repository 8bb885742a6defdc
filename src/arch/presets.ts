/**
 * Validation of an {@link ArchSpec} and the architecture presets (STYLE rules 5 and 6: every
 * parameter declared once in spec.ts, validated here once, before any component exists; a
 * preset is a frozen value and a variant is a deep-merged copy, as Gemmini's config `.copy`).
 *
 * Capacity conventions (spec.ts): a GBuf region of n elements of b bytes takes n*b bytes (inputs
 * and weights at their operand width, partial sums and outputs at `gbuf.psumBytes`, default 4); a
 * register file is counted in entries, one element per entry, an int32 partial sum included, in
 * three partitions or one shared pool (`rf.sharedEntries`). The on-chip storage a preset models in
 * bytes is {@link onChipBytes}.
 *
 * Presets (every size is a parameter: override any field with {@link resolveArch}):
 * - `eyeriss`: Eyeriss v1 (Chen, Krishna, Emer, Sze, "Eyeriss: An Energy-Efficient
 *   Reconfigurable Accelerator for Deep Convolutional Neural Networks", JSSC 2017; dataflow in
 *   ISCA 2016): 12 x 14 PEs, 108 KiB global buffer, per PE 224 weight, 12 input and 24 psum
 *   scratchpad entries, 16-bit data. Eyeriss's psum scratchpad holds 16-bit words; here each of
 *   its 24 entries holds an int32 (exact accumulation), so the entry count, and with it the
 *   dataflow's reuse, is the chip's, while the bits are doubled. Eyeriss's run-length compression
 *   of DRAM traffic is not modeled: every word moved is counted.
 * - `chen2020`: our reading of the three-level accelerator of Chen, Han & Wang, "Communication
 *   Lower Bound in Convolution Accelerators" (HPCA 2020, arXiv 1911.05662): DRAM, a small global
 *   buffer that stages one input channel's slice and its weights, and large per-PE registers that
 *   hold the output tile's partial sums; inputs broadcast along PE rows, weights along PE
 *   columns, no links between PEs. The paper publishes no sizes we could check; ours are chosen
 *   so the on-chip storage equals 181.5 KiB, the Eyeriss figure (see `CHEN2020_BUDGET_BYTES`),
 *   with psums counted at 32 bits, and so the output tile gets the share of it the paper's
 *   optimum asks for.
 * - `systolic`: a TPU-like weight/output/input-stationary systolic array (Jouppi et al., "In-
 *   Datacenter Performance Analysis of a Tensor Processing Unit", ISCA 2017; scaled to 32 x 32 as
 *   SCALE-Sim's default, Samajdar et al., ISPASS 2020): one register per operand and one
 *   accumulator per PE, neighbour links that forward operands and partial sums
 *   (`noc.forwarding`): ws, os and is stream through the array (docs/timing.md, "A systolic
 *   fold", against SCALE-Sim's cycles).
 *
 * DRAM and NoC numbers are our choices where the sources give none; each is commented.
 */
import { ConfigError } from "../core/errors.js";
import { rejectUnknownKeys, rejectUnsafeKeys } from "../core/fields.js";
import { parseCapacity } from "../core/units.js";
import { ARRAY_FIELDS, DRAM_FIELDS, GBUF_FIELDS, NOC_FIELDS, RF_FIELDS, RF_PARTITION_FIELDS, checkArraySpec, checkDramSpec, checkGbufSpec, checkNocSpec, checkRfSpec } from "./schema.js";
import type { ArchSpec, DramSpec, GlobalBufferSpec, LevelNames, NocSpec, PeArraySpec, RegFileSpec } from "./spec.js";

/** A field of a spec as a user may write it: `gbuf.capacityBytes` also accepts a size string (`108KiB`). */
export type ArchSpecInput = {
  name: string;
  dram: DramSpec;
  gbuf: Omit<GlobalBufferSpec, "capacityBytes"> & { capacityBytes: number | string };
  rf: RegFileSpec;
  array: PeArraySpec;
  noc: NocSpec;
  levelNames?: LevelNames;
};

/** A partial spec: any subset of fields, nested (what {@link resolveArch} merges over a preset). */
export type ArchOverrides = {
  name?: string;
  dram?: Partial<DramSpec>;
  gbuf?: Partial<ArchSpecInput["gbuf"]>;
  rf?: Partial<RegFileSpec>;
  array?: Partial<PeArraySpec>;
  noc?: Partial<NocSpec>;
  levelNames?: LevelNames;
};

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function section(path: string, raw: Record<string, unknown>, key: string, fields: readonly string[]): Record<string, unknown> {
  const v = raw[key];
  if (!isObject(v)) throw new ConfigError(`${path}.${key}`, v, `be an object with the fields ${fields.join(", ")}`);
  rejectUnknownKeys(`${path}.${key}`, v, fields);
  return v;
}

const LEVEL_NAME_FIELDS = ["dram", "gbuf", "rf", "rfInput", "rfWeight", "rfOutput"] as const;

/**
 * Validates a complete architecture spec and returns it frozen. Every field is checked against its
 * one rule in the schema (src/arch/schema.ts: `DRAM_RULES`, `GBUF_RULES`, `RF_RULES`,
 * `ARRAY_RULES`, `NOC_RULES`, each an integer range with an upper bound, a power of two, a name
 * list or a boolean), plus the rules across fields: the GBuf capacity (a number of bytes or a size
 * such as `108KiB`) a multiple of one row across the banks (banks x bankWordBytes); the RF either
 * partitioned, with at least one entry in all, or one pool, `sharedEntries`, with no partition
 * field; forwarding only over neighbour links. Optional fields and their defaults: `dram.burstsPerCycle`
 * (`max(1, ceil(bytesPerCycle / burstBytes))`), `dram.model` (`channel`), `gbuf.model` (`banked`),
 * `gbuf.psumBytes` (4), `noc.psumWordsPerCycle` (the drain path's width), `noc.forwarding` (false).
 * Keys `__proto__`, `constructor` and `prototype` are refused.
 * @param path prefix of error field names (default `arch`).
 * @throws ConfigError such as `arch.gbuf.banks must be a power of two in [1, 4096]; got 6`.
 */
export function archSpec(input: ArchSpecInput | ArchSpec, path = "arch"): ArchSpec {
  const spec: unknown = input;
  rejectUnsafeKeys(path, spec);
  if (!isObject(spec)) throw new ConfigError(path, spec, "be an object with the fields name, dram, gbuf, rf, array, noc");
  const top = ["name", "dram", "gbuf", "rf", "array", "noc", "levelNames"];
  rejectUnknownKeys(path, spec, top);
  if (typeof spec.name !== "string" || spec.name.length === 0) throw new ConfigError(`${path}.name`, spec.name, "be a non-empty string");

  const dram = checkDramSpec(section(path, spec, "dram", DRAM_FIELDS), `${path}.dram`);
  const g = section(path, spec, "gbuf", GBUF_FIELDS);
  const gbuf = checkGbufSpec({ ...g, capacityBytes: capacityBytesField(`${path}.gbuf.capacityBytes`, g.capacityBytes) }, `${path}.gbuf`);
  const rf = checkRfSpec(section(path, spec, "rf", RF_FIELDS), `${path}.rf`);
  const array = checkArraySpec(section(path, spec, "array", ARRAY_FIELDS), `${path}.array`);
  const noc = checkNocSpec(section(path, spec, "noc", NOC_FIELDS), `${path}.noc`);
  const levelNames = spec.levelNames === undefined ? undefined : levelNamesField(section(path, spec, "levelNames", LEVEL_NAME_FIELDS), `${path}.levelNames`);
  return Object.freeze({ name: spec.name, dram, gbuf, rf, array, noc, ...(levelNames ? { levelNames } : {}) });
}

/** `levelNames`: each given field a non-empty string (ArchSpec.levelNames). */
function levelNamesField(raw: Record<string, unknown>, path: string): LevelNames {
  for (const [k, v] of Object.entries(raw)) {
    if (v !== undefined && (typeof v !== "string" || v.trim() === "")) throw new ConfigError(`${path}.${k}`, v, "be a non-empty string (the level's name)");
  }
  return Object.freeze({ ...raw }) as LevelNames;
}

/** `gbuf.capacityBytes` as given: a number of bytes, or a size string such as `108KiB` (bytes, not words). */
function capacityBytesField(field: string, v: unknown): unknown {
  if (typeof v !== "string") return v;
  const cap = parseCapacity(field, v);
  if (cap.unit !== "bytes") throw new ConfigError(field, v, "be in bytes (B, KiB, kB, ...), not words");
  return cap.value;
}

/**
 * On-chip storage an architecture models, in bytes: the GBuf plus every PE's register file, with
 * input and weight entries at `operandBytes` (default 2, 16-bit) and psum entries at 4 bytes. A
 * shared pool's entries are 4 bytes each (any of them may hold an int32 partial sum).
 */
export function onChipBytes(arch: ArchSpec, operandBytes = 2): number {
  const rf = arch.rf;
  const pe = rf.sharedEntries !== undefined ? rf.sharedEntries * 4 : ((rf.inputEntries ?? 0) + (rf.weightEntries ?? 0)) * operandBytes + (rf.psumEntries ?? 0) * 4;
  return arch.gbuf.capacityBytes + arch.array.rows * arch.array.cols * pe;
}

/**
 * Eyeriss's on-chip storage as the issue quotes it, 181.5 KiB = 185,856 bytes: the 108 KiB
 * global buffer plus 168 filter scratchpads of 224 x 16 bit (168 x 448 B = 73.5 KiB). With the
 * ifmap (12 x 16 b) and psum (24 x 16 b) scratchpads Eyeriss has 193.3 KiB; the smaller figure
 * is the stricter budget, and `chen2020` meets it with psums counted at 32 bits.
 */
export const CHEN2020_BUDGET_BYTES = 108 * 1024 + 168 * 224 * 2;

/**
 * Eyeriss v1 (JSSC 2017), 16-bit data. Sizes from the paper: 12 x 14 PEs, 108 KiB GBuf, per PE
 * 224 weight, 12 input and 24 psum entries. Our choices: the GBuf's 16 banks of 64-bit words
 * (Eyeriss banks its GLB; convsim needs a power-of-two count), two read ports (input and weight
 * networks) and one write port; three RF read and write ports (Eyeriss has one scratchpad per
 * data type); a 2-stage MAC pipeline; 4 words per cycle on each global network (JSSC 2017 uses
 * 64-bit global buses, four 16-bit words, the psum network included); vertical neighbour links for psum accumulation (the
 * local network of the row-stationary dataflow); DRAM at 16 bytes per core cycle (a DDR3-1600
 * x16 device, 3.2 GB/s, at Eyeriss's 200 MHz core clock), 20 cycles (100 ns) of latency, 64-byte
 * bursts (burst length 8 on a 64-bit bus), 8 bursts in flight.
 */
export const eyeriss: ArchSpec = archSpec({
  name: "eyeriss",
  dram: { bytesPerCycle: 16, latencyCycles: 20, burstBytes: 64, maxOutstanding: 8 },
  gbuf: { capacityBytes: 108 * 1024, banks: 16, bankWordBytes: 8, wordsPerCyclePerBank: 1, readPorts: 2, writePorts: 1 },
  rf: { inputEntries: 12, weightEntries: 224, psumEntries: 24, readPorts: 3, writePorts: 3 },
  array: { rows: 12, cols: 14, macsPerCycle: 1, pipelineLatency: 2 },
  noc: { inputWordsPerCycle: 4, weightWordsPerCycle: 4, drainWordsPerCycle: 4, psumWordsPerCycle: 4, neighbourLinks: true },
});

/**
 * Our reading of the Chen, Han & Wang (HPCA 2020) accelerator. Choices, all parameters:
 * - the PE array is Eyeriss's 12 x 14, so compute is equal and only storage and dataflow differ;
 *   PE rows take output positions (images x rows x columns), PE columns output channels (or the
 *   other way round: the dataflow picks the orientation, dataflows/chen2020-tiles.ts);
 * - the output tile gets the share of the storage the optimum asks for (docs/bounds.md): at the
 *   optimum of the paper's schedule b*x*y*z ~ S with R*z ~ b*x*y, and only one channel's slice of
 *   inputs and weights beside it. The output tile lives in the psum registers, where a word of S
 *   is one entry (in the GBuf an int32 psum takes four bytes, each a word of S with 8-bit data):
 *   196 int32 per PE, 168 x 196 = 32,928 psums, 71 % of the bytes;
 * - per PE, 64 input and 24 weight entries (16-bit): one (channel, tap) step of a PE is an outer
 *   product of b1*y1*x1 inputs and z1 weights, and R*z ~ b*x*y spread over 12 rows of positions
 *   and 14 columns of channels asks for b1*y1*x1 / z1 ~ R * 14 / 12: about 46 x 4 for 3x3
 *   layers (R = 9), 15 x 13 for 1x1 layers (R = 1); `chen2020` double-buffers its operands where
 *   they fit twice (the next step's arrive during the wave), and 24 weights hold the 11 a PE line
 *   takes of a 13 x 13 layer's 128 channels twice; 64 inputs hold a PE's window for 2 x 2 outputs
 *   of AlexNet conv1 (11x11, stride 4: 5 x 5 entries) for 2 images, or a 2 x 16 window twice;
 * - a 24 KiB GBuf (8 banks of 64-bit words) stages, double-buffered, one input channel's slice
 *   with its halo and its z*kH*kW weights (AlexNet conv1's, the largest, and the other dataflows'
 *   tiles need it: with less, ws, os, is and rs move up to twice the DRAM words on conv1);
 *   chen2020's two-level form also keeps output tiles there when that moves fewer DRAM words;
 * - total: 24 KiB + 168 x (64x2 + 24x2 + 196x4) B = 185,856 B = 181.5 KiB = CHEN2020_BUDGET_BYTES;
 * - measured: against 64 / 16 / 200 entries (the same bytes), `chen2020` keeps AlexNet conv5's PEs
 *   busy 87.5 % of the cycles instead of 80.1 % and VGG-16 conv5's 95.9 % instead of 88.0 %,
 *   none less, and moves the same DRAM words on AlexNet's (batch 4) and VGG-16's (batch 3)
 *   convolutions (at batch 1, 4 % fewer on AlexNet conv3); rs moves 5-7 % more on AlexNet conv2
 *   and VGG-16 conv2_2 to conv3_3 (its row primitive depends on the psum count). Earlier, 64 / 16
 *   / 200 against 64 / 32 / 192 (docs/bounds.md, "chen2020 against the paper's bound"): 3.3 %
 *   fewer DRAM words, but rs's row primitive held half the filters (AlexNet conv5: 6.92 M cycles
 *   instead of 5.43 M);
 * - inputs broadcast along rows (12 words per cycle, one per row), weights along columns (14 per
 *   cycle), outputs drained once per tile (14 words per cycle; the psum bus, unused by the
 *   one-level form, is as wide); no neighbour links (psums never move between PEs); DRAM
 *   identical to `eyeriss`, for a like-for-like comparison.
 */
export const chen2020: ArchSpec = archSpec({
  name: "chen2020",
  dram: { bytesPerCycle: 16, latencyCycles: 20, burstBytes: 64, maxOutstanding: 8 },
  gbuf: { capacityBytes: 24 * 1024, banks: 8, bankWordBytes: 8, wordsPerCyclePerBank: 1, readPorts: 2, writePorts: 1 },
  rf: { inputEntries: 64, weightEntries: 24, psumEntries: 196, readPorts: 3, writePorts: 3 },
  array: { rows: 12, cols: 14, macsPerCycle: 1, pipelineLatency: 2 },
  noc: { inputWordsPerCycle: 12, weightWordsPerCycle: 14, drainWordsPerCycle: 14, psumWordsPerCycle: 14, neighbourLinks: false },
});

/**
 * A TPU-like 32 x 32 systolic array (the TPU's MXU is 256 x 256; 32 x 32 is SCALE-Sim's default
 * array). Each PE has one input register, one weight register and two accumulators (Gemmini's
 * PE has two, c1 and c2: one accumulates while the other's result shifts out, `os` uses them as
 * mapping.rf.doubleBufferOutput) and neighbour links (one cycle per hop) that forward operands and
 * carry partial sums: streamed operands enter at the edges over the buses and move PE to PE
 * (docs/timing.md).
 * Our choices: a 256 KiB GBuf in 32 banks of 64-bit words with a read and a write port per bank
 * (32 x 8 B = 256 B per cycle each way, enough to feed one 16-bit word per row and column per
 * cycle and to take the outputs back); edge buses of 32 words per cycle (one per
 * row for inputs, one per column for weights, for draining outputs and for reloading psums); DRAM at 32 bytes per
 * cycle (a DDR4-3200 x64 channel, 25.6 GB/s, at an 800 MHz array clock), 80 cycles (100 ns) of
 * latency, 64-byte bursts, 16 bursts in flight; a 1-cycle MAC.
 */
export const systolic: ArchSpec = archSpec({
  name: "systolic",
  dram: { bytesPerCycle: 32, latencyCycles: 80, burstBytes: 64, maxOutstanding: 16 },
  gbuf: { capacityBytes: 256 * 1024, banks: 32, bankWordBytes: 8, wordsPerCyclePerBank: 1, readPorts: 32, writePorts: 32 },
  rf: { inputEntries: 1, weightEntries: 1, psumEntries: 2, readPorts: 3, writePorts: 3 },
  array: { rows: 32, cols: 32, macsPerCycle: 1, pipelineLatency: 1 },
  noc: { inputWordsPerCycle: 32, weightWordsPerCycle: 32, drainWordsPerCycle: 32, psumWordsPerCycle: 32, neighbourLinks: true, forwarding: true },
});

/** The preset names. */
export type PresetName = "eyeriss" | "chen2020" | "systolic";

/** Every preset by name. */
export const presets: Readonly<Record<PresetName, ArchSpec>> = Object.freeze({ eyeriss, chen2020, systolic });

/** The preset names, in a stable order. */
export const PRESET_NAMES: readonly PresetName[] = Object.freeze(["eyeriss", "chen2020", "systolic"] as PresetName[]);

function deepMerge(path: string, base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = base[k];
    if (isObject(b)) {
      if (!isObject(v)) throw new ConfigError(`${path}.${k}`, v, "be an object (it overrides a section of the spec)");
      out[k] = deepMerge(`${path}.${k}`, b, v);
    } else {
      out[k] = v;
    }
  }
  return out;
}

/**
 * The base of a merge with its register-file layout switched when the overrides switch it: an
 * override that gives `rf.sharedEntries` drops the base's partition fields, one that gives a
 * partition field drops the base's `sharedEntries` (the two layouts are exclusive).
 */
function switchRfLayout(base: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  const rf = base.rf;
  const over = overrides.rf;
  if (!isObject(rf) || !isObject(over)) return base;
  const drop: readonly string[] =
    over.sharedEntries !== undefined ? RF_PARTITION_FIELDS : RF_PARTITION_FIELDS.some((f) => over[f] !== undefined) ? ["sharedEntries"] : [];
  if (drop.length === 0) return base;
  return { ...base, rf: Object.fromEntries(Object.entries(rf).filter(([k]) => !drop.includes(k))) };
}

/**
 * Resolves an architecture: a preset name or a complete spec, with optional overrides deep-merged
 * over it (a user's JSON may override any field; unknown fields are errors). The register file's
 * layout follows the overrides: `{ rf: { sharedEntries: 260 } }` over a partitioned preset makes
 * it one pool of 260 entries, and a partition field over a pooled spec makes it partitioned again
 * (then all three partition fields are needed). The result is validated and frozen.
 * @throws ConfigError for an unknown preset name or any invalid field (named with its path).
 */
export function resolveArch(nameOrSpec: PresetName | string | ArchSpecInput | ArchSpec, overrides?: ArchOverrides | Record<string, unknown>, path = "arch"): ArchSpec {
  let base: Record<string, unknown>;
  if (typeof nameOrSpec === "string") {
    if (!(PRESET_NAMES as readonly string[]).includes(nameOrSpec)) {
      throw new ConfigError(path, nameOrSpec, `be a preset name (${PRESET_NAMES.join(", ")}) or an ArchSpec object`);
    }
    base = presets[nameOrSpec as PresetName] as unknown as Record<string, unknown>;
  } else if (isObject(nameOrSpec)) {
    base = nameOrSpec as unknown as Record<string, unknown>;
  } else {
    throw new ConfigError(path, nameOrSpec, `be a preset name (${PRESET_NAMES.join(", ")}) or an ArchSpec object`);
  }
  if (overrides === undefined) return archSpec(base as unknown as ArchSpecInput, path);
  if (!isObject(overrides)) throw new ConfigError(`${path} overrides`, overrides, "be an object of fields to override");
  rejectUnsafeKeys(`${path} overrides`, overrides);
  return archSpec(deepMerge(path, switchRfLayout(base, overrides), overrides) as unknown as ArchSpecInput, path);
}
