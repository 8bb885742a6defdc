/**
 * Both reference convolutions, the fast one (referenceConv: WebAssembly SIMD, or for a fully
 * connected layer the row dot products of reference-fc.ts, which the "fully connected" case
 * runs) and the slow oracle (referenceConvJs, the JavaScript loop nest), against an independent
 * oracle: ONNX Runtime's
 * ConvInteger, run through
 * onnxruntime-web (the WASM build, in Node, single-threaded, loading its .wasm from
 * node_modules; nothing touches the network). Each case builds a one-node ONNX model by hand
 * (test/helpers/onnx.ts), feeds seeded tensors and zero points, and requires the int32 outputs
 * to be identical element for element.
 *
 * Type pairs: ConvInteger's schema constrains both x (T1) and w (T2) to int8 or uint8, and the
 * WASM build accepts all four pairs (uint8/uint8, uint8/int8, int8/uint8, int8/int8); a test
 * below pins that down. int16 is not a ConvInteger type (ORT rejects the model: "Type
 * 'tensor(int16)' of input parameter (x) of operator (ConvInteger) ... is invalid"), so int16
 * operands are covered by hand-computed cases at the end of this file. Bias is not part of
 * ConvInteger either; it is also checked by hand.
 */
import * as ort from "onnxruntime-web";
import seedrandom from "seedrandom";
import { beforeAll, describe, expect, it } from "vitest";
import { dtypeInfo, type OperandType } from "../../src/workload/dtype.js";
import { convLayer, convShape, type ConvLayer, type ConvLayerSpec } from "../../src/workload/layer.js";
import { referenceConv, referenceConvJs, type OperandArray } from "../../src/workload/reference.js";
import { layerTensors, type ValueRange } from "../../src/workload/tensors.js";
import { convIntegerModel, OnnxType } from "../helpers/onnx.js";
import { configureOrt } from "../helpers/ort.js";

type ByteType = "int8" | "uint8";

/** The x/w type pairs ConvInteger defines; all are checked against the WASM build below. */
const PAIRS: readonly (readonly [ByteType, ByteType])[] = [
  ["uint8", "uint8"],
  ["uint8", "int8"],
  ["int8", "uint8"],
  ["int8", "int8"],
];

const ONNX_TYPE: Record<ByteType, number> = { int8: OnnxType.INT8, uint8: OnnxType.UINT8 };

beforeAll(() => {
  configureOrt(); // one thread, local .wasm files (never a CDN), errors only
});

function scalar(t: ByteType, v: number): ort.Tensor {
  return new ort.Tensor(t, t === "int8" ? Int8Array.of(v) : Uint8Array.of(v), []);
}

/** Runs ONNX Runtime's ConvInteger on one layer. */
async function ortConvInteger(L: ConvLayer, xType: ByteType, wType: ByteType, x: OperandArray, w: OperandArray, xZeroPoint: number, wZeroPoint: number): Promise<Int32Array> {
  const s = convShape(L);
  const xDims = [L.batch, L.inChannels, L.inHeight, L.inWidth];
  const wDims = [L.outChannels, s.inChannelsPerGroup, L.kernelHeight, L.kernelWidth];
  const yDims = [L.batch, L.outChannels, s.outHeight, s.outWidth];
  const model = convIntegerModel({
    xType: ONNX_TYPE[xType],
    wType: ONNX_TYPE[wType],
    xDims,
    wDims,
    yDims,
    strides: L.strides,
    pads: L.pads,
    dilations: L.dilations,
    group: L.groups,
    kernelShape: [L.kernelHeight, L.kernelWidth],
  });
  const session = await ort.InferenceSession.create(model, { executionProviders: ["wasm"] });
  try {
    const out = await session.run({
      x: new ort.Tensor(xType, x as Int8Array | Uint8Array, xDims),
      w: new ort.Tensor(wType, w as Int8Array | Uint8Array, wDims),
      x_zero_point: scalar(xType, xZeroPoint),
      w_zero_point: scalar(wType, wZeroPoint),
    });
    const y = out.y;
    if (!y) throw new Error("ORT returned no output y");
    expect(y.type).toBe("int32");
    expect(y.dims).toEqual(yDims);
    return Int32Array.from(y.data as Int32Array);
  } finally {
    await session.release();
  }
}

