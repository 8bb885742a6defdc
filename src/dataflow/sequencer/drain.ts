/**
 * The drain pass (RF -> GBuf or DRAM): the PEs whose partial sums leave, reduced over the
 * neighbour links where PEs that share an output tile form a line, drained over the drain path,
 * summed per output tile and accumulated into the GBuf (or DRAM).
 */
import { boxSize, InvariantError, type Box } from "../../core/index.js";
import type { GbufRegion } from "../../memory/index.js";
import type { PeRect, PeTagExpect } from "../../pe-array/index.js";
import { accumulate, accumulateShaped, gbufOutputOffset, gbufOutputStrides, type AccumulateShapes } from "./accumulate.js";
import { NDIMS } from "../nest.js";
import type { SeqContext } from "./context.js";
import { step, type Executor, type Steps } from "./executor.js";
import { rectangles } from "./geometry.js";
import { TAG_SPACE } from "./layout.js";
import type { LinkPlanner } from "./links.js";
import type { SignatureSerials } from "./plan-cache.js";
import { batchOf, type BatchLayout } from "./psum-batch.js";
import { G, K, N, P, Q, type DrainEntry, type OutputTile, type Req } from "./types.js";
/** Scratch of {@link drainSignature} (grown as needed; read before the next call). */
let drainSig = new Float64Array(0);

/**
 * What the timing and counts of draining `entries` (drainTiles, unchecked) depend on, given the
 * state before it, for a timeline's key (timeline.ts); undefined for a drain that is never
 * replayed: a streamed output's or one behind the next wave (they run beside it), one into DRAM.
 * - The serial of the link planner's signature (per entry its PE, its output tile's class, its
 *   psum base and extent: LinkPlanner.signatureSerial). The link reductions, the drain requests
 *   (rectangles, sum slots) and the tiles the accumulate unit writes follow from it.
 * - Per entry, where its tile starts in the GBuf output tile and in the output tensor, relative
 *   to the first entry's, and whether it holds a partial sum already (an accumulate, or a
 *   write): with the shapes above, the requests to the GBuf follow, each box the first entry's
 *   offset plus a fixed displacement (tiles are merged into one request where their places form
 *   one grid in both: transfer.ts, mergeGrid).
 * - Where the first entry's tile starts within a GBuf bank row (the output half's base address
 *   included): a GBuf access schedule depends on a box's start only there (accessCycles).
 * A scratch array, valid until the next call. With `forShape`, also for the drains a timeline
 * never replays but whose GBuf requests follow from it all the same (a streamed output's, one
 * behind the next wave: their timing depends on the running wave, their requests do not).
 *
 * A short form replaces the per-entry pairs where they follow from the rest ({@link uniformHas}):
 * without fused groups, when every record was made in one iteration (its `gen`), each entry's
 * tile starts at that iteration's start plus its PE's offset, so its offset relative to the first
 * entry's is a function of the two PEs, which the link signature lists in order; when every tile
 * also holds a partial sum, or none does, one number says which (the places in the output
 * tensor, linear in the coordinates too, then also follow from the PEs). The short form is
 * `[link serial, -200, has, bank-row start]`; the long form's second number is the first entry's
 * offset relative to itself, 0, so the two never coincide.
 */
export function drainSignature(c: SeqContext, links: LinkPlanner, entries: readonly DrainEntry[], gbufOutput: OutputTile | undefined, gbufHas: Uint8Array | undefined, region: GbufRegion | undefined, behind: boolean, forShape = false): Float64Array | undefined {
  if ((!forShape && (c.streamOut || behind)) || !c.m.gbuf.keep.output || !gbufOutput || !gbufHas || !region) return undefined;
  const serial = links.signatureSerial(entries);
  const st = gbufOutputStrides(c);
  const first = gbufOutputOffset(st, entries[0]!.start, gbufOutput.start);
  const row = c.arch.gbuf.banks * c.arch.gbuf.bankWordBytes;
  const bankStart = (region.baseAddress + first * region.elementBytes) % row;
  const has = uniformHas(c, st, entries, first, gbufHas);
  if (has >= 0) {
    const b = drainShort;
    b[0] = serial;
    b[1] = -200;
    b[2] = has;
    b[3] = bankStart;
    return b;
  }
  const need = 1 + 3 * entries.length + 1;
  if (drainSig.length < need) drainSig = new Float64Array(need);
  const b = drainSig;
  let n = 0;
  b[n++] = serial;
  // (each entry's offset as first's plus its start's difference: gbufOutputOffset per entry,
  // with the GBuf tile's start read anew each time, was most of this function)
  const s0 = entries[0]!.start;
  const [sN, sG, sK, sP] = st as [number, number, number, number];
  const [yN, yG, yK, yP] = c.yTagStrides() as [number, number, number, number];
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!.start;
    const dN = e[N]! - s0[N]!, dG = e[G]! - s0[G]!, dK = e[K]! - s0[K]!, dP = e[P]! - s0[P]!, dQ = e[Q]! - s0[Q]!;
    const rel = dN * sN + dG * sG + dK * sK + dP * sP + dQ;
    b[n++] = rel;
    b[n++] = gbufHas[first + rel]!;
    // (and in the output tensor: tiles that lie evenly in the GBuf but not in y, as a fused
    // group's points across two images, are not merged into one request: accumulate.ts, mergeGrid)
    b[n++] = dN * yN + dG * yG + dK * yK + dP * yP + dQ;
  }
  b[n++] = bankStart;
  return b.subarray(0, n);
}

