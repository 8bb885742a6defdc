/**
 * Static shape inference through the operators real CNN models hold between their
 * convolutions: activations, normalization, pooling, elementwise arithmetic with broadcasting,
 * Concat, Split, Slice, Flatten, Reshape, Transpose, Pad, Resize / Upsample, reductions,
 * Quantize/DequantizeLinear, and the small shape arithmetic exporters emit around Reshape
 * (Shape, Gather, Slice, Unsqueeze, Squeeze, Cast, Constant),
 * folded to constants. Each handler reads its inputs from {@link GraphValues} and records its
 * outputs' dimensions and element types, following the ONNX operator specifications
 * (onnx/docs/Operators.md). The layer operators are in layers.ts.
 */
import { ConfigError } from "../../core/errors.js";
import type { NodeProto } from "./gen/onnx_pb.js";
import { normalizeAxis, product, windowOutput, windowPads, type GraphValues, type Value } from "./graph.js";
import { Attributes, DataType, floatTensorValues, intTensorValues, tensorDims } from "./proto.js";

/** What an operator handler gets: the node, its index in the graph, its attributes, the values. */
export interface OpContext {
  readonly node: NodeProto;
  readonly index: number;
  readonly attrs: Attributes;
  readonly g: GraphValues;
  /** How errors name the node. */
  readonly label: string;
}

/** An operator handler: records the node's outputs. */
export type OpHandler = (c: OpContext) => void;

/** Input `i` of the node. */
export function inputOf(c: OpContext, i: number): Value {
  return c.g.input(c.node, c.index, i);
}

/**
 * Records output `i` of the node (an absent optional output is skipped).
 * @throws ConfigError naming the node's output when its inputs and attributes give it a dimension
 * that is not a non-negative integer (a negative split, a NaN scale, ...): the error names the node
 * that made the impossible shape, not a layer after it.
 */
export function setOutput(c: OpContext, i: number, v: Value): void {
  if (!v.dims.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new ConfigError(`${c.label}.output[${i}]`, v.dims.map((d) => (d === undefined ? "?" : d)), "have dimensions that are non-negative integers (the node's inputs and attributes give others)");
  }
  const name = c.node.output[i];
  if (name !== undefined && name !== "") c.g.set(name, v);
}

/** The integer contents of input `i`, which must be known statically (an initializer, a Constant, folded shape arithmetic). */
export function constInts(c: OpContext, i: number, what: string): readonly number[] {
  const v = inputOf(c, i);
  if (v.ints !== undefined) return v.ints;
  if (v.tensor !== undefined) return intTensorValues(v.tensor, `${c.label}.input[${i}]`);
  throw new ConfigError(`${c.label}.input[${i}]`, c.node.input[i], `be a constant (${what}): convsim infers shapes statically`);
}

function sameAsInput(c: OpContext): void {
  const x = inputOf(c, 0);
  setOutput(c, 0, { dims: x.dims, elemType: x.elemType, ...(x.ints ? { ints: x.ints } : {}) });
}

/** Every input of a variadic node (Add, Sum, Concat, ...), at least one. */
function allInputs(c: OpContext): Value[] {
  if (c.node.input.length === 0) throw new ConfigError(`${c.label}.input`, [], "hold at least one input");
  return c.node.input.map((_, i) => inputOf(c, i));
}

/** numpy-style (multidirectional) broadcasting of the inputs' dimensions. */
function broadcast(c: OpContext): void {
  const inputs = allInputs(c);
  const rank = Math.max(...inputs.map((v) => v.dims.length));
  const dims = Array.from({ length: rank }, (_, axis) => {
    let d = 1;
    for (const v of inputs) {
      const e = v.dims[axis - (rank - v.dims.length)] ?? 1;
      if (e !== 1 && d !== 1 && e !== d) throw new ConfigError(c.label, inputs.map((x) => x.dims), "have inputs whose dimensions broadcast (equal, or 1)");
      if (e !== 1) d = e;
    }
    return d;
  });
  setOutput(c, 0, { dims, elemType: inputs[0]!.elemType });
}

