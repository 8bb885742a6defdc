/**
 * Sliding-window reuse of a convolution, per spatial axis and for the whole window.
 *
 * Modeled: how many (output position, kernel tap) pairs read one input element of one input
 * channel, for one output channel. An input row i is read by output row o through kernel row k
 * when `o * stride - padBegin + k * dilation = i`, with `0 <= o < outSize` and
 * `0 <= k < kernel`; the count for an element (i, j) is the row count of i times the column
 * count of j, so the maximum over elements is the product of the per-axis maxima.
 *
 * - {@link maxReuse}: the true maximum R (boundaries, stride > kernel and dilation included),
 *   from a closed-form count per input coordinate (an arithmetic progression of taps inside an
 *   interval), maximized over the coordinates of the axis. This is the R of Chen, Han & Wang,
 *   "Communication Lower Bound in Convolution Accelerators" (HPCA 2020, arXiv 1911.05662), and
 *   the R the provable bound needs (docs/bounds.md, section "Reuse").
 * - the interior closed form `ceil(kernel * gcd(stride, dilation) / stride)` per axis: the
 *   maximum when the layer is large enough that some input element sees all its taps.
 * - the average reuse over the touched input elements, and the nominal `kH*kW/(sH*sW)` figure.
 *
 * Not modeled here: reuse across output channels (a factor outChannelsPerGroup, applied by the
 * bounds) and across batch (none: an input element belongs to one image).
 */
import { InvariantError } from "../core/errors.js";
import { convShape, layerAxis, type ConvLayer, type LayerAxis } from "../workload/layer.js";

/** Greatest common divisor of two positive integers. */
export function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

const floorDiv = (a: number, b: number): number => Math.floor(a / b);
const ceilDiv = (a: number, b: number): number => -Math.floor(-a / b);

/** The inverse of `a` modulo `m` (a and m coprime, m >= 1). */
function modInverse(a: number, m: number): number {
  if (m === 1) return 0;
  let [oldR, r] = [((a % m) + m) % m, m];
  let [oldS, s] = [1, 0];
  while (r !== 0) {
    const q = Math.floor(oldR / r);
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1) throw new InvariantError("bounds.reuse", `${a} has no inverse modulo ${m}`);
  return ((oldS % m) + m) % m;
}

/**
 * The number of (output, tap) pairs of the axis that read input coordinate `i` (closed form):
 * taps k with `k*dilation ≡ i + padBegin (mod stride)` form an arithmetic progression of step
 * `stride / gcd(stride, dilation)`, counted inside `[kLo, kHi]`, the taps whose output index
 * lies in `[0, outSize)`. Returns 0 for coordinates outside `[0, inSize)`.
 */
export function axisUses(axis: LayerAxis, i: number): number {
  if (i < 0 || i >= axis.inSize) return 0;
  const { outSize, kernel, stride, dilation, padBegin } = axis;
  const j = i + padBegin; // coordinate in the padded input
  const kLo = Math.max(0, ceilDiv(j - (outSize - 1) * stride, dilation));
  const kHi = Math.min(kernel - 1, floorDiv(j, dilation));
  if (kLo > kHi) return 0;
  const g = gcd(dilation, stride);
  if (j % g !== 0) return 0;
  const step = stride / g;
  const k0 = (((j / g) % step) * modInverse(dilation / g, step)) % step;
  return floorDiv(kHi - k0, step) - floorDiv(kLo - 1 - k0, step);
}

/** The true maximum reuse of one input coordinate along the axis: max over i of {@link axisUses}. */
export function axisMaxReuse(axis: LayerAxis): number {
  let best = 0;
  for (let i = 0; i < axis.inSize; i++) {
    const u = axisUses(axis, i);
    if (u > best) best = u;
  }
  return best;
}

