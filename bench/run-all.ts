/**
 * `npm run bench`: every micro-benchmark in turn (benny), each in its own process so one cannot
 * warm up or slow down another. Suites over whole networks: `npm run bench:suite`.
 */
import { spawnSync } from "node:child_process";

const benches = ["bench/pe-array.bench.ts", "bench/engine.bench.ts", "bench/layer.bench.ts"];
let failed = 0;
for (const f of benches) {
  process.stdout.write(`\n=== ${f}\n`);
  const r = spawnSync(process.execPath, ["--import", "tsx", f], { stdio: "inherit" });
  if (r.status !== 0) failed++;
}
process.exitCode = failed ? 1 : 0;
