/**
 * The operand pass of the iteration planner (iteration.ts): which PEs get a new input or weight
 * tile, with the keys their RFs hold (Residency.rfKeys). In the common case (no fused groups, the
 * operand neither delivered early nor passing through) the pass settles: after it every active PE
 * holds the start's key plus its offset's, so while the placement stays, the same start key gives
 * no PE a new tile, and a new one gives every active PE one, whose keys and whose writes into the
 * keys held are then made only when read ({@link OperandKeys.keys}, OperandKeys.held).
 */
import { startKey } from "../nest.js";
import type { SeqContext } from "./context.js";
import type { Residency } from "./residency.js";
import { C, G, N, P, Q, R, S } from "./types.js";

type Part = "input" | "weight";

/** Of one operand: the settled pass, and the keys a settled pass has not written yet. */
interface OperandState {
  /** The start's key and the placement the common pass last ran with (NaN, -1: none). */
  key0: number;
  placeEpoch: number;
  /** A start key whose keys are not written yet into the keys held (NaN: none), and the PEs active then. */
  heldKey0: number;
  readonly heldActive: Uint8Array;
  /** A start key whose keys are not written yet into the iteration's keys (NaN: none). */
  keysKey0: number;
}

/** The operand pass (see the file header), for one run. */
export class OperandKeys {
  private readonly state: { readonly input: OperandState; readonly weight: OperandState };

  constructor(
    private readonly c: SeqContext,
    private readonly res: Residency,
    /** Per PE, its key offset per operand. */
    private readonly off: { readonly input: Float64Array; readonly weight: Float64Array },
    private readonly inputWeights: Float64Array,
    private readonly fused: boolean,
  ) {
    const state = (): OperandState => ({ key0: NaN, placeEpoch: -1, heldKey0: NaN, heldActive: new Uint8Array(c.pes), keysKey0: NaN });
    this.state = { input: state(), weight: state() };
  }

  /**
   * The PEs that get a new tile of an operand, into `keys` (NaN: none; the caller fills it with
   * NaN first), and their count (-1: not counted, outside the common case); updates the keys
   * held. Single-buffered: every PE whose tile changes gets the new one. Double-buffered: the
   * operand stays in its half while every PE's tile is unchanged; otherwise it moves to the other
   * half (which the running wave does not read), and every PE whose tile there is not the one it
   * needs gets it. An operand that passes through the PE (streamed, or bypassing the RF): every
   * wave needs its words again. `active`: how many PEs are active. In the common case's settled
   * step, `keys` is written only when read ({@link keys}).
   */
  pass(part: Part, dims: readonly number[], keys: Float64Array, gStart: Int32Array, active: number): number {
    const { c, res } = this;
    const key0 = part === "input" ? dot(gStart, this.inputWeights) : startKey(gStart, dims, c.nest.sizes);
    const off = this.off[part];
    const st = this.state[part];
    st.keysKey0 = NaN;
    if (!this.fused && !c.early[part] && !c.passThrough[part]) {
      // The common case in one pass (the same as the passes below: no half to switch, and an
      // inactive PE's key stays NaN, which equals nothing held). After it, every active PE holds
      // its key: the same key and placement again (a stationary operand) get no new tile, and a
      // new key gives every active PE a new one (each held its old key plus its offset).
      if (!c.checked && st.placeEpoch === res.placeEpoch) {
        if (st.key0 === key0) return 0;
        if (Number.isNaN(st.heldKey0)) st.heldActive.set(res.peActive);
        st.key0 = key0;
        st.heldKey0 = key0;
        st.keysKey0 = key0;
        return active;
      }
      const held = this.held(part);
      st.key0 = key0;
      st.placeEpoch = res.placeEpoch;
      let fresh = 0;
      for (let pe = 0; pe < c.pes; pe++) {
        if (!res.peActive[pe]) continue;
        const k = key0 + off[pe]!;
        if (k === held[pe]) keys[pe] = NaN;
        else {
          keys[pe] = held[pe] = k;
          fresh++;
        }
      }
      return fresh;
    }
    if (this.fused) {
      // Fused groups place each PE anew every iteration: its key from its own start.
      for (let pe = 0; pe < c.pes; pe++) if (res.peActive[pe]) keys[pe] = part === "input" ? dot(res.peStart[pe]!, this.inputWeights) : startKey(res.peStart[pe]!, dims, c.nest.sizes);
    } else {
      for (let pe = 0; pe < c.pes; pe++) if (res.peActive[pe]) keys[pe] = key0 + off[pe]!;
    }
    let h = res.rfHalf[part];
    if (c.early[part] && changes(keys, res.rfKeys[part][h]!, c.pes)) h = res.rfHalf[part] = 1 - h;
    const held = res.rfKeys[part][h]!;
    if (c.passThrough[part]) return -1;
    for (let pe = 0; pe < c.pes; pe++) {
      const k = keys[pe]!;
      if (k === held[pe]) keys[pe] = NaN;
      else if (!Number.isNaN(k)) held[pe] = k;
    }
    return -1;
  }