/** Scratch of {@link drainSignature}'s short form. */
const drainShort = new Float64Array(4);

/** Per context: each PE's offset as a place in the GBuf output tile (strides {@link gbufOutputStrides}). */
const peOutOffsets = new WeakMap<SeqContext, Float64Array>();

/** Per batch layout: its PEs' offsets as places in the GBuf output tile (from {@link peOutOffsets}' list). */
const layoutOffsets = new WeakMap<BatchLayout, Float64Array>();

function batchOffsets(layout: BatchLayout, off: Float64Array): Float64Array {
  let o = layoutOffsets.get(layout);
  if (!o) layoutOffsets.set(layout, (o = Float64Array.from(layout.pes, (pe) => off[pe]!)));
  return o;
}

/**
 * {@link drainSignature}'s short form, when it applies: 1 when every entry's tile holds a partial
 * sum already, 0 when none does, -1 when they differ, the mapping fuses dimensions (a PE's start
 * is then not its iteration's plus its offset), or the records were made in different iterations.
 * `first`: where the first entry's tile starts in the GBuf output tile.
 */
function uniformHas(c: SeqContext, st: readonly number[], entries: readonly DrainEntry[], first: number, gbufHas: Uint8Array): number {
  if (c.nest.groups.length > 0) return -1;
  let off = peOutOffsets.get(c);
  if (!off) {
    const zero = new Int32Array(NDIMS);
    off = Float64Array.from(c.nest.peOffset, (o) => gbufOutputOffset(st, o, zero));
    peOutOffsets.set(c, off);
  }
  const e0 = entries[0]!;
  const h = gbufHas[first]!;
  const at = first - off[e0.pe]!;
  // A batch's records were all made in its iteration; its PEs' offsets are listed once per layout.
  const batch = batchOf(entries);
  if (batch) {
    const offs = batchOffsets(batch.layout, off);
    for (let i = 1; i < offs.length; i++) if (gbufHas[at + offs[i]!] !== h) return -1;
    return h;
  }
  const gen = e0.gen;
  for (let i = 1; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.gen !== gen || gbufHas[at + off[e.pe]!] !== h) return -1;
  }
  return h;
}

/**
 * Drains the given PEs' partial sums, sums PEs that share an output tile (a reduction spread
 * across the array), and adds the sums into the GBuf output tile (or DRAM when the GBuf
 * bypasses outputs).
 */
export function* drainTiles(
  c: SeqContext,
  x: Executor,
  linkPlanner: LinkPlanner,
  entries: readonly DrainEntry[],
  gbufOutput: OutputTile | undefined,
  gbufHas: Uint8Array | undefined,
  half: number,
  dramHas: Uint8Array,
  shaped?: { readonly key: number | undefined; readonly memo: AccumulateShapes; readonly serials: SignatureSerials },
): Steps {
  if (entries.length === 0) return;
  const all = entries;
  // Unchecked: drains whose link signature a recent one had take its shape (drainShape).
  const serial = c.checked ? undefined : linkPlanner.signatureSerial(entries);
  if (c.arch.noc.neighbourLinks) {
    // PEs that share an output tile along a line of the array pass their partial sums down the
    // line over the neighbour links; only the PE at the end of each line is drained.
    const { links, kept } = linkPlanner.plan(entries);
    if (links.length > 0) {
      x.keep(yield step("drain", links));
      entries = kept;
    }
  }
  const { parts, words, slotEntry, slotAt, slotWords } = drainShape(c, linkPlanner, serial, entries);
  const cols = c.nest.usedCols;
  // (checked runs only: each drained PE's entry, for the tags its drain expects)
  const byPe = c.checked ? new Map(entries.map((e) => [e.pe, e])) : undefined;
  const sumId = c.sumId();
  const reqs = new Array<Req>(parts.length);
  for (let k = 0; k < parts.length; k++) {
    const { rect, box, slot } = parts[k]!;
    // (one literal shape, absent fields undefined: docs/design-notes.md, "Hot objects have one
    // shape"). A streamed output's words left the array's edge during their wave, one per line
    // per step (at least as many steps as words per PE): the drain path carried them then.
    const expect = byPe ? drainExpect(c, rect, byPe, cols) : undefined;
    const inFlight = c.streamOut ? boxSize(box.shape) : undefined;
    reqs[k] = { to: "noc", msg: { op: "drain", part: "psum", pes: rect, box, expect, sum: { id: sumId, words, slot, last: k === parts.length - 1 }, inFlight } };
  }
  x.keep(yield step("drain", reqs));
  const total = x.take(reqs[reqs.length - 1]!);
  if (shaped && c.m.gbuf.keep.output && gbufOutput && gbufHas && !total.tags) {
    // Unchecked, with the drain's signature numbered (at its boundary, else now, reading the
    // has-array when accumulate() would), its GBuf requests by that number.
    const sig = shaped.key === undefined ? drainSignature(c, linkPlanner, all, gbufOutput, gbufHas, c.gbufRegions.output?.[half], false, true) : undefined;
    const key = shaped.key ?? (sig ? shaped.serials.serial(sig) : undefined);
    if (key !== undefined) {
      yield* accumulateShaped(c, x, shaped.memo, key, entries, slotEntry, total.data as Int32Array, slotAt, slotWords, gbufOutput, gbufHas, half);
      return;
    }
  }
  const sums = Array.from(slotEntry, (k, i) => ({
    tile: entries[k]!,
    data: (total.data as Int32Array).subarray(slotAt[i]!, slotAt[i]! + slotWords[i]!),
    tags: total.tags ? total.tags.subarray(slotAt[i]!, slotAt[i]! + slotWords[i]!) : undefined,
  }));
  yield* accumulate(c, x, sums, gbufOutput, gbufHas, half, dramHas);
}

