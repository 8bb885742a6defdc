/**
 * The iteration planner: what one iteration of the gbuf loops does, given the residency state.
 * It updates the state first (the PEs' tiles move; drained psum tiles leave; new psum, input and
 * weight tiles arrive), then either replays an earlier plan with the same signature (unchecked
 * runs) or runs the passes (psum fills, input and weight deliveries, MAC waves) and keeps the
 * plan for later replays.
 */
import type { MacWave } from "../../pe-array/index.js";
import { startKey } from "../nest.js";
import type { SeqContext } from "./context.js";
import { deliverInputs } from "./deliver-inputs.js";
import { deliverWeights, psumInit } from "./deliver.js";
import { rectangles } from "./geometry.js";
import { dot, inputKeyWeights, OperandKeys } from "./operand-keys.js";
import type { Replayer } from "./replay.js";
import type { Residency } from "./residency.js";
import { Settled } from "./settled.js";
import { SpanHistory } from "./span-history.js";
import { mergeCommands } from "./transfer.js";
import { INPUT_DIMS, iterationPlan, OUTPUT_DIMS, WEIGHT_DIMS, type Deferred, type DrainEntry, type InputSpan, type IterationPlan, type PlanAnchor, type PlanTemplate, type Req, type SpanGroup, type SpansFrom } from "./types.js";
import type { WaveBuilder } from "./wave.js";
import { SignatureSerials } from "./plan-cache.js";

/**
 * The spans a plan signature is given when it will not read them (one of its short forms
 * applies): it is told only that the PEs hold input spans.
 */
const SPANS_UNREAD: readonly (InputSpan | undefined)[] = Object.freeze([]);
/** The PEs' starts a plan signature is given when it will not read them (no spans PE by PE). */
const STARTS_UNREAD: readonly Int32Array[] = Object.freeze([]);

/**
 * An iteration that replays an earlier plan, not yet built ({@link IterationPlanner.planOrHit}):
 * the template, the anchor of its reads, its drains, and whether they run behind its wave.
 */
export class PlanHit {
  template!: PlanTemplate;
  anchor!: PlanAnchor;
  drains: DrainEntry[] = [];
  behind = false;
}

/** Where the operands and psums of an iteration's waves sit in the register files. */
interface Bases {
  readonly input: number;
  readonly weight: number;
  readonly psum: number;
}

/** Plans iterations of the gbuf loops (see the file header). */
export class IterationPlanner {
  /** Iterations planned so far. */
  iterations = 0;
  /** Per tensor, each PE's start key offset: a PE's key is the iteration's plus its offset's. */
  private readonly offKeys: { readonly output: Float64Array; readonly input: Float64Array; readonly weight: Float64Array };
  /** Whether the mapping fuses dimensions: PEs' starts are then not the iteration's plus fixed offsets. */
  private readonly fused: boolean;
  /** The input key's weight per dimension (operand-keys.ts, inputKeyWeights). */
  private readonly inputWeights: Float64Array;
  /** The operand pass. */
  private readonly operands: OperandKeys;
  /** Scratch, only read while one iteration is planned. */
  private readonly scratch: { readonly newOut: Float64Array; readonly drain: Uint8Array; readonly keys: Float64Array[] };
  /**
   * Of the iteration being planned: how many PEs are active, and how many of them get a new
   * psum, input and weight tile (-1: not counted, as with fused groups or an operand delivered
   * early or passing through). {@link uniformCode} reads them.
   */
  private readonly counts = { active: 0, psum: 0, input: 0, weight: 0 };
  /** The last iteration's waves: unchecked waves depend only on the tile shapes and bases. */
  private readonly lastWaves: { keys: Float64Array; parts: MacWave[]; macs: number; bases: Bases };

