/**
 * Seeded tensors. The same seed gives the same values on every run and machine: the stream is
 * seedrandom's (v3) ARC4 generator, which is specified bit for bit, reimplemented here over a
 * typed S-box so a tensor of tens of millions of elements costs one tight loop (seedrandom's own
 * `int32()` goes through a closure and a generic array per element). A test compares the two for
 * every operand type, range and several seeds. Two ranges: `full` covers the whole type; `small`
 * draws from [-8, 7] (signed) or [0, 15] (unsigned), which keeps sums small enough to read by eye.
 */
import { ConfigError } from "../core/errors.js";
import { allocate, dtypeInfo, requireOperandType, type OperandType, type TypedArrayOf, DEFAULT_OPERAND_TYPE } from "./dtype.js";
import { convLayer, convShape, type ConvLayer, type ConvLayerSpec } from "./layer.js";

/** The range random values are drawn from. */
export type ValueRange = "full" | "small";

/**
 * A tensor of `length` elements of type `t`, filled from the generator seeded with `seed`.
 * @throws ConfigError on a bad type, length or range.
 */
export function seededTensor<T extends OperandType>(t: T, length: number, seed: string | number, range: ValueRange = "full"): TypedArrayOf<T> {
  const draw = drawing(t, length, seed, range);
  const out = allocate(t, length);
  draw.fill(out);
  return out;
}

/**
 * {@link seededTensor} of `groups * rows * cols * item` elements (the same values, drawn in the same
 * order), stored with each group's `rows` x `cols` matrix of `item`-element items transposed:
 * the element drawn at [g][r][c][e] lies at [g][c][r][e]. For OIHW weights (`rows` the output
 * channels of a group, `cols` its input channels, `item` the kernel's R x S) that is IOHW, the
 * order a dataflow may keep them in DRAM (sequencer/layout.ts), made without the OIHW tensor: the
 * values are drawn a block of rows at a time.
 * @throws ConfigError on a bad type, count or range.
 */
