import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PRESET_NAMES, presets, resolveArch } from "../../src/arch/presets.js";
import { tileBudget, tilePlan } from "../../src/bounds/tile.js";
import { ConfigError } from "../../src/core/errors.js";
import { bytes } from "../../src/core/units.js";
import { attainableTraffic, chen2020, chen2020Tile, COST_SLACK } from "../../src/dataflow/dataflows/chen2020.js";
import { buildMapping, DATAFLOW_NAMES, dataflows } from "../../src/dataflow/dataflows/index.js";
import { checkMapping, mappingUsage } from "../../src/dataflow/legality.js";
import { mappingToJson, parseMapping, REDUCTION_DIMS, streamFlows, tileExtents, type Mapping } from "../../src/dataflow/mapping.js";
import { formatMapping } from "../../src/dataflow/print.js";
import { weightLayout } from "../../src/dataflow/sequencer/index.js";
import { simulate } from "../../src/dataflow/simulate.js";
import { dramTraffic, gbufArrayAccesses } from "../../src/dataflow/traffic.js";
import { convLayer, fullyConnected, type ConvLayer } from "../../src/workload/layer.js";
import { smallLayer, visitCounts } from "./walk.js";

const named: Record<string, ConvLayer> = {
  "alexnet conv1 (55 rows, 11x11 stride 4)": convLayer({ inChannels: 3, inHeight: 227, inWidth: 227, outChannels: 96, kernelHeight: 11, kernelWidth: 11, strides: [4, 4] }),
  "alexnet conv3 (13 rows)": convLayer({ inChannels: 256, inHeight: 13, inWidth: 13, outChannels: 384, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] }),
  "vgg conv1_2": convLayer({ inChannels: 64, inHeight: 224, inWidth: 224, outChannels: 64, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] }),
  "fc 4096->1000, batch 4": fullyConnected(4096, 1000, 4),
  "depthwise stride 2": convLayer({ inChannels: 32, inHeight: 56, inWidth: 56, outChannels: 32, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1], strides: [2, 2], groups: 32 }),
  "stride > kernel, dilation, asymmetric pads": convLayer({ batch: 2, inChannels: 6, inHeight: 30, inWidth: 17, outChannels: 10, kernelHeight: 2, kernelWidth: 3, strides: [3, 4], dilations: [2, 1], pads: [0, 2, 1, 0], groups: 2 }),
};

