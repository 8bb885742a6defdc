/**
 * ResNet-18 as ONNX models, built with the protobuf library (test/helpers/onnx-builder.ts), in
 * the structure torchvision's resnet18 exports to (He et al., CVPR 2016; torchvision
 * models/resnet.py): conv1 7x7/2 + BatchNormalization + Relu, MaxPool 3x3/2, four stages of two
 * BasicBlocks (3x3 convs, a 1x1/2 downsample conv on the first block of stages 2-4, Add, Relu),
 * GlobalAveragePool, Flatten, Gemm 512 -> 1000. Two forms: float (zero weights; shapes are
 * what matter) and quantized in ONNX Runtime's QOperator form (QuantizeLinear on the input,
 * QLinearConv layers with seeded int8 weights, residual Adds between Dequantize/QuantizeLinear,
 * QLinearMatMul for fc). Layer node names are torchvision's module names.
 */
import { seededTensor } from "../../src/workload/tensors.js";
import { DataType, OnnxBuilder } from "./onnx-builder.js";

/** A built model and the names of its layers' output values, in layer order. */
export interface BuiltModel {
  readonly bytes: Uint8Array;
  readonly layerOutputs: readonly string[];
}

/** A layer node's output (checked against ONNX Runtime) and the activation the network goes on with. */
interface Emitted {
  readonly layer: string;
  readonly act: string;
}

/** What differs between the float and the quantized form: how a conv, an Add, the stem and the head are written. */
interface Emitter {
  conv(b: OnnxBuilder, x: string, cin: number, cout: number, k: number, stride: number, pad: number, name: string, relu: boolean): Emitted;
  add(b: OnnxBuilder, x: string, y: string): string;
  stem(b: OnnxBuilder, input: string): string;
  head(b: OnnxBuilder, x: string): string;
}

function resnet18(b: OnnxBuilder, e: Emitter, input: string): string[] {
  const outs: string[] = [];
  const layer = (em: Emitted) => (outs.push(em.layer), em.act);
  let x = layer(e.conv(b, e.stem(b, input), 3, 64, 7, 2, 3, "conv1", true));
  x = b.node("MaxPool", [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  let cin = 64;
  [64, 128, 256, 512].forEach((width, stage) => {
    for (let blk = 0; blk < 2; blk++) {
      const stride = stage > 0 && blk === 0 ? 2 : 1;
      const p = `layer${stage + 1}.${blk}`;
      const y1 = layer(e.conv(b, x, cin, width, 3, stride, 1, `${p}.conv1`, true));
      const y2 = layer(e.conv(b, y1, width, width, 3, 1, 1, `${p}.conv2`, false));
      const id = stride !== 1 || cin !== width ? layer(e.conv(b, x, cin, width, 1, stride, 0, `${p}.downsample.0`, false)) : x;
      x = e.add(b, y2, id);
      cin = width;
    }
  });
  outs.push(e.head(b, x));
  return outs;
}

/** Float ResNet-18 with zero weights; `batch` may be a dimension name (dynamic). */
export function resnet18Float(batch: number | string = 1, hw = 224): BuiltModel {
  const b = new OnnxBuilder("resnet18");
  const emitter: Emitter = {
    stem: (_, input) => input,
    conv(b, x, cin, cout, k, stride, pad, name, relu) {
      const w = b.init(`${name}.weight`, DataType.FLOAT, [cout, cin, k, k]);
      const y = b.node("Conv", [x, w], { kernel_shape: [k, k], strides: [stride, stride], pads: [pad, pad, pad, pad] }, { name });
      const bn = ["weight", "bias", "mean", "var"].map((t) => b.init(`${name}.bn.${t}`, DataType.FLOAT, [cout], t === "var" || t === "weight" ? new Float32Array(cout).fill(1) : undefined));
      const z = b.node("BatchNormalization", [y, ...bn], { epsilon: { f: 1e-5 } });
      return { layer: y, act: relu ? b.node("Relu", [z]) : z };
    },
    add: (b, x, y) => b.node("Relu", [b.node("Add", [x, y])]),
    head(b, x) {
      const f = b.node("Flatten", [b.node("GlobalAveragePool", [x])], { axis: 1 });
      return b.node("Gemm", [f, b.init("fc.weight", DataType.FLOAT, [1000, 512]), b.init("fc.bias", DataType.FLOAT, [1000])], { transB: 1 }, { name: "fc" });
    },
  };
  const input = b.input("input", DataType.FLOAT, [batch, 3, hw, hw]);
  const outs = resnet18(b, emitter, input);
  for (const o of outs) b.output(o);
  return { bytes: b.build(), layerOutputs: outs };
}

/** The int8 weights of the quantized model's layers, by layer name (OIHW; fc as 1000 x 512). */
export type QuantizedWeights = Map<string, Int8Array>;

/**
 * Quantized ResNet-18 (ONNX Runtime's QOperator form): uint8 activations (zero point 128),
 * int8 weights seeded from `seed`, weight zero point 0 (per tensor; per channel, all 0, on the
 * downsample convs), QLinearMatMul for fc.
 */
export function resnet18Quantized(seed = 5, hw = 224): BuiltModel & { readonly weights: QuantizedWeights } {
  const b = new OnnxBuilder("resnet18-int8");
  const weights: QuantizedWeights = new Map();
  const scale = b.init("scale", DataType.FLOAT, [], Float32Array.of(0.05));
  const xZero = b.init("x_zero_point", DataType.UINT8, [], Uint8Array.of(128));
  const wZero = b.init("w_zero_point", DataType.INT8, [], Int8Array.of(0));
  const dq = (x: string) => b.node("DequantizeLinear", [x, scale, xZero]);
  const q = (x: string) => b.node("QuantizeLinear", [x, scale, xZero]);
  const emitter: Emitter = {
    stem: (_, input) => q(input),
    conv(b, x, cin, cout, k, stride, pad, name) {
      const w = seededTensor("int8", cout * cin * k * k, `${seed}/${name}`);
      weights.set(name, w);
      const wInit = b.init(`${name}.weight`, DataType.INT8, [cout, cin, k, k], w);
      const wz = name.includes("downsample") ? b.init(`${name}.w_zero_point`, DataType.INT8, [cout]) : wZero;
      const y = b.node("QLinearConv", [x, scale, xZero, wInit, scale, wz, scale, xZero], { kernel_shape: [k, k], strides: [stride, stride], pads: [pad, pad, pad, pad] }, { name });
      return { layer: y, act: y };
    },
    add: (b, x, y) => q(b.node("Add", [dq(x), dq(y)])),
    head(b, x) {
      const f = q(b.node("Flatten", [b.node("GlobalAveragePool", [dq(x)])], { axis: 1 }));
      const w = seededTensor("int8", 512 * 1000, `${seed}/fc`);
      // QLinearMatMul's B is K x N (512 x 1000): w holds fc as 1000 x 512 (OIHW), so write its transpose.
      const kn = new Int8Array(w.length);
      for (let n = 0; n < 1000; n++) for (let k = 0; k < 512; k++) kn[k * 1000 + n] = w[n * 512 + k]!;
      weights.set("fc", w);
      const bInit = b.init("fc.weight", DataType.INT8, [512, 1000], kn);
      return b.node("QLinearMatMul", [f, scale, xZero, bInit, scale, wZero, scale, xZero], {}, { name: "fc" });
    },
  };
  const input = b.input("input", DataType.FLOAT, [1, 3, hw, hw]);
  const outs = resnet18(b, emitter, input);
  for (const o of outs) b.output(o, DataType.UINT8);
  return { bytes: b.build(), layerOutputs: outs, weights };
}
