/**
 * The PE array's stall accounting: charges every PE-cycle that passes to `busy` or to one idle
 * cause (stall.ts), from the running command's phase and the driver's last wait reason.
 *
 * During a command's issue cycles a PE of a wave part that is still issuing is busy and every
 * other PE is `unmapped`; during its last cycles (pipeline drain, stream skew) every PE is
 * `pipeline`; outside any command every PE is idle for the reason the driver last posted
 * (`control` until it posts one). The charge is exact for any span of cycles, so `advance(n)`
 * charges what `n` ticks would. Internal to the array (not exported from the package).
 */
import { InvariantError, type Counter } from "../core/index.js";
import { isWaitReason, type StallCause, type WaitReason } from "./stall.js";

/** The cycles of the running (or last) command, as the stall accounting sees them. */
export interface Phase {
  readonly start: number;
  /** End of the longest part's issue cycles. */
  readonly issueEnd: number;
  readonly end: number;
  /** Per part: end of its issue cycles and its PEs. */
  readonly parts: readonly { readonly issueEnd: number; readonly pes: number }[];
}

/** The counters a {@link StallAccount} charges: busy PE-cycles and idle PE-cycles per cause. */
export interface StallCounters {
  readonly busy: Counter;
  readonly idle: Readonly<Record<StallCause, Counter>>;
}

/** Charges the PE-cycles of an array of `size` PEs (see the file header). */
export class StallAccount {
  /** The running (or last) command's cycles; a wave command sets it when it starts. */
  phase: Phase = { start: 0, issueEnd: 0, end: 0, parts: [] };
  private reason: WaitReason = "control";

  constructor(
    private readonly component: string,
    private readonly size: number,
    private readonly counters: StallCounters,
  ) {}

  /** What the idle PE-cycles are charged to now (the last wait reason received). */
  get waitingFor(): WaitReason {
    return this.reason;
  }

  /** Takes a wait reason posted by the driver. @throws InvariantError for an unknown one. */
  post(r: unknown): void {
    if (!isWaitReason(r)) throw new InvariantError(this.component, `unknown wait reason ${String(r)}`);
    this.reason = r;
  }

  /** Charges the `n` cycles from `now`: n x size PE-cycles in all. */
  charge(now: number, n: number): void {
    const end = now + n;
    const ph = this.phase;
    const issue = overlapOf(now, end, ph.start, ph.issueEnd);
    const pipe = overlapOf(now, end, ph.issueEnd, ph.end);
    const other = n - issue - pipe;
    const { busy: busyCycles, idle } = this.counters;
    if (issue) {
      let busy = 0;
      for (let i = 0; i < ph.parts.length; i++) busy += overlapOf(now, end, ph.start, ph.parts[i]!.issueEnd) * ph.parts[i]!.pes;
      busyCycles.value += busy;
      idle.unmapped.value += issue * this.size - busy;
    }
    if (pipe) idle.pipeline.value += pipe * this.size;
    if (other) idle[this.reason].value += other * this.size;
  }
}

/** Cycles of [a, b) within [now, end). */
function overlapOf(now: number, end: number, a: number, b: number): number {
  return Math.max(0, Math.min(end, b) - Math.max(now, a));
}
