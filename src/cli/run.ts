/**
 * `convsim run`: the main job. Simulates every selected layer of a network bit-exactly on one
 * architecture with one dataflow (each layer's output verified against the reference
 * convolution), in parallel on worker threads, and reports per layer and in total: MACs,
 * cycles, PE utilization, DRAM / GBuf / RF accesses in words, the bound at each boundary and
 * measured / bound, energy by level, the verdict. Exit 1 if any layer fails to verify.
 * A thin caller: it parses the options and hands them to the library's runNetwork,
 * formatNetworkRun and networkRunChartSvg (src/runner/network.ts). Columns and the energy
 * model: docs/reports.md.
 */
import { writeFileSync } from "node:fs";
import { ConfigError } from "../core/errors.js";
import { DATAFLOW_NAMES } from "../dataflow/dataflows/index.js";
import { DEFAULT_NETWORK, NETWORK_NAMES, totalMacs } from "../workload/networks.js";
import { requireOutputFormat } from "../report/format.js";
import { formatNetworkRun, networkRunChartSvg, runNetwork } from "../runner/network.js";
import { parseOptions, type Command, type Io } from "./args.js";
import { archOption, dataflowsOption, defaultDataflow, energyOption, jobsOption, networkLayersOption, ProgressBar, REPORT_OPTIONS } from "./jobs.js";

const USAGE = `Usage: convsim run [options]

Simulates every selected layer of a network, bit-exactly (each output verified against the
reference convolution), in parallel on worker threads, and prints per layer and in total: MACs,
cycles, PE utilization, DRAM/GBuf/RF traffic in words, the lower bound at each boundary and the
ratio measured/bound, energy by level, and the verdict. Exit 1 if any layer fails to verify.

  --net NAME        a network of the zoo (${NETWORK_NAMES.join(", ")}) or a network JSON file
                    (default ${DEFAULT_NETWORK})
  --arch A          an architecture preset (eyeriss, chen2020, systolic) or an ArchSpec JSON file
                    (default chen2020; os on an array that forwards operands)
  --memory M        ideal: DRAM and GBuf with unlimited bandwidth and no latency (dram.model and
                    gbuf.model = ideal: the same words and counts, fewer cycles); arch (default):
                    the architecture's own models
  --dataflow D      ${DATAFLOW_NAMES.join(", ")} (default chen2020; os on an array that forwards operands)
  --batch N         batch size (default 1)
  --layers LIST     layers by name or 1-based range (conv1,conv3 or 1-5; default all)
  --format F        table (default), json, csv or md
  --out FILE        write the report to FILE instead of stdout
  --svg FILE        write a chart of DRAM traffic per layer against the lower bounds
  --jobs N          worker threads (default: the available cores; 1 runs in this thread)
  --energy FILE     an energy table (JSON, pJ per action) instead of the Eyeriss 65 nm
                    normalized table; see docs/reports.md
  --checked         checked mode: every stored word carries a tag, every read checks it (slower)

Traffic is in words (elements); "bound" is max(compulsory, provable) at that boundary,
"paper" the bound of Chen, Han & Wang (HPCA 2020). Default energy unit: MAC-eq, the energy of
one 16-bit MAC (Chen, Emer, Sze, ISCA 2016).
`;

/** Writes a report to `--out` or stdout. */
export function emit(io: Io, text: string, out: string | undefined, what = "report"): void {
  if (out === undefined) {
    io.out(text);
    return;
  }
  try {
    writeFileSync(out, text);
  } catch (e) {
    throw new ConfigError("--out", out, "name a writable file", (e as Error).message);
  }
  io.err(`wrote ${what} to ${out}\n`);
}

/** Writes an SVG chart to `--svg`. */
export function writeSvg(io: Io, file: string, svg: string): void {
  try {
    writeFileSync(file, svg);
  } catch (e) {
    throw new ConfigError("--svg", file, "name a writable file", (e as Error).message);
  }
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
      ...REPORT_OPTIONS,
    });
    // Every option is validated before any simulation starts.
    const format = requireOutputFormat("--format", values.format ?? "table");
    const jobs = jobsOption(values.jobs);
    const arch = archOption(values.arch, undefined, values.memory);
    const [dataflow] = dataflowsOption(values.dataflow ?? defaultDataflow(arch), "--dataflow");
    if (values.dataflow !== undefined && values.dataflow.includes(",")) throw new ConfigError("--dataflow", values.dataflow, "name one dataflow (convsim compare takes several)");
    const energyTable = energyOption(values.energy);
    const { net, batch, layers } = networkLayersOption(values);
    const bar = new ProgressBar(io, layers.length, totalMacs(layers));
    let run;
    try {
      run = await runNetwork(
        { network: net, batch, layers: values.layers, arch, dataflow, checked: values.checked ?? false, energyTable, jobs, onProgress: (p) => bar.update(p.macs, p.layersDone) },
        { dataflow: "--dataflow", jobs: "--jobs" },
      );
    } finally {
      bar.finish();
    }
    emit(io, formatNetworkRun(run, format), values.out);
    if (values.svg !== undefined) writeSvg(io, values.svg, networkRunChartSvg(run));
    return run.verified ? 0 : 1;
  },
};
