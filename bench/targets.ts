/**
 * `npm run bench:targets`: issue 15's speed targets, each measured as a user meets it: one whole
 * `convsim` process (bin/convsim.js, start-up and operand generation included, its worker threads
 * where the command starts them), through bench/measure-cli.ts, which reports the process's CPU
 * seconds (every thread) and peak resident memory; wall seconds are timed here, from the start of
 * the process to its exit. Beside each figure, the baseline timed in the same run: the naive
 * seven-loop JavaScript convolution (bench/naive-conv.ts) of the same layers on the same seeded
 * operands, in this process (CPU seconds). The machine's floor is printed first: `convsim
 * --version`, the cost of starting Node and loading the bundle, which every command pays.
 *
 * The SCALE-Sim rows set convsim's CPU seconds against the CPU seconds issue 15 gives for SCALE-Sim
 * v2 on the same layer, array and dataflow (measured by the issue's author: SCALE-Sim does not run
 * here); their goals are those times divided by the factor the issue asks for. Beside each, the
 * same command warm (bench/measure-warm.ts: its fourth run in one process, V8's compiling done),
 * for information: the goals are the cold process's.
 *
 * Every command must exit 0 (every layer verified bit-exact against the reference); a failure is
 * reported and the exit code is 1. Printed as a Markdown table on stdout (progress on stderr) and
 * written as JSON to bench/results/targets.json (git-ignored).
 *
 * Run: npm run bench:targets -- [--only run-alexnet,scalesim-conv1-ws-32] [--quick] [--runs 3] [--out FILE]
 * - `--quick`: the targets that take seconds (AlexNet's `run` and the SCALE-Sim layers).
 * - `--runs N`: each command N times, the median reported (its min and max in the JSON).
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { convShape, parseLayerShortForm, type ConvLayer } from "../src/workload/layer.js";
import { network } from "../src/workload/networks.js";
import { layerTensors } from "../src/workload/tensors.js";
import { naiveConv } from "./naive-conv.js";

/** A target of issue 15: a convsim command and the goal its figure must meet. */
interface Target {
  readonly name: string;
  readonly args: readonly string[];
  /** The layers the command simulates, for the naive baseline. */
  readonly layers: () => readonly ConvLayer[];
  /** The goal: wall or CPU seconds at most `seconds`; peak memory under `peakMiB` when given. */
  readonly goal: { readonly on: "wall" | "cpu"; readonly seconds: number; readonly peakMiB?: number };
  /** SCALE-Sim v2's CPU seconds on the same layer, array and dataflow (issue 15), when compared. */
  readonly scaleSim?: number;
  readonly quick: boolean;
}

const SYSTOLIC_128 = JSON.stringify({ array: { rows: 128, cols: 128 } });
const alexnet = () => network("alexnet").layers;
const layer = (text: string) => () => [parseLayerShortForm(text, "layer")];
const systolic = (text: string, dataflow: string, more: string[] = []) => ["simulate", "--arch", "systolic", "--dataflow", dataflow, "--layer", text, ...more];

/** Issue 15's targets. Every run's peak memory must also stay under 1 GiB. */
const TARGETS: readonly Target[] = [
  { name: "run-alexnet", args: ["run"], layers: alexnet, goal: { on: "wall", seconds: 3 }, quick: true },
  { name: "run-vgg16", args: ["run", "--net", "vgg16"], layers: () => network("vgg16").layers, goal: { on: "wall", seconds: 20 }, quick: false },
  { name: "compare-alexnet", args: ["compare", "--net", "alexnet"], layers: alexnet, goal: { on: "wall", seconds: 60 }, quick: false },
  {
    name: "sweep-alexnet-conv5",
    args: ["sweep", "--net", "alexnet", "--layer", "conv5", "--arch", "eyeriss"],
    layers: () => alexnet().filter((l) => l.name === "conv5"),
    goal: { on: "wall", seconds: 90 },
    quick: false,
  },
  ...(
    [
      ["scalesim-conv1-ws-32", "c=3,hw=227,k=96,r=11,stride=4", "ws", 18.8, 20, []],
      ["scalesim-conv3-os-32", "c=256,hw=15,k=384,r=3", "os", 40.1, 20, []],
      ["scalesim-res2a-os-32", "c=64,hw=56,k=64,r=1", "os", 4.8, 20, []],
      ["scalesim-conv1-ws-128", "c=3,hw=227,k=96,r=11,stride=4", "ws", 3.1, 5, ["--arch-override", SYSTOLIC_128]],
    ] as const
  ).map(([name, text, dataflow, scaleSim, factor, more]): Target => ({
    name,
    args: systolic(text, dataflow, [...more]),
    layers: layer(text),
    goal: { on: "cpu", seconds: scaleSim / factor, ...(more.length > 0 ? { peakMiB: 512 } : {}) },
    scaleSim,
    quick: true,
  })),
];

