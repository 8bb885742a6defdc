/**
 * A finished thread lets go of its program (types.ts, `finish`): a returned generator keeps its
 * parameters reachable, and each prefetch thread is held by the next one, so a thread that kept
 * its generator made a chain as long as the layer has dram tiles.
 */
import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import { describe, expect, it } from "vitest";
import { FINISHED, finish, Responses, thread, type Step } from "../../src/dataflow/sequencer/types.js";

/** A thread whose program holds `held` in its parameters, run to its end. */
function ended(held: object) {
  const t = thread((function* (h: object): Generator<Step, void, Responses> {
    void h;
  })(held));
  expect(t.gen.next(new Responses()).done).toBe(true);
  finish(t);
  return t;
}

describe("finish", () => {
  it("marks the thread done and swaps its program for the shared finished one", () => {
    const t = ended({});
    expect(t.done).toBe(true);
    expect(t.gen).toBe(FINISHED);
    expect(FINISHED.next(new Responses()).done).toBe(true);
  });

  it("leaves nothing the program held reachable from the thread", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    let held: object | undefined = { words: new Int32Array(1024) };
    const ref = new WeakRef(held);
    const t = ended(held);
    held = undefined;
    // (a turn of the event loop: WeakRef targets are kept until the current job ends)
    await new Promise((r) => setTimeout(r, 0));
    gc();
    expect(t.done).toBe(true);
    expect(ref.deref()).toBeUndefined();
  });
});
