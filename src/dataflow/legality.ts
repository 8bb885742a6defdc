/**
 * The legality check of a Mapping against a layer and an architecture: it runs before anything
 * else and returns the first broken rule with the level to fix (Timeloop's
 * `EvalStatus{success, fail_reason}`; STYLE rule 7). The rules, in the order checked:
 *
 * 1. structure: the mapping is well formed (see `parseMapping`).
 * 2. coverage: for every dimension the factors multiply to at least its size, and no loop has an
 *    iteration that is empty even in a full tile (`(f - 1) * inner < size`; mapping.ts).
 * 3. array: the row-axis factors multiply to at most `arch.array.rows`, the column-axis factors
 *    to at most `arch.array.cols`.
 * 4. reduction path: a spatial loop over a reduction dimension (C, R, S) with factor > 1 makes
 *    several PEs produce partial sums of one output. They need a path: neighbour links
 *    (`arch.noc.neighbourLinks`: partial sums are passed and accumulated PE to PE), or the drain
 *    path (`arch.noc.drainWordsPerCycle > 0`) into a GBuf that keeps outputs, where the drained
 *    partial sums are accumulated (a read-modify-write per drained word).
 * 4b. streaming (`mapping.rf.stream`): a streamed tensor needs `arch.noc.forwarding`; its tile
 *    must be shared by every PE of a row (it enters at the left edge and moves right) or of a
 *    column (top edge, moving down); each step of the rf nest takes a new word of it (every rf
 *    loop of factor > 1 indexes the tensor, and for the input not both P and R, nor both Q and S,
 *    since overlapping windows would reuse a word).
 * 4c. RF bypass (`mapping.rf.keep.input` or `.weight` false): the operand goes from the network
 *    straight to the MAC, so, as for a streamed tensor, each step of the rf nest takes a new word
 *    of it. Outputs are always kept (a PE accumulates in its register file).
 * 5. GBuf capacity, in bytes: for every tensor the GBuf keeps, its gbuf-tile footprint in words
 *    times its element width (inputs and weights: the operand types, default int16, the widest,
 *    so a mapping checked with the default is legal for every operand type; outputs and partial
 *    sums: `arch.gbuf.psumBytes`, default 4), doubled with double buffering; the sum must fit
 *    `arch.gbuf.capacityBytes` (src/arch/spec.ts: a region of n elements of b bytes takes n*b bytes).
 * 6. RF capacity, in entries: every tensor the RF keeps has its rf-tile footprint (doubled with
 *    double buffering; one entry holds one element, an int32 partial sum included; a streamed
 *    tensor occupies one entry, its pipeline register) within its partition
 *    (`arch.rf.inputEntries`, `weightEntries`, `psumEntries`), or, in a register file that is
 *    one pool (`arch.rf.sharedEntries`), the three footprints together within the pool.
 *
 * Not a rule of the mapping, but of the layer on the architecture: a GBuf that stores partial
 * sums narrower than int32 (`arch.gbuf.psumBytes` < 4) needs every partial sum of the layer to fit
 * ({@link checkPsumWidth}; `simulate()` calls it before the run).
 *
 * Footprints are the maxima over all tile instances (edges and padding included; see mapping.ts).
 * Not checked here (the Sequencer's and engine's concern): bandwidths, latencies, port counts.
 */
import { ConfigError } from "../core/errors.js";
import type { ArchSpec, RegFileSpec } from "../arch/spec.js";
import type { RegFileLayout } from "../memory/regfile.js";
import { dtypeInfo, requireOperandType, type OperandType, type OperandTypes } from "../workload/dtype.js";
import { convShape, type ConvLayer } from "../workload/layer.js";
import {
  checkCoverage,
  levelFootprint,
  loopDims,
  parseMapping,
  REDUCTION_DIMS,
  spatialShape,
  streamFlows,
  TENSOR_DIMS,
  TENSORS,
  tileExtents,
  type LevelName,
  type Mapping,
  type TensorName,
  type TensorWords,
} from "./mapping.js";

/** Operand element types; in this module both default to int16 (see the file header). */
export type { OperandTypes };

/** Options of {@link checkMapping}. */
export interface LegalityOptions {
  /** Element types of the input and weight tensors (default int16 for both). */
  readonly types?: OperandTypes;
}

