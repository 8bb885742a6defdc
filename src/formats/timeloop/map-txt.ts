/**
 * Timeloop's loop-nest printout (`timeloop-model.map.txt`, `timeloop-mapper.map.txt`: the mapping
 * the model evaluated or the mapper found) read as mapping directives, so a mapper's result imports
 * as its YAML mapping would. The printout lists the storage levels outermost first:
 *
 * ```
 * DRAM [ Weights:864 (864) Inputs:151875 (151875) Outputs:401408 (401408) ]
 * -------------------------------------------------------------------------
 * | for P in [0:8)
 * |   for M in [0:4)
 *
 * inter_PE_spatial [ ]
 * --------------------
 * |     for C in [0:3) (Spatial-Y)
 * ```
 *
 * A header `NAME [ DATASPACE:words (words) ... ]` names a level and the data spaces it keeps (a
 * keep/bypass directive); the loops after it, until the next header, are that level's, outermost
 * first (a temporal directive, its permutation the reverse: innermost first), `(Spatial-X)` and
 * `(Spatial-Y)` loops its spatial directive (X loops first in the permutation, `split` their
 * count). Timeloop's front end names the fan-out of a v0.4 `!Container` X `inter_X_spatial`; such
 * a name targets the container. Separator lines (`---`), `<< Compute >>` and blank lines carry
 * nothing. A loop with a residual (`[0:8,7)`, an imperfect factor) or any other line is refused
 * with its line number.
 */
import type { TensorName } from "../../dataflow/mapping.js";
import type { KeepDirective, LoopDirective, TimeloopDirectives } from "./directives.js";
import { DATASPACE, isTimeloopDim, TENSOR_OF, type TimeloopDim } from "./names.js";
import { Where } from "./yaml.js";

const HEADER = /^([A-Za-z_][\w.]*)\s*\[(.*)\]\s*$/;
const LOOP = /^\|?\s*for\s+([A-Za-z])\s+in\s+\[\s*0\s*:\s*(\d+)\s*(,\s*\d+\s*)?\)\s*(\(Spatial-([XY])\))?\s*$/;
const NOTHING = /^(\s*|[-\s]+|\|?\s*<<\s*Compute\s*>>\s*)$/;
const ALL: readonly TensorName[] = ["input", "weight", "output"];

interface Block {
  target: string;
  where: Where;
  kept: Set<TensorName>;
  temporal: { dim: TimeloopDim; factor: number }[];
  spatial: { dim: TimeloopDim; factor: number; x: boolean }[];
}

function targetName(name: string, levels: readonly string[], w: Where): { target: string; container: boolean } {
  if (levels.includes(name)) return { target: name, container: false };
  const m = /^inter_(.+)_spatial$/.exec(name);
  if (m && levels.includes(m[1]!)) return { target: m[1]!, container: true };
  throw w.error(name, `name a level of the architecture (${levels.join(", ")}), or inter_X_spatial for its container X`);
}

function parseKept(w: Where, inside: string): Set<TensorName> {
  const kept = new Set<TensorName>();
  for (const m of inside.matchAll(/([A-Za-z_]\w*)\s*:\s*\d+(\s*\(\s*\d+\s*\))?/g)) {
    const t = TENSOR_OF[m[1]!];
    if (!t) throw w.error(m[1], "be Weights, Inputs or Outputs");
    kept.add(t);
  }
  if (kept.size === 0 && inside.trim() !== "") throw w.error(inside.trim(), "list kept data spaces as NAME:words (words), or nothing");
  return kept;
}

