/**
 * PeArray: `rows x cols` processing elements, each a MAC unit with its register file.
 *
 * Modeled: every PE owns a {@link RegFile} (input, weight and psum partitions) and one MAC unit
 * completing up to `m = min(macsPerCycle, floor(rf.readPorts / 2))` MACs per cycle (a MAC reads
 * two operands), int32 wrap-around accumulation. The driver sends MAC waves ({@link MacWave}: one
 * loop nest run by every PE of a rectangle; one command may carry several waves on disjoint
 * rectangles, which start together) and local fills on `cmd`; commands run one after the other. Data arrive from the network on `fromNoc` (register-file writes, drain reads, neighbour
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
 * them lazily, in bulk, at the next event that can observe the register files (an arrival from
 * the network, the wave's completion). Either way every MAC sees the register contents of its own
 * cycle, so both modes produce the same values (tested).
 *
 * Stall attribution (stall.ts): each PE-cycle is busy (an issue cycle of a wave covering the PE),
 * `unmapped` (an issue cycle of a wave command in which the PE issues nothing: no wave covers it,
 * or its wave is shorter and done), `pipeline` (a command's last L cycles), or
 * idle for the reason the driver last posted on `waitReason`.
 *
 * Not modeled: a shared RF port budget between MACs, deliveries and write-backs; per-PE
 * independent control (all PEs of a wave run the same nest, as in Eyeriss's SIMD-like control);
 * clock gating. Source: Eyeriss PE (Chen et al., JSSC 2017, Sec. IV); Gemmini's PE registers its
 * operands (`in_a` -> `out_a`), here the neighbour links of the Noc.
 */
import {
  boxSize,
  Component,
  ConfigError,
  InvariantError,
  Lane,
  Outbox,
  type Box,
  type Counter,
  type Engine,
  type InPort,
  type OutPort,
  type Payload,
} from "../core/index.js";
import type { PeArraySpec, RegFileSpec } from "../arch/spec.js";
import { checkArraySpec } from "../arch/schema.js";
import { RegFile, type RegFileLayout, type RfPartition } from "../memory/regfile.js";
import { checkRect, deliveryBoxes, peTagExpect, rectSize, type PeRect, type PeTagExpect } from "./pe-set.js";
import { isWaitReason, STALL_CAUSES, type StallCause, type WaitReason } from "./stall.js";
import { compileWave, runWave, runWaveChecked, type CompiledWave, type MacWave } from "./wave.js";
import { WaveKernels } from "./wave-kernels.js";

/**
 * Run a MAC wave, and optionally more waves on disjoint rectangles at the same time: one
 * instruction stream for the array, every PE starting together (as in Eyeriss's SIMD-like
 * control), a PE whose part has fewer MACs (an edge tile) idling once it has issued them. The
 * command completes when the longest part has issued and drained.
 */
export interface PeWaveCommand {
  readonly op: "wave";
  readonly id: number;
  readonly wave: MacWave;
  /** Waves run alongside `wave`, on rectangles disjoint from it and from each other. */
  readonly alongside?: readonly MacWave[];
  /**
   * Operands that stream through the PEs (a systolic array): each MAC step takes a new word of
   * the part, which entered at the array's edge (left for `right`, top for `down`) and was
   * forwarded PE to PE over the links, one cycle per hop. See {@link WaveStream}.
   */
  readonly streams?: readonly WaveStream[];
  /**
   * The direction in which the partial sums of a streamed output flow during the wave (a
   * systolic array reducing them as they pass PE to PE): adds the hops of that direction to the
   * skew, as a stream does; the reduction itself is a link `reduce` marked `inFlight`.
   */
  readonly psumFlow?: "right" | "down";
}

/**
 * A streamed operand of a wave. Timing: the edge feeders skew the streams so that PE (r, c)
 * runs its MACs h cycles after the command starts, h = c when some stream flows right plus r when
 * some flows down (SCALE-Sim's fill); the command lasts as much longer as its farthest PE's h.
 * Counts: in each line (a row for `right`, a column for `down`) the stream crosses one link per
 * PE it passes: `forward.<part>` adds, per line, (the line's MAC steps per PE) x (hops to its
 * farthest PE of the command), and `inject.<part>` the line's MAC steps (the words that enter
 * the array at its edge: what crosses the GBuf/register boundary). The words reach the PEs' registers through the Noc's deliveries
 * (counted there, and as register writes); the MAC reads them from there.
 */
