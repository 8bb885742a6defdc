/**
 * A Timeloop architecture's sizes as a convsim ArchSpec: what Timeloop says is taken from it, the
 * rest (timing parameters Timeloop does not have: DRAM latency and outstanding bursts, GBuf ports,
 * network widths, MAC pipeline) from a base preset. From Timeloop (docs/formats.md):
 * - PE array: the per-PE levels' instances, `meshX` columns by `instances / meshX` rows;
 * - global buffer: `depth` x `width` bits (or `entries` x word bits) as its bytes, `n_banks` banks
 *   of one `width`-bit row each (a two-level architecture has none: the base's global buffer is
 *   kept, and the mapping passes through it);
 * - register file: the per-PE level's entries (`depth` x `block-size`, `depth` x `width / word
 *   bits`, or `entries`) as one shared pool, or three levels' entries as the three partitions;
 * - DRAM: `width` bits as its burst, `read_bandwidth` words per cycle as its bandwidth, when given;
 * - the levels' names, kept in `levelNames` (for `--counts timeloop`).
 * Word widths (`word-bits`, v0.4 `datawidth`) of 8 or 16 bits are read as int8 or int16
 * operands; other widths are refused. Attributes that only price energy or area are listed in
 * the import's notes as not modeled.
 */
import { resolveArch, type ArchOverrides, type PresetName } from "../../arch/presets.js";
import type { ArchSpec, LevelNames } from "../../arch/spec.js";
import { RF_ENTRY_FIELDS } from "../../dataflow/legality.js";
import type { TensorName } from "../../dataflow/mapping.js";
import type { ArchNode, TimeloopArch } from "./arch.js";
import { partitionOf, type ConvsimLevels, type KeepMap } from "./levels.js";
import { atSource, positiveIntAt, type Where } from "./yaml.js";

/** Attributes the import reads, by the level's role (levels.ts). */
const MESH = ["meshX", "meshY", "instances"];
const MAPPED = {
  dram: ["word_bits", "datawidth", "width", "read_bandwidth", ...MESH],
  gbuf: ["depth", "width", "word_bits", "datawidth", "block_size", "entries", "n_banks", "multiple_buffering", ...MESH],
  between: MESH,
  pe: ["depth", "width", "word_bits", "datawidth", "block_size", "entries", "multiple_buffering", ...MESH],
} as const;

/** Attributes that describe sparse tensors: refused. */
const SPARSE = /metadata|compress|sparse|density|skipping/i;

const isPowerOfTwo = (n: number): boolean => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

/** A level's word width in bits (`word-bits` or `datawidth`; absent: 8). */
export function wordBits(n: ArchNode): number {
  const raw = n.attributes.word_bits ?? n.attributes.datawidth;
  if (raw === undefined) return 8;
  const bits = positiveIntAt(n.where.at("attributes.word-bits"), raw);
  if (bits !== 8 && bits !== 16) throw n.where.at("attributes.word-bits").error(bits, "be 8 or 16 (convsim's operands are int8, uint8 or int16)");
  return bits;
}

/** A storage level's capacity in words. */
function entriesOf(n: ArchNode): number {
  const a = n.attributes;
  if (a.entries !== undefined) return positiveIntAt(n.where.at("attributes.entries"), a.entries);
  if (a.depth === undefined) throw n.where.at("attributes.depth").error(undefined, "be given (with width, or block-size), or give entries: convsim needs the level's capacity");
  const depth = positiveIntAt(n.where.at("attributes.depth"), a.depth);
  if (a.block_size !== undefined) return depth * positiveIntAt(n.where.at("attributes.block-size"), a.block_size);
  if (a.width === undefined) throw n.where.at("attributes.width").error(undefined, "be given (or block-size): a row's bits give the words per row");
  const width = positiveIntAt(n.where.at("attributes.width"), a.width);
  const bits = wordBits(n);
  if (width % bits !== 0) throw n.where.at("attributes.width").error(width, `be a multiple of the word width (${bits} bits)`);
  return (depth * width) / bits;
}

function gbufOverrides(n: ArchNode): NonNullable<ArchOverrides["gbuf"]> {
  const bytesPerWord = wordBits(n) / 8;
  const capacityBytes = entriesOf(n) * bytesPerWord;
  const rowBits = n.attributes.width !== undefined ? positiveIntAt(n.where.at("attributes.width"), n.attributes.width) : (n.attributes.block_size !== undefined ? positiveIntAt(n.where.at("attributes.block-size"), n.attributes.block_size) : 1) * wordBits(n);
  const bankWordBytes = rowBits / 8;
  if (!isPowerOfTwo(bankWordBytes)) throw n.where.at("attributes.width").error(rowBits, "be a power-of-two number of bytes (8, 16, 32, 64, ... bits): convsim's bank word is one row");
  const banks = n.attributes.n_banks === undefined ? 1 : positiveIntAt(n.where.at("attributes.n_banks"), n.attributes.n_banks);
  if (!isPowerOfTwo(banks)) throw n.where.at("attributes.n_banks").error(banks, "be a power of two (convsim interleaves words across banks)");
  if (capacityBytes % (banks * bankWordBytes) !== 0) throw n.where.at("attributes.depth").error(n.attributes.depth, `give a capacity (${capacityBytes} B) that is a whole number of rows in every bank (${banks} banks x ${bankWordBytes} B)`);
  return { capacityBytes, banks, bankWordBytes };
}

