/**
 * `convsim compare`: several dataflows on the same network and architecture. One row per
 * dataflow (its total over the selected layers), or one per layer and dataflow with
 * `--per-layer`: DRAM, GBuf and RF traffic, the bounds and measured / bound at both boundaries,
 * cycles, utilization, energy by level, verdict. A dataflow that cannot map a layer is not
 * simulated for it; the reason is printed (and its total covers the other layers). The chart is
 * a grouped bar chart: per layer, one bar of DRAM traffic per dataflow, the lower bounds as lines.
 */
import { ConfigError } from "../core/errors.js";
import type { ArchSpec } from "../arch/spec.js";
import { boundaryCapacityWords, lowerBounds } from "../bounds/bounds.js";
import { DATAFLOW_NAMES } from "../dataflow/dataflows/index.js";
import type { ConvLayer } from "../workload/layer.js";
import { DEFAULT_NETWORK, NETWORK_NAMES } from "../workload/networks.js";
import { formatJson, renderTables } from "../report/format.js";
import { metricsFlatTable, metricsTables, totalMetrics, type LayerMetrics, type MissingRow } from "../report/metrics.js";
import { groupedBarChartSvg } from "../report/svg.js";
import { parseOptions, type Command, type Io } from "./args.js";
import { archLabel, dataflowsOption, mappingCheck, networkLayersOption, type OperandTypes, type SimJob } from "./jobs.js";
import { checkJobsBudget, REPORT_OPTIONS, REPORT_USAGE, reportSetup, runJobsWithProgress } from "./report-options.js";
import { emit, writeSvg } from "./run.js";

const USAGE = `Usage: convsim compare [options]

Runs several dataflows on the same network and architecture and prints one row per dataflow
(its total over the selected layers), or one row per layer and dataflow with --per-layer: MACs,
cycles, utilization, DRAM/GBuf/RF traffic in words, the lower bound at each boundary and
measured/bound, energy by level, verdict. A dataflow that cannot map a layer is reported with
the reason and left out of that layer. Exit 1 if any simulated layer fails to verify.

  --net NAME        a network of the zoo (${NETWORK_NAMES.join(", ")}) or a network JSON file
                    (default ${DEFAULT_NETWORK})
  --dataflows LIST  comma-separated, among ${DATAFLOW_NAMES.join(", ")} (default all; ws, os, is on an array that forwards operands)
  --arch A          an architecture preset (eyeriss, chen2020, systolic) or an ArchSpec JSON file
                    (default chen2020; os on an array that forwards operands)
  --memory M        ideal: DRAM and GBuf with unlimited bandwidth and no latency (dram.model and
                    gbuf.model = ideal: the same words and counts, fewer cycles); arch (default):
                    the architecture's own models
  --batch N         batch size (default 1)
  --layers LIST     layers by name or 1-based range (conv1,conv3 or 1-5; default all)
  --per-layer       one row per layer and dataflow (totals per dataflow at the bottom)
  --format F        table (default), json, csv or md
  --out FILE        write the report to FILE instead of stdout
  --svg FILE        write a grouped bar chart: DRAM traffic per layer and dataflow, with the bounds
  --jobs N          worker threads (default: the available cores; 1 runs in this thread)
  --energy FILE     an energy table (JSON, pJ per action); default Eyeriss 65 nm, normalized
  --checked         checked mode (slower)
${REPORT_USAGE}
`;

