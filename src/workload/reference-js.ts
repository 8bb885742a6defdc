/**
 * The JavaScript reference convolution, kept as the slow oracle: a plain, readable loop nest over
 * NCHW inputs and OIHW weights that shares no code with the simulated datapath (STYLE rule 10;
 * tfjs's CPU Conv2D kernel is the model) nor with the fast WebAssembly reference
 * (reference-wasm.ts), which tests check against it bit for bit. Semantics are ONNX
 * ConvInteger's, written out in docs/numerics.md:
 *
 *   y[n][m][oh][ow] = bias[m] + sum over c in m's group, kh, kw of (x - xZeroPoint) * (w - wZeroPoint)
 *
 * accumulated in int32 with two's-complement wrap-around. A padded tap contributes exactly 0
 * (the padding holds the input zero point).
 */
import { convShape, type ConvLayer, type ConvLayerSpec } from "./layer.js";
import { checkOperands, type ConvOperands, type ConvOptions, type OperandArray } from "./operands.js";

/**
 * Computes the convolution exactly (int32 wrap-around) with a plain loop nest: for layers with
 * wide outputs the weights of four input channels at one kernel position meet whole output rows
 * together; for narrow ones (fully connected) each output sums its taps.
 * @param layer the layer (validated here).
 * @param x input, NCHW, Int8Array | Uint8Array | Int16Array.
 * @param w weights, OIHW, Int8Array | Uint8Array | Int16Array.
 * @returns y, NCHW, Int32Array.
 * @throws ConfigError on a bad layer, array type, length, zero point or bias.
 */
export function referenceConvJs(layer: ConvLayer | ConvLayerSpec, x: OperandArray, w: OperandArray, options: ConvOptions = {}): Int32Array {
  const op = checkOperands(layer, x, w, options);
  const shape = convShape(op.layer);
  const y = new Int32Array(shape.outputElements);
  // A padded tap is skipped, so it contributes exactly 0. Each product is below 2^32 in
  // magnitude and each partial sum below 2^31, so every sum is an exact double; `| 0` reduces it
  // modulo 2^32 (two's-complement wrap-around). Int32 wrap-around addition is associative and
  // commutative, so the loop order does not change the result; it is chosen for speed (ONNX
  // Runtime agrees, test/workload/onnx-oracle.test.ts; so does the textbook order,
  // test/workload/reference.test.ts).
  if (shape.outWidth < 8) convNarrow(op, x, w, y);
  else convWide(op, x, w, y);
  return y;
}

/** The layer's sizes, strides, dilations, padding and zero points, as the loop nests name them. */
function sizes(op: ConvOperands) {
  const L = op.layer;
  const s = convShape(L);
  return {
    N: L.batch,
    C: L.inChannels,
    H: L.inHeight,
    W: L.inWidth,
    M: L.outChannels,
    KH: L.kernelHeight,
    KW: L.kernelWidth,
    strideH: L.strides[0],
    strideW: L.strides[1],
    dilH: L.dilations[0],
    dilW: L.dilations[1],
    padTop: L.pads[0],
    padLeft: L.pads[1],
    OH: s.outHeight,
    OW: s.outWidth,
    Cg: s.inChannelsPerGroup,
    Mg: s.outChannelsPerGroup,
    zx: op.xZeroPoint,
    zw: op.wZeroPoint,
  };
}

/**
 * Narrow outputs (fully connected layers): one output at a time, its taps inside, channels
 * innermost. Writes every element of `y`.
 */
function convNarrow(op: ConvOperands, x: OperandArray, w: OperandArray, y: Int32Array): void {
  const { N, C, H, W, M, KH, KW, strideH, strideW, dilH, dilW, padTop, padLeft, OH, OW, Cg, Mg, zx, zw } = sizes(op);
  const RS = KH * KW;
  const HW = H * W;
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      const g = Math.floor(m / Mg);
      const b = op.bias ? op.bias[m]! : 0;
      for (let oh = 0; oh < OH; oh++) {
        const ih0 = oh * strideH - padTop;
        for (let ow = 0; ow < OW; ow++) {
          const iw0 = ow * strideW - padLeft;
          let acc = b;
          for (let kh = 0; kh < KH; kh++) {
            const ih = ih0 + kh * dilH;
            if (ih < 0 || ih >= H) continue; // padded tap: contributes exactly 0
            for (let kw = 0; kw < KW; kw++) {
              const iw = iw0 + kw * dilW;
              if (iw < 0 || iw >= W) continue;
              // The channels of the group, innermost.
              let xi = (n * C + g * Cg) * HW + ih * W + iw;
              let wi = m * Cg * RS + kh * KW + kw;
              for (let cg = 0; cg < Cg; cg++) {
                acc = (acc + (x[xi]! - zx) * (w[wi]! - zw)) | 0;
                xi += HW;
                wi += RS;
              }
            }
          }
          y[((n * M + m) * OH + oh) * OW + ow] = acc;
        }
      }
    }
  }
}

