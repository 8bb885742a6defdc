/**
 * The network-level runner, what `convsim run` does: every selected layer of a network simulated
 * bit-exactly on one architecture with one dataflow (each output verified against the reference
 * convolution), in parallel on worker threads ({@link runJobs}), summarized per layer and in total
 * ({@link LayerMetrics}: MACs, cycles, utilization, traffic per level, bounds, energy, verdict),
 * and rendered as the CLI renders it: tables (text, Markdown, CSV), JSON, and an SVG chart of
 * DRAM traffic per layer against the bounds. Columns and the energy model: docs/reports.md.
 */
import { availableParallelism } from "node:os";
import { ConfigError } from "../core/errors.js";
import { resolveArch, type ArchOverrides, type ArchSpecInput } from "../arch/presets.js";
import type { ArchSpec } from "../arch/spec.js";
import { DATAFLOW_NAMES } from "../dataflow/dataflows/index.js";
import { EYERISS_ENERGY_TABLE, type EnergyTable } from "../report/energy.js";
import { formatJson, renderTables, requireOutputFormat, type OutputFormat } from "../report/format.js";
import { metricsFlatTable, metricsTables, totalMetrics, type LayerMetrics } from "../report/metrics.js";
import { groupedBarChartSvg } from "../report/svg.js";
import { DEFAULT_NETWORK, network as zooNetwork, selectLayers, totalMacs, type Network } from "../workload/networks.js";
import { checkMappings, runJobsOn, withWorkerPool, type RequestPool, type SimJob } from "./jobs.js";
import type { ConvLayer } from "../workload/layer.js";

/** How a report names an architecture: its name, and its memory models when they are not the defaults. */
export function archLabel(arch: ArchSpec): string {
  const models = [arch.dram.model !== undefined && arch.dram.model !== "channel" ? `${arch.dram.model} DRAM` : "", arch.gbuf.model !== undefined && arch.gbuf.model !== "banked" ? `${arch.gbuf.model} GBuf` : ""].filter(Boolean);
  return models.length ? `${arch.name} (${models.join(", ")})` : arch.name;
}

/**
 * The dataflows `compare` and `sweep` run when none are named: all of them, except on an array
 * that forwards operands (`arch.noc.forwarding`, the systolic preset), where the systolic ones,
 * ws, os and is (chen2020 and rs keep their tiles in registers a systolic PE does not have, and
 * simulate slowly there).
 */
export function defaultDataflows(arch: ArchSpec): string[] {
  return arch.noc.forwarding ? ["ws", "os", "is"] : [...DATAFLOW_NAMES];
}

/** The dataflow {@link runNetwork} (and `convsim run`) uses when none is named: chen2020, or os on an array that forwards operands. */
export function defaultDataflow(arch: ArchSpec): string {
  return arch.noc.forwarding ? "os" : "chen2020";
}

/** Progress of a {@link runNetwork} run. */
export interface NetworkProgress {
  /** MACs simulated so far, over all layers. */
  readonly macs: number;
  /** MACs of all selected layers. */
  readonly totalMacs: number;
  /** Layers finished. */
  readonly layersDone: number;
  /** Layers selected. */
  readonly layers: number;
}

/** Options of {@link runNetwork}. */
export interface RunNetworkOptions {
  /** A network of the zoo by name (`NETWORK_NAMES`), or a network (`network(...)`, `loadNetwork(...)`). Default `alexnet`. */
  readonly network?: string | Network;
  /** Batch size of a zoo network named by `network` (default 1); a Network object keeps its own. */
  readonly batch?: number;
  /** Layers by name or 1-based range (`conv1,conv3`, `1-5`), as `selectLayers` takes. Default all. */
  readonly layers?: string;
  /** A preset name or a spec. Default `chen2020`. */
  readonly arch?: string | ArchSpec | ArchSpecInput;
  /** Field overrides merged over the arch (`{ dram: { model: "ideal" }, gbuf: { model: "ideal" } }` is `--memory ideal`). */
  readonly archOverrides?: ArchOverrides;
  /** A named dataflow. Default {@link defaultDataflow} of the arch. */
  readonly dataflow?: string;
  /** Checked mode (tags on every storage word; slower). Default false. */
  readonly checked?: boolean;
  /** The energy table of the report. Default the Eyeriss 65 nm normalized table. */
  readonly energyTable?: EnergyTable;
  /** Worker threads (1 runs in this thread). Default the machine's available parallelism. */
  readonly jobs?: number;
  /** Called as the layers progress (from this thread). */
  readonly onProgress?: (p: NetworkProgress) => void;
}

