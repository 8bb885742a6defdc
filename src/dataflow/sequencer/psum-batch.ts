/**
 * Psum tile records made together: when every active PE drains and gets a new psum tile at
 * once (a drain of every PE at every iteration: `is`, `ws`, `os`, `rs` on most layers), the
 * records of one iteration differ only by their PEs, which the placement fixes. A batch keeps one
 * record per active PE of one placement, made once, whose output key, start and iteration follow
 * from the batch's (the iteration's start plus the PE's offset, as Residency.psumTile makes
 * them): handing every active PE a new tile is one store of the iteration's start, and the drain
 * takes the batch's list whole. Unchecked runs without fused groups or a streamed output only.
 */
import { NDIMS } from "../nest.js";
import type { DrainEntry } from "./types.js";

/** One PE's record in a batch ({@link PsumBatch}): its own fields fixed, the rest its batch's. */
export class BatchEntry implements DrainEntry {
  /** The start as last computed, and the batch's issue it was computed for. */
  private readonly at = new Int32Array(NDIMS);
  private atIssue = -1;

  constructor(
    readonly owner: PsumBatch,
    readonly pe: number,
    readonly ext: Int32Array,
    readonly base: number,
    readonly extKey: number,
    readonly shapeKey: number,
    /** The PE's output key offset (its key: the iteration start's plus this). */
    private readonly offKey: number,
    /** The PE's offset (its start: the iteration's plus this). */
    private readonly offset: Int32Array,
  ) {}

  get key(): number {
    return this.owner.outKey0 + this.offKey;
  }

  get gen(): number {
    return this.owner.gen;
  }

  get start(): Int32Array {
    const o = this.owner;
    if (this.atIssue !== o.issue) {
      const s = this.at;
      const it = o.iterStart;
      const off = this.offset;
      for (let d = 0; d < NDIMS; d++) s[d] = it[d]! + off[d]!;
      this.atIssue = o.issue;
    }
    return this.at;
  }
}

/**
 * The placement a batch is made for: the active PEs with their extents and keys, and the psum
 * base (one per psum half). Its batches are reused once their drains are over ({@link free}).
 */
export class BatchLayout {
  /** Per PE: the psum tile's extent key when active (NaN: idle), the new-psum keys the planner hands on. */
  readonly psumKeys: Float64Array;
  /** Batches whose drain is over. */
  readonly free: PsumBatch[] = [];

  constructor(
    readonly pes: Int32Array,
    readonly ext: readonly Int32Array[],
    readonly extKey: Float64Array,
    readonly shapeKey: Float64Array,
    readonly offKey: Float64Array,
    readonly offset: readonly Int32Array[],
    readonly base: number,
    pesInAll: number,
  ) {
    this.psumKeys = new Float64Array(pesInAll).fill(NaN);
    for (let i = 0; i < pes.length; i++) this.psumKeys[pes[i]!] = extKey[i]!;
  }

  /** A batch of this layout for the iteration starting at `iterStart` (its output key `outKey0`; `gen`: Residency.moveTo's count). */
  take(iterStart: Int32Array, outKey0: number, gen: number): PsumBatch {
    const b = this.free.pop() ?? new PsumBatch(this);
    b.issueFor(iterStart, outKey0, gen);
    return b;
  }
}

/** The records of one layout's active PEs, issued again for each iteration that uses it. */
export class PsumBatch {
  /** Its records, in PE order: the list every issue drains (lists compared by identity stand for one issue only while it is out: Program.drain). */
  readonly list: DrainEntry[];
  readonly iterStart = new Int32Array(NDIMS);
  outKey0 = NaN;
  gen = -1;
  /** How many times it was issued ({@link BatchEntry.start}'s cache). */
  issue = 0;
  /** Its records not yet released since it was issued. */
  live = 0;

  constructor(readonly layout: BatchLayout) {
    const l = layout;
    this.list = Array.from(l.pes, (pe, i) => new BatchEntry(this, pe, l.ext[i]!, l.base, l.extKey[i]!, l.shapeKey[i]!, l.offKey[i]!, l.offset[i]!));
  }

  issueFor(iterStart: Int32Array, outKey0: number, gen: number): void {
    this.iterStart.set(iterStart);
    this.outKey0 = outKey0;
    this.gen = gen;
    this.issue++;
    this.live = this.list.length;
  }

  /** Takes back `n` of its records; once all are back, it may be issued again. */
  released(n: number): void {
    this.live -= n;
    if (this.live === 0) this.layout.free.push(this);
  }
}

/** The batch whose list `entries` is, if any (a drain of a batch taken whole). */
export function batchOf(entries: readonly DrainEntry[]): PsumBatch | undefined {
  const e0 = entries[0];
  if (!(e0 instanceof BatchEntry)) return undefined;
  const b = e0.owner;
  return b.list === entries ? b : undefined;
}
