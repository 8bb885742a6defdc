/**
 * The workload: one convolution layer (ONNX Conv attributes and defaults) and the single source
 * of its shape math, {@link convShape}. The reference convolution, the bounds and the dataflows
 * all take their sizes from here (STYLE rule 10).
 *
 * Layouts: x is NCHW, w is OIHW (outChannels, inChannels/groups, kH, kW), y is NCHW.
 * A fully connected layer is a 1x1 convolution over a 1x1 input.
 */
import { ConfigError, requireInteger, requireNonNegativeInteger, requirePositiveInteger } from "../core/errors.js";

/** A convolution layer with every attribute explicit. Produced by {@link convLayer}; frozen. */
export interface ConvLayer {
  /** Optional name, e.g. `conv1`. */
  readonly name?: string;
  readonly batch: number;
  readonly inChannels: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly outChannels: number;
  readonly kernelHeight: number;
  readonly kernelWidth: number;
  /** [h, w]. */
  readonly strides: readonly [number, number];
  /** [top, left, bottom, right] (ONNX order: begins then ends). */
  readonly pads: readonly [number, number, number, number];
  /** [h, w]. */
  readonly dilations: readonly [number, number];
  readonly groups: number;
}

/** A layer as a user writes it: strides, pads, dilations, groups and batch may be omitted (ONNX defaults). */
export interface ConvLayerSpec {
  name?: string;
  batch?: number;
  inChannels: number;
  inHeight: number;
  inWidth: number;
  outChannels: number;
  kernelHeight: number;
  kernelWidth: number;
  strides?: readonly number[];
  pads?: readonly number[];
  dilations?: readonly number[];
  groups?: number;
}

/** The largest tensor (in elements) convsim accepts: typed arrays and 32-bit index math stay exact. */
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

const FIELDS = new Set([
  "name",
  "batch",
  "inChannels",
  "inHeight",
  "inWidth",
  "outChannels",
  "kernelHeight",
  "kernelWidth",
  "strides",
  "pads",
  "dilations",
  "groups",
]);

function intArray(field: string, value: unknown, length: number, min: number): number[] {
  if (!Array.isArray(value) || value.length !== length) {
    throw new ConfigError(field, value, `be an array of ${length} integers`);
  }
  return value.map((v, i) => requireInteger(`${field}[${i}]`, v, min));
}

/**
 * Validates a layer spec, fills in the ONNX defaults (stride 1, pad 0, dilation 1, groups 1,
 * batch 1) and returns a frozen {@link ConvLayer}.
 * @param path prefix for error field names (default `layer`).
 * @throws ConfigError naming the field, the value and the rule, for any invalid attribute.
 */
