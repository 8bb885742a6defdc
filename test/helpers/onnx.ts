/**
 * A one-node ONNX model for the ConvInteger oracle test, built with the protobuf library and
 * ONNX's generated schema (test/helpers/onnx-builder.ts). Nothing here is part of convsim.
 */
import { DataType, OnnxBuilder } from "./onnx-builder.js";

/** ONNX TensorProto.DataType values used here. */
export const OnnxType = { UINT8: DataType.UINT8, INT8: DataType.INT8, INT16: DataType.INT16, INT32: DataType.INT32 } as const;

/** The attributes and operand types of one ConvInteger node. */
export interface ConvIntegerModel {
  readonly xType: number;
  readonly wType: number;
  readonly xDims: readonly number[];
  readonly wDims: readonly number[];
  readonly yDims: readonly number[];
  readonly strides: readonly number[];
  readonly pads: readonly number[];
  readonly dilations: readonly number[];
  readonly group: number;
  readonly kernelShape: readonly number[];
}

/**
 * The bytes of an ONNX model (opset 13) with one ConvInteger node whose four inputs
 * x, w, x_zero_point, w_zero_point (scalars) are all graph inputs, and whose output is y (int32).
 */
export function convIntegerModel(m: ConvIntegerModel): Uint8Array {
  const b = new OnnxBuilder("convinteger", 13);
  const inputs = [b.input("x", m.xType, m.xDims), b.input("w", m.wType, m.wDims), b.input("x_zero_point", m.xType, []), b.input("w_zero_point", m.wType, [])];
  const attrs = { strides: m.strides, pads: m.pads, dilations: m.dilations, group: m.group, kernel_shape: m.kernelShape };
  b.output(b.node("ConvInteger", inputs, attrs, { name: "conv", out: "y" }), DataType.INT32, m.yDims);
  return b.build();
}
