/**
 * The worker thread of {@link runJobs} (jobs.ts): receives `{ type: "run", index, job }`, runs
 * the simulation, posts progress (MACs done, at most every 200 ms) and then `done` with the
 * summary row or `error` with the error flattened; `{ type: "simulate", options }` runs one whole
 * simulation (`convsim simulate` on a terminal, so Ctrl-C stays responsive) and posts its full
 * result. Not a public module.
 */
import { parentPort } from "node:worker_threads";
import { simulate, type SimulateOptions } from "../dataflow/simulate.js";
import { runSimJob, serializeError, type SimJob } from "./jobs.js";

const port = parentPort;
if (!port) throw new Error("job-worker must run in a worker thread");

port.on("message", (msg: { type: string; index: number; job: SimJob; options?: SimulateOptions }) => {
  if (msg.type === "simulate") {
    simulateOne(msg.options!);
    return;
  }
  if (msg.type !== "run") return;
  let last = 0;
  try {
    const metrics = runSimJob(msg.job, (macs) => {
      const now = performance.now();
      if (now - last < 200) return;
      last = now;
      port.postMessage({ type: "progress", index: msg.index, macs });
    });
    port.postMessage({ type: "done", index: msg.index, metrics });
  } catch (e) {
    port.postMessage({ type: "error", index: msg.index, error: serializeError(e) });
  }
});

/** One whole simulation (`convsim simulate` on a terminal): progress, then the full result. */
function simulateOne(options: SimulateOptions): void {
  let last = 0;
  try {
    const result = simulate({
      ...options,
      onProgress: (p) => {
        const now = performance.now();
        if (now - last < 200) return;
        last = now;
        port!.postMessage({ type: "progress", index: 0, macs: p.macs });
      },
    });
    port!.postMessage({ type: "result", index: 0, result });
  } catch (e) {
    port!.postMessage({ type: "error", index: 0, error: serializeError(e) });
  }
}
