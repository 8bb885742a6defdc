/**
 * The PE array's running wave command: starts it (compiles each part's {@link MacWave} once,
 * checks its rectangles, computes its issue cycles and stream skew), executes its MACs in the
 * register files as time reaches them, and counts them at its completion.
 *
 * Timing (pe-array.ts header): a part of T MACs per PE issues for ceil(T / m) cycles, m = the
 * array's MACs per issue; the command issues for its longest part, then drains its pipeline and
 * its stream skew ({@link WaveStream}). The MACs of issue cycle k are those of flattened indices
 * [k m, (k + 1) m). Reference mode runs each issue cycle's MACs in that cycle (catchUp from
 * `progress`); fast mode runs them lazily, at the next event that can observe the register files,
 * whole in the WebAssembly kernels when nothing can have changed the operands in between.
 *
 * Counts: `mac` and the register-file reads and psum read/writes of every part at completion
 * (wave.ts's convention); `forward.<part>` and `inject.<part>` for streamed operands when the
 * command starts. Internal to the array (not exported from the package).
 */
import { boxExtent, InvariantError, type Box, type Counter, type Engine } from "../core/index.js";
import type { PeArraySpec } from "../arch/spec.js";
import type { RegFile, RfPartition } from "../memory/regfile.js";
import type { PeWaveCommand, WaveStream } from "./commands.js";
import { checkRect, rectSize, rectsOverlap, type PeRect } from "./pe-set.js";
import type { Phase } from "./stall-account.js";
import { compileWave, runWave, runWaveChecked, type CompiledWave, type MacWave } from "./wave.js";
import type { WaveKernels } from "./wave-kernels.js";

/** One wave of a command, compiled, with how far its MACs have been executed. */
interface WavePart {
  readonly cw: CompiledWave;
  readonly issueCycles: number;
  executed: number;
}

/** The running wave command. */
interface ActiveWave {
  readonly parts: readonly WavePart[];
  readonly start: number;
  /** The longest part's issue cycles. */
  readonly issueCycles: number;
}

/** What a {@link WaveRun} works on: the array's name, engine, geometry and register files. */
export interface WaveRunArray {
  readonly name: string;
  readonly engine: Engine;
  readonly spec: PeArraySpec;
  readonly size: number;
  readonly rf: RegFile;
  readonly kernels: WaveKernels | undefined;
  /** MACs one PE issues per cycle. */
  readonly macsPerIssue: number;
}

/** The counters a {@link WaveRun} adds to: MACs, and streamed words forwarded and injected. */
export interface WaveRunCounters {
  readonly macs: Counter;
  readonly forwarded: { readonly input: Counter; readonly weight: Counter };
  readonly injected: { readonly input: Counter; readonly weight: Counter };
}

/** The wave command running in a PE array, if any (see the file header). */
export class WaveRun {
  /** Compiled tables of frozen waves, by identity. */
  private readonly compiled = new WeakMap<MacWave, CompiledWave>();
  /** Per PE: the part covering it (checkDisjoint's scratch). */
  private readonly owner: Int32Array;
  private active: ActiveWave | undefined;

  constructor(
    private readonly array: WaveRunArray,
    private readonly counters: WaveRunCounters,
    /** Reference mode: MACs run in their own issue cycle, in JavaScript. */
    private readonly eager: boolean,
  ) {
    this.owner = new Int32Array(array.size);
  }

  /** Whether a wave command is running. */
  get running(): boolean {
    return this.active !== undefined;
  }

  /** Starts wave command `c` in cycle `now`; returns its phase (its cycles, for the stall accounting). */
  start(c: PeWaveCommand, now: number): Phase {
    const { name, spec, rf, engine, macsPerIssue } = this.array;
    const waves = c.alongside && c.alongside.length > 0 ? [c.wave, ...c.alongside] : [c.wave];
    if (waves.length > 1) this.checkDisjoint(waves);
    const parts: WavePart[] = [];
    let issueCycles = 0;
    for (const wave of waves) {
      checkRect(name, wave.pes, spec.rows, spec.cols);
      // A driver that sends the same (frozen) wave again reuses its compiled tables.
      let cw = this.compiled.get(wave);
      if (!cw) {
        cw = compileWave(name, wave, rf, engine.checked);
        if (Object.isFrozen(wave)) this.compiled.set(wave, cw);
      }
      const issue = Math.ceil(cw.macs / macsPerIssue);
      parts.push({ cw, issueCycles: issue, executed: 0 });
      issueCycles = Math.max(issueCycles, issue);
    }
    const skew = (c.streams && c.streams.length > 0) || c.psumFlow ? this.streamSkew(waves, parts, c.streams ?? [], c.psumFlow) : 0;
    this.active = { parts, start: now, issueCycles };
    return {
      start: now,
      issueEnd: now + issueCycles,
      end: now + issueCycles + spec.pipelineLatency + skew,
      parts: parts.map((p) => ({ issueEnd: now + p.issueCycles, pes: rectSize(p.cw.wave.pes) })),
    };
  }