export function convLayer(spec: ConvLayerSpec | ConvLayer, path = "layer"): ConvLayer {
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) {
    throw new ConfigError(path, spec, "be an object with the ConvLayer fields");
  }
  for (const key of Object.keys(spec)) {
    if (!FIELDS.has(key)) {
      throw new ConfigError(`${path}.${key}`, (spec as unknown as Record<string, unknown>)[key], `be one of the ConvLayer fields (${[...FIELDS].join(", ")})`);
    }
  }
  const s = spec as ConvLayerSpec;
  if (s.name !== undefined && typeof s.name !== "string") throw new ConfigError(`${path}.name`, s.name, "be a string");
  const batch = requirePositiveInteger(`${path}.batch`, s.batch ?? 1);
  const inChannels = requirePositiveInteger(`${path}.inChannels`, s.inChannels);
  const inHeight = requirePositiveInteger(`${path}.inHeight`, s.inHeight);
  const inWidth = requirePositiveInteger(`${path}.inWidth`, s.inWidth);
  const outChannels = requirePositiveInteger(`${path}.outChannels`, s.outChannels);
  const kernelHeight = requirePositiveInteger(`${path}.kernelHeight`, s.kernelHeight);
  const kernelWidth = requirePositiveInteger(`${path}.kernelWidth`, s.kernelWidth);
  const strides = intArray(`${path}.strides`, s.strides ?? [1, 1], 2, 1);
  const pads = intArray(`${path}.pads`, s.pads ?? [0, 0, 0, 0], 4, 0);
  const dilations = intArray(`${path}.dilations`, s.dilations ?? [1, 1], 2, 1);
  const groups = requirePositiveInteger(`${path}.groups`, s.groups ?? 1);
  if (inChannels % groups !== 0) {
    throw new ConfigError(`${path}.inChannels`, inChannels, `be divisible by groups (${groups})`);
  }
  if (outChannels % groups !== 0) {
    throw new ConfigError(`${path}.outChannels`, outChannels, `be divisible by groups (${groups})`);
  }
  const [padTop, padLeft, padBottom, padRight] = pads as [number, number, number, number];
  const dkh = (kernelHeight - 1) * dilations[0]! + 1;
  const dkw = (kernelWidth - 1) * dilations[1]! + 1;
  if (dkh > inHeight + padTop + padBottom) {
    throw new ConfigError(`${path}.kernelHeight`, kernelHeight, `give a dilated kernel height (${dkh}) no larger than the padded input height (${inHeight + padTop + padBottom})`);
  }
  if (dkw > inWidth + padLeft + padRight) {
    throw new ConfigError(`${path}.kernelWidth`, kernelWidth, `give a dilated kernel width (${dkw}) no larger than the padded input width (${inWidth + padLeft + padRight})`);
  }
  const layer: ConvLayer = {
    ...(s.name !== undefined ? { name: s.name } : {}),
    batch,
    inChannels,
    inHeight,
    inWidth,
    outChannels,
    kernelHeight,
    kernelWidth,
    strides: Object.freeze([strides[0]!, strides[1]!]) as readonly [number, number],
    pads: Object.freeze([padTop, padLeft, padBottom, padRight]) as readonly [number, number, number, number],
    dilations: Object.freeze([dilations[0]!, dilations[1]!]) as readonly [number, number],
    groups,
  };
  const shape = computeShape(layer);
  const limits: [string, number][] = [
    ["input", shape.inputElements],
    ["weight", shape.weightElements],
    ["output", shape.outputElements],
  ];
  for (const [tensor, n] of limits) {
    if (n > MAX_TENSOR_ELEMENTS) {
      throw new ConfigError(path, `${tensor} tensor of ${n} elements`, `give tensors of at most ${MAX_TENSOR_ELEMENTS} elements`);
    }
  }
  if (!Number.isSafeInteger(shape.macs)) {
    throw new ConfigError(path, `${shape.macs} MACs`, "need at most 2^53 MACs");
  }
  return Object.freeze(layer);
}

/** Sizes derived from a layer; computed once by {@link convShape}. */
export interface ConvShape {
  readonly outHeight: number;
  readonly outWidth: number;
  readonly inChannelsPerGroup: number;
  readonly outChannelsPerGroup: number;
  readonly dilatedKernelHeight: number;
  readonly dilatedKernelWidth: number;
  /** Dense MAC count: batch * outChannels * outH * outW * inChannelsPerGroup * kH * kW (padded taps included). */
  readonly macs: number;
  /** MACs whose input tap is a real (non-padding) element. */
  readonly usefulMacs: number;
  readonly inputElements: number;
  readonly weightElements: number;
  readonly outputElements: number;
  /** Input rows (of inHeight) that some window reads. */
  readonly touchedRows: number;
  /** Input columns (of inWidth) that some window reads. */
  readonly touchedCols: number;
  /** Input elements that some window reads: batch * inChannels * touchedRows * touchedCols. */
  readonly touchedInputElements: number;
  /** Number of (output row, kernel row) pairs whose input row is real, not padding. */
  readonly validRowTaps: number;
  /** Number of (output column, kernel column) pairs whose input column is real, not padding. */
  readonly validColTaps: number;
}

