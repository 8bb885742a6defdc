/**
 * Global-buffer timing models: when a {@link GlobalBuffer}'s requests complete, swappable by
 * name (`gbuf.model`, STYLE rule 15). The buffer (gbuf.ts) owns the regions, the counters and the
 * ports; it pops every visible request, works out its bank-word accesses and the cycles the
 * banked schedule takes (`GbufJob`), and hands it to its model, which calls back when the request
 * completes (then its data move, it is counted and its response is sent).
 *
 * `banked` (the default): reads and writes are two FIFO lanes (`readPorts`, `writePorts`); a
 * request occupies its lane for the cycles of its banked schedule (ports and bank conflicts,
 * gbuf.ts), so a request started in cycle s that takes d cycles completes in s + d - 1 and the
 * lane's next request starts in s + d at the earliest. An accumulate (read-modify-write) takes
 * both lanes: the read lane for its read schedule and the write lane for its write schedule plus
 * one cycle (the add), and completes with the write. `conflictCycles = cycles - ceil(accesses /
 * ports)`.
 *
 * `ideal`: unlimited bandwidth and no latency, for comparisons with analytical models: every
 * request completes in the cycle it is popped, any number per cycle, in the order popped; a
 * request sent in cycle t completes in t + 1 and its response is seen by the driver in t + 2 (the
 * two one-cycle channel hops every transaction takes). Its response says it took 1 cycle, none of
 * them lost to conflicts; the accesses are counted as with `banked`.
 */
import { Lane, requireOneOf } from "../core/index.js";
import { GBUF_MODEL_NAMES, type GbufModelName, type GlobalBufferSpec } from "../arch/spec.js";

/** A request the global buffer has popped and checked. */
export interface GbufJob {
  /**
   * Whether it reads or writes (it takes that lane in the `banked` model), or accumulates: a
   * read-modify-write that takes both lanes (the read lane for `readCycles`, the write lane for
   * `bankedCycles`, which include the add stage) and completes with its write.
   */
  readonly op: "read" | "write" | "accumulate";
  /** Bank-word accesses it makes. */
  readonly accesses: number;
  /** Cycles its banked schedule takes with its lane's ports (>= 1). */
  readonly bankedCycles: number;
  /** An accumulate's read schedule, in cycles. */
  readonly readCycles?: number;
}

/** Completes a job in cycle `now`: `cycles` it occupied the buffer, `conflictCycles` of them lost to bank conflicts. */
export type GbufCompletion<J extends GbufJob> = (job: J, now: number, cycles: number, conflictCycles: number) => void;

/** When a global buffer's requests complete (see the file header). */
export interface GbufTimingModel<J extends GbufJob> {
  /** The model's name (`gbuf.model`). */
  readonly name: GbufModelName;
  /** Takes a request popped in cycle `now` (it may complete at once). */
  accept(job: J, now: number): void;
  /** Completes the requests due in cycle `now` and starts those that can start. */
  interact(now: number): void;
  /** Cycles from `now` to the model's next completion or start (Infinity when idle). */
  horizon(now: number): number;
  /** Requests accepted and not yet completed. */
  readonly pending: number;
  /** Of those, the ones that hold the read side (reads, and accumulates' reads). */
  readonly readPending: number;
  /** What the model is doing, for stall reports. */
  status(): string;
}

/** The `banked` model: a read lane and a write lane, each timed by the banked schedule. */
class BankedTiming<J extends GbufJob> implements GbufTimingModel<J> {
  readonly name = "banked";
  private readonly read: Lane<J>;
  private readonly write: Lane<J>;

  /** The read sides of accumulate jobs: they hold the read lane, and complete nothing. */
  private readonly shadows = new WeakSet<J>();

  constructor(spec: GlobalBufferSpec, done: GbufCompletion<J>) {
    const lane = (name: string, ports: number) =>
      new Lane<J>(
        name,
        (j) => j.bankedCycles,
        (j, now) => {
          if (!this.shadows.has(j)) done(j, now, j.bankedCycles, j.bankedCycles - Math.ceil(j.accesses / ports));
        },
      );
    this.read = lane("read lane", spec.readPorts);
    this.write = lane("write lane", spec.writePorts);
  }

  accept(job: J, now: number): void {
    if (job.op === "accumulate") {
      const shadow = { ...job, op: "read", bankedCycles: job.readCycles ?? job.bankedCycles } as J;
      this.shadows.add(shadow);
      this.read.push(shadow);
      this.read.interact(now);
    }
    const lane = job.op === "read" ? this.read : this.write;
    lane.push(job);
    lane.interact(now);
  }

  interact(now: number): void {
    this.read.interact(now);
    this.write.interact(now);
  }

  horizon(now: number): number {
    return Math.min(this.read.horizon(now), this.write.horizon(now));
  }

  get pending(): number {
    return this.read.size + this.write.size;
  }

  get readPending(): number {
    return this.read.size;
  }

  status(): string {
    return `${this.read.status()}; ${this.write.status()}`;
  }
}

/** The `ideal` model: every request completes in the cycle it is popped. */
class IdealGbufTiming<J extends GbufJob> implements GbufTimingModel<J> {
  readonly name = "ideal";
  readonly pending = 0;
  readonly readPending = 0;

  constructor(private readonly done: GbufCompletion<J>) {}

  accept(job: J, now: number): void {
    this.done(job, now, 1, 0);
  }

  interact(): void {}

  horizon(): number {
    return Infinity;
  }

  status(): string {
    return "ideal: serves every request the cycle it arrives";
  }
}

/** The global-buffer timing models by name (`gbuf.model`). */
export const GBUF_MODELS: Readonly<Record<GbufModelName, <J extends GbufJob>(spec: GlobalBufferSpec, done: GbufCompletion<J>) => GbufTimingModel<J>>> = Object.freeze({
  banked: <J extends GbufJob>(spec: GlobalBufferSpec, done: GbufCompletion<J>) => new BankedTiming<J>(spec, done),
  ideal: <J extends GbufJob>(_spec: GlobalBufferSpec, done: GbufCompletion<J>) => new IdealGbufTiming<J>(done),
});

/**
 * A new timing model for a validated spec: `spec.model`, default `banked`; it completes jobs
 * through `done`.
 * @throws ConfigError naming `<path>.model` and the known models when the name is unknown.
 */
export function gbufTimingModel<J extends GbufJob>(spec: GlobalBufferSpec, done: GbufCompletion<J>, path = "gbuf"): GbufTimingModel<J> {
  return GBUF_MODELS[requireOneOf(`${path}.model`, spec.model ?? "banked", GBUF_MODEL_NAMES)](spec, done);
}
