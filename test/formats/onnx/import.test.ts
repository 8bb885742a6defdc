/**
 * importOnnx on ResNet-18 built with the protobuf library (float, and quantized with
 * QLinearConv): every layer's shape and MACs against figures computed here independently from
 * torchvision's architecture, and against the zoo's ResNet-18; dynamic inputs; the model's own
 * operands; and the errors (each names the model, the node or input, the value and the rule).
 */
import { describe, expect, it } from "vitest";
import { importOnnx, onnxLayerOperands } from "../../../src/formats/onnx/index.js";
import { convShape, type ConvLayer } from "../../../src/workload/layer.js";
import { network, totalMacs } from "../../../src/workload/networks.js";
import { configError } from "../../helpers/errors.js";
import { DataType, OnnxBuilder } from "../../helpers/onnx-builder.js";
import { resnet18Float, resnet18Quantized } from "../../helpers/onnx-models.js";

interface Expected {
  name: string;
  c: number;
  hw: number;
  k: number;
  r: number;
  stride: number;
  pad: number;
  out: number;
}

/**
 * ResNet-18's layers as torchvision builds them (models/resnet.py: conv1 7x7/2 pad 3 on 224,
 * maxpool 3x3/2 pad 1, BasicBlocks of two 3x3 convs, stride 2 and a 1x1/2 downsample in the first
 * block of layer2-4, fc 512 -> 1000), with the output size floor((hw + 2 pad - r) / stride) + 1.
 */
function torchvisionResnet18(): Expected[] {
  const out = (hw: number, r: number, s: number, p: number) => Math.floor((hw + 2 * p - r) / s) + 1;
  const layers: Expected[] = [{ name: "conv1", c: 3, hw: 224, k: 64, r: 7, stride: 2, pad: 3, out: out(224, 7, 2, 3) }];
  let hw = out(out(224, 7, 2, 3), 3, 2, 1);
  let c = 64;
  [64, 128, 256, 512].forEach((k, stage) => {
    for (let b = 0; b < 2; b++) {
      const s = stage > 0 && b === 0 ? 2 : 1;
      const o = out(hw, 3, s, 1);
      layers.push({ name: `layer${stage + 1}.${b}.conv1`, c, hw, k, r: 3, stride: s, pad: 1, out: o });
      layers.push({ name: `layer${stage + 1}.${b}.conv2`, c: k, hw: o, k, r: 3, stride: 1, pad: 1, out: o });
      if (s !== 1 || c !== k) layers.push({ name: `layer${stage + 1}.${b}.downsample.0`, c, hw, k, r: 1, stride: s, pad: 0, out: out(hw, 1, s, 0) });
      hw = o;
      c = k;
    }
  });
  layers.push({ name: "fc", c: 512, hw: 1, k: 1000, r: 1, stride: 1, pad: 0, out: 1 });
  return layers;
}

function expectResnet18(layers: readonly ConvLayer[], batch = 1): void {
  const expected = torchvisionResnet18();
  expect(layers.map((l) => l.name)).toEqual(expected.map((e) => e.name));
  layers.forEach((l, i) => {
    const e = expected[i]!;
    const s = convShape(l);
    expect({ name: l.name, batch: l.batch, c: l.inChannels, h: l.inHeight, w: l.inWidth, k: l.outChannels, r: [l.kernelHeight, l.kernelWidth], stride: l.strides, pads: l.pads, groups: l.groups, out: [s.outHeight, s.outWidth] }).toEqual({
      name: e.name,
      batch,
      c: e.c,
      h: e.hw,
      w: e.hw,
      k: e.k,
      r: [e.r, e.r],
      stride: [e.stride, e.stride],
      pads: [e.pad, e.pad, e.pad, e.pad],
      groups: 1,
      out: [e.out, e.out],
    });
    expect(s.macs).toBe(batch * e.k * e.out * e.out * e.c * e.r * e.r);
  });
  // The figure usually quoted for ResNet-18 at 224x224: 1.81 G multiply-accumulates.
  const macs = totalMacs(layers);
  expect(macs).toBe(batch * expected.reduce((s, e) => s + e.k * e.out * e.out * e.c * e.r * e.r, 0));
  expect(macs / batch).toBeGreaterThan(1.81e9);
  expect(macs / batch).toBeLessThan(1.82e9);
}

