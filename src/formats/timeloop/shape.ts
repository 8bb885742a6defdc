/**
 * Timeloop problem shapes convsim reads: the `cnn-layer` shape (by name, absent, or written out)
 * and the one-dimensional convolutions of Timeloop's tutorial exercises (a shape that declares its
 * own `dimensions`, a subset of N, C, K (or M), R and P with R and P, and the standard conv's
 * projections restricted to them: Weights `[C] [K] [R]`, Inputs `[N] [C] [[R], [P]]`, Outputs
 * `[N] [K] [P]`, Outputs `read_write`). A 1-D shape is a 2-D convolution one row high: the absent
 * dimensions (Q, S, and whichever of N, C, K the shape leaves out) are 1. The window rank may
 * scale P by `Wstride` and R by `Wdilation` when the shape declares those coefficients.
 *
 * Anything else is refused with the path and the rule: another problem would be simulated as if it
 * were a convolution. Projections are compared as sets of ranks, each rank a sum of terms `D` or
 * `D*coefficient` (the order of ranks and terms is a layout choice that changes no count).
 */
import type { TimeloopDim } from "./names.js";
import { arrayAt, isObject, objectAt, onlyKeys, Where, type Plain } from "./yaml.js";

/** The coefficients of Timeloop's cnn-layer shape. */
export const COEFFICIENTS = ["Wstride", "Hstride", "Wdilation", "Hdilation"] as const;

/** A coefficient of Timeloop's cnn-layer shape. */
export type Coefficient = (typeof COEFFICIENTS)[number];

/** The shape of a problem: cnn-layer, or a one-dimensional convolution over `dims`. */
export type ProblemShape =
  | { readonly kind: "cnn-layer"; readonly k: "K" | "M" | undefined }
  | { readonly kind: "conv1d"; readonly k: "K" | "M"; readonly dims: readonly TimeloopDim[]; readonly coefficients: readonly Coefficient[] };

/** The dimensions a 1-D shape may declare (besides its output-channel letter). */
const CONV1D_DIMS = ["N", "C", "R", "P"] as const;

/** cnn-layer's projections, each rank a sum of products written `D` or `D*coef`, sorted within the rank. */
function cnnProjections(k: string): Record<string, string[]> {
  return {
    Weights: ["C", k, "R", "S"],
    Inputs: ["N", "C", "P*Wstride+R*Wdilation", "Q*Hstride+S*Hdilation"],
    Outputs: ["N", k, "Q", "P"],
  };
}

/** A 1-D shape's projections: the standard conv's ranks over the dimensions it declares. */
function conv1dProjections(dims: readonly string[], k: string, coefficients: readonly string[]): Record<string, string[]> {
  const has = (d: string) => dims.includes(d);
  const p = coefficients.includes("Wstride") ? "P*Wstride" : "P";
  const r = coefficients.includes("Wdilation") ? "R*Wdilation" : "R";
  return {
    Weights: ["C", k, "R"].filter(has),
    Inputs: [...["N", "C"].filter(has), [p, r].sort().join("+")],
    Outputs: ["N", k, "P"].filter(has),
  };
}

function projectionRank(w: Where, rank: Plain): string {
  const terms = arrayAt(w, rank, "a list of terms such as [[R, Wdilation], [P, Wstride]]").map((t, i) => {
    const term = arrayAt(w.at(i), t, "a term: [dimension] or [dimension, coefficient]");
    return term.map(String).join("*");
  });
  return terms.sort().join("+");
}

function checkDataSpaces(w: Where, raw: Plain, expected: Record<string, string[]>, shapeName: string, conv1d: boolean): void {
  const spaces = arrayAt(w, raw, "a list of data spaces (Weights, Inputs, Outputs)");
  const seen = new Set<string>();
  spaces.forEach((s, i) => {
    const ws = w.at(i);
    const space = objectAt(ws, s, "a data space { name, projection }");
    if (conv1d) onlyKeys(ws, space, ["name", "projection", "read_write"]);
    const name = String(space.name);
    const want = expected[name];
    if (!want) throw ws.at("name").error(space.name, "be Weights, Inputs or Outputs (a convolution's data spaces)");
    seen.add(name);
    const got = arrayAt(ws.at("projection"), space.projection, "a list of ranks").map((r, j) => projectionRank(ws.at("projection").at(j), r));
    if ([...got].sort().join(",") !== [...want].sort().join(",")) {
      throw ws.at("projection").error(got.join(", "), `be ${shapeName}'s projection of ${name} (${want.join(", ")}): Timeloop's P and R run along the input's width, Q and S along its height`);
    }
    const rw = space.read_write === true || space.read_write === "True" || space.read_write === "true";
    if (conv1d && rw !== (name === "Outputs")) throw ws.at("read_write").error(space.read_write ?? null, name === "Outputs" ? "be true: the MACs update Outputs" : "be false or absent: only Outputs is written");
  });
  if (seen.size !== 3) throw w.error(spaces.length, "list the data spaces Weights, Inputs and Outputs");
}

