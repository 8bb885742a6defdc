import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import { simulate } from "../../src/dataflow/simulate.js";
import { simulateInWorker } from "../../src/cli/jobs.js";

describe("simulateInWorker (convsim simulate on a terminal)", () => {
  it("gives the same result as simulate() in this thread, and a ConfigError keeps its message", async () => {
    const options = { layer: { inChannels: 4, inHeight: 6, inWidth: 6, outChannels: 3, kernelHeight: 3, kernelWidth: 3 }, seed: 3 } as const;
    const here = simulate(options);
    let progress = 0;
    const there = await simulateInWorker(options, (m) => (progress = Math.max(progress, m)));
    expect(Array.from(there.output)).toEqual(Array.from(here.output));
    expect(there.cycles).toBe(here.cycles);
    expect(there.counters).toEqual(here.counters);
    expect(progress).toBeLessThanOrEqual(here.macs);
    const e = await simulateInWorker({ ...options, limits: { maxMacs: 1 } }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toContain("the work limit");
  });
});
