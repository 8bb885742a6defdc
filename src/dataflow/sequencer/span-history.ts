/**
 * How the input spans the PEs hold were made (single-buffered inputs with halo reuse), as the
 * plan signature names them (replay.ts, `spansFrom`; iteration.ts, IterationPlanner.spansKey):
 * the span groups of the last iteration that gave every active PE a new input tile, and of the
 * one before. Two records are written in turn (one iteration's notes are read before the next's
 * are written).
 */
import { NDIMS } from "../nest.js";
import type { SpansFrom } from "./types.js";

/** A record's fields, written in place. */
interface Made {
  id: number;
  readonly iterStart: Int32Array;
  readonly reach: Int32Array;
  prev?: SpansFrom;
}

/** The last two span-making iterations (see the file header). */
export class SpanHistory {
  /** Per record: the groups alone, and the same with the other record's as `prev`. */
  private readonly recs: { readonly one: Made; readonly both: Made }[];
  /** The record of the last span groups (-1: not known), and whether the other holds the ones before. */
  private cur = -1;
  private prevKnown = false;

  constructor() {
    const one = (): Made => ({ id: -1, iterStart: new Int32Array(NDIMS), reach: new Int32Array(NDIMS) });
    const a = one();
    const b = one();
    this.recs = [
      { one: a, both: { id: -1, iterStart: a.iterStart, reach: a.reach, prev: b } },
      { one: b, both: { id: -1, iterStart: b.iterStart, reach: b.reach, prev: a } },
    ];
  }

  /**
   * Notes the span groups numbered `id` (undefined: not known; spans made by a plan not kept, or
   * by one whose PEs differed), made at the iteration starting at `iterStart`, whose PEs reached
   * `reach` (which decides their extents), every active PE then getting a new input tile.
   */
  note(id: number | undefined, iterStart: Int32Array, reach: Int32Array): void {
    if (id === undefined) {
      this.cur = -1;
      return;
    }
    const j = this.cur < 0 ? 0 : 1 - this.cur;
    this.prevKnown = this.cur >= 0;
    this.cur = j;
    const r = this.recs[j]!;
    r.one.id = r.both.id = id;
    r.one.iterStart.set(iterStart);
    r.one.reach.set(reach);
  }

  /**
   * The span groups that decide every active PE's span when the PEs reach `clip`: the last ones,
   * when every PE active now was active then (the reach now is nowhere longer); else both, when
   * every PE active now was active at the ones before (PEs are active where their offsets lie
   * below the reach, so the active PEs lie within one of two such boxes only if within one):
   * the PEs active at both hold the later spans, the others the earlier. A kernel loop clipped
   * at every other iteration (`os` on AlexNet conv2) is the second case at every other one.
   * Valid until the next {@link note}.
   */
  key(clip: Int32Array): SpansFrom | undefined {
    if (this.cur < 0) return undefined;
    const r = this.recs[this.cur]!;
    if (within(clip, r.one.reach)) return r.one;
    return this.prevKnown && within(clip, r.both.prev!.reach) ? r.both : undefined;
  }
}

/** Whether `clip` is nowhere longer than `reach`. */
function within(clip: Int32Array, reach: Int32Array): boolean {
  for (let d = 0; d < reach.length; d++) if (clip[d]! > reach[d]!) return false;
  return true;
}
