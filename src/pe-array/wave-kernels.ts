/**
 * The MAC-wave kernels in WebAssembly: the fast mode's path for unchecked waves, whole or in
 * pieces, in place of the JavaScript {@link runWave} (18x faster on bench/pe-array.bench.ts's
 * wave, side by side).
 *
 * Why WebAssembly: a JavaScript MAC `(psum + (x - zx) * (w - zw)) | 0` computes in doubles and
 * wraps at the end; WebAssembly's i32 arithmetic wraps at every step, which is the same result
 * (wrap-around addition and multiplication modulo 2^32 commute with the final wrap), and its
 * 128-bit SIMD runs four MACs per instruction. Node has both built in, so this adds no
 * dependency and no build step: the module is assembled when this file loads, from the
 * readable instruction lists below, by the project's small encoder (src/wasm/encoder.ts, shared
 * with the fast reference convolution; it knows nothing of either).
 *
 * Data: the register files' partitions live in the kernels' linear memory (a {@link RegFile}
 * built over {@link WaveKernels.buffer}), followed by a scratch area for the per-call tables:
 * one (input, weight, psum) byte-offset triple per PE of the wave and one per innermost row
 * (the compiled wave's row tables), then the scratch of the register files' word loops
 * (rf-words.ts: fills and reads of a box in a rectangle of PEs, on the same memory). A kernel
 * walks PEs x rows x the innermost loop, exactly the loop structure of the JavaScript
 * {@link runWave}, in the same execution order ({@link CompiledWave.exec}).
 *
 * Kernels, chosen by the innermost strides (in entries) of the execution order:
 * - `vall`: input, weight and psum strides all 1: four MACs per step;
 * - `vw0`: weight stride 0 (one weight against a row of inputs), input and psum strides 1;
 * - `vi0`: input stride 0 (one input against a row of weights), weight and psum strides 1;
 * - `vred`: psum stride 0 (a reduction), input and weight strides 1: a vector accumulator whose
 *   four lanes are summed into the psum at the end of the row;
 * - `sred`: any other reduction, scalar, the sum in a local;
 * - `vgw0`: weight stride 0, psum stride 1, any other input stride (a convolution's stride: AlexNet
 *   conv1's 4): the four inputs gathered by one load each into a vector;
 * - `vgat`: psum stride 1, any other input and weight strides: both gathered;
 * - `scalar`: anything else (psum strides other than 0 and 1), one MAC per step with arbitrary strides.
 * Vector kernels finish a row whose length is not a multiple of four with scalar MACs.
 *
 * Only whole waves run here (the fast mode's bulk execution); a wave run in pieces (reference
 * mode) and every checked wave run in JavaScript. Tests require the kernels to leave exactly the
 * partial sums the JavaScript kernel leaves, for every kernel and random waves.
 */
import { InvariantError } from "../core/index.js";
import type { RegFile } from "../memory/regfile.js";
import { assembleModule, bump, bumpBy, compileWasm, loadAt, op, whileLt, WASM_PAGE_BYTES, type WasmApi } from "../wasm/encoder.js";
import { RF_WORDS_SCRATCH_WORDS, RfWords } from "./rf-words.js";
import type { PeRect } from "./pe-set.js";
import type { CompiledWave, RowNest } from "./wave.js";

/** A kernel: (pesPtr, nPes, rowsPtr, nRows, inner, zi, zw, si, sw, sp) -> void, strides in bytes. */
type Kernel = (pesPtr: number, nPes: number, rowsPtr: number, nRows: number, inner: number, zi: number, zw: number, si: number, sw: number, sp: number) => void;

/** The kernels' names, in the order they are exported. */
export const WAVE_KERNEL_NAMES = ["scalar", "sred", "vall", "vw0", "vi0", "vred", "vgw0", "vgat"] as const;

/** A kernel's name. */
export type WaveKernelName = (typeof WAVE_KERNEL_NAMES)[number];

// ---- The kernels ----------------------------------------------------------------------------

