/**
 * `convsim map`: the mapper (src/mapper, docs/mapper.md) on one layer or a network's layers. For
 * each layer: the search's best mappings with their closed-form estimates beside the simulated
 * figures (DRAM words must agree exactly; cycles and energy are estimates), the bound, and the
 * named dataflows' estimates on the same objective (the report: map-report.ts). A layer is a
 * work item: the layers run on worker threads (`--jobs`), layers that differ only in their name
 * run once (src/runner/map-jobs.ts), and `--shard i/n|auto` runs a share of them for `convsim
 * merge` (docs/scale-out.md). `--out` writes the best mapping as JSON that `convsim simulate
 * --dataflow FILE` runs.
 */
import { writeFileSync } from "node:fs";
import { ConfigError } from "../core/errors.js";
import type { ArchSpec } from "../arch/spec.js";
import { PRESET_NAMES, type ArchOverrides } from "../arch/presets.js";
import { mappingToJson } from "../dataflow/mapping.js";
import { formatCount, OUTPUT_FORMATS } from "../report/format.js";
import { requireOperandType, type OperandType } from "../workload/dtype.js";
import type { ConvLayer } from "../workload/layer.js";
import { NETWORK_NAMES } from "../workload/networks.js";
import { OBJECTIVES, type Objective } from "../mapper/cost.js";
import { parseBudget, type Budget } from "../mapper/budget.js";
import { runMapJobs, type MapJob, type MapJobProgress, type MapJobResult } from "../runner/map-jobs.js";
import { intOption, loadLayer, parseOptions, readJsonOption, type Command, type Io } from "./args.js";
import { archOption, energyOption, networkLayersOption } from "./jobs.js";
import { mapReport, type MapSpec } from "./map-report.js";
import { formatOption, withInterrupt } from "./outputs.js";
import { runShardable, SHARD_OPTIONS, shardUsage, type ShardableCommand } from "./shard.js";

/** The default `--top` with `--net` (docs/mapper.md, "Time"): the best mapping of each layer, simulated. */
const NET_TOP = 1;

const USAGE = `Usage: convsim map (--layer L | --net N [--layers LIST]) [options]

Searches the mappings of each layer on an architecture for the lowest objective (docs/mapper.md),
then simulates the best ones bit-exactly and prints the model's estimate beside the simulated
figures (DRAM words agree exactly; cycles and energy are estimates), the bound, and the named
dataflows' estimates on the same objective. With --objective energy, cycles or edp the named
dataflows whose estimates come within 2x of the winners' are simulated too, and all the simulated
mappings are ordered by their simulated value (the first is what --out writes). Layers run in
parallel (--jobs); layers of the same shape run once and are reported under each name.

  --layer L            one layer: a JSON file, inline JSON, or a short form (c=3,hw=224,k=64,r=3,pad=1)
  --net N              a network of the zoo (${NETWORK_NAMES.join(", ")}) or a network JSON file
  --layers LIST        with --net: layers by name or 1-based range (default all)
  --batch N            with --net: batch size (default 1)
  --arch A             ${PRESET_NAMES.join(" | ")} (default chen2020), or an ArchSpec (JSON file or inline)
  --arch-override J    JSON merged over the arch, e.g. '{"gbuf":{"capacityBytes":"64KiB"}}'
  --objective O        ${OBJECTIVES.join(" | ")} (default dram): DRAM words, estimated energy,
                       estimated cycles, or energy x cycles
  --budget B           evaluations (20000, the default; deterministic) or a time (10s, 1.5m; the
                       result then depends on the machine's speed; refused with --shard)
  --seed S             seed of the search (default 1)
  --top N              mappings to keep and simulate (default 5 for --layer, ${NET_TOP} for --net)
  --simulate N         simulate only the best N of them (default: all; 0: none)
  --x-type T, --w-type T   operand types the mappings fit and are simulated with (default int8)
  --energy FILE        an energy table (JSON, pJ per action); default Eyeriss 65 nm, normalized
  --format F           ${OUTPUT_FORMATS.join(", ")} (default table)
  --json               print the result as JSON (--format json)
  --mapping            print each layer's best mapping as a tree (table and md)
  --jobs N             worker threads, one layer each (default: the available cores; 1 runs in this thread)
  --out FILE           write the best mapping (JSON, for simulate --dataflow FILE); one layer only;
                       refused with --shard, whose JSON Lines go to stdout (> part-i.jsonl)
${shardUsage(23)}
`;

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

/** The progress of the layer running in this thread, on stderr (a TTY only). */
function progressLine(io: Io, budget: Budget): ((job: MapJob, p: MapJobProgress) => void) | undefined {
  if (!io.isTTY) return undefined;
  return (job, p) => {
    const label = job.layer.name ?? "layer";
    if (p.phase === "simulate") io.err(`\r${label}: simulating ${p.count} mapping${p.count === 1 ? "" : "s"}...${" ".repeat(30)}`);
    else io.err(`\r${label}: ${formatCount(p.evaluations)}${"evaluations" in budget ? ` / ${formatCount(budget.evaluations)}` : ""} evaluations, best ${p.best === undefined ? "-" : formatCount(p.best)}   `);
  };
}