/** A broken rule: the level to fix, and the field, value and rule of the {@link ConfigError} it makes. */
export interface Illegal {
  readonly ok: false;
  /** The level whose loops or flags break the rule, or `mapping` for a malformed mapping. */
  readonly level: LevelName | "mapping";
  /** A one-line explanation (the ConfigError message). */
  readonly reason: string;
  readonly field: string;
  readonly value: unknown;
  readonly rule: string;
}

/** The verdict of {@link checkMapping}. */
export type Legality = { readonly ok: true } | Illegal;

/**
 * Bytes per element of each tensor in the GBuf under the given operand types; outputs and partial
 * sums take `psumBytes` (`arch.gbuf.psumBytes`; default 4, int32).
 */
export function tensorBytes(types: OperandTypes = {}, psumBytes = dtypeInfo("int32").bytes): Readonly<Record<TensorName, number>> {
  const input = requireOperandType("types.input", types.input ?? "int16");
  const weight = requireOperandType("types.weight", types.weight ?? "int16");
  return Object.freeze({ input: dtypeInfo(input).bytes, weight: dtypeInfo(weight).bytes, output: psumBytes });
}

/** Options of {@link mappingUsage}. */
export interface UsageOptions extends LegalityOptions {
  /** Bytes per output or partial-sum word in the GBuf (`arch.gbuf.psumBytes`). Default 4. */
  readonly psumBytes?: number;
}

/** What a mapping occupies in each storage level. */
export interface MappingUsage {
  /** Words per tensor in the GBuf (0 when bypassed; doubled with double buffering). */
  readonly gbufWords: TensorWords;
  /** Bytes per tensor in the GBuf (words times element bytes). */
  readonly gbufBytes: TensorWords;
  /** Total GBuf bytes. */
  readonly gbufTotalBytes: number;
  /** Entries per RF partition used in each PE (0 when bypassed; doubled with double buffering). */
  readonly rfEntries: TensorWords;
  /** PE rows and columns used by the spatial level. */
  readonly rows: number;
  readonly cols: number;
}

/** The storage a mapping needs, by the rules in the file header (no legality verdict). */
export function mappingUsage(m: Mapping, layer: ConvLayer, options: UsageOptions = {}): MappingUsage {
  const bytes = tensorBytes(options.types, options.psumBytes);
  const gbufWords = levelFootprint(m, layer, "gbuf");
  const gbufBytes = {} as Record<TensorName, number>;
  let total = 0;
  for (const t of TENSORS) {
    gbufBytes[t] = gbufWords[t] * bytes[t];
    total += gbufBytes[t];
  }
  const { rows, cols } = spatialShape(m);
  return Object.freeze({
    gbufWords,
    gbufBytes: Object.freeze(gbufBytes),
    gbufTotalBytes: total,
    rfEntries: levelFootprint(m, layer, "rf"),
    rows,
    cols,
  });
}

/** The RF partition (its `arch.rf` field) that holds each tensor's rf tile. */
export const RF_ENTRY_FIELDS = Object.freeze({ input: "inputEntries", weight: "weightEntries", output: "psumEntries" } as const);

/**
 * The partitions a PE's register file is built with for a mapping: a partitioned register file's
 * own; a shared pool (`arch.rf.sharedEntries`) carved into one region per tensor of exactly the
 * entries rule 6 charges it (at least one), which fit the pool together when the mapping is legal.
 */
export function rfLayout(rf: RegFileSpec, m: Mapping, layer: ConvLayer): RegFileLayout {
  const ports = { readPorts: rf.readPorts, writePorts: rf.writePorts };
  if (rf.sharedEntries === undefined) return { inputEntries: rf.inputEntries ?? 0, weightEntries: rf.weightEntries ?? 0, psumEntries: rf.psumEntries ?? 0, ...ports };
  const need = levelFootprint(m, layer, "rf");
  return { inputEntries: Math.max(1, need.input), weightEntries: Math.max(1, need.weight), psumEntries: Math.max(1, need.output), ...ports };
}

function illegal(level: LevelName | "mapping", field: string, value: unknown, rule: string): Illegal {
  return { ok: false, level, field, value, rule, reason: new ConfigError(field, value, rule).message };
}

