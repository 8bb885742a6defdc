/**
 * `convsim bound`: the lower bounds of a layer (or a list of layers) at one or both memory
 * boundaries — MACs, the maximum reuse R, compulsory traffic, the paper's bound (Chen, Han &
 * Wang, HPCA 2020), the provable bound, the attainable traffic of the paper's dataflow and its
 * tile — as a table or as JSON. A thin layer over `lowerBounds` (src/bounds); derivations in
 * docs/bounds.md.
 */
import { ConfigError } from "../core/errors.js";
import { parseJson } from "../core/fields.js";
import { formatCount, renderTables, type Column, type Table } from "../report/format.js";
import { parseCapacity, type Capacity } from "../core/units.js";
import { requireOperandType } from "../workload/dtype.js";
import { convLayer, formatLayerShortForm, type ConvLayer, type ConvLayerSpec } from "../workload/layer.js";
import { lowerBounds, type Boundary, type LayerBounds } from "../bounds/bounds.js";
import type { Staging } from "../bounds/tile.js";
import { NETWORK_NAMES, selectLayers } from "../workload/networks.js";
import { networkOption } from "./jobs.js";
import { loadLayer, parseOptions, readTextFile, type Command, type Io } from "./args.js";
import { formatOption } from "./outputs.js";
import { INPUT_SHAPE_OPTION, onnxUsage, requireOnnxForOptions } from "./onnx.js";

const USAGE = `Usage: convsim bound (--net NAME | --layer L | --layers FILE) --capacity C [options]

Lower bounds on the traffic across a memory boundary (docs/bounds.md).

  --layer L          a layer: JSON file, inline JSON, or short form (c=3,hw=224,k=64,r=3,pad=1)
  --layers FILE      a JSON file holding an array of layers
  --net NAME         a network of the zoo (${NETWORK_NAMES.join(", ")}), a network JSON file,
                     or an ONNX model (model.onnx; docs/formats.md)
${onnxUsage(21, false)}
  --batch N          batch size, with --net only (default 1; an ONNX model's own)
  --select LIST      with --net only: layers by name or 1-based range (conv1,conv3 or 1-5)
  --capacity C       capacity below the boundary: bytes (108KiB, 64kB, 4096) or words (512W, 16KiW).
                     With --boundary both, the DRAM boundary's (on-chip storage)
  --rf-capacity C    capacity of the register files, for the gbuf boundary (with --boundary both:
                     required; with --boundary gbuf: used instead of --capacity when given)
  --boundary B       dram (DRAM <-> on-chip, default), gbuf (global buffer <-> registers), or both
  --input-type T     input element type for a capacity in bytes: int8 (default), uint8, int16
  --weight-type T    weight element type: int8 (default), uint8, int16
  --staging S        attainable dataflow's input/weight staging: single (default) or double
  --format F         table (default), json, csv or md
  --json             the same as --format json

Columns: MACs (dense), R (maximum sliding-window reuse), compulsory, paper (2*MACs/sqrt(R*S) +
outputs), provable (a rigorous lower bound), attainable (the paper's dataflow at its best tile
b x y x x x z: images x output rows x output columns x output channels), attainable / paper.
Traffic is in words (elements); S in words is bytes / smallest element size.
`;

function loadLayers(file: string): ConvLayer[] {
  const data = parseJson("--layers", readTextFile("--layers", file));
  if (!Array.isArray(data) || data.length === 0) throw new ConfigError("--layers", file, "hold a non-empty JSON array of layers");
  return data.map((spec, i) => convLayer(spec as ConvLayerSpec, `--layers[${i}]`));
}

function row(b: LayerBounds, name: string): string[] {
  const a = b.attainable;
  const t = a?.tile;
  return [
    name,
    b.boundary,
    formatCount(b.capacityWords),
    formatCount(b.macs),
    String(b.reuse.max),
    formatCount(b.compulsory.total),
    formatCount(b.paper.total),
    formatCount(b.provable.total),
    a ? formatCount(a.traffic.total) : "-",
    a ? a.overPaper.toFixed(3) : "-",
    t ? `${t.b},${t.y},${t.x},${t.z}` : `none fits (needs ${formatCount(b.minimumTileFootprint)} ${b.budget.unit})`,
  ];
}

