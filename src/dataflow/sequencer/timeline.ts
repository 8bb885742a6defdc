/**
 * Timeline replay (DESIGN.md, "Fast mode may replay whole iteration timelines"; the exactness
 * argument: docs/design-notes.md, "Timeline replay").
 *
 * A timeline is what happens in a single-buffered program from a boundary, the cycle iteration
 * j's waves are issued with iteration j + 1's reads, to its end, the cycle j + 1's halo moves and
 * deliveries are done (the planning of j + 2 follows it, outside any timeline, then the next
 * boundary in the same cycle when that planning takes none). At a boundary where the whole
 * system is quiet (only the main thread of the Sequencer runs; the DRAM channel, the GBuf, the
 * network and the PE array hold no work and no message is in flight), the timeline is fully
 * determined by its key:
 * - the plans of j and j + 1 (the same plan template: the same requests up to the shift of their
 *   addresses);
 * - the banked schedule of every GBuf access it makes (its cycles and bank-word accesses,
 *   `GlobalBuffer.scheduleKey`: all the GBuf's timing and counts take of an address; nothing
 *   else of an address matters to any component's timing);
 * - the wait reason the PE array charges idle cycles to, as posted and as received;
 * - the signature of j + 1's drain, if it drains (drain.ts, `drainSignature`: the drain's
 *   requests and their GBuf schedules follow from it);
 * and it makes no DRAM request, no drain beside a wave and no change of dram tile (the key
 * refuses those). The system may also be quiet but for the next dram tile's prefetch (DRAM reads
 * into GBuf writes) and output write-backs past their GBuf read (DRAM writes), which share no lane
 * with the timeline ({@link TimelineReplay.besideOk}); they then run on under the engine, and
 * their counters are their own.
 *
 * The first timeline with a key is simulated and recorded: its length and every counter's change
 * (stalls included), provided it ends quiet too. A later timeline with the same key is replayed:
 * its requests are applied at once through the components' bulk operations (GBuf reads, register
 * file writes and slides, MAC waves, drains and their GBuf writes: the values really move), the
 * program then waits the recorded length, and every counter is set to its value at the start plus
 * the recorded change. Checked and reference runs never replay. A pipelined program's timelines
 * run from loop head to loop head, with a wave running ({@link TimelineReplay.steadyBoundary}) or,
 * where the reads bound the pipeline, with the wave chained behind already done: the system is
 * then quiet as at a single-buffered boundary (`quietBoundary`; design notes, "From a quiet loop
 * head").
 */
import { InvariantError, type Counter } from "../../core/index.js";
import type { GlobalBuffer } from "../../memory/index.js";
import type { PeArray, Phase, WaitReason } from "../../pe-array/index.js";
import type { Steps } from "./executor.js";
import { SignatureTable } from "./plan-cache.js";
import { TimelineKeys, type SteadyWave } from "./timeline-key.js";
import { BESIDE_COUNTER, fitsBeside, type Beside } from "./beside.js";
export { besideOf, fitsBeside, type Beside } from "./beside.js";
import { NO_REQS, type IterationPlan, type Req, type Responses, type Step, type Thread } from "./types.js";

/** What a timeline replay needs of the Sequencer component. */
export interface TimelineHost {
  /** The current cycle. */
  readonly now: number;
  /** The wait reason last posted to the PE array. */
  readonly lastReason: WaitReason | undefined;
  /**
   * Whether only the main thread runs and no component holds work or a message in flight; with
   * `beside` ({@link Beside.threads}), whether that holds but for their tracks: the threads, their
   * transactions and responses, the DRAM channel and the GBuf's write side.
   */
  quiet(beside?: readonly Thread[]): boolean;
  /** From now on, apply the main thread's steps at once (data only); `reads`: the GBuf reads it may make; `drains`: whether it may drain. */
  beginApplying(reads: readonly Req[], drains?: boolean): void;
  /** Back to issuing steps through the ports. */
  endApplying(): void;
  /** While applying: applies `reqs` at once, in order, keeping the responses with a payload in `into` (runs.ts). */
  apply(reqs: readonly Req[], into: Responses): void;
  /** Pipelined programs: the running wave, when the system holds nothing else (`running` waits for it). */
  steadyWave(running: Thread, beside?: readonly Thread[]): SteadyWave | undefined;
  /** Pipelined programs: the running wave's effect now, the array left idle. */
  finishWave(): void;
  /** Pipelined programs: `q` becomes the running wave, started in cycle `start`, `running` waiting for it. */
  adoptWave(q: Req, start: number, running: Thread, reason: WaitReason): Phase;
}