function spatialOf(c: OpContext, x: Value): readonly number[] {
  if (x.dims.length < 3) throw new ConfigError(`${c.label}.input[0]`, x.dims, "be a tensor N x C x spatial...");
  return x.dims.slice(2);
}

/**
 * A pooling window's `kernel_shape` (required), `strides` or `dilations` (default `fallback`): one
 * positive integer per spatial axis.
 */
function windowAttribute(c: OpContext, name: string, axes: number, fallback?: number[]): number[] {
  const v = c.attrs.ints(name) ?? fallback;
  if (v === undefined || v.length !== axes || v.some((x) => x < 1)) throw new ConfigError(`${c.label}.attribute.${name}`, v, `be ${axes} positive integers (one per spatial axis)`);
  return v;
}

function pool(c: OpContext): void {
  const x = inputOf(c, 0);
  const spatial = spatialOf(c, x);
  const ones = spatial.map(() => 1);
  const base = { kernel: windowAttribute(c, "kernel_shape", spatial.length), strides: windowAttribute(c, "strides", spatial.length, ones), dilations: windowAttribute(c, "dilations", spatial.length, ones) };
  const pads = windowPads(c.label, c.attrs.string("auto_pad", "NOTSET"), spatial, base, c.attrs.ints("pads"));
  const out = windowOutput(c.label, spatial, { ...base, pads }, c.attrs.int("ceil_mode", 0) === 1);
  setOutput(c, 0, { dims: [...x.dims.slice(0, 2), ...out], elemType: x.elemType });
  // MaxPool's optional second output: the indices (int64), of the same shape.
  if (c.node.output.length > 1) setOutput(c, 1, { dims: [...x.dims.slice(0, 2), ...out], elemType: DataType.INT64 });
}

function globalPool(c: OpContext): void {
  const x = inputOf(c, 0);
  setOutput(c, 0, { dims: [...x.dims.slice(0, 2), ...spatialOf(c, x).map(() => 1)], elemType: x.elemType });
}

function concat(c: OpContext): void {
  const inputs = allInputs(c);
  const first = inputs[0]!;
  const axis = normalizeAxis(`${c.label}.attribute.axis`, c.attrs.int("axis", 0), first.dims.length);
  let size = 0;
  for (const [i, v] of inputs.entries()) {
    const same = v.dims.length === first.dims.length && v.dims.every((d, a) => a === axis || d === first.dims[a]);
    if (!same) throw new ConfigError(`${c.label}.input[${i}]`, v.dims, `have the dimensions of input[0] (${first.dims.join("x")}) except along axis ${axis}`);
    size += v.dims[axis]!;
  }
  const dims = first.dims.map((d, a) => (a === axis ? size : d));
  const allInts = inputs.every((v) => v.ints !== undefined || v.tensor !== undefined);
  const ints = allInts && first.dims.length === 1 ? inputs.flatMap((_, i) => constInts(c, i, "")) : undefined;
  setOutput(c, 0, { dims, elemType: first.elemType, ...(ints ? { ints } : {}) });
}

function flatten(c: OpContext): void {
  const x = inputOf(c, 0);
  const r = x.dims.length;
  const axis = c.attrs.int("axis", 1);
  const a = axis < 0 ? axis + r : axis;
  if (a < 0 || a > r) throw new ConfigError(`${c.label}.attribute.axis`, axis, `be in [${-r}, ${r}]`);
  setOutput(c, 0, { dims: [product(x.dims.slice(0, a)), product(x.dims.slice(a))], elemType: x.elemType });
}