/**
 * Checks a mapping against a layer and an architecture (rules in the file header).
 * @returns `{ ok: true }`, or the first broken rule with its level and reason.
 */
export function checkMapping(m: Mapping, layer: ConvLayer, arch: ArchSpec, options: LegalityOptions = {}): Legality {
  let parsed: Mapping;
  try {
    parsed = parseMapping(m);
  } catch (e) {
    if (e instanceof ConfigError) return illegal("mapping", e.field, e.value, e.rule);
    throw e;
  }
  const coverage = checkCoverage(parsed, layer);
  if (coverage) return illegal(coverage.level, coverage.field, coverage.value, coverage.rule);

  const { rows, cols } = spatialShape(parsed);
  if (rows > arch.array.rows) {
    return illegal("spatial", "mapping.spatial.loops", rows, `unroll at most arch.array.rows = ${arch.array.rows} PE rows (product of the row-axis factors)`);
  }
  if (cols > arch.array.cols) {
    return illegal("spatial", "mapping.spatial.loops", cols, `unroll at most arch.array.cols = ${arch.array.cols} PE columns (product of the col-axis factors)`);
  }

  // The drain path always exists (archSpec requires drainWordsPerCycle >= 1); it can reduce
  // only into a GBuf that keeps outputs.
  const drainReduction = arch.noc.drainWordsPerCycle > 0 && parsed.gbuf.keep.output;
  if (!arch.noc.neighbourLinks && !drainReduction) {
    const i = parsed.spatial.loops.findIndex((l) => l.factor > 1 && loopDims(parsed, l.dim).some((d) => REDUCTION_DIMS.includes(d)));
    if (i >= 0) {
      const l = parsed.spatial.loops[i]!;
      return illegal(
        "spatial",
        `mapping.spatial.loops[${i}]`,
        `${l.dim} x ${l.factor} (${l.axis})`,
        `have a path for partial sums reduced across PEs: ${arch.name} has no neighbour links (arch.noc.neighbourLinks) and the GBuf bypasses outputs (mapping.gbuf.keep.output), so the drain path cannot accumulate them; keep outputs in the GBuf or map ${l.dim} in time`,
      );
    }
  }

  const streamed = TENSORS.filter((t) => parsed.rf.stream?.[t]);
  if (streamed.length > 0) {
    const t = streamed[0]!;
    if (!arch.noc.forwarding) {
      return illegal("rf", `mapping.rf.stream.${t}`, true, `be false: ${arch.name} does not forward operands PE to PE (arch.noc.forwarding); keep ${t} in the RF instead`);
    }
    const flows = streamFlows(parsed);
    for (const u of streamed) {
      if (flows[u] === undefined) {
        return illegal("rf", `mapping.rf.stream.${u}`, true, `stream a tile that every PE of a row, or of a column, shares (it enters at the array's edge and is forwarded along the line); the spatial loops give ${u} different tiles along both axes`);
      }
      const reuse = rfReuse(parsed, layer, u, "streamed", "a streamed word passes its PE once", "while the input streams (overlapping windows would reuse a streamed word)");
      if (reuse) return reuse;
    }
  }

  // Rule 4c: an operand the RF bypasses goes from the network straight to the MAC.
  if (!parsed.rf.keep.output) {
    return illegal("rf", "mapping.rf.keep.output", false, "be true: a PE accumulates its partial sums in its register file (convsim does not model accumulating in the GBuf at every MAC)");
  }
  for (const u of ["input", "weight"] as const) {
    if (parsed.rf.keep[u]) continue;
    const reuse = rfReuse(parsed, layer, u, "bypassed", "a word that bypasses the RF reaches the MAC once", "while the RF bypasses the input (overlapping windows would reuse a word)");
    if (reuse) return reuse;
  }

  const usage = mappingUsage(parsed, layer, { ...options, psumBytes: arch.gbuf.psumBytes });
  return gbufCapacity(parsed, usage, arch, options) ?? rfCapacity(parsed, usage, arch) ?? { ok: true };
}