export interface WaveStream {
  readonly part: "input" | "weight";
  readonly flow: "right" | "down";
}

/** Set `box` of partition `part` to `value` in every PE of `pes` (no network transfer: e.g. psum init, padding). */
export interface PeFill {
  readonly part: RfPartition;
  readonly pes: PeRect;
  readonly box: Box;
  readonly value: number;
  /** The tags to give the words (required in checked mode), strides per box dimension. */
  readonly tags?: PeTagExpect;
}

/**
 * A fill, and optionally more fills done at the same time: each PE writes its fills' words
 * through its own write ports, so the command takes as long as the busiest PE.
 */
export interface PeFillCommand extends PeFill {
  readonly op: "fill";
  readonly id: number;
  /** Fills done alongside this one (any rectangles and boxes). */
  readonly alongside?: readonly PeFill[];
}

/**
 * Slide a window within each PE's register file: the words of `src` of partition `part` are from
 * now on addressed as `dst` (an input tile whose next position overlaps it keeps the overlap, its
 * halo). The hardware this models re-addresses the words (a circular buffer: a base-pointer
 * update, one cycle, no register access); the simulator moves them so that MAC waves keep affine
 * addresses, and counts them in `rf.slide.<part>`, not as reads or writes.
 */
export interface PeSlide {
  readonly part: RfPartition;
  readonly pes: PeRect;
  readonly src: Box;
  readonly dst: Box;
}

/** A slide, and optionally more slides done in the same cycle (other PEs or partitions). */
export interface PeSlideCommand extends PeSlide {
  readonly op: "slide";
  readonly id: number;
  readonly alongside?: readonly PeSlide[];
}

/** A command from the driver. */
export type PeArrayCommand = PeWaveCommand | PeFillCommand | PeSlideCommand;

/** Completion of a command. */
export interface PeArrayDone {
  readonly op: "wave" | "fill" | "slide";
  readonly id: number;
  readonly completedAt: number;
}

/** From the network: write `box` of `part` in every PE of `pes` (one payload for all, or one per PE). */
export interface PeWrite {
  readonly op: "write";
  readonly part: RfPartition;
  readonly pes: PeRect;
  readonly box: Box;
  readonly payload: Payload;
  /** When true the payload holds one box per PE, in rectangle order. */
  readonly perPe: boolean;
  /** When true the payload holds one box per row of the rectangle (each for that row's PEs). */
  readonly perRow?: boolean;
  /** When true the payload holds one box per column of the rectangle (each for that column's PEs). */
  readonly perCol?: boolean;
  /** Per PE of the rectangle (row-major): the payload box it receives, or -1 for none. */
  readonly boxIndex?: Int32Array;
}

/** From the network: read `box` of `part` from every PE of `pes`; answered on `toNoc`. */
export interface PeRead {
  readonly op: "read";
  readonly id: number;
  readonly part: RfPartition;
  readonly pes: PeRect;
  readonly box: Box;
  readonly expect?: PeTagExpect;
}

/** A compass direction on the array: north = row - 1, south = row + 1, west = col - 1, east = col + 1. */
export type Direction = "north" | "south" | "east" | "west";

/** Neighbour-link operations (timed and counted by the Noc, applied by the array). */
export type LinkOp =
  | {
      /** Every PE of `pes` sends `src` to its neighbour in `dir`, which stores it in `dst`. */
      readonly kind: "shift";
      readonly part: RfPartition;
      readonly pes: PeRect;
      readonly dir: Direction;
      readonly src: Box;
      readonly dst: Box;
      /** Tags the senders' words must carry (checked mode). */
      readonly expect?: PeTagExpect;
    }
  | {
      /**
       * Partial-sum reduction along `dir`: in each line of `pes` (a column for north/south, a row
       * for east/west) each PE, starting at the far end, adds its `box` into the next PE's `box`;
       * the PE at the `dir` end ends up with the sum (int32 wrap-around).
       */
      readonly kind: "reduce";
      readonly part: RfPartition;
      readonly pes: PeRect;
      readonly dir: Direction;
      readonly box: Box;
      readonly expect?: PeTagExpect;
      /**
       * The partial sums of a streamed output (a systolic array), which flowed along the line
       * during the wave that computed them (that wave's skew charged their hops): the link lane
       * charges one cycle, the last hop, and counts the same words and register accesses.
       */
      readonly inFlight?: boolean;
    };

