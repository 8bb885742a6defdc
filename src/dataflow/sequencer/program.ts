/**
 * The program: the schedule as a generator of steps, which the Sequencer component runs as its
 * main thread. The gbuf iterations of every dram iteration form one pipeline (single-buffered, or
 * with operands delivered early: double-buffered register files and streamed operands). Entering
 * a dram tile (when its first gbuf iteration is planned) fetches its GBuf input and weight tiles
 * or takes their prefetch, started a tile earlier when the GBuf is double-buffered; a change of
 * GBuf output tile is decided then and carried out after the old tile's last wave (its PEs
 * drain, it is written back, alongside the next tile when double-buffered). At the end every PE
 * drains and the GBuf output tile is written back. Timing: docs/timing.md, "The Sequencer".
 */
import { InvariantError } from "../../core/index.js";
import type { WaitReason } from "../../pe-array/index.js";
import { NDIMS, startKey } from "../nest.js";
import { evictOutput, type WriteBack } from "./accumulate.js";
import type { SeqContext } from "./context.js";
import { CompiledCopies } from "./copies.js";
import { drainTiles } from "./drain.js";
import { Drainer } from "./drainer.js";
import { afterThread, chained, deliveries, step, type Executor, type PayloadSource, type Steps } from "./executor.js";
import { planFetch, readersOf, runFetch, type PendingReads } from "./fetch.js";
import { IterationPlanner, type PlanHit } from "./iteration.js";
import { LinkPlanner } from "./links.js";
import { Replayer } from "./replay.js";
import { Residency } from "./residency.js";
import { TimelineRuns, type RunTile } from "./runs.js";
import { SteadyRuns, type SteadyStart } from "./steady-runs.js";
import { besideOf, type Beside, type TimelineReplay } from "./timeline.js";
import { iterationPlan, NO_REQS, OUTPUT_DIMS, thread, type DrainEntry, type LoopHead, type LoopOn, type FetchPlan, type IterationPlan, type Req, type Responses, type Step, type PlacedOutputTile, type Thread, type TileBoundary } from "./types.js";
import { WaveBuilder } from "./wave.js";

/** The schedule of one run (see the file header). */
export class Program {
  private readonly res: Residency;
  private readonly links: LinkPlanner;
  private readonly replayer: Replayer;
  private readonly planner: IterationPlanner;
  /** A streamed output's drain running alongside the next wave, if any. */
  private pendingDrain: Thread | undefined;
  /** Output write-backs running alongside the next tile, per GBuf half. */
  private readonly evictions: (WriteBack | undefined)[] = [undefined, undefined];
  /** The next dram iteration's fetch, running alongside the current one. */
  private prefetch: { thread: Thread; plan: FetchPlan } | undefined;
  /** Reads that wait for their tile's prefetch in a thread of their own ({@link fetchedReads}); a later prefetch waits for those of its half. */
  private readonly pendingReads: PendingReads[] = [];
  /** The drains of psum records, and their keys. */
  private readonly drainer: Drainer;

  constructor(
    private readonly c: SeqContext,
    private readonly x: Executor,
    private readonly timeline?: TimelineReplay,
  ) {
    this.res = new Residency(c);
    this.links = new LinkPlanner(c);
    this.drainer = new Drainer(c, x, this.links, this.res);
    this.replayer = new Replayer(c);
    this.planner = new IterationPlanner(c, this.res, new WaveBuilder(c), this.replayer);
  }

  /** Iterations planned so far, how many were replays, and the runs of timelines replayed (runs.ts). */
  planStats(): { readonly iterations: number; readonly replayedIterations: number; readonly timelineRuns: number } {
    return { iterations: this.planner.iterations, replayedIterations: this.replayer.plans?.hits ?? 0, timelineRuns: (this.runs?.replayed ?? 0) + (this.steady?.replayed ?? 0) };
  }

  /** The dram iterations' starts, the current one's index, and its gbuf iterations still to plan. */
  private readonly dramStarts: Int32Array[] = [];
  private tile = -1;
  /** The current dram iteration's gbuf iteration starts, and how many have been planned. */
  private gbufStarts: Int32Array[] = [];
  /** Per gbuf iteration of the current dram iteration, its folds' first flattened indices (fused groups; else empty). */
  private gbufFolds: Int32Array[] = [];
  private planned = 0;
  /** The output-tile change the next planned iteration carries out first, if any. */
  private boundary: TileBoundary | undefined;
  /** The prefetch of the current dram tile's GBuf tiles, which its iterations' reads wait for. */
  private fetched: Thread | undefined;
  /** The GBuf output tile of the iterations planned so far (the residency state has the issued ones'). */
  private plannedOutput: PlacedOutputTile | undefined;