  /**
   * Whether register writes (or reads) of `box` of `part` in the PEs of `pes` can meet the
   * running wave: some part of it covers one of those PEs and touches an entry of the box's
   * extent (its {@link CompiledWave.reach}). When they cannot, the wave's lazy execution need not
   * catch up first (a delivery into the half of a double-buffered partition the wave does not
   * read), so it can still run whole.
   */
  meets(part: RfPartition, pes: PeRect, box: Box): boolean {
    const a = this.active;
    if (!a) return false;
    const { min, max } = boxExtent(box);
    for (const { cw } of a.parts) {
      const r = cw.reach[part];
      if (min <= r.max && max >= r.min && rectsOverlap(pes, cw.wave.pes)) return true;
    }
    return false;
  }

  /** Runs the MACs of the running wave's issue cycles before `cycle`. */
  catchUp(cycle: number): void {
    const a = this.active;
    if (!a) return;
    const k = Math.min(a.issueCycles, cycle - a.start);
    if (k > 0) this.execute(k);
  }

  /** Completes the running wave: runs its remaining MACs and counts them all. */
  complete(): void {
    const a = this.active!;
    this.execute(a.issueCycles);
    const rfc = this.array.rf.counters;
    for (const { cw } of a.parts) {
      const pes = rectSize(cw.wave.pes);
      this.counters.macs.value += cw.macs * pes;
      rfc.input.read.value += cw.macs * pes;
      rfc.weight.read.value += cw.macs * pes;
      rfc.psum.read.value += cw.psumRuns * pes;
      rfc.psum.write.value += cw.psumRuns * pes;
    }
    this.active = undefined;
  }

  /** The running wave, for the array's status ("" when none). */
  status(): string {
    const a = this.active;
    return a ? `wave of ${a.parts.map((p) => p.cw.macs).join(" | ")} MACs/PE started in cycle ${a.start}` : "";
  }

  /** The skew of a streamed command (its farthest PE's delay), counting the forwarded words ({@link WaveStream}). */
  private streamSkew(waves: readonly MacWave[], parts: readonly WavePart[], streams: readonly WaveStream[], psumFlow: "right" | "down" | undefined): number {
    const { spec } = this.array;
    const right = psumFlow === "right" || streams.some((s) => s.flow === "right");
    const down = psumFlow === "down" || streams.some((s) => s.flow === "down");
    let skew = 0;
    for (const w of waves) skew = Math.max(skew, (right ? w.pes.col0 + w.pes.cols - 1 : 0) + (down ? w.pes.row0 + w.pes.rows - 1 : 0));
    for (const s of streams) {
      const horizontal = s.flow === "right";
      const lines = horizontal ? spec.rows : spec.cols;
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
      this.counters.forwarded[s.part].value += words;
      this.counters.injected[s.part].value += injected;
    }
    return skew;
  }

  /** @throws InvariantError when two waves of one command share a PE (a driver bug). */
  private checkDisjoint(waves: readonly MacWave[]): void {
    const { name, spec, size } = this.array;
    const owner = this.owner.fill(-1);
    waves.forEach((w, k) => {
      for (let i = 0; i < w.pes.rows; i++) {
        for (let j = 0; j < w.pes.cols; j++) {
          const p = (w.pes.row0 + i) * spec.cols + w.pes.col0 + j;
          if (p < 0 || p >= size) continue; // checkRect reports it
          if (owner[p]! >= 0) throw new InvariantError(name, `waves ${owner[p]} and ${k} of one command both cover PE ${p}`);
          owner[p] = k;
        }
      }
    });
  }

  /** Executes the MACs of the running wave's first `cycles` issue cycles (every part). */
  private execute(cycles: number): void {
    const a = this.active!;
    const { name, engine, rf, spec, kernels, macsPerIssue } = this.array;
    for (let i = 0; i < a.parts.length; i++) {
      const part = a.parts[i]!;
      const target = Math.min(part.cw.macs, cycles * macsPerIssue);
      if (target <= part.executed) continue;
      if (engine.checked) {
        runWaveChecked(name, part.cw, rf, spec.cols, part.executed, target, (t) => engine.formatTag(t));
      } else {
        // The fastest order only for a wave run whole (nothing can have changed its operands in
        // between); a wave run in pieces keeps the mapping's order, so every MAC sees the
        // registers of its own cycle.
        const whole = part.executed === 0 && target === part.cw.macs;
        if (whole) {
          if (!kernels?.run(part.cw, rf, spec.cols)) runWave(part.cw, rf, spec.cols, 0, target, part.cw.exec);
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
    const { rf, spec, kernels } = this.array;
    if (this.eager || !kernels?.runPiece(cw, cw.order, t0, t1, rf, spec.cols)) runWave(cw, rf, spec.cols, t0, t1, cw.order);
  }
}
