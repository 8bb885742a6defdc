/**
 * The Sequencer: executes any legal Mapping through the engine (DESIGN.md, "The flow of one
 * simulation"). It is the accelerator's controller: a component that walks the loop nest and
 * sends transactions to the DRAM channel, the global buffer, the network and the PE array, so
 * that real values move DRAM -> GBuf -> RF -> MAC -> RF -> GBuf -> DRAM. It knows the mapping; the
 * hardware models do not.
 *
 * What it does, per level of the nest (mapping.ts gives the semantics):
 * - dram iteration: for each tensor the GBuf keeps, if the GBuf tile changes, the words of the new
 *   tile are fetched from DRAM (only input rows and columns some window reads: padding and rows a
 *   stride skips are never fetched) and written into the tensor's GBuf region, laid out compactly
 *   (rank of each touched row and column). Before an output tile leaves the GBuf, every PE's
 *   partial sums are drained into it; the tile is then written to DRAM, added to what DRAM already
 *   holds for it when an earlier tile was spilled (read-modify-write: one DRAM read and one write
 *   per word).
 * - gbuf iteration: for each PE whose RF tile of a tensor changes, the tile is delivered from the
 *   GBuf (or straight from DRAM when the GBuf bypasses the tensor). Each distinct tile is read once
 *   at its source and carried once on the bus to every PE that needs it (multicast); the distinct
 *   tiles of one iteration that have the same structure are handed out by one transfer (a box
 *   index per PE), each run of them one constant address step apart gathered by one read. A PE stores its input window as the dense
 *   span in padded coordinates; padding is filled in place with the input zero point (`rf.fill`,
 *   never fetched). A PE whose output tile changes drains its partial sums first; PEs that share
 *   an output tile because a reduction dimension (C, R, S) is spread across the array are summed,
 *   along a line of the array over the neighbour links when the architecture has them and the
 *   PEs form one, else on the drain path, and the sum is added into the GBuf (or DRAM) copy with
 *   a read-modify-write when one exists. New output tiles start at 0 in the RF (`rf.fill`). Then
 *   one MAC wave per rectangle of PEs with the same tile shape runs the rf-level loops.
 * - end: every PE drains; every GBuf output tile is written back.
 * - DRAM layout: weights are stored in the order the dataflow streams them ({@link WeightLayout}).
 *
 * Timing (docs/timing.md): the main program is a sequence of steps; each step's transactions are
 * issued together and the next step starts when all of them have completed. The GBuf reads of the
 * next gbuf iteration are issued with the current MAC waves; with a double-buffered GBuf the next
 * dram iteration's tiles are prefetched, and output write-backs overlap the next tile, as
 * cooperative threads ({@link Thread}). With single-buffered register files deliveries never
 * overlap a PE's own MAC wave; with `rf.doubleBuffer` the next iteration's operands are delivered
 * into the other halves during the wave. Bias is not applied here.
 *
 * Streams (`mapping.rf.stream`, a systolic array): a streamed operand is delivered again for every
 * wave (it passes through the PE, nothing stays), into a stream buffer the simulator keeps in
 * place of the pipeline register, and the wave command names it, so the PE array charges the
 * skew and counts the words forwarded over the links; a streamed output leaves the PEs after
 * every wave (reduced down its column over the links and drained) while the next wave fills the
 * other half of its stream buffer.
 *
 * Checked mode: inputs are tagged by their index in the padded input (padding included, so padded
 * positions have tags of their own), weights and outputs by their flat index; every read states
 * the tags it expects, so a wrong schedule fails with the address and both tags.
 */
import { Component, InvariantError, Outbox, track, type Counter, type Engine, type InPort, type OutPort } from "../../core/index.js";
import type { ArchSpec } from "../../arch/spec.js";
import type { DramRequest, DramResponse, GbufRequest, GbufResponse } from "../../memory/index.js";
import type { NocDrain, NocRequest, NocResponse, PeArrayCommand, PeArrayDone, PeWaveCommand, Phase, WaitReason } from "../../pe-array/index.js";
import { convShape, type ConvLayer } from "../../workload/layer.js";
import type { Mapping } from "../mapping.js";
import { SeqContext } from "./context.js";
import { Executor } from "./executor.js";
import { Program } from "./program.js";
import { InFlight } from "./in-flight.js";
import { TimelineReplay, type TimelineHost } from "./timeline.js";
import { finish, Responses, thread, type Req, type Resp, type SequencerHardware, type Step, type SequencerOperands, type SequencerProgress, type Thread } from "./types.js";

