/**
 * A fully connected layer's reference in WebAssembly SIMD, for weights OIHW ({@link referenceFcWasm},
 * which `referenceConv` runs) and IOHW ({@link referenceFcTransposedWasm}, which `simulate` runs
 * for seeded weights drawn so). The IOHW one: `referenceFcTransposed`'s products for a layer whose
 * weights are stored IOHW (`[inChannels][outChannels]`, as `simulate` draws seeded FC weights for a
 * dataflow that keeps them so), bit-exact with the JavaScript loop (reference-fc.ts), which stays
 * as its oracle and its fallback where WebAssembly with SIMD is unavailable.
 *
 * Each input channel's term is added into every output at once: for each channel c with
 * xv = x[c] - xZeroPoint not 0, `acc[m] += (w[c][m] - wZeroPoint) * xv` for every output m,
 * eight outputs per step (the weights sign- or zero-extended to i32 lanes as they load:
 * `v128.load8x8_s`/`_u` for bytes, `v128.load` for int16, then `i32x4.extend_low/high_i16x8_s`).
 * Exactness: `i32x4.sub`, `i32x4.mul` and `i32x4.add` compute modulo 2^32, as `Math.imul` and
 * `| 0` do there, and a sum modulo 2^32 does not depend on the order of its terms; a difference
 * is at most 65535 in magnitude for every operand type, so i32 lanes hold it exactly.
 *
 * Memory: the weights are not packed. They pass through a fixed window of the linear memory a
 * block of channels at a time (a plain copy: AlexNet fc6's 37.7 M weights are 37.7 MB, whose
 * first touch in a fresh memory would cost more than the products), with the accumulators
 * (outChannels int32) and the block's xv. Outputs past the last multiple of eight are added in
 * JavaScript.
 *
 * Independence: it shares no code with the simulated datapath nor with the other references,
 * only the generic instruction encoder (src/wasm/encoder.ts).
 */
import { assembleModule, bump, bumpBy, compileWasm, ifThen, op, whileLt, WASM_PAGE_BYTES, type WasmMemory } from "../wasm/encoder.js";
import type { ConvOperands } from "./operands.js";

// Parameters: the block's first weight row (bytes), rows, groups of eight outputs, the
// accumulators (bytes), the block's xv (bytes, one i32 per row), the weight zero point, a row's
// bytes.
const W = 0, ROWS = 1, GROUPS = 2, ACC = 3, X = 4, ZW = 5, ROW_BYTES = 6;
// i32 locals.
const R = 7, G = 8, WA = 9, AA = 10, XV = 11;
// v128 locals.
const VX = 12, VZ = 13, VW = 14;

/** The kernel over a block of rows; `load` leaves a row's next eight weights as i16x8 (from the address on the stack). */
function rowsKernel(load: readonly number[], step: number): number[] {
  const addTo = (offset: number, half: readonly number[]): number[] => [
    ...op.get(AA), ...op.const(offset), ...op.add,
    ...op.get(AA), ...op.const(offset), ...op.add, ...op.vload,
    ...op.get(VW), ...half, ...op.get(VZ), ...op.vsub, ...op.get(VX), ...op.vmul,
    ...op.vadd, ...op.vstore,
  ];
  return [
    ...op.get(ZW), ...op.splat, ...op.set(VZ),
    ...op.const(0), ...op.set(R),
    ...whileLt(R, ROWS, [
      ...op.get(X), ...op.load, ...op.set(XV),
      ...ifThen(op.get(XV), [
        ...op.get(XV), ...op.splat, ...op.set(VX),
        ...op.get(W), ...op.set(WA), ...op.get(ACC), ...op.set(AA), ...op.const(0), ...op.set(G),
        ...whileLt(G, GROUPS, [
          ...op.get(WA), ...load, ...op.set(VW),
          ...addTo(0, op.extendLow16s),
          ...addTo(16, op.extendHigh16s),
          ...bump(WA, step), ...bump(AA, 32), ...bump(G, 1),
        ]),
      ]),
      ...bumpBy(W, ROW_BYTES), ...bump(X, 4), ...bump(R, 1),
    ]),
  ];
}

/**
 * The OIHW kernel over a block of rows (output channels): row r's dot product of its first
 * `groups` eight weights less the zero point with xv, into the i32 at `acc + 4r` (the parameter
 * names are the IOHW kernel's: ACC is the outputs, X the whole input).
 */