/** From the network: apply a link operation. */
export interface PeLink {
  readonly op: "link";
  readonly link: LinkOp;
}

/** What the network sends to the array. */
export type NocToPe = PeWrite | PeRead | PeLink;

/** The array's answer to a {@link PeRead}: dense, PE-major (rectangle order), box order within a PE. */
export interface PeReadData {
  readonly id: number;
  readonly payload: Payload;
}

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

interface Phase {
  readonly start: number;
  /** End of the longest part's issue cycles. */
  readonly issueEnd: number;
  readonly end: number;
  /** Per part: end of its issue cycles and its PEs. */
  readonly parts: readonly { readonly issueEnd: number; readonly pes: number }[];
}

interface WavePart {
  readonly cw: CompiledWave;
  readonly issueCycles: number;
  executed: number;
}

interface ActiveWave {
  readonly parts: readonly WavePart[];
  readonly start: number;
  /** The longest part's issue cycles. */
  readonly issueCycles: number;
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
  /** Compiled tables of frozen waves, by identity. */
  private readonly compiled = new WeakMap<MacWave, CompiledWave>();
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
  private readonly outbox = new Outbox();
  private active: ActiveWave | undefined;
  private phase: Phase = { start: 0, issueEnd: 0, end: 0, parts: [] };
  private reason: WaitReason = "control";
  private readonly macs: Counter;
  private readonly forwarded: { readonly input: Counter; readonly weight: Counter };
  private readonly injected: { readonly input: Counter; readonly weight: Counter };
  private readonly busyCycles: Counter;
  private readonly idle: Record<StallCause, Counter>;
  private readonly eager: boolean;
  /** Per-PE scratch: PE lists and offsets of bulk register-file operations, wave ownership (checkDisjoint). */
  private readonly scratch: { readonly pes: Int32Array; readonly from: Int32Array; readonly owner: Int32Array };
  /** Per-PE scratch of unchecked link operations: senders and receivers (one pair per shift or hop). */
  private readonly linkScratch: { readonly from: Int32Array; readonly to: Int32Array };

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
    this.scratch = { pes: new Int32Array(this.size), from: new Int32Array(this.size), owner: new Int32Array(this.size) };
    this.linkScratch = { from: new Int32Array(this.size), to: new Int32Array(this.size) };
    this.cmd = this.inPort<PeArrayCommand>("cmd");
    this.done = this.outPort<PeArrayDone>("done");
    this.fromNoc = this.inPort<NocToPe>("fromNoc");
    this.toNoc = this.outPort<PeReadData>("toNoc");
    this.waitReason = this.inPort<WaitReason>("waitReason");
    this.macs = this.counter("mac", "MACs", "multiply-accumulates executed (all PEs)");
    this.forwarded = {
      input: this.counter("forward.input", "words", "input words forwarded PE to PE over the links (streamed operands)"),
      weight: this.counter("forward.weight", "words", "weight words forwarded PE to PE over the links (streamed operands)"),
    };
    this.injected = {
      input: this.counter("inject.input", "words", "input words entering the array at its edge (streamed operands: one per line and MAC step)"),
      weight: this.counter("inject.weight", "words", "weight words entering the array at its edge (streamed operands: one per line and MAC step)"),
    };
    this.busyCycles = this.counter("busy", "PE-cycles", "PE-cycles in which the PE issued at least one MAC");
    const idle = {} as Record<StallCause, Counter>;
    for (const c of STALL_CAUSES) idle[c] = this.counter(`idle.${c}`, "PE-cycles", `idle PE-cycles attributed to ${c}`);
    this.idle = idle;
    this.lane = new Lane<PeArrayCommand>("cmd lane", (c, now) => this.startCommand(c, now), (c, now) => this.finishCommand(c, now));
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