interface AxisFacts {
  out: number;
  touched: number;
  validTaps: number;
}

function axis(inSize: number, kernel: number, stride: number, dilation: number, padBegin: number, padEnd: number): AxisFacts {
  const out = Math.floor((inSize + padBegin + padEnd - ((kernel - 1) * dilation + 1)) / stride) + 1;
  const touched = new Uint8Array(inSize);
  let validTaps = 0;
  for (let o = 0; o < out; o++) {
    for (let k = 0; k < kernel; k++) {
      const i = o * stride - padBegin + k * dilation;
      if (i >= 0 && i < inSize) {
        touched[i] = 1;
        validTaps++;
      }
    }
  }
  let count = 0;
  for (let i = 0; i < inSize; i++) count += touched[i]!;
  return { out, touched: count, validTaps };
}

function computeShape(l: ConvLayer): ConvShape {
  const h = axis(l.inHeight, l.kernelHeight, l.strides[0], l.dilations[0], l.pads[0], l.pads[2]);
  const w = axis(l.inWidth, l.kernelWidth, l.strides[1], l.dilations[1], l.pads[1], l.pads[3]);
  const cpg = l.inChannels / l.groups;
  const kpg = l.outChannels / l.groups;
  return Object.freeze({
    outHeight: h.out,
    outWidth: w.out,
    inChannelsPerGroup: cpg,
    outChannelsPerGroup: kpg,
    dilatedKernelHeight: (l.kernelHeight - 1) * l.dilations[0] + 1,
    dilatedKernelWidth: (l.kernelWidth - 1) * l.dilations[1] + 1,
    macs: l.batch * l.outChannels * h.out * w.out * cpg * l.kernelHeight * l.kernelWidth,
    usefulMacs: l.batch * l.outChannels * cpg * h.validTaps * w.validTaps,
    inputElements: l.batch * l.inChannels * l.inHeight * l.inWidth,
    weightElements: l.outChannels * cpg * l.kernelHeight * l.kernelWidth,
    outputElements: l.batch * l.outChannels * h.out * w.out,
    touchedRows: h.touched,
    touchedCols: w.touched,
    touchedInputElements: l.batch * l.inChannels * h.touched * w.touched,
    validRowTaps: h.validTaps,
    validColTaps: w.validTaps,
  });
}

const shapeCache = new WeakMap<ConvLayer, ConvShape>();

/**
 * The shape math of a layer: output size, channels per group, MAC counts, tensor sizes and the
 * input elements that some window touches. The layer is validated first.
 */
export function convShape(layer: ConvLayer | ConvLayerSpec): ConvShape {
  const valid = Object.isFrozen(layer) ? (layer as ConvLayer) : convLayer(layer);
  let s = shapeCache.get(valid);
  if (!s) {
    s = computeShape(valid);
    shapeCache.set(valid, s);
  }
  return s;
}

/**
 * Parses the short form of a layer used on the command line: comma- or space-separated
 * `key=value` pairs. Keys: `n` (batch), `c` (in channels), `h`, `w` (input size; or `hw=224`),
 * `k` (out channels), `r` (kernel, `3` or `3x5`), `stride` (`2` or `2x1`), `pad` (`1`, `1x2`
 * for h x w, or `t,l,b,r` as `1x1x2x2`), `dil` (`2` or `2x1`), `g` (groups), `name`.
 * Example: `c=3,hw=227,k=96,r=11,stride=4`.
 * @throws ConfigError for a malformed pair, an unknown key, a bad value, or a layer that
 *   convLayer refuses; the field is `path` (default `layer`) and the key.
 */
