/**
 * Neighbour-link reductions: PEs that share an output tile and form a line of the array pass
 * their partial sums along the line, so that only the line's end drains. Unchecked runs keep the
 * recent plans by their signature and reuse one when a drain looks the same.
 */
import type { PeRect } from "../../pe-array/index.js";
import type { SeqContext } from "./context.js";
import type { DrainShape } from "./drain.js";
import { sameSignature, SignatureSerials } from "./plan-cache.js";
import { TAG_SPACE } from "./layout.js";
import { batchOf, type BatchLayout } from "./psum-batch.js";
import { G, K, N, P, Q, type DrainEntry, type Req } from "./types.js";

/**
 * A line: a group's PEs in one column with consecutive rows (or one row, consecutive columns);
 * with `idle`, the positions along the line (from `from`) of PEs between them that hold no partial
 * sum (a streamed output's sums pass through them, adding zero).
 */
interface Line {
  readonly axis: "col" | "row";
  readonly fixed: number;
  readonly from: number;
  readonly length: number;
  readonly ext: string;
  readonly members: DrainEntry[];
  readonly idle: readonly number[];
}

/** The smallest of `v` when they are consecutive integers, else -1. */
function consecutive(v: readonly number[]): number {
  const sorted = [...v].sort((a, b) => a - b);
  return sorted.every((x, i) => x === sorted[0]! + i) ? sorted[0]! : -1;
}

/**
 * The positions in [min, max] of `v` (distinct integers) that `v` lacks, when each is a PE no
 * entry holds (`held`: by PE; `at(position)` the PE); undefined when some gap is held.
 */
function freeGaps(v: readonly number[], held: Uint8Array, at: (pos: number) => number): number[] | undefined {
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  const has = new Set(v);
  const gaps: number[] = [];
  for (let x = lo; x <= hi; x++) {
    if (has.has(x)) continue;
    if (held[at(x)]) return undefined;
    gaps.push(x - lo);
  }
  return gaps;
}

/**
 * Groups the entries by output tile; the groups that form a line, and the entries of the others.
 * `gaps` (a streamed output, whose sums flow through every PE of the line during the wave): a
 * group may skip PEs that hold no partial sum at all (idle in the wave); they pass the sums on.
 */
function linesOf(entries: readonly DrainEntry[], cols: number, pes: number, gaps: boolean): { lines: Line[]; kept: DrainEntry[] } {
  const groups = new Map<number, DrainEntry[]>();
  for (const e of entries) {
    let g = groups.get(e.key);
    if (!g) groups.set(e.key, (g = []));
    g.push(e);
  }
  const lines: Line[] = [];
  const kept: DrainEntry[] = [];
  let held: Uint8Array | undefined;
  for (const g of groups.values()) {
    if (g.length < 2) {
      kept.push(...g);
      continue;
    }
    const rs = g.map((e) => Math.floor(e.pe / cols));
    const cs = g.map((e) => e.pe % cols);
    const ext = g[0]!.ext.join(",");
    // A column (or else a row) of the array: its PEs' positions along it, and the PE at each.
    const axis = cs.every((c) => c === cs[0]) ? "col" : rs.every((r) => r === rs[0]) ? "row" : undefined;
    if (!axis) {
      kept.push(...g);
      continue;
    }
    const along = axis === "col" ? rs : cs;
    const fixed = axis === "col" ? cs[0]! : rs[0]!;
    const from = consecutive(along);
    if (from >= 0) {
      lines.push({ axis, fixed, from, length: g.length, ext, members: g, idle: [] });
      continue;
    }
    if (gaps && !held) {
      held = new Uint8Array(pes);
      for (const e of entries) held[e.pe] = 1;
    }
    const idle = gaps ? freeGaps(along, held!, (x) => (axis === "col" ? x * cols + fixed : fixed * cols + x)) : undefined;
    if (idle) {
      const lo = Math.min(...along);
      lines.push({ axis, fixed, from: lo, length: Math.max(...along) - lo + 1, ext, members: g, idle });
    } else {
      kept.push(...g);
    }
  }
  return { lines, kept };
}