  constructor(
    private readonly c: SeqContext,
    private readonly res: Residency,
    private readonly waves: WaveBuilder,
    private readonly replayer: Replayer,
  ) {
    const { nest, pes } = c;
    const offsetKeys = (dims: readonly number[]) => Float64Array.from(nest.peOffset, (off) => startKey(off, dims, nest.sizes));
    this.inputWeights = inputKeyWeights(c);
    this.fused = nest.groups.length > 0;
    this.offKeys = { output: offsetKeys(OUTPUT_DIMS), input: Float64Array.from(nest.peOffset, (off) => dot(off, this.inputWeights)), weight: offsetKeys(WEIGHT_DIMS) };
    this.operands = new OperandKeys(c, res, this.offKeys, this.inputWeights, this.fused);
    this.scratch = { newOut: new Float64Array(pes), drain: new Uint8Array(pes), keys: [0, 1, 2, 3].map(() => new Float64Array(pes)) };
    this.lastWaves = { keys: new Float64Array(pes), parts: [], macs: 0, bases: { input: 0, weight: 0, psum: 0 } };
  }

  /**
   * The plan of the gbuf iteration starting at `gStart` within the dram iteration at `dStart`
   * (`folds`: per fused group, the flattened index of its fold's first point).
   */
  plan(gStart: Int32Array, dStart: Int32Array, folds?: Int32Array): IterationPlan {
    const p = this.planOrHit(gStart, dStart, folds);
    return p instanceof PlanHit ? this.build(p) : p;
  }

  /**
   * {@link plan}, but a replay of an earlier plan is returned unbuilt, as the hit (valid until the
   * next call): a run of timelines (runs.ts) reuses the plan it recorded when the hit would build
   * the same requests ({@link sameAs}), and builds it ({@link build}) only when not.
   */
  planOrHit(gStart: Int32Array, dStart: Int32Array, folds?: Int32Array): IterationPlan | PlanHit {
    const { c, res, scratch } = this;
    this.iterations++;
    res.moveTo(gStart, folds);
    const drains = this.drains(gStart);
    // A streamed output alternates between two halves of the psum stream buffer, so the
    // previous wave's partial sums drain while this one computes (program.ts); so do two
    // accumulator sets when every PE's tile leaves.
    const behind = c.psumDouble && drains.length > 0;
    if (c.streamOut || behind) c.switchPsumHalf();
    const psumKeys = this.newPsums();
    const ops = this.operands;
    const inKeys = scratch.keys[1]!.fill(NaN);
    const wKeys = scratch.keys[2]!.fill(NaN);
    this.counts.input = ops.pass("input", INPUT_DIMS, inKeys, gStart, this.counts.active);
    this.counts.weight = ops.pass("weight", WEIGHT_DIMS, wKeys, gStart, this.counts.active);
    // Single-buffered inputs with halo reuse: the PEs' input spans.
    const spansOn = !c.rfDouble && !c.passThrough.input;
    // The transfers, fills and waves depend only on what the signature records: an iteration
    // like one planned before replays that plan (its requests again, its reads shifted).
    const rp = this.replayer;
    const uniform = this.uniformCode();
    const from = this.spansKey(uniform, spansOn);
    // (the signature reads the spans PE by PE only when neither short form applies: they are
    // written then; else it is told only that there are spans)
    const perPe = spansOn && !(uniform >= 0 && ((uniform & 2) === 0 || from));
    const sigSpans = spansOn ? (perPe ? res.spans() : SPANS_UNREAD) : undefined;
    // (and the operands' keys when it reads the PEs' records: OperandKeys.keys)
    if (uniform < 0 || perPe) {
      ops.keys("input", inKeys);
      ops.keys("weight", wKeys);
    }
    // (so are the PEs' starts, which it reads for the spans only: Residency.peStart)
    const sig = rp.plans?.worthwhile() ? rp.signature(gStart, res.peClip, dStart, psumKeys, inKeys, wKeys, sigSpans, perPe ? res.peStart : STARTS_UNREAD, res.rfHalf, res.gbufInput, folds, uniform, from) : undefined;
    if (sig) {
      const hit = rp.plans!.find(sig);
      if (hit) {
        // (the replay's requests depend on the template, the anchor and the GBuf halves only:
        // built now or later, before the next iteration is planned, they are the same)
        if (spansOn && hit.spanGroups) res.deferSpans(hit.spanGroups, hit.spanId);
        this.noteSpans(uniform, spansOn, hit.spanId);
        const h = this.hit;
        h.template = hit;
        h.anchor = rp.anchor(gStart, res.gbufInput, res.gbufWeight, false);
        h.drains = drains;
        h.behind = behind;
        return h;
      }
    }
    const plan = this.fresh(psumKeys, ops.keys("input", inKeys), ops.keys("weight", wKeys), spansOn ? res.spans() : undefined, sig !== undefined);
    const spanId = sig && plan.spanGroups ? this.spanGroupsId(plan.spanGroups) : undefined;
    this.noteSpans(uniform, spansOn, spanId);
    if (sig) {
      const { reads, after, direct, moves, waves, psumFills, operandFills, spanGroups } = plan;
      const afterRead = Int32Array.from(after.flatMap((d) => d.reads), (q) => reads.indexOf(q));
      const anchor = rp.anchor(gStart, res.gbufInput, res.gbufWeight, true);
      const split = psumFills ? { psumFills, operandFills: operandFills! } : {};
      const gbufHalf = { input: res.gbufHalf.input, weight: res.gbufHalf.weight };
      const template: PlanTemplate = { spanId: spanId ?? -1, anchor, reads, after, afterRead, direct, moves, waves, ...split, macs: this.lastWaves.macs, spanGroups, gbufHalf };
      rp.plans!.store(sig, template);
      return iterationPlan({ drains, reads, moves, after, direct, waves, psumFills, operandFills, template, drainsBehind: behind ? true : undefined });
    }
    return iterationPlan({ drains, reads: plan.reads, moves: plan.moves, after: plan.after, direct: plan.direct, waves: plan.waves, psumFills: plan.psumFills, operandFills: plan.operandFills, drainsBehind: behind ? true : undefined });
  }

