/**
 * Strided boxes: how every bulk transfer names the words it touches.
 *
 * Modeled: a box is a rectangular set of coordinates (`shape`, outermost first) mapped to flat
 * word indices by an affine map (`offset + sum(coord[d] * strides[d])`). A tile of an NCHW tensor,
 * a slice of a register-file partition and a bank region of the global buffer are all boxes.
 * Payloads of transfers are dense: element `i` of a payload is the box's `i`-th coordinate in
 * row-major order (last dimension fastest).
 *
 * Timing: none here; components derive their timing from the box (bursts, bank words, words).
 * Layout-agnostic: this module knows nothing about convolutions (DESIGN.md, src/core).
 * Performance: copies first normalize the box (unit dimensions dropped, dimensions whose strides
 * chain merged), so a column of a matrix is one strided run rather than many one-word rows; 1-D
 * and 2-D boxes take direct loops, higher ranks an odometer over the outer dimensions. Each run is
 * a tight indexed loop (or `TypedArray.set` when it is contiguous), so the cost is one pass over
 * the elements with no per-element allocation.
 */
import { InvariantError } from "./errors.js";
import { formatTag, tagOf, TAG_SPACE_STRIDE, type TagExpect } from "./tags.js";

/** A rectangular, strided set of flat word indices. */
export interface Box {
  /** Extent per dimension, outermost first; every extent >= 1. */
  readonly shape: readonly number[];
  /** Flat index of coordinate (0, ..., 0). */
  readonly offset: number;
  /** Flat-index stride per dimension (may be 0 or negative). */
  readonly strides: readonly number[];
}

/** A typed array of integer words as components store them. */
export type WordArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array;

/** Real values in transit: dense, in box order, with their checked-mode tags. */
export interface Payload {
  /** The values; the array's type is the element type. */
  readonly data: WordArray;
  /** One tag per value (checked mode); absent in unchecked runs. */
  readonly tags?: Float64Array;
}

/** A contiguous box of `n` words starting at `offset`. */
export function span(offset: number, n: number): Box {
  return { shape: [n], offset, strides: [1] };
}

/** Number of coordinates in a box of this shape. */
export function boxSize(shape: readonly number[]): number {
  // (indexed: an iterator over the shapes' several array kinds was 3% of a replayed run)
  let n = 1;
  for (let d = 0; d < shape.length; d++) n *= shape[d]!;
  return n;
}

/** Smallest and largest flat index a box touches. */
export function boxExtent(box: Box): { readonly min: number; readonly max: number } {
  let min = box.offset;
  let max = box.offset;
  for (let d = 0; d < box.shape.length; d++) {
    const reach = (box.shape[d]! - 1) * box.strides[d]!;
    if (reach < 0) min += reach;
    else max += reach;
  }
  return { min, max };
}

/** An access's name in a box error: `what`, or `what of of`. */
function boxLabel(what: string, of: string | undefined): string {
  return of === undefined ? what : `${what} of ${of}`;
}

/**
 * Checks that a box is well formed and lies within `[0, length)`, allocating nothing unless it
 * throws (it runs on every access).
 * @param what names the access in the error, e.g. `write`; `of` adds what it touches (` of input`).
 * @throws InvariantError naming `component` and `what` otherwise (a driver bug).
 */
export function checkBox(component: string, what: string, box: Box, length: number, of?: string): number {
  const r = box.shape.length;
  if (r === 0 || box.strides.length !== r) {
    throw new InvariantError(component, `${boxLabel(what, of)}: a box needs rank >= 1 and one stride per dimension; got shape [${box.shape}] strides [${box.strides}]`);
  }
  let min = box.offset;
  let max = box.offset;
  let size = 1;
  for (let d = 0; d < r; d++) {
    const e = box.shape[d]!;
    const st = box.strides[d]!;
    if (!Number.isInteger(e) || e < 1 || !Number.isInteger(st)) {
      throw new InvariantError(component, `${boxLabel(what, of)}: box extents must be positive integers and strides integers; got shape [${box.shape}] strides [${box.strides}]`);
    }
    const step = (e - 1) * st;
    if (step < 0) min += step;
    else max += step;
    size *= e;
  }
  if (!Number.isInteger(box.offset) || min < 0 || max >= length) {
    throw new InvariantError(component, `${boxLabel(what, of)}: box touches [${min}, ${max}] outside [0, ${length - 1}]`);
  }
  return size;
}

