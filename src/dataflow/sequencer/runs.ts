/**
 * Runs of timelines (docs/design-notes.md, "Runs of timelines"): consecutive single-buffered
 * timelines replayed at once.
 *
 * Inside a dram tile a single-buffered program replays one timeline after another (timeline.ts),
 * each at its own boundary: the key of the next one is built, its steps are applied, the program
 * waits its length and the counters are set. A run does that for many timelines with one wait
 * and one setting of the counters, reuses the plans it recorded instead of building new ones, and
 * runs their copies compiled (copies.ts).
 *
 * A run is recorded from a boundary where a timeline is replayed (alone, or beside the next
 * tile's prefetch and output write-backs): at each boundary after it, the plan of the iteration
 * whose reads the timeline then begun issues (the one after the boundary's two), the key of that
 * iteration's drain, and that timeline's record once it has ended, as long as each boundary
 * begins a timeline whose drain runs in the program's steps. It is kept under its first
 * timeline's record.
 *
 * It is replayed from a boundary where that timeline's replay begins. Its steps are applied at
 * once and the iteration after is planned as always (the residency and planner state move as
 * they would); while the plan-cache hit of that iteration would build the plan the run recorded
 * there but for the drained records (the same template, the same reads: IterationPlanner.sameAs),
 * its drain has the recorded key, and the dram tile has an iteration after it, the timeline begun
 * at that boundary has the recorded one's key (the same plan templates and GBuf requests, so the
 * same GBuf schedules; the same drain signature; the wait reasons its predecessor left at its
 * end), so it is the recorded timeline, and the run goes on with the recorded plan and the
 * iteration's own drain. Beside a prefetch every step must also be one that may run beside it.
 * Where a check fails, the run stops at that boundary: the program waits the timelines' lengths
 * together, every counter takes its value at the start plus their recorded changes, and the
 * program goes on from there as after a replayed timeline.
 */
import { InvariantError } from "../../core/index.js";
import type { CompiledCopies } from "./copies.js";
import type { Steps } from "./executor.js";
import { PlanHit, type IterationPlanner } from "./iteration.js";
import { fitsBeside, type Beside, type Timeline, type TimelineReplay } from "./timeline.js";
import { NO_REQS, Responses, type DrainEntry, type IterationPlan, type Step } from "./types.js";

/** What a run needs of the program's current dram tile (program.ts). */
export interface RunTile {
  /** Its next iteration, a plan-cache hit left unbuilt (IterationPlanner.planOrHit); one must be left. */
  planNext(): IterationPlan | PlanHit;
  /** Whether it has an iteration after the last one planned. */
  more(): boolean;
  /** The index in the tile of the next iteration {@link planNext} plans. */
  at(): number;
  /**
   * The drain of `drains` as a part of a timeline's key (drainer.ts, Drainer.key: 0 none,
   * undefined one that never replays), noted for the drain that follows; undefined too for a
   * drain that would run beside the program (a streamed output).
   */
  drainKey(drains: readonly DrainEntry[]): number | undefined;
  /** The drain of `drains` (Program.drain), its steps applied at once in a run. */
  drain(drains: readonly DrainEntry[]): Steps;
  /** Whether drains run in the program's own steps (not beside it, as a streamed output's). */
  drainsInline(): boolean;
}

/** A timeline of a run after its first: the plan of the iteration whose reads it issues, and its record. */
export interface RunStep {
  readonly plan: IterationPlan;
  /** The key of its drain (0: none; the drained records are each iteration's own, not the plan's). */
  readonly drain: number;
  t: Timeline | undefined;
}

/** A recorded run: its timelines after the first (their records all known). */
export type Run = readonly RunStep[];

/**
 * Runs kept per first timeline (the oldest goes), and their steps kept in all (beyond it all go:
 * only speed depends on them).
 */
export const RUNS_PER_TIMELINE = 16;
const STEPS_KEPT = 100_000;
/** No run: the timeline alone is replayed (its copies compiled). */
const NO_RUNS: readonly Run[] = Object.freeze([]);
/** Timelines after the first a run must have to be kept. */
const MIN_STEPS = 2;

/**
 * Recorded runs by their first timeline and where in the dram tile they begin (`at`, the index of
 * the iteration their first step plans; single-buffered runs use 0 for all: a pipelined loop head
 * often begins the same timeline at every position of a tile, whose reads differ by position).
 */
