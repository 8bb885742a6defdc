/**
 * The residency state: what each level holds at the current point of the nest. The GBuf's tiles
 * (which half, which tile, which output words already hold a partial sum), DRAM's output words
 * that hold one, and per PE the operand tiles, input span and psum tile in its register file,
 * plus the current iteration's PE tiles (start, extent, activity). The passes read it; the
 * iteration planner and the program update it. It holds keys and coordinates, never data.
 */
import { NDIMS, startKey } from "../nest.js";
import type { SeqContext } from "./context.js";
import { BatchEntry, BatchLayout, batchOf, type PsumBatch } from "./psum-batch.js";
import { ALL_DIMS, OUTPUT_DIMS, type GbufInputTile, type InputSpan, type OutputTile, type DrainEntry, type SpanGroup } from "./types.js";

/** A PE's psum tile record; mutable only here, where finished ones are made again. */
class PsumTile implements DrainEntry {
  constructor(
    public pe: number,
    public key: number,
    public readonly start: Int32Array,
    public ext: Int32Array,
    public base: number,
    public extKey: number,
    public shapeKey: number,
    public gen: number,
  ) {}
}

/** A replayed plan's span groups not yet written ({@link Residency.deferSpans}). */
interface PendingSpans {
  readonly groups: readonly SpanGroup[];
  readonly id: number;
  readonly iterStart: Int32Array;
  /** Per PE, its extent in the placement then (ReachState.ext: an active PE's is Residency.peExt's). */
  readonly extOf: readonly Int32Array[];
  readonly serial0: number;
}

/** The PEs' placement for one reach (Residency.placeByReach), and its psum batch layouts by psum base. */
interface ReachState {
  readonly active: Uint8Array;
  readonly ext: readonly Int32Array[];
  readonly outExtKey: Float64Array;
  readonly extKey: Float64Array;
  readonly layouts: Map<number, BatchLayout>;
}

/** No offset (fused groups: a PE's start is its own, placed anew). */
const ZERO_OFFSET = new Int32Array(NDIMS);

/** The residency state of one run (see the file header). */
export class Residency {
  /** The GBuf's tile of each tensor (start key; NaN: none) and the half it sits in. */
  readonly gbufKey = { input: NaN, weight: NaN, output: NaN };
  readonly gbufHalf = { input: 0, weight: 0, output: 0 };
  gbufInput: GbufInputTile | undefined;
  gbufWeight: OutputTile | undefined;
  gbufOutput: OutputTile | undefined;
  /** Per word of the GBuf output tile: whether it holds a partial sum. */
  gbufOutputHas: Uint8Array | undefined;
  /** Per output word in DRAM: whether it holds a partial sum. */
  readonly dramHas: Uint8Array;
  /** Operand tiles resident in the RFs: per half (one unless the RFs are double-buffered), per PE. */
  readonly rfKeys: { readonly input: Float64Array[]; readonly weight: Float64Array[] };
  /** The half each operand's next wave reads. */
  readonly rfHalf = { input: 0, weight: 0 };
  /**
   * Single-buffered: the input span each PE holds (for halo reuse); shared by PEs that share it.
   * Read it through {@link spans}, which first writes the spans of a replayed plan ({@link deferSpans}).
   */
  private readonly inputSpans: (InputSpan | undefined)[];
  /**
   * The span groups of the last replayed plan with any, their spans not yet made and written per
   * PE: the groups, their number by content (-1: none), the iteration's start, the placement's
   * extents then, and the serial of the first group's span (taken when the plan replayed).
   */
  private pendingSpans: PendingSpans | undefined;
  private readonly spanStart = new Int32Array(NDIMS);
  /**
   * Each PE's psum tile (key and tile; NaN / undefined: none), with a batch the active PEs hold
   * written first ({@link holdBatch}).
   */
  get rfOutKey(): Float64Array {
    if (this.heldBatch) this.writeBatch();
    return this.outKeys;
  }

  get rfOut(): (DrainEntry | undefined)[] {
    if (this.heldBatch) this.writeBatch();
    return this.outTiles;
  }