export function seededTensorTransposed<T extends OperandType>(t: T, shape: { readonly groups: number; readonly rows: number; readonly cols: number; readonly item: number }, seed: string | number, range: ValueRange = "full"): TypedArrayOf<T> {
  const { groups, rows, cols, item } = shape;
  for (const [field, v] of [["groups", groups], ["rows", rows], ["cols", cols], ["item", item]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new ConfigError(`shape.${field}`, v, "be a positive integer");
  }
  const draw = drawing(t, groups * rows * cols * item, seed, range);
  const out = allocate(t, groups * rows * cols * item);
  // A block of rows whole (each column's items of a block land side by side: 64 one-byte items
  // fill a cache line of the output).
  const B = Math.min(rows, 64);
  const rowLen = cols * item;
  const block = allocate(t, B * rowLen);
  for (let g = 0; g < groups; g++) {
    for (let r0 = 0; r0 < rows; r0 += B) {
      const nr = Math.min(B, rows - r0);
      const part = nr === B ? block : block.subarray(0, nr * rowLen);
      draw.fill(part as TypedArrayOf<T>);
      if (item === 1) {
        // (one element per item, as FC weights: a plain strided walk, 0.6x the general loop's time)
        for (let c = 0; c < cols; c++) {
          let o = (g * cols + c) * rows + r0;
          for (let r = 0, b = c; r < nr; r++, b += cols) out[o++] = block[b]!;
        }
        continue;
      }
      for (let c = 0; c < cols; c++) {
        let o = ((g * cols + c) * rows + r0) * item;
        for (let r = 0; r < nr; r++) {
          const b = (r * cols + c) * item;
          for (let e = 0; e < item; e++) out[o++] = block[b + e]!;
        }
      }
    }
  }
  return out;
}

/** The generator's state: the S-box and its two indices. */
interface Arc4 {
  readonly S: Uint8Array;
  i: number;
  j: number;
}

/**
 * Validates a request for `length` elements of type `t` and sets up its stream: `fill` draws
 * the next elements into an array (one call after another continue the stream).
 */
function drawing(t: OperandType, length: number, seed: string | number, range: ValueRange): { fill(out: { [n: number]: number; readonly length: number }): void } {
  requireOperandType("type", t);
  if (!Number.isSafeInteger(length) || length < 0) throw new ConfigError("length", length, "be a non-negative integer");
  if (range !== "full" && range !== "small") throw new ConfigError("range", range, 'be "full" or "small"');
  const info = dtypeInfo(t);
  const lo = range === "full" ? info.min : info.signed ? -8 : 0;
  const hi = range === "full" ? info.max : info.signed ? 7 : 15;
  const span = hi - lo + 1;
  // int32() is uniform over 2^32 values; span is a power of two for every range above, so taking
  // the low bits is unbiased (and equals (x >>> 0) % span).
  const mask = span - 1;
  const { S, j } = arc4State(String(seed));
  const st: Arc4 = { S, i: 0, j };
  // Only the low bytes of each int32() survive the mask: the last for a span of at most 256, the
  // last two for at most 65,536. The steps that make the others still permute the state, but
  // their output byte is not looked up.
  const skip = span <= 256 ? 3 : span <= 65536 ? 2 : 0;
  return { fill: (out) => (skip === 3 ? fillBytes(out, st, lo, mask) : fillWords(out, st, lo, mask, skip)) };
}

/** {@link seededTensor}'s general loop: `skip` leading bytes of each int32() not looked up. */
function fillWords(out: { [n: number]: number; readonly length: number }, st: Arc4, lo: number, mask: number, skip: number): void {
  const S = st.S;
  let i = st.i;
  let j = st.j;
  for (let n = 0; n < out.length; n++) {
    // seedrandom's int32(): four output bytes, the first most significant, then |0. One ARC4
    // step: i += 1; j += S[i]; swap S[i], S[j]; output S[S[i] + S[j]] (all mod 256).
    for (let b = 0; b < skip; b++) {
      i = (i + 1) & 255;
      const ti = S[i]!;
      j = (j + ti) & 255;
      S[i] = S[j]!;
      S[j] = ti;
    }
    let x = 0;
    for (let b = skip; b < 4; b++) {
      i = (i + 1) & 255;
      const ti = S[i]!;
      j = (j + ti) & 255;
      const tj = S[j]!;
      S[i] = tj;
      S[j] = ti;
      x = (x << 8) | S[(ti + tj) & 255]!;
    }
    out[n] = lo + (x & mask);
  }
  st.i = i;
  st.j = j;
}

/**
 * {@link seededTensor}'s loop for a span of at most 256 (int8, uint8, the small ranges): four
 * ARC4 steps per element, the last one's byte kept, written out step by step (measured 0.7x the
 * time of the general loop on 37.7 M elements, AlexNet fc6's weights; a loop over the three
 * skipped steps instead of their three copies took 1.3x as long, so the copies stay).
 */
function fillBytes(out: { [n: number]: number; readonly length: number }, st: Arc4, lo: number, mask: number): void {
  const S = st.S;
  let i = st.i;
  let j = st.j;
  for (let n = 0; n < out.length; n++) {
    let ti = 0;
    i = (i + 1) & 255;
    ti = S[i]!;
    j = (j + ti) & 255;
    S[i] = S[j]!;
    S[j] = ti;
    i = (i + 1) & 255;
    ti = S[i]!;
    j = (j + ti) & 255;
    S[i] = S[j]!;
    S[j] = ti;
    i = (i + 1) & 255;
    ti = S[i]!;
    j = (j + ti) & 255;
    S[i] = S[j]!;
    S[j] = ti;
    i = (i + 1) & 255;
    ti = S[i]!;
    j = (j + ti) & 255;
    const tj = S[j]!;
    S[i] = tj;
    S[j] = ti;
    out[n] = lo + (S[(ti + tj) & 255]! & mask);
  }
  st.i = i;
  st.j = j;
}

/**
 * The ARC4 state seedrandom(seed) draws its first output from: the key (the seed string's char
 * codes mixed into at most 256 bytes by seedrandom's `mixkey`), the standard key schedule, then
 * 256 output bytes dropped (RC4-drop[256], seedrandom's `g(256)` at construction). The drop
 * steps `i` 256 times, so `i` is 0 again; `j` is returned.
 */
function arc4State(seed: string): { readonly S: Uint8Array; readonly j: number } {
  // mixkey: key[n mod 256] = ((smear ^= key[n mod 256] * 19) + charCode(n)) mod 256, where a key
  // byte not yet set reads as 0.
  const key = new Uint8Array(Math.min(seed.length, 256));
  let smear = 0;
  for (let n = 0; n < seed.length; n++) {
    const k = n & 255;
    smear ^= key[k]! * 19;
    key[k] = (smear + seed.charCodeAt(n)) & 255;
  }
  const keylen = key.length;
  const S = new Uint8Array(256);
  for (let n = 0; n < 256; n++) S[n] = n;
  // Key schedule (an empty key is treated as [0]).
  let j = 0;
  for (let n = 0; n < 256; n++) {
    const t = S[n]!;
    j = (j + (keylen === 0 ? 0 : key[n % keylen]!) + t) & 255;
    S[n] = S[j]!;
    S[j] = t;
  }
  // RC4-drop[256].
  j = 0;
  for (let i = 1; i <= 256; i++) {
    const ti = S[i & 255]!;
    j = (j + ti) & 255;
    S[i & 255] = S[j]!;
    S[j] = ti;
  }
  return { S, j };
}

/** Seeded input and weight tensors for a layer. */
export interface LayerTensors<X extends OperandType, Wt extends OperandType> {
  readonly x: TypedArrayOf<X>;
  readonly w: TypedArrayOf<Wt>;
}

/**
 * Seeded input and weight tensors for `layer`, drawn from independent streams derived from `seed`.
 * `weightOrder` (default `OIHW`): `IOHW` gives the same weights stored input channel major per
 * group ({@link seededTensorTransposed}), the OIHW tensor never made.
 * @throws ConfigError on a bad layer, type, range or weight order.
 */
export function layerTensors<X extends OperandType = "int8", Wt extends OperandType = "int8">(
  layer: ConvLayer | ConvLayerSpec,
  options: { seed?: string | number; xType?: X; wType?: Wt; range?: ValueRange; weightOrder?: "OIHW" | "IOHW" } = {},
): LayerTensors<X, Wt> {
  const L = convLayer(layer);
  const s = convShape(L);
  const seed = options.seed ?? 1;
  const xType = (options.xType ?? DEFAULT_OPERAND_TYPE) as X;
  const wType = (options.wType ?? DEFAULT_OPERAND_TYPE) as Wt;
  const order = options.weightOrder ?? "OIHW";
  if (order !== "OIHW" && order !== "IOHW") throw new ConfigError("weightOrder", order, 'be "OIHW" or "IOHW"');
  const x = seededTensor(xType, s.inputElements, `${seed}/x`, options.range);
  if (order === "OIHW") return { x, w: seededTensor(wType, s.weightElements, `${seed}/w`, options.range) };
  const shape = { groups: L.groups, rows: s.outChannelsPerGroup, cols: s.inChannelsPerGroup, item: L.kernelHeight * L.kernelWidth };
  return { x, w: seededTensorTransposed(wType, shape, `${seed}/w`, options.range) };
}