function table(rows: string[][]): string {
  const header = ["layer", "boundary", "S (words)", "MACs", "R", "compulsory", "paper", "provable", "attainable", "att/paper", "tile b,y,x,z"];
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  return all.map((r) => r.map((cell, c) => (c === 0 || c === 1 || c === r.length - 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ").trimEnd()).join("\n") + "\n";
}

/** The bounds as a {@link Table} (csv, md): raw values, one row per layer and boundary. */
function boundsTable(results: readonly LayerBounds[], names: readonly string[]): Table {
  const words = (key: string, header: string): Column => ({ key, header, unit: "words", kind: "count" });
  return {
    columns: [{ key: "layer", header: "layer" }, { key: "boundary", header: "boundary" }, words("S", "S"), { key: "macs", header: "MACs", kind: "count" }, { key: "R", header: "R", kind: "count" }, words("compulsory", "compulsory"), words("paper", "paper"), words("provable", "provable"), words("attainable", "attainable"), { key: "overPaper", header: "att/paper", kind: "ratio" }, { key: "tile", header: "tile b,y,x,z" }],
    rows: results.map((b, i) => {
      const t = b.attainable?.tile;
      return { layer: names[i], boundary: b.boundary, S: b.capacityWords, macs: b.macs, R: b.reuse.max, compulsory: b.compulsory.total, paper: b.paper.total, provable: b.provable.total, attainable: b.attainable?.traffic.total, overPaper: b.attainable?.overPaper, tile: t ? `${t.b},${t.y},${t.x},${t.z}` : undefined };
    }),
  };
}

function toJson(b: LayerBounds): unknown {
  return {
    layer: b.layer,
    boundary: b.boundary,
    capacityWords: b.capacityWords,
    budget: b.budget,
    macs: b.macs,
    usefulMacs: b.usefulMacs,
    reuse: b.reuse,
    compulsory: b.compulsory,
    paper: b.paper,
    provable: b.provable,
    headline: b.headline,
    attainable: b.attainable,
    minimumTileFootprint: b.minimumTileFootprint,
  };
}

/** `convsim bound`: prints the bounds of one or more layers at one or both boundaries. */
export const boundCommand: Command = {
  name: "bound",
  summary: "Lower bounds (compulsory, paper, provable) and the attainable optimum of a layer",
  usage: USAGE,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parseOptions(argv, {
      layer: { type: "string" },
      layers: { type: "string" },
      net: { type: "string" },
      batch: { type: "string" },
      select: { type: "string" },
      capacity: { type: "string" },
      "rf-capacity": { type: "string" },
      boundary: { type: "string" },
      "input-type": { type: "string" },
      "weight-type": { type: "string" },
      staging: { type: "string" },
      format: { type: "string" },
      json: { type: "boolean" },
      ...INPUT_SHAPE_OPTION,
    });
    const format = formatOption(values.format, values.json);
    const which = values.boundary ?? "dram";
    if (which !== "dram" && which !== "gbuf" && which !== "both") throw new ConfigError("--boundary", which, "be dram, gbuf or both");
    const staging = values.staging ?? "single";
    if (staging !== "single" && staging !== "double") throw new ConfigError("--staging", staging, "be single or double");
    const types = {
      input: requireOperandType("--input-type", values["input-type"] ?? "int8"),
      weight: requireOperandType("--weight-type", values["weight-type"] ?? "int8"),
    };
    const sources = [values.layer, values.layers, values.net].filter((v) => v !== undefined);
    if (sources.length !== 1) {
      throw new ConfigError("--layer", sources.join(" "), "be given, or --layers, or --net: exactly one of them");
    }
    for (const f of ["select", "batch"] as const) {
      if (values[f] !== undefined && values.net === undefined) throw new ConfigError(`--${f}`, values[f], "be used with --net (it picks from a network)");
    }
    const capacities: [Boundary, Capacity][] = [];
    if (which === "dram" || which === "both") {
      if (values.capacity === undefined) throw new ConfigError("--capacity", undefined, "be given, e.g. 108KiB or 4096W");
      const cap = parseCapacity("--capacity", values.capacity);
      if (cap.value < 1) throw new ConfigError("--capacity", values.capacity, "be a positive size, e.g. 108KiB or 4096W");
      capacities.push(["dram", cap]);
    }
    if (which === "gbuf" || which === "both") {
      const text = values["rf-capacity"] ?? (which === "gbuf" ? values.capacity : undefined);
      const field = values["rf-capacity"] !== undefined || which === "both" ? "--rf-capacity" : "--capacity";
      if (text === undefined) throw new ConfigError(field, undefined, "be given for the gbuf boundary, e.g. 2016W");
      const cap = parseCapacity(field, text);
      if (cap.value < 1) throw new ConfigError(field, text, "be a positive size, e.g. 2016W");
      capacities.push(["gbuf", cap]);
    }
    if (values.net === undefined) requireOnnxForOptions(values.layer ?? values.layers ?? "--layer", values);
    const layers =
      values.net !== undefined
        ? [...selectLayers(networkOption(values.net, values.batch, values), values.select, "--select")]
        : values.layers !== undefined
          ? loadLayers(values.layers)
          : [loadLayer(values.layer)];
    const results: LayerBounds[] = [];
    for (const layer of layers) {
      for (const [boundary, capacity] of capacities) {
        results.push(lowerBounds(layer, { capacity, boundary, types, staging: staging as Staging }));
      }
    }
    const names = results.map((b, i) => b.layer.name ?? (layers.length === 1 ? formatLayerShortForm(b.layer) : `#${Math.floor(i / capacities.length)}`));
    if (format === "json") io.out(JSON.stringify(results.map(toJson), null, 2) + "\n");
    else if (format === "table") io.out(table(results.map((b, i) => row(b, names[i]!))));
    else io.out(renderTables([boundsTable(results, names)], format));
    return 0;
  },
};