/** The same convolution with the padding written out as literal zeros (not the zero point). */
function zeroPaddedAlternative(L: ConvLayer, x: OperandArray, w: OperandArray, xZeroPoint: number, wZeroPoint: number): Int32Array {
  const [pt, pl, pb, pr] = L.pads;
  const H = L.inHeight + pt + pb;
  const W = L.inWidth + pl + pr;
  const padded = new (x.constructor as { new (n: number): OperandArray })(L.batch * L.inChannels * H * W);
  for (let nc = 0; nc < L.batch * L.inChannels; nc++) {
    for (let h = 0; h < L.inHeight; h++) {
      for (let v = 0; v < L.inWidth; v++) {
        padded[(nc * H + h + pt) * W + v + pl] = x[(nc * L.inHeight + h) * L.inWidth + v]!;
      }
    }
  }
  return referenceConv({ ...L, inHeight: H, inWidth: W, pads: [0, 0, 0, 0] }, padded, w, { xZeroPoint, wZeroPoint });
}

interface OracleCase {
  readonly name: string;
  readonly layer: ConvLayerSpec;
  readonly xType: ByteType;
  readonly wType: ByteType;
  readonly xZeroPoint: number;
  readonly wZeroPoint: number;
  readonly range: ValueRange;
  readonly seed: string;
}

function oracleCase(name: string, layer: ConvLayerSpec, pair: number, xZeroPoint: number, wZeroPoint: number, range: ValueRange = "full"): OracleCase {
  const [xType, wType] = PAIRS[pair % PAIRS.length]!;
  return { name: `${name} [x ${xType}, w ${wType}, zx ${xZeroPoint}, zw ${wZeroPoint}]`, layer, xType, wType, xZeroPoint, wZeroPoint, range, seed: `oracle/${name}` };
}

/** Picks an in-range zero point for a type: "mid" is a typical asymmetric value. */
function zp(t: ByteType, which: "zero" | "mid" | "min" | "max"): number {
  if (which === "zero") return 0;
  if (which === "min") return dtypeInfo(t).min;
  if (which === "max") return dtypeInfo(t).max;
  return t === "uint8" ? 128 : -3;
}

const base3x3: ConvLayerSpec = { inChannels: 3, inHeight: 8, inWidth: 8, outChannels: 4, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] };

