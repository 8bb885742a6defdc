/** Timeloop problems with a one-dimensional convolution's own shape (shape.ts): read exactly, or refused naming the rule. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { importTimeloop } from "../../../src/formats/timeloop/import.js";
import { configError } from "../../helpers/errors.js";

const read = (f: string) => readFileSync(fileURLToPath(new URL(`../fixtures/timeloop/tutorial/${f}`, import.meta.url)), "utf8");
const load = (arch: string, problem: string, mapping: string) => importTimeloop({ arch: read(arch), problem: read(problem), mapping: read(mapping), files: { arch, problem, mapping } });

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
