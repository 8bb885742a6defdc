/**
 * `convsim sweep`: DRAM traffic of one layer as the global buffer grows. For each capacity (the
 * powers of two in a range, e.g. `16KiB..512KiB`, or a list) the architecture's
 * `gbuf.capacityBytes` is overridden, each dataflow is simulated (bit-exact, verified), and its
 * measured DRAM traffic is set against the bounds at that on-chip capacity (the GBuf in words
 * of the smallest element plus every register-file entry, as `simulate` uses): compulsory, the
 * paper's bound, the provable bound. A dataflow that cannot map the layer at a capacity is a
 * missing point, with the reason.
 */
import { ConfigError } from "../core/errors.js";
import { formatBytes, parseCapacity } from "../core/units.js";
import type { ArchSpec } from "../arch/spec.js";
import { resolveArch } from "../arch/presets.js";
import { boundaryCapacityWords, lowerBounds } from "../bounds/bounds.js";
import { DATAFLOW_CHOICES, MAPPER_DATAFLOW } from "../dataflow/dataflows/index.js";
import { assertLegal } from "../dataflow/legality.js";
import type { Mapping } from "../dataflow/mapping.js";
import { bestMapping } from "../mapper/best.js";
import { formatLayerShortForm, type ConvLayer } from "../workload/layer.js";
import { selectLayers } from "../workload/networks.js";
import { renderTables, type Column, type Table } from "../report/format.js";
import { simSeconds, TIMING_COLUMN, type LayerMetrics } from "../report/metrics.js";
import { lineChartSvg } from "../report/svg.js";
import { loadLayer, parseOptions, type Command, type Io } from "./args.js";
import { dataflowsOption, networkOption } from "./jobs.js";
import { checkJobsBudget, REPORT_OPTIONS, REPORT_USAGE, reportSetup } from "./report-options.js";
import { reportJson, runShardable, SHARD_OPTIONS, shardUsage, type ShardableCommand } from "./shard.js";
import type { ModelOperands } from "../formats/onnx/layers.js";
import { INPUT_SHAPE_OPTION, layerOperandsOption, onnxUsage, requireOnnxForOptions, WEIGHTS_OPTION, type OnnxOptionValues } from "./onnx.js";
import { allVerified, runSimItems, type MappingCheck, type SimItem, type SimItemResult, type SimReportSpec } from "./sim-items.js";

const USAGE = `Usage: convsim sweep --layer L [options]

DRAM traffic of one layer as the global buffer grows: for each capacity, each dataflow is
simulated (bit-exact, verified) with the architecture's gbuf.capacityBytes set to it, and its
measured DRAM traffic is printed against the bounds at that on-chip capacity (compulsory, the
paper's bound, the provable bound). A dataflow that cannot map the layer at a capacity is shown
as missing, with the reason. Exit 1 if any simulation fails to verify.

  --layer L          a layer: JSON file, inline JSON, or short form (c=3,hw=224,k=64,r=3,pad=1);
                     with --net, a layer name of that network (e.g. conv3)
  --net NAME         take --layer from this network (zoo name, network JSON file, or ONNX model)
${onnxUsage(21, true)}
  --batch N          batch size for --net (default 1; an ONNX model's own)
  --capacities C     global-buffer sizes: a range A..B (every power of two from A to B, e.g.
                     16KiB..512KiB, the default) or a list (16KiB,24KiB,64KiB); bytes
  --dataflows LIST   comma-separated, among ${DATAFLOW_CHOICES.join(", ")} (default all but best; ws, os, is on an
                     array that forwards operands; best: the mapper, docs/mapper.md)
  --arch A           an architecture preset or an ArchSpec JSON file (default chen2020; os on an array that forwards operands)
  --memory M         ideal: DRAM and GBuf with unlimited bandwidth and no latency (dram.model and
                     gbuf.model = ideal: the same traffic, fewer cycles); arch (default): the
                     architecture's own models
  --format F         table (default), json, csv or md
  --out FILE         write the report to FILE instead of stdout
  --svg FILE         write a line chart: DRAM traffic against buffer size, with the bounds
  --jobs N           worker threads (default: the available cores; 1 runs in this thread)
  --energy FILE      an energy table (JSON, pJ per action) for the energy figures of json/csv
  --checked          checked mode (slower)
${REPORT_USAGE}
${shardUsage(21)}
`;

