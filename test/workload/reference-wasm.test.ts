/**
 * The fast reference (WebAssembly SIMD) against the slow oracle (the JavaScript loop nest), bit
 * for bit: seeded random layers over every feature with every operand type pair and zero point,
 * both lane widths; accumulations that wrap around int32 many times over with extreme values;
 * the lane choice; the memory it uses. Its agreement with ONNX Runtime's ConvInteger is in
 * onnx-oracle.test.ts (every case there runs both references).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import { dtypeInfo, OPERAND_TYPES, type OperandType } from "../../src/workload/dtype.js";
import { convLayer, convShape, type ConvLayer, type ConvLayerSpec } from "../../src/workload/layer.js";
import type { OperandArray } from "../../src/workload/operands.js";
import { referenceConvJs } from "../../src/workload/reference-js.js";
import { referenceConvWasm, referenceLanes, referenceMemoryBytes, wasmReferenceAvailable } from "../../src/workload/reference-wasm.js";
import { layerTensors, seededTensor } from "../../src/workload/tensors.js";

type Values = "full" | "small" | "extreme";

/** Seeded operands; "extreme" maps each seeded value to its type's minimum or maximum. */
function operands(L: ConvLayer, xType: OperandType, wType: OperandType, values: Values, seed: number): { x: OperandArray; w: OperandArray } {
  const t = layerTensors(L, { seed, xType, wType, range: values === "small" ? "small" : "full" });
  if (values !== "extreme") return t;
  const polarize = (a: OperandArray, type: OperandType) => {
    const { min, max } = dtypeInfo(type);
    for (let i = 0; i < a.length; i++) a[i] = a[i]! < (min + max) / 2 ? min : max;
    return a;
  };
  return { x: polarize(t.x, xType), w: polarize(t.w, wType) };
}

/** A zero point of type `t`: 0, an extreme, or anything in range. */
const zeroPoint = (t: OperandType) => fc.oneof(fc.constant(0), fc.constantFrom(dtypeInfo(t).min, dtypeInfo(t).max), fc.integer({ min: dtypeInfo(t).min, max: dtypeInfo(t).max }));

const typePair = fc.tuple(fc.constantFrom(...OPERAND_TYPES), fc.constantFrom(...OPERAND_TYPES));

/** The fast reference with automatic lanes and with i32 lanes, each equal to the JS reference. */
function expectBothLanes(L: ConvLayer, x: OperandArray, w: OperandArray, opts: { xZeroPoint: number; wZeroPoint: number; bias?: Int32Array }): Int32Array {
  const expected = referenceConvJs(L, x, w, opts);
  expect(referenceConvWasm(L, x, w, opts)).toEqual(expected);
  expect(referenceConvWasm(L, x, w, { ...opts, lanes: "i32" })).toEqual(expected);
  return expected;
}

