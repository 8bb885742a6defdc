/**
 * importOnnx: an ONNX model (its protobuf bytes) as a convsim {@link Network}: the model's Conv,
 * ConvInteger, QLinearConv and Gemm / MatMul (fully connected) layers in graph order, with every
 * shape inferred statically from the graph inputs through the operators in between (ops.ts,
 * layers.ts). A dynamic input dimension is an error naming the input until `inputShapes` (or
 * `batch`, for the first dimension) fixes it; an operator the importer does not know is an error
 * naming the node and its op type when a layer depends on its output, and is skipped otherwise
 * (a Softmax after the last layer). With `weights`, each quantized layer keeps the model's
 * int8/uint8 weights and zero points ({@link onnxLayerOperands}). docs/formats.md.
 */
import { ConfigError, requirePositiveInteger } from "../../core/errors.js";
import { convLayer, type ConvLayer } from "../../workload/layer.js";
import type { Network } from "../../workload/networks.js";
import type { GraphProto, ValueInfoProto } from "./gen/onnx_pb.js";
import { GraphValues } from "./graph.js";
import { layerOps, type FoundLayer, type ModelOperands } from "./layers.js";
import { SHAPE_OPS, type OpHandler } from "./ops.js";
import { Attributes, decodeModel, tensorDims, toNumber } from "./proto.js";

/** Options of {@link importOnnx}. */
export interface OnnxImportOptions {
  /** How messages and the network name the model, e.g. its file name. Default `model.onnx`. */
  readonly source?: string;
  /** Shapes of graph inputs by name (`{ input: [1, 3, 224, 224] }`), replacing the declared ones: fixes dynamic dimensions. */
  readonly inputShapes?: Readonly<Record<string, readonly number[]>>;
  /** The batch size: the first dimension of every graph input (after `inputShapes`). Default: the model's. */
  readonly batch?: number;
  /** Read each quantized layer's int8/uint8 weights and zero points into {@link OnnxNetwork.operands}. Default false. */
  readonly weights?: boolean;
}

/** A network imported from ONNX: the layers, and per layer name the model's own integer operands or why it has none. */
export interface OnnxNetwork extends Network {
  /** Per layer name: the model's weights and zero points, or `missing` (a float layer, per-channel zero points, `weights` not asked for). */
  readonly operands: Readonly<Record<string, ModelOperands | { readonly missing: string }>>;
}

function declaredDims(source: string, info: ValueInfoProto): (number | string)[] | undefined {
  const t = info.type?.value;
  if (t?.case !== "tensorType" || t.value.shape === undefined) return undefined;
  return t.value.shape.dim.map((d, i) =>
    d.value.case === "dimValue" ? toNumber(`${source}: graph.input ${JSON.stringify(info.name)} dims[${i}]`, d.value.value) : d.value.case === "dimParam" ? d.value.value : "?",
  );
}

function elemTypeOf(info: ValueInfoProto): number {
  const t = info.type?.value;
  return t?.case === "tensorType" ? t.value.elemType : 0;
}

/** The graph inputs (not initializers) with their shapes fixed; errors for a dynamic dimension. */
function graphInputs(graph: GraphProto, g: GraphValues, options: OnnxImportOptions): void {
  const source = g.source;
  const initializers = new Set(graph.initializer.map((t) => t.name));
  const inputs = graph.input.filter((i) => !initializers.has(i.name));
  const shapes = options.inputShapes ?? {};
  for (const name of Object.keys(shapes)) {
    if (!inputs.some((i) => i.name === name)) throw new ConfigError(`input shape ${JSON.stringify(name)}`, name, `name a graph input of ${source} (${inputs.map((i) => i.name).join(", ")})`);
  }
  if (options.batch !== undefined) requirePositiveInteger("batch", options.batch);
  for (const info of inputs) {
    const given = shapes[info.name];
    let dims: (number | string)[] | undefined = given !== undefined ? [...given] : declaredDims(source, info);
    const field = `${source}: graph.input ${JSON.stringify(info.name)}`;
    const hint = `give its shape: --input-shape ${info.name}=${(dims ?? ["N", "C", "H", "W"]).join("x")} with numbers (inputShapes in the API)`;
    if (dims === undefined) throw new ConfigError(`${field}.type`, "no shape", `declare a tensor shape, or ${hint}`);
    if (options.batch !== undefined && dims.length > 0) dims = [options.batch, ...dims.slice(1)];
    dims.forEach((d, i) => {
      if (typeof d !== "number") throw new ConfigError(`${field} dims[${i}]`, d, `be a fixed size: ${hint}${i === 0 ? ", or --batch for this first dimension" : ""}`);
      requirePositiveInteger(`${field} dims[${i}]`, d);
    });
    g.set(info.name, { dims: dims as number[], elemType: elemTypeOf(info) });
  }
}

