/**
 * PeArray: `rows x cols` processing elements, each a MAC unit with its register file.
 *
 * Modeled: every PE owns a {@link RegFile} (input, weight and psum partitions) and one MAC unit
 * completing up to `m = min(macsPerCycle, floor(rf.readPorts / 2))` MACs per cycle (a MAC reads
 * two operands), int32 wrap-around accumulation. The driver sends MAC waves ({@link MacWave}: one
 * loop nest run by every PE of a rectangle; one command may carry several waves on disjoint
 * rectangles, which start together) and local fills on `cmd`; commands run one after the other,
 * except fills marked `shadow` (the next step's padding in a double-buffered partition's other
 * half), which run beside them on a lane of their own, and waves marked `chained`, which start
 * while the wave before drains its pipeline. Data arrive from the network on `fromNoc` (register-file writes, drain reads, neighbour
 * link moves) and are applied in the cycle they arrive, concurrently with a running wave.
 *
 * Timing: a wave of T MACs per PE started (popped) in cycle s issues in cycles s .. s + I - 1 with
 * I = ceil(T / m), then drains its pipeline for `pipelineLatency` = L cycles, and completes in
 * cycle s + I + L - 1 (its `done` is visible to the driver in cycle s + I + L); a command with
 * several waves takes I of its longest wave. The MACs of issue
 * cycle k are those of flattened indices [k m, (k + 1) m). A fill of n entries per PE takes
 * ceil(n / rf.writePorts) cycles; a command with several fills takes the most any one PE spends
 * on its own. Example: T = 10, m = 1, L = 2: popped in cycle 5, done in
 * cycle 16 (docs/timing.md).
 *
 * Exactness: reference mode executes each issue cycle's MACs in that cycle; fast mode executes
 * them lazily, in bulk, at the next event that can observe the register files: an arrival from
 * the network or a shadow fill that meets the running wave (writes or reads an entry within its
 * reach, {@link CompiledWave.reach}, in one of its PEs; a link move always counts), or the wave's
 * completion. A delivery into the half of a double-buffered partition the wave does not read
 * leaves it to run whole. Either way every MAC sees the register contents of its own cycle, so
 * both modes produce the same values (tested).
 *
 * Stall attribution (stall.ts): each PE-cycle is busy (an issue cycle of a wave covering the PE),
 * `unmapped` (an issue cycle of a wave command in which the PE issues nothing: no wave covers it,
 * or its wave is shorter and done), `pipeline` (a command's last L cycles), or
 * idle for the reason the driver last posted on `waitReason`.
 * Not modeled: a shared RF port budget between MACs, deliveries and write-backs; per-PE
 * independent control (all PEs of a wave run the same nest, as in Eyeriss's SIMD-like control);
 * clock gating. Source: Eyeriss PE (Chen et al., JSSC 2017, Sec. IV); Gemmini's PE registers its
 * operands (`in_a` -> `out_a`), here the neighbour links of the Noc.
 *
 * Files: this one is the component (ports, command lane, lifecycle, replay entry points); its
 * messages are in commands.ts, the running wave command in wave-run.ts, the register-file moves
 * (deliveries, drains, links, fills, slides) in rf-moves.ts and the stall accounting in
 * stall-account.ts.
 */
import {
  boxSize,
  Component,
  ConfigError,
  InvariantError,
  Lane,
  Outbox,
  type Counter,
  type Engine,
  type InPort,
  type OutPort,
  type Payload,
} from "../core/index.js";
import type { PeArraySpec, RegFileSpec } from "../arch/spec.js";
import { checkArraySpec } from "../arch/schema.js";
import { RegFile, type RegFileLayout, type RfPartition } from "../memory/regfile.js";
import type { NocToPe, PeArrayCommand, PeArrayDone, PeFill, PeFillCommand, PeRead, PeReadData, PeWaveCommand } from "./commands.js";
import { checkRect, type PeRect } from "./pe-set.js";
import { forEachPe, RfMoves } from "./rf-moves.js";
import { STALL_CAUSES, type StallCause, type WaitReason } from "./stall.js";
import { StallAccount, type Phase, type StallCounters } from "./stall-account.js";
import { WaveRun, type WaveRunCounters } from "./wave-run.js";
import { WaveKernels } from "./wave-kernels.js";

