/**
 * Energy = action counts x a per-action energy table (Accelergy style: Wu, Emer, Sze, "Accelergy:
 * An Architecture-Level Energy Estimation Methodology for Accelerator Designs", ICCAD 2019).
 * Components only count actions (STYLE rule 8); this file turns the counters of one run into
 * energy, afterwards.
 *
 * Actions and the counters they are counted from (words of the tensor's element type):
 * - `dram.read` / `dram.write`: `dram.read.<tensor>`, `dram.write.<tensor>`;
 * - `gbuf.read` / `gbuf.write`: `gbuf.read.<tensor>`, `gbuf.write.<tensor>`;
 * - `noc.transfer`: words moved on the on-chip network, counted at the receiver:
 *   `noc.deliver.<tensor>` (GBuf -> RF, a multicast to n PEs is n deliveries), `noc.drain.<tensor>`
 *   (PE -> GBuf) and `noc.link.<tensor>` (PE -> neighbouring PE). `pe.forward.<tensor>` (words of a
 *   streamed operand passed PE to PE in a systolic array) is not priced again: every PE's receipt
 *   of a streamed word is already a `noc.deliver` (the edge PE's from the bus, the others' over a
 *   link, at the same per-word cost);
 * - `rf.read` / `rf.write`: `rf.read.<tensor>`, `rf.write.<tensor>` and `rf.fill.<tensor>` (a
 *   locally generated entry, such as a zeroed partial sum, is a register write); `rf.slide.<tensor>`
 *   (a sliding window re-addressing the entries it keeps) costs nothing: no register is accessed;
 * - `mac`: `pe.mac`.
 *
 * Word widths: input and weight words have their operand type's width (int8/uint8: 8 bits, int16:
 * 16 bits); partial sums and outputs (`psum`, `output`) are int32, 32 bits, except in the GBuf,
 * whose psum and output words are `gbuf.psumBytes` wide ({@link EnergyTypes.gbufPsumBits}). A
 * MAC's width is the wider of its two operands.
 *
 * Default table ({@link EYERISS_ENERGY_TABLE}): the normalized energy per 16-bit access of Chen,
 * Emer and Sze, "Eyeriss: A Spatial Architecture for Energy-Efficient Dataflow for Convolutional
 * Neural Networks" (ISCA 2016), Fig. 1 / Table IV, 65 nm, relative to one 16-bit MAC: DRAM 200,
 * global buffer 6, array (PE-to-PE network) 2, register file 1, MAC 1. The unit is `MAC-eq`: the
 * energy of one 16-bit MAC. Reads and writes cost the same.
 *
 * Width rule: a table's costs are for `referenceBits`-wide actions (16 for the default table);
 * with `widthScaling: "linear"` (the default) an action on a `b`-bit word costs
 * `cost x b / referenceBits` (an int8 DRAM read costs 100, an int32 psum RF write 2, an int8 MAC
 * 0.5). Linear scaling is right for wires and memory bit lines, which dominate access energy; it
 * understates the saving of a narrow multiplier (whose energy grows about quadratically) and is
 * documented as a first-order rule. `widthScaling: "none"` charges every action its cost as is.
 *
 * A user table (JSON, pJ per action, see {@link energyTable}) replaces the default; reports then
 * show pJ and pJ/MAC.
 */
import { readFileSync } from "node:fs";
import { ConfigError } from "../core/errors.js";
import { parseJson, rejectUnknownKeys } from "../core/fields.js";
import type { CounterSnapshot } from "../core/counters.js";
import { dtypeInfo, requireOperandType, type OperandType } from "../workload/dtype.js";

/** A level of the hierarchy energy is broken down by. */
export type EnergyLevel = "dram" | "gbuf" | "noc" | "rf" | "mac";

/** The energy levels, outermost first. */
export const ENERGY_LEVELS: readonly EnergyLevel[] = Object.freeze(["dram", "gbuf", "noc", "rf", "mac"]);