  /**
   * The whole schedule: the gbuf iterations of every dram iteration in one pipeline (the next dram
   * tile's first iterations are planned, read and delivered while the current tile's last waves
   * run), then every PE drains and the GBuf output tile is written back.
   */
  *run(): Steps {
    const { nest } = this.c;
    for (const a of nest.iterate(nest.dramLoops, new Int32Array(NDIMS))) this.dramStarts.push(new Int32Array(a)); // iterate() reuses its array
    const readReason: WaitReason = this.c.m.gbuf.keep.input || this.c.m.gbuf.keep.weight ? "gbuf" : "dram";
    if (this.c.pipelined) yield* this.runPipelined(readReason);
    else yield* this.runSingleBuffered(readReason);
    const res = this.res;
    yield* this.joinDrain();
    yield* this.drainer.drain(res.takePsums(null));
    if (res.gbufOutput) yield* evictOutput(this.c, this.x, res.gbufOutput, res.gbufHalf.output, res.dramHas);
    for (const e of this.evictions) if (e) yield { reason: "drain", reqs: NO_REQS, join: e.thread };
  }

  /**
   * Plans the next gbuf iteration, entering the next dram tile when the current one has none
   * left: its GBuf operand tiles are fetched (or the prefetch is joined) now, since the iteration's
   * reads come from them; a change of the GBuf output tile is only decided now (the psum tiles
   * that leave are taken out of the residency state) and carried out by the first iteration
   * (`boundary`), after the old tile's last wave.
   */
  private *nextPlan(): Generator<Step, IterationPlan | undefined, Responses> {
    const { c } = this;
    for (;;) {
      const plan = this.planInTile();
      if (plan) return plan;
      if (++this.tile >= this.dramStarts.length) return undefined;
      const dStart = this.dramStarts[this.tile]!;
      const dExt = c.nest.extent(dStart, c.nest.gbufStride, new Int32Array(NDIMS));
      if (c.m.gbuf.keep.output) this.boundary = this.outputBoundary(dStart, dExt);
      const before = this.fetched;
      this.fetched = yield* this.operandTiles(dStart, dExt, this.dramStarts[this.tile + 1]);
      // A tile keeps the GBuf tiles of an operand it does not fetch; if the fetch that wrote them
      // (the tile before's prefetch) still runs, the tile's reads wait for it too.
      if (before && !before.done && before !== this.fetched) {
        const both = this.fetched && !this.fetched.done ? thread(afterThread("dram", before, afterThread("dram", this.fetched, undefined))) : before;
        if (both !== before) yield { reason: "dram", reqs: NO_REQS, spawn: both };
        this.fetched = both;
      }
      ({ starts: this.gbufStarts, folds: this.gbufFolds } = c.nest.gbufIterations(dStart));
      this.planned = 0;
    }
  }

  /** The next iteration's plan in the current dram tile (no step), else undefined: `?? (yield* this.nextPlan())` makes no generator per one. */
  private planInTile(): IterationPlan | undefined {
    if (this.planned >= this.gbufStarts.length) return undefined;
    const i = this.planned++;
    const plan = this.planner.plan(this.gbufStarts[i]!, this.dramStarts[this.tile]!, this.gbufFolds[i]);
    const boundary = this.boundary;
    const fetched = this.fetched && !this.fetched.done ? this.fetched : undefined; // (planned before the prefetch is done: waits for it)
    this.boundary = undefined;
    return boundary || fetched ? iterationPlan({ ...plan, boundary, fetched }) : plan;
  }

  /** The change of GBuf output tile that the dram iteration at `dStart` makes, if its tile differs. */
  private outputBoundary(dStart: Int32Array, dExt: Int32Array): TileBoundary | undefined {
    const { c, res } = this;
    const key = startKey(dStart, OUTPUT_DIMS, c.nest.sizes);
    if (key === res.gbufKey.output) return undefined;
    res.gbufKey.output = key;
    const old = this.plannedOutput;
    const half = old && c.gbufRegions.output!.length > 1 ? 1 - old.half : 0;
    const next = { tile: { start: dStart, ext: dExt }, has: new Uint8Array(c.gbufRegions.output![0]!.elements), half };
    this.plannedOutput = next;
    // (the psum tiles leave the residency state now; their words drain when the boundary runs)
    const entries = old ? res.takePsums(null) : [];
    // Two accumulator sets: the new tile's partial sums go to the other set, so the old tile can
    // drain behind its first wave (crossBoundary).
    const behind = c.psumDouble && entries.length > 0;
    if (behind) c.switchPsumHalf();
    return { entries, old, next, ...(behind ? { behind: true as const } : {}) };
  }