function reshape(c: OpContext): void {
  const x = inputOf(c, 0);
  const shape = c.node.input.length > 1 ? constInts(c, 1, "the target shape") : c.attrs.ints("shape", []);
  const allowZero = c.attrs.int("allowzero", 0) === 1;
  const dims = shape.map((d, i) => (d === 0 && !allowZero ? x.dims[i] : d));
  const known = product(dims.filter((d) => d !== -1) as number[]);
  const free = dims.filter((d) => d === -1).length;
  const total = product(x.dims);
  const bad = dims.some((d) => d === undefined || d < -1) || free > 1 || (free === 1 ? known === 0 || total % known !== 0 : known !== total);
  if (bad) throw new ConfigError(`${c.label}.input[1]`, shape, `be a shape holding the input's ${total} elements (${x.dims.join("x")}; 0 copies a dimension, one -1 is inferred)`);
  const out = dims.map((d) => (d === -1 ? total / known : d!));
  setOutput(c, 0, { dims: out, elemType: x.elemType, ...(x.ints ? { ints: x.ints } : {}) });
}

function transpose(c: OpContext): void {
  const x = inputOf(c, 0);
  const r = x.dims.length;
  const perm = c.attrs.ints("perm", x.dims.map((_, i) => r - 1 - i));
  if (perm.length !== r || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) throw new ConfigError(`${c.label}.attribute.perm`, perm, `be a permutation of 0..${r - 1}`);
  setOutput(c, 0, { dims: perm.map((p) => x.dims[p]!), elemType: x.elemType });
}

/** Pad's pads and constant value: inputs since opset 11, attributes before. */
function padSpec(c: OpContext, rank: number): { pads: number[]; zero: boolean } {
  let pads = c.node.input.length > 1 && c.node.input[1] !== "" ? [...constInts(c, 1, "the pads")] : c.attrs.ints("pads", []);
  const axesInput = c.node.input.length > 3 && c.node.input[3] !== "" ? constInts(c, 3, "the axes") : undefined;
  if (axesInput !== undefined) {
    if (pads.length !== 2 * axesInput.length) throw new ConfigError(`${c.label}.input[1]`, pads, `be ${2 * axesInput.length} integers (begins, then ends) for the ${axesInput.length} axes of input[3]`);
    const full = new Array<number>(2 * rank).fill(0);
    axesInput.forEach((ax, i) => {
      const a = normalizeAxis(`${c.label}.input[3]`, ax, rank);
      full[a] = pads[i]!;
      full[a + rank] = pads[i + axesInput.length]!;
    });
    pads = full;
  }
  if (pads.length !== 2 * rank) throw new ConfigError(`${c.label}.pads`, pads, `be ${2 * rank} integers (begins, then ends) for a rank-${rank} input`);
  const valueInput = c.node.input.length > 2 && c.node.input[2] !== "" ? inputOf(c, 2) : undefined;
  const value = valueInput?.tensor !== undefined ? floatTensorValues(valueInput.tensor, `${c.label}.input[2]`)[0] : valueInput !== undefined ? undefined : c.attrs.float("value", 0);
  return { pads, zero: c.attrs.string("mode", "constant") === "constant" && value === 0 };
}

function pad(c: OpContext): void {
  const x = inputOf(c, 0);
  const r = x.dims.length;
  const { pads, zero } = padSpec(c, r);
  const dims = x.dims.map((d, a) => d + pads[a]! + pads[a + r]!);
  if (dims.some((d) => d < 1)) throw new ConfigError(`${c.label}.pads`, pads, `leave every dimension of ${x.dims.join("x")} positive`);
  // A zero Pad of the spatial axes only: a following Conv takes it into its pads (padding is
  // generated at the consumer in convsim, never fetched).
  const spatialOnly = r >= 3 && [0, 1].every((a) => pads[a] === 0 && pads[a + r] === 0) && pads.every((p) => p >= 0);
  const inner = c.node.input[0]!;
  const zeroPad = zero && spatialOnly ? { inner, pads: [...pads.slice(2, r), ...pads.slice(r + 2)] } : undefined;
  setOutput(c, 0, { dims, elemType: x.elemType, ...(zeroPad ? { zeroPad } : {}) });
}

function quantize(c: OpContext): void {
  const x = inputOf(c, 0);
  const zp = c.g.has(c.node.input[2]) ? inputOf(c, 2) : undefined;
  setOutput(c, 0, { dims: x.dims, elemType: zp?.elemType ?? c.attrs.int("output_dtype", DataType.UINT8) });
}

