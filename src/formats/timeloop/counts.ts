/**
 * convsim's access counts in Timeloop's conventions (`simulate --counts timeloop`): per storage
 * level (keyed by the architecture's level names, `ArchSpec.levelNames`), per data space
 * (`Weights`, `Inputs`, `Outputs`), Timeloop's three actions: `reads` (words read out of the level,
 * to a child or the MACs), `fills` (words written into it from its parent) and `updates` (partial
 * sums written into it from below). Counters count actions; these are formulas over them,
 * afterwards (docs/counting.md, "In Timeloop's conventions", lists each with its reason):
 * - drain reads are not counted: reading a level's outputs to send them up is not a read;
 * - first-read elision: the first update of an output in a level reads nothing, so
 *   `reads = updates - D` with D the distinct outputs the level holds over the run;
 * - one register-file update per MAC (Timeloop has no accumulator that holds a run of MACs);
 * - spilled partial sums are filled back: a partial sum that comes back to a level is a fill
 *   there (convsim adds it at the level above instead);
 * - bounding boxes: an input tile is the whole box its windows span (padding and the rows a
 *   stride skips included), where convsim moves only the real words read; the counts are scaled
 *   per axis by the tiles' boxes over their touched words;
 * - halo only along the innermost loop: the global buffer's input fills (and DRAM's input reads)
 *   keep the overlap of consecutive tiles only while the innermost DRAM loop steps (reuse.ts);
 * - no diagonal multicast: the global buffer's input reads count one read per distinct
 *   (N, G, C, P, R, Q, S) spatial start where convsim shares one per input row (reuse.ts).
 * Operands streamed PE to PE (`mapping.rf.stream`) have no Timeloop form and are refused.
 */
import type { ArchSpec } from "../../arch/spec.js";
import { ConfigError } from "../../core/errors.js";
import type { CounterSnapshot } from "../../core/counters.js";
import { axisCoverage, inputSpan, loopNest, tileExtents, dimSizes, type Dim, type Mapping, type TensorName } from "../../dataflow/mapping.js";
import { convShape, layerAxis, type ConvLayer, type LayerAxis } from "../../workload/layer.js";
import { DATASPACE } from "./names.js";
import { diagonalShareFactor, timeloopGbufInputFills } from "./reuse.js";

/** Timeloop's three actions on one data space at one level, in words. */
export interface TimeloopActions {
  readonly reads: number;
  readonly fills: number;
  readonly updates: number;
}

/** Per level name, per data space (`Weights`, `Inputs`, `Outputs`) it keeps, Timeloop's actions. */
export type TimeloopCounts = Readonly<Record<string, Readonly<Partial<Record<string, TimeloopActions>>>>>;

/** What {@link timeloopCounts} needs of a simulation result. */
export interface CountsSource {
  readonly layer: ConvLayer;
  readonly arch: ArchSpec;
  readonly mapping: Mapping;
  readonly counters: CounterSnapshot;
}

/** Sum over aligned tiles of the box (span) each tile of `outTile` outputs by `kTile` taps covers along one axis. */
function boxSum(axis: LayerAxis, outTile: number, kTile: number): number {
  let sum = 0;
  for (let o0 = 0; o0 < axis.outSize; o0 += outTile) {
    for (let k0 = 0; k0 < axis.kernel; k0 += kTile) {
      sum += inputSpan(Math.min(outTile, axis.outSize - o0), Math.min(kTile, axis.kernel - k0), axis.stride, axis.dilation);
    }
  }
  return sum;
}

/** Timeloop's input words over convsim's at a level's tiles: per axis, the boxes' sum over the touched words' sum. */
export function boundingBoxFactor(layer: ConvLayer, mapping: Mapping, level: "gbuf" | "rf"): number {
  const e = tileExtents(mapping, layer, level);
  let f = 1;
  for (const [which, out, k] of [["h", e.P, e.R], ["w", e.Q, e.S]] as const) {
    const axis = layerAxis(layer, which);
    f *= boxSum(axis, Math.max(1, out), Math.max(1, k)) / axisCoverage(axis, out, k).sum;
  }
  return f;
}

/**
 * Distinct (PE, output) pairs over the run: every output, times the PEs a reduction dimension
 * (C, R, S) spread across the array puts it in (distinct spatial digits over the dimension's indices).
 */
