/**
 * Which levels of a Timeloop architecture convsim models, and as what. convsim's hierarchy is
 * fixed: DRAM -> one global buffer -> the PE array -> per-PE register files -> one MAC per PE. So
 * a Timeloop architecture must be, outermost first: a DRAM level (one instance), a global buffer
 * (one instance), optionally levels that only fan out (they keep no data space and loop over
 * nothing: Eyeriss's `inter_PE_spatial`, `dummy_storage`), then the per-PE levels (as many
 * instances as PEs): one level (convsim's shared register file, `rf.sharedEntries`) or three
 * levels that keep one data space each (convsim's partitioned register file). Anything else is a
 * ConfigError naming the level and the rule: convsim does not approximate another hierarchy.
 */
import type { TensorName } from "../../dataflow/mapping.js";
import type { ArchNode, TimeloopArch } from "./arch.js";
import type { KeepDirective, TimeloopDirectives } from "./directives.js";
import { DATASPACE } from "./names.js";
import { Where } from "./yaml.js";

/** The architecture's levels as convsim sees them. */
export interface ConvsimLevels {
  readonly dram: ArchNode;
  readonly gbuf: ArchNode;
  /** Fan-out-only levels and v0.4 containers between the global buffer and the PEs, outermost first. */
  readonly between: readonly ArchNode[];
  /** The per-PE storage levels, outermost first (1 or 3). */
  readonly pe: readonly ArchNode[];
  /** Every storage level, outermost first (Timeloop's storage-level id 0 is the last). */
  readonly storage: readonly ArchNode[];
  readonly rows: number;
  readonly cols: number;
}

/** What each storage level keeps (Timeloop's keep/bypass), by level name. */
export type KeepMap = ReadonlyMap<string, ReadonlySet<TensorName>>;

const ALL: readonly TensorName[] = ["input", "weight", "output"];

/**
 * Classifies the levels of a flattened architecture (see the file header).
 * @param archFile the architecture file's name, for errors.
 */
export function classifyLevels(arch: TimeloopArch, archFile: string): ConvsimLevels {
  const top = new Where(archFile, "architecture");
  const storage = arch.nodes.filter((n) => n.kind === "storage");
  if (storage.length < 3) {
    throw top.error(storage.map((n) => n.name), "have at least three storage levels: a DRAM, a global buffer and the PEs' register files (convsim's hierarchy)");
  }
  const [dram, gbuf] = storage as [ArchNode, ArchNode];
  if (!/dram/i.test(dram.className) || dram.instances !== 1) throw dram.where.error(dram.className, "be the outermost storage level: one instance of class DRAM");
  if (gbuf.instances !== 1) throw gbuf.where.error(gbuf.instances, "be one instance: convsim's global buffer is the level right inside DRAM, shared by every PE (no fan-out between DRAM and it)");
  const pes = storage[storage.length - 1]!.instances;
  let first = storage.length - 1;
  if (pes === 1) first = 2;
  else while (first > 2 && storage[first - 1]!.instances === pes) first--;
  const pe = storage.slice(first);
  if (pe.length !== 1 && pe.length !== 3) {
    throw pe[0]!.where.error(pe.map((n) => n.name), "be one per-PE level (a register file shared by all data spaces) or three (one per data space): convsim's register file is one pool or three partitions");
  }
  const cols = pe[0]!.meshX;
  for (const n of pe) if (n.meshX !== cols) throw n.where.at("attributes.meshX").error(n.meshX, `equal the other per-PE levels' meshX (${cols})`);
  for (const n of arch.nodes) {
    if (n.kind === "compute" && n.instances !== pes) throw n.where.error(n.instances, `be one MAC unit per PE (${pes} instances, as the per-PE levels)`);
  }
  const lo = arch.nodes.indexOf(gbuf);
  const hi = arch.nodes.indexOf(pe[0]!);
  const between = arch.nodes.slice(lo + 1, hi).filter((n) => n.kind !== "compute");
  return Object.freeze({ dram, gbuf, between: Object.freeze(between), pe: Object.freeze(pe), storage: Object.freeze(storage), rows: pes / cols, cols });
}

