/**
 * exportTimeloop: import -> export -> import gives the same layer, architecture and mapping; a
 * convsim mapping exports to the Timeloop directives it means; what Timeloop cannot express is refused.
 */
import { describe, expect, it } from "vitest";
import { readYaml } from "../../../src/formats/timeloop/yaml.js";
import { resolveArch } from "../../../src/arch/presets.js";
import { buildMapping } from "../../../src/dataflow/dataflows/index.js";
import { mapping } from "../../../src/dataflow/mapping.js";
import { exportTimeloop } from "../../../src/formats/timeloop/export.js";
import { importTimeloop } from "../../../src/formats/timeloop/import.js";
import { convLayer } from "../../../src/workload/layer.js";
import { configError } from "../../helpers/errors.js";
import { fixture } from "./helpers.js";

const same = (a: ReturnType<typeof importTimeloop>) => ({ layer: a.layer, arch: a.arch, mapping: a.mapping, operandType: a.operandType });

describe("exportTimeloop: round trips", () => {
  for (const name of ["v03-small", "v04-eyeriss"]) {
    it(`${name}: import -> export -> import is identical`, () => {
      const first = importTimeloop(fixture(name));
      const again = importTimeloop(exportTimeloop(first));
      expect(same(again)).toEqual(same(first));
    });
  }

  it("16-bit words round-trip as int16 operands", () => {
    const first = importTimeloop(fixture("v03-small"));
    const out = exportTimeloop({ ...first, operandType: "int16" });
    const again = importTimeloop(out);
    expect(again.operandType).toBe("int16");
    expect(again.arch.gbuf).toEqual(first.arch.gbuf);
  });
});

describe("exportTimeloop: a convsim mapping", () => {
  // 2 input channels of 4 x 7, a 1x3 kernel: 4 output rows by 5 columns. Timeloop's P is the width.
  const layer = convLayer({ inChannels: 2, inHeight: 4, inWidth: 7, outChannels: 4, kernelHeight: 1, kernelWidth: 3 });
  const arch = resolveArch("chen2020");
  const m = mapping(
    {
      dram: { loops: [{ dim: "K", factor: 2 }] },
      gbuf: { loops: [{ dim: "P", factor: 4 }] },
      spatial: { loops: [{ dim: "C", factor: 2, axis: "row" }, { dim: "K", factor: 2, axis: "col" }] },
      rf: { loops: [{ dim: "Q", factor: 5 }, { dim: "S", factor: 3 }] },
    },
    layer,
  );
  const out = exportTimeloop({ layer, arch, mapping: m });

  it("writes the problem with P the output width and R the kernel width", () => {
    const p = readYaml(out.problem, "problem.yaml") as { problem: { instance: Record<string, number> } };
    expect(p.problem.instance).toMatchObject({ N: 1, C: 2, K: 4, P: 5, Q: 4, R: 3, S: 1, Wstride: 1, Hstride: 1 });
  });

  it("writes each level's loops innermost first, columns along X below split", () => {
    const d = (readYaml(out.mapping, "mapping.yaml") as { mapping: Record<string, unknown>[] }).mapping;
    expect(d[0]).toMatchObject({ target: "DRAM", type: "temporal", factors: "N=1 C=1 K=2 P=1 Q=1 R=1 S=1" });
    expect(d[1]).toMatchObject({ target: "GlobalBuffer", type: "temporal", factors: "N=1 C=1 K=1 P=1 Q=4 R=1 S=1" });
    expect(d[2]).toMatchObject({ type: "spatial", factors: "N=1 C=2 K=2 P=1 Q=1 R=1 S=1", split: 1 });
    expect(String(d[2]!.permutation).slice(0, 2)).toBe("KC");
    // rf: Q5 (convsim) outer, S3 inner -> Timeloop R innermost, then P.
    const rf = d.find((x) => x.type === "temporal" && x.target === "PsumRegFile")!;
    expect(String(rf.permutation).slice(0, 2)).toBe("RP");
  });

  it("imports back to the same layer, mapping and architecture sizes", () => {
    const back = importTimeloop({ ...out, base: "chen2020" });
    expect(back.layer).toEqual(layer);
    expect(back.mapping).toEqual(mapping({ ...m, name: "timeloop" }, layer));
    const { levelNames, ...rest } = back.arch;
    expect(levelNames).toEqual({ dram: "DRAM", gbuf: "GlobalBuffer", rfInput: "InputRegFile", rfWeight: "WeightRegFile", rfOutput: "PsumRegFile" });
    expect(rest).toEqual(arch);
  });

  it("folds a layer's padding into the input, with a note", () => {
    const padded = convLayer({ inChannels: 2, inHeight: 2, inWidth: 5, outChannels: 4, kernelHeight: 1, kernelWidth: 3, pads: [1, 1, 1, 1] });
    const r = exportTimeloop({ layer: padded, arch, mapping: m });
    expect(r.notes[0]).toContain("padding [1, 1, 1, 1] is folded into the input");
    expect(importTimeloop({ ...r, base: "chen2020" }).layer).toEqual(layer);
  });
});

describe("exportTimeloop: what Timeloop cannot express is refused", () => {
  const arch = resolveArch("chen2020");

  it("groups", () => {
    const layer = convLayer({ inChannels: 4, inHeight: 3, inWidth: 3, outChannels: 4, kernelHeight: 1, kernelWidth: 1, groups: 2 });
    expect(configError(() => exportTimeloop({ layer, arch, mapping: buildMapping("ws", layer, arch) })).message).toContain("layer.groups must be 1 to export");
  });

  it("operands streamed through a systolic array", () => {
    const layer = convLayer({ inChannels: 4, inHeight: 4, inWidth: 4, outChannels: 4, kernelHeight: 1, kernelWidth: 1 });
    const sys = resolveArch("systolic");
    expect(configError(() => exportTimeloop({ layer, arch: sys, mapping: buildMapping("os", layer, sys) })).message).toContain("mapping.rf.stream must be absent to export");
  });

  it("factors that do not multiply to a dimension exactly", () => {
    const layer = convLayer({ inChannels: 1, inHeight: 5, inWidth: 5, outChannels: 1, kernelHeight: 1, kernelWidth: 1 });
    const m = mapping({ gbuf: { loops: [{ dim: "P", factor: 3 }] }, rf: { loops: [{ dim: "P", factor: 2 }, { dim: "Q", factor: 5 }] } }, layer);
    expect(configError(() => exportTimeloop({ layer, arch, mapping: m })).message).toContain("mapping (dimension P) must give factors of P that multiply to its size 5 exactly");
  });
});
