/**
 * Timelines' keys (timeline.ts): what determines a timeline, as numbers (the exactness argument:
 * docs/design-notes.md, "Timeline replay"); the buffer a key's numbers are pushed into, and the
 * numbers of wait reasons.
 */
import type { GlobalBuffer } from "../../memory/index.js";
import type { PeArray, Phase, WaitReason } from "../../pe-array/index.js";
import type { IterationPlan, PlanTemplate, Req, Thread } from "./types.js";

/** Every wait reason's number in a key (0: none posted yet). */
const REASON_CODES: Readonly<Record<WaitReason, number>> = { dram: 1, gbuf: 2, bankConflict: 3, network: 4, drain: 5, control: 6 };

/**
 * The kinds of key (a key's first number): a single-buffered boundary's, a pipelined one's (a
 * wave running), after a prefetch's join, a pipelined one's with no wave running (timeline.ts).
 */
export const KEY_SINGLE = 1, KEY_STEADY = 2, KEY_AFTER_JOIN = 3, KEY_QUIET = 4;

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

/** The PE array's running wave at a pipelined program's steady boundary, as the key sees it. */
export interface SteadyWave {
  readonly phase: Phase;
  readonly cmd: { readonly wave: object; readonly alongside?: readonly object[]; readonly chained?: boolean };
}

/**
 * Builds timelines' keys, each into one reused buffer (a view, valid until the next key starts),
 * or undefined when the timeline cannot be replayed. Plan templates and waves are named by serial
 * numbers given on first sight.
 */
export class TimelineKeys {
  private readonly serials = new WeakMap<PlanTemplate, number>();
  /** Serials of objects the key names by identity (waves). */
  private readonly objectSerials = new WeakMap<object, number>();
  private nextSerial = 1;
  /** The key being built. */
  private readonly parts = new KeyParts();

  constructor(
    private readonly host: { readonly now: number; readonly lastReason: WaitReason | undefined },
    private readonly gbuf: GlobalBuffer,
    private readonly pe: PeArray,
  ) {}

  /**
   * A single-buffered boundary's key (timeline.ts, `boundary`): the plan templates of `cur` and
   * `next`, the wait reasons (posted and received), `next`'s drain (`drainKey`: undefined when it
   * never replays) and the GBuf schedules of `next`'s reads, direct requests and halo moves.
   */
  single(cur: IterationPlan, next: IterationPlan, drainKey: () => number | undefined): Float64Array | undefined {
    const drain = drainKey();
    if (drain === undefined) return undefined;
    const parts = this.parts.start(KEY_SINGLE);
    parts.push(this.serial(cur.template!)).push(this.serial(next.template!));
    parts.push(reasonCode(this.host.lastReason)).push(reasonCode(this.pe.waitingFor)).push(drain);
    if (!this.schedules(next.reads, parts) || !this.schedules(next.direct, parts) || !this.schedules(next.moves, parts)) return undefined;
    return parts.view();
  }

  /** The key after the join of `cur`'s prefetch (timeline.ts, `afterJoin`; its reads are done). */
  afterJoin(cur: IterationPlan): Float64Array | undefined {
    const parts = this.parts.start(KEY_AFTER_JOIN).push(this.serial(cur.template!));
    parts.push(reasonCode(this.host.lastReason)).push(reasonCode(this.pe.waitingFor));
    return this.schedules(cur.direct, parts) && this.schedules(cur.moves, parts) ? parts.view() : undefined;
  }

  /**
   * A pipelined timeline's key: the plan templates of `cur`, `next` and `after`, the GBuf
   * schedules of `after`'s reads, the wait reasons (posted, received, and `running`'s), and the
   * running wave (its waves by identity, whether chained, its phase relative to now, from `w`,
   * the host's `steadyWave`).
   */
  steady(cur: IterationPlan, next: IterationPlan, after: IterationPlan, running: Thread, w: SteadyWave): Float64Array | undefined {
    if (!cur.template || !next.template || !after.template || cur.waves.length !== 1) return undefined;
    const now = this.host.now;
    const { cmd, phase } = w;
    const parts = this.parts.start(KEY_STEADY);
    parts.push(this.serial(cur.template)).push(this.serial(next.template)).push(this.serial(after.template));
    parts.push(reasonCode(this.host.lastReason)).push(reasonCode(this.pe.waitingFor)).push(reasonCode(running.reason));
    parts.push(this.objectSerial(cmd.wave)).push(cmd.chained ? 1 : 0);
    // (the running wave's phase relative to now)
    parts.push(phase.start - now).push(phase.issueEnd - now).push(phase.end - now);
    const along = cmd.alongside ?? [];
    parts.push(along.length);
    for (const a of along) parts.push(this.objectSerial(a));
    if (!this.schedules(after.reads, parts)) return undefined;
    return parts.view();
  }

  /**
   * A pipelined boundary's key when no wave runs (the one `cur` is chained behind is done; the
   * system is quiet, or quiet but for what runs beside): the plan templates of `cur`, `next` and
   * `after`, the wait reasons (posted and received) and the GBuf schedules of `after`'s reads.
   */
  quiet(cur: IterationPlan, next: IterationPlan, after: IterationPlan): Float64Array | undefined {
    if (!cur.template || !next.template || !after.template) return undefined;
    const parts = this.parts.start(KEY_QUIET);
    parts.push(this.serial(cur.template)).push(this.serial(next.template)).push(this.serial(after.template));
    parts.push(reasonCode(this.host.lastReason)).push(reasonCode(this.pe.waitingFor));
    return this.schedules(after.reads, parts) ? parts.view() : undefined;
  }

  private serial(t: PlanTemplate): number {
    let s = this.serials.get(t);
    if (s === undefined) this.serials.set(t, (s = this.nextSerial++));
    return s;
  }

  private objectSerial(o: object): number {
    let s = this.objectSerials.get(o);
    if (s === undefined) this.objectSerials.set(o, (s = this.nextSerial++));
    return s;
  }

  /** Appends the banked schedule of each GBuf request; false when a request goes to DRAM. */
  private schedules(reqs: readonly Req[], parts: KeyParts): boolean {
    for (const q of reqs) {
      if (q.to === "dram") return false;
      if (q.to === "gbuf") this.gbuf.scheduleKey(q.msg, parts);
    }
    return true;
  }
}