  private startCommand(c: PeArrayCommand, now: number): number {
    if (c.op === "slide") {
      for (const sl of [c, ...(c.alongside ?? [])]) {
        checkRect(this.name, sl.pes, this.spec.rows, this.spec.cols);
        if (boxSize(sl.dst.shape) !== boxSize(sl.src.shape)) throw new InvariantError(this.name, "slide: src and dst boxes differ in size");
      }
      return 1;
    }
    if (c.op === "fill") {
      if (!c.alongside || c.alongside.length === 0) {
        checkRect(this.name, c.pes, this.spec.rows, this.spec.cols);
        return Math.ceil(boxSize(c.box.shape) / this.rf.spec.writePorts);
      }
      // Per PE, the cycles of its own fills; the command lasts as long as the busiest PE.
      const cycles = new Float64Array(this.size);
      let longest = 1;
      for (const f of [c, ...c.alongside]) {
        checkRect(this.name, f.pes, this.spec.rows, this.spec.cols);
        const t = Math.ceil(boxSize(f.box.shape) / this.rf.spec.writePorts);
        this.forEachPe(f.pes, (p) => {
          cycles[p] = cycles[p]! + t;
          longest = Math.max(longest, cycles[p]!);
        });
      }
      return longest;
    }
    const waves = c.alongside && c.alongside.length > 0 ? [c.wave, ...c.alongside] : [c.wave];
    if (waves.length > 1) this.checkDisjoint(waves);
    const parts: WavePart[] = [];
    let issueCycles = 0;
    for (const wave of waves) {
      checkRect(this.name, wave.pes, this.spec.rows, this.spec.cols);
      // A driver that sends the same (frozen) wave again reuses its compiled tables.
      let cw = this.compiled.get(wave);
      if (!cw) {
        cw = compileWave(this.name, wave, this.rf, this.engine.checked);
        if (Object.isFrozen(wave)) this.compiled.set(wave, cw);
      }
      const issue = Math.ceil(cw.macs / this.macsPerIssue);
      parts.push({ cw, issueCycles: issue, executed: 0 });
      issueCycles = Math.max(issueCycles, issue);
    }
    const skew = (c.streams && c.streams.length > 0) || c.psumFlow ? this.streamSkew(waves, parts, c.streams ?? [], c.psumFlow) : 0;
    this.active = { parts, start: now, issueCycles };
    this.phase = {
      start: now,
      issueEnd: now + issueCycles,
      end: now + issueCycles + this.spec.pipelineLatency + skew,
      parts: parts.map((p) => ({ issueEnd: now + p.issueCycles, pes: rectSize(p.cw.wave.pes) })),
    };
    return issueCycles + this.spec.pipelineLatency + skew;
  }

  /** The skew of a streamed command (its farthest PE's delay), counting the forwarded words ({@link WaveStream}). */
  private streamSkew(waves: readonly MacWave[], parts: readonly WavePart[], streams: readonly WaveStream[], psumFlow: "right" | "down" | undefined): number {
    const right = psumFlow === "right" || streams.some((s) => s.flow === "right");
    const down = psumFlow === "down" || streams.some((s) => s.flow === "down");
    let skew = 0;
    for (const w of waves) skew = Math.max(skew, (right ? w.pes.col0 + w.pes.cols - 1 : 0) + (down ? w.pes.row0 + w.pes.rows - 1 : 0));
    for (const s of streams) {
      const horizontal = s.flow === "right";
      const lines = horizontal ? this.spec.rows : this.spec.cols;
      const hops = new Float64Array(lines);
      const steps = new Float64Array(lines);
      waves.forEach((w, k) => {
        const first = horizontal ? w.pes.row0 : w.pes.col0;
        const n = horizontal ? w.pes.rows : w.pes.cols;
        const far = horizontal ? w.pes.col0 + w.pes.cols - 1 : w.pes.row0 + w.pes.rows - 1;
        for (let l = first; l < first + n; l++) {
          hops[l] = Math.max(hops[l]!, far);
          steps[l] = Math.max(steps[l]!, parts[k]!.cw.macs);
        }
      });
      let words = 0;
      let injected = 0;
      for (let l = 0; l < lines; l++) {
        words += hops[l]! * steps[l]!;
        injected += steps[l]!;
      }
      this.forwarded[s.part].value += words;
      this.injected[s.part].value += injected;
    }
    return skew;
  }

