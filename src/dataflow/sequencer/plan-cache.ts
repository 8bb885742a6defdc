/**
 * The plan cache: planned iterations by signature, for replays (unchecked runs only).
 */
import type { PlanTemplate } from "./types.js";


/** FNV-1a's prime. */
const FNV = 16777619;

/**
 * A numeric hash of a signature: FNV-1a over each number's low 32 bits, and its high 32 bits when
 * it is not a 32-bit integer (signatures are mostly small integers), in four interleaved lanes
 * combined at the end. One lane is a chain of dependent multiplies; four run about 3.7 times as
 * fast, and a drain signature of 2,100 numbers is hashed at every drain.
 */
function hashSignature(sig: Float64Array): number {
  let h0 = 0x811c9dc5, h1 = 0x9e3779b9, h2 = 0x85ebca6b, h3 = 0xc2b2ae35;
  const n = sig.length;
  const whole = n & ~3;
  let i = 0;
  for (; i < whole; i += 4) {
    const a = sig[i]!, b = sig[i + 1]!, c = sig[i + 2]!, d = sig[i + 3]!;
    const la = a | 0, lb = b | 0, lc = c | 0, ld = d | 0;
    h0 = Math.imul(h0 ^ la, FNV);
    h1 = Math.imul(h1 ^ lb, FNV);
    h2 = Math.imul(h2 ^ lc, FNV);
    h3 = Math.imul(h3 ^ ld, FNV);
    if (la !== a || lb !== b || lc !== c || ld !== d) {
      h0 = Math.imul(h0 ^ ((a / 4294967296) | 0), FNV);
      h1 = Math.imul(h1 ^ ((b / 4294967296) | 0), FNV);
      h2 = Math.imul(h2 ^ ((c / 4294967296) | 0), FNV);
      h3 = Math.imul(h3 ^ ((d / 4294967296) | 0), FNV);
    }
  }
  for (; i < n; i++) {
    const v = sig[i]!;
    const lo = v | 0;
    h0 = Math.imul(h0 ^ lo, FNV);
    if (lo !== v) h0 = Math.imul(h0 ^ ((v / 4294967296) | 0), FNV);
  }
  return Math.imul(Math.imul(Math.imul(Math.imul(h3, FNV) ^ h2, FNV) ^ h1, FNV) ^ h0, FNV) ^ n;
}

/**
 * Whether two signatures are equal, number by number (NaN equal to NaN). Typed arrays only: core's
 * `sameNumbers` also takes plain arrays, which makes its loop slow on long ones.
 */
export function sameSignature(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]!) && Number.isNaN(b[i]!))) return false;
  return true;
}

/**
 * Values by signature, found by a numeric hash and compared exactly. Bounded: emptied when a new
 * entry would take its weight over `limit` (only speed depends on what it still holds).
 */
export class SignatureTable<V> {
  private readonly byHash = new Map<number, { sig: Float64Array; value: V }[]>();
  /** The weight of the entries held. */
  private held = 0;

  /**
   * @param limit the most weight it holds.
   * @param weigh an entry's weight, from its signature.
   */
  constructor(
    private readonly limit: number,
    private readonly weigh: (sig: Float64Array) => number,
  ) {}

  /** The value stored for `sig` (its hash `h`), or undefined. */
  get(sig: Float64Array, h = hashSignature(sig)): V | undefined {
    return this.entry(sig, h)?.value;
  }

  /** The entry stored for `sig` (its hash `h`): the value, and its own copy of the signature. */
  entry(sig: Float64Array, h = hashSignature(sig)): { readonly sig: Float64Array; readonly value: V } | undefined {
    const bucket = this.byHash.get(h);
    if (bucket) for (const e of bucket) if (sameSignature(e.sig, sig)) return e;
    return undefined;
  }

  /** Stores `value` for `sig` (its hash `h`; copied), which it must not hold already; returns the entry. */
  set(sig: Float64Array, value: V, h = hashSignature(sig)): { readonly sig: Float64Array; readonly value: V } {
    const w = this.weigh(sig);
    if (this.held + w > this.limit) this.clear();
    let bucket = this.byHash.get(h);
    if (!bucket) this.byHash.set(h, (bucket = []));
    const e = { sig: sig.slice(), value };
    bucket.push(e);
    this.held += w;
    return e;
  }

  /** Drops every entry. */
  clear(): void {
    this.byHash.clear();
    this.held = 0;
  }
}

/**
 * Serial numbers of signatures, for keys that name a long signature by a number: equal serials
 * mean equal signatures. Bounded: cleared when the signatures it holds would exceed {@link
 * SignatureSerials.limit} numbers in all (8 MiB), after which a signature seen before gets a new
 * serial (a key then misses: only speed depends on it).
 */
export class SignatureSerials {
  static readonly limit = 1 << 20;
  private readonly table = new SignatureTable<number>(SignatureSerials.limit, (sig) => sig.length);
  private next = 1;

  /** The serial of `sig` (copied when new). */
  serial(sig: Float64Array): number {
    const h = hashSignature(sig);
    const known = this.table.get(sig, h);
    if (known !== undefined) return known;
    this.table.set(sig, this.next, h);
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
  private readonly table = new SignatureTable<PlanTemplate>(PlanCache.limit, () => 1);
  hits = 0;
  misses = 0;

  private off = false;

  /** Whether lookups are still worth their cost (once not, the plans are dropped for good). */
  worthwhile(): boolean {
    if (this.off) return false;
    if (this.hits + this.misses < PlanCache.trial || this.hits * 8 >= this.hits + this.misses) return true;
    this.off = true;
    this.table.clear();
    return false;
  }

  /**
   * The plan stored for `sig`. The last one found or stored is compared first: in a loop's steady
   * state an iteration's signature is the one before's, and is then not hashed.
   */
  find(sig: Float64Array): PlanTemplate | undefined {
    const l = this.last;
    const e = l && sameSignature(l.sig, sig) ? l : this.table.entry(sig);
    if (e) {
      this.hits++;
      this.last = e;
      return e.value;
    }
    this.misses++;
    return undefined;
  }

  store(sig: Float64Array, t: PlanTemplate): void {
    this.last = this.table.set(sig, t);
  }

  /** The entry found or stored last (kept when the table is emptied: it still maps its signature to its plan). */
  private last: { readonly sig: Float64Array; readonly value: PlanTemplate } | undefined;
}
