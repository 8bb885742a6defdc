/**
 * The parts of a timeline's key (timeline.ts): a buffer the key's numbers are pushed into, and
 * the numbers of wait reasons.
 */
import type { WaitReason } from "../../pe-array/index.js";

/** Every wait reason's number in a key (0: none posted yet). */
const REASON_CODES: Readonly<Record<WaitReason, number>> = { dram: 1, gbuf: 2, bankConflict: 3, network: 4, drain: 5, control: 6 };

/** The kinds of key (a key's first number): a single-buffered boundary's, a pipelined one's, after a prefetch's join (timeline.ts). */
export const KEY_SINGLE = 1, KEY_STEADY = 2, KEY_AFTER_JOIN = 3;

/** A wait reason's number in a key (0: none posted yet). */
export function reasonCode(r: WaitReason | undefined): number {
  return r === undefined ? 0 : REASON_CODES[r];
}

/**
 * A timeline's key as it is built: numbers into one reused buffer (a key is looked up, and copied
 * only when a recording keeps it). Its first number says which kind of key it is.
 */
export class KeyParts {
  private buf = new Float64Array(64);
  private n = 0;

  /** Starts a key of kind `kind`. */
  start(kind: number): this {
    this.n = 0;
    return this.push(kind);
  }

  /** Appends a number. */
  push(v: number): this {
    if (this.n === this.buf.length) {
      const b = new Float64Array(2 * this.buf.length);
      b.set(this.buf);
      this.buf = b;
    }
    this.buf[this.n++] = v;
    return this;
  }

  /** The key so far (a view: valid until the next key starts). */
  view(): Float64Array {
    return this.buf.subarray(0, this.n);
  }
}
