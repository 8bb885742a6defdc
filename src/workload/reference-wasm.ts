/**
 * The fast reference convolution: WebAssembly SIMD, bit-exact with the JavaScript reference
 * (reference-js.ts, the slow oracle) on every layer and operand type, and several times faster;
 * it is what verification runs (`referenceConv`). Semantics are ONNX ConvInteger's plus an int32
 * bias, as in docs/numerics.md:
 *
 *   y[n][m][oh][ow] = bias[m] + sum over c in m's group, kh, kw of (x - xZeroPoint) * (w - wZeroPoint)
 *
 * in int32 with two's-complement wrap-around; a padded tap contributes exactly 0.
 *
 * Exactness. Every instruction used computes modulo 2^32 (`i32x4.dot_i16x8_s`, `i32x4.mul`,
 * `i32x4.add`, `i32.add`), and addition modulo 2^32 is associative and commutative, so any
 * order of the terms leaves the residue the JavaScript reference leaves. The operands are shifted
 * by their zero points when they are packed, so the kernels see `x - xZeroPoint` and
 * `w - wZeroPoint` exactly; the lane width is chosen so that the shifted values fit it:
 * - **i16 lanes** (`i32x4.dot_i16x8_s`: eight products, summed in pairs into four i32 lanes)
 *   when every shifted input and weight lies in [-32768, 32767]: always for int8 and uint8
 *   (|x - zx| <= 255), and for int16 tensors whose values, less their zero point, stay in range
 *   (a zero zero point, or small values). Each product is exact in i32 (at most 2^30); a pair
 *   sums to at most 2^31, which `dot` wraps modulo 2^32, the residue the reference keeps.
 * - **i32 lanes** (`i32x4.mul` then `i32x4.add`: four MACs per instruction pair) otherwise: an
 *   int16 difference reaches 65535 and a product 2^32 - 2^17 + 1, which i32 holds modulo 2^32.
 *
 * Layout (one image at a time in the kernels' linear memory):
 * - x: `[group][inHeight][inWidth][Cp]`, channel-innermost, each group's channels padded with
 *   zeros to `Cp`, a multiple of the lane count (8 for i16, 4 for i32), shifted by the zero point;
 * - w: `[group][outChannels/4 of the group][kh][kw][Cp / lanes][4 output channels][lanes]`: the
 *   weights of four output channels for one input vector are 64 contiguous bytes, read at fixed
 *   offsets; missing channels are zeros. Byte weights with a zero zero point (int8, uint8) stay
 *   bytes with i16 lanes, 32 bytes per four channels, sign- or zero-extended as they load
 *   (`v128.load8x8_s`/`_u`): the same values the i16 packing holds;
 * - y: NCHW int32 for the image, starting at the bias;
 * - a table of output columns: each column's first real tap, as byte offsets into a row of x and
 *   of w, and how many taps and vectors it reads.
 * A kernel call computes one output row for four output channels: for each output column, for
 * each real kernel row, the column's real taps (contiguous in memory when the dilation is 1),
 * four i32x4 accumulators, summed across lanes and added to y. Padded taps are never read:
 * the JavaScript side clips the kernel rows per output row and the table clips the columns.
 *
 * Memory: the packed input of one image, the packed weights, one image's output and the column
 * table: O(input + weights + output), no im2col. When that exceeds WebAssembly's 4 GiB (or what the
 * engine will allocate), or where WebAssembly with SIMD is unavailable, {@link referenceConvWasm}
 * returns undefined and `referenceConv` runs the JavaScript reference instead.
 *
 * Independence: this file shares no code with the simulated datapath (src/pe-array, src/memory,
 * src/dataflow), only the generic instruction encoder (src/wasm/encoder.ts) with the MAC-wave
 * kernels. Tests (test/workload/reference-wasm.test.ts) require it to equal the JavaScript
 * reference bit for bit on random layers with extreme values and to equal ONNX Runtime's
 * ConvInteger.
 */
