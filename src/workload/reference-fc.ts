/**
 * The reference of a fully connected layer: a 1 x 1 input, a 1 x 1 kernel, no padding, one group
 * and a small batch (at most {@link FC_MAX_BATCH} images). Each output is a dot product of a
 * weight row (OIHW: an output channel's weights are contiguous) with the input, in int32 with
 * two's-complement wrap-around, computed in JavaScript where the weights lie. `referenceConv` runs
 * the WebAssembly SIMD version (reference-fc-wasm.ts), which this one is the oracle and the
 * fallback of.
 *
 * Why a path of its own. The WebAssembly reference (reference-wasm.ts) first packs the weights
 * into its linear memory; for a fully connected layer, whose every weight is used once per image,
 * the packing and the fresh memory it fills cost several times the products: AlexNet fc6 (37.7 M
 * weights) on a fresh thread 46 ms here against 173 ms; `convsim run --net vgg16 --layers fc6`
 * (102.8 M weights) 4.2 s against 4.5 s, with 95 MiB less peak memory (no packed copy).
 *
 * Exactness. `Math.imul` keeps the low 32 bits of each product (exact modulo 2^32: a difference
 * is at most 65535 in magnitude), every sum is taken `| 0`, and addition modulo 2^32 does not
 * depend on the order of its terms, so four partial sums per row give the bits of the textbook
 * loop. Tests (test/workload/reference-fc.test.ts) require it to equal the JavaScript oracle
 * (reference-js.ts) on random FC layers of every operand type pair, zero point and bias, and on
 * sums that wrap around int32.
 *
 * Independence: it shares no code with the simulated datapath nor with the other references.
 */
import { convShape } from "./layer.js";
import type { ConvOperands } from "./operands.js";

/** The largest batch this path takes: past it, the packed WebAssembly kernel reuses each weight more. */
export const FC_MAX_BATCH = 4;

/** Whether `op`'s layer is one this path computes (see the file header). */
export function isFullyConnected(op: Pick<ConvOperands, "layer">): boolean {
  const L = op.layer;
  return L.inHeight === 1 && L.inWidth === 1 && L.kernelHeight === 1 && L.kernelWidth === 1 && L.groups === 1 && L.batch <= FC_MAX_BATCH && L.pads.every((p) => p === 0);
}

/**
 * y (NCHW, here [batch][outChannels]) of a fully connected layer, from validated operands
 * (`checkOperands`); the caller checks {@link isFullyConnected} first.
 */
export function referenceFc(op: ConvOperands): Int32Array {
  const { L, C, K, w, zw, y } = fcParts(op);
  const xs = new Int32Array(C);
  for (let n = 0; n < L.batch; n++) {
    for (let c = 0; c < C; c++) xs[c] = op.x[n * C + c]! - op.xZeroPoint;
    for (let m = 0, o = 0; m < K; m++) {
      let a0 = op.bias ? op.bias[m]! : 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let c = 0;
      for (; c + 3 < C; c += 4, o += 4) {
        a0 = (a0 + Math.imul(w[o]! - zw, xs[c]!)) | 0;
        a1 = (a1 + Math.imul(w[o + 1]! - zw, xs[c + 1]!)) | 0;
        a2 = (a2 + Math.imul(w[o + 2]! - zw, xs[c + 2]!)) | 0;
        a3 = (a3 + Math.imul(w[o + 3]! - zw, xs[c + 3]!)) | 0;
      }
      for (; c < C; c++, o++) a0 = (a0 + Math.imul(w[o]! - zw, xs[c]!)) | 0;
      y[n * K + m] = (((a0 + a1) | 0) + ((a2 + a3) | 0)) | 0;
    }
  }
  return y;
}

/**
 * {@link referenceFc} of weights stored IOHW (`op.w` as [inChannels][outChannels]: how a dataflow
 * may keep them in DRAM, and how `simulate` draws seeded FC weights for one: tensors.ts,
 * seededTensorTransposed), so that the OIHW tensor is never made. Each input channel's term is
 * added into every output at once; the same bits as over the rows, as addition modulo 2^32 does
 * not depend on the order of its terms. `simulate` runs reference-fc-wasm.ts's SIMD version of
 * this loop, which this one is the oracle of, and falls back to it.
 */
export function referenceFcTransposed(op: ConvOperands): Int32Array {
  const { L, C, K, w, zw, y } = fcParts(op);
  for (let n = 0; n < L.batch; n++) {
    const acc = y.subarray(n * K, (n + 1) * K);
    if (op.bias) for (let m = 0; m < K; m++) acc[m] = op.bias[m]!;
    for (let c = 0, o = 0; c < C; c++, o += K) {
      const xv = op.x[n * C + c]! - op.xZeroPoint;
      if (xv === 0) continue;
      for (let m = 0; m < K; m++) acc[m] = (acc[m]! + Math.imul(w[o + m]! - zw, xv)) | 0;
    }
  }
  return y;
}

/** What both FC loops start from: the layer, its channel counts, the weights and their zero point, and a zeroed output. */
function fcParts(op: ConvOperands) {
  const L = op.layer;
  return { L, C: L.inChannels, K: L.outChannels, w: op.w, zw: op.wZeroPoint, y: new Int32Array(convShape(L).outputElements) };
}
