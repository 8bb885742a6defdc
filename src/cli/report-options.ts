/**
 * The options `run`, `compare` and `sweep` share ({@link REPORT_OPTIONS}), validated together
 * before any work ({@link reportSetup}); the limits checked before any mapping or simulation
 * ({@link checkJobsBudget}); and the worker pool run with progress and Ctrl-C handled
 * ({@link runJobsWithProgress}).
 */
import type { ArchOverrides } from "../arch/presets.js";
import type { ArchSpec } from "../arch/spec.js";
import { checkSimulationBudget, checkWork, type RunLimits } from "../dataflow/budget.js";
import type { EnergyTable } from "../report/energy.js";
import { requireOutputFormat, type OutputFormat } from "../report/format.js";
import type { ConvLayer } from "../workload/layer.js";
import { totalMacs } from "../workload/networks.js";
import type { RequestPool } from "../runner/jobs.js";
import { readJsonOption, type Io } from "./args.js";
import { archOption, energyOption, jobsOption, runJobsOn, type OperandTypes, type SimJobOutcome, type SimJob } from "./jobs.js";
import { CLI_LIMIT_NAMES, LIMIT_OPTIONS, limitsOption } from "./numbers.js";
import { inputPaths, OPERAND_TYPE_OPTIONS, operandTypesOption } from "./operands.js";
import { checkOutputPaths, withInterrupt } from "./outputs.js";
import { ProgressBar } from "./progress.js";

/** The options every command that simulates and reports shares (run, compare, sweep). */
export const REPORT_OPTIONS = {
  arch: { type: "string" },
  "arch-override": { type: "string" },
  ...OPERAND_TYPE_OPTIONS,
  ...LIMIT_OPTIONS,
  memory: { type: "string" },
  format: { type: "string" },
  out: { type: "string" },
  svg: { type: "string" },
  jobs: { type: "string" },
  energy: { type: "string" },
  checked: { type: "boolean" },
} as const;

/** The usage lines of the options {@link REPORT_OPTIONS} adds to the ones each command lists itself. */
export const REPORT_USAGE = `  --arch-override J JSON merged over the arch, e.g. '{"gbuf":{"capacityBytes":"64KiB"}}'
  --x-type T, --w-type T   types of the generated operands: int8 (default), uint8, int16
  --max-memory M    refuse a simulation whose estimated memory exceeds M (e.g. 4GiB; default half
                    of this machine's memory)
  --max-macs N      refuse a run of more than N MACs in all (default 100000000000)

Every option is checked before any simulation; --out and --svg must be in an existing directory,
not an input and not the same file; they are written through a temporary file. Progress shows on
stderr when it is a terminal; Ctrl-C stops (exit 130). See docs/inputs.md.`;

/** The options of run, compare and sweep after validation: everything decided before any work. */
export interface ReportSetup {
  readonly format: OutputFormat;
  readonly jobs: number;
  readonly arch: ArchSpec;
  readonly types: OperandTypes;
  readonly limits: RunLimits;
  readonly energyTable: EnergyTable;
  readonly checked: boolean;
}

/**
 * Validates the options {@link REPORT_OPTIONS} declares, before any work: the format, the output
 * paths (`--out`, `--svg`: existing directory, not an input, not each other), the worker count,
 * the architecture with `--arch-override` and `--memory`, the operand types, the limits and the
 * energy table.
 */
export function reportSetup(values: { readonly [K in keyof typeof REPORT_OPTIONS]?: (typeof REPORT_OPTIONS)[K]["type"] extends "boolean" ? boolean : string }): ReportSetup {
  const format = requireOutputFormat("--format", values.format ?? "table");
  checkOutputPaths([{ flag: "--out", path: values.out }, { flag: "--svg", path: values.svg }], inputPaths(values));
  const jobs = jobsOption(values.jobs);
  const overrides = values["arch-override"] !== undefined ? (readJsonOption("--arch-override", values["arch-override"]) as ArchOverrides) : undefined;
  const arch = archOption(values.arch, overrides, values.memory);
  return { format, jobs, arch, types: operandTypesOption(values), limits: limitsOption(values), energyTable: energyOption(values.energy), checked: values.checked ?? false };
}

/**
 * Refuses, before any mapping is built or simulation run, work over the limits: each
 * simulation's memory (and its register files' bound) and the MACs of all of them together
 * (every layer on every architecture and dataflow asked for, whether or not it maps).
 * @param runs the simulations asked for: a layer on an architecture, once per dataflow.
 * @param workName how the work error names the selection (`--net`, `--layer`).
 */
export function checkJobsBudget(runs: readonly { readonly layer: ConvLayer; readonly arch: ArchSpec }[], setup: ReportSetup, workName: string): void {
  const names = { ...CLI_LIMIT_NAMES, layer: workName };
  const seen = new Set<string>();
  for (const j of runs) {
    const key = `${JSON.stringify(j.layer)} ${JSON.stringify(j.arch)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    checkSimulationBudget(j.layer, j.arch, { types: setup.types, checked: setup.checked }, setup.limits, names);
  }
  checkWork(totalMacs(runs.map((j) => j.layer)), setup.limits, names);
}

/**
 * Runs the jobs with a progress bar on a terminal and Ctrl-C handled (exit 130, temporary files
 * removed), on `setup.jobs` threads (on `pool`'s workers when given).
 */
export async function runJobsWithProgress(io: Io, command: string, simJobs: readonly SimJob[], setup: ReportSetup, label = "simulations", pool?: RequestPool): Promise<SimJobOutcome[]> {
  const bar = new ProgressBar(io, simJobs.length, totalMacs(simJobs.map((j) => j.layer)), label);
  try {
    return await withInterrupt(command, io.handleSignals ?? false, () => runJobsOn(simJobs, { jobs: setup.jobs, onProgress: (m, f) => bar.update(m, f) }, pool));
  } finally {
    bar.finish();
  }
}