/**
 * Calls `row(start, length, stride)` for each innermost row of the box, in order.
 * Used where per-row work (bursts, bank words) is needed rather than per element.
 */
export function forEachRow(box: Box, row: (start: number, length: number, stride: number) => void): void {
  const r = box.shape.length;
  const inner = box.shape[r - 1]!;
  const innerStride = box.strides[r - 1]!;
  const starts = new Float64Array(boxSize(box.shape) / inner);
  rowStarts(box, starts);
  for (let o = 0; o < starts.length; o++) row(starts[o]!, inner, innerStride);
}

/**
 * A box compiled for repeated copies at different bases: the start of every innermost row
 * (offset included), the row length and stride. See {@link boxRows}.
 */
export interface BoxRows {
  readonly starts: Int32Array;
  readonly inner: number;
  readonly stride: number;
  /** Words in the box. */
  readonly size: number;
}

const compiledRows = new WeakMap<Box, BoxRows>();

/**
 * The rows of `box`, normalized (see {@link normalizeBox}) so rows are as long as possible.
 * Cached per box object (boxes are immutable by convention), small ones too: the Sequencer's
 * replayed plans send the same boxes again and again, and compiling the small ones on every call
 * was a fifth of a VGG-16 layer's allocations.
 */
export function boxRows(box: Box): BoxRows {
  let rows = compiledRows.get(box);
  if (!rows) {
    rows = compileRows(box, boxSize(box.shape));
    compiledRows.set(box, rows);
  }
  return rows;
}

function compileRows(box: Box, size: number): BoxRows {
  const b = normalizeBox(box);
  const r = b.shape.length;
  const inner = b.shape[r - 1]!;
  const starts = new Int32Array(size / inner);
  rowStarts(b, starts);
  return { starts, inner, stride: b.strides[r - 1]!, size };
}

/**
 * The same words in the same order with as few dimensions as possible: extent-1 dimensions are
 * dropped, and a dimension whose stride is the next inner dimension's extent times its stride is
 * merged into it. A one-word box becomes `[1]` with stride 1. Returns `box` itself when there is
 * nothing to drop or merge.
 */
export function normalizeBox(box: Box): Box {
  const r = box.shape.length;
  let canon = true;
  for (let d = 0; d < r && canon; d++) {
    if (box.shape[d] === 1 || (d > 0 && box.strides[d - 1] === box.shape[d]! * box.strides[d]!)) canon = false;
  }
  if (canon) return box;
  const shape = new Array<number>(r);
  const strides = new Array<number>(r);
  const n = normalizeInto(box, shape, strides);
  return { shape: shape.slice(0, n).reverse(), offset: box.offset, strides: strides.slice(0, n).reverse() };
}

/**
 * {@link normalizeBox}'s dimensions, innermost first, into `shape` and `strides` (room for the
 * box's rank); returns how many (a one-word box: one, `[1]` with stride 1).
 */
function normalizeInto(box: Box, shape: { [i: number]: number }, strides: { [i: number]: number }): number {
  let n = 0;
  for (let d = box.shape.length - 1; d >= 0; d--) {
    const e = box.shape[d]!;
    if (e === 1) continue;
    const st = box.strides[d]!;
    if (n > 0 && st === shape[n - 1]! * strides[n - 1]!) shape[n - 1] = shape[n - 1]! * e;
    else {
      shape[n] = e;
      strides[n] = st;
      n++;
    }
  }
  if (n > 0) return n;
  shape[0] = 1;
  strides[0] = 1;
  return 1;
}

/** Writes the start of every innermost row of box `b`, in order, into `out` (one slot per row). */
function rowStarts(b: Box, out: Int32Array | Float64Array): void {
  const r = b.shape.length;
  if (r <= 2) {
    const step = r === 2 ? b.strides[0]! : 0;
    for (let o = 0, base = b.offset; o < out.length; o++, base += step) out[o] = base;
    return;
  }
  const idx = new Int32Array(r);
  let base = b.offset;
  for (let o = 0; o < out.length; o++) {
    out[o] = base;
    for (let k = r - 2; k >= 0; k--) {
      const st = b.strides[k]!;
      idx[k]!++;
      base += st;
      if (idx[k]! < b.shape[k]!) break;
      base -= st * b.shape[k]!;
      idx[k] = 0;
    }
  }
}

