/**
 * A minimal WebAssembly encoder: builds a module's bytes from readable instruction lists, so that
 * kernels can be written as plain TypeScript arrays and assembled when their module loads, with
 * no dependency and no build step. Node has WebAssembly (with 128-bit SIMD) built in.
 *
 * What it covers: one memory, imported as `env.mem`; function types of i32 parameters and no
 * result; i32 and v128 locals; the handful of instructions the kernels use (locals, i32 loads,
 * stores and arithmetic, structured loops and conditionals, the SIMD loads, stores, lane
 * operations and i32x4 arithmetic including `i32x4.dot_i16x8_s`). It knows nothing of what the
 * kernels compute: it is a serializer of the binary format.
 *
 * Sources: the binary format, webassembly.github.io/spec, "Binary Format" (modules, sections,
 * LEB128 integers, instructions); the SIMD opcodes, the fixed-width SIMD proposal, now part of
 * the core specification (opcodes 0xfd-prefixed, then an unsigned LEB128 number).
 *
 * Not covered: tables, globals, data segments, imports other than the memory, results, other
 * value types. Kernels that need them extend this file.
 */

/** A WebAssembly linear memory, as far as convsim uses it. */
export interface WasmMemory {
  /** The memory's bytes (a new buffer after each growth). */
  readonly buffer: ArrayBuffer;
  /** Adds `pages` pages of 64 KiB; throws a RangeError when the engine cannot. */
  grow(pages: number): number;
}

/** The part of the WebAssembly JS API used here (the project's TypeScript lib has no DOM types). */
export interface WasmApi {
  readonly Memory: new (descriptor: { initial: number; maximum?: number }) => WasmMemory;
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
  validate(bytes: Uint8Array): boolean;
}

