/**
 * MAC waves: what a PE array executes, compiled once and run in bulk over typed arrays.
 *
 * A wave runs the same small loop nest (the mapping's `rf` level) in every PE of a rectangle:
 *
 *     for i_0 < loops[0] ... for i_{k-1} < loops[k-1]:
 *         psum[P(i)] = (psum[P(i)] + (input[I(i)] - inputZero) * (weight[W(i)] - weightZero)) | 0
 *
 * where I, W and P are affine maps into the PE's input, weight and psum partitions
 * ({@link RfStream}). The product of two operands below 2^17 in magnitude plus an int32 is an exact
 * double, and `| 0` wraps it to int32 (ONNX ConvInteger semantics, docs/numerics.md).
 *
 * Compilation drops unit loops, merges adjacent loops whose strides chain (so the innermost
 * loop is as long as possible) and tabulates the start of every innermost row once for all PEs;
 * the kernel then walks PEs x rows x innermost loop with two adds per MAC. Unchecked, the nest
 * runs in an order with the longest innermost loop (int32 wrap-around sums do not depend on the
 * order; the counts follow the mapping's order). Any MAC range [t0, t1) can be run, which is
 * how the reference mode runs a wave one cycle at a time and the fast mode runs it whole (the
 * tests require identical results). The fast mode runs whole waves in WebAssembly
 * (wave-kernels.ts: the same tables and order, four MACs per SIMD instruction) where it can, and
 * here otherwise.
 *
 * Counting convention (DESIGN.md): a MAC reads one input and one weight entry. Consecutive MACs
 * on the same psum address accumulate in the MAC's accumulator; each maximal run of them costs
 * one psum read and one psum write. Counted per wave, from the tables, not per MAC.
 */
import { boxExtent, InvariantError, TAG_SPACE_STRIDE } from "../core/index.js";
import type { RegFile, RfPartition } from "../memory/regfile.js";
import { peTagBase, rectSize, type PeRect, type PeTagExpect } from "./pe-set.js";

/** An affine stream of register-file addresses within one partition of a PE. */
export interface RfStream {
  /** Entry of the first MAC. */
  readonly offset: number;
  /** Entry stride per loop, outermost first (same length as `loops`; 0 = reuse). */
  readonly strides: readonly number[];
}

/** A wave of MACs, the same nest in every PE of `pes`. */
export interface MacWave {
  readonly pes: PeRect;
  /** Trip counts, outermost first, each >= 1. */
  readonly loops: readonly number[];
  readonly input: RfStream;
  readonly weight: RfStream;
  readonly psum: RfStream;
  /** Subtracted from every input operand. Default 0. */
  readonly inputZero?: number;
  /** Subtracted from every weight operand. Default 0. */
  readonly weightZero?: number;
  /** Checked mode (required there): the tags each operand must carry, strides per loop. */
  readonly expect?: { readonly input: PeTagExpect; readonly weight: PeTagExpect; readonly psum: PeTagExpect };
}

/** A loop nest flattened to rows of one innermost loop: what a kernel walks. */
export interface RowNest {
  /** Innermost trip count. */
  readonly inner: number;
  /** Innermost strides: input, weight, psum entries. */
  readonly si: number;
  readonly sw: number;
  readonly sp: number;
  /** Per innermost row: start entry (offset included) of input, weight, psum. */
  readonly rowIn: Int32Array;
  readonly rowW: Int32Array;
  readonly rowPs: Int32Array;
}

/** Checked mode: the tag-index streams of a {@link RowNest} in the mapping's order. */
export interface RowTags {
  /** Innermost tag strides: input, weight, psum. */
  readonly ti: number;
  readonly tw: number;
  readonly tp: number;
  /** Per innermost row: tag-index offset of input, weight, psum. */
  readonly rowTagIn: Float64Array;
  readonly rowTagW: Float64Array;
  readonly rowTagPs: Float64Array;
}

/** A wave ready to run: normalized nest and per-row tables. */
export interface CompiledWave {
  readonly wave: MacWave;
  /** MACs per PE. */
  readonly macs: number;
  /** The nest in the mapping's order, normalized (unit loops dropped, chained loops merged). */
  readonly order: RowNest;
  /** Checked mode: the tag streams of `order`. */
  readonly tags: RowTags | undefined;
  /** Psum accumulator runs per PE (each one psum read and one psum write), in the mapping's order. */
  readonly psumRuns: number;
  /**
   * The order {@link runWave} executes the MACs in (unchecked mode): the same MACs as `order`,
   * permuted so the innermost loop is the longest one, a reduction loop (psum stride 0, summed in
   * a register) or one of consecutive psums (a vector kernel) counting double. Int32 wrap-around
   * addition is associative and commutative, so
   * every order leaves the same partial sums; the counts follow the mapping's order. Checked mode
   * runs `order`.
   */
  readonly exec: RowNest;
  /**
   * The entries each PE's MACs touch, per partition (input, weight, psum): the smallest and the
   * largest, relative to the PE's partition base. A register write outside them cannot change
   * the wave's result, so the array need not execute the wave up to it first.
   */
  readonly reach: Readonly<Record<RfPartition, { readonly min: number; readonly max: number }>>;
}

