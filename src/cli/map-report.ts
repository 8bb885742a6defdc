/**
 * The report of `convsim map` (map.ts), in every output format, from the run's spec and each
 * layer's {@link MapJobResult} as the records carry them (plain JSON): the same bytes whether
 * the layers ran in one process or in shards merged by `convsim merge`. Wall-clock times appear
 * only with `--timing`.
 *
 * - `table`: a header line, then per layer its search, bound, ranking (when the simulated
 *   winners were reordered by their simulated objective), best mapping and a table of the
 *   winners (estimated beside simulated), the named dataflows' estimates as notes.
 * - `md`: the same, each layer's lines as a list and its table in Markdown.
 * - `csv`: one table, a row per winner and per named dataflow of every layer.
 * - `json`: `{ arch, budget, layers: [{ layer, objective, seed, types, bound, dramBound, search,
 *   rankedBySimulation?, top, named }] }`.
 */
import { formatMapping } from "../dataflow/print.js";
import { formatBudget } from "../mapper/budget.js";
import type { Objective } from "../mapper/cost.js";
import { formatCount, formatCsv, formatMarkdown, formatTable, type Column, type OutputFormat, type Table } from "../report/format.js";
import { RIVAL_SPAN, type MapJob, type MapJobResult } from "../runner/map-jobs.js";
import { formatLayerShortForm, type ConvLayer } from "../workload/layer.js";
import { archLabel } from "./jobs.js";
import { reportJson, type ReportSpecBase } from "./shard.js";

/** Everything `convsim map`'s report depends on (plain JSON: shard files carry it): a map job's options and the layers. */
export interface MapSpec extends ReportSpecBase, Omit<MapJob, "layer"> {
  readonly layers: readonly ConvLayer[];
  /** Print each layer's best mapping as a tree (`--mapping`). */
  readonly mapping: boolean;
}


function columns(o: Objective): Column[] {
  return [
    { key: "score", header: `${o} (est)`, kind: o === "dram" || o === "cycles" ? "count" : "energy" },
    { key: "dram", header: "DRAM est", unit: "words", kind: "count" },
    { key: "simDram", header: "DRAM sim", unit: "words", kind: "count" },
    { key: "overBound", header: "DRAM/bound", kind: "ratio" },
    { key: "cycles", header: "cycles est", kind: "count" },
    { key: "simCycles", header: "cycles sim", kind: "count" },
    { key: "cycleRatio", header: "sim/est", kind: "ratio" },
    { key: "energy", header: "energy est", kind: "energy" },
    { key: "simEnergy", header: "energy sim", kind: "energy" },
    { key: "verdict", header: "verdict" },
  ];
}

/** The winners' rows of one layer, estimated and simulated. */
function winnerRows(r: MapJobResult): Record<string, string | number | undefined>[] {
  return r.top.map((c, i) => ({
    rank: i + 1,
    score: c.estimate.score,
    dram: c.estimate.dram.total,
    simDram: c.simulated?.dramWords,
    overBound: c.estimate.dram.total / r.dramBound,
    cycles: c.estimate.cycles,
    simCycles: c.simulated?.cycles,
    cycleRatio: c.cycleRatio,
    energy: c.estimate.energy,
    simEnergy: c.simulated?.energy,
    verdict: c.simulated ? (c.simulated.verified ? "PASS" : "FAIL") : "-",
  }));
}

/** The named dataflows' estimates as note lines (and which winners' rows are theirs). */
function namedNotes(o: Objective, r: MapJobResult): string[] {
  const rivals = r.top.flatMap((c, i) => (c.named ? [`#${i + 1} is the ${c.named} dataflow's mapping, simulated beside the search's winners (its estimate came within ${RIVAL_SPAN}x of theirs)`] : []));
  return rivals.concat(r.named.map((n) =>
    n.score === undefined ? `${n.dataflow.padEnd(8)} cannot map the layer: ${n.reason}` : `${n.dataflow.padEnd(8)} ${o} (est) ${formatCount(n.score)}, DRAM ${formatCount(n.dramWords!)} words (${(n.dramWords! / r.dramBound).toFixed(3)}x bound)`,
  ));
}

