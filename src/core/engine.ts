/**
 * The clock-driven engine with exact fast-forward (DESIGN.md, "The engine").
 *
 * Modeled: integer cycles. Reference mode ticks every component every cycle
 * (`interact(now); progress(now, 1)`). Fast mode computes `h` = the smallest of every
 * component's `horizon(now)`, of the cycles until the next message becomes visible on any
 * channel, and of the cycles left before `maxCycles`; when `h = 0` it ticks every component
 * once (calling `interact` only on those whose horizon is 0: the others would do nothing),
 * otherwise it calls `progress(now, h)` on every component and jumps `h` cycles. Because no
 * component interacts during those `h` cycles, the jump leaves the same state as `h` ticks;
 * the tests run every scenario in both modes and compare data, counters and cycles.
 *
 * Lifecycle: construct components (they register themselves and validate their specs) ->
 * `connect` every port (an unbound port is a `ConfigError` at `run`) -> `run({ maxCycles })`
 * until quiescence (no component busy, no message in flight) -> read results. A run that reaches
 * its cap, or (fast mode) can provably never finish, throws a {@link StallError} naming each busy
 * component and what it waits for. `run` may be called again to continue.
 *
 * Not modeled: clock domains (one clock for everything), time-varying latencies.
 */
import type { Component } from "./component.js";
import { CounterRegistry } from "./counters.js";
import { ConfigError, StallError } from "./errors.js";
import { Channel, type ChannelOptions, type InPort, type OutPort } from "./port.js";
import { formatTag } from "./tags.js";
import { cycles, type Cycle } from "./units.js";

/** `reference`: tick every component every cycle. `fast`: jump to the next interaction. */
export type SimMode = "reference" | "fast";

/** Engine options. */
export interface EngineOptions {
  /** Default `fast`. */
  readonly mode?: SimMode;
  /** Checked mode (tags on every storage word). Default false; tests turn it on. */
  readonly checked?: boolean;
}

/** Run options. */
export interface RunOptions {
  /** The cycle at which an unfinished run throws a {@link StallError}. */
  readonly maxCycles: number;
}

/** What a run returns. */
export interface RunResult {
  /** The cycle count at quiescence (the first cycle in which nothing was left to do). */
  readonly cycles: Cycle;
  /** Engine steps taken (ticks plus jumps): a measure of simulation overhead, not of the model. */
  readonly steps: number;
}

/** The clock. Owns the counter registry, the components and the channels. */
export class Engine {
  /** Simulation mode. */
  readonly mode: SimMode;
  /** Whether storage words carry tags and reads check them. */
  readonly checked: boolean;
  /** Every counter of every component. */
  readonly counters = new CounterRegistry();
  /** Names of tag spaces, for error messages (see {@link Engine.nameTagSpace}). */
  readonly tagSpaceNames = new Map<number, string>();
  private readonly components: Component[] = [];
  private readonly names = new Set<string>();
  private readonly channels: Channel<unknown>[] = [];
  private cycle = 0;
  private validated = false;

  constructor(options: EngineOptions = {}) {
    const mode = options.mode ?? "fast";
    if (mode !== "reference" && mode !== "fast") throw new ConfigError("engine.mode", mode, 'be "reference" or "fast"');
    this.mode = mode;
    this.checked = options.checked ?? false;
  }

  /** The current cycle. */
  get now(): Cycle {
    return cycles(this.cycle);
  }

  /** @internal Called by the Component constructor. */
  register(c: Component): void {
    if (this.names.has(c.name)) throw new ConfigError("component name", c.name, "be unique within an engine");
    if (this.validated) throw new ConfigError(c.name, "added after run", "be constructed before the first run");
    this.names.add(c.name);
    this.components.push(c);
  }

  /** Gives a tag space a name for error messages (e.g. 1 -> `x`). */
  nameTagSpace(space: number, name: string): void {
    this.tagSpaceNames.set(space, name);
  }