/**
 * The index in `entries` of each of `kept` (a subset of them): by PE through `byPe` (a table of
 * at least as many slots as PEs, overwritten) when no PE has two entries, the usual drain (a map
 * keyed by 16,384 entries took 5% of a 128 x 128 array's run), else by identity.
 */
export function entryIndices(kept: readonly DrainEntry[], entries: readonly DrainEntry[], byPe: Int32Array): Int32Array {
  byPe.fill(-1);
  let unique = true;
  for (let i = 0; i < entries.length && unique; i++) {
    const pe = entries[i]!.pe;
    if (byPe[pe] !== -1) unique = false;
    byPe[pe] = i;
  }
  if (unique) return Int32Array.from(kept, (e) => byPe[e.pe]!);
  const at = new Map<DrainEntry, number>();
  entries.forEach((e, i) => at.set(e, i));
  return Int32Array.from(kept, (e) => at.get(e)!);
}

/** Link signatures {@link LinkPlanner.signatureSerial} compares a drain's entries with first. */
const RECENT_SIGNATURES = 2;

/** Link plans and drain shapes kept by serial (a steady state alternates between a few). */
const RECENT_PLANS = 16;

/** Keeps `value` under `key` in `map`, which is emptied first when it holds {@link RECENT_PLANS}. */
function keepRecent<V>(map: Map<number, V>, key: number, value: V): void {
  if (map.size >= RECENT_PLANS) map.clear();
  map.set(key, value);
}

/** The fields of the entries a signature was computed from, for {@link movedAlike}. */
interface EntryFields {
  readonly count: number;
  readonly pe: Int32Array;
  readonly key: Float64Array;
  readonly base: Float64Array;
  readonly shape: Float64Array;
}

/** A recent link signature: the entries last asked about with it, its serial, batch layout and fields. */
interface SerialRecord {
  entries: readonly DrainEntry[];
  readonly sig: Float64Array;
  readonly serial: number;
  layout: BatchLayout | undefined;
  readonly fields: EntryFields;
}

/** The entries' fields, into `reuse`'s arrays when they are long enough. */
function keepFields(entries: readonly DrainEntry[], reuse: EntryFields | undefined): EntryFields {
  const n = entries.length;
  const f = reuse && reuse.pe.length >= n ? reuse : { pe: new Int32Array(n), key: new Float64Array(n), base: new Float64Array(n), shape: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const e = entries[i]!;
    f.pe[i] = e.pe;
    f.key[i] = e.key;
    f.base[i] = e.base;
    f.shape[i] = e.shapeKey;
  }
  return { count: n, pe: f.pe, key: f.key, base: f.base, shape: f.shape };
}

/**
 * Whether `entries` are the PEs of the entries `f` was kept from, in order, with the same psum
 * bases and extents, and every output tile key moved by one integer amount: the link signature is
 * then the same (keys are integers, so equal keys stay equal and distinct ones distinct, and the
 * classes come out alike), found without a map of the keys. A drain of every PE at every
 * iteration (`is` and `ws` on the `chen2020` preset) is this case.
 */
function movedAlike(entries: readonly DrainEntry[], f: EntryFields): boolean {
  const n = entries.length;
  if (n !== f.count || n === 0) return false;
  const by = entries[0]!.key - f.key[0]!;
  if (!Number.isInteger(by)) return false;
  for (let i = 0; i < n; i++) {
    const e = entries[i]!;
    if (e.pe !== f.pe[i] || e.key - f.key[i]! !== by || e.base !== f.base[i] || e.shapeKey !== f.shape[i]) return false;
  }
  return true;
}

/** Plans the link reductions of a drain (see the file header). */
export class LinkPlanner {
  constructor(private readonly c: SeqContext) {}