const MAX_POINTS = 32;

/**
 * Parses `--capacities`: `A..B` gives every power of two in [A, B]; a comma list gives those
 * sizes, sorted. Sizes are in bytes (`16KiB`, `65536`).
 * @throws ConfigError for words, an empty range, or more than 32 points.
 */
export function parseCapacities(text: string, field = "--capacities"): number[] {
  const bytesOf = (t: string): number => {
    const c = parseCapacity(field, t.trim());
    if (c.unit !== "bytes") throw new ConfigError(field, t, "be in bytes (B, KiB, kB, ...), not words: it sizes the global buffer");
    if (c.value < 1) throw new ConfigError(field, t, "be a positive size");
    return c.value;
  };
  let out: number[];
  const range = /^(.+?)\.\.(.+)$/.exec(text.trim());
  if (range) {
    const a = bytesOf(range[1]!);
    const b = bytesOf(range[2]!);
    if (a > b) throw new ConfigError(field, text, "be a range A..B with A <= B");
    out = [];
    for (let p = 2 ** Math.ceil(Math.log2(a)); p <= b; p *= 2) out.push(p);
    if (out.length === 0) throw new ConfigError(field, text, "contain at least one power of two");
  } else {
    const parts = text.split(",");
    if (parts.some((s) => s.trim() === "")) throw new ConfigError(field, text, "list sizes without an empty entry, or be a range such as 16KiB..512KiB");
    out = parts.map(bytesOf).sort((x, y) => x - y);
    if (new Set(out).size !== out.length) throw new ConfigError(field, text, "list each size once");
  }
  if (out.length > MAX_POINTS) throw new ConfigError(field, text, `give at most ${MAX_POINTS} capacities`);
  return out;
}

/** One capacity of a sweep: the architecture, the bounds, and each dataflow's point. */
export interface SweepPoint {
  readonly capacityBytes: number;
  /** On-chip words S at the DRAM boundary (GBuf + register files). */
  readonly onChipWords: number;
  readonly bounds: { readonly compulsory: number; readonly paper: number; readonly provable: number; readonly minimum: number };
  /** Per dataflow: the summary row, or the reason it could not run. */
  readonly results: readonly { readonly dataflow: string; readonly metrics?: LayerMetrics; readonly reason?: string }[];
}

/** Everything a sweep's report depends on (plain JSON: shard files carry it). */
export interface SweepSpec extends SimReportSpec {
  readonly layer: ConvLayer;
  /** GBuf capacities, bytes, ascending. */
  readonly capacities: readonly number[];
}

/** A sweep's work item: a dataflow at a capacity. */
interface SweepItem extends SimItem {
  readonly capacityBytes: number;
}

function layerFromOptions(values: { layer?: string; net?: string; batch?: string } & OnnxOptionValues): { layer: ConvLayer; operands?: ModelOperands } {
  if (values.layer === undefined) throw new ConfigError("--layer", undefined, "be given: a layer (JSON or short form), or a layer name with --net");
  if (values.net !== undefined) {
    const net = networkOption(values.net, values.batch, values);
    const picked = selectLayers(net, values.layer, "--layer");
    if (picked.length !== 1) throw new ConfigError("--layer", values.layer, "name exactly one layer of the network");
    return { layer: picked[0]!, ...layerOperandsOption(net, values)(picked[0]!) };
  }
  if (values.batch !== undefined) throw new ConfigError("--batch", values.batch, "be used with --net (a layer given inline carries its own batch)");
  requireOnnxForOptions("--layer", values);
  return { layer: loadLayer(values.layer) };
}