export function peOutputPairs(layer: ConvLayer, mapping: Mapping): number {
  const sizes = dimSizes(layer);
  const nest = loopNest(mapping);
  let copies = 1;
  for (const d of ["C", "R", "S"] as Dim[]) {
    const loops = nest.map((l, j) => ({ l, inner: nest.slice(j + 1).filter((x) => x.dim === d).reduce((a, x) => a * x.factor, 1) })).filter((x) => x.l.dim === d && x.l.level === "spatial");
    if (loops.length === 0) continue;
    const seen = new Set<string>();
    for (let i = 0; i < sizes[d]; i++) seen.add(loops.map((x) => Math.floor(i / x.inner) % x.l.factor).join(","));
    copies *= seen.size;
  }
  return convShape(layer).outputElements * copies;
}

/** The level names of an architecture, with the defaults. */
export function levelNamesOf(arch: ArchSpec): Readonly<{ dram: string; gbuf: string; rf: Record<TensorName, string> }> {
  const n = arch.levelNames ?? {};
  const rf = n.rf ?? "RegisterFile";
  return { dram: n.dram ?? "DRAM", gbuf: n.gbuf ?? "GlobalBuffer", rf: { input: n.rfInput ?? rf, weight: n.rfWeight ?? rf, output: n.rfOutput ?? rf } };
}

const act = (reads: number, fills: number, updates: number): TimeloopActions => Object.freeze({ reads: Math.round(reads), fills: Math.round(fills), updates: Math.round(updates) });

/**
 * convsim's counts of a simulation in Timeloop's conventions (see the file header for the rules
 * and docs/counting.md for each formula).
 * @throws ConfigError when the mapping streams operands or fuses dimensions (no Timeloop form).
 */
export function timeloopCounts(r: CountsSource): TimeloopCounts {
  const m = r.mapping;
  if (m.rf.stream && Object.values(m.rf.stream).some(Boolean)) throw new ConfigError("--counts timeloop", "mapping.rf.stream", "be used without streamed operands: Timeloop has no operands passed PE to PE");
  if (m.fuse) throw new ConfigError("--counts timeloop", "mapping.fuse", "be used without fused dimensions: Timeloop's loops are over single dimensions");
  const c = (name: string) => r.counters[name]?.value ?? 0;
  const names = levelNamesOf(r.arch);
  const bRf = boundingBoxFactor(r.layer, m, "rf") * diagonalShareFactor(r.layer, m);
  const gbufFills = m.gbuf.keep.input ? timeloopGbufInputFills(r.layer, m) : 0;
  const pairs = peOutputPairs(r.layer, m);
  const copies = m.gbuf.keep.input ? c("gbuf.write.input") - c("dram.read.input") : 0;
  const out: Record<string, Record<string, TimeloopActions>> = {};
  const put = (level: string, t: TensorName, a: TimeloopActions) => ((out[level] ??= {})[DATASPACE[t]] = a);
  put(names.dram, "weight", act(c("dram.read.weight"), 0, 0));
  put(names.dram, "input", act(m.gbuf.keep.input ? gbufFills : c("dram.read.input") * bRf, 0, 0));
  put(names.dram, "output", act(c("dram.read.output"), 0, c("dram.write.output")));
  if (m.gbuf.keep.weight) put(names.gbuf, "weight", act(c("gbuf.read.weight"), c("dram.read.weight"), 0));
  if (m.gbuf.keep.input) put(names.gbuf, "input", act((c("gbuf.read.input") - copies) * bRf, gbufFills, 0));
  if (m.gbuf.keep.output) put(names.gbuf, "output", act(c("gbuf.add.output") + c("dram.read.output"), c("dram.read.output"), c("gbuf.write.output")));
  if (m.rf.keep.weight) put(names.rf.weight, "weight", act(c("rf.read.weight"), c("rf.write.weight"), 0));
  if (m.rf.keep.input) put(names.rf.input, "input", act(c("rf.read.input"), c("rf.write.input") * boundingBoxFactor(r.layer, m, "rf"), 0));
  if (m.rf.keep.output) put(names.rf.output, "output", act(c("pe.mac") - pairs, c("rf.fill.psum") - pairs, c("pe.mac")));
  return Object.freeze(out);
}
