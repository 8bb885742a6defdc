/**
 * `npm run bench:speed`: one layer simulated and verified, against the naive seven-loop
 * convolution of the same layer (bench/naive-conv.ts) timed in the same process on the same
 * operands (issue 15's target: VGG-16 conv3_2 with chen2020 in <= 0.5x the naive loop's time).
 * Runs the simulation with timeline replay on and off (docs/design-notes.md, "Timeline replay")
 * and checks the two agree on cycles and every counter. Printed per run: CPU seconds (user +
 * system: on a shared machine wall time also counts other processes' turns), wall seconds, the
 * ratio to the naive loop's CPU time, the timelines replayed, the engine steps, and the process's
 * peak resident memory so far.
 *
 * Run: npm run bench:speed -- [--layer c=256,hw=56,k=256,r=3,pad=1] [--arch chen2020] [--dataflow chen2020]
 */
import { parseArgs } from "node:util";
import { simulate, type SimulationResult } from "../src/dataflow/simulate.js";
import { parseLayerShortForm } from "../src/workload/layer.js";
import { layerTensors } from "../src/workload/tensors.js";
import { naiveConv } from "./naive-conv.js";

const { values } = parseArgs({
  options: {
    layer: { type: "string", default: "c=256,hw=56,k=256,r=3,pad=1" },
    arch: { type: "string", default: "chen2020" },
    dataflow: { type: "string", default: "chen2020" },
  },
});

const layer = parseLayerShortForm(values.layer, "--layer");
const { x, w } = layerTensors(layer, { seed: 1 });

/** Runs `f`; returns its result with its CPU and wall seconds. */
function timed<T>(f: () => T): { value: T; cpu: number; wall: number } {
  const t0 = performance.now();
  const u0 = process.cpuUsage();
  const value = f();
  const u = process.cpuUsage(u0);
  return { value, cpu: (u.user + u.system) / 1e6, wall: (performance.now() - t0) / 1000 };
}

const peakMiB = () => (process.resourceUsage().maxRSS / 1024).toFixed(0);
const naive = timed(() => naiveConv(layer, x, w));
console.log(`${values.layer}: naive loop ${naive.cpu.toFixed(2)} s CPU (${naive.wall.toFixed(2)} s wall), peak RSS ${peakMiB()} MiB`);
const runs: SimulationResult[] = [];
for (const replay of [true, false]) {
  const r = timed(() => simulate({ layer, arch: values.arch, dataflow: values.dataflow, x, w, timelineReplay: replay }));
  const s = r.value;
  if (!s.verification.ok) throw new Error("the simulated output differs from the reference");
  if (!s.output.every((v, i) => v === naive.value[i])) throw new Error("the simulated output differs from the naive loop's");
  runs.push(s);
  console.log(
    `simulate + verify, timeline replay ${replay ? "on " : "off"}: ${r.cpu.toFixed(2)} s CPU (${r.wall.toFixed(2)} s wall) = ${(r.cpu / naive.cpu).toFixed(3)}x the naive loop; ` +
      `${s.simulator.replayedTimelines} timelines replayed of ${s.simulator.iterations} iterations, ${s.simulator.engineSteps} engine steps; peak RSS ${peakMiB()} MiB`,
  );
}
const [on, off] = runs as [SimulationResult, SimulationResult];
if (on.cycles !== off.cycles || JSON.stringify(on.counters) !== JSON.stringify(off.counters) || JSON.stringify(on.stalls) !== JSON.stringify(off.stalls)) {
  throw new Error("replay on and off disagree");
}
console.log(`replay on and off agree: ${on.cycles} cycles, every counter and stall equal`);