// Parameters.
const PES = 0, NPES = 1, ROWS = 2, NROWS = 3, INNER = 4, ZI = 5, ZW = 6, SI = 7, SW = 8, SP = 9;
// i32 locals (19 and 23 are declared but no kernel uses them).
const PE = 10, R = 11, IB = 12, WB = 13, PB = 14, IA = 15, WA = 16, PA = 17, Q = 18, RP = 20, PP = 21, INNER4 = 22, ACC = 24, T = 25;
const I32_LOCALS = 16;
// v128 locals.
const ZIS = 26, ZWS = 27, WVS = 28, IVS = 29, VACC = 30;
const V128_LOCALS = 5;

/** For every PE, for every innermost row: set ia, wa, pa to the row's start, then `row`. */
function perPeRow(row: readonly number[]): number[] {
  return [
    ...op.get(PES), ...op.set(PP), ...op.const(0), ...op.set(PE),
    ...whileLt(PE, NPES, [
      ...loadAt(PP, 0), ...op.set(IB), ...loadAt(PP, 4), ...op.set(WB), ...loadAt(PP, 8), ...op.set(PB), ...bump(PP, 12),
      ...op.get(ROWS), ...op.set(RP), ...op.const(0), ...op.set(R),
      ...whileLt(R, NROWS, [
        ...op.get(IB), ...loadAt(RP, 0), ...op.add, ...op.set(IA),
        ...op.get(WB), ...loadAt(RP, 4), ...op.add, ...op.set(WA),
        ...op.get(PB), ...loadAt(RP, 8), ...op.add, ...op.set(PA), ...bump(RP, 12),
        ...row,
        ...bump(R, 1),
      ]),
      ...bump(PE, 1),
    ]),
  ];
}

/** (x[ia] - zi) * (w[wa] - zw), wrapped to i32. */
const scalarProduct = [...op.get(IA), ...op.load, ...op.get(ZI), ...op.sub, ...op.get(WA), ...op.load, ...op.get(ZW), ...op.sub, ...op.mul];
/** Advance the three addresses by their strides. */
const advance = [...bumpBy(IA, SI), ...bumpBy(WA, SW), ...bumpBy(PA, SP)];
/** psum[pa] += product; advance; q++ — from q to the row's end. */
const scalarTail = whileLt(Q, INNER, [...op.get(PA), ...op.get(PA), ...op.load, ...scalarProduct, ...op.add, ...op.store, ...advance, ...bump(Q, 1)]);
/** The reduction's scalar loop: acc += product; from q to the row's end. */
const reduceTail = whileLt(Q, INNER, [...op.get(ACC), ...scalarProduct, ...op.add, ...op.set(ACC), ...bumpBy(IA, SI), ...bumpBy(WA, SW), ...bump(Q, 1)]);

const scalarKernel = perPeRow([...op.const(0), ...op.set(Q), ...scalarTail]);

const scalarReduceKernel = perPeRow([
  ...op.get(PA), ...op.load, ...op.set(ACC), ...op.const(0), ...op.set(Q),
  ...reduceTail,
  ...op.get(PA), ...op.get(ACC), ...op.store,
]);

/** The vector operands: four inputs or the row's input, four weights or the row's weight. */
const vInputs = [...op.get(IA), ...op.vload, ...op.get(ZIS), ...op.vsub];
const vWeights = [...op.get(WA), ...op.vload, ...op.get(ZWS), ...op.vsub];

/** A vector kernel over rows whose psum stride is 1 (psum[pa..pa+3] += a * b). */
function vectorKernel(a: readonly number[], b: readonly number[], perRow: readonly number[], step: readonly number[]): number[] {
  return [
    ...op.get(ZI), ...op.splat, ...op.set(ZIS), ...op.get(ZW), ...op.splat, ...op.set(ZWS),
    ...op.get(INNER), ...op.const(-4), ...op.and, ...op.set(INNER4),
    ...perPeRow([
      ...perRow,
      ...op.const(0), ...op.set(Q),
      ...whileLt(Q, INNER4, [...op.get(PA), ...op.get(PA), ...op.vload, ...a, ...b, ...op.vmul, ...op.vadd, ...op.vstore, ...step, ...bump(PA, 16), ...bump(Q, 4)]),
      ...scalarTail,
    ]),
  ];
}

