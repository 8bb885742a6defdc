/**
 * DRAM timing models: when a {@link DramChannel}'s requests complete, swappable by name
 * (`dram.model`, STYLE rule 15). The channel (dram.ts) owns the storage, the counters and the
 * ports, splits each request into bursts and moves its words; when it pops a request it asks its
 * model in which cycle the request completes, and the model says from which cycle the channel may
 * pop the next one. Both are decided at pop time, in closed form, so fast mode jumps exactly.
 * Every model completes requests in the order they were popped.
 *
 * `channel` (the default): the burst pipeline. Per burst, in global issue order, with
 * W = bytesPerCycle, B = burstBytes, L = latencyCycles, M = maxOutstanding, P = burstsPerCycle:
 *
 *     issue_i = max(pop, issue_{i-1}, issue_{i-P} + 1, done_{i-M} + 1)   in order, at most P bursts
 *                                                                       a cycle, at most M in flight
 *     start_i = max((issue_i + L) * W, end_{i-1})   bus byte times: the bus moves W bytes a cycle,
 *     end_i   = start_i + B                         bursts follow each other on it without gaps
 *     done_i  = ceil(end_i / W) - 1                 the cycle in which its last byte arrives
 *
 * (Byte time x lies in cycle floor(x / W).) When W divides B a burst holds the bus for D = B / W
 * whole cycles and this is `done_i = max(issue_i + L, done_{i-1} + 1) + D - 1`; when B < W
 * several bursts share a cycle of the bus, and when W does not divide B they pack across cycle
 * boundaries, so the bus always carries W bytes a cycle while it has data. A request is popped
 * in the first cycle its first burst n could issue were the window not full,
 * `max(issue_{n-1}, issue_{n-P} + 1)` (with P = 1: the cycle after the previous request's last
 * issue); with P > 1 several requests may be popped in one cycle. The request completes in the
 * cycle its last burst is done.
 *
 * `ideal`: unlimited bandwidth and no latency, for comparisons with analytical models. Every
 * request visible on the channel's input is popped, and completes, in the cycle it becomes
 * visible: a request sent in cycle t is popped and completes in t + 1 (its data move and its
 * counters count then) and its response is seen by the driver in t + 2, the two one-cycle
 * channel hops every transaction takes. Bursts are still counted (the channel splits requests
 * alike); they cost no time.
 *
 * Not modeled: banks, row buffers, refresh, read/write turnaround, reordering (docs/timing.md).
 */
import { requireOneOf } from "../core/index.js";
import { DRAM_MODEL_NAMES, type DramModelName, type DramSpec } from "../arch/spec.js";

/** When a DRAM channel's requests complete (see the file header). */
export interface DramTimingModel {
  /** The model's name (`dram.model`). */
  readonly name: DramModelName;
  /** The first cycle in which the channel may pop its next request. */
  readonly nextPopAt: number;
  /**
   * Schedules the `bursts` bursts of a request popped in cycle `now` (>= `nextPopAt`); returns the
   * cycle in which it completes, no earlier than `now` or than any earlier request's.
   */
  schedule(now: number, bursts: number): number;
  /** What the next request waits for, for stall reports. */
  status(): string;
}

/**
 * Bursts the issue stage issues per cycle: `dram.burstsPerCycle`, or by default
 * `max(1, ceil(bytesPerCycle / burstBytes))`, the fewest with which the data bus, not the issue
 * stage, bounds the bandwidth of a stream of bursts.
 */
export function burstsPerCycleOf(spec: DramSpec): number {
  return spec.burstsPerCycle ?? Math.max(1, Math.ceil(spec.bytesPerCycle / spec.burstBytes));
}

/** The `channel` model: issue stage, latency, outstanding window and a shared data bus. */
class ChannelTiming implements DramTimingModel {
  readonly name = "channel";
  nextPopAt = 0;
  private readonly W: number;
  private readonly B: number;
  private readonly L: number;
  /** Issue cycles of the last P bursts, and done cycles of the last M (rings, by burst number). */
  private readonly issues: Float64Array;
  private readonly dones: Float64Array;
  private seq = 0;
  private lastIssue = -Infinity;
  /** Bus byte time at which the last scheduled burst's data end. */
  private busEnd = 0;

  constructor(spec: DramSpec) {
    this.W = spec.bytesPerCycle;
    this.B = spec.burstBytes;
    this.L = spec.latencyCycles;
    this.issues = new Float64Array(burstsPerCycleOf(spec)).fill(-Infinity);
    this.dones = new Float64Array(spec.maxOutstanding).fill(-Infinity);
  }

  schedule(now: number, bursts: number): number {
    const { W, B, L, issues, dones } = this;
    const P = issues.length;
    const M = dones.length;
    let done = now;
    for (let i = 0; i < bursts; i++) {
      const p = this.seq % P;
      const m = this.seq % M;
      const issue = Math.max(now, this.lastIssue, issues[p]! + 1, dones[m]! + 1);
      const end = Math.max((issue + L) * W, this.busEnd) + B;
      done = Math.ceil(end / W) - 1;
      this.busEnd = end;
      issues[p] = issue;
      dones[m] = done;
      this.lastIssue = issue;
      this.seq++;
    }
    this.nextPopAt = Math.max(this.lastIssue, issues[this.seq % P]! + 1);
    return done;
  }

  status(): string {
    return `the issue stage is free in cycle ${this.nextPopAt}`;
  }
}

/** The `ideal` model: a request completes in the cycle it is popped; any number per cycle. */
class IdealDramTiming implements DramTimingModel {
  readonly name = "ideal";
  readonly nextPopAt = -Infinity;

  schedule(now: number): number {
    return now;
  }

  status(): string {
    return "ideal: serves every request the cycle it arrives";
  }
}

/** The DRAM timing models by name (`dram.model`). */
export const DRAM_MODELS: Readonly<Record<DramModelName, (spec: DramSpec) => DramTimingModel>> = Object.freeze({
  channel: (spec: DramSpec) => new ChannelTiming(spec),
  ideal: () => new IdealDramTiming(),
});

/**
 * A new timing model for a validated spec: `spec.model`, default `channel`.
 * @throws ConfigError naming `<path>.model` and the known models when the name is unknown.
 */
export function dramTimingModel(spec: DramSpec, path = "dram"): DramTimingModel {
  return DRAM_MODELS[requireOneOf(`${path}.model`, spec.model ?? "channel", DRAM_MODEL_NAMES)](spec);
}
