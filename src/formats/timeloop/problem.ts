/**
 * Timeloop problem specs (the workload) in and out: the `cnn-layer` shape only.
 *
 * Read: v0.3 (`problem: { shape, instance }`, `data-spaces`), v0.4 (`version: 0.4`,
 * `data_spaces`, output channels `M`), and the older form with the instance's sizes directly under
 * `problem`. The shape may be absent (Timeloop's default, cnn-layer), a name (`cnn-layer`), or
 * written out; a written-out shape must be cnn-layer's: its dimensions and its projections
 * (Inputs: `R*Wdilation + P*Wstride` and `S*Hdilation + Q*Hstride`), else the file is refused:
 * another problem would be simulated as if it were a convolution.
 *
 * A Timeloop problem has no padding: the input is exactly what the windows read,
 * `(P-1)*Wstride + (R-1)*Wdilation + 1` wide and `(Q-1)*Hstride + (S-1)*Hdilation + 1` high
 * (names.ts for the P/Q and R/S swap). Densities below 1 (sparse tensors) are refused.
 */
import { convLayer, convShape, type ConvLayer } from "../../workload/layer.js";
import { isTimeloopDim, type TimeloopDim } from "./names.js";
import { isObject, objectAt, onlyKeys, positiveIntAt, TAG, Where, arrayAt, type Plain, type PlainObject } from "./yaml.js";

/** A problem read from a Timeloop spec. */
export interface TimeloopProblem {
  /** The convolution, unpadded (convsim names; see names.ts). */
  readonly layer: ConvLayer;
  /** The letter the file uses for output channels: K (v0.3) or M (v0.4). */
  readonly outChannelDim: "K" | "M";
}

const COEFFICIENTS = ["Wstride", "Hstride", "Wdilation", "Hdilation"] as const;
type Coefficient = (typeof COEFFICIENTS)[number];

/** cnn-layer's projections, each rank a sum of products written `D` or `D*coef`, sorted within the rank. */
function expectedProjections(k: string): Record<string, string[]> {
  return {
    Weights: ["C", k, "R", "S"],
    Inputs: ["N", "C", "P*Wstride+R*Wdilation", "Q*Hstride+S*Hdilation"],
    Outputs: ["N", k, "Q", "P"],
  };
}

function projectionRank(w: Where, rank: Plain): string {
  const terms = arrayAt(w, rank, "a list of terms such as [[R, Wdilation], [P, Wstride]]").map((t, i) => {
    const term = arrayAt(w.at(i), t, "a term: [dimension] or [dimension, coefficient]");
    return term.map(String).join("*");
  });
  return terms.sort().join("+");
}

function checkDataSpaces(w: Where, raw: Plain, k: string): void {
  const spaces = arrayAt(w, raw, "a list of data spaces (Weights, Inputs, Outputs)");
  const expected = expectedProjections(k);
  const seen = new Set<string>();
  spaces.forEach((s, i) => {
    const ws = w.at(i);
    const space = objectAt(ws, s, "a data space { name, projection }");
    const name = String(space.name);
    const want = expected[name];
    if (!want) throw ws.at("name").error(space.name, "be Weights, Inputs or Outputs (the cnn-layer data spaces)");
    seen.add(name);
    const got = arrayAt(ws.at("projection"), space.projection, "a list of ranks").map((r, j) => projectionRank(ws.at("projection").at(j), r));
    if ([...got].sort().join(",") !== [...want].sort().join(",")) {
      throw ws.at("projection").error(got.join(", "), `be cnn-layer's projection of ${name} (${want.join(", ")}): Timeloop's P and R run along the input's width, Q and S along its height`);
    }
  });
  if (seen.size !== 3) throw w.error(spaces.length, "list the data spaces Weights, Inputs and Outputs");
}

/** Checks a written-out shape is cnn-layer's; returns the output-channel letter it uses. */
function checkShape(w: Where, raw: Plain | undefined): "K" | "M" | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === "string") {
    if (!/^cnn[-_ ]?layer(\.ya?ml)?$/i.test(raw.trim())) throw w.error(raw, "name the cnn-layer shape (convsim models convolutions only)");
    return undefined;
  }
  const shape = objectAt(w, raw, "the cnn-layer shape, its name, or absent");
  onlyKeys(w, shape, ["name", "dimensions", "coefficients", "data-spaces", "data_spaces", "version"]);
  const dims = arrayAt(w.at("dimensions"), shape.dimensions, "the list of dimensions [C, K, R, S, N, P, Q]").map(String);
  const k = dims.includes("M") ? "M" : "K";
  const want = ["C", k, "R", "S", "N", "P", "Q"];
  if (dims.length !== 7 || !want.every((d) => dims.includes(d))) throw w.at("dimensions").error(dims, `be cnn-layer's dimensions ${want.join(", ")} (no other problem shape is modeled)`);
  for (const [i, c] of (Array.isArray(shape.coefficients) ? shape.coefficients : []).entries()) {
    const name = isObject(c) ? String(c.name) : String(c);
    if (!(COEFFICIENTS as readonly string[]).includes(name)) throw w.at("coefficients").at(i).error(name, `be one of ${COEFFICIENTS.join(", ")}`);
  }
  const spaces = shape["data-spaces"] ?? shape.data_spaces;
  if (spaces !== undefined) checkDataSpaces(w.at(shape["data-spaces"] !== undefined ? "data-spaces" : "data_spaces"), spaces, k);
  return k;
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

/** The instance's sizes and coefficients (absent sizes are 1, absent coefficients their defaults). */
function readInstance(w: Where, inst: PlainObject, defaults: Record<Coefficient, Plain>, k: "K" | "M"): { dims: Record<TimeloopDim, number>; coef: Record<Coefficient, number> } {
  onlyKeys(w, inst, ["N", "C", k, "P", "Q", "R", "S", ...COEFFICIENTS, "densities"]);
  checkDensities(w.at("densities"), inst.densities);
  const dims = {} as Record<TimeloopDim, number>;
  for (const d of ["N", "C", k, "P", "Q", "R", "S"] as TimeloopDim[]) dims[d] = inst[d] === undefined ? 1 : positiveIntAt(w.at(d), inst[d]);
  const coef = {} as Record<Coefficient, number>;
  for (const c of COEFFICIENTS) coef[c] = positiveIntAt(w.at(c), inst[c] ?? defaults[c]);
  return { dims, coef };
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
  const shapeK = checkShape(w.at("shape"), problem.shape);
  const flat = problem.instance === undefined;
  const inst = flat ? Object.fromEntries(Object.entries(problem).filter(([key]) => !["shape", "version", TAG].includes(key))) : objectAt(w.at("instance"), problem.instance, "the problem's sizes { C, K, R, S, N, P, Q, ... }");
  if (!flat) onlyKeys(w, problem, ["shape", "instance", "version"]);
  const k: "K" | "M" = shapeK ?? ("M" in inst && !("K" in inst) ? "M" : "K");
  const { dims, coef } = readInstance(flat ? w : w.at("instance"), inst, coefficientDefaults(problem.shape), k);
  const layer = convLayer({
    batch: dims.N,
    inChannels: dims.C,
    outChannels: dims[k],
    inHeight: (dims.Q - 1) * coef.Hstride + (dims.S - 1) * coef.Hdilation + 1,
    inWidth: (dims.P - 1) * coef.Wstride + (dims.R - 1) * coef.Wdilation + 1,
    kernelHeight: dims.S,
    kernelWidth: dims.R,
    strides: [coef.Hstride, coef.Wstride],
    dilations: [coef.Hdilation, coef.Wdilation],
  });
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