function dequantize(c: OpContext): void {
  const x = inputOf(c, 0);
  const zeroPoint = c.node.input[2];
  const dequantized = { source: c.node.input[0]!, ...(zeroPoint ? { zeroPoint } : {}) };
  setOutput(c, 0, { dims: x.dims, elemType: DataType.FLOAT, dequantized });
}

function constant(c: OpContext): void {
  const t = c.attrs.tensor("value");
  if (t !== undefined) {
    setOutput(c, 0, { dims: tensorDims(t, `${c.label}.attribute.value`), elemType: t.dataType, tensor: t });
    return;
  }
  const ints = c.attrs.ints("value_ints") ?? (c.attrs.has("value_int") ? [c.attrs.int("value_int", 0)] : undefined);
  if (ints !== undefined) {
    setOutput(c, 0, { dims: c.attrs.has("value_int") ? [] : [ints.length], elemType: DataType.INT64, ints });
    return;
  }
  const f = c.attrs.has("value_float") ? [] : c.attrs.has("value_floats") ? [0] : undefined;
  if (f === undefined) throw new ConfigError(c.label, c.node.attribute.map((a) => a.name), "hold a value, value_int(s) or value_float(s) attribute");
  setOutput(c, 0, { dims: f, elemType: DataType.FLOAT });
}

function shape(c: OpContext): void {
  const x = inputOf(c, 0);
  const r = x.dims.length;
  const clamp = (v: number) => Math.min(r, Math.max(0, v < 0 ? v + r : v));
  const ints = x.dims.slice(clamp(c.attrs.int("start", 0)), clamp(c.attrs.int("end", r)));
  setOutput(c, 0, { dims: [ints.length], elemType: DataType.INT64, ints });
}

function gather(c: OpContext): void {
  const data = inputOf(c, 0);
  const indices = inputOf(c, 1);
  const axis = normalizeAxis(`${c.label}.attribute.axis`, c.attrs.int("axis", 0), data.dims.length);
  const dims = [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)];
  const known = data.ints !== undefined && data.dims.length === 1 && (indices.ints !== undefined || indices.tensor !== undefined);
  const n = data.ints?.length ?? 0;
  const at = (i: number): number => {
    if (!(i >= -n && i < n)) throw new ConfigError(`${c.label}.input[1]`, i, `be an index into the ${n} values of input[0]${n > 0 ? ` (in [${-n}, ${n - 1}])` : ""}`);
    return data.ints![i < 0 ? i + n : i]!;
  };
  const ints = known ? constInts(c, 1, "indices").map(at) : undefined;
  setOutput(c, 0, { dims, elemType: data.elemType, ...(ints ? { ints } : {}) });
}

function axesOf(c: OpContext): readonly number[] | undefined {
  return c.node.input.length > 1 && c.node.input[1] !== "" ? constInts(c, 1, "the axes") : c.attrs.ints("axes");
}

function unsqueeze(c: OpContext): void {
  const x = inputOf(c, 0);
  const axes = axesOf(c) ?? [];
  const rank = x.dims.length + axes.length;
  const at = new Set(axes.map((a) => normalizeAxis(`${c.label}.axes`, a, rank)));
  if (at.size !== axes.length) throw new ConfigError(`${c.label}.axes`, axes, "name each new axis once");
  const rest = [...x.dims];
  const dims = Array.from({ length: rank }, (_, i) => (at.has(i) ? 1 : rest.shift()!));
  setOutput(c, 0, { dims, elemType: x.elemType, ...(x.ints ? { ints: x.ints } : {}) });
}

function squeeze(c: OpContext): void {
  const x = inputOf(c, 0);
  const axes = axesOf(c);
  const drop = new Set(axes === undefined ? x.dims.flatMap((d, i) => (d === 1 ? [i] : [])) : axes.map((a) => normalizeAxis(`${c.label}.axes`, a, x.dims.length)));
  setOutput(c, 0, { dims: x.dims.filter((_, i) => !drop.has(i)), elemType: x.elemType, ...(x.ints ? { ints: x.ints } : {}) });
}