/**
 * Rules 4b and 4c: each step of the rf nest takes a new word of a tensor that does not stay in the
 * PE (streamed, or bypassing the RF): no rf loop of factor > 1 over a dimension the tensor does
 * not depend on, and for the input not both P and R, nor both Q and S (overlapping windows would
 * reuse a word).
 */
function rfReuse(m: Mapping, layer: ConvLayer, t: TensorName, how: string, why: string, when: string): Illegal | undefined {
  for (const [i, l] of m.rf.loops.entries()) {
    if (l.factor > 1 && !TENSOR_DIMS[t].includes(l.dim)) {
      return illegal("rf", `mapping.rf.loops[${i}]`, `${l.dim} x ${l.factor}`, `index the ${how} ${t} (${why}, so no rf loop may reuse it); map ${l.dim} outside the rf level or keep ${t} in the RF`);
    }
  }
  if (t !== "input") return undefined;
  const e = tileExtents(m, layer, "rf");
  for (const [a, b] of [["P", "R"], ["Q", "S"]] as const) {
    if (e[a] > 1 && e[b] > 1) {
      return illegal("rf", "mapping.rf.loops", `${a} x ${e[a]}, ${b} x ${e[b]}`, `not loop over both ${a} and ${b} at the rf level ${when}`);
    }
  }
  return undefined;
}

/** Rule 5: the GBuf regions, each at a bank-word boundary, within the GBuf's bytes. */
function gbufCapacity(m: Mapping, usage: MappingUsage, arch: ArchSpec, options: LegalityOptions): Illegal | undefined {
  // The global buffer places each region at a bank-word boundary (src/memory/gbuf.ts), in the
  // order the Sequencer allocates them: input, weight, output, each twice when double-buffered.
  let placed = 0;
  const bw = arch.gbuf.bankWordBytes;
  const bytes = tensorBytes(options.types, arch.gbuf.psumBytes);
  for (const t of TENSORS) {
    if (!m.gbuf.keep[t]) continue;
    const regionBytes = Math.max(1, usage.gbufWords[t] / (m.gbuf.doubleBuffer ? 2 : 1)) * bytes[t];
    for (let copy = 0; copy < (m.gbuf.doubleBuffer ? 2 : 1); copy++) placed = Math.ceil(placed / bw) * bw + regionBytes;
  }
  if (usage.gbufTotalBytes <= arch.gbuf.capacityBytes && placed <= arch.gbuf.capacityBytes) return undefined;
  const detail = TENSORS.filter((t) => m.gbuf.keep[t])
    .map((t) => `${t} ${usage.gbufWords[t]} words = ${usage.gbufBytes[t]} B`)
    .join(", ");
  return illegal(
    "gbuf",
    "mapping.gbuf",
    `${Math.max(placed, usage.gbufTotalBytes)} bytes`,
    `fit in arch.gbuf.capacityBytes = ${arch.gbuf.capacityBytes} (${detail}${m.gbuf.doubleBuffer ? ", double-buffered" : ""}; each region starts at a ${bw}-byte bank word); shrink the gbuf tile (move factors to the dram level) or bypass a tensor`,
  );
}

/** Rule 6: the rf tiles within their partitions, or together within the shared pool. */
function rfCapacity(m: Mapping, usage: MappingUsage, arch: ArchSpec): Illegal | undefined {
  const need = usage.rfEntries;
  const pool = arch.rf.sharedEntries;
  if (pool !== undefined) {
    const total = need.input + need.weight + need.output;
    if (total <= pool) return undefined;
    const notes = [m.rf.doubleBuffer ? "inputs and weights double-buffered: twice their tiles" : "", m.rf.doubleBufferOutput ? "two accumulator sets: twice the psum tile" : "", m.rf.stream ? "a streamed tensor takes one entry" : ""].filter(Boolean);
    return illegal(
      "rf",
      "arch.rf.sharedEntries",
      pool,
      `hold the mapping's rf tiles: input ${need.input} + weight ${need.weight} + psum ${need.output} = ${total} entries${notes.length > 0 ? ` (${notes.join("; ")})` : ""}; shrink the rf tile (move factors out of the rf level)`,
    );
  }
  for (const t of TENSORS) {
    const p = { field: RF_ENTRY_FIELDS[t], entries: arch.rf[RF_ENTRY_FIELDS[t]] ?? 0 };
    if (need[t] > p.entries) {
      return illegal(
        "rf",
        `mapping.rf.keep.${t}`,
        `${need[t]} entries`,
        `fit the RF's ${t} partition, arch.rf.${p.field} = ${p.entries} entries${(t === "output" ? m.rf.doubleBufferOutput : m.rf.doubleBuffer) ? " (double-buffered: twice the tile)" : ""}; shrink the rf tile (move factors out of the rf level) or bypass ${t} at the RF`,
      );
    }
  }
  return undefined;
}

