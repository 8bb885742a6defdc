/**
 * A Timeloop mapping (directives) as a convsim Mapping, for the levels of levels.ts:
 * - the DRAM level's temporal loops are convsim's `dram` loops, the global buffer's its `gbuf`
 *   loops (a two-level architecture has none: convsim's global buffer passes every data space through), each permutation reversed (Timeloop lists the innermost loop first, convsim the
 *   outermost), loops of factor 1 dropped, dimensions renamed (names.ts: P <-> Q, R <-> S);
 * - the spatial directives of the global buffer and the fan-out-only levels below it are convsim's
 *   `spatial` loops: X (permutation positions below `split`) on PE columns, Y on rows; an outer
 *   fan-out's loops are the coarser digits of a PE's coordinate; row loops are listed before
 *   column loops (the order across axes means nothing in convsim);
 * - the per-PE levels' temporal loops are convsim's `rf` loops, the outer level's first. This is
 *   exact only when no loop of an outer per-PE level runs over a dimension that indexes a data
 *   space an inner per-PE level keeps (then that space's tile is the same in both tools); else
 *   the file is refused.
 * Factors must multiply to each dimension exactly (Timeloop's model needs it).
 */
import { mapping as buildMapping, TENSOR_DIMS, type Mapping, type SpatialLoop, type TemporalLoop, type TensorName } from "../../dataflow/mapping.js";
import type { ConvLayer } from "../../workload/layer.js";
import type { ArchNode } from "./arch.js";
import type { LoopDirective, TimeloopDirectives } from "./directives.js";
import { targetLevel, type ConvsimLevels, type KeepMap } from "./levels.js";
import { DATASPACE, FROM_TIMELOOP, type TimeloopDim } from "./names.js";
import { timeloopSizes } from "./problem.js";
import { atSource, Where } from "./yaml.js";

const ALL: readonly TensorName[] = ["input", "weight", "output"];

/** A directive's loops, outermost first, factor-1 loops dropped, each with its position in the permutation. */
function orderedLoops(d: LoopDirective): { dim: TimeloopDim; factor: number; position: number }[] {
  const real = [...d.factors].filter(([, f]) => f > 1);
  if (d.permutation === undefined) {
    if (real.length > 1) throw d.where.at("permutation").error(undefined, `be given: the loops ${real.map(([x]) => x).join(", ")} need an order (innermost first)`);
    return real.map(([dim, factor]) => ({ dim, factor, position: 0 }));
  }
  const perm = d.permutation;
  for (const [dim] of real) if (!perm.includes(dim)) throw d.where.at("permutation").error(perm.join(""), `list ${dim}, which has a factor above 1`);
  const out: { dim: TimeloopDim; factor: number; position: number }[] = [];
  for (let i = perm.length - 1; i >= 0; i--) {
    const f = d.factors.get(perm[i]!) ?? 1;
    if (f > 1) out.push({ dim: perm[i]!, factor: f, position: i });
  }
  return out;
}

function temporalOf(d: LoopDirective | undefined): TemporalLoop[] {
  return d === undefined ? [] : orderedLoops(d).map((l) => ({ dim: FROM_TIMELOOP[l.dim], factor: l.factor }));
}

/** One directive per level and type; returns the directive of each level by name. */
function byLevel(levels: ConvsimLevels, nodes: readonly ArchNode[], dirs: readonly LoopDirective[], type: string): Map<string, LoopDirective> {
  const out = new Map<string, LoopDirective>();
  for (const d of dirs) {
    const n = targetLevel(levels, nodes, d.target, d.where);
    if (type === "temporal" && n.kind !== "storage") throw d.where.at("target").error(n.name, "name a storage level (a container holds no temporal loops)");
    if (out.has(n.name)) throw d.where.at("target").error(n.name, `appear in one ${type} directive only`);
    out.set(n.name, d);
  }
  return out;
}

/** The per-PE levels' temporal loops, outer level first, checked so that each data space's tile is the same as in Timeloop. */
function rfLoops(levels: ConvsimLevels, temporal: Map<string, LoopDirective>, keep: KeepMap): TemporalLoop[] {
  const out: TemporalLoop[] = [];
  levels.pe.forEach((n, i) => {
    const d = temporal.get(n.name);
    const loops = temporalOf(d);
    for (const l of loops) {
      if (out.some((o) => o.dim === l.dim)) throw d!.where.at("factors").error(l.dim, "loop over a dimension at one per-PE level only: convsim's register file is one level with one loop per dimension");
      for (const inner of levels.pe.slice(i + 1)) {
        for (const t of keep.get(inner.name)!) {
          if (TENSOR_DIMS[t].includes(l.dim)) {
            throw d!.where.at("factors").error(l.dim, `not loop over a dimension that indexes ${DATASPACE[t]}, which the inner level ${inner.name} keeps: convsim's register file holds each data space's tile across every per-PE loop (move the loop to ${inner.name} or inside it)`);
          }
        }
      }
    }
    out.push(...loops);
  });
  return out;
}

