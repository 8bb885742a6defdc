/**
 * importOnnx against ONNX Runtime (onnxruntime-web, WASM, in Node): the same models run through
 * ORT with every layer's output made a graph output, and each layer's output dimensions that
 * convsim infers must equal the ones ORT computes. One model exercises the attributes and
 * operators between layers (auto_pad SAME_UPPER / SAME_LOWER / VALID, dilations, groups,
 * depthwise, asymmetric pads, a zero Pad taken into the next Conv, ceil_mode pooling, Concat,
 * Split, Resize, Slice, ReduceMean, Reshape through Shape/Gather/Unsqueeze/Concat, a 1-D
 * convolution, Gemm without transB,
 * MatMul); the ResNet-18 models (float and QLinearConv) run at 32x32 to keep ORT's time small
 * (their 224x224 shapes are checked in import.test.ts). Last, the model's own operands: a
 * ConvInteger and a MatMulInteger layer simulated with the imported weights and zero points give
 * ORT's int32 outputs bit for bit.
 */
import { describe, expect, it } from "vitest";
import { simulate } from "../../../src/dataflow/simulate.js";
import { importOnnx, onnxLayerOperands, type OnnxNetwork } from "../../../src/formats/onnx/index.js";
import { convShape, type ConvLayer } from "../../../src/workload/layer.js";
import { seededTensor } from "../../../src/workload/tensors.js";
import { DataType, OnnxBuilder } from "../../helpers/onnx-builder.js";
import { resnet18Float, resnet18Quantized } from "../../helpers/onnx-models.js";
import { configureOrt, runOrt } from "../../helpers/ort.js";

const ort = configureOrt();

/** A layer's output as convsim sees it: N x K x outH x outW. */
function convsimOut(l: ConvLayer): number[] {
  const s = convShape(l);
  return [l.batch, l.outChannels, s.outHeight, s.outWidth];
}

/** ORT's output dims in the same form: N x C x L is N x C x 1 x L, rows x N is rows x N x 1 x 1. */
function ortOut(dims: readonly number[]): number[] {
  if (dims.length === 3) return [dims[0]!, dims[1]!, 1, dims[2]!];
  if (dims.length === 2) return [dims[0]!, dims[1]!, 1, 1];
  return [...dims];
}

async function crossCheck(bytes: Uint8Array, layerOutputs: readonly string[], feeds: Record<string, import("onnxruntime-web").Tensor>): Promise<OnnxNetwork> {
  const net = importOnnx(bytes);
  const outs = await runOrt(bytes, feeds);
  expect(net.layers.length).toBe(layerOutputs.length);
  const mine = net.layers.map((l) => ({ name: l.name, dims: convsimOut(l) }));
  const theirs = net.layers.map((l, i) => ({ name: l.name, dims: ortOut(outs[layerOutputs[i]!]!.dims) }));
  expect(mine).toEqual(theirs);
  return net;
}

const zeros = (dims: number[]) => new ort.Tensor("float32", new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);

/** The operator and attribute zoo (opset 13). */
function zooModel(): { bytes: Uint8Array; outs: string[] } {
  const b = new OnnxBuilder("zoo");
  const outs: string[] = [];
  const w = (name: string, dims: number[]) => b.init(name, DataType.FLOAT, dims);
  const layer = (op: string, inputs: string[], attrs: Record<string, number | number[] | string>, name: string) => {
    const y = b.node(op, inputs, attrs, { name });
    outs.push(y);
    return y;
  };
  const x = b.input("x", DataType.FLOAT, [1, 3, 65, 63]);
  let a = layer("Conv", [x, w("w1", [8, 3, 3, 3])], { strides: [2, 2], auto_pad: "SAME_UPPER" }, "same_upper");
  a = b.node("Clip", [a, b.init("lo", DataType.FLOAT, [], Float32Array.of(0)), b.init("hi", DataType.FLOAT, [], Float32Array.of(6))]);
  a = layer("Conv", [a, w("w2", [8, 8, 4, 4])], { strides: [2, 2], auto_pad: "SAME_LOWER" }, "same_lower");
  // ORT refuses dilations with SAME_* ("Dilation not supported for AutoPadType::SAME_UPPER or SAME_LOWER").
  a = layer("Conv", [a, w("w2d", [8, 8, 3, 3])], { dilations: [2, 2], pads: [2, 1, 2, 3] }, "dilated");
  a = b.node("BatchNormalization", [a, ...["s", "bb", "m", "v"].map((n) => b.init(n, DataType.FLOAT, [8], Float32Array.from({ length: 8 }, () => 1)))]);
  a = layer("Conv", [a, w("w3", [8, 1, 3, 3])], { group: 8, pads: [1, 0, 1, 2] }, "depthwise_asym");
  a = b.node("Pad", [a, b.ints("pads", [0, 0, 1, 2, 0, 0, 2, 1])], { mode: "constant" });
  a = layer("Conv", [a, w("w4", [12, 8, 5, 5])], { auto_pad: "VALID" }, "after_pad");
  a = b.node("MaxPool", [a], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 });
  const f1 = layer("Conv", [a, w("w5", [8, 12, 1, 1])], {}, "branch1x1");
  const f2 = layer("Conv", [a, w("w6", [8, 12, 3, 3])], { pads: [1, 1, 1, 1] }, "branch3x3");
  a = b.node("Relu", [b.node("Concat", [f1, f2], { axis: 1 })]);
  a = layer("Conv", [a, w("w7", [16, 4, 3, 3])], { group: 4, pads: [1, 1, 1, 1] }, "grouped");
  // Split, Resize, Slice and a reduction, each feeding a layer of its own.
  const [s1, s2] = [`${a}_s1`, `${a}_s2`];
  b.node("Split", [a, b.ints("split", [6, 10])], { axis: 1 }, { out: [s1, s2] });
  const up = b.node("Resize", [s2, "", b.init("scales", DataType.FLOAT, [4], Float32Array.of(1, 1, 2, 1.5))], { mode: "nearest" });
  layer("Conv", [up, w("w7r", [8, 10, 3, 3])], { strides: [2, 2], pads: [1, 1, 1, 1] }, "after_resize");
  layer("Conv", [b.node("Slice", [s1, b.ints("st", [1, -5]), b.ints("en", [1000, -1]), b.ints("ax", [1, 3])]), w("w7s", [4, 5, 1, 1])], {}, "after_slice");
  layer("Conv", [b.node("ReduceMean", [a], { axes: [2, 3] }), w("w7m", [4, 16, 1, 1])], {}, "after_reduce");
  a = b.node("AveragePool", [a], { kernel_shape: [2, 2], strides: [2, 2], auto_pad: "SAME_UPPER" });
  a = b.node("Reshape", [a, b.ints("shape3", [0, 0, -1])]);
  a = layer("Conv", [a, w("w8", [8, 16, 3])], { strides: [2], pads: [1, 1] }, "conv1d");
  const batch = b.node("Unsqueeze", [b.node("Gather", [b.node("Shape", [a]), b.ints("zero", [0], [])]), b.ints("axes", [0])]);
  const flat = b.node("Reshape", [a, b.node("Concat", [batch, b.ints("minus1", [-1])], { axis: 0 })]);
  a = layer("Gemm", [flat, w("w9", [64, 10])], {}, "gemm_kn");
  layer("MatMul", [a, w("w10", [10, 5])], {}, "matmul");
  for (const o of outs) b.output(o);
  return { bytes: b.build(), outs };
}

