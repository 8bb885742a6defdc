/**
 * The mapper's cost model: what a Mapping costs, in closed form, without simulating it.
 *
 * - DRAM words: `dramTraffic` (src/dataflow/traffic.ts), exact: the simulator's `dram.read.*` and
 *   `dram.write.*` to the word, for a GBuf that keeps every tensor, and for one that bypasses
 *   weights or outputs under the conditions of {@link exactTraffic} (no fused dimensions, the
 *   bypassed tensor not streamed, single-buffered register files, no PE idle at the edge; the
 *   mapper's search space is restricted to those). `verifyMappings` (verify.ts) asserts it.
 * - GBuf words towards the array: `gbufArrayAccesses` (an estimate: docs/counting.md), plus the
 *   GBuf's side of the DRAM transfers (a fill is a GBuf write, an output written back a GBuf read).
 * - Cycles: the formula of the cycle lower bound (src/bounds/cycles.ts), each resource's work
 *   counted in closed form instead of from counters: compute is the array's waves (the spatial
 *   tile's instances, `tileVisits`) times the rf loops' trips (a wave's MACs per PE, edge waves
 *   counted full), divided by the MACs a PE issues per cycle; the DRAM bus carries the DRAM words'
 *   bytes (bursts not rounded up); the GBuf's ports carry its words' bytes in bank words; each
 *   network bus carries the GBuf's reads of its tensor (a multicast is one send) and the drain
 *   path the outputs drained. One more term, `steps`, serializes the Sequencer's steps per gbuf
 *   iteration (drains, deliveries, the wave and its pipeline; DRAM transfers added unless the
 *   GBuf is double-buffered). The estimate is the largest term; DRAM latency, bank conflicts and
 *   stalls are not in it, so a simulated run takes more (docs/mapper.md).
 * - Energy: the energy table (src/report/energy.ts) applied to estimated counters: DRAM exact,
 *   GBuf as above, deliveries = GBuf reads x the PEs a multicast reaches, a register read per
 *   operand per MAC and a register write per delivered word, a psum read and write per MAC except
 *   inside the innermost run of rf loops over reduction dimensions (kept in the accumulator).
 *
 * {@link CostModel.lowerScore} is a cheap bound on a candidate's score from the parts that are
 * exact or bounds (DRAM words, MACs, the compute and DRAM terms): the search drops a candidate
 * whose bound cannot beat the scores it keeps before it checks legality or estimates the rest.
 */
import type { ArchSpec } from "../arch/spec.js";
import { peMacsPerCycle, type CycleResource } from "../bounds/cycles.js";
import { tensorBytes } from "../dataflow/legality.js";
import { dimSizes, levelTrips, REDUCTION_DIMS, spatialShape, TENSOR_DIMS, tileVisits, type Mapping, type TensorName } from "../dataflow/mapping.js";
import { dramTraffic, gbufArrayAccesses, type BoundaryWords } from "../dataflow/traffic.js";
import { energyOf, EYERISS_ENERGY_TABLE, type EnergyTable } from "../report/energy.js";
import type { OperandType } from "../workload/dtype.js";
import { convShape, type ConvLayer } from "../workload/layer.js";

/** What the mapper minimises: DRAM words, estimated energy, estimated cycles, or their product (energy-delay). */
export type Objective = "dram" | "energy" | "cycles" | "edp";

/** The objectives, in a stable order. */
export const OBJECTIVES: readonly Objective[] = Object.freeze(["dram", "energy", "cycles", "edp"] as Objective[]);

/** The closed-form figures of one mapping (see the file header). */
export interface Estimate {
  /** DRAM words per tensor and direction (exact). */
  readonly dram: BoundaryWords;
  /** Estimated GBuf reads and writes, words, all tensors. */
  readonly gbufReads: number;
  readonly gbufWrites: number;
  /** Estimated cycles: the largest term. */
  readonly cycles: number;
  /** The resource of the largest term, or `steps` when the serialized steps are. */
  readonly binding: CycleResource | "steps";
  /** Estimated energy, in the table's unit. */
  readonly energy: number;
  /** The objective's value (lower is better). */
  readonly score: number;
  /** What ranks equal scores (lower is better): the energy for the dram objective, else the DRAM words. */
  readonly tieBreak: number;
}

/** Options of {@link CostModel}. */
export interface CostOptions {
  readonly objective: Objective;
  /** Operand types (default int8 for both, as `simulate` generates). */
  readonly types?: { readonly input?: OperandType; readonly weight?: OperandType };
  /** Energy table (default the Eyeriss table). */
  readonly energyTable?: EnergyTable;
}