/**
 * Larger outputs: each weight against whole output rows, four input channels at a time.
 * Accumulates into `y`, which holds zeros (each output channel's plane starts at its bias).
 */
function convWide(op: ConvOperands, x: OperandArray, w: OperandArray, y: Int32Array): void {
  const { N, C, H, W, M, KH, KW, strideH, strideW, dilH, dilW, padTop, padLeft, OH, OW, Cg, Mg, zx, zw } = sizes(op);
  const plane = OH * OW;
  const RS = KH * KW;
  const HW = H * W;
  // Larger outputs: each weight against whole output rows (the innermost loop walks a row over
  // the columns whose input is real), four input channels at a time. The taps of a chunk share
  // their kernel position, so they cover the same output columns and rows, and one load and one
  // store of the output serve four MACs (side by side with one channel at a time: 1.5-2x faster on
  // the convolutions of VGG-16 and AlexNet). Each term is below 2^32 in magnitude, so an int32 output plus four
  // terms is below 2^35: still an exact double before `| 0` wraps it.
  const xs = strideW;
  for (let n = 0; n < N; n++) {
    for (let m = 0; m < M; m++) {
      const g = Math.floor(m / Mg);
      const yb = (n * M + m) * plane;
      if (op.bias) y.fill(op.bias[m]!, yb, yb + plane);
      for (let c0 = 0; c0 < Cg; c0 += 4) {
        const chunk = Math.min(4, Cg - c0);
        const xc = (n * C + g * Cg + c0) * HW;
        for (let kh = 0; kh < KH; kh++) {
          for (let kw = 0; kw < KW; kw++) {
            const wi = ((m * Cg + c0) * KH + kh) * KW + kw;
            const w0 = w[wi]! - zw;
            const w1 = chunk > 1 ? w[wi + RS]! - zw : 0;
            const w2 = chunk > 2 ? w[wi + 2 * RS]! - zw : 0;
            const w3 = chunk > 3 ? w[wi + 3 * RS]! - zw : 0;
            // Output columns whose input column is real: 0 <= ow*strideW - padLeft + kw*dilW < W.
            const off = kw * dilW - padLeft;
            const ow0 = Math.max(0, Math.ceil(-off / strideW));
            const ow1 = Math.min(OW, Math.floor((W - 1 - off) / strideW) + 1);
            if (ow1 <= ow0) continue;
            for (let oh = 0; oh < OH; oh++) {
              const ih = oh * strideH - padTop + kh * dilH;
              if (ih < 0 || ih >= H) continue; // padded tap: contributes exactly 0
              const yr = yb + oh * OW;
              let xi = xc + ih * W + ow0 * xs + off;
              if (chunk === 4) {
                for (let ow = ow0; ow < ow1; ow++) {
                  y[yr + ow] = (y[yr + ow]! + (x[xi]! - zx) * w0 + (x[xi + HW]! - zx) * w1 + (x[xi + 2 * HW]! - zx) * w2 + (x[xi + 3 * HW]! - zx) * w3) | 0;
                  xi += xs;
                }
              } else if (chunk === 3) {
                for (let ow = ow0; ow < ow1; ow++) {
                  y[yr + ow] = (y[yr + ow]! + (x[xi]! - zx) * w0 + (x[xi + HW]! - zx) * w1 + (x[xi + 2 * HW]! - zx) * w2) | 0;
                  xi += xs;
                }
              } else if (chunk === 2) {
                for (let ow = ow0; ow < ow1; ow++) {
                  y[yr + ow] = (y[yr + ow]! + (x[xi]! - zx) * w0 + (x[xi + HW]! - zx) * w1) | 0;
                  xi += xs;
                }
              } else {
                for (let ow = ow0; ow < ow1; ow++) {
                  y[yr + ow] = (y[yr + ow]! + (x[xi]! - zx) * w0) | 0;
                  xi += xs;
                }
              }
            }
          }
        }
      }
    }
  }
}