describe("importOnnx against ONNX Runtime: every layer's output dimensions", () => {
  it("the operator and attribute zoo", async () => {
    const { bytes, outs } = zooModel();
    const net = await crossCheck(bytes, outs, { x: zeros([1, 3, 65, 63]) });
    const byName = (n: string) => net.layers.find((l) => l.name === n)!;
    // The zero Pad went into the next Conv's pads (convsim generates padding, never fetches it).
    expect(byName("after_pad").pads).toEqual([1, 2, 2, 1]);
    expect(byName("depthwise_asym").groups).toBe(8);
    // SAME_LOWER puts the odd pad first: 33 rows, kernel 4, stride 2 -> 17 rows, 3 pad rows: 2 on top, 1 at the bottom.
    expect(byName("same_lower").pads).toEqual([2, 1, 1, 1]);
    expect(byName("conv1d").inHeight).toBe(1);
  });

  it("ResNet-18, float, 32x32", async () => {
    const m = resnet18Float(1, 32);
    await crossCheck(m.bytes, m.layerOutputs, { input: zeros([1, 3, 32, 32]) });
  });

  it("ResNet-18, QLinearConv, 32x32", async () => {
    const m = resnet18Quantized(3, 32);
    await crossCheck(m.bytes, m.layerOutputs, { input: zeros([1, 3, 32, 32]) });
  });
});

describe("the model's own operands, simulated, against ONNX Runtime", () => {
  it("ConvInteger (uint8 x int8, grouped, strided) and MatMulInteger give ORT's int32 outputs bit for bit", async () => {
    const b = new OnnxBuilder("integer", 13);
    const w = seededTensor("int8", 6 * 2 * 3 * 3, "w");
    const B = seededTensor("int8", 20 * 7, "B");
    const x = b.input("x", DataType.UINT8, [1, 4, 9, 9]);
    const a = b.input("a", DataType.UINT8, [3, 20]);
    const zp = (n: string, t: DataType, v: number) => b.init(n, t, [], t === DataType.UINT8 ? Uint8Array.of(v) : Int8Array.of(v));
    const y = b.node("ConvInteger", [x, b.init("w", DataType.INT8, [6, 2, 3, 3], w), zp("xz", DataType.UINT8, 3), zp("wz", DataType.INT8, -2)], { strides: [2, 2], pads: [1, 1, 1, 1], group: 2 }, { name: "conv" });
    const z = b.node("MatMulInteger", [a, b.init("B", DataType.INT8, [20, 7], B), zp("az", DataType.UINT8, 5), zp("bz", DataType.INT8, 1)], {}, { name: "fc" });
    b.output(y, DataType.INT32);
    b.output(z, DataType.INT32);
    const bytes = b.build();
    const net = importOnnx(bytes, { weights: true });
    const xs = seededTensor("uint8", 4 * 9 * 9, "x");
    const as = seededTensor("uint8", 3 * 20, "a");
    const outs = await runOrt(bytes, { x: new ort.Tensor("uint8", xs, [1, 4, 9, 9]), a: new ort.Tensor("uint8", as, [3, 20]) });
    const inputs: Record<string, Uint8Array> = { conv: xs, fc: as };
    const ortOf: Record<string, string> = { conv: y, fc: z };
    for (const layer of net.layers) {
      const ops = onnxLayerOperands(net, layer.name!);
      expect([ops.inputType, ops.inputZeroPoint, ops.wZeroPoint]).toEqual(["uint8", layer.name === "conv" ? 3 : 5, layer.name === "conv" ? -2 : 1]);
      const r = simulate({ layer, arch: "eyeriss", dataflow: "os", x: inputs[layer.name!]!, w: ops.w, zeroPoints: { input: ops.inputZeroPoint, weight: ops.wZeroPoint } });
      expect(r.verification.ok).toBe(true);
      expect(Array.from(r.output)).toEqual(Array.from(outs[ortOf[layer.name!]!]!.data as Int32Array));
    }
  });
});
