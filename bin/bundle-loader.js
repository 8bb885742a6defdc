// Loads the command's one-file bundle, dist/bundle/convsim.cjs (scripts/bundle.mjs), with V8's
// code cache of it, dist/bundle/convsim.cjs.cache: the bytecode of every function a warm-up run
// compiled when the package was built (scripts/code-cache.mjs). A process that starts with it
// skips parsing and compiling those functions: measured 0.94x the CPU and 0.93x the wall time of
// a systolic `ws` AlexNet conv1 simulation (7 pairs), the same on every worker thread.
//
// Why this is safe: the cache begins with the SHA-256 digest of the bundle it was made from, and
// is used only with that bundle (V8's own check of a cache against its source compares little
// more than the length). V8 then rejects a cache made by another V8 version or under other V8
// flags, and compiles the source as usual: a cache can only make a start faster, never change
// what runs. CommonJS, not an ES module, because Node 20 can give a code cache only to a
// vm.Script (Node 22's module.enableCompileCache does this for ES modules).
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Script } from "node:vm";

/** The bundle's path. */
export const BUNDLE = fileURLToPath(new URL("../dist/bundle/convsim.cjs", import.meta.url));
/** Its code cache's path. */
export const CODE_CACHE = `${BUNDLE}.cache`;
const DIGEST_BYTES = 32;

/**
 * Runs the bundle's module code in this thread, with its code cache unless `cache` is false.
 * @param {{ cache?: boolean }} [options]
 * @returns {{ exports: { main: (argv: string[], io?: object) => Promise<number>, serveWorker: () => void }, script: Script, digest: Buffer, cache: "used" | "rejected" | "stale" | "none" }}
 */
export function loadBundle(options = {}) {
  const bytes = readFileSync(BUNDLE);
  const digest = createHash("sha256").update(bytes).digest();
  let cachedData;
  let cache = "none";
  if (options.cache !== false && existsSync(CODE_CACHE)) {
    const c = readFileSync(CODE_CACHE);
    if (c.length > DIGEST_BYTES && c.subarray(0, DIGEST_BYTES).equals(digest)) cachedData = c.subarray(DIGEST_BYTES);
    else cache = "stale";
  }
  const script = new Script(Module.wrap(bytes.toString("utf8")), { filename: BUNDLE, cachedData });
  if (cachedData) cache = script.cachedDataRejected ? "rejected" : "used";
  const module = { exports: {} };
  script.runInThisContext().call(module.exports, module.exports, createRequire(BUNDLE), module, BUNDLE, dirname(BUNDLE));
  return { exports: module.exports, script, digest, cache };
}

/**
 * Writes the code cache of a bundle loaded by {@link loadBundle} (after the run that compiled its
 * functions), through a temporary file. Returns the cache's size in bytes.
 * @param {{ script: Script, digest: Buffer }} loaded
 * @returns {number}
 */
export function writeCodeCache(loaded) {
  const data = loaded.script.createCachedData();
  const tmp = `${CODE_CACHE}.tmp`;
  writeFileSync(tmp, Buffer.concat([loaded.digest, data]));
  renameSync(tmp, CODE_CACHE);
  return DIGEST_BYTES + data.length;
}
