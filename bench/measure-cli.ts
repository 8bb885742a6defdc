/**
 * Runs the `convsim` command (bin/convsim.js, as a user runs it) in this process and, when the
 * process exits, writes the whole process's CPU seconds (user and system, every thread: the
 * worker threads and V8's compiler and collector threads included), its peak resident memory and
 * its minor page faults (first touches of fresh pages: about 10 us each on the machines these
 * figures come from, docs/design-notes.md "Session 30") as JSON to the file named by the first
 * argument. bench/targets.ts starts one of these per
 * command, so its figures are whole processes, start-up included.
 *
 * On Linux it also splits the CPU by thread, from /proc/self/task at exit: the main thread's, that
 * of the threads still running then besides it (V8's platform threads, which run the optimizing
 * compiler's jobs and the collector's helpers, and libuv's, idle here), and the rest, which is
 * the worker threads' (they have exited by then; the process's total keeps their time). Ticks
 * are read at Linux's USER_HZ of 100 a second.
 *
 * Run: node measure-cli.js RESULT.json convsim-arguments...
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { repoRoot } from "./repo-root.js";

/** CPU seconds (user and system) of each of this process's threads still running, by thread id; undefined off Linux. */
function threadSeconds(): Map<number, number> | undefined {
  if (process.platform !== "linux") return undefined;
  const out = new Map<number, number>();
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      // (fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th)
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(Number(tid), (Number(f[11]) + Number(f[12])) / 100);
    } catch {
      // (a thread that ended while the folder was read)
    }
  }
  return out;
}

const [resultFile, ...args] = process.argv.slice(2);
if (!resultFile) throw new Error("usage: measure-cli RESULT.json convsim-arguments...");
const bin = join(repoRoot(import.meta.url), "bin", "convsim.js");
process.on("exit", (code) => {
  const u = process.cpuUsage();
  const r = process.resourceUsage();
  const threads = threadSeconds();
  const main = threads?.get(process.pid);
  const helpers = threads && main !== undefined ? [...threads].reduce((sum, [tid, s]) => (tid === process.pid ? sum : sum + s), 0) : undefined;
  writeFileSync(resultFile, JSON.stringify({ user: u.user / 1e6, system: u.system / 1e6, peakMiB: r.maxRSS / 1024, minorFaults: r.minorPageFault, exitCode: code, mainThread: main, helperThreads: helpers }));
});
process.argv = [process.argv[0]!, bin, ...args];
await import(pathToFileURL(bin).href);
