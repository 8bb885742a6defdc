/**
 * convsim against Timeloop's own reference outputs. Each case imports our transcription of a
 * Timeloop-Accelergy tutorial exercise (test/formats/fixtures/timeloop/tutorial: the exercise's
 * architecture, problem and mapping, rewritten by hand), simulates it bit-exactly, converts the
 * counts with timeloopCounts, and requires the backing store's (DRAM's) and the level below it's
 * reads, fills and updates per data space to EQUAL the numbers in the exercise's
 * `timeloop-model.stats.txt` (or `timeloop-mapper.stats.txt`), copied below as literals. Paths are
 * in github.com/Accelergy-Project/timeloop-accelergy-exercises, under
 * `workspace/tutorial_exercises/01_accelergy_timeloop_2020_ispass/timeloop/`.
 *
 * docs/formats.md ("convsim vs Timeloop's reference outputs") lists every case, the excluded ones
 * with their reason (also tested below: each is refused, or stated, for that reason).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { simulate } from "../../../src/dataflow/simulate.js";
import { timeloopCounts, type TimeloopCounts } from "../../../src/formats/timeloop/counts.js";
import { importTimeloop } from "../../../src/formats/timeloop/import.js";
import { configError } from "../../helpers/errors.js";

const read = (f: string) => readFileSync(fileURLToPath(new URL(`../fixtures/timeloop/tutorial/${f}`, import.meta.url)), "utf8");

function load(arch: string, problem: string, mapping: string) {
  return importTimeloop({ arch: read(arch), problem: read(problem), mapping: read(mapping), files: { arch, problem, mapping } });
}

function counts(arch: string, problem: string, mapping: string): TimeloopCounts {
  const r = load(arch, problem, mapping);
  const s = simulate({ layer: r.layer, arch: r.arch, dataflow: r.mapping });
  expect(s.verification.ok).toBe(true);
  return timeloopCounts(s);
}

/** One data space's "Scalar reads / fills / updates" as stats.txt prints them. */
const a = (reads: number, fills: number, updates: number) => ({ reads, fills, updates });

describe("convsim's counts equal Timeloop's reference outputs on its tutorial exercises", () => {
  // 01-model-conv1d-2level/ref-output/os/timeloop-model.stats.txt and .../ws/...: both mappings
  // give the same counts. Two storage levels: MainMemory (the backing store) and Buffer (the PE's);
  // convsim's global buffer passes everything through.
  for (const m of ["01-os", "01-ws"]) {
    it(`${m}: MainMemory and Buffer`, () => {
      const c = counts("arch-2level.yaml", "conv1d.prob.yaml", `${m}.map.yaml`);
      expect(c.MainMemory).toEqual({ Weights: a(3, 0, 0), Inputs: a(18, 0, 0), Outputs: a(0, 0, 16) });
      expect(c.Buffer).toEqual({ Weights: a(48, 3, 0), Inputs: a(48, 18, 0), Outputs: a(32, 0, 48) });
    });
  }

  it("02 untiled (02-model-conv1d+oc-2level/ref-output/no-tiling): MainMemory and Buffer", () => {
    const c = counts("arch-2level.yaml", "conv1d-oc.prob.yaml", "02-os.map.yaml");
    expect(c.MainMemory).toEqual({ Weights: a(96, 0, 0), Inputs: a(576, 0, 0), Outputs: a(0, 0, 512) });
    expect(c.Buffer).toEqual({ Weights: a(1536, 96, 0), Inputs: a(1536, 576, 0), Outputs: a(1024, 0, 1536) });
  });

  it("02 tiled (02-model-conv1d+oc-2level/ref-output/tiling): MainMemory and Buffer", () => {
    const c = counts("arch-2level.yaml", "conv1d-oc.prob.yaml", "02-os-tiled.map.yaml");
    expect(c.MainMemory).toEqual({ Weights: a(96, 0, 0), Inputs: a(288, 0, 0), Outputs: a(0, 0, 512) });
    expect(c.Buffer).toEqual({ Weights: a(1536, 96, 0), Inputs: a(1536, 288, 0), Outputs: a(1024, 0, 1536) });
  });

  // 03-model-conv1d+oc-3level/ref-output/no-bypass/timeloop-model.stats.txt; 05's mapper found the
  // same counts with its own loop order (05-mapper-conv1d+oc-3level/ref-output/baked/timeloop-mapper.stats.txt).
  for (const m of ["03", "05-baked"]) {
    it(`${m}: MainMemory, GlobalBuffer and RegisterFile`, () => {
      const c = counts("arch-3level.yaml", "conv1d-oc.prob.yaml", `${m}.map.yaml`);
      expect(c.MainMemory).toEqual({ Weights: a(96, 0, 0), Inputs: a(18, 0, 0), Outputs: a(0, 0, 512) });
      expect(c.GlobalBuffer).toEqual({ Weights: a(96, 96, 0), Inputs: a(288, 18, 0), Outputs: a(0, 0, 512) });
      expect(c.RegisterFile).toEqual({ Weights: a(1536, 96, 0), Inputs: a(1536, 288, 0), Outputs: a(1024, 0, 1536) });
    });
  }

  it("05 free bypass (05-mapper-conv1d+oc-3level/ref-output/freebypass): the global buffer keeps Inputs only", () => {
    const c = counts("arch-3level.yaml", "conv1d-oc.prob.yaml", "05-freebypass.map.yaml");
    expect(c.MainMemory).toEqual({ Weights: a(96, 0, 0), Inputs: a(18, 0, 0), Outputs: a(0, 0, 512) });
    expect(c.GlobalBuffer).toEqual({ Inputs: a(288, 18, 0) });
    expect(c.RegisterFile).toEqual({ Weights: a(1536, 96, 0), Inputs: a(1536, 288, 0), Outputs: a(1024, 0, 1536) });
  });

  // 04-model-conv1d+oc-3levelspatial/ref-output/{cp,kp}/timeloop-model.stats.txt: DRAM only. The
  // reference run's own parsed-processed-input.yaml has `GlobalBuffer[1..16]` (its stats: Instances
  // 16 (16*1)): a global buffer per PE, where the exercise's architecture and README have one shared
  // by the 16 PEs, as convsim has. The backing store's counts do not depend on that choice here
  // (every global-buffer tile is the whole layer's share, filled once); the global buffer's do.
  for (const [m, inputs] of [["04-cp", 576], ["04-kp", 576]] as const) {
    it(`${m}: MainMemory (the global buffer of the reference run is per PE: not compared)`, () => {
      const c = counts("arch-3level-spatial.yaml", "conv1d-oc-ic.prob.yaml", `${m}.map.yaml`);
      expect(c.MainMemory).toEqual({ Weights: a(3072, 0, 0), Inputs: a(inputs, 0, 0), Outputs: a(0, 0, 512) });
    });
  }
});