/** A drain's requests as they depend on its entries' link signature: rectangles, boxes, sum slots. */
export interface DrainShape {
  /** The link signature's serial (undefined: checked, never reused). */
  readonly serial: number | undefined;
  /** Per drain request: its PEs, the psum box each drains, each PE's slot in the sum. */
  readonly parts: readonly { readonly rect: PeRect; readonly box: Box; readonly slot: Int32Array }[];
  /** Words of the sum (every slot's). */
  readonly words: number;
  /** Per slot (in order): the index among the drained entries of the first PE that fills it, where it starts in the sum, its words. */
  readonly slotEntry: Int32Array;
  readonly slotAt: Int32Array;
  readonly slotWords: Int32Array;
}

/**
 * The shape of a drain of `entries` (after the link reductions): rectangles of PEs with the same
 * tile extent, one sum slot per output tile (first seen first; PEs that share a tile add into
 * its slot). It depends only on the entries' link signature (their PEs, output tile classes,
 * psum bases and extents), so an unchecked drain takes the shape kept for its signature's
 * serial, when a recent drain had it (LinkPlanner.drainShape).
 */
function drainShape(c: SeqContext, links: LinkPlanner, serial: number | undefined, entries: readonly DrainEntry[]): DrainShape {
  const had = serial !== undefined ? links.drainShape(serial) : undefined;
  if (had) return had;
  const pes = c.pes;
  const cols = c.nest.usedCols;
  const keys = (c.drainKeys ??= new Float64Array(pes)).fill(NaN);
  const index = new Int32Array(pes).fill(-1);
  entries.forEach((e, k) => {
    keys[e.pe] = e.extKey;
    index[e.pe] = k;
  });
  const slots = new Map<number, { at: number; words: number }>();
  const slotEntry: number[] = [];
  const slotAt: number[] = [];
  const slotWords: number[] = [];
  let words = 0;
  const parts: { rect: PeRect; box: Box; slot: Int32Array }[] = [];
  for (const [, rects] of rectangles(keys, c.nest.usedRows, cols)) {
    for (const rect of rects) {
      const first = entries[index[rect.row0 * cols + rect.col0]!]!;
      const box = c.psumBox(first.ext, first.base);
      const n = boxSize(box.shape);
      const slot = new Int32Array(rect.rows * rect.cols);
      for (let i = 0; i < rect.rows; i++) {
        for (let j = 0; j < rect.cols; j++) {
          const k = index[(rect.row0 + i) * cols + rect.col0 + j]!;
          const e = entries[k]!;
          let s = slots.get(e.key);
          if (!s) {
            slots.set(e.key, (s = { at: words, words: n }));
            slotEntry.push(k);
            slotAt.push(words);
            slotWords.push(n);
            words += n;
          }
          if (s.words !== n) throw new InvariantError("sequencer", "PEs that share an output tile drain tiles of different sizes");
          slot[i * rect.cols + j] = s.at;
        }
      }
      parts.push({ rect, box, slot });
    }
  }
  const shape: DrainShape = { serial, parts, words, slotEntry: Int32Array.from(slotEntry), slotAt: Int32Array.from(slotAt), slotWords: Int32Array.from(slotWords) };
  if (serial !== undefined) links.keepDrainShape(serial, shape);
  return shape;
}

/** The tags a drain of `rect` expects (checked mode): each PE's output tile's. */
function drainExpect(c: SeqContext, rect: PeRect, byPe: ReadonlyMap<number, DrainEntry>, cols: number): PeTagExpect {
  const perPe = new Float64Array(rect.rows * rect.cols);
  for (let i = 0; i < rect.rows; i++) {
    for (let j = 0; j < rect.cols; j++) {
      const st = byPe.get((rect.row0 + i) * cols + rect.col0 + j)!.start;
      perPe[i * rect.cols + j] = c.yIndex(st[N]!, st[G]!, st[K]!, st[P]!, st[Q]!);
    }
  }
  return { space: TAG_SPACE.output, perPe, strides: c.yTagStrides() };
}
