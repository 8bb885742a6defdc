/**
 * The executor's side of the Sequencer's program: it issues a step's requests (by yielding the
 * step to the component, which gives each a transaction id and posts it on its port) and keeps
 * the payloads of the responses until the pass that asked for them takes them, by the planned
 * request (plans carry no ids: STYLE rule 13).
 */
import { InvariantError, type Payload } from "../../core/index.js";
import type { WaitReason } from "../../pe-array/index.js";
import { NO_REQS, Responses, type IterationPlan, type Req, type Step, type Thread } from "./types.js";

/** The generator type of the program and of every pass that issues steps. */
export type Steps = Generator<Step, void, Responses>;

/** A step: `reqs` (then `also`) issued together, the PEs' wait reason while they are outstanding. */
export function step(reason: WaitReason, reqs: readonly Req[], also?: readonly Req[]): Step {
  return also && also.length > 0 ? { reason, reqs, also } : { reason, reqs };
}

/** Holds the payloads of completed reads until they are taken. */
export class Executor {
  /**
   * Responses with a payload by planned read. A request object is issued at most once at a
   * time: a plan's reads are new objects (a replay shifts them into new ones), and each is taken
   * before it could be issued again.
   */
  private pending = new Responses();

  /**
   * The payload of the completed read `read` (once). A list that has emptied is replaced, not
   * kept: the thread that handed it over may hold it still (an emptied list serves its next
   * step: Sequencer, `responses`), and that step's responses are the thread's, not pending here.
   */
  take(read: Req): Payload {
    const p = (this.pending.take(read) as { payload?: Payload } | undefined)?.payload;
    if (!p) throw new InvariantError("sequencer", `no payload for a ${read.to} ${read.msg.op}`);
    if (this.pending.size === 0) this.pending = new Responses();
    return p;
  }

  /**
   * Issues a step and keeps the responses that carry a payload. The driver passes the responses
   * into the generator; every `yield` of a step with reads goes through this wrapper (or
   * {@link keep}). A list with responses is the thread's no more once handed over (Sequencer,
   * `responses`): when nothing is pending and every response it holds has a payload (a step of
   * reads, or a replayed step, which answers nothing else), it is kept as it is.
   */
  *run(s: Step): Steps {
    this.keep(yield s);
  }

  /**
   * Keeps the responses with a payload of a step just issued: `x.keep(yield step(...))` is
   * {@link run} without a generator per step (a pass's hot steps are issued this way).
   */
  keep(got: Responses): void {
    if (this.pending.size === 0 && got.size > 0 && allPayloads(got)) {
      this.pending = got;
      return;
    }
    got.forEach((v, k) => {
      if ((v as { payload?: Payload }).payload) this.pending.set(k, v);
    });
  }
}

/** Whether every response carries a payload. */
function allPayloads(got: Responses): boolean {
  return got.every((v) => !!(v as { payload?: Payload }).payload);
}

/**
 * Wave commands marked to start while the wave before drains its pipeline (PeWaveCommand.chained).
 * Each is a literal of one shape with its id slot already there for the issue to fill (a spread
 * copy, to which the issue then added the id, made the pipelined path 1.17x as slow: VGG-16
 * conv3_2, whole processes, alternating).
 */
export function chained(waves: readonly Req[]): Req[] {
  return waves.map((q) => {
    if (q.to !== "pe" || q.msg.op !== "wave") return q;
    const m = q.msg;
    const msg = { op: "wave", id: undefined, wave: m.wave, alongside: m.alongside, streams: m.streams, psumFlow: m.psumFlow, chained: true } as const;
    return { to: "pe", msg } as Req;
  });
}

/** `steps` (if any) once `first` is done; waiting for it is charged to `reason`. */
export function* afterThread(reason: WaitReason, first: Thread, steps: Steps | undefined): Steps {
  yield { reason, reqs: NO_REQS, join: first };
  if (steps) yield* steps;
}

/** What hands a plan's deferred deliveries the payloads of their reads (the executor; compiled copies' tags). */
export interface PayloadSource {
  take(read: Req): Payload;
}

/**
 * An iteration's deliveries and fills when every operand goes in after its reads (single-buffered
 * register files): `direct`, then each deferred delivery sent with its reads' payloads from `from`
 * (the list itself when there is none).
 */
export function deliveries(p: Pick<IterationPlan, "direct" | "after">, from: PayloadSource): readonly Req[] {
  if (p.after.length === 0) return p.direct;
  const out = [...p.direct];
  for (const f of p.after) out.push(...f.send(f.reads.map((q) => from.take(q))));
  return out;
}
