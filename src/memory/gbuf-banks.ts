/**
 * The global buffer's banked access schedule (gbuf.ts, file header): the lane cycles and
 * bank-word accesses of touching a box of a region, by the in-order greedy rule: each cycle,
 * accesses issue in box order until either `ports` have issued or the next access's bank has
 * served `wordsPerCyclePerBank` words this cycle. Memoized: the schedule depends on bank-word
 * equality and on banks (word mod banks) only, so a box moved by a whole number of bank rows
 * (banks x bankWordBytes bytes) has the same schedule. A shape's starts within a bank row are at
 * most banks x bankWordBytes, so the memo by shape stays small.
 */
import { BoxMemo, forEachRow, type Box } from "../core/index.js";
import type { GlobalBufferSpec } from "../arch/spec.js";

/** A schedule: the cycles it takes and its bank-word accesses. */
export interface BankSchedule {
  readonly cycles: number;
  readonly accesses: number;
}

/**
 * The schedules of one box shape (its shape and strides arrays), element size and port count, by
 * start within a bank row: the first start's in two fields, an array of a bank row's starts only
 * from the second start on (a plan of a 128 x 128 array makes thousands of shapes, most of them
 * seen at one start: an array each held 20 MB of the heap).
 */
interface ShapeSchedules {
  readonly strides: readonly number[];
  readonly eb: number;
  readonly ports: number;
  readonly first: number;
  readonly firstSchedule: BankSchedule;
  byStart: (BankSchedule | undefined)[] | undefined;
}

/** Banked access schedules of one global buffer (see the file header). */
export class BankSchedules {
  private readonly stamp: Int32Array;
  private readonly served: Int32Array;
  private stampSeq = 0;
  /** Every schedule made, by start within a bank row, element size, ports, shape and strides (exact). */
  private readonly memo = new BoxMemo<BankSchedule>();
  /** Bytes in a bank row (banks x bankWordBytes): a box's start within one decides its schedule. */
  private readonly row: number;
  /**
   * The same schedules by the identity of a box's shape array first: a replayed plan's boxes are
   * its template's, shifted, and share their shape and strides arrays (boxes are never changed),
   * so they are found without hashing the shape (the timeline key asks for every GBuf read's),
   * by start in an array of a bank row's bytes (none for rows of more than 1,024 bytes), from the
   * second time a shape array is seen.
   */
  private readonly byShape: WeakMap<readonly number[], ShapeSchedules[] | null> | undefined;

  constructor(private readonly spec: GlobalBufferSpec) {
    this.row = spec.banks * spec.bankWordBytes;
    this.byShape = this.row <= 1024 ? new WeakMap() : undefined;
    this.stamp = new Int32Array(spec.banks).fill(-1);
    this.served = new Int32Array(spec.banks);
  }

  /** The schedule of touching `box` of a region at byte `base` with `eb`-byte elements, through `ports` ports. */
  of(base: number, eb: number, box: Box, ports: number): BankSchedule {
    const within = (base + box.offset * eb) % this.row;
    if (!this.byShape) return this.memoized(within, base, eb, box, ports);
    let list = this.byShape.get(box.shape);
    if (list === undefined) {
      // (a shape array seen once is only marked: an array of schedules for every box made once
      // took 18 MB more on AlexNet fc6)
      this.byShape.set(box.shape, null);
      return this.memoized(within, base, eb, box, ports);
    }
    let entry: ShapeSchedules | undefined;
    if (list) {
      for (let i = 0; i < list.length; i++) {
        const e = list[i]!;
        if (e.strides === box.strides && e.eb === eb && e.ports === ports) entry = e;
      }
    } else {
      this.byShape.set(box.shape, (list = []));
    }
    if (!entry) {
      if (list.length >= 8) list.length = 0;
      const firstSchedule = this.memoized(within, base, eb, box, ports);
      list.push({ strides: box.strides, eb, ports, first: within, firstSchedule, byStart: undefined });
      return firstSchedule;
    }
    if (entry.first === within) return entry.firstSchedule;
    const byStart = (entry.byStart ??= new Array<BankSchedule | undefined>(this.row).fill(undefined));
    return (byStart[within] ??= this.memoized(within, base, eb, box, ports));
  }

  /** The schedule from the memo by value, made when it is not there. */
  private memoized(within: number, base: number, eb: number, box: Box, ports: number): BankSchedule {
    let result = this.memo.get(within, eb, ports, box);
    if (!result) {
      result = this.schedule(base, eb, box, ports);
      this.memo.set(within, eb, ports, box, result);
    }
    return result;
  }

  private schedule(base: number, eb: number, box: Box, ports: number): BankSchedule {
    const bw = this.spec.bankWordBytes;
    const mask = this.spec.banks - 1;
    const perBank = this.spec.wordsPerCyclePerBank;
    const stamp = this.stamp;
    const served = this.served;
    let cyc = ++this.stampSeq;
    const firstCycle = cyc;
    let portsUsed = 0;
    let accesses = 0;
    let prev = -1;
    const access = (w: number): void => {
      if (w === prev) return;
      prev = w;
      const bank = w & mask;
      if (portsUsed === ports || (stamp[bank] === cyc && served[bank]! >= perBank)) {
        cyc++;
        portsUsed = 0;
      }
      if (stamp[bank] !== cyc) {
        stamp[bank] = cyc;
        served[bank] = 0;
      }
      served[bank]!++;
      portsUsed++;
      accesses++;
    };
    forEachRow(box, (start, length, stride) => {
      for (let i = 0, e = start; i < length; i++, e += stride) {
        // Every bank word the element's bytes touch: one, or several for an element wider than
        // a bank word or straddling two.
        const w0 = Math.floor((base + e * eb) / bw);
        const w1 = Math.floor((base + e * eb + eb - 1) / bw);
        for (let w = w0; w <= w1; w++) access(w);
      }
    });
    this.stampSeq = cyc;
    return { cycles: cyc - firstCycle + 1, accesses };
  }
}
