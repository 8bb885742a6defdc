/**
 * The options `convsim run`, `compare` and `sweep` share (architecture, dataflow list, jobs,
 * energy table, network and layers) and the progress bar. The runs themselves are library code:
 * the job pool in src/runner/jobs.ts, the network runner in src/runner/network.ts (re-exported
 * here for the commands).
 */
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { ConfigError, requireOneOf } from "../core/errors.js";
import type { ArchSpec } from "../arch/spec.js";
import { PRESET_NAMES, resolveArch, type ArchOverrides, type ArchSpecInput } from "../arch/presets.js";
import { DATAFLOW_NAMES } from "../dataflow/dataflows/index.js";
import type { ConvLayer } from "../workload/layer.js";
import { EYERISS_ENERGY_TABLE, loadEnergyTable, type EnergyTable } from "../report/energy.js";
import { DEFAULT_NETWORK, selectLayers, type Network } from "../workload/networks.js";
import { defaultDataflows } from "../runner/network.js";
import { intOption, loadNetworkOption, type Io } from "./args.js";

export { jobCost, mappingCheck, runJobs, runSimJob, type RunJobsOptions, type SimJob, type SimJobOutcome } from "../runner/jobs.js";
export { archLabel, defaultDataflow, defaultDataflows } from "../runner/network.js";

/** The `--jobs` option: a positive integer; default the machine's available parallelism. */
export function jobsOption(text: string | undefined): number {
  const n = intOption("--jobs", text) ?? availableParallelism();
  if (n < 1) throw new ConfigError("--jobs", text, "be a positive integer (1 runs in this thread)");
  return n;
}

/** The values of `--memory`: `arch` keeps the architecture's memory models, `ideal` sets both to ideal. */
export const MEMORY_OPTION_VALUES = ["arch", "ideal"] as const;

/**
 * The `--memory` option as arch overrides: `ideal` sets `dram.model` and `gbuf.model` to `ideal`
 * (docs/timing.md); `arch` (the default) changes nothing.
 * @throws ConfigError for another value, listing the known ones.
 */
export function memoryOverrides(text: string | undefined): ArchOverrides {
  const v = requireOneOf("--memory", text ?? "arch", MEMORY_OPTION_VALUES);
  return v === "ideal" ? { dram: { model: "ideal" }, gbuf: { model: "ideal" } } : {};
}

/**
 * The `--arch` option: a preset name, or a complete ArchSpec as a JSON file or inline JSON;
 * `overrides` (e.g. from `--arch-override`) are merged over it, then the `--memory` option.
 */
export function archOption(text: string | undefined, overrides?: ArchOverrides, memory?: string): ArchSpec {
  const arch = archFromText(text, overrides);
  const m = memoryOverrides(memory);
  return m.dram ? resolveArch(arch, m) : arch;
}

function archFromText(text: string | undefined, overrides?: ArchOverrides): ArchSpec {
  const v = text ?? "chen2020";
  if ((PRESET_NAMES as readonly string[]).includes(v)) return resolveArch(v, overrides);
  const inline = v.trim().startsWith("{");
  if (inline || existsSync(v)) {
    let json: unknown;
    try {
      json = JSON.parse(inline ? v : readFileSync(v, "utf8"));
    } catch (e) {
      throw new ConfigError("--arch", v, inline ? "be valid JSON" : "name a file holding valid JSON", (e as Error).message);
    }
    if (json === null || typeof json !== "object" || Array.isArray(json)) throw new ConfigError("--arch", v, "hold an ArchSpec object (name, dram, gbuf, rf, array, noc)");
    return resolveArch(json as ArchSpecInput, overrides, "arch");
  }
  throw new ConfigError("--arch", v, `be a preset (${PRESET_NAMES.join(", ")}), an architecture JSON file or inline JSON`);
}

/** The `--batch` option: a positive integer, default 1. */
export function batchOption(text: string | undefined): number {
  const batch = intOption("--batch", text) ?? 1;
  if (batch < 1) throw new ConfigError("--batch", text, "be a positive integer");
  return batch;
}

