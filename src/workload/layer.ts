/**
 * The workload: one convolution layer (ONNX Conv attributes and defaults) and the single source
 * of its shape math, {@link convShape}. The reference convolution, the bounds and the dataflows
 * all take their sizes from here (STYLE rule 10).
 *
 * Layouts: x is NCHW, w is OIHW (outChannels, inChannels/groups, kH, kW), y is NCHW.
 * A fully connected layer is a 1x1 convolution over a 1x1 input.
 */
import { ConfigError, requireNonNegativeInteger } from "../core/errors.js";
import { checkInt, intRule, rejectUnsafeKeys, type IntRule } from "../core/fields.js";

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

/** The largest size of one layer dimension (channels, height, width, kernel, stride, pad, dilation, groups). */
export const MAX_LAYER_DIMENSION = 2 ** 20;

/**
 * Each integer field of a layer with its rule, declared once: {@link convLayer}, the short form
 * ({@link parseLayerShortForm}) and the network loader check values against these. Upper bounds
 * come before any tensor is sized (the tensors themselves are limited to
 * {@link MAX_TENSOR_ELEMENTS} elements each).
 */
export const LAYER_RULES = Object.freeze({
  batch: intRule(1, 2 ** 16, "images in the batch"),
  inChannels: intRule(1, MAX_LAYER_DIMENSION, "input channels"),
  inHeight: intRule(1, MAX_LAYER_DIMENSION, "input height"),
  inWidth: intRule(1, MAX_LAYER_DIMENSION, "input width"),
  outChannels: intRule(1, MAX_LAYER_DIMENSION, "output channels"),
  kernelHeight: intRule(1, MAX_LAYER_DIMENSION, "kernel height"),
  kernelWidth: intRule(1, MAX_LAYER_DIMENSION, "kernel width"),
  strides: intRule(1, MAX_LAYER_DIMENSION, "stride, each axis"),
  pads: intRule(0, MAX_LAYER_DIMENSION, "padding, each side"),
  dilations: intRule(1, MAX_LAYER_DIMENSION, "dilation, each axis"),
  groups: intRule(1, MAX_LAYER_DIMENSION, "groups"),
} satisfies Record<Exclude<keyof ConvLayerSpec, "name">, IntRule>);

const FIELDS = new Set(["name", ...Object.keys(LAYER_RULES)]);

