/**
 * Random legal mappings on small architectures, shared by the simulator's property tests: the
 * architectures, the layers a random mapping can simulate, and the mapping generator.
 */
import fc from "fast-check";
import { resolveArch, type ArchSpecInput } from "../../src/arch/presets.js";
import type { ArchSpec } from "../../src/arch/spec.js";
import { checkMapping } from "../../src/dataflow/legality.js";
import type { Mapping } from "../../src/dataflow/mapping.js";
import type { SimulateOptions } from "../../src/dataflow/simulate.js";
import type { ConvLayer } from "../../src/workload/layer.js";
import { fuseRandom, randomMapping, rng, smallLayer } from "./walk.js";

/** Output size along one axis, independently of src's shape math. */
export function outSize(inSize: number, k: number, stride: number, dil: number, padA: number, padB: number): number {
  return Math.floor((inSize + padA + padB - ((k - 1) * dil + 1)) / stride) + 1;
}


/** Input elements some real tap reads, by brute force. */
export function touchedInputs(l: ConvLayer): number {
  const P = outSize(l.inHeight, l.kernelHeight, l.strides[0], l.dilations[0], l.pads[0], l.pads[2]);
  const Q = outSize(l.inWidth, l.kernelWidth, l.strides[1], l.dilations[1], l.pads[1], l.pads[3]);
  const rows = new Set<number>();
  const cols = new Set<number>();
  for (let p = 0; p < P; p++)
    for (let r = 0; r < l.kernelHeight; r++) {
      const h = p * l.strides[0] - l.pads[0] + r * l.dilations[0];
      if (h >= 0 && h < l.inHeight) rows.add(h);
    }
  for (let q = 0; q < Q; q++)
    for (let s = 0; s < l.kernelWidth; s++) {
      const w = q * l.strides[1] - l.pads[1] + s * l.dilations[1];
      if (w >= 0 && w < l.inWidth) cols.add(w);
    }
  return l.batch * l.inChannels * rows.size * cols.size;
}

/** Small architectures on which random mappings are often legal. */
export const tinyBase: ArchSpecInput = {
  name: "tiny",
  dram: { bytesPerCycle: 8, latencyCycles: 5, burstBytes: 16, maxOutstanding: 2 },
  gbuf: { capacityBytes: 8192, banks: 4, bankWordBytes: 8, wordsPerCyclePerBank: 1, readPorts: 2, writePorts: 1 },
  rf: { inputEntries: 64, weightEntries: 64, psumEntries: 64, readPorts: 2, writePorts: 2 },
  array: { rows: 4, cols: 4, macsPerCycle: 1, pipelineLatency: 1 },
  noc: { inputWordsPerCycle: 4, weightWordsPerCycle: 4, drainWordsPerCycle: 2, neighbourLinks: true },
};
export const ARCHS: readonly ArchSpec[] = [
  resolveArch(tinyBase),
  resolveArch(tinyBase, { name: "tiny-nolinks", noc: { neighbourLinks: false }, array: { rows: 3, cols: 5, macsPerCycle: 2 } }),
  resolveArch("chen2020"),
];

/** A random legal mapping of `l` on `arch` (random loop orders, factors, axes, GBuf bypass, double buffering), or undefined. */
export function legalRandomMapping(l: ConvLayer, arch: ArchSpec, seed: number, fused = false): Mapping | undefined {
  return firstLegal(l, arch, rng(seed), fused, 40, (rf) => rf);
}

/**
 * The first of `tries` random mappings of `l` (fused when `fused`; the rf level's flags set by
 * `flags`, which may draw from `rnd`) that is legal on `arch`, or undefined. The simulated PE
 * computes out of its register file: the rf level keeps every tensor.
 */
function firstLegal(l: ConvLayer, arch: ArchSpec, rnd: () => number, fused: boolean, tries: number, flags: (rf: Mapping["rf"]) => Mapping["rf"]): Mapping | undefined {
  for (let i = 0; i < tries; i++) {
    const m0 = fused ? fuseRandom(randomMapping(l, rnd), l, rnd) : randomMapping(l, rnd);
    if (!m0) return undefined;
    const m: Mapping = { ...m0, rf: flags({ ...m0.rf, keep: { input: true, weight: true, output: true } }) };
    if (checkMapping(m, l, arch).ok) return m;
  }
  return undefined;
}

/**
 * A small array that forwards operands PE to PE (`noc.forwarding`, as the systolic preset), on
 * which mappings may stream tensors through the PEs (`mapping.rf.stream`).
 */
export const STREAM_ARCH: ArchSpec = resolveArch(tinyBase, { name: "tiny-forwarding", noc: { forwarding: true }, rf: { inputEntries: 16, weightEntries: 16, psumEntries: 16 } });

/**
 * A random legal mapping of `l` on {@link STREAM_ARCH} that streams one to three tensors through
 * the PEs (random flags, a second accumulator set now and then), or undefined.
 */
export function legalStreamedMapping(l: ConvLayer, seed: number, fused = false): Mapping | undefined {
  const rnd = rng(seed);
  return firstLegal(l, STREAM_ARCH, rnd, fused, 60, (rf) => {
    const pick = 1 + Math.floor(rnd() * 7);
    const stream = { input: (pick & 1) !== 0, weight: (pick & 2) !== 0, output: (pick & 4) !== 0 };
    return { ...rf, stream, doubleBufferOutput: !stream.output && rnd() < 0.3 ? true : undefined };
  });
}

/**
 * Random small layers, those in which no window reads a real input (every tap in the padding)
 * included: they once hit a Sequencer bug, and were left out then; "a layer whose windows read
 * only padding" in simulate.test.ts pins the fix for the named dataflows, and these cover random
 * mappings of them.
 */
export const simulableLayer = smallLayer;

/**
 * Runs `check` on `numRuns` random small layers, each with a random legal mapping on one of
 * {@link ARCHS} (cases without one are skipped), with zero points 3 and -5; returns the cases run.
 */
export function eachRandomMapping(numRuns: number, check: (opts: SimulateOptions & { readonly dataflow: Mapping }) => void, seed?: number, fused = false): number {
  let runs = 0;
  fc.assert(
    fc.property(simulableLayer, fc.nat(2), fc.integer(), (l, a, s) => {
      const arch = ARCHS[a]!;
      const m = legalRandomMapping(l, arch, s, fused);
      if (!m) return;
      runs++;
      check({ layer: l, arch, dataflow: m, seed: s, zeroPoints: { input: 3, weight: -5 } });
    }),
    seed === undefined ? { numRuns } : { numRuns, seed },
  );
  return runs;
}