function dotsKernel(load: readonly number[], step: number): number[] {
  const mac = (offset: number, half: readonly number[]): number[] => [
    ...op.get(VX),
    ...op.get(VW), ...half, ...op.get(VZ), ...op.vsub,
    ...op.get(AA), ...op.const(offset), ...op.add, ...op.vload, ...op.vmul,
    ...op.vadd, ...op.set(VX),
  ];
  return [
    ...op.get(ZW), ...op.splat, ...op.set(VZ),
    ...op.const(0), ...op.set(R),
    ...whileLt(R, ROWS, [
      ...op.const(0), ...op.splat, ...op.set(VX),
      ...op.get(W), ...op.set(WA), ...op.get(X), ...op.set(AA), ...op.const(0), ...op.set(G),
      ...whileLt(G, GROUPS, [
        ...op.get(WA), ...load, ...op.set(VW),
        ...mac(0, op.extendLow16s),
        ...mac(16, op.extendHigh16s),
        ...bump(WA, step), ...bump(AA, 32), ...bump(G, 1),
      ]),
      // the four lanes' sum, to the row's output
      ...op.get(ACC),
      ...op.get(VX), ...op.lane(0), ...op.get(VX), ...op.lane(1), ...op.add,
      ...op.get(VX), ...op.lane(2), ...op.add, ...op.get(VX), ...op.lane(3), ...op.add,
      ...op.store,
      ...bumpBy(W, ROW_BYTES), ...bump(ACC, 4), ...bump(R, 1),
    ]),
  ];
}

const fn = (name: string, load: readonly number[], step: number) => ({ name, params: 7, i32Locals: 5, v128Locals: 3, body: rowsKernel(load, step) });
const dots = (name: string, load: readonly number[], step: number) => ({ name: `dots_${name}`, params: 7, i32Locals: 5, v128Locals: 3, body: dotsKernel(load, step) });

/** The module's functions: per weight type, the IOHW kernel and the OIHW one (`dots_`). */
const FUNCTIONS = [
  fn("int8", op.load8x8sAt(0), 8),
  fn("uint8", op.load8x8uAt(0), 8),
  fn("int16", op.vload, 16),
  dots("int8", op.load8x8sAt(0), 8),
  dots("uint8", op.load8x8uAt(0), 8),
  dots("int16", op.vload, 16),
];

/** Compiled once, when this module loads. */
const WASM = compileWasm(assembleModule(FUNCTIONS));

type RowsKernel = (w: number, rows: number, groups: number, acc: number, x: number, zw: number, rowBytes: number) => void;

/** Bytes of the weight window: rows of a block are copied into it whole. */
const WINDOW_BYTES = 1 << 20;

let scratch: { mem: WasmMemory; kernels: Record<string, RowsKernel> } | undefined;

/** The kernels on a memory of at least `bytes` bytes, or undefined where the engine cannot give it. */
function memoryOf(bytes: number): typeof scratch {
  const pages = Math.ceil(bytes / WASM_PAGE_BYTES);
  try {
    if (scratch === undefined) {
      const mem = new WASM!.api.Memory({ initial: pages });
      const inst = new WASM!.api.Instance(WASM!.module, { env: { mem } });
      const kernels: Record<string, RowsKernel> = {};
      for (const { name } of FUNCTIONS) kernels[name] = inst.exports[name] as RowsKernel;
      scratch = { mem, kernels };
    } else if (scratch.mem.buffer.byteLength < pages * WASM_PAGE_BYTES) {
      scratch.mem.grow(pages - scratch.mem.buffer.byteLength / WASM_PAGE_BYTES);
    }
  } catch (e) {
    if (e instanceof RangeError) return undefined;
    throw e;
  }
  return scratch;
}

/** A call's memory: its kernel, the window weight rows are copied into, and the first byte past it. */
interface Window {
  readonly kernel: RowsKernel;
  readonly buf: ArrayBuffer;
  readonly rowBytes: number;
  readonly rowsPerBlock: number;
  readonly after: number;
  /** Copies weight rows [from, from + rows) into the window. */
  copyRows(from: number, rows: number): void;
}

/**
 * The memory of a call over rows of `rowLen` weights: the window (whole rows, at least one), then
 * `more(rowsPerBlock)` bytes; the kernel `kernelPrefix` + the weights' type. Undefined where
 * WebAssembly with SIMD is unavailable or the engine will not give the memory.
 */
function windowOf(op: ConvOperands, rowLen: number, kernelPrefix: string, more: (rowsPerBlock: number) => number): Window | undefined {
  if (WASM === null) return undefined;
  const w = op.w;
  const rowBytes = rowLen * w.BYTES_PER_ELEMENT;
  const rowsPerBlock = Math.max(1, Math.floor(WINDOW_BYTES / rowBytes));
  const after = Math.ceil((rowsPerBlock * rowBytes) / 16) * 16;
  const s = memoryOf(after + more(rowsPerBlock));
  if (s === undefined) return undefined;
  const kernel = s.kernels[kernelPrefix + (w instanceof Int8Array ? "int8" : w instanceof Uint8Array ? "uint8" : "int16")]!;
  const bytes = new Uint8Array(s.mem.buffer);
  const wBytes = new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
  const copyRows = (from: number, rows: number) => bytes.set(wBytes.subarray(from * rowBytes, (from + rows) * rowBytes), 0);
  return { kernel, buf: s.mem.buffer, rowBytes, rowsPerBlock, after, copyRows };
}