  /** The replay of a hit ({@link planOrHit}): its reads shifted to its anchor, from the current GBuf halves. */
  build(h: PlanHit): IterationPlan {
    const p = this.replayer.replay(h.template, h.drains, this.res.gbufHalf, h.anchor);
    return h.behind ? iterationPlan({ ...p, drainsBehind: true }) : p;
  }

  /**
   * Whether building hit `h` would make plan `p` again but for the drains (the records of the psum
   * tiles leaving, `h`'s own): `p` replays the same template, neither drains behind its wave, and
   * `p`'s reads are the ones `h` would make (a replay's other requests are the template's own).
   */
  sameAs(h: PlanHit, p: IterationPlan): boolean {
    if (p.template !== h.template || h.behind || p.drainsBehind) return false;
    return this.replayer.sameReads(p, h.template, this.res.gbufHalf, h.anchor);
  }

  /** Hit `h` is carried out by a plan {@link sameAs} found: its MACs are counted, as a build counts them. */
  reuse(h: PlanHit): void {
    this.c.countMacs(h.template.macs);
  }

  /** The hit {@link planOrHit} returns (one object, refilled). */
  private readonly hit = new PlanHit();

  /**
   * The PEs whose output tile changes drain first (every holder of a changing tile: PEs that
   * share an output tile change together; with two accumulator sets, every holder); a streamed
   * output leaves after every wave. Leaves each PE's new output key in `scratch.newOut` (which
   * newPsums reads with fused groups) unless {@link settled} decides the drains without it.
   */
  private drains(gStart: Int32Array): DrainEntry[] {
    const { c, res } = this;
    const pes = c.pes;
    const outKey0 = (this.outKey0 = startKey(gStart, OUTPUT_DIMS, c.nest.sizes));
    const s = this.settled;
    this.held = false;
    this.allTaken = false;
    if (s && s.placeEpoch === res.placeEpoch && s.psumEpoch === res.psumEpoch) {
      if (s.outKey0 === outKey0) {
        this.held = true;
        return [];
      }
      if (s.idleKeys.length === 0 || (!c.psumDouble && !s.idleLeaving(res, this.offKeys.output))) {
        this.allTaken = true;
        return res.takeActive();
      }
    }
    const newOutKey = this.scratch.newOut.fill(NaN);
    const drainMask = this.scratch.drain.fill(0);
    const rfOutKey = res.rfOutKey;
    let anyDrain = false;
    // The least and greatest leaving key (see below).
    let lo = Infinity;
    let hi = -Infinity;
    for (let pe = 0; pe < pes; pe++) {
      if (c.streamOut && !Number.isNaN(rfOutKey[pe]!)) drainMask[pe] = 1;
      if (res.peActive[pe]) {
        const k = this.fused ? startKey(res.peStart[pe]!, OUTPUT_DIMS, c.nest.sizes) : outKey0 + this.offKeys.output[pe]!;
        newOutKey[pe] = k;
        if (!Number.isNaN(rfOutKey[pe]!) && rfOutKey[pe] !== k) drainMask[pe] = 1;
      }
      if (drainMask[pe]) {
        anyDrain = true;
        const held = rfOutKey[pe]!;
        if (held < lo) lo = held;
        if (held > hi) hi = held;
      }
    }
    if (!anyDrain) return [];
    if (c.psumDouble) {
      // Two accumulator sets switch for every PE at once (the waves address one set): every
      // holder drains, those whose tile goes on too (their partial sums are added in the GBuf).
      for (let pe = 0; pe < pes; pe++) if (!Number.isNaN(rfOutKey[pe]!)) drainMask[pe] = 1;
      return res.takePsums(drainMask);
    }
    // Only a PE that stays with a key between the leaving ones' least and greatest may share a
    // leaving tile (an idle column past the layer's edge, holding an older tile, does not).
    let stay = 0;
    for (let pe = 0; pe < pes; pe++) {
      const k = rfOutKey[pe]!;
      if (!drainMask[pe] && k >= lo && k <= hi) stay++;
    }
    if (stay > 0) {
      const leaving = new Set<number>();
      for (let pe = 0; pe < pes; pe++) if (drainMask[pe]) leaving.add(rfOutKey[pe]!);
      for (let pe = 0; pe < pes; pe++) if (!drainMask[pe] && leaving.has(rfOutKey[pe]!)) drainMask[pe] = 1;
    }
    return res.takePsums(drainMask);
  }

