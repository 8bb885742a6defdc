// Makes dist/bundle/convsim.cjs.cache (bin/bundle-loader.js): loads the bundle without a cache,
// under the V8 flags the command sets (bin/v8-tuning.js), runs a warm-up of small simulations and
// one layer of `convsim run` in this thread (every named dataflow on each preset, an FC layer, a
// strided one), so that the functions they call are compiled, then writes V8's code cache of the
// script: their bytecode. The warm-up's output is thrown away; its commands must succeed, or no
// cache is written (and a stale one is removed). Run by scripts/bundle.mjs.
import { rmSync } from "node:fs";
import { CODE_CACHE, loadBundle, writeCodeCache } from "../bin/bundle-loader.js";
import { applyTuningFlags } from "../bin/v8-tuning.js";

applyTuningFlags();
rmSync(CODE_CACHE, { force: true });
const loaded = loadBundle({ cache: false });
const quiet = { out: () => {}, err: () => {}, isTTY: false, handleSignals: false };
const conv = "c=16,hw=15,k=24,r=3,pad=1";
const warmUp = [
  ...["chen2020", "ws", "os", "is", "rs"].map((d) => ["simulate", "--layer", conv, "--dataflow", d]),
  ["simulate", "--layer", conv, "--arch", "eyeriss", "--dataflow", "rs"],
  ...["ws", "os", "is"].map((d) => ["simulate", "--layer", conv, "--arch", "systolic", "--dataflow", d]),
  ["simulate", "--layer", "c=3,hw=39,k=16,r=7,stride=2", "--arch", "systolic", "--dataflow", "ws"],
  ["simulate", "--layer", "c=512,hw=1,k=128,r=1"],
  ["run", "--layers", "conv5", "--jobs", "1", "--format", "json"],
];
const started = performance.now();
for (const argv of warmUp) {
  const code = await loaded.exports.main(argv, quiet);
  if (code !== 0) {
    process.stderr.write(`scripts/code-cache.mjs: the warm-up command \`convsim ${argv.join(" ")}\` exited ${code}; no code cache written\n`);
    process.exit(1);
  }
}
const bytes = writeCodeCache(loaded);
process.stdout.write(`code cache: ${(bytes / 1024).toFixed(0)} KiB after a ${((performance.now() - started) / 1000).toFixed(1)} s warm-up (dist/bundle/convsim.cjs.cache)\n`);
