import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import {
  checkCoverage,
  dimSizes,
  inputSpan,
  loopNest,
  mapping,
  mappingToJson,
  maxTouchedInputs,
  parseMapping,
  tileExtents,
  tileFootprint,
  tileVisits,
  touchedInputs,
  type Mapping,
} from "../../src/dataflow/mapping.js";
import { formatMapping } from "../../src/dataflow/print.js";
import { convLayer, layerAxis } from "../../src/workload/layer.js";
import { bruteFootprint, randomMapping, rng, smallLayer, visitCounts, walk } from "./walk.js";

// 1 image, 2 in channels, 5x5 input, 3 out channels, 3x3 kernel, pad 1, stride 2 -> 3x3 output.
const layer = convLayer({ inChannels: 2, inHeight: 5, inWidth: 5, outChannels: 3, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1], strides: [2, 2] });

const small: Mapping = mapping({
  name: "demo",
  dram: { loops: [{ dim: "K", factor: 3 }] },
  gbuf: { loops: [{ dim: "C", factor: 2 }], keep: { output: false }, doubleBuffer: true },
  spatial: { loops: [{ dim: "P", factor: 3, axis: "row" }, { dim: "Q", factor: 3, axis: "col" }] },
  rf: { loops: [{ dim: "R", factor: 3 }, { dim: "S", factor: 3 }] },
});

