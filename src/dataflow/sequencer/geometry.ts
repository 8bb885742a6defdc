/**
 * Geometry the Sequencer's passes share: runs of coordinates, the input rows and columns a tile
 * touches, rectangles of PEs with equal keys. Pure functions (their scratch arrays are only read
 * within one call).
 */
import type { PeRect } from "../../pe-array/index.js";

/** A run of coordinates along one axis: source and destination both arithmetic progressions. */
export interface Run {
  readonly count: number;
  /** Real input coordinate of the first element and its step. */
  readonly coord0: number;
  readonly coordStep: number;
  /** Destination index (rank in a GBuf tile, or span offset in an RF) of the first element, and its step. */
  readonly dst0: number;
  readonly dstStep: number;
  /** Source index (rank in the GBuf tile, or the real coordinate for DRAM), and its step. */
  readonly src0: number;
  readonly srcStep: number;
}

/** Splits sorted coordinates into maximal runs where coordinate, source and destination are all affine. */
export function runsOf(coords: readonly number[], src: (c: number) => number, dst: (c: number) => number): Run[] {
  const out: Run[] = [];
  let i = 0;
  while (i < coords.length) {
    const c0 = coords[i]!;
    if (i + 1 === coords.length) {
      out.push({ count: 1, coord0: c0, coordStep: 1, dst0: dst(c0), dstStep: 1, src0: src(c0), srcStep: 1 });
      break;
    }
    const c1 = coords[i + 1]!;
    const cs = c1 - c0, ss = src(c1) - src(c0), ds = dst(c1) - dst(c0);
    let j = i + 1;
    while (j + 1 < coords.length) {
      const a = coords[j]!, b = coords[j + 1]!;
      if (b - a !== cs || src(b) - src(a) !== ss || dst(b) - dst(a) !== ds) break;
      j++;
    }
    out.push({ count: j - i + 1, coord0: c0, coordStep: cs, dst0: dst(c0), dstStep: ds, src0: src(c0), srcStep: ss });
    i = j + 1;
  }
  return out;
}

/** Real input coordinates read by outputs [o0, o0+on) through taps [k0, k0+kn) on one axis, sorted. */
export function touched(inSize: number, stride: number, dil: number, pad: number, o0: number, on: number, k0: number, kn: number): number[] {
  if (on < 1 || kn < 1) return [];
  // One run of coordinates (the common case) when consecutive taps are adjacent and one output's
  // taps reach the next output's first, or when there is one tap or one output: its clipped ends.
  const taps = (kn - 1) * dil + 1;
  if ((dil === 1 || kn === 1) && (on === 1 || stride <= taps)) {
    const lo = Math.max(0, o0 * stride - pad + k0 * dil);
    const hi = Math.min(inSize - 1, (o0 + on - 1) * stride - pad + (k0 + kn - 1) * dil);
    const out: number[] = [];
    for (let i = lo; i <= hi; i++) out.push(i);
    return out;
  }
  const seen = new Uint8Array(inSize);
  for (let o = o0; o < o0 + on; o++) {
    for (let k = k0; k < k0 + kn; k++) {
      const i = o * stride - pad + k * dil;
      if (i >= 0 && i < inSize) seen[i] = 1;
    }
  }
  const out: number[] = [];
  for (let i = 0; i < inSize; i++) if (seen[i]) out.push(i);
  return out;
}

/** Scratch of {@link distinctKeys}. */
let distinctScratch = new Float64Array(0);

/** The number of PEs with a key (not NaN) when no two of them share it, else 0. */
export function distinctKeys(keys: Float64Array): number {
  if (distinctScratch.length < keys.length) distinctScratch = new Float64Array(keys.length);
  let n = 0;
  for (let p = 0; p < keys.length; p++) if (!Number.isNaN(keys[p]!)) distinctScratch[n++] = keys[p]!;
  const sorted = distinctScratch.subarray(0, n).sort();
  for (let i = 1; i < n; i++) if (sorted[i] === sorted[i - 1]) return 0;
  return n;
}

/** An open rectangle of {@link rectangles}. */
interface OpenRect {
  readonly key: number;
  readonly col0: number;
  readonly cols: number;
  readonly row0: number;
  rows: number;
  /** The last row this rectangle was extended to. */
  seen: number;
}

/** Scratch of {@link rectangles}: open rectangles by first column, of the previous and current row. */
const rectScratch = { a: [] as (OpenRect | undefined)[], b: [] as (OpenRect | undefined)[], la: [] as OpenRect[], lb: [] as OpenRect[] };

/**
 * Groups PE indices (row-major over `cols`) with equal keys into rectangles (NaN: no PE). A run
 * of equal keys in a row extends the rectangle above it when that one has the same key and the
 * same columns; rectangles are listed per key in the order they close.
 */
export function rectangles(keys: Float64Array, rows: number, cols: number): Map<number, PeRect[]> {
  const out = new Map<number, PeRect[]>();
  let any = false;
  for (let p = 0; p < keys.length && !any; p++) any = !Number.isNaN(keys[p]!);
  if (!any) return out;
  const close = (o: OpenRect) => {
    let list = out.get(o.key);
    if (!list) out.set(o.key, (list = []));
    list.push({ row0: o.row0, col0: o.col0, rows: o.rows, cols: o.cols });
  };
  // Open rectangles by first column: the runs of a row partition it, so at most one per column.
  let prev = rectScratch.a;
  let cur = rectScratch.b;
  let prevList = rectScratch.la;
  let curList = rectScratch.lb;
  prev.length = 0;
  prevList.length = 0;
  for (let r = 0; r < rows; r++) {
    cur.length = 0;
    curList.length = 0;
    let c = 0;
    while (c < cols) {
      const key = keys[r * cols + c]!;
      let e = c + 1;
      while (e < cols && keys[r * cols + e] === key) e++;
      if (!Number.isNaN(key)) {
        const up = prev[c];
        let o: OpenRect;
        if (up && up.key === key && up.cols === e - c) {
          up.rows++;
          up.seen = r;
          o = up;
        } else {
          o = { key, col0: c, cols: e - c, row0: r, rows: 1, seen: r };
        }
        cur[c] = o;
        curList.push(o);
      }
      c = e;
    }
    for (const p of prevList) if (p.seen !== r) close(p);
    [prev, cur] = [cur, prev];
    [prevList, curList] = [curList, prevList];
  }
  for (const p of prevList) close(p);
  prev.length = 0;
  cur.length = 0;
  prevList.length = 0;
  curList.length = 0;
  return out;
}
