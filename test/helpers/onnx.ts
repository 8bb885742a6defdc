/**
 * A minimal ONNX model builder for the ConvInteger oracle test: a hand-written protobuf encoder
 * for the few messages a one-node model needs (ModelProto, GraphProto, NodeProto,
 * AttributeProto, ValueInfoProto, TypeProto, TensorShapeProto, OperatorSetIdProto). Field
 * numbers are those of onnx/onnx.proto. Nothing here is part of convsim.
 */

/** ONNX TensorProto.DataType values used here. */
export const OnnxType = { UINT8: 2, INT8: 3, INT16: 5, INT32: 6 } as const;

/** Protobuf wire types. */
const VARINT = 0;
const LEN = 2;

class Writer {
  private readonly parts: number[] = [];

  varint(value: number | bigint): this {
    // int64 fields take negative numbers as 10-byte two's complement.
    let v = BigInt.asUintN(64, BigInt(value));
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      this.parts.push(byte);
    } while (v !== 0n);
    return this;
  }

  private tag(field: number, wire: number): this {
    return this.varint((field << 3) | wire);
  }

  int(field: number, value: number): this {
    return this.tag(field, VARINT).varint(value);
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, LEN).varint(data.length);
    for (const b of data) this.parts.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  message(field: number, w: Writer): this {
    return this.bytes(field, w.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** An INTS attribute (AttributeProto: name = 1, ints = 8, type = 20; AttributeType.INTS = 7). */
function intsAttribute(name: string, values: readonly number[]): Writer {
  const w = new Writer().string(1, name);
  for (const v of values) w.int(8, v);
  return w.int(20, 7);
}

/** An INT attribute (i = 3; AttributeType.INT = 2). */
function intAttribute(name: string, value: number): Writer {
  return new Writer().string(1, name).int(3, value).int(20, 2);
}

/** ValueInfoProto { name = 1, type = 2: TypeProto { tensor_type = 1: { elem_type = 1, shape = 2 } } }. */
function valueInfo(name: string, elemType: number, dims: readonly number[]): Writer {
  const shape = new Writer();
  for (const d of dims) shape.message(1, new Writer().int(1, d)); // Dimension.dim_value = 1
  const tensorType = new Writer().int(1, elemType).message(2, shape);
  return new Writer().string(1, name).message(2, new Writer().message(1, tensorType));
}

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
 * The bytes of an ONNX model (IR 7, opset 13) with one ConvInteger node whose four inputs
 * x, w, x_zero_point, w_zero_point (scalars) are all graph inputs, and whose output is y (int32).
 */
export function convIntegerModel(m: ConvIntegerModel): Uint8Array {
  const node = new Writer()
    .string(1, "x")
    .string(1, "w")
    .string(1, "x_zero_point")
    .string(1, "w_zero_point")
    .string(2, "y")
    .string(3, "conv")
    .string(4, "ConvInteger")
    .message(5, intsAttribute("strides", m.strides))
    .message(5, intsAttribute("pads", m.pads))
    .message(5, intsAttribute("dilations", m.dilations))
    .message(5, intAttribute("group", m.group))
    .message(5, intsAttribute("kernel_shape", m.kernelShape));
  const graph = new Writer()
    .message(1, node)
    .string(2, "convinteger")
    .message(11, valueInfo("x", m.xType, m.xDims))
    .message(11, valueInfo("w", m.wType, m.wDims))
    .message(11, valueInfo("x_zero_point", m.xType, []))
    .message(11, valueInfo("w_zero_point", m.wType, []))
    .message(12, valueInfo("y", OnnxType.INT32, m.yDims));
  return new Writer()
    .int(1, 7) // ir_version
    .string(2, "convsim-test") // producer_name
    .message(7, graph)
    .message(8, new Writer().string(1, "").int(2, 13)) // opset_import: default domain, version 13
    .finish();
}