/** Layer names: the node's, or `opType_index`; made unique. */
function nameLayers(found: readonly FoundLayer[]): ConvLayer[] {
  const used = new Set<string>();
  return found.map((f, i) => {
    let name = f.layer.name !== undefined && f.layer.name !== "" ? f.layer.name : `layer${i + 1}`;
    // A generated name may be another layer's own (`a`, then `a_3` and `a` at index 2): count on.
    if (used.has(name)) {
      let k = i + 1;
      while (used.has(`${name}_${k}`)) k++;
      name = `${name}_${k}`;
    }
    used.add(name);
    return name === f.layer.name ? f.layer : convLayer({ ...f.layer, name }, f.label);
  });
}

/**
 * Imports an ONNX model's layers as a network.
 * @param bytes the model file's bytes (a ModelProto; tensors stored in the file, not external).
 * @throws ConfigError naming the model, the graph input or node, the value and the rule: bytes
 * that are not a model, a dynamic input dimension, an unsupported operator a layer depends on,
 * shapes that do not fit an operator, a model without layers.
 */
export function importOnnx(bytes: Uint8Array, options: OnnxImportOptions = {}): OnnxNetwork {
  const source = options.source ?? "model.onnx";
  const model = decodeModel(bytes, source);
  const graph = model.graph!;
  const g = new GraphValues(source);
  for (const [i, t] of graph.initializer.entries()) g.set(t.name, { dims: tensorDims(t, `${source}: graph.initializer[${i}]`), elemType: t.dataType, tensor: t });
  graphInputs(graph, g, options);
  const found: FoundLayer[] = [];
  const ops: Record<string, OpHandler> = { ...SHAPE_OPS, ...layerOps({ weights: options.weights ?? false, add: (f) => found.push(f) }) };
  for (const [index, node] of graph.node.entries()) {
    const handler = node.domain === "" || node.domain === "ai.onnx" ? ops[node.opType] : undefined;
    if (handler === undefined) {
      g.markUnknown(node, index);
      continue;
    }
    const label = g.label(node, index);
    handler({ node, index, attrs: new Attributes(node, label), g, label });
  }
  if (found.length === 0) throw new ConfigError(`${source}: graph`, `${graph.node.length} nodes`, "hold at least one Conv, ConvInteger, QLinearConv, Gemm or MatMul layer");
  const layers = nameLayers(found);
  const operands: Record<string, ModelOperands | { readonly missing: string }> = {};
  layers.forEach((l, i) => (operands[l.name!] = found[i]!.operands));
  const name = graph.name !== "" ? graph.name : source.replace(/^.*[\\/]/, "").replace(/\.onnx$/i, "");
  const producer = model.producerName !== "" ? `, produced by ${model.producerName}${model.producerVersion ? ` ${model.producerVersion}` : ""}` : "";
  return Object.freeze({ name, source: `ONNX model ${source}${producer}`, layers: Object.freeze(layers), operands: Object.freeze(operands) });
}

/**
 * The model's own operands of one layer of an imported network, for simulating it with the
 * model's weights.
 * @throws ConfigError naming the layer and why it has none (float weights, per-channel zero points, weights not read).
 */
export function onnxLayerOperands(net: OnnxNetwork, layer: string): ModelOperands {
  const o = net.operands[layer];
  if (o === undefined) throw new ConfigError("layer", layer, `be a layer of ${net.name}`);
  if ("missing" in o) throw new ConfigError("weights", "model", `be used only on layers with int8/uint8 weights and one zero point per tensor (layer ${layer}: ${o.missing})`);
  return o;
}
