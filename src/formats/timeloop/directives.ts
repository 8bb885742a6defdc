/**
 * Timeloop mapping specs: a list of directives, each for one architecture level (`target`):
 * `temporal` and `spatial` directives with `factors` and `permutation` (and, for spatial ones,
 * `split`), and keep/bypass directives (`type: bypass`, `datatype` or `dataspace`, with `keep`
 * and `bypass` lists of data spaces). Both factor spellings are read (`R3 P16` and `R=3 P=16`,
 * separated by spaces or commas, or a YAML list as in v0.4); a permutation is a string or a list
 * of letters, **innermost loop first** (Timeloop's little-endian order). A spatial directive's
 * loops at permutation positions below `split` run along X (PE columns), the others along Y
 * (rows). The checks against the problem and the architecture are in import.ts.
 */
import type { TensorName } from "../../dataflow/mapping.js";
import { isTimeloopDim, TENSOR_OF, type TimeloopDim } from "./names.js";
import { arrayAt, objectAt, onlyKeys, Where, type Plain } from "./yaml.js";

/** A temporal or spatial directive. */
export interface LoopDirective {
  readonly target: string | number;
  /** Factor per dimension letter (absent: 1). */
  readonly factors: ReadonlyMap<TimeloopDim, number>;
  /** Dimension letters, innermost first; undefined when the directive gives none. */
  readonly permutation?: readonly TimeloopDim[];
  /** Spatial only: loops at permutation positions below it run along X; undefined when not given. */
  readonly split?: number;
  readonly where: Where;
}

/** A keep/bypass directive. */
export interface KeepDirective {
  readonly target: string | number;
  readonly keep: ReadonlySet<TensorName>;
  readonly bypass: ReadonlySet<TensorName>;
  readonly where: Where;
}

/** The directives of a mapping, by type, in file order. */
export interface TimeloopDirectives {
  readonly temporal: readonly LoopDirective[];
  readonly spatial: readonly LoopDirective[];
  readonly keep: readonly KeepDirective[];
}

const KEEP_TYPES = ["bypass", "datatype", "dataspace"];

/** Parses `R3 P16`, `R=3,P=16` or a list `[R=3, P=16]` into factors. */
function parseFactors(w: Where, raw: Plain | undefined): Map<TimeloopDim, number> {
  const out = new Map<TimeloopDim, number>();
  if (raw === undefined || raw === null) return out;
  const tokens = Array.isArray(raw) ? raw.map(String) : typeof raw === "string" ? raw.split(/[\s,]+/).filter(Boolean) : undefined;
  if (!tokens) throw w.error(raw, "be factors such as \"R=3 P=16\" or \"R3 P16\"");
  for (const t of tokens) {
    const m = /^([A-Za-z])\s*=?\s*(\d+)$/.exec(t.trim());
    if (!m || !isTimeloopDim(m[1]!)) throw w.error(t, "list factors as DIM=N or DIMN, DIM one of N, C, K (or M), P, Q, R, S");
    const dim = m[1] as TimeloopDim;
    if (out.has(dim)) throw w.error(t, `give ${dim} once`);
    const n = Number(m[2]);
    if (n < 1) throw w.error(t, `give ${dim} a factor of at least 1 (Timeloop's 0, "the rest of the dimension", is not read: write the factor)`);
    out.set(dim, n);
  }
  if (out.has("K") && out.has("M")) throw w.error(raw, "give the output channels' factor once, as K (v0.3) or M (v0.4), not both");
  return out;
}

function parsePermutation(w: Where, raw: Plain | undefined): TimeloopDim[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  const letters = Array.isArray(raw) ? raw.map(String) : typeof raw === "string" ? raw.replace(/[\s,]+/g, "").split("") : undefined;
  if (!letters) throw w.error(raw, "be a string of dimension letters, innermost first, such as RSPQCKN");
  const seen = new Set<string>();
  for (const l of letters) {
    if (!isTimeloopDim(l)) throw w.error(raw, `list dimension letters only (N, C, K or M, P, Q, R, S); ${JSON.stringify(l)} is not one`);
    if (seen.has(l)) throw w.error(raw, `list each dimension once (${l} repeats)`);
    seen.add(l);
  }
  return letters as TimeloopDim[];
}

function parseDataSpaces(w: Where, raw: Plain | undefined): Set<TensorName> {
  const out = new Set<TensorName>();
  if (raw === undefined || raw === null) return out;
  arrayAt(w, raw, "a list of data spaces (Weights, Inputs, Outputs)").forEach((d, i) => {
    const t = TENSOR_OF[String(d)];
    if (!t) throw w.at(i).error(d, "be Weights, Inputs or Outputs");
    out.add(t);
  });
  return out;
}

function target(w: Where, raw: Plain | undefined): string | number {
  if (typeof raw === "string" && raw.trim() !== "") return raw.trim();
  if (typeof raw === "number" && Number.isInteger(raw) && raw >= 0) return raw;
  throw w.error(raw, "name an architecture level (or give its storage-level id, 0 the innermost)");
}

/**
 * Reads a Timeloop mapping spec (parsed YAML): `mapping: [directives]` (or the list itself).
 * @param file the file's name, for error messages.
 * @throws ConfigError naming the file, the path inside it (e.g. `mapping[2].factors`) and the rule.
 */
export function parseTimeloopDirectives(doc: Plain, file: string): TimeloopDirectives {
  const list = Array.isArray(doc) ? doc : objectAt(new Where(file, ""), doc, "a Timeloop mapping spec: { mapping: [directives] }").mapping;
  const w = new Where(file, "mapping");
  const temporal: LoopDirective[] = [];
  const spatial: LoopDirective[] = [];
  const keep: KeepDirective[] = [];
  arrayAt(w, list, "a list of directives { target, type, ... }").forEach((raw, i) => {
    const wd = w.at(i);
    const d = objectAt(wd, raw, "a directive { target, type, factors, permutation } or { target, type: bypass, keep, bypass }");
    const type = String(d.type);
    if (type === "temporal" || type === "spatial") {
      onlyKeys(wd, d, type === "spatial" ? ["target", "type", "factors", "permutation", "split"] : ["target", "type", "factors", "permutation"]);
      let split: number | undefined;
      if (d.split !== undefined) {
        if (typeof d.split !== "number" || !Number.isInteger(d.split) || d.split < 0) throw wd.at("split").error(d.split, "be a non-negative integer (loops at permutation positions below it run along X)");
        split = d.split;
      }
      const dir: LoopDirective = { target: target(wd.at("target"), d.target), factors: parseFactors(wd.at("factors"), d.factors), ...(d.permutation !== undefined ? { permutation: parsePermutation(wd.at("permutation"), d.permutation)! } : {}), ...(split !== undefined ? { split } : {}), where: wd };
      (type === "temporal" ? temporal : spatial).push(dir);
    } else if (KEEP_TYPES.includes(type)) {
      onlyKeys(wd, d, ["target", "type", "keep", "bypass"]);
      const k = parseDataSpaces(wd.at("keep"), d.keep);
      const b = parseDataSpaces(wd.at("bypass"), d.bypass);
      for (const t of k) if (b.has(t)) throw wd.at("bypass").error([...b], `not list a data space that keep lists too`);
      keep.push({ target: target(wd.at("target"), d.target), keep: k, bypass: b, where: wd });
    } else {
      throw wd.at("type").error(d.type, "be temporal, spatial or bypass (also spelled datatype or dataspace)");
    }
  });
  return Object.freeze({ temporal, spatial, keep });
}
