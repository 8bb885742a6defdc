/**
 * The drain pass (RF -> GBuf or DRAM): the PEs whose partial sums leave, reduced over the
 * neighbour links where PEs that share an output tile form a line, drained over the drain path,
 * summed per output tile and accumulated into the GBuf (or DRAM).
 */
import type { PeRect, PeTagExpect } from "../../pe-array/index.js";
import { accumulate } from "./accumulate.js";
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
  const drains: { id: number; rect: PeRect }[] = [];
  const reqs: Req[] = [];
  for (const [, rects] of rectangles(keys, c.nest.usedRows, cols)) {
    for (const rect of rects) {
      const ext = byPe[rect.row0 * cols + rect.col0]!.tile.ext;
      const box = c.psumBox(ext, byPe[rect.row0 * cols + rect.col0]!.tile.base);
      const id = c.id();
      drains.push({ id, rect });
      let expect: { expect: PeTagExpect } | undefined;
      if (c.checked) {
        const perPe = new Float64Array(rect.rows * rect.cols);
        for (let i = 0; i < rect.rows; i++) {
          for (let j = 0; j < rect.cols; j++) {
            const st = byPe[(rect.row0 + i) * cols + rect.col0 + j]!.tile.start;
            perPe[i * rect.cols + j] = c.yIndex(st[N]!, st[G]!, st[K]!, st[P]!, st[Q]!);
          }
        }
        expect = { expect: { space: TAG_SPACE.output, perPe, strides: c.yTagStrides() } };
      }
      reqs.push({ to: "noc", msg: { op: "drain", id, part: "psum", pes: rect, box, ...expect } });
    }
  }
  yield* x.run(step("drain", reqs));
  // Sum per output tile (spatial reduction on the drain path).
  const sums = new Map<number, { tile: TileCoords; data: Int32Array; tags: Float64Array | undefined }>();
  for (const { id, rect } of drains) {
    const payload = x.take(id);
    const data = payload.data as Int32Array;
    const tags = payload.tags;
    const per = data.length / (rect.rows * rect.cols);
    for (let i = 0; i < rect.rows; i++) {
      for (let j = 0; j < rect.cols; j++) {
        const e = byPe[(rect.row0 + i) * cols + rect.col0 + j]!;
        const at = (i * rect.cols + j) * per;
        const slot = sums.get(e.key);
        if (!slot) {
          sums.set(e.key, { tile: e.tile, data: data.slice(at, at + per), tags: tags ? tags.slice(at, at + per) : undefined });
        } else {
          const d = slot.data;
          for (let k = 0; k < per; k++) d[k] = (d[k]! + data[at + k]!) | 0;
        }
      }
    }
  }
  yield* accumulate(c, x, [...sums.values()], gbufOutput, gbufHas, half, dramHas);
}