  /**   * Plans neighbour-link reductions for the PEs about to drain: a group of PEs that share one
   * output tile and fill a vertical (horizontal) segment of the array, beside other such groups
   * with the same segment and tile shape, is one `reduce` towards the segment's top (left) end.
   * Returns the link requests and the entries left to drain (the ends, and every PE not reduced).
   */
  plan(entries: readonly DrainEntry[]): { links: Req[]; kept: DrainEntry[] } {
    if (this.c.checked) return this.planLinkReductions(entries);
    // Unchecked, the plan depends only on each entry's PE, which entries share an output tile,
    // and the tile's extent and psum base (checked plans also carry the tiles' absolute tags):
    // an iteration that drains like an earlier one reuses its plan (requests carry no ids).
    const serial = this.signatureSerial(entries);
    const had = this.linkPlans.get(serial);
    if (had) {
      // (a plain loop: Array.from with a mapping, at every drain, cost more than the rest)
      const kept = new Array<DrainEntry>(had.kept.length);
      for (let i = 0; i < kept.length; i++) kept[i] = entries[had.kept[i]!]!;
      return { links: had.links.slice(), kept };
    }
    const plan = this.planLinkReductions(entries);
    keepRecent(this.linkPlans, serial, { links: plan.links, kept: entryIndices(plan.kept, entries, (this.byPe ??= new Int32Array(this.c.pes))) });
    return plan;
  }

  /**
   * The serial of the entries' {@link signature} (unchecked runs): equal serials, equal
   * signatures. Drains in a steady state repeat one of the last {@link RECENT_SIGNATURES}
   * signatures (two when the psums alternate between two halves, as double-buffered outputs do),
   * which are compared first; only a new one is hashed (a drain of every PE has a signature of
   * about 1,800 numbers).
   */
  signatureSerial(entries: readonly DrainEntry[]): number {
    const recent = this.recent;
    // (asked twice for one list: by the timeline's key and by the drain)
    for (const r of recent) if (r.entries === entries) return r.serial;
    // (a batch's list whole, of a recent one's layout: the same PEs, bases and extents, keys
    // moved by one integer amount, as movedAlike finds entry by entry)
    const layout = batchOf(entries)?.layout;
    for (let i = 0; i < recent.length; i++) {
      const r = recent[i]!;
      if ((layout && r.layout === layout) || movedAlike(entries, r.fields)) return this.promote(i, entries, layout);
    }
    const sig = this.signature(entries);
    const same = recent.findIndex((r) => sameSignature(r.sig, sig));
    if (same >= 0) return this.promote(same, entries, layout);
    // A new record in front (the oldest one's field arrays reused).
    const old = recent.length >= RECENT_SIGNATURES ? recent.pop() : undefined;
    const record: SerialRecord = { entries, sig: sig.slice(), serial: this.serials.serial(sig), layout, fields: keepFields(entries, old?.fields) };
    recent.unshift(record);
    return record.serial;
  }

  /**
   * Recent record `i`, now for `entries`, to the front (swapped with the first: the order only
   * decides which is compared first); returns its serial. Updated in place: this runs at nearly
   * every drain.
   */
  private promote(i: number, entries: readonly DrainEntry[], layout: BatchLayout | undefined): number {
    const recent = this.recent;
    const r = recent[i]!;
    r.entries = entries;
    r.layout = layout;
    if (i > 0) {
      recent[i] = recent[0]!;
      recent[0] = r;
    }
    return r.serial;
  }

  /** The drain shape kept for a link signature's serial (drain.ts, drainShape), if a recent drain had it. */
  drainShape(serial: number): DrainShape | undefined {
    return this.drainShapes.get(serial);
  }

  /** Keeps a drain's shape for its link signature's serial. */
  keepDrainShape(serial: number, shape: DrainShape): void {
    keepRecent(this.drainShapes, serial, shape);
  }

  /** Unchecked drain shapes by their link signature's serial; cleared when full. */
  private readonly drainShapes = new Map<number, DrainShape>();

  /** Serials of link signatures, and the last ones asked for, most recent first (their signatures copied). */
  private readonly serials = new SignatureSerials();
  private readonly recent: SerialRecord[] = [];

  /** Unchecked link plans by their signature's serial: requests and kept entries (indices); cleared when full. */
  private readonly linkPlans = new Map<number, { readonly links: readonly Req[]; readonly kept: Int32Array }>();
  /** {@link entryIndices}' table. */
  private byPe: Int32Array | undefined;
  private linkSig = new Float64Array(0);