const SWEEP_TYPES = { input: "int8", weight: "int8" } as const;

function archAt(spec: SweepSpec, capacityBytes: number): ArchSpec {
  return resolveArch(spec.arch, { gbuf: { capacityBytes } }, `arch(--capacities ${formatBytes(capacityBytes)})`);
}

/** The sweep's points: the bounds at each capacity and each dataflow's result there. */
export function sweepPoints(spec: SweepSpec, results: readonly SimItemResult[]): SweepPoint[] {
  const n = spec.dataflows.length;
  return spec.capacities.map((c, pi) => {
    const b = lowerBounds(spec.layer, { boundary: "dram", capacity: boundaryCapacityWords(archAt(spec, c), "dram", SWEEP_TYPES), types: SWEEP_TYPES });
    return {
      capacityBytes: c,
      onChipWords: b.capacityWords,
      bounds: { compulsory: b.compulsory.total, paper: b.paper.total, provable: b.provable.total, minimum: b.headline },
      results: spec.dataflows.map((df, di) => {
        const r = results[pi * n + di]!;
        return r.metrics ? { dataflow: df, metrics: r.metrics } : { dataflow: df, reason: r.reason ?? "not run" };
      }),
    };
  });
}

function sweepCsv(spec: SweepSpec, points: readonly SweepPoint[]): string {
  const long: Table = {
    columns: [
      { key: "capacity", header: "GBuf", unit: "bytes", kind: "count" },
      { key: "S", header: "on-chip S", unit: "words", kind: "count" },
      { key: "dataflow", header: "dataflow" },
      { key: "dram", header: "DRAM", unit: "words", kind: "count" },
      { key: "compulsory", header: "compulsory", unit: "words", kind: "count" },
      { key: "paper", header: "paper bound", unit: "words", kind: "count" },
      { key: "provable", header: "provable bound", unit: "words", kind: "count" },
      { key: "ratio", header: "DRAM/bound", unit: "x", kind: "ratio" },
      { key: "cycles", header: "cycles", kind: "count" },
      { key: "energy", header: "energy", unit: spec.energyTable.unit, kind: "real" },
      ...(spec.timing ? [TIMING_COLUMN] : []),
      { key: "verdict", header: "verdict" },
    ],
    rows: points.flatMap((p) =>
      p.results.map((r) => ({
        capacity: p.capacityBytes,
        S: p.onChipWords,
        dataflow: r.dataflow,
        dram: r.metrics?.traffic.dram,
        compulsory: p.bounds.compulsory,
        paper: p.bounds.paper,
        provable: p.bounds.provable,
        ratio: r.metrics?.boundaries.dram.ratio,
        cycles: r.metrics?.cycles,
        energy: r.metrics?.energy.total,
        simSeconds: simSeconds(r.metrics),
        verdict: r.metrics ? (r.metrics.verified ? "PASS" : `FAIL (${r.metrics.mismatches} mismatches)`) : `not run: ${r.reason}`,
      })),
    ),
  };
  return renderTables([long], "csv");
}

function layerTitle(layer: ConvLayer): { name: string; shape: string } {
  const shape = formatLayerShortForm({ ...layer, name: undefined });
  return { name: layer.name ?? shape, shape };
}

