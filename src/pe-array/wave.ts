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
 * the kernel then walks PEs x rows x innermost loop with two adds per MAC. Any MAC range
 * [t0, t1) of the flattened nest can be run, which is how the reference mode runs a wave one
 * cycle at a time and the fast mode runs it whole (the tests require identical results).
 *
 * Counting convention (DESIGN.md): a MAC reads one input and one weight entry. Consecutive MACs
 * on the same psum address accumulate in the MAC's accumulator; each maximal run of them costs
 * one psum read and one psum write. Counted per wave, from the tables, not per MAC.
 */
import { boxExtent, InvariantError, TAG_SPACE_STRIDE } from "../core/index.js";
import type { RegFile } from "../memory/regfile.js";
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

/** A wave ready to run: normalized nest and per-row tables. */
export interface CompiledWave {
  readonly wave: MacWave;
  /** MACs per PE. */
  readonly macs: number;
  /** Innermost trip count after normalization. */
  readonly inner: number;
  /** Innermost strides: input, weight, psum entries. */
  readonly si: number;
  readonly sw: number;
  readonly sp: number;
  /** Per innermost row: start entry (offset included) of input, weight, psum. */
  readonly rowIn: Int32Array;
  readonly rowW: Int32Array;
  readonly rowPs: Int32Array;
  /** Checked mode: innermost tag strides and per-row tag-index offsets. */
  readonly ti: number;
  readonly tw: number;
  readonly tp: number;
  readonly rowTagIn: Float64Array | undefined;
  readonly rowTagW: Float64Array | undefined;
  readonly rowTagPs: Float64Array | undefined;
  /** Psum accumulator runs per PE (each one psum read and one psum write). */
  readonly psumRuns: number;
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
  for (let s = 0; s < 3; s++) {
    const st = streams[s]!;
    if (st.strides.length !== k) throw new InvariantError(component, `wave ${parts[s]} stream needs ${k} strides; got [${st.strides}]`);
    const { min, max } = boxExtent({ shape: wave.loops, offset: st.offset, strides: st.strides });
    const e = rf.entries[parts[s]!];
    if (min < 0 || max >= e) throw new InvariantError(component, `wave ${parts[s]} stream touches entries [${min}, ${max}] outside the ${e}-entry partition`);
    if (tagStreams && tagStreams[s]!.strides.length !== k) throw new InvariantError(component, `wave expect.${parts[s]} needs ${k} strides`);
  }
  // Normalize: drop unit loops, merge chained neighbours.
  const counts: number[] = [];
  const strides: number[][] = [[], [], [], [], [], []];
  const all = (d: number): number[] => [...streams.map((s) => s.strides[d]!), ...(tagStreams ? tagStreams.map((s) => s.strides[d]!) : [0, 0, 0])];
  for (let d = 0; d < k; d++) {
    const n = wave.loops[d]!;
    if (n === 1) continue;
    const sd = all(d);
    const last = counts.length - 1;
    if (last >= 0 && strides.every((s, q) => s[last]! === sd[q]! * n)) {
      counts[last]! *= n;
      for (let q = 0; q < 6; q++) strides[q]![last] = sd[q]!;
    } else {
      counts.push(n);
      for (let q = 0; q < 6; q++) strides[q]!.push(sd[q]!);
    }
  }
  if (counts.length === 0) {
    counts.push(1);
    for (let q = 0; q < 6; q++) strides[q]!.push(0);
  }
  const depth = counts.length;
  const inner = counts[depth - 1]!;
  let macs = 1;
  for (const n of wave.loops) macs *= n;
  const rows = macs / inner;
  const rowIn = new Int32Array(rows);
  const rowW = new Int32Array(rows);
  const rowPs = new Int32Array(rows);
  const rowTagIn = tagStreams ? new Float64Array(rows) : undefined;
  const rowTagW = tagStreams ? new Float64Array(rows) : undefined;
  const rowTagPs = tagStreams ? new Float64Array(rows) : undefined;
  const idx = new Array<number>(depth).fill(0);
  const cur = [wave.input.offset, wave.weight.offset, wave.psum.offset, 0, 0, 0];
  for (let r = 0; r < rows; r++) {
    rowIn[r] = cur[0]!;
    rowW[r] = cur[1]!;
    rowPs[r] = cur[2]!;
    if (rowTagIn) {
      rowTagIn[r] = cur[3]!;
      rowTagW![r] = cur[4]!;
      rowTagPs![r] = cur[5]!;
    }
    for (let d = depth - 2; d >= 0; d--) {
      idx[d]!++;
      for (let q = 0; q < 6; q++) cur[q]! += strides[q]![d]!;
      if (idx[d]! < counts[d]!) break;
      for (let q = 0; q < 6; q++) cur[q]! -= strides[q]![d]! * counts[d]!;
      idx[d] = 0;
    }
  }
  const sp = strides[2]![depth - 1]!;
  // Accumulator runs: within a row, one per MAC unless the psum stride is 0; across rows, a run
  // continues when the next row starts on the address the previous one ended on.
  let runs = sp === 0 ? rows : macs;
  for (let r = 1; r < rows; r++) if (rowPs[r] === rowPs[r - 1]! + (inner - 1) * sp) runs--;
  return {
    wave,
    macs,
    inner,
    si: strides[0]![depth - 1]!,
    sw: strides[1]![depth - 1]!,
    sp,
    rowIn,
    rowW,
    rowPs,
    ti: strides[3]![depth - 1]!,
    tw: strides[4]![depth - 1]!,
    tp: strides[5]![depth - 1]!,
    rowTagIn,
    rowTagW,
    rowTagPs,
    psumRuns: runs,
  };
}

