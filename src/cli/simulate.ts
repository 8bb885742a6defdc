/**
 * `convsim simulate`: one layer through the modeled accelerator, bit-exactly, with its counters,
 * cycles against the cycle lower bound, stalls and the traffic at each memory boundary against the
 * lower bounds.
 */
import { ConfigError } from "../core/errors.js";
import { CYCLE_RESOURCES } from "../bounds/cycles.js";
import { PRESET_NAMES, type ArchOverrides } from "../arch/presets.js";
import { DATAFLOW_CHOICES } from "../dataflow/dataflows/index.js";
import type { TimeloopCounts } from "../formats/timeloop/counts.js";
import { formatMapping } from "../dataflow/print.js";
import { simulate, type SimulationResult } from "../dataflow/simulate.js";
import { dtypeOfArray, type OperandType } from "../workload/dtype.js";
import { convShape, formatLayerShortForm } from "../workload/layer.js";
import { encodeNpy } from "../workload/npy.js";
import { checkSimulationBudget } from "../dataflow/budget.js";
import { renderTables, type Column, type OutputFormat, type Table } from "../report/format.js";
import { loadLayer, parseOptions, readJsonOption, type Command, type Io } from "./args.js";
import { archLabel, archOption, simulateInWorker } from "./jobs.js";
import { ProgressBar } from "./progress.js";
import { countsOption, formatTimeloopCounts } from "./counts.js";
import { CLI_LIMIT_NAMES, LIMIT_OPTIONS, LIMIT_USAGE, limitsOption, parseSeedFlag } from "./numbers.js";
import { inputPaths, loadOperandFiles, OPERAND_TYPE_OPTIONS, operandTypesOption, ZERO_POINT_OPTIONS, zeroPointsOption } from "./operands.js";
import { checkNpySize, checkOutputPaths, formatOption, withInterrupt, writeOutputFile } from "./outputs.js";
import { groupDigits } from "../core/units.js";

const fmt = (n: number) => groupDigits(n);

/**
 * The cycle lower bound's lines: the run's cycles against it with the binding resource, then every
 * term's cycles (and the PEs the compute term counts).
 */
function cycleBoundLines(r: SimulationResult, pes: number): string[] {
  const b = r.cycleBound;
  const terms = CYCLE_RESOURCES.map((k) => `${k} ${fmt(b.terms[k].cycles)}`).join(", ");
  return [
    `bound      cycles ${fmt(r.cycles)} = ${b.ratio.toFixed(2)}x the cycle lower bound ${fmt(b.cycles)} (binding: ${b.binding})`,
    `           ${terms}   (cycles; compute on ${b.pesUsed} of ${pes} PEs)`,
  ];
}