export class RunBook {
  private runs = new Map<Timeline, Map<number, Run[]>>();
  private kept = 0;

  /** The runs recorded from timeline `t` beginning at `at`. */
  get(t: Timeline, at = 0): Run[] | undefined {
    return this.runs.get(t)?.get(at);
  }

  /** Keeps `steps`, a run recorded from `first` at `at`, up to its last step whose record is known, if it is long enough. */
  keep(first: Timeline, steps: readonly RunStep[], at = 0): void {
    let n = steps.length;
    while (n > 0 && !steps[n - 1]!.t) n--;
    if (n < MIN_STEPS) return;
    if ((this.kept += n) > STEPS_KEPT) {
      this.runs = new Map();
      this.kept = n;
    }
    let byAt = this.runs.get(first);
    if (!byAt) this.runs.set(first, (byAt = new Map()));
    let list = byAt.get(at);
    if (!list) byAt.set(at, (list = []));
    if (list.length >= RUNS_PER_TIMELINE) list.shift();
    list.push(steps.slice(0, n));
  }
}

/**
 * The run being recorded and the runs kept ({@link RunBook}), for either kind of run: a run is
 * begun from a timeline, and at each boundary after it the timeline that ended there closes its
 * last step and the timeline begun there, if it may, is its next step; otherwise it is kept.
 */
export class RunRecorder {
  readonly book = new RunBook();
  /** The run being recorded: its first timeline and position, and its steps so far (the last one's record not yet known). */
  private rec: { readonly first: Timeline; readonly at: number; readonly steps: RunStep[] } | undefined;

  /** Whether a run is being recorded (while one is, none is replayed: the recording goes on to its end). */
  get active(): boolean {
    return this.rec !== undefined;
  }

  /** Begins recording a run from timeline `t` at position `at`, unless one is being recorded. */
  begin(t: Timeline, at = 0): void {
    this.rec ??= { first: t, at, steps: [] };
  }

  /**
   * At a boundary of the run being recorded: `ended` (TimelineReplay.ended) must be the timeline
   * of its last step (its first timeline before any step), whose record it becomes. Returns
   * whether the run goes on; when not, it has been kept.
   */
  closeStep(ended: Timeline | undefined): boolean {
    const r = this.rec!;
    const last = r.steps[r.steps.length - 1];
    if (ended === undefined || (last ? false : ended !== r.first)) return this.add(undefined);
    if (last) last.t = ended;
    return true;
  }

  /** Adds the timeline begun at this boundary as the run's next step; undefined ends the run, which is kept. Returns whether it goes on. */
  add(step: RunStep | undefined): boolean {
    const r = this.rec!;
    if (step) {
      r.steps.push(step);
      return true;
    }
    this.rec = undefined;
    this.book.keep(r.first, r.steps, r.at);
    return false;
  }
}

/** Records and replays runs of timelines (see the file header). */
export class TimelineRuns {
  private readonly rec = new RunRecorder();
  private readonly responses = new Responses();
  /** Runs replayed. */
  replayed = 0;
  /** After a replayed run: the iteration whose waves go next, and the one whose reads go with them. */
  cur!: IterationPlan;
  next!: IterationPlan;

  constructor(
    private readonly timeline: TimelineReplay,
    private readonly planner: Pick<IterationPlanner, "sameAs" | "reuse" | "build">,
    private readonly copies: CompiledCopies,
  ) {}

  /**
   * At a single-buffered program's boundary, after TimelineReplay.boundary (between the waves of
   * `cur` and the reads of `next`): notes it in the run being recorded, and returns the runs
   * recorded from the timeline begun there when it is replayed (the program then replays one:
   * {@link replay}). (Not a generator: most boundaries replay none.)
   */
  boundary(next: IterationPlan, tile: RunTile): readonly Run[] | undefined {
    const t = this.timeline.replayingNow()?.t;
    this.note(next, t, tile);
    // (a run plans the iteration after each of its timelines: not past the dram tile)
    if (!t || !tile.more() || next.drainsBehind || (next.drains.length > 0 && !tile.drainsInline())) return undefined;
    // (while a run is recorded, none is replayed, the recording goes on to its end: the timeline
    // alone is, its copies compiled)
    if (this.rec.active) return NO_RUNS;
    const runs = this.rec.book.get(t);
    if (!runs) this.rec.begin(t);
    return runs ?? NO_RUNS;
  }