function sweepTable(spec: SweepSpec, points: readonly SweepPoint[], format: "table" | "md"): string {
  const columns: Column[] = [
    { key: "capacity", header: "GBuf", align: "right" },
    { key: "S", header: "on-chip S", unit: "words", kind: "count" },
    { key: "compulsory", header: "compulsory", unit: "words", kind: "count" },
    { key: "paper", header: "paper bound", unit: "words", kind: "count" },
    { key: "provable", header: "provable bound", unit: "words", kind: "count" },
    ...spec.dataflows.map((df): Column => ({ key: `df_${df}`, header: df, unit: "words", kind: "count" })),
    { key: "best", header: "best/bound", unit: "x", kind: "ratio" },
    // (`--timing`: per point in the CSV, per capacity, its dataflows' sum, here)
    ...(spec.timing ? [{ ...TIMING_COLUMN, header: "sim time, all" }] : []),
  ];
  const notes: string[] = [];
  const failed: string[] = [];
  const rows = points.map((p) => {
    const r: Record<string, string | number | undefined> = {
      capacity: formatBytes(p.capacityBytes),
      S: p.onChipWords,
      compulsory: p.bounds.compulsory,
      paper: p.bounds.paper,
      provable: p.bounds.provable,
    };
    let best = Number.POSITIVE_INFINITY;
    for (const x of p.results) {
      if (x.metrics) {
        r[`df_${x.dataflow}`] = x.metrics.traffic.dram;
        best = Math.min(best, x.metrics.traffic.dram);
        if (!x.metrics.verified) failed.push(`${x.dataflow} at ${formatBytes(p.capacityBytes)}`);
      } else {
        r[`df_${x.dataflow}`] = "missing";
        notes.push(`${x.dataflow} at ${formatBytes(p.capacityBytes)}: ${x.reason}`);
      }
    }
    r.best = Number.isFinite(best) ? best / p.bounds.minimum : undefined;
    if (spec.timing) r.simSeconds = p.results.reduce((t, x) => t + (simSeconds(x.metrics) ?? 0), 0);
    return r;
  });
  if (failed.length > 0) notes.unshift(`FAILED verification: ${failed.join(", ")}`);
  else notes.unshift("Every simulated point verified bit-exact against the reference (PASS).");
  const { name, shape } = layerTitle(spec.layer);
  const table: Table = {
    title: `DRAM traffic (words) of ${name === shape ? name : `${name} (${shape})`} on ${spec.arch.name} as the global buffer grows; bound = max(compulsory, provable)`,
    columns,
    rows,
    notes: notes.map((n, i) => (i === 0 ? n : `  missing: ${n}`)),
  };
  return renderTables([table], format);
}

function sweepSvg(spec: SweepSpec, results: readonly SimItemResult[]): string {
  const points = sweepPoints(spec, results);
  const { name, shape } = layerTitle(spec.layer);
  const missingNotes = points.flatMap((p) => p.results.filter((r) => !r.metrics).map((r) => `${r.dataflow} at ${formatBytes(p.capacityBytes)}`));
  return lineChartSvg({
    title: `DRAM traffic vs global buffer size: ${name}`,
    subtitle: `${name === shape ? "" : `${shape} `}on ${spec.arch.name}; bounds at the on-chip capacity (GBuf + register files)`,
    x: [...spec.capacities],
    xLabel: "global buffer capacity",
    xTickLabel: (v) => formatBytes(v),
    xScale: "log2",
    series: [
      ...spec.dataflows.map((df, di) => ({ name: df, values: points.map((p) => p.results[di]!.metrics?.traffic.dram ?? null) })),
      { name: "paper bound", values: points.map((p) => p.bounds.paper), style: "dashed" as const },
      { name: "provable bound", values: points.map((p) => p.bounds.provable), style: "dotted" as const, color: "#000" },
      { name: "compulsory", values: points.map((p) => p.bounds.compulsory), style: "dotted" as const, color: "#888" },
    ],
    yLabel: "DRAM traffic",
    yUnit: "words",
    notes: missingNotes.length > 0 ? [`Missing (the dataflow cannot map the layer there): ${missingNotes.join("; ")}`] : [],
  });
}

/** `sweep` as a command whose items (capacity x dataflow) can run in shards and merge. */
/**
 * The mapper's (`best`) mapping at each capacity up to `upTo`, searched from the smallest capacity
 * up, each search starting also from the best at the next smaller one: more capacity never moves
 * more DRAM words (docs/mapper.md). Deterministic, so every shard that runs a `best` item computes
 * the same chain (up to its largest capacity) and a sharded sweep equals the whole one.
 */
