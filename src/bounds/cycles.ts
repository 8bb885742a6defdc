/**
 * The cycle lower bound of one simulated run: no run can take fewer cycles than its busiest
 * resource needs to serve what the run made it serve. Computed after the run from the counters
 * (what the run did: MACs, DRAM bursts, GBuf bank-word accesses, words on each network bus), the
 * architecture and the PEs the mapping uses; components never compute it (STYLE rule 8).
 *
 *     bound = max(compute, dram, gbuf.read, gbuf.write, noc.input, noc.weight, noc.psum, noc.drain)
 *
 *     compute    = ceil(pe.mac / (PEs used x m)),  m = min(array.macsPerCycle, floor(rf.readPorts / 2))
 *     dram       = ceil((dram.readBursts.* + dram.writeBursts.*) x dram.burstBytes / dram.bytesPerCycle)
 *     gbuf.read  = ceil(gbuf.bankReads.*  / min(gbuf.readPorts,  gbuf.banks x gbuf.wordsPerCyclePerBank))
 *     gbuf.write = ceil(gbuf.bankWrites.* / min(gbuf.writePorts, gbuf.banks x gbuf.wordsPerCyclePerBank))
 *     noc.<bus>  = ceil(noc.send.<bus> / <bus>WordsPerCycle)   (input, weight, psum: psumWordsPerCycle,
 *                                                               by default drainWordsPerCycle)
 *     noc.drain  = ceil(noc.drain.* / noc.drainWordsPerCycle)
 *
 * Why each term is a bound (docs/timing.md, "The cycle lower bound"): each resource is a FIFO
 * lane (or the DRAM data bus) that serves one job at a time, a job occupying it for at least
 * (its work) / (the resource's rate) cycles, every counted job completes within the run, and
 * cycles are integers. A counter is incremented when its job completes, so the bound holds for
 * the counters of a finished run.
 *
 * An `ideal` DRAM or GBuf (docs/timing.md) has no bandwidth: its terms are 0.
 *
 * Not bounded here: the neighbour links (their counter is words x hops, not lane time), the
 * register files' write ports during deliveries and fills, latencies (DRAM, pipeline, skew) and
 * dependences between resources: the bound is throughput only, so a run whose resources wait for
 * each other sits above it.
 */
import { ConfigError } from "../core/errors.js";
import type { ArchSpec } from "../arch/spec.js";

/** A resource of the cycle lower bound, named like its counters. */
export type CycleResource = "compute" | "dram" | "gbuf.read" | "gbuf.write" | "noc.input" | "noc.weight" | "noc.psum" | "noc.drain";

/** Every resource of the cycle lower bound, in the order ties are broken (the first wins). */
export const CYCLE_RESOURCES: readonly CycleResource[] = Object.freeze(["compute", "dram", "gbuf.read", "gbuf.write", "noc.input", "noc.weight", "noc.psum", "noc.drain"]);

/** One resource's figure: the work the run gave it, its peak rate, and the cycles that takes. */
export interface CycleTerm {
  /** The work the run gave the resource, in `unit`. */
  readonly amount: number;
  /** The unit of `amount` and `perCycle`: `MACs`, `bytes`, `accesses` (bank words) or `words`. */
  readonly unit: "MACs" | "bytes" | "accesses" | "words";
  /** The resource's peak rate, `unit` per cycle. */
  readonly perCycle: number;
  /**
   * The fewest cycles the resource needs for this work: ceil(amount / perCycle) (for `dram`,
   * bursts x cycles per burst, the same figure in integers).
   */
  readonly cycles: number;
}

/** The cycle lower bound of one run. */
export interface CycleBound {
  /** The bound: the largest term's cycles. */
  readonly cycles: number;
  /** The resource whose term is the bound (the first in {@link CYCLE_RESOURCES} order on a tie). */
  readonly binding: CycleResource;
  /** Every resource's term. */
  readonly terms: Readonly<Record<CycleResource, CycleTerm>>;
}