import { assembleModule, bump, bumpBy, compileWasm, doWhileLt, ifThen, loadAt, op, whileLt, WASM_PAGE_BYTES, type CompiledWasm, type WasmMemory } from "../wasm/encoder.js";
import { convShape, type ConvLayer, type ConvLayerSpec, type ConvShape } from "./layer.js";
import { checkOperands, type ConvOperands, type ConvOptions, type OperandArray } from "./operands.js";

// ---- The kernel ------------------------------------------------------------------------------

// Parameters (byte addresses and byte strides).
const XROW = 0, XRS = 1, WROW = 2, WRS = 3, NKH = 4, TABLE = 5, NOW = 6, Y = 7, YMS = 8, MCOUNT = 9, SKIP = 10;
const PARAMS = 11;
// i32 locals.
const OW = 11, E = 12, XR = 13, WR = 14, KH = 15, XA = 16, WA = 17, T = 18, V = 19, TAPS = 20, VECS = 21, YA = 22;
const I32_LOCALS = 12;
// v128 locals: the input vector and four accumulators.
const XV = 23, ACC = [24, 25, 26, 27] as const;
const V128_LOCALS = 5;

/**
 * How a kernel reads one output channel's weight vector: `bytes` per vector (four channels'
 * vectors make a group of 4 x `bytes`), and the load at a byte offset. Weights kept as they came,
 * as bytes (int8 or uint8 with a zero zero point), are widened to i16 lanes as they load: half the
 * memory and half the packing of i16 weights (37.7 MB for 37.7 M weights, not 75).
 */
interface WeightLoad {
  readonly bytes: number;
  readonly at: (offset: number) => number[];
}
const W_LANES: WeightLoad = { bytes: 16, at: op.vloadAt };
const W_INT8: WeightLoad = { bytes: 8, at: op.load8x8sAt };
const W_UINT8: WeightLoad = { bytes: 8, at: op.load8x8uAt };

/** `acc[i] += mac(xv, w[wa + i * bytes])` for the four output channels. */
function macs(mac: readonly number[], wl: WeightLoad): number[] {
  return ACC.flatMap((a, i) => [...op.get(a), ...op.get(XV), ...op.get(WA), ...wl.at(wl.bytes * i), ...mac, ...op.vadd, ...op.set(a)]);
}

/** `y[ya + i * yms] += lane sum of acc[i]`. */
function addToOutput(i: number): number[] {
  const a = ACC[i]!;
  const addr = [...op.get(YA), ...op.get(YMS), ...op.const(i), ...op.mul, ...op.add];
  const sum = [...op.get(a), ...op.lane(0), ...op.get(a), ...op.lane(1), ...op.add, ...op.get(a), ...op.lane(2), ...op.add, ...op.get(a), ...op.lane(3), ...op.add];
  return [...addr, ...addr, ...op.load, ...sum, ...op.add, ...op.store];
}

/**
 * One output row of four output channels; `mac` multiplies two vectors into four i32 lanes of
 * sums; `wl`: how the weights are stored.
 */
function rowKernel(mac: readonly number[], wl: WeightLoad): number[] {
  const zero = [...op.const(0), ...op.splat];
  // One tap's vectors (or, with dilation 1, the whole run of a kernel row's taps).
  const vectors = doWhileLt(V, VECS, [
    ...op.get(XA), ...op.vload, ...op.set(XV),
    ...macs(mac, wl),
    ...bump(XA, 16), ...bump(WA, 4 * wl.bytes), ...bump(V, 1),
  ]);
  return [
    ...op.get(TABLE), ...op.set(E), ...op.get(Y), ...op.set(YA), ...op.const(0), ...op.set(OW),
    ...whileLt(OW, NOW, [
      ...op.get(XROW), ...loadAt(E, 0), ...op.add, ...op.set(XR),
      ...op.get(WROW), ...loadAt(E, 4), ...op.add, ...op.set(WR),
      ...loadAt(E, 8), ...op.set(TAPS), ...loadAt(E, 12), ...op.set(VECS),
      ...ACC.flatMap((a) => [...zero, ...op.set(a)]),
      ...op.const(0), ...op.set(KH),
      ...whileLt(KH, NKH, [
        ...op.get(XR), ...op.set(XA), ...op.get(WR), ...op.set(WA), ...op.const(0), ...op.set(T),
        ...whileLt(T, TAPS, [...op.const(0), ...op.set(V), ...vectors, ...bumpBy(XA, SKIP), ...bump(T, 1)]),
        ...bumpBy(XR, XRS), ...bumpBy(WR, WRS), ...bump(KH, 1),
      ]),
      ...addToOutput(0),
      ...[1, 2, 3].flatMap((i) => ifThen([...op.get(MCOUNT), ...op.const(i), ...op.gtS], addToOutput(i))),
      ...bump(E, 16), ...bump(YA, 4), ...bump(OW, 1),
    ]),
  ];
}