/** What {@link runNetwork} returns: one summary row per selected layer, in the network's order, and their total. */
export interface NetworkRun {
  /** The network's name. */
  readonly network: string;
  /** The batch size of its layers. */
  readonly batch: number;
  /** The architecture, resolved (overrides merged). */
  readonly arch: ArchSpec;
  /** The dataflow every layer ran with. */
  readonly dataflow: string;
  /** The energy table of the rows' energy figures. */
  readonly energyTable: EnergyTable;
  /** One row per selected layer, in the network's order. */
  readonly layers: readonly LayerMetrics[];
  /** The rows' total (`totalMetrics`). */
  readonly total: LayerMetrics;
  /** Whether every layer's output matched the reference convolution. */
  readonly verified: boolean;
}

/** How the options' fields are named in errors; the CLI passes its flags (`--dataflow`). */
export interface RunNetworkFieldNames {
  /** The name of the dataflow option (`dataflow`; the CLI: `--dataflow`). */
  readonly dataflow: string;
  /** The name of the jobs option (`jobs`; the CLI: `--jobs`). */
  readonly jobs: string;
}

const API_FIELDS: RunNetworkFieldNames = { dataflow: "dataflow", jobs: "jobs" };

/** The layers of a run and its settings; validates every option (the mappings: {@link buildJobs}). */
function planRun(options: RunNetworkOptions, fields: RunNetworkFieldNames): { net: Network; batch: number; arch: ArchSpec; dataflow: string; layers: readonly ConvLayer[]; energyTable: EnergyTable; threads: number } {
  const given = options.network ?? DEFAULT_NETWORK;
  const net = typeof given === "string" ? zooNetwork(given, options.batch ?? 1) : given;
  const arch = resolveArch(options.arch ?? "chen2020", options.archOverrides);
  const dataflow = options.dataflow ?? defaultDataflow(arch);
  if (!(DATAFLOW_NAMES as readonly string[]).includes(dataflow)) throw new ConfigError(fields.dataflow, dataflow, `be one of ${DATAFLOW_NAMES.join(", ")}`);
  const threads = options.jobs ?? availableParallelism();
  if (!Number.isSafeInteger(threads) || threads < 1) throw new ConfigError(fields.jobs, options.jobs, "be a positive integer (1 runs in this thread)");
  const layers = selectLayers(net, options.layers);
  if (layers.length === 0) throw new ConfigError("layers", options.layers, "select at least one layer");
  const energyTable = options.energyTable ?? EYERISS_ENERGY_TABLE;
  const batch = typeof given === "string" ? (options.batch ?? 1) : (layers[0]?.batch ?? 1);
  return { net, batch, arch, dataflow, layers, energyTable, threads };
}

/** Each layer's job, its mapping built and checked (on `pool`'s workers when given); throws for a layer the dataflow cannot map. */
async function buildJobs(plan: ReturnType<typeof planRun>, options: RunNetworkOptions, fields: RunNetworkFieldNames, pool: RequestPool | undefined): Promise<SimJob[]> {
  const { arch, dataflow, energyTable } = plan;
  const checks = await checkMappings(plan.layers.map((layer) => ({ layer, arch, dataflow })), pool);
  return plan.layers.map((layer, i): SimJob => {
    const c = checks[i]!;
    if (!c.ok) throw new ConfigError(fields.dataflow, dataflow, `map every selected layer on ${arch.name}`, `layer ${layer.name}: ${c.reason}`);
    return { layer, arch, dataflow, mapping: c.mapping, checked: options.checked ?? false, energyTable };
  });
}

/**
 * Simulates every selected layer of a network on one architecture with one dataflow, in parallel
 * on worker threads, each output verified bit for bit against the reference convolution; what
 * `convsim run` does. The rows do not depend on `jobs`.
 * @param fields how errors name the options (the CLI passes its flags); default the option names.
 * @returns the rows per layer and their total; `verified` is false if any layer's output differs.
 * @throws ConfigError for an unknown network, arch, dataflow or layer, a bad batch or jobs, or a
 *   dataflow that cannot map a selected layer, before any simulation; a layer's own error (e.g.
 *   a StallError) after the run.
 */