/** The level a directive targets: by name (any level or container), or by Timeloop's storage-level id (0 = innermost). */
export function targetLevel(levels: ConvsimLevels, nodes: readonly ArchNode[], target: string | number, w: Where): ArchNode {
  if (typeof target === "number") {
    const n = levels.storage[levels.storage.length - 1 - target];
    if (!n) throw w.at("target").error(target, `be a storage-level id below ${levels.storage.length} (0 is the innermost)`);
    return n;
  }
  const n = nodes.find((x) => x.name === target && x.kind !== "compute");
  if (!n) throw w.at("target").error(target, `name a level of the architecture (${nodes.filter((x) => x.kind !== "compute").map((x) => x.name).join(", ")})`);
  return n;
}

function defaultKeep(n: ArchNode, levels: ConvsimLevels): Set<TensorName> {
  if (/dummy/i.test(n.className) || levels.between.includes(n)) return new Set();
  return new Set(ALL);
}

/** Applies one keep/bypass directive over the level's default. */
function applyKeep(base: Set<TensorName>, d: KeepDirective): Set<TensorName> {
  const out = new Set(base);
  for (const t of d.keep) out.add(t);
  for (const t of d.bypass) out.delete(t);
  return out;
}

/**
 * What each storage level keeps: Timeloop's keep/bypass directives over the defaults (a level
 * keeps everything, a `dummy` class or fan-out-only level nothing), checked against convsim's
 * hierarchy: DRAM keeps every data space, a fan-out-only level none, and three per-PE levels one
 * each (a level that keeps none takes the one left).
 */
export function keepMap(levels: ConvsimLevels, nodes: readonly ArchNode[], dirs: TimeloopDirectives): KeepMap {
  const out = new Map<string, Set<TensorName>>();
  for (const n of levels.storage) out.set(n.name, defaultKeep(n, levels));
  const seen = new Set<string>();
  for (const d of dirs.keep) {
    const n = targetLevel(levels, nodes, d.target, d.where);
    if (n.kind !== "storage") throw d.where.at("target").error(n.name, "name a storage level (keep and bypass apply to storage)");
    if (seen.has(n.name)) throw d.where.at("target").error(n.name, "appear in one keep/bypass directive only");
    seen.add(n.name);
    const kept = applyKeep(out.get(n.name)!, d);
    if (n === levels.dram && kept.size < 3) throw d.where.at("bypass").error([...d.bypass].map((t) => DATASPACE[t]), "be empty at DRAM: it is the backing store and keeps every data space");
    if (levels.between.includes(n) && kept.size > 0) {
      throw d.where.at("keep").error([...kept].map((t) => DATASPACE[t]), "be empty: convsim has no storage between the global buffer and the PEs' register files (bypass every data space at this level)");
    }
    out.set(n.name, kept);
  }
  for (const n of levels.between) {
    if (n.kind === "storage" && out.get(n.name)!.size > 0) throw n.where.error(n.name, "bypass every data space (add a bypass directive for it): convsim has no storage between the global buffer and the PEs");
  }
  if (levels.pe.length === 3) assignPartitions(levels, out);
  return out;
}

/** Three per-PE levels: each keeps one data space; at most one keeps none and takes the one left. */
function assignPartitions(levels: ConvsimLevels, out: Map<string, Set<TensorName>>): void {
  const taken = new Set<TensorName>();
  let empty: ArchNode | undefined;
  for (const n of levels.pe) {
    const k = out.get(n.name)!;
    if (k.size > 1) throw n.where.error([...k].map((t) => DATASPACE[t]), "keep one data space: with three per-PE levels, convsim's register file is three partitions, one per data space (bypass the others)");
    if (k.size === 0) {
      if (empty) throw n.where.error(n.name, `keep a data space: ${empty.name} already keeps none, and convsim can tell only one partition by elimination`);
      empty = n;
    }
    for (const t of k) {
      if (taken.has(t)) throw n.where.error(DATASPACE[t], "be a data space no other per-PE level keeps (one partition per data space)");
      taken.add(t);
    }
  }
  if (empty) out.set(empty.name, new Set());
}

/** The partition (data space) of each of three per-PE levels: what it keeps, or the one no other level keeps. */
export function partitionOf(levels: ConvsimLevels, keep: KeepMap): ReadonlyMap<string, TensorName> {
  const out = new Map<string, TensorName>();
  const kept = new Set<TensorName>();
  for (const n of levels.pe) for (const t of keep.get(n.name)!) (out.set(n.name, t), kept.add(t));
  const left = ALL.find((t) => !kept.has(t));
  for (const n of levels.pe) if (!out.has(n.name) && left) out.set(n.name, left);
  return out;
}