/** Bytes in a page of WebAssembly linear memory. */
export const WASM_PAGE_BYTES = 65536;

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (32-bit values). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** A vector: its length, then its items. */
export function vec(items: readonly (readonly number[])[]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** A section: its id, its size, its contents. */
export function section(id: number, bytes: readonly number[]): number[] {
  return [id, ...uleb(bytes.length), ...bytes];
}

/** A name (ASCII): its length, then its bytes. */
export function name(s: string): number[] {
  return vec([...s].map((c) => [c.charCodeAt(0)]));
}

/** The i32 value type. */
export const I32 = 0x7f;
/** The v128 value type. */
export const V128 = 0x7b;

/** A SIMD instruction: the 0xfd prefix, then the opcode as unsigned LEB128, then immediates. */
const simd = (code: number, ...imm: number[]): number[] => [0xfd, ...uleb(code), ...imm];

/** Instructions, as byte lists (constant ones) or functions of their immediates. */
export const op = {
  end: [0x0b],
  get: (l: number) => [0x20, ...uleb(l)],
  set: (l: number) => [0x21, ...uleb(l)],
  /** `local.tee`: set and keep the value on the stack. */
  tee: (l: number) => [0x22, ...uleb(l)],
  /** i32.load / i32.store with alignment 2^2 and offset 0. */
  load: [0x28, 2, 0],
  store: [0x36, 2, 0],
  const: (n: number) => [0x41, ...sleb(n)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  and: [0x71],
  ltS: [0x48],
  gtS: [0x4a],
  geS: [0x4e],
  /** v128.load / v128.store with alignment 2^4 (a hint; any address works) and offset 0. */
  vload: simd(0x00, 4, 0),
  vstore: simd(0x0b, 4, 0),
  /** v128.load with a constant byte offset added to the address. */
  vloadAt: (offset: number) => simd(0x00, 4, ...uleb(offset)),
  /**
   * v128.load8x8_s / v128.load8x8_u with a constant byte offset: eight bytes, sign- or
   * zero-extended to the eight i16 lanes.
   */
  load8x8sAt: (offset: number) => simd(0x01, 3, ...uleb(offset)),
  load8x8uAt: (offset: number) => simd(0x02, 3, ...uleb(offset)),
  /** i32x4.splat. */
  splat: simd(0x11),
  /** i32x4.extend_low_i16x8_s / i32x4.extend_high_i16x8_s: four i16 lanes, sign-extended to i32. */
  extendLow16s: simd(0xa7),
  extendHigh16s: simd(0xa8),
  /** i32x4.extract_lane. */
  lane: (i: number) => simd(0x1b, i),
  /** i32x4.replace_lane: (v128, i32) -> the vector with lane `i` replaced. */
  replaceLane: (i: number) => simd(0x1c, i),
  /** i32x4.add, i32x4.sub, i32x4.mul (lane-wise, modulo 2^32). */
  vadd: simd(174),
  vsub: simd(177),
  vmul: simd(181),
  /** i32x4.dot_i16x8_s: each i32 lane gets a[2i]*b[2i] + a[2i+1]*b[2i+1] of signed i16 lanes, modulo 2^32. */
  vdot16: simd(186),
};

/** `while (a < b) body` (signed): block { loop { br_if 1 (a >= b); body; br 0 } }. */
export function whileLt(a: number, b: number, body: readonly number[]): number[] {
  return [0x02, 0x40, 0x03, 0x40, ...op.get(a), ...op.get(b), ...op.geS, 0x0d, 1, ...body, 0x0c, 0, ...op.end, ...op.end];
}

/** `do body while (a < b)` (signed): loop { body; br_if 0 (a < b) }. The body runs at least once. */
export function doWhileLt(a: number, b: number, body: readonly number[]): number[] {
  return [0x03, 0x40, ...body, ...op.get(a), ...op.get(b), ...op.ltS, 0x0d, 0, ...op.end];
}

/** `if (cond) body`, where `cond` leaves an i32 on the stack. */
export function ifThen(cond: readonly number[], body: readonly number[]): number[] {
  return [...cond, 0x04, 0x40, ...body, ...op.end];
}

/** `l += n`. */
export function bump(l: number, n: number): number[] {
  return [...op.get(l), ...op.const(n), ...op.add, ...op.set(l)];
}

/** `l += m` for a local `m`. */
export function bumpBy(l: number, m: number): number[] {
  return [...op.get(l), ...op.get(m), ...op.add, ...op.set(l)];
}

/** `i32.load(l + off)`. */
export function loadAt(l: number, off: number): number[] {
  return [...op.get(l), ...op.const(off), ...op.add, ...op.load];
}

/** One exported function: its name, its i32 parameter count, its locals and its body. */
export interface WasmFunction {
  readonly name: string;
  /** Parameters, all i32; they are locals 0 .. params-1. */
  readonly params: number;
  /** i32 locals, numbered after the parameters. */
  readonly i32Locals: number;
  /** v128 locals, numbered after the i32 locals. */
  readonly v128Locals: number;
  /** The instructions, without the final `end`. */
  readonly body: readonly number[];
}

/**
 * A module's bytes: the memory imported as `env.mem` (at least one page), each function with a
 * type of its own (i32 parameters, no result), exported under its name.
 */
export function assembleModule(functions: readonly WasmFunction[]): Uint8Array {
  const types = [...new Set(functions.map((f) => f.params))];
  const code = (f: WasmFunction): number[] => {
    const locals = vec([[...uleb(f.i32Locals), I32], [...uleb(f.v128Locals), V128]]);
    const b = [...locals, ...f.body, ...op.end];
    return [...uleb(b.length), ...b];
  };
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types.map((n) => [0x60, ...vec(new Array<number[]>(n).fill([I32])), 0]))),
    ...section(2, vec([[...name("env"), ...name("mem"), 0x02, 0x00, ...uleb(1)]])),
    ...section(3, vec(functions.map((f) => uleb(types.indexOf(f.params))))),
    ...section(7, vec(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(functions.map(code))),
  ]);
}

/** A compiled module and the API that compiled it. */
export interface CompiledWasm {
  readonly api: WasmApi;
  readonly module: object;
}

/** Compiles `bytes`, or returns null where WebAssembly (or an instruction it uses, such as SIMD) is unavailable. */
export function compileWasm(bytes: Uint8Array): CompiledWasm | null {
  const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  return api && api.validate(bytes) ? { api, module: new api.Module(bytes) } : null;
}
