/**
 * Seeded tensors. The same seed gives the same values on every run and machine (seedrandom's
 * ARC4-based generator, which is specified bit for bit). Two ranges: `full` covers the whole
 * type; `small` draws from [-8, 7] (signed) or [0, 15] (unsigned), which keeps sums small enough
 * to read by eye.
 */
import seedrandom from "seedrandom";
import { ConfigError } from "../core/errors.js";
import { allocate, dtypeInfo, requireOperandType, type OperandType, type TypedArrayOf } from "./dtype.js";
import { convLayer, convShape, type ConvLayer, type ConvLayerSpec } from "./layer.js";

/** The range random values are drawn from. */
export type ValueRange = "full" | "small";

/**
 * A tensor of `length` elements of type `t`, filled from the generator seeded with `seed`.
 * @throws ConfigError on a bad type, length or range.
 */
export function seededTensor<T extends OperandType>(t: T, length: number, seed: string | number, range: ValueRange = "full"): TypedArrayOf<T> {
  requireOperandType("type", t);
  if (!Number.isSafeInteger(length) || length < 0) throw new ConfigError("length", length, "be a non-negative integer");
  if (range !== "full" && range !== "small") throw new ConfigError("range", range, 'be "full" or "small"');
  const info = dtypeInfo(t);
  const lo = range === "full" ? info.min : info.signed ? -8 : 0;
  const hi = range === "full" ? info.max : info.signed ? 7 : 15;
  const span = hi - lo + 1;
  const rng = seedrandom(String(seed));
  const out = allocate(t, length);
  // int32() is uniform over 2^32 values; span is a power of two for every range above, so taking
  // the low bits is unbiased (and equals (x >>> 0) % span).
  const mask = span - 1;
  for (let i = 0; i < length; i++) out[i] = lo + (rng.int32() & mask);
  return out;
}

/** Seeded input and weight tensors for a layer. */
export interface LayerTensors<X extends OperandType, Wt extends OperandType> {
  readonly x: TypedArrayOf<X>;
  readonly w: TypedArrayOf<Wt>;
}

/**
 * Seeded input and weight tensors for `layer`, drawn from independent streams derived from `seed`.
 */
export function layerTensors<X extends OperandType = "int8", Wt extends OperandType = "int8">(
  layer: ConvLayer | ConvLayerSpec,
  options: { seed?: string | number; xType?: X; wType?: Wt; range?: ValueRange } = {},
): LayerTensors<X, Wt> {
  const L = convLayer(layer);
  const s = convShape(L);
  const seed = options.seed ?? 1;
  const xType = (options.xType ?? "int8") as X;
  const wType = (options.wType ?? "int8") as Wt;
  return {
    x: seededTensor(xType, s.inputElements, `${seed}/x`, options.range),
    w: seededTensor(wType, s.weightElements, `${seed}/w`, options.range),
  };
}
