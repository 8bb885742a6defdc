/**
 * Runs of pipelined timelines (docs/design-notes.md, "Runs of timelines", "Pipelined runs"):
 * consecutive timelines of a chained pipeline (program.ts, `runPipelined`) replayed at once, as
 * runs.ts does for single-buffered programs.
 *
 * At a steady loop head (TimelineReplay.steadyBoundary) iteration i's wave is spawned chained
 * behind i - 1's, the program waits for i - 1's, then delivers i + 1's operands into the half
 * i - 1 read and issues i + 2's reads; its replay (TimelineReplay.replaySteady) runs i - 1's
 * remaining MACs, applies those deliveries and reads at once, and makes i's wave the running one
 * with the phase the recorded timeline ended with. A run does that for many loop heads with one
 * wait and one setting of the counters: at each, the waves of the iteration before run at once
 * (the array is idle between: nothing is adopted), then the deliveries of the next iteration,
 * whose reads' words have not changed since they were issued (nothing in a chained pipeline
 * writes the GBuf halves it reads: no drain, no halo copy), so its reads and deliveries run
 * together as compiled copies (copies.ts); only the last iteration's wave is adopted, and the last
 * reads' payloads go to the executor, whose deliveries after the run take them.
 *
 * Recording and the exactness argument are runs.ts's: a run is noted from a loop head whose
 * timeline replays (kept under that timeline and the loop head's position in the dram tile),
 * one step per loop head after it (the iteration planned there, whose reads the
 * timeline begun there issues, with no drain; and that timeline's record once it has ended). On
 * replay a step goes on while the iteration planned there is a plan-cache hit that would build
 * the recorded plan (the same template and reads: IterationPlanner.sameAs) with no drain, the
 * iteration whose deliveries the step makes may still be chained behind a wave (program.ts,
 * `chainable`: it drains nothing), and the dram tile has an iteration after it. Then everything
 * the key of the timeline begun there holds is the recorded one's: the three iterations'
 * templates, the GBuf schedules of the reads (the same reads), the wait reasons and the running
 * wave's phase (both as the recorded timeline before it ended), and the loop head is steady (as
 * that timeline ended); beside a prefetch every step must also be one that may run beside it.
 */
import type { WaitReason } from "../../pe-array/index.js";
import type { CompiledCopies } from "./copies.js";
import { chained } from "./executor.js";
import { PlanHit, type IterationPlanner } from "./iteration.js";
import { RUNS_PER_TIMELINE, RunRecorder, type Run, type RunTile } from "./runs.js";
import { fitsBeside, type Beside, type Timeline, type TimelineReplay } from "./timeline.js";
import { NO_REQS, Responses, type IterationPlan, type Req, type Step, type Thread } from "./types.js";

/** A steady loop head whose timeline replays, handed to a run (program.ts, runPipelined). */
export interface SteadyStart {
  /** The iteration whose wave is spawned there, the next one (delivered there), and the one after (read there). */
  readonly cur: IterationPlan;
  readonly next: IterationPlan;
  readonly after: IterationPlan;
  /** The timeline TimelineReplay.steadyBoundary returned, and what runs beside it (undefined: alone). */
  readonly t: Timeline;
  readonly beside: Beside | undefined;
  /** `next`'s early deliveries, made with its reads' payloads (program.ts, `sends`). */
  readonly sends: readonly Req[];
  /** The thread waiting for the running wave. */
  readonly running: Thread;
  /** The program's wait reason for reads. */
  readonly readReason: WaitReason;
}

/** Where the program goes on after a run: its current and next iterations, and the one after them when the run planned it. */
export interface SteadyEnd {
  readonly cur: IterationPlan;
  readonly next: IterationPlan;
  readonly ahead: IterationPlan | undefined;
}

/** Records and replays runs of pipelined timelines (see the file header). */
export class SteadyRuns {
  private readonly rec = new RunRecorder();
  private readonly scratch = new Responses();
  /** Runs replayed. */
  replayed = 0;

  constructor(
    private readonly timeline: TimelineReplay,
    private readonly planner: Pick<IterationPlanner, "sameAs" | "reuse" | "build">,
    private readonly copies: CompiledCopies,
    /** Whether an iteration's wave may be chained behind the one before (program.ts). */
    private readonly chainable: (p: IterationPlan) => boolean,
  ) {}

