/**
 * The architecture's one schema: every field of an {@link ArchSpec} with its rule, declared once
 * (STYLE rule 5). `archSpec()` and `resolveArch()` (presets.ts: the presets, the API, the CLI's
 * `--arch` and `--arch-override`) and the components' own validators (DramChannel, GlobalBuffer,
 * RegFile, Noc, PeArray) all check a section with the functions here, so a field has the same
 * rule, the same bounds and the same message wherever it is given.
 *
 * Upper bounds keep every allocation and every index exact (typed arrays, WebAssembly memory,
 * doubles) and catch typos such as an extra zero; a whole run is also checked against the
 * machine's memory before anything is allocated (src/dataflow/budget.ts).
 */
import { ConfigError } from "../core/errors.js";
import { checkField, checkInt, intRule, type BoolRule, type FieldRule, type OneOfRule } from "../core/fields.js";
import { DRAM_MODEL_NAMES, GBUF_MODEL_NAMES, GBUF_PSUM_BYTES, type DramSpec, type GlobalBufferSpec, type NocSpec, type PeArraySpec, type RegFileSpec } from "./spec.js";

const oneOf = <T extends string | number>(values: readonly T[], doc: string, optional = true): OneOfRule<T> => Object.freeze({ kind: "oneOf", values, doc, optional });
const bool = (doc: string, optional = false): BoolRule => Object.freeze({ kind: "bool", doc, optional });
const opt = { optional: true } as const;

/** The largest register file, in entries per PE (per partition, or the shared pool). */
export const MAX_RF_ENTRIES = 2 ** 20;
/** The largest global buffer, in bytes (2 GiB). */
export const MAX_GBUF_BYTES = 2 ** 31;

/** The DRAM channel's fields. */
export const DRAM_RULES = Object.freeze({
  bytesPerCycle: intRule(1, 2 ** 16, "data-bus bandwidth, bytes per cycle"),
  latencyCycles: intRule(1, 2 ** 20, "cycles from a burst's issue to its data (>= 1: a port has at least one cycle of latency)"),
  burstBytes: intRule(1, 2 ** 16, "burst size in bytes", { powerOfTwo: true }),
  maxOutstanding: intRule(1, 2 ** 16, "bursts in flight"),
  burstsPerCycle: intRule(1, 2 ** 10, "bursts issued per cycle", opt),
  model: oneOf(DRAM_MODEL_NAMES, "the timing model"),
} satisfies Record<keyof DramSpec, FieldRule>);

/** The global buffer's fields (`capacityBytes` also accepts a size string before it is checked). */
export const GBUF_RULES = Object.freeze({
  capacityBytes: intRule(1, MAX_GBUF_BYTES, "capacity in bytes"),
  banks: intRule(1, 2 ** 12, "number of banks", { powerOfTwo: true }),
  bankWordBytes: intRule(1, 2 ** 10, "bytes in one bank word", { powerOfTwo: true }),
  wordsPerCyclePerBank: intRule(1, 2 ** 10, "bank words each bank reads or writes per cycle"),
  readPorts: intRule(1, 2 ** 12, "read ports"),
  writePorts: intRule(1, 2 ** 12, "write ports"),
  model: oneOf(GBUF_MODEL_NAMES, "the timing model"),
  psumBytes: oneOf(GBUF_PSUM_BYTES, "bytes of a partial-sum or output word in the GBuf"),
} satisfies Record<keyof GlobalBufferSpec, FieldRule>);

/** One PE's register file's fields (partitions may be 0: a tensor that bypasses the RF). */
export const RF_RULES = Object.freeze({
  inputEntries: intRule(0, MAX_RF_ENTRIES, "input entries per PE (partitioned)", opt),
  weightEntries: intRule(0, MAX_RF_ENTRIES, "weight entries per PE (partitioned)", opt),
  psumEntries: intRule(0, MAX_RF_ENTRIES, "psum entries per PE (partitioned)", opt),
  sharedEntries: intRule(1, MAX_RF_ENTRIES, "entries of one pool for every tensor", opt),
  readPorts: intRule(1, 64, "reads per cycle"),
  writePorts: intRule(1, 64, "writes per cycle"),
} satisfies Record<keyof RegFileSpec, FieldRule>);

/** The PE array's fields. */
export const ARRAY_RULES = Object.freeze({
  rows: intRule(1, 4096, "PE rows"),
  cols: intRule(1, 4096, "PE columns"),
  macsPerCycle: intRule(1, 2 ** 10, "MACs per PE per cycle"),
  pipelineLatency: intRule(1, 2 ** 10, "cycles from operand read to accumulator write"),
} satisfies Record<keyof PeArraySpec, FieldRule>);

/** The on-chip network's fields. */
export const NOC_RULES = Object.freeze({
  inputWordsPerCycle: intRule(1, 2 ** 16, "input bus, words per cycle"),
  weightWordsPerCycle: intRule(1, 2 ** 16, "weight bus, words per cycle"),
  drainWordsPerCycle: intRule(1, 2 ** 16, "drain path, words per cycle"),
  psumWordsPerCycle: intRule(1, 2 ** 16, "psum bus, words per cycle", opt),
  neighbourLinks: bool("whether adjacent PEs are linked"),
  forwarding: bool("whether operands stream through the PEs (needs neighbourLinks)", true),
} satisfies Record<keyof NocSpec, FieldRule>);

