/**
 * One whole small layer, simulated bit-exactly, against referenceConv on the same operands, in the
 * same run (issues 5 and 6). Reports ops/s of each and prints simulated MACs/s and the ratio
 * simulation / reference. The layer: AlexNet CONV5 scaled down (c=64, 13x13, k=64, 3x3, pad 1),
 * on the chen2020 preset with the chen2020 dataflow.
 * Run: npx tsx bench/layer.bench.ts
 */
import b from "benny";
import { simulate } from "../src/dataflow/simulate.js";
import { convLayer, convShape } from "../src/workload/layer.js";
import { referenceConv } from "../src/workload/reference.js";
import { layerTensors } from "../src/workload/tensors.js";

const layer = convLayer({ name: "conv5-small", inChannels: 64, inHeight: 13, inWidth: 13, outChannels: 64, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] });
const { x, w } = layerTensors(layer, { seed: 1 });
const macs = convShape(layer).macs;

let t0 = performance.now();
referenceConv(layer, x, w);
const refMs = performance.now() - t0;
t0 = performance.now();
const r = simulate({ layer, arch: "chen2020", dataflow: "chen2020", x, w });
const simMs = performance.now() - t0;
if (!r.verification.ok) throw new Error("the simulated output does not match the reference");
console.log(`${layer.name}: ${macs} MACs; simulate ${simMs.toFixed(0)} ms (${(macs / simMs / 1e3).toFixed(1)} M MAC/s), referenceConv ${refMs.toFixed(0)} ms; ratio ${(simMs / refMs).toFixed(2)}x`);

void b.suite(
  "one small layer: simulate() vs referenceConv",
  b.add("referenceConv", () => {
    referenceConv(layer, x, w);
  }),
  b.add("simulate (chen2020, fast mode, verified)", () => {
    simulate({ layer, arch: "chen2020", dataflow: "chen2020", x, w });
  }),
  b.cycle(),
  b.complete(),
);