  /** @throws InvariantError when two waves of one command share a PE (a driver bug). */
  private checkDisjoint(waves: readonly MacWave[]): void {
    const owner = this.scratch.owner.fill(-1);
    waves.forEach((w, k) => {
      for (let i = 0; i < w.pes.rows; i++) {
        for (let j = 0; j < w.pes.cols; j++) {
          const p = (w.pes.row0 + i) * this.spec.cols + w.pes.col0 + j;
          if (p < 0 || p >= this.size) continue; // checkRect reports it
          if (owner[p]! >= 0) throw new InvariantError(this.name, `waves ${owner[p]} and ${k} of one command both cover PE ${p}`);
          owner[p] = k;
        }
      }
    });
  }

  /** Executes the MACs of the active wave's first `cycles` issue cycles (every part). */
  private execute(cycles: number): void {
    const a = this.active!;
    for (let i = 0; i < a.parts.length; i++) {
      const part = a.parts[i]!;
      const target = Math.min(part.cw.macs, cycles * this.macsPerIssue);
      if (target <= part.executed) continue;
      if (this.engine.checked) {
        runWaveChecked(this.name, part.cw, this.rf, this.spec.cols, part.executed, target, (t) => this.engine.formatTag(t));
      } else {
        // The fastest order only for a wave run whole (nothing can have changed its operands in
        // between); a wave run in pieces keeps the mapping's order, so every MAC sees the
        // registers of its own cycle.
        const whole = part.executed === 0 && target === part.cw.macs;
        if (whole) {
          if (!this.kernels?.run(part.cw, this.rf, this.spec.cols)) runWave(part.cw, this.rf, this.spec.cols, 0, target, part.cw.exec);
        } else {
          this.executePiece(part.cw, part.executed, target);
        }
      }
      part.executed = target;
    }
  }

  /**
   * MACs [t0, t1) of a wave's mapping order (unchecked): in fast mode in the WebAssembly kernels
   * when they take the piece, else (and always in reference mode, which runs every wave one
   * issue cycle at a time and stays the JavaScript oracle) in JavaScript.
   */
  private executePiece(cw: CompiledWave, t0: number, t1: number): void {
    if (this.eager || !this.kernels?.runPiece(cw, cw.order, t0, t1, this.rf, this.spec.cols)) runWave(cw, this.rf, this.spec.cols, t0, t1, cw.order);
  }

  /** Runs the MACs of the active wave's issue cycles before `cycle`. */
  private catchUp(cycle: number): void {
    const a = this.active;
    if (!a) return;
    const k = Math.min(a.issueCycles, cycle - a.start);
    if (k > 0) this.execute(k);
  }

  private finishCommand(c: PeArrayCommand, now: number): void {
    this.completeCommand(c);
    this.outbox.post(this.done, { op: c.op, id: c.id, completedAt: now });
  }

  /**
   * Timeline replay (docs/design-notes.md, "Timeline replay"): a command's data effect now (a
   * wave's MACs run whole, fills, slides), as its completion would leave the register files, with
   * no time passing and no completion posted. The array must be idle (nothing running). Counters
   * move too; the replay sets them to their recorded values afterwards.
   */
  applyNow(c: PeArrayCommand): void {
    if (this.active || this.lane.size > 0) throw new InvariantError(this.name, `command ${c.id} replayed while a command is running`);
    const phase = this.phase;
    if (c.op === "wave") this.startCommand(c, 0);
    this.completeCommand(c);
    this.phase = phase;
  }

  /** Timeline replay: a register-file write or a link move from the network, applied now. */
  applyFromNoc(m: NocToPe): void {
    if (m.op === "read") throw new InvariantError(this.name, `a read of ${m.part} (a drain) in a replayed timeline`);
    this.applyNoc(m, 0);
  }

