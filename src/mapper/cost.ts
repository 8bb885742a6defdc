/**
 * The mapper's cost model: what a Mapping costs, in closed form, without simulating it.
 *
 * - DRAM words: `dramTraffic` (src/dataflow/traffic.ts), exact: the simulator's `dram.read.*` and
 *   `dram.write.*` to the word, for a GBuf that keeps every tensor, and for one that bypasses
 *   weights or outputs under the conditions of {@link exactTraffic} (no fused dimensions, the
 *   bypassed tensor not streamed, single-buffered register files, no PE idle at the edge; the
 *   mapper's search space is restricted to those). `verifyMappings` (verify.ts) asserts it.
 * - GBuf words towards the array: `gbufArrayAccesses` (an estimate: docs/counting.md), with a
 *   streamed tensor's tiles sent at every gbuf iteration and the input a sliding window keeps in
 *   the register files left out (below), plus the GBuf's side of the DRAM transfers (a fill is a
 *   GBuf write, an output written back a GBuf read).
 * - Cycles: the largest of the cycle lower bound's terms (src/bounds/cycles.ts), each resource's
 *   work counted in closed form instead of from counters, and `steps`, the Sequencer's steps
 *   serialized as the simulator runs them (docs/mapper.md, "Cycles"). Compute is the array's
 *   waves (the spatial tile's instances, `tileVisits`) times the rf loops' trips over the MACs a
 *   PE issues per cycle; the DRAM channel takes the transfers' bursts (bursts.ts: each tile's
 *   shape in DRAM, an input tile's rows and columns in the runs the fetch reads them in, aligned
 *   bursts, the bytes they carry unasked) at the bus's rate or, when
 *   latency binds, the outstanding window's; the GBuf's ports take its bank words (the array's
 *   tiles in the GBuf tile's order); each network bus carries the GBuf's reads of its tensor (a
 *   multicast is one send, a streamed tensor is sent at every gbuf iteration, a sliding window
 *   sends only what it does not keep) and the drain path the words the PEs drain (each PE that
 *   holds a share of a sum, unless links sum them along a line). `steps` adds, per gbuf
 *   iteration, the drains (with their link hops and the accumulation in the GBuf), the
 *   deliveries, the wave (with a streamed wave's skew) and each step's two-cycle round trip, and
 *   what the DRAM adds: a fetch (DRAM reads, then GBuf writes) runs beside the tiles with a
 *   double-buffered GBuf (what an outer dram loop's step fetches beyond a tile's work waits:
 *   prefetch.ts), else between them; a write-back waits its latency; an operand the GBuf bypasses,
 *   and a drain of outputs it bypasses, wait for DRAM at every iteration whose tile changes.
 *   Bank conflicts and the overlap of a double-buffered program's steps are not modeled; the
 *   simulated cycles of the searches' winners were 0.45x to 2.7x the estimate, 0.85x to 1.42x
 *   from the 10th to the 90th percentile (bench/cycle-estimate.ts; docs/mapper.md).
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
import { dimSizes, fusedGroupOf, levelTrips, REDUCTION_DIMS, spatialShape, TENSOR_DIMS, tileVisits, type Mapping, type TensorName } from "../dataflow/mapping.js";
import { dramTraffic, gbufArrayAccesses, type BoundaryWords } from "../dataflow/traffic.js";
import { bankWordsPerWord, burstCycles, dramBursts, levelExtents, tilesOf, type LevelExtents } from "./bursts.js";
import { unevenPrefetch } from "./prefetch.js";
import { streamedAccesses } from "./streamed.js";
import { energyOf, EYERISS_ENERGY_TABLE, type EnergyTable } from "../report/energy.js";
import type { OperandType } from "../workload/dtype.js";
import { convShape, type ConvLayer } from "../workload/layer.js";


/** The GBuf's estimated bank-word accesses, by what they serve (CostModel's `gbufBankWords`). */
interface GbufBankWords {
  readonly read: number;
  readonly write: number;
  readonly fill: number;
  readonly operands: number;
  readonly psumRead: number;
  readonly psumWrite: number;
}

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
  /** What ranks equal scores (lower is better): energy x cycles for the dram objective, else the DRAM words. */
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
  /** The layer's output words. */
  private readonly outputs: number;
  private readonly bytes: Readonly<Record<TensorName, number>>;
  private readonly perPe: number;
  /** Cycles a DRAM burst takes in a stream (bursts.ts, `burstCycles`). */
  private readonly burstTime: number;
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
    this.outputs = convShape(layer).outputElements;
    this.bytes = tensorBytes(this.types, arch.gbuf.psumBytes);
    this.perPe = peMacsPerCycle(arch);
    this.burstTime = burstCycles(arch);
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
    const x = levelExtents(m, this.layer);
    const counters = this.countersAt(m, dram, x);
    const { cycles, binding } = this.cycleTerms(m, dram, counters, x);
    let energy = 0;
    for (const name in counters) energy += counters[name]! * this.price(name);
    const gbufReads = counters["gbuf.read.input"]! + counters["gbuf.read.weight"]! + counters["gbuf.read.output"]!;
    const gbufWrites = counters["gbuf.write.input"]! + counters["gbuf.write.weight"]! + counters["gbuf.write.output"]!;
    const score = this.objective === "dram" ? dram.total : this.objective === "energy" ? energy : this.objective === "cycles" ? cycles : energy * cycles;
    return Object.freeze({ dram, gbufReads, gbufWrites, cycles, binding, energy, score, tieBreak: this.objective === "dram" ? energy * cycles : dram.total });
  }

  /** Estimated counters, named as the simulator names them (file header). */
  counters(m: Mapping, dram: BoundaryWords): Record<string, number> {
    return this.countersAt(m, dram, levelExtents(m, this.layer));
  }

  /** {@link counters} with the mapping's tile extents at hand. */
  private countersAt(m: Mapping, dram: BoundaryWords, x: LevelExtents): Record<string, number> {
    const ga0 = streamedAccesses(m, this.layer, gbufArrayAccesses(m, this.layer), x);
    const ga = { ...ga0, read: { ...ga0.read, input: ga0.read.input * this.inputSlide(m, x) } };
    const fan = (t: TensorName) => m.spatial.loops.reduce((p, l) => (TENSOR_DIMS[t].includes(l.dim) ? p : p * l.factor), 1);
    // A tensor the GBuf bypasses goes from DRAM to the PEs directly (its DRAM reads are its sends).
    const sendWeight = m.gbuf.keep.weight ? ga.read.weight : dram.read.weight;
    const deliverInput = ga.read.input * fan("input");
    const deliverWeight = sendWeight * fan("weight");
    // Psums stay in the accumulator over the innermost run of rf loops over reduction dimensions.
    let run = 1;
    for (let i = m.rf.loops.length - 1; i >= 0 && REDUCTION_DIMS.includes(m.rf.loops[i]!.dim); i--) run *= m.rf.loops[i]!.factor;
    const psum = Math.ceil(this.macs / run);
    // Drains (docs/counting.md, "Drains"): each draining PE's words are read; holders that fill a
    // line sum along it first, its L - 1 hops each a link move, two psum reads and a write. A
    // streamed output's sums start afresh at every wave (a fill per run).
    // (every holder of a sum drains it unless links sum them along their line: spreadOf)
    const spread = this.spreadOf(m, x);
    const drained = (m.gbuf.keep.output || m.rf.stream?.output ? ga.write.output : dram.write.output) * (spread.line ? 1 : spread.pes);
    const hops = spread.line ? drained * (spread.use - 1) : 0;
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
      "noc.drain.output": drained,
      "noc.link.psum": hops,
      "rf.read.input": this.macs,
      "rf.read.weight": this.macs,
      "rf.write.input": deliverInput,
      "rf.write.weight": deliverWeight,
      "rf.read.psum": psum + drained + 2 * hops,
      "rf.write.psum": psum + hops,
      "rf.fill.psum": m.rf.stream?.output ? psum : 0,
    };
  }

  /**
   * The share of the input tiles' words that reach the register files when a window slides
   * (docs/counting.md, "Sliding windows (input halo in the RF)"): with single-buffered register
   * files, when the innermost gbuf loop steps a sliding dimension (P, Q, R or S) that no spatial
   * loop splits, each PE's next window overlaps its resident one and only the rest comes (on
   * dense spans: every row and column some window reads). 1 otherwise.
   */
  private inputSlide(m: Mapping, x: LevelExtents): number {
    if (m.rf.doubleBuffer || m.rf.stream?.input || !m.gbuf.keep.input || m.rf.keep.input === false) return 1;
    let inner: { dim: string; factor: number } | undefined;
    for (const l of m.gbuf.loops) if (l.factor > 1) inner = l;
    if (!inner || !["P", "Q", "R", "S"].includes(inner.dim) || m.spatial.loops.some((l) => l.dim === inner.dim && l.factor > 1)) return 1;
    const t = x.rf;
    const L = this.layer;
    const axis = (o: number, k: number, stride: number, dil: number) => {
      const rows = new Set<number>();
      for (let p = 0; p < o; p++) for (let r = 0; r < k; r++) rows.add(p * stride + r * dil);
      const span = (o - 1) * stride + (k - 1) * dil + 1;
      return { span, dense: rows.size === span };
    };
    const h = axis(t.P, t.R, L.strides[0], L.dilations[0]);
    const w = axis(t.Q, t.S, L.strides[1], L.dilations[1]);
    if (!h.dense || !w.dense) return 1;
    const [span, shift] =
      inner.dim === "P" ? [h.span, t.P * L.strides[0]] : inner.dim === "R" ? [h.span, t.R * L.dilations[0]] : inner.dim === "Q" ? [w.span, t.Q * L.strides[1]] : [w.span, t.S * L.dilations[1]];
    const kept = Math.max(0, span - shift) / span;
    return 1 - ((inner.factor - 1) / inner.factor) * kept;
  }

  /**
   * How the spatial loops over reduction dimensions (C, R, S) spread each sum (docs/counting.md,
   * "Drains"): `pes`, the PEs they spread it over, each draining its partial sums to the adder on
   * the drain path; `line`, whether neighbour links sum them along the one line of the array they
   * fill instead (one PE then drains); `use`, the PEs that hold a sum on average over the folds:
   * per loop (or a fused group led by one), its points in a gbuf tile over its folds (a last fold
   * shorter than the loop's factor holds fewer).
   */
  private spreadOf(m: Mapping, x: LevelExtents): { readonly pes: number; readonly line: boolean; readonly use: number } {
    let pes = 1, use = 1;
    const axes = new Set<string>();
    for (const l of m.spatial.loops) {
      if (!REDUCTION_DIMS.includes(l.dim) || l.factor === 1) continue;
      pes *= l.factor;
      axes.add(l.axis);
      const g = fusedGroupOf(m, l.dim);
      const points = g ? g.extents.reduce((a, e) => a * e, 1) : Math.ceil(x.gbuf[l.dim] / x.rf[l.dim]);
      use *= points / Math.ceil(points / l.factor);
    }
    return { pes, line: this.arch.noc.neighbourLinks && axes.size === 1, use };
  }

  /** The cycle terms of the estimate (file header) and the largest. */
  private cycleTerms(m: Mapping, dram: BoundaryWords, c: Record<string, number>, x: LevelExtents): { cycles: number; binding: CycleResource | "steps" } {
    const { gbuf, noc } = this.arch;
    const bursts = dramBursts(m, this.layer, this.arch, dram, this.bytes, x);
    const dramTime = Math.ceil((bursts.input + bursts.weight + bursts.output) * this.burstTime);
    const rate = (ports: number) => Math.min(ports, gbuf.banks * gbuf.wordsPerCyclePerBank);
    const bank = this.gbufBankWords(m, dram, c, x);
    const { read, write, fill } = bank;
    const ideal = gbuf.model === "ideal";
    // A fetch thread reads DRAM, then writes the GBuf: its time is both.
    const fetch = dramTime + (ideal ? 0 : fill / rate(gbuf.writePorts));
    const terms: [CycleResource | "steps", number][] = [
      ["compute", this.computeCycles(m)],
      ["dram", Math.max(this.dramCycles(dram), dramTime)],
      ["gbuf.read", ideal ? 0 : Math.ceil(read / rate(gbuf.readPorts))],
      ["gbuf.write", ideal ? 0 : Math.ceil(write / rate(gbuf.writePorts))],
      ["noc.input", Math.ceil(c["noc.send.input"]! / noc.inputWordsPerCycle)],
      ["noc.weight", Math.ceil(c["noc.send.weight"]! / noc.weightWordsPerCycle)],
      ["noc.drain", Math.ceil(c["noc.drain.output"]! / noc.drainWordsPerCycle)],
      ["steps", this.stepCycles(m, x, fetch, c, ideal ? undefined : { ...bank, readRate: rate(gbuf.readPorts), writeRate: rate(gbuf.writePorts) }, bursts)],
    ];
    let best = terms[0]!;
    for (const t of terms) if (t[1] > best[1]) best = t;
    return { cycles: best[1], binding: best[0] };
  }

  /**
   * The GBuf's estimated bank-word accesses: its side of the DRAM transfers in whole bank words
   * (tiles move whole: `fill`, the writes of a fetch, and the write-backs' reads), the array's
   * tiles at the bank words their shape takes (bursts.ts, `bankWordsPerWord`): `operands`, the
   * reads of inputs and weights for deliveries, and the partial sums' reads and writes (`psumRead`,
   * `psumWrite`, the accumulations of drained sums); `read` and `write` are the totals.
   */
  private gbufBankWords(m: Mapping, dram: BoundaryWords, c: Record<string, number>, x: LevelExtents): GbufBankWords {
    const per = bankWordsPerWord(m, this.layer, this.arch, this.bytes, x);
    const bank = this.arch.gbuf.bankWordBytes;
    const b = this.bytes;
    // The DRAM side of each counter (counters(): fills are GBuf writes, write-backs GBuf reads).
    const fillIn = m.gbuf.keep.input ? dram.read.input : 0;
    const fillW = m.gbuf.keep.weight ? dram.read.weight : 0;
    const outBack = m.gbuf.keep.output ? dram.write.output : 0;
    const outFill = m.gbuf.keep.output ? dram.read.output : 0;
    const operands = c["gbuf.read.input"]! * per.input + c["gbuf.read.weight"]! * per.weight;
    const psumRead = (c["gbuf.read.output"]! - outBack) * per.output;
    const psumWrite = (c["gbuf.write.output"]! - outFill) * per.output;
    const fill = (fillIn * b.input + fillW * b.weight + outFill * b.output) / bank;
    const halo = (c["gbuf.write.input"]! - fillIn) * per.input;
    return { read: operands + psumRead + (outBack * b.output) / bank, write: psumWrite + halo + fill, fill, operands, psumRead, psumWrite };
  }

  /**
   * The Sequencer's steps, serialized (docs/timing.md, "The Sequencer"): per gbuf iteration, the
   * drains, the deliveries (the input and weight buses side by side, each at most its width and a
   * PE's RF write ports) and the wave (its issue cycles and the MAC pipeline); with double-buffered
   * register files the deliveries and the GBuf reads that feed them overlap the wave, a streamed
   * output's words leave during it, and the DRAM transfers overlap everything with
   * a double-buffered GBuf (else they add) except the first tile's fill and the last write-back
   * (a DRAM latency and a tile's share of the DRAM bus each). Each step is a transaction: it is
   * seen two cycles after its work (docs/timing.md, "Engine and channels"), and a drain adds its
   * PEs' read, its sums' link reduction (L - 1 hops) and their write into the GBuf. An operand the
   * GBuf bypasses is read from DRAM at each iteration whose tile of it changes, beside the wave
   * before: what its latency and bursts take beyond that wave, the iteration waits.
   */
  private stepCycles(m: Mapping, x: LevelExtents, dramCycles: number, c: Record<string, number>, gb: (GbufBankWords & { readRate: number; writeRate: number }) | undefined, bursts: Record<TensorName, number>): number {
    const { noc, array, rf, dram } = this.arch;
    const { rows, cols } = spatialShape(m);
    const pes = rows * cols;
    // (a streamed operand's words pass through the PEs' registers: only its bus binds them)
    const deliver = (t: "input" | "weight", width: number) => Math.max(c[`noc.send.${t}`]! / width, m.rf.stream?.[t] ? 0 : c[`noc.deliver.${t}`]! / pes / rf.writePorts);
    const dIn = deliver("input", noc.inputWordsPerCycle);
    const dW = deliver("weight", noc.weightWordsPerCycle);
    const deliveries = Math.max(dIn, dW);
    const iterations = tilesOf(x, "spatial");
    const issue = Math.ceil(levelTrips(m, "rf") / this.perPe);
    // Streamed operands enter skewed at the array's edges: each wave waits rows + cols - 2 more.
    const skew = m.rf.stream?.input || m.rf.stream?.weight || m.rf.stream?.output ? rows + cols - 2 : 0;
    const wave = iterations * (issue + array.pipelineLatency + skew);
    // Drains: the summed words, a drain of the spatial tile's outputs each.
    const summed = m.gbuf.keep.output ? c["gbuf.write.output"]! - c["dram.read.output"]! : c["dram.write.output"]!;
    const sp = x.spatial;
    const rfTile = x.rf;
    // (a fused group's spatial tile is a run of its flattened points, not a box: the layer's outputs over its tiles)
    const drainsCount = summed / (x.tiles ? this.outputs / tileVisits(m, this.layer, "spatial", TENSOR_DIMS.output) : sp.N * sp.G * sp.K * sp.P * sp.Q);
    const spread = this.spreadOf(m, x);
    const line = spread.line ? spread.pes : 1;
    const perPeWords = rfTile.N * rfTile.G * rfTile.K * rfTile.P * rfTile.Q;
    // (a streamed output's sums move down the line during their wave: its reduction takes the last hop)
    const perDrain = 4 + (line > 1 ? (m.rf.stream?.output ? 1 : perPeWords + line + 1) : 0) + 3;
    // (a streamed output leaves during its wave: the drain path carried its words then)
    const drains = (m.rf.stream?.output ? 0 : c["noc.drain.output"]! / noc.drainWordsPerCycle) + drainsCount * perDrain;
    // Operands the GBuf bypasses: a DRAM read at each iteration whose tile of them changes (the
    // register files keep it otherwise), overlapping the wave before.
    let bypass = 0;
    if (dram.model !== "ideal" && (!m.gbuf.keep.input || !m.gbuf.keep.weight)) {
      const w = sp.G * sp.K * sp.C * sp.R * sp.S;
      const fetches = Math.min(iterations, m.gbuf.keep.weight ? iterations : c["dram.read.weight"]! / Math.max(1, w));
      const perFetch = dramCycles / Math.max(1, fetches) + dram.latencyCycles + 2;
      bypass = fetches * Math.max(0, perFetch - (issue + array.pipelineLatency));
    }
    // The drained sums' accumulation in the GBuf (its read side beside its write side, the add a
    // cycle) follows the drain, or, when the GBuf bypasses outputs, their write into DRAM (a read
    // first where DRAM holds partial sums): each waits its latency. The reads for the next
    // deliveries go beside the wave.
    const toDram = !m.gbuf.keep.output && dram.model !== "ideal" ? drainsCount * (dram.latencyCycles + 2) * (1 + c["dram.read.output"]! / Math.max(1, c["dram.write.output"]!)) : 0;
    const rmw = (gb && m.gbuf.keep.output ? Math.max(gb.psumRead / gb.readRate, gb.psumWrite / gb.writeRate + drainsCount) + 2 * drainsCount : 0) + toDram;
    // (drains beside the waves share the GBuf's read lane with the operands' reads)
    const beside = Boolean(m.rf.stream?.output || m.rf.doubleBufferOutput);
    const reads = gb ? (gb.operands + (beside && m.gbuf.keep.output ? gb.psumRead : 0)) / gb.readRate : 0;
    // Single-buffered, a streamed operand still comes early (into the stand-in's other half,
    // beside the wave before); the rest waits for the wave.
    const early = (t: "input" | "weight") => Boolean(m.rf.stream?.[t]);
    const late = Math.max(early("input") ? 0 : dIn, early("weight") ? 0 : dW);
    const ahead = Math.max(early("input") ? dIn : 0, early("weight") ? dW : 0);
    const feed = m.rf.doubleBuffer ? Math.max(deliveries, wave, reads) : late + Math.max(wave, ahead, reads) + 4 * iterations;
    // A streamed output drains in flight, and two accumulator sets drain one while the next wave
    // fills the other: the drains and their accumulation then run beside the waves.
    const core = beside ? Math.max(drains + rmw, bypass + feed) : drains + rmw + bypass + feed;
    // With a double-buffered GBuf a tile's fetch runs beside the tile before, its DRAM reads
    // pipelined with the others', and the first tile's fill and the last one's write-back stand
    // alone; but a GBuf output tile written back must be in DRAM before its half takes the next
    // tile's sums, so each write-back waits its latency. With one buffer, each dram tile's fill
    // and write-back wait theirs too.
    const tiles = tilesOf(x, "gbuf");
    const latency = dram.model === "ideal" ? 0 : dram.latencyCycles + 2;
    const g = x.gbuf;
    const writeBacks = m.gbuf.keep.output ? Math.min(tiles, c["dram.write.output"]! / (g.N * g.G * g.K * g.P * g.Q)) : 0;
    // (the tiles where an outer dram loop steps fetch more than the others: prefetch.ts)
    if (m.gbuf.doubleBuffer) return Math.ceil(Math.max(core + unevenPrefetch(m, bursts, dramCycles, core / tiles), dramCycles + writeBacks * latency) + 2 * latency + dramCycles / tiles);
    return Math.ceil(core + dramCycles + (tiles + writeBacks) * latency);
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