/** {@link scatter} of a compiled box shifted by `base`. */
export function scatterRows(src: WordArray | Float64Array, srcOffset: number, dst: WordArray | Float64Array, rows: BoxRows, base: number): void {
  const { starts, inner, stride } = rows;
  let s = srcOffset;
  for (let r = 0; r < starts.length; r++, s += inner) writeRun(src, s, dst, base + starts[r]!, inner, stride);
}

/** {@link gather} of a compiled box shifted by `base`. */
export function gatherRows(src: WordArray | Float64Array, rows: BoxRows, base: number, dst: WordArray | Float64Array, dstOffset: number): void {
  const { starts, inner, stride } = rows;
  let d = dstOffset;
  for (let r = 0; r < starts.length; r++, d += inner) readRun(src, base + starts[r]!, inner, stride, dst, d);
}

/** Runs at least this long and contiguous are copied with `TypedArray.set` (or filled with `fill`) rather than a loop. */
export const SET_MIN = 48;

/** Copies `n` words of `src` from `start` by `stride` into `dst` densely from `d`. */
function readRun(src: WordArray | Float64Array, start: number, n: number, stride: number, dst: WordArray | Float64Array, d: number): void {
  if (stride === 1 && n >= SET_MIN) dst.set(src.subarray(start, start + n), d);
  else for (let i = 0, s = start; i < n; i++, s += stride) dst[d++] = src[s]!;
}

/** Copies `n` words of `src` densely from `s` into `dst` from `start` by `stride`. */
function writeRun(src: WordArray | Float64Array, s: number, dst: WordArray | Float64Array, start: number, n: number, stride: number): void {
  if (stride === 1 && n >= SET_MIN) dst.set(src.subarray(s, s + n), start);
  else for (let i = 0, t = start; i < n; i++, t += stride) dst[t] = src[s++]!;
}

/**
 * {@link copyBox}'s scratch (it never runs nested): the normalized box's shape and strides, and
 * the odometer over its outer dimensions. Boxes of higher rank get arrays of their own.
 */
const SCRATCH_RANK = 16;
const SHAPE = new Float64Array(SCRATCH_RANK);
const STRIDES = new Float64Array(SCRATCH_RANK);
const ODOMETER = new Int32Array(SCRATCH_RANK);

/**
 * Copies between the box's words of `words` and `dense` (from `at`, in box order): into the box
 * when `intoBox`, out of it otherwise. Returns the count. The box is normalized as
 * {@link normalizeBox} does (unit dimensions dropped, contiguous ones merged, so runs are as long
 * as they can be), into scratch arrays rather than a new box: the many small boxes of a run
 * allocate nothing here. Rank 1 or 2 is walked directly; a higher rank row by row with an
 * odometer over the outer dimensions.
 */
function copyBox(words: WordArray | Float64Array, box: Box, dense: WordArray | Float64Array, at: number, intoBox: boolean): number {
  const full = box.shape.length;
  const big = full > SCRATCH_RANK;
  const shape = big ? new Float64Array(full) : SHAPE;
  const strides = big ? new Float64Array(full) : STRIDES;
  const r = normalizeInto(box, shape, strides);
  // shape[0] is now the innermost dimension, shape[r - 1] the outermost.
  const inner = shape[0]!;
  const is = strides[0]!;
  if (r <= 2) {
    const rows = r === 1 ? 1 : shape[1]!;
    const step = r === 2 ? strides[1]! : 0;
    for (let o = 0, base = box.offset, d = at; o < rows; o++, base += step, d += inner) {
      if (intoBox) writeRun(dense, d, words, base, inner, is);
      else readRun(words, base, inner, is, dense, d);
    }
    return rows * inner;
  }
  let rows = 1;
  for (let k = 1; k < r; k++) rows *= shape[k]!;
  const idx = big ? new Int32Array(full) : ODOMETER.fill(0, 0, r);
  for (let o = 0, base = box.offset, d = at; o < rows; o++, d += inner) {
    if (intoBox) writeRun(dense, d, words, base, inner, is);
    else readRun(words, base, inner, is, dense, d);
    for (let k = 1; k < r; k++) {
      const st = strides[k]!;
      base += st;
      if (++idx[k]! < shape[k]!) break;
      base -= st * shape[k]!;
      idx[k] = 0;
    }
  }
  return rows * inner;
}

