/**
 * The worker pool: a worker whose heap grew past the recycling threshold is replaced by a fresh
 * one before its next request, and the results are those of the same jobs run in this thread.
 */
import { describe, expect, it } from "vitest";
import { resolveArch } from "../../src/arch/presets.js";
import { EYERISS_ENERGY_TABLE } from "../../src/report/energy.js";
import { runSimJob, type SimJob } from "../../src/runner/jobs.js";
import { runOnWorkers, type WorkerReply } from "../../src/runner/worker-pool.js";
import { convLayer } from "../../src/workload/layer.js";

const jobs: SimJob[] = [3, 5, 8, 4].map((c, i) => ({
  layer: convLayer({ name: `l${i}`, inChannels: c, inHeight: 9, inWidth: 9, outChannels: 6, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] }),
  arch: resolveArch("eyeriss"),
  dataflow: "rs",
  checked: false,
  energyTable: EYERISS_ENERGY_TABLE,
}));

/** Runs every job on two workers; the `done` replies by job index. */
async function onWorkers(recycleHeapBytes?: number): Promise<WorkerReply[]> {
  const replies: WorkerReply[] = [];
  const request = (i: number) => ({ type: "job", index: i, job: jobs[i] });
  await runOnWorkers(jobs.map((_, i) => i), 2, request, (r) => {
    if (r.type !== "progress") replies[r.index] = r;
  }, recycleHeapBytes);
  return replies;
}

/** A row without its wall time (the only figure that varies from run to run). */
const rowOf = (r: WorkerReply) => ({ ...(r.metrics as object), wallMs: 0 });

describe("runOnWorkers", () => {
  it("replaces a worker whose heap grew past the threshold, and gives the results of this thread", async () => {
    const here = jobs.map((j) => ({ ...runSimJob(j), wallMs: 0 }));
    // Threshold 0: every worker is replaced after every request.
    const recycled = await onWorkers(0);
    const kept = await onWorkers();
    expect(recycled.map((r) => r.type)).toEqual(["done", "done", "done", "done"]);
    expect(recycled.every((r) => typeof r.heapBytes === "number" && r.heapBytes > 0)).toBe(true);
    expect(recycled.map(rowOf)).toEqual(here);
    expect(kept.map(rowOf)).toEqual(here);
  });
});
