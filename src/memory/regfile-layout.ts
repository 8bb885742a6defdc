/**
 * The register files' layout as the simulator allocates it (RegFileLayout: the architecture's
 * partitions, or regions carved out of a shared pool, with line-shared, staged and passing
 * partitions) and its validation; the RegFile itself is regfile.ts.
 */
import { ConfigError } from "../core/index.js";
import type { RegFileSpec } from "../arch/spec.js";
import { checkRfSpec } from "../arch/schema.js";

/** A register-file partition. */
export type RfPartition = "input" | "weight" | "psum";

/** The three partitions. */
export const RF_PARTITIONS: readonly RfPartition[] = Object.freeze(["input", "weight", "psum"]);

/**
 * The register files as allocated: each partition's entries per PE, and the ports. The
 * architecture's partitions, or the regions `simulate()` carves out of a shared pool
 * (`RegFileSpec.sharedEntries`) for one mapping.
 */
export interface RegFileLayout extends RegFileSpec {
  readonly inputEntries: number;
  readonly weightEntries: number;
  readonly psumEntries: number;
  readonly sharedEntries?: undefined;
  /**
   * Operand partitions kept once per line of the array: `row` (every PE of a row holds the same
   * words) or `col` (every PE of a column). Absent: one slice per PE. See the file header.
   */
  readonly lines?: Readonly<Partial<Record<RfPartition, "row" | "col">>>;
  /**
   * Operand partitions that stand in for an RF bypass (`mapping.rf.keep` false): the operand goes
   * from the network straight to the MAC, and the simulator keeps its words here only so the MAC
   * wave can address them. Nothing done to a staged partition is a register access: its
   * `rf.*.<part>` counters stay 0 (the network counts the deliveries). See the file header.
   */
  readonly staged?: Readonly<Partial<Record<"input" | "weight", true>>>;
  /**
   * Partitions that stand in for a register the words pass through (`mapping.rf.stream`: a
   * systolic array's pipeline register or accumulator): the partition holds the rf tile so the
   * MAC wave can address it, but the hardware sets each word as it enters its register (a partial
   * sum's first step adds to zero, a pad enters as the zero point), so a fill of it takes one
   * cycle whatever its size (the PE array's timing). Counts are as for any partition.
   */
  readonly passing?: Readonly<Partial<Record<RfPartition, true>>>;
}

/** The storage slot of each PE for one partition: its own (`undefined`) or its row's or column's. */
export function slotOf(line: "row" | "col" | undefined, pe: number, cols: number): number {
  return line === "row" ? Math.floor(pe / cols) : line === "col" ? pe % cols : pe;
}

/** Slices a partition takes in storage for an array of `pes` PEs in rows of `cols`. */
export function slotCount(line: "row" | "col" | undefined, pes: number, cols: number): number {
  return line === "row" ? Math.ceil(pes / cols) : line === "col" ? Math.min(cols, pes) : pes;
}

/**
 * Validates a RegFileLayout: three partitions (no pool), each field within its rule of the
 * architecture schema (src/arch/schema.ts), at least one entry in all.
 * @throws ConfigError naming `<path>.<field>`.
 */
export function validateRegFileSpec(spec: RegFileLayout, path = "rf"): RegFileLayout {
  if (spec.sharedEntries !== undefined) {
    throw new ConfigError(`${path}.sharedEntries`, spec.sharedEntries, "be absent: a RegFile is built from its three partitions (simulate() carves them out of a shared pool for the mapping)");
  }
  const { lines, staged, passing, ...fields } = spec;
  checkRfSpec(fields as unknown as Record<string, unknown>, path);
  for (const [part, line] of Object.entries(lines ?? {})) {
    if (!(RF_PARTITIONS as readonly string[]).includes(part)) throw new ConfigError(`${path}.lines.${part}`, line, `name a partition (${RF_PARTITIONS.join(", ")})`);
    if (line !== undefined && line !== "row" && line !== "col") throw new ConfigError(`${path}.lines.${part}`, line, 'be "row" or "col"');
  }
  for (const [part, on] of Object.entries(staged ?? {})) {
    if (part !== "input" && part !== "weight") throw new ConfigError(`${path}.staged.${part}`, on, "not be given: only the input and weight partitions can stand in for an RF bypass (partial sums are always kept)");
    if (on !== true) throw new ConfigError(`${path}.staged.${part}`, on, "be true or absent");
  }
  for (const [part, on] of Object.entries(passing ?? {})) {
    if (!(RF_PARTITIONS as readonly string[]).includes(part)) throw new ConfigError(`${path}.passing.${part}`, on, `name a partition (${RF_PARTITIONS.join(", ")})`);
    if (on !== true) throw new ConfigError(`${path}.passing.${part}`, on, "be true or absent");
  }
  return spec;
}

/**
 * The copies of a delivery into a list of PEs (`RegFile.writeList`, regfile.ts): per copy, the slice's
 * first word in the partition and the payload box it gets; and how many PEs the delivery writes
 * (each counted, though PEs that share a slice share its copy).
 */
export interface WriteList {
  readonly part: RfPartition;
  readonly bases: Int32Array;
  readonly boxes: Int32Array;
  readonly written: number;
}
