/**
 * `convsim compare`: several dataflows on the same network and architecture. One row per
 * dataflow (its total over the selected layers), or one per layer and dataflow with
 * `--per-layer`: DRAM, GBuf and RF traffic, the bounds and measured / bound at both boundaries,
 * cycles, utilization, energy by level, verdict. A dataflow that cannot map a layer is not
 * simulated for it; the reason is printed (and its total covers the other layers). The chart is
 * a grouped bar chart: per layer, one bar of DRAM traffic per dataflow, the lower bounds as lines.
 */
import type { ArchSpec } from "../arch/spec.js";
import { boundaryCapacityWords, lowerBounds } from "../bounds/bounds.js";
import { DATAFLOW_CHOICES } from "../dataflow/dataflows/index.js";
import type { ConvLayer } from "../workload/layer.js";
import { DEFAULT_NETWORK, NETWORK_NAMES } from "../workload/networks.js";
import { renderTables, type OutputFormat } from "../report/format.js";
import { metricsFlatTable, metricsTables, totalMetrics, type LayerMetrics, type MissingRow } from "../report/metrics.js";
import { groupedBarChartSvg } from "../report/svg.js";
import { parseOptions, type Command, type Io } from "./args.js";
import { archLabel, dataflowsOption, networkLayersOption } from "./jobs.js";
import { checkJobsBudget, REPORT_OPTIONS, REPORT_USAGE, reportSetup } from "./report-options.js";
import { reportJson, runShardable, SHARD_OPTIONS, shardUsage, type ShardableCommand } from "./shard.js";
import { INPUT_SHAPE_OPTION, layerOperandsOption, onnxUsage, WEIGHTS_OPTION } from "./onnx.js";
import { allVerified, runSimItems, type SimItem, type SimItemResult, type SimReportSpec } from "./sim-items.js";

const USAGE = `Usage: convsim compare [options]

Runs several dataflows on the same network and architecture and prints one row per dataflow
(its total over the selected layers), or one row per layer and dataflow with --per-layer: MACs,
cycles, utilization, DRAM/GBuf/RF traffic in words, the lower bound at each boundary and
measured/bound, energy by level, verdict. A dataflow that cannot map a layer is reported with
the reason and left out of that layer. Exit 1 if any simulated layer fails to verify.

  --net NAME        a network of the zoo (${NETWORK_NAMES.join(", ")}), a network JSON file
                    or an ONNX model (model.onnx; docs/formats.md)
                    (default ${DEFAULT_NETWORK})
  --dataflows LIST  comma-separated, among ${DATAFLOW_CHOICES.join(", ")} (default all but best; ws, os, is on an
                    array that forwards operands; best: the mapper beside them, docs/mapper.md)
  --arch A          an architecture preset (eyeriss, chen2020, systolic) or an ArchSpec JSON file
                    (default chen2020; os on an array that forwards operands)
  --memory M        ideal: DRAM and GBuf with unlimited bandwidth and no latency (dram.model and
                    gbuf.model = ideal: the same words and counts, fewer cycles); arch (default):
                    the architecture's own models
${onnxUsage(20, true)}
  --batch N         batch size (default 1; an ONNX model's own)
  --layers LIST     layers by name or 1-based range (conv1,conv3 or 1-5; default all)
  --per-layer       one row per layer and dataflow (totals per dataflow at the bottom)
  --format F        table (default), json, csv or md
  --out FILE        write the report to FILE instead of stdout
  --svg FILE        write a grouped bar chart: DRAM traffic per layer and dataflow, with the bounds
  --jobs N          worker threads (default: the available cores; 1 runs in this thread)
  --energy FILE     an energy table (JSON, pJ per action); default Eyeriss 65 nm, normalized
  --checked         checked mode (slower)
${REPORT_USAGE}
${shardUsage(20)}
`;

/** DRAM bounds of a layer on an architecture with int8 operands (the generated tensors' type). */
function dramBounds(layer: ConvLayer, arch: ArchSpec): { minimum: number; paper: number } {
  const types = { input: "int8", weight: "int8" } as const;
  const b = lowerBounds(layer, { boundary: "dram", capacity: boundaryCapacityWords(arch, "dram", types), types });
  return { minimum: b.headline, paper: b.paper.total };
}

