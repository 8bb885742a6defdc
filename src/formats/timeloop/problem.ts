/**
 * Timeloop problem specs (the workload) in and out: the `cnn-layer` shape, and the
 * one-dimensional convolutions of Timeloop's tutorial exercises read as 2-D convolutions one row
 * high (shape.ts).
 *
 * Read: v0.3 (`problem: { shape, instance }`, `data-spaces`), v0.4 (`version: 0.4`,
 * `data_spaces`, output channels `M`), and the older form with the instance's sizes directly under
 * `problem`. The shape may be absent (Timeloop's default, cnn-layer), a name (`cnn-layer`), or
 * written out; a written-out shape must be cnn-layer's (its dimensions and its projections,
 * Inputs: `R*Wdilation + P*Wstride` and `S*Hdilation + Q*Hstride`) or a 1-D convolution's (shape.ts),
 * else the file is refused: another problem would be simulated as if it were a convolution. A 1-D
 * problem's instance gives only the dimensions and coefficients its shape declares.
 *
 * A Timeloop problem has no padding: the input is exactly what the windows read,
 * `(P-1)*Wstride + (R-1)*Wdilation + 1` wide and `(Q-1)*Hstride + (S-1)*Hdilation + 1` high
 * (names.ts for the P/Q and R/S swap). Densities below 1 (sparse tensors) are refused.
 */
import { convLayer, convShape, MAX_LAYER_DIMENSION, type ConvLayer } from "../../workload/layer.js";
import { isTimeloopDim, type TimeloopDim } from "./names.js";
import { COEFFICIENTS, readShape, type Coefficient, type ProblemShape } from "./shape.js";
import { atSource, isObject, objectAt, onlyKeys, positiveIntAt, TAG, Where, type Plain, type PlainObject } from "./yaml.js";

/** A problem read from a Timeloop spec. */
export interface TimeloopProblem {
  /** The convolution, unpadded (convsim names; see names.ts). */
  readonly layer: ConvLayer;
  /** The letter the file uses for output channels: K (v0.3) or M (v0.4). */
  readonly outChannelDim: "K" | "M";
}

function coefficientDefaults(raw: Plain | undefined): Record<Coefficient, Plain> {
  const out: Record<Coefficient, Plain> = { Wstride: 1, Hstride: 1, Wdilation: 1, Hdilation: 1 };
  if (!isObject(raw) || !Array.isArray(raw.coefficients)) return out;
  for (const c of raw.coefficients) {
    if (isObject(c) && (COEFFICIENTS as readonly string[]).includes(String(c.name)) && c.default !== undefined) out[String(c.name) as Coefficient] = c.default;
  }
  return out;
}

function checkDensities(w: Where, raw: Plain | undefined): void {
  if (raw === undefined || raw === null) return;
  const d = objectAt(w, raw, "a map of data-space densities");
  for (const [k, v] of Object.entries(d)) {
    const density = isObject(v) ? v.density : v;
    if (density !== 1 && density !== 1.0) throw w.at(k).error(v, "be 1 or absent: convsim simulates dense tensors (no sparsity)");
  }
}

/** The instance's sizes and coefficients (absent sizes are 1, absent coefficients their defaults); a 1-D shape's instance gives only what the shape declares. */
function readInstance(w: Where, inst: PlainObject, defaults: Record<Coefficient, Plain>, k: "K" | "M", shape: ProblemShape): { dims: Record<TimeloopDim, number>; coef: Record<Coefficient, number> } {
  onlyKeys(w, inst, shape.kind === "conv1d" ? [...shape.dims, ...shape.coefficients, "densities"] : ["N", "C", k, "P", "Q", "R", "S", ...COEFFICIENTS, "densities"]);
  checkDensities(w.at("densities"), inst.densities);
  const dims = {} as Record<TimeloopDim, number>;
  for (const d of ["N", "C", k, "P", "Q", "R", "S"] as TimeloopDim[]) dims[d] = inst[d] === undefined ? 1 : positiveIntAt(w.at(d), inst[d], MAX_LAYER_DIMENSION);
  const coef = {} as Record<Coefficient, number>;
  for (const c of COEFFICIENTS) coef[c] = positiveIntAt(w.at(c), inst[c] ?? defaults[c], MAX_LAYER_DIMENSION);
  return { dims, coef };
}

