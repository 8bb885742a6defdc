/**
 * The component contract (explicit lifecycle, STYLE rule 9; exact fast-forward, DESIGN.md).
 *
 * A component is constructed with its engine (it validates its spec there and throws
 * `ConfigError` before anything runs), declares its ports and counters in its constructor, is
 * connected by {@link Engine.connect}, and is then driven by the engine through four methods:
 *
 * - `interact(now)`: everything the component does with the outside in cycle `now` — pop visible
 *   messages, send messages that are due. Called exactly once per cycle in reference mode.
 * - `progress(now, n)`: internal progress over cycles `now .. now + n - 1` with *no* interaction
 *   (time passes: stall counters, work in flight). `progress(now, 1)` follows `interact(now)` in
 *   each reference-mode cycle; in fast mode `progress(now, n)` replaces n such cycles and must
 *   leave exactly the same state as n of them (the engine only calls it when `horizon` allows).
 * - `horizon(now)`: how many cycles from `now` on `interact` would do nothing (0: it has something
 *   to do in cycle `now`; Infinity: nothing until a message arrives). Messages not yet visible
 *   are the engine's business; visible but unconsumed ones are the component's. Fast mode relies
 *   on it twice: it jumps over cycles in which no horizon is 0, and in a cycle it ticks, it calls
 *   `interact` only on the components whose horizon is 0.
 * - `busy()` and `status(now)`: whether work is pending, and what the component is doing or
 *   waiting for (used when a run is stalled).
 */
import { ConfigError } from "./errors.js";
import type { Counter, CounterUnit } from "./counters.js";
import type { Engine } from "./engine.js";
import { InPort, OutPort, type Port } from "./port.js";

const COMPONENT_NAME = /^[a-z][A-Za-z0-9]*$/;

/** Base class of every simulated hardware block (and of the drivers that command them). */
export abstract class Component {
  private readonly portList: Port[] = [];

  /**
   * Registers the component with its engine.
   * @param name the component's name and counter prefix (`dram`, `gbuf`, `pe`, ...).
   * @throws ConfigError on a malformed name.
   */
  constructor(
    /** The engine that clocks this component. */
    protected readonly engine: Engine,
    /** Name, also the prefix of this component's counters. */
    readonly name: string,
  ) {
    if (!COMPONENT_NAME.test(name)) throw new ConfigError("component name", name, "be a lowerCamel identifier such as gbuf");
    engine.register(this);
  }

  /** Every port this component declared. */
  get ports(): readonly Port[] {
    return this.portList;
  }

  /** Declares an input port. */
  protected inPort<T>(name: string): InPort<T> {
    const p = new InPort<T>(this.name, name);
    this.portList.push(p as InPort<unknown>);
    return p;
  }

  /** Declares an output port. */
  protected outPort<T>(name: string): OutPort<T> {
    const p = new OutPort<T>(this.name, name);
    this.portList.push(p as OutPort<unknown>);
    return p;
  }

  /** Registers a counter named `<component>.<suffix>`. */
  protected counter(suffix: string, unit: CounterUnit, description: string): Counter {
    return this.engine.counters.register(`${this.name}.${suffix}`, unit, description);
  }

  /** Interactions in cycle `now` (see the file header). */
  abstract interact(now: number): void;
  /** Internal progress over `n` interaction-free cycles from `now`. */
  abstract progress(now: number, n: number): void;
  /** Cycles from `now` on without an interaction (0 .. Infinity). */
  abstract horizon(now: number): number;
  /** Whether work is pending inside the component. */
  abstract busy(): boolean;
  /** What the component is doing or waiting for, for stall reports. */
  abstract status(now: number): string;

  /** One reference-mode cycle: `interact(now)` then `progress(now, 1)`. */
  tick(now: number): void {
    this.interact(now);
    this.progress(now, 1);
  }
}