/** The lane widths, and their kernels' names. */
const LANES = { i16: { name: "row16", count: 8, bytes: 2 }, i32: { name: "row32", count: 4, bytes: 4 } } as const;

/** The lane width of a call: i16 (`i32x4.dot_i16x8_s`) or i32 (`i32x4.mul`). */
export type ReferenceLanes = keyof typeof LANES;

/** A kernel: one output row of up to four output channels (parameters as numbered above). */
type RowKernel = (xRow: number, xRowStride: number, wRow: number, wRowStride: number, nkh: number, table: number, ow: number, y: number, yChannelStride: number, mcount: number, skip: number) => void;

/** How the weights are stored: in the lanes' own width, or as bytes widened to i16 lanes as they load. */
type WeightStore = "lanes" | "int8" | "uint8";

/** The kernel's name for a lane width and weight store. */
function kernelName(lanes: ReferenceLanes, store: WeightStore): string {
  return store === "lanes" ? LANES[lanes].name : `row16_${store}`;
}

const fn = (name: string, mac: readonly number[], wl: WeightLoad) => ({ name, params: PARAMS, i32Locals: I32_LOCALS, v128Locals: V128_LOCALS, body: rowKernel(mac, wl) });

/** Compiled once, when this module loads; null where WebAssembly with SIMD is unavailable. */
const WASM: CompiledWasm | null = compileWasm(
  assembleModule([
    fn(LANES.i16.name, op.vdot16, W_LANES),
    fn(LANES.i32.name, op.vmul, W_LANES),
    fn(kernelName("i16", "int8"), op.vdot16, W_INT8),
    fn(kernelName("i16", "uint8"), op.vdot16, W_UINT8),
  ]),
);

/** Whether this process can run the fast reference (WebAssembly with SIMD). */
export function wasmReferenceAvailable(): boolean {
  return WASM !== null;
}

// ---- Packing and driving ---------------------------------------------------------------------

/** The most linear memory a call may use: 65,536 pages of 64 KiB (WebAssembly's 32-bit limit). */
const MAX_BYTES = 65536 * WASM_PAGE_BYTES;

/** Sizes and byte offsets of one call's linear memory. */
interface Plan {
  readonly lanes: ReferenceLanes;
  /** How the weights are stored, and the bytes of one output channel's weight vector. */
  readonly store: WeightStore;
  readonly wv: number;
  /** Lanes per vector, bytes per lane. */
  readonly L: number;
  readonly eb: number;
  /** Input channels per group padded to a whole vector, in elements and in vectors. */
  readonly Cp: number;
  readonly Cv: number;
  /** Blocks of four output channels per group. */
  readonly Mb: number;
  readonly xOff: number;
  readonly wOff: number;
  readonly yOff: number;
  readonly tOff: number;
  readonly bytes: number;
}

const align16 = (n: number) => Math.ceil(n / 16) * 16;

function planMemory(L: ConvLayer, s: ConvShape, lanes: ReferenceLanes, store: WeightStore = "lanes"): Plan {
  const { count, bytes: eb } = LANES[lanes];
  const wv = store === "lanes" ? count * eb : count;
  const Cp = Math.ceil(s.inChannelsPerGroup / count) * count;
  const Cv = Cp / count;
  const Mb = Math.ceil(s.outChannelsPerGroup / 4);
  const xBytes = L.groups * L.inHeight * L.inWidth * Cp * eb;
  const wBytes = align16(L.groups * Mb * L.kernelHeight * L.kernelWidth * Cv * 4 * wv);
  const yBytes = align16(L.outChannels * s.outHeight * s.outWidth * 4);
  const xOff = 0;
  const wOff = xOff + xBytes;
  const yOff = wOff + wBytes;
  const tOff = yOff + yBytes;
  return { lanes, store, wv, L: count, eb, Cp, Cv, Mb, xOff, wOff, yOff, tOff, bytes: tOff + s.outWidth * 16 };
}

