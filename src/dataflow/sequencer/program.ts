/**
 * The program: the schedule as a generator of steps, which the Sequencer component runs as its
 * main thread. Per iteration of the dram loops: the GBuf output tile changes (its PEs drain, it
 * is written back, overlapping the next tile when the GBuf is double-buffered), the GBuf input
 * and weight tiles are fetched (prefetched during the previous tile when double-buffered), then
 * the gbuf iterations run (single- or double-buffered register files). At the end every PE
 * drains and the GBuf output tile is written back. Timing: docs/timing.md, "The Sequencer".
 */
import type { WaitReason } from "../../pe-array/index.js";
import { NDIMS, startKey } from "../nest.js";
import { evictOutput } from "./accumulate.js";
import type { SeqContext } from "./context.js";
import { collectDrains, drainTiles } from "./drain.js";
import { step, type Executor, type Steps } from "./executor.js";
import { planFetch, runFetch } from "./fetch.js";
import { IterationPlanner } from "./iteration.js";
import { LinkPlanner } from "./links.js";
import { Replayer } from "./replay.js";
import { Residency } from "./residency.js";
import { OUTPUT_DIMS, thread, type DrainEntry, type FetchPlan, type IterationPlan, type Req, type Thread } from "./types.js";
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
  private readonly evictions: (Thread | undefined)[] = [undefined, undefined];
  /** The next dram iteration's fetch, running alongside the current one. */
  private prefetch: { thread: Thread; plan: FetchPlan } | undefined;

  constructor(
    private readonly c: SeqContext,
    private readonly x: Executor,
  ) {
    this.res = new Residency(c);
    this.links = new LinkPlanner(c);
    this.replayer = new Replayer(c);
    this.planner = new IterationPlanner(c, this.res, new WaveBuilder(c), this.replayer);
  }

  /** Iterations planned so far, and how many were replays. */
  planStats(): { readonly iterations: number; readonly replayedIterations: number } {
    return { iterations: this.planner.iterations, replayedIterations: this.replayer.plans?.hits ?? 0 };
  }

  /** The whole schedule. */
  *run(): Steps {
    const { nest } = this.c;
    const dramStarts: Int32Array[] = [];
    for (const a of nest.iterate(nest.dramLoops, new Int32Array(NDIMS))) dramStarts.push(new Int32Array(a)); // iterate() reuses its array
    for (let it = 0; it < dramStarts.length; it++) {
      const dStart = dramStarts[it]!;
      const dExt = nest.extent(dStart, nest.gbufStride, new Int32Array(NDIMS));
      if (this.c.m.gbuf.keep.output) yield* this.outputTile(dStart, dExt);
      yield* this.operandTiles(dStart, dExt, dramStarts[it + 1]);
      yield* this.gbufIterations(dStart);
    }
    // The end: drain every PE, write back the GBuf output tile, wait for pending write-backs.
    const res = this.res;
    yield* this.joinDrain();
    yield* this.drain(collectDrains(this.c, res.rfOut, res.rfOutKey, null));
    if (res.gbufOutput) yield* evictOutput(this.c, this.x, res.gbufOutput, res.gbufHalf.output, res.dramHas);
    for (const e of this.evictions) if (e) yield { reason: "drain", reqs: [], join: e };
  }

  /** Drains `entries` into the current GBuf output tile (or DRAM); the arguments are read now. */
  private drain(entries: readonly DrainEntry[]): Steps {
    const r = this.res;
    return drainTiles(this.c, this.x, this.links, entries, r.gbufOutput, r.gbufOutputHas, r.gbufHalf.output, r.dramHas);
  }

  /**
   * The GBuf output tile of the dram iteration at `dStart`: when it changes, every PE drains into
   * the old one, which is written back to DRAM (alongside the next tile's work, which uses the
   * other half, when the GBuf is double-buffered).
   */
  private *outputTile(dStart: Int32Array, dExt: Int32Array): Steps {
    const { c, res } = this;
    const key = startKey(dStart, OUTPUT_DIMS, c.nest.sizes);
    if (key === res.gbufKey.output) return;
    if (res.gbufOutput) {
      yield* this.joinDrain();
      yield* this.drain(collectDrains(c, res.rfOut, res.rfOutKey, null));
      const evict = evictOutput(c, this.x, res.gbufOutput, res.gbufHalf.output, res.dramHas);
      if (c.m.gbuf.doubleBuffer) {
        const t = thread(evict);
        this.evictions[res.gbufHalf.output] = t;
        yield { reason: "drain", reqs: [], spawn: t };
      } else {
        yield* evict;
      }
      res.gbufHalf.output = c.gbufRegions.output!.length > 1 ? 1 - res.gbufHalf.output : 0;
      const pending = this.evictions[res.gbufHalf.output];
      if (pending) {
        yield { reason: "drain", reqs: [], join: pending };
        this.evictions[res.gbufHalf.output] = undefined;
      }
    }
    res.gbufKey.output = key;
    res.gbufOutput = { start: dStart, ext: dExt };
    res.gbufOutputHas = new Uint8Array(c.gbufRegions.output![0]!.elements);
  }

  /** The GBuf input and weight tiles: prefetched during the previous tile, or fetched now; then the next tile's prefetch starts. */
  private *operandTiles(dStart: Int32Array, dExt: Int32Array, next: Int32Array | undefined): Steps {
    const { c, res } = this;
    let plan: FetchPlan;
    if (this.prefetch) {
      yield { reason: "dram", reqs: [], join: this.prefetch.thread };
      plan = this.prefetch.plan;
      this.prefetch = undefined;
    } else {
      plan = planFetch(c, dStart, dExt, res.gbufKey, res.gbufHalf, res.gbufInput, res.gbufWeight);
      yield* runFetch(c, this.x, plan);
    }
    res.gbufInput = plan.input;
    res.gbufWeight = plan.weight;
    Object.assign(res.gbufKey, plan.keys);
    Object.assign(res.gbufHalf, plan.halves);
    if (c.m.gbuf.doubleBuffer && next) {
      const nextPlan = planFetch(c, next, c.nest.extent(next, c.nest.gbufStride, new Int32Array(NDIMS)), res.gbufKey, res.gbufHalf, res.gbufInput, res.gbufWeight);
      const t = thread(runFetch(c, this.x, nextPlan));
      this.prefetch = { thread: t, plan: nextPlan };
      yield { reason: "dram", reqs: [], spawn: t };
    }
  }

  /** The gbuf iterations of the dram iteration at `dStart`. */
  private *gbufIterations(dStart: Int32Array): Steps {
    const { c } = this;
    const readReason: WaitReason = c.m.gbuf.keep.input || c.m.gbuf.keep.weight ? "gbuf" : "dram";
    const gbufStarts = c.nest.iterate(c.nest.gbufLoops, dStart);
    const planNext = (): IterationPlan | undefined => {
      const nx = gbufStarts.next();
      return nx.done ? undefined : this.planner.plan(nx.value, dStart);
    };
    if (c.pipelined) yield* this.runPipelined(planNext, readReason);
    else yield* this.runSingleBuffered(planNext, readReason);
  }

  /**
   * Single-buffered register files: the GBuf (or DRAM) reads of iteration j + 1 are issued with
   * the MAC waves of iteration j (they touch no register file); drains, deliveries and the next
   * wave wait for the wave.
   */
  private *runSingleBuffered(planNext: () => IterationPlan | undefined, readReason: WaitReason): Steps {
    const x = this.x;
    let cur = planNext();
    if (cur && cur.reads.length > 0) yield* x.run(step(readReason, cur.reads));
    while (cur) {
      if (cur.drains.length > 0) yield* this.drainNow(cur.drains);
      // Halo slides complete before the deliveries start (a delivery may land where a kept word was).
      if (cur.moves.length > 0) yield* x.run(step("network", cur.moves));
      const sends: Req[] = [...cur.direct];
      for (const f of cur.after) sends.push(...f.send(x.take(f.id)));
      if (sends.length > 0) yield* x.run(step("network", sends));
      const next = planNext();
      // PEs idle during this step (not in the wave, or done with it) wait for the next reads.
      const overlap = next !== undefined && next.reads.length > 0;
      yield* x.run(step(overlap ? readReason : "control", overlap ? [...cur.waves, ...next.reads] : cur.waves));
      cur = next;
    }
  }

  /** Waits for {@link pendingDrain}. */
  private *joinDrain(): Steps {
    if (!this.pendingDrain) return;
    yield { reason: "drain", reqs: [], join: this.pendingDrain };
    this.pendingDrain = undefined;
  }

  /**
   * The gbuf iterations of one dram tile when some operand is delivered early (double-buffered
   * register files, or streamed operands, which the array's edge feeds during the previous wave):
   * iteration j + 1's early operands are delivered (into the halves iteration j's wave does not
   * read) while j's wave runs, with the GBuf (or DRAM) reads of j + 2. Then j + 1's drains (of the
   * output tiles that change), halo slides, late (single-buffered) operands and psum fills, which
   * touch what the wave reads, wait for the wave; then j + 1's wave.
   */
  private *runPipelined(planNext: () => IterationPlan | undefined, readReason: WaitReason): Steps {
    const x = this.x;
    let cur = planNext();
    if (!cur) return;
    if (cur.reads.length > 0) yield* x.run(step(readReason, cur.reads));
    let next = planNext();
    // The first iteration: its drains, then all its operands and fills, with the next one's reads.
    yield* this.afterWave(cur, this.sends(cur, true), next ? next.reads : [], readReason);
    while (cur) {
      const after = next ? planNext() : undefined;
      const reads = after ? after.reads : [];
      yield* x.run(step(reads.length > 0 ? readReason : next ? "network" : "control", [...cur.waves, ...(next ? this.sends(next, false, true) : []), ...reads]));
      if (next) yield* this.afterWave(next, this.sends(next, true, false), [], readReason);
      cur = next;
      next = after;
    }
  }

  /**
   * An iteration's deliveries and operand fills: the early ones (`early`: the operands delivered
   * during the previous wave), the late ones (`late`), or both.
   */
  private sends(p: IterationPlan, late: boolean, early = late): Req[] {
    const c = this.c;
    const out: Req[] = [];
    if (c.early.input ? early : late) out.push(...p.operandFills!);
    for (const f of p.after) if (c.early[f.part] ? early : late) out.push(...f.send(this.x.take(f.id)));
    return out;
  }

  /**
   * What waits for the previous wave: the iteration's drains (streamed outputs drain alongside,
   * in order), its halo slides, then `sends` with its psum fills (and `reads`, ahead).
   */
  private *afterWave(p: IterationPlan, sends: Req[], reads: Req[], readReason: WaitReason): Steps {
    const x = this.x;
    if (p.drains.length > 0) yield* this.drainNow(p.drains);
    if (p.moves.length > 0) yield* x.run(step("network", p.moves));
    const reqs = [...sends, ...p.psumFills!, ...reads];
    if (reqs.length > 0) yield* x.run(step(reads.length > 0 ? readReason : "network", reqs));
  }

  /**
   * Drains `entries` before the iteration goes on; a streamed output's partial sums leave from
   * their half alongside the next wave instead (drains stay in order: they may accumulate into the
   * same outputs, so the one before is joined first).
   */
  private *drainNow(entries: readonly DrainEntry[]): Steps {
    if (!this.c.streamOut) {
      yield* this.drain(entries);
      return;
    }
    yield* this.joinDrain();
    const t = thread(this.drain(entries));
    this.pendingDrain = t;
    yield { reason: "drain", reqs: [], spawn: t };
  }
}
