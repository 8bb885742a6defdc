/**
 * SCALE-Sim inputs (Samajdar et al., ISPASS 2020; github.com/scalesim-project/scale-sim-v2) as a
 * convsim network and architecture.
 *
 * Topology CSV: an optional header row (a first row with no number after its first field; a
 * first row with one is a layer, so a typo in it is an error, not a dropped layer), then one row
 * per layer: name, IFMAP height, IFMAP width, filter height, filter width, channels, number of
 * filters, stride (and, optionally, a separate width stride), each row ending with a comma (read
 * with or without it). A layer whose name contains `DP` is depthwise: one group per channel, its
 * filters spread over the groups.
 * SCALE-Sim takes its inputs as already padded, so the layers have no padding, and computes the
 * output size as `ceil((H - Fh + S) / S)`; where that is one more than floor semantics
 * (`floor((H - Fh) / S) + 1`, convsim's and ONNX's), the layer gets the missing rows (columns) as
 * padding at the bottom (right), so it has SCALE-Sim's outputs and MACs, and a note says so.
 *
 * Config (`.cfg`, INI): `[architecture_presets]` ArrayHeight, ArrayWidth (the PE array's rows
 * and columns), IfmapSramSzkB, FilterSramSzkB, OfmapSramSzkB (convsim has one global buffer: it
 * gets their sum), Dataflow (os, ws or is: the dataflow to run) and Bandwidth (words per cycle,
 * one byte each: the DRAM's bytes per cycle). The rest of the architecture is the `systolic`
 * preset's (SCALE-Sim's own array). Keys convsim does not model (SRAM offsets, banks, ...) are
 * listed in the notes.
 */
import { resolveArch } from "../arch/presets.js";
import type { ArchSpec } from "../arch/spec.js";
import { convLayer, type ConvLayer } from "../workload/layer.js";
import { atSource, Where } from "./timeloop/yaml.js";

/** What {@link importScaleSim} takes. */
export interface ScaleSimInput {
  /** The topology CSV text. */
  readonly topology: string;
  /** Its file name, for errors (default `topology.csv`). */
  readonly topologyFile?: string;
  /** The config (.cfg) text; absent, the `systolic` preset and `os`. */
  readonly config?: string;
  /** Its file name, for errors (default `scalesim.cfg`). */
  readonly configFile?: string;
}

/** A network as `convsim run --net FILE` reads it. */
export interface ScaleSimNetwork {
  readonly name: string;
  readonly source: string;
  readonly layers: readonly ConvLayer[];
}

/** What {@link importScaleSim} returns. */
export interface ScaleSimImport {
  readonly network: ScaleSimNetwork;
  readonly arch: ArchSpec;
  /** The dataflow the config names (os, ws or is; default os). */
  readonly dataflow: "os" | "ws" | "is";
  /** Where convsim differs from SCALE-Sim's reading, one line each. */
  readonly notes: readonly string[];
}

const COLUMNS = ["name", "IFMAP height", "IFMAP width", "filter height", "filter width", "channels", "filters", "stride", "stride W"] as const;

/** SCALE-Sim's output size, and the padding at the end that gives it under floor semantics. */
function sizeAndPad(inSize: number, k: number, s: number): { out: number; pad: number } {
  const out = Math.ceil((inSize - k + s) / s);
  return { out, pad: (out - 1) * s + k - inSize };
}

function parseRow(w: Where, fields: string[], notes: string[]): ConvLayer {
  if (fields.length < 8 || fields.length > 9) throw w.error(fields.join(","), `have 8 or 9 fields (${COLUMNS.join(", ")}), then a trailing comma`);
  const name = fields[0]!;
  if (name === "") throw w.at(COLUMNS[0]).error(name, "be a non-empty layer name");
  const num = fields.slice(1).map((f, i) => {
    const v = Number(f);
    if (!/^\d+$/.test(f) || v < 1) throw w.at(COLUMNS[i + 1]!).error(f, "be a positive integer");
    return v;
  });
  const [h, wd, fh, fw, c, k, sh] = num as [number, number, number, number, number, number, number];
  const sw = num[7] ?? sh;
  if (fh > h) throw w.at("filter height").error(fh, `be at most the IFMAP height ${h} (SCALE-Sim's inputs are pre-padded)`);
  if (fw > wd) throw w.at("filter width").error(fw, `be at most the IFMAP width ${wd}`);
  const depthwise = name.includes("DP");
  if (depthwise && k % c !== 0) throw w.at("filters").error(k, `be a multiple of the channels (${c}): a DP (depthwise) layer spreads its filters over one group per channel`);
  const rows = sizeAndPad(h, fh, sh);
  const cols = sizeAndPad(wd, fw, sw);
  for (const [axis, a, floor] of [["rows", rows, Math.floor((h - fh) / sh) + 1], ["columns", cols, Math.floor((wd - fw) / sw) + 1]] as const) {
    if (a.pad > 0) notes.push(`${name}: SCALE-Sim computes ${a.out} output ${axis} (ceil((H - F + S) / S)), floor semantics ${floor}; the layer is padded by ${a.pad} at the ${axis === "rows" ? "bottom" : "right"} to match`);
  }
  return convLayer({ name, inChannels: c, inHeight: h, inWidth: wd, outChannels: k, kernelHeight: fh, kernelWidth: fw, strides: [sh, sw], pads: [0, 0, rows.pad, cols.pad], groups: depthwise ? c : 1 }, w.field);
}