  /**
   * Unchecked runs without fused groups or a streamed output: after the psum passes, the output
   * key of the iteration's start, the placement and the psum records they left (the residency's
   * epochs). While all three stay, every active PE holds the tile it needs (its key is the
   * start's plus its offset, and the passes gave it that tile), so nothing drains and no PE gets
   * a new tile: the passes are skipped ({@link held}), with the count of active PEs kept. When
   * only the output key has changed, every active PE needs a new tile, so every active PE
   * drains; and when no idle PE holds a tile (`idleKeys`: the keys idle PEs hold), or none of
   * them holds a leaving one (a key some active PE held: Settled.idleLeaving) and two
   * accumulator sets do not drain every holder, no other PE does (the drains pass would drain
   * only idle PEs that hold a leaving tile), so the drains pass is skipped.
   */
  private settled: Settled | undefined;
  /** Whether the iteration being planned is one {@link settled} covers. */
  private held = false;
  /** Whether its drain took every active PE's tile, by {@link settled} (none holds one now). */
  private allTaken = false;
  /** The output key of the start of the iteration being planned. */
  private outKey0 = NaN;

  /** The PEs that get a new psum tile (keyed by its extent: one fill per tile shape); updates the state. */
  private newPsums(): Float64Array {
    const { c, res } = this;
    const psumKeys = this.scratch.keys[0]!;
    if (this.held) {
      this.counts.active = this.settled!.active;
      this.counts.psum = 0;
      return psumKeys.fill(NaN);
    }
    if (this.allTaken) {
      // Every active PE gets a new tile (none holds one; the idle PEs keep theirs): one batch of
      // records (psum-batch.ts), with the same settled state after it as the pass below would
      // leave.
      const s = this.settled!;
      psumKeys.set(res.holdBatch(this.outKey0, c.psumBase, this.offKeys.output).psumKeys);
      this.counts.active = s.active;
      this.counts.psum = s.active;
      this.settled = s.moved(this.outKey0, res.psumEpoch);
      return psumKeys;
    }
    psumKeys.fill(NaN);
    // (a PE's key: without fused groups the start's plus its offset, which the drains pass may
    // not have written: see drains)
    const newOutKey = this.scratch.newOut;
    const off = this.offKeys.output;
    const fused = this.fused;
    const outKey0 = this.outKey0;
    let active = 0;
    let fresh = 0;
    const idleKeys: number[] = [];
    const { rfOutKey, rfOut } = res;
    for (let pe = 0; pe < c.pes; pe++) {
      if (!res.peActive[pe]) {
        if (!Number.isNaN(rfOutKey[pe]!)) idleKeys.push(rfOutKey[pe]!);
        continue;
      }
      active++;
      const k = fused ? newOutKey[pe]! : outKey0 + off[pe]!;
      if (rfOutKey[pe] !== k) {
        fresh++;
        const extKey = res.peOutExtKey[pe]!;
        psumKeys[pe] = extKey;
        rfOutKey[pe] = k;
        rfOut[pe] = res.psumTile(pe, k, c.psumBase, extKey);
      }
    }
    this.counts.active = active;
    this.counts.psum = fresh;
    this.settled = fused || c.streamOut || c.checked ? undefined : Settled.after(outKey0, res, active, idleKeys);
    return psumKeys;
  }