/** A wave's phase relative to a boundary's cycle. */
interface RelativePhase {
  readonly start: number;
  readonly issueEnd: number;
  readonly end: number;
}

/** A recorded timeline. */
export interface Timeline {
  readonly length: number;
  /** Per counter (the order of {@link TimelineReplay}'s counters), its change over the timeline. */
  readonly delta: Float64Array;
  /** The counters whose {@link delta} is not 0, ascending. */
  readonly changed: Int32Array;
  /** The step that waits out its length, with its reason (one object for every replay). */
  readonly wait: Step;
  /** The wait reason at its end (posted and received). */
  readonly reason: WaitReason;
  /** Pipelined programs: the running wave's phase at its end, relative to its end. */
  readonly wave?: RelativePhase;
  /** Whether it changed no counter of a prefetch's track (it may then replay beside one). */
  readonly besideSafe?: boolean;
}

/** A pipelined timeline to replay ({@link TimelineReplay.steadyBoundary}); `quiet`: from a quiet boundary. */
export interface SteadyReplay {
  readonly t: Timeline;
  readonly beside: boolean;
  readonly quiet?: true;
}

/** The recording open since a boundary. */
interface Recording {
  readonly key: Float64Array;
  readonly start: number;
  readonly before: Float64Array;
  readonly boundary: number;
  /** A pipelined program's (it ends with a wave running). */
  readonly steady: boolean;
  /** A pipelined program's from a quiet boundary ({@link steadyBoundary}: it ends quiet too). */
  readonly quiet?: boolean;
  /** Recorded beside a prefetch (its counters' changes are the prefetch's, not the timeline's). */
  readonly beside?: boolean;
}

/** The timeline being replayed since a boundary: the counters at its start; whether beside a prefetch. */
export interface Replaying {
  readonly t: Timeline;
  readonly before: Float64Array;
  readonly beside: boolean;
}

/** Timelines kept at most; the table is cleared when full (only speed depends on it). */
const LIMIT = 4096;

/** Records and replays timelines (see the file header). */
export class TimelineReplay {
  /** Timelines by key (null: a key that never replays); cleared when full (only speed depends on it). */
  private readonly timelines = new SignatureTable<Timeline | null>(LIMIT, () => 1);
  /** The keys' builder (timeline-key.ts). */
  private readonly keys: TimelineKeys;
  private recording: Recording | undefined;
  private replaying: Replaying | undefined;
  private boundaries = 0;
  /** Timelines replayed so far. */
  replayed = 0;

  /**
   * @param counters every counter a timeline can change (the registry's, and a bypassed RF
   *   partition's, which are outside it).
   */
  constructor(
    readonly host: TimelineHost,
    gbuf: GlobalBuffer,
    private readonly pe: PeArray,
    counters: readonly Counter[],
  ) {
    this.keys = new TimelineKeys(host, gbuf, pe);
    this.start = new Float64Array(counters.length);
    this.values = new Float64Array(counters.length);
    counters.forEach((c, i) => c.moveTo(this.values, i));
    this.besideCounter = Uint8Array.from(counters, (c) => (BESIDE_COUNTER.test(c.name) ? 1 : 0));
  }

  /**
   * Every counter's value, in the constructor's order: the counters keep their values here
   * ({@link Counter.moveTo}), so a snapshot is one copy and a restore one loop over typed arrays.
   */
  private readonly values: Float64Array;

  /** Per counter: whether a prefetch's track changes it. */
  private readonly besideCounter: Uint8Array;