/**
 * Like {@link checkMapping}, but throws the broken rule.
 * @returns the mapping, normalized and frozen.
 * @throws ConfigError naming the broken rule's field, value and rule (as checkMapping reports it).
 */
export function assertLegal(m: Mapping, layer: ConvLayer, arch: ArchSpec, options: LegalityOptions = {}): Mapping {
  const v = checkMapping(m, layer, arch, options);
  if (!v.ok) throw new ConfigError(v.field, v.value, v.rule);
  return parseMapping(m);
}

/** The operand types and zero points that bound a layer's partial sums. */
export interface PsumOperands {
  readonly xType: OperandType;
  readonly wType: OperandType;
  readonly xZeroPoint: number;
  readonly wZeroPoint: number;
}

/** The largest |v - zero point| over the values of an operand type. */
function maxAbsOffset(t: OperandType, zeroPoint: number): number {
  const info = dtypeInfo(t);
  return Math.max(Math.abs(info.min - zeroPoint), Math.abs(info.max - zeroPoint));
}

/**
 * The worst-case magnitude of any partial sum of a layer: every output sums C/groups x R x S
 * products, each at most max|x - zx| x max|w - zw| over the operand types' ranges, so no partial
 * sum (a sum of some of them, in any order) exceeds `C/groups x R x S x max|x - zx| x max|w - zw|`.
 * Exact in a double (under 2^53 for every layer convsim accepts). No bias: `simulate()` takes none.
 */
export function maxAbsPartialSum(layer: ConvLayer, ops: PsumOperands): number {
  const taps = convShape(layer).inChannelsPerGroup * layer.kernelHeight * layer.kernelWidth;
  return taps * maxAbsOffset(ops.xType, ops.xZeroPoint) * maxAbsOffset(ops.wType, ops.wZeroPoint);
}

/**
 * Checks that the GBuf's partial-sum words (`arch.gbuf.psumBytes`, default 4) hold every partial
 * sum of the layer, so storing them narrower keeps the run bit-exact: with b < 4 bytes,
 * {@link maxAbsPartialSum} must be at most 2^(8b - 1) - 1. Four bytes are int32, the model's
 * accumulator, and need no check (its wrap-around is the reference's too).
 * @throws ConfigError naming `arch.gbuf.psumBytes`, its value, the layer's worst case and the rule.
 */
export function checkPsumWidth(layer: ConvLayer, arch: ArchSpec, ops: PsumOperands): void {
  const b = arch.gbuf.psumBytes ?? dtypeInfo("int32").bytes;
  if (b >= dtypeInfo("int32").bytes) return;
  const worst = maxAbsPartialSum(layer, ops);
  const limit = 2 ** (8 * b - 1) - 1;
  if (worst <= limit) return;
  const s = convShape(layer);
  const fits = [2, 3].find((n) => worst <= 2 ** (8 * n - 1) - 1) ?? 4;
  throw new ConfigError(
    "arch.gbuf.psumBytes",
    b,
    `hold every partial sum of the layer: |psum| <= C/groups ${s.inChannelsPerGroup} x R ${layer.kernelHeight} x S ${layer.kernelWidth} x max|x - zx| ${maxAbsOffset(ops.xType, ops.xZeroPoint)} (${ops.xType}, zx ${ops.xZeroPoint}) x max|w - zw| ${maxAbsOffset(ops.wType, ops.wZeroPoint)} (${ops.wType}, zw ${ops.wZeroPoint}) = ${worst}, but a ${b}-byte word holds |psum| <= 2^${8 * b - 1} - 1 = ${limit}; use psumBytes ${fits} or more`,
  );
}
