/**
 * Transient arrays: short-lived message payloads (GBuf and DRAM reads, drains, link moves) carved
 * from shared slabs. A typed array with a buffer of its own costs V8 a backing-store allocation
 * (about 2 us for a few hundred bytes, and work for the collector); a view into a slab of fresh
 * memory costs about 0.1 us. Slabs are never reused, so a transient array is zeroed like a new one,
 * and a slab is collected once every view into it is. Its `buffer` is shared and its `byteOffset`
 * arbitrary: never transfer the buffer or wrap it whole. Long-lived arrays get their own buffer
 * (a view keeps its whole slab alive).
 */

/** Bytes of one slab. */
const SLAB_BYTES = 1 << 18;
/** Arrays up to this many bytes come from a slab; longer ones get their own buffer. */
const SLAB_MAX = 1 << 13;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabAt = 0;

/** A typed-array constructor {@link transientArray} can build. */
export interface TransientCtor<A> {
  readonly BYTES_PER_ELEMENT: number;
  new (length: number): A;
  new (buffer: ArrayBuffer, byteOffset: number, length: number): A;
}

/** A zeroed array of `length` elements for a short-lived payload (see the file header). */
export function transientArray<A>(ctor: TransientCtor<A>, length: number): A {
  const bytes = length * ctor.BYTES_PER_ELEMENT;
  if (bytes > SLAB_MAX || bytes === 0) return new ctor(length);
  if (slabAt + bytes > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabAt = 0;
  }
  const at = slabAt;
  // (8-byte aligned: a view needs its element size's alignment)
  slabAt += (bytes + 7) & ~7;
  return new ctor(slab, at, length);
}
