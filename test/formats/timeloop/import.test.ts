/**
 * importTimeloop: the fixtures written from Timeloop's documented formats (v0.3 and v0.4) become
 * the layer, architecture and mapping they describe, and simulate bit-exactly; every construct
 * convsim cannot model is a ConfigError naming the file, the path inside it and the rule.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { convLayer } from "../../../src/workload/layer.js";
import { importTimeloop } from "../../../src/formats/timeloop/import.js";
import { simulate } from "../../../src/dataflow/simulate.js";
import { configError } from "../../helpers/errors.js";
import { archYaml, fixture, fixturePath, mappingYaml, problemYaml } from "./helpers.js";

describe("importTimeloop: the v0.3 fixture", () => {
  const r = importTimeloop(fixture("v03-small"));

  it("reads the cnn-layer problem unpadded: 6 x 6 outputs of a 3x3 kernel need an 8 x 8 input", () => {
    expect(r.layer).toEqual(convLayer({ inChannels: 4, inHeight: 8, inWidth: 8, outChannels: 8, kernelHeight: 3, kernelWidth: 3 }));
    expect(r.operandType).toBe("int8");
  });

  it("takes the array, the buffer and register sizes and the level names from the architecture", () => {
    expect(r.arch.name).toBe("tiny");
    expect(r.arch.array).toMatchObject({ rows: 4, cols: 4 });
    // 512 rows of 64 bits in 2 banks of one row each.
    expect(r.arch.gbuf).toMatchObject({ capacityBytes: 4096, banks: 2, bankWordBytes: 8 });
    expect(r.arch.rf.sharedEntries).toBe(64);
    expect(r.arch.dram).toMatchObject({ burstBytes: 64, bytesPerCycle: 16 });
    expect(r.arch.levelNames).toEqual({ dram: "DRAM", gbuf: "GlobalBuffer", rf: "RegisterFile" });
    // Timing fields come from the base preset (eyeriss).
    expect(r.arch.noc.inputWordsPerCycle).toBe(4);
  });

  it("reverses the permutations (innermost first) and renames P, Q, R, S (Timeloop's P is the width)", () => {
    expect(r.mapping.dram.loops).toEqual([{ dim: "K", factor: 2 }]);
    expect(r.mapping.gbuf.loops).toEqual([{ dim: "P", factor: 6 }]);
    expect(r.mapping.spatial.loops).toEqual([
      { dim: "C", factor: 4, axis: "row" },
      { dim: "K", factor: 4, axis: "col" },
    ]);
    // permutation RSPKCNQ: R innermost, then S, then P -> outermost first P, S, R -> convsim Q, R, S.
    expect(r.mapping.rf.loops).toEqual([
      { dim: "Q", factor: 6 },
      { dim: "R", factor: 3 },
      { dim: "S", factor: 3 },
    ]);
  });

  it("simulates bit-exactly", () => {
    const s = simulate({ layer: r.layer, arch: r.arch, dataflow: r.mapping, checked: true });
    expect(s.verification.ok).toBe(true);
    expect(s.macs).toBe(8 * 36 * 4 * 9);
  });
});

describe("importTimeloop: the v0.4 Eyeriss-like fixture", () => {
  const r = importTimeloop(fixture("v04-eyeriss"));

  it("reads M as the output channels and the node list with its containers' fan-outs", () => {
    expect(r.layer).toEqual(convLayer({ inChannels: 4, inHeight: 6, inWidth: 6, outChannels: 6, kernelHeight: 3, kernelWidth: 3 }));
    expect(r.arch.array).toMatchObject({ rows: 3, cols: 4 });
    expect(r.arch.rf).toMatchObject({ inputEntries: 12, weightEntries: 48, psumEntries: 16 });
    expect(r.arch.levelNames).toEqual({ dram: "DRAM", gbuf: "shared_glb", rfInput: "ifmap_spad", rfWeight: "weights_spad", rfOutput: "psum_spad" });
  });

  it("joins the fan-outs into one spatial level and the three scratchpads' loops into the rf level", () => {
    expect(r.mapping.gbuf.keep).toEqual({ input: true, weight: false, output: true });
    expect(r.mapping.spatial.loops).toEqual([
      { dim: "R", factor: 3, axis: "row" },
      { dim: "P", factor: 4, axis: "col" },
    ]);
    expect(r.mapping.rf.loops).toEqual([
      { dim: "C", factor: 2 },
      { dim: "S", factor: 3 },
      { dim: "Q", factor: 4 },
      { dim: "K", factor: 3 },
    ]);
  });

  it("lists the attributes it does not model", () => {
    expect(r.notes).toContain("DRAM: attributes not modeled (timing, energy, area or technology): type");
  });

  it("simulates bit-exactly", () => {
    expect(simulate({ layer: r.layer, arch: r.arch, dataflow: r.mapping, checked: true }).verification.ok).toBe(true);
  });
});

describe("importTimeloop: the problem's axes", () => {
  it("P and R run along the width with Wstride, Q and S along the height with Hstride", () => {
    const r = importTimeloop({
      arch: archYaml(),
      problem: problemYaml({ C: 1, K: 2, R: 3, S: 1, N: 1, P: 5, Q: 3, Wstride: 2 }),
      mapping: mappingYaml([
        ["GlobalBuffer", "spatial", "K2", "K", 1],
        ["RegisterFile", "temporal", "R3 P5 Q3", "RPQ"],
      ]),
    });
    expect(r.layer).toEqual(convLayer({ inChannels: 1, inHeight: 3, inWidth: 11, outChannels: 2, kernelHeight: 1, kernelWidth: 3, strides: [1, 2] }));
    expect(r.mapping.rf.loops).toEqual([
      { dim: "P", factor: 3 },
      { dim: "Q", factor: 5 },
      { dim: "S", factor: 3 },
    ]);
  });
});

describe("importTimeloop: what convsim cannot model is an error naming the file, the path and the rule", () => {
  const good = fixture("v03-small");
  const cases: [string, Partial<typeof good>, string][] = [
    ["factors that do not multiply to the problem", { mapping: good.mapping.replace("Q6\n", "Q3\n") }, "mapping.yaml: mapping must give factors of Q that multiply to the problem's Q = 6 exactly"],
    ["a malformed factor", { mapping: good.mapping.replace("K2 C1", "K2 C=x") }, "mapping.yaml: mapping[0].factors must list factors as DIM=N or DIMN"],
    ["a loop missing from the permutation", { mapping: good.mapping.replace("permutation: RSPKCNQ", "permutation: RSKCNQ") }, "mapping.yaml: mapping[3].permutation must list P, which has a factor above 1"],
    ["an unknown target", { mapping: good.mapping.replace("target: DRAM", "target: HBM") }, "mapping.yaml: mapping[0].target must name a level of the architecture (DRAM, GlobalBuffer, RegisterFile)"],
    ["a fan-out from DRAM", { mapping: good.mapping.replace("  - target: GlobalBuffer\n    type: spatial", "  - target: DRAM\n    type: spatial") }, "mapping.yaml: mapping[2].target must not be DRAM"],
    ["DRAM bypassing a data space", { mapping: good.mapping + "  - target: DRAM\n    type: bypass\n    bypass: [ Inputs ]\n" }, "mapping.yaml: mapping[6].bypass must be empty at DRAM"],
    ["another problem shape", { problem: good.problem.replace("[ [R, Wdilation], [P, Wstride] ]", "[ [R, Hdilation], [P, Wstride] ]") }, "problem.yaml: problem.shape.data-spaces[1].projection must be cnn-layer's projection of Inputs"],
    ["sparse tensors", { problem: good.problem.replace("    Q: 6\n", "    Q: 6\n    densities: { Weights: 0.5 }\n") }, "problem.yaml: problem.instance.densities.Weights must be 1 or absent"],
    ["a word width convsim has no operand type for", { arch: good.arch.replace("word-bits: 8\n                n_banks", "word-bits: 12\n                n_banks") }, "arch.yaml: architecture.subtree[0].subtree[0].local[0].attributes.word-bits must be 8 or 16"],
    // Two storage levels are read (convsim's global buffer then passes through; reference.test.ts), so directives for the missing one name no level.
    ["no global buffer, and directives for one", { arch: archYaml().replace(/            - name: GlobalBuffer\n.*\n.*\n/, "") }, "mapping.yaml: mapping[4].target must name a level of the architecture (DRAM, RegisterFile)"],
  ];
  for (const [what, change, message] of cases) {
    it(what, () => {
      const e = configError(() => importTimeloop({ ...good, ...change }));
      expect(e.message).toContain(message);
    });
  }

  it("a !Parallel node holding a container", () => {
    const arch = fixture("v04-eyeriss").arch.replace("    - !Component\n      name: ifmap_spad", "    - !Parallel\n      nodes: [!Container { name: inner }]\n    - !Component\n      name: ifmap_spad");
    expect(configError(() => importTimeloop({ ...fixture("v04-eyeriss"), arch })).message).toContain("arch.yaml: architecture.nodes[6].nodes[0] must be a !Component");
  });

  it("a fan-out-only level that keeps data", () => {
    const f = fixture("v04-eyeriss");
    const mapping = f.mapping.replace("keep: []\n    bypass: [Weights, Inputs, Outputs]", "keep: [Inputs]\n    bypass: [Weights, Outputs]");
    expect(configError(() => importTimeloop({ ...f, mapping })).message).toContain("mapping.yaml: mapping[8].keep must be empty: convsim has no storage between the global buffer");
  });

  it("an outer scratchpad looping over a dimension of a space an inner one keeps", () => {
    const f = fixture("v04-eyeriss");
    const mapping = f.mapping.replace("factors: [C=2, M=1, R=3", "factors: [C=2, M=3, R=3").replace("factors: [C=1, M=3, R=1, S=1, N=1, P=4", "factors: [C=1, M=1, R=1, S=1, N=1, P=4");
    expect(configError(() => importTimeloop({ ...f, mapping })).message).toContain("mapping.yaml: mapping[5].factors must not loop over a dimension that indexes Outputs, which the inner level psum_spad keeps");
  });

  it("invalid YAML", () => {
    expect(configError(() => importTimeloop({ ...good, mapping: "mapping: [\n" })).message).toContain("mapping.yaml must be valid YAML");
  });
});

describe("importTimeloop: inputs the fuzz (test/formats/fuzz.test.ts) found mishandled", () => {
  const good = fixture("v03-small");

  it("refuses an alias inside its own anchor (a stack overflow before) and an alias bomb (a hang before)", () => {
    expect(configError(() => importTimeloop({ ...good, problem: `${good.problem}extra: &loop [ *loop ]\n` })).message).toBe('problem.yaml: extra[0] must not be an alias of a node that contains it (the alias would expand forever); got "*loop"');
    let bomb = "b0: &b0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
    for (let i = 1; i < 9; i++) bomb += `b${i}: &b${i} [${Array.from({ length: 10 }, () => `*b${i - 1}`).join(", ")}]\n`;
    expect(configError(() => importTimeloop({ ...good, problem: good.problem + bomb })).message).toContain("must be within the first 100000 values of the file, aliases expanded");
    // Aliases that expand to little are read as before, merge keys included.
    const merged = good.arch.replace("attributes:\n                depth: 64", "attributes:\n                <<: &rf { depth: 32 }\n                depth: 64");
    expect(importTimeloop({ ...good, arch: merged }).arch.rf.sharedEntries).toBe(64);
  });

  it("names the path of a key given twice in a mapping (checked in one pass; the YAML parser's own check compares every pair of keys)", () => {
    const problem = good.problem.replace("    Q: 6\n", "    Q: 6\n    Q: 3\n");
    expect(configError(() => importTimeloop({ ...good, problem })).message).toBe('problem.yaml: problem.instance.Q must be given once in its mapping (YAML keys are unique); got "Q"');
  });

  it("names the Timeloop attribute, not convsim's field, when a size is out of convsim's range", () => {
    const arch = good.arch.replace("depth: 64", "depth: 8000000000000");
    expect(configError(() => importTimeloop({ ...good, arch })).message).toBe("arch.yaml: architecture.subtree[0].subtree[0].subtree[0].local[0].attributes.depth must be an integer in [1, 1048576]; got 8000000000000 (as convsim's arch.rf.sharedEntries)");
    expect(configError(() => importTimeloop({ ...good, problem: good.problem.replace("P: 6", "P: 16000000000000") })).message).toBe("problem.yaml: problem.instance.P must be an integer in [1, 1048576]; got 16000000000000");
    const wide = good.problem.replace("P: 6", "P: 1048576\n    Wstride: 4");
    expect(configError(() => importTimeloop({ ...good, problem: wide })).message).toBe("problem.yaml: problem.instance.P must be an integer in [1, 1048576]; got 4194303 (as convsim's layer.inWidth)");
    // An accelerator without a name is called timeloop (it was an error about arch.name).
    expect(importTimeloop({ ...good, arch: good.arch.replace("    - name: tiny", '    - name: ""') }).arch.name).toBe("timeloop");
  });

  it("refuses two levels of one name (the mapping's loops were given to both, then refused naming convsim's mapping)", () => {
    const tutorial = (f: string) => readFileSync(fixturePath("tutorial", f), "utf8");
    const arch = tutorial("arch-2level.yaml").replace(/( {4}- !Component \{ name: MainMemory.*\n)/, "$1$1");
    const e = configError(() => importTimeloop({ arch, problem: tutorial("conv1d.prob.yaml"), mapping: tutorial("01-os.map.yaml") }));
    expect(e.message).toBe('arch.yaml: architecture.nodes[2].name must be unique among the architecture\'s levels (architecture.nodes[1] has it too): mapping directives name the level they target; got "MainMemory"');
  });

  it("refuses factors of both K and M in one directive (two loops over the output channels at one level)", () => {
    // (Before, convsim's mapping refused two loops over K at DRAM, naming mapping.dram.loops[1].dim.)
    const mapping = good.mapping.replace("factors: K2 C1 R1 S1 N1 P1 Q1\n    permutation: KCRSNPQ", "factors: K2 M2 C1 R1 S1 N1 P1 Q1\n    permutation: MKCRSNPQ").replace("factors: K4 C4", "factors: K2 C4");
    expect(configError(() => importTimeloop({ ...good, mapping })).message).toBe('mapping.yaml: mapping[0].factors must give the output channels\' factor once, as K (v0.3) or M (v0.4), not both; got "K2 M2 C1 R1 S1 N1 P1 Q1"');
  });
});