function cast(c: OpContext): void {
  const x = inputOf(c, 0);
  setOutput(c, 0, { dims: x.dims, elemType: c.attrs.int("to", x.elemType), ...(x.ints ? { ints: x.ints } : {}) });
}

/** The float contents of input `i`, which must be a constant (Resize's scales). */
function constFloats(c: OpContext, i: number, what: string): readonly number[] {
  const v = inputOf(c, i);
  if (v.tensor !== undefined) return floatTensorValues(v.tensor, `${c.label}.input[${i}]`);
  if (v.ints !== undefined) return v.ints;
  throw new ConfigError(`${c.label}.input[${i}]`, c.node.input[i], `be a constant (${what}): convsim infers shapes statically`);
}

const given = (c: OpContext, i: number) => c.node.input[i] !== undefined && c.node.input[i] !== "";

/** Resize (sizes, or floor(dim x scale)) and its predecessor Upsample (scales). */
function resize(c: OpContext): void {
  const x = inputOf(c, 0);
  const upsample = c.node.opType === "Upsample";
  const sizesGiven = !upsample && given(c, 3) && inputOf(c, 3).dims.some((d) => d > 0);
  const axes = upsample ? undefined : c.attrs.ints("axes");
  const on = (axes ?? x.dims.map((_, a) => a)).map((a) => normalizeAxis(`${c.label}.attribute.axes`, a, x.dims.length));
  // Scales: input 1 of Upsample and of Resize-10 (X, scales), input 2 since Resize-11 (X, roi, scales, sizes).
  const scalesAt = upsample || c.node.input.length === 2 ? 1 : 2;
  const values = sizesGiven ? constInts(c, 3, "the output sizes") : upsample && !given(c, 1) ? c.attrs.floats("scales", []) : constFloats(c, scalesAt, "the scales");
  const at = sizesGiven ? 3 : upsample && !given(c, 1) ? "attribute.scales" : scalesAt;
  const field = typeof at === "number" ? `${c.label}.input[${at}]` : `${c.label}.${at}`;
  if (values.length !== on.length) throw new ConfigError(field, values, `hold one value per resized axis (${on.length})`);
  if (!values.every((v) => v > 0 && Number.isFinite(v))) throw new ConfigError(field, values, sizesGiven ? "hold positive sizes" : "hold positive, finite scales");
  const dims = [...x.dims];
  on.forEach((a, i) => (dims[a] = sizesGiven ? values[i]! : Math.floor(x.dims[a]! * values[i]!)));
  setOutput(c, 0, { dims, elemType: x.elemType });
}

/** ReduceMean, ReduceMax, ...: the reduced axes kept as 1 (keepdims, the default) or dropped. */
function reduce(c: OpContext): void {
  const x = inputOf(c, 0);
  const fromInput = given(c, 1) ? constInts(c, 1, "the axes") : undefined;
  const axes = fromInput ?? c.attrs.ints("axes");
  const all = axes === undefined || (axes.length === 0 && c.attrs.int("noop_with_empty_axes", 0) === 0);
  const set = new Set(all ? x.dims.map((_, a) => a) : axes.map((a) => normalizeAxis(`${c.label}.axes`, a, x.dims.length)));
  const keep = c.attrs.int("keepdims", 1) === 1;
  const dims = x.dims.flatMap((d, a) => (set.has(a) ? (keep ? [1] : []) : [d]));
  setOutput(c, 0, { dims, elemType: x.elemType });
}

/** Split: the `split` sizes (input since opset 13, attribute before), or equal parts. */
function split(c: OpContext): void {
  const x = inputOf(c, 0);
  const axis = normalizeAxis(`${c.label}.attribute.axis`, c.attrs.int("axis", 0), x.dims.length);
  const n = c.node.output.length;
  const size = x.dims[axis]!;
  const parts = given(c, 1) ? constInts(c, 1, "the split sizes") : (c.attrs.ints("split") ?? Array.from({ length: n }, (_, i) => Math.ceil(size / n) - (i === n - 1 ? Math.ceil(size / n) * n - size : 0)));
  if (parts.length !== n || parts.reduce((a, b) => a + b, 0) !== size) throw new ConfigError(`${c.label}.split`, parts, `be ${n} sizes adding up to ${size} (axis ${axis} of ${x.dims.join("x")})`);
  parts.forEach((p, i) => setOutput(c, i, { dims: x.dims.map((d, a) => (a === axis ? p : d)), elemType: x.elemType }));
}

