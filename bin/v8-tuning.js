// V8 tuning for the convsim command (bin/convsim.js applies it before it loads the simulator).
//
// A run of a few seconds spends about a third of its CPU in V8's optimizing compiler (perf on
// `convsim run --jobs 1`, AlexNet: 34% of the cycles), half of it recompiling functions whose
// inlined callees were deoptimized when a new layer took a new path; each worker thread compiles
// its code again. A smaller cumulative inlining budget (460 bytes of bytecode per function
// instead of V8's 920) compiles less per function and throws less away on a deopt, and leaves the
// hot loops as fast: whole-process pairs, this build with and without it, measured 0.90-0.93x the
// wall time of `convsim run` (AlexNet, two workers), 0.95x the CPU of a systolic `ws` AlexNet conv1,
// 0.97-0.98x `run --net vgg16`, and no change beyond the noise on an 8 s single layer (`is`,
// conv3: 1.00-1.01x) or `compare --net alexnet` (0.87x and 1.06x wall, 0.87x and 0.94x CPU).
// Smaller budgets (300, 150) made the long single layer 1.13-1.16x slower. docs/design-notes.md
// ("The compiler's share") has the figures.
//
// No callee of more than 40 bytes of bytecode is inlined either (V8's limit: 460). Measured per
// thread (session 33), V8's compiler threads spent about as much CPU as the simulation on a short
// command (a systolic `ws` AlexNet conv1: 0.44 s beside the main thread's 0.50 s), inlining large
// callees much of it, while the hot loops gain little from it: pairs, this build with and without
// the limit, measured 0.90x the CPU of that conv1, 0.91x the CPU and 0.92x the wall of `convsim
// run` (AlexNet), 0.97x `run --net vgg16`, and 0.99x (CPU; spread 0.91-1.13x) on the 8 s layer.
//
// V8's flags are the process's: set here they hold for the worker threads too. A library user's
// process keeps its own flags. Node warns that a flag changed after start may do nothing; these
// are read by each optimization job, and set this way (v8.setFlagsFromString) the first measured
// as on the command line: `convsim run` 0.93x against 0.90-0.92x (the second's pairs above are
// set this way).

import { setFlagsFromString } from "node:v8";

/** The flags convsim sets, each as `--name=value`. */
export const TUNING_FLAGS = ["--max-inlined-bytecode-size-cumulative=460", "--max-inlined-bytecode-size=40"];

/**
 * The tuning flags to apply: each of {@link TUNING_FLAGS} that the user has not set (in `node`'s
 * own arguments or in NODE_OPTIONS), so a user's value of the same flag always wins.
 * @param {readonly string[]} execArgv node's arguments (process.execArgv)
 * @param {string | undefined} nodeOptions the NODE_OPTIONS variable
 * @returns {string[]}
 */
export function tuningFlags(execArgv, nodeOptions) {
  const given = [...execArgv, ...(nodeOptions ?? "").split(/\s+/)].map((a) => a.replace(/^--/, "").split("=")[0].replace(/_/g, "-"));
  return TUNING_FLAGS.filter((f) => !given.includes(f.replace(/^--/, "").split("=")[0]));
}

/**
 * Sets this process's {@link tuningFlags} (before the simulator's code runs: bin/convsim.js, the
 * code cache's warm-up, the warm benchmark), each through v8.setFlagsFromString.
 */
export function applyTuningFlags() {
  for (const flag of tuningFlags(process.execArgv, process.env.NODE_OPTIONS)) setFlagsFromString(flag);
}