function declaredCoefficients(w: Where, raw: Plain | undefined, allowed: readonly string[]): Coefficient[] {
  const out: Coefficient[] = [];
  for (const [i, c] of (Array.isArray(raw) ? raw : []).entries()) {
    const name = isObject(c) ? String(c.name) : String(c);
    if (!allowed.includes(name)) throw w.at(i).error(name, `be one of ${allowed.join(", ")}`);
    out.push(name as Coefficient);
  }
  return out;
}

/** A written-out shape whose dimensions are not cnn-layer's: a 1-D convolution, or refused. */
function conv1dShape(w: Where, dims: readonly string[], k: "K" | "M", coefRaw: Plain | undefined): { dims: TimeloopDim[]; coefficients: Coefficient[] } {
  const allowed = [...CONV1D_DIMS, k];
  const bad = dims.find((d) => !allowed.includes(d as (typeof allowed)[number]));
  if (bad !== undefined || !dims.includes("R") || !dims.includes("P") || new Set(dims).size !== dims.length) {
    throw w.at("dimensions").error(dims, `be cnn-layer's dimensions C, ${k}, R, S, N, P, Q, or a one-dimensional convolution's: R and P with any of N, C, ${k} (no other problem shape is modeled)`);
  }
  return { dims: dims as TimeloopDim[], coefficients: declaredCoefficients(w.at("coefficients"), coefRaw, ["Wstride", "Wdilation"]) };
}

/**
 * Reads a problem's shape (absent, a name, or written out) as cnn-layer or a 1-D convolution.
 * @throws ConfigError naming the file, the path inside the shape and the rule.
 */
export function readShape(w: Where, raw: Plain | undefined): ProblemShape {
  if (raw === undefined || raw === null) return { kind: "cnn-layer", k: undefined };
  if (typeof raw === "string") {
    if (!/^cnn[-_ ]?layer(\.ya?ml)?$/i.test(raw.trim())) throw w.error(raw, "name the cnn-layer shape, or write out a convolution's shape (convsim models convolutions only)");
    return { kind: "cnn-layer", k: undefined };
  }
  const shape = objectAt(w, raw, "the cnn-layer shape, its name, or absent");
  onlyKeys(w, shape, ["name", "dimensions", "coefficients", "data-spaces", "data_spaces", "version"]);
  const dims = arrayAt(w.at("dimensions"), shape.dimensions, "the list of dimensions [C, K, R, S, N, P, Q]").map(String);
  const k = dims.includes("M") ? "M" : "K";
  const spacesKey = shape["data-spaces"] !== undefined ? "data-spaces" : "data_spaces";
  const spaces = shape[spacesKey];
  const cnn = ["C", k, "R", "S", "N", "P", "Q"];
  if (dims.length === 7 && cnn.every((d) => dims.includes(d))) {
    declaredCoefficients(w.at("coefficients"), shape.coefficients, COEFFICIENTS);
    if (spaces !== undefined) checkDataSpaces(w.at(spacesKey), spaces, cnnProjections(k), "cnn-layer", false);
    return { kind: "cnn-layer", k };
  }
  const d1 = conv1dShape(w, dims, k, shape.coefficients);
  if (spaces === undefined) throw w.at(spacesKey).error(undefined, "be given: a shape of its own needs its projections (Weights, Inputs, Outputs)");
  checkDataSpaces(w.at(spacesKey), spaces, conv1dProjections(d1.dims, k, d1.coefficients), "a one-dimensional convolution", true);
  return { kind: "conv1d", k, ...d1 };
}
