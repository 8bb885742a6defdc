/**
 * Builds ONNX models for tests with the same protobuf library and generated schema convsim reads
 * them with (@bufbuild/protobuf, src/formats/onnx/gen/onnx_pb.ts): graph inputs and outputs,
 * initializers (raw little-endian data), nodes with typed attributes. Nothing here is part of
 * convsim.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import {
  AttributeProto_AttributeType as AttrType,
  AttributeProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  TensorProto_DataType as DataType,
  TensorProtoSchema,
  ValueInfoProtoSchema,
  type AttributeProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from "../../src/formats/onnx/gen/onnx_pb.js";

export { DataType };

/** An attribute value: an integer (INT), integers (INTS), a string, `{ f }` (FLOAT), `{ floats }` (FLOATS) or a tensor. */
export type Attr = number | readonly number[] | string | { readonly f: number } | { readonly floats: readonly number[] } | TensorProto;

function attribute(name: string, v: Attr): AttributeProto {
  if (typeof v === "number") return create(AttributeProtoSchema, { name, type: AttrType.INT, i: BigInt(v) });
  if (typeof v === "string") return create(AttributeProtoSchema, { name, type: AttrType.STRING, s: new TextEncoder().encode(v) });
  if (Array.isArray(v)) return create(AttributeProtoSchema, { name, type: AttrType.INTS, ints: v.map((x: number) => BigInt(x)) });
  if ("f" in v) return create(AttributeProtoSchema, { name, type: AttrType.FLOAT, f: v.f });
  if ("floats" in v) return create(AttributeProtoSchema, { name, type: AttrType.FLOATS, floats: [...v.floats] });
  return create(AttributeProtoSchema, { name, type: AttrType.TENSOR, t: v as TensorProto });
}

const BYTES: Partial<Record<DataType, number>> = { [DataType.FLOAT]: 4, [DataType.INT8]: 1, [DataType.UINT8]: 1, [DataType.INT32]: 4, [DataType.INT64]: 8 };

/** A tensor with raw data: `data` as a typed array of the type's width, or zeros. */
export function tensor(name: string, dataType: DataType, dims: readonly number[], data?: ArrayBufferView): TensorProto {
  const n = dims.reduce((a, b) => a * b, 1);
  const raw = data ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(n * BYTES[dataType]!);
  return create(TensorProtoSchema, { name, dataType, dims: dims.map((d) => BigInt(d)), rawData: raw });
}

/** A value info: a tensor type with dims (numbers, or strings for dynamic dimensions), or no shape. */
function valueInfo(name: string, elemType: DataType, dims?: readonly (number | string)[]): ValueInfoProto {
  const dim = (dims ?? []).map((d) => (typeof d === "number" ? { value: { case: "dimValue" as const, value: BigInt(d) } } : { value: { case: "dimParam" as const, value: d } }));
  return create(ValueInfoProtoSchema, { name, type: { value: { case: "tensorType", value: { elemType, ...(dims !== undefined ? { shape: { dim } } : {}) } } } });
}

/** A model under construction. */
export class OnnxBuilder {
  private readonly nodes: NodeProto[] = [];
  private readonly inits: TensorProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private counter = 0;

  constructor(
    private readonly graphName = "test",
    private readonly opset = 13,
  ) {}

  /** A graph input. */
  input(name: string, elemType: DataType, dims?: readonly (number | string)[]): string {
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** A graph output (its shape declared when `dims` is given). */
  output(name: string, elemType: DataType = DataType.FLOAT, dims?: readonly number[]): void {
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  /** An initializer. */
  init(name: string, dataType: DataType, dims: readonly number[], data?: ArrayBufferView): string {
    this.inits.push(tensor(name, dataType, dims, data));
    return name;
  }

  /** An int64 initializer (shapes, pads, axes). */
  ints(name: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.init(name, DataType.INT64, dims, BigInt64Array.from(values.map((v) => BigInt(v))));
  }

  /** A node; returns its first output's name (`out` or a fresh one). */
  node(opType: string, inputs: readonly string[], attrs: Readonly<Record<string, Attr>> = {}, opts: { name?: string; out?: string | readonly string[] } = {}): string {
    const outs = typeof opts.out === "string" ? [opts.out] : (opts.out ?? [`${opType.toLowerCase()}_${++this.counter}`]);
    this.nodes.push(
      create(NodeProtoSchema, {
        opType,
        name: opts.name ?? "",
        input: [...inputs],
        output: [...outs],
        attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      }),
    );
    return outs[0]!;
  }

  /** The model's bytes (IR 8). */
  build(): Uint8Array {
    const graph = create(GraphProtoSchema, { name: this.graphName, node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs });
    const model = create(ModelProtoSchema, {
      irVersion: 8n,
      producerName: "convsim-test",
      graph,
      opsetImport: [create(OperatorSetIdProtoSchema, { domain: "", version: BigInt(this.opset) })],
    });
    return toBinary(ModelProtoSchema, model);
  }
}