/** Named cases: every feature of the list, spread over the four type pairs. */
const NAMED: OracleCase[] = [
  // Every type pair on the same padded 3x3 layer, with zero points of both signs.
  ...PAIRS.map(([xt, wt], p) => oracleCase(`3x3 pad 1, pair ${p}`, base3x3, p, zp(xt, "mid"), zp(wt, "mid"))),
  ...PAIRS.map((_, p) => oracleCase(`3x3 pad 1, zero zero points, pair ${p}`, base3x3, p, 0, 0)),
  // Padding with a non-zero input zero point: a padded tap must contribute 0, not (0 - zx) * (w - zw).
  ...PAIRS.map(([xt, wt], p) =>
    oracleCase(`pad 2 around 4x4, zx != 0, pair ${p}`, { inChannels: 2, inHeight: 4, inWidth: 4, outChannels: 3, kernelHeight: 3, kernelWidth: 3, pads: [2, 2, 2, 2] }, p, zp(xt, "max"), zp(wt, "mid")),
  ),
  // Stride larger than the (dilated) kernel: some inputs are never read.
  oracleCase("stride 3 > kernel 2", { inChannels: 2, inHeight: 11, inWidth: 11, outChannels: 3, kernelHeight: 2, kernelWidth: 2, strides: [3, 3] }, 0, 7, 200),
  oracleCase("stride 4x3 > kernel 2x1", { inChannels: 3, inHeight: 13, inWidth: 10, outChannels: 2, kernelHeight: 2, kernelWidth: 1, strides: [4, 3], pads: [1, 0, 0, 1] }, 1, 17, -5),
  // Dilation.
  oracleCase("dilation 2", { inChannels: 2, inHeight: 9, inWidth: 9, outChannels: 3, kernelHeight: 3, kernelWidth: 3, dilations: [2, 2] }, 2, -7, 9),
  oracleCase("dilation 2x3 with pads and stride", { inChannels: 3, inHeight: 10, inWidth: 12, outChannels: 4, kernelHeight: 3, kernelWidth: 2, dilations: [2, 3], pads: [2, 1, 1, 3], strides: [2, 1] }, 3, 12, -1),
  // Asymmetric pads [top, left, bottom, right].
  oracleCase("asymmetric pads 0,1,2,3", { inChannels: 2, inHeight: 6, inWidth: 7, outChannels: 3, kernelHeight: 3, kernelWidth: 3, pads: [0, 1, 2, 3] }, 0, 255, 0),
  oracleCase("asymmetric pads 3,0,1,2 stride 2", { inChannels: 2, inHeight: 7, inWidth: 6, outChannels: 2, kernelHeight: 3, kernelWidth: 2, pads: [3, 0, 1, 2], strides: [2, 2] }, 2, -128, 77),
  // Grouped convolution.
  oracleCase("groups 2", { inChannels: 8, inHeight: 6, inWidth: 6, outChannels: 4, kernelHeight: 3, kernelWidth: 3, groups: 2, pads: [1, 1, 1, 1] }, 1, 3, 4),
  oracleCase("groups 3, 6 -> 9 channels", { inChannels: 6, inHeight: 5, inWidth: 7, outChannels: 9, kernelHeight: 2, kernelWidth: 3, groups: 3, strides: [1, 2] }, 3, 100, -100),
  // Depthwise, and depthwise with a channel multiplier of 2.
  oracleCase("depthwise", { inChannels: 5, inHeight: 7, inWidth: 7, outChannels: 5, kernelHeight: 3, kernelWidth: 3, groups: 5, pads: [1, 1, 1, 1] }, 0, 128, 128),
  oracleCase("depthwise, multiplier 2, stride 2", { inChannels: 3, inHeight: 8, inWidth: 8, outChannels: 6, kernelHeight: 3, kernelWidth: 3, groups: 3, pads: [1, 1, 1, 1], strides: [2, 2] }, 2, 50, 60),
  // Batch > 1.
  oracleCase("batch 3", { batch: 3, inChannels: 2, inHeight: 5, inWidth: 5, outChannels: 3, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] }, 1, 200, 1),
  // 1x1 convolution, and a fully connected layer (1x1 over a 1x1 input), with batch.
  oracleCase("1x1", { inChannels: 16, inHeight: 5, inWidth: 4, outChannels: 8, kernelHeight: 1, kernelWidth: 1 }, 3, 0, -128),
  oracleCase("fully connected 64 -> 10, batch 2", { batch: 2, inChannels: 64, inHeight: 1, inWidth: 1, outChannels: 10, kernelHeight: 1, kernelWidth: 1 }, 2, -1, 255),
  // Kernel as large as the padded input: one output per channel.
  oracleCase("kernel covers the padded input", { inChannels: 2, inHeight: 3, inWidth: 4, outChannels: 2, kernelHeight: 5, kernelWidth: 4, pads: [1, 0, 1, 0] }, 0, 1, 254),
  // Non-square input and kernel, small values (sums that can be read by eye).
  oracleCase("5x11 input, 3x1 kernel, small range", { inChannels: 3, inHeight: 5, inWidth: 11, outChannels: 2, kernelHeight: 3, kernelWidth: 1, pads: [1, 0, 1, 0] }, 3, 2, -2, "small"),
  // Extreme zero points and a wider layer: large accumulations.
  oracleCase("extreme zero points, 32 channels", { inChannels: 32, inHeight: 6, inWidth: 6, outChannels: 4, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] }, 0, 255, 255),
  // Larger layers, one per type pair: ORT's quantized GEMM may take other (packed, tiled) paths.
  ...PAIRS.map(([xt, wt], p) =>
    oracleCase(`larger layer 48 -> 40 channels, 14x14, pair ${p}`, { inChannels: 48, inHeight: 14, inWidth: 14, outChannels: 40, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] }, p, zp(xt, "mid"), zp(wt, "mid")),
  ),
  oracleCase("extreme zero points, int8 min", { inChannels: 32, inHeight: 6, inWidth: 6, outChannels: 4, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] }, 3, -128, 127),
];

