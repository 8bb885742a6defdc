/**
 * onnxruntime-web in Node for tests: the WASM build, single-threaded, loading its .wasm from
 * node_modules (never a CDN), and a helper that runs a model once and returns its outputs.
 */
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { pathToFileURL } from "node:url";
import * as ort from "onnxruntime-web";

let configured = false;

/** Points onnxruntime-web at its local WASM files, one thread, errors only. Idempotent. */
export function configureOrt(): typeof ort {
  if (!configured) {
    const require = createRequire(import.meta.url);
    const wasm = require.resolve("onnxruntime-web/ort-wasm-simd-threaded.wasm");
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.wasmPaths = pathToFileURL(dirname(wasm) + "/").href;
    ort.env.logLevel = "error";
    configured = true;
  }
  return ort;
}

/** Runs a model once on the given feeds; returns every output by name. */
export async function runOrt(model: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  configureOrt();
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: "disabled" });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}
