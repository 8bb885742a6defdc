/** parseTimeloopMapTxt: Timeloop's loop-nest printout as mapping directives, and its errors naming the line. */
import { describe, expect, it } from "vitest";
import { parseTimeloopMapTxt } from "../../../src/formats/timeloop/map-txt.js";
import { configError } from "../../helpers/errors.js";

const LEVELS = ["DRAM", "GlobalBuffer", "PE", "RegisterFile"];

const TEXT = `DRAM [ Weights:96 (96) Inputs:18 (18) Outputs:512 (512) ]
GlobalBuffer [ Inputs:18 (18) ]
-------------------------------
| for K in [0:16)
|   for P in [0:16)

inter_PE_spatial [ ]
--------------------
|     for C in [0:4) (Spatial-Y)
|       for K in [0:2) (Spatial-X)
|         for R in [0:3) (Spatial-Y)

RegisterFile [ Weights:6 (6) Inputs:3 (3) Outputs:2 (2) ]
---------------------------------------------------------
|           for R in [0:3)
|             for K in [0:2)
|               << Compute >>
`;

describe("parseTimeloopMapTxt", () => {
  const d = parseTimeloopMapTxt(TEXT, "map.txt", LEVELS);

  it("reads each level's loops, outermost first in the printout, as a directive with its permutation innermost first", () => {
    expect(d.temporal.map((t) => [t.target, [...t.factors], t.permutation])).toEqual([
      ["GlobalBuffer", [["K", 16], ["P", 16]], ["P", "K"]],
      ["RegisterFile", [["R", 3], ["K", 2]], ["K", "R"]],
    ]);
  });

  it("reads Spatial-X and Spatial-Y loops as one spatial directive, X loops first, split their count; inter_PE_spatial targets the container PE", () => {
    expect(d.spatial).toHaveLength(1);
    const s = d.spatial[0]!;
    expect([s.target, [...s.factors], s.permutation, s.split]).toEqual(["PE", [["C", 4], ["K", 2], ["R", 3]], ["K", "R", "C"], 1]);
  });

  it("reads the data spaces in a header as kept, the others bypassed; a container gets no keep directive", () => {
    expect(d.keep.map((k) => [k.target, [...k.keep].sort(), [...k.bypass].sort()])).toEqual([
      ["DRAM", ["input", "output", "weight"], []],
      ["GlobalBuffer", ["input"], ["output", "weight"]],
      ["RegisterFile", ["input", "output", "weight"], []],
    ]);
  });

  const cases: [string, string, string][] = [
    ["a residual (imperfect factor)", TEXT.replace("for P in [0:16)", "for P in [0:16,4)"), "map.txt: line 5 must have no residual"],
    ["an unknown level", TEXT.replace("GlobalBuffer [", "L2 ["), "map.txt: line 2 must name a level of the architecture (DRAM, GlobalBuffer, PE, RegisterFile), or inter_X_spatial for its container X"],
    ["a container that keeps data", TEXT.replace("inter_PE_spatial [ ]", "inter_PE_spatial [ Inputs:3 (3) ]"), "map.txt: line 7 must be empty: a fan-out keeps no data space"],
    ["a loop before any header", `| for K in [0:2)\n${TEXT}`, "map.txt: line 1 must follow a level's header"],
    ["a line of another kind", TEXT.replace("<< Compute >>", "<< Reduce >>"), "map.txt: line 17 must be a level's header"],
    ["an unknown data space", TEXT.replace("Inputs:18 (18) ]\n---", "Psums:18 (18) ]\n---"), "map.txt: line 2 must be Weights, Inputs or Outputs"],
    ["a dimension twice at one level", TEXT.replace("for K in [0:2)\n|               <<", "for R in [0:2)\n|               <<"), "map.txt: line 16 must list R once per level"],
    ["no level at all", "\n---\n", "map.txt must list the levels of a Timeloop mapping"],
  ];
  for (const [what, text, message] of cases) {
    it(`refuses ${what}`, () => {
      expect(configError(() => parseTimeloopMapTxt(text, "map.txt", LEVELS)).message).toContain(message);
    });
  }
});

describe("parseTimeloopMapTxt: inputs the fuzz (test/formats/fuzz.test.ts) found mishandled", () => {
  it("refuses loops over both K and M at one level (two loops over the output channels)", () => {
    const e = configError(() => parseTimeloopMapTxt("DRAM [ ]\n| for K in [0:2)\n|   for M in [0:4)\n", "map.txt", LEVELS));
    expect(e.message).toBe('map.txt: line 3 must loop over the output channels once per level and kind, as K (v0.3) or M (v0.4), not both; got "|   for M in [0:4)"');
  });
});
