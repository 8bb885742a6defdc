/**
 * Runs one `convsim` command several times in this process, each run as bin/convsim.js runs the
 * command once (the bundle with its code cache, under the command's V8 flags: bin/v8-tuning.js),
 * and writes each run's CPU seconds (every thread of the process) and wall seconds, and its exit
 * code, as JSON to the file named by the first argument. bench/targets.ts reports the last run:
 * the command warm, V8's compiling of its code done during the runs before, as a library user or
 * a long `convsim run` meets it after its first layers. Its output is thrown away.
 *
 * Run: node measure-warm.js RESULT.json RUNS convsim-arguments...
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { repoRoot } from "./repo-root.js";

const [resultFile, runsText, ...args] = process.argv.slice(2);
const runs = Number(runsText);
if (!resultFile) throw new Error("usage: measure-warm RESULT.json RUNS convsim-arguments...");
if (!Number.isSafeInteger(runs) || runs < 1) throw new Error(`measure-warm: RUNS must be a positive integer; got ${JSON.stringify(runsText)}`);
const bin = join(repoRoot(import.meta.url), "bin");
const { applyTuningFlags } = (await import(pathToFileURL(join(bin, "v8-tuning.js")).href)) as { applyTuningFlags: () => void };
applyTuningFlags();
const { loadBundle } = (await import(pathToFileURL(join(bin, "bundle-loader.js")).href)) as { loadBundle: () => { exports: { main: (argv: string[], io: object) => Promise<number> } } };
const { main } = loadBundle().exports;
const quiet = { out: () => {}, err: () => {}, isTTY: false, handleSignals: false };
const out: { cpu: number; wall: number; exitCode: number }[] = [];
for (let r = 0; r < runs; r++) {
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  const exitCode = await main([...args], quiet);
  const u = process.cpuUsage(u0);
  out.push({ cpu: (u.user + u.system) / 1e6, wall: (performance.now() - t0) / 1000, exitCode });
}
writeFileSync(resultFile, JSON.stringify(out));
