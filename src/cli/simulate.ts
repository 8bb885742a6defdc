/**
 * `convsim simulate`: one layer through the modeled accelerator, bit-exactly, with its counters,
 * cycles against the cycle lower bound, stalls and the traffic at each memory boundary against the
 * lower bounds.
 */
import { readFileSync, existsSync } from "node:fs";
import { ConfigError } from "../core/errors.js";
import { CYCLE_RESOURCES } from "../bounds/cycles.js";
import { PRESET_NAMES, type ArchOverrides } from "../arch/presets.js";
import { DATAFLOW_NAMES } from "../dataflow/dataflows/index.js";
import { formatMapping } from "../dataflow/print.js";
import { simulate, type SimulationResult } from "../dataflow/simulate.js";
import { dtypeOfArray, type OperandType } from "../workload/dtype.js";
import { convShape, formatLayerShortForm } from "../workload/layer.js";
import { expectTensor, readNpy, writeNpy } from "../workload/npy.js";
import type { OperandArray } from "../workload/reference.js";
import { intOption, loadLayer, parseOptions, type Command, type Io } from "./args.js";
import { countsOption, formatTimeloopCounts } from "./counts.js";
import { archLabel, archOption } from "./jobs.js";

function readJsonOption(field: string, text: string, names?: readonly string[]): unknown {
  if (names && !existsSync(text) && !text.trim().startsWith("{")) {
    throw new ConfigError(field, text, `be one of ${names.join(", ")}, a JSON file or inline JSON`);
  }
  const src = existsSync(text) ? readFileSync(text, "utf8") : text;
  try {
    return JSON.parse(src);
  } catch (e) {
    throw new ConfigError(field, text, "be a JSON file or inline JSON", (e as Error).message);
  }
}

const fmt = (n: number) => n.toLocaleString("en-US");

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
  --dataflow D         ${DATAFLOW_NAMES.join(" | ")} (default chen2020), or a Mapping JSON file
  --x FILE, --w FILE   operands (.npy, int8|uint8|int16); default: seeded
  --seed S             seed for generated operands (default 1)
  --x-type T, --w-type T   types of generated operands (default int8)
  --x-zero-point A     input zero point (default 0)
  --w-zero-point B     weight zero point (default 0)
  --checked            checked mode: every storage word carries a tag; stale reads fail loudly
  --reference-mode     tick every component every cycle (slow; the fast mode gives the same results)
  --out FILE           write the simulated output (.npy, int32)
  --mapping            print the loop nest as a tree
  --counts timeloop    also the counts in Timeloop's conventions: per level, Weights/Inputs/Outputs,
                       reads/fills/updates (in --json: the timeloop object; docs/counting.md)
  --json               print the result as JSON (without the output tensor)
`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parseOptions(argv, {
      layer: { type: "string" },
      arch: { type: "string" },
      "arch-override": { type: "string" },
      memory: { type: "string" },
      dataflow: { type: "string" },
      x: { type: "string" },
      w: { type: "string" },
      seed: { type: "string" },
      "x-type": { type: "string" },
      "w-type": { type: "string" },
      "x-zero-point": { type: "string" },
      "w-zero-point": { type: "string" },
      checked: { type: "boolean" },
      "reference-mode": { type: "boolean" },
      out: { type: "string" },
      mapping: { type: "boolean" },
      counts: { type: "string" },
      json: { type: "boolean" },
    });
    const layer = loadLayer(values.layer);
    const s = convShape(layer);
    let x: OperandArray | undefined;
    let w: OperandArray | undefined;
    if ((values.x === undefined) !== (values.w === undefined)) throw new ConfigError(values.x === undefined ? "--x" : "--w", undefined, "be given together with the other operand");
    if (values.x !== undefined && values.w !== undefined) {
      const xt = readNpy(values.x);
      expectTensor(xt, "--x", [layer.batch, layer.inChannels, layer.inHeight, layer.inWidth], ["int8", "uint8", "int16"]);
      const wt = readNpy(values.w);
      expectTensor(wt, "--w", [layer.outChannels, s.inChannelsPerGroup, layer.kernelHeight, layer.kernelWidth], ["int8", "uint8", "int16"]);
      x = xt.data as OperandArray;
      w = wt.data as OperandArray;
    }
    const overrides = values["arch-override"] !== undefined ? (readJsonOption("--arch-override", values["arch-override"]) as ArchOverrides) : undefined;
    const arch = archOption(values.arch, overrides, values.memory);
    const dataflow = values.dataflow === undefined ? "chen2020" : (DATAFLOW_NAMES as readonly string[]).includes(values.dataflow) ? values.dataflow : (readJsonOption("--dataflow", values.dataflow, DATAFLOW_NAMES) as Record<string, unknown>);
    const counts = countsOption(values.counts);
    const zx = intOption("--x-zero-point", values["x-zero-point"]);
    const zw = intOption("--w-zero-point", values["w-zero-point"]);
    const result = simulate({
      layer,
      arch,
      dataflow,
      ...(x && w ? { x, w } : {}),
      ...(values.seed !== undefined ? { seed: values.seed } : {}),
      types: { input: (values["x-type"] ?? "int8") as OperandType, weight: (values["w-type"] ?? "int8") as OperandType },
      zeroPoints: { ...(zx !== undefined ? { input: zx } : {}), ...(zw !== undefined ? { weight: zw } : {}) },
      checked: values.checked ?? false,
      mode: values["reference-mode"] ? "reference" : "fast",
    });
    if (values.out !== undefined) {
      writeNpy(values.out, { dtype: "int32", shape: [layer.batch, layer.outChannels, s.outHeight, s.outWidth], data: result.output });
    }
    const timeloop = counts?.(result);
    if (values.json) {
      const { output, ...rest } = result;
      void output;
      io.out(JSON.stringify({ ...rest, operandTypes: x ? { input: dtypeOfArray(x), weight: dtypeOfArray(w) } : undefined, ...(timeloop ? { timeloop } : {}) }, null, 2) + "\n");
    } else {
      io.out(formatSimulation(result));
      if (timeloop) io.out("\n" + formatTimeloopCounts(timeloop));
      if (values.mapping) io.out("\n" + formatMapping(result.mapping, { style: "tree" }) + "\n");
    }
    return result.verification.ok ? 0 : 1;
  },
};