  /**
   * Carries out a change of GBuf output tile: every PE drains into the old tile, which is written
   * back to DRAM (alongside the next tile's work, which uses the other half, when the GBuf is
   * double-buffered); the new tile starts empty.
   */
  private *crossBoundary(b: TileBoundary): Steps {
    const { c, res } = this;
    if (b.old) {
      const { tile, has, half } = b.old;
      yield* this.joinDrain();
      const drain = this.drainer.released(b.entries, drainTiles(c, this.x, this.links, b.entries, tile, has, half, res.dramHas));
      const phase = { dramOnly: false };
      const evict = evictOutput(c, this.x, tile, half, res.dramHas, phase);
      if (c.m.gbuf.doubleBuffer && (c.streamOut || b.behind)) {
        // A streamed output (or two accumulator sets) drains from the half the last wave wrote
        // while the next wave fills the other, and the old tile's GBuf half is not the new one's:
        // its drain and then its write-back run alongside (the next drain joins the drain; the
        // half's next tile, the write-back).
        const drained = thread(drain);
        this.pendingDrain = drained;
        const written = thread(afterThread("drain", drained, evict));
        this.evictions[half] = { thread: written, phase };
        yield { reason: "drain", reqs: NO_REQS, spawn: drained };
        yield { reason: "drain", reqs: NO_REQS, spawn: written };
      } else {
        yield* drain;
        if (c.m.gbuf.doubleBuffer) {
          const t = thread(evict);
          this.evictions[half] = { thread: t, phase };
          yield { reason: "drain", reqs: NO_REQS, spawn: t };
        } else {
          yield* evict;
        }
      }
      const pending = this.evictions[b.next.half];
      if (pending) {
        yield { reason: "drain", reqs: NO_REQS, join: pending.thread };
        this.evictions[b.next.half] = undefined;
      }
    }
    res.gbufOutput = b.next.tile;
    res.gbufOutputHas = b.next.has;
    res.gbufHalf.output = b.next.half;
  }

  /**
   * The GBuf input and weight tiles: prefetched during the previous tile (returns the prefetch,
   * which the tile's first reads wait for), or fetched now; then the next tile's prefetch starts.
   */
  private *operandTiles(dStart: Int32Array, dExt: Int32Array, next: Int32Array | undefined): Generator<Step, Thread | undefined, Responses> {
    const { c, res } = this;
    let plan: FetchPlan;
    let fetched: Thread | undefined;
    if (this.prefetch) {
      // (the tile's first reads wait for it: see feed())
      fetched = this.prefetch.thread;
      plan = this.prefetch.plan;
      this.prefetch = undefined;
    } else {
      plan = planFetch(c, dStart, dExt, res.gbufKey, res.gbufHalf, res.gbufInput, res.gbufWeight);
      yield* runFetch(this.x, plan);
    }
    res.gbufInput = plan.input;
    res.gbufWeight = plan.weight;
    Object.assign(res.gbufKey, plan.keys);
    Object.assign(res.gbufHalf, plan.halves);
    if (c.m.gbuf.doubleBuffer && next) {
      const nextPlan = planFetch(c, next, c.nest.extent(next, c.nest.gbufStride, new Int32Array(NDIMS)), res.gbufKey, res.gbufHalf, res.gbufInput, res.gbufWeight);
      // (it waits for this tile's fetch when either copies a halo: fetch.ts)
      const t = thread(runFetch(this.x, nextPlan, { thread: fetched, plan }, readersOf(nextPlan, this.pendingReads)));
      this.prefetch = { thread: t, plan: nextPlan };
      yield { reason: "dram", reqs: NO_REQS, spawn: t };
    }
    return fetched;
  }