/** `map` as a command whose items (one layer each) can run in shards and merge. */
export const mapShardable: ShardableCommand<MapSpec, MapJob, MapJobResult> = {
  name: "map",
  items: (spec) => spec.layers.map((layer) => ({ layer, arch: spec.arch, objective: spec.objective, budget: spec.budget, seed: spec.seed, top: spec.top, simulate: spec.simulate, types: spec.types, energyTable: spec.energyTable })),
  identity: (job) => ({ ...job, arch: job.arch.name, energyTable: job.energyTable.name }),
  async run(spec, items, { jobs, io }) {
    const onJobProgress = progressLine(io, spec.budget);
    const onFinished = io.isTTY && Math.min(jobs, items.length) > 1 ? (done: number, total: number) => io.err(`\r${done}/${total} layers mapped and simulated   `) : undefined;
    const results = await withInterrupt("map", io.handleSignals ?? false, () => runMapJobs(items, { jobs, ...(onJobProgress ? { onJobProgress } : {}), ...(onFinished ? { onFinished } : {}) }));
    if (io.isTTY) io.err(`\r${" ".repeat(79)}\r`);
    return results;
  },
  report: mapReport,
  ok: (results) => results.every((r) => r.top.every((c) => c.simulated?.verified ?? true)),
};

/** The report spec from the options; every check before any work. */
function mapSpec(values: Record<string, string | boolean | undefined>, sharded: boolean): MapSpec {
  const str = (k: string) => values[k] as string | undefined;
  const layers = selectedLayers({ layer: str("layer"), net: str("net"), layers: str("layers"), batch: str("batch") });
  const overrides = str("arch-override") !== undefined ? (readJsonOption("--arch-override", str("arch-override")!) as ArchOverrides) : undefined;
  const arch: ArchSpec = archOption(str("arch"), overrides);
  const objective = str("objective") ?? "dram";
  if (!(OBJECTIVES as readonly string[]).includes(objective)) throw new ConfigError("--objective", objective, `be one of ${OBJECTIVES.join(", ")}`);
  const budget = parseBudget(str("budget") ?? "20000", "--budget");
  if (sharded && !("evaluations" in budget)) throw new ConfigError("--budget", str("budget"), "be a number of evaluations with --shard (e.g. 20000): merged shards must print the single run's report byte for byte, and a time budget's result depends on the machine's speed and load");
  const top = countOption("--top", str("top"), str("net") !== undefined ? NET_TOP : 5, 1);
  return {
    layers,
    arch,
    objective: objective as Objective,
    budget,
    seed: str("seed") ?? "1",
    top,
    simulate: Math.min(top, countOption("--simulate", str("simulate"), top, 0)),
    types: { input: requireOperandType("--x-type", str("x-type") ?? "int8") as OperandType, weight: requireOperandType("--w-type", str("w-type") ?? "int8") as OperandType },
    energyTable: energyOption(str("energy")),
    mapping: values.mapping === true,
    timing: values.timing === true,
  };
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
      format: { type: "string" },
      json: { type: "boolean" },
      mapping: { type: "boolean" },
      jobs: { type: "string" },
      out: { type: "string" },
      ...SHARD_OPTIONS,
    });
    const sharded = values.shard !== undefined;
    const rule = "be left out with --shard: a shard writes its JSON Lines to stdout (convsim map --shard i/n > part-i.jsonl); give them to convsim merge";
    if (sharded && values.out !== undefined) throw new ConfigError("--out", values.out, rule);
    if (sharded && values.json) throw new ConfigError("--json", true, rule);
    const spec = mapSpec(values, sharded);
    if (values.out !== undefined && spec.layers.length !== 1) throw new ConfigError("--out", values.out, "be used with a single layer (--layer, or --net with one layer in --layers)");
    const format = sharded ? values.format : formatOption(values.format, values.json);
    let results: readonly MapJobResult[] = [];
    const code = await runShardable({ ...mapShardable, run: async (s, items, o) => (results = await mapShardable.run(s, items, o)) }, spec, { ...values, format, out: undefined }, io);
    if (values.out !== undefined) writeBest(io, values.out, results[0]!);
    return code;
  },
};

function writeBest(io: Io, file: string, r: MapJobResult): void {
  try {
    writeFileSync(file, mappingToJson(r.top[0]!.mapping) + "\n");
  } catch (e) {
    throw new ConfigError("--out", file, "name a writable file", (e as Error).message);
  }
  io.err(`wrote the best mapping to ${file}\n`);
}