/**
 * Runs MACs [t0, t1) of the flattened nest in every PE of the wave's rectangle (unchecked: the
 * hot path).
 */
export function runWave(cw: CompiledWave, rf: RegFile, arrayCols: number, t0: number, t1: number): void {
  if (t1 <= t0) return;
  const inp = rf.data.input;
  const wt = rf.data.weight;
  const ps = rf.data.psum;
  const Ei = rf.entries.input;
  const Ew = rf.entries.weight;
  const Ep = rf.entries.psum;
  const { pes } = cw.wave;
  const zi = cw.wave.inputZero ?? 0;
  const zw = cw.wave.weightZero ?? 0;
  const n = cw.inner;
  const si = cw.si;
  const sw = cw.sw;
  const sp = cw.sp;
  const rowIn = cw.rowIn;
  const rowW = cw.rowW;
  const rowPs = cw.rowPs;
  const r0 = Math.floor(t0 / n);
  const rEnd = Math.ceil(t1 / n);
  const jFirst = t0 - r0 * n;
  const jLast = t1 - (rEnd - 1) * n;
  for (let i = 0; i < pes.rows; i++) {
    for (let j = 0; j < pes.cols; j++) {
      const p = (pes.row0 + i) * arrayCols + pes.col0 + j;
      const ib = p * Ei;
      const wb = p * Ew;
      const pb = p * Ep;
      for (let r = r0; r < rEnd; r++) {
        const js = r === r0 ? jFirst : 0;
        const je = r === rEnd - 1 ? jLast : n;
        let ia = ib + rowIn[r]! + js * si;
        let wa = wb + rowW[r]! + js * sw;
        let pa = pb + rowPs[r]! + js * sp;
        if (sp === 0) {
          let acc = ps[pa]!;
          for (let q = js; q < je; q++) {
            acc = (acc + (inp[ia]! - zi) * (wt[wa]! - zw)) | 0;
            ia += si;
            wa += sw;
          }
          ps[pa] = acc;
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
  const n = cw.inner;
  const r0 = Math.floor(t0 / n);
  const rEnd = Math.ceil(t1 / n);
  const parts = ["input", "weight", "psum"] as const;
  const data = [rf.data.input, rf.data.weight, rf.data.psum];
  const tg = [tags.input, tags.weight, tags.psum];
  const E = [rf.entries.input, rf.entries.weight, rf.entries.psum];
  const st = [cw.si, cw.sw, cw.sp];
  const tst = [cw.ti, cw.tw, cw.tp];
  const rowA = [cw.rowIn, cw.rowW, cw.rowPs];
  const rowT = [cw.rowTagIn!, cw.rowTagW!, cw.rowTagPs!];
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
          a[s] = p * E[s]! + rowA[s]![r]! + js * st[s]!;
          t[s] = tb[s]! + rowT[s]![r]! + js * tst[s]!;
        }
        for (let q = js; q < je; q++) {
          for (let s = 0; s < 3; s++) {
            const got = tg[s]![a[s]!]!;
            if (got !== t[s]) {
              throw new InvariantError(
                component,
                `checked MAC in PE ${p} (row ${Math.floor(p / arrayCols)}, col ${p % arrayCols}) read ${parts[s]} entry ${a[s]! - p * E[s]!}: expected ${formatTag(t[s]!)} but the entry holds ${formatTag(got)}`,
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
