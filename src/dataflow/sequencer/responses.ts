/**
 * The responses to a thread's step, by the planned request each answers: two lists in arrival
 * order, not a Map. A step's responses are looked up (and taken) mostly in the order they came
 * in, and a Map's hash table, grown entry by entry for a new map at every step and emptied by
 * deletions, was a measurable part of a replayed timeline's steps (docs/design-notes.md,
 * "Per-PE bookkeeping", session 25).
 */
import type { Req, Resp } from "./types.js";

/** Responses by planned request. A request is answered at most once at a time (plans issue each once). */
export class Responses {
  private readonly reqs: (Req | undefined)[] = [];
  private readonly resps: (Resp | undefined)[] = [];
  /** Entries set (the arrays' slots in use: an emptied list reuses them). */
  private n = 0;
  /** Entries not taken. */
  private live = 0;
  /** Every entry before this one is taken. */
  private first = 0;

  /** Entries not taken. */
  get size(): number {
    return this.live;
  }

  /** Adds the response to `q`. */
  set(q: Req, r: Resp): void {
    this.reqs[this.n] = q;
    this.resps[this.n++] = r;
    this.live++;
  }

  /** The response to `q`, taken out (a second take finds none), or undefined when there is none. */
  take(q: Req): Resp | undefined {
    const reqs = this.reqs;
    for (let i = this.first; i < this.n; i++) {
      if (reqs[i] !== q) continue;
      const r = this.resps[i];
      reqs[i] = undefined;
      this.resps[i] = undefined;
      if (--this.live === 0) {
        // (emptied: it may serve another step, which reuses the arrays from their start)
        this.n = 0;
        this.first = 0;
      } else if (i === this.first) {
        while (reqs[this.first] === undefined) this.first++;
      }
      return r;
    }
    return undefined;
  }

  /** Calls `f` on every entry not taken, in arrival order. */
  forEach(f: (r: Resp, q: Req) => void): void {
    const reqs = this.reqs;
    for (let i = this.first; i < this.n; i++) {
      const q = reqs[i];
      if (q !== undefined) f(this.resps[i]!, q);
    }
  }

  /** Whether `f` holds for every response not taken. */
  every(f: (r: Resp) => boolean): boolean {
    const reqs = this.reqs;
    for (let i = this.first; i < this.n; i++) if (reqs[i] !== undefined && !f(this.resps[i]!)) return false;
    return true;
  }
}
