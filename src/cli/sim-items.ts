/**
 * The work items of `compare` and `sweep`: one layer on one architecture with one named
 * dataflow. {@link simulateItems} checks which can map (before any simulation starts), runs the
 * others on worker threads and returns one result per item, in the items' order: the layer's
 * summary row, or the reason the dataflow cannot map it. Results are plain data: they go into
 * shard files as they are (src/report/shard.ts).
 */
import { ConfigError } from "../core/errors.js";
import type { ArchSpec } from "../arch/spec.js";
import type { ConvLayer } from "../workload/layer.js";
import type { ModelOperands } from "../formats/onnx/layers.js";
import { totalMacs } from "../workload/networks.js";
import type { EnergyTable } from "../report/energy.js";
import type { LayerMetrics } from "../report/metrics.js";
import type { Io } from "./args.js";
import type { RunLimits } from "../dataflow/budget.js";
import { checkMappings, runJobsOn, withWorkerPool, type MappingCheck, type OperandTypes, type SimJob } from "./jobs.js";
import type { RequestPool } from "../runner/jobs.js";
import { withInterrupt } from "./outputs.js";
import { ProgressBar } from "./progress.js";
import type { ReportSpecBase } from "./shard.js";
import { CLI_LIMIT_FLAGS } from "./numbers.js";

/** One simulation of a sweep or a comparison. */
export interface SimItem {
  readonly layer: ConvLayer;
  readonly arch: ArchSpec;
  readonly dataflow: string;
  /** The item's mapping when its command decided it beforehand (sweep's `best` chain); else the dataflow's. */
  readonly premapped?: MappingCheck;
}

export type { MappingCheck };

/** What an item gave: its summary row, or why the dataflow cannot map the layer there. */
export type SimItemResult = { readonly metrics: LayerMetrics; readonly reason?: undefined } | { readonly metrics?: undefined; readonly reason: string };

/** Options of {@link simulateItems}. */
export interface SimulateItemsOptions {
  readonly checked: boolean;
  readonly energyTable: EnergyTable;
  /** Worker threads. */
  readonly jobs: number;
  /** Where the progress bar goes. */
  readonly io: Io;
  /** A layer's own operands (an ONNX model's weights, `--weights model`); default: seeded. */
  readonly operands?: (layer: ConvLayer) => { readonly operands?: ModelOperands };
  /** Types of the generated operands (`--x-type`, `--w-type`); default int8. */
  readonly types?: OperandTypes;
  /** The memory and work limits each simulation checks again in its worker. */
  readonly limits?: RunLimits;
  /** The command's name, for the line Ctrl-C prints. */
  readonly command?: string;
}

/**
 * Simulates the items that can run; one result per item, in order. A mapping the legality check
 * let through can still be refused when the run allocates its buffers: that is a reason too.
 * @throws the first error of a run that is not a ConfigError (a bug).
 */
export async function simulateItems(items: readonly SimItem[], options: SimulateItemsOptions): Promise<SimItemResult[]> {
  const results: (SimItemResult | undefined)[] = items.map(() => undefined);
  return withWorkerPool(Math.min(options.jobs, items.length), async (pool) => {
    // The workers build the mappings the items do not bring, then simulate.
    const toCheck = items.flatMap((item, i) => (item.premapped ? [] : [i]));
    const built = await checkMappings(toCheck.map((i) => ({ layer: items[i]!.layer, arch: items[i]!.arch, dataflow: items[i]!.dataflow })), pool);
    let k = 0;
    const checks: MappingCheck[] = items.map((item) => item.premapped ?? built[k++]!);
    return simulateChecked(items, checks, results, options, pool);
  });
}

/** {@link simulateItems} once each item's mapping is known. */
async function simulateChecked(items: readonly SimItem[], checks: readonly MappingCheck[], results: (SimItemResult | undefined)[], options: SimulateItemsOptions, pool: RequestPool | undefined): Promise<SimItemResult[]> {
  const jobs: SimJob[] = [];
  const slot: number[] = [];
  items.forEach((item, i) => {
    const c = checks[i]!;
    if (c.ok) {
      const { premapped: _, ...job } = item;
      jobs.push({ ...job, mapping: c.mapping, checked: options.checked, energyTable: options.energyTable, ...(options.types ? { types: options.types } : {}), ...(options.limits ? { limits: options.limits } : {}), limitNames: CLI_LIMIT_FLAGS, ...options.operands?.(item.layer) });
      slot.push(i);
    } else {
      results[i] = { reason: c.reason };
    }
  });
  const bar = new ProgressBar(options.io, jobs.length, totalMacs(jobs.map((j) => j.layer)), "simulations");
  let outcomes;
  try {
    outcomes = await withInterrupt(options.command ?? "convsim", options.io.handleSignals ?? false, () => runJobsOn(jobs, { jobs: options.jobs, onProgress: (m, f) => bar.update(m, f) }, pool));
  } finally {
    bar.finish();
  }
  outcomes.forEach((o, j) => {
    if (o.ok) results[slot[j]!] = { metrics: o.metrics };
    else if (o.error instanceof ConfigError) results[slot[j]!] = { reason: o.error.message };
    else throw o.error;
  });
  return results as SimItemResult[];
}

/** The report options `compare` and `sweep` share (their specs extend it). */
export interface SimReportSpec extends ReportSpecBase {
  /** The architecture (for `sweep`, before its GBuf capacity is set). */
  readonly arch: ArchSpec;
  readonly dataflows: readonly string[];
  readonly energyTable: EnergyTable;
  /** Checked mode (`--checked`). */
  readonly checked: boolean;
  /** Whether the layers run with an ONNX model's own weights (`--weights model`), not seeded ones. */
  readonly modelWeights?: boolean;
  /** Types of the generated operands (`--x-type`, `--w-type`); absent: int8 for both. */
  readonly types?: OperandTypes;
}

/** A ShardableCommand's `run` for simulation items: {@link simulateItems} with the spec's options. */
export function runSimItems(
  spec: SimReportSpec,
  items: readonly SimItem[],
  options: { readonly jobs: number; readonly io: Io; readonly operands?: SimulateItemsOptions["operands"]; readonly limits?: RunLimits; readonly command?: string },
): Promise<SimItemResult[]> {
  const { operands, limits, command } = options;
  return simulateItems(items, { checked: spec.checked, energyTable: spec.energyTable, jobs: options.jobs, io: options.io, ...(spec.types ? { types: spec.types } : {}), ...(operands ? { operands } : {}), ...(limits ? { limits } : {}), ...(command ? { command } : {}) });
}

/** Whether every simulated item verified bit-exact (items that could not map do not count). */
export function allVerified(results: readonly SimItemResult[]): boolean {
  return results.every((r) => !r.metrics || r.metrics.verified);
}
