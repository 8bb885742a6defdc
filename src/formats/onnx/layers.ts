/**
 * The layer operators of an ONNX model, as convsim layers: Conv, ConvInteger and QLinearConv
 * (2-D, or 1-D as a convolution over a height of 1; groups, depthwise, strides, dilations,
 * pads, `auto_pad`, and a zero Pad before the node taken into its pads), and Gemm, MatMul,
 * MatMulInteger and QLinearMatMul with a constant second operand as fully connected layers (a
 * 1x1 convolution over a 1x1 input, batch = the rows of the first operand). With `weights`, each
 * layer also carries the model's own integer operands when it has them: the int8/uint8 weight
 * initializer (a quantized node's, or the one a DequantizeLinear feeds a Conv or Gemm with) in
 * convsim's OIHW layout, and the input and weight zero points.
 */
import { ConfigError } from "../../core/errors.js";
import { convLayer, convShape, type ConvLayer } from "../../workload/layer.js";
import { windowPads, type Value } from "./graph.js";
import { inputOf, setOutput, type OpContext, type OpHandler } from "./ops.js";
import { byteTensorData, DataType, dataTypeName, intTensorValues, tensorDims } from "./proto.js";

/** A quantized layer's own operands, from the model's initializers. */
export interface ModelOperands {
  /** The weights, int8 or uint8, OIHW (a fully connected layer's as outChannels x inFeatures x 1 x 1). */
  readonly w: Int8Array | Uint8Array;
  /** The weight zero point. */
  readonly wZeroPoint: number;
  /** The input's element type. */
  readonly inputType: "int8" | "uint8";
  /** The input zero point. */
  readonly inputZeroPoint: number;
}

/** A layer the walk found, with its model operands or why it has none. */
export interface FoundLayer {
  readonly layer: ConvLayer;
  /** The node that made it (for messages). */
  readonly label: string;
  readonly operands: ModelOperands | { readonly missing: string };
}

/** Where the operands of a layer node sit among its inputs. */
interface OperandSlots {
  readonly x: number;
  readonly w: number;
  /** Input zero point (quantized nodes). */
  readonly xZero?: number;
  /** Weight zero point (quantized nodes). */
  readonly wZero?: number;
  /** The output's element type: int32 (ConvInteger), the y zero point's (QLinear*), or the input's. */
  readonly out: "int32" | "x" | number;
}

const SLOTS: Readonly<Record<string, OperandSlots>> = {
  Conv: { x: 0, w: 1, out: "x" },
  ConvInteger: { x: 0, w: 1, xZero: 2, wZero: 3, out: "int32" },
  QLinearConv: { x: 0, w: 3, xZero: 2, wZero: 5, out: 7 },
  Gemm: { x: 0, w: 1, out: "x" },
  MatMul: { x: 0, w: 1, out: "x" },
  MatMulInteger: { x: 0, w: 1, xZero: 2, wZero: 3, out: "int32" },
  QLinearMatMul: { x: 0, w: 3, xZero: 2, wZero: 5, out: 7 },
};

/** Collects the layers as the walk meets them. */
export interface LayerSink {
  /** Whether to read each layer's integer operands (costs a copy of the weights). */
  readonly weights: boolean;
  add(found: FoundLayer): void;
}

function outType(c: OpContext, slots: OperandSlots, x: Value): number {
  if (slots.out === "int32") return DataType.INT32;
  if (slots.out === "x") return x.elemType;
  return c.g.has(c.node.input[slots.out]) ? inputOf(c, slots.out).elemType : DataType.UINT8;
}

/** The constant weight tensor, directly or behind a DequantizeLinear, and its zero point's value name. */
function weightSource(c: OpContext, w: Value, slots: OperandSlots): { value: Value; zeroPoint: string | undefined } | string {
  if (w.tensor !== undefined) return { value: w, zeroPoint: slots.wZero !== undefined ? c.node.input[slots.wZero] : undefined };
  const dq = w.dequantized;
  const src = dq !== undefined ? c.g.get(dq.source) : undefined;
  if (src?.tensor !== undefined) return { value: src, zeroPoint: dq!.zeroPoint };
  return `${c.label}: the weights are not an initializer (or a DequantizeLinear of one)`;
}

/**
 * The one zero point of the `what` tensor (of element type `type`), or why there is none.
 * @throws ConfigError when the zero point is of another type (ONNX gives it its tensor's type).
 */
function zeroPointOf(c: OpContext, name: string | undefined, what: string, type: number): number | string {
  if (name === undefined || name === "") return 0;
  const v = c.g.get(name);
  if (v?.tensor === undefined) return `${c.label}: the ${what} zero point ${JSON.stringify(name)} is not a constant`;
  const field = `${c.label}: ${what} zero point ${JSON.stringify(name)}`;
  if (v.tensor.dataType !== type) throw new ConfigError(`${field}.data_type`, dataTypeName(v.tensor.dataType), `be the ${what}'s type, ${dataTypeName(type)} (a zero point has its tensor's type)`);
  const values = intTensorValues(v.tensor, field);
  if (values.some((z) => z !== values[0])) return `${c.label}: the ${what} zero points differ per channel (convsim takes one zero point per tensor)`;
  return values[0] ?? 0;
}