/** Options of the Sequencer. */
export interface SequencerOptions {
  /**
   * Replay recorded iteration timelines (timeline.ts) where the run allows it: fast, unchecked
   * runs of single-buffered programs. Default true; results are identical either way.
   */
  readonly timelineReplay?: boolean;
}

/** The controller component (see the file header). */
export class Sequencer extends Component implements TimelineHost {
  readonly toDram: OutPort<DramRequest>;
  readonly fromDram: InPort<DramResponse>;
  readonly toGbuf: OutPort<GbufRequest>;
  readonly fromGbuf: InPort<GbufResponse>;
  readonly toNoc: OutPort<NocRequest>;
  readonly fromNoc: InPort<NocResponse>;
  readonly toPe: OutPort<PeArrayCommand>;
  readonly fromPe: InPort<PeArrayDone>;
  readonly why: OutPort<WaitReason>;

  private readonly outbox = new Outbox();
  private threads: Thread[] = [];
  /** Per transaction id in flight: the thread that issued it and the planned request it issues. */
  private readonly inFlight = new InFlight();
  private finished = false;
  private posted: WaitReason | undefined;
  /**
   * While a timeline is replayed: the GBuf reads its steps may make (they are applied at once),
   * and as a set when there are many ({@link covers}).
   */
  private applying: readonly Req[] | undefined;
  private applyingSet: ReadonlySet<Req> | undefined;
  private timeline: TimelineReplay | undefined;
  private cycle = 0;
  private nextId = 1;
  /** MACs issued so far (for progress reports). */
  macsIssued = 0;
  private reportedMacs = -1;

  constructor(
    engine: Engine,
    private readonly layer: ConvLayer,
    private readonly arch: ArchSpec,
    private readonly mapping: Mapping,
    private readonly ops: SequencerOperands,
    private readonly hw: SequencerHardware,
    private readonly onStep?: (p: SequencerProgress) => void,
    private readonly options: SequencerOptions = {},
  ) {
    super(engine, "sequencer");
    this.toDram = this.outPort("toDram");
    this.fromDram = this.inPort("fromDram");
    this.toGbuf = this.outPort("toGbuf");
    this.fromGbuf = this.inPort("fromGbuf");
    this.toNoc = this.outPort("toNoc");
    this.fromNoc = this.inPort("fromNoc");
    this.toPe = this.outPort("toPe");
    this.fromPe = this.inPort("fromPe");
    this.why = this.outPort("why");
    this.inPorts = [this.fromDram, this.fromGbuf, this.fromNoc, this.fromPe] as InPort<Resp>[];
  }

  private readonly inPorts: readonly InPort<Resp>[];

  /** Iterations of the gbuf loops planned so far, how many of them were replays, and the timelines replayed. */
  planStats(): { readonly iterations: number; readonly replayedIterations: number; readonly replayedTimelines: number; readonly timelineRuns: number } {
    const p = this.program ? this.program.planStats() : { iterations: 0, replayedIterations: 0, timelineRuns: 0 };
    return { ...p, replayedTimelines: this.timeline?.replayed ?? 0 };
  }

  private program: Program | undefined;

  /**
   * Allocates the GBuf regions the mapping needs and prepares the program. Call after every port
   * is connected and before `engine.run`.
   * @throws ConfigError when a region does not fit the global buffer.
   */
  start(): void {
    const context = new SeqContext(this.layer, this.arch, this.mapping, this.ops, this.hw, this.engine.checked, () => this.nextId++, (n) => {
      this.macsIssued += n;
    });
    const replay = (this.options.timelineReplay ?? true) && !this.engine.checked && this.engine.mode === "fast";
    this.timeline = replay ? new TimelineReplay(this, this.hw.gbuf, this.hw.pe, this.replayCounters()) : undefined;
    const program = (this.program = new Program(context, new Executor(), this.timeline));
    this.threads = [thread(program.run(), true)];
  }

  /** Every counter a timeline can change: the registry's, and those of RF partitions bypassed (outside it). */
  private replayCounters(): Counter[] {
    const rf = this.hw.pe.rf;
    const out = [...this.engine.counters.all()];
    for (const p of ["input", "weight"] as const) if (rf.spec.staged?.[p]) out.push(...Object.values(rf.counters[p]));
    return out;
  }

  /** The wait reason last posted to the PE array. */
  get lastReason(): WaitReason | undefined {
    return this.posted;
  }

