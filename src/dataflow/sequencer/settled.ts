/**
 * The iteration planner's settled psum state (iteration.ts, IterationPlanner.settled): what the
 * psum passes left, from which the next iteration's drains and new psum tiles follow without a
 * pass over the PEs while the placement and the psum records stay.
 */
import type { Residency } from "./residency.js";

/** The state IterationPlanner.settled keeps (see there). */
export class Settled {
  /** The active PEs' output key offsets, made when first asked for ({@link idleLeaving}). */
  private offs: Set<number> | undefined;

  constructor(
    /** The output key of the iteration's start. */
    readonly outKey0: number,
    /** The residency's placement and psum epochs after the passes. */
    readonly placeEpoch: number,
    readonly psumEpoch: number,
    /** How many PEs are active. */
    readonly active: number,
    /** The keys of the tiles idle PEs hold. */
    readonly idleKeys: Float64Array,
    offs?: Set<number>,
  ) {
    this.offs = offs;
  }

  /** The settled state after the psum pass (`idleKeys`: the keys the idle PEs hold). */
  static after(outKey0: number, res: Residency, active: number, idleKeys: readonly number[]): Settled {
    return new Settled(outKey0, res.placeEpoch, res.psumEpoch, active, Float64Array.from(idleKeys), undefined);
  }

  /** The state after every active PE has drained and got a new tile (the same placement and idle PEs) at `outKey0`. */
  moved(outKey0: number, psumEpoch: number): Settled {
    return new Settled(outKey0, this.placeEpoch, psumEpoch, this.active, this.idleKeys, this.offs);
  }

  /**
   * Whether an idle PE holds a tile that leaves when every active PE's does: one whose key some
   * active PE held (the start's output key plus its offset; keys are integers, so the difference
   * is exact). `res`: the residency, still in this state's placement; `off`: each PE's output
   * key offset.
   */
  idleLeaving(res: Residency, off: Float64Array): boolean {
    let offs = this.offs;
    if (!offs) {
      offs = this.offs = new Set();
      for (let pe = 0; pe < off.length; pe++) if (res.peActive[pe]) offs.add(off[pe]!);
    }
    for (let i = 0; i < this.idleKeys.length; i++) if (offs.has(this.idleKeys[i]! - this.outKey0)) return true;
    return false;
  }
}