/** The model's operands of a layer node, or why there are none. */
function modelOperands(c: OpContext, slots: OperandSlots, x: Value, layout: (w: Int8Array | Uint8Array) => Int8Array | Uint8Array): FoundLayer["operands"] {
  const src = weightSource(c, inputOf(c, slots.w), slots);
  if (typeof src === "string") return { missing: src };
  const wType = src.value.elemType;
  if (wType !== DataType.INT8 && wType !== DataType.UINT8) return { missing: `${c.label}: the weights are ${dataTypeName(wType)}, not int8 or uint8 (quantize the model)` };
  // The input: the node's own (quantized nodes), or the integer tensor a DequantizeLinear reads.
  const xSource = slots.xZero === undefined && x.dequantized !== undefined ? c.g.get(x.dequantized.source) : x;
  const xZeroName = slots.xZero !== undefined ? c.node.input[slots.xZero] : x.dequantized?.zeroPoint;
  const xType = xSource?.elemType;
  if (xType !== DataType.INT8 && xType !== DataType.UINT8) return { missing: `${c.label}: the input is ${dataTypeName(xType ?? 0)}, not int8 or uint8` };
  const wZeroPoint = zeroPointOf(c, src.zeroPoint, "weight", wType);
  const inputZeroPoint = zeroPointOf(c, xZeroName, "input", xType);
  if (typeof wZeroPoint === "string") return { missing: wZeroPoint };
  if (typeof inputZeroPoint === "string") return { missing: inputZeroPoint };
  const w = layout(byteTensorData(src.value.tensor!, `${c.label}: weight initializer ${JSON.stringify(c.node.input[slots.w])}`));
  return { w, wZeroPoint, inputType: xType === DataType.INT8 ? "int8" : "uint8", inputZeroPoint };
}

/** The input of a Conv, with a Pad of zeros before it taken into the pads. */
function convInput(c: OpContext, x: Value): { x: Value; extraPads: readonly number[] } {
  // Only a float Conv: a quantized node's padding is its input zero point, not 0.
  const zp = c.node.opType === "Conv" ? x.zeroPad : undefined;
  const inner = zp !== undefined ? c.g.get(zp.inner) : undefined;
  return inner !== undefined ? { x: inner, extraPads: zp!.pads } : { x, extraPads: [] };
}

/** Conv, ConvInteger, QLinearConv. */
function convNode(sink: LayerSink): OpHandler {
  return (c) => {
    const slots = SLOTS[c.node.opType]!;
    const { x, extraPads } = convInput(c, inputOf(c, slots.x));
    const wDims = tensorOrValueDims(c, slots.w);
    const rank = x.dims.length;
    if ((rank !== 4 && rank !== 3) || wDims.length !== rank) {
      throw new ConfigError(`${c.label}.input[${slots.x}]`, x.dims, `be N x C x H x W (or N x C x L) with weights of the same rank (got ${wDims.join("x")}); convsim models 1-D and 2-D convolutions`);
    }
    const spatial = rank === 4 ? x.dims.slice(2) : [1, x.dims[2]!];
    const kernel = rank === 4 ? wDims.slice(2) : [1, wDims[2]!];
    const axes = rank === 4 ? 2 : 1;
    const strides = spatialAttribute(c, "strides", axes) ?? [1, 1];
    const dilations = spatialAttribute(c, "dilations", axes) ?? [1, 1];
    const ks = spatialAttribute(c, "kernel_shape", axes);
    if (ks !== undefined && (ks[0] !== kernel[0] || ks[1] !== kernel[1])) throw new ConfigError(`${c.label}.attribute.kernel_shape`, c.attrs.ints("kernel_shape"), `match the weights' kernel (${wDims.slice(2).join("x")})`);
    const pads = windowPads(c.label, c.attrs.string("auto_pad", "NOTSET"), spatial, { kernel, strides, dilations }, spatialAttribute(c, "pads", axes));
    const extra = extraPads.length === 0 ? [0, 0, 0, 0] : rank === 4 ? extraPads : [0, extraPads[0]!, 0, extraPads[1]!];
    const groups = c.attrs.int("group", 1);
    if (wDims[1]! * groups !== x.dims[1]) throw new ConfigError(`${c.label}.input[${slots.w}]`, wDims, `have ${x.dims[1]} input channels / group ${groups} as its second dimension`);
    const layer = convLayer(
      {
        name: c.node.name,
        batch: x.dims[0]!,
        inChannels: x.dims[1]!,
        inHeight: spatial[0]!,
        inWidth: spatial[1]!,
        outChannels: wDims[0]!,
        kernelHeight: kernel[0]!,
        kernelWidth: kernel[1]!,
        strides,
        dilations,
        pads: pads.map((p, i) => p + extra[i]!),
        groups,
      },
      c.label,
    );
    const s = convShape(layer);
    setOutput(c, 0, { dims: rank === 4 ? [layer.batch, layer.outChannels, s.outHeight, s.outWidth] : [layer.batch, layer.outChannels, s.outWidth], elemType: outType(c, slots, x) });
    const operands = sink.weights ? modelOperands(c, slots, x, (w) => w) : { missing: "weights not read" };
    sink.add({ layer, label: c.label, operands });
  };
}