/**
 * Four operands `stride` bytes apart, from the address in local `a` on, gathered into a vector
 * (one load and a lane replacement each); `a` left at the fifth.
 */
function gather(a: number, stride: number): number[] {
  const next = (lane: number) => [...op.get(T), ...op.get(stride), ...op.add, ...op.tee(T), ...op.load, ...op.replaceLane(lane)];
  return [
    ...op.get(a), ...op.load, ...op.splat,
    ...op.get(a), ...op.get(stride), ...op.add, ...op.tee(T), ...op.load, ...op.replaceLane(1),
    ...next(2), ...next(3),
    ...op.get(T), ...op.get(stride), ...op.add, ...op.set(a),
  ];
}

const vallKernel = vectorKernel(vInputs, vWeights, [], [...bump(IA, 16), ...bump(WA, 16)]);
const vw0Kernel = vectorKernel(vInputs, op.get(WVS), [...op.get(WA), ...op.load, ...op.get(ZW), ...op.sub, ...op.splat, ...op.set(WVS)], bump(IA, 16));
const vi0Kernel = vectorKernel(op.get(IVS), vWeights, [...op.get(IA), ...op.load, ...op.get(ZI), ...op.sub, ...op.splat, ...op.set(IVS)], bump(WA, 16));
const vgw0Kernel = vectorKernel([...gather(IA, SI), ...op.get(ZIS), ...op.vsub], op.get(WVS), [...op.get(WA), ...op.load, ...op.get(ZW), ...op.sub, ...op.splat, ...op.set(WVS)], []);
const vgatKernel = vectorKernel([...gather(IA, SI), ...op.get(ZIS), ...op.vsub], [...gather(WA, SW), ...op.get(ZWS), ...op.vsub], [], []);
const vredKernel = [
  ...op.get(ZI), ...op.splat, ...op.set(ZIS), ...op.get(ZW), ...op.splat, ...op.set(ZWS),
  ...op.get(INNER), ...op.const(-4), ...op.and, ...op.set(INNER4),
  ...perPeRow([
    ...op.const(0), ...op.splat, ...op.set(VACC), ...op.const(0), ...op.set(Q),
    ...whileLt(Q, INNER4, [...op.get(VACC), ...vInputs, ...vWeights, ...op.vmul, ...op.vadd, ...op.set(VACC), ...bump(IA, 16), ...bump(WA, 16), ...bump(Q, 4)]),
    // acc = psum + the four lanes; then the row's last MACs; then store.
    ...op.get(PA), ...op.load,
    ...op.get(VACC), ...op.lane(0), ...op.add, ...op.get(VACC), ...op.lane(1), ...op.add,
    ...op.get(VACC), ...op.lane(2), ...op.add, ...op.get(VACC), ...op.lane(3), ...op.add,
    ...op.set(ACC),
    ...reduceTail,
    ...op.get(PA), ...op.get(ACC), ...op.store,
  ]),
];

const KERNEL_BODIES: Record<WaveKernelName, number[]> = {
  scalar: scalarKernel,
  sred: scalarReduceKernel,
  vall: vallKernel,
  vw0: vw0Kernel,
  vi0: vi0Kernel,
  vred: vredKernel,
  vgw0: vgw0Kernel,
  vgat: vgatKernel,
};

/** The module: the kernels, each with ten i32 parameters, memory imported as env.mem. */
function assembleWaveKernels(): Uint8Array {
  return assembleModule(WAVE_KERNEL_NAMES.map((n) => ({ name: n, params: 10, i32Locals: I32_LOCALS, v128Locals: V128_LOCALS, body: KERNEL_BODIES[n] })));
}

/** Compiled once, when this module loads (a few kilobytes: well under a millisecond). */
const WASM = compileWasm(assembleWaveKernels());

/** PE tables kept at most ({@link WaveKernels}: all dropped when a new one would exceed it). */
const MAX_PE_TABLES = 64;

