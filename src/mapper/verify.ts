/**
 * The mapper's winners, simulated: each of a search's best mappings runs through `simulate`
 * (bit-exact, the output checked against the reference convolution), and its closed-form
 * estimate is set beside the simulated figures. The DRAM words must agree exactly, per tensor
 * and direction: a disagreement is a bug in the closed form or the simulator, an
 * InvariantError. Cycles are an estimate (cost.ts): the ratio simulated / estimated is reported
 * (docs/mapper.md gives the figures seen), never asserted.
 */
import { InvariantError } from "../core/errors.js";
import { simulate, type SimulationResult } from "../dataflow/simulate.js";
import { TENSORS } from "../dataflow/mapping.js";
import { energyOf } from "../report/energy.js";
import type { Objective } from "./cost.js";
import type { MapCandidate, MapResult } from "./search.js";

/** One winner, estimated and simulated. */
export interface VerifiedCandidate extends MapCandidate {
  /** What the simulation measured. */
  readonly simulated: {
    readonly dramWords: number;
    readonly cycles: number;
    readonly energy: number;
    /** Whether the output was bit-exact. */
    readonly verified: boolean;
  };
  /** simulated cycles / estimated cycles. */
  readonly cycleRatio: number;
}

/** Options of {@link verifyMappings}. */
export interface VerifyOptions {
  /** Seed of the generated operands (default 1). */
  readonly seed?: string | number;
  /** Checked mode (tags on every storage word; slower). Default false. */
  readonly checked?: boolean;
  /** Called before each simulation with its index (0-based) and the count. */
  readonly onStart?: (index: number, count: number) => void;
}

/**
 * Simulates every mapping of `result.top` (file header).
 * @throws InvariantError when a simulated DRAM count differs from the closed form.
 */
export function verifyMappings(result: MapResult, options: VerifyOptions = {}): VerifiedCandidate[] {
  return result.top.map((c, i) => {
    options.onStart?.(i, result.top.length);
    const v = simulateCandidate(result, c, options);
    const d = v.dram;
    for (const t of TENSORS) {
      for (const kind of ["read", "write"] as const) {
        if (d[kind][t] !== c.estimate.dram[kind][t]) {
          throw new InvariantError("mapper", `mapping ${i + 1} of ${result.layer.name ?? "the layer"}: simulated dram.${kind}.${t} = ${d[kind][t]} words, the closed form counted ${c.estimate.dram[kind][t]}`);
        }
      }
    }
    return v.candidate;
  });
}

/**
 * Simulates one candidate of a search's layer and architecture (bit-exact, the output checked),
 * with no check of its DRAM words against the estimate: for mappings outside the search's space
 * (a named dataflow's, whose closed form may be an estimate), which {@link verifyMappings} would
 * refuse to vouch for.
 */
export function simulateCandidate(result: Pick<MapResult, "layer" | "arch" | "types" | "energyTable">, c: MapCandidate, options: VerifyOptions = {}): { candidate: VerifiedCandidate; dram: SimulationResult["traffic"]["dram"] } {
  const { layer, arch, types } = result;
  const r = simulate({ layer, arch, dataflow: c.mapping, types, seed: options.seed ?? 1, checked: options.checked ?? false });
  const d = r.traffic.dram;
  const energy = energyOf(r.counters, { ...types, gbufPsumBits: 8 * (arch.gbuf.psumBytes ?? 4) }, result.energyTable).total;
  const candidate = Object.freeze({
    ...c,
    simulated: Object.freeze({ dramWords: d.total, cycles: r.cycles, energy, verified: r.verification.ok }),
    cycleRatio: r.cycles / Math.max(1, c.estimate.cycles),
  });
  return { candidate, dram: d };
}

/**
 * The simulated value of an objective for a verified mapping: DRAM words, the energy of the
 * simulated counters, the simulated cycles, or their product.
 */
export function simulatedScore(c: VerifiedCandidate, objective: Objective): number {
  const s = c.simulated;
  return objective === "dram" ? s.dramWords : objective === "energy" ? s.energy : objective === "cycles" ? s.cycles : s.energy * s.cycles;
}

/**
 * Verified mappings ordered by their simulated objective, the estimate's order kept among equal
 * values: the search ranks by the closed-form estimate, and once mappings are simulated the
 * simulation is what they cost (for `dram` the two agree: verifyMappings checks it). Returns a
 * new array.
 */
export function rankBySimulation(verified: readonly VerifiedCandidate[], objective: Objective): VerifiedCandidate[] {
  return verified
    .map((c, i) => ({ c, i, v: simulatedScore(c, objective) }))
    .sort((a, b) => a.v - b.v || a.i - b.i)
    .map((x) => x.c);
}