/** An action the energy table prices. */
export type EnergyAction = "dram.read" | "dram.write" | "gbuf.read" | "gbuf.write" | "noc.transfer" | "rf.read" | "rf.write" | "mac";

/** Every action, in table order. */
export const ENERGY_ACTIONS: readonly EnergyAction[] = Object.freeze(["dram.read", "dram.write", "gbuf.read", "gbuf.write", "noc.transfer", "rf.read", "rf.write", "mac"]);

/** How an action's cost changes with the word width. */
export type WidthScaling = "linear" | "none";

/** A per-action energy table. Frozen; build one with {@link energyTable}. */
export interface EnergyTable {
  /** A name for reports. */
  readonly name: string;
  /** Where the numbers come from. */
  readonly source: string;
  /** `pJ` for a user table; `MAC-eq` (the energy of one 16-bit MAC) for the normalized default. */
  readonly unit: "pJ" | "MAC-eq";
  /** The word width the costs are given for. */
  readonly referenceBits: number;
  /** `linear`: a b-bit action costs cost x b / referenceBits; `none`: cost as is. */
  readonly widthScaling: WidthScaling;
  /** Energy per action of `referenceBits` bits, in `unit`. */
  readonly actions: Readonly<Record<EnergyAction, number>>;
}

/**
 * The default table: Eyeriss's normalized energy per 16-bit access, 65 nm, relative to one MAC
 * (Chen, Emer, Sze, ISCA 2016): DRAM 200, global buffer 6, PE-to-PE network 2, RF 1, MAC 1.
 */
export const EYERISS_ENERGY_TABLE: EnergyTable = Object.freeze({
  name: "eyeriss-65nm-normalized",
  source: "Chen, Emer, Sze, ISCA 2016, Table IV: normalized energy per 16-bit access, 65 nm (MAC = 1)",
  unit: "MAC-eq",
  referenceBits: 16,
  widthScaling: "linear",
  actions: Object.freeze({
    "dram.read": 200,
    "dram.write": 200,
    "gbuf.read": 6,
    "gbuf.write": 6,
    "noc.transfer": 2,
    "rf.read": 1,
    "rf.write": 1,
    mac: 1,
  }),
});

/** Shorthands a user table may use: one cost for both actions of a level. */
const SHORTHANDS: Readonly<Record<string, readonly EnergyAction[]>> = {
  dram: ["dram.read", "dram.write"],
  gbuf: ["gbuf.read", "gbuf.write"],
  noc: ["noc.transfer"],
  rf: ["rf.read", "rf.write"],
};

const TABLE_FIELDS = ["name", "source", "unit", "referenceBits", "widthScaling", "actions"];

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * Validates a user's energy table (parsed JSON) and returns it frozen. Format:
 * ```json
 * { "name": "my 45 nm table", "unit": "pJ", "referenceBits": 16, "widthScaling": "linear",
 *   "actions": { "dram.read": 640, "dram.write": 640, "gbuf.read": 11, "gbuf.write": 13,
 *                "noc.transfer": 2.5, "rf.read": 0.9, "rf.write": 1.1, "mac": 1.2 } }
 * ```
 * `actions` must price every action ({@link ENERGY_ACTIONS}); `dram`, `gbuf`, `rf` set both the
 * read and the write of a level, `noc` sets `noc.transfer` (an explicit action wins over its
 * shorthand). Costs are finite numbers >= 0, in pJ per action of `referenceBits` bits (default
 * 16). `unit` may be omitted; if given it must be `pJ`. `widthScaling` is `linear` (default) or
 * `none`. `name` defaults to `path`.
 * @param path the field prefix in error messages (e.g. the file name).
 * @throws ConfigError naming the field, the value and the rule.
 */
