/**
 * The input spans the PEs' register files hold (single-buffered runs, for halo reuse), as numbers
 * in one typed array rather than an object per PE and iteration: a replay of an iteration that
 * gives every PE a new input tile (`is` on the `chen2020` preset: about 150 PEs per iteration and
 * 500,000 iterations a layer) writes numbers here instead of allocating a span per PE group.
 */
import type { ConvLayer } from "../../workload/layer.js";
import { inputSpan } from "../input-axis.js";
import { C, G, N, P, Q, R, S, type InputSpan } from "./types.js";

/** A span's fields in its record, in this order. */
const F_N = 0, F_CH0 = 1, F_EN = 2, F_EG = 3, F_EC = 4, F_OH = 5, F_OW = 6, F_ROWS = 7, F_COLS = 8, F_DENSE = 9, F_SERIAL = 10;
/** Numbers per PE record. */
const WIDTH = 11;

/**
 * Per PE, the input span it holds (see the file header): where it sits (the same fields as
 * {@link InputSpan}), whether it is dense, and its serial, which tells spans apart: PEs hold the
 * same span exactly when their serials are equal (a PE that holds none has NaN).
 */
export class SpanTable {
  private readonly f: Float64Array;

  constructor(
    /** PEs. */
    readonly pes: number,
    private readonly layer: ConvLayer,
    /** Input channels per group. */
    private readonly Cg: number,
  ) {
    this.f = new Float64Array(pes * WIDTH);
    for (let pe = 0; pe < pes; pe++) this.f[pe * WIDTH + F_SERIAL] = NaN;
  }

  /** Whether PE `pe` holds a span. */
  has(pe: number): boolean {
    return !Number.isNaN(this.f[pe * WIDTH + F_SERIAL]!);
  }

  /** The serial of the span PE `pe` holds (NaN: none). */
  serial(pe: number): number {
    return this.f[pe * WIDTH + F_SERIAL]!;
  }

  /** The span PE `pe` holds, as an object (undefined: none). */
  get(pe: number): InputSpan | undefined {
    const f = this.f, o = pe * WIDTH;
    if (Number.isNaN(f[o + F_SERIAL]!)) return undefined;
    return { n: f[o + F_N]!, ch0: f[o + F_CH0]!, en: f[o + F_EN]!, eg: f[o + F_EG]!, ec: f[o + F_EC]!, oh: f[o + F_OH]!, ow: f[o + F_OW]!, rows: f[o + F_ROWS]!, cols: f[o + F_COLS]!, dense: f[o + F_DENSE]! === 1, serial: f[o + F_SERIAL]! };
  }

  /** PE `pe` holds `span` now. */
  set(pe: number, span: InputSpan): void {
    const f = this.f, o = pe * WIDTH;
    f[o + F_N] = span.n;
    f[o + F_CH0] = span.ch0;
    f[o + F_EN] = span.en;
    f[o + F_EG] = span.eg;
    f[o + F_EC] = span.ec;
    f[o + F_OH] = span.oh;
    f[o + F_OW] = span.ow;
    f[o + F_ROWS] = span.rows;
    f[o + F_COLS] = span.cols;
    f[o + F_DENSE] = span.dense ? 1 : 0;
    f[o + F_SERIAL] = span.serial;
  }

  /**
   * The PEs `pes` hold one new span now, with serial `serial`: that of a tile starting at `start`
   * with extent `ext` (the fields {@link SeqContext.spanAt} gives), dense or not.
   */
  place(pes: Int32Array, start: Int32Array, ext: Int32Array, dense: boolean, serial: number): void {
    const f = this.f, l = this.layer;
    const o0 = pes[0]! * WIDTH;
    f[o0 + F_N] = start[N]!;
    f[o0 + F_CH0] = start[G]! * this.Cg + start[C]!;
    f[o0 + F_EN] = ext[N]!;
    f[o0 + F_EG] = ext[G]!;
    f[o0 + F_EC] = ext[C]!;
    f[o0 + F_OH] = start[P]! * l.strides[0] + start[R]! * l.dilations[0];
    f[o0 + F_OW] = start[Q]! * l.strides[1] + start[S]! * l.dilations[1];
    f[o0 + F_ROWS] = inputSpan(ext[P]!, ext[R]!, l.strides[0], l.dilations[0]);
    f[o0 + F_COLS] = inputSpan(ext[Q]!, ext[S]!, l.strides[1], l.dilations[1]);
    f[o0 + F_DENSE] = dense ? 1 : 0;
    f[o0 + F_SERIAL] = serial;
    for (let i = 1; i < pes.length; i++) f.copyWithin(pes[i]! * WIDTH, o0, o0 + WIDTH);
  }

  /**
   * Writes PE `pe`'s span record relative to its tile start `st` into `rec` (the fields a plan
   * signature compares: serial, density, N and channel offsets, N/G/C extents, row and column
   * offsets, rows, columns; see Replayer.signature) and returns the record's serial, or NaN
   * without writing when the PE holds none.
   */
  relative(pe: number, st: Int32Array, rec: Float64Array): number {
    const f = this.f, o = pe * WIDTH, l = this.layer;
    const serial = f[o + F_SERIAL]!;
    if (Number.isNaN(serial)) return NaN;
    rec[0] = serial;
    rec[1] = f[o + F_DENSE]!;
    rec[2] = f[o + F_N]! - st[N]!;
    rec[3] = f[o + F_CH0]! - (st[G]! * this.Cg + st[C]!);
    rec[4] = f[o + F_EN]!;
    rec[5] = f[o + F_EG]!;
    rec[6] = f[o + F_EC]!;
    rec[7] = f[o + F_OH]! - (st[P]! * l.strides[0] + st[R]! * l.dilations[0]);
    rec[8] = f[o + F_OW]! - (st[Q]! * l.strides[1] + st[S]! * l.dilations[1]);
    rec[9] = f[o + F_ROWS]!;
    rec[10] = f[o + F_COLS]!;
    return serial;
  }
}
