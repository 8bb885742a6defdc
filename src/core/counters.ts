/**
 * The counter registry (STYLE rule 8: counters count actions; metrics are formulas afterwards).
 *
 * Modeled: every counter is registered once, by the component that owns it, with a hierarchical
 * dotted name (`gbuf.read.input`, `rf.write.psum`, `pe.mac`), a unit and a description. A
 * component increments its own counters (`counter.value += n`, no lookup on the hot path); the
 * registry hands out a plain-JSON snapshot. Utilization, bandwidth and energy are computed from
 * snapshots in src/report, never here.
 *
 * Not modeled: time series (a snapshot is a point in time; take several for a series).
 */
import { ConfigError, InvariantError } from "./errors.js";

/** The unit a counter counts in. */
export type CounterUnit = "words" | "bytes" | "cycles" | "accesses" | "bursts" | "MACs" | "PE-cycles" | "transfers" | "requests";

const NAME = /^[a-z][A-Za-z0-9]*(\.[A-Za-z0-9][A-Za-z0-9-]*)+$/;

/** One counter. Only its owner increments `value`. */
export class Counter {
  /** The array that holds the value, and its index there (a cell of its own until {@link moveTo}). */
  private cells: Float64Array = new Float64Array(1);
  private at = 0;

  /** Current count. */
  get value(): number {
    return this.cells[this.at]!;
  }

  set value(v: number) {
    this.cells[this.at] = v;
  }

  /**
   * Keeps the value from now on in `cells[at]` (the value moves with it): timeline replay keeps
   * every counter it restores in one array, so that saving and restoring them all is a copy of
   * one typed array (src/dataflow/sequencer/timeline.ts). A counter lives in one array at a time.
   */
  moveTo(cells: Float64Array, at: number): void {
    if (!Number.isInteger(at) || at < 0 || at >= cells.length) throw new InvariantError("counters", `slot ${at} of ${this.name} is outside an array of ${cells.length}`);
    cells[at] = this.value;
    this.cells = cells;
    this.at = at;
  }

  constructor(
    /** Hierarchical dotted name, e.g. `dram.read.weight`. */
    readonly name: string,
    /** What one unit of `value` is. */
    readonly unit: CounterUnit,
    /** One sentence: which action is counted. */
    readonly description: string,
  ) {}
}

/** A counter as it appears in a snapshot. */
export interface CounterEntry {
  readonly value: number;
  readonly unit: CounterUnit;
  readonly description: string;
}

/** Plain JSON: counter name -> entry, names sorted. */
export type CounterSnapshot = Readonly<Record<string, CounterEntry>>;

/** Registers counters and snapshots them. One registry per {@link Engine}. */
export class CounterRegistry {
  private readonly byName = new Map<string, Counter>();

  /**
   * Registers a counter.
   * @throws ConfigError when the name is malformed or already taken (two components with the same name).
   */
  register(name: string, unit: CounterUnit, description: string): Counter {
    if (!NAME.test(name)) {
      throw new ConfigError("counter name", name, "be dotted lowerCamel segments such as gbuf.read.input");
    }
    if (this.byName.has(name)) {
      throw new ConfigError("counter name", name, "be unique (are two components given the same name?)");
    }
    const c = new Counter(name, unit, description);
    this.byName.set(name, c);
    this.listed = undefined;
    return c;
  }

  private listed: readonly Counter[] | undefined;

  /** Every counter, in the order they were registered. */
  all(): readonly Counter[] {
    return (this.listed ??= Object.freeze([...this.byName.values()]));
  }

  /** The counter with this name. @throws InvariantError when there is none. */
  get(name: string): Counter {
    const c = this.byName.get(name);
    if (!c) throw new InvariantError("counters", `no counter named ${name}`);
    return c;
  }

  /** Whether a counter with this name exists. */
  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The value of a counter. @throws InvariantError when there is none. */
  value(name: string): number {
    return this.get(name).value;
  }

  /** All names, sorted. */
  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  /** Sum of the values of every counter whose name starts with `prefix` (e.g. `dram.read.`). */
  sum(prefix: string): number {
    let s = 0;
    for (const [n, c] of this.byName) if (n.startsWith(prefix)) s += c.value;
    return s;
  }

  /** Every counter with its unit and description, as plain JSON. */
  snapshot(): CounterSnapshot {
    const out: Record<string, CounterEntry> = {};
    for (const n of this.names()) {
      const c = this.byName.get(n)!;
      out[n] = { value: c.value, unit: c.unit, description: c.description };
    }
    return out;
  }

  /** Name -> value, as plain JSON (names sorted). */
  values(): Readonly<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const n of this.names()) out[n] = this.byName.get(n)!.value;
    return out;
  }
}
