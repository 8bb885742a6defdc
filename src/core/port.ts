/**
 * Ports and channels: the only way components talk (STYLE rule 3).
 *
 * Modeled: a channel joins one {@link OutPort} to one {@link InPort}. It has a latency of at
 * least one cycle (a message sent in cycle t is visible to the receiver from cycle t + latency)
 * and a capacity in messages (explicit backpressure: `send` returns false when the channel is
 * full, and the refused sender retries at a later interaction). A slot freed by a `pop` in cycle t
 * becomes free for the sender in cycle t + 1: occupancy as seen in cycle t counts the messages
 * popped in cycle t. Hence nothing a component does in cycle t is visible to another component
 * before cycle t + 1, and the order in which components are evaluated within a cycle cannot
 * change a result.
 *
 * Timing: arrival = send cycle + latency; one sender and one receiver per channel, FIFO.
 * Not modeled: message width (a message is a transaction; components charge its size in cycles
 * themselves), arbitration between several senders (use one channel per sender).
 */
import { ConfigError, InvariantError } from "./errors.js";

/**
 * A message without its transaction id: what a plan holds before the message is issued (the
 * issuer numbers each issue), and what a component's bulk operations take (a replayed request is
 * applied at once and answered by no message). Every component message with an `id` is
 * assignable to it.
 */
export type Untracked<M> = M extends unknown ? Omit<M, "id"> : never;

/**
 * Issues an untracked message as transaction `id`: the id is written into the message itself and
 * the same object is returned, typed as the tracked message (no copy: a spread copy per issue
 * cost more than the rest of the issue, and gave the receivers' hot paths many object shapes). The
 * issuer must not issue one object again while it is in flight.
 */
export function track<M extends { readonly id: number }>(msg: Untracked<M>, id: number): M {
  (msg as { id?: number }).id = id;
  return msg as unknown as M;
}

/** A channel's parameters. */
export interface ChannelOptions {
  /** Cycles from send to visibility, >= 1. Default 1. */
  readonly latency?: number;
  /** Messages in flight or waiting, >= 1. Default 2. */
  readonly capacity?: number;
}

interface Slot<T> {
  readonly msg: T;
  readonly at: number;
}

/** A FIFO link with latency and capacity between one OutPort and one InPort. */
export class Channel<T> {
  /** Cycles from send to visibility. */
  readonly latency: number;
  /** Maximum messages held (in flight plus waiting). */
  readonly capacity: number;
  private readonly queue: Slot<T>[] = [];
  private head = 0;
  private poppedAt = -1;
  private poppedCount = 0;
  /** Messages ever sent through this channel. */
  sent = 0;

  constructor(
    /** `sender.port->receiver.port`. */
    readonly name: string,
    options: ChannelOptions = {},
  ) {
    const latency = options.latency ?? 1;
    const capacity = options.capacity ?? 2;
    if (!Number.isInteger(latency) || latency < 1) throw new ConfigError(`${name}.latency`, latency, "be an integer >= 1 (every channel takes at least one cycle)");
    if (!Number.isInteger(capacity) || capacity < 1) throw new ConfigError(`${name}.capacity`, capacity, "be an integer >= 1");
    this.latency = latency;
    this.capacity = capacity;
  }

  /** Messages held (sent and not yet popped). */
  get size(): number {
    return this.queue.length - this.head;
  }

  /** Occupancy as the sender sees it in cycle `now` (pops of cycle `now` still count). */
  private occupancy(now: number): number {
    return this.size + (this.poppedAt === now ? this.poppedCount : 0);
  }

  /** Whether a send in cycle `now` would be accepted. */
  canSend(now: number): boolean {
    return this.occupancy(now) < this.capacity;
  }

  /** Sends `msg` in cycle `now`; returns false (and sends nothing) when the channel is full. */
  send(now: number, msg: T): boolean {
    if (this.occupancy(now) >= this.capacity) return false;
    this.queue.push({ msg, at: now + this.latency });
    this.sent++;
    return true;
  }

  /** The oldest message if it is visible in cycle `now`. */
  peek(now: number): T | undefined {
    const s = this.queue[this.head];
    return s !== undefined && s.at <= now ? s.msg : undefined;
  }

  /** Removes and returns the oldest message if it is visible in cycle `now`. */
  pop(now: number): T | undefined {
    const s = this.queue[this.head];
    if (s === undefined || s.at > now) return undefined;
    this.head++;
    if (this.head > 64 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    if (this.poppedAt !== now) {
      this.poppedAt = now;
      this.poppedCount = 0;
    }
    this.poppedCount++;
    return s.msg;
  }

  /** The first cycle after `now` in which a message not yet visible becomes visible (Infinity if none). */
  nextArrival(now: number): number {
    for (let i = this.head; i < this.queue.length; i++) {
      const at = this.queue[i]!.at;
      if (at > now) return at;
    }
    return Infinity;
  }
}

/** Common part of in and out ports. */
export abstract class PortBase<T> {
  protected ch: Channel<T> | undefined;

  constructor(
    /** The owning component's name. */
    readonly owner: string,
    /** The port's name within its component, e.g. `memSide`. */
    readonly name: string,
  ) {}

  /** `component.port`. */
  get path(): string {
    return `${this.owner}.${this.name}`;
  }

  /** Whether the port is bound to a channel. */
  get bound(): boolean {
    return this.ch !== undefined;
  }

  /** The bound channel. @throws InvariantError when unbound (the engine checks binding before a run). */
  get channel(): Channel<T> {
    if (!this.ch) throw new InvariantError(this.owner, `port ${this.name} is not connected`);
    return this.ch;
  }

  /** @internal Binds the port; called by {@link Engine.connect}. */
  bind(ch: Channel<T>): void {
    if (this.ch) throw new ConfigError(this.path, "connected twice", "be connected to exactly one channel");
    this.ch = ch;
  }
}

/** The sending end of a channel. */
export class OutPort<T> extends PortBase<T> {
  /** Whether a send in cycle `now` would be accepted. */
  canSend(now: number): boolean {
    return this.channel.canSend(now);
  }

  /** Sends in cycle `now`; false when refused (backpressure). */
  send(now: number, msg: T): boolean {
    return this.channel.send(now, msg);
  }
}

/** The receiving end of a channel. */
export class InPort<T> extends PortBase<T> {
  /** The oldest visible message, if any. */
  peek(now: number): T | undefined {
    return this.channel.peek(now);
  }

  /** Pops the oldest visible message, if any. */
  pop(now: number): T | undefined {
    return this.channel.pop(now);
  }

  /** Whether a message is visible in cycle `now`. */
  ready(now: number): boolean {
    return this.channel.peek(now) !== undefined;
  }

  /** Messages held by the channel (visible or not). */
  get pending(): number {
    return this.channel.size;
  }
}

/** Either kind of port. */
export type Port = InPort<unknown> | OutPort<unknown>;