  /** Whether nothing is running, queued or on its way in (a timeline may be replayed). */
  replayIdle(): boolean {
    return !this.busy() && this.active === undefined && this.waitReason.pending === 0;
  }

  /** What the idle PE-cycles are charged to now (the last wait reason received). */
  get waitingFor(): WaitReason {
    return this.reason;
  }

  /** A command's effect on the register files (and its counts), at its completion. */
  private completeCommand(c: PeArrayCommand): void {
    if (c.op === "slide") {
      for (const sl of [c, ...(c.alongside ?? [])]) this.rf.slideMany(sl.part, sl.src, sl.dst, this.scratch.pes, this.listPes(sl.pes));
    } else if (c.op === "fill") {
      for (const f of c.alongside && c.alongside.length > 0 ? [c, ...c.alongside] : [c]) {
        const n = boxSize(f.box.shape);
        if (this.engine.checked) {
          this.forEachPe(f.pes, (p, i, j) => this.rf.fill(f.part, p, f.box, f.value, f.tags ? peTagExpect(f.tags, i, j, f.pes.cols) : undefined, n));
        } else {
          this.rf.fillMany(f.part, f.box, f.value, n, this.scratch.pes, this.listPes(f.pes));
        }
      }
    } else {
      const a = this.active!;
      this.execute(a.issueCycles);
      const rfc = this.rf.counters;
      for (const { cw } of a.parts) {
        const pes = rectSize(cw.wave.pes);
        this.macs.value += cw.macs * pes;
        rfc.input.read.value += cw.macs * pes;
        rfc.weight.read.value += cw.macs * pes;
        rfc.psum.read.value += cw.psumRuns * pes;
        rfc.psum.write.value += cw.psumRuns * pes;
      }
      this.active = undefined;
    }
  }

  /** Writes the flat indices of the PEs of `r`, in rectangle order, into `scratch.pes`; returns their count. */
  private listPes(r: PeRect): number {
    let k = 0;
    for (let i = 0; i < r.rows; i++) for (let j = 0; j < r.cols; j++) this.scratch.pes[k++] = (r.row0 + i) * this.spec.cols + r.col0 + j;
    return k;
  }

  private forEachPe(r: PeRect, f: (p: number, i: number, j: number) => void): void {
    for (let i = 0; i < r.rows; i++) for (let j = 0; j < r.cols; j++) f((r.row0 + i) * this.spec.cols + r.col0 + j, i, j);
  }

  private applyNoc(m: NocToPe, now: number): void {
    if (m.op === "write") {
      checkRect(this.name, m.pes, this.spec.rows, this.spec.cols);
      const n = boxSize(m.box.shape);
      const need = n * deliveryBoxes(m);
      if (m.payload.data.length !== need) throw new InvariantError(this.name, `write of ${m.part}: payload has ${m.payload.data.length} words, needs ${need}`);
      const { pes, from } = this.scratch;
      let k = 0;
      for (let i = 0; i < m.pes.rows; i++) {
        for (let j = 0; j < m.pes.cols; j++, k++) {
          const b = m.boxIndex ? m.boxIndex[k]! : m.perPe ? k : m.perRow ? i : m.perCol ? j : 0;
          pes[k] = (m.pes.row0 + i) * this.spec.cols + m.pes.col0 + j;
          from[k] = b >= 0 ? b * n : -1;
        }
      }
      this.rf.writeMany(m.part, m.box, m.payload, n, pes, from, k);
    } else if (m.op === "read") {
      checkRect(this.name, m.pes, this.spec.rows, this.spec.cols);
      const n = boxSize(m.box.shape);
      const total = n * rectSize(m.pes);
      const data = new Int32Array(total);
      const tags = this.engine.checked ? new Float64Array(total) : undefined;
      if (tags) {
        let k = 0;
        this.forEachPe(m.pes, (p, i, j) => {
          this.rf.read(m.part, p, m.box, data, tags, k * n, n, m.expect ? peTagExpect(m.expect, i, j, m.pes.cols) : undefined);
          k++;
        });
      } else {
        this.rf.readMany(m.part, m.box, data, this.scratch.pes, this.listPes(m.pes));
      }
      this.outbox.post(this.toNoc, { id: m.id, payload: tags ? { data, tags } : { data } });
    } else {
      this.applyLink(m.link);
    }
    void now;
  }