/** Everything a comparison's report depends on (plain JSON: shard files carry it). */
export interface CompareSpec extends SimReportSpec {
  /** The network's name. */
  readonly network: string;
  readonly batch: number;
  /** The selected layers, in network order. */
  readonly layers: readonly ConvLayer[];
  /** One row per layer and dataflow (`--per-layer`). */
  readonly perLayer: boolean;
}

/** A comparison's results laid out: grid[layer][dataflow], the rows that could not run, the totals. */
interface CompareGrid {
  readonly grid: (LayerMetrics | undefined)[][];
  readonly missing: (MissingRow & { layerIndex: number })[];
  readonly totals: LayerMetrics[];
}

function compareGrid(spec: CompareSpec, results: readonly SimItemResult[]): CompareGrid {
  const n = spec.dataflows.length;
  const missing: (MissingRow & { layerIndex: number })[] = [];
  const grid = spec.layers.map((layer, li) =>
    spec.dataflows.map((df, di) => {
      const r = results[li * n + di]!;
      if (r.reason !== undefined) missing.push({ name: layer.name ?? `#${li + 1}`, dataflow: df, reason: r.reason, layerIndex: li });
      return r.metrics;
    }),
  );
  const totals = spec.dataflows.map((df, di) => totalMetrics(grid.map((row) => row[di]).filter((m): m is LayerMetrics => m !== undefined), df));
  return { grid, missing, totals };
}

function compareNotes(spec: CompareSpec, { missing, totals }: CompareGrid): string[] {
  const notes: string[] = [];
  const count = spec.layers.length;
  spec.dataflows.forEach((df, di) => {
    const miss = missing.filter((m) => m.dataflow === df);
    if (miss.length > 0) {
      notes.push(`${df}: ${miss.length} of ${count} layers not run (${miss.map((m) => m.name).join(", ")}); its total covers the other ${count - miss.length}. First reason: ${miss[0]!.reason}`);
    }
    if (totals[di]!.layers === 0) notes.push(`${df}: no layer could run`);
  });
  return notes;
}

function compareTables(spec: CompareSpec, g: CompareGrid, format: Exclude<OutputFormat, "json">): string {
  const { perLayer, energyTable } = spec;
  const rows = perLayer ? g.grid.flatMap((row) => row.filter((m): m is LayerMetrics => m !== undefined)) : g.totals.filter((t) => t.layers > 0);
  const shownMissing = perLayer ? g.missing : [];
  // Per-layer rows keep the total per dataflow as footer rows, named `total`.
  const footerTotals = perLayer ? g.totals.filter((t) => t.layers > 0).map((t) => ({ ...t, name: "total" })) : [];
  if (format === "csv") {
    const flat = metricsFlatTable(rows, { missing: shownMissing, timing: spec.timing });
    return renderTables([{ ...flat, footer: footerTotals.map((t) => metricsFlatTable([t]).rows[0]!) }], "csv");
  }
  const notes = compareNotes(spec, g);
  const tables = metricsTables(rows, { key: perLayer ? "layer+dataflow" : "dataflow", missing: shownMissing, energyUnit: energyTable.unit, timing: spec.timing });
  const withFooter = tables.map((t, i) => {
    const foot = perLayer ? footerTotals.map((m) => metricsTables([m], { key: "layer+dataflow" })[i]!.rows[0]!) : [];
    return { ...t, ...(foot.length ? { footer: foot } : {}), ...(i === 0 && notes.length ? { notes } : {}) };
  });
  const n = spec.layers.length;
  const header = `convsim compare: ${spec.network} (batch ${spec.batch}), arch ${archLabel(spec.arch)}, ${n} layer${n === 1 ? "" : "s"}, dataflows ${spec.dataflows.join(", ")}${spec.modelWeights ? ", the model's weights" : ""}, energy table ${energyTable.name}`;
  return `${header}\n\n${renderTables(withFooter, format)}`;
}