  /**
   * A single-buffered timeline's end (once the deliveries of the iteration whose reads it issued
   * are done, before the next iteration is planned; and after a run of timelines): ends the
   * timeline replayed (waiting its length) or recorded since the last {@link boundary}, or the run.
   * `beside`: what may run beside the program now.
   */
  *end(beside?: Beside): Steps {
    this.ended = this.runEnded;
    this.runEnded = undefined;
    if (this.replaying) {
      const { t, before, beside: was } = this.replaying;
      this.replaying = undefined;
      this.host.endApplying();
      yield t.wait;
      this.restore(before, t, was);
      this.ended = t;
    } else if (this.recording) {
      this.ended = this.finishRecording(this.recording, this.boundaries, undefined, beside?.threads);
      this.recording = undefined;
    }
  }

  /**
   * The boundary before `cur`'s waves are issued with `next`'s reads, after {@link end}: replays
   * the coming timeline when one with its key was recorded, or records it. `drain`: `next`'s
   * drain as a key part (0: none; undefined: it never replays; drainer.ts), asked for only when
   * the rest of the key holds; `beside`: the prefetch of the next dram tile and write-backs,
   * if they still run (the timeline may then be recorded and replayed beside them: {@link besideOk}).
   */
  boundary(cur: IterationPlan, next: IterationPlan, drain: () => number | undefined, beside?: Beside): void {
    const n = ++this.boundaries;
    if (!cur.template || !next.template || next.boundary || next.fetched || next.psumFills || next.operandFills) return;
    const alone = this.host.quiet();
    if (!alone && !this.besideOk(next.reads.length, next.drains.length > 0, beside)) return;
    const key = this.keys.single(cur, next, drain);
    if (key !== undefined) this.open(key, n, alone, next.reads, next.drains.length > 0);
  }

  /**
   * A single-buffered program's boundary once the reads of `cur`, a dram tile's first iteration,
   * have waited for the tile's prefetch (program.ts): the timeline from there to {@link end} holds
   * only `cur`'s halo moves and deliveries (the previous waves and these reads are done), whose
   * cycles follow from its plan template, their GBuf schedules and the wait reasons, the system
   * being quiet, or quiet but for what runs beside (docs/design-notes.md, "Timeline replay").
   */
  afterJoin(cur: IterationPlan, beside?: Beside): void {
    const n = ++this.boundaries;
    if (!cur.template || cur.boundary || cur.drains.length > 0 || cur.psumFills || cur.operandFills) return;
    const alone = this.host.quiet();
    // (its reads are done: none to fit beside)
    if (!alone && !this.besideOk(0, false, beside)) return;
    const key = this.keys.afterJoin(cur);
    if (key !== undefined) this.open(key, n, alone, [], false);
  }

  /** Replays the timeline of `key` begun at boundary `n` when one was recorded (unless it cannot run beside what does), else records it. */
  private open(key: Float64Array, n: number, alone: boolean, reads: readonly Req[], drains: boolean): void {
    const t = this.timelines.get(key);
    if (t === null) return;
    if (t) {
      if (!alone && !t.besideSafe) return;
      this.replaying = { t, before: this.snapshot(true), beside: !alone };
      this.host.beginApplying(reads, drains);
    } else {
      this.recording = { key: key.slice(), start: this.host.now, before: this.snapshot(true), boundary: n, steady: false, beside: !alone };
    }
  }

  /**
   * The timeline the last boundary ({@link boundary}, {@link steadyBoundary}) ended when its record
   * is kept, else undefined (runs.ts, steady-runs.ts record runs from these).
   */
  ended: Timeline | undefined;
  /** The pipelined timeline the last {@link steadyBoundary} returned to replay. */
  private steadyReplayed: Timeline | undefined;
  /** The last timeline of a run replayed since the last boundary ({@link finishRun}): the next boundary ends it. */
  private runEnded: Timeline | undefined;

  /** Whether the last {@link boundary} began to record a single-buffered timeline ({@link steadyBoundary}, `steady`: a pipelined one). */
  recordingSingle(steady = false): boolean {
    return this.recording !== undefined && this.recording.steady === steady && !this.recording.quiet;
  }