/** The head lines of one layer: shape, search, bound, best mapping (and times with `--timing`). */
function layerHead(spec: MapSpec, layer: ConvLayer, r: MapJobResult): string[] {
  const s = r.search;
  return [
    `layer      ${layer.name ? layer.name + "  " : ""}${formatLayerShortForm(layer)}`,
    `search     ${formatCount(s.evaluations)} evaluations (${formatCount(s.pruned)} pruned by the bound, ${formatCount(s.illegal)} illegal, ${formatCount(s.scored)} scored), stopped by ${s.stoppedBy}`,
    `bound      DRAM words >= ${formatCount(r.dramBound)} (max(compulsory, provable)); ${spec.objective} >= ${formatCount(r.bound)}`,
    ...(r.rankedBySimulation ? [`ranking    by simulated ${spec.objective}${r.top.length > r.rankedBySimulation ? ` (the ${r.rankedBySimulation} simulated; then the others by the estimate)` : ""}`] : []),
    `best       ${formatMapping(r.top[0]!.mapping, { style: "inline" })}`,
    ...(spec.timing && r.wallMs ? [`time       search ${(r.wallMs.search / 1000).toFixed(1)} s, simulation ${(r.wallMs.simulate / 1000).toFixed(1)} s`] : []),
  ];
}

/** One layer in text or Markdown. */
function formatLayer(spec: MapSpec, layer: ConvLayer, r: MapJobResult, format: "table" | "md"): string {
  const table: Table = { columns: [{ key: "rank", header: "#", kind: "count" }, ...columns(spec.objective)], rows: winnerRows(r), notes: namedNotes(spec.objective, r) };
  const tree = spec.mapping ? formatMapping(r.top[0]!.mapping, { style: "tree" }) : undefined;
  if (format === "md") {
    const head = layerHead(spec, layer, r).map((l) => `- ${l.replace(/^(\w+)\s+/, "$1: ")}`);
    return [...head, "", formatMarkdown(table), ...(tree ? ["```", tree, "```", ""] : [])].join("\n");
  }
  return layerHead(spec, layer, r).join("\n") + "\n\n" + formatTable(table) + (tree ? `\n${tree}\n` : "");
}

/** The report's first line. */
function headLine(spec: MapSpec): string {
  return `convsim map: arch ${archLabel(spec.arch)}, objective ${spec.objective}, budget ${formatBudget(spec.budget)}, seed ${spec.seed}, operands ${spec.types.input}/${spec.types.weight}, energy table ${spec.energyTable.name}`;
}

/** Every layer's winners and named dataflows as one CSV table. */
function csvReport(spec: MapSpec, results: readonly MapJobResult[]): string {
  const rows = spec.layers.flatMap((layer, li) => {
    const r = results[li]!;
    const base = { layer: layer.name ?? "", shape: formatLayerShortForm({ ...layer, name: undefined }), bound: r.dramBound };
    return [
      ...winnerRows(r).map((w) => ({ ...base, ...w, mapping: `best #${w.rank}` })),
      ...r.named.map((n) => ({ ...base, mapping: n.dataflow, score: n.score, dram: n.dramWords, overBound: n.dramWords === undefined ? undefined : n.dramWords / r.dramBound, verdict: n.reason === undefined ? "-" : `cannot map: ${n.reason}` })),
    ];
  });
  const head: Column[] = [{ key: "layer", header: "layer" }, { key: "shape", header: "shape" }, { key: "mapping", header: "mapping" }, { key: "bound", header: "DRAM bound", unit: "words", kind: "count" }];
  return formatCsv({ columns: [...head, ...columns(spec.objective)], rows });
}

/** `convsim map`'s report in a format (file header). */
export function mapReport(spec: MapSpec, results: readonly MapJobResult[], format: OutputFormat): string {
  if (format === "json") return reportJson(jsonReport(spec, results), spec.timing);
  if (format === "csv") return csvReport(spec, results);
  const layers = spec.layers.map((layer, i) => formatLayer(spec, layer, results[i]!, format));
  return [format === "md" ? `**${headLine(spec)}**` : headLine(spec), "", ...layers].join("\n");
}

function jsonReport(spec: MapSpec, results: readonly MapJobResult[]): unknown {
  return {
    arch: spec.arch,
    budget: spec.budget,
    layers: spec.layers.map((layer, i) => {
      const r = results[i]!;
      return { layer, objective: spec.objective, seed: spec.seed, types: spec.types, bound: r.bound, dramBound: r.dramBound, search: r.search, ...(r.rankedBySimulation ? { rankedBySimulation: r.rankedBySimulation } : {}), top: r.top, named: r.named, ...(spec.timing ? { wallMs: r.wallMs } : {}) };
    }),
  };
}