/** Whether every value of `a`, less `zero`, fits an i16 lane. */
function fitsI16(a: OperandArray, zero: number): boolean {
  if (!(a instanceof Int16Array)) return true; // int8, uint8: |a - zero| <= 255
  if (zero === 0) return true;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo - zero >= -32768 && hi - zero <= 32767;
}

/** Byte weights with a zero zero point are kept as bytes (with i16 lanes); others in the lanes' width. */
function weightStore(op: Pick<ConvOperands, "w" | "wZeroPoint">, lanes: ReferenceLanes): WeightStore {
  if (lanes !== "i16" || op.wZeroPoint !== 0) return "lanes";
  return op.w instanceof Int8Array ? "int8" : op.w instanceof Uint8Array ? "uint8" : "lanes";
}

/** The lane width the operands allow: i16 when every shifted input and weight fits an i16, else i32. */
export function referenceLanes(op: Pick<ConvOperands, "x" | "w" | "xZeroPoint" | "wZeroPoint">): ReferenceLanes {
  return fitsI16(op.x, op.xZeroPoint) && fitsI16(op.w, op.wZeroPoint) ? "i16" : "i32";
}

/**
 * Bytes of linear memory the fast reference uses for a layer: one image's packed input, the
 * packed weights, one image's output and the column table (O(input + weights + output)).
 */
export function referenceMemoryBytes(layer: ConvLayer, lanes: ReferenceLanes): number {
  return planMemory(layer, convShape(layer), lanes).bytes;
}

/**
 * Packs the weights, shifted by their zero point, four output channels to a 64-byte vector group.
 * The packed array is written in order (block of four channels, tap, vector, channel, lane), each
 * run of lanes read from one channel's row at a stride of the taps: sequential writes, and reads
 * from four rows at a time (a loop over source order jumped by a vector group at every run: the
 * whole call on AlexNet fc6's 37.7 M weights, warm, took 77 ms with this packing against 90-100
 * ms). Padding lanes and missing channels stay zero: the scratch memory is cleared before every
 * call.
 */
function packWeights(op: ConvOperands, s: ConvShape, p: Plan, buf: ArrayBuffer): void {
  const L = op.layer;
  const RS = L.kernelHeight * L.kernelWidth;
  const Cg = s.inChannelsPerGroup;
  const Mg = s.outChannelsPerGroup;
  const n = p.yOff - p.wOff;
  const dst = p.store === "int8" ? new Int8Array(buf, p.wOff, n) : p.store === "uint8" ? new Uint8Array(buf, p.wOff, n) : p.lanes === "i16" ? new Int16Array(buf, p.wOff, n / 2) : new Int32Array(buf, p.wOff, n / 4);
  const w = op.w;
  const zw = op.wZeroPoint;
  const lanes = p.L;
  const perTap = p.Cv * 4 * lanes;
  for (let g = 0; g < L.groups; g++) {
    for (let mb = 0; mb < p.Mb; mb++) {
      const m0 = g * Mg + mb * 4;
      const nj = Math.min(4, Mg - mb * 4);
      const base = (g * p.Mb + mb) * RS * perTap;
      for (let t = 0; t < RS; t++) {
        for (let v = 0, c0 = 0; v < p.Cv; v++, c0 += lanes) {
          const n = Math.min(lanes, Cg - c0);
          let d = base + t * perTap + v * 4 * lanes;
          for (let j = 0; j < nj; j++, d += lanes) {
            let src = ((m0 + j) * Cg + c0) * RS + t;
            for (let i = d; i < d + n; i++, src += RS) dst[i] = w[src]! - zw;
          }
        }
      }
    }
  }
}

