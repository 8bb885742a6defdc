/**
 * `convsim import` and `convsim export`: the field's formats in and out (src/formats,
 * docs/formats.md). `import timeloop` and `import scalesim` write convsim's JSON inputs into a
 * directory; `export timeloop` writes a layer, an architecture and a mapping as Timeloop YAML.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { PRESET_NAMES, type PresetName } from "../arch/presets.js";
import { ConfigError } from "../core/errors.js";
import { DATAFLOW_NAMES, buildMapping } from "../dataflow/dataflows/index.js";
import { mappingToJson, parseMapping } from "../dataflow/mapping.js";
import { importScaleSim } from "../formats/scalesim.js";
import { exportTimeloop } from "../formats/timeloop/export.js";
import { importTimeloop } from "../formats/timeloop/import.js";
import type { OperandType } from "../workload/dtype.js";
import { loadLayer, parseOptions, type Command, type Io } from "./args.js";
import { archOption } from "./jobs.js";

function readText(field: string, path: string | undefined): string {
  if (path === undefined) throw new ConfigError(field, path, "be given: a file path");
  if (!existsSync(path)) throw new ConfigError(field, path, "name an existing file");
  return readFileSync(path, "utf8");
}

function outDir(text: string | undefined): string {
  if (text === undefined || text === "") throw new ConfigError("--out", text, "be given: the directory to write into (created if missing)");
  mkdirSync(text, { recursive: true });
  return text;
}

function writeJson(dir: string, name: string, value: unknown, io: Io): string {
  const path = join(dir, name);
  writeFileSync(path, (typeof value === "string" ? value : JSON.stringify(value, null, 2)) + "\n");
  io.out(`wrote ${path}\n`);
  return path;
}

function notesOut(notes: readonly string[], io: Io): void {
  for (const n of notes) io.out(`note: ${n}\n`);
}

function basePreset(text: string | undefined): PresetName {
  if (text === undefined) return "eyeriss";
  if (!(PRESET_NAMES as readonly string[]).includes(text)) throw new ConfigError("--base", text, `be a preset (${PRESET_NAMES.join(", ")}): the fields Timeloop does not give come from it`);
  return text as PresetName;
}

async function importTimeloopCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseOptions(argv, { arch: { type: "string" }, problem: { type: "string" }, mapping: { type: "string" }, out: { type: "string" }, base: { type: "string" } });
  const r = importTimeloop({
    arch: readText("--arch", values.arch),
    problem: readText("--problem", values.problem),
    mapping: readText("--mapping", values.mapping),
    files: { arch: basename(values.arch!), problem: basename(values.problem!), mapping: basename(values.mapping!) },
    base: basePreset(values.base),
  });
  const dir = outDir(values.out);
  const layer = writeJson(dir, "layer.json", r.layer, io);
  const arch = writeJson(dir, "arch.json", r.arch, io);
  const mapping = writeJson(dir, "mapping.json", mappingToJson(r.mapping), io);
  notesOut(r.notes, io);
  const types = r.operandType === "int8" ? "" : ` --x-type ${r.operandType} --w-type ${r.operandType}`;
  io.out(`run: convsim simulate --layer ${layer} --arch ${arch} --dataflow ${mapping}${types} --counts timeloop\n`);
  return 0;
}

async function importScaleSimCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseOptions(argv, { topology: { type: "string" }, config: { type: "string" }, out: { type: "string" } });
  const r = importScaleSim({
    topology: readText("--topology", values.topology),
    topologyFile: basename(values.topology!),
    ...(values.config !== undefined ? { config: readText("--config", values.config), configFile: basename(values.config) } : {}),
  });
  const dir = outDir(values.out);
  const net = writeJson(dir, "network.json", r.network, io);
  const arch = writeJson(dir, "arch.json", r.arch, io);
  notesOut(r.notes, io);
  io.out(`run: convsim run --net ${net} --arch ${arch} --dataflow ${r.dataflow}\n`);
  return 0;
}

/** `convsim import`. */
export const importCommand: Command = {
  name: "import",
  summary: "Import Timeloop specs or a SCALE-Sim topology as convsim JSON inputs",
  usage: `Usage: convsim import timeloop --arch A.yaml --problem P.yaml --mapping M.yaml --out DIR [--base PRESET]
       convsim import scalesim --topology T.csv [--config C.cfg] --out DIR

timeloop: reads Timeloop's architecture, cnn-layer problem and mapping (v0.3 or v0.4 YAML) and
writes DIR/layer.json, DIR/arch.json and DIR/mapping.json, which
  convsim simulate --layer DIR/layer.json --arch DIR/arch.json --dataflow DIR/mapping.json
runs. Timeloop's P is the output width (convsim's Q), its R the kernel width; its problem has no
padding. What convsim cannot model exactly is an error naming the file, the path in it and the
rule. --base: the preset whose timing fields (which Timeloop does not give) the arch takes
(default eyeriss). docs/formats.md.

scalesim: reads a SCALE-Sim topology CSV (name, IFMAP height, width, filter height, width,
channels, filters, stride[, stride W], one row per layer, each row ending with a comma; a name
containing DP is depthwise) and optionally its config (array size, SRAM sizes, dataflow), and
writes DIR/network.json (for convsim run --net) and DIR/arch.json. Inputs are taken as
pre-padded, as SCALE-Sim takes them.
`,
  async run(argv: string[], io: Io): Promise<number> {
    const [format, ...rest] = argv;
    if (format === "timeloop") return importTimeloopCommand(rest, io);
    if (format === "scalesim") return importScaleSimCommand(rest, io);
    throw new ConfigError("format", format, "be timeloop or scalesim (convsim import timeloop|scalesim ...)");
  },
};