function mapperAcrossCapacities(spec: SweepSpec, upTo: number): Map<number, MappingCheck> {
  const out = new Map<number, MappingCheck>();
  const types = spec.types ?? ({ input: "int8", weight: "int8" } as const);
  let previous: Mapping | undefined;
  for (const c of [...spec.capacities].sort((a, b) => a - b).filter((c) => c <= upTo)) {
    const arch = archAt(spec, c);
    try {
      const mapping = assertLegal(bestMapping(spec.layer, arch, { types }, previous ? [previous] : []), spec.layer, arch, { types });
      out.set(c, { ok: true, mapping });
      previous = mapping;
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      out.set(c, { ok: false, reason: e.message });
    }
  }
  return out;
}

/** Runs a shard's sweep items, the mapper's (`best`) ones with their capacity chain ({@link mapperAcrossCapacities}). */
function runSweepItems(spec: SweepSpec, items: readonly SweepItem[], options: Parameters<typeof runSimItems>[2]): ReturnType<typeof runSimItems> {
  const best = items.filter((i) => i.dataflow === MAPPER_DATAFLOW);
  if (best.length === 0) return runSimItems(spec, items, options);
  const chain = mapperAcrossCapacities(spec, Math.max(...best.map((i) => i.capacityBytes)));
  return runSimItems(spec, items.map((i) => (i.dataflow === MAPPER_DATAFLOW ? { ...i, premapped: chain.get(i.capacityBytes)! } : i)), options);
}

export const sweepShardable: ShardableCommand<SweepSpec, SweepItem, SimItemResult> = {
  name: "sweep",
  items: (spec) => spec.capacities.flatMap((capacityBytes) => spec.dataflows.map((dataflow) => ({ layer: spec.layer, arch: archAt(spec, capacityBytes), dataflow, capacityBytes }))),
  identity: (item) => ({ layer: item.layer, arch: item.arch.name, capacityBytes: item.capacityBytes, dataflow: item.dataflow }),
  run: runSweepItems,
  report(spec, results, format) {
    const points = sweepPoints(spec, results);
    if (format === "json") return reportJson({ layer: spec.layer, arch: spec.arch.name, dataflows: spec.dataflows, energyTable: spec.energyTable, points }, spec.timing);
    return format === "csv" ? sweepCsv(spec, points) : sweepTable(spec, points, format);
  },
  svg: sweepSvg,
  ok: allVerified,
};

/** `convsim sweep`: traffic against buffer size for one layer. */
export const sweepCommand: Command = {
  name: "sweep",
  summary: "DRAM traffic of one layer as the global buffer grows, against the bounds (table and chart)",
  usage: USAGE,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parseOptions(argv, {
      layer: { type: "string" },
      net: { type: "string" },
      batch: { type: "string" },
      capacities: { type: "string" },
      dataflows: { type: "string" },
      ...INPUT_SHAPE_OPTION,
      ...WEIGHTS_OPTION,
      ...REPORT_OPTIONS,
      ...SHARD_OPTIONS,
    });
    const setup = reportSetup(values);
    const { arch } = setup;
    const { layer, operands } = layerFromOptions(values);
    const spec: SweepSpec = {
      layer,
      arch,
      dataflows: dataflowsOption(values.dataflows, "--dataflows", arch),
      capacities: parseCapacities(values.capacities ?? "16KiB..512KiB"),
      energyTable: setup.energyTable,
      checked: setup.checked,
      timing: values.timing ?? false,
      types: setup.types,
      ...(operands ? { modelWeights: true } : {}),
    };
    checkJobsBudget(sweepShardable.items(spec), setup, "--layer");
    const withOperands = operands ? () => ({ operands }) : undefined;
    return runShardable({ ...sweepShardable, run: (s, items, o) => runSweepItems(s, items, { ...o, limits: setup.limits, command: "sweep", ...(withOperands ? { operands: withOperands } : {}) }) }, spec, values, io);
  },
};