  /** `keys` as the last {@link pass} of `part` gave them, written now if that pass left them to be. */
  keys(part: Part, keys: Float64Array): Float64Array {
    const st = this.state[part];
    const key0 = st.keysKey0;
    if (Number.isNaN(key0)) return keys;
    st.keysKey0 = NaN;
    const off = this.off[part];
    const active = this.res.peActive;
    for (let pe = 0; pe < this.c.pes; pe++) if (active[pe]) keys[pe] = key0 + off[pe]!;
    return keys;
  }

  /** The keys the RFs hold of `part` (the common case's one half), with the settled steps' written first. */
  private held(part: Part): Float64Array {
    const held = this.res.rfKeys[part][this.res.rfHalf[part]]!;
    const st = this.state[part];
    const key0 = st.heldKey0;
    if (Number.isNaN(key0)) return held;
    st.heldKey0 = NaN;
    const off = this.off[part];
    for (let pe = 0; pe < this.c.pes; pe++) if (st.heldActive[pe]) held[pe] = key0 + off[pe]!;
    return held;
  }
}

/** Whether some PE's key (NaN: none) differs from the one it holds. */
function changes(keys: Float64Array, held: Float64Array, pes: number): boolean {
  for (let pe = 0; pe < pes; pe++) {
    const k = keys[pe]!;
    if (!Number.isNaN(k) && k !== held[pe]) return true;
  }
  return false;
}

/** `sum_d a[d] * w[d]`. */
export function dot(a: Int32Array, w: Float64Array): number {
  let k = 0;
  for (let d = 0; d < w.length; d++) k += a[d]! * w[d]!;
  return k;
}

/**
 * The weights of the input tile key, a linear form in the tile start: two PEs hold the same input
 * tile exactly when their keys are equal (plus, as for every key, the same extents, which the
 * start decides). Over N, G, C a mixed-radix number, as {@link startKey}. Along the rows, when
 * every PE's tile has one output row and one kernel row (rf extents of P and R both 1, as in a
 * row-stationary mapping), the key takes the input row they read, `p * strideH + r * dilationH`,
 * so PEs on a diagonal of (output row, kernel row) that read the same input row share one tile
 * (one read, multicast); otherwise P and R separately. Likewise Q, S and the columns.
 */
export function inputKeyWeights(c: SeqContext): Float64Array {
  const sizes = c.nest.sizes;
  const e = c.nest.rfExtent;
  const l = c.layer;
  const w = new Float64Array(sizes.length);
  let scale = 1;
  const axis = (o: number, k: number, stride: number, dil: number) => {
    if (e[o] === 1 && e[k] === 1) {
      w[o] = stride * scale;
      w[k] = dil * scale;
      scale *= sizes[o]! * stride + sizes[k]! * dil + 1;
    } else {
      w[k] = scale;
      w[o] = scale * (sizes[k]! + 1);
      scale *= (sizes[o]! + 1) * (sizes[k]! + 1);
    }
  };
  // Innermost first: columns, rows, then C, G, N.
  axis(Q, S, l.strides[1], l.dilations[1]);
  axis(P, R, l.strides[0], l.dilations[0]);
  for (const d of [C, G, N]) {
    w[d] = scale;
    scale *= sizes[d]! + 1;
  }
  return w;
}