/** Merges adjacent loops whose strides chain (outer stride = inner stride x inner count). */
function mergeChained(counts: number[], strides: number[][]): void {
  for (let d = counts.length - 1; d > 0; d--) {
    const n = counts[d]!;
    if (strides.every((s) => s[d - 1]! === s[d]! * n)) {
      counts[d - 1]! *= n;
      for (const s of strides) s[d - 1] = s[d]!;
      counts.splice(d, 1);
      for (const s of strides) s.splice(d, 1);
    }
  }
}

/** Tabulates the start of every innermost row of a normalized nest (strides: one list per stream). */
function rowTables(counts: readonly number[], strides: readonly (readonly number[])[], offsets: readonly number[], rows: number): (Int32Array | Float64Array)[] {
  const depth = counts.length;
  // Register-file entries fit int32; tag indices (streams 3 and up) may not.
  const tables = offsets.map((_, q) => (q < 3 ? new Int32Array(rows) : new Float64Array(rows)));
  const idx = new Array<number>(depth).fill(0);
  const cur = [...offsets];
  for (let r = 0; r < rows; r++) {
    for (let q = 0; q < cur.length; q++) tables[q]![r] = cur[q]!;
    for (let d = depth - 2; d >= 0; d--) {
      idx[d]!++;
      for (let q = 0; q < cur.length; q++) cur[q]! += strides[q]![d]!;
      if (idx[d]! < counts[d]!) break;
      for (let q = 0; q < cur.length; q++) cur[q]! -= strides[q]![d]! * counts[d]!;
      idx[d] = 0;
    }
  }
  return tables;
}

/**
 * The execution order of a normalized nest: the longest loop innermost, a reduction loop (psum
 * stride 0: its sum stays in a register) or one of consecutive psums (stride 1: a vector kernel,
 * wave-kernels.ts) counting double; the others keep their order; then
 * chained neighbours merge again.
 */
function execOrder(counts: readonly number[], strides: readonly (readonly number[])[], offsets: readonly number[], macs: number): RowNest {
  const depth = counts.length;
  let best = depth - 1;
  // A reduction loop saves the psum load and store per MAC, and a loop along which the partial
  // sums are consecutive runs in a vector kernel (wave-kernels.ts): each worth about a loop twice
  // as long as one whose partial sums are strided (one MAC a step).
  const score = (d: number) => counts[d]! * (strides[2]![d] === 0 || strides[2]![d] === 1 ? 2 : 1);
  for (let d = 0; d < depth; d++) if (score(d) > score(best)) best = d;
  const order = [...Array(depth).keys()].filter((d) => d !== best);
  order.push(best);
  const c = order.map((d) => counts[d]!);
  const st = strides.map((s) => order.map((d) => s[d]!));
  mergeChained(c, st);
  const inner = c[c.length - 1]!;
  const [rowIn, rowW, rowPs] = rowTables(c, st, offsets, macs / inner) as Int32Array[];
  return { inner, si: st[0]![c.length - 1]!, sw: st[1]![c.length - 1]!, sp: st[2]![c.length - 1]!, rowIn: rowIn!, rowW: rowW!, rowPs: rowPs! };
}

/**
 * Validates and compiles a wave against an array and its register files.
 * @throws InvariantError on a malformed wave or one that leaves a partition (a driver bug).
 */
