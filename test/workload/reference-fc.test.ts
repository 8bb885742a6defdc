/**
 * The fully connected path of the reference (reference-fc.ts) against the slow oracle (the
 * JavaScript loop nest), bit for bit: random FC layers with every operand type pair, zero point,
 * bias and batch it takes; sums that wrap around int32; which layers it takes. referenceConv runs
 * it for those layers, so ONNX Runtime's cases of FC shape run it too (onnx-oracle.test.ts).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dtypeInfo, OPERAND_TYPES, type OperandType } from "../../src/workload/dtype.js";
import { convLayer, type ConvLayerSpec } from "../../src/workload/layer.js";
import { checkOperands, type OperandArray } from "../../src/workload/operands.js";
import { FC_MAX_BATCH, isFullyConnected, referenceFc, referenceFcTransposed } from "../../src/workload/reference-fc.js";
import { referenceFcTransposedWasm, referenceFcWasm } from "../../src/workload/reference-fc-wasm.js";
import { referenceConvJs } from "../../src/workload/reference-js.js";
import { referenceConv } from "../../src/workload/reference.js";
import { layerTensors, seededTensorTransposed } from "../../src/workload/tensors.js";

const zeroPoint = (t: OperandType) => fc.oneof(fc.constant(0), fc.constantFrom(dtypeInfo(t).min, dtypeInfo(t).max), fc.integer({ min: dtypeInfo(t).min, max: dtypeInfo(t).max }));

const fcLayer = (c: number, k: number, batch = 1): ConvLayerSpec => ({ batch, inChannels: c, inHeight: 1, inWidth: 1, outChannels: k, kernelHeight: 1, kernelWidth: 1 });

describe("referenceFc equals referenceConvJs bit for bit", () => {
  it("on random FC layers: every type pair, zero point, bias and batch it takes", () => {
    const arb = fc
      .record({
        c: fc.integer({ min: 1, max: 300 }),
        k: fc.integer({ min: 1, max: 40 }),
        batch: fc.integer({ min: 1, max: FC_MAX_BATCH }),
        xt: fc.constantFrom(...OPERAND_TYPES),
        wt: fc.constantFrom(...OPERAND_TYPES),
        bias: fc.boolean(),
        seed: fc.nat(10000),
      })
      .chain((a) => fc.record({ a: fc.constant(a), zx: zeroPoint(a.xt), zw: zeroPoint(a.wt) }));
    fc.assert(
      fc.property(arb, ({ a, zx, zw }) => {
        const L = convLayer(fcLayer(a.c, a.k, a.batch));
        const { x, w } = layerTensors(L, { seed: a.seed, xType: a.xt, wType: a.wt });
        const bias = a.bias ? Int32Array.from({ length: a.k }, (_, i) => (i * 104729 * (a.seed + 1)) | 0) : undefined;
        const opts = { xZeroPoint: zx, wZeroPoint: zw, ...(bias ? { bias } : {}) };
        const expected = referenceConvJs(L, x, w, opts);
        expect(isFullyConnected(checkOperands(L, x, w, opts))).toBe(true);
        expect(referenceFc(checkOperands(L, x, w, opts))).toEqual(expected);
        expect(referenceFcWasm(checkOperands(L, x, w, opts))).toEqual(expected);
        expect(referenceConv(L, x, w, opts)).toEqual(expected);
        // The same weights drawn IOHW (as simulate draws seeded FC weights for an IOHW dataflow).
        const wT = seededTensorTransposed(a.wt, { groups: 1, rows: a.k, cols: a.c, item: 1 }, `${a.seed}/w`);
        expect(referenceFcTransposed(checkOperands(L, x, wT, opts))).toEqual(expected);
        expect(referenceFcTransposedWasm(checkOperands(L, x, wT, opts))).toEqual(expected);
      }),
      { numRuns: 150, seed: 21 },
    );
  });

  it("on sums that wrap around int32: long rows of extreme values and zero points", () => {
    let wrapped = 0;
    for (const [xt, wt] of [["int16", "int16"], ["int8", "uint8"], ["uint8", "int16"]] as const) {
      for (const c of [4093, 5000]) {
        const L = convLayer(fcLayer(c, 3));
        const { x, w } = layerTensors(L, { seed: c, xType: xt, wType: wt });
        const polarize = (a: OperandArray, t: OperandType) => {
          const { min, max } = dtypeInfo(t);
          for (let i = 0; i < a.length; i++) a[i] = a[i]! < (min + max) / 2 ? min : max;
        };
        polarize(x, xt);
        polarize(w, wt);
        const opts = { xZeroPoint: dtypeInfo(xt).max, wZeroPoint: dtypeInfo(wt).min };
        const y = referenceFc(checkOperands(L, x, w, opts));
        expect(y).toEqual(referenceConvJs(L, x, w, opts));
        expect(referenceFcWasm(checkOperands(L, x, w, opts))).toEqual(y);
        let exact = 0n;
        for (let i = 0; i < c; i++) exact += BigInt(x[i]! - opts.xZeroPoint) * BigInt(w[i]! - opts.wZeroPoint);
        expect(y[0]).toBe(Number(BigInt.asIntN(32, exact)));
        if (exact > 2n ** 31n - 1n || exact < -(2n ** 31n)) wrapped++;
      }
    }
    expect(wrapped).toBeGreaterThan(3);
  });
});

describe("referenceFcWasm (reference-fc-wasm.ts, OIHW weights) equals the JavaScript loop bit for bit", () => {
  it("across blocks of output channels (rows pass through a 1 MiB window) and on channels past a multiple of eight", () => {
    for (const [c, k, xt, wt] of [[300001, 3, "int8", "int16"], [1000, 2100, "uint8", "int8"], [13, 5, "int16", "uint8"]] as const) {
      const L = convLayer(fcLayer(c, k, 2));
      const { x, w } = layerTensors(L, { seed: c, xType: xt, wType: wt });
      const opts = { xZeroPoint: 3, wZeroPoint: -1 + (wt === "uint8" ? 5 : 0), bias: Int32Array.from({ length: k }, (_, i) => i * 7 - 9) };
      const op = checkOperands(L, x, w, opts);
      expect(referenceFcWasm(op)).toEqual(referenceFc(op));
    }
  });
});

describe("referenceFcTransposedWasm (reference-fc-wasm.ts) equals the JavaScript loop bit for bit", () => {
  // IOHW weights as simulate draws them; the JavaScript loop is the oracle (itself held to
  // referenceConvJs above).
  const both = (c: number, k: number, batch: number, xt: OperandType, wt: OperandType, seed: number, extreme: boolean) => {
    const L = convLayer(fcLayer(c, k, batch));
    const { x } = layerTensors(L, { seed, xType: xt, wType: wt });
    const w = seededTensorTransposed(wt, { groups: 1, rows: k, cols: c, item: 1 }, `${seed}/w`);
    if (extreme) {
      for (const [a, t] of [[x, xt], [w, wt]] as const) {
        const { min, max } = dtypeInfo(t);
        for (let i = 0; i < a.length; i++) a[i] = a[i]! < (min + max) / 2 ? min : max;
      }
    }
    const bias = Int32Array.from({ length: k }, (_, i) => (i * 2654435761 + seed) | 0);
    const opts = { xZeroPoint: extreme ? dtypeInfo(xt).max : 0, wZeroPoint: extreme ? dtypeInfo(wt).min : 0, bias };
    const op = checkOperands(L, x, w, opts);
    return { js: referenceFcTransposed(op), wasm: referenceFcTransposedWasm(op) };
  };

  it("on rows of extreme values (sums that wrap), outputs past the last multiple of eight, and a batch", () => {
    for (const wt of OPERAND_TYPES) {
      for (const [c, k, batch] of [[300, 8, 1], [1000, 13, 2], [2048, 1, 1], [97, 4099, FC_MAX_BATCH]] as const) {
        const { js, wasm } = both(c, k, batch, wt === "int16" ? "int8" : "int16", wt, c + k, true);
        expect(wasm).toEqual(js);
      }
    }
  });

  it("across blocks of input channels (the weights pass through a 1 MiB window a block at a time)", () => {
    // 70,000 int16 outputs a row: 7 rows a block, 20 rows in 3 blocks
    const { js, wasm } = both(20, 70000, 1, "uint8", "int16", 5, false);
    expect(wasm).toEqual(js);
    const again = both(600, 4096, 1, "int8", "int8", 6, false);
    expect(again.wasm).toEqual(again.js);
  });
});

describe("isFullyConnected", () => {
  it("takes a 1 x 1 input under a 1 x 1 kernel, one group, no padding, a batch up to FC_MAX_BATCH; nothing else", () => {
    const take = (spec: ConvLayerSpec) => {
      const L = convLayer(spec);
      const { x, w } = layerTensors(L, { seed: 1 });
      return isFullyConnected(checkOperands(L, x, w));
    };
    expect(take(fcLayer(16, 8))).toBe(true);
    expect(take(fcLayer(16, 8, FC_MAX_BATCH))).toBe(true);
    expect(take(fcLayer(16, 8, FC_MAX_BATCH + 1))).toBe(false);
    expect(take({ ...fcLayer(16, 8), groups: 2 })).toBe(false);
    expect(take({ ...fcLayer(16, 8), pads: [1, 1, 1, 1] })).toBe(false);
    expect(take({ ...fcLayer(16, 8), inHeight: 2 })).toBe(false);
    expect(take({ ...fcLayer(16, 8), inHeight: 3, inWidth: 3, kernelHeight: 3, kernelWidth: 3 })).toBe(false);
  });
});