/** DRAM bounds of a layer on an architecture with the generated operands' types. */
function dramBounds(layer: ConvLayer, arch: ArchSpec, types: OperandTypes): { minimum: number; paper: number } {
  const b = lowerBounds(layer, { boundary: "dram", capacity: boundaryCapacityWords(arch, "dram", types), types });
  return { minimum: b.headline, paper: b.paper.total };
}

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
      ...REPORT_OPTIONS,
    });
    const setup = reportSetup(values);
    const { format, arch, energyTable } = setup;
    const dataflows = dataflowsOption(values.dataflows, "--dataflows", arch);
    const { net, batch, layers } = networkLayersOption(values);
    const perLayer = values["per-layer"] ?? false;
    checkJobsBudget(layers.flatMap((layer) => dataflows.map(() => ({ layer, arch }))), setup, "--net");

    // Which (layer, dataflow) pairs can run: decided before any simulation.
    const simJobs: SimJob[] = [];
    const slot: { layer: number; dataflow: number }[] = [];
    const missing: (MissingRow & { layerIndex: number })[] = [];
    layers.forEach((layer, li) => {
      dataflows.forEach((df, di) => {
        const c = mappingCheck(layer, arch, df, setup.types);
        if (c.ok) {
          simJobs.push({ layer, arch, dataflow: df, mapping: c.mapping, checked: setup.checked, energyTable, types: setup.types, limits: setup.limits });
          slot.push({ layer: li, dataflow: di });
        } else {
          missing.push({ name: layer.name ?? `#${li + 1}`, dataflow: df, reason: c.reason, layerIndex: li });
        }
      });
    });

    const outcomes = await runJobsWithProgress(io, "compare", simJobs, setup);
    // grid[layer][dataflow]
    const grid: (LayerMetrics | undefined)[][] = layers.map(() => dataflows.map(() => undefined));
    outcomes.forEach((o, i) => {
      const { layer: li, dataflow: di } = slot[i]!;
      if (o.ok) grid[li]![di] = o.metrics;
      // A mapping the legality check let through can still be refused when the run allocates
      // its buffers: the dataflow cannot map this layer, as if the check had said so.
      else if (o.error instanceof ConfigError) missing.push({ name: layers[li]!.name ?? `#${li + 1}`, dataflow: dataflows[di]!, reason: o.error.message, layerIndex: li });
      else throw o.error;
    });
    const totals = dataflows.map((df, di) => totalMetrics(grid.map((row) => row[di]).filter((m): m is LayerMetrics => m !== undefined), df));
    const notes: string[] = [];
    dataflows.forEach((df, di) => {
      const miss = missing.filter((m) => m.dataflow === df);
      if (miss.length > 0) {
        notes.push(`${df}: ${miss.length} of ${layers.length} layers not run (${miss.map((m) => m.name).join(", ")}); its total covers the other ${layers.length - miss.length}. First reason: ${miss[0]!.reason}`);
      }
      if (totals[di]!.layers === 0) notes.push(`${df}: no layer could run`);
    });

    const header = `convsim compare: ${net.name} (batch ${batch}), arch ${archLabel(arch)}, ${layers.length} layer${layers.length === 1 ? "" : "s"}, dataflows ${dataflows.join(", ")}, energy table ${energyTable.name}`;
    let text: string;
    if (format === "json") {
      text = formatJson({
        network: net.name,
        batch,
        arch,
        energyTable,
        dataflows: dataflows.map((df, di) => ({
          dataflow: df,
          total: totals[di],
          layers: grid.map((row) => row[di]).filter((m) => m !== undefined),
          missing: missing.filter((m) => m.dataflow === df).map(({ name, reason }) => ({ layer: name, reason })),
        })),
      });
    } else {
      const rows = perLayer ? grid.flatMap((row) => row.filter((m): m is LayerMetrics => m !== undefined)) : totals.filter((t) => t.layers > 0);
      const shownMissing = perLayer ? missing : [];
      // Per-layer rows keep the total per dataflow as footer rows, named `total`.
      const footerTotals = perLayer ? totals.filter((t) => t.layers > 0).map((t) => ({ ...t, name: "total" })) : [];
      if (format === "csv") {
        const flat = metricsFlatTable(rows, { missing: shownMissing });
        text = renderTables([{ ...flat, footer: footerTotals.map((t) => metricsFlatTable([t]).rows[0]!) }], "csv");
      } else {
        const tables = metricsTables(rows, { key: perLayer ? "layer+dataflow" : "dataflow", missing: shownMissing, energyUnit: energyTable.unit });
        const withFooter = tables.map((t, i) => {
          const foot = perLayer ? footerTotals.map((m) => metricsTables([m], { key: "layer+dataflow" })[i]!.rows[0]!) : [];
          return { ...t, ...(foot.length ? { footer: foot } : {}), ...(i === 0 && notes.length ? { notes } : {}) };
        });
        text = `${header}\n\n${renderTables(withFooter, format)}`;
      }
    }
    emit(io, text, values.out);
    if (values.svg !== undefined) {
      const bounds = layers.map((l, li) => {
        const m = grid[li]!.find((x) => x !== undefined);
        return m ? { minimum: m.boundaries.dram.minimum, paper: m.boundaries.dram.paper } : dramBounds(l, arch, setup.types);
      });
      writeSvg(
        io,
        values.svg,
        groupedBarChartSvg({
          title: `DRAM traffic per layer and dataflow: ${net.name} on ${arch.name}`,
          subtitle: `batch ${batch}; lines: lower bound = max(compulsory, provable), paper = Chen, Han & Wang (HPCA 2020); × = does not fit`,
          groups: layers.map((l, li) => l.name ?? `#${li + 1}`),
          series: dataflows.map((df, di) => ({
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
        }),
      );
    }
    return totals.every((t) => t.verified) ? 0 : 1;
  },
};
