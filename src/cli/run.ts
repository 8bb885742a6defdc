/**
 * `convsim run`: the main job. Simulates every selected layer of a network bit-exactly on one
 * architecture with one dataflow (each layer's output verified against the reference
 * convolution), in parallel on worker threads, and reports per layer and in total: MACs,
 * cycles, PE utilization, DRAM / GBuf / RF accesses in words, the bound at each boundary and
 * measured / bound, energy by level, the verdict. Exit 1 if any layer fails to verify.
 * Columns and the energy model: docs/reports.md.
 */
import { ConfigError } from "../core/errors.js";
import { DATAFLOW_CHOICES } from "../dataflow/dataflows/index.js";
import { DEFAULT_NETWORK, NETWORK_NAMES } from "../workload/networks.js";
import { EYERISS_ENERGY_TABLE } from "../report/energy.js";
import { reportJson } from "./shard.js";
import { totalMetrics, type LayerMetrics } from "../report/metrics.js";
import { networkRunChartSvg, renderMetrics } from "../runner/network.js";
import { parseOptions, type Command, type Io } from "./args.js";
import { INPUT_SHAPE_OPTION, onnxUsage, layerOperandsOption, WEIGHTS_OPTION } from "./onnx.js";
import { archLabel, checkMappings, dataflowsOption, defaultDataflow, networkLayersOption, withWorkerPool, type SimJob } from "./jobs.js";
import { checkJobsBudget, REPORT_OPTIONS, REPORT_USAGE, reportSetup, runJobsWithProgress } from "./report-options.js";
import { writeOutputFile } from "./outputs.js";
import { CLI_LIMIT_FLAGS } from "./numbers.js";

const USAGE = `Usage: convsim run [options]

Simulates every selected layer of a network, bit-exactly (each output verified against the
reference convolution), in parallel on worker threads, and prints per layer and in total: MACs,
cycles, PE utilization, DRAM/GBuf/RF traffic in words, the lower bound at each boundary and the
ratio measured/bound, energy by level, and the verdict. Exit 1 if any layer fails to verify.

  --net NAME        a network of the zoo (${NETWORK_NAMES.join(", ")}), a network JSON file
                    or an ONNX model (model.onnx; docs/formats.md) (default ${DEFAULT_NETWORK})
${onnxUsage(20, true)}
  --arch A          an architecture preset (eyeriss, chen2020, systolic) or an ArchSpec JSON file
                    (default chen2020; os on an array that forwards operands)
  --memory M        ideal: DRAM and GBuf with unlimited bandwidth and no latency (dram.model and
                    gbuf.model = ideal: the same words and counts, fewer cycles); arch (default):
                    the architecture's own models
  --dataflow D      ${DATAFLOW_CHOICES.join(", ")} (default chen2020; os on an array that forwards
                    operands; best: the mapper, docs/mapper.md)
  --batch N         batch size (default 1; an ONNX model's own)
  --layers LIST     layers by name or 1-based range (conv1,conv3 or 1-5; default all)
  --format F        table (default), json, csv or md
  --out FILE        write the report to FILE instead of stdout
  --svg FILE        write a chart of DRAM traffic per layer against the lower bounds
  --timing          show each layer's simulation wall time: a "sim time [s]" column (wallMs in
                    --format json); left out by default, so two runs of the same work print
                    the same bytes
  --jobs N          worker threads (default: the available cores; 1 runs in this thread)
  --energy FILE     an energy table (JSON, pJ per action) instead of the Eyeriss 65 nm
                    normalized table; see docs/reports.md
  --checked         checked mode: every stored word carries a tag, every read checks it (slower)
${REPORT_USAGE}

Traffic is in words (elements); "bound" is max(compulsory, provable) at that boundary,
"paper" the bound of Chen, Han & Wang (HPCA 2020). Default energy unit: MAC-eq, the energy of
one 16-bit MAC (Chen, Emer, Sze, ISCA 2016).
`;

