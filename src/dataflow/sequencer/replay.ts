/**
 * Replays of planned iterations (unchecked runs; docs/design-notes.md, "The Sequencer replays
 * iteration plans"): the signature of an iteration's plan, the anchor of its reads, and a planned
 * iteration issued again with its reads shifted to the new position (requests carry no ids: the
 * Sequencer gives each issue one).
 */
import { InvariantError, type Box } from "../../core/index.js";
import type { DramTensor } from "../../memory/index.js";
import { NDIMS } from "../nest.js";
import type { SeqContext } from "./context.js";
import { PlanCache } from "./plan-cache.js";
import { C, G, iterationPlan, K, N, P, Q, R, S, type Deferred, type DrainEntry, type GbufInputTile, type InputSpan, type IterationPlan, type OutputTile, type PlanAnchor, type PlanTemplate, type Req, type SpansFrom } from "./types.js";

/** The dimensions a weight address is affine in, in the order of the weights' strides. */
const W_DIMS: readonly number[] = [G, K, C, R, S];

/** How far the rank of a stored row (column) moved: 0 unless both runs are consecutive. */
function runShift(from: number, to: number): number {
  return Number.isNaN(from) || Number.isNaN(to) ? 0 : to - from;
}

/**
 * Where an iteration's rows (columns) sit on a circular axis of the GBuf input tile (gbuf-halo.ts:
 * stored row v at slot (v - run + rot) mod slots): the slot of the first stored row its span
 * reads (`o` its padded origin, `span` its padded rows, `size` the layer's rows), and whether the
 * rows read from there wrap past the last slot; `first`, that row (unpadded). (-1 slot: it reads none.)
 */
function circularPlace(o: number, pad: number, size: number, span: number, run: number, rot: number, slots: number): { first: number; slot: number; wraps: boolean } {
  const first = Math.max(o - pad, run, 0);
  const end = Math.min(o - pad + span, size);
  if (end <= first) return { first, slot: -1, wraps: false };
  const slot = (((first - run + rot) % slots) + slots) % slots;
  return { first, slot, wraps: slot + (end - first) > slots };
}

/** A box moved by `by` words (the box itself when `by` is 0). */
function moved(b: Box, by: number): Box {
  return by === 0 ? b : { shape: b.shape, offset: b.offset + by, strides: b.strides };
}

/** What a read of a plan template fetches: a GBuf input or weight tile, or DRAM input or weights. */
const INPUT = 0;
const WEIGHT = 1;
const DRAM_INPUT = 2;
const DRAM_WEIGHT = 3;

/** A template's read, as a replay needs it (one shape for every kind). */
interface ReadRecord {
  readonly kind: number;
  readonly box: Box;
  readonly tensor: DramTensor | undefined;
}

/** Signatures, anchors and replays of planned iterations (see the file header). */
export class Replayer {
  /** Planned iterations by signature (unchecked runs only: checked plans carry absolute tags). */
  readonly plans: PlanCache | undefined;
  private sigBuf = new Float64Array(0);

  constructor(private readonly c: SeqContext) {
    this.plans = c.checked ? undefined : new PlanCache();
  }