  /** The counters now, as a run of pipelined timelines begins (steady-runs.ts; {@link finishRun} ends it). */
  runStart(): Float64Array {
    return this.snapshot(true);
  }

  /** The single-buffered timeline the last {@link boundary} began to replay, and whether beside a prefetch. */
  replayingNow(): Replaying | undefined {
    return this.replaying;
  }

  /** Hands the timeline being replayed over to a run of timelines (runs.ts, which applies it): returns the counters at its start. */
  takeReplay(): Float64Array {
    const r = this.replaying;
    if (!r) throw new InvariantError("sequencer", "a run of timelines takes over no replay");
    this.replaying = undefined;
    return r.before;
  }

  /**
   * Ends a run of replayed timelines `ts` from the counters `before`: each takes its value then plus
   * their recorded changes; `beside` a prefetch, its counters (simulated meanwhile) stay ({@link restore}).
   */
  finishRun(before: Float64Array, ts: readonly Timeline[], beside: boolean): void {
    this.reset(before, beside);
    for (const t of ts) this.addChanges(t, beside);
    this.replayed += ts.length;
    this.runEnded = ts[ts.length - 1];
  }

  /**
   * Whether a single-buffered timeline may run beside `beside`: a prefetch (DRAM reads into GBuf
   * writes into the half the timeline does not read) and write-backs past their GBuf read (DRAM
   * writes). The system is quiet but for their tracks, the prefetch makes no GBuf read, the
   * timeline does not drain (a drain writes the GBuf or DRAM), and their GBuf requests together fit
   * {@link BESIDE_SENDS}. The tracks then share no lane with the timeline and cannot delay it, nor
   * it them (docs/design-notes.md, "Beside the next tile's prefetch", "Beside a write-back").
   * `reads`: the GBuf reads the timeline issues; `drains`: whether it drains.
   */
  private besideOk(reads: number, drains: boolean, beside: Beside | undefined): boolean {
    if (!beside || drains) return false;
    return fitsBeside(reads, beside) && this.host.quiet(beside.threads);
  }

  /**
   * A pipelined program's boundary (program.ts, `runPipelined`): before the chained wave of `cur`
   * is spawned behind the running one (`running` waits for it), with `next`'s early deliveries and
   * `after`'s reads to follow. Ends the timeline recorded since the previous boundary; returns the
   * coming timeline when one with its key was recorded (the program then replays it: {@link
   * replaySteady}), else undefined, having started recording it when it may replay.
   * `eligible`: the program takes the chained path and `after` exists; `quickPlan`: planning the
   * iteration after `after` (at the next loop head, after a replay as after a simulated timeline)
   * takes no time: it stays in the dram tile, or the tile it enters was prefetched (it then only
   * spawns the next prefetch).
   */
  steadyBoundary(cur: IterationPlan, next: IterationPlan | undefined, after: IterationPlan | undefined, eligible: boolean, quickPlan: boolean, running: Thread | undefined, beside?: Beside): SteadyReplay | undefined {
    const n = ++this.boundaries;
    this.ended = this.runEnded ?? this.steadyReplayed;
    this.runEnded = this.steadyReplayed = undefined;
    if (this.recording) {
      const t = this.finishRecording(this.recording, n - 1, running, beside?.threads);
      // (a quiet timeline is no step of a run of pipelined timelines: steady-runs.ts)
      this.ended = this.recording.quiet ? undefined : t;
      this.recording = undefined;
    }
    if (!eligible || !quickPlan || !running || !next || !after) return undefined;
    if (running.done) return this.quietBoundary(cur, next, after, n, beside);
    const alone = this.host.steadyWave(running);
    // Beside a prefetch, when neither track can delay the other's GBuf requests (see Beside).
    const withPrefetch = !alone && beside && fitsBeside(after.reads.length, beside) ? this.host.steadyWave(running, beside.threads) : undefined;
    const w = alone ?? withPrefetch;
    if (!w) return undefined;
    const key = this.keys.steady(cur, next, after, running, w);
    if (key === undefined) return undefined;
    const t = this.timelines.get(key);
    if (t && (alone || t.besideSafe)) {
      this.steadyReplayed = t;
      return { t, beside: !alone };
    }
    if (t === undefined) this.recording = { key: key.slice(), start: this.host.now, before: this.snapshot(true), boundary: n, steady: true, beside: !alone };
    return undefined;
  }