/** Scores mappings of one layer on one architecture (see the file header). */
export class CostModel {
  readonly objective: Objective;
  readonly types: { readonly input: OperandType; readonly weight: OperandType };
  readonly table: EnergyTable;
  private readonly macs: number;
  private readonly bytes: Readonly<Record<TensorName, number>>;
  private readonly perPe: number;
  /** Energy of one word per DRAM access (reads and writes cost the same), one MAC, one RF read, by tensor. */
  private readonly prices = new Map<string, number>();
  private readonly unit: { dram: Record<TensorName, number>; mac: number; rf: Record<TensorName, number> };

  constructor(
    readonly layer: ConvLayer,
    readonly arch: ArchSpec,
    options: CostOptions,
  ) {
    this.objective = options.objective;
    this.types = { input: options.types?.input ?? "int8", weight: options.types?.weight ?? "int8" };
    this.table = options.energyTable ?? EYERISS_ENERGY_TABLE;
    this.macs = convShape(layer).macs;
    this.bytes = tensorBytes(this.types, arch.gbuf.psumBytes);
    this.perPe = peMacsPerCycle(arch);
    const one = (name: string) => energyOf({ [name]: 1 }, this.energyTypes(), this.table).total;
    this.unit = {
      dram: { input: one("dram.read.input"), weight: one("dram.read.weight"), output: one("dram.read.output") },
      mac: one("pe.mac"),
      rf: { input: one("rf.read.input"), weight: one("rf.read.weight"), output: one("rf.read.psum") },
    };
  }

  /** The energy of one count of a counter (energyOf is linear in the counts; memoized). */
  private price(name: string): number {
    let p = this.prices.get(name);
    if (p === undefined) this.prices.set(name, (p = energyOf({ [name]: 1 }, this.energyTypes(), this.table).total));
    return p;
  }

  private energyTypes() {
    return { ...this.types, gbufPsumBits: 8 * (this.arch.gbuf.psumBytes ?? 4) };
  }

  /** The compute term: waves x rf trips / MACs per PE per cycle, and at least MACs over the PEs used. */
  computeCycles(m: Mapping): number {
    const { rows, cols } = spatialShape(m);
    const waves = tileVisits(m, this.layer, "spatial") * levelTrips(m, "rf");
    return Math.max(Math.ceil(waves / this.perPe), Math.ceil(this.macs / (rows * cols * this.perPe)));
  }

  /** The DRAM bus term: the DRAM words' bytes over the bus (outputs and psums are int32 in DRAM). */
  dramCycles(d: BoundaryWords): number {
    if (this.arch.dram.model === "ideal") return 0;
    const bytes = (d.read.input + d.write.input) * this.bytes.input + (d.read.weight + d.write.weight) * this.bytes.weight + (d.read.output + d.write.output) * 4;
    return Math.ceil(bytes / this.arch.dram.bytesPerCycle);
  }

  /** The energy of `dramWords` DRAM words at the cheapest tensor's word, every MAC and its two operand register reads: a floor of any mapping's energy. */
  energyFloor(dramWords: number): number {
    return dramWords * Math.min(this.unit.dram.input, this.unit.dram.weight, this.unit.dram.output) + this.macs * (this.unit.mac + this.unit.rf.input + this.unit.rf.weight);
  }

  /** DRAM energy (exact words x the table), MAC energy and two operand register reads per MAC: a lower part of the energy estimate. */
  private baseEnergy(d: BoundaryWords): number {
    let e = this.macs * (this.unit.mac + this.unit.rf.input + this.unit.rf.weight);
    for (const t of ["input", "weight", "output"] as const) e += (d.read[t] + d.write[t]) * this.unit.dram[t];
    return e;
  }

  /**
   * A cheap bound on the score of `m` (file header) and its exact DRAM words, which the full
   * estimate reuses.
   */
  lowerScore(m: Mapping): { readonly bound: number; readonly dram: BoundaryWords } {
    const dram = dramTraffic(m, this.layer);
    const cycles = () => Math.max(this.computeCycles(m), this.dramCycles(dram));
    switch (this.objective) {
      case "dram":
        return { bound: dram.total, dram };
      case "energy":
        return { bound: this.baseEnergy(dram), dram };
      case "cycles":
        return { bound: cycles(), dram };
      case "edp":
        return { bound: this.baseEnergy(dram) * cycles(), dram };
    }
  }