/** Every section's rules, by section name. */
export const ARCH_RULES = Object.freeze({ dram: DRAM_RULES, gbuf: GBUF_RULES, rf: RF_RULES, array: ARRAY_RULES, noc: NOC_RULES });

/** Checks every field of `raw` against `rules` and returns the present ones (absent optional fields left out). */
function checkSection<R extends Record<string, FieldRule>>(rules: R, raw: Record<string, unknown>, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, rule] of Object.entries(rules)) {
    const v = checkField(`${path}.${k}`, raw[k], rule);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Validates the `dram` section. @throws ConfigError naming `<path>.<field>`. */
export function checkDramSpec(raw: Record<string, unknown>, path: string): DramSpec {
  return Object.freeze(checkSection(DRAM_RULES, raw, path)) as unknown as DramSpec;
}

/**
 * Validates the `gbuf` section (capacity already in bytes): each field's rule, and the capacity a
 * whole number of rows across the banks.
 * @throws ConfigError naming `<path>.<field>`.
 */
export function checkGbufSpec(raw: Record<string, unknown>, path: string): GlobalBufferSpec {
  const g = checkSection(GBUF_RULES, raw, path) as unknown as GlobalBufferSpec;
  if (g.capacityBytes % (g.banks * g.bankWordBytes) !== 0) {
    throw new ConfigError(`${path}.capacityBytes`, g.capacityBytes, `be a multiple of banks x bankWordBytes = ${g.banks * g.bankWordBytes} bytes (every bank has the same number of whole words)`);
  }
  return Object.freeze(g);
}

/** The fields of a partitioned register file (absent when it is one pool, `rf.sharedEntries`). */
export const RF_PARTITION_FIELDS = Object.freeze(["inputEntries", "weightEntries", "psumEntries"] as const);

/**
 * Validates the `rf` section: ports, and either three partitions (each within its rule, at
 * least one entry in all) or one pool (`sharedEntries`, and then no partition field).
 * @throws ConfigError naming `<path>.<field>`.
 */
export function checkRfSpec(raw: Record<string, unknown>, path: string): RegFileSpec {
  const rf = checkSection(RF_RULES, raw, path) as { -readonly [K in keyof RegFileSpec]: RegFileSpec[K] };
  if (rf.sharedEntries !== undefined) {
    for (const f of RF_PARTITION_FIELDS) {
      if (rf[f] !== undefined) throw new ConfigError(`${path}.${f}`, rf[f], `be absent when ${path}.sharedEntries is given (the register file is one pool of ${rf.sharedEntries} entries; give either sharedEntries or the three partitions)`);
    }
    return Object.freeze({ sharedEntries: rf.sharedEntries, readPorts: rf.readPorts, writePorts: rf.writePorts });
  }
  for (const f of RF_PARTITION_FIELDS) checkInt(`${path}.${f}`, rf[f], { ...RF_RULES[f], optional: false });
  if (rf.inputEntries! + rf.weightEntries! + rf.psumEntries! === 0) {
    throw new ConfigError(path, 0, "have at least one entry in some partition (inputEntries, weightEntries, psumEntries) or a pool (sharedEntries)");
  }
  return Object.freeze({ inputEntries: rf.inputEntries, weightEntries: rf.weightEntries, psumEntries: rf.psumEntries, readPorts: rf.readPorts, writePorts: rf.writePorts });
}

/** Validates the `array` section. @throws ConfigError naming `<path>.<field>`. */
export function checkArraySpec(raw: Record<string, unknown>, path: string): PeArraySpec {
  return Object.freeze(checkSection(ARRAY_RULES, raw, path)) as unknown as PeArraySpec;
}

/** Validates the `noc` section: each field's rule, and forwarding only over neighbour links. @throws ConfigError naming `<path>.<field>`. */
export function checkNocSpec(raw: Record<string, unknown>, path: string): NocSpec {
  const n = checkSection(NOC_RULES, raw, path) as unknown as NocSpec;
  if (n.forwarding && !n.neighbourLinks) throw new ConfigError(`${path}.forwarding`, n.forwarding, "be false unless noc.neighbourLinks is true (operands are forwarded over the links)");
  return Object.freeze(n);
}

/** The field names of each section, in the schema's order. */
export const DRAM_FIELDS: readonly string[] = Object.freeze(Object.keys(DRAM_RULES));
/** The global buffer's field names. */
export const GBUF_FIELDS: readonly string[] = Object.freeze(Object.keys(GBUF_RULES));
/** The register file's field names. */
export const RF_FIELDS: readonly string[] = Object.freeze(Object.keys(RF_RULES));
/** The PE array's field names. */
export const ARRAY_FIELDS: readonly string[] = Object.freeze(Object.keys(ARRAY_RULES));
/** The network's field names. */
export const NOC_FIELDS: readonly string[] = Object.freeze(Object.keys(NOC_RULES));