  /**
   * A pipelined program's boundary where the wave `cur` is chained behind has already finished:
   * the system is quiet (or quiet but for what runs beside), as at a single-buffered boundary, and
   * the timeline (`cur`'s wave, `next`'s early deliveries and `after`'s reads, to the next loop
   * head) is determined by {@link TimelineKeys.quiet}. It is kept only if it ends quiet too: the
   * GBuf reads bound the pipeline and `cur`'s wave is done before them (docs/design-notes.md,
   * "Pipelined timelines from a quiet boundary"). Returns the recorded timeline to replay
   * ({@link replayQuiet}), else undefined, having started recording it when it may replay.
   */
  private quietBoundary(cur: IterationPlan, next: IterationPlan, after: IterationPlan, n: number, beside: Beside | undefined): SteadyReplay | undefined {
    const alone = this.host.quiet();
    if (!alone && !this.besideOk(after.reads.length, false, beside)) return undefined;
    const key = this.keys.quiet(cur, next, after);
    if (key === undefined) return undefined;
    const t = this.timelines.get(key);
    if (t) return alone || t.besideSafe ? { t, beside: !alone, quiet: true } : undefined;
    if (t === undefined) this.recording = { key: key.slice(), start: this.host.now, before: this.snapshot(true), boundary: n, steady: false, quiet: true, beside: !alone };
    return undefined;
  }

  /**
   * Replays timeline `t` from a quiet boundary ({@link quietBoundary}): `apply` (the wave the
   * program would chain, the early deliveries and the reads, `reads` among them) is applied at
   * once; the program waits the recorded length; every counter takes its value at the start plus
   * the recorded change (beside a prefetch, the prefetch's as simulated).
   */
  *replayQuiet(t: Timeline, beside: boolean, apply: Steps, reads: readonly Req[]): Steps {
    const before = this.snapshot(true);
    this.host.beginApplying(reads);
    yield* apply;
    this.host.endApplying();
    yield t.wait;
    this.restore(before, t, beside);
  }

  /**
   * Replays timeline `t` of a pipelined program from its boundary: the running wave's MACs run
   * now; `apply` (the early deliveries and reads the program would issue, `reads` among them) is
   * applied at once; `wave` (the chained wave the program would spawn) becomes the running wave,
   * `running` waiting for it, with the phase it had at the recorded timeline's end; the program
   * waits the recorded length; every counter takes its value at the start plus the recorded change.
   */
  *replaySteady(t: Timeline, beside: boolean, running: Thread, reason: WaitReason, wave: Req, apply: Steps, reads: readonly Req[]): Steps {
    const before = this.snapshot(true);
    const end = this.host.now + t.length;
    this.host.finishWave();
    this.host.beginApplying(reads);
    yield* apply;
    this.host.endApplying();
    this.adoptWave(wave, t, end, running, reason);
    yield t.wait;
    this.restore(before, t, beside);
  }

  /**
   * Makes `wave` the running wave (`running` waiting for it, charged to `reason`) with the phase
   * timeline `t` (the last replayed) ended with, its end in cycle `end`; InvariantError if not.
   */
  adoptWave(wave: Req, t: Timeline, end: number, running: Thread, reason: WaitReason): void {
    const w = t.wave!;
    const ph = this.host.adoptWave(wave, end + w.start, running, reason);
    if (ph.issueEnd !== end + w.issueEnd || ph.end !== end + w.end) throw new InvariantError("sequencer", `a replayed timeline's wave runs [${ph.start}, ${ph.issueEnd}, ${ph.end}), recorded [${end + w.start}, ${end + w.issueEnd}, ${end + w.end})`);
  }

