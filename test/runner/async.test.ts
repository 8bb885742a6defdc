/**
 * simulateAsync runs simulate() in a worker thread: the same result, field for field and byte
 * for byte once serialized (only the wall times differ), progress in the caller's thread,
 * ConfigErrors as the synchronous call throws them, and an abort that stops the worker.
 */
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import { simulate, simulateAsync, type SimulateOptions, type SimulationResult } from "../../src/index.js";

/** A result as bytes, wall times zeroed, typed arrays as plain arrays. */
function bytes(r: SimulationResult): string {
  return JSON.stringify({ ...r, wallMs: 0, referenceMs: 0 }, (_k, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as Int32Array) : v));
}

const options: SimulateOptions = {
  layer: { inChannels: 8, inHeight: 10, inWidth: 10, outChannels: 16, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] },
  arch: "eyeriss",
  dataflow: "rs",
  types: { input: "uint8" },
  zeroPoints: { input: 128 },
  seed: 5,
};

describe("simulateAsync", () => {
  it("resolves to the synchronous result, byte for byte (wall times aside), and reports progress in this thread", async () => {
    const sync = simulate(options);
    const progress: number[] = [];
    const x = new Uint8Array(8 * 10 * 10).map((_, i) => (i * 29) % 256);
    const [async, withX] = await Promise.all([
      simulateAsync({ ...options, onProgress: (p) => progress.push(p.macs) }),
      simulateAsync({ ...options, x }),
    ]);
    expect(async.verification.ok).toBe(true);
    expect(bytes(async)).toBe(bytes(sync));
    expect(async.output).toBeInstanceOf(Int32Array);
    expect(Object.isFrozen(async.layer)).toBe(true);
    expect(progress.every((m) => m >= 0 && m <= sync.macs)).toBe(true);
    expect(bytes(withX)).toBe(bytes(simulate({ ...options, x })));
  });

  it("rejects with the ConfigError simulate() throws, and refuses options a thread cannot receive", async () => {
    const bad = { ...options, dataflow: "nope" };
    let syncMessage = "";
    try {
      simulate(bad);
    } catch (e) {
      syncMessage = (e as Error).message;
    }
    expect(syncMessage).not.toBe("");
    const err = await simulateAsync(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(syncMessage);
    const unsendable = { ...options, arch: { name: "f", toJSON: () => 1 } } as unknown as SimulateOptions;
    await expect(simulateAsync(unsendable)).rejects.toThrow(ConfigError);
  });

  it("stops the worker when aborted, rejecting with the signal's reason", async () => {
    const ac = new AbortController();
    const big = { ...options, layer: { inChannels: 64, inHeight: 28, inWidth: 28, outChannels: 64, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] as const }, checked: true };
    const p = simulateAsync(big, { signal: ac.signal });
    ac.abort(new Error("stopped by the caller"));
    await expect(p).rejects.toThrow("stopped by the caller");
    const pre = new AbortController();
    pre.abort(new Error("already"));
    await expect(simulateAsync(options, { signal: pre.signal })).rejects.toThrow("already");
  });
});