  /**
   * The signature of an iteration's plan: everything its transfers, fills and waves depend on,
   * given the residency state already updated (unchecked runs).
   * - How far each dimension reaches before the layer's edge (clipped tiles), and where the
   *   padding starts and ends relative to the iteration's origin. Not the position itself: the
   *   reads' addresses are affine in it (GBuf tiles, DRAM tensors), so a replay shifts them
   *   ({@link readShift}); only when the GBuf input tile's stored rows (columns) are not
   *   consecutive do their absolute positions enter the signature, and when they are a rotated
   *   circular buffer (a halo kept in place: gbuf-halo.ts), the first stored row the iteration
   *   reads relative to its origin and, where the rows read from there wrap past the last slot,
   *   that row's slot (a replay then reads the same slots; else its reads move by the slots'
   *   difference: {@link circularPlace}).
   * - The psum base and the RF halves the operands go to. (Not the GBuf halves they come from:
   *   the halves are alike, so a replay reads from the current ones.)
   * - Per PE: whether it gets a new psum, input and weight tile; for a new input tile with halo
   *   reuse, the span it holds, relative to its new tile (and which PEs share that span). When
   *   `uniform` (IterationPlanner.uniformCode) says every active PE gets the same code and no
   *   span is recorded, that code alone: the clipped reach decides which PEs are active. When
   *   every active PE gets a new input tile and holds a span of the same span groups
   *   (`spansFrom`: IterationPlanner.spansKey), the code, the groups' number, the reach when
   *   they were made and how far that iteration's start lay from this one's.
   * PEs' tile starts are the iteration's start plus fixed offsets, so the rest follows; with
   *   fused groups, plus their points in the fold, which each fold's first flattened index and
   *   the clipped tile extents decide (mapping.ts, "Fused dimensions").
   */
  signature(
    gStart: Int32Array,
    clip: Int32Array,
    dStart: Int32Array,
    psumKeys: Float64Array,
    inKeys: Float64Array,
    wKeys: Float64Array,
    spans: readonly (InputSpan | undefined)[] | undefined,
    peStart: readonly Int32Array[],
    rfHalf: { readonly input: number; readonly weight: number },
    gbufInput: GbufInputTile | undefined,
    folds: Int32Array | undefined,
    uniform = -1,
    spansFrom?: SpansFrom,
  ): Float64Array {
    const b = this.signatureBuffer(folds, spansFrom);
    let n = 0;
    for (let d = 0; d < NDIMS; d++) b[n++] = clip[d]!;
    // Fused groups: with the clipped tile extents above, a fold's first index places every PE.
    if (folds) for (let g = 0; g < folds.length; g++) b[n++] = folds[g]!;
    // Where the padding starts and ends relative to the iteration's origin, clamped to the PEs'
    // span (beyond it nothing changes); the GBuf input tile's stored rows and columns rank
    // relative to the first when consecutive (a shift), else by absolute position.
    const l = this.c.layer;
    const keptInput = this.c.m.gbuf.keep.input;
    const axis = (o: number, pad: number, size: number, span: number, run: number, rot: number, slots: number, p: number, r: number) => {
      b[n++] = Math.max(0, Math.min(span, pad - o));
      b[n++] = Math.max(0, Math.min(span, pad + size - o));
      if (keptInput && rot !== 0) {
        // A circular buffer (a halo kept in place): slots are affine in the row only between
        // wraps. Pinned: the first row read (relative to the origin) and, if the rows read wrap,
        // its slot (-3: they do not, and slotShift moves the reads by the slots' difference).
        const at = circularPlace(o, pad, size, span, run, rot, slots);
        b[n++] = -2;
        b[n++] = at.wraps || at.slot < 0 ? at.slot : -3;
        b[n++] = at.first - o;
      }
      if (keptInput && Number.isNaN(run)) {
        b[n++] = -1;
        b[n++] = gStart[p]!;
        b[n++] = gStart[r]!;
        b[n++] = dStart[p]!;
        b[n++] = dStart[r]!;
      }
    };
    axis(gStart[P]! * l.strides[0] + gStart[R]! * l.dilations[0], l.pads[0], l.inHeight, this.c.peSpan.h, gbufInput ? gbufInput.rowRun : NaN, gbufInput ? gbufInput.rowRot : 0, this.c.gbufInputRows, P, R);
    axis(gStart[Q]! * l.strides[1] + gStart[S]! * l.dilations[1], l.pads[1], l.inWidth, this.c.peSpan.w, gbufInput ? gbufInput.colRun : NaN, gbufInput ? gbufInput.colRot : 0, this.c.gbufInputCols, Q, S);
    b[n++] = this.c.psumBase;
    b[n++] = rfHalf.input;
    b[n++] = rfHalf.weight;
    if (uniform >= 0 && (!spans || (uniform & 2) === 0)) {
      // Every active PE gets the same code and no input span is recorded: the per-PE records
      // follow from the clipped reach above (which decides the active PEs; the others get 0).
      // (-100 never begins the per-PE records: the first PE's record begins with its code.)
      b[n++] = -100;
      b[n++] = uniform;
    } else if (uniform >= 0 && spansFrom) {
      // Every active PE gets the same code, a new input tile among it, and holds a span of the
      // span groups numbered `id`, made at an iteration whose PEs reached `reach` and whose
      // start lay `delta` from this one's: each span was made from its group's first PE's start
      // and extent then (the extent a function of the reach), so relative to the PEs' starts
      // now (the same offsets plus this iteration's start) the spans follow from the groups,
      // the reach and the delta.
      b[n++] = -101;
      for (let f: SpansFrom | undefined = spansFrom; f; f = f.prev) {
        // (with the span groups before: theirs after a mark no id takes)
        if (f !== spansFrom) b[n++] = -1;
        b[n++] = f.id;
        for (let d = 0; d < NDIMS; d++) b[n++] = f.reach[d]!;
        for (let d = 0; d < NDIMS; d++) b[n++] = f.iterStart[d]! - gStart[d]!;
      }
      b[n++] = uniform;
    } else {
      n = this.perPe(b, n, psumKeys, inKeys, wKeys, spans, peStart);
    }
    // (a write past a typed array's end is dropped: a signature cut short would let two plans meet)
    if (n > b.length) throw new InvariantError("sequencer", `a plan signature of ${n} numbers outgrew its buffer of ${b.length}`);
    return b.subarray(0, n);
  }