/** Slice (starts, ends, axes, steps as inputs since opset 10), clamped as the ONNX spec says. */
function slice(c: OpContext): void {
  const x = inputOf(c, 0);
  // Before opset 10, starts, ends and axes are attributes.
  const attr = c.node.input.length === 1;
  const starts = attr ? c.attrs.ints("starts", []) : constInts(c, 1, "starts");
  const ends = attr ? c.attrs.ints("ends", []) : constInts(c, 2, "ends");
  const axes = attr ? c.attrs.ints("axes", starts.map((_, i) => i)) : given(c, 3) ? constInts(c, 3, "axes") : starts.map((_, i) => i);
  const steps = given(c, 4) ? constInts(c, 4, "steps") : starts.map(() => 1);
  for (const [what, v, at] of [["ends", ends, 2], ["axes", axes, 3], ["steps", steps, 4]] as const) {
    if (v.length !== starts.length) throw new ConfigError(attr ? `${c.label}.attribute.${what}` : `${c.label}.input[${at}]`, v, `hold one value per start (${starts.length})`);
  }
  const dims = [...x.dims];
  let ints = x.ints !== undefined && x.dims.length === 1 ? [...x.ints] : undefined;
  axes.forEach((ax, i) => {
    const a = normalizeAxis(`${c.label}.input[3]`, ax, x.dims.length);
    const d = x.dims[a]!;
    const step = steps[i]!;
    if (step === 0) throw new ConfigError(`${c.label}.input[4]`, steps, "hold no zero step");
    const lo = step > 0 ? 0 : -1;
    const hi = step > 0 ? d : d - 1;
    const clamp = (v: number) => Math.min(hi, Math.max(lo, v < 0 ? v + d : v));
    const [b, e] = [clamp(starts[i]!), clamp(ends[i]!)];
    dims[a] = Math.max(0, Math.ceil((e - b) / step));
    if (ints !== undefined) ints = Array.from({ length: dims[a]! }, (_, k) => ints![b + k * step]!);
  });
  setOutput(c, 0, { dims, elemType: x.elemType, ...(ints ? { ints } : {}) });
}

const UNARY = [
  "Relu", "Clip", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Elu", "Selu", "Softplus", "Mish", "Gelu", "Erf",
  "Exp", "Log", "Neg", "Abs", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round", "Softmax", "LogSoftmax",
  "BatchNormalization", "InstanceNormalization", "LRN", "Identity", "Dropout",
];

/** The non-layer operators the importer infers shapes through, by op type. */
export const SHAPE_OPS: Readonly<Record<string, OpHandler>> = Object.freeze({
  ...Object.fromEntries(UNARY.map((op) => [op, sameAsInput])),
  Add: broadcast,
  Sub: broadcast,
  Mul: broadcast,
  Div: broadcast,
  Sum: broadcast,
  Max: broadcast,
  Min: broadcast,
  MaxPool: pool,
  AveragePool: pool,
  LpPool: pool,
  GlobalAveragePool: globalPool,
  GlobalMaxPool: globalPool,
  Concat: concat,
  Flatten: flatten,
  Reshape: reshape,
  Transpose: transpose,
  Pad: pad,
  QuantizeLinear: quantize,
  DequantizeLinear: dequantize,
  Constant: constant,
  Shape: shape,
  Gather: gather,
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Cast: cast,
  Resize: resize,
  Upsample: resize,
  Split: split,
  Slice: slice,
  ...Object.fromEntries(["ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum", "ReduceL2"].map((op) => [op, reduce])),
});