  /** The full estimate of a (legal) mapping; `dram` from {@link lowerScore} when already computed. */
  estimate(m: Mapping, dram: BoundaryWords = dramTraffic(m, this.layer)): Estimate {
    const counters = this.counters(m, dram);
    const { cycles, binding } = this.cycleTerms(m, dram, counters);
    let energy = 0;
    for (const name in counters) energy += counters[name]! * this.price(name);
    const gbufReads = counters["gbuf.read.input"]! + counters["gbuf.read.weight"]! + counters["gbuf.read.output"]!;
    const gbufWrites = counters["gbuf.write.input"]! + counters["gbuf.write.weight"]! + counters["gbuf.write.output"]!;
    const score = this.objective === "dram" ? dram.total : this.objective === "energy" ? energy : this.objective === "cycles" ? cycles : energy * cycles;
    return Object.freeze({ dram, gbufReads, gbufWrites, cycles, binding, energy, score, tieBreak: this.objective === "dram" ? energy : dram.total });
  }

  /** Estimated counters, named as the simulator names them (file header). */
  counters(m: Mapping, dram: BoundaryWords): Record<string, number> {
    const ga = gbufArrayAccesses(m, this.layer);
    const fan = (t: TensorName) => m.spatial.loops.reduce((p, l) => (TENSOR_DIMS[t].includes(l.dim) ? p : p * l.factor), 1);
    // A tensor the GBuf bypasses goes from DRAM to the PEs directly (its DRAM reads are its sends).
    const sendWeight = m.gbuf.keep.weight ? ga.read.weight : dram.read.weight;
    const deliverInput = ga.read.input * fan("input");
    const deliverWeight = sendWeight * fan("weight");
    // Psums stay in the accumulator over the innermost run of rf loops over reduction dimensions.
    let run = 1;
    for (let i = m.rf.loops.length - 1; i >= 0 && REDUCTION_DIMS.includes(m.rf.loops[i]!.dim); i--) run *= m.rf.loops[i]!.factor;
    const psum = Math.ceil(this.macs / run);
    return {
      "pe.mac": this.macs,
      "dram.read.input": dram.read.input,
      "dram.read.weight": dram.read.weight,
      "dram.read.output": dram.read.output,
      "dram.write.output": dram.write.output,
      "gbuf.read.input": ga.read.input,
      "gbuf.read.weight": ga.read.weight,
      "gbuf.read.output": ga.read.output + (m.gbuf.keep.output ? dram.write.output : 0),
      "gbuf.write.input": ga.write.input + (m.gbuf.keep.input ? dram.read.input : 0),
      "gbuf.write.weight": m.gbuf.keep.weight ? dram.read.weight : 0,
      "gbuf.write.output": ga.write.output + (m.gbuf.keep.output ? dram.read.output : 0),
      "noc.deliver.input": deliverInput,
      "noc.deliver.weight": deliverWeight,
      "noc.send.input": ga.read.input,
      "noc.send.weight": sendWeight,
      "noc.drain.output": m.gbuf.keep.output ? ga.write.output : dram.write.output,
      "rf.read.input": this.macs,
      "rf.read.weight": this.macs,
      "rf.write.input": deliverInput,
      "rf.write.weight": deliverWeight,
      "rf.read.psum": psum,
      "rf.write.psum": psum,
    };
  }

  /** The cycle terms of the estimate (file header) and the largest. */
  private cycleTerms(m: Mapping, dram: BoundaryWords, c: Record<string, number>): { cycles: number; binding: CycleResource | "steps" } {
    const { gbuf, noc } = this.arch;
    const bankBytes = gbuf.bankWordBytes;
    const ideal = gbuf.model === "ideal";
    const rate = (ports: number) => Math.min(ports, gbuf.banks * gbuf.wordsPerCyclePerBank);
    const gbufBytes = (kind: "read" | "write") =>
      c[`gbuf.${kind}.input`]! * this.bytes.input + c[`gbuf.${kind}.weight`]! * this.bytes.weight + c[`gbuf.${kind}.output`]! * this.bytes.output;
    const terms: [CycleResource | "steps", number][] = [
      ["compute", this.computeCycles(m)],
      ["dram", this.dramCycles(dram)],
      ["gbuf.read", ideal ? 0 : Math.ceil(gbufBytes("read") / bankBytes / rate(gbuf.readPorts))],
      ["gbuf.write", ideal ? 0 : Math.ceil(gbufBytes("write") / bankBytes / rate(gbuf.writePorts))],
      ["noc.input", Math.ceil(c["noc.send.input"]! / noc.inputWordsPerCycle)],
      ["noc.weight", Math.ceil(c["noc.send.weight"]! / noc.weightWordsPerCycle)],
      ["noc.drain", Math.ceil(c["noc.drain.output"]! / noc.drainWordsPerCycle)],
      ["steps", this.stepCycles(m, dram, c)],
    ];
    let best = terms[0]!;
    for (const t of terms) if (t[1] > best[1]) best = t;
    return { cycles: best[1], binding: best[0] };
  }