/** Every target must stay under this much resident memory (issue 15). */
const PEAK_MIB = 1024;

/** One whole process's figures. */
interface ProcessFigures {
  readonly wall: number;
  readonly cpu: number;
  /** The system (kernel) part of `cpu`: mostly page faults. */
  readonly system: number;
  readonly peakMiB: number;
  /** Minor page faults (first touches of fresh pages). */
  readonly faults: number;
  readonly exitCode: number;
  /**
   * CPU seconds of V8's platform threads (its optimizing compiler's jobs, its collector's helpers;
   * measure-cli.ts), NaN where the system does not say.
   */
  readonly helpers: number;
}

const here = dirname(fileURLToPath(import.meta.url));
const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const measurer = join(here, "measure-cli" + ext);
const warmMeasurer = join(here, "measure-warm" + ext);

/** Runs of a command in one process for its warm figure (bench/measure-warm.ts): the last is reported. */
const WARM_RUNS = 4;

/** `convsim args` run WARM_RUNS times in one process: the last run's CPU seconds and exit code. */
async function runWarm(args: readonly string[], scratch: string): Promise<{ cpu: number; exitCode: number }> {
  const result = join(scratch, "warm.json");
  rmSync(result, { force: true });
  const node = ext === ".ts" ? ["--import", "tsx", warmMeasurer] : [warmMeasurer];
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, [...node, result, String(WARM_RUNS), ...args], { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, CONVSIM_FROM: "dist" } });
    child.on("error", reject);
    child.on("exit", (c) => resolve(c ?? 1));
  });
  if (code !== 0) return { cpu: NaN, exitCode: code };
  const runs = JSON.parse(readFileSync(result, "utf8")) as { cpu: number; exitCode: number }[];
  const last = runs[runs.length - 1]!;
  return { cpu: last.cpu, exitCode: Math.max(...runs.map((r) => r.exitCode)) };
}

/** Runs `convsim args` once as its own process; its figures. */
async function runOnce(args: readonly string[], scratch: string): Promise<ProcessFigures> {
  const result = join(scratch, "result.json");
  rmSync(result, { force: true });
  const node = ext === ".ts" ? ["--import", "tsx", measurer] : [measurer];
  const t0 = performance.now();
  const exitCode = await new Promise<number>((resolve, reject) => {
    // (dist/, built by the npm script: a stale build would otherwise send bin/ to the sources)
    const child = spawn(process.execPath, [...node, result, ...args], { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, CONVSIM_FROM: "dist" } });
    child.on("error", reject);
    child.on("exit", (code) => resolve(code ?? 1));
  });
  const wall = (performance.now() - t0) / 1000;
  const r = JSON.parse(readFileSync(result, "utf8")) as { user: number; system: number; peakMiB: number; minorFaults: number; helperThreads?: number };
  return { wall, cpu: r.user + r.system, system: r.system, peakMiB: r.peakMiB, faults: r.minorFaults, exitCode, helpers: r.helperThreads ?? NaN };
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

/** Runs `convsim args` `runs` times; the median of each figure, and every run. */
async function measure(args: readonly string[], runs: number, scratch: string): Promise<{ median: ProcessFigures; all: ProcessFigures[] }> {
  const all: ProcessFigures[] = [];
  for (let i = 0; i < runs; i++) all.push(await runOnce(args, scratch));
  const pick = (k: keyof ProcessFigures) => median(all.map((f) => f[k]));
  return { median: { wall: pick("wall"), cpu: pick("cpu"), system: pick("system"), peakMiB: pick("peakMiB"), faults: pick("faults"), exitCode: Math.max(...all.map((f) => f.exitCode)), helpers: pick("helpers") }, all };
}

const naiveCache = new Map<string, number>();
/** CPU seconds of the naive loop over `layers` (each distinct layer timed once in this run). */
function naiveSeconds(layers: readonly ConvLayer[]): number {
  let total = 0;
  for (const L of layers) {
    const key = JSON.stringify({ ...L, name: "" });
    let t = naiveCache.get(key);
    if (t === undefined) {
      const { x, w } = layerTensors(L, { seed: 1 });
      const u0 = process.cpuUsage();
      naiveConv(L, x, w);
      const u = process.cpuUsage(u0);
      t = (u.user + u.system) / 1e6;
      naiveCache.set(key, t);
    }
    total += t;
  }
  return total;
}

