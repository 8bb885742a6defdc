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
import { totalMacs } from "../workload/networks.js";
import type { EnergyTable } from "../report/energy.js";
import type { LayerMetrics } from "../report/metrics.js";
import type { Io } from "./args.js";
import { mappingCheck, ProgressBar, runJobs, type SimJob } from "./jobs.js";
import type { ReportSpecBase } from "./shard.js";

/** One simulation of a sweep or a comparison. */
export interface SimItem {
  readonly layer: ConvLayer;
  readonly arch: ArchSpec;
  readonly dataflow: string;
}

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
}

/**
 * Simulates the items that can run; one result per item, in order. A mapping the legality check
 * let through can still be refused when the run allocates its buffers: that is a reason too.
 * @throws the first error of a run that is not a ConfigError (a bug).
 */
export async function simulateItems(items: readonly SimItem[], options: SimulateItemsOptions): Promise<SimItemResult[]> {
  const results: (SimItemResult | undefined)[] = items.map(() => undefined);
  const jobs: SimJob[] = [];
  const slot: number[] = [];
  items.forEach((item, i) => {
    const c = mappingCheck(item.layer, item.arch, item.dataflow);
    if (c.ok) {
      jobs.push({ ...item, mapping: c.mapping, checked: options.checked, energyTable: options.energyTable });
      slot.push(i);
    } else {
      results[i] = { reason: c.reason };
    }
  });
  const bar = new ProgressBar(options.io, jobs.length, totalMacs(jobs.map((j) => j.layer)), "simulations");
  let outcomes;
  try {
    outcomes = await runJobs(jobs, { jobs: options.jobs, onProgress: (m, f) => bar.update(m, f) });
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
}

/** A ShardableCommand's `run` for simulation items: {@link simulateItems} with the spec's options. */
export function runSimItems(spec: SimReportSpec, items: readonly SimItem[], options: { readonly jobs: number; readonly io: Io }): Promise<SimItemResult[]> {
  return simulateItems(items, { checked: spec.checked, energyTable: spec.energyTable, jobs: options.jobs, io: options.io });
}

/** Whether every simulated item verified bit-exact (items that could not map do not count). */
export function allVerified(results: readonly SimItemResult[]): boolean {
  return results.every((r) => !r.metrics || r.metrics.verified);
}