  /**
   * Single-buffered register files: the GBuf (or DRAM) reads of iteration j + 1 are issued with
   * the MAC waves of iteration j (they touch no register file); drains, deliveries and the next
   * wave wait for the wave.
   */
  private *runSingleBuffered(readReason: WaitReason): Steps {
    const x = this.x;
    let cur = this.planInTile() ?? (yield* this.nextPlan());
    if (cur?.fetched) yield { reason: "dram", reqs: NO_REQS, join: cur.fetched };
    if (cur && cur.reads.length > 0) x.keep(yield step(readReason, cur.reads));
    while (cur) {
      if (cur.boundary) yield* this.crossBoundary(cur.boundary);
      if (cur.drains.length > 0) yield* this.drainNow(cur.drains, cur.drainsBehind);
      // Halo slides complete before the deliveries start (a delivery may land where a kept word was).
      if (cur.moves.length > 0) x.keep(yield step("network", cur.moves));
      const sends = deliveries(cur, x);
      if (sends.length > 0) x.keep(yield step("network", sends));
      if (this.timeline) yield* this.timeline.end(this.beside()); // (before the planning: timeline.ts)
      let next = this.planInTile() ?? (yield* this.nextPlan());
      if (next?.fetched) {
        // The next tile's first reads wait for its prefetch, alongside this wave; then its timeline.
        const feed = this.fetchedReads(next, readReason)!;
        yield { reason: "dram", reqs: NO_REQS, spawn: feed };
        x.keep(yield step("control", cur.waves));
        yield { reason: "dram", reqs: NO_REQS, join: feed };
        this.timeline?.afterJoin(next, this.beside());
      } else {
        // A timeline that repeats an earlier one is replayed (timeline.ts), and runs of them at once (runs.ts).
        if (next && this.timeline) {
          const runs = (this.runs ??= new TimelineRuns(this.timeline, this.planner, new CompiledCopies(this.c.hw.pe.rf, this.c.hw.gbuf, this.timeline.host)));
          for (;;) {
            const beside = this.beside();
            this.timeline.boundary(cur, next, () => this.drainer.key(next!.drains, next!.drainsBehind), beside);
            const found = runs.boundary(next, this.runTile);
            if (!found) break;
            ({ cur, next } = yield* runs.replay(cur, next, found, this.runTile, beside));
            yield* this.timeline.end(this.beside());
          }
        }
        // PEs idle during this step (not in the wave, or done with it) wait for the next reads.
        const reads = next !== undefined && next.reads.length > 0 ? next.reads : undefined;
        x.keep(yield step(reads ? readReason : "control", cur.waves, reads));
      }
      cur = next;
    }
  }

  /** Runs of timelines (single-buffered programs), made with the first boundary. */
  private runs: TimelineRuns | undefined;
  /** Runs of pipelined timelines, made with the first loop head. */
  private steady: SteadyRuns | undefined;
  private steadyRuns = (t: TimelineReplay) => new SteadyRuns(t, this.planner, new CompiledCopies(this.c.hw.pe.rf, this.c.hw.gbuf, t.host, (p, from) => this.sends(p, false, true, from)), (p) => this.chainable(p));

  /** The threads a timeline may replay beside (timeline.ts, besideOf). */
  private beside(): Beside | undefined {
    return besideOf(this.prefetch, this.evictions);
  }
  /** The current dram tile as a run of timelines sees it (runs.ts). */
  private readonly runTile: RunTile = {
    planNext: (): IterationPlan | PlanHit => {
      const i = this.planned++;
      if (i >= this.gbufStarts.length || this.boundary || (this.fetched && !this.fetched.done)) throw new InvariantError("sequencer", "a run of timelines plans past its dram tile");
      return this.planner.planOrHit(this.gbufStarts[i]!, this.dramStarts[this.tile]!, this.gbufFolds[i]);
    },
    more: () => this.planned < this.gbufStarts.length,
    at: () => this.planned,
    drainKey: (drains) => (this.c.streamOut ? undefined : this.drainer.key(drains)),
    drain: (drains) => this.drainer.drain(drains),
    drainsInline: () => !this.c.streamOut,
  };

  /** Waits for {@link pendingDrain}. */
  private *joinDrain(): Steps {
    if (!this.pendingDrain) return;
    yield { reason: "drain", reqs: NO_REQS, join: this.pendingDrain };
    this.pendingDrain = undefined;
  }