  /** A buffer for a signature: room for the most any branch of {@link signature} writes (per PE up to 13 numbers, or 2 + 18 per span group). */
  private signatureBuffer(folds: Int32Array | undefined, spansFrom: SpansFrom | undefined): Float64Array {
    let groups = 0;
    for (let f = spansFrom; f; f = f.prev) groups++;
    const need = NDIMS + 21 + (folds ? folds.length : 0) + Math.max(this.c.pes * 13, 2 + groups * (2 + 2 * NDIMS));
    if (this.sigBuf.length < need) this.sigBuf = new Float64Array(need);
    return this.sigBuf;
  }

  /**
   * The signature's per-PE records from `n` on (returns the new end): whether a PE gets a new psum,
   * input and weight tile; for a new input tile with halo reuse, the span it holds relative to its
   * tile. A record is written relative to the one before, so that it reads back in order: PEs that
   * share a span share its record (`-code`: "as the last one"); a span whose record, its serial
   * counted from the last record's, equals the last record's is marked `2` instead of repeating it
   * (as when every PE holds a span of its own, made in PE order).
   */
  private perPe(
    b: Float64Array,
    n: number,
    psumKeys: Float64Array,
    inKeys: Float64Array,
    wKeys: Float64Array,
    spans: readonly (InputSpan | undefined)[] | undefined,
    peStart: readonly Int32Array[],
  ): number {
    const l = this.c.layer;
    const [sh, sw] = l.strides;
    const [dh, dw] = l.dilations;
    const Cg = this.c.Cg;
    const rec = this.recScratch;
    let have = false;
    let last: InputSpan | undefined;
    let lastSerial = 0;
    for (let pe = 0; pe < this.c.pes; pe++) {
      const code = (Number.isNaN(psumKeys[pe]!) ? 0 : 1) | (Number.isNaN(inKeys[pe]!) ? 0 : 2) | (Number.isNaN(wKeys[pe]!) ? 0 : 4);
      const o = spans && code & 2 ? spans[pe] : undefined;
      if (!o) {
        b[n++] = code;
        if (spans && code & 2) b[n++] = 0;
        continue;
      }
      const st = peStart[pe]!;
      const relN = o.n - st[N]!;
      const relCh = o.ch0 - (st[G]! * Cg + st[C]!);
      const relH = o.oh - (st[P]! * sh + st[R]! * dh);
      const relW = o.ow - (st[Q]! * sw + st[S]! * dw);
      // PEs that share their span (usually neighbours) share its record.
      if (o === last && relN === rec[2] && relCh === rec[3]) {
        b[n++] = -code;
        continue;
      }
      const dSerial = have ? o.serial - lastSerial : 0;
      const dense = o.dense ? 1 : 0;
      b[n++] = code;
      if (have && dSerial === rec[0] && dense === rec[1] && relN === rec[2] && relCh === rec[3] && o.en === rec[4] && o.eg === rec[5] && o.ec === rec[6] && relH === rec[7] && relW === rec[8] && o.rows === rec[9] && o.cols === rec[10]) {
        b[n++] = 2;
      } else {
        rec[0] = dSerial;
        rec[1] = dense;
        rec[2] = relN;
        rec[3] = relCh;
        rec[4] = o.en;
        rec[5] = o.eg;
        rec[6] = o.ec;
        rec[7] = relH;
        rec[8] = relW;
        rec[9] = o.rows;
        rec[10] = o.cols;
        b[n++] = 1;
        for (let i = 0; i < 11; i++) b[n++] = rec[i]!;
      }
      have = true;
      last = o;
      lastSerial = o.serial;
    }
    return n;
  }

  /** The last full span record of {@link perPe}. */
  private readonly recScratch = new Float64Array(11);

  /** The anchor of an iteration's reads (`stored`: kept in a plan, so the start is copied; the iterator reuses its array). */
  anchor(gStart: Int32Array, input: GbufInputTile | undefined, weight: OutputTile | undefined, stored: boolean): PlanAnchor {
    return { g: stored ? gStart.slice() : gStart, xs: input?.start, ws: weight?.start, rowRun: input ? input.rowRun : NaN, colRun: input ? input.colRun : NaN, rowRot: input ? input.rowRot : 0, colRot: input ? input.colRot : 0 };
  }

