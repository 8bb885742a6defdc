/**
 * The importer's view of an ONNX graph while it walks the nodes in order (ONNX requires them
 * topologically sorted): for each value name, its static dimensions, element type, and what is
 * known of its contents (an initializer's tensor, small integer contents folded from shape
 * arithmetic, a Pad of zeros a following convolution can absorb, the integer tensor behind a
 * DequantizeLinear). A value produced by an operator the importer does not know is remembered
 * with that node, and only an error when a node the importer handles reads it: an unsupported
 * operator is an error only on the path to a layer.
 */
import { ConfigError } from "../../core/errors.js";
import type { NodeProto, TensorProto } from "./gen/onnx_pb.js";

/** A Pad of zeros over the spatial axes only, which a following Conv takes into its own pads. */
export interface ZeroPad {
  /** The value before the Pad. */
  readonly inner: string;
  /** Spatial pads, ONNX order: begins then ends (for 2-D: top, left, bottom, right). */
  readonly pads: readonly number[];
}

/** What the importer knows about one value of the graph. */
export interface Value {
  readonly dims: readonly number[];
  /** ONNX element type (TensorProto.DataType). */
  readonly elemType: number;
  /** The tensor, for an initializer or a Constant. */
  readonly tensor?: TensorProto;
  /** Integer contents known statically (shape arithmetic: Shape, Gather, Concat, ...). */
  readonly ints?: readonly number[];
  /** Set when the value is a zero Pad a following Conv may absorb. */
  readonly zeroPad?: ZeroPad;
  /** Set when the value is DequantizeLinear's output: its integer input and zero point value names. */
  readonly dequantized?: { readonly source: string; readonly zeroPoint?: string };
}

/** Where an unsupported operator's output came from. */
interface Unknown {
  readonly label: string;
  readonly opType: string;
}

/** The values of a graph, as the walk over its nodes learns them. */
export class GraphValues {
  private readonly values = new Map<string, Value>();
  private readonly unknown = new Map<string, Unknown>();

  /** @param source how errors name the model (a file name). */
  constructor(readonly source: string) {}

  /** How errors name a node: `model.onnx: graph.node[3] "conv1" (Conv)`. */
  label(node: NodeProto, index: number): string {
    return `${this.source}: graph.node[${index}]${node.name ? ` ${JSON.stringify(node.name)}` : ""} (${node.opType})`;
  }

  /** Records a value. */
  set(name: string, value: Value): void {
    this.values.set(name, value);
  }

  /** Whether a value is known (an optional input left empty is not). */
  has(name: string | undefined): name is string {
    return name !== undefined && name !== "" && this.values.has(name);
  }

  /** Records that an unsupported node produced these outputs. */
  markUnknown(node: NodeProto, index: number): void {
    for (const o of node.output) if (o !== "") this.unknown.set(o, { label: this.label(node, index), opType: node.opType });
  }

  /**
   * The value a node reads as its input `i`.
   * @throws ConfigError when the input is missing, or comes from an unsupported operator.
   */
  input(node: NodeProto, index: number, i: number): Value {
    const name = node.input[i];
    const label = this.label(node, index);
    if (name === undefined || name === "") throw new ConfigError(`${label}.input[${i}]`, name ?? "", "be given");
    const v = this.values.get(name);
    if (v !== undefined) return v;
    const u = this.unknown.get(name);
    if (u !== undefined) {
      throw new ConfigError(u.label, u.opType, `be an operator convsim can infer shapes through (${SUPPORTED_HINT})`, `its output ${JSON.stringify(name)} feeds ${label}`);
    }
    throw new ConfigError(`${label}.input[${i}]`, name, "name a graph input, an initializer or an earlier node's output");
  }

  /** The value a node reads as its optional input `i`, or undefined when it is absent. */
  optionalInput(node: NodeProto, index: number, i: number): Value | undefined {
    const name = node.input[i];
    return name === undefined || name === "" ? undefined : this.input(node, index, i);
  }

  /** A value by name, when known. */
  get(name: string): Value | undefined {
    return this.values.get(name);
  }
}

/** The operators named in the unsupported-operator error (the full list is in docs/formats.md). */
export const SUPPORTED_HINT =
  "Conv, ConvInteger, QLinearConv, Gemm, MatMul, MatMulInteger, QLinearMatMul, Relu, Clip, BatchNormalization, MaxPool, AveragePool, GlobalAveragePool, Add, Mul, Concat, Split, Slice, Flatten, Reshape, Pad, Resize, ReduceMean, QuantizeLinear, DequantizeLinear and the shape operators; see docs/formats.md";

/** The product of dimensions. */
export function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** A negative axis counted from the end; checked against the rank. */
export function normalizeAxis(field: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new ConfigError(field, axis, `be an axis of a rank-${rank} tensor (in [${-rank}, ${rank - 1}])`);
  return a;
}

/** Spatial window attributes, resolved: per spatial axis. */
export interface Window {
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  /** Begins then ends, as ONNX orders them. */
  readonly pads: readonly number[];
}

/**
 * The pads of a sliding window: `auto_pad` SAME_UPPER / SAME_LOWER (output = ceil(input /
 * stride), the odd pad at the end for UPPER, at the beginning for LOWER), VALID (none), or
 * NOTSET (the `pads` attribute, default zeros).
 */
export function windowPads(field: string, autoPad: string, inSizes: readonly number[], w: Omit<Window, "pads">, pads: readonly number[] | undefined): number[] {
  const k = inSizes.length;
  switch (autoPad) {
    case "NOTSET":
    case "": {
      const p = pads ?? new Array<number>(2 * k).fill(0);
      if (p.length !== 2 * k || p.some((v) => !Number.isInteger(v) || v < 0)) throw new ConfigError(`${field}.attribute.pads`, p, `be ${2 * k} non-negative integers (begins, then ends)`);
      return [...p];
    }
    case "VALID":
      return new Array<number>(2 * k).fill(0);
    case "SAME_UPPER":
    case "SAME_LOWER": {
      const begins: number[] = [];
      const ends: number[] = [];
      inSizes.forEach((size, i) => {
        const s = w.strides[i]!;
        const out = Math.ceil(size / s);
        const total = Math.max(0, (out - 1) * s + (w.kernel[i]! - 1) * w.dilations[i]! + 1 - size);
        const small = Math.floor(total / 2);
        begins.push(autoPad === "SAME_UPPER" ? small : total - small);
        ends.push(autoPad === "SAME_UPPER" ? total - small : small);
      });
      return [...begins, ...ends];
    }
    default:
      throw new ConfigError(`${field}.attribute.auto_pad`, autoPad, "be NOTSET, SAME_UPPER, SAME_LOWER or VALID");
  }
}

/**
 * Output sizes of a sliding window (pooling): floor((in + pads - dilated kernel) / stride) + 1,
 * or with `ceilMode` the ceiling, dropping a last window that would start in the end padding.
 */
export function windowOutput(field: string, inSizes: readonly number[], w: Window, ceilMode: boolean): number[] {
  const k = inSizes.length;
  return inSizes.map((size, i) => {
    const padded = size + w.pads[i]! + w.pads[i + k]!;
    const span = (w.kernel[i]! - 1) * w.dilations[i]! + 1;
    if (span > padded) throw new ConfigError(`${field}.attribute.kernel_shape`, w.kernel, `fit the padded input (${padded} along spatial axis ${i})`);
    const q = (padded - span) / w.strides[i]!;
    let out = (ceilMode ? Math.ceil(q) : Math.floor(q)) + 1;
    if (ceilMode && (out - 1) * w.strides[i]! >= size + w.pads[i]!) out--;
    return out;
  });
}