/** Whether a target's figures meet its goal and the memory bound. */
function met(t: Target, f: ProcessFigures): boolean {
  const figure = t.goal.on === "wall" ? f.wall : f.cpu;
  return f.exitCode === 0 && figure <= t.goal.seconds && f.peakMiB < (t.goal.peakMiB ?? PEAK_MIB);
}

/** The table's row of a target (`warm`: its warm run's CPU seconds, SCALE-Sim targets only). */
function row(t: Target, f: ProcessFigures, naive: number, warm?: number): string {
  const goal = `${t.goal.on} <= ${t.goal.seconds.toFixed(2)} s${t.goal.peakMiB ? `, < ${t.goal.peakMiB} MiB` : ""}`;
  const warmText = warm === undefined || Number.isNaN(warm) ? "" : ` (warm, run ${WARM_RUNS} in one process: ${warm.toFixed(2)} s, ${(t.scaleSim! / warm).toFixed(1)}x)`;
  const scale = t.scaleSim === undefined ? "" : `${t.scaleSim.toFixed(1)} s: ${(t.scaleSim / f.cpu).toFixed(1)}x${warmText}`;
  const verdict = f.exitCode !== 0 ? `FAILED (exit ${f.exitCode})` : met(t, f) ? "met" : "not met";
  const helpers = Number.isNaN(f.helpers) ? "" : `; V8 threads ${f.helpers.toFixed(2)}`;
  return `| ${t.name} | ${f.wall.toFixed(2)} | ${f.cpu.toFixed(2)} (${f.system.toFixed(2)}${helpers}) | ${f.peakMiB.toFixed(0)} | ${f.faults} | ${naive.toFixed(2)} | ${(f.cpu / naive).toFixed(3)} | ${scale} | ${goal} | ${verdict} |`;
}

/** The command line's choices; a bad option is a one-line error (exit 2), before anything runs. */
function choices(): { runs: number; chosen: Target[]; out: string } | undefined {
  try {
    const { values } = parseArgs({
      options: { only: { type: "string" }, quick: { type: "boolean" }, runs: { type: "string", default: "1" }, out: { type: "string", default: "bench/results/targets.json" } },
    });
    const runs = Number(values.runs);
    if (!Number.isSafeInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer; got ${values.runs}`);
    const only = values.only?.split(",").map((s) => s.trim());
    const unknown = only?.filter((n) => !TARGETS.some((t) => t.name === n)) ?? [];
    if (unknown.length > 0) throw new Error(`--only: no target ${unknown.join(", ")}; the targets are ${TARGETS.map((t) => t.name).join(", ")}`);
    return { runs, chosen: TARGETS.filter((t) => (only ? only.includes(t.name) : !values.quick || t.quick)), out: values.out };
  } catch (e) {
    process.stderr.write(`bench:targets: ${(e as Error).message}\n`);
    process.exitCode = 2;
    return undefined;
  }
}

async function main(): Promise<void> {
  const options = choices();
  if (!options) return;
  const { runs, chosen, out } = options;
  const scratch = mkdtempSync(join(tmpdir(), "convsim-targets-"));
  try {
    const floor = await measure(["--version"], runs, scratch);
    console.log(`Floor (convsim --version, Node's start and the bundle's load): ${floor.median.wall.toFixed(2)} s wall, ${floor.median.cpu.toFixed(2)} s CPU (${floor.median.system.toFixed(2)} system), ${floor.median.peakMiB.toFixed(0)} MiB, ${floor.median.faults} page faults\n`);
    console.log("| target | wall [s] | CPU [s] (system; V8's compiler and collector threads) | peak [MiB] | page faults | naive loop, same layers [CPU s] | CPU / naive | SCALE-Sim CPU (issue 15): convsim faster by | goal | verdict |");
    console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |");
    const results = [];
    for (const t of chosen) {
      process.stderr.write(`${t.name}: convsim ${t.args.join(" ")}\n`);
      const m = await measure(t.args, runs, scratch);
      const naive = naiveSeconds(t.layers());
      const warm = t.scaleSim === undefined ? undefined : await runWarm(t.args, scratch);
      console.log(row(t, m.median, naive, warm?.cpu));
      results.push({ target: t.name, command: ["convsim", ...t.args], ...m, naiveCpuSeconds: naive, macs: t.layers().reduce((s, L) => s + convShape(L).macs, 0), goal: t.goal, scaleSimCpuSeconds: t.scaleSim, warmCpuSeconds: warm?.cpu, met: met(t, m.median) });
      if (m.median.exitCode !== 0 || (warm !== undefined && warm.exitCode !== 0)) process.exitCode = 1;
    }
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), runs, floor, results }, null, 2) + "\n");
    console.log(`\nwritten: ${out}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