describe("referenceConvWasm equals referenceConvJs bit for bit", () => {
  it("runs here (Node has WebAssembly with SIMD)", () => {
    expect(wasmReferenceAvailable()).toBe(true);
  });

  it("on random layers: strides, dilations, asymmetric pads, groups, depthwise, batch, bias, every type pair and zero point", () => {
    const arb = fc.record({
      batch: fc.integer({ min: 1, max: 2 }),
      groups: fc.integer({ min: 1, max: 3 }),
      // Channels per group across the 8- and 4-lane vectors; output channels across blocks of 4.
      cg: fc.integer({ min: 1, max: 19 }),
      mg: fc.integer({ min: 1, max: 9 }),
      h: fc.integer({ min: 1, max: 10 }),
      w: fc.integer({ min: 1, max: 12 }),
      kh: fc.integer({ min: 1, max: 4 }),
      kw: fc.integer({ min: 1, max: 5 }),
      pads: fc.tuple(fc.nat(3), fc.nat(3), fc.nat(3), fc.nat(3)),
      strides: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })),
      dilations: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
      types: typePair.chain(([xt, wt]) => fc.tuple(fc.constant(xt), fc.constant(wt), zeroPoint(xt), zeroPoint(wt))),
      values: fc.constantFrom<Values>("full", "small", "extreme"),
      bias: fc.boolean(),
      seed: fc.nat(10000),
    });
    let ran = 0;
    fc.assert(
      fc.property(arb, (a) => {
        const spec: ConvLayerSpec = {
          batch: a.batch, groups: a.groups, inChannels: a.groups * a.cg, outChannels: a.groups * a.mg,
          inHeight: a.h, inWidth: a.w, kernelHeight: a.kh, kernelWidth: a.kw, pads: a.pads, strides: a.strides, dilations: a.dilations,
        };
        let L: ConvLayer;
        try {
          L = convLayer(spec);
        } catch {
          return; // the dilated kernel does not fit the padded input: not a layer
        }
        ran++;
        const [xt, wt, zx, zw] = a.types;
        const { x, w } = operands(L, xt, wt, a.values, a.seed);
        const bias = a.bias ? Int32Array.from(seededTensor("int16", L.outChannels, a.seed), (v) => v * 65537) : undefined;
        expectBothLanes(L, x, w, { xZeroPoint: zx, wZeroPoint: zw, bias });
      }),
      { numRuns: 300, seed: 15 },
    );
    expect(ran).toBeGreaterThan(200);
  });

  it("on accumulations that wrap around int32: large C*R*S, extreme values and zero points", () => {
    const arb = fc.record({
      types: typePair,
      c: fc.integer({ min: 64, max: 1500 }),
      k: fc.integer({ min: 1, max: 7 }),
      m: fc.integer({ min: 1, max: 5 }),
      uniform: fc.boolean(),
      pad: fc.nat(2),
      seed: fc.nat(10000),
      signs: fc.tuple(fc.boolean(), fc.boolean()),
    });
    let wrapped = 0;
    fc.assert(
      fc.property(arb, (a) => {
        const [xt, wt] = a.types;
        const L = convLayer({ inChannels: a.c, inHeight: a.k + 1, inWidth: a.k + 2, outChannels: a.m, kernelHeight: a.k, kernelWidth: a.k, pads: [a.pad, a.pad, a.pad, a.pad] });
        const { x, w } = operands(L, xt, wt, "extreme", a.seed);
        // Zero points at an extreme make every difference 0 or as large as the type allows;
        // uniform operands at the other extreme make every term the largest of one sign.
        const zx = a.signs[0] ? dtypeInfo(xt).min : dtypeInfo(xt).max;
        const zw = a.signs[1] ? dtypeInfo(wt).min : dtypeInfo(wt).max;
        if (a.uniform) {
          x.fill(a.signs[0] ? dtypeInfo(xt).max : dtypeInfo(xt).min);
          w.fill(a.signs[1] ? dtypeInfo(wt).max : dtypeInfo(wt).min);
        }
        const y = expectBothLanes(L, x, w, { xZeroPoint: zx, wZeroPoint: zw });
        // The exact sum of the first output, in BigInt, exceeds int32 on most draws; y holds it modulo 2^32.
        let exact = 0n;
        const s = convShape(L);
        for (let c = 0; c < a.c; c++)
          for (let kh = 0; kh < a.k; kh++)
            for (let kw = 0; kw < a.k; kw++) {
              const ih = kh - a.pad;
              const iw = kw - a.pad;
              if (ih < 0 || iw < 0 || ih >= L.inHeight || iw >= L.inWidth) continue;
              exact += BigInt(x[(c * L.inHeight + ih) * L.inWidth + iw]! - zx) * BigInt(w[(c * a.k + kh) * a.k + kw]! - zw);
            }
        expect(y[0]).toBe(Number(BigInt.asIntN(32, exact)));
        if (exact > 2n ** 31n - 1n || exact < -(2n ** 31n)) wrapped++;
        expect(y.length).toBe(s.outputElements);
      }),
      { numRuns: 40, seed: 16 },
    );
    expect(wrapped).toBeGreaterThan(10);
  });

  it("when a pair of i16 products wraps inside i32x4.dot_i16x8_s: (-32768)^2 + (-32768)^2 = 2^31", () => {
    // int16, zero points 0: i16 lanes. Three channels: 3 * 2^30 = 3221225472 -> -1073741824.
    const L = convLayer({ inChannels: 3, inHeight: 1, inWidth: 1, outChannels: 1, kernelHeight: 1, kernelWidth: 1 });
    const x = new Int16Array(3).fill(-32768);
    const w = new Int16Array(3).fill(-32768);
    expect(referenceLanes({ x, w, xZeroPoint: 0, wZeroPoint: 0 })).toBe("i16");
    expect([...referenceConvWasm(L, x, w)!]).toEqual([-1073741824]);
    expect([...referenceConvJs(L, x, w)]).toEqual([-1073741824]);
  });
});

