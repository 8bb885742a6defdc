/**
 * The Sequencer's transactions in flight: per transaction id, the thread that issued it and the
 * planned request it carries out. Ids are issued in increasing order and most complete soon, so
 * the table is a ring of slots over a window of recent ids, linked in id order so that a walk
 * visits only the transactions in flight. One that outlives the window (a pipelined program's
 * running wave keeps its transaction through thousands of replayed timelines, while the ids of
 * the replayed requests move on) moves to a Map; the ring doubles instead when more than half of
 * it is in flight. It replaced two Maps keyed by id: a `set`, a `get` and a `delete` in each per
 * transaction, and a hash table that churned (a 128 x 128 array queues thousands of requests per
 * step; docs/design-notes.md, "Per-PE bookkeeping", session 27).
 */
import type { Req, Thread } from "./types.js";

/** Transactions in flight by id (see the file header). */
export class InFlight {
  private threads: (Thread | undefined)[] = [];
  private reqs: (Req | undefined)[] = [];
  /** Per slot, the next and previous slot in flight (id order; -1: none). */
  private next = new Int32Array(0);
  private prev = new Int32Array(0);
  private head = -1;
  private tail = -1;
  private mask = 0;
  /** The window: no id below `lo` is in the ring; `hi` is one past the largest id added. */
  private lo = 0;
  private hi = 0;
  /** Transactions in the ring. */
  private inRing = 0;
  /** Transactions that outlived the window, in id order. */
  private readonly old = new Map<number, { readonly t: Thread; q: Req }>();

  constructor(capacity = 1024) {
    let n = 1;
    while (n < capacity) n *= 2;
    this.resize(n);
  }

  /** Transactions in flight. */
  get size(): number {
    return this.inRing + this.old.size;
  }

  /** Adds transaction `id` of thread `t`, carrying out `q`; `id` must exceed every id added before. */
  add(id: number, t: Thread, q: Req): void {
    if (id < this.hi) throw new RangeError(`transaction ids must increase: ${id} after ${this.hi - 1}`);
    if (this.inRing === 0) this.lo = id;
    else if (id - this.lo > this.mask) this.makeRoom(id);
    const s = id & this.mask;
    this.threads[s] = t;
    this.reqs[s] = q;
    this.next[s] = -1;
    this.prev[s] = this.tail;
    if (this.tail >= 0) this.next[this.tail] = s;
    else this.head = s;
    this.tail = s;
    this.hi = id + 1;
    this.inRing++;
  }

  /** The thread that issued transaction `id`, if it is in flight. */
  thread(id: number): Thread | undefined {
    if (id >= this.lo && id < this.hi) return this.threads[id & this.mask];
    return this.old.size > 0 ? this.old.get(id)?.t : undefined;
  }

  /** The planned request transaction `id` carries out, if it is in flight. */
  request(id: number): Req | undefined {
    if (id >= this.lo && id < this.hi) return this.reqs[id & this.mask];
    return this.old.size > 0 ? this.old.get(id)?.q : undefined;
  }

  /** Transaction `id`, in flight, now carries out `q`. */
  setRequest(id: number, q: Req): void {
    if (this.thread(id) === undefined) throw new RangeError(`transaction ${id} is not in flight`);
    if (id >= this.lo && id < this.hi) this.reqs[id & this.mask] = q;
    else this.old.get(id)!.q = q;
  }

  /** Removes transaction `id` (in flight). */
  delete(id: number): void {
    if (id < this.lo || id >= this.hi) {
      this.old.delete(id);
      return;
    }
    const s = id & this.mask;
    if (this.threads[s] === undefined) return;
    this.unlink(s);
    this.inRing--;
    if (this.inRing === 0) this.lo = this.hi;
  }

  /** Calls `f` with each transaction in flight, oldest first, until it returns false; whether it never did. */
  every(f: (id: number, t: Thread) => boolean): boolean {
    for (const [id, e] of this.old) if (!f(id, e.t)) return false;
    for (let s = this.head; s >= 0; s = this.next[s]!) {
      // (the id of slot s: the one in the window that maps to it)
      const id = this.lo + ((s - this.lo) & this.mask);
      if (!f(id, this.threads[s]!)) return false;
    }
    return true;
  }

  private unlink(s: number): void {
    const p = this.prev[s]!;
    const n = this.next[s]!;
    if (p >= 0) this.next[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail = p;
    this.threads[s] = undefined;
    this.reqs[s] = undefined;
  }

  /** Makes the window reach id `id`: a ring twice as large when over half of it is in flight, else its oldest transactions move to {@link old}. */
  private makeRoom(id: number): void {
    if (this.inRing * 2 > this.mask + 1) {
      const n = 2 * (this.mask + 1);
      const live: [number, Thread, Req][] = [];
      this.every((i, t) => (i >= this.lo && live.push([i, t, this.reqs[i & this.mask]!]), true));
      const lo = this.lo;
      this.resize(n);
      this.lo = lo;
      this.inRing = 0;
      this.hi = lo;
      for (const [i, t, q] of live) this.add(i, t, q);
      if (id - this.lo <= this.mask) return;
    }
    // The window moves up to [id - mask, id]: the transactions below it leave the ring, oldest first.
    const floor = id - this.mask;
    while (this.head >= 0) {
      const s = this.head;
      const at = this.lo + ((s - this.lo) & this.mask);
      if (at >= floor) break;
      this.old.set(at, { t: this.threads[s]!, q: this.reqs[s]! });
      this.unlink(s);
      this.inRing--;
    }
    this.lo = this.inRing === 0 ? id : floor;
  }

  private resize(n: number): void {
    this.threads = new Array<Thread | undefined>(n).fill(undefined);
    this.reqs = new Array<Req | undefined>(n).fill(undefined);
    this.next = new Int32Array(n).fill(-1);
    this.prev = new Int32Array(n).fill(-1);
    this.head = -1;
    this.tail = -1;
    this.mask = n - 1;
  }
}
