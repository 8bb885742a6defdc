/**
 * The mapper on many layers (src/runner/map-jobs.ts): layers that differ only in their name run
 * once and their shared result is the one each would get alone; the same results in this thread
 * and on worker threads; a failing job's error keeps its type.
 */
import { describe, expect, it } from "vitest";
import { eyeriss } from "../../src/arch/presets.js";
import { ConfigError } from "../../src/core/errors.js";
import { EYERISS_ENERGY_TABLE } from "../../src/report/energy.js";
import { mapWorkKey, runMapJob, runMapJobs, type MapJob, type MapJobResult } from "../../src/runner/map-jobs.js";
import { convLayer } from "../../src/workload/layer.js";

const shape = { inChannels: 4, inHeight: 8, inWidth: 8, outChannels: 8, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] as [number, number, number, number] };
const job = (name: string, over: Partial<MapJob> = {}): MapJob => ({
  layer: convLayer({ name, ...shape }),
  arch: eyeriss,
  objective: "dram",
  budget: { evaluations: 400 },
  seed: "1",
  top: 2,
  simulate: 2,
  types: { input: "int8", weight: "int8" },
  energyTable: EYERISS_ENERGY_TABLE,
  ...over,
});
const fc = job("fc", { layer: convLayer({ name: "fc", inChannels: 32, inHeight: 1, inWidth: 1, outChannels: 10, kernelHeight: 1, kernelWidth: 1 }) });

/** A result without its wall times (the only figures that vary from run to run), as JSON. */
const plain = (r: MapJobResult) => JSON.stringify({ ...r, wallMs: undefined });

describe("runMapJobs", () => {
  it("runs layers that differ only in their name once; the shared result is what each computes alone", async () => {
    const [a, b] = [job("conv3_2"), job("conv3_3")];
    expect(mapWorkKey(a)).toBe(mapWorkKey(b));
    expect(mapWorkKey(job("x", { seed: "2" }))).not.toBe(mapWorkKey(a));
    const finished: number[] = [];
    const results = await runMapJobs([a, fc, b], { jobs: 1, onFinished: (n) => finished.push(n) });
    expect(results[2]).toBe(results[0]); // one search, one set of simulations
    expect(finished).toEqual([2, 3]); // conv3_2 and conv3_3 end together, then fc
    expect(plain(results[2]!)).toBe(plain(runMapJob(b)));
    expect(results[0]!.top.every((c) => c.simulated?.verified && c.simulated.dramWords === c.estimate.dram.total)).toBe(true);
  });

  it("gives the same results on two worker threads as in this thread, in the jobs' order", async () => {
    const jobs = [job("c1"), fc, job("c2", { objective: "energy" })];
    const here = await runMapJobs(jobs, { jobs: 1 });
    const there = await runMapJobs(jobs, { jobs: 2 });
    expect(there.map(plain)).toEqual(here.map(plain));
    expect(here[2]!.top[0]!.estimate.score).not.toBe(here[0]!.top[0]!.estimate.score);
  }, 60_000);

  it("rejects with a worker's ConfigError as a ConfigError", async () => {
    const tiny = { ...eyeriss, name: "tiny", rf: { ...eyeriss.rf, weightEntries: 0 } };
    await expect(runMapJobs([job("a", { arch: tiny }), fc], { jobs: 2 })).rejects.toBeInstanceOf(ConfigError);
  }, 60_000);
});