  private readonly outKeys: Float64Array;
  private readonly outTiles: (DrainEntry | undefined)[];
  /**
   * The batch of psum records the active PEs hold (psum-batch.ts), not yet written per PE: while
   * it is, those PEs' entries in {@link outKeys} and {@link outTiles} are empty.
   */
  private heldBatch: PsumBatch | undefined;
  /** The PEs' tile starts as last brought up to date ({@link peStart}), and the iteration start they were brought to. */
  private readonly starts: Int32Array[];
  private readonly startsAt = new Int32Array(NDIMS);
  /** The PEs' offsets (the nest's), and whether the mapping fuses dimensions (a PE's start is then placed anew). */
  private readonly offsets: readonly Int32Array[];
  private readonly fused: boolean;
  readonly iterStart = new Int32Array(NDIMS);
  /** Each PE's tile extent (arrays are replaced, never changed, when the reach changes: a tile may keep one). */
  readonly peExt: Int32Array[];
  readonly peOutExtKey: Float64Array;
  /** Each active PE's extent over every dimension, as a key ({@link startKey}): its wave's shape. */
  readonly peExtKey: Float64Array;
  readonly peActive: Uint8Array;
  /**
   * Per dimension, how far the current iteration's PEs reach before the layer's edge (clipped
   * tiles; -1: none planned yet).
   */
  readonly peClip = new Int32Array(NDIMS).fill(-1);
  /** How many iterations {@link moveTo} has moved to (a psum tile record's `gen`). */
  private gen = 0;
  private readonly extScratch = new Int32Array(NDIMS);
  /** Unchecked runs: psum tile records whose drain is over, made again by {@link psumTile}. */
  private readonly freeTiles: PsumTile[] = [];

  constructor(private readonly c: SeqContext) {
    const pes = c.pes;
    this.dramHas = new Uint8Array(c.shape.outputElements);
    const keys = () => [new Float64Array(pes).fill(NaN), new Float64Array(pes).fill(NaN)];
    this.rfKeys = { input: keys(), weight: keys() };
    this.inputSpans = new Array<InputSpan | undefined>(pes).fill(undefined);
    this.outKeys = new Float64Array(pes).fill(NaN);
    this.outTiles = new Array<DrainEntry | undefined>(pes).fill(undefined);
    this.offsets = c.nest.peOffset;
    this.fused = c.nest.groups.length > 0;
    this.starts = this.offsets.map((off) => new Int32Array(off));
    this.peExt = Array.from({ length: pes }, () => new Int32Array(NDIMS));
    this.peOutExtKey = new Float64Array(pes);
    this.peExtKey = new Float64Array(pes);
    this.peActive = new Uint8Array(pes);
  }

  /**
   * PE `pe`'s new psum tile record, starting where the PE's tile does now: a record of a finished
   * drain ({@link release}) when there is one (unchecked runs: a drain of every PE at every
   * iteration made 58 M records on AlexNet conv2 with `is`, their allocation 8% of its time).
   */
  psumTile(pe: number, key: number, base: number, extKey: number): DrainEntry {
    let t = this.freeTiles.pop();
    if (t) {
      t.pe = pe;
      t.key = key;
      t.gen = this.gen;
    } else {
      t = new PsumTile(pe, key, new Int32Array(NDIMS), this.peExt[pe]!, base, extKey, this.peExtKey[pe]!, this.gen);
    }
    // (eight stores into a typed array of the record's own: a loop into a plain array was most
    // of this function's time). The PE's start: the iteration's plus its offset, without fused
    // groups (the PEs' starts are then not brought up to date here: peStart).
    const s = t.start;
    const st = this.fused ? this.peStart[pe]! : this.iterStart;
    const off = this.fused ? ZERO_OFFSET : this.offsets[pe]!;
    s[0] = st[0]! + off[0]!;
    s[1] = st[1]! + off[1]!;
    s[2] = st[2]! + off[2]!;
    s[3] = st[3]! + off[3]!;
    s[4] = st[4]! + off[4]!;
    s[5] = st[5]! + off[5]!;
    s[6] = st[6]! + off[6]!;
    s[7] = st[7]! + off[7]!;
    t.ext = this.peExt[pe]!;
    t.base = base;
    t.extKey = extKey;
    t.shapeKey = this.peExtKey[pe]!;
    return t;
  }

  /** The input span each PE holds ({@link inputSpans}), with any deferred spans written first. */
  spans(): (InputSpan | undefined)[] {
    const p = this.pendingSpans;
    if (p) {
      this.pendingSpans = undefined;
      this.writeSpans(p, null);
    }
    return this.inputSpans;
  }