/** `convsim export`. */
export const exportCommand: Command = {
  name: "export",
  summary: "Export a layer, an architecture and a mapping as Timeloop YAML",
  usage: `Usage: convsim export timeloop --layer L --arch A --dataflow D --out DIR [--x-type T]

Writes DIR/arch.yaml, DIR/problem.yaml and DIR/mapping.yaml in Timeloop's v0.3 format: the
layer (short form, JSON file or inline JSON), the architecture (${PRESET_NAMES.join(", ")} or an ArchSpec
JSON file) and the mapping (${DATAFLOW_NAMES.join(", ")} or a Mapping JSON file). convsim import timeloop
reads them back to the same layer, architecture sizes and mapping. --x-type int16 writes 16-bit
words (default int8: 8-bit). Refused, naming the field: groups, streamed operands, a dimension on
both array axes, factors that do not multiply to a dimension exactly. docs/formats.md.
`,
  async run(argv: string[], io: Io): Promise<number> {
    const [format, ...rest] = argv;
    if (format !== "timeloop") throw new ConfigError("format", format, "be timeloop (convsim export timeloop ...)");
    const { values } = parseOptions(rest, { layer: { type: "string" }, arch: { type: "string" }, dataflow: { type: "string" }, out: { type: "string" }, "x-type": { type: "string" } });
    const layer = loadLayer(values.layer);
    const arch = archOption(values.arch);
    const df = values.dataflow ?? "chen2020";
    const mapping = (DATAFLOW_NAMES as readonly string[]).includes(df) ? buildMapping(df, layer, arch) : parseMapping(readText("--dataflow", df), layer, "dataflow");
    const xType = values["x-type"];
    if (xType !== undefined && !["int8", "uint8", "int16"].includes(xType)) throw new ConfigError("--x-type", xType, "be int8, uint8 or int16");
    const r = exportTimeloop({ layer, arch, mapping, ...(xType !== undefined ? { operandType: xType as OperandType } : {}) });
    const dir = outDir(values.out);
    for (const [name, text] of [["arch.yaml", r.arch], ["problem.yaml", r.problem], ["mapping.yaml", r.mapping]] as const) {
      writeFileSync(join(dir, name), text);
      io.out(`wrote ${join(dir, name)}\n`);
    }
    notesOut(r.notes, io);
    return 0;
  },
};
