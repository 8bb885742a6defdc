/**
 * Helpers for the requests the passes build: merging commands, comparing tiles' structures,
 * merging tiles on a grid into one request, and transposing an interleaved payload.
 */
import { gather, InvariantError, type Payload, type WordArray } from "../../core/index.js";
import type { PeArrayCommand, PeFillCommand, PeSlideCommand } from "../../pe-array/index.js";
import { allocatePayload, dtypeOfArray } from "../../workload/dtype.js";
import type { OutTile, Piece, Req } from "./types.js";

/** Replaces a list of PE-array fills (or slides) by one command that carries the others alongside. */
export function mergeCommands(list: Req[], op: "fill" | "slide"): void {
  if (list.length < 2) return;
  const msgs = list.map((q) => {
    if (q.to !== "pe" || q.msg.op !== op) throw new InvariantError("sequencer", `expected only ${op} commands to merge`);
    return q.msg;
  });
  const [first, ...rest] = msgs as (PeFillCommand | PeSlideCommand)[];
  list.length = 0;
  list.push({ to: "pe", msg: { ...first!, alongside: rest } as PeArrayCommand });
}

/** A hash of the structure of a tile's pieces: shapes, strides and destinations, not addresses. */
export function structureHash(pieces: readonly Piece[]): number {
  let h = 0x811c9dc5;
  const mix = (v: number) => {
    h = Math.imul(h ^ (v | 0), 16777619);
    h = Math.imul(h ^ ((v / 4294967296) | 0), 16777619);
  };
  const list = (a: readonly number[]) => {
    mix(a.length);
    for (const v of a) mix(v);
  };
  for (const p of pieces) {
    list(p.shape);
    list(p.srcStrides);
    list(p.tagStrides);
    mix(p.dst.offset);
    list(p.dst.strides);
  }
  return h;
}


/**
 * Tiles of one shape whose memory offsets, sorted, form a full grid of up to 4 dimensions (and
 * whose tag offsets follow the same grid), as one tile: the grid's dimensions outside the tile's,
 * the words and tags concatenated in grid order. Undefined when they do not.
 */
export function mergeGrid(g: readonly OutTile[]): OutTile | undefined {
  const sorted = [...g].sort((a, b) => a.box.offset - b.box.offset);
  const o = sorted.map((t) => t.box.offset);
  const y = sorted.map((t) => t.expect.offset);
  const n = o.length;
  const dims: { n: number; s: number; t: number }[] = []; // innermost first
  let size = 1;
  while (size < n) {
    if (dims.length === 4 || n % size !== 0) return undefined;
    const step = o[size]! - o[0]!;
    const tstep = y[size]! - y[0]!;
    let count = 1;
    while ((count + 1) * size <= n && o[count * size] === o[0]! + count * step && y[count * size] === y[0]! + count * tstep) count++;
    if (count === 1 || n % (size * count) !== 0) return undefined;
    dims.push({ n: count, s: step, t: tstep });
    size *= count;
  }
  // Verify every member sits at its grid point (row-major, innermost first above).
  for (let i = 0; i < n; i++) {
    let rest = i;
    let oo = o[0]!;
    let yy = y[0]!;
    for (const d of dims) {
      const k = rest % d.n;
      rest = Math.floor(rest / d.n);
      oo += k * d.s;
      yy += k * d.t;
    }
    if (o[i] !== oo || y[i] !== yy) return undefined;
  }
  const words = sorted[0]!.data.length;
  const data = new Int32Array(n * words);
  sorted.forEach((t, i) => data.set(t.data, i * words));
  let tags: Float64Array | undefined;
  if (sorted[0]!.tags) {
    tags = new Float64Array(n * words);
    sorted.forEach((t, i) => tags!.set(t.tags!, i * words));
  }
  const outer = [...dims].reverse();
  const first = sorted[0]!;
  return {
    box: { shape: [...outer.map((d) => d.n), ...first.box.shape], offset: o[0]!, strides: [...outer.map((d) => d.s), ...first.box.strides] },
    data,
    tags,
    has: first.has,
    expect: { space: first.expect.space, offset: y[0]!, strides: [...outer.map((d) => d.t), ...first.expect.strides] },
  };
}

/**
 * Payloads one after another, payload `k` rearranged from [word][group] (groups innermost) to
 * [group][word] when `groups[k]` is above 1 (a read that gathered several groups' tiles
 * interleaved). One payload left as it is is returned itself. Words go into one array (from the
 * shared payload blocks when the word type allows), each written once: no array per payload.
 */
export function joinPayloads(ps: readonly Payload[], groups: readonly number[]): Payload {
  if (ps.length === 1 && !(groups[0]! > 1)) return ps[0]!;
  let tagged = true;
  for (const p of ps) if (!p.tags) tagged = false;
  const data = joinArrays(ps.map((p) => p.data), groups);
  return tagged ? { data, tags: joinArrays(ps.map((p) => p.tags!), groups) } : { data };
}