  /** Makes and writes the spans of a deferred set's groups (`only`: those indices, else all). */
  private writeSpans(p: PendingSpans, only: Int32Array | null): void {
    const spans = this.inputSpans;
    const start = this.spanStart;
    const n = only ? only.length : p.groups.length;
    for (let i = 0; i < n; i++) {
      const k = only ? only[i]! : i;
      const g = p.groups[k]!;
      const off = this.offsets[g.pe0]!;
      for (let d = 0; d < NDIMS; d++) start[d] = p.iterStart[d]! + off[d]!;
      const span = this.c.spanWith(start, p.extOf[g.pe0]!, g.dense, p.serial0 + k);
      for (let j = 0; j < g.pes.length; j++) spans[g.pes[j]!] = span;
    }
  }

  /**
   * The groups of `old` with a PE that no group of `now` covers: only theirs must be written
   * before `now` replaces `old` unread (the others' PEs get `now`'s spans). Kept per pair.
   */
  private uncovered(old: readonly SpanGroup[], now: readonly SpanGroup[]): Int32Array {
    let byNew = this.uncoveredMemo.get(old);
    if (!byNew) this.uncoveredMemo.set(old, (byNew = new Map()));
    let idx = byNew.get(now);
    if (!idx) {
      const covered = new Uint8Array(this.c.pes);
      for (const g of now) for (let j = 0; j < g.pes.length; j++) covered[g.pes[j]!] = 1;
      const out: number[] = [];
      for (let k = 0; k < old.length; k++) {
        const pes = old[k]!.pes;
        for (let j = 0; j < pes.length; j++) {
          if (!covered[pes[j]!]) {
            out.push(k);
            break;
          }
        }
      }
      if (byNew.size >= 16) byNew.clear();
      byNew.set(now, (idx = Int32Array.from(out)));
    }
    return idx;
  }

  /** {@link uncovered}'s answers, by the set replaced and the set replacing it. */
  private readonly uncoveredMemo = new WeakMap<readonly SpanGroup[], Map<readonly SpanGroup[], Int32Array>>();

  /**
   * Gives each PE of each span group of a replayed plan (numbered `id` by content, -1: not
   * numbered) the span its group's first PE's tile now reads, as a replay does, but made and
   * written only when the spans are next read ({@link spans}): most replays' spans are replaced by
   * the next replay's before anything reads them (the plan signature's span form names them by
   * their groups). Without fused groups only (a PE's start is then the iteration's plus its
   * offset); the serials are taken now, so every span gets the number it would have had. Of a
   * pending set of other groups, only the groups with a PE the new ones do not cover are written
   * first ({@link uncovered}).
   */
  deferSpans(groups: readonly SpanGroup[], id: number): void {
    // (no groups: nothing to write, a pending set stays pending; `is` on AlexNet conv2 replays
    // sets of 168 and 156 PEs with one of none between them)
    if (groups.length === 0) return;
    const p = this.pendingSpans;
    if (p && (id < 0 || p.id !== id)) {
      this.pendingSpans = undefined;
      // (only without fused groups is a set left pending)
      const only = this.uncovered(p.groups, groups);
      if (only.length > 0) this.writeSpans(p, only);
    }
    if (this.fused) {
      // (fused groups: each PE placed anew, the spans made now)
      const spans = this.inputSpans;
      const serial0 = this.c.reserveSpans(groups.length);
      for (let k = 0; k < groups.length; k++) {
        const g = groups[k]!;
        const span = this.c.spanWith(this.peStart[g.pe0]!, this.peExt[g.pe0]!, g.dense, serial0 + k);
        for (let i = 0; i < g.pes.length; i++) spans[g.pes[i]!] = span;
      }
      return;
    }
    // (the set replaced lends its start array to the new one: no other reference to it)
    const iterStart = p ? p.iterStart : new Int32Array(NDIMS);
    iterStart.set(this.iterStart);
    // (a group's first PE is active: its extent is the placement's, kept, never changed)
    this.pendingSpans = { groups, id, iterStart, extOf: this.reach!.ext, serial0: this.c.reserveSpans(groups.length) };
  }

  /**
   * Takes the partial-sum tiles of the PEs in `mask` (every holder when null) out of the state,
   * for a drain (drain.ts, drainTiles). Counts in {@link psumEpoch}.
   */
  takePsums(mask: Uint8Array | null): DrainEntry[] {
    this.psumEpoch++;
    const { rfOut, rfOutKey } = this;
    const out: DrainEntry[] = [];
    for (let pe = 0; pe < this.c.pes; pe++) {
      if ((mask === null || mask[pe]) && rfOut[pe]) {
        out.push(rfOut[pe]!);
        rfOut[pe] = undefined;
        rfOutKey[pe] = NaN;
      }
    }
    return out;
  }

