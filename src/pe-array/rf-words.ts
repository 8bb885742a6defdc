/**
 * The register files' word loops in WebAssembly: fills (psum init, padding) and reads (drains,
 * link shifts' senders) of the same one-row box in every PE of a rectangle, over the partitions
 * that live in the wave kernels' memory (wave-kernels.ts). The JavaScript loops of
 * {@link RegFile.fillMany} and {@link RegFile.readMany} walk a PE list and look up each PE's
 * base; a psum tile is often a few words per PE (`is` on the `chen2020` preset fills and drains 4
 * words in each of 168 PEs at every iteration), so the loop's overhead per PE is most of its
 * time. Here a rectangle of PEs whose partitions lie `entries` words apart (no line buffer) is a
 * grid of byte addresses, walked row by row; a contiguous run of words moves four at a time
 * (`v128.store`, `v128.load`).
 *
 * What they do is what the JavaScript loops do: the same words written (fill) or copied densely
 * in PE order (read), counted alike, each box checked once ({@link RfWords.fillRect},
 * {@link RfWords.readRect}). Checked runs (tags) and line buffers keep the JavaScript loops.
 * Tests require the same register files and payloads as those loops on random boxes and
 * rectangles.
 */
import { boxRows, checkBox, InvariantError, type Box, type WordArray } from "../core/index.js";
import type { RegFile, RfPartition } from "../memory/regfile.js";
import { checkRect, type PeRect } from "./pe-set.js";
import { assembleModule, bump, bumpBy, compileWasm, op, whileLt, type WasmApi, type WasmMemory } from "../wasm/encoder.js";

// Parameters (both functions): the first PE's first word (bytes), the step to the next PE of a
// row and to the next row (bytes), the rectangle's rows and columns, the words per PE, their
// stride (bytes), how many of them move four at a time (a multiple of 4; 0 unless the stride is
// 4 bytes), and the fill's value or the read's destination (bytes).
const ADDR = 0, COL_STEP = 1, ROW_STEP = 2, ROWS = 3, COLS = 4, INNER = 5, STRIDE = 6, INNER4 = 7, LAST = 8;
// i32 locals.
const R = 9, C = 10, RA = 11, A = 12, T = 13, Q = 14, D = 15;
const I32_LOCALS = 7;
// v128 locals.
const VV = 16;

/** For every PE of the grid (row by row): t = its first word's address, q = 0, then `perPe`. */
function perPe(perPeBody: readonly number[]): number[] {
  return [
    ...op.get(ADDR), ...op.set(RA), ...op.const(0), ...op.set(R),
    ...whileLt(R, ROWS, [
      ...op.get(RA), ...op.set(A), ...op.const(0), ...op.set(C),
      ...whileLt(C, COLS, [
        ...op.get(A), ...op.set(T), ...op.const(0), ...op.set(Q),
        ...perPeBody,
        ...bumpBy(A, COL_STEP), ...bump(C, 1),
      ]),
      ...bumpBy(RA, ROW_STEP), ...bump(R, 1),
    ]),
  ];
}

/** fill(..., value): every word of the box in every PE becomes `value`. */
const fillBody = [
  ...op.get(LAST), ...op.splat, ...op.set(VV),
  ...perPe([
    ...whileLt(Q, INNER4, [...op.get(T), ...op.get(VV), ...op.vstore, ...bump(T, 16), ...bump(Q, 4)]),
    ...whileLt(Q, INNER, [...op.get(T), ...op.get(LAST), ...op.store, ...bumpBy(T, STRIDE), ...bump(Q, 1)]),
  ]),
];

/** gather(..., dst): the box's words of every PE, densely from `dst` in PE order. */
const gatherBody = [
  ...op.get(LAST), ...op.set(D),
  ...perPe([
    ...whileLt(Q, INNER4, [...op.get(D), ...op.get(T), ...op.vload, ...op.vstore, ...bump(T, 16), ...bump(D, 16), ...bump(Q, 4)]),
    ...whileLt(Q, INNER, [...op.get(D), ...op.get(T), ...op.load, ...op.store, ...bumpBy(T, STRIDE), ...bump(D, 4), ...bump(Q, 1)]),
  ]),
];

/** Compiled once, when this module loads. */
const WASM = compileWasm(
  assembleModule([
    { name: "fill", params: 9, i32Locals: I32_LOCALS, v128Locals: 1, body: fillBody },
    { name: "gather", params: 9, i32Locals: I32_LOCALS, v128Locals: 1, body: gatherBody },
  ]),
);

type GridLoop = (addr: number, colStep: number, rowStep: number, rows: number, cols: number, inner: number, stride: number, inner4: number, last: number) => void;