/** Writes a report to `--out` (through a temporary file) or stdout. */
export function emit(io: Io, text: string, out: string | undefined, what = "report"): void {
  if (out === undefined) {
    io.out(text);
    return;
  }
  writeOutputFile("--out", out, text);
  io.err(`wrote ${what} to ${out}\n`);
}

/** Writes an SVG chart to `--svg` (through a temporary file). */
export function writeSvg(io: Io, file: string, svg: string): void {
  writeOutputFile("--svg", file, svg);
  io.err(`wrote chart to ${file}\n`);
}

/** `convsim run`: simulate a network's layers and report them. */
export const runCommand: Command = {
  name: "run",
  summary: "Simulate a network's layers (bit-exact, verified) and report traffic, bounds, energy",
  usage: USAGE,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parseOptions(argv, {
      net: { type: "string" },
      dataflow: { type: "string" },
      batch: { type: "string" },
      layers: { type: "string" },
      ...INPUT_SHAPE_OPTION,
      ...WEIGHTS_OPTION,
      ...REPORT_OPTIONS,
      timing: { type: "boolean" },
    });
    // Every option is validated before any simulation starts.
    const setup = reportSetup(values);
    const { format, arch, energyTable } = setup;
    const [dataflow] = dataflowsOption(values.dataflow ?? defaultDataflow(arch), "--dataflow");
    if (values.dataflow !== undefined && values.dataflow.includes(",")) throw new ConfigError("--dataflow", values.dataflow, "name one dataflow (convsim compare takes several)");
    const { net, batch, layers } = networkLayersOption(values);
    const operands = layerOperandsOption(net, values);
    checkJobsBudget(layers.map((layer) => ({ layer, arch })), setup, "--net");
    // The workers build the mappings (seconds on a large network), then simulate; a layer the
    // dataflow cannot map stops the run before any simulation.
    const outcomes = await withWorkerPool(Math.min(setup.jobs, layers.length), async (pool) => {
      const checks = await checkMappings(layers.map((layer) => ({ layer, arch, dataflow: dataflow!, types: setup.types })), pool);
      const simJobs: SimJob[] = layers.map((layer, i) => {
        const c = checks[i]!;
        if (!c.ok) throw new ConfigError("--dataflow", dataflow, `map every selected layer on ${arch.name}`, `layer ${layer.name}: ${c.reason}`);
        return { layer, arch, dataflow: dataflow!, mapping: c.mapping, checked: setup.checked, energyTable, types: setup.types, limits: setup.limits, limitNames: { ...CLI_LIMIT_FLAGS, layer: "--net" }, ...operands(layer) };
      });
      return runJobsWithProgress(io, "run", simJobs, setup, "layers", pool);
    });
    const rows: LayerMetrics[] = [];
    for (const o of outcomes) {
      if (!o.ok) throw o.error;
      rows.push(o.metrics);
    }
    const total = totalMetrics(rows);
    const header = `convsim run: ${net.name} (batch ${batch}), arch ${archLabel(arch)}, dataflow ${dataflow}, ${rows.length} layer${rows.length === 1 ? "" : "s"}${values.weights === "model" ? ", the model's weights" : ""}, energy table ${energyTable.name}${energyTable === EYERISS_ENERGY_TABLE ? " (MAC-eq: energy of one 16-bit MAC)" : " (pJ)"}`;
    const text =
      format === "json"
        ? reportJson({ network: net.name, batch, arch, dataflow, energyTable, layers: rows, total }, values.timing ?? false)
        : renderMetrics(rows, total, format, header, values.timing ?? false);
    emit(io, text, values.out);
    if (values.svg !== undefined) writeSvg(io, values.svg, networkRunChartSvg({ network: net.name, batch, arch, dataflow: dataflow!, layers: rows }));
    return total.verified ? 0 : 1;
  },
};