/** Validates a PeArraySpec against the architecture schema (src/arch/schema.ts), with the RF it needs. @throws ConfigError. */
export function validatePeArraySpec(spec: PeArraySpec, rf: RegFileSpec, path = "array"): PeArraySpec {
  checkArraySpec(spec as unknown as Record<string, unknown>, path);
  if (!Number.isInteger(rf.readPorts) || rf.readPorts < 2) {
    throw new ConfigError("rf.readPorts", rf.readPorts, "be at least 2 (a MAC reads an input and a weight in the same cycle)");
  }
  return spec;
}

/** Options of a {@link PeArray}. */
export interface PeArrayOptions {
  /** Component name and counter prefix. Default `pe`. */
  readonly name?: string;
  /** Counter prefix of the register files. Default `rf`. */
  readonly rfName?: string;
  /**
   * Run unchecked fast-mode waves, whole or in pieces, with the WebAssembly kernels
   * ({@link WaveKernels}) where the platform has them. Default true; false runs every wave in
   * JavaScript (the same values).
   */
  readonly wasm?: boolean;
}

/** A read-only view of one PE, for inspection and tests. */
export class Pe {
  constructor(
    private readonly rf: RegFile,
    /** Row in the array. */
    readonly row: number,
    /** Column in the array. */
    readonly col: number,
    /** Flat index `row * cols + col`. */
    readonly index: number,
  ) {}

  /** A copy of one partition of this PE's register file. */
  contents(part: RfPartition): Int32Array {
    return this.rf.contents(part, this.index);
  }
}

/** The PE array (see the file header). Ports: `cmd`, `done`, `fromNoc`, `toNoc`, `waitReason`. */
export class PeArray extends Component {
  /** Waves and fills from the driver. */
  readonly cmd: InPort<PeArrayCommand>;
  /** Completions to the driver. */
  readonly done: OutPort<PeArrayDone>;
  /** Register-file traffic from the network. */
  readonly fromNoc: InPort<NocToPe>;
  /** Drain data to the network. */
  readonly toNoc: OutPort<PeReadData>;
  /** What the driver is waiting for (stall attribution). */
  readonly waitReason: InPort<WaitReason>;
  /** The register files of all PEs. */
  readonly rf: RegFile;
  /** The WebAssembly MAC kernels running whole unchecked waves, if any ({@link PeArrayOptions.wasm}). */
  readonly kernels: WaveKernels | undefined;
  /** The validated spec. */
  readonly spec: PeArraySpec;
  /** Number of PEs. */
  readonly size: number;
  /** MACs one PE issues per cycle: min(macsPerCycle, floor(rf.readPorts / 2)). */
  readonly macsPerIssue: number;
  private readonly lane: Lane<PeArrayCommand>;
  /** Shadow fills (PeFillCommand.shadow), beside the command lane. */
  private readonly shadowLane: Lane<PeFillCommand>;
  /** Completions of waves that handed the lane to a chained wave before their pipeline drained, due in order. */
  private readonly dones: { readonly msg: PeArrayDone; readonly at: number }[] = [];
  private readonly outbox = new Outbox();
  /** The running wave command, its MACs and their counts. */
  private readonly waves: WaveRun;
  /** Deliveries, drains, links, fills and slides in the register files. */
  private readonly moves: RfMoves;
  /** Busy and idle PE-cycles. */
  private readonly stalls: StallAccount;
  private readonly eager: boolean;

  constructor(engine: Engine, spec: { readonly array: PeArraySpec; readonly rf: RegFileLayout }, options: PeArrayOptions = {}) {
    super(engine, options.name ?? "pe");
    this.spec = Object.freeze({ ...validatePeArraySpec(spec.array, spec.rf, this.name) });
    this.size = spec.array.rows * spec.array.cols;
    // Unchecked, the register files live in the WebAssembly kernels' memory (checked waves run
    // in JavaScript, which checks every operand's tag).
    const kernels = !engine.checked && options.wasm !== false ? WaveKernels.create(RegFile.words(spec.rf, this.size, spec.array.cols)) : undefined;
    this.kernels = kernels;
    this.rf = new RegFile(engine.counters, options.rfName ?? "rf", spec.rf, this.size, engine.checked, kernels?.buffer, spec.array.cols);
    this.macsPerIssue = Math.min(spec.array.macsPerCycle, Math.floor(spec.rf.readPorts / 2));
    this.eager = engine.mode === "reference";
    this.cmd = this.inPort<PeArrayCommand>("cmd");
    this.done = this.outPort<PeArrayDone>("done");
    this.fromNoc = this.inPort<NocToPe>("fromNoc");
    this.toNoc = this.outPort<PeReadData>("toNoc");
    this.waitReason = this.inPort<WaitReason>("waitReason");
    const array = { name: this.name, engine, spec: this.spec, size: this.size, rf: this.rf, kernels, macsPerIssue: this.macsPerIssue };
    // Counters in their registration order (reports list them so): mac, forward, inject, busy, idle.
    this.waves = new WaveRun(array, this.waveCounters(), this.eager);
    this.moves = new RfMoves(array);
    this.stalls = new StallAccount(this.name, this.size, this.stallCounters());
    this.lane = new Lane<PeArrayCommand>("cmd lane", (c, now) => this.startCommand(c, now), (c, now) => this.finishCommand(c, now));
    this.shadowLane = new Lane<PeFillCommand>("shadow fill lane", (c) => this.fillCycles(c), (c, now) => {
      // The running wave's MACs up to now first if the fill can meet them (see interact).
      if ([c, ...(c.alongside ?? [])].some((f) => this.waves.meets(f.part, f.pes, f.box))) this.waves.catchUp(now);
      this.finishCommand(c, now);
    });
  }

