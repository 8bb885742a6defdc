/**
 * simulate(): real convolutions through the modeled accelerator (issue 5).
 *
 * - every named dataflow on every preset, over a layer set with every feature and every operand
 *   type pair (non-zero zero points): output == referenceConv bit for bit, in checked mode;
 * - reference mode == fast mode (output, every counter, cycles), determinism;
 * - property: random small layers x random legal Mappings are bit-exact, their counters equal the
 *   test's own counting model (simulate-model.ts), and their traffic is never below the bounds;
 * - chen2020's DRAM traffic equals the bounds module's attainable traffic for its tile, less the
 *   input halo the GBuf keeps between spatial tiles, or is less still when a GBuf tile holds every
 *   input channel;
 * - closed-form counts for small layers, per named dataflow;
 * - bad input: a ConfigError naming the field.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { resolveArch } from "../../src/arch/presets.js";
import type { ArchSpec } from "../../src/arch/spec.js";
import { lowerBounds } from "../../src/bounds/bounds.js";
import { tileBudget, tilePlan } from "../../src/bounds/tile.js";
import { ConfigError, StallError } from "../../src/core/errors.js";
import { chen2020Tile } from "../../src/dataflow/dataflows/chen2020.js";
import { checkMapping } from "../../src/dataflow/legality.js";
import { parseMapping, type Dim, type Mapping } from "../../src/dataflow/mapping.js";
import { simulate, type SimulateOptions, type SimulationResult } from "../../src/dataflow/simulate.js";
import { gbufInputHalo } from "../../src/dataflow/traffic.js";
import type { OperandType } from "../../src/workload/dtype.js";
import { convLayer, fullyConnected, type ConvLayer } from "../../src/workload/layer.js";
import { referenceConv } from "../../src/workload/reference.js";
import { seededTensor } from "../../src/workload/tensors.js";
import { modelCounts } from "./simulate-model.js";
import { ARCHS, eachRandomMapping, legalRandomMapping, outSize, simulableLayer, tinyBase, touchedInputs } from "./random-mappings.js";
import { randomMapping, rng, sizesOf } from "./walk.js";
import { configError } from "../helpers/errors.js";

const DATAFLOWS = ["chen2020", "ws", "os", "is", "rs"] as const;
const PRESETS = ["eyeriss", "chen2020", "systolic"] as const;
const BYTES: Record<OperandType, number> = { int8: 1, uint8: 1, int16: 2 };

// ---------------------------------------------------------------------------------------------
// Independent facts about a layer (no src shape math).

/** Dense MACs (padded taps included): N * K * (C/G) * P * Q * R * S. */
function denseMacs(l: ConvLayer): number {
  const P = outSize(l.inHeight, l.kernelHeight, l.strides[0], l.dilations[0], l.pads[0], l.pads[2]);
  const Q = outSize(l.inWidth, l.kernelWidth, l.strides[1], l.dilations[1], l.pads[1], l.pads[3]);
  return l.batch * l.outChannels * (l.inChannels / l.groups) * P * Q * l.kernelHeight * l.kernelWidth;
}


function outputs(l: ConvLayer): number {
  const P = outSize(l.inHeight, l.kernelHeight, l.strides[0], l.dilations[0], l.pads[0], l.pads[2]);
  const Q = outSize(l.inWidth, l.kernelWidth, l.strides[1], l.dilations[1], l.pads[1], l.pads[3]);
  return l.batch * l.outChannels * P * Q;
}

const value = (r: SimulationResult, name: string): number => r.counters[name]?.value ?? 0;

/** The simulated values of the counters a model predicts, for a readable diff. */
function simulatedOf(r: SimulationResult, names: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of names) out[k] = value(r, k);
  return out;
}

function expectModelCounts(r: SimulationResult, label: string): void {
  const model = modelCounts(r.layer, r.mapping, r.arch.noc.neighbourLinks);
  expect(simulatedOf(r, Object.keys(model)), label).toEqual(model);
}

/**
 * The source reads that feed deliveries of an operand: its GBuf reads (less the input halo a
 * double-buffered GBuf copies between its halves: docs/counting.md), or its DRAM reads when the
 * GBuf bypasses it.
 */
function deliveryReads(r: SimulationResult, t: "input" | "weight"): number {
  const m = r.mapping;
  if (!m.gbuf.keep[t]) return value(r, `dram.read.${t}`);
  const copies = t === "input" && m.gbuf.doubleBuffer ? gbufInputHalo(m, r.layer) : 0;
  return value(r, `gbuf.read.${t}`) - copies;
}

/**
 * GBuf <-> RF traffic with a multicast counted once, as docs/bounds.md counts that boundary: the
 * source reads that feed deliveries plus the words drained out of the PEs.
 */
function multicastOnce(r: SimulationResult): number {
  return value(r, "noc.drain.psum") + deliveryReads(r, "input") + deliveryReads(r, "weight");
}

/** Everything of a result that the model defines (wall time is not part of it). */
function modelPart(r: SimulationResult) {
  return { ...r, wallMs: 0, referenceMs: 0, simulator: undefined };
}

// ---------------------------------------------------------------------------------------------
// The layer set: every feature, every operand type pair, non-zero zero points.

interface Case {
  readonly name: string;
  readonly layer: ConvLayer;
  readonly xType: OperandType;
  readonly wType: OperandType;
  readonly xZero: number;
  readonly wZero: number;
}

const CASES: readonly Case[] = [
  {
    name: "stride > kernel (2x2 kernel, stride 3)",
    layer: convLayer({ inChannels: 3, inHeight: 11, inWidth: 10, outChannels: 4, kernelHeight: 2, kernelWidth: 2, strides: [3, 3] }),
    xType: "int8",
    wType: "int8",
    xZero: -5,
    wZero: 3,
  },
  {
    name: "dilation 2, pad 2",
    layer: convLayer({ inChannels: 2, inHeight: 9, inWidth: 9, outChannels: 3, kernelHeight: 3, kernelWidth: 3, dilations: [2, 2], pads: [2, 2, 2, 2] }),
    xType: "int8",
    wType: "uint8",
    xZero: 17,
    wZero: 128,
  },
  {
    name: "asymmetric padding, 3x2 kernel",
    layer: convLayer({ inChannels: 2, inHeight: 7, inWidth: 6, outChannels: 3, kernelHeight: 3, kernelWidth: 2, pads: [0, 2, 1, 0] }),
    xType: "int8",
    wType: "int16",
    xZero: -128,
    wZero: -300,
  },
  {
    name: "groups 2",
    layer: convLayer({ groups: 2, inChannels: 4, inHeight: 6, inWidth: 6, outChannels: 6, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] }),
    xType: "uint8",
    wType: "int8",
    xZero: 128,
    wZero: -1,
  },
  {
    name: "depthwise, channel multiplier 2, stride 2",
    layer: convLayer({ groups: 3, inChannels: 3, inHeight: 9, inWidth: 9, outChannels: 6, kernelHeight: 3, kernelWidth: 3, strides: [2, 2], pads: [1, 1, 1, 1] }),
    xType: "uint8",
    wType: "uint8",
    xZero: 255,
    wZero: 7,
  },
  {
    name: "batch 3",
    layer: convLayer({ batch: 3, inChannels: 2, inHeight: 5, inWidth: 5, outChannels: 3, kernelHeight: 3, kernelWidth: 3 }),
    xType: "uint8",
    wType: "int16",
    xZero: 1,
    wZero: 1000,
  },
  {
    name: "1x1",
    layer: convLayer({ inChannels: 8, inHeight: 7, inWidth: 7, outChannels: 5, kernelHeight: 1, kernelWidth: 1 }),
    xType: "int16",
    wType: "int8",
    xZero: -32768,
    wZero: 127,
  },
  {
    name: "FC (1x1 over 1x1), batch 2",
    layer: fullyConnected(20, 10, 2),
    xType: "int16",
    wType: "uint8",
    xZero: 32767,
    wZero: 200,
  },
  {
    name: "13 output rows (non-divisible)",
    layer: convLayer({ inChannels: 2, inHeight: 13, inWidth: 13, outChannels: 3, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] }),
    xType: "int16",
    wType: "int16",
    xZero: -4321,
    wZero: 1234,
  },
  {
    name: "11 output rows, stride 2, 7 channels (odd sizes)",
    layer: convLayer({ inChannels: 5, inHeight: 23, inWidth: 23, outChannels: 7, kernelHeight: 3, kernelWidth: 3, strides: [2, 2] }),
    xType: "int8",
    wType: "int8",
    xZero: 2,
    wZero: -2,
  },
];