function toDirectives(b: Block): { loops: LoopDirective[]; keep: KeepDirective } {
  const loops: LoopDirective[] = [];
  const factors = (ls: readonly { dim: TimeloopDim; factor: number }[]) => new Map(ls.map((l) => [l.dim, l.factor] as const));
  const innermostFirst = <T>(ls: readonly T[]) => [...ls].reverse();
  if (b.temporal.length > 0) loops.push({ target: b.target, factors: factors(b.temporal), permutation: innermostFirst(b.temporal).map((l) => l.dim), where: b.where });
  if (b.spatial.length > 0) {
    const x = innermostFirst(b.spatial.filter((l) => l.x));
    const y = innermostFirst(b.spatial.filter((l) => !l.x));
    loops.push({ target: b.target, factors: factors(b.spatial), permutation: [...x, ...y].map((l) => l.dim), split: x.length, where: b.where });
  }
  const keep: KeepDirective = { target: b.target, keep: b.kept, bypass: new Set(ALL.filter((t) => !b.kept.has(t))), where: b.where };
  return { loops, keep };
}

function addLoop(b: Block, w: Where, m: RegExpExecArray): void {
  const dim = m[1]!;
  if (!isTimeloopDim(dim)) throw w.error(dim, "be a dimension letter (N, C, K or M, P, Q, R, S)");
  if (m[3] !== undefined) throw w.error(m[0].trim(), "have no residual (an imperfect factor): convsim reads factors that multiply to each dimension exactly");
  const factor = Number(m[2]);
  if (factor < 1) throw w.error(m[0].trim(), "have a factor of at least 1");
  const list = m[5] === undefined ? b.temporal : b.spatial;
  if (list.some((l) => l.dim === dim)) throw w.error(m[0].trim(), `list ${dim} once per level and kind (temporal or spatial)`);
  if ((dim === "K" || dim === "M") && list.some((l) => l.dim === "K" || l.dim === "M")) throw w.error(m[0].trim(), "loop over the output channels once per level and kind, as K (v0.3) or M (v0.4), not both");
  if (m[5] === undefined) b.temporal.push({ dim, factor });
  else b.spatial.push({ dim, factor, x: m[5] === "X" });
}

/**
 * Reads Timeloop's map.txt printout as mapping directives (see the file header).
 * @param levels the names of the architecture's levels and containers, which the headers name.
 * @param file the file's name, for error messages (`map.txt: line 7 must ...`).
 * @throws ConfigError naming the file, the line and the rule.
 */
export function parseTimeloopMapTxt(text: string, file: string, levels: readonly string[]): TimeloopDirectives {
  const blocks: Block[] = [];
  const containers = new Set<Block>();
  text.split(/\r?\n/).forEach((line, i) => {
    const w = new Where(file, `line ${i + 1}`);
    const header = HEADER.exec(line.trim());
    if (header) {
      const { target, container } = targetName(header[1]!, levels, w);
      const b: Block = { target, where: w, kept: parseKept(w, header[2]!), temporal: [], spatial: [] };
      if (container) {
        if (b.kept.size > 0) throw w.error([...b.kept].map((t) => DATASPACE[t]), "be empty: a fan-out keeps no data space");
        containers.add(b);
      }
      blocks.push(b);
      return;
    }
    const loop = LOOP.exec(line.trim());
    if (loop) {
      const b = blocks[blocks.length - 1];
      if (!b) throw w.error(line.trim(), "follow a level's header NAME [ ... ]");
      return addLoop(b, w, loop);
    }
    if (!NOTHING.test(line)) throw w.error(line.trim(), "be a level's header NAME [ DATASPACE:words (words) ... ], a loop `for D in [0:n)` (with `(Spatial-X)` or `(Spatial-Y)` for a fan-out), a separator or << Compute >>");
  });
  if (blocks.length === 0) throw new Where(file, "").error("", "list the levels of a Timeloop mapping (a map.txt printout)");
  const temporal: LoopDirective[] = [];
  const spatial: LoopDirective[] = [];
  const keep: KeepDirective[] = [];
  for (const b of blocks) {
    const d = toDirectives(b);
    for (const l of d.loops) (l.split === undefined ? temporal : spatial).push(l);
    if (!containers.has(b)) keep.push(d.keep);
  }
  return Object.freeze({ temporal, spatial, keep });
}