function errorOf(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("parseMapping", () => {
  it("fills defaults and freezes", () => {
    const m = parseMapping({ dram: { loops: [{ dim: "K", factor: 2 }] } });
    expect(m.gbuf).toEqual({ loops: [], keep: { input: true, weight: true, output: true }, doubleBuffer: false });
    expect(m.spatial.loops).toEqual([]);
    expect(Object.isFrozen(m)).toBe(true);
    expect(Object.isFrozen(m.dram.loops[0])).toBe(true);
  });

  it("round-trips through JSON text", () => {
    const text = mappingToJson(small);
    expect(parseMapping(text, layer)).toEqual(small);
    expect(parseMapping(JSON.parse(JSON.stringify(small)))).toEqual(small);
  });

  it("names the offending field, value and rule", () => {
    expect(errorOf(() => parseMapping({ dram: { loops: [{ dim: "X", factor: 2 }] } })).field).toBe("mapping.dram.loops[0].dim");
    expect(errorOf(() => parseMapping({ gbuf: { loops: [{ dim: "K", factor: 0 }] } })).message).toBe("mapping.gbuf.loops[0].factor must be a positive integer; got 0");
    expect(errorOf(() => parseMapping({ spatial: { loops: [{ dim: "K", factor: 2 }] } })).field).toBe("mapping.spatial.loops[0].axis");
    expect(errorOf(() => parseMapping({ rf: { loops: [{ dim: "K", factor: 2 }, { dim: "K", factor: 2 }] } })).field).toBe("mapping.rf.loops[1].dim");
    expect(errorOf(() => parseMapping({ dram: { loops: [], keep: {} } })).field).toBe("mapping.dram.keep");
    expect(errorOf(() => parseMapping({ gbuf: { keep: { psum: true } } })).field).toBe("mapping.gbuf.keep.psum");
    expect(errorOf(() => parseMapping({ rf: { doubleBuffer: "yes" } })).field).toBe("mapping.rf.doubleBuffer");
    expect(errorOf(() => parseMapping({ rf: { doubleBufferOutput: 1 } })).message).toBe("mapping.rf.doubleBufferOutput must be a boolean; got 1");
    expect(errorOf(() => parseMapping({ rf: { stream: { output: true }, doubleBufferOutput: true } })).rule).toMatch(/^be false or absent when the output streams/);
    expect(errorOf(() => parseMapping({ levels: [] })).field).toBe("mapping.levels");
    expect(errorOf(() => parseMapping("{not json")).rule).toBe("be valid JSON");
    expect(errorOf(() => parseMapping([])).field).toBe("mapping");
  });

  it("allows a dimension once per axis in the spatial level", () => {
    const m = parseMapping({ spatial: { loops: [{ dim: "K", factor: 2, axis: "row" }, { dim: "K", factor: 2, axis: "col" }] } });
    expect(m.spatial.loops).toHaveLength(2);
    expect(errorOf(() => parseMapping({ spatial: { loops: [{ dim: "K", factor: 2, axis: "row" }, { dim: "K", factor: 3, axis: "row" }] } })).field).toBe(
      "mapping.spatial.loops[1].dim",
    );
  });
});

describe("coverage of imperfect factors", () => {
  const rows = (...factors: number[]) => {
    const l = convLayer({ inChannels: 1, inHeight: 13, inWidth: 1, outChannels: 1, kernelHeight: 1, kernelWidth: 1 });
    const levels = ["dram", "gbuf", "rf"] as const;
    const spec: Record<string, unknown> = {};
    factors.forEach((f, i) => (spec[levels[i]!] = { loops: [{ dim: "P", factor: f }] }));
    return { l, m: mapping(spec) };
  };

  it("accepts 13 rows as 2 x 7, 4 x 4 and 5 x 3 (last tile partial)", () => {
    for (const fs of [[2, 7], [4, 4], [5, 3], [1, 13], [13, 1], [2, 2, 4]]) {
      const { l, m } = rows(...fs);
      expect(checkCoverage(m, l)).toBeUndefined();
      expect(visitCounts(m, l)).toEqual({ points: 13, expected: 13, repeats: 0, missing: 0 });
    }
  });

  it("rejects factors that do not cover the size", () => {
    const { l, m } = rows(3, 4);
    expect(checkCoverage(m, l)).toMatchObject({ field: "mapping.P", value: 12 });
  });

  it("rejects an iteration that is empty even in a full tile", () => {
    // 3 x 7 = 21: the third outer iteration starts at 14 >= 13.
    const { l, m } = rows(3, 7);
    expect(checkCoverage(m, l)).toMatchObject({ level: "dram", field: "mapping.dram.loops[0].factor", value: 3 });
    expect(errorOf(() => parseMapping(m, l)).message).toContain("at most 2");
    // a dimension of size 1 only takes factor 1
    const one = convLayer({ inChannels: 1, inHeight: 1, inWidth: 1, outChannels: 1, kernelHeight: 1, kernelWidth: 1 });
    expect(checkCoverage(mapping({ rf: { loops: [{ dim: "K", factor: 2 }] } }), one)).toMatchObject({ level: "rf" });
  });

  it("55 output rows as 4 x 14 on an array: tile extents and visits", () => {
    const l = convLayer({ inChannels: 3, inHeight: 227, inWidth: 227, outChannels: 8, kernelHeight: 11, kernelWidth: 11, strides: [4, 4] });
    expect(dimSizes(l).P).toBe(55);
    const m = mapping(
      {
        dram: { loops: [{ dim: "P", factor: 4 }, { dim: "Q", factor: 55 }, { dim: "C", factor: 3 }] },
        spatial: { loops: [{ dim: "P", factor: 14, axis: "col" }, { dim: "R", factor: 11, axis: "row" }] },
        rf: { loops: [{ dim: "K", factor: 8 }, { dim: "S", factor: 11 }] },
      },
      l,
    );
    expect(tileExtents(m, l, "gbuf")).toMatchObject({ P: 14, Q: 1, C: 1, K: 8, R: 11, S: 11 });
    expect(tileExtents(m, l, "rf")).toMatchObject({ P: 1, K: 8, S: 11, R: 1 });
    expect(tileVisits(m, l, "gbuf")).toBe(4 * 55 * 3);
    // input rows of a gbuf tile: 14 output rows, stride 4, 11 taps: (14-1)*4 + 11 = 63 (all real, no padding)
    expect(inputSpan(14, 11, 4, 1)).toBe(63);
    expect(tileFootprint(m, l, "gbuf", "input")).toBe(63 * 11);
  });
});

describe("input tiles and halo", () => {
  it("inputSpan is (p-1)*stride + (r-1)*dil + 1", () => {
    expect(inputSpan(4, 3, 1, 1)).toBe(6);
    expect(inputSpan(3, 3, 2, 2)).toBe(9);
    expect(inputSpan(1, 1, 5, 3)).toBe(1);
    expect(inputSpan(0, 3, 1, 1)).toBe(0);
  });

  it("stores only the rows a tile reads: 1x1 stride 4 reads 3 of a span of 9", () => {
    const l = convLayer({ inChannels: 1, inHeight: 12, inWidth: 1, outChannels: 1, kernelHeight: 1, kernelWidth: 1, strides: [4, 1] });
    const ax = layerAxis(l, "h");
    expect(touchedInputs(ax, 0, 3, 0, 1)).toEqual([0, 4, 8]);
    expect(maxTouchedInputs(ax, 3, 1)).toBe(3);
    expect(inputSpan(3, 1, 4, 1)).toBe(9);
  });

  it("excludes padding: the worst tile is an interior one", () => {
    // 5 rows, pad 1 each side, 3 taps, stride 1: 5 outputs. Tiles of 2 outputs: [0,2) reads rows 0..2
    // (row -1 is padding), [2,4) reads 1..4, [4,5) reads 3..4.
    const l = convLayer({ inChannels: 1, inHeight: 5, inWidth: 1, outChannels: 1, kernelHeight: 3, kernelWidth: 1, pads: [1, 0, 1, 0] });
    const ax = layerAxis(l, "h");
    expect(touchedInputs(ax, 0, 2, 0, 3)).toEqual([0, 1, 2]);
    expect(touchedInputs(ax, 2, 2, 0, 3)).toEqual([1, 2, 3, 4]);
    expect(maxTouchedInputs(ax, 2, 3)).toBe(4);
  });

  it("footprints equal brute force over every tile instance (random layers and mappings)", () => {
    fc.assert(
      fc.property(smallLayer, fc.integer({ min: 1, max: 2 ** 30 }), (l, seed) => {
        const m = randomMapping(l, rng(seed));
        for (const level of ["gbuf", "spatial", "rf"] as const) {
          for (const t of ["input", "weight", "output"] as const) {
            if (level === "rf" && t === "input") {
              // A PE stores its window as the dense span in padded coordinates (mapping.ts).
              const e = tileExtents(m, l, "rf");
              const span = (o: number, k: number, s: number, d: number) => (o - 1) * s + (k - 1) * d + 1;
              const dense = e.N * e.G * e.C * span(e.P, e.R, l.strides[0], l.dilations[0]) * span(e.Q, e.S, l.strides[1], l.dilations[1]);
              expect(tileFootprint(m, l, level, t)).toBe(dense);
              expect(dense).toBeGreaterThanOrEqual(bruteFootprint(m, l, level, t));
              continue;
            }
            expect(tileFootprint(m, l, level, t)).toBe(bruteFootprint(m, l, level, t));
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe("iteration space", () => {
  it("random mappings obeying the coverage rules visit every point exactly once", () => {
    fc.assert(
      fc.property(smallLayer, fc.integer({ min: 1, max: 2 ** 30 }), (l, seed) => {
        const m = randomMapping(l, rng(seed));
        expect(checkCoverage(m, l)).toBeUndefined();
        const v = visitCounts(m, l);
        expect(v.repeats).toBe(0);
        expect(v.missing).toBe(0);
      }),
      { numRuns: 150 },
    );
  });

  it("tileVisits counts the non-empty tile instances", () => {
    fc.assert(
      fc.property(smallLayer, fc.integer({ min: 1, max: 2 ** 30 }), (l, seed) => {
        const m = randomMapping(l, rng(seed));
        for (const level of ["gbuf", "spatial", "rf"] as const) {
          const keys = new Set<string>();
          walk(m, l, level, (_p, key) => keys.add(key));
          expect(tileVisits(m, l, level)).toBe(keys.size);
        }
        expect(tileVisits(m, l, "dram")).toBe(1);
      }),
      { numRuns: 100 },
    );
  });

  it("loopNest lists the loops outermost first with their level", () => {
    expect(loopNest(small).map((l) => `${l.level}:${l.dim}${l.axis ? `/${l.axis}` : ""}`)).toEqual(["dram:K", "gbuf:C", "spatial:P/row", "spatial:Q/col", "rf:R", "rf:S"]);
  });
});

describe("formatMapping", () => {
  it("prints a loop nest with level markers", () => {
    expect(formatMapping(small)).toBe(
      [
        "// mapping demo",
        "// dram: DRAM holds every tensor",
        "for k3 in 0..3 {",
        "  // gbuf: GBuf tile below; keeps input, weight; bypasses output; double-buffered",
        "  for c2 in 0..2 {",
        "    // spatial: 3 x 3 PEs",
        "    parfor p1 in 0..3 (row) {",
        "      parfor q1 in 0..3 (col) {",
        "        // rf: one PE's RF tile below; keeps input, weight, output",
        "        for r0 in 0..3 {",
        "          for s0 in 0..3 {",
        "            mac",
        "          }",
        "        }",
        "      }",
        "    }",
        "  }",
        "}",
      ].join("\n"),
    );
  });

  it("prints one line in inline style", () => {
    expect(formatMapping(small, { style: "inline" })).toBe(
      "demo: dram: for k3 in 0..3 { | gbuf: for c2 in 0..2 { | spatial: parfor p1 in 0..3 (row) { parfor q1 in 0..3 (col) { | rf: for r0 in 0..3 { for s0 in 0..3 { mac }}}}}}",
    );
  });
});