  /**
   * The code every active PE of the iteration gets in the plan signature (1: a new psum tile, 2:
   * input, 4: weight), when it is the same for all of them and the PEs' activity follows from
   * the clipped reach (no fused groups); else -1. Inactive PEs get none (code 0).
   */
  private uniformCode(): number {
    const { active, psum, input, weight } = this.counts;
    if (this.fused || input < 0 || weight < 0) return -1;
    if ((psum !== 0 && psum !== active) || (input !== 0 && input !== active) || (weight !== 0 && weight !== active)) return -1;
    return (psum > 0 ? 1 : 0) | (input > 0 ? 2 : 0) | (weight > 0 ? 4 : 0);
  }

  /** How the input spans the PEs hold were made (span-history.ts; span groups numbered by {@link spanGroupsId}). */
  private readonly spansMade = new SpanHistory();
  /** Span groups by content (PEs, first PE, density), numbered. */
  private readonly spanSerials = new SignatureSerials();

  /** The number of a plan's span groups, by their content (equal groups of two plans: one number). */
  private spanGroupsId(groups: readonly SpanGroup[]): number {
    const b: number[] = [groups.length];
    for (const g of groups) {
      b.push(g.pe0, g.dense ? 1 : 0, g.pes.length);
      for (let i = 0; i < g.pes.length; i++) b.push(g.pes[i]!);
    }
    return this.spanSerials.serial(Float64Array.from(b));
  }

  /**
   * How the spans were made ({@link spansMade}), when that decides every span the signature would
   * record this iteration: every active PE gets a new input tile (`uniform` has 2).
   */
  private spansKey(uniform: number, spans: boolean): SpansFrom | undefined {
    if (!spans || uniform < 0 || (uniform & 2) === 0) return undefined;
    return this.spansMade.key(this.res.peClip);
  }

  /** Notes how the spans were made after planning an iteration whose span groups are numbered `id` (undefined: not known). */
  private noteSpans(uniform: number, spans: boolean, id: number | undefined): void {
    // (no PE got a new input tile: the spans did not change)
    if (!spans || (uniform >= 0 && (uniform & 2) === 0)) return;
    this.spansMade.note(uniform >= 0 && id !== undefined && id >= 0 ? id : undefined, this.res.iterStart, this.res.peClip);
  }