describe("the lane width follows the shifted operands' range", () => {
  const small = Int16Array.from([-8, 7, 3]);
  const full = Int16Array.from([-32768, 32767, 0]);
  it("picks i16 for int8, uint8 and int16 within range, i32 for int16 beyond it", () => {
    expect(referenceLanes({ x: new Int8Array(3).fill(-128), w: new Uint8Array(3).fill(255), xZeroPoint: 127, wZeroPoint: 0 })).toBe("i16");
    expect(referenceLanes({ x: full, w: full, xZeroPoint: 0, wZeroPoint: 0 })).toBe("i16");
    expect(referenceLanes({ x: small, w: new Int8Array(3), xZeroPoint: 30000, wZeroPoint: 0 })).toBe("i16");
    expect(referenceLanes({ x: full, w: new Int8Array(3), xZeroPoint: 1, wZeroPoint: 0 })).toBe("i32");
    expect(referenceLanes({ x: new Int8Array(3), w: full, xZeroPoint: 0, wZeroPoint: -1 })).toBe("i32");
  });
});

describe("referenceConvWasm's memory", () => {
  it("is one image's packed input, the packed weights and one image's output: no padded copy, no im2col", () => {
    // Huge padding and stride: 9 outputs, one real input element. A padded copy would be 2001^2.
    const sparse = convLayer({ inChannels: 1, inHeight: 1, inWidth: 1, outChannels: 1, kernelHeight: 1, kernelWidth: 1, pads: [1000, 1000, 1000, 1000], strides: [1000, 1000] });
    expect(referenceMemoryBytes(sparse, "i32")).toBeLessThan(1024);
    const x = Int8Array.of(-5);
    const w = Int8Array.of(3);
    expect([...referenceConvWasm(sparse, x, w, { xZeroPoint: 1 })!]).toEqual([0, 0, 0, 0, -18, 0, 0, 0, 0]);
    // AlexNet conv1: an im2col of the input would be 55*55 * 3*11*11 elements.
    const conv1 = convLayer({ inChannels: 3, inHeight: 227, inWidth: 227, outChannels: 96, kernelHeight: 11, kernelWidth: 11, strides: [4, 4] });
    const s = convShape(conv1);
    const bytes = referenceMemoryBytes(conv1, "i16");
    expect(bytes).toBeLessThan(2 * 8 * 227 * 227 + 2 * 8 * 96 * 121 + 4 * s.outputElements + 16 * s.outWidth + 16);
    expect(bytes).toBeLessThan(2 * s.outHeight * s.outWidth * 3 * 121);
    // Batch does not grow it: images run one at a time.
    expect(referenceMemoryBytes(convLayer({ ...conv1, batch: 8 }), "i16")).toBe(bytes);
  });

  it("declines, computing nothing, a layer that needs more than WebAssembly's 4 GiB (referenceConv then runs the JavaScript nest)", () => {
    // One input element padded to 40001 x 40001 outputs: 6.4 GB of int32 output.
    const huge = convLayer({ inChannels: 1, inHeight: 1, inWidth: 1, outChannels: 1, kernelHeight: 1, kernelWidth: 1, pads: [20000, 20000, 20000, 20000] });
    expect(referenceMemoryBytes(huge, "i16")).toBeGreaterThan(2 ** 32);
    expect(referenceConvWasm(huge, Int8Array.of(1), Int8Array.of(1))).toBeUndefined();
  });
});

describe("referenceConvWasm input checks", () => {
  it("rejects what referenceConvJs rejects, naming the same field", () => {
    const layer = { inChannels: 1, inHeight: 2, inWidth: 2, outChannels: 1, kernelHeight: 1, kernelWidth: 1 };
    const field = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as ConfigError).field;
      }
      throw new Error("no error");
    };
    expect(field(() => referenceConvWasm(layer, new Int8Array(3), new Int8Array(1)))).toBe("x.length");
    expect(field(() => referenceConvWasm(layer, new Int8Array(4), new Int8Array(1), { wZeroPoint: 128 }))).toBe("wZeroPoint");
    expect(field(() => referenceConvWasm({ ...layer, groups: 2 }, new Int8Array(4), new Int8Array(1)))).toBe("layer.inChannels");
  });
});