  /**
   * At a pipelined program's loop head, after TimelineReplay.steadyBoundary, which returned `t` to
   * replay (or nothing), `after` the iteration planned there: notes it in the run being recorded,
   * and returns the runs recorded from `t` (the program then replays one: {@link replay}), or
   * undefined (it replays `t` alone, if any). While a run is recorded none is replayed.
   */
  boundary(after: IterationPlan | undefined, t: Timeline | undefined, tile: RunTile): readonly Run[] | undefined {
    this.note(after, t, tile);
    if (!t || this.rec.active) return undefined;
    const runs = this.rec.book.get(t, tile.at());
    if (!runs) this.rec.begin(t, tile.at());
    return runs;
  }

  /**
   * The run being recorded at a loop head: the timeline that ended here must be its last one, its
   * record kept (TimelineReplay.ended); the timeline begun here (replayed: `t`, or recorded) is its
   * next step, with `after`'s plan, which must drain nothing (its plan is reused as it is), and
   * the dram tile must have an iteration after it (a run never replays past one).
   */
  private note(after: IterationPlan | undefined, t: Timeline | undefined, tile: RunTile): void {
    const tl = this.timeline;
    if (!this.rec.active || !this.rec.closeStep(tl.ended)) return;
    const goesOn = after && after.template && after.drains.length === 0 && !after.drainsBehind && tile.more() && (t ?? tl.recordingSingle(true));
    this.rec.add(goesOn ? { plan: after, drain: 0, t } : undefined);
  }

  /**
   * Replays, from the loop head `s` where a timeline's replay begins, that timeline and as many of
   * the steps of one of `runs` as still hold (see the file header). `keep` takes the payloads of
   * the last reads (the executor's, for the deliveries after the run).
   */
  *replay(s: SteadyStart, runs: readonly Run[], tile: RunTile, keep: (got: Responses) => void): Generator<Step, SteadyEnd, Responses> {
    const tl = this.timeline;
    const host = tl.host;
    const before = tl.runStart();
    const ts: Timeline[] = [s.t];
    let length = s.t.length;
    let { cur, next, after } = s;
    // The loop head's own timeline: the running wave finishes, `next`'s deliveries go in.
    host.finishWave();
    host.beginApplying(NO_REQS);
    if (s.sends.length > 0) host.apply(s.sends, this.scratch);
    const at = tile.at();
    let hit = tile.more() ? tile.planNext() : undefined;
    let run: Run | undefined;
    for (const r of runs) if (hit instanceof PlanHit && this.planner.sameAs(hit, r[0]!.plan)) run = r;
    for (let k = 0; run && k < run.length; k++) {
      const step = run[k]!;
      // (the first step's plan was matched above)
      if (!(hit instanceof PlanHit) || hit.drains.length > 0 || !tile.more() || !this.chainable(after) || (k > 0 && !this.planner.sameAs(hit, step.plan))) break;
      if (s.beside && (!step.t!.besideSafe || !fitsBeside(step.plan.reads.length, s.beside))) break;
      this.planner.reuse(hit);
      // The wave before finishes; `after` (the next loop head's `next`) is read and delivered.
      host.apply(cur.waves, this.scratch);
      host.beginApplying(after.reads);
      this.copies.apply(after, this.scratch);
      ts.push(step.t!);
      length += step.t!.length;
      [cur, next, after] = [next, after, step.plan];
      hit = tile.more() ? tile.planNext() : undefined;
    }
    // The last reads, whose payloads the program's deliveries take next; the last wave runs on.
    const got = new Responses();
    host.beginApplying(after.reads);
    if (after.reads.length > 0) host.apply(after.reads, got);
    keep(got);
    host.endApplying();
    const last = ts[ts.length - 1]!;
    tl.adoptWave(chained(cur.waves)[0]!, last, host.now + length, s.running, after.reads.length > 0 ? s.readReason : "network");
    yield ts.length === 1 ? last.wait : { reason: last.reason, reqs: NO_REQS, delay: length };
    tl.finishRun(before, ts, s.beside !== undefined);
    if (ts.length > 1) this.replayed++;
    // No run recorded went on from this timeline: record one from it (from the next loop head on).
    else if (runs.length < RUNS_PER_TIMELINE) this.rec.begin(s.t, at);
    return { cur: next, next: after, ahead: hit instanceof PlanHit ? this.planner.build(hit) : hit };
  }
}