  /** How many times {@link takePsums} has run: the psum tiles held change only there and where the planner gives new ones. */
  psumEpoch = 0;
  /** How many times {@link moveTo} has placed the PEs anew (their activity and extents may have changed). */
  placeEpoch = 0;

  /**
   * Takes back the records of a drain that is over (unchecked runs): nothing reads them after it
   * (the drain's plans and memos keep indices, and compare lists by identity, not records).
   */
  release(entries: readonly DrainEntry[]): void {
    if (this.c.checked) return;
    const b = batchOf(entries);
    if (b) {
      b.released(entries.length);
      return;
    }
    for (const e of entries) {
      if (e instanceof BatchEntry) e.owner.released(1);
      else this.freeTiles.push(e as PsumTile);
    }
  }

  /**
   * Every active PE gets a new psum tile, one record each of a batch for this placement and psum
   * base (psum-batch.ts): the iteration planner's case where the drain has just taken every
   * active PE's tile (so none holds one; idle PEs keep theirs, which no active PE's key names).
   * `offKeys`: each PE's output key offset (its key: `outKey0` plus it). Returns the batch's
   * layout (its psumKeys).
   */
  holdBatch(outKey0: number, base: number, offKeys: Float64Array): BatchLayout {
    if (this.heldBatch) this.writeBatch();
    const layout = this.batchLayout(base, offKeys);
    this.heldBatch = layout.take(this.iterStart, outKey0, this.gen);
    return layout;
  }

  /**
   * The drain of every active PE's tile and no idle PE's (iteration.ts, drains: none of theirs
   * leaves): the held batch's list whole when there is one, else takePsums.
   */
  takeActive(): DrainEntry[] {
    const b = this.heldBatch;
    if (!b) return this.takePsums(this.peActive);
    this.psumEpoch++;
    this.heldBatch = undefined;
    return b.list;
  }

  /** Writes the held batch's records per PE (their entries were empty). */
  private writeBatch(): void {
    const b = this.heldBatch!;
    this.heldBatch = undefined;
    for (const e of b.list) {
      this.outTiles[e.pe] = e;
      this.outKeys[e.pe] = e.key;
    }
  }

  /** The batch layout of the current placement (without fused groups) and psum base, made once per reach met. */
  private batchLayout(base: number, offKeys: Float64Array): BatchLayout {
    const r = this.reach!;
    let l = r.layouts.get(base);
    if (!l) {
      const pes = Int32Array.from(Array.from(this.peActive).flatMap((a, pe) => (a ? [pe] : [])));
      const at = (xs: ArrayLike<number>) => Float64Array.from(pes, (pe) => xs[pe]!);
      l = new BatchLayout(pes, Array.from(pes, (pe) => this.peExt[pe]!), at(this.peOutExtKey), at(this.peExtKey), at(offKeys), Array.from(pes, (pe) => this.offsets[pe]!), base, this.c.pes);
      r.layouts.set(base, l);
    }
    return l;
  }

  /**
   * Moves the PEs' tiles to a gbuf iteration starting at `gStart`: their starts move with it (when
   * next read: {@link peStart}); their extents and activity depend only on how far they reach
   * before the layer's edge, recomputed when that changes. With fused groups, `folds` gives each
   * group's first flattened index: every PE's point of the group is placed anew (an index past
   * the tile's points leaves the PE idle), and extents and activity are recomputed.
   */
  moveTo(gStart: Int32Array, folds?: Int32Array): void {
    const { nest, peReach } = this.c;
    const sizes = nest.sizes;
    this.gen++;
    let reachChanged = false;
    for (let d = 0; d < NDIMS; d++) {
      // (the PEs' starts follow when read: peStart)
      this.iterStart[d] = gStart[d]!;
      const reach = Math.min(sizes[d]! - gStart[d]!, peReach[d]!);
      if (reach !== this.peClip[d]) {
        this.peClip[d] = reach;
        reachChanged = true;
      }
    }
    const groups = nest.groups.length;
    if (!reachChanged && groups === 0) return;
    this.placeEpoch++;
    if (groups > 0) {
      this.place(gStart, folds);
      return;
    }
    const key = this.reachKey();
    if (this.placeByReach(key)) return;
    this.place(gStart, folds);
    this.keepReach(key);
  }

