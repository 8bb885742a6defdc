/**
 * Two building blocks shared by the hardware models: a FIFO service lane and an outbox.
 *
 * {@link Lane}: a resource that serves one job at a time, in arrival order. A job started in
 * cycle s with duration d >= 1 occupies cycles s .. s + d - 1 and completes in cycle s + d - 1
 * (its response is sent that cycle and visible to the receiver in s + d at the earliest); the next
 * job starts in cycle s + d at the earliest. The duration is computed when the job starts, from
 * the component's timing contract, so `horizon` is exact.
 *
 * {@link Outbox}: messages a component wants to send; each port's messages leave in order, as
 * many per cycle as the channel accepts (a refused message waits: backpressure).
 */
import { InvariantError } from "./errors.js";
import type { OutPort } from "./port.js";

interface Running<J> {
  readonly job: J;
  readonly start: number;
  readonly doneAt: number;
}

/** A FIFO server with per-job durations. */
export class Lane<J> {
  private readonly queue: J[] = [];
  private head = 0;
  private running: Running<J> | undefined;
  private freeAt = 0;
  /** Cycles in which a job occupied the lane (all jobs ever started, counted when started). */
  occupied = 0;

  constructor(
    /** Name for status messages. */
    readonly name: string,
    private readonly duration: (job: J, start: number) => number,
    private readonly complete: (job: J, now: number, start: number) => void,
  ) {}

  /** Queues a job. */
  push(job: J): void {
    this.queue.push(job);
  }

  /** Jobs queued or running. */
  get size(): number {
    return this.queue.length - this.head + (this.running ? 1 : 0);
  }

  /** The running job, if any. */
  get current(): J | undefined {
    return this.running?.job;
  }

  /** Completion cycle of the running job (Infinity when idle). */
  get doneAt(): number {
    return this.running ? this.running.doneAt : Infinity;
  }

  /** Completes the running job if due, then starts the next one if the lane is free. */
  interact(now: number): void {
    if (this.running && this.running.doneAt === now) {
      const r = this.running;
      this.running = undefined;
      this.freeAt = now + 1;
      this.complete(r.job, now, r.start);
    }
    if (!this.running && this.head < this.queue.length && now >= this.freeAt) {
      const job = this.queue[this.head++]!;
      if (this.head > 64 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      const d = this.duration(job, now);
      this.occupied += d;
      this.running = { job, start: now, doneAt: now + d - 1 };
      if (d === 1) {
        this.running = undefined;
        this.freeAt = now + 1;
        this.complete(job, now, now);
      }
    }
  }

  /**
   * Moves the running job's completion earlier, to `doneAt` (>= `now`, and not later than it was):
   * the component found it may hand the lane to the next job sooner (the PE array's chained waves).
   * @throws InvariantError when no job runs or `doneAt` is outside those limits.
   */
  retime(doneAt: number, now: number): void {
    const r = this.running;
    if (!r || doneAt < now || doneAt > r.doneAt) throw new InvariantError(this.name, `cannot move a completion to cycle ${doneAt} (now ${now}, due ${r ? r.doneAt : "none"})`);
    this.running = { job: r.job, start: r.start, doneAt };
  }

  /**
   * Timeline replay: takes the running job out without completing it (the caller applies its
   * effect), leaving the lane free from `now`.
   * @throws InvariantError when no job runs or jobs are queued.
   */
  abandon(now: number): J {
    const r = this.running;
    if (!r || this.head < this.queue.length) throw new InvariantError(this.name, "only a running job with nothing queued can be taken out");
    this.running = undefined;
    this.freeAt = now;
    return r.job;
  }

  /**
   * Timeline replay: puts `job` into the idle lane as if it had started in cycle `start`,
   * completing in `doneAt` (>= `now`).
   * @throws InvariantError when the lane holds a job, or the cycles are out of order.
   */
  adopt(job: J, start: number, doneAt: number, now: number): void {
    if (this.size > 0 || start > doneAt || doneAt < now) throw new InvariantError(this.name, `cannot adopt a job from cycle ${start} to ${doneAt} (now ${now}, ${this.size} job(s) held)`);
    this.occupied += doneAt - start + 1;
    this.running = { job, start, doneAt };
  }

  /** Cycles from `now` to this lane's next interaction (Infinity when idle). */
  horizon(now: number): number {
    if (this.running) return this.running.doneAt - now;
    if (this.head < this.queue.length) return this.freeAt > now ? this.freeAt - now : 0;
    return Infinity;
  }

  /** For stall reports. */
  status(): string {
    if (!this.running) return this.size ? `${this.name}: ${this.size} queued` : `${this.name}: idle`;
    return `${this.name}: busy until cycle ${this.running.doneAt}, ${this.size - 1} queued`;
  }
}

/** An {@link Outbox}'s messages for one port, not yet sent from `head` on. */
interface PortQueue {
  readonly port: OutPort<unknown>;
  readonly msgs: unknown[];
  head: number;
}

/**
 * Messages waiting to be sent, per port, in order: a queue per port (a component posts to a
 * handful), since channels are independent and only a port's own order matters. A flush stops at
 * each port's first refusal, so thousands of requests queued behind a full channel (a step that
 * drains every PE of a 128 x 128 array) cost a check per port and cycle: one list of them all,
 * walked whole at every flush, was 5% of such a run.
 */
export class Outbox {
  /** Per port posted to: its messages not yet sent, from `head` on. */
  private readonly queues: PortQueue[] = [];
  private waiting = 0;

  /** Queues `msg` on `port`; call {@link Outbox.flush} in the same interact to send it this cycle. */
  post<T>(port: OutPort<T>, msg: T): void {
    let q: PortQueue | undefined;
    for (const x of this.queues) {
      if (x.port === port) {
        q = x;
        break;
      }
    }
    if (q === undefined) this.queues.push((q = { port: port as OutPort<unknown>, msgs: [], head: 0 }));
    q.msgs.push(msg);
    this.waiting++;
  }

  /** Sends what the channels accept, keeping per-port order. */
  flush(now: number): void {
    if (this.waiting === 0) return;
    for (const q of this.queues) {
      const m = q.msgs;
      let h = q.head;
      while (h < m.length && q.port.send(now, m[h])) h++;
      this.waiting -= h - q.head;
      if (h === m.length) {
        m.length = 0;
        h = 0;
      } else if (h >= 64 && 2 * h >= m.length) {
        m.copyWithin(0, h);
        m.length -= h;
        h = 0;
      }
      q.head = h;
    }
  }

  /** Messages not yet sent. */
  get size(): number {
    return this.waiting;
  }

  /** 0 when a waiting message could be sent in cycle `now`, Infinity when empty or all refused. */
  horizon(now: number): number {
    if (this.waiting === 0) return Infinity;
    for (const q of this.queues) if (q.head < q.msgs.length && q.port.canSend(now)) return 0;
    return Infinity;
  }

  /** For stall reports. */
  status(): string {
    const refused = this.queues.filter((q) => q.head < q.msgs.length);
    return this.waiting ? `${this.waiting} message(s) refused by ${refused.map((q) => q.port.path).join(", ")} (receiver full)` : "";
  }
}