  /** Registers the counters of the wave commands: MACs, streamed words forwarded and injected. */
  private waveCounters(): WaveRunCounters {
    return {
      macs: this.counter("mac", "MACs", "multiply-accumulates executed (all PEs)"),
      forwarded: {
        input: this.counter("forward.input", "words", "input words forwarded PE to PE over the links (streamed operands)"),
        weight: this.counter("forward.weight", "words", "weight words forwarded PE to PE over the links (streamed operands)"),
      },
      injected: {
        input: this.counter("inject.input", "words", "input words entering the array at its edge (streamed operands: one per line and MAC step)"),
        weight: this.counter("inject.weight", "words", "weight words entering the array at its edge (streamed operands: one per line and MAC step)"),
      },
    };
  }

  /** Registers the stall counters: busy PE-cycles, then idle PE-cycles per cause. */
  private stallCounters(): StallCounters {
    const busy = this.counter("busy", "PE-cycles", "PE-cycles in which the PE issued at least one MAC");
    const idle = {} as Record<StallCause, Counter>;
    for (const c of STALL_CAUSES) idle[c] = this.counter(`idle.${c}`, "PE-cycles", `idle PE-cycles attributed to ${c}`);
    return { busy, idle };
  }

  /** Rows of the array. */
  get rows(): number {
    return this.spec.rows;
  }

  /** Columns of the array. */
  get cols(): number {
    return this.spec.cols;
  }

  /** The rectangle of the whole array. */
  all(): PeRect {
    return { row0: 0, col0: 0, rows: this.spec.rows, cols: this.spec.cols };
  }

  /** Row `r`. */
  row(r: number): PeRect {
    return { row0: r, col0: 0, rows: 1, cols: this.spec.cols };
  }

  /** Column `c`. */
  col(c: number): PeRect {
    return { row0: 0, col0: c, rows: this.spec.rows, cols: 1 };
  }

  /** One PE. */
  one(r: number, c: number): PeRect {
    return { row0: r, col0: c, rows: 1, cols: 1 };
  }

  /** A view of PE (r, c). */
  pe(r: number, c: number): Pe {
    checkRect(this.name, this.one(r, c), this.spec.rows, this.spec.cols);
    return new Pe(this.rf, r, c, r * this.spec.cols + c);
  }

  /** A command's start: checks it, starts a wave; returns the cycles it takes. */
  private startCommand(c: PeArrayCommand, now: number): number {
    if (c.op === "slide") {
      for (const sl of [c, ...(c.alongside ?? [])]) {
        checkRect(this.name, sl.pes, this.spec.rows, this.spec.cols);
        if (boxSize(sl.dst.shape) !== boxSize(sl.src.shape)) throw new InvariantError(this.name, "slide: src and dst boxes differ in size");
      }
      return 1;
    }
    if (c.op === "fill") return this.fillCycles(c);
    const phase = this.waves.start(c, now);
    this.stalls.phase = phase;
    return phase.end - now;
  }

