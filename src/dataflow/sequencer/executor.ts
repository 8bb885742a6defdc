/**
 * The executor's side of the Sequencer's program: it issues a step's requests (by yielding the
 * step to the component, which posts them on the ports) and keeps the payloads of the responses
 * until the pass that asked for them takes them.
 */
import { InvariantError, type Payload } from "../../core/index.js";
import type { WaitReason } from "../../pe-array/index.js";
import type { Req, Resp, Step } from "./types.js";

/** The generator type of the program and of every pass that issues steps. */
export type Steps = Generator<Step, void, Map<number, Resp>>;

/** A step: `reqs` issued together, the PEs' wait reason while they are outstanding. */
export function step(reason: WaitReason, reqs: Req[]): Step {
  return { reason, reqs };
}

/** Holds the payloads of completed reads until they are taken. */
export class Executor {
  private readonly pending = new Map<number, Resp>();

  /** The payload of completed transaction `id` (once). */
  take(id: number): Payload {
    const r = this.pending.get(id) as { payload?: Payload } | undefined;
    if (!r?.payload) throw new InvariantError("sequencer", `no payload for transaction ${id}`);
    this.pending.delete(id);
    return r.payload;
  }

  /**
   * Issues a step and keeps the payloads of its responses. The driver passes the responses into
   * the generator; every `yield` of a step with reads goes through this wrapper (the map itself is
   * the thread's, reused for its next step).
   */
  *run(s: Step): Steps {
    const got = yield s;
    got.forEach((v, k) => {
      if ((v as { payload?: Payload }).payload) this.pending.set(k, v);
    });
  }
}