/** Copies the box's words of `src` into `dst` densely from `dstOffset`. Returns the count. */
export function gather(src: WordArray | Float64Array, box: Box, dst: WordArray | Float64Array, dstOffset = 0): number {
  return copyBox(src, box, dst, dstOffset, false);
}

/** Copies `src` densely from `srcOffset` into the box's words of `dst`. Returns the count. */
export function scatter(src: WordArray | Float64Array, srcOffset: number, dst: WordArray | Float64Array, box: Box): number {
  return copyBox(dst, box, src, srcOffset, true);
}

interface MemoEntry<V> {
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly value: V;
}

/** Whether two lists of numbers (shapes, strides, signatures) are equal, element by element. */
export function sameNumbers(x: ArrayLike<number>, y: ArrayLike<number>): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/**
 * A bounded memo of values that depend only on a box's shape and strides and up to three
 * integers (e.g. where the box starts within a burst, and the element size). Keys are compared
 * exactly and found by a numeric hash, so a lookup builds no string. The memo is emptied when it
 * would exceed `capacity` entries.
 */
export class BoxMemo<V> {
  private readonly buckets = new Map<number, MemoEntry<V>[]>();
  private entries = 0;

  /** @param capacity entries kept before the memo is emptied. */
  constructor(readonly capacity = 4096) {}

  private static hash(a: number, b: number, c: number, box: Box): number {
    let h = Math.imul(a ^ 0x2545f491, 0x9e3779b1);
    h = Math.imul(h ^ b, 0x85ebca6b);
    h = Math.imul(h ^ c, 0xc2b2ae35);
    for (let d = 0; d < box.shape.length; d++) {
      h = Math.imul(h ^ box.shape[d]!, 0x9e3779b1);
      h = Math.imul(h ^ box.strides[d]!, 0x85ebca6b);
    }
    return h ^ (h >>> 15);
  }

  /** The value stored for this key, or undefined. */
  get(a: number, b: number, c: number, box: Box): V | undefined {
    const bucket = this.buckets.get(BoxMemo.hash(a, b, c, box));
    if (!bucket) return undefined;
    for (const e of bucket) {
      if (e.a === a && e.b === b && e.c === c && sameNumbers(e.shape, box.shape) && sameNumbers(e.strides, box.strides)) return e.value;
    }
    return undefined;
  }

  /** Stores `value` for this key (which must not be stored already). */
  set(a: number, b: number, c: number, box: Box, value: V): void {
    if (this.entries >= this.capacity) {
      this.buckets.clear();
      this.entries = 0;
    }
    const h = BoxMemo.hash(a, b, c, box);
    const entry: MemoEntry<V> = { a, b, c, shape: box.shape.slice(), strides: box.strides.slice(), value };
    const bucket = this.buckets.get(h);
    if (bucket) bucket.push(entry);
    else this.buckets.set(h, [entry]);
    this.entries++;
  }
}

/** Sets every word of the box to `value`. */
export function fillBox(dst: WordArray | Float64Array, box: Box, value: number): void {
  fillRows(dst, compileRows(box, boxSize(box.shape)), 0, value);
}

/** {@link fillBox} of a compiled box shifted by `base`. */
export function fillRows(dst: WordArray | Float64Array, rows: BoxRows, base: number, value: number): void {
  const { starts, inner, stride } = rows;
  for (let r = 0; r < starts.length; r++) {
    const start = base + starts[r]!;
    if (stride === 1 && inner >= SET_MIN) dst.fill(value, start, start + inner);
    else for (let i = 0, t = start; i < inner; i++, t += stride) dst[t] = value;
  }
}

/** Whether two boxes have the same shape and strides (they differ at most by their offset). */
export function sameLayout(a: Box, b: Box): boolean {
  return sameNumbers(a.shape, b.shape) && sameNumbers(a.strides, b.strides);
}