  /** Runs the passes for an iteration not planned before. */
  private fresh(psumKeys: Float64Array, inKeys: Float64Array, wKeys: Float64Array, spans: (InputSpan | undefined)[] | undefined, keep: boolean) {
    const { c, res } = this;
    const { usedRows: rows, usedCols: cols } = c.nest;
    const spanGroups: SpanGroup[] | undefined = keep && spans ? [] : undefined;
    const reads: Req[] = [];
    const after: Deferred[] = [];
    const direct: Req[] = [...psumInit(c, psumKeys, rows, cols, res.peStart, res.peExt)];
    const psumFillCount = direct.length;
    const moves: Req[] = [];
    const bases = { input: res.rfHalf.input * c.rfTile.input, weight: res.rfHalf.weight * c.rfTile.weight, psum: c.psumBase };
    after.push(...deliverInputs(c, inKeys, rows, cols, res.peStart, res.peExt, res.gbufInput, res.gbufHalf.input, reads, direct, bases.input, spans, moves, spanGroups));
    after.push(...deliverWeights(c, wKeys, rows, cols, res.peStart, res.peExt, res.gbufWeight, res.gbufHalf.weight, reads, bases.weight));
    // Pipelined: the operands' fills (padding, into the halves the running wave does not read)
    // go with the deliveries, the psum fills after the drain (program.ts).
    let split: { psumFills: Req[]; operandFills: Req[] } | undefined;
    if (c.pipelined) {
      split = { psumFills: direct.slice(0, psumFillCount), operandFills: direct.slice(psumFillCount) };
      mergeCommands(split.psumFills, "fill");
      mergeCommands(split.operandFills, "fill");
      // Double-buffered registers: the padding goes into the half the running wave does not
      // read, beside the wave (PeFillCommand.shadow), as the deliveries into it do. (A streamed
      // input's padding enters at the array's edge: its stand-in buffer's fill stays a command.)
      if (c.rfDouble && !c.passThrough.input) split.operandFills = split.operandFills.map((q) => (q.to === "pe" && q.msg.op === "fill" ? { to: "pe", msg: { ...q.msg, shadow: true } } : q));
    }
    // The iteration's local fills (psum init, padding) go as one command: each PE writes its own.
    mergeCommands(direct, "fill");
    const parts = this.waveParts(bases);
    const streams = c.waveStreams;
    const waves: Req[] = parts.length > 0 ? [{ to: "pe", msg: { op: "wave", wave: parts[0]!, alongside: parts.slice(1), ...(streams ? { streams } : {}), ...(c.psumFlow ? { psumFlow: c.psumFlow } : {}) } }] : [];
    // The iteration's halo slides go as one command.
    mergeCommands(moves, "slide");
    return { reads, after, direct, moves, waves, spanGroups, ...split };
  }

  /**
   * The iteration's waves: one per rectangle of PEs with the same tile shape, run side by side as
   * one command. Unchecked waves depend only on the tile shapes and bases: the last iteration's,
   * when they match.
   */
  private waveParts(bases: Bases): MacWave[] {
    const { c, res, lastWaves } = this;
    const waveKeys = this.scratch.keys[3]!;
    let same = true;
    for (let pe = 0; pe < c.pes; pe++) {
      const k = res.peActive[pe] ? res.peExtKey[pe]! : NaN;
      waveKeys[pe] = k;
      const was = lastWaves.keys[pe]!;
      if (k !== was && !(Number.isNaN(k) && Number.isNaN(was))) same = false;
    }
    const lb = lastWaves.bases;
    if (!c.checked && same && lastWaves.parts.length > 0 && lb.input === bases.input && lb.weight === bases.weight && lb.psum === bases.psum) {
      c.countMacs(lastWaves.macs);
      return lastWaves.parts;
    }
    const parts: MacWave[] = [];
    for (const [, rects] of rectangles(waveKeys, c.nest.usedRows, c.nest.usedCols)) for (const rect of rects) parts.push(this.waves.build(rect, res.peStart, res.peExt, bases));
    lastWaves.keys.set(waveKeys);
    lastWaves.bases = bases;
    lastWaves.parts = parts;
    lastWaves.macs = parts.reduce((a, w) => a + w.pes.rows * w.pes.cols * w.loops.reduce((x, y) => x * y, 1), 0);
    return parts;
  }
}