function intArray(field: string, value: unknown, length: number, rule: IntRule): number[] {
  if (!Array.isArray(value) || value.length !== length) {
    throw new ConfigError(field, value, `be an array of ${length} integers`);
  }
  return value.map((v, i) => checkInt(`${field}[${i}]`, v, rule));
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
  rejectUnsafeKeys(path, spec);
  for (const key of Object.keys(spec)) {
    if (!FIELDS.has(key)) {
      throw new ConfigError(`${path}.${key}`, (spec as unknown as Record<string, unknown>)[key], `be one of the ConvLayer fields (${[...FIELDS].join(", ")})`);
    }
  }
  const s = spec as ConvLayerSpec;
  if (s.name !== undefined && typeof s.name !== "string") throw new ConfigError(`${path}.name`, s.name, "be a string");
  const R = LAYER_RULES;
  const batch = checkInt(`${path}.batch`, s.batch ?? 1, R.batch);
  const inChannels = checkInt(`${path}.inChannels`, s.inChannels, R.inChannels);
  const inHeight = checkInt(`${path}.inHeight`, s.inHeight, R.inHeight);
  const inWidth = checkInt(`${path}.inWidth`, s.inWidth, R.inWidth);
  const outChannels = checkInt(`${path}.outChannels`, s.outChannels, R.outChannels);
  const kernelHeight = checkInt(`${path}.kernelHeight`, s.kernelHeight, R.kernelHeight);
  const kernelWidth = checkInt(`${path}.kernelWidth`, s.kernelWidth, R.kernelWidth);
  const strides = intArray(`${path}.strides`, s.strides ?? [1, 1], 2, R.strides);
  const pads = intArray(`${path}.pads`, s.pads ?? [0, 0, 0, 0], 4, R.pads);
  const dilations = intArray(`${path}.dilations`, s.dilations ?? [1, 1], 2, R.dilations);
  const groups = checkInt(`${path}.groups`, s.groups ?? 1, R.groups);
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
  // (`name` is always a field, undefined when absent, which the JSON form leaves out: every layer
  // has one hidden class, "Hot objects have one shape" in docs/design-notes.md)
  const layer: ConvLayer = {
    name: s.name,
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

/**
 * One spatial axis of a layer (its rows or its columns), as the window math sees it: the sliding
 * window's footprints and halos (dataflow/input-axis.ts, the traffic model, the Sequencer) and the
 * reuse and tiling of the bounds (bounds/reuse.ts, bounds/tile.ts).
 */
export interface LayerAxis {
  /** Real (unpadded) input size along the axis. */
  readonly inSize: number;
  /** Output size along the axis. */
  readonly outSize: number;
  /** Kernel taps along the axis. */
  readonly kernel: number;
  readonly stride: number;
  readonly dilation: number;
  /** Padding before the first real input element. */
  readonly padBegin: number;
}

/** The row (`h`) or column (`w`) axis of a layer. */
export function layerAxis(layer: ConvLayer, which: "h" | "w"): LayerAxis {
  const s = convShape(layer);
  const i = which === "h" ? 0 : 1;
  return {
    inSize: which === "h" ? layer.inHeight : layer.inWidth,
    outSize: which === "h" ? s.outHeight : s.outWidth,
    kernel: which === "h" ? layer.kernelHeight : layer.kernelWidth,
    stride: layer.strides[i],
    dilation: layer.dilations[i],
    padBegin: layer.pads[i],
  };
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
 * The layer itself when it is a frozen (validated) ConvLayer, else validated now ({@link convLayer}).
 * The shape caches key on the validated object: a layer that crossed a thread is a plain copy,
 * and a function that takes one should validate it once at its boundary (a mapping built from a
 * plain copy recomputed every shape: AlexNet's eight `chen2020` mappings took 4.7 s instead of 0.47).
 */
export function validLayer(layer: ConvLayer | ConvLayerSpec): ConvLayer {
  return Object.isFrozen(layer) ? (layer as ConvLayer) : convLayer(layer);
}

/**
 * The shape math of a layer: output size, channels per group, MAC counts, tensor sizes and the
 * input elements that some window touches. The layer is validated first.
 */
export function convShape(layer: ConvLayer | ConvLayerSpec): ConvShape {
  const valid = validLayer(layer);
  let s = shapeCache.get(valid);
  if (!s) {
    s = computeShape(valid);
    shapeCache.set(valid, s);
  }
  return s;
}

/** The short form's keys: the layer fields each sets, and how many `x`-separated numbers it takes. */
const SHORT_KEYS: Readonly<Record<string, { readonly fields: readonly (keyof ConvLayerSpec)[]; readonly counts: readonly number[] }>> = Object.freeze({
  n: { fields: ["batch"], counts: [1] },
  c: { fields: ["inChannels"], counts: [1] },
  hw: { fields: ["inHeight", "inWidth"], counts: [1, 2] },
  h: { fields: ["inHeight"], counts: [1] },
  w: { fields: ["inWidth"], counts: [1] },
  k: { fields: ["outChannels"], counts: [1] },
  r: { fields: ["kernelHeight", "kernelWidth"], counts: [1, 2] },
  stride: { fields: ["strides"], counts: [1, 2] },
  pad: { fields: ["pads"], counts: [1, 2, 4] },
  dil: { fields: ["dilations"], counts: [1, 2] },
  g: { fields: ["groups"], counts: [1] },
  name: { fields: ["name"], counts: [1] },
});

/** `N`, `NxN`, ...: the forms a key taking `counts` numbers accepts. */
const shortFormShapes = (counts: readonly number[]): string => counts.map((c) => Array(c).fill("N").join("x")).join(" or ");

/** A short-form value as decimal integers (no sign, exponent, hex or fraction), each within the field's rule. */
function shortFormNumbers(field: string, v: string, counts: readonly number[], rule: IntRule): number[] {
  const parts = v.split("x");
  if (!counts.includes(parts.length) || parts.some((p) => !/^\d+$/.test(p))) {
    throw new ConfigError(field, v, counts.length === 1 && counts[0] === 1 ? "be a decimal integer (no sign, exponent, hex or fraction)" : `be ${shortFormShapes(counts)}, N a decimal integer`);
  }
  return parts.map((p) => checkInt(field, Number(p), rule));
}

/** Sets the spec fields of one short-form key from its numbers. */
function setShortFormFields(spec: Record<string, unknown>, key: string, n: number[]): void {
  const [a, b] = n as [number, number | undefined];
  if (key === "hw" || key === "r") {
    const [f1, f2] = SHORT_KEYS[key]!.fields;
    spec[f1!] = a;
    spec[f2!] = b ?? a;
  } else if (key === "stride" || key === "dil") spec[SHORT_KEYS[key]!.fields[0]!] = [a, b ?? a];
  else if (key === "pad") spec.pads = n.length === 4 ? n : n.length === 2 ? [a, b, a, b] : [a, a, a, a];
  else spec[SHORT_KEYS[key]!.fields[0]!] = a;
}

/**
 * Parses the short form of a layer used on the command line: comma- or space-separated
 * `key=value` pairs. Keys: `n` (batch), `c` (in channels), `h`, `w` (input size; or `hw=224`),
 * `k` (out channels), `r` (kernel, `3` or `3x5`), `stride` (`2` or `2x1`), `pad` (`1`, `1x2`
 * for h x w, or `t,l,b,r` as `1x1x2x2`), `dil` (`2` or `2x1`), `g` (groups), `name`.
 * Example: `c=3,hw=227,k=96,r=11,stride=4`. Strict: numbers are decimal integers (no exponent,
 * hex, sign or fraction) within the field's rule ({@link LAYER_RULES}); an empty pair, a key
 * given twice (or `hw` with `h` or `w`) and an empty `name=` are errors.
 * @param path how errors name the layer, followed by the key as typed: `--layer c must ...`.
 * @throws ConfigError naming the key as typed, the value and the rule.
 */
export function parseLayerShortForm(text: string, path = "layer"): ConvLayer {
  const spec: Record<string, unknown> = {};
  const setBy = new Map<string, string>();
  const trimmed = text.trim();
  const pairs = trimmed === "" ? [] : trimmed.split(/\s*,\s*|\s+/);
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (pair === "") throw new ConfigError(path, text, "not have an empty pair (two commas in a row, or a comma at an end)");
    if (eq <= 0) throw new ConfigError(path, pair, "be key=value pairs such as c=3,hw=224,k=64,r=3,pad=1");
    const typed = pair.slice(0, eq);
    const key = typed.toLowerCase();
    const v = pair.slice(eq + 1);
    const field = `${path} ${typed}`;
    const entry = SHORT_KEYS[key];
    if (!entry) throw new ConfigError(field, v, `use a key among ${Object.keys(SHORT_KEYS).join(", ")}`);
    for (const f of entry.fields) {
      const earlier = setBy.get(f);
      if (earlier !== undefined) throw new ConfigError(field, v, earlier === typed ? "be given once" : `not be given together with ${earlier} (both set ${f})`);
      setBy.set(f, typed);
    }
    if (key === "name") {
      if (v === "") throw new ConfigError(field, v, "be a non-empty name");
      spec.name = v;
      continue;
    }
    setShortFormFields(spec, key, shortFormNumbers(field, v, entry.counts, LAYER_RULES[entry.fields[0] as keyof typeof LAYER_RULES]));
  }
  try {
    return convLayer(spec as unknown as ConvLayerSpec, path);
  } catch (e) {
    throw renameShortFormError(e, path, setBy);
  }
}

/** A ConvLayer error (`<path>.kernelHeight`) renamed after the short-form key that set the field (`<path> r`). */
function renameShortFormError(e: unknown, path: string, setBy: ReadonlyMap<string, string>): unknown {
  if (!(e instanceof ConfigError) || !e.field.startsWith(`${path}.`)) return e;
  const f = /^\w+/.exec(e.field.slice(path.length + 1))?.[0] ?? "";
  const typed = setBy.get(f);
  const missing = typed === undefined && e.value === undefined;
  const key = typed ?? Object.entries(SHORT_KEYS).find(([, v]) => v.fields.includes(f as keyof ConvLayerSpec))?.[0];
  if (key === undefined) return e;
  return new ConfigError(`${path} ${key}`, e.value, missing ? "be given" : e.rule);
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
