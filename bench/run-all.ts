/**
 * `npm run bench`: every micro-benchmark in turn (benny), each in its own process so one cannot
 * warm up or slow down another. Suites over whole networks: `npm run bench:suite`.
 *
 * The npm scripts compile src/ and bench/ with tsc into .bench-dist/ and run the JavaScript:
 * measured code is what `dist/` users run, not tsx's esbuild output, whose keepNames wrapping of
 * every closure slows the simulator by up to 25%.
 */
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const benches = ["pe-array.bench", "engine.bench", "layer.bench", "reference.bench"].map((b) => join(here, b + ext));
let failed = 0;
for (const f of benches) {
  process.stdout.write(`\n=== ${f}\n`);
  const r = spawnSync(process.execPath, ext === ".ts" ? ["--import", "tsx", f] : [f], { stdio: "inherit" });
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