/** Packs image `n` of the input, shifted by its zero point, channel-innermost per group. */
function packImage(op: ConvOperands, s: ConvShape, p: Plan, buf: ArrayBuffer, n: number): void {
  const L = op.layer;
  const HW = L.inHeight * L.inWidth;
  const Cg = s.inChannelsPerGroup;
  const dst = p.lanes === "i16" ? new Int16Array(buf, p.xOff, (p.wOff - p.xOff) / 2) : new Int32Array(buf, p.xOff, (p.wOff - p.xOff) / 4);
  const x = op.x;
  const zx = op.xZeroPoint;
  for (let g = 0; g < L.groups; g++) {
    for (let c = 0; c < Cg; c++) {
      let src = (n * L.inChannels + g * Cg + c) * HW;
      let d = g * HW * p.Cp + c;
      for (let i = 0; i < HW; i++) {
        dst[d] = x[src++]! - zx;
        d += p.Cp;
      }
    }
  }
}

/** The column table: per output column its first real tap (byte offsets into a row of x and of w), taps and vectors per tap. */
function columnTable(L: ConvLayer, s: ConvShape, p: Plan, buf: ArrayBuffer): number {
  const t = new Int32Array(buf, p.tOff, s.outWidth * 4);
  const [, sw] = L.strides;
  const [, dw] = L.dilations;
  const pixel = p.Cp * p.eb;
  for (let ow = 0; ow < s.outWidth; ow++) {
    const iw0 = ow * sw - L.pads[1];
    const kw0 = iw0 >= 0 ? 0 : Math.ceil(-iw0 / dw);
    const kw1 = Math.min(L.kernelWidth, Math.floor((L.inWidth - 1 - iw0) / dw) + 1);
    const taps = Math.max(0, kw1 - kw0);
    t[4 * ow] = taps > 0 ? (iw0 + kw0 * dw) * pixel : 0;
    t[4 * ow + 1] = kw0 * p.Cv * 4 * p.wv;
    // With dilation 1 a column's taps are contiguous in x and in w: one run of vectors.
    t[4 * ow + 2] = dw === 1 ? Math.min(taps, 1) : taps;
    t[4 * ow + 3] = dw === 1 ? Math.max(taps, 1) * p.Cv : p.Cv;
  }
  return dw === 1 ? 0 : (dw - 1) * pixel;
}

/** Runs the kernel over every output row of image `n`, four output channels per call. */
function convolveImage(L: ConvLayer, s: ConvShape, p: Plan, kernel: RowKernel, skip: number): void {
  const { kernelHeight: KH, kernelWidth: KW, inHeight: H, inWidth: W } = L;
  const [sh] = L.strides;
  const [dh] = L.dilations;
  const Mg = s.outChannelsPerGroup;
  const plane = s.outHeight * s.outWidth;
  const xRowBytes = W * p.Cp * p.eb;
  const wRowBytes = KW * p.Cv * 4 * p.wv;
  for (let g = 0; g < L.groups; g++) {
    const xg = p.xOff + g * H * xRowBytes;
    for (let mb = 0; mb < p.Mb; mb++) {
      const wBlock = p.wOff + (g * p.Mb + mb) * KH * wRowBytes;
      const yBlock = p.yOff + (g * Mg + 4 * mb) * plane * 4;
      const mcount = Math.min(4, Mg - 4 * mb);
      for (let oh = 0; oh < s.outHeight; oh++) {
        const ih0 = oh * sh - L.pads[0];
        const kh0 = ih0 >= 0 ? 0 : Math.ceil(-ih0 / dh);
        const kh1 = Math.min(KH, Math.floor((H - 1 - ih0) / dh) + 1);
        if (kh1 <= kh0) continue; // every tap of the row is padding: the output stays at the bias
        kernel(xg + (ih0 + kh0 * dh) * xRowBytes, dh * xRowBytes, wBlock + kh0 * wRowBytes, wRowBytes, kh1 - kh0, p.tOff, s.outWidth, yBlock + oh * s.outWidth * 4, plane * 4, mcount, skip);
      }
    }
  }
}

/** A linear memory and the kernels' instance bound to it. */
interface Scratch {
  readonly mem: WasmMemory;
  readonly inst: { readonly exports: Record<string, unknown> };
}

