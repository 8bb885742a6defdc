/**
 * `convsim map`: the mapper (src/mapper, docs/mapper.md) on one layer or a network's layers. For
 * each layer: the search's best mappings with their closed-form estimates beside the simulated
 * figures (DRAM words must agree exactly; cycles and energy are estimates), the bound, and the
 * named dataflows' estimates on the same objective. `--out` writes the best mapping as JSON
 * that `convsim simulate --dataflow FILE` runs.
 */
import { writeFileSync } from "node:fs";
import { ConfigError } from "../core/errors.js";
import type { ArchSpec } from "../arch/spec.js";
import { PRESET_NAMES, type ArchOverrides } from "../arch/presets.js";
import { buildMapping, DATAFLOW_NAMES } from "../dataflow/dataflows/index.js";
import { checkMapping } from "../dataflow/legality.js";
import { formatMapping } from "../dataflow/print.js";
import { mappingToJson } from "../dataflow/mapping.js";
import { formatJson, formatTable, type Table } from "../report/format.js";
import { requireOperandType, type OperandType } from "../workload/dtype.js";
import { formatLayerShortForm, type ConvLayer } from "../workload/layer.js";
import { NETWORK_NAMES } from "../workload/networks.js";
import { CostModel, OBJECTIVES, type Objective } from "../mapper/cost.js";
import { formatBudget, parseBudget, type Budget } from "../mapper/budget.js";
import { map, type MapResult } from "../mapper/search.js";
import { verifyMappings, type VerifiedCandidate } from "../mapper/verify.js";
import { intOption, loadLayer, parseOptions, type Command, type Io } from "./args.js";
import { archLabel, archOption, energyOption, networkLayersOption } from "./jobs.js";
import { readJsonOption } from "./args.js";

const USAGE = `Usage: convsim map (--layer L | --net N [--layers LIST]) [options]

Searches the mappings of each layer on an architecture for the lowest objective (docs/mapper.md),
then simulates the best ones bit-exactly and prints the model's estimate beside the simulated
figures (DRAM words agree exactly; cycles and energy are estimates), the bound, and the named
dataflows' estimates on the same objective.

  --layer L            one layer: a JSON file, inline JSON, or a short form (c=3,hw=224,k=64,r=3,pad=1)
  --net N              a network of the zoo (${NETWORK_NAMES.join(", ")}) or a network JSON file
  --layers LIST        with --net: layers by name or 1-based range (default all)
  --batch N            with --net: batch size (default 1)
  --arch A             ${PRESET_NAMES.join(" | ")} (default chen2020), or an ArchSpec (JSON file or inline)
  --arch-override J    JSON merged over the arch, e.g. '{"gbuf":{"capacityBytes":"64KiB"}}'
  --objective O        ${OBJECTIVES.join(" | ")} (default dram): DRAM words, estimated energy,
                       estimated cycles, or energy x cycles
  --budget B           evaluations (20000, the default; deterministic) or a time (10s, 1.5m; the
                       result then depends on the machine's speed)
  --seed S             seed of the search (default 1)
  --top N              mappings to keep and simulate (default 5)
  --simulate N         simulate only the best N of them (default: all; 0: none)
  --x-type T, --w-type T   operand types the mappings fit and are simulated with (default int8)
  --energy FILE        an energy table (JSON, pJ per action); default Eyeriss 65 nm, normalized
  --out FILE           write the best mapping (JSON, for simulate --dataflow FILE); one layer only
  --json               print the result as JSON
  --mapping            print each layer's best mapping as a tree
`;

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

/** One layer's search, its verified winners and the named dataflows' estimates. */
interface LayerReport {
  readonly result: MapResult;
  readonly verified: readonly VerifiedCandidate[];
  readonly named: readonly { readonly dataflow: string; readonly score?: number; readonly dramWords?: number; readonly reason?: string }[];
}

/** The named dataflows' estimates on the search's objective (those that fit). */
function namedEstimates(layer: ConvLayer, arch: ArchSpec, cost: CostModel): LayerReport["named"] {
  return DATAFLOW_NAMES.map((dataflow) => {
    try {
      const m = buildMapping(dataflow, layer, arch, { types: cost.types });
      const v = checkMapping(m, layer, arch, { types: cost.types });
      if (!v.ok) return { dataflow, reason: v.reason };
      const e = cost.estimate(m);
      return { dataflow, score: e.score, dramWords: e.dram.total };
    } catch (e) {
      if (e instanceof ConfigError) return { dataflow, reason: e.message };
      throw e;
    }
  });
}