/** `--net`, `--batch` and `--layers`: the network (default AlexNet) and the selected layers, at least one. */
export function networkLayersOption(values: { readonly net?: string; readonly batch?: string; readonly layers?: string }): { net: Network; batch: number; layers: readonly ConvLayer[] } {
  const batch = batchOption(values.batch);
  const net = loadNetworkOption(values.net ?? DEFAULT_NETWORK, batch);
  const layers = selectLayers(net, values.layers);
  if (layers.length === 0) throw new ConfigError("--layers", values.layers, "select at least one layer");
  return { net, batch, layers };
}

/** The options every command that simulates and reports shares (run, compare, sweep). */
export const REPORT_OPTIONS = {
  arch: { type: "string" },
  memory: { type: "string" },
  format: { type: "string" },
  out: { type: "string" },
  svg: { type: "string" },
  jobs: { type: "string" },
  energy: { type: "string" },
  checked: { type: "boolean" },
} as const;

/** A `--dataflows` list (default every built-in dataflow); names checked, duplicates refused. */
export function dataflowsOption(text: string | undefined, field = "--dataflows", arch?: ArchSpec): string[] {
  if (text === undefined) return arch ? defaultDataflows(arch) : [...DATAFLOW_NAMES];
  const names = text.split(",").map((s) => s.trim()).filter(Boolean);
  if (names.length === 0) throw new ConfigError(field, text, `list dataflows among ${DATAFLOW_NAMES.join(", ")}`);
  for (const n of names) {
    if (!(DATAFLOW_NAMES as readonly string[]).includes(n)) throw new ConfigError(field, n, `be one of ${DATAFLOW_NAMES.join(", ")}`);
  }
  if (new Set(names).size !== names.length) throw new ConfigError(field, text, "name each dataflow once");
  return names;
}

/** The `--energy` option: a user table from a JSON file, or the default Eyeriss table. */
export function energyOption(file: string | undefined): EnergyTable {
  return file === undefined ? EYERISS_ENERGY_TABLE : loadEnergyTable(file, "--energy");
}

/** Formats seconds as `m:ss` (or `h:mm:ss`). */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/**
 * A progress bar on stderr: layers done, MACs per second, time left (from the MAC rate). Drawn
 * only when `io.isTTY` (an interactive terminal, CI unset); redrawn at most ten times a second.
 */
export class ProgressBar {
  private readonly t0 = performance.now();
  private last = 0;
  private drawn = false;

  constructor(
    private readonly io: Io,
    private readonly totalJobs: number,
    private readonly totalMacs: number,
    private readonly label = "layers",
  ) {}

  /** Updates the bar with the MACs done and the jobs finished. */
  update(macs: number, finished: number): void {
    if (!this.io.isTTY) return;
    const now = performance.now();
    if (now - this.last < 100 && finished < this.totalJobs) return;
    this.last = now;
    const secs = (now - this.t0) / 1000;
    const frac = this.totalMacs > 0 ? Math.min(1, macs / this.totalMacs) : finished / Math.max(1, this.totalJobs);
    const width = 24;
    const fill = Math.round(frac * width);
    const rate = secs > 0 ? macs / secs : 0;
    const left = rate > 0 ? (this.totalMacs - macs) / rate : Number.NaN;
    const rateText = rate >= 1e6 ? `${(rate / 1e6).toFixed(1)} M` : `${(rate / 1e3).toFixed(1)} k`;
    this.io.err(`\r[${"#".repeat(fill)}${".".repeat(width - fill)}] ${finished}/${this.totalJobs} ${this.label}  ${rateText}MAC/s  ${formatDuration(left)} left  `);
    this.drawn = true;
  }

  /** Clears the bar's line. */
  finish(): void {
    if (this.drawn) this.io.err(`\r${" ".repeat(80)}\r`);
  }
}
