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
 * sizes in locals, every index computed in full at the innermost step (only the group's first
 * channel is computed once per output channel), nothing reordered. (Reading the sizes from the
 * layer object inside the loops instead halves its speed.)
 */
export function naiveConv(L: ConvLayer, x: OperandArray, w: OperandArray, zx = 0, zw = 0): Int32Array {
  const s = convShape(L);
  const y = new Int32Array(s.outputElements);
  const N = L.batch, C = L.inChannels, H = L.inHeight, W = L.inWidth, M = L.outChannels;
  const KH = L.kernelHeight, KW = L.kernelWidth, OH = s.outHeight, OW = s.outWidth;
  const Cg = s.inChannelsPerGroup, Mg = s.outChannelsPerGroup;
  const sh = L.strides[0], sw = L.strides[1], pt = L.pads[0], pl = L.pads[1], dh = L.dilations[0], dw = L.dilations[1];
  let i = 0;
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++) {
      const c0 = Math.floor(m / Mg) * Cg; // the group's first input channel
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          let acc = 0;
          for (let c = 0; c < Cg; c++)
            for (let kh = 0; kh < KH; kh++)
              for (let kw = 0; kw < KW; kw++) {
                const ih = oh * sh - pt + kh * dh;
                const iw = ow * sw - pl + kw * dw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue; // padding contributes 0
                const xv = x[((n * C + c0 + c) * H + ih) * W + iw]!;
                acc = (acc + (xv - zx) * (w[((m * Cg + c) * KH + kh) * KW + kw]! - zw)) | 0;
              }
          y[i++] = acc;
        }
    }
  return y;
}