  /**
   * Ends a replay of `t`: every counter takes its value at the replay's start (`before`) plus the
   * recorded change, but beside a prefetch the prefetch's counters, which went on as simulated
   * (the timeline changed none of them).
   */
  private restore(before: Float64Array, t: Timeline, beside: boolean): void {
    this.reset(before, beside);
    this.addChanges(t, beside);
    this.replayed++;
  }

  /** Every counter back to its value in `before`; beside a prefetch, the prefetch's counters (simulated meanwhile) as they are. */
  private reset(before: Float64Array, beside: boolean): void {
    const v = this.values;
    if (!beside) {
      v.set(before);
      return;
    }
    const skip = this.besideCounter;
    for (let i = 0; i < v.length; i++) if (!skip[i]) v[i] = before[i]!;
  }

  /** Adds timeline `t`'s recorded changes to the counters (beside a prefetch, none to the prefetch's). */
  private addChanges(t: Timeline, beside: boolean): void {
    const v = this.values;
    const d = t.delta;
    const changed = t.changed;
    const skip = this.besideCounter;
    for (let k = 0; k < changed.length; k++) {
      const i = changed[k]!;
      if (!beside || !skip[i]) v[i]! += d[i]!;
    }
  }

  /**
   * Keeps a recorded timeline when it began at boundary `begunAt` (the last one before its end:
   * no other began meanwhile) and ended quiet (single-buffered; or quiet but for what runs
   * beside) or with only its wave running (pipelined: `running` waits for it); else its key never
   * replays.
   */
  private finishRecording(r: Recording, begunAt: number, running: Thread | undefined, beside: readonly Thread[] | undefined): Timeline | undefined {
    if (r.boundary !== begunAt) return undefined;
    const now = this.host.now;
    const length = now - r.start;
    const reason = this.host.lastReason;
    // (beside a prefetch: the one it ran beside, or one the planning at its end has just spawned)
    const steady = r.steady && running ? (this.host.steadyWave(running) ?? (beside ? this.host.steadyWave(running, beside) : undefined)) : undefined;
    const wave = steady ? { start: steady.phase.start - now, issueEnd: steady.phase.issueEnd - now, end: steady.phase.end - now } : undefined;
    // (a replayed wave must have started within the timeline and still run at its end; a
    // single-buffered timeline ends quiet, or quiet but for the prefetch it may run beside)
    const ended = r.steady ? wave !== undefined && wave.start + length >= 0 && wave.end >= 2 : this.host.quiet() || (beside !== undefined && this.host.quiet(beside));
    if (!ended || length < 2 || reason === undefined || reason !== this.pe.waitingFor) {
      this.timelines.set(r.key, null);
      return undefined;
    }
    const delta = this.snapshot();
    let besideSafe = true;
    for (let i = 0; i < delta.length; i++) {
      delta[i] = delta[i]! - r.before[i]!;
      // Recorded beside a prefetch: the changes of the prefetch's counters are its own (the main
      // thread of a timeline that may run beside one makes no DRAM request and no GBuf write).
      if (r.beside && this.besideCounter[i]) delta[i] = 0;
      if (delta[i] !== 0 && this.besideCounter[i]) besideSafe = false;
    }
    const changed = Int32Array.from(delta.keys()).filter((i) => delta[i] !== 0);
    const wait: Step = { reason, reqs: NO_REQS, delay: length };
    const t: Timeline = wave ? { length, delta, changed, wait, reason, wave, besideSafe } : { length, delta, changed, wait, reason, besideSafe };
    this.timelines.set(r.key, t);
    return t;
  }

  /**
   * The counters at the open timeline's start. One buffer serves every timeline: a boundary ends
   * the previous timeline (reading its start) before it opens the next.
   */
  private readonly start: Float64Array;

  /** Every counter's value now, in a new array, or (`start`) in the start buffer. */
  private snapshot(start = false): Float64Array {
    if (!start) return this.values.slice();
    this.start.set(this.values);
    return this.start;
  }
}
