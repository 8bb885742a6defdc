/**
 * Comparing two simulations of the same layer in everything the model reports (replay on and
 * off, runs of timelines on and off): shared by the replay tests.
 */
import { expect, vi } from "vitest";
import { TimelineRuns } from "../../src/dataflow/sequencer/runs.js";
import { SteadyRuns } from "../../src/dataflow/sequencer/steady-runs.js";
import { simulate, type SimulateOptions } from "../../src/dataflow/simulate.js";
import { difference } from "./difference.js";

export { difference };

/**
 * Turns runs of timelines off, single-buffered (src/dataflow/sequencer/runs.ts) and pipelined
 * (steady-runs.ts), until the spies are restored: every timeline replays on its own.
 */
export function withoutRuns(): { mockRestore(): void } {
  const spies = [vi.spyOn(TimelineRuns.prototype, "boundary").mockReturnValue(undefined), vi.spyOn(SteadyRuns.prototype, "boundary").mockReturnValue(undefined)];
  return { mockRestore: () => spies.forEach((s) => s.mockRestore()) };
}

/** Turns runs off (timeline replay stays on) while `f` runs. */
function noRunsIn<T>(f: () => T): T {
  const spy = withoutRuns();
  try {
    return f();
  } finally {
    spy.mockRestore();
  }
}

/** Runs `opts` with runs of timelines, without them, and with timeline replay off: the differences, and the runs replayed. */
export function compareRuns(opts: SimulateOptions): { diffs: string[]; runs: number } {
  const on = simulate(opts);
  const noRuns = noRunsIn(() => simulate(opts));
  const off = simulate({ ...opts, timelineReplay: false });
  expect(noRuns.simulator.timelineRuns).toBe(0);
  expect(off.simulator.timelineRuns).toBe(0);
  const diffs = [difference(on, noRuns), difference(on, off)].filter((d): d is string => d !== undefined);
  return { diffs, runs: on.simulator.timelineRuns };
}
