/**
 * The drain pass (RF -> GBuf or DRAM): the PEs whose partial sums leave, reduced over the
 * neighbour links where PEs that share an output tile form a line, drained over the drain path,
 * summed per output tile and accumulated into the GBuf (or DRAM).
 */
import { boxSize, InvariantError, type Box } from "../../core/index.js";
import type { GbufRegion } from "../../memory/index.js";
import type { PeRect, PeTagExpect } from "../../pe-array/index.js";
import { accumulate, gbufOutputOffset, gbufOutputStrides } from "./accumulate.js";
import type { SeqContext } from "./context.js";
import { step, type Executor, type Steps } from "./executor.js";
import { rectangles } from "./geometry.js";
import { TAG_SPACE } from "./layout.js";
import type { LinkPlanner } from "./links.js";
import { G, K, N, P, Q, type DrainEntry, type OutputTile, type Req, type RfOutTile, type TileCoords } from "./types.js";
/**
 * Takes the partial-sum tiles of the PEs in `mask` (every holder when null) out of the
 * residency state, for {@link drainTiles}.
 */
export function collectDrains(c: SeqContext, rfOut: (RfOutTile | undefined)[], rfOutKey: Float64Array, mask: Uint8Array | null): DrainEntry[] {
  const out: DrainEntry[] = [];
  for (let pe = 0; pe < c.pes; pe++) {
    if ((mask === null || mask[pe]) && rfOut[pe]) {
      out.push({ pe, tile: rfOut[pe]!, key: rfOutKey[pe]! });
      rfOut[pe] = undefined;
      rfOutKey[pe] = NaN;
    }
  }
  return out;
}

/** Scratch of {@link drainSignature} (grown as needed; read before the next call). */
let drainSig = new Float64Array(0);

/**
 * What the timing and counts of draining `entries` (drainTiles, unchecked) depend on, given the
 * state before it, for a timeline's key (timeline.ts); undefined for a drain that is never
 * replayed: a streamed output's or one behind the next wave (they run beside it), one into DRAM.
 * - The link planner's signature: per entry its PE, its output tile's class, its psum base and
 *   extent. The link reductions, the drain requests (rectangles, sum slots) and the tiles the
 *   accumulate unit writes follow from it.
 * - Per entry, where its tile starts in the GBuf output tile, relative to the first entry's, and
 *   whether it holds a partial sum already (an accumulate, or a write): with the shapes above,
 *   the requests to the GBuf follow, each box the first entry's offset plus a fixed displacement.
 * - Where the first entry's tile starts within a GBuf bank row (the output half's base address
 *   included): a GBuf access schedule depends on a box's start only there (accessCycles).
 * A scratch array, valid until the next call.
 */
