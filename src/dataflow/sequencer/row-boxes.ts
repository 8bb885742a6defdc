/**
 * Rows of PEs split into two-level boxes: for a sequence of rows whose tiles start at source
 * addresses `src[i]` and tag indices `tag[i]`, runs of consecutive rows where both are affine in
 * (outer, inner): row `from + m * inner + t` at `src[from] + m * srcOuter + t * srcInner` (tags
 * alike). A PE row that stands for several spatial loops (C x R x S on the rows of a systolic
 * array, or a fused group) gives such sequences: affine in each loop, not across them, so a
 * rectangle's sources or tags are not affine in the row alone, and one box per row (or per PE)
 * was gathered instead of a few.
 */

/** One run of rows (see the file header). */
export interface RowBox {
  /** The first row (relative to the sequence). */
  readonly from: number;
  readonly outer: number;
  readonly inner: number;
  readonly srcOuter: number;
  readonly srcInner: number;
  readonly tagOuter: number;
  readonly tagInner: number;
}

/** The last row of the run from row `a`: the rows on which the steps (src and tag) stay those from `a` to `a + 1`. */
function runEnd(src: ArrayLike<number>, tag: ArrayLike<number>, a: number): number {
  const n = src.length;
  if (a + 1 >= n) return a;
  const ds = src[a + 1]! - src[a]!;
  const dt = tag[a + 1]! - tag[a]!;
  let e = a + 1;
  while (e + 1 < n && src[e + 1]! - src[e]! === ds && tag[e + 1]! - tag[e]! === dt) e++;
  return e;
}

/**
 * The rows split into two-level boxes, greedily from the first: a run of rows with one step is
 * a box's inner level, and the following runs of the same length and step, each one fixed step
 * from the last, its outer level. A row whose run is shorter than the next row's (a sequence
 * that starts within a run) is a box of its own, so the boxes after it are aligned.
 */
export function rowBoxes(src: ArrayLike<number>, tag: ArrayLike<number>): RowBox[] {
  const n = src.length;
  const out: RowBox[] = [];
  let a = 0;
  while (a < n) {
    const e = runEnd(src, tag, a);
    if (e > a && e + 1 < n && runEnd(src, tag, a + 1) > e) {
      out.push({ from: a, outer: 1, inner: 1, srcOuter: 0, srcInner: 0, tagOuter: 0, tagInner: 0 });
      a++;
      continue;
    }
    const inner = e - a + 1;
    const srcInner = inner > 1 ? src[a + 1]! - src[a]! : 0;
    const tagInner = inner > 1 ? tag[a + 1]! - tag[a]! : 0;
    const b = a + inner;
    const srcOuter = b < n ? src[b]! - src[a]! : 0;
    const tagOuter = b < n ? tag[b]! - tag[a]! : 0;
    let outer = 1;
    for (;;) {
      const r = a + outer * inner;
      if (r + inner > n) break;
      let ok = true;
      for (let t = 0; t < inner && ok; t++) {
        ok = src[r + t] === src[a]! + outer * srcOuter + t * srcInner && tag[r + t] === tag[a]! + outer * tagOuter + t * tagInner;
      }
      if (!ok) break;
      outer++;
    }
    out.push({ from: a, outer, inner, srcOuter: outer > 1 ? srcOuter : 0, srcInner, tagOuter: outer > 1 ? tagOuter : 0, tagInner });
    a += outer * inner;
  }
  return out;
}