/** The table of one layer: the winners, estimated and simulated. */
function layerTable(r: LayerReport): Table {
  const o = r.result.objective;
  const rows = r.result.top.map((c, i) => {
    const v = r.verified[i];
    return {
      rank: i + 1,
      score: c.estimate.score,
      dram: c.estimate.dram.total,
      simDram: v?.simulated.dramWords,
      overBound: c.estimate.dram.total / r.result.dramBound,
      cycles: c.estimate.cycles,
      simCycles: v?.simulated.cycles,
      cycleRatio: v?.cycleRatio,
      energy: c.estimate.energy,
      simEnergy: v?.simulated.energy,
      verdict: v ? (v.simulated.verified ? "PASS" : "FAIL") : "-",
    };
  });
  return {
    columns: [
      { key: "rank", header: "#", kind: "count" },
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
    ],
    rows,
    notes: r.named.map((n) =>
      n.score === undefined ? `${n.dataflow.padEnd(8)} cannot map the layer: ${n.reason}` : `${n.dataflow.padEnd(8)} ${o} (est) ${fmt(n.score)}, DRAM ${fmt(n.dramWords!)} words (${(n.dramWords! / r.result.dramBound).toFixed(3)}x bound)`,
    ),
  };
}

/** The text report of one layer. */
function formatLayer(r: LayerReport, showTree: boolean): string {
  const x = r.result;
  const head = [
    `layer      ${x.layer.name ? x.layer.name + "  " : ""}${formatLayerShortForm(x.layer)}`,
    `search     ${fmt(x.evaluations)} evaluations (${fmt(x.pruned)} pruned by the bound, ${fmt(x.illegal)} illegal, ${fmt(x.scored)} scored), stopped by ${x.stoppedBy}`,
    `bound      DRAM words >= ${fmt(x.dramBound)} (max(compulsory, provable)); ${x.objective} >= ${fmt(x.bound)}`,
    `best       ${formatMapping(x.best.mapping, { style: "inline" })}`,
    "",
  ];
  const tree = showTree ? `\n${formatMapping(x.best.mapping, { style: "tree" })}\n` : "";
  return head.join("\n") + "\n" + formatTable(layerTable(r)) + tree;
}

/** The layers `--layer` or `--net` select. */
function selectedLayers(values: { layer?: string; net?: string; layers?: string; batch?: string }): readonly ConvLayer[] {
  if ((values.layer === undefined) === (values.net === undefined)) throw new ConfigError("--layer", values.layer, "be given, or --net instead (one of the two)");
  if (values.layer !== undefined) {
    if (values.layers !== undefined || values.batch !== undefined) throw new ConfigError(values.layers !== undefined ? "--layers" : "--batch", values.layers ?? values.batch, "be used with --net only");
    return [loadLayer(values.layer)];
  }
  return networkLayersOption(values).layers;
}

/** A non-negative integer option with a default. */
function countOption(field: string, text: string | undefined, fallback: number, min: number): number {
  const n = intOption(field, text) ?? fallback;
  if (n < min) throw new ConfigError(field, text, `be an integer >= ${min}`);
  return n;
}

/** A progress line on stderr (a TTY only): the layer, evaluations and the best so far. */
function progressLine(io: Io, label: string, budget: Budget): (p: { evaluations: number; best: number | undefined }) => void {
  if (!io.isTTY) return () => {};
  return (p) => io.err(`\r${label}: ${fmt(p.evaluations)}${"evaluations" in budget ? ` / ${fmt(budget.evaluations)}` : ""} evaluations, best ${p.best === undefined ? "-" : fmt(p.best)}   `);
}