  private neighbour(dir: Direction): [number, number] {
    return dir === "north" ? [-1, 0] : dir === "south" ? [1, 0] : dir === "west" ? [0, -1] : [0, 1];
  }

  private applyLink(l: LinkOp): void {
    checkRect(this.name, l.pes, this.spec.rows, this.spec.cols);
    if (l.kind === "shift") this.shiftLink(l);
    else this.reduceLink(l);
  }

  /** A link shift: every PE's `src` words move to its neighbour's `dst` (one hop). */
  private shiftLink(l: LinkOp & { readonly kind: "shift" }): void {
    const [dr, dc] = this.neighbour(l.dir);
    const cols = this.spec.cols;
    if (l.part !== "psum" && this.rf.spec.lines?.[l.part]) throw new InvariantError(this.name, `shift of ${l.part}: a line buffer (rf.lines) is one slice for the whole line; its words cannot move PE to PE`);
    checkRect(this.name, { row0: l.pes.row0 + dr, col0: l.pes.col0 + dc, rows: l.pes.rows, cols: l.pes.cols }, this.spec.rows, this.spec.cols);
    const n = boxSize(l.src.shape);
    if (boxSize(l.dst.shape) !== n) throw new InvariantError(this.name, "link shift: src and dst boxes differ in size");
    const total = n * rectSize(l.pes);
    if (!this.engine.checked) {
      // Every sender's words first, then every receiver's (the same reads and writes as below,
      // each box checked and compiled once).
      const senders = this.scratch.pes;
      const count = this.listPes(l.pes);
      const { to: receivers } = this.linkScratch;
      const at = this.scratch.from;
      for (let k = 0; k < count; k++) {
        receivers[k] = senders[k]! + dr * cols + dc;
        at[k] = k * n;
      }
      const data = new Int32Array(total);
      this.rf.readMany(l.part, l.src, data, senders, count);
      this.rf.writeMany(l.part, l.dst, { data }, n, receivers, at, count);
      return;
    }
    const data = new Int32Array(total);
    const tags = this.engine.checked ? new Float64Array(total) : undefined;
    let k = 0;
    this.forEachPe(l.pes, (p, i, j) => {
      this.rf.read(l.part, p, l.src, data, tags, k * n, n, l.expect ? peTagExpect(l.expect, i, j, l.pes.cols) : undefined);
      k++;
    });
    const payload = tags ? { data, tags } : { data };
    k = 0;
    this.forEachPe(l.pes, (p) => {
      this.rf.write(l.part, p + dr * cols + dc, l.dst, payload, k * n, n);
      k++;
    });
  }

