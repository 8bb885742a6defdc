/**
 * The benchmark suite: whole networks through `simulate` (bit-exact, verified), one layer after
 * the other in this thread, with `referenceConv` timed on the same operands in the same run.
 *
 * Reported per network: layers, MACs, simulation time (simulate() verifies its output against
 * `referenceConv`, so that run is part of it) and the model alone (simulation time minus that
 * verification), simulated MACs per second, reference time and MACs per second, the ratios
 * simulation / reference and model / reference, the verdict, wall time
 * (tensor generation included) and the process's peak resident memory so far (maxRSS); per layer
 * also the simulator's own work (iterations planned, the share replayed, engine steps, the MAC
 * waves each WebAssembly kernel ran). Printed
 * as Markdown tables (per network, then per layer) on stdout, progress on stderr, and written as
 * JSON to bench/results/suite.json (git-ignored), so runs can be compared.
 *
 * Targets (issue 6, this 2-core machine): AlexNet batch 1 under 15 s, VGG-16 under 90 s, peak
 * RSS under 1 GiB. `convsim run` spreads layers over worker threads; this suite measures one
 * thread, so its wall time is the serial cost.
 *
 * Run: npm run bench:suite -- [--vgg16] [--nets alexnet,vgg16] [--layers conv1,conv3] [--quick]
 *      [--arch chen2020] [--dataflow chen2020] [--batch 1] [--checked] [--out FILE]
 * - `--quick`: one layer per network, its smallest layer by MACs that is not fully connected.
 * - `--layers`: the same selection syntax as the CLI (names or 1-based ranges), for every network.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { simulate } from "../src/dataflow/simulate.js";
import { referenceConv } from "../src/workload/reference.js";
import { layerTensors } from "../src/workload/tensors.js";
import { convShape, type ConvLayer } from "../src/workload/layer.js";
import { network, selectLayers } from "../src/workload/networks.js";

const { values } = parseArgs({
  options: {
    nets: { type: "string" },
    vgg16: { type: "boolean" },
    layers: { type: "string" },
    quick: { type: "boolean" },
    arch: { type: "string", default: "chen2020" },
    dataflow: { type: "string", default: "chen2020" },
    batch: { type: "string", default: "1" },
    checked: { type: "boolean" },
    out: { type: "string", default: "bench/results/suite.json" },
  },
});

const nets = (values.nets ?? "alexnet").split(",").map((s) => s.trim()).filter(Boolean);
if (values.vgg16 && !nets.includes("vgg16")) nets.push("vgg16");
const batch = Number(values.batch);

interface LayerResult {
  layer: string;
  macs: number;
  cycles: number;
  simSeconds: number;
  /** Of simSeconds, the model alone: without the reference convolution simulate() verifies against. */
  modelSeconds: number;
  refSeconds: number;
  simOverRef: number;
  verified: boolean;
  /** Gbuf iterations the Sequencer planned, and the share it replayed (SimulationResult.simulator). */
  iterations: number;
  replayed: number;
  engineSteps: number;
  /** MAC waves (and pieces of waves) per WebAssembly kernel ("vw0 161,280", "vw0 3,100 pieces"), or "none". */
  wasmWaves: string;
}

interface NetResult {
  network: string;
  layers: number;
  macs: number;
  simSeconds: number;
  modelSeconds: number;
  simMacsPerSecond: number;
  refSeconds: number;
  refMacsPerSecond: number;
  simOverRef: number;
  verified: boolean;
  wallSeconds: number;
  peakRssMiB: number;
  perLayer: LayerResult[];
}

function pick(layers: readonly ConvLayer[]): readonly ConvLayer[] {
  if (!values.quick) return layers;
  const conv = layers.filter((l) => l.inHeight * l.inWidth > 1);
  const pool = conv.length > 0 ? conv : layers;
  return [pool.reduce((a, b) => (convShape(b).macs < convShape(a).macs ? b : a))];
}