function operands(c: Case, seed: number) {
  const l = c.layer;
  const x = seededTensor(c.xType, l.batch * l.inChannels * l.inHeight * l.inWidth, `x${seed}`);
  const w = seededTensor(c.wType, l.outChannels * (l.inChannels / l.groups) * l.kernelHeight * l.kernelWidth, `w${seed}`);
  return { x, w };
}

describe("every named dataflow on every preset is bit-exact (checked mode)", () => {
  it("covers every operand type pair with non-zero zero points", () => {
    const pairs = new Set(CASES.map((c) => `${c.xType}/${c.wType}`));
    expect(pairs.size).toBe(9);
    expect(CASES.every((c) => c.xZero !== 0 && c.wZero !== 0)).toBe(true);
  });

  for (const c of CASES) {
    it(`${c.name} (${c.xType} x ${c.wType}, zero points ${c.xZero}, ${c.wZero})`, () => {
      const { x, w } = operands(c, 5);
      const expected = referenceConv(c.layer, x, w, { xZeroPoint: c.xZero, wZeroPoint: c.wZero });
      for (const arch of PRESETS) {
        for (const df of DATAFLOWS) {
          const label = `${df} on ${arch}`;
          const r = simulate({ layer: c.layer, arch, dataflow: df, x, w, zeroPoints: { input: c.xZero, weight: c.wZero }, checked: true });
          expect(r.verification.ok, label).toBe(true);
          expect(r.verification.mismatches, label).toBe(0);
          expect(r.output, label).toEqual(expected);
          expect(r.mapping.name, label).toBe(df);
          expect(value(r, "pe.mac"), label).toBe(denseMacs(c.layer));
          expect(r.macs, label).toBe(denseMacs(c.layer));
          // Bytes alongside words, at each operand's width (outputs and partial sums: int32).
          const width = { input: BYTES[c.xType], weight: BYTES[c.wType], output: 4 };
          for (const level of ["dram", "gbuf"]) {
            for (const t of ["input", "weight", "output"] as const) {
              expect(value(r, `${level}.readBytes.${t}`), `${label} ${level} ${t}`).toBe(value(r, `${level}.read.${t}`) * width[t]);
              expect(value(r, `${level}.writeBytes.${t}`), `${label} ${level} ${t}`).toBe(value(r, `${level}.write.${t}`) * width[t]);
            }
          }
        }
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Reference mode == fast mode; determinism.

const smallCases: readonly { layer: ConvLayer; arch: string; types: { input: OperandType; weight: OperandType }; zp: { input: number; weight: number } }[] = [
  {
    layer: convLayer({ batch: 2, groups: 2, inChannels: 4, inHeight: 6, inWidth: 5, outChannels: 4, kernelHeight: 3, kernelWidth: 2, strides: [2, 1], pads: [1, 0, 1, 1] }),
    arch: "eyeriss",
    types: { input: "uint8", weight: "int16" },
    zp: { input: 7, weight: -3 },
  },
  {
    layer: convLayer({ inChannels: 3, inHeight: 8, inWidth: 8, outChannels: 5, kernelHeight: 3, kernelWidth: 3, dilations: [2, 1], pads: [2, 1, 0, 1] }),
    arch: "chen2020",
    types: { input: "int8", weight: "uint8" },
    zp: { input: -9, weight: 100 },
  },
  {
    layer: convLayer({ inChannels: 4, inHeight: 5, inWidth: 5, outChannels: 3, kernelHeight: 1, kernelWidth: 1 }),
    arch: "systolic",
    types: { input: "int16", weight: "int8" },
    zp: { input: 300, weight: 5 },
  },
];

describe("reference mode == fast mode", () => {
  for (const c of smallCases) {
    it(`every dataflow on ${c.arch}: identical output, counters, cycles and stalls`, () => {
      for (const df of DATAFLOWS) {
        const opts: SimulateOptions = { layer: c.layer, arch: c.arch, dataflow: df, types: c.types, zeroPoints: c.zp, seed: 3, checked: true };
        const fast = simulate({ ...opts, mode: "fast" });
        const ref = simulate({ ...opts, mode: "reference" });
        expect(fast.verification.ok, df).toBe(true);
        expect(ref.output, df).toEqual(fast.output);
        expect(ref.counters, df).toEqual(fast.counters);
        expect(ref.cycles, df).toBe(fast.cycles);
        expect(ref.stalls, df).toEqual(fast.stalls);
        expect(modelPart(ref), df).toEqual(modelPart(fast));
      }
    });
  }
});

describe("determinism", () => {
  it("the same inputs and seed give the same everything; another seed gives other data", () => {
    const c = smallCases[0]!;
    for (const df of DATAFLOWS) {
      const opts: SimulateOptions = { layer: c.layer, arch: c.arch, dataflow: df, types: c.types, zeroPoints: c.zp, seed: "abc" };
      const a = simulate(opts);
      const b = simulate(opts);
      expect(modelPart(b), df).toEqual(modelPart(a));
      const other = simulate({ ...opts, seed: "abd" });
      expect(other.verification.ok, df).toBe(true);
      expect(other.output, df).not.toEqual(a.output);
      // The schedule does not depend on the data.
      expect(other.counters, df).toEqual(a.counters);
      expect(other.cycles, df).toBe(a.cycles);
    }
  });

  it("reports progress up to every MAC", () => {
    const c = smallCases[1]!;
    const seen: { macs: number; totalMacs: number }[] = [];
    const r = simulate({ layer: c.layer, arch: c.arch, dataflow: "rs", onProgress: (p) => seen.push({ ...p }) });
    expect(seen.length).toBeGreaterThan(1);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.macs).toBeGreaterThanOrEqual(seen[i - 1]!.macs);
    expect(seen.every((p) => p.totalMacs === denseMacs(c.layer))).toBe(true);
    expect(seen[seen.length - 1]!.macs).toBe(r.macs);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: random small layers x random legal mappings.

/** S at each boundary, from the arch (independently of simulate): on-chip words for `dram`, RF entries for `gbuf`. */
function capacityWords(arch: ArchSpec, types: { input: OperandType; weight: OperandType }) {
  const rf = arch.array.rows * arch.array.cols * (arch.rf.sharedEntries ?? arch.rf.inputEntries! + arch.rf.weightEntries! + arch.rf.psumEntries!);
  const minBytes = Math.min(BYTES[types.input], BYTES[types.weight]);
  return { dram: Math.floor(arch.gbuf.capacityBytes / minBytes) + rf, gbuf: rf };
}


const OPERAND: fc.Arbitrary<OperandType> = fc.constantFrom("int8", "uint8", "int16");

/** Architectures small enough that the bounds bite on layers of a few thousand MACs (bank words of one byte: no alignment). */
const POCKET: ArchSpec = resolveArch({
  ...tinyBase,
  name: "pocket",
  gbuf: { capacityBytes: 128, banks: 4, bankWordBytes: 1, wordsPerCyclePerBank: 1, readPorts: 2, writePorts: 1 },
  rf: { inputEntries: 8, weightEntries: 4, psumEntries: 4, readPorts: 2, writePorts: 2 },
  array: { rows: 2, cols: 2, macsPerCycle: 1, pipelineLatency: 1 },
  noc: { inputWordsPerCycle: 4, weightWordsPerCycle: 4, drainWordsPerCycle: 2, neighbourLinks: false },
});
const THIMBLE: ArchSpec = resolveArch(POCKET, { name: "thimble", gbuf: { capacityBytes: 64 }, rf: { inputEntries: 4, weightEntries: 2, psumEntries: 2 } });

/** Layers of a few thousand MACs. */
const mediumLayer: fc.Arbitrary<ConvLayer> = fc
  .record({
    c: fc.integer({ min: 2, max: 6 }),
    k: fc.integer({ min: 2, max: 6 }),
    h: fc.integer({ min: 5, max: 9 }),
    w: fc.integer({ min: 5, max: 9 }),
    kernel: fc.integer({ min: 1, max: 3 }),
    stride: fc.integer({ min: 1, max: 2 }),
    pad: fc.nat(1),
  })
  .map((r) =>
    convLayer({
      inChannels: r.c,
      outChannels: r.k,
      inHeight: r.h,
      inWidth: r.w,
      kernelHeight: r.kernel,
      kernelWidth: r.kernel,
      strides: [r.stride, r.stride],
      pads: [r.pad, r.pad, r.pad, r.pad],
    }),
  );

/** A random legal mapping with small rf, spatial and gbuf factors (the rest at DRAM), or undefined. */
function smallFactorMapping(l: ConvLayer, arch: ArchSpec, seed: number): Mapping | undefined {
  const rnd = rng(seed);
  const sizes = sizesOf(l);
  const upTo = (n: number) => 1 + Math.floor(rnd() * n);
  const shuffle = <T>(a: T[]): T[] => {
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(rnd() * (i + 1));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  };
  for (let attempt = 0; attempt < 40; attempt++) {
    const rf: { dim: Dim; factor: number }[] = [];
    const sp: { dim: Dim; factor: number; axis: "row" | "col" }[] = [];
    const gb: { dim: Dim; factor: number }[] = [];
    const dr: { dim: Dim; factor: number }[] = [];
    for (const d of ["N", "G", "K", "C", "P", "Q", "R", "S"] as const) {
      const n = sizes[d];
      const f0 = Math.min(n, upTo(2));
      const f1 = Math.min(Math.ceil(n / f0), upTo(2));
      const f2 = Math.min(Math.ceil(n / (f0 * f1)), upTo(3));
      const f3 = Math.ceil(n / (f0 * f1 * f2));
      if (f0 > 1) rf.push({ dim: d, factor: f0 });
      if (f1 > 1) sp.push({ dim: d, factor: f1, axis: rnd() < 0.5 ? "row" : "col" });
      if (f2 > 1) gb.push({ dim: d, factor: f2 });
      if (f3 > 1) dr.push({ dim: d, factor: f3 });
    }
    const m: Mapping = {
      dram: { loops: shuffle(dr) },
      gbuf: { loops: shuffle(gb), keep: { input: rnd() < 0.8, weight: rnd() < 0.8, output: rnd() < 0.8 }, doubleBuffer: rnd() < 0.3 },
      spatial: { loops: shuffle(sp) },
      rf: { loops: shuffle(rf), keep: { input: true, weight: true, output: true }, doubleBuffer: rnd() < 0.4 },
    };
    if (checkMapping(m, l, arch).ok) return m;
  }
  return undefined;
}

describe("random layers x random legal mappings", () => {
  it("run bit-exactly in checked mode, count what the model counts, and never beat the bounds", () => {
    let runs = 0;
    let doubleBuffered = 0;
    fc.assert(
      fc.property(simulableLayer, fc.nat(2), fc.integer(), OPERAND, OPERAND, (l, a, seed, xt, wt) => {
        const arch = ARCHS[a]!;
        const m = legalRandomMapping(l, arch, seed);
        if (!m) return;
        runs++;
        if (m.rf.doubleBuffer) doubleBuffered++;
        const types = { input: xt, weight: wt };
        const zp = { input: xt === "uint8" ? 3 : -3, weight: wt === "uint8" ? 250 : 11 };
        const r = simulate({ layer: l, arch, dataflow: m, checked: true, seed, types, zeroPoints: zp });
        const label = JSON.stringify(m);
        expect(r.verification.ok, label).toBe(true);
        expect(value(r, "pe.mac"), label).toBe(denseMacs(l));
        expectModelCounts(r, label);
        // A delivery is read once at its source and carried once per PE rectangle.
        for (const t of ["input", "weight"] as const) {
          // Every GBuf read of an operand (or, when the GBuf bypasses it, every DRAM read) feeds a
          // delivery, but a halo copy's.
          const source = deliveryReads(r, t);
          expect(value(r, `noc.send.${t}`), label).toBeGreaterThanOrEqual(source);
          expect(value(r, `noc.send.${t}`), label).toBeLessThanOrEqual(value(r, `noc.deliver.${t}`));
        }
        // Bounds: S as the arch gives it.
        const S = capacityWords(arch, types);
        const dram = r.boundaries.dram;
        const gbuf = r.boundaries.gbuf;
        expect(dram.bounds.capacityWords).toBe(S.dram);
        expect(gbuf.bounds.capacityWords).toBe(S.gbuf);
        expect(dram.measured).toBe(r.traffic.dram.total);
        expect(dram.measured, label).toBeGreaterThanOrEqual(dram.bounds.provable.total);
        expect(dram.measured, label).toBeGreaterThanOrEqual(dram.bounds.compulsory.total);
        expect(dram.measured, label).toBeGreaterThanOrEqual(touchedInputs(l) + outputs(l));
        expect(gbuf.measured, label).toBe(
          value(r, "noc.deliver.input") + value(r, "noc.deliver.weight") + value(r, "noc.deliver.psum") + value(r, "noc.drain.psum"),
        );
        expect(gbuf.measured, label).toBeGreaterThanOrEqual(gbuf.bounds.provable.total);
        // The bounds with S recomputed here agree.
        expect(lowerBounds(l, { boundary: "dram", capacity: S.dram, types }).provable.total).toBe(dram.bounds.provable.total);
      }),
      { numRuns: 120 },
    );
    expect(runs).toBeGreaterThan(60);
    expect(doubleBuffered).toBeGreaterThan(10);
  });

  it("on a pocket-sized arch, medium layers: the GBuf-boundary bound is positive and never beaten", () => {
    let positive = 0;
    fc.assert(
      fc.property(mediumLayer, fc.integer(), OPERAND, (l, seed, xt) => {
        const m = smallFactorMapping(l, POCKET, seed);
        if (!m) return;
        const types = { input: xt, weight: "int8" as const };
        const r = simulate({ layer: l, arch: POCKET, dataflow: m, checked: true, seed, types, zeroPoints: { input: xt === "uint8" ? 9 : -9, weight: 4 } });
        const label = JSON.stringify(m);
        expect(r.verification.ok, label).toBe(true);
        expectModelCounts(r, label);
        const S = capacityWords(POCKET, types);
        expect(r.boundaries.gbuf.bounds.capacityWords).toBe(S.gbuf);
        expect(r.boundaries.dram.bounds.capacityWords).toBe(S.dram);
        expect(r.boundaries.gbuf.measured, label).toBeGreaterThanOrEqual(r.boundaries.gbuf.bounds.provable.total);
        // Stricter, as docs/bounds.md counts the boundary: a multicast once (its source read), plus the drained words.
        expect(multicastOnce(r), label).toBeGreaterThanOrEqual(r.boundaries.gbuf.bounds.provable.total);
        expect(r.boundaries.dram.measured, label).toBeGreaterThanOrEqual(r.boundaries.dram.bounds.headline);
        if (r.boundaries.gbuf.bounds.provable.total > 0) positive++;
      }),
      { numRuns: 30 },
    );
    expect(positive).toBeGreaterThan(15);
  });

  it("on a thimble-sized arch, the DRAM bound exceeds the compulsory traffic and is never beaten", () => {
    // S = 64 B / 2 B + 4 PEs x 8 entries = 64 words: here the provable bound is above compulsory.
    const l = convLayer({ inChannels: 32, outChannels: 32, inHeight: 4, inWidth: 4, kernelHeight: 1, kernelWidth: 1 });
    for (const df of ["chen2020", "os", "is"]) {
      const r = simulate({ layer: l, arch: THIMBLE, dataflow: df, types: { input: "int16", weight: "int16" } });
      expect(r.verification.ok, df).toBe(true);
      const b = r.boundaries.dram.bounds;
      expect(b.capacityWords).toBe(64);
      expect(b.provable.total, df).toBeGreaterThan(b.compulsory.total);
      expect(r.boundaries.dram.measured, df).toBeGreaterThanOrEqual(b.provable.total);
      expect(r.boundaries.gbuf.measured, df).toBeGreaterThanOrEqual(r.boundaries.gbuf.bounds.provable.total);
      expect(r.boundaries.gbuf.bounds.provable.total, df).toBeGreaterThan(0);
      expect(multicastOnce(r), df).toBeGreaterThanOrEqual(r.boundaries.gbuf.bounds.provable.total);
    }
  });

  it("run identically in reference and fast mode", () => {
    let runs = 0;
    fc.assert(
      fc.property(simulableLayer, fc.nat(2), fc.integer(), (l, a, seed) => {
        const arch = ARCHS[a]!;
        const m = legalRandomMapping(l, arch, seed);
        if (!m) return;
        runs++;
        const opts: SimulateOptions = { layer: l, arch, dataflow: m, checked: true, seed, zeroPoints: { input: 1, weight: -1 } };
        const fast = simulate({ ...opts, mode: "fast" });
        const ref = simulate({ ...opts, mode: "reference" });
        expect(modelPart(ref), JSON.stringify(m)).toEqual(modelPart(fast));
      }),
      { numRuns: 25 },
    );
    expect(runs).toBeGreaterThan(10);
  });
});

// ---------------------------------------------------------------------------------------------
// Plan replays: an unchecked run replays the plan of an earlier iteration with the same
// signature; a checked run plans every iteration (its plans carry absolute tags). The two must
// agree on everything the model reports.

/** The model's report without the verification's tag details (checked runs only differ there). */
function sameModel(unchecked: SimulationResult, checked: SimulationResult, label: string): void {
  expect(unchecked.verification.ok, label).toBe(true);
  expect(checked.verification.ok, label).toBe(true);
  expect(unchecked.cycles, label).toBe(checked.cycles);
  expect(unchecked.counters, label).toEqual(checked.counters);
  expect(unchecked.stalls, label).toEqual(checked.stalls);
  expect(unchecked.output, label).toEqual(checked.output);
}

describe("plan replays", () => {
  const layers = [
    // Many channels: the same (r, s) iterations recur per channel.
    convLayer({ inChannels: 12, inHeight: 10, inWidth: 11, outChannels: 20, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] }),
    // Strided, asymmetric padding, batch 2: halo reuse at the edges, clipped tiles.
    convLayer({ batch: 2, inChannels: 5, inHeight: 13, inWidth: 11, outChannels: 18, kernelHeight: 5, kernelWidth: 3, strides: [2, 1], pads: [2, 0, 1, 1] }),
    // Depthwise: a group per channel.
    convLayer({ inChannels: 8, inHeight: 10, inWidth: 10, outChannels: 8, kernelHeight: 3, kernelWidth: 3, groups: 8, pads: [1, 1, 1, 1] }),
    // Strides larger than the kernel: the GBuf stores rows and columns that are not consecutive.
    convLayer({ inChannels: 5, inHeight: 17, inWidth: 13, outChannels: 6, kernelHeight: 2, kernelWidth: 1, strides: [3, 2] }),
  ];
  for (const archName of ["chen2020", "eyeriss", "systolic"] as const) {
    const dataflows = archName === "systolic" ? ["ws", "os", "is"] : ["chen2020", "ws", "os", "is", "rs"];
    it(`every dataflow on ${archName}: replays happen, and the run equals a checked run (no replays; MACs in JavaScript, not WebAssembly)`, () => {
      let replayed = 0;
      let wasm = 0;
      let pieces = 0;
      for (const [i, layer] of layers.entries()) {
        for (const df of dataflows) {
          const opts: SimulateOptions = { layer, arch: archName, dataflow: df, types: { input: "uint8", weight: "int8" }, zeroPoints: { input: 5, weight: -2 } };
          const u = simulate(opts);
          const c = simulate({ ...opts, checked: true });
          sameModel(u, c, `layer ${i} ${df} on ${archName}`);
          expect(c.simulator.replayedIterations).toBe(0);
          expect(u.simulator.iterations).toBe(c.simulator.iterations);
          replayed += u.simulator.replayedIterations;
          expect(c.simulator.wasmWaves).toEqual({});
          expect(c.simulator.wasmPieces).toEqual({});
          for (const n of Object.values(u.simulator.wasmWaves)) wasm += n ?? 0;
          for (const n of Object.values(u.simulator.wasmPieces)) pieces += n ?? 0;
        }
      }
      expect(replayed).toBeGreaterThan(0);
      expect(wasm).toBeGreaterThan(0);
      // Deliveries arrive mid-wave (double-buffered operands; streamed ones on the systolic
      // array), but into halves the running wave does not read: every wave runs whole.
      expect(pieces).toBe(0);
    });
  }

  it("random legal mappings: unchecked (replaying) equals checked (planning every iteration)", () => {
    let replays = 0;
    const runs = eachRandomMapping(60, (opts) => {
      const u = simulate(opts);
      replays += u.simulator.replayedIterations;
      sameModel(u, simulate({ ...opts, checked: true }), JSON.stringify(opts.dataflow));
    });
    expect(runs).toBeGreaterThan(25);
    expect(replays).toBeGreaterThan(0);
  });

  it("random streamed mappings: unchecked equals checked", () => {
    let runs = 0;
    fc.assert(
      fc.property(simulableLayer, fc.integer(), (l, seed) => {
        const m = legalStreamedMapping(l, seed);
        if (!m) return;
        runs++;
        const opts: SimulateOptions = { layer: l, arch: TINY_SYSTOLIC, dataflow: m, seed, zeroPoints: { input: 2, weight: -1 } };
        sameModel(simulate(opts), simulate({ ...opts, checked: true }), JSON.stringify(m));
      }),
      { numRuns: 30 },
    );
    expect(runs).toBeGreaterThan(10);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: random streamed mappings on a tiny systolic array.

/** A 4 x 4 array that forwards operands, one register per operand (a tiny `systolic`). */
const TINY_SYSTOLIC: ArchSpec = resolveArch(tinyBase, {
  name: "tiny-systolic",
  rf: { inputEntries: 1, weightEntries: 1, psumEntries: 1 },
  noc: { neighbourLinks: true, forwarding: true },
});

/** A random mapping of `l` with random stream flags that is legal on TINY_SYSTOLIC (or on `arch`), or undefined. */
function legalStreamedMapping(l: ConvLayer, seed: number, arch: ArchSpec = TINY_SYSTOLIC): Mapping | undefined {
  const rnd = rng(seed);
  for (let i = 0; i < 400; i++) {
    const m0 = randomMapping(l, rnd);
    const stream = { input: rnd() < 0.6, weight: rnd() < 0.6, output: rnd() < 0.4 };
    if (!stream.input && !stream.weight && !stream.output) continue;
    const m: Mapping = { ...m0, rf: { ...m0.rf, keep: { input: true, weight: true, output: true }, stream } };
    if (checkMapping(m, l, arch).ok) return m;
  }
  return undefined;
}

describe("random streamed mappings on a forwarding array", () => {
  it("are bit-exact in checked mode, identical in reference and fast mode, and within the bounds", () => {
    let runs = 0;
    const seen = { input: 0, weight: 0, output: 0 };
    fc.assert(
      fc.property(simulableLayer, fc.integer(), (l, seed) => {
        const m = legalStreamedMapping(l, seed);
        if (!m) return;
        runs++;
        for (const t of ["input", "weight", "output"] as const) if (m.rf.stream?.[t]) seen[t]++;
        const label = JSON.stringify(m);
        const opts: SimulateOptions = { layer: l, arch: TINY_SYSTOLIC, dataflow: m, seed, zeroPoints: { input: 2, weight: -1 } };
        const fast = simulate({ ...opts, checked: true });
        const ref = simulate({ ...opts, mode: "reference" });
        expect(fast.verification.ok, label).toBe(true);
        expect(modelPart(ref), label).toEqual(modelPart(simulate(opts)));
        expect(fast.cycles, label).toBe(ref.cycles);
        expect(value(fast, "pe.mac"), label).toBe(denseMacs(l));
        expect(fast.boundaries.dram.measured, label).toBeGreaterThanOrEqual(fast.boundaries.dram.bounds.provable.total);
        expect(fast.boundaries.gbuf.measured, label).toBeGreaterThanOrEqual(fast.boundaries.gbuf.bounds.provable.total);
      }),
      { numRuns: Number(process.env.STREAM_RUNS ?? 60), seed: Number(process.env.STREAM_SEED ?? 11) },
    );
    expect(runs).toBeGreaterThan(20);
    expect(Math.min(seen.input, seen.weight, seen.output)).toBeGreaterThan(2);
  });

  it("mixed with resident tiles and double buffering (larger registers), too", () => {
    const arch = resolveArch(TINY_SYSTOLIC, { name: "tiny-systolic-rf", rf: { inputEntries: 32, weightEntries: 32, psumEntries: 32 } });
    let runs = 0;
    let doubled = 0;
    fc.assert(
      fc.property(simulableLayer, fc.integer(), (l, seed) => {
        const m = legalStreamedMapping(l, seed, arch);
        if (!m) return;
        runs++;
        if (m.rf.doubleBuffer) doubled++;
        const label = JSON.stringify(m);
        const opts: SimulateOptions = { layer: l, arch, dataflow: m, seed };
        const checked = simulate({ ...opts, checked: true });
        const ref = simulate({ ...opts, mode: "reference" });
        expect(checked.verification.ok, label).toBe(true);
        expect(modelPart(ref), label).toEqual(modelPart(simulate(opts)));
        expect(checked.cycles, label).toBe(ref.cycles);
      }),
      { numRuns: Number(process.env.STREAM_RUNS ?? 50), seed: Number(process.env.STREAM_SEED ?? 13) },
    );
    expect(runs).toBeGreaterThan(20);
    expect(doubled).toBeGreaterThan(3);
  });
});

// ---------------------------------------------------------------------------------------------
// chen2020 == the bounds module's attainable traffic for its tile, less the GBuf's input halo (or
// less still, when a GBuf tile holds every channel of the group: then a slice can stay while the
// next output tile needs it too).

/**
 * Checks chen2020's DRAM traffic against tilePlan for its tile (and that the mapping is not the
 * builder's greedy fallback): outputs written once, never read back; inputs and weights as the
 * model counts them, or fewer when a GBuf tile holds every input channel of the group.
 */
function expectChen2020Attainable(r: SimulationResult, label: string): void {
  const l = r.layer;
  const s = sizesOf(l);
  // The paper's schedule keeps the whole kernel in the GBuf tile (the builder's greedy fallback,
  // for a GBuf too small for one channel's slice, moves kernel loops to DRAM: another schedule).
  let R = 1;
  let S = 1;
  let C = 1;
  for (const lv of ["gbuf", "spatial", "rf"] as const) {
    for (const lp of r.mapping[lv].loops) {
      if (lp.dim === "R") R *= lp.factor;
      if (lp.dim === "S") S *= lp.factor;
      if (lp.dim === "C") C *= lp.factor;
    }
  }
  expect(R >= s.R && S >= s.S, `${label}: kernel inside the GBuf tile`).toBe(true);
  const plan = tilePlan(l, chen2020Tile(r.mapping, l), tileBudget(1e9)).traffic;
  const d = r.traffic.dram;
  // The paper's schedule reads again the halo two consecutive spatial tiles share; the GBuf keeps
  // it (docs/counting.md).
  const halo = gbufInputHalo(r.mapping, l);
  const got = { input: d.read.input, weight: d.read.weight, output: d.write.output, outputReads: d.read.output };
  const model = { input: plan.input - halo, weight: plan.weight, output: plan.output, outputReads: 0 };
  if (C >= s.C) {
    expect({ output: got.output, outputReads: got.outputReads }, label).toEqual({ output: model.output, outputReads: 0 });
    expect(got.input, label).toBeLessThanOrEqual(model.input);
    expect(got.weight, label).toBeLessThanOrEqual(model.weight);
  } else {
    expect(got, label).toEqual(model);
  }
  expect(r.boundaries.dram.ratioToPaper, label).toBeCloseTo(d.total / r.boundaries.dram.bounds.paper.total, 12);
}

describe("chen2020's DRAM traffic is the attainable traffic of its tile, or less", () => {
  it("on the layer set, every preset", () => {
    for (const c of CASES) {
      for (const arch of PRESETS) {
        const r = simulate({ layer: c.layer, arch, dataflow: "chen2020", types: { input: c.xType, weight: c.wType } });
        expectChen2020Attainable(r, `${c.name} on ${arch}`);
      }
    }
  });

  it("on medium layers whose tiles do not cover the layer", () => {
    const layers = [
      convLayer({ inChannels: 6, inHeight: 27, inWidth: 27, outChannels: 40, kernelHeight: 5, kernelWidth: 5, pads: [2, 2, 2, 2] }),
      convLayer({ batch: 2, inChannels: 4, inHeight: 31, inWidth: 29, outChannels: 24, kernelHeight: 3, kernelWidth: 3, strides: [2, 2], pads: [1, 0, 1, 2] }),
      convLayer({ groups: 16, inChannels: 16, inHeight: 28, inWidth: 28, outChannels: 32, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] }),
    ];
    let tiled = 0;
    for (const l of layers) {
      for (const arch of ["eyeriss", "chen2020"]) {
        const r = simulate({ layer: l, arch, dataflow: "chen2020" });
        expect(r.verification.ok).toBe(true);
        expectChen2020Attainable(r, `${JSON.stringify(l)} on ${arch}`);
        if (r.mapping.dram.loops.some((lp) => lp.dim !== "C" && lp.factor > 1)) tiled++;
      }
    }
    expect(tiled).toBeGreaterThan(3);
  });

  it("on random small layers", () => {
    fc.assert(
      fc.property(simulableLayer, fc.constantFrom(...PRESETS), OPERAND, (l, arch, xt) => {
        const r = simulate({ layer: l, arch, dataflow: "chen2020", types: { input: xt, weight: "int8" } });
        expectChen2020Attainable(r, `${JSON.stringify(l)} on ${arch}`);
      }),
      { numRuns: 150 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Closed-form counts.

describe("closed-form counts equal the simulated counters", () => {
  const small = CASES.filter((c) => denseMacs(c.layer) <= 30_000);

  for (const df of DATAFLOWS) {
    it(`${df}: every counter the model derives, on eyeriss and chen2020`, () => {
      for (const c of small) {
        for (const arch of ["eyeriss", "chen2020"]) {
          const r = simulate({ layer: c.layer, arch, dataflow: df, types: { input: c.xType, weight: c.wType } });
          expectModelCounts(r, `${c.name} on ${arch}`);
        }
      }
    });
  }

  it("when one GBuf tile holds the layer, DRAM moves exactly the compulsory traffic", () => {
    let oneTile = 0;
    for (const c of CASES) {
      for (const arch of ["eyeriss", "chen2020"]) {
        for (const df of DATAFLOWS) {
          const r = simulate({ layer: c.layer, arch, dataflow: df });
          if (r.mapping.dram.loops.some((l) => l.factor > 1)) continue;
          oneTile++;
          const l = c.layer;
          const label = `${df} on ${arch}, ${c.name}`;
          expect(value(r, "dram.read.input"), label).toBe(touchedInputs(l));
          expect(value(r, "dram.read.weight"), label).toBe(l.outChannels * (l.inChannels / l.groups) * l.kernelHeight * l.kernelWidth);
          expect(value(r, "dram.write.output"), label).toBe(outputs(l));
          expect(value(r, "dram.read.output"), label).toBe(0);
          expect(value(r, "gbuf.write.input"), label).toBe(touchedInputs(l));
          expect(r.boundaries.dram.measured, label).toBe(r.boundaries.dram.bounds.compulsory.total);
        }
      }
    }
    expect(oneTile).toBeGreaterThan(20);
  });

  it("ws with one PE and one tap per PE: closed forms of a 1-channel 3x3 layer", () => {
    // A 1x1 array: every tile change of every PE is a whole tile, so the counts are products.
    const l = convLayer({ inChannels: 1, inHeight: 5, inWidth: 5, outChannels: 2, kernelHeight: 3, kernelWidth: 3 });
    const arch = resolveArch("eyeriss", { name: "one-pe", array: { rows: 1, cols: 1 } });
    // dram: nothing; gbuf: K, R, S, then P, Q innermost; rf: one MAC. P = Q = 3.
    const m: Mapping = {
      dram: { loops: [] },
      gbuf: {
        loops: [
          { dim: "K", factor: 2 },
          { dim: "R", factor: 3 },
          { dim: "S", factor: 3 },
          { dim: "P", factor: 3 },
          { dim: "Q", factor: 3 },
        ],
        keep: { input: true, weight: true, output: true },
        doubleBuffer: false,
      },
      spatial: { loops: [] },
      rf: { loops: [], keep: { input: true, weight: true, output: true }, doubleBuffer: false },
    };
    const r = simulate({ layer: l, arch, dataflow: m, checked: true });
    expect(r.verification.ok).toBe(true);
    const K = 2, RS = 9, PQ = 9;
    expect(simulatedOf(r, ["pe.mac", "noc.deliver.weight", "noc.deliver.input", "rf.fill.input", "rf.fill.psum", "noc.drain.psum"])).toEqual({
      "pe.mac": K * RS * PQ,
      "noc.deliver.weight": K * RS, // the weight changes with (k, r, s) only
      "noc.deliver.input": K * RS * PQ, // one real input per MAC (no padding)
      "rf.fill.input": 0,
      "rf.fill.psum": K * RS * PQ, // the output tile changes every iteration
      "noc.drain.psum": K * RS * PQ,
    });
    // Outputs: first tap writes, the other 8 read-modify-write, then one eviction.
    expect(value(r, "gbuf.write.output")).toBe(K * RS * PQ);
    expect(value(r, "gbuf.read.output")).toBe(K * (RS - 1) * PQ + K * PQ);
    expect(value(r, "dram.write.output")).toBe(K * PQ);
    expect(value(r, "rf.read.psum")).toBe(2 * K * RS * PQ); // one per MAC run + one per drain
    expect(value(r, "rf.write.psum")).toBe(K * RS * PQ);
  });
});

describe("multicast: one source read, one noc.send per source word", () => {
  // rs on eyeriss maps R on PE rows and (P, K) on columns, K innermost: the PEs that need one
  // filter row (same r, same k) are every other column, four 1x1 rectangles. The Sequencer reads
  // the GBuf once per distinct tile and sends each word once on the bus (a transfer with a box
  // index per PE), as the noc's contract says: one bus word per source word, whatever the fan-out.
  it("noc.send equals the words read at the source even when the PEs are not one rectangle", () => {
    const r = simulate({ layer: { inChannels: 1, inHeight: 4, inWidth: 4, outChannels: 2, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] }, arch: "eyeriss", dataflow: "rs" });
    expect(value(r, "gbuf.read.weight")).toBe(18);
    expect(value(r, "noc.send.weight")).toBe(value(r, "gbuf.read.weight"));
  });

  it("holds for the input rows a diagonal of PEs shares", () => {
    const r = simulate({ layer: { inChannels: 1, inHeight: 4, inWidth: 4, outChannels: 2, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] }, arch: "eyeriss", dataflow: "rs" });
    // Inputs: PE (r, p, k) reads padded input row p + r (docs/counting.md, diagonal sharing), so
    // each real input word is read once (4 x 4) and sent once; 10 of the 12 (r, p) pairs read a
    // real row (not p + r = 0 or 5), each for 2 output channels, 4 words a row.
    expect(value(r, "gbuf.read.input")).toBe(16);
    expect(value(r, "noc.send.input")).toBe(value(r, "gbuf.read.input"));
    expect(value(r, "noc.deliver.input")).toBe(10 * 2 * 4);
  });
});

// ---------------------------------------------------------------------------------------------
// Known Sequencer bug.

describe("a layer whose windows read only padding", () => {
  // Every output of this layer reads the left padding column only (1x1 input, pad left 1,
  // stride 2): no real input is ever read and the GBuf input tile is 0 words. The output is all
  // zeros (each tap is (zx - zx) * (w - zw)).
  it("simulates (the output is all zeros) with every dataflow", () => {
    const layer = { inChannels: 1, inHeight: 1, inWidth: 1, outChannels: 1, kernelHeight: 1, kernelWidth: 1, strides: [1, 2] as [number, number], pads: [0, 1, 0, 0] as [number, number, number, number] };
    for (const dataflow of ["chen2020", "ws", "os", "is", "rs"]) {
      const r = simulate({ layer, dataflow, checked: true, zeroPoints: { input: 5 } });
      expect(r.verification.ok).toBe(true);
      expect([...r.output]).toEqual([0]);
      expect(value(r, "dram.read.input")).toBe(0);
    }
  });
});

describe("GBuf regions start at bank words", () => {
  // x 9 B, w 1 B, y 36 B = 46 B <= 48 B, but the global buffer places each region at a bank-word
  // boundary (gbuf.ts): x at [0, 9), w at [16, 17), y at [24, 60) > 48. The legality check counts
  // the alignment, so the mapping is rejected before the run, naming the GBuf.
  it("the legality check counts the alignment and rejects the mapping before any work", () => {
    const arch = resolveArch("eyeriss", { name: "small-gbuf", gbuf: { capacityBytes: 48, banks: 1, bankWordBytes: 8 } });
    const layer = convLayer({ inChannels: 1, inHeight: 3, inWidth: 3, outChannels: 1, kernelHeight: 1, kernelWidth: 1 });
    const m = { gbuf: { loops: [{ dim: "P", factor: 3 }, { dim: "Q", factor: 3 }] } };
    const verdict = checkMapping(parseMapping(m), layer, arch, { types: { input: "int8", weight: "int8" } });
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) {
      expect(verdict.level).toBe("gbuf");
      expect(verdict.rule).toContain("8-byte bank word");
    }
    expect(() => simulate({ layer, arch, dataflow: m, checked: true })).toThrow(ConfigError);
    // With room for the alignment it runs.
    const roomy = resolveArch("eyeriss", { name: "roomy", gbuf: { capacityBytes: 64, banks: 1, bankWordBytes: 8 } });
    expect(simulate({ layer, arch: roomy, dataflow: m, checked: true }).verification.ok).toBe(true);
  });
});

describe("neighbour links (issue 5: systolic forwarding; rs accumulates psums down PE columns)", () => {
  // PEs that share an output tile along a line of the array (a reduction spread over PE rows or
  // columns) pass their partial sums along it over the links; only the end of the line drains.
  // Operand forwarding with the skewed systolic fill and drain is still not modeled (issue 5).
  const l = convLayer({ inChannels: 4, inHeight: 6, inWidth: 6, outChannels: 8, kernelHeight: 3, kernelWidth: 3 });
  const links = (r: SimulationResult) => value(r, "noc.link.input") + value(r, "noc.link.weight") + value(r, "noc.link.psum");
  it("ws on the systolic preset accumulates partial sums over the links", () => {
    expect(links(simulate({ layer: l, arch: "systolic", dataflow: "ws" }))).toBeGreaterThan(0);
  });
  it("rs on eyeriss accumulates partial sums over the links", () => {
    expect(value(simulate({ layer: l, arch: "eyeriss", dataflow: "rs" }), "noc.link.psum")).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Bad input.


describe("bad input is a ConfigError naming the field", () => {
  const layer = { inChannels: 2, inHeight: 5, inWidth: 5, outChannels: 3, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] as [number, number, number, number] };
  const allLoops = [
    { dim: "K", factor: 3 },
    { dim: "C", factor: 2 },
    { dim: "P", factor: 5 },
    { dim: "Q", factor: 5 },
    { dim: "R", factor: 3 },
    { dim: "S", factor: 3 },
  ];

  const cases: [string, Partial<SimulateOptions>, string | RegExp][] = [
    ["an unknown dataflow name", { dataflow: "fancy" }, "dataflow"],
    ["an unknown arch name", { arch: "tpu" }, "arch"],
    ["an arch that is not a name or a spec", { arch: 42 as unknown as string }, "arch"],
    ["a bad arch override", { archOverrides: { gbuf: { banks: 6 } } }, "arch.gbuf.banks"],
    ["a bad layer", { layer: { ...layer, strides: [0, 1] } }, "layer.strides[0]"],
    ["a mapping that is not JSON", { dataflow: "{ not json" }, "dataflow"],
    ["a mapping with an unknown dimension", { dataflow: { dram: { loops: [{ dim: "Z", factor: 2 }] } } }, "dataflow.dram.loops[0].dim"],
    ["a mapping whose factors do not cover the layer", { dataflow: { dram: { loops: [{ dim: "K", factor: 2 }] } } }, /^dataflow\.K$|^mapping\.K$/],
    [
      "a mapping whose RF tile does not fit",
      { arch: "eyeriss", dataflow: { spatial: { loops: [{ dim: "K", factor: 3, axis: "row" }] }, rf: { loops: allLoops.filter((l) => l.dim !== "K") } } },
      /^(mapping|dataflow)\.rf\.keep\.input$/,
    ],
    [
      "a mapping with more PE rows than the array",
      { arch: "eyeriss", dataflow: { dram: { loops: allLoops.filter((l) => l.dim !== "P") }, spatial: { loops: [{ dim: "P", factor: 5, axis: "row" }] } }, archOverrides: { array: { rows: 4 } } },
      /^(mapping|dataflow)\.spatial\.loops$/,
    ],
    ["a mapping that bypasses the RF for outputs", { dataflow: { dram: { loops: allLoops }, rf: { keep: { output: false } } } }, /^(mapping|dataflow)\.rf\.keep\.output$/],
    ["x of the wrong length", { x: new Int8Array(10) }, "x.length"],
    ["w of the wrong length", { w: new Int8Array(10) }, "w.length"],
    ["x of a wrong element type", { x: new Float32Array(50) as unknown as Int8Array }, "x"],
    ["an unknown operand type", { types: { input: "int32" as OperandType } }, "types.input"],
    ["an input zero point out of range (int8)", { zeroPoints: { input: 200 } }, /^(zeroPoints\.input|xZeroPoint)$/],
    ["an input zero point out of range (uint8)", { types: { input: "uint8" }, zeroPoints: { input: -1 } }, /^(zeroPoints\.input|xZeroPoint)$/],
    ["a weight zero point that is not an integer", { zeroPoints: { weight: 1.5 } }, /^(zeroPoints\.weight|wZeroPoint)$/],
    ["a bad mode", { mode: "slow" as "fast" }, "mode"],
    ["checked that is not a boolean", { checked: "yes" as unknown as boolean }, "checked"],
    ["timelineReplay that is not a boolean", { timelineReplay: 0 as unknown as boolean }, "timelineReplay"],
    ["a misspelt option (mapping for dataflow), which would otherwise be ignored", { mapping: "ws" } as unknown as Partial<SimulateOptions>, "options.mapping"],
    ["maxCycles 0", { maxCycles: 0 }, "maxCycles"],
    ["a fractional maxCycles", { maxCycles: 2.5 }, "maxCycles"],
  ];
  for (const [what, opts, field] of cases) {
    it(what, () => {
      const e = configError(() => simulate({ layer, ...opts }));
      if (typeof field === "string") expect(e.field).toBe(field);
      else expect(e.field).toMatch(field);
      expect(e.message).toContain(" must ");
    });
  }

  it("a dataflow that cannot fit the arch names the dataflow", () => {
    const e = configError(() => simulate({ layer, arch: "eyeriss", archOverrides: { rf: { inputEntries: 0, weightEntries: 1 } }, dataflow: "rs" }));
    expect(e.field).toMatch(/^dataflow/);
  });

  it("a run that reaches maxCycles throws a StallError naming what is stalled", () => {
    let caught: unknown;
    try {
      simulate({ layer, maxCycles: 10 });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(StallError);
    expect((caught as Error).message).toMatch(/maxCycles = 10/);
    expect((caught as Error).message).toMatch(/sequencer/);
  });

  it("options that are not an object", () => {
    expect(configError(() => simulate(null as unknown as SimulateOptions)).field).toBe("options");
  });
});

describe("double-buffered register files", () => {
  it("deliver the next operands during the wave: same outputs, fewer cycles, in both engine modes", () => {
    const layer = convLayer({ inChannels: 8, inHeight: 9, inWidth: 9, outChannels: 24, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] });
    const base = resolveArch("chen2020");
    // Twice the operand entries: room for the same tile twice.
    const arch = resolveArch("chen2020", { rf: { inputEntries: 2 * base.rf.inputEntries!, weightEntries: 2 * base.rf.weightEntries! } });
    // A chen2020-shaped mapping (one level), pinned so that the figures compare the buffering alone.
    const single = parseMapping({
      name: "chen2020",
      dram: { loops: [{ dim: "C", factor: 8 }] },
      gbuf: { loops: [{ dim: "R", factor: 3 }, { dim: "S", factor: 3 }], keep: { input: true, weight: true, output: false }, doubleBuffer: true },
      spatial: { loops: [{ dim: "P", factor: 2, axis: "row" }, { dim: "K", factor: 6, axis: "row" }] },
      rf: { loops: [{ dim: "P", factor: 5 }, { dim: "Q", factor: 9 }, { dim: "K", factor: 4 }] },
    });
    const double = { ...single, rf: { ...single.rf, doubleBuffer: true } };
    const run = (m: Mapping, mode: "fast" | "reference", checked: boolean) =>
      simulate({ layer, arch, dataflow: m, mode, checked, types: { input: "int8", weight: "int8" }, zeroPoints: { input: 5, weight: -2 } });
    const s = run(single, "fast", true);
    const d = run(double, "fast", true);
    expect(s.verification.ok && d.verification.ok).toBe(true);
    const counts = (r: SimulationResult) => Object.fromEntries(Object.entries(r.counters).filter(([k]) => !k.startsWith("pe.busy") && !k.startsWith("pe.idle")).map(([k, v]) => [k, v.value]));
    // The same counts but for the inputs: single-buffered, a PE keeps its input halo as the
    // window slides; double-buffered, it gets each tile whole.
    const notInput = (r: SimulationResult) => Object.fromEntries(Object.entries(counts(r)).filter(([k]) => !k.endsWith(".input")));
    expect(notInput(d)).toEqual(notInput(s));
    expect(value(s, "rf.slide.input")).toBeGreaterThan(0);
    expect(value(d, "rf.slide.input")).toBe(0);
    expect([value(s, "noc.deliver.input"), value(d, "noc.deliver.input")]).toEqual([6096, 30000]);
    expect(d.cycles).toBeLessThan(s.cycles);
    expect([s.cycles, d.cycles]).toEqual([14792, 13957]); // docs/timing.md
    const share = (r: SimulationResult, k: string) => Math.round((r.counters[k]!.value / (r.cycles * 168)) * 1000) / 10;
    expect([share(s, "pe.idle.network"), share(d, "pe.idle.network")]).toEqual([4.6, 0]);
    // Each half is a full tile: a tile that does not fit twice is refused.
    expect(() => simulate({ layer, arch: base, dataflow: double })).toThrow(ConfigError);
    // The engine modes and checked mode agree.
    const ref = run(double, "reference", false);
    expect(ref.cycles).toBe(d.cycles);
    expect(Array.from(ref.output)).toEqual(Array.from(d.output));
    expect(counts(ref)).toEqual(counts(d));
  });
});

describe("the AlexNet CONV3 figures of docs/timing.md and docs/counting.md", () => {
  it("chen2020 on its preset: cycles, utilization, stall shares and the slid input halo", () => {
    const layer = convLayer({ inChannels: 256, inHeight: 13, inWidth: 13, outChannels: 384, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] });
    const pct = (x: number) => Math.round(x * 1000) / 10;
    const share = (r: SimulationResult, k: string) => pct(value(r, k) / (r.cycles * 168));
    // The named dataflow: positions along the 14 columns (13 used), 12 x 11 channels along the
    // rows, operands double-buffered, each wave chained behind the one before (no pipeline gap).
    const r = simulate({ layer, arch: "chen2020", dataflow: "chen2020" });
    expect(r.verification.ok).toBe(true);
    expect(r.mapping.spatial.loops.map((x) => `${x.dim}${x.factor}${x.axis}`)).toEqual(["P13col", "K12row"]);
    expect(r.mapping.rf.doubleBuffer).toBe(true);
    expect(r.cycles).toBe(1009905);
    expect([r.cycleBound.cycles, r.cycleBound.binding, r.cycleBound.pesUsed, r.cycleBound.ratio.toFixed(2)]).toEqual([958464, "compute", 156, "1.05"]);
    expect(pct(r.utilization)).toBe(88.1);
    expect([share(r, "pe.idle.network"), share(r, "pe.idle.unmapped"), share(r, "pe.idle.pipeline")]).toEqual([0, 9.7, 0]);
    // The single-buffered tile it took before (3 x 5 rows, 2 x 7 columns, 2 x 14 x 5 channels):
    // only each tap's new window column is delivered; the rest of the span slides.
    const single = parseMapping({
      name: "chen2020",
      dram: { loops: [{ dim: "K", factor: 3 }, { dim: "C", factor: 256 }] },
      gbuf: { loops: [{ dim: "R", factor: 3 }, { dim: "S", factor: 3 }], keep: { input: true, weight: true, output: false }, doubleBuffer: true },
      spatial: { loops: [{ dim: "Q", factor: 2, axis: "row" }, { dim: "P", factor: 3, axis: "row" }, { dim: "K", factor: 2, axis: "row" }, { dim: "K", factor: 14, axis: "col" }] },
      rf: { loops: [{ dim: "P", factor: 5 }, { dim: "Q", factor: 7 }, { dim: "K", factor: 5 }] },
    });
    const s = simulate({ layer, arch: "chen2020", dataflow: single });
    expect(s.verification.ok).toBe(true);
    expect(s.cycles).toBe(1426318);
    expect([s.cycleBound.cycles, s.cycleBound.binding, s.cycleBound.pesUsed, s.cycleBound.ratio.toFixed(2)]).toEqual([890003, "compute", 168, "1.60"]);
    expect(pct(s.utilization)).toBe(62.4);
    expect([share(s, "pe.idle.network"), share(s, "pe.idle.unmapped")]).toEqual([10.9, 22.4]);
    expect(value(s, "noc.deliver.input")).toBe(7392000);
    expect(value(s, "gbuf.read.input")).toBe(288000);
    expect(value(s, "rf.slide.input")).toBeGreaterThan(value(s, "noc.deliver.input"));
    // Double-buffered, each tap's window comes whole.
    expect([value(r, "noc.deliver.input"), value(r, "gbuf.read.input"), value(r, "rf.slide.input")]).toEqual([12266240, 1051392, 0]);
  });
});

describe("timing of the simulation itself", () => {
  it("reports the verification's reference convolution as part of the wall time", () => {
    const r = simulate({ layer: convLayer({ inChannels: 4, inHeight: 6, inWidth: 6, outChannels: 4, kernelHeight: 3, kernelWidth: 3 }), arch: "eyeriss", dataflow: "os" });
    expect(r.referenceMs).toBeGreaterThanOrEqual(0);
    expect(r.referenceMs).toBeLessThanOrEqual(r.wallMs);
  });
});