  /**
   * The gbuf iterations when some operand is delivered early (double-buffered register files, or
   * streamed operands, which the array's edge feeds during the previous wave):
   * iteration j + 1's early operands are delivered (into the halves iteration j's wave does not
   * read) while j's wave runs, with the GBuf (or DRAM) reads of j + 2. Then j + 1's drains (of the
   * output tiles that change), halo slides, late (single-buffered) operands and psum fills, which
   * touch what the wave reads, wait for the wave; then j + 1's wave.
   */
  private *runPipelined(readReason: WaitReason): Steps {
    const x = this.x;
    let cur = this.planInTile() ?? (yield* this.nextPlan());
    if (!cur) return;
    if (cur.fetched) yield { reason: "dram", reqs: NO_REQS, join: cur.fetched };
    if (cur.reads.length > 0) x.keep(yield step(readReason, cur.reads));
    let next = this.planInTile() ?? (yield* this.nextPlan());
    let nextReads = next ? this.fetchedReads(next, readReason) : undefined;
    if (nextReads) yield { reason: readReason, reqs: NO_REQS, spawn: nextReads };
    // The first iteration: its drains, then all its operands and fills (with the next one's reads).
    yield* this.afterWave(cur, this.sends(cur, true), next && !nextReads ? next.reads : [], readReason);
    // The wave running when the current one was chained behind it (see chainable); `ahead`: the
    // iteration after `next`, when a run of timelines planned it (steady-runs.ts).
    let running: Thread | undefined;
    let ahead: IterationPlan | undefined;
    while (cur) {
      const after = ahead ?? (next ? this.planInTile() ?? (yield* this.nextPlan()) : undefined);
      ahead = undefined;
      const afterReads = after ? this.fetchedReads(after, readReason) : undefined;
      if (afterReads) yield { reason: readReason, reqs: NO_REQS, spawn: afterReads };
      const reads = after && !afterReads ? after.reads : [];
      const reason = reads.length > 0 ? readReason : next ? "network" : "control";
      if (this.timeline) {
        // A timeline that repeats an earlier one is replayed (timeline.ts, steadyBoundary).
        const on: LoopOn | undefined = yield* this.replayAt(this.timeline, { cur, next, after, nextReads, afterReads, running, reads, reason }, readReason);
        if (on) {
          ({ cur, next, ahead, nextReads } = on);
          continue;
        }
      }
      // Behind a running wave, this one goes chained (it starts as that one issues its last MAC);
      // once that one is done, the next iteration's operands may go into the half it read.
      const wave = running ? thread(x.run(step(reason, chained(cur.waves)))) : undefined;
      if (wave) {
        yield { reason, reqs: NO_REQS, spawn: wave };
        yield { reason, reqs: NO_REQS, join: running };
        running = undefined;
      }
      const waves = wave ? [] : cur.waves;
      if (next && !nextReads && this.chainable(next)) {
        // Nothing of the next iteration waits for this wave: it runs on, and the next wave will
        // be chained behind it.
        const w = wave ?? thread(x.run(step(reason, waves)));
        if (!wave) yield { reason, reqs: NO_REQS, spawn: w };
        x.keep(yield step(reason, this.sends(next, false, true), reads));
        running = w;
      } else {
        if (next && nextReads) {
          // The next iteration's reads wait for its GBuf tiles' prefetch: its deliveries follow them.
          const feed = thread(this.feed(next, nextReads));
          yield { reason: "network", reqs: NO_REQS, spawn: feed };
          x.keep(yield step(reason, waves, reads));
          yield { reason: "network", reqs: NO_REQS, join: feed };
        } else {
          x.keep(yield step(reason, waves, next ? this.sends(next, false, true).concat(reads) : reads));
        }
        if (wave) yield { reason, reqs: NO_REQS, join: wave };
        if (next) yield* this.afterWave(next, this.sends(next, true, false), [], readReason);
      }
      cur = next;
      next = after;
      nextReads = afterReads;
    }
  }

  /**
   * A pipelined loop head (runPipelined): replays the coming timeline, or a run of them, when one
   * with its key was recorded (timeline.ts, steadyBoundary), and returns where the loop goes on;
   * undefined: the iteration is simulated.
   */
  private *replayAt(tl: TimelineReplay, h: LoopHead, readReason: WaitReason): Generator<Step, LoopOn | undefined, Responses> {
    const { cur, next, after, running, reads, reason } = h;
    const eligible = running !== undefined && next !== undefined && !h.nextReads && !h.afterReads && this.chainable(next);
    const beside = this.beside();
    // Planning the iteration after `after` (at the next loop head) takes no time unless it
    // enters a dram tile whose operands are fetched then (no prefetch, not past the last).
    const quick = this.planned < this.gbufStarts.length || this.prefetch !== undefined || this.tile + 1 >= this.dramStarts.length;
    const r = tl.steadyBoundary(cur, next, after, eligible, quick, running, beside);
    const runs = (this.steady ??= this.steadyRuns(tl)).boundary(after, r?.quiet ? undefined : r?.t, this.runTile);
    const x = this.x;
    if (!r) return undefined;
    if (r.quiet) {
      // The wave `running` waited for is done (the reads bound the pipeline): `cur`'s wave, `next`'s early deliveries and `after`'s reads, at once.
      yield* tl.replayQuiet(r.t, r.beside, x.run(step(reason, cur.waves.concat(this.sends(next!, false, true)), reads)), reads);
    } else if (runs) {
      const start: SteadyStart = { cur, next: next!, after: after!, t: r.t, beside: r.beside ? beside : undefined, sends: this.sends(next!, false, true), running: running!, readReason };
      return { ...(yield* this.steady.replay(start, runs, this.runTile, (got) => x.keep(got))), nextReads: undefined };
    } else {
      const apply = x.run(step(reason, this.sends(next!, false, true), reads));
      yield* tl.replaySteady(r.t, r.beside, running!, reason, chained(cur.waves)[0]!, apply, reads);
    }
    return { cur: next, next: after, nextReads: h.afterReads };
  }

