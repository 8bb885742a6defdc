/**
 * The Sequencer's transactions in flight: per transaction id, the thread that issued it and the
 * planned request it carries out. Ids are issued in increasing order and most complete soon, so
 * the table is a ring of slots over the window from the oldest id that may be in flight to the
 * newest, doubled when the window outgrows it. It replaced two Maps keyed by id (a `set`, a `get`
 * and a `delete` in each per transaction, and a hash table that churned: a 128 x 128 array queues
 * thousands of requests per step; docs/design-notes.md, "Per-PE bookkeeping", session 27).
 */
import type { Req, Thread } from "./types.js";

/** Transactions in flight by id (see the file header). */
export class InFlight {
  private threads: (Thread | undefined)[];
  private reqs: (Req | undefined)[];
  private mask: number;
  /** No id below this one is in flight (when any is). */
  private lo = 0;
  /** One past the largest id added. */
  private hi = 0;
  /** Transactions in flight. */
  size = 0;

  constructor(capacity = 256) {
    let n = 1;
    while (n < capacity) n *= 2;
    this.threads = new Array<Thread | undefined>(n).fill(undefined);
    this.reqs = new Array<Req | undefined>(n).fill(undefined);
    this.mask = n - 1;
  }

  /** Adds transaction `id` of thread `t`, carrying out `q`; `id` must exceed every id added before. */
  add(id: number, t: Thread, q: Req): void {
    if (id < this.hi) throw new RangeError(`transaction ids must increase: ${id} after ${this.hi - 1}`);
    if (this.size === 0) this.lo = id;
    else if (id - this.lo > this.mask) this.grow(id - this.lo + 1);
    const s = id & this.mask;
    this.threads[s] = t;
    this.reqs[s] = q;
    this.hi = id + 1;
    this.size++;
  }

  /** The thread that issued transaction `id`, if it is in flight. */
  thread(id: number): Thread | undefined {
    return id >= this.lo && id < this.hi ? this.threads[id & this.mask] : undefined;
  }

  /** The planned request transaction `id` carries out, if it is in flight. */
  request(id: number): Req | undefined {
    return id >= this.lo && id < this.hi ? this.reqs[id & this.mask] : undefined;
  }

  /** Transaction `id`, in flight, now carries out `q`. */
  setRequest(id: number, q: Req): void {
    if (this.thread(id) === undefined) throw new RangeError(`transaction ${id} is not in flight`);
    this.reqs[id & this.mask] = q;
  }

  /** Removes transaction `id` (in flight). */
  delete(id: number): void {
    const s = id & this.mask;
    this.threads[s] = undefined;
    this.reqs[s] = undefined;
    this.size--;
    if (id === this.lo) {
      // The window starts at the oldest id still in flight.
      while (this.lo < this.hi && this.threads[this.lo & this.mask] === undefined) this.lo++;
    }
  }

  /** Calls `f` with each transaction in flight, oldest first, until it returns false; whether it never did. */
  every(f: (id: number, t: Thread) => boolean): boolean {
    for (let id = this.lo; id < this.hi && this.size > 0; id++) {
      const t = this.threads[id & this.mask];
      if (t !== undefined && !f(id, t)) return false;
    }
    return true;
  }

  /** A ring of at least `need` slots, the entries in flight moved to theirs. */
  private grow(need: number): void {
    let n = this.mask + 1;
    while (n < need) n *= 2;
    const threads = new Array<Thread | undefined>(n).fill(undefined);
    const reqs = new Array<Req | undefined>(n).fill(undefined);
    for (let id = this.lo; id < this.hi; id++) {
      const s = id & this.mask;
      threads[id & (n - 1)] = this.threads[s];
      reqs[id & (n - 1)] = this.reqs[s];
    }
    this.threads = threads;
    this.reqs = reqs;
    this.mask = n - 1;
  }
}