  /** Formats a tag with the engine's space names. */
  formatTag(tag: number): string {
    return formatTag(tag, this.tagSpaceNames);
  }

  /**
   * Joins `from` to `to` with a new channel.
   * @throws ConfigError when a port is already connected or the options are invalid.
   */
  connect<T>(from: OutPort<T>, to: InPort<T>, options: ChannelOptions = {}): Channel<T> {
    const ch = new Channel<T>(`${from.path}->${to.path}`, options);
    from.bind(ch);
    to.bind(ch);
    this.channels.push(ch as Channel<unknown>);
    return ch;
  }

  private validate(): void {
    if (this.validated) return;
    for (const c of this.components) {
      for (const p of c.ports) {
        if (!p.bound) throw new ConfigError(p.path, "unbound", "be connected before the run");
      }
    }
    this.validated = true;
  }

  private quiescent(): boolean {
    const comps = this.components;
    for (let i = 0; i < comps.length; i++) if (comps[i]!.busy()) return false;
    const chans = this.channels;
    for (let i = 0; i < chans.length; i++) if (chans[i]!.size > 0) return false;
    return true;
  }

  private stalled(): { busy: { component: string; status: string }[]; pending: string[] } {
    const busy = this.components.filter((c) => c.busy()).map((c) => ({ component: c.name, status: c.status(this.cycle) }));
    const pending = this.channels.filter((ch) => ch.size > 0).map((ch) => `${ch.name} holds ${ch.size} message(s)`);
    return { busy, pending };
  }

  /**
   * Runs until quiescence.
   * @throws ConfigError on an unbound port or a bad cap; StallError when the cap is reached or
   *   (fast mode) nothing can ever happen again while work is pending.
   */
  run(options: RunOptions): RunResult {
    const maxCycles = options.maxCycles;
    if (!Number.isSafeInteger(maxCycles) || maxCycles < 0) throw new ConfigError("run.maxCycles", maxCycles, "be a non-negative integer");
    this.validate();
    const comps = this.components;
    const chans = this.channels;
    // Fast mode: each component's horizon at this step (see the tick below).
    const hz = new Float64Array(comps.length);
    let steps = 0;
    for (;;) {
      if (this.quiescent()) return { cycles: cycles(this.cycle), steps };
      const now = this.cycle;
      if (now >= maxCycles) {
        const s = this.stalled();
        throw new StallError("cap", now, s.busy, s.pending);
      }
      let h = 1;
      if (this.mode === "fast") {
        h = Infinity;
        for (let i = 0; i < comps.length; i++) {
          const c = comps[i]!.horizon(now);
          hz[i] = c;
          if (c < h) h = c;
        }
        for (let i = 0; i < chans.length && h > 0; i++) {
          const a = chans[i]!.nextArrival(now) - now;
          if (a < h) h = a;
        }
        if (h === Infinity) {
          const s = this.stalled();
          throw new StallError("deadlock", now, s.busy, s.pending);
        }
        if (h > maxCycles - now) h = maxCycles - now;
      }
      steps++;
      if (this.mode === "reference") {
        for (let i = 0; i < comps.length; i++) comps[i]!.interact(now);
        for (let i = 0; i < comps.length; i++) comps[i]!.progress(now, 1);
        this.cycle = now + 1;
      } else if (h === 0) {
        // A tick. A component whose horizon is not 0 would do nothing in interact() this cycle
        // (that is what its horizon promises, visible messages included, and what every jump
        // relies on), so only the others interact. The horizons were read before any component
        // interacted, and nothing one does in this cycle is visible to another before the next.
        for (let i = 0; i < comps.length; i++) if (hz[i] === 0) comps[i]!.interact(now);
        for (let i = 0; i < comps.length; i++) comps[i]!.progress(now, 1);
        this.cycle = now + 1;
      } else {
        for (let i = 0; i < comps.length; i++) comps[i]!.progress(now, h);
        this.cycle = now + h;
      }
    }
  }
}
