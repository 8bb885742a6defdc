/**
 * The plan cache: planned iterations by signature, for replays (unchecked runs only).
 */
import type { PlanTemplate } from "./types.js";


/** A numeric hash of a signature (FNV-1a over each number's low and high 32 bits). */
function hashSignature(sig: Float64Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < sig.length; i++) {
    const v = sig[i]!;
    h = Math.imul(h ^ (v | 0), 16777619);
    h = Math.imul(h ^ ((v / 4294967296) | 0), 16777619);
  }
  return h;
}

/** Whether two signatures are equal, number by number (NaN equal to NaN). */
function sameSignature(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]!) && Number.isNaN(b[i]!))) return false;
  return true;
}

/**
 * Serial numbers of signatures, for keys that name a long signature by a number: equal serials
 * mean equal signatures. Bounded: cleared when the signatures it holds would exceed {@link
 * SignatureSerials.limit} numbers in all (8 MiB), after which a signature seen before gets a new
 * serial (a key then misses: only speed depends on it).
 */
export class SignatureSerials {
  static readonly limit = 1 << 20;
  private readonly byHash = new Map<number, { sig: Float64Array; serial: number }[]>();
  /** Numbers held, all signatures together. */
  private size = 0;
  private next = 1;

  /** The serial of `sig` (copied when new). */
  serial(sig: Float64Array): number {
    const h = hashSignature(sig);
    let bucket = this.byHash.get(h);
    if (bucket) for (const e of bucket) if (sameSignature(e.sig, sig)) return e.serial;
    if (this.size + sig.length > SignatureSerials.limit) {
      this.byHash.clear();
      this.size = 0;
      bucket = undefined;
    }
    if (!bucket) this.byHash.set(h, (bucket = []));
    bucket.push({ sig: sig.slice(), serial: this.next });
    this.size += sig.length;
    return this.next++;
  }
}

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

  find(sig: Float64Array): PlanTemplate | undefined {
    const bucket = this.byHash.get(hashSignature(sig));
    if (bucket) {
      for (const e of bucket) {
        if (!sameSignature(e.sig, sig)) continue;
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
    const h = hashSignature(sig);
    let bucket = this.byHash.get(h);
    if (!bucket) this.byHash.set(h, (bucket = []));
    bucket.push({ sig: sig.slice(), t });
    this.size++;
  }
}