/** {@link joinPayloads} of one kind of array (words or tags). */
function joinArrays<A extends WordArray | Float64Array>(arrays: readonly A[], groups: readonly number[]): A {
  let total = 0;
  for (const a of arrays) total += a.length;
  const t = dtypeOfArray(arrays[0]!);
  const out = t ? (allocatePayload(t, total) as A) : new (arrays[0]!.constructor as new (n: number) => A)(total);
  let at = 0;
  for (let k = 0; k < arrays.length; k++) {
    const a = arrays[k]!;
    const g = groups[k]!;
    if (g > 1) {
      const n = a.length / g;
      for (let j = 0, i = 0; j < n; j++) for (let q = 0, o = at + j; q < g; q++, i++, o += n) out[o] = a[i]!;
    } else {
      out.set(a as never, at);
    }
    at += a.length;
  }
  return out;
}

/** Whether two tiles' pieces have the same structure (see {@link structureHash}). */
export function sameStructure(a: readonly Piece[], b: readonly Piece[]): boolean {
  const eq = (x: readonly number[], y: readonly number[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return (
    a.length === b.length &&
    a.every((p, i) => {
      const q = b[i]!;
      return eq(p.shape, q.shape) && eq(p.srcStrides, q.srcStrides) && eq(p.tagStrides, q.tagStrides) && p.dst.offset === q.dst.offset && eq(p.dst.strides, q.dst.strides);
    })
  );
}

/**
 * A tile on its way to memory with its dimensions in address order (largest stride outermost),
 * its words (and tags) rearranged to match: the drain path writes psums in the order the memory
 * stores them, so consecutive words share bank words and bursts (docs/timing.md). The same tile
 * when it already is in that order.
 */
export function addressOrder(t: OutTile): OutTile {
  const { shape, strides } = t.box;
  const n = shape.length;
  const perm = addressPermutation(strides);
  if (perm.every((d, i) => d === i)) return t;
  // Box-order strides of the source payload, per source dimension.
  const src = new Array<number>(n);
  for (let d = n - 1, s = 1; d >= 0; d--) {
    src[d] = s;
    s *= shape[d]!;
  }
  const pick = (a: readonly number[]) => perm.map((d) => a[d]!);
  const order = pick(shape);
  const from = pick(src);
  const data = new Int32Array(t.data.length);
  const tags = t.tags ? new Float64Array(t.tags.length) : undefined;
  permuteWords(t.data, data, order, from);
  if (tags) permuteWords(t.tags!, tags, order, from);
  return {
    box: { shape: order, offset: t.box.offset, strides: pick(strides) },
    data,
    tags,
    has: t.has,
    expect: { space: t.expect.space, offset: t.expect.offset, strides: pick(t.expect.strides) },
  };
}

/** The dimensions of a box with `strides` in address order: largest stride (absolute) outermost, ties in their order. */
export function addressPermutation(strides: readonly number[]): number[] {
  return Array.from({ length: strides.length }, (_, i) => i).sort((a, b) => Math.abs(strides[b]!) - Math.abs(strides[a]!) || a - b);
}

/**
 * A payload read with its dimensions in the order `order` (of a box of shape `shape`), its words
 * (and tags) rearranged into the box's own order; itself when `order` is the box's.
 */
export function inPeOrder(p: Payload, shape: readonly number[], order: readonly number[]): Payload {
  if (order.every((d, i) => d === i)) return p;
  // Read-order (dense) strides of each dimension, then picked in the box's order.
  const dense = new Array<number>(shape.length);
  for (let k = order.length - 1, s = 1; k >= 0; k--) {
    dense[order[k]!] = s;
    s *= shape[order[k]!]!;
  }
  const box = { shape, offset: 0, strides: dense };
  const data = allocatePayload(dtypeOfArray(p.data)!, p.data.length);
  gather(p.data, box, data);
  if (!p.tags) return { data };
  const tags = new Float64Array(p.tags.length);
  gather(p.tags, box, tags);
  return { data, tags };
}

/**
 * Copies `from` into `to` in the order of `shape` (outermost first), word (i0, i1, ...) read at
 * the sum of i_d * `strides`[d]: an odometer over the outer dimensions, a strided run innermost.
 */
function permuteWords<A extends Int32Array | Float64Array>(from: A, to: A, shape: readonly number[], strides: readonly number[]): void {
  const n = shape.length;
  const inner = shape[n - 1]!;
  const step = strides[n - 1]!;
  const idx = new Int32Array(n);
  let base = 0;
  for (let k = 0; k < to.length; ) {
    for (let j = 0, f = base; j < inner; j++, f += step) to[k++] = from[f]!;
    let d = n - 2;
    for (; d >= 0; d--) {
      base += strides[d]!;
      if (++idx[d]! < shape[d]!) break;
      base -= strides[d]! * shape[d]!;
      idx[d] = 0;
    }
    if (d < 0) break;
  }
}
