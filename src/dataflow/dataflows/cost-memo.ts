/**
 * A memo of numbers by non-negative integer key for the chen2020 tile search (chen2020-tiles.ts),
 * faster than a Map for its hundreds of thousands of lookups. Internal.
 */

/**
 * Tile costs by tile key (a non-negative integer): an open-addressing table over typed arrays,
 * which the search asks about once per spread (VGG-16 conv1_1: 620,000 times, for 82,000 tiles),
 * faster than a Map. One table serves every search of the thread, each search a generation of
 * its own (a slot whose stamp is not the current generation is empty): a new table of a few MiB
 * per search cost more in fresh pages than the search saved.
 */
export class CostMemo {
  private static keys = new Float64Array(1 << 12);
  private static values = new Float64Array(1 << 12);
  private static stamps = new Uint32Array(1 << 12);
  /** 32 minus log2 of the table's length: a slot is the top bits of a multiplicative hash. */
  private static shift = 20;
  private static generation = 0;
  private readonly gen: number;
  private size = 0;

  constructor() {
    this.gen = ++CostMemo.generation;
    if (this.gen === 0xffffffff) {
      CostMemo.stamps.fill(0);
      CostMemo.generation = 0;
    }
  }

  private static slot(key: number, gen: number): number {
    const mask = CostMemo.keys.length - 1;
    const { keys, stamps } = CostMemo;
    let i = Math.imul((key % 0x40000000) ^ (key / 0x40000000) ^ 0x5bd1e995, 0x9e3779b1) >>> CostMemo.shift;
    while (stamps[i] === gen && keys[i] !== key) i = (i + 1) & mask;
    return i;
  }

  /** The cost stored for `key`, or undefined. */
  get(key: number): number | undefined {
    const i = CostMemo.slot(key, this.gen);
    return CostMemo.stamps[i] === this.gen ? CostMemo.values[i] : undefined;
  }

  /** Stores `value` for `key` (not stored yet). */
  set(key: number, value: number): void {
    if (2 * (this.size + 1) > CostMemo.keys.length) this.grow();
    const i = CostMemo.slot(key, this.gen);
    CostMemo.keys[i] = key;
    CostMemo.values[i] = value;
    CostMemo.stamps[i] = this.gen;
    this.size++;
  }

  /** Doubles the table, keeping this search's entries (the others' are dropped). */
  private grow(): void {
    const { keys, values, stamps } = CostMemo;
    const n = 2 * keys.length;
    CostMemo.keys = new Float64Array(n);
    CostMemo.values = new Float64Array(n);
    CostMemo.stamps = new Uint32Array(n);
    CostMemo.shift--;
    for (let i = 0; i < keys.length; i++) {
      if (stamps[i] !== this.gen) continue;
      const j = CostMemo.slot(keys[i]!, this.gen);
      CostMemo.keys[j] = keys[i]!;
      CostMemo.values[j] = values[i]!;
      CostMemo.stamps[j] = this.gen;
    }
  }
}