/**
 * Writes the tags that `expect` describes into the box's words of `dst` (used when a component
 * creates words itself: loads, fills, generated padding).
 */
export function writeExpectedTags(dst: Float64Array, box: Box, expect: TagExpect): void {
  walkWithExpect(box, expect, (addr, tag) => {
    dst[addr] = tag;
  });
}

/**
 * Checked mode: verifies that every word of the box holds the tag `expect` describes.
 * @param component the reading component, for the error.
 * @param describeAddress formats a flat index as an address of that component.
 * @throws InvariantError at the first mismatch, with the address and both tags.
 */
export function checkTags(
  component: string,
  tags: Float64Array,
  box: Box,
  expect: TagExpect,
  describeAddress: (flat: number) => string,
  spaceNames?: ReadonlyMap<number, string>,
): void {
  walkWithExpect(box, expect, (addr, want) => {
    const got = tags[addr]!;
    if (got !== want) {
      throw new InvariantError(
        component,
        `checked read of ${describeAddress(addr)} expected ${formatTag(want, spaceNames)} but the word holds ${formatTag(got, spaceNames)}`,
      );
    }
  });
}

function walkWithExpect(box: Box, expect: TagExpect, visit: (addr: number, tag: number) => void): void {
  const r = box.shape.length;
  if (expect.strides.length !== r) {
    throw new InvariantError("tags", `a tag expectation needs one stride per box dimension; got ${expect.strides.length} for rank ${r}`);
  }
  const ext = boxExtent({ shape: box.shape, offset: expect.offset, strides: expect.strides });
  if (ext.min < 0 || ext.max >= TAG_SPACE_STRIDE - 1) {
    throw new InvariantError("tags", `expected tag indices [${ext.min}, ${ext.max}] leave the tag space`);
  }
  const first = tagOf(expect.space, expect.offset);
  const inner = box.shape[r - 1]!;
  const is = box.strides[r - 1]!;
  const ts = expect.strides[r - 1]!;
  const outer = boxSize(box.shape) / inner;
  const idx = new Array<number>(r).fill(0);
  let base = box.offset;
  let tbase = first;
  for (let o = 0; o < outer; o++) {
    for (let i = 0, a = base, t = tbase; i < inner; i++, a += is, t += ts) visit(a, t);
    for (let k = r - 2; k >= 0; k--) {
      idx[k]!++;
      base += box.strides[k]!;
      tbase += expect.strides[k]!;
      if (idx[k]! < box.shape[k]!) break;
      base -= box.strides[k]! * box.shape[k]!;
      tbase -= expect.strides[k]! * box.shape[k]!;
      idx[k] = 0;
    }
  }
}

/** {@link rowsAscending}'s answers by compiled box (boxes are compiled once and reused). */
const ascendingRows = new WeakMap<BoxRows, boolean>();

/** Whether a compiled box's rows (contiguous, `inner` words each) are in increasing order and disjoint. */
export function rowsAscending(rows: BoxRows): boolean {
  let a = ascendingRows.get(rows);
  if (a === undefined) {
    const { starts, inner } = rows;
    a = true;
    for (let r = 1; r < starts.length && a; r++) if (starts[r]! < starts[r - 1]! + inner) a = false;
    ascendingRows.set(rows, a);
  }
  return a;
}

/**
 * Moves every row (contiguous, ascending, disjoint) of a compiled box, shifted by `base`, by
 * `delta` words in place: a memmove, rows and words taken in the order that reads every word
 * before it is overwritten (last first when moving up, first first when moving down).
 */
export function moveRows(a: Int32Array | Float64Array, rows: BoxRows, base: number, delta: number): void {
  const { starts, inner } = rows;
  if (delta === 0) return;
  if (delta > 0) {
    for (let r = starts.length - 1; r >= 0; r--) {
      const s = base + starts[r]!;
      for (let k = inner - 1; k >= 0; k--) a[s + k + delta] = a[s + k]!;
    }
  } else {
    for (let r = 0; r < starts.length; r++) {
      const s = base + starts[r]!;
      for (let k = 0; k < inner; k++) a[s + k + delta] = a[s + k]!;
    }
  }
}