  /**
   * Per entry: its PE, its output tile's class (first-seen order), its psum base and extent (as
   * its key over every dimension, RfOutTile.shapeKey): all an unchecked link plan depends on (a
   * scratch array, valid until the next call; asked for by {@link signatureSerial} only, which
   * answers a list it was asked about last without it).
   */
  private signature(entries: readonly DrainEntry[]): Float64Array {
    const per = 4;
    if (this.linkSig.length < entries.length * per) this.linkSig = new Float64Array(entries.length * per);
    const b = this.linkSig;
    // (a new map, not a kept one cleared: docs/design-notes.md, "Maps that churn")
    const cls = new Map<number, number>();
    let n = 0;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      let c = cls.get(e.key);
      if (c === undefined) cls.set(e.key, (c = cls.size));
      b[n++] = e.pe;
      b[n++] = c;
      b[n++] = e.base;
      b[n++] = e.shapeKey;
    }
    return b.subarray(0, n);
  }

  private planLinkReductions(entries: readonly DrainEntry[]): { links: Req[]; kept: DrainEntry[] } {
    const cols = this.c.nest.usedCols;
    const { lines, kept } = linesOf(entries, cols, this.c.pes, this.c.streamOut);
    // Side-by-side lines with the same span, idle PEs and tile shape form one rectangle.
    const bands = new Map<string, Line[]>();
    for (const l of lines) {
      const key = `${l.axis}:${l.from}:${l.length}:${l.ext}:${l.idle.join(".")}`;
      let b = bands.get(key);
      if (!b) bands.set(key, (b = []));
      b.push(l);
    }
    const links: Req[] = [];
    for (const band of bands.values()) {
      band.sort((a, b) => a.fixed - b.fixed);
      let run: Line[] = [];
      const emit = () => {
        if (run.length === 0) return;
        const first = run[0]!;
        const vertical = first.axis === "col";
        const pes: PeRect = vertical
          ? { row0: first.from, col0: first.fixed, rows: first.length, cols: run.length }
          : { row0: first.fixed, col0: first.from, rows: run.length, cols: first.length };
        const tile = first.members[0]!;
        const box = this.c.psumBox(tile.ext, tile.base);
        const perPe = new Float64Array(pes.rows * pes.cols);
        const idle = first.idle.length > 0 ? new Uint8Array(pes.rows * pes.cols) : undefined;
        for (const [k, l] of run.entries()) {
          for (const e of l.members) {
            const st = e.start;
            const i = Math.floor(e.pe / cols) - pes.row0;
            const j = (e.pe % cols) - pes.col0;
            perPe[i * pes.cols + j] = this.c.yIndex(st[N]!, st[G]!, st[K]!, st[P]!, st[Q]!);
          }
          // An idle PE's cleared words take the line's tile's tags (the sums pass through it).
          const st = l.members[0]!.start;
          for (const pos of l.idle) {
            const at = vertical ? pos * pes.cols + k : k * pes.cols + pos;
            idle![at] = 1;
            perPe[at] = this.c.yIndex(st[N]!, st[G]!, st[K]!, st[P]!, st[Q]!);
          }
          // The line's end (top row, or left column) keeps the sum and is drained.
          kept.push(l.members.find((e) => (vertical ? Math.floor(e.pe / cols) : e.pe % cols) === l.from)!);
        }
        // A streamed output's sums flowed along the line during their wave (docs/timing.md).
        const inFlight = this.c.psumFlow === (vertical ? "down" : "right");
        const expect = this.c.checked ? { expect: { space: TAG_SPACE.output, perPe, strides: this.c.yTagStrides() } } : {};
        links.push({ to: "noc", msg: { op: "link", link: { kind: "reduce", part: "psum", pes, dir: vertical ? "north" : "west", box, ...expect, ...(inFlight ? { inFlight } : {}), ...(idle ? { idle } : {}) } } });
        run = [];
      };
      for (const l of band) {
        if (run.length > 0 && l.fixed !== run[run.length - 1]!.fixed + 1) emit();
        run.push(l);
      }
      emit();
    }
    return { links, kept };
  }
}