  /** The current cycle (timeline replay). */
  get now(): number {
    return this.cycle;
  }

  /**
   * Whether only the main thread runs and no component holds work or a message in flight (timeline
   * replay); with `beside` (a prefetch, and write-backs past their GBuf read), whether that holds
   * but for their tracks: they may live, with their transactions outstanding and their responses
   * on their way in, the DRAM channel and the GBuf's write side busy.
   */
  quiet(beside?: readonly Thread[]): boolean {
    const main = this.threads[0];
    if (!main || main.outstanding > 0 || this.outbox.size > 0 || this.applying) return false;
    const hw = this.hw;
    if (beside) {
      for (const t of this.threads) if (!t.done && t !== main && !beside.includes(t)) return false;
      if (!this.inFlight.every((_, t) => beside.includes(t))) return false;
      if (this.fromNoc.pending > 0 || this.fromPe.pending > 0 || !hw.gbuf.readIdle()) return false;
    } else {
      if (this.threads.length !== 1) return false;
      for (const p of this.inPorts) if (p.pending > 0) return false;
      if (hw.dram.busy() || hw.gbuf.busy()) return false;
    }
    return hw.noc.replayIdle() && hw.pe.replayIdle();
  }

  /**
   * Timeline replay of a pipelined program: the PE array's running wave and its phase, when the
   * system holds nothing else: besides the main thread only `running` lives, waiting for that
   * wave alone; nothing is in the outbox or on its way in; the DRAM channel, the GBuf and the
   * network are idle; the array runs the wave alone ({@link PeArray.steadyWave}). With `beside`
   * (a prefetch, DRAM reads into GBuf writes, and write-backs past their GBuf read), those threads
   * may live too, with their transactions outstanding, their responses on their way in, the DRAM
   * channel and the GBuf's write side busy.
   */
  steadyWave(running: Thread, beside?: readonly Thread[]): { readonly cmd: PeWaveCommand; readonly phase: Phase } | undefined {
    const main = this.threads[0]!;
    if (this.outbox.size > 0 || this.applying || main.outstanding > 0) return undefined;
    if (running.done || running.outstanding !== 1 || running.joining) return undefined;
    for (const t of this.threads) if (!t.done && t !== main && t !== running && !beside?.includes(t)) return undefined;
    let id: number | undefined;
    const alone = this.inFlight.every((i, t) => {
      if (t === running && id === undefined) id = i;
      else if (!beside?.includes(t)) return false;
      return true;
    });
    if (!alone) return undefined;
    const hw = this.hw;
    if (beside) {
      if (this.fromNoc.pending > 0 || this.fromPe.pending > 0 || !hw.gbuf.readIdle()) return undefined;
    } else {
      for (const p of this.inPorts) if (p.pending > 0) return undefined;
      if (hw.dram.busy() || hw.gbuf.busy()) return undefined;
    }
    if (!hw.noc.replayIdle()) return undefined;
    const w = hw.pe.steadyWave();
    return w && w.cmd.id === id ? w : undefined;
  }

  /** Timeline replay of a pipelined program: the running wave's effect now, and the array left idle. */
  finishWave(): void {
    this.hw.pe.finishWave(this.cycle);
  }

  /**
   * Timeline replay of a pipelined program: wave request `q` becomes the running wave, as if
   * issued by `running` (which takes over the finished wave's transaction and `reason`) and
   * started in cycle `start`; returns its phase.
   */
  adoptWave(q: Req, start: number, running: Thread, reason: WaitReason): Phase {
    let id: number | undefined;
    this.inFlight.every((i, t) => {
      if (t === running) id = i;
      return true;
    });
    if (q.to !== "pe" || q.msg.op !== "wave" || id === undefined) throw new InvariantError(this.name, "a replayed timeline adopts a wave that no waiting thread issued");
    this.inFlight.setRequest(id, q);
    running.reason = reason;
    return this.hw.pe.adoptWave(track<PeWaveCommand>(q.msg, id), start, this.cycle);
  }

  /**
   * The main thread's steps are applied at once from now on (timeline replay): `reads`, the GBuf
   * reads its key covers; `drains`, whether it covers a drain (its GBuf writes and accumulates).
   */
  beginApplying(reads: readonly Req[], drains = false): void {
    this.applying = reads;
    this.applyingSet = undefined;
    this.applyingDrains = drains;
  }