export function drainSignature(c: SeqContext, links: LinkPlanner, entries: readonly DrainEntry[], gbufOutput: OutputTile | undefined, gbufHas: Uint8Array | undefined, region: GbufRegion | undefined, behind: boolean): Float64Array | undefined {
  if (c.streamOut || behind || !c.m.gbuf.keep.output || !gbufOutput || !gbufHas || !region) return undefined;
  const link = links.signature(entries);
  const need = link.length + 2 * entries.length + 1;
  if (drainSig.length < need) drainSig = new Float64Array(need);
  const b = drainSig;
  b.set(link);
  let n = link.length;
  const st = gbufOutputStrides(c);
  const first = gbufOutputOffset(st, entries[0]!.tile.start, gbufOutput.start);
  for (const e of entries) {
    const off = gbufOutputOffset(st, e.tile.start, gbufOutput.start);
    b[n++] = off - first;
    b[n++] = gbufHas[off]!;
  }
  const row = c.arch.gbuf.banks * c.arch.gbuf.bankWordBytes;
  b[n++] = (region.baseAddress + first * region.elementBytes) % row;
  return b.subarray(0, n);
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
): Steps {
  if (entries.length === 0) return;
  if (c.arch.noc.neighbourLinks) {
    // PEs that share an output tile along a line of the array pass their partial sums down the
    // line over the neighbour links; only the PE at the end of each line is drained.
    const { links, kept } = linkPlanner.plan(entries);
    if (links.length > 0) {
      yield* x.run(step("drain", links));
      entries = kept;
    }
  }
  const pes = c.pes;
  const cols = c.nest.usedCols;
  // (scratch: read only before the first yield below)
  const keys = (c.drainKeys ??= new Float64Array(pes)).fill(NaN);
  const byPe: (DrainEntry | undefined)[] = new Array(pes).fill(undefined);
  for (const e of entries) {
    keys[e.pe] = e.tile.extKey;
    byPe[e.pe] = e;
  }
  // One sum on the drain path: each output tile gets a slot (first seen first), and the PEs that
  // share it add into it there; the last drain returns every slot.
  const slots = new Map<number, { tile: TileCoords; at: number; words: number }>();
  let words = 0;
  const sumId = c.sumId();
  const parts: { rect: PeRect; box: Box; slot: Int32Array }[] = [];
  for (const [, rects] of rectangles(keys, c.nest.usedRows, cols)) {
    for (const rect of rects) {
      const first = byPe[rect.row0 * cols + rect.col0]!;
      const box = c.psumBox(first.tile.ext, first.tile.base);
      const n = boxSize(box.shape);
      const slot = new Int32Array(rect.rows * rect.cols);
      for (let i = 0; i < rect.rows; i++) {
        for (let j = 0; j < rect.cols; j++) {
          const e = byPe[(rect.row0 + i) * cols + rect.col0 + j]!;
          let s = slots.get(e.key);
          if (!s) slots.set(e.key, (s = { tile: e.tile, at: words, words: n }));
          if (s.words !== n) throw new InvariantError("sequencer", "PEs that share an output tile drain tiles of different sizes");
          if (s.at === words) words += n;
          slot[i * rect.cols + j] = s.at;
        }
      }
      parts.push({ rect, box, slot });
    }
  }
  const reqs: Req[] = parts.map(({ rect, box, slot }, k) => ({
    to: "noc",
    msg: {
      op: "drain",
      part: "psum",
      pes: rect,
      box,
      ...drainExpect(c, rect, byPe, cols),
      sum: { id: sumId, words, slot, last: k === parts.length - 1 },
      // A streamed output's words left the array's edge during their wave, one per line per step
      // (at least as many steps as words per PE): the drain path carried them then.
      ...(c.streamOut ? { inFlight: boxSize(box.shape) } : {}),
    },
  }));
  yield* x.run(step("drain", reqs));
  const total = x.take(reqs[reqs.length - 1]!);
  const sums = [...slots.values()].map((s) => ({
    tile: s.tile,
    data: (total.data as Int32Array).subarray(s.at, s.at + s.words),
    tags: total.tags ? total.tags.subarray(s.at, s.at + s.words) : undefined,
  }));
  yield* accumulate(c, x, sums, gbufOutput, gbufHas, half, dramHas);
}

/** The tags a drain of `rect` expects (checked mode): each PE's output tile's. */
function drainExpect(c: SeqContext, rect: PeRect, byPe: readonly (DrainEntry | undefined)[], cols: number): { expect: PeTagExpect } | Record<string, never> {
  if (!c.checked) return {};
  const perPe = new Float64Array(rect.rows * rect.cols);
  for (let i = 0; i < rect.rows; i++) {
    for (let j = 0; j < rect.cols; j++) {
      const st = byPe[(rect.row0 + i) * cols + rect.col0 + j]!.tile.start;
      perPe[i * rect.cols + j] = c.yIndex(st[N]!, st[G]!, st[K]!, st[P]!, st[Q]!);
    }
  }
  return { expect: { space: TAG_SPACE.output, perPe, strides: c.yTagStrides() } };
}