  /**
   * How far an iteration's reads sit from those of the plan it replays (words, per operand). A
   * GBuf input address is affine in the tile start's N, G, C relative to the GBuf tile and in
   * the stored row's and column's rank, which for consecutive rows (columns) is the padded
   * position minus the first stored one (otherwise the signature pins both absolutely); a GBuf
   * weight address is affine in G, K, C, R, S relative to its tile; DRAM addresses are affine in
   * the absolute position. The signature guarantees that padding clips both alike.
   */
  private readShift(from: PlanAnchor, to: PlanAnchor): { input: number; weight: number } {
    const c = this.c;
    const l = c.layer;
    const tg = to.g, fg = from.g;
    const rows = (tg[P]! - fg[P]!) * l.strides[0] + (tg[R]! - fg[R]!) * l.dilations[0];
    const cols = (tg[Q]! - fg[Q]!) * l.strides[1] + (tg[S]! - fg[S]!) * l.dilations[1];
    let input: number;
    if (c.m.gbuf.keep.input) {
      const ge = c.nest.gbufExtent;
      const MR = c.gbufInputRows, MC = c.gbufInputCols;
      const tx = to.xs!, fx = from.xs!;
      const relN = tg[N]! - fg[N]! - (tx[N]! - fx[N]!);
      const relG = tg[G]! - fg[G]! - (tx[G]! - fx[G]!);
      const relC = tg[C]! - fg[C]! - (tx[C]! - fx[C]!);
      // (a rotated circular axis: the difference of the first rows' slots; see signature)
      const rowMove = to.rowRot !== 0 || from.rowRot !== 0 ? this.slotShift(from, to, 0) : rows - runShift(from.rowRun, to.rowRun);
      const colMove = to.colRot !== 0 || from.colRot !== 0 ? this.slotShift(from, to, 1) : cols - runShift(from.colRun, to.colRun);
      input = ((relN * ge[G]! + relG) * ge[C]! + relC) * MR * MC + rowMove * MC + colMove;
    } else {
      input = (((tg[N]! - fg[N]!) * l.inChannels + (tg[G]! - fg[G]!) * c.Cg + (tg[C]! - fg[C]!)) * l.inHeight + rows) * l.inWidth + cols;
    }
    let weight = 0;
    if (c.m.gbuf.keep.weight) {
      const st = (this.weightStrides ??= c.gbufWeightStrides());
      const tw = to.ws!, fw = from.ws!;
      for (let i = 0; i < W_DIMS.length; i++) {
        const d = W_DIMS[i]!;
        weight += (tg[d]! - fg[d]! - (tw[d]! - fw[d]!)) * st[i]!;
      }
    } else {
      const st = (this.weightStrides ??= c.wDramStrides());
      for (let i = 0; i < W_DIMS.length; i++) weight += (tg[W_DIMS[i]!]! - fg[W_DIMS[i]!]!) * st[i]!;
    }
    const out = this.shiftScratch;
    out.input = input;
    out.weight = weight;
    return out;
  }

  /** How far the first stored row (`axis` 0; column: 1) a replay at `to` reads sits from its plan's at `from` on a circular axis (circularPlace). */
  private slotShift(from: PlanAnchor, to: PlanAnchor, axis: number): number {
    const l = this.c.layer;
    const [d, k] = axis === 0 ? [P, R] : [Q, S];
    const place = (a: PlanAnchor) =>
      axis === 0
        ? circularPlace(a.g[d]! * l.strides[0] + a.g[k]! * l.dilations[0], l.pads[0], l.inHeight, this.c.peSpan.h, a.rowRun, a.rowRot, this.c.gbufInputRows)
        : circularPlace(a.g[d]! * l.strides[1] + a.g[k]! * l.dilations[1], l.pads[1], l.inWidth, this.c.peSpan.w, a.colRun, a.colRot, this.c.gbufInputCols);
    return place(to).slot - place(from).slot;
  }

  /** The weights' strides over {@link W_DIMS} where the reads find them (GBuf tile or DRAM; fixed for a run). */
  private weightStrides: readonly number[] | undefined;
  /** {@link readShift}'s result (read at once by the caller). */
  private readonly shiftScratch = { input: 0, weight: 0 };

