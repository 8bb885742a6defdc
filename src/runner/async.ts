/**
 * simulateAsync(): simulate() in a worker thread, so a long run does not block the caller's
 * event loop (a server, an Electron main process, a progress display). The options go to the
 * worker by structured clone (typed arrays are copied, not transferred), the worker runs the same
 * simulate() and posts the result back; the result is the same, field for field, as the
 * synchronous call's (only the wall times `wallMs` and `referenceMs` differ from run to run).
 */
import { ConfigError } from "../core/errors.js";
import type { SimulateOptions, SimulationResult } from "../dataflow/simulate.js";
import { convLayer } from "../workload/layer.js";
import { deserializeError, startWorker, type SerializedError } from "./worker-pool.js";

/** Options of {@link simulateAsync} that concern the worker, not the simulation. */
export interface SimulateAsyncControl {
  /** Aborting it stops the worker and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

interface Reply {
  readonly type: "progress" | "done" | "error";
  readonly macs?: number;
  readonly totalMacs?: number;
  readonly result?: SimulationResult;
  readonly error?: SerializedError;
}

/**
 * Runs {@link simulate} in a worker thread and resolves to its result. `options.onProgress` is
 * called in this thread (at most every 200 ms).
 * @returns the same result as `simulate(options)`, its layer a frozen ConvLayer again.
 * @throws ConfigError (the promise rejects with it) for an invalid input, as simulate() throws
 *   it, or for options that cannot be sent to a thread (a value structuredClone refuses); a
 *   StallError's message or any other error likewise; the signal's reason when aborted.
 */
export function simulateAsync(options: SimulateOptions, control: SimulateAsyncControl = {}): Promise<SimulationResult> {
  const { signal } = control;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const { onProgress, ...rest } = options ?? ({} as SimulateOptions);
  let sendable: Omit<SimulateOptions, "onProgress">;
  try {
    sendable = structuredClone(rest);
  } catch (e) {
    return Promise.reject(new ConfigError("options", Object.keys(rest).join(", "), "hold only data a worker thread can receive (structured clone)", (e as Error).message));
  }
  return new Promise<SimulationResult>((resolve, reject) => {
    const worker = startWorker();
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", abort);
      void worker.terminate();
      f();
    };
    const abort = () => settle(() => reject(signal!.reason));
    signal?.addEventListener("abort", abort, { once: true });
    worker.on("message", (m: Reply) => {
      if (m.type === "progress") onProgress?.({ macs: m.macs ?? 0, totalMacs: m.totalMacs ?? 0 });
      else if (m.type === "done") settle(() => resolve({ ...m.result!, layer: convLayer(m.result!.layer) }));
      else settle(() => reject(deserializeError(m.error!)));
    });
    worker.on("error", (e) => settle(() => reject(e)));
    worker.on("exit", (code) => settle(() => reject(new Error(`the simulation worker exited (code ${code}) before it answered`))));
    worker.postMessage({ type: "simulate", index: 0, options: sendable, progress: onProgress !== undefined });
  });
}
