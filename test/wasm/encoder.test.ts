/**
 * The WebAssembly encoder: LEB128 integers against the specification's examples, and small
 * modules assembled from instruction lists that WebAssembly validates and runs as written
 * (loops, conditionals, loads and stores, SIMD lanes and the i16 dot product).
 */
import { describe, expect, it } from "vitest";
import { assembleModule, bump, compileWasm, doWhileLt, ifThen, loadAt, op, sleb, uleb, whileLt, type WasmFunction } from "../../src/wasm/encoder.js";

/** Instantiates one function over a fresh one-page memory; returns the call and the memory's words. */
function instantiate(f: WasmFunction): { call: (...args: number[]) => void; words: Int32Array } {
  const wasm = compileWasm(assembleModule([f]));
  if (!wasm) throw new Error("WebAssembly with SIMD is unavailable");
  const mem = new wasm.api.Memory({ initial: 1 });
  const inst = new wasm.api.Instance(wasm.module, { env: { mem } });
  return { call: inst.exports[f.name] as (...args: number[]) => void, words: new Int32Array(mem.buffer) };
}

describe("LEB128", () => {
  it("encodes the specification's examples and the 32-bit extremes", () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(127)).toEqual([0x7f]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(uleb(0xffffffff)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(63)).toEqual([0x3f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(sleb(-2147483648)).toEqual([0x80, 0x80, 0x80, 0x80, 0x78]);
  });
});

describe("assembleModule", () => {
  it("runs loops and conditionals as written: words[i] = i for i < n, then words[n] = 1 if n > 3", () => {
    // params: n (0); locals: i (1)
    const body = [
      ...whileLt(1, 0, [...op.get(1), ...op.const(4), ...op.mul, ...op.get(1), ...op.store, ...bump(1, 1)]),
      ...ifThen([...op.get(0), ...op.const(3), ...op.gtS], [...op.get(0), ...op.const(4), ...op.mul, ...op.const(1), ...op.store]),
    ];
    const { call, words } = instantiate({ name: "f", params: 1, i32Locals: 1, v128Locals: 0, body });
    call(5);
    expect([...words.subarray(0, 7)]).toEqual([0, 1, 2, 3, 4, 1, 0]);
    words.fill(0, 0, 8);
    call(2);
    expect([...words.subarray(0, 4)]).toEqual([0, 1, 0, 0]);
  });

  it("runs a do-while body once even when the condition is false at the start", () => {
    // words[0] += 1 while i < n, with i counting from 0: n = 0 still runs once.
    const body = doWhileLt(1, 0, [...op.const(0), ...loadAt(2, 0), ...op.const(1), ...op.add, ...op.store, ...bump(1, 1)]);
    const { call, words } = instantiate({ name: "g", params: 1, i32Locals: 2, v128Locals: 0, body });
    call(0);
    expect(words[0]).toBe(1);
    call(3);
    expect(words[0]).toBe(4);
  });

  it("computes i32x4.dot_i16x8_s and i32x4.mul lane by lane, modulo 2^32", () => {
    // words[8..11] = dot(i16 at 0, i16 at 16); words[12..15] = mul(i32 at 0, i32 at 16)
    const vec = (a: number) => [...op.const(a), ...op.vload];
    const body = [
      ...op.const(32), ...vec(0), ...vec(16), ...op.vdot16, ...op.vstore,
      ...op.const(48), ...vec(0), ...vec(16), ...op.vmul, ...op.vstore,
      ...op.const(64), ...vec(0), ...op.lane(3), ...op.store,
    ];
    const { call, words } = instantiate({ name: "h", params: 0, i32Locals: 0, v128Locals: 0, body });
    const halves = new Int16Array(words.buffer, 0, 16);
    halves.set([-32768, -32768, 3, -4, 32767, 1, 0, 5, -32768, -32768, 7, 2, 32767, -2, 9, 9]);
    const a = Array.from(new Int32Array(words.buffer, 0, 4));
    const b = Array.from(new Int32Array(words.buffer, 16, 4));
    call();
    expect([...words.subarray(8, 12)]).toEqual([-2147483648, 3 * 7 + -4 * 2, 32767 * 32767 - 2, 45]);
    expect([...words.subarray(12, 16)]).toEqual(a.map((v, i) => Math.imul(v, b[i]!)));
    expect(words[16]).toBe(a[3]);
  });
});
