/**
 * `npm run bench:reference`: the three convolutions verification could run, timed in the same
 * run on the same operands, on VGG-16 conv3_2 and AlexNet conv1 (issue 15):
 * - `naive`: the seven-loop direct convolution (bench/naive-conv.ts), the baseline;
 * - `referenceConvJs`: the JavaScript reference, the slow oracle;
 * - `referenceConv`: the WebAssembly SIMD reference, what verification runs.
 * Each is run `--repeat` times (default 3; the naive loop once unless `--repeat-naive`) and its
 * best run kept; every output is compared with the naive one bit for bit (a mismatch exits 1).
 * Printed per layer: MACs, wall and CPU seconds (the process's user + system time: on a shared
 * machine wall time also counts other processes' turns, CPU time does not), M MACs/s and the
 * ratios against the baseline, both from CPU time, and the peak resident memory of the process
 * after that step (maxRSS; it never decreases, and steps run fastest first, so each row's figure
 * bounds that step's own peak); then the run's wall time.
 *
 * Run: npm run bench:reference -- [--layers vgg16/conv3_2,alexnet/conv1] [--repeat 3] [--repeat-naive 1]
 */
import { parseArgs } from "node:util";
import { referenceConv, referenceConvJs } from "../src/workload/reference.js";
import { naiveConv } from "./naive-conv.js";
import { referenceCases, type ReferenceCase } from "./reference-layers.js";

const { values } = parseArgs({
  options: {
    layers: { type: "string", default: "alexnet/conv1,vgg16/conv3_2" },
    repeat: { type: "string", default: "3" },
    "repeat-naive": { type: "string", default: "1" },
  },
});

function count(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} must be a positive integer; got ${v}`);
  return n;
}

const repeat = count("repeat", values.repeat);
const repeatNaive = count("repeat-naive", values["repeat-naive"]);
const peakRssMiB = () => process.resourceUsage().maxRSS / 1024;

/** Runs `f` `n` times; returns the run with the least CPU time (its wall and CPU seconds) and the last output. */
function best(n: number, f: () => Int32Array): { wall: number; seconds: number; y: Int32Array } {
  let seconds = Infinity;
  let wall = Infinity;
  let y: Int32Array = new Int32Array(0);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const u0 = process.cpuUsage();
    y = f();
    const u = process.cpuUsage(u0);
    const cpu = (u.user + u.system) / 1e6;
    if (cpu < seconds) {
      seconds = cpu;
      wall = (performance.now() - t0) / 1000;
    }
  }
  return { wall, seconds, y };
}

const wall0 = performance.now();
let failed = false;
const rows: string[] = [];
for (const c of referenceCases(values.layers.split(",").map((s) => s.trim()))) {
  const opts = { xZeroPoint: c.xZeroPoint, wZeroPoint: c.wZeroPoint };
  const steps: [string, number, () => Int32Array][] = [
    ["referenceConv (WebAssembly SIMD)", repeat, () => referenceConv(c.layer, c.x, c.w, opts)],
    ["referenceConvJs (JavaScript)", repeat, () => referenceConvJs(c.layer, c.x, c.w, opts)],
    ["naive seven-loop JavaScript (baseline)", repeatNaive, () => naiveConv(c.layer, c.x, c.w, c.xZeroPoint, c.wZeroPoint)],
  ];
  const timed = steps.map(([name, n, f]) => {
    process.stderr.write(`${c.label}: ${name}...\n`);
    const r = best(n, f);
    return { name, ...r, rss: peakRssMiB() };
  });
  const base = timed[2]!;
  for (const t of timed) {
    const same = t.y.length === base.y.length && t.y.every((v, i) => v === base.y[i]);
    if (!same) failed = true;
    rows.push(row(c, t.name, t.wall, t.seconds, base.seconds, t.rss, same));
  }
}
process.stdout.write(
  [
    "| layer | convolution | MACs | wall s | CPU s | M MACs/s (CPU) | time / baseline | baseline / time | peak RSS so far (MiB) | output |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ...rows,
    "",
    `wall time ${((performance.now() - wall0) / 1000).toFixed(1)} s (tensors included), peak RSS ${peakRssMiB().toFixed(0)} MiB`,
    "",
  ].join("\n"),
);
process.exitCode = failed ? 1 : 0;

function row(c: ReferenceCase, name: string, wall: number, seconds: number, baseSeconds: number, rss: number, same: boolean): string {
  const cells = [
    c.label,
    name,
    c.macs.toLocaleString("en-US"),
    wall.toFixed(3),
    seconds.toFixed(3),
    (c.macs / seconds / 1e6).toFixed(0),
    `${(seconds / baseSeconds).toFixed(4)}x`,
    `${(baseSeconds / seconds).toFixed(1)}x`,
    rss.toFixed(0),
    same ? "equal to the baseline's" : "DIFFERS",
  ];
  return `| ${cells.join(" | ")} |`;
}