/** Words of the read scratch by default: 256 KiB (a read of more runs the JavaScript loop). */
export const RF_WORDS_SCRATCH_WORDS = 65536;

/**
 * The word loops on one WebAssembly memory, with a scratch area of their own for reads (the words
 * are gathered there, then copied out with one `set`).
 */
export class RfWords {
  private readonly fillLoop: GridLoop;
  private readonly gatherLoop: GridLoop;
  private readonly scratch: Int32Array;

  private constructor(
    api: WasmApi,
    module: object,
    mem: WasmMemory,
    private readonly scratchByte: number,
    scratchWords: number,
  ) {
    const inst = new api.Instance(module, { env: { mem } });
    this.fillLoop = inst.exports.fill as GridLoop;
    this.gatherLoop = inst.exports.gather as GridLoop;
    this.buffer = mem.buffer;
    this.scratch = new Int32Array(this.buffer, scratchByte, scratchWords);
  }

  /** The memory's buffer (the register file must live in it). */
  readonly buffer: ArrayBuffer;

  /**
   * Word loops on `mem`, reading through `scratchWords` words from byte `scratchByte` (which
   * nothing else may use), or undefined where WebAssembly with SIMD is unavailable.
   */
  static create(mem: WasmMemory, scratchByte: number, scratchWords = RF_WORDS_SCRATCH_WORDS): RfWords | undefined {
    if (!WASM) return undefined;
    if (scratchByte % 4 !== 0 || scratchByte + scratchWords * 4 > mem.buffer.byteLength) throw new InvariantError("pe", `a word scratch of ${scratchWords} words at byte ${scratchByte} does not fit a memory of ${mem.buffer.byteLength} bytes`);
    return new RfWords(WASM.api, WASM.module, mem, scratchByte, scratchWords);
  }

  /**
   * {@link RegFile.fillMany} of `box` of `part` in the PEs of rectangle `r` of an array of `pitch`
   * PEs per row (checked to lie in it): `value` in every word, `n` fills counted per PE. Returns
   * false, having done nothing, where the JavaScript loop must run: a checked register file, a
   * line buffer, a box of more than one row, a register file outside this memory.
   */
  fillRect(rf: RegFile, part: RfPartition, box: Box, value: number, n: number, r: PeRect, pitch: number): boolean {
    const g = this.grid(rf, part, box, r, pitch, "fill");
    if (!g) return false;
    this.fillLoop(g.addr, g.colStep, g.rowStep, r.rows, r.cols, g.inner, g.stride, g.inner4, value);
    rf.counters[part].fill.value += n * r.rows * r.cols;
    return true;
  }

  /**
   * {@link RegFile.readMany} of `box` of `part` from the PEs of rectangle `r` (as {@link fillRect}):
   * each PE's words densely into `dst` in rectangle order, the reads counted. Returns false, having
   * done nothing, where the JavaScript loop must run (as {@link fillRect}, and a read larger than
   * the scratch or into an array that is not an Int32Array).
   */
  readRect(rf: RegFile, part: RfPartition, box: Box, dst: WordArray, r: PeRect, pitch: number): boolean {
    if (!(dst instanceof Int32Array)) return false;
    const g = this.grid(rf, part, box, r, pitch, "read");
    if (!g) return false;
    const total = r.rows * r.cols * g.n;
    if (total > this.scratch.length || dst.length < total) return false;
    this.gatherLoop(g.addr, g.colStep, g.rowStep, r.rows, r.cols, g.inner, g.stride, g.inner4, this.scratchByte);
    dst.set(total === this.scratch.length ? this.scratch : this.scratch.subarray(0, total));
    rf.counters[part].read.value += total;
    return true;
  }

  /** The grid of `box` over rectangle `r` in bytes, or undefined where the loops cannot run it (see {@link fillRect}). */
  private grid(rf: RegFile, part: RfPartition, box: Box, r: PeRect, pitch: number, what: string) {
    if (rf.tags || rf.isLineBuffer(part)) return undefined;
    const data = rf.data[part];
    if (data.buffer !== this.buffer) return undefined;
    const e = rf.entries[part];
    const n = checkBox(rf.name, what, box, e, part);
    const rows = boxRows(box);
    if (rows.starts.length !== 1) return undefined;
    // (the loops write unchecked memory: the rectangle must lie in the array)
    checkRect(rf.name, r, Math.floor(rf.pes / pitch), pitch);
    const stride = rows.stride * 4;
    const inner4 = rows.stride === 1 ? rows.inner & ~3 : 0;
    const first = rf.base[part][r.row0 * pitch + r.col0]! + rows.starts[0]!;
    return { n, inner: rows.inner, stride, inner4, addr: data.byteOffset + first * 4, colStep: e * 4, rowStep: pitch * e * 4 };
  }
}
