/**
 * The reference convolution that verification runs, and the bit-exact comparison of an output
 * with it. Semantics are ONNX ConvInteger's plus an int32 bias (docs/numerics.md):
 *
 *   y[n][m][oh][ow] = bias[m] + sum over c in m's group, kh, kw of (x - xZeroPoint) * (w - wZeroPoint)
 *
 * in int32 with two's-complement wrap-around; a padded tap contributes exactly 0.
 *
 * Two implementations, neither sharing code with the simulated datapath (STYLE rule 10) nor with
 * the other: the fast one in WebAssembly SIMD (reference-wasm.ts), which {@link referenceConv}
 * runs, and the plain JavaScript loop nest (reference-js.ts, {@link referenceConvJs}), kept as the
 * slow oracle and as the fallback where WebAssembly with SIMD is unavailable or a layer needs more
 * than its 4 GiB of memory. Tests require the two to agree bit for bit, and both to agree with
 * ONNX Runtime. A fully connected layer with a small batch takes a third path, dot products over
 * the weight rows where they lie (packing its weights for the convolution's SIMD kernel costs
 * more than its products): in WebAssembly SIMD over a window the rows pass through
 * (reference-fc-wasm.ts), else in JavaScript (reference-fc.ts), tested against the oracle the
 * same way and against each other.
 */
import { ConfigError } from "../core/errors.js";
import { convLayer, convShape, type ConvLayer, type ConvLayerSpec } from "./layer.js";
import type { IntArray } from "./dtype.js";
import type { ConvOptions, OperandArray } from "./operands.js";
import { isFullyConnected, referenceFc } from "./reference-fc.js";
import { referenceFcWasm } from "./reference-fc-wasm.js";
import { referenceConvJs } from "./reference-js.js";
import { referenceConvWasm } from "./reference-wasm.js";
import { checkOperands } from "./operands.js";

export { checkOperands, type ConvOperands, type ConvOptions, type OperandArray } from "./operands.js";
export { referenceConvJs } from "./reference-js.js";

/**
 * Computes the convolution exactly (int32 wrap-around): in WebAssembly SIMD where it can (the
 * fast reference), else with the JavaScript loop nest; both give the same bits.
 * @param layer the layer (validated here).
 * @param x input, NCHW, Int8Array | Uint8Array | Int16Array. Typed as any integer array (so a
 *   tensor's `data` from `readNpy` is taken as it is); a Uint16Array or Int32Array is a ConfigError.
 * @param w weights, OIHW, Int8Array | Uint8Array | Int16Array (typed likewise).
 * @returns y, NCHW, Int32Array.
 * @throws ConfigError for an invalid layer, an array that is not an Int8Array, Uint8Array or
 *   Int16Array, a wrong length, a zero point out of its type's range, or a bad bias.
 */
export function referenceConv(layer: ConvLayer | ConvLayerSpec, x: IntArray, w: IntArray, options: ConvOptions = {}): Int32Array {
  // Every reference validates the arrays (checkOperands) before it reads them.
  const xa = x as OperandArray;
  const wa = w as OperandArray;
  const op = checkOperands(layer, xa, wa, options);
  if (isFullyConnected(op)) return referenceFcWasm(op) ?? referenceFc(op);
  return referenceConvWasm(layer, xa, wa, options) ?? referenceConvJs(layer, xa, wa, options);
}

/** One differing output element. */
export interface Mismatch {
  /** Flat NCHW index. */
  readonly index: number;
  readonly n: number;
  readonly k: number;
  readonly oh: number;
  readonly ow: number;
  readonly expected: number;
  readonly actual: number;
}

/** The verdict of comparing an output tensor with the reference. */
export interface Verification {
  readonly ok: boolean;
  readonly compared: number;
  readonly mismatches: number;
  /** The first mismatches in NCHW order (at most `limit`). */
  readonly first: readonly Mismatch[];
}

/**
 * Compares an actual output with the expected one element by element (bit-exact).
 * A length difference is a {@link ConfigError}.
 */
export function compareOutputs(layer: ConvLayer | ConvLayerSpec, expected: Int32Array, actual: ArrayLike<number>, limit = 10): Verification {
  const L = convLayer(layer);
  const s = convShape(L);
  if (actual.length !== expected.length) {
    throw new ConfigError("y.length", actual.length, `equal batch*outChannels*outHeight*outWidth = ${expected.length}`);
  }
  const first: Mismatch[] = [];
  let mismatches = 0;
  const plane = s.outHeight * s.outWidth;
  for (let i = 0; i < expected.length; i++) {
    if (expected[i] !== actual[i]) {
      mismatches++;
      if (first.length < limit) {
        const nk = Math.floor(i / plane);
        const r = i % plane;
        first.push({
          index: i,
          n: Math.floor(nk / L.outChannels),
          k: nk % L.outChannels,
          oh: Math.floor(r / s.outWidth),
          ow: r % s.outWidth,
          expected: expected[i]!,
          actual: actual[i]!,
        });
      }
    }
  }
  return { ok: mismatches === 0, compared: expected.length, mismatches, first };
}
