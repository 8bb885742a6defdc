/**
 * The plan cache: planned iterations by signature, for replays (unchecked runs only).
 */
import type { PlanTemplate } from "./types.js";


/**
 * Planned iterations by signature (unchecked runs only: checked plans carry absolute tags). The
 * signature holds everything the transfers, fills and waves of an iteration depend on (see
 * Program.planSignature); two iterations with equal signatures issue the same requests. Bounded:
 * cleared when it holds {@link PlanCache.limit} plans; switched off for the rest of the run when
 * fewer than 1 in 8 of the first {@link PlanCache.trial} lookups hit (then signatures cost more
 * than they save). Neither changes what is simulated, only how fast.
 */
export class PlanCache {
  static readonly limit = 2048;
  static readonly trial = 1024;
  private readonly byHash = new Map<number, { sig: Float64Array; t: PlanTemplate }[]>();
  private size = 0;
  hits = 0;
  misses = 0;

  private off = false;

  /** Whether lookups are still worth their cost (once not, the plans are dropped for good). */
  worthwhile(): boolean {
    if (this.off) return false;
    if (this.hits + this.misses < PlanCache.trial || this.hits * 8 >= this.hits + this.misses) return true;
    this.off = true;
    this.byHash.clear();
    this.size = 0;
    return false;
  }

  private static hash(sig: Float64Array): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < sig.length; i++) {
      const v = sig[i]!;
      h = Math.imul(h ^ (v | 0), 16777619);
      h = Math.imul(h ^ ((v / 4294967296) | 0), 16777619);
    }
    return h;
  }

  find(sig: Float64Array): PlanTemplate | undefined {
    const bucket = this.byHash.get(PlanCache.hash(sig));
    if (bucket) {
      outer: for (const e of bucket) {
        if (e.sig.length !== sig.length) continue;
        for (let i = 0; i < sig.length; i++) if (e.sig[i] !== sig[i] && !(Number.isNaN(e.sig[i]!) && Number.isNaN(sig[i]!))) continue outer;
        this.hits++;
        return e.t;
      }
    }
    this.misses++;
    return undefined;
  }

  store(sig: Float64Array, t: PlanTemplate): void {
    if (this.size >= PlanCache.limit) {
      this.byHash.clear();
      this.size = 0;
    }
    const h = PlanCache.hash(sig);
    let bucket = this.byHash.get(h);
    if (!bucket) this.byHash.set(h, (bucket = []));
    bucket.push({ sig: sig.slice(), t });
    this.size++;
  }
}
