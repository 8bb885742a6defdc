/**
 * Reading an ONNX model's protobuf: decoding the bytes with `@bufbuild/protobuf` and the code
 * generated from ONNX's published schema (gen/onnx_pb.ts; docs/formats.md says how to
 * regenerate it), and reading what the importer needs from the messages: tensor dimensions and
 * integer data (from `raw_data` or the typed fields, little-endian as the schema specifies),
 * and node attributes with their ONNX defaults. Nothing here knows about convolutions.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { ConfigError } from "../../core/errors.js";
import {
  AttributeProto_AttributeType as AttrType,
  ModelProtoSchema,
  TensorProto_DataLocation,
  TensorProto_DataType as DataType,
  type AttributeProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
} from "./gen/onnx_pb.js";

/** ONNX element types (TensorProto.DataType), from the generated schema. */
export { DataType };

/**
 * Decodes the bytes of an ONNX model file.
 * @param source how errors name the model (a file name).
 * @throws ConfigError when the bytes are not a ModelProto holding a graph.
 */
export function decodeModel(bytes: Uint8Array, source: string): ModelProto {
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, bytes);
  } catch (e) {
    throw new ConfigError(source, `${bytes.length} bytes`, "be an ONNX model (a binary ModelProto)", (e as Error).message);
  }
  if (model.graph === undefined || model.graph.node.length === 0) {
    throw new ConfigError(`${source}: graph`, model.graph === undefined ? undefined : "no nodes", "be present and hold at least one node (is this an ONNX model?)");
  }
  return model;
}

/** A 64-bit integer from the protobuf as a number; beyond 2^53 it is an error naming `field`. */
export function toNumber(field: string, v: bigint): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new ConfigError(field, v.toString(), "be an integer of at most 2^53 in magnitude");
  return n;
}

/** A tensor's dimensions as numbers; a negative one is an error naming `field`. */
export function tensorDims(t: TensorProto, field: string): number[] {
  return t.dims.map((d, i) => {
    const n = toNumber(`${field}.dims[${i}]`, d);
    if (n < 0) throw new ConfigError(`${field}.dims[${i}]`, n, "be a non-negative integer");
    return n;
  });
}

/** The name of an ONNX element type, e.g. `int8` (for messages). */
export function dataTypeName(t: number): string {
  return (DataType[t] ?? `type ${t}`).toLowerCase();
}

function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function requireInline(t: TensorProto, field: string): void {
  if (t.dataLocation === TensorProto_DataLocation.EXTERNAL) {
    throw new ConfigError(`${field}.data_location`, "EXTERNAL", "be DEFAULT: convsim reads tensors stored inside the model file only (save the model without external data)");
  }
}

/** Refuses raw data of another length than `n` elements of `size` bytes (the schema requires it exactly). */
function requireRawLength(t: TensorProto, field: string, n: number, size: number): void {
  if (t.rawData.length !== n * size) throw new ConfigError(`${field}.raw_data`, `${t.rawData.length} bytes`, `hold the ${n} elements its dims give, ${size} bytes each (${n * size} bytes)`);
}

/**
 * The data of an int8 or uint8 tensor (weights, zero points), as a typed array of that type.
 * @throws ConfigError for another element type, external data or a wrong element count.
 */
export function byteTensorData(t: TensorProto, field: string): Int8Array | Uint8Array {
  requireInline(t, field);
  const n = elementCount(tensorDims(t, field));
  const signed = t.dataType === DataType.INT8;
  if (!signed && t.dataType !== DataType.UINT8) throw new ConfigError(`${field}.data_type`, dataTypeName(t.dataType), "be int8 or uint8");
  let out: Int8Array | Uint8Array;
  if (t.rawData.length > 0) {
    // A copy with its own buffer: the decoded bytes are views into the whole model file (a
    // Buffer's slice() would be one too), and a worker thread is sent the whole buffer of a view.
    const copy = new Uint8Array(t.rawData);
    out = signed ? new Int8Array(copy.buffer, copy.byteOffset, copy.length) : copy;
  } else {
    // int8 and uint8 values are stored one per int32_data entry.
    out = signed ? Int8Array.from(t.int32Data) : Uint8Array.from(t.int32Data);
  }
  if (out.length !== n) throw new ConfigError(`${field}.raw_data`, `${out.length} elements`, `hold the ${n} elements its dims give`);
  return out;
}

/**
 * The values of a small integer tensor (int8, uint8, int16, uint16, int32, int64): shapes, pads,
 * axes, zero points.
 * @throws ConfigError for a float or other tensor, or external data.
 */
