/**
 * The benchmarks' baseline: a naive direct convolution in plain JavaScript, seven loops (image,
 * output channel, output row, output column, input channel, kernel row, kernel column) in the
 * textbook order, one multiply-accumulate per innermost step, no blocking or reordering. Every
 * speed figure of the reference benchmarks is a ratio against this loop timed in the same run,
 * so that figures taken on different machines or loads can be compared.
 *
 * Same semantics as the references (docs/numerics.md): int32 wrap-around, a padded tap
 * contributes 0, groups supported; no bias.
 */
import { convShape, type ConvLayer } from "../src/workload/layer.js";
import type { OperandArray } from "../src/workload/reference.js";

/**
 * The naive seven-loop convolution of `x` (NCHW) and `w` (OIHW) with zero points `zx`, `zw`:
 * the index arithmetic of each loop is done in that loop, nothing else is hoisted or reordered.
 */
export function naiveConv(L: ConvLayer, x: OperandArray, w: OperandArray, zx = 0, zw = 0): Int32Array {
  const s = convShape(L);
  const y = new Int32Array(s.outputElements);
  const { inHeight: H, inWidth: W, kernelHeight: KH, kernelWidth: KW } = L;
  const Cg = s.inChannelsPerGroup;
  const Mg = s.outChannelsPerGroup;
  const [sh, sw] = L.strides;
  const [dh, dw] = L.dilations;
  let i = 0;
  for (let n = 0; n < L.batch; n++)
    for (let m = 0; m < L.outChannels; m++) {
      const xg = (n * L.inChannels + Math.floor(m / Mg) * Cg) * H * W;
      for (let oh = 0; oh < s.outHeight; oh++)
        for (let ow = 0; ow < s.outWidth; ow++) {
          let acc = 0;
          for (let c = 0; c < Cg; c++) {
            const xc = xg + c * H * W;
            const wc = (m * Cg + c) * KH * KW;
            for (let kh = 0; kh < KH; kh++) {
              const ih = oh * sh - L.pads[0] + kh * dh;
              if (ih < 0 || ih >= H) continue; // padding contributes 0
              for (let kw = 0; kw < KW; kw++) {
                const iw = ow * sw - L.pads[1] + kw * dw;
                if (iw < 0 || iw >= W) continue;
                acc = (acc + (x[xc + ih * W + iw]! - zx) * (w[wc + kh * KW + kw]! - zw)) | 0;
              }
            }
          }
          y[i++] = acc;
        }
    }
  return y;
}