function parseTopology(text: string, file: string, notes: string[]): ConvLayer[] {
  const layers: ConvLayer[] = [];
  const names = new Set<string>();
  text.split(/\r?\n/).forEach((line, i) => {
    const w = new Where(file, `row ${i + 1}`);
    if (line.trim() === "") return;
    const fields = line.split(",").map((f) => f.trim());
    if (fields[fields.length - 1] === "") fields.pop();
    // The header row names the columns: a first row with a number after the name is a layer.
    if (i === 0 && fields.slice(1).every((f) => !/^\d+$/.test(f))) return;
    const layer = parseRow(w, fields, notes);
    if (names.has(layer.name!)) throw w.at("name").error(layer.name, "be unique within the topology");
    names.add(layer.name!);
    layers.push(layer);
  });
  if (layers.length === 0) throw new Where(file, "").error("no layer rows", "hold at least one layer row");
  return layers;
}

/** The config's `key: value` (or `key = value`) lines by section (lower-case) and key. */
function parseIni(text: string, file: string): Map<string, { value: string; where: Where }> {
  const out = new Map<string, { value: string; where: Where }>();
  let section = "";
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.replace(/[#;].*$/, "").trim();
    if (t === "") return;
    const sec = /^\[(.+)\]$/.exec(t);
    if (sec) return void (section = sec[1]!.trim().toLowerCase());
    const kv = /^([^:=]+)[:=](.*)$/.exec(t);
    if (!kv) throw new Where(file, `line ${i + 1}`).error(t, "be [section] or key: value");
    const key = kv[1]!.trim();
    out.set(`${section}.${key}`, { value: kv[2]!.trim(), where: new Where(file, `[${section}] ${key}`) });
  });
  return out;
}

const ARCH_KEYS = ["ArrayHeight", "ArrayWidth", "IfmapSramSzkB", "FilterSramSzkB", "OfmapSramSzkB", "Dataflow", "Bandwidth"];

/** The config key each ArchSpec field the import sets comes from (for errors; see {@link atSource}). */
function configSources(file: string, get: (key: string) => { where: Where } | undefined): Map<string, Where> {
  const sram = ["IfmapSramSzkB", "FilterSramSzkB", "OfmapSramSzkB"].filter((k) => get(k) !== undefined);
  const out = new Map<string, Where>([["arch.gbuf.capacityBytes", new Where(file, `[architecture_presets] ${sram.join(" + ")}`)]]);
  for (const [field, key] of [["arch.array.rows", "ArrayHeight"], ["arch.array.cols", "ArrayWidth"], ["arch.dram.bytesPerCycle", "Bandwidth"]] as const) {
    const e = get(key);
    if (e) out.set(field, e.where);
  }
  return out;
}

function parseConfig(text: string, file: string, notes: string[]): { arch: ArchSpec; dataflow: ScaleSimImport["dataflow"]; name?: string } {
  const ini = parseIni(text, file);
  const get = (key: string) => ini.get(`architecture_presets.${key}`);
  const int = (key: string): number | undefined => {
    const e = get(key);
    if (!e) return undefined;
    if (!/^\d+$/.test(e.value) || Number(e.value) < 1) throw e.where.error(e.value, "be a positive integer");
    return Number(e.value);
  };
  const df = get("Dataflow");
  const dataflow = (df?.value.toLowerCase() ?? "os") as ScaleSimImport["dataflow"];
  if (!["os", "ws", "is"].includes(dataflow)) throw df!.where.error(df!.value, "be os, ws or is");
  const kb = ["IfmapSramSzkB", "FilterSramSzkB", "OfmapSramSzkB"].map(int);
  const rows = int("ArrayHeight");
  const cols = int("ArrayWidth");
  const bw = int("Bandwidth");
  const ignored = [...ini.keys()].filter((k) => k.startsWith("architecture_presets.") && !ARCH_KEYS.includes(k.split(".")[1]!));
  if (ignored.length > 0) notes.push(`config keys not modeled: ${ignored.map((k) => k.split(".")[1]).join(", ")}`);
  if (kb.some((v) => v !== undefined)) notes.push("convsim has one global buffer: it gets the three SRAMs' total (SCALE-Sim's ifmap, filter and ofmap SRAMs are separate)");
  const gbufBytes = kb.every((v) => v === undefined) ? undefined : kb.reduce<number>((a, v) => a + (v ?? 0), 0) * 1024;
  const arch = atSource(configSources(file, get), () =>
    resolveArch("systolic", {
      name: "scalesim",
      ...(rows || cols ? { array: { ...(rows ? { rows } : {}), ...(cols ? { cols } : {}) } } : {}),
      ...(gbufBytes ? { gbuf: { capacityBytes: gbufBytes } } : {}),
      ...(bw ? { dram: { bytesPerCycle: bw } } : {}),
    }),
  );
  const runName = ini.get("general.run_name")?.value;
  return { arch, dataflow, ...(runName ? { name: runName } : {}) };
}

/**
 * Reads a SCALE-Sim topology (and config) as a convsim network and ArchSpec (see the file header).
 * @throws ConfigError naming the file, the row and column (or config key) and the rule.
 */
export function importScaleSim(input: ScaleSimInput): ScaleSimImport {
  const notes: string[] = [];
  const topologyFile = input.topologyFile ?? "topology.csv";
  const layers = parseTopology(input.topology, topologyFile, notes);
  const cfg = input.config !== undefined ? parseConfig(input.config, input.configFile ?? "scalesim.cfg", notes) : { arch: resolveArch("systolic", { name: "scalesim" }), dataflow: "os" as const };
  const name = ("name" in cfg && cfg.name) || topologyFile.replace(/\.csv$/i, "");
  const network: ScaleSimNetwork = Object.freeze({ name, source: `SCALE-Sim topology ${topologyFile}`, layers: Object.freeze(layers) });
  return Object.freeze({ network, arch: cfg.arch, dataflow: cfg.dataflow, notes: Object.freeze(notes) });
}
