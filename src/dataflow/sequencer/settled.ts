/**
 * The iteration planner's settled psum state (iteration.ts, IterationPlanner.settled): what the
 * psum passes left, from which the next iteration's drains and new psum tiles follow without a
 * pass over the PEs while the placement and the psum records stay.
 */
import type { Residency } from "./residency.js";

/** The state IterationPlanner.settled keeps (see there). */
export interface Settled {
  readonly outKey0: number;
  readonly placeEpoch: number;
  readonly psumEpoch: number;
  readonly active: number;
  readonly idleKeys: Float64Array;
  readonly activeOffs: ReadonlySet<number> | undefined;
}

/** The settled state after the psum pass (`off`: each PE's output key offset; the active PEs' kept only when idle PEs hold tiles). */
export function settledState(outKey0: number, res: Residency, active: number, idleKeys: number[], off: Float64Array): Settled {
  let activeOffs: Set<number> | undefined;
  if (idleKeys.length > 0) {
    activeOffs = new Set();
    for (let pe = 0; pe < off.length; pe++) if (res.peActive[pe]) activeOffs.add(off[pe]!);
  }
  return { outKey0, placeEpoch: res.placeEpoch, psumEpoch: res.psumEpoch, active, idleKeys: Float64Array.from(idleKeys), activeOffs };
}

/**
 * Whether an idle PE holds a tile that leaves when every active PE's does: one whose key some
 * active PE held (the settled start's output key plus its offset; keys are integers, so the
 * difference is exact).
 */
export function idleLeaving(s: Settled): boolean {
  for (let i = 0; i < s.idleKeys.length; i++) if (s.activeOffs!.has(s.idleKeys[i]! - s.outKey0)) return true;
  return false;
}