export function energyTable(json: unknown, path = "energy"): EnergyTable {
  if (!isObject(json)) throw new ConfigError(path, json, 'be an object such as {"unit": "pJ", "actions": {"dram.read": 200, ...}}');
  rejectUnknownKeys(path, json, TABLE_FIELDS);
  const name = json.name ?? path;
  if (typeof name !== "string" || name === "") throw new ConfigError(`${path}.name`, json.name, "be a non-empty string");
  const source = json.source ?? "user table";
  if (typeof source !== "string") throw new ConfigError(`${path}.source`, json.source, "be a string");
  if (json.unit !== undefined && json.unit !== "pJ") throw new ConfigError(`${path}.unit`, json.unit, 'be "pJ" (a user table gives picojoules per action)');
  const referenceBits = json.referenceBits ?? 16;
  if (typeof referenceBits !== "number" || !Number.isInteger(referenceBits) || referenceBits < 1 || referenceBits > 64) {
    throw new ConfigError(`${path}.referenceBits`, json.referenceBits, "be an integer number of bits in [1, 64]");
  }
  const widthScaling = json.widthScaling ?? "linear";
  if (widthScaling !== "linear" && widthScaling !== "none") throw new ConfigError(`${path}.widthScaling`, json.widthScaling, 'be "linear" or "none"');
  const raw = json.actions;
  if (!isObject(raw)) throw new ConfigError(`${path}.actions`, raw, `be an object pricing ${ENERGY_ACTIONS.join(", ")}`);
  const known = [...ENERGY_ACTIONS, ...Object.keys(SHORTHANDS)];
  const actions: Partial<Record<EnergyAction, number>> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!known.includes(k)) throw new ConfigError(`${path}.actions.${k}`, v, `be one of the actions ${known.join(", ")}`);
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new ConfigError(`${path}.actions.${k}`, v, "be a finite number >= 0 (pJ per action)");
  }
  for (const [short, expands] of Object.entries(SHORTHANDS)) {
    const v = raw[short];
    if (typeof v === "number") for (const a of expands) actions[a] = v;
  }
  for (const a of ENERGY_ACTIONS) {
    const v = raw[a];
    if (typeof v === "number") actions[a] = v;
  }
  for (const a of ENERGY_ACTIONS) {
    if (actions[a] === undefined) throw new ConfigError(`${path}.actions.${a}`, undefined, "be given (pJ per action); every action needs a cost");
  }
  return Object.freeze({
    name,
    source,
    unit: "pJ",
    referenceBits,
    widthScaling,
    actions: Object.freeze(actions as Record<EnergyAction, number>),
  });
}

/**
 * Reads and validates an energy table from a JSON file.
 * @param field the option that named the file, for error messages (default `--energy`).
 * @throws ConfigError when the file cannot be read, is not JSON, or the table is invalid.
 */
export function loadEnergyTable(file: string, field = "--energy"): EnergyTable {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(field, file, "name a readable JSON file", (e as Error).message);
  }
  return energyTable(parseJson(field, text), field);
}

/** One priced counter: an action on one tensor. */
export interface EnergyTerm {
  /** The counter, e.g. `dram.read.input`. */
  readonly counter: string;
  readonly action: EnergyAction;
  readonly level: EnergyLevel;
  /** Actions counted (words; MACs for `mac`). */
  readonly count: number;
  /** Width of one word, bits. */
  readonly bits: number;
  /** Cost of one action at that width, in the table's unit. */
  readonly costPerAction: number;
  /** count x costPerAction. */
  readonly energy: number;
}

/** Energy of one run, by level and in total. */
export interface EnergyBreakdown {
  /** The table's name. */
  readonly table: string;
  /** `pJ` or `MAC-eq`. */
  readonly unit: "pJ" | "MAC-eq";
  /** Energy per level. */
  readonly byLevel: Readonly<Record<EnergyLevel, number>>;
  /** Sum over levels. */
  readonly total: number;
  /** total / MACs (0 when there are no MACs). */
  readonly perMac: number;
  /** Every non-zero priced counter. */
  readonly terms: readonly EnergyTerm[];
}

/** The element types of a run, for word widths. */
export interface EnergyTypes {
  readonly input: OperandType;
  readonly weight: OperandType;
  /** Bits of a psum or output word in the GBuf: 8 x `arch.gbuf.psumBytes`. Default 32. */
  readonly gbufPsumBits?: number;
}

