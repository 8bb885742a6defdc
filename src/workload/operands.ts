/**
 * The operands of a convolution and their checks at the boundary: the input and weight arrays
 * (their typed-array class is their element type), the zero points and the optional bias,
 * validated against the layer (docs/numerics.md, "Validation"). Every reference convolution and
 * `simulate()` take their operands through {@link checkOperands}.
 */
import { ConfigError } from "../core/errors.js";
import { dtypeOfArray, requireZeroPoint, type OperandType } from "./dtype.js";
import { convLayer, convShape, type ConvLayer, type ConvLayerSpec } from "./layer.js";

/** An input or weight tensor's data: the typed array's class gives the element type. */
export type OperandArray = Int8Array | Uint8Array | Int16Array;

/** Zero points and bias of a convolution. */
export interface ConvOptions {
  /** Input zero point, in the input type's range. Default 0. */
  xZeroPoint?: number;
  /** Weight zero point, in the weight type's range. Default 0. */
  wZeroPoint?: number;
  /** Optional int32 bias, one per output channel. */
  bias?: Int32Array;
}

/** The checked, resolved operands of a convolution. */
export interface ConvOperands {
  readonly layer: ConvLayer;
  readonly x: OperandArray;
  readonly w: OperandArray;
  readonly xType: OperandType;
  readonly wType: OperandType;
  readonly xZeroPoint: number;
  readonly wZeroPoint: number;
  readonly bias: Int32Array | undefined;
}

function operandType(field: string, a: unknown): OperandType {
  const t = dtypeOfArray(a);
  if (t !== "int8" && t !== "uint8" && t !== "int16") {
    throw new ConfigError(field, t ?? (a === null ? "null" : typeof a), "be an Int8Array, Uint8Array or Int16Array");
  }
  return t;
}

/**
 * Validates the operands of a convolution against its layer: array types, lengths, zero points
 * in range, bias length. Used at every boundary that takes tensors.
 */
export function checkOperands(layerSpec: ConvLayer | ConvLayerSpec, x: unknown, w: unknown, options: ConvOptions = {}): ConvOperands {
  const layer = convLayer(layerSpec);
  const shape = convShape(layer);
  const xType = operandType("x", x);
  const wType = operandType("w", w);
  const xa = x as OperandArray;
  const wa = w as OperandArray;
  if (xa.length !== shape.inputElements) {
    throw new ConfigError("x.length", xa.length, `equal batch*inChannels*inHeight*inWidth = ${shape.inputElements}`);
  }
  if (wa.length !== shape.weightElements) {
    throw new ConfigError("w.length", wa.length, `equal outChannels*(inChannels/groups)*kernelHeight*kernelWidth = ${shape.weightElements}`);
  }
  const xZeroPoint = requireZeroPoint("xZeroPoint", options.xZeroPoint ?? 0, xType);
  const wZeroPoint = requireZeroPoint("wZeroPoint", options.wZeroPoint ?? 0, wType);
  const bias = options.bias;
  if (bias !== undefined) {
    if (!(bias instanceof Int32Array)) throw new ConfigError("bias", dtypeOfArray(bias) ?? typeof bias, "be an Int32Array");
    if (bias.length !== layer.outChannels) throw new ConfigError("bias.length", bias.length, `equal outChannels = ${layer.outChannels}`);
  }
  return { layer, x: xa, w: wa, xType, wType, xZeroPoint, wZeroPoint, bias };
}
