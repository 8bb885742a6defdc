/**
 * The reference convolutions under benny, in the same run: the naive seven-loop direct
 * convolution (the baseline, bench/naive-conv.ts), the JavaScript reference (`referenceConvJs`,
 * the slow oracle) and the WebAssembly SIMD reference (`referenceConv`, what verification runs),
 * on AlexNet conv1 (105 M MACs per call; VGG-16 conv3_2, 18x larger, is timed by
 * `npm run bench:reference`). Prints ops/s of each, then each one's time as a ratio of the
 * baseline's, and the process's peak RSS.
 * Run: npx tsx bench/reference.bench.ts
 */
import b from "benny";
import { referenceConv, referenceConvJs } from "../src/workload/reference.js";
import { naiveConv } from "./naive-conv.js";
import { referenceCases } from "./reference-layers.js";

const [c] = referenceCases(["alexnet/conv1"]);
const { layer, x, w, xZeroPoint, wZeroPoint } = c!;
const opts = { xZeroPoint, wZeroPoint };
const few = { minSamples: 3, maxTime: 4 };
const BASELINE = "naive seven-loop JavaScript (baseline)";

void b.suite(
  `${c!.label}: reference convolutions against the naive loop`,
  b.add(BASELINE, () => {
    naiveConv(layer, x, w, xZeroPoint, wZeroPoint);
  }, few),
  b.add("referenceConvJs (JavaScript)", () => {
    referenceConvJs(layer, x, w, opts);
  }, few),
  b.add("referenceConv (WebAssembly SIMD)", () => {
    referenceConv(layer, x, w, opts);
  }, few),
  b.cycle(),
  b.complete((summary) => {
    const base = summary.results.find((r) => r.name === BASELINE)!;
    // Mean seconds per call (benny rounds ops/s to an integer, too coarse for the slow cases).
    for (const r of summary.results) {
      const ratio = r.details.mean / base.details.mean;
      console.log(`${r.name}: ${(r.details.mean * 1000).toFixed(1)} ms per call, time / baseline ${ratio.toFixed(4)}x (${(1 / ratio).toFixed(1)}x faster)`);
    }
    console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  }),
);
