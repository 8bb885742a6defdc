/**
 * The first difference between two simulations of the same layer in what the model reports:
 * shared by the replay tests (results.ts) and the random campaign (test/campaign/), which runs
 * outside vitest and so cannot import results.ts.
 */
import type { SimulationResult } from "../../src/dataflow/simulate.js";

/** The first difference between two runs in what the model reports (verdict, cycles, counters, stalls, outputs), or undefined. */
export function difference(a: SimulationResult, b: SimulationResult): string | undefined {
  if (!a.verification.ok || !b.verification.ok) return "verification";
  if (a.cycles !== b.cycles) return `cycles ${a.cycles} vs ${b.cycles}`;
  for (const [k, v] of Object.entries(b.counters)) if (JSON.stringify(a.counters[k]) !== JSON.stringify(v)) return `${k}: ${JSON.stringify(a.counters[k])} vs ${JSON.stringify(v)}`;
  if (JSON.stringify(a.stalls) !== JSON.stringify(b.stalls)) return "stalls";
  if (!a.output.every((v, i) => v === b.output[i])) return "output";
  return undefined;
}