/**
 * The thread's scratch memory, grown as layers need and reused by every call (each worker thread
 * loads this module, so each has its own). A memory per call cost a network run hundreds of MB of
 * peak RSS: the engine releases a WebAssembly.Memory only when the collector gets to it. Outputs
 * never depend on it: every call clears the bytes it uses first.
 */
let scratch: Scratch | undefined;

/**
 * A linear memory of at least `bytes` bytes, cleared, with the kernels' instance, or undefined when
 * the engine cannot allocate it (a RangeError).
 */
function scratchMemory(wasm: CompiledWasm, bytes: number): Scratch | undefined {
  const pages = Math.max(1, Math.ceil(bytes / WASM_PAGE_BYTES));
  try {
    if (scratch === undefined) {
      const mem = new wasm.api.Memory({ initial: pages });
      scratch = { mem, inst: new wasm.api.Instance(wasm.module, { env: { mem } }) };
    } else if (scratch.mem.buffer.byteLength < pages * WASM_PAGE_BYTES) {
      scratch.mem.grow(pages - scratch.mem.buffer.byteLength / WASM_PAGE_BYTES);
    }
  } catch (e) {
    if (e instanceof RangeError) return undefined;
    throw e;
  }
  // A new or grown memory is zero past what earlier calls used: only that part needs clearing.
  new Uint8Array(scratch.mem.buffer, 0, Math.min(bytes, scratchUsed)).fill(0);
  scratchUsed = Math.max(scratchUsed, bytes);
  return scratch;
}

/** How many bytes of the scratch memory calls have used so far (the rest is still zero). */
let scratchUsed = 0;

/** Options of {@link referenceConvWasm}: the convolution's, and the lane width for tests. */
export interface WasmReferenceOptions extends ConvOptions {
  /**
   * `"i32"` forces i32 lanes, which are exact for every operand; default: i16 lanes when every
   * shifted operand fits them (see the file header), else i32.
   */
  lanes?: ReferenceLanes;
}

/**
 * The convolution in WebAssembly SIMD, bit-exact with {@link referenceConvJs}.
 * @param layer the layer (validated here).
 * @param x input, NCHW, Int8Array | Uint8Array | Int16Array.
 * @param w weights, OIHW, Int8Array | Uint8Array | Int16Array.
 * @returns y, NCHW, Int32Array; or undefined, having computed nothing, where WebAssembly with
 *   SIMD is unavailable or the layer needs more than 4 GiB of linear memory (or more than the
 *   engine will allocate).
 * @throws ConfigError on a bad layer, array type, length, zero point or bias.
 */
export function referenceConvWasm(layer: ConvLayer | ConvLayerSpec, x: OperandArray, w: OperandArray, options: WasmReferenceOptions = {}): Int32Array | undefined {
  const op = checkOperands(layer, x, w, options);
  if (WASM === null) return undefined;
  const L = op.layer;
  const s = convShape(L);
  const lanes = options.lanes === "i32" ? "i32" : referenceLanes(op);
  const p = planMemory(L, s, lanes, weightStore(op, lanes));
  const sc = p.bytes <= MAX_BYTES ? scratchMemory(WASM, p.bytes) : undefined;
  if (sc === undefined) return undefined;
  const kernel = sc.inst.exports[kernelName(lanes, p.store)] as RowKernel;
  const buf = sc.mem.buffer;
  packWeights(op, s, p, buf);
  const skip = columnTable(L, s, p, buf);
  const plane = s.outHeight * s.outWidth;
  const yImage = new Int32Array(buf, p.yOff, L.outChannels * plane);
  const y = new Int32Array(s.outputElements);
  for (let n = 0; n < L.batch; n++) {
    packImage(op, s, p, buf, n);
    if (op.bias) for (let m = 0; m < L.outChannels; m++) yImage.fill(op.bias[m]!, m * plane, (m + 1) * plane);
    else yImage.fill(0);
    convolveImage(L, s, p, kernel, skip);
    y.set(yImage, n * L.outChannels * plane);
  }
  return y;
}