/**
 * The interior closed form of the axis's maximum reuse, `ceil(kernel * gcd(stride, dilation) /
 * stride)`: the size of the largest residue class of tap offsets `k*dilation` modulo the stride.
 * It bounds {@link axisMaxReuse} from above and equals it when some input coordinate sees every
 * tap of its class: e.g. with `m = ceil((kernel-1)*dilation/stride)`, when `padBegin = 0`,
 * `m <= outSize - 1` and `m*stride < inSize`, input `m*stride` does.
 */
export function axisInteriorReuse(axis: LayerAxis): number {
  return ceilDiv(axis.kernel * gcd(axis.stride, axis.dilation), axis.stride);
}

/** Pairs (output, tap) of the axis whose input coordinate is real (not padding). */
function validPair(axis: LayerAxis, o: number, k: number): boolean {
  const i = o * axis.stride - axis.padBegin + k * axis.dilation;
  return i >= 0 && i < axis.inSize;
}

/** The largest number of outputs along the axis that one kernel tap serves with a real input. */
export function axisMaxUsesPerTap(axis: LayerAxis): number {
  let best = 0;
  for (let k = 0; k < axis.kernel; k++) {
    let n = 0;
    for (let o = 0; o < axis.outSize; o++) if (validPair(axis, o, k)) n++;
    if (n > best) best = n;
  }
  return best;
}

/** The largest number of real (non-padding) taps of any one output along the axis. */
export function axisMaxTapsPerOutput(axis: LayerAxis): number {
  let best = 0;
  for (let o = 0; o < axis.outSize; o++) {
    let n = 0;
    for (let k = 0; k < axis.kernel; k++) if (validPair(axis, o, k)) n++;
    if (n > best) best = n;
  }
  return best;
}

/** The kernel taps along the axis that read a real input for at least one output. */
export function axisUsedTaps(axis: LayerAxis): number {
  let n = 0;
  for (let k = 0; k < axis.kernel; k++) {
    for (let o = 0; o < axis.outSize; o++) {
      if (validPair(axis, o, k)) {
        n++;
        break;
      }
    }
  }
  return n;
}

/** The reuse figures of a layer (per input channel, per output channel). */
export interface ReuseFacts {
  /** The true maximum R = maxRows * maxCols: the most (output, tap) pairs reading one input element. */
  readonly max: number;
  /** Maximum reuse of one input row by (output row, kernel row) pairs. */
  readonly maxRows: number;
  /** Maximum reuse of one input column by (output column, kernel column) pairs. */
  readonly maxCols: number;
  /** Interior closed form, product of `ceil(k * gcd(s, d) / s)` over both axes; >= max. */
  readonly interior: number;
  /**
   * Mean reuse over the touched input elements: (validRowTaps/touchedRows) * (validColTaps/touchedCols),
   * i.e. usefulMacs / (outChannelsPerGroup * touchedInputElements); 0 when no real input is touched.
   */
  readonly average: number;
  /** The nominal figure `kH * kW / (sH * sW)` (ignores boundaries, dilation, and strides larger than the kernel). */
  readonly nominal: number;
}

/** The reuse figures of a layer; see {@link ReuseFacts}. */
export function reuse(layer: ConvLayer): ReuseFacts {
  const rows = layerAxis(layer, "h");
  const cols = layerAxis(layer, "w");
  const shape = convShape(layer);
  const maxRows = axisMaxReuse(rows);
  const maxCols = axisMaxReuse(cols);
  return Object.freeze({
    max: maxRows * maxCols,
    maxRows,
    maxCols,
    interior: axisInteriorReuse(rows) * axisInteriorReuse(cols),
    average: shape.touchedRows === 0 || shape.touchedCols === 0 ? 0 : (shape.validRowTaps / shape.touchedRows) * (shape.validColTaps / shape.touchedCols),
    nominal: (layer.kernelHeight * layer.kernelWidth) / (layer.strides[0] * layer.strides[1]),
  });
}

/** The true maximum sliding-window reuse R of a layer (see {@link ReuseFacts.max}). */
export function maxReuse(layer: ConvLayer): number {
  return reuse(layer).max;
}