  /**
   * The run being recorded at a boundary: the timeline that ended here must be its last one, its
   * record kept (TimelineReplay.ended); the timeline begun here (replayed: `t`, or recorded) is
   * its next step, with `next`'s plan, unless its drain never replays or runs behind the wave.
   */
  private note(next: IterationPlan, t: Timeline | undefined, tile: RunTile): void {
    if (!this.rec.active || !this.rec.closeStep(this.timeline.ended)) return;
    const drain = !tile.more() || next.drainsBehind || !(t ?? this.timeline.recordingSingle()) ? undefined : tile.drainKey(next.drains);
    this.rec.add(drain === undefined ? undefined : { plan: next, drain, t });
  }

  /**
   * Replays, from the boundary between `cur` and `next` where a timeline's replay has begun and
   * {@link boundary} returned `runs`, that timeline and as many of the steps of one of `runs` as
   * still hold (see the file header); the program goes on from the returned {@link cur} and {@link next}.
   * Beside a prefetch (`beside`: what runs beside at the boundary) every step must be one that
   * may run beside it: it changes none of its counters, drains nothing, and its GBuf requests
   * fit beside the prefetch's (fitsBeside, beside.ts); the prefetch runs on meanwhile.
   */
  *replay(cur: IterationPlan, next: IterationPlan, runs: readonly Run[], p: RunTile, beside: Beside | undefined): Generator<Step, TimelineRuns, Responses> {
    const tl = this.timeline;
    const { t, beside: besideNow } = tl.replayingNow()!;
    const by = besideNow ? beside : undefined;
    if (besideNow && !by) throw new InvariantError("sequencer", "a run of timelines begun beside nothing");
    const before = tl.takeReplay();
    const ts: Timeline[] = [t];
    let length = t.length;
    this.apply(cur, next, next.drains, p);
    let after = p.planNext();
    let run: Run | undefined;
    for (const r of runs) if (after instanceof PlanHit && this.planner.sameAs(after, r[0]!.plan)) run = r;
    for (let k = 0; run && k < run.length; k++) {
      const s = run[k]!;
      // (the first step's plan was matched above; the drain key is read last: the drain uses it)
      if (!(after instanceof PlanHit) || !p.more() || (k > 0 && !this.planner.sameAs(after, s.plan))) break;
      if (by && (!s.t!.besideSafe || s.drain !== 0 || !fitsBeside(s.plan.reads.length, by))) break;
      if ((after.drains.length > 0 ? p.drainKey(after.drains) : 0) !== s.drain) break;
      this.planner.reuse(after);
      this.apply(next, s.plan, after.drains, p);
      ts.push(s.t!);
      length += s.t!.length;
      next = s.plan;
      after = p.planNext();
    }
    this.cur = next;
    this.next = after instanceof PlanHit ? this.planner.build(after) : after;
    tl.host.endApplying();
    const last = ts[ts.length - 1]!;
    yield ts.length === 1 ? last.wait : { reason: last.reason, reqs: NO_REQS, delay: length };
    tl.finishRun(before, ts, besideNow);
    if (ts.length > 1) this.replayed++;
    // No run recorded went on from this timeline: record one from it (from the next boundary on).
    else if (runs.length > 0 && runs.length < RUNS_PER_TIMELINE) this.rec.begin(t);
    return this;
  }

  /**
   * The steps of the timeline between `cur` and `next` (program.ts, runSingleBuffered), applied at
   * once: `cur`'s waves with `next`'s reads, then the drain of `drains` (the iteration's own
   * records), then `next`'s halo moves, deliveries and fills (compiled: copies.ts; its reads touch
   * no word a drain writes, so they may be read after it).
   */
  private apply(cur: IterationPlan, next: IterationPlan, drains: readonly DrainEntry[], tile: RunTile): void {
    const host = this.timeline.host;
    host.beginApplying(next.reads, drains.length > 0);
    host.apply(cur.waves, this.responses);
    if (drains.length > 0) {
      // (its steps applied one after another, each one's responses handed back to it)
      const g = tile.drain(drains);
      for (let it = g.next(); !it.done; ) {
        const st = it.value;
        if (st.spawn || st.join || st.delay) throw new InvariantError("sequencer", "a drain in a run of timelines spawns, joins or waits");
        const got = new Responses();
        host.apply(st.reqs, got);
        if (st.also) host.apply(st.also, got);
        it = g.next(got);
      }
    }
    this.copies.apply(next, this.responses);
  }
}