/** Words of scratch for the per-call tables: 3 per PE plus 3 per innermost row. */
export const WAVE_SCRATCH_WORDS = 3 * (4096 + 65536);

/**
 * A WebAssembly instance of the wave kernels with its linear memory, which holds a register
 * file's partitions ({@link WaveKernels.buffer}, {@link WaveKernels.rfBytes} bytes from offset 0)
 * and the kernels' scratch after them.
 */
export class WaveKernels {
  /** The linear memory's buffer: build the {@link RegFile} over it. Never grown (views stay valid). */
  readonly buffer: ArrayBuffer;
  /** Bytes reserved for the register file, from offset 0. */
  readonly rfBytes: number;
  /** Calls per kernel, for tests and benchmarks. */
  readonly calls: Record<WaveKernelName, number> = { scalar: 0, sred: 0, vall: 0, vw0: 0, vi0: 0, vred: 0, vgw0: 0, vgat: 0 };
  private readonly kernels: Record<WaveKernelName, Kernel>;
  private readonly scratch: Int32Array;
  private readonly scratchBytes: number;
  private readonly scratchWords: number;
  private readonly rowTables = new WeakMap<RowNest, Int32Array>();

  private constructor(api: WasmApi, module: object, rfWords: number, scratchWords: number) {
    this.rfBytes = rfWords * 4;
    // (the register file, the kernels' tables, then the word loops' scratch)
    const wordsByte = this.rfBytes + scratchWords * 4;
    const pages = Math.ceil((wordsByte + RF_WORDS_SCRATCH_WORDS * 4) / WASM_PAGE_BYTES);
    const mem = new api.Memory({ initial: pages, maximum: pages });
    const inst = new api.Instance(module, { env: { mem } });
    this.buffer = mem.buffer;
    this.scratchBytes = this.rfBytes;
    this.scratchWords = scratchWords;
    this.scratch = new Int32Array(this.buffer, this.scratchBytes, scratchWords);
    const k = {} as Record<WaveKernelName, Kernel>;
    for (const n of WAVE_KERNEL_NAMES) k[n] = inst.exports[n] as Kernel;
    this.kernels = k;
    this.words = RfWords.create(mem, wordsByte);
  }

  /** The register files' word loops on the same memory ({@link RfWords}), where they compile. */
  readonly words: RfWords | undefined;

  /**
   * Kernels with room for a register file of `rfWords` words (all partitions, all PEs), or
   * undefined where WebAssembly with SIMD is unavailable (the JavaScript kernel then runs).
   * @param scratchWords table space; the default fits 4,096 PEs and 65,536 rows per call.
   */
  static create(rfWords: number, scratchWords = WAVE_SCRATCH_WORDS): WaveKernels | undefined {
    return WASM ? new WaveKernels(WASM.api, WASM.module, rfWords, scratchWords) : undefined;
  }

  /** Whether this process can run the kernels (WebAssembly with SIMD). */
  static available(): boolean {
    return WASM !== null;
  }

  /**
   * Runs a whole wave (every MAC, in {@link CompiledWave.exec}'s order) on `rf`, which must live
   * in {@link buffer}. Returns false, having done nothing, when the wave's tables do not fit the
   * scratch (the caller then runs the JavaScript kernel). Counted in {@link calls}.
   * @throws InvariantError when `rf` does not live in this memory, below the scratch.
   */
  run(cw: CompiledWave, rf: RegFile, arrayCols: number): boolean {
    const name = this.runRange(cw, cw.exec, 0, cw.macs, rf, arrayCols);
    if (name === undefined) return false;
    this.calls[name]++;
    return true;
  }

  /**
   * Runs MACs `[t0, t1)` of `order` (`cw.order`, the mapping's) in every PE of the wave: the
   * piece of a wave run in pieces between register writes. Partial rows at either end run as
   * rows of their own, shorter length. Within one piece nothing changes the operands, and the
   * int32 sums wrap modulo 2^32 whatever the order, so the kernels leave the same registers as
   * the JavaScript kernel's MACs in `order`. Counted in {@link pieces}. Returns false, having
   * done nothing, when the tables do not fit the scratch.
   * @throws InvariantError when `rf` does not live in this memory, below the scratch, or the
   *   range is not within the nest.
   */
  runPiece(cw: CompiledWave, order: RowNest, t0: number, t1: number, rf: RegFile, arrayCols: number): boolean {
    const name = this.runRange(cw, order, t0, t1, rf, arrayCols);
    if (name === undefined) return false;
    this.pieces[name]++;
    return true;
  }