export function compileWave(component: string, wave: MacWave, rf: RegFile, checked: boolean): CompiledWave {
  const k = wave.loops.length;
  if (k === 0) throw new InvariantError(component, "a wave needs at least one loop");
  const streams = [wave.input, wave.weight, wave.psum];
  const tagStreams = checked ? (wave.expect ? [wave.expect.input, wave.expect.weight, wave.expect.psum] : undefined) : undefined;
  if (checked && !tagStreams) throw new InvariantError(component, "checked mode: a wave needs the tags its operands must carry (wave.expect)");
  for (const l of wave.loops) if (!Number.isInteger(l) || l < 1) throw new InvariantError(component, `wave loops must be positive integers; got [${wave.loops}]`);
  const parts = ["input", "weight", "psum"] as const;
  const reach: { min: number; max: number }[] = [];
  for (let s = 0; s < 3; s++) {
    const st = streams[s]!;
    if (st.strides.length !== k) throw new InvariantError(component, `wave ${parts[s]} stream needs ${k} strides; got [${st.strides}]`);
    const { min, max } = boxExtent({ shape: wave.loops, offset: st.offset, strides: st.strides });
    const e = rf.entries[parts[s]!];
    if (min < 0 || max >= e) throw new InvariantError(component, `wave ${parts[s]} stream touches entries [${min}, ${max}] outside the ${e}-entry partition`);
    reach.push({ min, max });
    if (tagStreams && tagStreams[s]!.strides.length !== k) throw new InvariantError(component, `wave expect.${parts[s]} needs ${k} strides`);
  }
  // Normalize: drop unit loops, merge chained neighbours.
  const counts: number[] = [];
  const strides: number[][] = [[], [], [], [], [], []];
  for (let d = 0; d < k; d++) {
    if (wave.loops[d] === 1) continue;
    counts.push(wave.loops[d]!);
    for (let q = 0; q < 3; q++) {
      strides[q]!.push(streams[q]!.strides[d]!);
      strides[q + 3]!.push(tagStreams ? tagStreams[q]!.strides[d]! : 0);
    }
  }
  mergeChained(counts, strides);
  if (counts.length === 0) {
    counts.push(1);
    for (let q = 0; q < 6; q++) strides[q]!.push(0);
  }
  const depth = counts.length;
  const inner = counts[depth - 1]!;
  let macs = 1;
  for (const n of wave.loops) macs *= n;
  const rows = macs / inner;
  const offsets = [wave.input.offset, wave.weight.offset, wave.psum.offset];
  const t = rowTables(counts, tagStreams ? strides : strides.slice(0, 3), tagStreams ? [...offsets, 0, 0, 0] : offsets, rows);
  const [rowIn, rowW, rowPs] = t as Int32Array[];
  const [, , , rowTagIn, rowTagW, rowTagPs] = t as Float64Array[];
  const last = (q: number) => strides[q]![depth - 1]!;
  const order: RowNest = { inner, si: last(0), sw: last(1), sp: last(2), rowIn: rowIn!, rowW: rowW!, rowPs: rowPs! };
  const sp = order.sp;
  // Accumulator runs: within a row, one per MAC unless the psum stride is 0; across rows, a run
  // continues when the next row starts on the address the previous one ended on.
  let runs = sp === 0 ? rows : macs;
  for (let r = 1; r < rows; r++) if (rowPs![r] === rowPs![r - 1]! + (inner - 1) * sp) runs--;
  return {
    wave,
    macs,
    order,
    tags: tagStreams ? { ti: last(3), tw: last(4), tp: last(5), rowTagIn: rowTagIn!, rowTagW: rowTagW!, rowTagPs: rowTagPs! } : undefined,
    psumRuns: runs,
    exec: checked ? order : execOrder(counts, strides.slice(0, 3), offsets, macs),
    reach: { input: reach[0]!, weight: reach[1]!, psum: reach[2]! },
  };
}

/**
 * Runs MACs [t0, t1) of the flattened nest in `order` (default the execution order,
 * {@link CompiledWave.exec}; `cw.order` is the mapping's) in every PE of the wave's rectangle
 * (unchecked runs; `WaveKernels.run` in wave-kernels.ts runs whole waves faster). A whole wave leaves the same partial sums in either order; a wave run
 * in pieces, with register writes in between, must use the mapping's order throughout (the
 * PeArray does).
 */
