/**
 * convsim's systolic array against SCALE-Sim's analytical fold model (Samajdar et al., ISPASS
 * 2020), the comparison of issue 14 and docs/timing.md ("convsim against SCALE-Sim's folds").
 *
 * For each layer (pre-padded inputs, as SCALE-Sim takes them), dataflow (os, ws, is) and square
 * array size, the named dataflow runs on the `systolic` preset resized to the array (its edge
 * buses too: one word per row and column per cycle; its GBuf past 32 x 32), with ideal
 * memory (`dram.model` and `gbuf.model` = `ideal`: SCALE-Sim's folds assume the operands are on
 * chip), bit-exact and verified; its cycles are set against SCALE-Sim's
 *     os:     folds x (T + R + C - 2),      Sr = output pixels, Sc = filters,      T = C R S / groups
 *     ws, is: folds x (2R + C + T - 2),     ws: Sr = C R S, Sc = filters, T = pixels;
 *                                           is: Sr = C R S, Sc = pixels,  T = filters
 *     folds = ceil(Sr / R) x ceil(Sc / C)   (R x C the array)
 * Printed as a Markdown table on stdout (progress on stderr).
 *
 * `--gbuf-kib N` sets the GBuf's size (default: the preset's 256 KiB, and 256 B per PE on arrays
 * larger than its 32 x 32: 4 MiB on 128 x 128). SCALE-Sim's fold formula ignores
 * capacity; convsim's builders must fit a fold's tiles (double-buffered) in the GBuf, which bounds
 * how long a fold is and how well its points pack the array. A larger GBuf shows how much of a
 * ratio is capacity.
 *
 * Run: npm run bench:folds -- [--sizes 16,32] [--layers alexnet-conv3,res2a_2a] [--dataflows os,ws] [--gbuf-kib 1024]
 */
import { parseArgs } from "node:util";
import { simulate } from "../src/dataflow/simulate.js";
import { convLayer, convShape, type ConvLayerSpec } from "../src/workload/layer.js";

const LAYERS: Readonly<Record<string, ConvLayerSpec>> = {
  "alexnet-conv1": { inChannels: 3, inHeight: 227, inWidth: 227, outChannels: 96, kernelHeight: 11, kernelWidth: 11, strides: [4, 4] },
  "alexnet-conv2": { inChannels: 96, inHeight: 31, inWidth: 31, outChannels: 256, kernelHeight: 5, kernelWidth: 5 },
  "alexnet-conv3": { inChannels: 256, inHeight: 15, inWidth: 15, outChannels: 384, kernelHeight: 3, kernelWidth: 3 },
  "alexnet-conv4": { inChannels: 384, inHeight: 15, inWidth: 15, outChannels: 384, kernelHeight: 3, kernelWidth: 3 },
  "alexnet-conv5": { inChannels: 384, inHeight: 15, inWidth: 15, outChannels: 256, kernelHeight: 3, kernelWidth: 3 },
  "vgg16-conv3_1": { inChannels: 128, inHeight: 58, inWidth: 58, outChannels: 256, kernelHeight: 3, kernelWidth: 3 },
  "res2a_branch2a": { inChannels: 64, inHeight: 56, inWidth: 56, outChannels: 64, kernelHeight: 1, kernelWidth: 1 },
  "res2a_branch2b": { inChannels: 64, inHeight: 58, inWidth: 58, outChannels: 64, kernelHeight: 3, kernelWidth: 3 },
  "res3a_branch1": { inChannels: 256, inHeight: 56, inWidth: 56, outChannels: 512, kernelHeight: 1, kernelWidth: 1, strides: [2, 2] },
};

const { values } = parseArgs({
  options: { sizes: { type: "string", default: "16,32" }, layers: { type: "string" }, dataflows: { type: "string", default: "os,ws,is" }, "gbuf-kib": { type: "string" } },
});
const gbufKib = values["gbuf-kib"];
if (gbufKib !== undefined && !/^[1-9][0-9]*$/.test(gbufKib)) throw new Error(`--gbuf-kib must be a positive integer (KiB); got "${gbufKib}"`);
/**
 * The GBuf of an n x n array: `--gbuf-kib`, else the preset's 256 KiB, grown with the array past
 * 32 x 32 at the preset's 256 B per PE (4 MiB on 128 x 128; SCALE-Sim's own configurations give
 * large arrays megabytes of SRAM, e.g. its TPU-like 256 x 256 one).
 */
function gbufOf(n: number) {
  return { model: "ideal" as const, capacityBytes: gbufKib !== undefined ? Number(gbufKib) * 1024 : Math.max(256 * 1024, 256 * n * n) };
}
const sizes = values.sizes!.split(",").map((s) => {
  if (!/^[1-9][0-9]*$/.test(s)) throw new Error(`--sizes must list positive integers (array rows = cols), e.g. 16,32; got "${s}"`);
  return Number(s);
});
const names = values.layers ? values.layers.split(",") : Object.keys(LAYERS);
const dataflows = values.dataflows!.split(",");

/**
 * The preset's edge buses resized with the array: one word per row (inputs) and per column
 * (weights, drained outputs, reloaded psums) per cycle, as the preset's 32 words per cycle are on
 * its 32 x 32 array. (Left at 32, a 128 x 128 array would wait 4 cycles per streamed step.)
 */
function edgeBuses(n: number) {
  return { inputWordsPerCycle: n, weightWordsPerCycle: n, drainWordsPerCycle: n, psumWordsPerCycle: n };
}

/** SCALE-Sim's cycles for one layer, dataflow and square array of `n`. */
function scaleSim(spec: ConvLayerSpec, df: string, n: number): number {
  const l = convLayer(spec);
  const s = convShape(l);
  const window = (l.inChannels / l.groups) * l.kernelHeight * l.kernelWidth;
  const pixels = s.outHeight * s.outWidth * l.batch;
  const folds = (sr: number, sc: number) => Math.ceil(sr / n) * Math.ceil(sc / n);
  if (df === "os") return folds(pixels, l.outChannels) * (window + n + n - 2);
  if (df === "ws") return folds(window, l.outChannels) * (2 * n + n + pixels - 2);
  return folds(window, pixels) * (2 * n + n + l.outChannels - 2);
}

console.log("| array | layer | dataflow | convsim cycles | SCALE-Sim cycles | ratio | PE utilization | verified |");
console.log("| ---: | :--- | :--- | ---: | ---: | ---: | ---: | :--- |");
for (const n of sizes) {
  for (const name of names) {
    const spec = LAYERS[name];
    if (!spec) throw new Error(`unknown layer ${name}; known: ${Object.keys(LAYERS).join(", ")}`);
    for (const df of dataflows) {
      process.stderr.write(`${n}x${n} ${name} ${df}\n`);
      const r = simulate({ layer: spec, arch: "systolic", archOverrides: { array: { rows: n, cols: n }, noc: edgeBuses(n), dram: { model: "ideal" }, gbuf: gbufOf(n) }, dataflow: df });
      const ref = scaleSim(spec, df, n);
      console.log(`| ${n}x${n} | ${name} | ${df} | ${r.cycles.toLocaleString("en-US")} | ${ref.toLocaleString("en-US")} | ${(r.cycles / ref).toFixed(2)} | ${(100 * r.utilization).toFixed(1)}% | ${r.verification.ok ? "yes" : "NO"} |`);
    }
  }
}