/** Seeded random layers over every feature at once. */
function randomCases(count: number): OracleCase[] {
  const rng = seedrandom("convsim/onnx-oracle/random");
  const int = (lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
  const cases: OracleCase[] = [];
  for (let i = 0; cases.length < count; i++) {
    const groups = [1, 1, 2, 3][int(0, 3)]!;
    const spec: ConvLayerSpec = {
      batch: int(1, 2),
      inChannels: groups * int(1, 3),
      inHeight: int(1, 9),
      inWidth: int(1, 9),
      outChannels: groups * int(1, 3),
      kernelHeight: int(1, 4),
      kernelWidth: int(1, 4),
      strides: [int(1, 4), int(1, 4)],
      pads: [int(0, 3), int(0, 3), int(0, 3), int(0, 3)],
      dilations: [int(1, 3), int(1, 3)],
      groups,
    };
    try {
      convLayer(spec);
    } catch {
      continue; // the dilated kernel does not fit the padded input; draw again
    }
    const [xt, wt] = PAIRS[i % PAIRS.length]!;
    const zx = int(dtypeInfo(xt).min, dtypeInfo(xt).max);
    const zw = int(dtypeInfo(wt).min, dtypeInfo(wt).max);
    cases.push(oracleCase(`random ${cases.length}`, spec, i, zx, zw, rng() < 0.5 ? "small" : "full"));
  }
  return cases;
}

const RANDOM = randomCases(40);

async function check(c: OracleCase): Promise<{ L: ConvLayer; x: OperandArray; w: OperandArray; expected: Int32Array; actual: Int32Array }> {
  const L = convLayer(c.layer);
  const { x, w } = layerTensors(L, { seed: c.seed, xType: c.xType, wType: c.wType, range: c.range });
  const expected = referenceConv(L, x, w, { xZeroPoint: c.xZeroPoint, wZeroPoint: c.wZeroPoint });
  // The slow oracle gives the same bits; ORT's are then compared with both.
  expect(referenceConvJs(L, x, w, { xZeroPoint: c.xZeroPoint, wZeroPoint: c.wZeroPoint })).toEqual(expected);
  const actual = await ortConvInteger(L, c.xType, c.wType, x, w, c.xZeroPoint, c.wZeroPoint);
  return { L, x, w, expected, actual };
}

describe("referenceConv and referenceConvJs vs ONNX Runtime ConvInteger (onnxruntime-web, WASM)", () => {
  it.each(NAMED.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const { L, x, w, expected, actual } = await check(c);
    expect(actual).toEqual(expected);
    expect(expected.some((v) => v !== 0)).toBe(true); // not a vacuous comparison
    const padded = L.pads.some((p) => p > 0);
    if (padded && c.xZeroPoint !== 0) {
      // The oracle can tell the two padding semantics apart on this case: padded taps holding a
      // literal 0 would give a different answer.
      expect(actual).not.toEqual(zeroPaddedAlternative(L, x, w, c.xZeroPoint, c.wZeroPoint));
    }
  });

  it(`${RANDOM.length} seeded random layers (stride, dilation, pads, groups, batch, all type pairs)`, async () => {
    for (const c of RANDOM) {
      const { expected, actual } = await check(c);
      expect(actual, `${c.name}: ${JSON.stringify(c.layer)}`).toEqual(expected);
    }
  });

  it("covers every required feature and every type pair", () => {
    const all = [...NAMED, ...RANDOM];
    expect(all.length).toBeGreaterThanOrEqual(25);
    const layers = all.map((c) => ({ c, L: convLayer(c.layer), s: convShape(convLayer(c.layer)) }));
    const has = (p: (e: (typeof layers)[number]) => boolean): boolean => layers.some(p);
    expect(has(({ L }) => L.strides[0] > (L.kernelHeight - 1) * L.dilations[0] + 1)).toBe(true);
    expect(has(({ L }) => L.dilations[0] > 1 || L.dilations[1] > 1)).toBe(true);
    expect(has(({ L }) => L.pads[0] !== L.pads[2] || L.pads[1] !== L.pads[3])).toBe(true);
    expect(has(({ L }) => L.groups > 1 && L.groups < L.inChannels)).toBe(true);
    expect(has(({ L }) => L.groups === L.inChannels && L.outChannels === 2 * L.inChannels)).toBe(true);
    expect(has(({ L }) => L.batch > 1)).toBe(true);
    expect(has(({ L }) => L.kernelHeight === 1 && L.kernelWidth === 1 && L.inHeight > 1)).toBe(true);
    expect(has(({ L }) => L.kernelHeight === 1 && L.inHeight === 1 && L.inWidth === 1)).toBe(true);
    expect(has(({ L, c }) => L.pads.some((p) => p > 0) && c.xZeroPoint !== 0)).toBe(true);
    for (const [xt, wt] of PAIRS) {
      expect(all.some((c) => c.xType === xt && c.wType === wt && c.xZeroPoint !== 0 && c.wZeroPoint !== 0)).toBe(true);
    }
  });

  it("ORT rejects int16 operands: ConvInteger is defined for int8 and uint8 only", async () => {
    const model = convIntegerModel({
      xType: OnnxType.INT16,
      wType: OnnxType.INT8,
      xDims: [1, 1, 2, 2],
      wDims: [1, 1, 1, 1],
      yDims: [1, 1, 2, 2],
      strides: [1, 1],
      pads: [0, 0, 0, 0],
      dilations: [1, 1],
      group: 1,
      kernelShape: [1, 1],
    });
    await expect(ort.InferenceSession.create(model)).rejects.toThrow(/int16/);
  });
});

