/**
 * The worker pool: workers start with a capped heap; a request too big for the cap runs again on
 * a worker without it, and every result is what the same job gives in this thread.
 */
import { describe, expect, it } from "vitest";
import { resolveArch } from "../../src/arch/presets.js";
import { EYERISS_ENERGY_TABLE } from "../../src/report/energy.js";
import { checkMappings, jobKind, mappingCheck, runJobsOn, runSimJob, type SimJob } from "../../src/runner/jobs.js";
import { nextOfKind, runOnWorkers, WorkerPool, type WorkerReply } from "../../src/runner/worker-pool.js";
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

describe("WorkerPool", () => {
  it("builds mappings and then runs the jobs on the same workers, as this thread does", async () => {
    const arch = resolveArch("chen2020");
    const requests = [
      ...jobs.map((j) => ({ layer: j.layer, arch, dataflow: "chen2020" })),
      // Without weight registers nothing maps: a reason, not an error.
      { layer: jobs[0]!.layer, arch: resolveArch("chen2020", { rf: { weightEntries: 0 } }), dataflow: "ws" },
    ];
    const here = requests.map((r) => mappingCheck(r.layer, r.arch, r.dataflow));
    expect(here.at(-1)!.ok).toBe(false);
    const pool = new WorkerPool(2);
    try {
      const there = await checkMappings(requests, pool);
      expect(there).toEqual(here);
      const simJobs: SimJob[] = jobs.map((j, i) => ({ ...j, arch, dataflow: "chen2020", mapping: (there[i] as { mapping: SimJob["mapping"] }).mapping }));
      const rows = (await runJobsOn(simJobs, { jobs: 2 }, pool)).map((o) => (o.ok ? { ...o.metrics, wallMs: 0 } : o.error));
      expect(rows).toEqual(simJobs.map((j) => ({ ...runSimJob(j), wallMs: 0 })));
      // The pool is still there for another round.
      expect(await checkMappings(requests.slice(0, 2), pool)).toEqual(here.slice(0, 2));
    } finally {
      await pool.close();
    }
  }, 60_000);
});

describe("nextOfKind (workers keep to a kind of request)", () => {
  const kindOf = (k: readonly string[]) => (i: number) => k[i]!;

  it("hands requests out in order when no kinds are given", () => {
    const q = [3, 1, 2];
    expect([nextOfKind(q, "a", undefined, new Map()), nextOfKind(q, undefined, undefined, new Map())]).toEqual([3, 1]);
    expect(q).toEqual([2]);
  });

  it("gives a worker the first request of the kind it ran last, while one is left", () => {
    const kinds = kindOf(["conv", "conv", "fc", "conv", "fc"]);
    const q = [2, 0, 4, 1, 3];
    expect(nextOfKind(q, "conv", kinds, new Map([["other", "fc"]]))).toBe(0);
    expect(nextOfKind(q, "fc", kinds, new Map([["other", "conv"]]))).toBe(2);
    expect(q).toEqual([4, 1, 3]);
  });

  it("gives a new worker, or one whose kind is done, the first request of a kind no other worker holds, else the first", () => {
    const kinds = kindOf(["conv", "conv", "fc", "fc", "pw"]);
    // (the cost order: fc first; another worker already holds fc)
    expect(nextOfKind([2, 3, 0, 1], undefined, kinds, new Map([["w1", "fc"]]))).toBe(0);
    // (w2 ran conv last, and none is left)
    expect(nextOfKind([2, 3, 4], "conv", kinds, new Map([["w1", "fc"], ["w2", "conv"]]))).toBe(4);
    // Every kind left is held by another worker: the first (the costliest) all the same.
    expect(nextOfKind([3, 2], "conv", kinds, new Map([["w1", "fc"], ["w2", "conv"]]))).toBe(3);
    expect(nextOfKind([], "conv", kinds, new Map())).toBeUndefined();
  });

  it("keeps AlexNet's FC layers and convolutions on different workers (the jobs' kinds)", () => {
    const fc = jobKind({ ...jobs[0]!, layer: convLayer({ inChannels: 64, inHeight: 1, inWidth: 1, outChannels: 10, kernelHeight: 1, kernelWidth: 1 }) });
    expect(fc).toBe("rs/fc");
    expect(jobKind(jobs[0]!)).toBe("rs/conv");
  });
});