  /** Per template, its reads as records (what a replay needs of each, checked once). */
  private readonly records = new WeakMap<PlanTemplate, readonly ReadRecord[]>();

  /** The read records of template `t`: which operand each read fetches, from where, its box. */
  private readRecords(t: PlanTemplate): readonly ReadRecord[] {
    let out = this.records.get(t);
    if (out) return out;
    const { input: xr, weight: wr } = this.c.gbufRegions;
    out = t.reads.map((q): ReadRecord => {
      if ((q.msg as { expect?: unknown }).expect) throw new InvariantError("sequencer", "a replayed plan carries tags");
      if (q.to === "gbuf" && q.msg.op === "read") {
        const r = q.msg.region;
        if (xr && r === xr[t.gbufHalf.input]) return { kind: INPUT, box: q.msg.box, tensor: undefined };
        if (wr && r === wr[t.gbufHalf.weight]) return { kind: WEIGHT, box: q.msg.box, tensor: undefined };
        throw new InvariantError("sequencer", "a planned read from a GBuf region that holds no operand");
      }
      if (q.to === "dram" && q.msg.op === "read") return { kind: q.msg.tensor === this.c.hw.x ? DRAM_INPUT : DRAM_WEIGHT, box: q.msg.box, tensor: q.msg.tensor };
      throw new InvariantError("sequencer", `a planned read list holds a ${q.to} ${q.msg.op}`);
    });
    this.records.set(t, out);
    return out;
  }

  /**
   * Whether {@link replay} of template `t` at `anchor` from the GBuf halves `gbufHalf` would make
   * the reads of `p`, a replay of `t`: each read from the same region or tensor at the same box
   * (the template's box, moved by the same shift).
   */
  sameReads(p: IterationPlan, t: PlanTemplate, gbufHalf: { readonly input: number; readonly weight: number }, anchor: PlanAnchor): boolean {
    const { input: xr, weight: wr } = this.c.gbufRegions;
    const shift = this.readShift(t.anchor, anchor);
    const records = this.readRecords(t);
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      const q = p.reads[i]!;
      const input = r.kind === INPUT || r.kind === DRAM_INPUT;
      if (q.msg.op !== "read" || q.msg.box.offset !== r.box.offset + (input ? shift.input : shift.weight)) return false;
      if (r.kind === INPUT && (q.msg as { region?: unknown }).region !== xr![gbufHalf.input]) return false;
      if (r.kind === WEIGHT && (q.msg as { region?: unknown }).region !== wr![gbufHalf.weight]) return false;
    }
    return true;
  }

  /**
   * An iteration planned before, again: its reads shifted to the new position (new request
   * objects: the executor keeps a read's payload under its request), its other requests as they
   * are (they carry no ids: the Sequencer assigns them at issue), its MACs. (Its spans: the
   * planner, Residency.deferSpans.)
   */
  replay(t: PlanTemplate, drains: DrainEntry[], gbufHalf: { readonly input: number; readonly weight: number }, anchor: PlanAnchor): IterationPlan {
    const { input: xr, weight: wr } = this.c.gbufRegions;
    const shift = this.readShift(t.anchor, anchor);
    // (new read messages built field by field from the template's read records: the planned
    // messages come in many shapes, and reading or spreading them cost more than the rest)
    const records = this.readRecords(t);
    const reads = new Array<Req>(records.length);
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      if (r.kind === INPUT) reads[i] = { to: "gbuf", msg: { op: "read", region: xr![gbufHalf.input]!, box: moved(r.box, shift.input) } };
      else if (r.kind === WEIGHT) reads[i] = { to: "gbuf", msg: { op: "read", region: wr![gbufHalf.weight]!, box: moved(r.box, shift.weight) } };
      else reads[i] = { to: "dram", msg: { op: "read", tensor: r.tensor!, box: moved(r.box, r.kind === DRAM_INPUT ? shift.input : shift.weight) } };
    }
    // (plain loops: nested maps with closures, at every replay, cost more than their work)
    let k = 0;
    const after = new Array<Deferred>(t.after.length);
    for (let i = 0; i < after.length; i++) {
      const d = t.after[i]!;
      const rs = new Array<Req>(d.reads.length);
      for (let j = 0; j < rs.length; j++) rs[j] = reads[t.afterRead[k++]!]!;
      after[i] = { reads: rs, part: d.part, send: d.send };
    }
    this.c.countMacs(t.macs);
    return iterationPlan({ drains, reads, after, direct: t.direct, moves: t.moves, waves: t.waves, psumFills: t.psumFills, operandFills: t.operandFills, template: t });
  }
}