/**
 * Where each field of the convsim layer comes from in the instance `w` (names.ts: P is the width):
 * a size or coefficient, or for the input's height and width (derived) the output size they follow
 * from, and for the tensors' sizes the instance itself.
 */
function layerSources(w: Where, k: "K" | "M"): Map<string, Where> {
  const from: [string, string][] = [
    ["batch", "N"], ["inChannels", "C"], ["outChannels", k], ["kernelHeight", "S"], ["kernelWidth", "R"], ["inHeight", "Q"], ["inWidth", "P"],
    ["strides[0]", "Hstride"], ["strides[1]", "Wstride"], ["dilations[0]", "Hdilation"], ["dilations[1]", "Wdilation"],
  ];
  return new Map([["layer", w], ...from.map(([field, name]): [string, Where] => [`layer.${field}`, w.at(name)])]);
}

/**
 * Reads a Timeloop problem spec (parsed YAML) as an unpadded convsim layer.
 * @param file the file's name, for error messages.
 * @throws ConfigError naming the file, the path inside it and the rule.
 */
export function parseTimeloopProblem(doc: Plain, file: string): TimeloopProblem {
  const root = objectAt(new Where(file, ""), doc, "a Timeloop problem spec: { problem: { shape, instance } }");
  const w = new Where(file, "problem");
  const problem = objectAt(w, root.problem, "an object with shape and instance");
  const shape = readShape(w.at("shape"), problem.shape);
  const flat = problem.instance === undefined;
  const inst = flat ? Object.fromEntries(Object.entries(problem).filter(([key]) => !["shape", "version", TAG].includes(key))) : objectAt(w.at("instance"), problem.instance, "the problem's sizes { C, K, R, S, N, P, Q, ... }");
  if (!flat) onlyKeys(w, problem, ["shape", "instance", "version"]);
  const k: "K" | "M" = shape.k ?? ("M" in inst && !("K" in inst) ? "M" : "K");
  const wi = flat ? w : w.at("instance");
  const { dims, coef } = readInstance(wi, inst, coefficientDefaults(problem.shape), k, shape);
  const layer = atSource(layerSources(wi, k), () =>
    convLayer({
      batch: dims.N,
      inChannels: dims.C,
      outChannels: dims[k],
      inHeight: (dims.Q - 1) * coef.Hstride + (dims.S - 1) * coef.Hdilation + 1,
      inWidth: (dims.P - 1) * coef.Wstride + (dims.R - 1) * coef.Wdilation + 1,
      kernelHeight: dims.S,
      kernelWidth: dims.R,
      strides: [coef.Hstride, coef.Wstride],
      dilations: [coef.Hdilation, coef.Wdilation],
    }),
  );
  return Object.freeze({ layer, outChannelDim: k });
}

/** Timeloop's cnn-layer sizes of a convsim layer (P the output width; see names.ts). */
export function timeloopSizes(layer: ConvLayer): Record<"N" | "C" | "K" | "P" | "Q" | "R" | "S", number> {
  const s = convShape(layer);
  return { N: layer.batch, C: layer.inChannels, K: layer.outChannels, P: s.outWidth, Q: s.outHeight, R: layer.kernelWidth, S: layer.kernelHeight };
}

/** Whether a letter names a dimension of a problem that uses `k` for output channels. */
export function isProblemDim(letter: string, k: "K" | "M"): letter is TimeloopDim {
  return isTimeloopDim(letter) && (letter === k || (letter !== "K" && letter !== "M"));
}