  /** Whether the replayed timeline's key covers GBuf read `q` (a set made for long lists only: most have a few reads). */
  private covers(q: Req): boolean {
    const reads = this.applying!;
    if (reads.length <= 16) return reads.includes(q);
    return (this.applyingSet ??= new Set(reads)).has(q);
  }

  /** Steps go through the ports again. */
  endApplying(): void {
    this.applying = undefined;
    this.applyingSet = undefined;
    this.applyingDrains = false;
  }

  /** Whether the replayed timeline's key covers a drain. */
  private applyingDrains = false;

  /** A run of replayed timelines (runs.ts): applies `reqs` at once, as a replayed step would. */
  apply(reqs: readonly Req[], into: Responses): void {
    if (!this.applying) throw new InvariantError(this.name, "requests applied at once outside a replayed timeline");
    this.applyNow(reqs, into);
  }

  /**
   * Applies a step of a replayed timeline at once through the components' bulk operations, in
   * order; returns the responses that carry a payload (a read's, a drain's sum): the executor
   * keeps only payloads (executor.ts), and nothing else reads a step's responses.
   */
  private applyNow(reqs: readonly Req[], into: Responses): void {
    const { gbuf, noc, pe } = this.hw;
    const now = this.cycle;
    for (const q of reqs) {
      const id = this.nextId++;
      if (q.to === "gbuf") {
        const covered = q.msg.op === "read" ? this.covers(q) : this.applyingDrains;
        if (!covered) throw new InvariantError(this.name, `a replayed timeline makes a GBuf ${q.msg.op} its key does not cover`);
        const payload = gbuf.applyNow(q.msg);
        if (payload) into.set(q, { op: q.msg.op, id, payload, cycles: 0, conflictCycles: 0, completedAt: now });
      } else if (q.to === "noc" && q.msg.op === "drain") {
        if (!this.applyingDrains) throw new InvariantError(this.name, "a replayed timeline makes a drain its key does not cover");
        const d = track<NocDrain>(q.msg, id);
        const payload = noc.drainNow(d, pe.readNow({ op: "read", part: d.part, pes: d.pes, box: d.box }));
        if (payload) into.set(q, { op: "drain", id, payload, completedAt: now });
      } else if (q.to === "noc") {
        pe.applyFromNoc(noc.applyNow(q.msg));
      } else if (q.to === "pe") {
        pe.applyNow(track<PeArrayCommand>(q.msg, id));
      } else {
        throw new InvariantError(this.name, `a replayed timeline makes a DRAM ${q.msg.op}`);
      }
    }
  }

  /** Whether a thread can take its next step now. */
  private runnable(t: Thread, now: number): boolean {
    return !t.done && t.outstanding === 0 && (t.joining === undefined || t.joining.done) && t.wakeAt <= now;
  }

  /**
   * Tells the PE array what the main program waits for: the reason of its blocking step, or,
   * while it joins a thread, what that thread (or the one it joins) waits for: the idle PE-cycles
   * go to the resource the next wave actually waits for (docs/timing.md, "Stalls").
   */
  private postReason(main: Thread): void {
    if (main.done) return;
    let t = main;
    let reason = main.reason;
    while (t.joining && !t.joining.done) {
      t = t.joining;
      if (t.reason !== undefined) reason = t.reason;
    }
    if (reason !== undefined && reason !== this.posted) {
      this.outbox.post(this.why, reason);
      this.posted = reason;
    }
  }

  /** The layer's MACs, for progress reports (computed once). */
  private totalMacs: number | undefined;

  /** Carries out a step a thread yielded: spawn, join, delay, and its requests (issued, or applied at once in a replayed timeline). */
  private take(t: Thread, step: Step, now: number): void {
    if (this.applying && (step.spawn || step.join || step.delay)) throw new InvariantError(this.name, "a replayed timeline spawns, joins or waits");
    if (step.spawn) this.threads.push(step.spawn);
    if (step.join && !step.join.done) t.joining = step.join;
    if (step.delay) t.wakeAt = now + step.delay;
    const also = step.also;
    const count = step.reqs.length + (also ? also.length : 0);
    if (count > 0 || t.joining !== undefined || step.delay) t.reason = step.reason;
    if (count === 0) return;
    if (this.applying) {
      if (!t.main) throw new InvariantError(this.name, "a thread besides the main one runs in a replayed timeline");
      this.applyNow(step.reqs, t.responses);
      if (also) this.applyNow(also, t.responses);
      return;
    }
    this.issue(t, step.reqs);
    if (also) this.issue(t, also);
    t.outstanding = count;
  }

