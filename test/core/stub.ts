/**
 * Test peers: a scripted driver component that sends messages on its out-ports (at given cycles,
 * in order per port, retrying when refused) and logs everything its in-ports receive, with the
 * cycle. An optional `react` hook sends follow-up messages when a response arrives, which lets a
 * test chain transfers the way a Sequencer will.
 */
import { Component, Engine, type InPort, type OutPort, type SimMode } from "../../src/core/index.js";

/** A message received by the stub. */
export interface Received {
  readonly port: string;
  readonly cycle: number;
  readonly msg: any;
}

interface Pending {
  readonly port: OutPort<any>;
  readonly at: number;
  readonly msg: unknown;
}

/** A scripted peer. */
export class Stub extends Component {
  readonly received: Received[] = [];
  private readonly pending: Pending[] = [];
  private readonly ins: InPort<any>[] = [];
  private readonly outs = new Map<string, OutPort<any>>();
  /** Called for each received message; may call `send` (sent in the same cycle). */
  react: ((r: Received, now: number) => void) | undefined;

  constructor(engine: Engine, name = "driver") {
    super(engine, name);
  }

  /** Declares an out-port. */
  out<T>(name: string): OutPort<T> {
    const p = this.outPort<T>(name);
    this.outs.set(name, p);
    return p;
  }

  /** Declares an in-port. */
  in<T>(name: string): InPort<T> {
    const p = this.inPort<T>(name);
    this.ins.push(p);
    return p;
  }

  /** Schedules `msg` on `port` at cycle `at` or later (after earlier messages on that port). */
  send<T>(port: OutPort<T>, msg: T, at = 0): void {
    this.pending.push({ port, at, msg });
  }

  /** Messages received on a port. */
  on(port: string): Received[] {
    return this.received.filter((r) => r.port === port);
  }

  override interact(now: number): void {
    for (const p of this.ins) {
      for (let m = p.pop(now); m !== undefined; m = p.pop(now)) {
        const r = { port: p.name, cycle: now, msg: m };
        this.received.push(r);
        this.react?.(r, now);
      }
    }
    const blocked = new Set<OutPort<any>>();
    for (let i = 0; i < this.pending.length; ) {
      const s = this.pending[i]!;
      if (blocked.has(s.port) || s.at > now || !s.port.send(now, s.msg)) {
        blocked.add(s.port);
        i++;
      } else {
        this.pending.splice(i, 1);
      }
    }
  }

  override progress(): void {}

  override horizon(now: number): number {
    for (const p of this.ins) if (p.ready(now)) return 0;
    let h = Infinity;
    const seen = new Set<OutPort<any>>();
    for (const s of this.pending) {
      if (seen.has(s.port)) continue;
      seen.add(s.port);
      if (s.at > now) h = Math.min(h, s.at - now);
      else if (s.port.canSend(now)) return 0;
    }
    return h;
  }

  override busy(): boolean {
    return this.pending.length > 0;
  }

  override status(): string {
    return this.pending.length ? `${this.pending.length} message(s) to send` : "idle";
  }
}

/** Runs `scenario` in reference and in fast mode and returns both results. */
export function bothModes<R>(scenario: (mode: SimMode) => R): { reference: R; fast: R } {
  return { reference: scenario("reference"), fast: scenario("fast") };
}

/** Strips payload typed arrays to plain arrays so results compare with toEqual across modes. */
export function plain(x: unknown): unknown {
  if (ArrayBuffer.isView(x)) return Array.from(x as unknown as ArrayLike<number>);
  if (Array.isArray(x)) return x.map(plain);
  if (x && typeof x === "object") return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)]));
  return x;
}