  /**
   * Whether iteration `next`'s wave may be chained behind the current one (PeWaveCommand.chained):
   * the register files double-buffer every operand (no stream), and nothing of `next` waits for
   * the current wave (no tile boundary, drain, halo slide, late operand or psum fill).
   */
  private chainable(next: IterationPlan): boolean {
    const c = this.c;
    if (!c.rfDouble || c.passThrough.input || c.passThrough.weight || c.streamOut || c.psumDouble) return false;
    return !next.boundary && next.drains.length === 0 && next.moves.length === 0 && next.psumFills!.length === 0;
  }

  /**
   * An iteration's reads, issued ahead with an earlier wave, when they wait for the prefetch of the
   * GBuf tiles they read: a thread that joins it first (undefined: the reads go as they are).
   */
  private fetchedReads(p: IterationPlan, readReason: WaitReason): Thread | undefined {
    if (!p.fetched) return undefined;
    const t = thread(afterThread("dram", p.fetched, p.reads.length > 0 ? this.x.run(step(readReason, p.reads)) : undefined));
    this.pendingReads.push({ thread: t, reads: p.reads });
    return t;
  }

  /** An iteration's early deliveries once its reads (a thread) are done. */
  private *feed(p: IterationPlan, reads: Thread): Steps {
    yield { reason: "gbuf", reqs: NO_REQS, join: reads };
    const sends = this.sends(p, false, true);
    if (sends.length > 0) this.x.keep(yield step("network", sends));
  }

  /**
   * An iteration's deliveries and operand fills: the early ones (`early`: the operands delivered
   * during the previous wave), the late ones (`late`), or both; the payloads of its reads from
   * `from` (the executor's; a run's compiled copies give their own: steady-runs.ts).
   */
  private sends(p: IterationPlan, late: boolean, early = late, from: PayloadSource = this.x): Req[] {
    const c = this.c;
    const out: Req[] = [];
    if (c.early.input ? early : late) out.push(...p.operandFills!);
    for (const f of p.after) if (c.early[f.part] ? early : late) out.push(...f.send(f.reads.map((q) => from.take(q))));
    return out;
  }

  /**
   * What waits for the previous wave: the iteration's drains (streamed outputs drain alongside,
   * in order), its halo slides, then `sends` with its psum fills (and `reads`, ahead).
   */
  private *afterWave(p: IterationPlan, sends: Req[], reads: readonly Req[], readReason: WaitReason): Steps {
    const x = this.x;
    if (p.boundary) yield* this.crossBoundary(p.boundary);
    if (p.drains.length > 0) yield* this.drainNow(p.drains, p.drainsBehind);
    if (p.moves.length > 0) x.keep(yield step("network", p.moves));
    const reqs = [...sends, ...p.psumFills!, ...reads];
    if (reqs.length > 0) x.keep(yield step(reads.length > 0 ? readReason : "network", reqs));
  }

  /**
   * Drains `entries` before the iteration goes on; a streamed output's partial sums leave from
   * their half alongside the next wave instead (drains stay in order: they may accumulate into the
   * same outputs, so the one before is joined first).
   */
  private *drainNow(entries: readonly DrainEntry[], behind = false): Steps {
    yield* this.joinDrain();
    if (!this.c.streamOut && !behind) return yield* this.drainer.drain(entries);
    const t = thread(this.drainer.drain(entries));
    this.pendingDrain = t;
    yield { reason: "drain", reqs: NO_REQS, spawn: t };
  }
}