/** `convsim map`. */
export const mapCommand: Command = {
  name: "map",
  summary: "Search for the best mapping of a layer (or a network's layers); simulate the winners",
  usage: USAGE,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parseOptions(argv, {
      layer: { type: "string" },
      net: { type: "string" },
      layers: { type: "string" },
      batch: { type: "string" },
      arch: { type: "string" },
      "arch-override": { type: "string" },
      objective: { type: "string" },
      budget: { type: "string" },
      seed: { type: "string" },
      top: { type: "string" },
      simulate: { type: "string" },
      "x-type": { type: "string" },
      "w-type": { type: "string" },
      energy: { type: "string" },
      out: { type: "string" },
      json: { type: "boolean" },
      mapping: { type: "boolean" },
    });
    const layers = selectedLayers(values);
    const overrides = values["arch-override"] !== undefined ? (readJsonOption("--arch-override", values["arch-override"]) as ArchOverrides) : undefined;
    const arch = archOption(values.arch, overrides);
    const objective = values.objective ?? "dram";
    if (!(OBJECTIVES as readonly string[]).includes(objective)) throw new ConfigError("--objective", objective, `be one of ${OBJECTIVES.join(", ")}`);
    const budget = parseBudget(values.budget ?? "20000", "--budget");
    const top = countOption("--top", values.top, 5, 1);
    const simulateCount = Math.min(top, countOption("--simulate", values.simulate, top, 0));
    const types = { input: requireOperandType("--x-type", values["x-type"] ?? "int8") as OperandType, weight: requireOperandType("--w-type", values["w-type"] ?? "int8") as OperandType };
    const energyTable = energyOption(values.energy);
    if (values.out !== undefined && layers.length !== 1) throw new ConfigError("--out", values.out, "be used with a single layer (--layer, or --net with one layer in --layers)");
    const reports: LayerReport[] = [];
    for (const layer of layers) {
      const label = layer.name ?? "layer";
      const opts = { objective: objective as Objective, budget, top, types, energyTable, seed: values.seed ?? 1, onProgress: progressLine(io, label, budget) };
      const result = map(layer, arch, opts);
      if (io.isTTY) io.err(`\r${label}: simulating ${simulateCount} mapping${simulateCount === 1 ? "" : "s"}...${" ".repeat(30)}`);
      const verified = verifyMappings({ ...result, top: result.top.slice(0, simulateCount) });
      if (io.isTTY) io.err(`\r${" ".repeat(79)}\r`);
      reports.push({ result, verified, named: namedEstimates(layer, arch, new CostModel(layer, arch, { objective: objective as Objective, types, energyTable })) });
    }
    if (values.out !== undefined) writeBest(io, values.out, reports[0]!.result);
    io.out(values.json ? formatJson(jsonReport(arch, budget, reports)) : textReport(arch, budget, reports, values.mapping ?? false));
    return reports.every((r) => r.verified.every((v) => v.simulated.verified)) ? 0 : 1;
  },
};

function writeBest(io: Io, file: string, r: MapResult): void {
  try {
    writeFileSync(file, mappingToJson(r.best.mapping) + "\n");
  } catch (e) {
    throw new ConfigError("--out", file, "name a writable file", (e as Error).message);
  }
  io.err(`wrote the best mapping to ${file}\n`);
}

function textReport(arch: ArchSpec, budget: Budget, reports: readonly LayerReport[], showTree: boolean): string {
  const r0 = reports[0]!.result;
  const head = `convsim map: arch ${archLabel(arch)}, objective ${r0.objective}, budget ${formatBudget(budget)}, seed ${r0.seed}, operands ${r0.types.input}/${r0.types.weight}, energy table ${r0.energyTable.name}`;
  return [head, "", ...reports.map((r) => formatLayer(r, showTree))].join("\n");
}

function jsonReport(arch: ArchSpec, budget: Budget, reports: readonly LayerReport[]): unknown {
  return {
    arch,
    budget,
    layers: reports.map(({ result: x, verified, named }) => ({
      layer: x.layer,
      objective: x.objective,
      seed: x.seed,
      types: x.types,
      bound: x.bound,
      dramBound: x.dramBound,
      search: { evaluations: x.evaluations, pruned: x.pruned, illegal: x.illegal, scored: x.scored, stoppedBy: x.stoppedBy },
      top: x.top.map((c, i) => ({ mapping: c.mapping, estimate: c.estimate, ...(verified[i] ? { simulated: verified[i]!.simulated, cycleRatio: verified[i]!.cycleRatio } : {}) })),
      named,
    })),
  };
}