  /**
   * Each PE's tile start: the gbuf iteration's start ({@link iterStart}) plus the PE's offset
   * (with fused groups, the fused dimensions as {@link place} put them). {@link moveTo} moves
   * only the iteration's start; the PEs' follow here, when read, by how far it moved since (a
   * replayed iteration reads none: its psum records take the iteration's start plus the offset).
   */
  get peStart(): Int32Array[] {
    const at = this.startsAt;
    const it = this.iterStart;
    for (let d = 0; d < NDIMS; d++) {
      const dv = it[d]! - at[d]!;
      if (dv === 0) continue;
      for (const st of this.starts) st[d]! += dv;
      at[d] = it[d]!;
    }
    return this.starts;
  }

  /**
   * Without fused groups, a PE's extent and activity depend only on its offset and how far the
   * PEs reach ({@link peClip}): `min(stride, sizes - gStart - offset)` per dimension, clamped, is
   * the full stride wherever the reach is not clipped, and else a function of the reach. So each
   * reach met once is kept (the active PEs' extents and keys) and set again when it recurs, as a
   * kernel loop of the gbuf level clipped at every other iteration does (`os` on AlexNet conv2:
   * making the extents anew was a fifth of its time). Inactive PEs keep what they had, as in
   * {@link place}. `key`: the reach ({@link reachKey}).
   */
  private placeByReach(key: number): boolean {
    const s = this.reachStates.get(key);
    if (!s) return false;
    this.reach = s;
    this.peActive.set(s.active);
    for (let pe = 0; pe < this.c.pes; pe++) {
      if (!s.active[pe]) continue;
      this.peExt[pe] = s.ext[pe]!;
      this.peOutExtKey[pe] = s.outExtKey[pe]!;
      this.peExtKey[pe] = s.extKey[pe]!;
    }
    return true;
  }

  /** Keeps the PEs' placement for the reach `key` ({@link placeByReach}); a new map once 64 are kept. */
  private keepReach(key: number): void {
    if (this.reachStates.size >= 64) this.reachStates = new Map();
    this.reach = { active: this.peActive.slice(), ext: this.peExt.slice(), outExtKey: this.peOutExtKey.slice(), extKey: this.peExtKey.slice(), layouts: new Map() };
    this.reachStates.set(key, this.reach);
  }

  /** The current reach as one number (mixed radix: a reach is at most the PEs' full reach). */
  private reachKey(): number {
    const r = this.c.peReach;
    let k = 0;
    for (let d = 0; d < NDIMS; d++) k = k * (r[d]! + 1) + this.peClip[d]!;
    return k;
  }

  /** PE placements by reach ({@link placeByReach}). */
  private reachStates = new Map<number, ReachState>();
  /** The current placement's ({@link placeByReach}; undefined before the first, or with fused groups). */
  private reach: ReachState | undefined;

  /** Places every PE anew: activity, and the extent with its keys where it changed. */
  private place(gStart: Int32Array, folds: Int32Array | undefined): void {
    const { nest, pes } = this.c;
    const sizes = nest.sizes;
    const groups = nest.groups.length;
    const starts = this.peStart;
    for (let pe = 0; pe < pes; pe++) {
      const st = starts[pe]!;
      let active = 1;
      for (let g = 0; g < groups; g++) if (!nest.placeFused(g, gStart, folds![g]! + nest.peFold[pe]![g]!, st)) active = 0;
      for (let d = 0; d < NDIMS; d++) if (st[d]! >= sizes[d]!) active = 0;
      this.peActive[pe] = active;
      if (active) {
        // (the keys follow from the extent: recomputed only with it; plain loops, not a closure
        // per PE, as fused groups come here every iteration)
        const ext = nest.extent(st, nest.rfStride, this.extScratch);
        const had = this.peExt[pe]!;
        let same = true;
        for (let d = 0; d < NDIMS && same; d++) same = ext[d] === had[d];
        if (!same) {
          const now = ext.slice();
          this.peExt[pe] = now;
          this.peOutExtKey[pe] = startKey(now, OUTPUT_DIMS, sizes);
          this.peExtKey[pe] = startKey(now, ALL_DIMS, sizes);
        }
      }
    }
  }
}