/** The float model at 224x224, built once (47 MB of zero weights). */
let float224: Uint8Array | undefined;
const floatModel = () => (float224 ??= resnet18Float().bytes);

const bytesOf = (a: Int8Array | Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const shapeOf = (l: ConvLayer) => ({ ...l, name: undefined });

describe("importOnnx: ResNet-18", () => {
  it("imports the float model's 21 layers with torchvision's shapes, the zoo's shapes and 1.81 G MACs", () => {
    const net = importOnnx(floatModel(), { source: "resnet18.onnx" });
    expect(net.name).toBe("resnet18");
    expect(net.source).toContain("resnet18.onnx");
    expectResnet18(net.layers);
    expect(net.layers.map(shapeOf)).toEqual(network("resnet18").layers.map(shapeOf));
  });

  it("imports the QLinearConv model with the same shapes, and its int8 weights and zero points", () => {
    const q = resnet18Quantized();
    const net = importOnnx(q.bytes, { weights: true });
    expectResnet18(net.layers);
    for (const l of net.layers) {
      const ops = onnxLayerOperands(net, l.name!);
      const want = q.weights.get(l.name!)!;
      expect(ops.w).toBeInstanceOf(Int8Array);
      expect(ops.w.length).toBe(convShape(l).weightElements);
      // Byte for byte (toEqual on millions of elements is slow).
      expect(Buffer.compare(bytesOf(ops.w), bytesOf(want))).toBe(0);
      expect([ops.inputType, ops.inputZeroPoint, ops.wZeroPoint]).toEqual(["uint8", 128, 0]);
    }
    // Without `weights`, no operands are read, and asking for them says so.
    const plain = importOnnx(q.bytes);
    expect(configError(() => onnxLayerOperands(plain, "conv1")).message).toContain("weights not read");
  });

  it("names a dynamic input dimension and takes the shape from inputShapes or batch", () => {
    const dyn = resnet18Float("N").bytes;
    const e = configError(() => importOnnx(dyn, { source: "r18.onnx" }));
    expect(e.message).toContain('r18.onnx: graph.input "input" dims[0]');
    expect(e.message).toContain('got "N"');
    expect(e.message).toContain("--input-shape input=");
    expectResnet18(importOnnx(dyn, { inputShapes: { input: [2, 3, 224, 224] } }).layers, 2);
    expect(importOnnx(dyn, { batch: 3 }).layers.every((l) => l.batch === 3)).toBe(true);
    expect(configError(() => importOnnx(dyn, { inputShapes: { image: [1, 3, 224, 224] } })).message).toContain('name a graph input of model.onnx (input)');
  });

  it("refuses the model's operands for a float layer, naming the layer and the reason", () => {
    const net = importOnnx(floatModel(), { weights: true });
    const e = configError(() => onnxLayerOperands(net, "layer1.0.conv1"));
    expect(e.message).toContain("layer layer1.0.conv1");
    expect(e.message).toContain("the weights are float");
  });
});

/** A tiny model: input -> (op) -> Conv 3x3 -> (tail op). */
function tinyModel(op: string | undefined, tail?: string): Uint8Array {
  const b = new OnnxBuilder("tiny");
  let x = b.input("x", DataType.FLOAT, [1, 4, 8, 8]);
  if (op) x = b.node(op, [x], {}, { name: "mid" });
  const y = b.node("Conv", [x, b.init("w", DataType.FLOAT, [6, 4, 3, 3])], {}, { name: "conv" });
  b.output(tail ? b.node(tail, [y], {}, { name: "tail" }) : y);
  return b.build();
}

describe("importOnnx: errors and unsupported operators", () => {
  it("names the node and op type of an unsupported operator a layer depends on", () => {
    const e = configError(() => importOnnx(tinyModel("NonZero"), { source: "m.onnx" }));
    expect(e.field).toBe('m.onnx: graph.node[0] "mid" (NonZero)');
    expect(e.value).toBe("NonZero");
    expect(e.message).toContain('feeds m.onnx: graph.node[1] "conv" (Conv)');
  });

  it("skips an unsupported operator no layer depends on", () => {
    const net = importOnnx(tinyModel(undefined, "NonMaxSuppression"));
    expect(net.layers.map((l) => [l.name, l.inChannels, l.outChannels, l.inHeight])).toEqual([["conv", 4, 6, 8]]);
  });

  it("refuses bytes that are not a model, a model without layers, and a product with no constant operand", () => {
    expect(configError(() => importOnnx(Uint8Array.of(0xff, 0xff, 0xff), { source: "junk.onnx" })).message).toMatch(/^junk\.onnx must be an ONNX model/);
    const b = new OnnxBuilder();
    b.output(b.node("Relu", [b.input("x", DataType.FLOAT, [1, 2])]));
    expect(configError(() => importOnnx(b.build())).message).toContain("hold at least one Conv");
    const m = new OnnxBuilder();
    const a = m.input("a", DataType.FLOAT, [2, 3]);
    m.output(m.node("MatMul", [a, m.input("b", DataType.FLOAT, [3, 4])], {}, { name: "mm" }));
    expect(configError(() => importOnnx(m.build())).message).toContain('graph.node[0] "mm" (MatMul).input[1] must be a constant 2-D weight matrix');
  });

  it("refuses a weight tensor whose channels do not match the input's channels and groups", () => {
    const b = new OnnxBuilder();
    const x = b.input("x", DataType.FLOAT, [1, 4, 8, 8]);
    b.output(b.node("Conv", [x, b.init("w", DataType.FLOAT, [6, 3, 3, 3])], { group: 1 }, { name: "c" }));
    expect(configError(() => importOnnx(b.build())).message).toContain("have 4 input channels / group 1 as its second dimension");
  });
});

describe("importOnnx: the QDQ form", () => {
  it("takes a float Conv's and Gemm's operands from the DequantizeLinear nodes before them", () => {
    const b = new OnnxBuilder("qdq");
    const s = b.init("s", DataType.FLOAT, [], Float32Array.of(0.1));
    const xz = b.init("xz", DataType.INT8, [], Int8Array.of(-5));
    const w = Int8Array.from({ length: 4 * 2 * 3 * 3 }, (_, i) => i - 30);
    const fc = Int8Array.from({ length: 4 * 3 }, (_, i) => 2 * i - 11); // K x N = 4 x 3
    const x = b.node("DequantizeLinear", [b.node("QuantizeLinear", [b.input("x", DataType.FLOAT, [1, 2, 5, 5]), s, xz]), s, xz]);
    const wq = b.node("DequantizeLinear", [b.init("w", DataType.INT8, [4, 2, 3, 3], w), s, b.init("wz", DataType.INT8, [4])]);
    const y = b.node("GlobalAveragePool", [b.node("Conv", [x, wq], { pads: [1, 1, 1, 1] }, { name: "conv" })]);
    const f = b.node("DequantizeLinear", [b.node("QuantizeLinear", [b.node("Flatten", [y]), s, xz]), s, xz]);
    b.output(b.node("Gemm", [f, b.node("DequantizeLinear", [b.init("fc", DataType.INT8, [4, 3], fc), s])], {}, { name: "fc" }));
    const net = importOnnx(b.build(), { weights: true });
    const conv = onnxLayerOperands(net, "conv");
    expect([Array.from(conv.w), conv.inputType, conv.inputZeroPoint, conv.wZeroPoint]).toEqual([Array.from(w), "int8", -5, 0]);
    const g = onnxLayerOperands(net, "fc");
    // Gemm's B is K x N (no transB): convsim's weights are its transpose, N x K.
    expect([Array.from(g.w), g.inputType, g.inputZeroPoint, g.wZeroPoint]).toEqual([[-11, -5, 1, 7, -9, -3, 3, 9, -7, -1, 5, 11], "int8", -5, 0]);
    expect(net.layers.map((l) => [l.name, l.batch, l.inChannels, l.outChannels])).toEqual([["conv", 1, 2, 4], ["fc", 1, 4, 3]]);
  });
});