const peakRssMiB = () => process.resourceUsage().maxRSS / 1024;
const results: NetResult[] = [];
for (const name of nets) {
  const net = network(name, batch);
  const layers = pick(selectLayers(net, values.layers));
  const t0 = performance.now();
  const perLayer: LayerResult[] = [];
  for (const layer of layers) {
    const { x, w } = layerTensors(layer, { seed: 1 });
    const s0 = performance.now();
    const r = simulate({ layer, x, w, arch: values.arch, dataflow: values.dataflow, checked: values.checked ?? false });
    const s1 = performance.now();
    referenceConv(layer, x, w);
    const s2 = performance.now();
    const lr: LayerResult = {
      layer: layer.name ?? "?",
      macs: r.macs,
      cycles: r.cycles,
      simSeconds: (s1 - s0) / 1000,
      modelSeconds: (s1 - s0 - r.referenceMs) / 1000,
      refSeconds: (s2 - s1) / 1000,
      simOverRef: (s1 - s0) / Math.max(1e-9, s2 - s1),
      verified: r.verification.ok,
      iterations: r.simulator.iterations,
      replayed: r.simulator.replayedIterations / Math.max(1, r.simulator.iterations),
      engineSteps: r.simulator.engineSteps,
      wasmWaves:
        [
          Object.entries(r.simulator.wasmWaves).map(([k, n]) => `${k} ${(n ?? 0).toLocaleString("en-US")}`),
          Object.entries(r.simulator.wasmPieces).map(([k, n]) => `${k} ${(n ?? 0).toLocaleString("en-US")} pieces`),
        ]
          .flat()
          .join(", ") || "none",
    };
    perLayer.push(lr);
    process.stderr.write(`${name} ${lr.layer}: ${lr.simSeconds.toFixed(2)} s simulated, ${lr.refSeconds.toFixed(3)} s reference, ${lr.verified ? "PASS" : "FAIL"}\n`);
  }
  const sum = (f: (l: LayerResult) => number) => perLayer.reduce((a, l) => a + f(l), 0);
  const macs = sum((l) => l.macs);
  const simSeconds = sum((l) => l.simSeconds);
  const refSeconds = sum((l) => l.refSeconds);
  results.push({
    network: name,
    layers: perLayer.length,
    macs,
    simSeconds,
    modelSeconds: sum((l) => l.modelSeconds),
    simMacsPerSecond: macs / simSeconds,
    refSeconds,
    refMacsPerSecond: macs / refSeconds,
    simOverRef: simSeconds / refSeconds,
    verified: perLayer.every((l) => l.verified),
    wallSeconds: (performance.now() - t0) / 1000,
    peakRssMiB: peakRssMiB(),
    perLayer,
  });
}

const M = (n: number) => (n / 1e6).toFixed(1);
const lines: string[] = [];
lines.push(`convsim suite: arch ${values.arch}, dataflow ${values.dataflow}, batch ${batch}${values.quick ? ", quick" : ""}${values.layers ? `, layers ${values.layers}` : ""}${values.checked ? ", checked" : ""}; node ${process.version}`);
lines.push("");
lines.push("| network | layers | MACs [M] | sim [s] | model [s] | sim [M MAC/s] | reference [s] | reference [M MAC/s] | sim / reference [x] | model / reference [x] | verified | wall [s] | peak RSS [MiB] |");
lines.push("| :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :--- | ---: | ---: |");
for (const r of results) {
  lines.push(
    `| ${r.network} | ${r.layers} | ${M(r.macs)} | ${r.simSeconds.toFixed(2)} | ${r.modelSeconds.toFixed(2)} | ${M(r.simMacsPerSecond)} | ${r.refSeconds.toFixed(3)} | ${M(r.refMacsPerSecond)} | ${r.simOverRef.toFixed(1)} | ${(r.modelSeconds / r.refSeconds).toFixed(1)} | ${r.verified ? "PASS" : "FAIL"} | ${r.wallSeconds.toFixed(2)} | ${r.peakRssMiB.toFixed(0)} |`,
  );
}
lines.push("");
lines.push("| network | layer | MACs [M] | cycles | sim [s] | model [s] | sim [M MAC/s] | reference [s] | sim / reference [x] | model / reference [x] | iterations | replayed [%] | engine steps | WebAssembly waves | verified |");
lines.push("| :--- | :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | :--- | :--- |");
for (const r of results) {
  for (const l of r.perLayer) {
    lines.push(
      `| ${r.network} | ${l.layer} | ${M(l.macs)} | ${l.cycles.toLocaleString("en-US")} | ${l.simSeconds.toFixed(2)} | ${l.modelSeconds.toFixed(2)} | ${M(l.macs / l.simSeconds)} | ${l.refSeconds.toFixed(3)} | ${l.simOverRef.toFixed(1)} | ${(l.modelSeconds / l.refSeconds).toFixed(1)} | ${l.iterations.toLocaleString("en-US")} | ${(l.replayed * 100).toFixed(1)} | ${l.engineSteps.toLocaleString("en-US")} | ${l.wasmWaves} | ${l.verified ? "PASS" : "FAIL"} |`,
    );
  }
}
process.stdout.write(lines.join("\n") + "\n");

const out = values.out!;
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  JSON.stringify({ date: new Date().toISOString(), node: process.version, arch: values.arch, dataflow: values.dataflow, batch, quick: values.quick ?? false, layers: values.layers ?? null, results }, null, 2) + "\n",
);
process.stderr.write(`wrote ${out}\n`);
process.exitCode = results.every((r) => r.verified) ? 0 : 1;