describe("every dataflow on every preset", () => {
  it("builds a legal, JSON round-tripping mapping for random small layers, visiting every point once", () => {
    fc.assert(
      fc.property(smallLayer, (l) => {
        for (const a of PRESET_NAMES) {
          for (const d of DATAFLOW_NAMES) {
            const m = dataflows[d](l, presets[a]);
            const v = checkMapping(m, l, presets[a]);
            expect(v, `${d} on ${a}: ${v.ok ? "" : v.reason}`).toEqual({ ok: true });
            expect(parseMapping(JSON.parse(mappingToJson(m)), l)).toEqual(m);
            const visits = visitCounts(m, l);
            expect(visits.repeats, `${d} on ${a}`).toBe(0);
            expect(visits.missing, `${d} on ${a}`).toBe(0);
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  for (const [name, l] of Object.entries(named)) {
    it(`builds legal mappings for ${name}`, () => {
      for (const a of PRESET_NAMES) {
        for (const d of DATAFLOW_NAMES) {
          const m = buildMapping(d, l, presets[a]);
          const v = checkMapping(m, l, presets[a]);
          expect(v, `${d} on ${a}: ${v.ok ? "" : v.reason}`).toEqual({ ok: true });
          expect(m.name).toBe(d);
          expect(formatMapping(m)).toContain("mac");
        }
      }
    });
  }

  it("builds mappings that also fit int8 operands, and int8-only mappings use the room", () => {
    const l = named["vgg conv1_2"]!;
    const int8 = { types: { input: "int8", weight: "int8" } } as const;
    const words = (m: Mapping) => Object.values(mappingUsage(m, l).gbufWords).reduce((a, b) => a + b, 0);
    let larger = 0;
    for (const d of DATAFLOW_NAMES) {
      const m16 = dataflows[d](l, presets.eyeriss);
      expect(checkMapping(m16, l, presets.eyeriss, int8).ok).toBe(true);
      const m8 = dataflows[d](l, presets.eyeriss, int8);
      expect(checkMapping(m8, l, presets.eyeriss, int8).ok).toBe(true);
      if (words(m8) > words(m16)) larger++;
    }
    expect(larger).toBeGreaterThan(0);
  });

  it("fills the array where the layer allows", () => {
    const l = named["vgg conv1_2"]!;
    for (const d of DATAFLOW_NAMES) {
      const u = mappingUsage(dataflows[d](l, presets.eyeriss), l);
      // chen2020 scores DRAM words first (with the input halo the GBuf keeps): on this layer its
      // two-level tile takes 8 of the 12 rows, the fewest DRAM words, and 12 of the 14 columns:
      // 12 x 3 channels cover 64 in two tiles (72 slots), 14 x 3 would take 84, as many MAC slots
      // busy with 16 more PEs.
      expect(u.rows * u.cols, d).toBeGreaterThanOrEqual((d === "chen2020" ? 0.57 : 0.85) * 168);
    }
  });
});

describe("the structure of each dataflow", () => {
  const l = named["alexnet conv3 (13 rows)"]!;
  const spatialDims = (m: Mapping, axis: "row" | "col") => m.spatial.loops.filter((s) => s.axis === axis).map((s) => s.dim);

  it("ws: the reduction across PE rows, output channels across columns, pixels streamed innermost", () => {
    for (const a of PRESET_NAMES) {
      const m = dataflows.ws(l, presets[a]);
      expect(spatialDims(m, "row")[0]).toBe("C");
      expect(spatialDims(m, "col")).toEqual(["K"]);
      const gbufDims = m.gbuf.loops.map((x) => x.dim);
      const firstPixel = gbufDims.findIndex((d) => d === "N" || d === "P" || d === "Q");
      if (firstPixel >= 0) expect(gbufDims.slice(firstPixel).every((d) => d === "N" || d === "P" || d === "Q")).toBe(true);
    }
  });

  it("os: outputs across the array, no reduction across PEs, one psum per PE, reduction innermost", () => {
    for (const a of PRESET_NAMES) {
      const m = dataflows.os(l, presets[a]);
      const systolic = presets[a].noc.forwarding === true;
      // The systolic form (SCALE-Sim): pixels down the rows (folded: P x Q flattened, fold.ts),
      // filters across the columns, the reduction streaming through (inputs right, weights down).
      expect(spatialDims(m, "row")[0]).toBe("P");
      expect(m.fuse).toEqual(systolic ? [{ dims: ["P", "Q"], extents: expect.any(Array) }] : undefined);
      expect(spatialDims(m, "col")[0]).toBe(systolic ? "K" : "Q");
      expect(m.rf.stream).toEqual(systolic ? { input: true, weight: true, output: false } : undefined);
      if (systolic) expect(streamFlows(m)).toEqual({ input: "right", weight: "down" });
      expect(m.spatial.loops.some((s) => REDUCTION_DIMS.includes(s.dim))).toBe(false);
      // One psum per PE; the systolic form's two accumulator sets hold two (rf.doubleBufferOutput).
      expect(m.rf.doubleBufferOutput).toBe(systolic ? true : undefined);
      expect(mappingUsage(m, l).rfEntries.output).toBe(systolic ? 2 : 1);
      const gbufDims = m.gbuf.loops.map((x) => x.dim);
      const firstReduction = gbufDims.findIndex((d) => REDUCTION_DIMS.includes(d));
      if (firstReduction >= 0) expect(gbufDims.slice(firstReduction).every((d) => REDUCTION_DIMS.includes(d))).toBe(true);
    }
  });

  it("ws and is on a forwarding array stream the moving operand right and the partial sums down", () => {
    const ws = dataflows.ws(l, presets.systolic);
    expect(ws.rf.stream).toEqual({ input: true, weight: false, output: true });
    expect(streamFlows(ws)).toEqual({ input: "right", output: "down" });
    expect(ws.rf.loops.every((x) => ["N", "P", "Q"].includes(x.dim))).toBe(true);
    const is = dataflows.is(l, presets.systolic);
    expect(is.rf.stream).toEqual({ input: false, weight: true, output: true });
    expect(streamFlows(is)).toEqual({ weight: "right", output: "down" });
    for (const m of [ws, is]) expect(mappingUsage(m, l).rfEntries).toEqual({ input: 1, weight: 1, output: 1 });
  });

  it("is: the reduction across rows, pixels across columns, output channels streamed innermost", () => {
    for (const a of PRESET_NAMES) {
      const m = dataflows.is(l, presets[a]);
      expect(spatialDims(m, "row")[0]).toBe("C");
      expect(spatialDims(m, "col")[0]).toBe("Q");
      const gbufDims = m.gbuf.loops.map((x) => x.dim);
      if (gbufDims.includes("K")) expect(gbufDims[gbufDims.length - 1]).toBe("K");
    }
  });

  it("rs: filter rows across PE rows, output rows across columns, filter rows kept in the RF", () => {
    const m = dataflows.rs(l, presets.eyeriss);
    expect(m.spatial.loops.slice(0, 2)).toEqual([
      { dim: "R", factor: 3, axis: "row" },
      { dim: "C", factor: 4, axis: "row" },
    ]);
    expect(m.spatial.loops[2]).toEqual({ dim: "P", factor: 13, axis: "col" });
    // the PE's row primitive: a whole filter row, p filters x q channels, within 224 / 12 / 24 entries
    expect(tileExtents(m, l, "rf").S).toBe(3);
    expect(tileExtents(m, l, "rf").K).toBeGreaterThan(1);
    const u = mappingUsage(m, l);
    expect(u.rfEntries.weight).toBeLessThanOrEqual(224);
    expect(u.rfEntries.input).toBeLessThanOrEqual(12);
    expect(u.rfEntries.output).toBeLessThanOrEqual(24);
    // the input slides along Q innermost at the gbuf level
    expect(m.gbuf.loops[m.gbuf.loops.length - 1]?.dim).toBe("Q");
  });
});

describe("chen2020", () => {
  /** Whether the dimensions, in order, are output dimensions first and reductions (C, R, S) after. */
  const outputsThenReductions = (dims: readonly string[]) => {
    const first = dims.findIndex((d) => REDUCTION_DIMS.includes(d as "C"));
    return first < 0 || dims.slice(first).every((d) => REDUCTION_DIMS.includes(d as "C"));
  };

  it("keeps each output tile below DRAM until it is complete: in the PEs' registers, or in the GBuf too", () => {
    let twoLevels = 0;
    fc.assert(
      fc.property(smallLayer, (l) => {
        for (const a of PRESET_NAMES) {
          const m = chen2020(l, presets[a]);
          expect(m.rf.keep.output).toBe(true);
          expect(m.spatial.loops.some((s) => REDUCTION_DIMS.includes(s.dim))).toBe(false);
          // the dram loops: output tiles outside, reductions innermost, so no partial sum goes to DRAM
          expect(outputsThenReductions(m.dram.loops.map((x) => x.dim))).toBe(true);
          expect(dramTraffic(m, l).read.output).toBe(0);
          const gbufDims = m.gbuf.loops.map((x) => x.dim);
          if (m.gbuf.keep.output) {
            // two levels: the array's tiles take turns in the GBuf's tile, each over the slice's channels
            expect(outputsThenReductions(gbufDims)).toBe(true);
            twoLevels++;
          } else {
            // one level: psums only in the PEs; the GBuf tile is the array's tile
            expect(gbufDims.every((d) => REDUCTION_DIMS.includes(d))).toBe(true);
            const e = tileExtents(m, l, "spatial");
            expect(chen2020Tile(m, l)).toEqual({ b: e.N, x: e.Q, y: e.P, z: e.K });
          }
        }
      }),
      { numRuns: 40 },
    );
    expect(twoLevels).toBeGreaterThan(0);
  });

  it("one level stages one channel's slice and its z*kH*kW weights: the GBuf footprint is the bounds model's", () => {
    for (const [name, l] of Object.entries(named)) {
      const m = chen2020(l, presets.chen2020, { levels: 1 });
      const e = tileExtents(m, l, "gbuf");
      if (e.R !== l.kernelHeight || e.S !== l.kernelWidth || e.C !== 1) continue; // fallback schedule
      const plan = tilePlan(l, chen2020Tile(m, l), tileBudget({ unit: "bytes", value: bytes(1 << 20) }, { input: "int16", weight: "int16" }, "double"));
      // (per group: a step of groups side by side stages each one's slice, groups.ts)
      const groups = m.spatial.loops.find((x) => x.dim === "G")?.factor ?? 1;
      expect(mappingUsage(m, l).gbufTotalBytes, name).toBe(groups * (plan.footprint.input + plan.footprint.weight));
    }
  });

  it("streams a pointwise layer's channels in slices of several (single-buffered registers): the same DRAM words and GBuf accesses, channel-major weights, fewer cycles", () => {
    // AlexNet fc7's shape, scaled down: one channel per slice made every array step a DRAM tile.
    const l = fullyConnected(1024, 2048);
    const m = chen2020(l, presets.chen2020);
    expect(m.rf.doubleBuffer).toBe(false);
    const slice = m.gbuf.loops.find((x) => x.dim === "C")?.factor ?? 1;
    expect(slice).toBeGreaterThan(1);
    // the same mapping with one channel per slice (the GBuf's channels back at the dram level)
    const dram = m.dram.loops.map((x) => (x.dim === "C" ? { dim: "C" as const, factor: 1024 } : x));
    const one = parseMapping({ ...m, dram: { loops: dram }, gbuf: { ...m.gbuf, loops: m.gbuf.loops.filter((x) => x.dim !== "C") } }, l);
    expect(dramTraffic(m, l)).toEqual(dramTraffic(one, l));
    expect(gbufArrayAccesses(m, l)).toEqual(gbufArrayAccesses(one, l));
    const wide = simulate({ layer: l, arch: "chen2020", dataflow: m });
    const narrow = simulate({ layer: l, arch: "chen2020", dataflow: one });
    expect(wide.verification.ok && narrow.verification.ok).toBe(true);
    const count = (r: typeof wide, name: string): number => r.counters[name]!.value;
    expect(count(wide, "dram.read.weight")).toBe(count(narrow, "dram.read.weight"));
    // channel-major weights (IOHW) in DRAM and in the GBuf: a slice's channel is one run in each
    expect(weightLayout(m, l)).toBe("IOHW");
    expect(wide.cycles).toBeLessThan(narrow.cycles);
  });

  it("one level picks the tile of least attainable traffic among those the array realizes", () => {
    const l = named["alexnet conv3 (13 rows)"]!;
    const m = chen2020(l, presets.chen2020, { levels: 1 });
    const t = chen2020Tile(m, l);
    const best = attainableTraffic(l, t);
    // the psum registers are used: the tile holds nearly half of them (the faster tile
    // double-buffers its weights, 8 a half, so a PE holds 13 positions x 8 channels)
    const { rows, cols } = presets.chen2020.array;
    expect(t.b * t.x * t.y * t.z).toBeGreaterThan(0.45 * rows * cols * presets.chen2020.rf.psumEntries!);
    // a few realizable neighbours are no better
    // (a faster tile may score up to COST_SLACK more)
    for (const other of [
      { b: 1, x: 13, y: 13, z: 14 },
      { b: 1, x: 12, y: 12, z: 28 },
      { b: 1, x: 1, y: 1, z: 14 },
    ]) {
      expect(best).toBeLessThanOrEqual((1 + COST_SLACK) * attainableTraffic(l, other));
    }
    // with no slack, the cheapest
    const cheapest = attainableTraffic(l, chen2020Tile(chen2020(l, presets.chen2020, { levels: 1, costSlack: 0 }), l));
    expect(cheapest).toBeLessThanOrEqual(best);
    expect(best).toBeLessThanOrEqual((1 + COST_SLACK) * cheapest);
  });

  it("chen2020 refuses a levels option that is neither 1 nor 2, naming it", () => {
    const l = convLayer({ inChannels: 4, inHeight: 6, inWidth: 6, outChannels: 4, kernelHeight: 3, kernelWidth: 3 });
    expect(() => chen2020(l, presets.chen2020, { levels: 3 as 1 })).toThrow("options.levels must be 1 (the output tile in the PEs' registers) or 2 (in the GBuf too), or be left out to take the better; got 3");
    expect(() => chen2020(l, presets.chen2020, { costSlack: -0.1 })).toThrow("options.costSlack must be a finite number >= 0 (the share of the cheapest tile's score a faster tile may add); got -0.1");
  });

  it("takes its tile score as a parameter (the swap point for another tile search)", () => {
    const l = named["vgg conv1_2"]!;
    // prefer whole-height tiles, then few output channels: the score decides
    const m = chen2020(l, presets.chen2020, { levels: 1, tileCost: (_l, t) => -t.y * 1000 + t.z });
    const t = chen2020Tile(m, l);
    expect(checkMapping(m, l, presets.chen2020).ok).toBe(true);
    expect(t.y).toBe(224);
    const dflt = chen2020Tile(chen2020(l, presets.chen2020, { levels: 1 }), l);
    expect(dflt.y).toBeLessThan(224);
    expect(t.z).toBeLessThan(dflt.z);
  });

  it("keeps an output tile of several array tiles in the GBuf where the GBuf is the larger store (eyeriss)", () => {
    const l = named["alexnet conv3 (13 rows)"]!;
    const m = chen2020(l, presets.eyeriss, { types: { input: "int8", weight: "int8" } });
    expect(m.gbuf.keep.output).toBe(true);
    const array = tileExtents(m, l, "spatial");
    const gbuf = tileExtents(m, l, "gbuf");
    expect(gbuf.N * gbuf.P * gbuf.Q * gbuf.K).toBeGreaterThan(array.N * array.P * array.Q * array.K);
    // the whole layer's inputs stay while the output-channel blocks pass: the compulsory traffic
    expect(dramTraffic(m, l).total).toBe(256 * 13 * 13 + 384 * 256 * 9 + 384 * 13 * 13);
    // levels picks the form
    expect(chen2020(l, presets.eyeriss, { levels: 1 }).gbuf.keep.output).toBe(false);
    expect(chen2020(l, presets.chen2020, { levels: 2 }).gbuf.keep.output).toBe(true);
  });

  it("falls back to kernel loops at the dram level when one channel's slice does not fit the GBuf", () => {
    const l = named["alexnet conv1 (55 rows, 11x11 stride 4)"]!;
    const tiny = resolveArch("chen2020", { name: "tiny", gbuf: { capacityBytes: 512, banks: 1, bankWordBytes: 8 } });
    const m = chen2020(l, tiny);
    expect(checkMapping(m, l, tiny).ok).toBe(true);
    expect(m.dram.loops.some((x) => x.dim === "R" || x.dim === "S")).toBe(true);
  });
});

describe("dataflows that cannot fit", () => {
  it("throw a ConfigError naming the rule that fails", () => {
    const l = named["alexnet conv3 (13 rows)"]!;
    const noInputs = resolveArch("eyeriss", { name: "no-input-rf", rf: { inputEntries: 0 } });
    for (const d of DATAFLOW_NAMES) {
      let err: unknown;
      try {
        dataflows[d](l, noInputs);
      } catch (e) {
        err = e;
      }
      expect(err, d).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).field).toBe(`dataflow.${d}`);
      expect((err as ConfigError).message).toContain("arch.rf.inputEntries = 0");
    }
  });

  it("buildMapping rejects an unknown name", () => {
    expect(() => buildMapping("nlr", named["vgg conv1_2"]!, presets.eyeriss)).toThrow('dataflow must be one of chen2020, ws, os, is, rs, best; got "nlr"');
  });
});