/**
 * A convolution's per-axis attribute (`strides`, `dilations`, `kernel_shape`: one value per
 * spatial axis; `pads`: two), as 2-D: a 1-D convolution's runs along the width, over a height of 1.
 * @throws ConfigError when it holds another number of values (ONNX Runtime refuses it too).
 */
function spatialAttribute(c: OpContext, name: "strides" | "dilations" | "kernel_shape" | "pads", axes: 1 | 2): number[] | undefined {
  const v = c.attrs.ints(name);
  if (v === undefined) return undefined;
  const count = name === "pads" ? 2 * axes : axes;
  if (v.length !== count) {
    const what = name === "pads" ? `${count} values, the begins then the ends of the spatial axes` : count === 1 ? "1 value, for the one spatial axis" : `${count} values, one per spatial axis`;
    throw new ConfigError(`${c.label}.attribute.${name}`, v, `hold ${what} of a ${axes}-D convolution`);
  }
  if (axes === 2) return v;
  return name === "pads" ? [0, v[0]!, 0, v[1]!] : [1, v[0]!];
}

function tensorOrValueDims(c: OpContext, i: number): readonly number[] {
  const v = inputOf(c, i);
  return v.tensor !== undefined ? tensorDims(v.tensor, `${c.label}.input[${i}]`) : v.dims;
}

/** [K, N] (row-major) to [N, K]: a fully connected layer's weights as OIHW with 1x1 kernels. */
function transposed(rows: number, cols: number): (w: Int8Array | Uint8Array) => Int8Array | Uint8Array {
  return (w) => {
    const out = w instanceof Int8Array ? new Int8Array(w.length) : new Uint8Array(w.length);
    for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) out[k * rows + r] = w[r * cols + k]!;
    return out;
  };
}

/** Gemm, MatMul, MatMulInteger, QLinearMatMul with a constant second operand: fully connected. */
function fcNode(sink: LayerSink): OpHandler {
  return (c) => {
    const slots = SLOTS[c.node.opType]!;
    const a = inputOf(c, slots.x);
    const b = inputOf(c, slots.w);
    const bConst = b.tensor !== undefined || (b.dequantized !== undefined && c.g.get(b.dequantized.source)?.tensor !== undefined);
    if (!bConst || b.dims.length !== 2) {
      throw new ConfigError(`${c.label}.input[${slots.w}]`, c.node.input[slots.w], "be a constant 2-D weight matrix (an initializer): convsim models a product with a constant operand as a fully connected layer");
    }
    const gemm = c.node.opType === "Gemm";
    const transA = gemm && c.attrs.int("transA", 0) === 1;
    const transB = gemm && c.attrs.int("transB", 0) === 1;
    if (gemm && a.dims.length !== 2) throw new ConfigError(`${c.label}.input[0]`, a.dims, "be a matrix (Gemm)");
    if (a.dims.length < 1) throw new ConfigError(`${c.label}.input[0]`, a.dims, "have at least one dimension");
    const inner = transA ? a.dims[0]! : a.dims[a.dims.length - 1]!;
    const rowsDims = transA ? [a.dims[1]!] : a.dims.slice(0, -1);
    const [k, n] = transB ? [b.dims[1]!, b.dims[0]!] : [b.dims[0]!, b.dims[1]!];
    if (k !== inner) throw new ConfigError(`${c.label}.input[${slots.w}]`, b.dims, `have ${inner} rows (the inner dimension of ${a.dims.join("x")})${transB ? " after transB" : ""}`);
    const batch = rowsDims.reduce((p, d) => p * d, 1);
    const layer = convLayer({ name: c.node.name, batch, inChannels: k, inHeight: 1, inWidth: 1, outChannels: n, kernelHeight: 1, kernelWidth: 1 }, c.label);
    setOutput(c, 0, { dims: [...rowsDims, n], elemType: outType(c, slots, a) });
    const layout = transB ? (w: Int8Array | Uint8Array) => w : transposed(k, n);
    const operands = sink.weights ? modelOperands(c, slots, a, layout) : { missing: "weights not read" };
    sink.add({ layer, label: c.label, operands });
  };
}

/** The layer operators, by op type, feeding `sink`. */
export function layerOps(sink: LayerSink): Readonly<Record<string, OpHandler>> {
  const conv = convNode(sink);
  const fc = fcNode(sink);
  return { Conv: conv, ConvInteger: conv, QLinearConv: conv, Gemm: fc, MatMul: fc, MatMulInteger: fc, QLinearMatMul: fc };
}