/** The spatial loops of every fan-out between the global buffer and the PEs: rows first, then columns. */
function spatialLoops(levels: ConvsimLevels, nodes: readonly ArchNode[], spatial: Map<string, LoopDirective>): SpatialLoop[] {
  const allowed = levels.gbuf ? [levels.gbuf, ...levels.between] : levels.between;
  const loops: SpatialLoop[] = [];
  for (const [name, d] of spatial) {
    const n = nodes.find((x) => x.name === name)!;
    if (!allowed.includes(n)) throw d.where.at("target").error(name, levels.gbuf ? `be the global buffer (${levels.gbuf.name}) or a fan-out-only level below it: convsim's PE array is the one fan-out, between the global buffer and the PEs` : "be a fan-out-only level (a container) above the PEs: convsim's PE array is the one fan-out");
  }
  for (const n of allowed) {
    const d = spatial.get(n.name);
    if (!d) continue;
    const split = d.split ?? Number.MAX_SAFE_INTEGER;
    for (const l of orderedLoops(d)) {
      const axis = l.position < split ? "col" : "row";
      const dim = FROM_TIMELOOP[l.dim];
      if (loops.some((o) => o.dim === dim && o.axis === axis)) throw d.where.at("factors").error(l.dim, `fan out along ${axis === "col" ? "X" : "Y"} at one level only (convsim has one spatial loop per dimension and axis)`);
      loops.push({ dim, factor: l.factor, axis });
    }
  }
  return [...loops.filter((l) => l.axis === "row"), ...loops.filter((l) => l.axis === "col")];
}

function checkNoLoops(d: LoopDirective | undefined, rule: string): void {
  if (!d) return;
  const real = [...d.factors].find(([, f]) => f > 1);
  if (real) throw d.where.at("factors").error(`${real[0]}=${real[1]}`, rule);
}

/** Checks every dimension's factors multiply to its size. */
function checkFactors(dirs: TimeloopDirectives, layer: ConvLayer, k: "K" | "M", mappingFile: string): void {
  const sizes = timeloopSizes(layer);
  const product = new Map<string, number>();
  for (const d of [...dirs.temporal, ...dirs.spatial]) {
    for (const [dim, f] of d.factors) {
      const key = dim === "M" || dim === "K" ? "K" : dim;
      product.set(key, (product.get(key) ?? 1) * f);
    }
  }
  for (const [dim, size] of Object.entries(sizes)) {
    const p = product.get(dim) ?? 1;
    const shown = dim === "K" ? k : dim;
    if (p !== size) throw new Where(mappingFile, "mapping").error(`${shown} factors multiply to ${p}`, `give factors of ${shown} that multiply to the problem's ${shown} = ${size} exactly`);
  }
}

function doubleBuffered(n: ArchNode): boolean {
  const v = n.attributes.multiple_buffering;
  if (v === undefined || v === 1) return false;
  if (v === 2) return true;
  throw n.where.at("attributes.multiple_buffering").error(v, "be 1 or 2 (convsim double-buffers a level or not)");
}

/**
 * Builds the convsim Mapping of a Timeloop mapping on classified levels (see the file header).
 * @throws ConfigError naming the mapping (or architecture) file, the path inside it and the rule.
 */
export function toConvsimMapping(levels: ConvsimLevels, nodes: readonly ArchNode[], dirs: TimeloopDirectives, keep: KeepMap, layer: ConvLayer, k: "K" | "M", mappingFile: string): Mapping {
  const temporal = byLevel(levels, nodes, dirs.temporal, "temporal");
  const spatial = byLevel(levels, nodes, dirs.spatial, "spatial");
  for (const n of levels.between) checkNoLoops(temporal.get(n.name), "be 1: convsim has no storage between the global buffer and the PEs, so no temporal loop there");
  for (const n of levels.pe) if (spatial.has(n.name)) throw spatial.get(n.name)!.where.at("target").error(n.name, "not be a per-PE level: convsim's PEs have one MAC each (no fan-out inside a PE)");
  if (spatial.has(levels.dram.name)) throw spatial.get(levels.dram.name)!.where.at("target").error(levels.dram.name, "not be DRAM: convsim has one global buffer (no fan-out between DRAM and it)");
  checkFactors(dirs, layer, k, mappingFile);
  const rfKeep = {} as Record<TensorName, boolean>;
  const gbufKeep = {} as Record<TensorName, boolean>;
  for (const t of ALL) {
    rfKeep[t] = levels.pe.some((n) => keep.get(n.name)!.has(t));
    gbufKeep[t] = levels.gbuf !== undefined && keep.get(levels.gbuf.name)!.has(t);
  }
  const rfDouble = levels.pe.map(doubleBuffered);
  if (rfDouble.some((b) => b !== rfDouble[0])) throw levels.pe[0]!.where.at("attributes.multiple_buffering").error(levels.pe.map((n) => n.attributes.multiple_buffering ?? 1), "be the same on every per-PE level (convsim double-buffers its register file or not)");
  const spec = {
    name: "timeloop",
    dram: { loops: temporalOf(temporal.get(levels.dram.name)) },
    gbuf: levels.gbuf ? { loops: temporalOf(temporal.get(levels.gbuf.name)), keep: gbufKeep, doubleBuffer: doubleBuffered(levels.gbuf) } : { loops: [], keep: gbufKeep, doubleBuffer: false },
    spatial: { loops: spatialLoops(levels, nodes, spatial) },
    rf: { loops: rfLoops(levels, temporal, keep), keep: rfKeep, doubleBuffer: rfDouble[0]! },
  };
  // The directives were checked above; a rule of convsim's Mapping they still break names the mapping file.
  return atSource(new Map(), () => buildMapping(spec, layer), new Where(mappingFile, "mapping"));
}
