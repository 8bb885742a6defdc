/**
 * The worker pool: workers start with a capped heap; a request too big for the cap runs again on
 * a worker without it, and every result is what the same job gives in this thread.
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

/** Runs every job on two workers with heap cap `cap`; the rows by job index, wall times zeroed. */
async function onWorkers(cap: number | undefined): Promise<unknown[]> {
  const replies: WorkerReply[] = [];
  const request = (i: number) => ({ type: "job", index: i, job: jobs[i] });
  await runOnWorkers(jobs.map((_, i) => i), 2, request, (r) => {
    if (r.type !== "progress") replies[r.index] = r;
  }, cap);
  expect(replies.map((r) => r.type)).toEqual(["done", "done", "done", "done"]);
  return replies.map((r) => ({ ...(r.metrics as object), wallMs: 0 }));
}

describe("runOnWorkers", () => {
  it("runs a request too big for the heap cap again on an uncapped worker, with this thread's results", async () => {
    const here = jobs.map((j) => ({ ...runSimJob(j), wallMs: 0 }));
    // A 2 MiB cap: no worker can even load the simulator, so every request is retried uncapped.
    expect(await onWorkers(2)).toEqual(here);
    expect(await onWorkers(undefined)).toEqual(here);
  });
});