/** Counter values by hierarchical name (`engine.counters.values()`); a missing counter is 0. */
export type CounterValues = Readonly<Record<string, number>>;

/** The sum of the counters whose names start with `prefix` (e.g. `dram.readBursts.`). */
function sumOf(values: CounterValues, prefix: string): number {
  let n = 0;
  for (const k in values) if (k.startsWith(prefix)) n += values[k]!;
  return n;
}

/** A term; `cycles` defaults to ceil(amount / perCycle) (pass it when integer arithmetic gives it exactly). */
function term(amount: number, unit: CycleTerm["unit"], perCycle: number, cycles = Math.ceil(amount / perCycle)): CycleTerm {
  return { amount, unit, perCycle, cycles };
}

/** MACs one PE issues per cycle in the model (docs/timing.md): min(macsPerCycle, floor(rf.readPorts / 2)). */
export function peMacsPerCycle(arch: ArchSpec): number {
  const m = Math.min(arch.array.macsPerCycle, Math.floor(arch.rf.readPorts / 2));
  if (!(m >= 1)) throw new ConfigError("arch.rf.readPorts", arch.rf.readPorts, "be at least 2 (a MAC reads an input and a weight in the same cycle)");
  return m;
}

/**
 * The cycle lower bound of a run: the largest of the compute, DRAM, GBuf-port and network-bus
 * terms (file header), from the run's counters, its architecture and the PEs its mapping uses.
 * @param values counter values by name, as `engine.counters.values()` gives them.
 * @param arch the architecture the run used.
 * @param pesUsed PEs the mapping's spatial loops use (used rows x used columns).
 * @throws ConfigError when `pesUsed` is not an integer in 1 .. rows x cols, or a PE can issue no MAC.
 */
export function cycleLowerBound(values: CounterValues, arch: ArchSpec, pesUsed: number): CycleBound {
  const pes = arch.array.rows * arch.array.cols;
  if (!Number.isInteger(pesUsed) || pesUsed < 1 || pesUsed > pes) throw new ConfigError("pesUsed", pesUsed, `be an integer from 1 to the array's ${pes} PEs`);
  const { dram, gbuf, noc } = arch;
  const bursts = sumOf(values, "dram.readBursts.") + sumOf(values, "dram.writeBursts.");
  const bankRate = gbuf.banks * gbuf.wordsPerCyclePerBank;
  // An ideal GBuf serves any number of accesses per cycle.
  const gbufRate = (ports: number) => (gbuf.model === "ideal" ? Infinity : Math.min(ports, bankRate));
  const terms: Record<CycleResource, CycleTerm> = {
    compute: term(values["pe.mac"] ?? 0, "MACs", pesUsed * peMacsPerCycle(arch)),
    // The data bus moves bytesPerCycle bytes per cycle and every burst's bytes cross it (burst
    // waste included); an ideal DRAM has no bus.
    dram: term(bursts * dram.burstBytes, "bytes", dram.model === "ideal" ? Infinity : dram.bytesPerCycle),
    "gbuf.read": term(sumOf(values, "gbuf.bankReads."), "accesses", gbufRate(gbuf.readPorts)),
    "gbuf.write": term(sumOf(values, "gbuf.bankWrites."), "accesses", gbufRate(gbuf.writePorts)),
    "noc.input": term(values["noc.send.input"] ?? 0, "words", noc.inputWordsPerCycle),
    "noc.weight": term(values["noc.send.weight"] ?? 0, "words", noc.weightWordsPerCycle),
    "noc.psum": term(values["noc.send.psum"] ?? 0, "words", noc.psumWordsPerCycle ?? noc.drainWordsPerCycle),
    "noc.drain": term(sumOf(values, "noc.drain."), "words", noc.drainWordsPerCycle),
  };
  let binding: CycleResource = "compute";
  for (const r of CYCLE_RESOURCES) if (terms[r].cycles > terms[binding].cycles) binding = r;
  return { cycles: terms[binding].cycles, binding, terms };
}
