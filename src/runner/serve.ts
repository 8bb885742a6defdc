/**
 * The message loop of convsim's worker threads (worker.ts; the bundled command's workers start it
 * from dist/bundle/worker.js). It receives `{ type: "job", index, job }` (one layer's summary row),
 * `{ type: "check", index, request }` (one mapping built and checked), `{ type: "map", index,
 * job }` (one layer's mapper result) or `{ type: "simulate", index, options }` (one whole
 * simulate() result), runs it, posts progress (MACs done, at most every 200 ms) and
 * then `done` with the row or the result, or `error` with the error flattened. Other messages are
 * left alone. Not a public module.
 */
import { parentPort } from "node:worker_threads";
import { simulate, type SimulateOptions } from "../dataflow/simulate.js";
import { mappingCheck, runSimJob, type MappingRequest, type SimJob } from "./jobs.js";
import { runMapJob, type MapJob } from "./map-jobs.js";
import { serializeError } from "./worker-pool.js";

type Request =
  | { type: "job"; index: number; job: SimJob }
  | { type: "check"; index: number; request: MappingRequest }
  | { type: "map"; index: number; job: MapJob }
  | { type: "simulate"; index: number; options: SimulateOptions; progress: boolean };

/**
 * Serves the parent thread's requests on this worker thread's port (see the file header).
 * @throws Error when this is not a worker thread.
 */
export function serveWorker(): void {
  const port = parentPort;
  if (!port) throw new Error("the convsim worker must run in a worker thread");
  port.on("message", (msg: Request) => {
    let last = 0;
    const progress = (macs: number, totalMacs?: number): void => {
      const now = performance.now();
      if (now - last < 200) return;
      last = now;
      port.postMessage({ type: "progress", index: msg.index, macs, totalMacs });
    };
    try {
      if (msg.type === "job") {
        port.postMessage({ type: "done", index: msg.index, metrics: runSimJob(msg.job, progress) });
      } else if (msg.type === "check") {
        const r = msg.request;
        port.postMessage({ type: "done", index: msg.index, check: mappingCheck(r.layer, r.arch, r.dataflow, r.types) });
      } else if (msg.type === "map") {
        port.postMessage({ type: "done", index: msg.index, result: runMapJob(msg.job) });
      } else if (msg.type === "simulate") {
        const result = simulate({ ...msg.options, ...(msg.progress ? { onProgress: (p: { macs: number; totalMacs: number }) => progress(p.macs, p.totalMacs) } : {}) });
        port.postMessage({ type: "done", index: msg.index, result });
      }
    } catch (e) {
      port.postMessage({ type: "error", index: msg.index, error: serializeError(e) });
    }
  });
}