  /**
   * The cycles of a fill command: per PE, the cycles of its own fills; the busiest PE's. A fill of
   * a partition the words pass through (`RegFileLayout.passing`) takes one cycle: each word is set
   * as it enters its register.
   */
  private fillCycles(c: PeFillCommand): number {
    const cyclesOf = (f: PeFill) => (this.rf.spec.passing?.[f.part] ? 1 : Math.ceil(boxSize(f.box.shape) / this.rf.spec.writePorts));
    if (!c.alongside || c.alongside.length === 0) {
      checkRect(this.name, c.pes, this.spec.rows, this.spec.cols);
      return cyclesOf(c);
    }
    const cycles = new Float64Array(this.size);
    let longest = 1;
    for (const f of [c, ...c.alongside]) {
      checkRect(this.name, f.pes, this.spec.rows, this.spec.cols);
      const t = cyclesOf(f);
      forEachPe(f.pes, this.spec.cols, (p) => {
        cycles[p] = cycles[p]! + t;
        longest = Math.max(longest, cycles[p]!);
      });
    }
    return longest;
  }

  /**
   * A command's completion: its effect on the register files, and its `done`. A wave that handed
   * the lane to a chained wave after its last issue cycle reports `done` when its pipeline has
   * drained, as it would have.
   */
  private finishCommand(c: PeArrayCommand, now: number): void {
    this.completeCommand(c);
    const due = c.op === "wave" ? this.stalls.phase.end - 1 : now;
    if (due > now) this.dones.push({ msg: { op: c.op, id: c.id, completedAt: due }, at: due });
    else this.outbox.post(this.done, { op: c.op, id: c.id, completedAt: now });
  }

  /**
   * A chained wave (PeWaveCommand.chained) that arrived while the wave before it runs, with
   * nothing queued between them: the running wave gives up the lane after its last issue cycle.
   */
  private chain(c: PeArrayCommand, now: number): void {
    if (c.op !== "wave" || !c.chained || !this.waves.running || this.lane.size !== 1) return;
    const handOver = Math.max(now, this.stalls.phase.issueEnd - 1);
    if (this.lane.doneAt > handOver) this.lane.retime(handOver, now);
  }

  /**
   * Timeline replay (docs/design-notes.md, "Timeline replay"): a command's data effect now (a
   * wave's MACs run whole, fills, slides), as its completion would leave the register files, with
   * no time passing and no completion posted. The array must be idle (nothing running). Counters
   * move too; the replay sets them to their recorded values afterwards.
   */
  applyNow(c: PeArrayCommand): void {
    if (this.waves.running || this.lane.size > 0 || this.shadowLane.size > 0) throw new InvariantError(this.name, `command ${c.id} replayed while a command is running`);
    const phase = this.stalls.phase;
    if (c.op === "wave") this.startCommand(c, 0);
    this.completeCommand(c);
    this.stalls.phase = phase;
  }

  /** Timeline replay: a drain's read of `m.box` of `m.part` in the PEs of `m.pes`, now (PE-major, as {@link PeReadData}). */
  readNow(m: Omit<PeRead, "id">): Payload {
    if (this.waves.running || this.lane.size > 0 || this.shadowLane.size > 0) throw new InvariantError(this.name, "a drain replayed while a command is running");
    return this.moves.read(m);
  }

  /** Timeline replay: a register-file write or a link move from the network, applied now. */
  applyFromNoc(m: NocToPe): void {
    if (m.op === "read") throw new InvariantError(this.name, `a read of ${m.part} (a drain) in a replayed timeline`);
    this.applyNoc(m);
  }

  /**
   * Timeline replay of a pipelined program: the running wave command and its phase, when it is
   * all the array holds (nothing queued, no shadow fill, no completion due, nothing on its way in
   * or out) and its completion has not been moved for a chained successor; else undefined.
   */
  steadyWave(): { readonly cmd: PeWaveCommand; readonly phase: Phase } | undefined {
    if (this.lane.size !== 1 || this.shadowLane.size > 0 || this.dones.length > 0 || this.outbox.size > 0) return undefined;
    if (this.cmd.pending > 0 || this.fromNoc.pending > 0 || this.waitReason.pending > 0) return undefined;
    const c = this.lane.current;
    if (!c || c.op !== "wave" || !this.waves.running || this.lane.doneAt !== this.stalls.phase.end - 1) return undefined;
    return { cmd: c, phase: this.stalls.phase };
  }

  /**
   * Timeline replay of a pipelined program: the running wave's effect now (its remaining MACs run
   * and it is counted, as at its completion), and the array is left idle; no completion is
   * posted (the replay hands its transaction to the next wave: {@link adoptWave}).
   * @throws InvariantError when {@link steadyWave} does not hold.
   */
  finishWave(now: number): void {
    if (!this.steadyWave()) throw new InvariantError(this.name, "a replayed timeline finishes a wave the array is not running alone");
    this.waves.complete();
    this.lane.abandon(now);
  }