export function runWave(cw: CompiledWave, rf: RegFile, arrayCols: number, t0: number, t1: number, order: RowNest = cw.exec): void {
  if (t1 <= t0) return;
  const inp = rf.data.input;
  const wt = rf.data.weight;
  const ps = rf.data.psum;
  const { input: Bi, weight: Bw, psum: Bp } = rf.base;
  const { pes } = cw.wave;
  const zi = cw.wave.inputZero ?? 0;
  const zw = cw.wave.weightZero ?? 0;
  const { inner: n, si, sw, sp, rowIn, rowW, rowPs } = order;
  const r0 = Math.floor(t0 / n);
  const rEnd = Math.ceil(t1 / n);
  const jFirst = t0 - r0 * n;
  const jLast = t1 - (rEnd - 1) * n;
  for (let i = 0; i < pes.rows; i++) {
    for (let j = 0; j < pes.cols; j++) {
      const p = (pes.row0 + i) * arrayCols + pes.col0 + j;
      const ib = Bi[p]!;
      const wb = Bw[p]!;
      const pb = Bp[p]!;
      for (let r = r0; r < rEnd; r++) {
        const js = r === r0 ? jFirst : 0;
        const je = r === rEnd - 1 ? jLast : n;
        let ia = ib + rowIn[r]! + js * si;
        let wa = wb + rowW[r]! + js * sw;
        let pa = pb + rowPs[r]! + js * sp;
        if (sp === 0) {
          // A reduction: the sum stays in a register.
          let acc = ps[pa]!;
          for (let q = js; q < je; q++) {
            acc = (acc + (inp[ia]! - zi) * (wt[wa]! - zw)) | 0;
            ia += si;
            wa += sw;
          }
          ps[pa] = acc;
        } else if (sw === 0) {
          // One weight against a row of inputs.
          const wv = wt[wa]! - zw;
          for (let q = js; q < je; q++) {
            ps[pa] = (ps[pa]! + (inp[ia]! - zi) * wv) | 0;
            ia += si;
            pa += sp;
          }
        } else if (si === 0) {
          // One input against a row of weights.
          const iv = inp[ia]! - zi;
          for (let q = js; q < je; q++) {
            ps[pa] = (ps[pa]! + iv * (wt[wa]! - zw)) | 0;
            wa += sw;
            pa += sp;
          }
        } else {
          for (let q = js; q < je; q++) {
            ps[pa] = (ps[pa]! + (inp[ia]! - zi) * (wt[wa]! - zw)) | 0;
            ia += si;
            wa += sw;
            pa += sp;
          }
        }
      }
    }
  }
}

/**
 * Checked-mode variant of {@link runWave}: before each MAC, the input, weight and psum words must
 * carry the tags `wave.expect` describes.
 * @throws InvariantError naming the PE, the entry and both tags at the first mismatch.
 */
export function runWaveChecked(
  component: string,
  cw: CompiledWave,
  rf: RegFile,
  arrayCols: number,
  t0: number,
  t1: number,
  formatTag: (tag: number) => string,
): void {
  if (t1 <= t0) return;
  const e = cw.wave.expect!;
  const tags = rf.tags!;
  const { pes } = cw.wave;
  const { inner: n, si, sw, sp, rowIn, rowW, rowPs } = cw.order;
  const tt = cw.tags!;
  const r0 = Math.floor(t0 / n);
  const rEnd = Math.ceil(t1 / n);
  const parts = ["input", "weight", "psum"] as const;
  const data = [rf.data.input, rf.data.weight, rf.data.psum];
  const tg = [tags.input, tags.weight, tags.psum];
  const B = [rf.base.input, rf.base.weight, rf.base.psum];
  const st = [si, sw, sp];
  const tst = [tt.ti, tt.tw, tt.tp];
  const rowA = [rowIn, rowW, rowPs];
  const rowT = [tt.rowTagIn, tt.rowTagW, tt.rowTagPs];
  const ex = [e.input, e.weight, e.psum];
  const zi = cw.wave.inputZero ?? 0;
  const zw = cw.wave.weightZero ?? 0;
  const a = [0, 0, 0];
  const t = [0, 0, 0];
  for (let i = 0; i < pes.rows; i++) {
    for (let j = 0; j < pes.cols; j++) {
      const p = (pes.row0 + i) * arrayCols + pes.col0 + j;
      const tb = ex.map((x) => x.space * TAG_SPACE_STRIDE + peTagBase(x, i, j, pes.cols) + 1);
      for (let r = r0; r < rEnd; r++) {
        const js = r === r0 ? t0 - r0 * n : 0;
        const je = r === rEnd - 1 ? t1 - (rEnd - 1) * n : n;
        for (let s = 0; s < 3; s++) {
          a[s] = B[s]![p]! + rowA[s]![r]! + js * st[s]!;
          t[s] = tb[s]! + rowT[s]![r]! + js * tst[s]!;
        }
        for (let q = js; q < je; q++) {
          for (let s = 0; s < 3; s++) {
            const got = tg[s]![a[s]!]!;
            if (got !== t[s]) {
              throw new InvariantError(
                component,
                `checked MAC in PE ${p} (row ${Math.floor(p / arrayCols)}, col ${p % arrayCols}) read ${parts[s]} entry ${a[s]! - B[s]![p]!}: expected ${formatTag(t[s]!)} but the entry holds ${formatTag(got)}`,
              );
            }
          }
          const pa = a[2]!;
          data[2]![pa] = (data[2]![pa]! + (data[0]![a[0]!]! - zi) * (data[1]![a[1]!]! - zw)) | 0;
          for (let s = 0; s < 3; s++) {
            a[s]! += st[s]!;
            t[s]! += tst[s]!;
          }
        }
      }
    }
  }
}

/** PEs a wave keeps busy. */
export function wavePes(cw: CompiledWave): number {
  return rectSize(cw.wave.pes);
}