  /** A link reduction: lines along `dir` accumulate from the far end towards the `dir` end. */
  private reduceLink(l: LinkOp & { readonly kind: "reduce" }): void {
    const cols = this.spec.cols;
    const n = boxSize(l.box.shape);
    const alongRows = l.dir === "north" || l.dir === "south";
    const lineLen = alongRows ? l.pes.rows : l.pes.cols;
    const lines = alongRows ? l.pes.cols : l.pes.rows;
    const towardsStart = l.dir === "north" || l.dir === "west";
    if (!this.engine.checked) {
      // The same hops in the same order, each box checked and compiled once.
      const { from, to } = this.linkScratch;
      let k = 0;
      for (let line = 0; line < lines; line++) {
        for (let step = 0; step < lineLen - 1; step++) {
          const f = towardsStart ? lineLen - 1 - step : step;
          const t = towardsStart ? f - 1 : f + 1;
          from[k] = alongRows ? (l.pes.row0 + f) * cols + l.pes.col0 + line : (l.pes.row0 + line) * cols + l.pes.col0 + f;
          to[k] = alongRows ? (l.pes.row0 + t) * cols + l.pes.col0 + line : (l.pes.row0 + line) * cols + l.pes.col0 + t;
          k++;
        }
      }
      this.rf.reduceMany(l.part, l.box, from, to, k);
      return;
    }
    const buf = new Int32Array(n);
    const own = new Int32Array(n);
    const tbuf = this.engine.checked ? new Float64Array(n) : undefined;
    for (let line = 0; line < lines; line++) {
      for (let step = 0; step < lineLen - 1; step++) {
        // position along the line of the sender, counted from the far end
        const from = towardsStart ? lineLen - 1 - step : step;
        const to = towardsStart ? from - 1 : from + 1;
        const at = (pos: number): [number, number] => (alongRows ? [pos, line] : [line, pos]);
        const [fi, fj] = at(from);
        const [ti, tj] = at(to);
        const fp = (l.pes.row0 + fi) * cols + l.pes.col0 + fj;
        const tp = (l.pes.row0 + ti) * cols + l.pes.col0 + tj;
        const ef = l.expect ? peTagExpect(l.expect, fi, fj, l.pes.cols) : undefined;
        const et = l.expect ? peTagExpect(l.expect, ti, tj, l.pes.cols) : undefined;
        this.rf.read(l.part, fp, l.box, buf, tbuf, 0, n, ef);
        // The sum keeps the receiver's tags (the same elements: both were checked).
        const ownTags = tbuf ? new Float64Array(n) : undefined;
        this.rf.read(l.part, tp, l.box, own, ownTags, 0, n, et);
        for (let q = 0; q < n; q++) own[q] = (own[q]! + buf[q]!) | 0;
        this.rf.write(l.part, tp, l.box, ownTags ? { data: own, tags: ownTags } : { data: own }, 0, n);
      }
    }
  }

  override interact(now: number): void {
    if (this.fromNoc.ready(now)) {
      this.catchUp(now);
      for (let m = this.fromNoc.pop(now); m; m = this.fromNoc.pop(now)) this.applyNoc(m, now);
    }
    for (let r = this.waitReason.pop(now); r !== undefined; r = this.waitReason.pop(now)) {
      if (!isWaitReason(r)) throw new InvariantError(this.name, `unknown wait reason ${String(r)}`);
      this.reason = r;
    }
    this.lane.interact(now);
    for (let c = this.cmd.pop(now); c; c = this.cmd.pop(now)) {
      this.lane.push(c);
      this.lane.interact(now);
    }
    this.outbox.flush(now);
  }

  override progress(now: number, n: number): void {
    const end = now + n;
    const ph = this.phase;
    const issue = overlapOf(now, end, ph.start, ph.issueEnd);
    const pipe = overlapOf(now, end, ph.issueEnd, ph.end);
    const other = n - issue - pipe;
    if (issue) {
      let busy = 0;
      for (let i = 0; i < ph.parts.length; i++) busy += overlapOf(now, end, ph.start, ph.parts[i]!.issueEnd) * ph.parts[i]!.pes;
      this.busyCycles.value += busy;
      this.idle.unmapped.value += issue * this.size - busy;
    }
    if (pipe) this.idle.pipeline.value += pipe * this.size;
    if (other) this.idle[this.reason].value += other * this.size;
    if (this.eager && this.active) this.catchUp(end);
  }

  override horizon(now: number): number {
    if (this.fromNoc.ready(now) || this.waitReason.ready(now) || this.cmd.ready(now)) return 0;
    return Math.min(this.lane.horizon(now), this.outbox.horizon(now));
  }

  override busy(): boolean {
    return this.lane.size > 0 || this.outbox.size > 0 || this.cmd.pending > 0 || this.fromNoc.pending > 0;
  }

  override status(): string {
    const a = this.active;
    const w = a ? `wave of ${a.parts.map((p) => p.cw.macs).join(" | ")} MACs/PE started in cycle ${a.start}` : "";
    return [w, this.lane.status(), this.outbox.status(), `waiting for: ${this.reason}`].filter(Boolean).join("; ");
  }
}

/** Cycles of [a, b) within [now, end). */
function overlapOf(now: number, end: number, a: number, b: number): number {
  return Math.max(0, Math.min(end, b) - Math.max(now, a));
}