/**
 * int16 operands and bias are outside ConvInteger, so they are checked against values worked
 * out by hand (the arithmetic is in the comments).
 */
describe.each([
  ["referenceConv (WebAssembly)", referenceConv],
  ["referenceConvJs", referenceConvJs],
] as const)("%s on hand-computed int16 and bias cases", (_name, referenceConv) => {
  const typed = (t: OperandType, v: number[]): OperandArray => (t === "int16" ? Int16Array.from(v) : t === "int8" ? Int8Array.from(v) : Uint8Array.from(v));

  it("int16 x and w, pad 1, stride 2, zero points 100 and -2", () => {
    // x - 100 = [[900, -2100, 2900], [-4100, 4900, -6100], [6900, -8100, 8900]]
    // w + 2   = [[3, 1], [4, 5]]; the 2x2 windows start at rows/cols -1 and 1.
    // y[0][0] = 900*5                                    = 4500   (3 taps in padding)
    // y[0][1] = -2100*4 + 2900*5                         = 6100
    // y[1][0] = -4100*1 + 6900*5                         = 30400
    // y[1][1] = 4900*3 + -6100*1 + -8100*4 + 8900*5      = 20700
    const layer = { inChannels: 1, inHeight: 3, inWidth: 3, outChannels: 1, kernelHeight: 2, kernelWidth: 2, strides: [2, 2], pads: [1, 1, 1, 1] };
    const x = typed("int16", [1000, -2000, 3000, -4000, 5000, -6000, 7000, -8000, 9000]);
    const w = typed("int16", [1, -1, 2, 3]);
    expect(Array.from(referenceConv(layer, x, w, { xZeroPoint: 100, wZeroPoint: -2 }))).toEqual([4500, 6100, 30400, 20700]);
  });

  it("int16 x with uint8 w, depthwise 1x1", () => {
    // channel 0: x * (255 - 128) = x * 127; channel 1: x * (0 - 128) = x * -128
    const layer = { inChannels: 2, inHeight: 1, inWidth: 2, outChannels: 2, kernelHeight: 1, kernelWidth: 1, groups: 2 };
    const x = typed("int16", [-32768, 32767, 100, -100]);
    const w = typed("uint8", [255, 0]);
    expect(Array.from(referenceConv(layer, x, w, { wZeroPoint: 128 }))).toEqual([-32768 * 127, 32767 * 127, -12800, 12800]);
  });

  it("int8 x with int16 w, padded taps with non-zero zero points contribute 0", () => {
    // 1x1 input, 3x3 kernel, pad 1: only the centre tap is real: (5 - -3) * (1000 - 7) = 8 * 993.
    const layer = { inChannels: 1, inHeight: 1, inWidth: 1, outChannels: 1, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] };
    const x = typed("int8", [5]);
    const w = typed("int16", [9, 9, 9, 9, 1000, 9, 9, 9, 9]);
    expect(Array.from(referenceConv(layer, x, w, { xZeroPoint: -3, wZeroPoint: 7 }))).toEqual([7944]);
  });

  it("int16 products wrap around in int32", () => {
    // (32767 - -32768)^2 = 65535^2 = 4294836225 = 2^32 - 131071 -> -131071 in int32.
    const layer = { inChannels: 1, inHeight: 1, inWidth: 1, outChannels: 1, kernelHeight: 1, kernelWidth: 1 };
    const y = referenceConv(layer, typed("int16", [32767]), typed("int16", [32767]), { xZeroPoint: -32768, wZeroPoint: -32768 });
    expect(Array.from(y)).toEqual([-131071]);
    // Two such products: 2 * 4294836225 mod 2^32 = -262142.
    const layer2 = { ...layer, inChannels: 2 };
    const y2 = referenceConv(layer2, typed("int16", [32767, 32767]), typed("int16", [32767, 32767]), { xZeroPoint: -32768, wZeroPoint: -32768 });
    expect(Array.from(y2)).toEqual([-262142]);
  });

  it("bias is added per output channel, with int32 wrap-around", () => {
    // x = [1, 2, 3, 4]; channel 0: w = [1, 1, 1, 1] -> 10, + bias 10 = 20;
    // channel 1: w = [1, 0, 0, 0] -> 1, + bias 2147483647 wraps to -2147483648.
    const layer = { inChannels: 1, inHeight: 2, inWidth: 2, outChannels: 2, kernelHeight: 2, kernelWidth: 2 };
    const y = referenceConv(layer, typed("int8", [1, 2, 3, 4]), typed("int8", [1, 1, 1, 1, 1, 0, 0, 0]), { bias: Int32Array.of(10, 2147483647) });
    expect(Array.from(y)).toEqual([20, -2147483648]);
  });

  it("bias equals the ORT-checked convolution plus bias[m] on a seeded layer", () => {
    const L = convLayer({ inChannels: 4, inHeight: 5, inWidth: 5, outChannels: 3, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] });
    const { x, w } = layerTensors(L, { seed: "oracle/bias", xType: "uint8", wType: "int8" });
    const bias = Int32Array.of(-1000, 0, 123456);
    const plain = referenceConv(L, x, w, { xZeroPoint: 128, wZeroPoint: -3 });
    const biased = referenceConv(L, x, w, { xZeroPoint: 128, wZeroPoint: -3, bias });
    const plane = convShape(L).outHeight * convShape(L).outWidth;
    expect(Array.from(biased)).toEqual(Array.from(plain, (v, i) => (v + bias[Math.floor(i / plane) % 3]!) | 0));
  });
});
