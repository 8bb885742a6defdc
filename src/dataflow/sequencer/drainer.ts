/**
 * The program's drains of psum records (program.ts): each into the current GBuf output tile (or
 * DRAM), its records released to the residency state once it is over, and its key for timeline
 * replay (a drain's signature numbered, read at the iteration's boundary; timeline.ts). An
 * unchecked drain whose key was read at its boundary makes its GBuf requests by that key
 * (accumulate.ts, AccumulateShapes).
 */
import { AccumulateShapes } from "./accumulate.js";
import type { SeqContext } from "./context.js";
import { drainSignature, drainTiles } from "./drain.js";
import type { Executor, Steps } from "./executor.js";
import type { LinkPlanner } from "./links.js";
import { SignatureSerials } from "./plan-cache.js";
import type { Residency } from "./residency.js";
import type { DrainEntry } from "./types.js";

/** Drains of psum records and their timeline keys, for one run's program. */
export class Drainer {
  /** Drain signatures, numbered for timeline keys ({@link key}). */
  private readonly serials = new SignatureSerials();
  /** The drain whose key was read last (at its boundary), and the key. */
  private lastKey: { readonly entries: readonly DrainEntry[]; readonly key: number | undefined } | undefined;
  /** GBuf requests of drains by their key (unchecked runs: accumulate.ts, AccumulateShapes). */
  private readonly shapes = new AccumulateShapes();

  constructor(
    private readonly c: SeqContext,
    private readonly x: Executor,
    private readonly links: LinkPlanner,
    private readonly res: Residency,
  ) {}

  /**
   * An iteration's drain of `drains` (`behind` its wave) as a part of a timeline's key: 0 when
   * none, else the serial of its signature (drain.ts, drainSignature; read before the drain, which
   * changes no state it depends on until then); undefined when such a drain never replays.
   */
  key(drains: readonly DrainEntry[], behind = false): number | undefined {
    if (drains.length === 0) return 0;
    const r = this.res;
    const sig = drainSignature(this.c, this.links, drains, r.gbufOutput, r.gbufOutputHas, this.c.gbufRegions.output?.[r.gbufHalf.output], behind);
    const key = sig ? this.serials.serial(sig) : undefined;
    this.lastKey = { entries: drains, key };
    return key;
  }

  /**
   * Drains `entries` into the current GBuf output tile (or DRAM); the arguments are read now.
   * A drain whose key was read at its boundary (nothing it reads has changed since) makes its
   * GBuf requests by that key; any other unchecked drain by its signature read as it
   * accumulates (drainTiles).
   */
  drain(entries: readonly DrainEntry[]): Steps {
    const r = this.res;
    const k = this.lastKey;
    const mine = k !== undefined && k.entries === entries;
    // (taken once: a batch of psum records drains the same list at each of its issues, psum-batch.ts)
    if (mine) this.lastKey = undefined;
    const shaped = this.c.checked ? undefined : { key: mine ? k.key : undefined, memo: this.shapes, serials: this.serials };
    return this.released(entries, drainTiles(this.c, this.x, this.links, entries, r.gbufOutput, r.gbufOutputHas, r.gbufHalf.output, r.dramHas, shaped));
  }

  /** A drain of `entries`, whose records the residency state takes back once it is over. */
  *released(entries: readonly DrainEntry[], drain: Steps): Steps {
    yield* drain;
    this.res.release(entries);
  }
}