function compareSvg(spec: CompareSpec, results: readonly SimItemResult[]): string {
  const { grid, missing } = compareGrid(spec, results);
  const { layers, arch } = spec;
  const bounds = layers.map((l, li) => {
    const m = grid[li]!.find((x) => x !== undefined);
    return m ? { minimum: m.boundaries.dram.minimum, paper: m.boundaries.dram.paper } : dramBounds(l, arch);
  });
  return groupedBarChartSvg({
    title: `DRAM traffic per layer and dataflow: ${spec.network} on ${arch.name}`,
    subtitle: `batch ${spec.batch}; lines: lower bound = max(compulsory, provable), paper = Chen, Han & Wang (HPCA 2020); × = does not fit`,
    groups: layers.map((l, li) => l.name ?? `#${li + 1}`),
    series: spec.dataflows.map((df, di) => ({
      name: df,
      values: grid.map((row) => row[di]?.traffic.dram ?? null),
      missing: layers.map((_, li) => missing.find((m) => m.layerIndex === li && m.dataflow === df)?.reason ?? null),
    })),
    references: [
      { name: "lower bound", values: bounds.map((b) => b.minimum), style: "solid" },
      { name: "paper bound", values: bounds.map((b) => b.paper), style: "dashed" },
    ],
    yLabel: "DRAM traffic",
    yUnit: "words",
    xLabel: "layer",
  });
}

/** `compare` as a command whose items (layer x dataflow) can run in shards and merge. */
export const compareShardable: ShardableCommand<CompareSpec, SimItem, SimItemResult> = {
  name: "compare",
  items: (spec) => spec.layers.flatMap((layer) => spec.dataflows.map((dataflow) => ({ layer, arch: spec.arch, dataflow }))),
  identity: (item) => ({ layer: item.layer, arch: item.arch.name, dataflow: item.dataflow }),
  run: runSimItems,
  report(spec, results, format) {
    const g = compareGrid(spec, results);
    if (format !== "json") return compareTables(spec, g, format);
    return reportJson(
      {
        network: spec.network,
        batch: spec.batch,
        arch: spec.arch,
        energyTable: spec.energyTable,
        dataflows: spec.dataflows.map((df, di) => ({
          dataflow: df,
          total: g.totals[di],
          layers: g.grid.map((row) => row[di]).filter((m) => m !== undefined),
          missing: g.missing.filter((m) => m.dataflow === df).map(({ name, reason }) => ({ layer: name, reason })),
        })),
      },
      spec.timing,
    );
  },
  svg: compareSvg,
  ok: allVerified,
};

/** `convsim compare`: dataflows side by side on one network. */
export const compareCommand: Command = {
  name: "compare",
  summary: "Compare dataflows on a network: traffic, bounds, cycles, energy (table and chart)",
  usage: USAGE,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parseOptions(argv, {
      net: { type: "string" },
      dataflows: { type: "string" },
      batch: { type: "string" },
      layers: { type: "string" },
      "per-layer": { type: "boolean" },
      ...INPUT_SHAPE_OPTION,
      ...WEIGHTS_OPTION,
      ...REPORT_OPTIONS,
      ...SHARD_OPTIONS,
    });
    const setup = reportSetup(values);
    const { arch, energyTable } = setup;
    const dataflows = dataflowsOption(values.dataflows, "--dataflows", arch);
    const { net, batch, layers } = networkLayersOption(values);
    checkJobsBudget(layers.flatMap((layer) => dataflows.map(() => ({ layer, arch }))), setup, "--net");
    const spec: CompareSpec = {
      network: net.name,
      batch,
      arch,
      layers,
      dataflows,
      energyTable,
      perLayer: values["per-layer"] ?? false,
      checked: setup.checked,
      timing: values.timing ?? false,
      types: setup.types,
      ...(values.weights === "model" ? { modelWeights: true } : {}),
    };
    const operands = layerOperandsOption(net, values);
    return runShardable({ ...compareShardable, run: (s, items, o) => runSimItems(s, items, { ...o, operands, limits: setup.limits, command: "compare" }) }, spec, values, io);
  },
};