describe("the exercises convsim does not model, refused for the reason docs/formats.md gives", () => {
  it("00 (one level, the MACs read the backing store): at least two storage levels", () => {
    expect(configError(() => load("arch-1level.yaml", "conv1d.prob.yaml", "00.map.yaml")).message).toContain("arch-1level.yaml: architecture must have at least two storage levels");
  });

  it("03 with bypass (the MACs read Weights and Inputs from the global buffer, each word many times): the RF must keep a reused operand", () => {
    const r = load("arch-3level.yaml", "conv1d-oc.prob.yaml", "03-bypass.map.yaml");
    const e = configError(() => simulate({ layer: r.layer, arch: r.arch, dataflow: r.mapping }));
    expect(e.message).toContain("a word that bypasses the RF reaches the MAC once");
  });
});

describe("one-dimensional problem shapes", () => {
  it("read as a 2-D convolution one row high, Timeloop's P the output width", () => {
    const r = load("arch-3level.yaml", "conv1d-oc.prob.yaml", "03.map.yaml");
    expect(r.layer).toMatchObject({ batch: 1, inChannels: 1, outChannels: 32, inHeight: 1, inWidth: 18, kernelHeight: 1, kernelWidth: 3 });
  });

  const prob = read("conv1d-oc.prob.yaml");
  const cases: [string, string, string][] = [
    ["a dimension no convolution has", prob.replace("dimensions: [K, R, P]", "dimensions: [K, R, P, X]"), "conv1d-oc.prob.yaml: problem.shape.dimensions must be cnn-layer's dimensions C, K, R, S, N, P, Q, or a one-dimensional convolution's"],
    ["no window dimension", prob.replace("dimensions: [K, R, P]", "dimensions: [K, P]"), "problem.shape.dimensions must be cnn-layer's dimensions"],
    ["a projection that is not the convolution's", prob.replace("projection: [[[R], [P]]]", "projection: [[[R]], [[P]]]"), "conv1d-oc.prob.yaml: problem.shape.data_spaces[1].projection must be a one-dimensional convolution's projection of Inputs (P+R)"],
    ["weights indexed by P", prob.replace("projection: [[[K]], [[R]]]", "projection: [[[K]], [[P]]]"), "problem.shape.data_spaces[0].projection must be a one-dimensional convolution's projection of Weights (K, R)"],
    ["outputs not written", prob.replace(", read_write: true", ""), "conv1d-oc.prob.yaml: problem.shape.data_spaces[2].read_write must be true"],
    ["no projections", prob.replace(/    data_spaces:\n(.*\n){3}/, ""), "problem.shape.data_spaces must be given"],
    ["an instance size the shape does not declare", prob.replace("instance: { K: 32", "instance: { C: 4, K: 32"), "conv1d-oc.prob.yaml: problem.instance.C must not be given"],
    ["a stride the shape does not declare", prob.replace("instance: { K: 32", "instance: { Wstride: 2, K: 32"), "problem.instance.Wstride must not be given"],
  ];
  for (const [what, problem, message] of cases) {
    it(`refuses ${what}`, () => {
      const e = configError(() => importTimeloop({ arch: read("arch-3level.yaml"), problem, mapping: read("03.map.yaml"), files: { problem: "conv1d-oc.prob.yaml" } }));
      expect(e.message).toContain(message);
    });
  }

  it("reads a declared stride: P scaled by Wstride in the window rank", () => {
    const problem = prob
      .replace("dimensions: [K, R, P]", "dimensions: [K, R, P]\n    coefficients: [{ name: Wstride, default: 1 }]")
      .replace("projection: [[[R], [P]]]", "projection: [[[R], [P, Wstride]]]")
      .replace("instance: { K: 32", "instance: { Wstride: 2, K: 32");
    const r = importTimeloop({ arch: read("arch-3level.yaml"), problem, mapping: read("03.map.yaml") });
    expect(r.layer).toMatchObject({ inHeight: 1, inWidth: 33, kernelWidth: 3, strides: [1, 2] });
  });
});