  /**
   * MACs `[t0, t1)` of `order` in every PE of the wave: the whole rows in one call, a partial row
   * at either end in a call of its own. Returns the kernel that ran, or undefined, having done
   * nothing, when the PE and row tables do not fit the scratch.
   */
  private runRange(cw: CompiledWave, order: RowNest, t0: number, t1: number, rf: RegFile, arrayCols: number): WaveKernelName | undefined {
    const inner = order.inner;
    const total = order.rowIn.length;
    if (!Number.isInteger(t0) || !Number.isInteger(t1) || t0 < 0 || t1 > total * inner || t0 >= t1) throw new InvariantError("pe", `wave MACs [${t0}, ${t1}) are not a piece of a ${total * inner}-MAC nest`);
    const k = this.pesTable(cw, rf, arrayCols);
    // Row slots: one per whole row, at least one (a partial row's).
    if (k < 0 || k + 3 * Math.max(1, Math.floor(t1 / inner) - Math.ceil(t0 / inner)) > this.scratchWords) return undefined;
    const name = kernelFor(order.si, order.sw, order.sp);
    const call = this.kernels[name];
    const s = this.scratch;
    const nPes = k / 3;
    const pesPtr = this.scratchBytes;
    const rowsPtr = pesPtr + 4 * k;
    const zx = cw.wave.inputZero ?? 0;
    const zw = cw.wave.weightZero ?? 0;
    // (byte strides of the three operands, the same for every call below)
    const si = order.si * 4;
    const sw = order.sw * 4;
    const sp = order.sp * 4;
    let t = t0;
    const head = t0 % inner;
    if (head !== 0) {
      const n = Math.min(t1, t0 - head + inner) - t0;
      this.rowSlot(order, k, Math.floor(t0 / inner), head);
      call(pesPtr, nPes, rowsPtr, 1, n, zx, zw, si, sw, sp);
      t += n;
    }
    const r0 = t / inner;
    const r1 = Math.floor(t1 / inner);
    if (r1 > r0) {
      const rows = this.rowTable(order);
      if (r1 - r0 === total) s.set(rows, k);
      else for (let i = 3 * r0, o = k; i < 3 * r1; i++) s[o++] = rows[i]!;
      call(pesPtr, nPes, rowsPtr, r1 - r0, inner, zx, zw, si, sw, sp);
      t = r1 * inner;
    }
    if (t < t1) {
      this.rowSlot(order, k, t / inner, 0);
      call(pesPtr, nPes, rowsPtr, 1, t1 - t, zx, zw, si, sw, sp);
    }
    return name;
  }

  /**
   * Writes the addresses of row `r` of `order` from its MAC `from` on (a partial row run as a row
   * of its own) into the one row slot after the PE table (`k` words, at the scratch's start).
   */
  private rowSlot(order: RowNest, k: number, r: number, from: number): void {
    const s = this.scratch;
    s[k] = (order.rowIn[r]! + from * order.si) * 4;
    s[k + 1] = (order.rowW[r]! + from * order.sw) * 4;
    s[k + 2] = (order.rowPs[r]! + from * order.sp) * 4;
  }

  /**
   * PE tables by rectangle ({@link pesTable}), of register file {@link tablesOf} on an array
   * {@link tablesCols} wide (a register file's partition bases never change after it is built),
   * and the one {@link pesTable} copied into the scratch last.
   */
  private readonly tables = new Map<number, Int32Array>();
  private tablesOf: RegFile | undefined;
  private tablesCols = 0;
  private shown: Int32Array | undefined;