  /** Issues requests `reqs` of thread `t`, in order. */
  private issue(t: Thread, reqs: readonly Req[]): void {
    // Each issue of a planned request is a transaction with an id of its own (plans carry none):
    // the id is written into the message as it is posted (track), so one planned object must not
    // be in flight twice.
    for (const q of reqs) {
      const last = (q.msg as { id?: number }).id;
      if (last !== undefined && this.inFlight.request(last) === q) throw new InvariantError(this.name, `a planned ${q.to} ${q.msg.op} issued again while transaction ${last} of it is in flight`);
      const id = this.nextId++;
      this.inFlight.add(id, t, q);
      switch (q.to) {
        case "dram":
          this.outbox.post(this.toDram, track<DramRequest>(q.msg, id));
          break;
        case "gbuf":
          this.outbox.post(this.toGbuf, track<GbufRequest>(q.msg, id));
          break;
        case "noc":
          this.outbox.post(this.toNoc, track<NocRequest>(q.msg, id));
          break;
        case "pe":
          this.outbox.post(this.toPe, track<PeArrayCommand>(q.msg, id));
          break;
      }
    }
  }

  override interact(now: number): void {
    this.cycle = now;
    for (const port of this.inPorts) {
      for (let m = port.pop(now); m !== undefined; m = port.pop(now)) {
        const t = this.inFlight.thread(m.id);
        const q = this.inFlight.request(m.id);
        if (!t || !q) throw new InvariantError(this.name, `a response to transaction ${m.id}, which no thread issued`);
        this.inFlight.delete(m.id);
        t.responses.set(q, m);
        t.outstanding--;
      }
    }
    if (this.threads.length === 0) throw new InvariantError(this.name, "start() was not called before the run");
    let progressed = true;
    while (progressed) {
      progressed = false;
      for (let i = 0; i < this.threads.length; i++) {
        const t = this.threads[i]!;
        while (this.runnable(t, now)) {
          progressed = true;
          t.joining = undefined;
          // The generator reads the responses during next() (the executor keeps the payloads,
          // perhaps this very list, which it lets go of once emptied) and holds no reference
          // after it. The next step gets a new list unless this one is empty (a step of joins,
          // spawns or delays, or every response taken: its arrays are reused from their start),
          // as with the Maps before (docs/design-notes.md, "Maps that churn").
          const r = t.gen.next(t.responses);
          if (t.responses.size > 0) t.responses = new Responses();
          if (r.done) {
            finish(t);
            break;
          }
          this.take(t, r.value, now);
        }
      }
      if (progressed && this.threads.some((t) => t.done && !t.main)) this.threads = this.threads.filter((t) => !t.done || t.main);
    }
    const main = this.threads[0]!;
    this.postReason(main);
    if (main.done && !this.finished && this.threads.length === 1) {
      this.finished = true;
      if (this.posted !== "control") {
        this.outbox.post(this.why, "control");
        this.posted = "control";
      }
    }
    if (this.onStep && this.macsIssued !== this.reportedMacs) {
      this.reportedMacs = this.macsIssued;
      this.onStep({ macs: this.macsIssued, totalMacs: (this.totalMacs ??= convShape(this.layer).macs) });
    }
    this.outbox.flush(now);
  }

  override progress(): void {}

  override horizon(now: number): number {
    for (let i = 0; i < this.inPorts.length; i++) if (this.inPorts[i]!.ready(now)) return 0;
    let h = this.outbox.horizon(now);
    for (let i = 0; i < this.threads.length; i++) {
      const t = this.threads[i]!;
      if (this.runnable(t, now)) return 0;
      if (!t.done && t.wakeAt > now) h = Math.min(h, t.wakeAt - now);
    }
    if (!this.finished && this.threads[0]?.done && this.threads.length === 1) return 0;
    return h;
  }

  override busy(): boolean {
    return !this.finished || this.outbox.size > 0;
  }

  override status(): string {
    if (this.finished) return this.outbox.size ? "finished; sending the last messages" : "finished";
    const waiting = this.threads.map((t, i) => `${t.main ? "main" : `thread ${i}`}: ${t.done ? "done" : t.joining ? "joining" : `${t.outstanding} transaction(s) outstanding`}`);
    return `${waiting.join("; ")} (wait reason: ${this.posted ?? "none"})`;
  }

}