  /**
   * Timeline replay of a pipelined program: runs wave command `c` as if it had started in cycle
   * `start` (its MACs still to execute, lazily, as any running wave's); returns its phase. The
   * array must be idle.
   * @throws InvariantError when it is not, or the wave would have completed before `now`.
   */
  adoptWave(c: PeWaveCommand, start: number, now: number): Phase {
    if (!this.replayIdle()) throw new InvariantError(this.name, `wave ${c.id} adopted while the array holds work`);
    const phase = this.waves.start(c, start);
    this.stalls.phase = phase;
    this.lane.adopt(c, start, phase.end - 1, now);
    return phase;
  }

  /** Whether nothing is running, queued or on its way in (a timeline may be replayed). */
  replayIdle(): boolean {
    return !this.busy() && !this.waves.running && this.waitReason.pending === 0;
  }

  /** What the idle PE-cycles are charged to now (the last wait reason received). */
  get waitingFor(): WaitReason {
    return this.stalls.waitingFor;
  }

  /** A command's effect on the register files (and its counts), at its completion. */
  private completeCommand(c: PeArrayCommand): void {
    if (c.op === "slide") this.moves.slide(c);
    else if (c.op === "fill") this.moves.fill(c);
    else this.waves.complete();
  }

  /**
   * Whether a message from the network can meet the running wave's registers: a write or read of
   * entries the wave touches in PEs it covers, a partial-sum reduction likewise (it reads and
   * writes its box in its own PEs' lines only), and every shift (it writes the neighbours).
   */
  private meetsWave(m: NocToPe): boolean {
    if (m.op !== "link") return this.waves.meets(m.part, m.pes, m.box);
    const k = m.link;
    return k.kind === "reduce" ? this.waves.meets(k.part, k.pes, k.box) : true;
  }

  /** A message from the network, applied now (a drain read answers on `toNoc`). */
  private applyNoc(m: NocToPe): void {
    if (m.op === "write") this.moves.write(m);
    else if (m.op === "read") this.outbox.post(this.toNoc, { id: m.id, payload: this.moves.read(m) });
    else this.moves.link(m.link);
  }

  override interact(now: number): void {
    // The running wave's MACs up to now run before a message that can meet them (lazy execution
    // must see the registers as they were in its own cycles); others leave it to run whole.
    for (let m = this.fromNoc.pop(now); m; m = this.fromNoc.pop(now)) {
      if (this.meetsWave(m)) this.waves.catchUp(now);
      this.applyNoc(m);
    }
    for (let r = this.waitReason.pop(now); r !== undefined; r = this.waitReason.pop(now)) this.stalls.post(r);
    this.lane.interact(now);
    this.shadowLane.interact(now);
    while (this.dones.length > 0 && this.dones[0]!.at === now) this.outbox.post(this.done, this.dones.shift()!.msg);
    for (let c = this.cmd.pop(now); c; c = this.cmd.pop(now)) {
      if (c.op === "fill" && c.shadow) {
        this.shadowLane.push(c);
        this.shadowLane.interact(now);
        continue;
      }
      this.chain(c, now);
      this.lane.push(c);
      this.lane.interact(now);
    }
    this.outbox.flush(now);
  }

  override progress(now: number, n: number): void {
    this.stalls.charge(now, n);
    if (this.eager && this.waves.running) this.waves.catchUp(now + n);
  }

  override horizon(now: number): number {
    if (this.fromNoc.ready(now) || this.waitReason.ready(now) || this.cmd.ready(now)) return 0;
    const done = this.dones.length > 0 ? this.dones[0]!.at - now : Infinity;
    return Math.min(this.lane.horizon(now), this.shadowLane.horizon(now), this.outbox.horizon(now), done);
  }

  override busy(): boolean {
    return this.lane.size > 0 || this.shadowLane.size > 0 || this.dones.length > 0 || this.outbox.size > 0 || this.cmd.pending > 0 || this.fromNoc.pending > 0;
  }

  override status(): string {
    return [this.waves.status(), this.lane.status(), this.shadowLane.size > 0 ? this.shadowLane.status() : "", this.outbox.status(), `waiting for: ${this.stalls.waitingFor}`].filter(Boolean).join("; ");
  }
}