  /** Wave pieces ({@link runPiece}) run, by kernel. */
  readonly pieces: Record<WaveKernelName, number> = { scalar: 0, sred: 0, vall: 0, vw0: 0, vi0: 0, vred: 0, vgw0: 0, vgat: 0 };

  /**
   * Writes the wave's PEs' partition addresses (bytes: input, weight, psum per PE) at the start
   * of the scratch; returns the words written, or -1 when they do not fit.
   * @throws InvariantError when `rf` does not live in this memory, below the scratch.
   */
  private pesTable(cw: CompiledWave, rf: RegFile, arrayCols: number): number {
    const last = rf.data.psum;
    if (rf.data.input.buffer !== this.buffer || last.byteOffset + last.byteLength > this.rfBytes) {
      throw new InvariantError("pe", "the wave kernels need the register file in their memory, below their scratch (RegFile storage: WaveKernels.buffer)");
    }
    const { pes } = cw.wave;
    if (3 * pes.rows * pes.cols > this.scratchWords) return -1;
    // Tables of rectangles seen before are kept per register file (waves may alternate between
    // rectangles: AlexNet conv1 with `chen2020` wrote a table at nearly every wave).
    if (this.tablesOf !== rf || this.tablesCols !== arrayCols) {
      this.tablesOf = rf;
      this.tablesCols = arrayCols;
      this.tables.clear();
    }
    const key = pes.row0 + 4096 * (pes.col0 + 4096 * (pes.rows + 4096 * pes.cols));
    let table = this.tables.get(key);
    if (!table) {
      table = peTable(rf, pes, arrayCols);
      if (this.tables.size >= MAX_PE_TABLES) this.tables.clear();
      this.tables.set(key, table);
    }
    // (the table of the last call is still at the start of the scratch: nothing else writes there)
    if (table !== this.shown) this.scratch.set(table);
    this.shown = table;
    return table.length;
  }

  /** The rows of `order` as byte addresses (input, weight, psum per row), cached per nest. */
  private rowTable(order: RowNest): Int32Array {
    let rows = this.rowTables.get(order);
    if (!rows) {
      const total = order.rowIn.length;
      rows = new Int32Array(3 * total);
      for (let r = 0; r < total; r++) {
        rows[3 * r] = order.rowIn[r]! * 4;
        rows[3 * r + 1] = order.rowW[r]! * 4;
        rows[3 * r + 2] = order.rowPs[r]! * 4;
      }
      this.rowTables.set(order, rows);
    }
    return rows;
  }
}

/** The kernel for innermost strides (in entries) of input, weight and psum. */
export function kernelFor(si: number, sw: number, sp: number): WaveKernelName {
  if (sp === 0) return si === 1 && sw === 1 ? "vred" : "sred";
  if (sp !== 1) return "scalar";
  if (si === 1 && sw === 1) return "vall";
  if (si === 1 && sw === 0) return "vw0";
  if (si === 0 && sw === 1) return "vi0";
  return sw === 0 ? "vgw0" : "vgat";
}

/**
 * The PE address table of a rectangle (input, weight, psum partition bases in bytes, per PE, row
 * by row). A function of its own so that V8 compiles its loop alone when it first runs long
 * (16,384 PEs): compiled on the stack inside `pesTable`, it deoptimized at the first field read
 * after it, at every new table (docs/design-notes.md, "The compiler's share").
 */
function peTable(rf: RegFile, pes: PeRect, arrayCols: number): Int32Array {
  const table = new Int32Array(3 * pes.rows * pes.cols);
  const ib = rf.data.input.byteOffset;
  const wb = rf.data.weight.byteOffset;
  const pb = rf.data.psum.byteOffset;
  const { input: Bi, weight: Bw, psum: Bp } = rf.base;
  let k = 0;
  for (let i = 0; i < pes.rows; i++) {
    for (let j = 0; j < pes.cols; j++) {
      const p = (pes.row0 + i) * arrayCols + pes.col0 + j;
      table[k++] = ib + Bi[p]! * 4;
      table[k++] = wb + Bw[p]! * 4;
      table[k++] = pb + Bp[p]! * 4;
    }
  }
  return table;
}