function dramOverrides(n: ArchNode): NonNullable<ArchOverrides["dram"]> {
  const out: { burstBytes?: number; bytesPerCycle?: number } = {};
  if (n.attributes.width !== undefined) {
    const bits = positiveIntAt(n.where.at("attributes.width"), n.attributes.width);
    if (!isPowerOfTwo(bits / 8)) throw n.where.at("attributes.width").error(bits, "be a power-of-two number of bytes (convsim's DRAM burst)");
    out.burstBytes = bits / 8;
  }
  if (n.attributes.read_bandwidth !== undefined) out.bytesPerCycle = (positiveIntAt(n.where.at("attributes.read_bandwidth"), n.attributes.read_bandwidth) * wordBits(n)) / 8;
  return out;
}

function rfOverrides(levels: ConvsimLevels, keep: KeepMap): { rf: NonNullable<ArchOverrides["rf"]>; names: LevelNames } {
  if (levels.pe.length === 1) return { rf: { sharedEntries: entriesOf(levels.pe[0]!) }, names: { rf: levels.pe[0]!.name } };
  const part = partitionOf(levels, keep);
  const entries = {} as Record<TensorName, number>;
  const names: Record<string, string> = {};
  for (const n of levels.pe) {
    const t = part.get(n.name)!;
    entries[t] = entriesOf(n);
    names[t === "input" ? "rfInput" : t === "weight" ? "rfWeight" : "rfOutput"] = n.name;
  }
  return { rf: { inputEntries: entries.input, weightEntries: entries.weight, psumEntries: entries.output }, names };
}

/** Attributes of the convsim-modeled levels that the import does not read (energy, area, technology, ...), one note per level. */
export function ignoredAttributes(levels: ConvsimLevels): string[] {
  const notes: string[] = [];
  const roles: [ArchNode, readonly string[]][] = [[levels.dram, MAPPED.dram], ...(levels.gbuf ? [[levels.gbuf, MAPPED.gbuf] as [ArchNode, readonly string[]]] : []), ...levels.between.map((n): [ArchNode, readonly string[]] => [n, MAPPED.between]), ...levels.pe.map((n): [ArchNode, readonly string[]] => [n, MAPPED.pe])];
  for (const [n, mapped] of roles) {
    for (const [k, v] of Object.entries(n.attributes)) if (SPARSE.test(k)) throw n.where.at(`attributes.${k}`).error(v, "be absent: convsim simulates dense tensors (no sparse formats)");
    const ignored = Object.keys(n.attributes).filter((k) => !mapped.includes(k));
    if (ignored.length > 0) notes.push(`${n.name}: attributes not modeled (timing, energy, area or technology): ${ignored.join(", ")}`);
  }
  return notes;
}

/** The level and attribute each ArchSpec field the import sets comes from (for errors; see {@link atSource}). */
function archSources(levels: ConvsimLevels, keep: KeepMap): Map<string, Where> {
  const capacity = (n: ArchNode) => n.where.at(n.attributes.entries !== undefined ? "attributes.entries" : "attributes.depth");
  const pe = levels.pe[0]!;
  const out = new Map<string, Where>([
    ["arch.array.rows", pe.where],
    ["arch.array.cols", pe.where],
    ["arch.dram.burstBytes", levels.dram.where.at("attributes.width")],
    ["arch.dram.bytesPerCycle", levels.dram.where.at("attributes.read_bandwidth")],
    ["arch.levelNames.dram", levels.dram.where.at("name")],
  ]);
  if (levels.gbuf) {
    const g = levels.gbuf;
    for (const [field, w] of [["capacityBytes", capacity(g)], ["banks", g.where.at("attributes.n_banks")], ["bankWordBytes", g.where.at("attributes.width")]] as const) out.set(`arch.gbuf.${field}`, w);
    out.set("arch.levelNames.gbuf", g.where.at("name"));
  }
  if (levels.pe.length === 1) {
    out.set("arch.rf.sharedEntries", capacity(pe)).set("arch.levelNames.rf", pe.where.at("name"));
    return out;
  }
  const part = partitionOf(levels, keep);
  for (const n of levels.pe) {
    const t = part.get(n.name)!;
    out.set(`arch.rf.${RF_ENTRY_FIELDS[t]}`, capacity(n)).set(`arch.levelNames.${t === "input" ? "rfInput" : t === "weight" ? "rfWeight" : "rfOutput"}`, n.where.at("name"));
  }
  return out;
}

/**
 * The ArchSpec of classified Timeloop levels: Timeloop's sizes and names over `base`'s other fields.
 * @throws ConfigError naming the architecture file, the level's path and the rule.
 */
export function toConvsimArch(arch: TimeloopArch, levels: ConvsimLevels, keep: KeepMap, base: PresetName | ArchSpec): ArchSpec {
  const { rf, names } = rfOverrides(levels, keep);
  return atSource(archSources(levels, keep), () => resolveArch(base, {
    name: arch.name,
    dram: dramOverrides(levels.dram),
    ...(levels.gbuf ? { gbuf: gbufOverrides(levels.gbuf) } : {}),
    rf,
    array: { rows: levels.rows, cols: levels.cols },
    levelNames: { dram: levels.dram.name, ...(levels.gbuf ? { gbuf: levels.gbuf.name } : {}), ...names },
  }));
}