export function intTensorValues(t: TensorProto, field: string): number[] {
  requireInline(t, field);
  const raw = t.rawData;
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const n = elementCount(tensorDims(t, field));
  const fromRaw = (size: number, get: (o: number) => number | bigint): number[] => {
    requireRawLength(t, field, n, size);
    return Array.from({ length: n }, (_, i) => {
      const v = get(i * size);
      return typeof v === "bigint" ? toNumber(field, v) : v;
    });
  };
  let values: number[];
  switch (t.dataType) {
    case DataType.INT8:
    case DataType.UINT8:
      values = Array.from(byteTensorData(t, field));
      break;
    case DataType.INT16:
      values = raw.length > 0 ? fromRaw(2, (o) => dv.getInt16(o, true)) : [...t.int32Data];
      break;
    case DataType.UINT16:
      values = raw.length > 0 ? fromRaw(2, (o) => dv.getUint16(o, true)) : [...t.int32Data];
      break;
    case DataType.INT32:
      values = raw.length > 0 ? fromRaw(4, (o) => dv.getInt32(o, true)) : [...t.int32Data];
      break;
    case DataType.INT64:
      values = raw.length > 0 ? fromRaw(8, (o) => dv.getBigInt64(o, true)) : t.int64Data.map((v) => toNumber(field, v));
      break;
    default:
      throw new ConfigError(`${field}.data_type`, dataTypeName(t.dataType), "be an integer type (a constant shape, pads, axes or zero point)");
  }
  if (values.length !== n) throw new ConfigError(field, `${values.length} values`, `hold the ${n} elements its dims give`);
  return values;
}

/**
 * The values of a float or double tensor (e.g. a Pad constant value, Resize's scales).
 * @throws ConfigError for external data or a wrong element count.
 */
export function floatTensorValues(t: TensorProto, field: string): number[] {
  if (t.dataType !== DataType.FLOAT && t.dataType !== DataType.DOUBLE) return intTensorValues(t, field);
  requireInline(t, field);
  const raw = t.rawData;
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const n = elementCount(tensorDims(t, field));
  const size = t.dataType === DataType.FLOAT ? 4 : 8;
  if (raw.length > 0) requireRawLength(t, field, n, size);
  const values = raw.length === 0 ? [...(size === 4 ? t.floatData : t.doubleData)] : Array.from({ length: n }, (_, i) => (size === 4 ? dv.getFloat32(i * 4, true) : dv.getFloat64(i * 8, true)));
  if (values.length !== n) throw new ConfigError(field, `${values.length} values`, `hold the ${n} elements its dims give`);
  return values;
}

/** A node's attributes by name. */
export class Attributes {
  private readonly byName = new Map<string, AttributeProto>();

  /** @param field how errors name the node, e.g. `model.onnx: node "conv1" (Conv)`. */
  constructor(
    node: NodeProto,
    private readonly field: string,
  ) {
    for (const a of node.attribute) this.byName.set(a.name, a);
  }

  /** Whether the attribute is present. */
  has(name: string): boolean {
    return this.byName.has(name);
  }

  private get(name: string, type: AttrType): AttributeProto | undefined {
    const a = this.byName.get(name);
    if (a !== undefined && a.type !== AttrType.UNDEFINED && a.type !== type) {
      throw new ConfigError(`${this.field}.attribute.${name}`, AttrType[a.type], `be of type ${AttrType[type]}`);
    }
    return a;
  }

  /** An INT attribute, or `fallback`. */
  int(name: string, fallback: number): number {
    const a = this.get(name, AttrType.INT);
    return a === undefined ? fallback : toNumber(`${this.field}.attribute.${name}`, a.i);
  }

  /** An INTS attribute, or `fallback` (undefined when absent and no fallback). */
  ints(name: string): number[] | undefined;
  ints(name: string, fallback: number[]): number[];
  ints(name: string, fallback?: number[]): number[] | undefined {
    const a = this.get(name, AttrType.INTS);
    return a === undefined ? fallback : a.ints.map((v, i) => toNumber(`${this.field}.attribute.${name}[${i}]`, v));
  }

  /** A STRING attribute (UTF-8), or `fallback`. */
  string(name: string, fallback: string): string {
    const a = this.get(name, AttrType.STRING);
    return a === undefined ? fallback : new TextDecoder().decode(a.s);
  }

  /** A FLOATS attribute, or `fallback`. */
  floats(name: string, fallback: number[]): number[] {
    const a = this.get(name, AttrType.FLOATS);
    return a === undefined ? fallback : [...a.floats];
  }

  /** A FLOAT attribute, or `fallback`. */
  float(name: string, fallback: number): number {
    const a = this.get(name, AttrType.FLOAT);
    return a === undefined ? fallback : a.f;
  }

  /** A TENSOR attribute (Constant's `value`). */
  tensor(name: string): TensorProto | undefined {
    return this.get(name, AttrType.TENSOR)?.t;
  }
}
