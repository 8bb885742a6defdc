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

/** A model x (1 x 2 x 6 x 6) -> `body` -> Conv 1x1 "conv" (2 -> 2 channels). */
function withConv(body: (b: OnnxBuilder, x: string) => string): Uint8Array {
  const b = new OnnxBuilder("regress");
  const y = body(b, b.input("x", DataType.FLOAT, [1, 2, 6, 6]));
  b.output(b.node("Conv", [y, b.init("w1x1", DataType.FLOAT, [2, 2, 1, 1])], {}, { name: "conv" }));
  return b.build();
}

describe("importOnnx: inputs the fuzz (test/formats/fuzz.test.ts) found mishandled", () => {
  it("refuses a 1-D convolution's strides of three values, and a 2-D one's kernel_shape of four (they were read as [1, 3] and 3x3)", () => {
    const conv1d = new OnnxBuilder();
    conv1d.output(conv1d.node("Conv", [conv1d.input("x", DataType.FLOAT, [1, 2, 9]), conv1d.init("w", DataType.FLOAT, [4, 2, 3])], { strides: [3, 3, 1] }, { name: "c" }));
    expect(configError(() => importOnnx(conv1d.build(), { source: "m.onnx" })).message).toBe('m.onnx: graph.node[0] "c" (Conv).attribute.strides must hold 1 value, for the one spatial axis of a 1-D convolution; got [3,3,1]');
    const conv2d = new OnnxBuilder();
    conv2d.output(conv2d.node("Conv", [conv2d.input("x", DataType.FLOAT, [1, 3, 8, 8]), conv2d.init("w", DataType.FLOAT, [1, 3, 3, 3])], { kernel_shape: [3, 3, 3, 2] }, { name: "c" }));
    expect(configError(() => importOnnx(conv2d.build())).message).toContain("(Conv).attribute.kernel_shape must hold 2 values, one per spatial axis of a 2-D convolution; got [3,3,3,2]");
  });

  it("refuses an Add or a Concat without inputs (a TypeError before)", () => {
    for (const op of ["Add", "Concat"]) {
      const e = configError(() => importOnnx(withConv((b, x) => (b.node("Relu", [x]), b.node(op, [], { axis: 1 }, { name: "empty" })))));
      expect(e.message).toContain(`graph.node[1] "empty" (${op}).input must hold at least one input; got []`);
    }
  });

  it("refuses a zero point of another type than its tensor (a uint8 input was given the int8 zero point -48)", () => {
    const b = new OnnxBuilder();
    const x = b.input("x", DataType.UINT8, [1, 2, 5, 5]);
    const w = b.init("w", DataType.INT8, [3, 2, 3, 3]);
    b.output(b.node("ConvInteger", [x, w, b.init("xz", DataType.INT8, [], Int8Array.of(-48))], {}, { name: "conv" }), DataType.INT32);
    const e = configError(() => importOnnx(b.build(), { weights: true }));
    expect(e.message).toContain('(ConvInteger): input zero point "xz".data_type must be the input\'s type, uint8 (a zero point has its tensor\'s type); got "int8"');
  });

  it("gives layers unique names when a generated name is another layer's own (two layers were named c_3)", () => {
    const b = new OnnxBuilder();
    let y = b.input("x", DataType.FLOAT, [1, 2, 6, 6]);
    for (const [i, name] of ["c_3", "c", "c"].entries()) y = b.node("Conv", [y, b.init(`w${i}`, DataType.FLOAT, [2, 2, 1, 1])], {}, { name });
    b.output(y);
    const net = importOnnx(b.build());
    expect(net.layers.map((l) => l.name)).toEqual(["c_3", "c", "c_4"]);
    expect(Object.keys(net.operands)).toEqual(["c_3", "c", "c_4"]);
  });

  it("names the node whose shape goes wrong, not a layer after it", () => {
    const cases: [string, (b: OnnxBuilder, x: string) => string, string][] = [
      // Gather past the end of a folded shape (an undefined dimension reached the Reshape).
      ["Gather", (b, x) => b.node("Reshape", [x, b.node("Concat", [b.node("Gather", [b.node("Shape", [x], { start: 9 }), b.ints("i", [0])]), b.ints("r", [-1, 6, 6])], { axis: 0 })]), "graph.node[1] (Gather).input[1] must be an index into the 0 values of input[0]; got 0"],
      // A pooling dilation per axis missing (NaN dimensions reached the Conv).
      ["MaxPool", (b, x) => b.node("MaxPool", [x], { kernel_shape: [2, 2], dilations: [0] }), "graph.node[0] (MaxPool).attribute.dilations must be 2 positive integers (one per spatial axis); got [0]"],
      ["Resize", (b, x) => b.node("Resize", [x, "", b.init("sc", DataType.FLOAT, [4], Float32Array.of(1, 1, Number.NaN, -1))]), "graph.node[0] (Resize).input[2] must hold positive, finite scales; got [1,1,null,-1]"],
      ["Split", (b, x) => (b.node("Split", [x, b.ints("sp", [-1, 3])], { axis: 1 }, { out: ["p1", "p2"] }), "p2"), "graph.node[0] (Split).output[0] must have dimensions that are non-negative integers (the node's inputs and attributes give others); got [1,-1,6,6]"],
      ["Unsqueeze", (b, x) => b.node("Squeeze", [b.node("Unsqueeze", [x, b.ints("a", [0, 0])])], {}), "graph.node[0] (Unsqueeze).axes must name each new axis once; got [0,0]"],
      ["Slice", (b, x) => b.node("Slice", [x, b.ints("st", [0, 0]), b.ints("en", [3])]), "graph.node[0] (Slice).input[2] must hold one value per start (2); got [3]"],
    ];
    for (const [op, body, message] of cases) expect(configError(() => importOnnx(withConv(body), { source: "m.onnx" })).message, op).toContain(`m.onnx: ${message}`);
  });

  it("reads Upsample-7's scales attribute as the floats it is (it was read as integers, and refused)", () => {
    const net = importOnnx(withConv((b, x) => b.node("Upsample", [x], { scales: { floats: [1, 1, 2, 1.5] } })));
    expect([net.layers[0]!.inHeight, net.layers[0]!.inWidth]).toEqual([12, 9]);
    const zero = withConv((b, x) => b.node("Upsample", [x], { scales: { floats: [1, 1, 0, 2] } }));
    expect(configError(() => importOnnx(zero)).message).toContain("(Upsample).attribute.scales must hold positive, finite scales; got [1,1,0,2]");
  });

  it("refuses an initializer with a negative dimension, or raw data longer or shorter than its dimensions", () => {
    const neg = withConv((b, x) => b.node("Add", [x, b.init("c", DataType.FLOAT, [1, 2, -6, 6], new Float32Array(0))]));
    expect(configError(() => importOnnx(neg)).message).toContain("model.onnx: graph.initializer[0].dims[2] must be a non-negative integer; got -6");
    // Eight int64 pads and one byte more were read as the eight pads.
    const pads = new Uint8Array(65);
    pads.set(new Uint8Array(BigInt64Array.from([0n, 0n, 1n, 1n, 0n, 0n, 1n, 1n]).buffer));
    const long = withConv((b, x) => b.node("Pad", [x, b.init("pads", DataType.INT64, [8], pads)]));
    expect(configError(() => importOnnx(long)).message).toContain("(Pad).input[1].raw_data must hold the 8 elements its dims give, 8 bytes each (64 bytes); got \"65 bytes\"");
    const scales = withConv((b, x) => b.node("Resize", [x, "", b.init("sc", DataType.FLOAT, [4], Uint8Array.of(0, 0, 128, 63, 0, 0, 128, 63, 0, 0, 128, 63, 0, 0))]));
    expect(configError(() => importOnnx(scales)).message).toContain("(Resize).input[2].raw_data must hold the 4 elements its dims give, 4 bytes each (16 bytes); got \"14 bytes\"");
  });
});
