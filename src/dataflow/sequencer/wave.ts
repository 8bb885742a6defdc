/**
 * The wave pass: the MAC wave a rectangle of PEs runs over its rf-level loops (operand and psum
 * strides in the PEs' register files; in checked mode, the tags each operand must hold).
 */
import type { MacWave, PeRect } from "../../pe-array/index.js";
import type { SeqContext } from "./context.js";
import { TAG_SPACE } from "./layout.js";
import { C, G, K, N, P, Q, R, S } from "./types.js";

/** Builds MAC waves (see the file header). */
export class WaveBuilder {
  constructor(private readonly c: SeqContext) {}

  /** Unchecked waves depend only on the rectangle and the loop counts: built once, frozen, reused. */
  private readonly cache = new Map<string, MacWave>();

  /** The wave of the PEs in `rect` (their tiles all have one shape), reading operands from `bases`. */
  build(rect: PeRect, peStart: Int32Array[], peExt: Int32Array[], bases: { readonly input: number; readonly weight: number; readonly psum: number }): MacWave {
    const l = this.c.layer;
    const cols = this.c.nest.usedCols;
    const ext = peExt[rect.row0 * cols + rect.col0]!;
    const cacheKey = () => `${rect.row0},${rect.col0},${rect.rows},${rect.cols}@${bases.input},${bases.weight},${bases.psum}:${this.c.nest.rfLoops.map((lp) => ext[lp.dim]).join(",")}`;
    if (!this.c.checked) {
      let macs = rect.rows * rect.cols;
      for (const lp of this.c.nest.rfLoops) macs *= ext[lp.dim]!;
      const key = cacheKey();
      const hit = this.cache.get(key);
      if (hit) {
        this.c.countMacs(macs);
        return hit;
      }
    }
    const re = this.c.nest.rfExtent;
    const SH = this.c.spanH, SW = this.c.spanW;
    const [sh, sw] = l.strides;
    const [dh, dw] = l.dilations;
    // Per-dimension coefficients of each stream (entries) and of each tag stream (element index).
    const inE = [re[G]! * re[C]! * SH * SW, re[C]! * SH * SW, 0, SH * SW, sh * SW, sw, dh * SW, dw];
    const wE = [0, re[K]! * re[C]! * re[R]! * re[S]!, re[C]! * re[R]! * re[S]!, re[R]! * re[S]!, 0, 0, re[S]!, 1];
    const psS = this.c.psumStrides();
    const pE = [psS[0]!, psS[1]!, psS[2]!, 0, psS[3]!, psS[4]!, 0, 0];
    const Ctot = l.inChannels;
    const inT = [Ctot * this.c.Hp * this.c.Wp, this.c.Cg * this.c.Hp * this.c.Wp, 0, this.c.Hp * this.c.Wp, sh * this.c.Wp, sw, dh * this.c.Wp, dw];
    const RS = l.kernelHeight * l.kernelWidth;
    const wT = [0, this.c.Kg * this.c.Cg * RS, this.c.Cg * RS, RS, 0, 0, l.kernelWidth, 1];
    const yT = this.c.yTagStrides();
    const pT = [yT[0]!, yT[1]!, yT[2]!, 0, yT[3]!, yT[4]!, 0, 0];
    const loops: number[] = [];
    const dims: number[] = [];
    for (const lp of this.c.nest.rfLoops) {
      loops.push(ext[lp.dim]!);
      dims.push(lp.dim);
    }
    if (loops.length === 0) {
      loops.push(1);
      dims.push(N);
    }
    let macs = rect.rows * rect.cols;
    for (const n of loops) macs *= n;
    this.c.countMacs(macs);
    const wave: MacWave = {
      pes: rect,
      loops,
      input: { offset: bases.input, strides: dims.map((d) => inE[d]!) },
      weight: { offset: bases.weight, strides: dims.map((d) => wE[d]!) },
      psum: { offset: bases.psum, strides: dims.map((d) => pE[d]!) },
      inputZero: this.c.ops.xZeroPoint,
      weightZero: this.c.ops.wZeroPoint,
      ...(this.c.checked
        ? {
            expect: (() => {
              const n = rect.rows * rect.cols;
              const bi = new Float64Array(n), bw = new Float64Array(n), bp = new Float64Array(n);
              for (let i = 0; i < rect.rows; i++) {
                for (let j = 0; j < rect.cols; j++) {
                  const s = peStart[(rect.row0 + i) * cols + rect.col0 + j]!;
                  const ch0 = s[G]! * this.c.Cg + s[C]!;
                  bi[i * rect.cols + j] = this.c.xTag(s[N]!, ch0, s[P]! * sh + s[R]! * dh, s[Q]! * sw + s[S]! * dw);
                  bw[i * rect.cols + j] = this.c.wIndex(s[G]!, s[K]!, s[C]!, s[R]!, s[S]!);
                  bp[i * rect.cols + j] = this.c.yIndex(s[N]!, s[G]!, s[K]!, s[P]!, s[Q]!);
                }
              }
              return {
                input: { space: TAG_SPACE.input, perPe: bi, strides: dims.map((d) => inT[d]!) },
                weight: { space: TAG_SPACE.weight, perPe: bw, strides: dims.map((d) => wT[d]!) },
                psum: { space: TAG_SPACE.output, perPe: bp, strides: dims.map((d) => pT[d]!) },
              };
            })(),
          }
        : {}),
    };
    if (!this.c.checked) this.cache.set(cacheKey(), Object.freeze(wave));
    return wave;
  }

  // ---------------------------------------------------------------------------------------------
  // RF -> GBuf / DRAM
}