/**
 * y ([batch][outChannels]) of a fully connected layer whose weights `op.w` are IOHW, bit-exact
 * with reference-fc.ts's `referenceFcTransposed`; undefined, having computed nothing, where
 * WebAssembly with SIMD is unavailable or the engine will not give the memory. The caller checks
 * that the layer is fully connected (reference-fc.ts, `isFullyConnected`).
 */
export function referenceFcTransposedWasm(op: ConvOperands): Int32Array | undefined {
  const L = op.layer;
  const C = L.inChannels;
  const K = L.outChannels;
  const w = op.w;
  // Memory: the window, then the accumulators, then the block's xv.
  const accBytes = Math.ceil((K * 4) / 16) * 16;
  const win = windowOf(op, K, "", (rows) => accBytes + rows * 4);
  if (win === undefined) return undefined;
  const { kernel, buf, rowBytes, rowsPerBlock } = win;
  const accAt = win.after;
  const xAt = accAt + accBytes;
  const acc = new Int32Array(buf, accAt, K);
  const xs = new Int32Array(buf, xAt, rowsPerBlock);
  const groups = Math.floor(K / 8);
  const zw = op.wZeroPoint;
  const y = new Int32Array(L.batch * K);
  for (let n = 0; n < L.batch; n++) {
    if (op.bias) acc.set(op.bias);
    else acc.fill(0);
    for (let c0 = 0; c0 < C; c0 += rowsPerBlock) {
      const rows = Math.min(rowsPerBlock, C - c0);
      for (let r = 0; r < rows; r++) xs[r] = op.x[n * C + c0 + r]! - op.xZeroPoint;
      win.copyRows(c0, rows);
      kernel(0, rows, groups, accAt, xAt, zw, rowBytes);
      // The outputs past the last group of eight.
      for (let r = 0; r < rows; r++) {
        const xv = xs[r]!;
        if (xv === 0) continue;
        for (let m = groups * 8, o = (c0 + r) * K + m; m < K; m++, o++) acc[m] = (acc[m]! + Math.imul(w[o]! - zw, xv)) | 0;
      }
    }
    y.set(acc, n * K);
  }
  return y;
}

/**
 * y ([batch][outChannels]) of a fully connected layer whose weights `op.w` are OIHW (each output
 * channel's row contiguous), bit-exact with reference-fc.ts's `referenceFc`: per output, the dot
 * product of its row less the zero point with the input less its zero point, eight input
 * channels a step in four i32 lanes, the lanes summed at the row's end (modulo 2^32, as above),
 * the channels past the last multiple of eight added in JavaScript, then the bias. Undefined,
 * having computed nothing, where WebAssembly with SIMD is unavailable or the engine will not give
 * the memory. The caller checks that the layer is fully connected.
 */
export function referenceFcWasm(op: ConvOperands): Int32Array | undefined {
  const L = op.layer;
  const C = L.inChannels;
  const K = L.outChannels;
  const w = op.w;
  // Memory: the window of weight rows, the input less its zero point, the block's outputs.
  const xBytes = Math.ceil((C * 4) / 16) * 16;
  const win = windowOf(op, C, "dots_", (rows) => xBytes + rows * 4);
  if (win === undefined) return undefined;
  const { kernel, buf, rowBytes, rowsPerBlock } = win;
  const xAt = win.after;
  const yAt = xAt + xBytes;
  const xs = new Int32Array(buf, xAt, C);
  const sums = new Int32Array(buf, yAt, rowsPerBlock);
  const groups = Math.floor(C / 8);
  const zw = op.wZeroPoint;
  const y = new Int32Array(L.batch * K);
  for (let n = 0; n < L.batch; n++) {
    for (let c = 0; c < C; c++) xs[c] = op.x[n * C + c]! - op.xZeroPoint;
    for (let m0 = 0; m0 < K; m0 += rowsPerBlock) {
      const rows = Math.min(rowsPerBlock, K - m0);
      win.copyRows(m0, rows);
      kernel(0, rows, groups, yAt, xAt, zw, rowBytes);
      for (let r = 0; r < rows; r++) {
        const m = m0 + r;
        let a = (sums[r]! + (op.bias ? op.bias[m]! : 0)) | 0;
        for (let c = groups * 8, o = m * C + c; c < C; c++, o++) a = (a + Math.imul(w[o]! - zw, xs[c]!)) | 0;
        y[n * K + m] = a;
      }
    }
  }
  return y;
}
