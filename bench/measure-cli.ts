/**
 * Runs the `convsim` command (bin/convsim.js, as a user runs it) in this process and, when the
 * process exits, writes the whole process's CPU seconds (user and system, every thread: the
 * worker threads and V8's compiler and collector threads included), its peak resident memory and
 * its minor page faults (first touches of fresh pages: about 10 us each on the machines these
 * figures come from, docs/design-notes.md "Session 30") as JSON to the file named by the first
 * argument. bench/targets.ts starts one of these per
 * command, so its figures are whole processes, start-up included.
 *
 * Run: node measure-cli.js RESULT.json convsim-arguments...
 */
import { existsSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The repository's root: the nearest folder above this file with a package.json. */
function root(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("measure-cli: no package.json above " + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

const [resultFile, ...args] = process.argv.slice(2);
if (!resultFile) throw new Error("usage: measure-cli RESULT.json convsim-arguments...");
const bin = join(root(), "bin", "convsim.js");
process.on("exit", (code) => {
  const u = process.cpuUsage();
  const r = process.resourceUsage();
  writeFileSync(resultFile, JSON.stringify({ user: u.user / 1e6, system: u.system / 1e6, peakMiB: r.maxRSS / 1024, minorFaults: r.minorPageFault, exitCode: code }));
});
process.argv = [process.argv[0]!, bin, ...args];
await import(pathToFileURL(bin).href);
