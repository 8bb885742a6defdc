import { describe, expect, it } from "vitest";
import { allocate, allocatePayload, dtypeOfArray, type ElementType } from "../../src/workload/dtype.js";

const TYPES: readonly ElementType[] = ["int8", "uint8", "int16", "uint16", "int32"];

describe("allocatePayload", () => {
  it("gives zeroed arrays of the type and length asked for, like allocate", () => {
    for (const t of TYPES) {
      for (const n of [0, 1, 16, 64, 65, 100, 1000, 2048, 4096, 5000, 20000]) {
        const a = allocatePayload(t, n);
        expect(dtypeOfArray(a)).toBe(t);
        expect(a.length).toBe(n);
        expect(a.every((v) => v === 0)).toBe(true);
        expect(a.constructor).toBe(allocate(t, 0).constructor);
      }
    }
  });

  it("keeps payloads apart: writing one changes no other, and views are aligned to their element size", () => {
    const live: { a: ArrayLike<number> & { [i: number]: number; byteOffset: number; BYTES_PER_ELEMENT: number }; v: number }[] = [];
    // Enough payloads of mixed sizes and types to fill several shared blocks.
    for (let i = 0; i < 3000; i++) {
      const t = TYPES[i % TYPES.length]!;
      const n = 20 + ((i * 37) % 700);
      const a = allocatePayload(t, n);
      if (a.byteOffset % a.BYTES_PER_ELEMENT !== 0) throw new Error(`payload ${i} starts at byte ${a.byteOffset}`);
      const v = (i % 100) + 1;
      a.fill(v);
      live.push({ a, v });
    }
    let wrong = 0;
    for (const { a, v } of live) for (let k = 0; k < a.length; k++) if (a[k] !== v) wrong++;
    expect(wrong).toBe(0);
  });

  it("gives large payloads a buffer of their own", () => {
    const a = allocatePayload("int8", 1 << 16);
    expect(a.byteOffset).toBe(0);
    expect(a.buffer.byteLength).toBe(1 << 16);
  });
});