/** Renders the human-readable report of one simulated layer. */
export function formatSimulation(r: SimulationResult): string {
  const lines: string[] = [];
  const s = convShape(r.layer);
  lines.push(`layer      ${r.layer.name ? r.layer.name + "  " : ""}${formatLayerShortForm(r.layer)}   (${fmt(s.macs)} MACs)`);
  const rf = r.arch.rf;
  const rfText = rf.sharedEntries !== undefined ? `RF ${rf.sharedEntries} entries (shared)` : `RF ${rf.inputEntries}/${rf.weightEntries}/${rf.psumEntries} entries (input/weight/psum)`;
  const psums = r.arch.gbuf.psumBytes !== undefined && r.arch.gbuf.psumBytes !== 4 ? ` (${r.arch.gbuf.psumBytes}-byte psums)` : "";
  lines.push(`arch       ${archLabel(r.arch)}: ${r.arch.array.rows}x${r.arch.array.cols} PEs, GBuf ${fmt(r.arch.gbuf.capacityBytes)} B${psums}, ${rfText}`);
  lines.push(`mapping    ${formatMapping(r.mapping, { style: "inline" })}`);
  lines.push("");
  const head = ["level", "read in", "read w", "read out/psum", "write out/psum", "write in", "write w", "total (words)"];
  const rows: string[][] = [];
  for (const lv of ["dram", "gbuf", "rf"] as const) {
    const t = r.traffic[lv];
    rows.push([lv, fmt(t.read.input), fmt(t.read.weight), fmt(t.read.output), fmt(t.write.output), fmt(t.write.input), fmt(t.write.weight), fmt(t.total)]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  lines.push(head.map((h, i) => (i === 0 ? h.padEnd(widths[i]!) : h.padStart(widths[i]!))).join("  "));
  for (const row of rows) lines.push(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "));
  lines.push("");
  lines.push("boundary      measured    compulsory         paper      provable    attainable   measured/min   measured/paper");
  for (const b of ["dram", "gbuf"] as const) {
    const x = r.boundaries[b];
    lines.push(
      `${(b === "dram" ? "DRAM<->chip" : "GBuf<->RF").padEnd(11)} ${fmt(x.measured).padStart(11)} ${fmt(x.bounds.compulsory.total).padStart(13)} ${fmt(Math.round(x.bounds.paper.total)).padStart(13)} ${fmt(Math.ceil(x.bounds.provable.total)).padStart(13)} ${(x.bounds.attainable ? fmt(x.bounds.attainable.traffic.total) : "-").padStart(13)} ${x.ratio.toFixed(3).padStart(14)} ${x.ratioToPaper.toFixed(3).padStart(16)}`,
    );
  }
  lines.push("");
  const pes = r.arch.array.rows * r.arch.array.cols;
  lines.push(`cycles     ${fmt(r.cycles)}   PE utilization ${(100 * r.utilization).toFixed(2)}%   (${fmt(r.macs)} MACs on ${pes} PEs)`);
  lines.push(...cycleBoundLines(r, pes));
  const total = Object.values(r.stalls).reduce((a, b) => a + b, 0);
  const stalls = Object.entries(r.stalls)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${((100 * v) / total).toFixed(1)}%`)
    .join(", ");
  lines.push(`PE-cycles  ${stalls}`);
  const v = r.verification;
  lines.push(`verdict    ${v.ok ? "PASS" : "FAIL"}: ${v.mismatches} of ${v.compared} outputs differ from the reference${v.ok ? " (bit-exact)" : ""}`);
  for (const m of v.first) lines.push(`  [${m.n}, ${m.k}, ${m.oh}, ${m.ow}]  expected ${m.expected}, got ${m.actual}`);
  return lines.join("\n") + "\n";
}

/** The report as tables (csv, md): traffic per level, the boundaries against the bounds, the summary. */
function simulationTables(r: SimulationResult): Table[] {
  const count = (key: string, header: string): Column => ({ key, header, unit: "words", kind: "count" });
  const levels: Table = {
    title: "traffic per level",
    columns: [{ key: "level", header: "level" }, count("readIn", "read in"), count("readW", "read w"), count("readOut", "read out/psum"), count("writeOut", "write out/psum"), count("writeIn", "write in"), count("writeW", "write w"), count("total", "total")],
    rows: (["dram", "gbuf", "rf"] as const).map((lv) => {
      const t = r.traffic[lv];
      return { level: lv, readIn: t.read.input, readW: t.read.weight, readOut: t.read.output, writeOut: t.write.output, writeIn: t.write.input, writeW: t.write.weight, total: t.total };
    }),
  };
  const boundaries: Table = {
    title: "traffic at each boundary against the lower bounds",
    columns: [{ key: "boundary", header: "boundary" }, count("measured", "measured"), count("compulsory", "compulsory"), count("paper", "paper"), count("provable", "provable"), { key: "ratio", header: "measured/min", unit: "x", kind: "ratio" }, { key: "ratioToPaper", header: "measured/paper", unit: "x", kind: "ratio" }],
    rows: (["dram", "gbuf"] as const).map((b) => {
      const x = r.boundaries[b];
      return { boundary: b, measured: x.measured, compulsory: x.bounds.compulsory.total, paper: x.bounds.paper.total, provable: x.bounds.provable.total, ratio: x.ratio, ratioToPaper: x.ratioToPaper };
    }),
  };
  const v = r.verification;
  const summary: Table = {
    title: "summary",
    columns: [{ key: "layer", header: "layer" }, { key: "macs", header: "MACs", kind: "count" }, { key: "cycles", header: "cycles", kind: "count" }, { key: "bound", header: "cycle bound", kind: "count" }, { key: "util", header: "utilization", unit: "%", kind: "percent" }, { key: "verdict", header: "verdict" }],
    rows: [{ layer: formatLayerShortForm(r.layer), macs: r.macs, cycles: r.cycles, bound: r.cycleBound.cycles, util: 100 * r.utilization, verdict: v.ok ? "PASS" : `FAIL (${v.mismatches} of ${v.compared})` }],
  };
  return [summary, levels, boundaries];
}

/** The simulate report in a format: the text report (with the loop nest when asked), JSON, or tables. */
function renderSimulation(r: SimulationResult, format: OutputFormat, fileTypes: { input: unknown; weight: unknown } | undefined, mapping: boolean, timeloop: TimeloopCounts | undefined): string {
  if (format === "json") {
    const { output, ...rest } = r;
    void output;
    return JSON.stringify({ ...rest, operandTypes: fileTypes, ...(timeloop ? { timeloop } : {}) }, null, 2) + "\n";
  }
  const counts = timeloop ? "\n" + formatTimeloopCounts(timeloop) : "";
  if (format === "table") return formatSimulation(r) + counts + (mapping ? "\n" + formatMapping(r.mapping, { style: "tree" }) + "\n" : "");
  return renderTables(simulationTables(r), format) + counts;
}

/** The options of `convsim simulate`. */
const SIMULATE_OPTIONS = {
  layer: { type: "string" },
  arch: { type: "string" },
  "arch-override": { type: "string" },
  memory: { type: "string" },
  dataflow: { type: "string" },
  x: { type: "string" },
  w: { type: "string" },
  seed: { type: "string" },
  ...OPERAND_TYPE_OPTIONS,
  ...ZERO_POINT_OPTIONS,
  checked: { type: "boolean" },
  "reference-mode": { type: "boolean" },
  out: { type: "string" },
  mapping: { type: "boolean" },
  format: { type: "string" },
  counts: { type: "string" },
  json: { type: "boolean" },
  ...LIMIT_OPTIONS,
} as const;

/** `convsim simulate`. */
export const simulateCommand: Command = {
  name: "simulate",
  summary: "Simulate one layer bit-exactly: counters, cycles, stalls, bounds, verdict",
  usage: `Usage: convsim simulate --layer L [--arch A] [--dataflow D] [options]

Runs the layer through the modeled accelerator (DRAM, global buffer, network, register files,
MACs), reads the output back from the DRAM model and compares it with the reference convolution.
Exits 0 when the output is bit-exact, 1 when it is not.

  --layer L            the layer: a JSON file, inline JSON, or a short form (c=3,hw=224,k=64,r=3,pad=1)
  --arch A             ${PRESET_NAMES.join(" | ")} (default chen2020), or an ArchSpec (JSON file or inline)
  --arch-override J    JSON merged over the arch, e.g. '{"gbuf":{"capacityBytes":"64KiB"}}'
  --memory M           ideal: DRAM and GBuf with unlimited bandwidth and no latency (dram.model and
                       gbuf.model = ideal: the same words and counts, fewer cycles); arch (default):
                       the architecture's own models
  --dataflow D         ${DATAFLOW_CHOICES.join(" | ")} (default chen2020; best: the mapper), or a Mapping
                       JSON file
  --x FILE, --w FILE   operands (.npy, int8|uint8|int16); default: seeded
  --seed S             seed for generated operands, a decimal integer (default 1)
  --x-type T, --w-type T   types of generated operands (default int8)
  --x-zero-point A     input zero point (default 0)
  --w-zero-point B     weight zero point (default 0)
  --checked            checked mode: every storage word carries a tag; stale reads fail loudly
  --reference-mode     tick every component every cycle (slow; the fast mode gives the same results)
  --out FILE           write the simulated output (.npy, int32)
  --mapping            print the loop nest as a tree (with --format table)
  --format F           table (default), json (the result without the output tensor), csv or md
  --json               the same as --format json
  --counts timeloop    also the counts in Timeloop's conventions: per level, Weights/Inputs/Outputs,
                       reads/fills/updates (in JSON: the timeloop object; docs/counting.md)
${LIMIT_USAGE}

Progress is shown on stderr when it is a terminal. Inputs, limits and output files: docs/inputs.md.
`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parseOptions(argv, SIMULATE_OPTIONS);
    const format = formatOption(values.format, values.json);
    const layer = loadLayer(values.layer);
    if ((values.x === undefined) !== (values.w === undefined)) throw new ConfigError(values.x === undefined ? "--x" : "--w", undefined, "be given together with the other operand");
    if (values.x !== undefined && values.seed !== undefined) throw new ConfigError("--seed", values.seed, "not be combined with --x and --w (it seeds generated operands)");
    checkOutputPaths([{ flag: "--out", path: values.out }], inputPaths(values));
    checkNpySize("--out", values.out, convShape(layer).outputElements, 4, "output");
    const overrides = values["arch-override"] !== undefined ? (readJsonOption("--arch-override", values["arch-override"]) as ArchOverrides) : undefined;
    const arch = archOption(values.arch, overrides, values.memory);
    const types = operandTypesOption(values);
    const limits = limitsOption(values);
    const checked = values.checked ?? false;
    checkSimulationBudget(layer, arch, { types, checked }, limits, CLI_LIMIT_NAMES);
    const operands = values.x !== undefined && values.w !== undefined ? loadOperandFiles(layer, values.x, values.w) : undefined;
    const dataflow = values.dataflow === undefined ? "chen2020" : DATAFLOW_CHOICES.includes(values.dataflow) ? values.dataflow : (readJsonOption("--dataflow", values.dataflow, DATAFLOW_CHOICES) as Record<string, unknown>);
    const counts = countsOption(values.counts);
    const fileTypes = operands ? { input: dtypeOfArray(operands.x) as OperandType, weight: dtypeOfArray(operands.w) as OperandType } : undefined;
    const zeroPoints = zeroPointsOption(values, fileTypes ?? types);
    const options = {
      layer,
      arch,
      dataflow,
      ...(operands ?? {}),
      seed: parseSeedFlag(values.seed) ?? 1,
      types,
      zeroPoints,
      checked,
      mode: values["reference-mode"] ? ("reference" as const) : ("fast" as const),
      limits,
      limitNames: CLI_LIMIT_NAMES,
    };
    const bar = new ProgressBar(io, 1, convShape(layer).macs, "layer");
    let result: SimulationResult;
    try {
      // On a terminal the run goes to a worker thread, so Ctrl-C is handled (exit 130, one line).
      result =
        io.isTTY && io.handleSignals
          ? await withInterrupt("simulate", true, () => simulateInWorker(options, (m) => bar.update(m, 0)))
          : // (progress is drawn on a terminal only: elsewhere the Sequencer is given no callback)
            simulate(io.isTTY ? { ...options, onProgress: (p) => bar.update(p.macs, 0) } : options);
    } finally {
      bar.finish();
    }
    if (values.out !== undefined) {
      const s = convShape(layer);
      writeOutputFile("--out", values.out, encodeNpy({ dtype: "int32", shape: [layer.batch, layer.outChannels, s.outHeight, s.outWidth], data: result.output }));
    }
    io.out(renderSimulation(result, format, fileTypes, values.mapping ?? false, counts?.(result)));
    return result.verification.ok ? 0 : 1;
  },
};
