/**
 * Random layers and random variants of the chen2020 preset (array shape, pipeline latency, bus
 * widths, GBuf banks and ports, register sizes) on which chen2020 chains its waves: the pipelined
 * replay tests' cases (timeline-replay.test.ts, steady-runs.test.ts).
 */
import type { ArchOverrides } from "../../src/arch/presets.js";
import { convLayer, type ConvLayer } from "../../src/workload/layer.js";

/** A random layer and preset variant, drawn with `rnd` (uniform in [0, 1)). */
export function chen2020Variant(rnd: () => number): { readonly layer: ConvLayer; readonly archOverrides: ArchOverrides } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const r = pick([1, 3, 3, 5]);
  const layer = convLayer({ inChannels: pick([16, 48, 64, 96]), inHeight: pick([6, 9, 13, 16]), inWidth: pick([7, 13, 16]), outChannels: pick([8, 20, 48]), kernelHeight: r, kernelWidth: r, strides: pick([[1, 1], [1, 1], [2, 2]] as const), pads: [(r - 1) / 2, (r - 1) / 2, (r - 1) / 2, (r - 1) / 2] });
  const archOverrides = {
    array: { rows: pick([4, 6, 12]), cols: pick([5, 8, 14]), pipelineLatency: pick([1, 2, 4]) },
    noc: { inputWordsPerCycle: pick([2, 6, 12]), weightWordsPerCycle: pick([3, 14]) },
    gbuf: { banks: pick([2, 8]), readPorts: pick([1, 2]) },
    rf: { inputEntries: pick([32, 64, 96]), weightEntries: pick([16, 24, 48]), psumEntries: pick([64, 196]) },
  };
  return { layer, archOverrides };
}