export async function runNetwork(options: RunNetworkOptions = {}, fields: RunNetworkFieldNames = API_FIELDS): Promise<NetworkRun> {
  const plan = planRun(options, fields);
  const totalMacsAll = totalMacs(plan.layers);
  const onProgress = options.onProgress;
  const outcomes = await withWorkerPool(Math.min(plan.threads, plan.layers.length), async (pool) =>
    runJobsOn(
      await buildJobs(plan, options, fields, pool),
      { jobs: plan.threads, ...(onProgress ? { onProgress: (macs: number, done: number) => onProgress({ macs, totalMacs: totalMacsAll, layersDone: done, layers: plan.layers.length }) } : {}) },
      pool,
    ),
  );
  const rows: LayerMetrics[] = [];
  for (const o of outcomes) {
    if (!o.ok) throw o.error;
    rows.push(o.metrics);
  }
  const total = totalMetrics(rows);
  return Object.freeze({ network: plan.net.name, batch: plan.batch, arch: plan.arch, dataflow: plan.dataflow, energyTable: plan.energyTable, layers: Object.freeze(rows), total, verified: total.verified });
}

/** Renders rows with a total: a header line and the two tables (text, Markdown), or one flat CSV table (no header line). */
export function renderMetrics(rows: readonly LayerMetrics[], total: LayerMetrics, format: Exclude<OutputFormat, "json">, header: string, timing = false): string {
  if (format === "csv") return renderTables([metricsFlatTable(rows, { total, timing })], "csv");
  return `${header}\n\n${renderTables(metricsTables(rows, { total, timing }), format)}`;
}

/**
 * The report of a {@link runNetwork} run, as `convsim run --format F` prints it: a header line and
 * two tables (performance and traffic against the bounds; energy by level) as aligned text or
 * Markdown, one flat CSV table, or JSON (the run's fields). `options.timing`: the tables and the CSV
 * table get a column of each layer's simulation wall time (`convsim run --timing`).
 * @throws ConfigError on an unknown format, or options that are not an object or a timing that is not a boolean.
 */
export function formatNetworkRun(run: NetworkRun, format: OutputFormat = "table", options: { readonly timing?: boolean } = {}): string {
  requireOutputFormat("format", format);
  if (typeof options !== "object" || options === null) throw new ConfigError("options", options, "be an object ({ timing?: boolean })");
  if (options.timing !== undefined && typeof options.timing !== "boolean") throw new ConfigError("options.timing", options.timing, "be a boolean");
  const { network, batch, arch, dataflow, energyTable, layers, total } = run;
  if (format === "json") return formatJson({ network, batch, arch, dataflow, energyTable, layers, total });
  const unit = energyTable === EYERISS_ENERGY_TABLE ? " (MAC-eq: energy of one 16-bit MAC)" : " (pJ)";
  const header = `convsim run: ${network} (batch ${batch}), arch ${archLabel(arch)}, dataflow ${dataflow}, ${layers.length} layer${layers.length === 1 ? "" : "s"}, energy table ${energyTable.name}${unit}`;
  return renderMetrics(layers, total, format, header, options.timing ?? false);
}

/** The chart of a {@link runNetwork} run (`convsim run --svg`): DRAM traffic per layer as bars, the lower bound and the paper's bound as lines. */
export function networkRunChartSvg(run: Pick<NetworkRun, "network" | "batch" | "arch" | "dataflow" | "layers">): string {
  const rows = run.layers;
  return groupedBarChartSvg({
    title: `DRAM traffic per layer: ${run.network}, dataflow ${run.dataflow} on ${run.arch.name}`,
    subtitle: `batch ${run.batch}; bound = max(compulsory, provable) at the on-chip capacity; paper = Chen, Han & Wang (HPCA 2020)`,
    groups: rows.map((r) => r.name),
    series: [{ name: run.dataflow, values: rows.map((r) => r.traffic.dram) }],
    references: [
      { name: "lower bound", values: rows.map((r) => r.boundaries.dram.minimum), style: "solid" },
      { name: "paper bound", values: rows.map((r) => r.boundaries.dram.paper), style: "dashed" },
    ],
    yLabel: "DRAM traffic",
    yUnit: "words",
    xLabel: "layer",
  });
}