const LEVEL_OF: Readonly<Record<EnergyAction, EnergyLevel>> = {
  "dram.read": "dram",
  "dram.write": "dram",
  "gbuf.read": "gbuf",
  "gbuf.write": "gbuf",
  "noc.transfer": "noc",
  "rf.read": "rf",
  "rf.write": "rf",
  mac: "mac",
};

const MEMORY_COUNTER = /^(dram|gbuf|rf)\.(read|write|fill)\.(input|weight|output|psum)$/;
const NOC_COUNTER = /^noc\.(deliver|drain|link)\.(input|weight|output|psum)$/;

/** The action a counter counts, or undefined when it is not priced (bytes, bursts, cycles, `noc.send`). */
export function actionOfCounter(name: string): { action: EnergyAction; tensor: string | undefined } | undefined {
  if (name === "pe.mac") return { action: "mac", tensor: undefined };
  const m = MEMORY_COUNTER.exec(name);
  if (m) {
    const kind = m[2] === "fill" ? "write" : m[2];
    return { action: `${m[1]}.${kind}` as EnergyAction, tensor: m[3] };
  }
  const n = NOC_COUNTER.exec(name);
  if (n) return { action: "noc.transfer", tensor: n[2] };
  return undefined;
}

/**
 * Energy of one run: every priced counter x its action's cost at its word width.
 * @param counters a counter snapshot (`SimulationResult.counters`) or plain name -> value map.
 * @param types the operand types (widths of input and weight words); psums and outputs are 32-bit
 *   (in the GBuf, `gbufPsumBits`).
 * @param table the energy table (default {@link EYERISS_ENERGY_TABLE}).
 * @throws ConfigError for an invalid operand type.
 */
export function energyOf(counters: CounterSnapshot | Readonly<Record<string, number>>, types: EnergyTypes, table: EnergyTable = EYERISS_ENERGY_TABLE): EnergyBreakdown {
  const inputBits = dtypeInfo(requireOperandType("types.input", types.input)).bits;
  const weightBits = dtypeInfo(requireOperandType("types.weight", types.weight)).bits;
  const psumBits = types.gbufPsumBits ?? 32;
  if (!Number.isInteger(psumBits) || psumBits < 1 || psumBits > 32) throw new ConfigError("types.gbufPsumBits", types.gbufPsumBits, "be an integer number of bits in [1, 32]");
  const bitsOf = (tensor: string | undefined, level: EnergyLevel): number =>
    tensor === "input" ? inputBits : tensor === "weight" ? weightBits : tensor === undefined ? Math.max(inputBits, weightBits) : level === "gbuf" ? psumBits : 32;
  const byLevel: Record<EnergyLevel, number> = { dram: 0, gbuf: 0, noc: 0, rf: 0, mac: 0 };
  const terms: EnergyTerm[] = [];
  let macs = 0;
  for (const [name, entry] of Object.entries(counters)) {
    const count = typeof entry === "number" ? entry : entry.value;
    if (name === "pe.mac") macs = count;
    const a = actionOfCounter(name);
    if (!a || count === 0) continue;
    const level = LEVEL_OF[a.action];
    const bits = bitsOf(a.tensor, level);
    const scale = table.widthScaling === "linear" ? bits / table.referenceBits : 1;
    const costPerAction = table.actions[a.action] * scale;
    const energy = count * costPerAction;
    byLevel[level] += energy;
    terms.push(Object.freeze({ counter: name, action: a.action, level, count, bits, costPerAction, energy }));
  }
  const total = ENERGY_LEVELS.reduce((s, l) => s + byLevel[l], 0);
  return Object.freeze({
    table: table.name,
    unit: table.unit,
    byLevel: Object.freeze(byLevel),
    total,
    perMac: macs > 0 ? total / macs : 0,
    terms: Object.freeze(terms),
  });
}
