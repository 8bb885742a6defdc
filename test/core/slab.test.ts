import { describe, expect, it } from "vitest";
import { transientArray } from "../../src/core/index.js";

describe("transientArray", () => {
  it("gives zeroed arrays of the asked length and type that never share a word", () => {
    const arrays: (Int8Array | Int16Array | Int32Array)[] = [];
    // Enough to cross several slabs, in mixed element sizes (alignment).
    for (let i = 0; i < 3000; i++) {
      const n = 1 + ((i * 37) % 300);
      const a = i % 3 === 0 ? transientArray(Int8Array, n) : i % 3 === 1 ? transientArray(Int16Array, n) : transientArray(Int32Array, n);
      expect(a.length).toBe(n);
      expect(a.byteOffset % a.BYTES_PER_ELEMENT).toBe(0);
      expect(a.every((v) => v === 0)).toBe(true);
      a.fill(i % 100 + 1);
      arrays.push(a);
    }
    // Every array still holds only its own value: no two overlap.
    arrays.forEach((a, i) => expect(a.every((v) => v === i % 100 + 1)).toBe(true));
  });

  it("gives a large array a buffer of its own, and an empty one too", () => {
    const big = transientArray(Int32Array, 1 << 16);
    expect(big.byteOffset).toBe(0);
    expect(big.buffer.byteLength).toBe(big.byteLength);
    expect(transientArray(Int32Array, 0).length).toBe(0);
  });
});