export function parseLayerShortForm(text: string, path = "layer"): ConvLayer {
  const spec: Record<string, unknown> = {};
  const pairs = text.split(/[,\s]+/).filter((p) => p.length > 0);
  const nums = (key: string, v: string, counts: number[]): number[] => {
    const parts = v.split("x").map((p) => Number(p));
    if (!counts.includes(parts.length) || parts.some((p) => !Number.isFinite(p))) {
      throw new ConfigError(`${path}.${key}`, v, `be ${counts.map((c) => (c === 1 ? "N" : Array(c).fill("N").join("x"))).join(" or ")}`);
    }
    return parts;
  };
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new ConfigError(path, pair, "be key=value pairs such as c=3,hw=224,k=64,r=3,pad=1");
    const key = pair.slice(0, eq).toLowerCase();
    const v = pair.slice(eq + 1);
    switch (key) {
      case "name":
        spec.name = v;
        break;
      case "n":
        spec.batch = Number(v);
        break;
      case "c":
        spec.inChannels = Number(v);
        break;
      case "h":
        spec.inHeight = Number(v);
        break;
      case "w":
        spec.inWidth = Number(v);
        break;
      case "hw": {
        const [a, b] = nums(key, v, [1, 2]);
        spec.inHeight = a;
        spec.inWidth = b ?? a;
        break;
      }
      case "k":
        spec.outChannels = Number(v);
        break;
      case "r": {
        const [a, b] = nums(key, v, [1, 2]);
        spec.kernelHeight = a;
        spec.kernelWidth = b ?? a;
        break;
      }
      case "stride": {
        const [a, b] = nums(key, v, [1, 2]);
        spec.strides = [a, b ?? a];
        break;
      }
      case "dil": {
        const [a, b] = nums(key, v, [1, 2]);
        spec.dilations = [a, b ?? a];
        break;
      }
      case "pad": {
        const p = nums(key, v, [1, 2, 4]);
        spec.pads = p.length === 4 ? p : p.length === 2 ? [p[0], p[1], p[0], p[1]] : [p[0], p[0], p[0], p[0]];
        break;
      }
      case "g":
        spec.groups = Number(v);
        break;
      default:
        throw new ConfigError(`${path}.${key}`, v, "use a key among n, c, h, w, hw, k, r, stride, pad, dil, g, name");
    }
  }
  return convLayer(spec as unknown as ConvLayerSpec, path);
}

/** A one-line description of a layer, in the short form accepted by {@link parseLayerShortForm}. */
export function formatLayerShortForm(l: ConvLayer): string {
  const pair = (a: number, b: number): string => (a === b ? `${a}` : `${a}x${b}`);
  const parts = [
    ...(l.name !== undefined ? [`name=${l.name}`] : []),
    ...(l.batch !== 1 ? [`n=${l.batch}`] : []),
    `c=${l.inChannels}`,
    `hw=${pair(l.inHeight, l.inWidth)}`,
    `k=${l.outChannels}`,
    `r=${pair(l.kernelHeight, l.kernelWidth)}`,
  ];
  if (l.strides[0] !== 1 || l.strides[1] !== 1) parts.push(`stride=${pair(l.strides[0], l.strides[1])}`);
  const [t, le, b, r] = l.pads;
  if (t || le || b || r) parts.push(`pad=${t === b && le === r ? pair(t, le) : `${t}x${le}x${b}x${r}`}`);
  if (l.dilations[0] !== 1 || l.dilations[1] !== 1) parts.push(`dil=${pair(l.dilations[0], l.dilations[1])}`);
  if (l.groups !== 1) parts.push(`g=${l.groups}`);
  return parts.join(",");
}

/** A fully connected layer (inFeatures -> outFeatures) as a 1x1 convolution over a 1x1 input. */
export function fullyConnected(inFeatures: number, outFeatures: number, batch = 1, name?: string): ConvLayer {
  requireNonNegativeInteger("fc.inFeatures", inFeatures);
  return convLayer({
    ...(name !== undefined ? { name } : {}),
    batch,
    inChannels: inFeatures,
    inHeight: 1,
    inWidth: 1,
    outChannels: outFeatures,
    kernelHeight: 1,
    kernelWidth: 1,
  });
}
