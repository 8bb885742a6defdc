/**
 * The entry of the command's one-file bundle (scripts/bundle.mjs, dist/bundle/convsim.cjs): the
 * CLI's {@link main} and the worker threads' {@link serveWorker}, so that the command's main thread
 * and its workers run one script, and one V8 code cache serves them all (bin/bundle-loader.js).
 * Not a public module.
 */
export { main } from "./main.js";
export { serveWorker } from "../runner/serve.js";