  /**
   * The Sequencer's steps, serialized (docs/timing.md, "The Sequencer"): per gbuf iteration, the
   * drains, the deliveries (the input and weight buses side by side, each at most its width and a
   * PE's RF write ports) and the wave (its issue cycles and the MAC pipeline); deliveries overlap
   * the wave with double-buffered register files, and the DRAM transfers overlap everything with
   * a double-buffered GBuf (else they add) except the first tile's fill and the last write-back
   * (a DRAM latency and a tile's share of the DRAM bus each).
   */
  private stepCycles(m: Mapping, dram: BoundaryWords, c: Record<string, number>): number {
    const { noc, array, rf } = this.arch;
    const { rows, cols } = spatialShape(m);
    const pes = rows * cols;
    const deliver = (t: "input" | "weight", width: number) => Math.max(c[`noc.send.${t}`]! / width, c[`noc.deliver.${t}`]! / pes / rf.writePorts);
    const deliveries = Math.max(deliver("input", noc.inputWordsPerCycle), deliver("weight", noc.weightWordsPerCycle));
    const waves = tileVisits(m, this.layer, "spatial");
    const wave = waves * (Math.ceil(levelTrips(m, "rf") / this.perPe) + array.pipelineLatency);
    const drains = c["noc.drain.output"]! / noc.drainWordsPerCycle;
    const core = drains + (m.rf.doubleBuffer ? Math.max(deliveries, wave) : deliveries + wave);
    const dramCycles = this.dramCycles(dram);
    // With a double-buffered GBuf the first tile's fill and the last one's write-back still stand alone.
    const ends = this.arch.dram.model === "ideal" ? 0 : 2 * this.arch.dram.latencyCycles + dramCycles / tileVisits(m, this.layer, "gbuf");
    return Math.ceil(m.gbuf.doubleBuffer ? Math.max(core, dramCycles) + ends : core + dramCycles);
  }
}

/**
 * Whether the closed-form DRAM count is exact for `m` (file header; src/dataflow/traffic.ts says
 * where it is not): the GBuf keeps inputs (a bypassed input's sliding window is not counted
 * exactly), and when it keeps weights and outputs too, nothing more is needed. A weight or output
 * tensor the GBuf bypasses moves in RF tiles over the dram and gbuf loops together, and the count
 * assumes each visit of a tile fetches it again; that holds when
 * - the mapping fuses no dimensions (the fused count of RF tiles is an estimate),
 * - the bypassed tensor does not stream through the PEs (`rf.stream`: a streamed operand passes
 *   through and is fetched at every gbuf iteration),
 * - the register files are single-buffered, and so are the partial sums when outputs are
 *   bypassed (double-buffered, each half keeps the tile it last held, so tiles that alternate
 *   between the halves come back without a fetch),
 * - every dimension with a spatial loop tiles evenly (no PE idles at the edge, to resume later a
 *   tile it held).
 * test/dataflow/traffic.test.ts compares the count with the simulator on random legal mappings
 * this vouches for.
 */
export function exactTraffic(m: Mapping, layer: ConvLayer): boolean {
  if (!m.gbuf.keep.input) return false;
  if (m.gbuf.keep.weight && m.gbuf.keep.output) return true;
  if ((m.fuse?.length ?? 0) > 0 || m.rf.doubleBuffer) return false;
  for (const t of ["weight", "output"] as const) if (!m.gbuf.keep[t] && m.rf.stream?.[t]) return false;
  if (!m.gbuf.keep.output && m.rf.doubleBufferOutput) return false;
  const sizes = dimSizes(layer);
  for (const l of m.spatial.loops) {
    let inner = 1;
    for (const r of m.rf.loops) if (r.dim === l.dim) inner *= r.factor;
    for (const s of m.spatial.loops) if (s.dim === l.dim) inner *= s.factor;
    if (sizes[l.dim] % inner !== 0) return false;
  }
  return true;
}
