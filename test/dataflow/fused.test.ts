// Fused dimensions (mapping.ts, "Fused dimensions"): a group of dimensions flattened into one index
// below the dram level, as SCALE-Sim folds an array over output pixels or over C x R x S. Random
// fused mappings must be bit-exact and agree across checked, reference and fast modes, with replay
// on and off; the DRAM words of a tensor the GBuf keeps must equal the closed form; a fold that
// packs the array tighter must take fewer waves; and malformed groups are refused at the boundary.
import { describe, expect, it } from "vitest";
import { resolveArch } from "../../src/arch/presets.js";
import { ConfigError } from "../../src/core/errors.js";
import { checkMapping } from "../../src/dataflow/legality.js";
import { parseMapping, tileVisits, type Mapping } from "../../src/dataflow/mapping.js";
import { buildMapping } from "../../src/dataflow/dataflows/index.js";
import { IS_SYSTOLIC_TEMPLATE } from "../../src/dataflow/dataflows/is.js";
import { OS_SYSTOLIC_TEMPLATE } from "../../src/dataflow/dataflows/os.js";
import { searchTemplate } from "../../src/dataflow/dataflows/search.js";
import { WS_SYSTOLIC_TEMPLATE } from "../../src/dataflow/dataflows/ws.js";
import { formatMapping } from "../../src/dataflow/print.js";
import { simulate, type SimulationResult } from "../../src/dataflow/simulate.js";
import { dramTraffic } from "../../src/dataflow/traffic.js";
import { exportTimeloop } from "../../src/formats/timeloop/export.js";
import { map } from "../../src/mapper/search.js";
import { convLayer } from "../../src/workload/layer.js";
import { eachRandomMapping } from "./random-mappings.js";

const counts = (r: SimulationResult) => Object.fromEntries(Object.entries(r.counters).map(([k, v]) => [k, v.value]));

/** A 7 x 7 layer, 8 channels in and out, on an 8 x 8 systolic array. */
const layer = convLayer({ inChannels: 8, inHeight: 7, inWidth: 7, outChannels: 8, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] });
const arch = resolveArch("systolic", { array: { rows: 8, cols: 8 } });
const plain = (m: Mapping) => JSON.parse(JSON.stringify(m)) as Record<string, unknown>;
const TEMPLATES = { os: OS_SYSTOLIC_TEMPLATE, ws: WS_SYSTOLIC_TEMPLATE, is: IS_SYSTOLIC_TEMPLATE };
/** The systolic form of a named dataflow as its search builds it, before the fold step (fold.ts). */
const unfolded = (df: "os" | "ws" | "is", l = layer) => searchTemplate({ ...TEMPLATES[df], fold: undefined }, l, arch);

/** os with the 49 output pixels flattened over the 8 rows (7 folds). */
function osFused(): Mapping {
  const os = unfolded("os");
  return parseMapping(
    { ...plain(os), name: "os-fused", fuse: [{ dims: ["P", "Q"], extents: [7, 7] }], gbuf: { ...os.gbuf, loops: [{ dim: "P", factor: 7 }] }, spatial: { loops: [{ dim: "P", factor: 8, axis: "row" }, { dim: "K", factor: 8, axis: "col" }] } },
    layer,
  );
}

/** is with C x R x S over the rows and the pixels over the columns, both flattened. */
function isFused(): Mapping {
  const is = unfolded("is");
  return parseMapping(
    {
      ...plain(is),
      name: "is-fused",
      fuse: [{ dims: ["R", "S", "C"], extents: [3, 3, 8] }, { dims: ["P", "Q"], extents: [7, 7] }],
      gbuf: { ...is.gbuf, loops: [{ dim: "R", factor: 9 }, { dim: "P", factor: 7 }] },
      spatial: { loops: [{ dim: "R", factor: 8, axis: "row" }, { dim: "P", factor: 8, axis: "col" }] },
    },
    layer,
  );
}

describe("fused dimensions", () => {
  it("random fused mappings (>= 60) are bit-exact; checked, reference and fast modes, and replay on and off, agree on every count and cycle", () => {
    let replayed = 0;
    const runs = eachRandomMapping(
      110,
      (opts) => {
        const label = JSON.stringify(opts.dataflow);
        const fast = simulate(opts);
        const off = simulate({ ...opts, timelineReplay: false });
        const ref = simulate({ ...opts, mode: "reference" });
        const checked = simulate({ ...opts, checked: true });
        for (const r of [fast, off, ref, checked]) expect(r.verification.ok, label).toBe(true);
        for (const r of [off, ref, checked]) {
          expect(r.cycles, label).toBe(fast.cycles);
          expect(counts(r), label).toEqual(counts(fast));
          expect(r.stalls, label).toEqual(fast.stalls);
        }
        replayed += fast.simulator.replayedTimelines;
        // At the DRAM boundary a tensor the GBuf keeps moves in the dram tiles: the closed form is exact.
        const closed = dramTraffic(opts.dataflow, opts.layer as never);
        const m = opts.dataflow;
        if (m.gbuf.keep.weight) expect(fast.counters["dram.read.weight"]!.value, label).toBe(closed.read.weight);
        if (m.gbuf.keep.output) expect(fast.counters["dram.write.output"]!.value, label).toBe(closed.write.output);
        if (m.gbuf.keep.input) expect(fast.counters["dram.read.input"]!.value, label).toBe(closed.read.input);
      },
      31,
      true,
    );
    expect(runs).toBeGreaterThanOrEqual(60);
    expect(replayed).toBeGreaterThan(0);
  });

  it("pack the array tighter: 25 pixels over 8 rows take 4 folds where whole factors of P and Q take 5", () => {
    const l = convLayer({ inChannels: 16, inHeight: 5, inWidth: 5, outChannels: 8, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] });
    const os = unfolded("os", l);
    const fused = parseMapping(
      { ...plain(os), fuse: [{ dims: ["P", "Q"], extents: [5, 5] }], gbuf: { ...os.gbuf, loops: [{ dim: "P", factor: 4 }] }, spatial: { loops: [{ dim: "P", factor: 8, axis: "row" }, { dim: "K", factor: 8, axis: "col" }] } },
      l,
    );
    expect(checkMapping(fused, l, arch).ok).toBe(true);
    expect(tileVisits(os, l, "spatial")).toBe(5);
    expect(tileVisits(fused, l, "spatial")).toBe(4);
    const a = simulate({ layer: l, arch, dataflow: os, checked: true });
    const b = simulate({ layer: l, arch, dataflow: fused, checked: true });
    expect(a.verification.ok && b.verification.ok).toBe(true);
    expect(b.counters["pe.mac"]!.value).toBe(a.counters["pe.mac"]!.value);
    expect(b.cycles).toBeLessThan(a.cycles);
    // The os builder folds the same way (fold.ts).
    const built = buildMapping("os", l, arch);
    expect(built.fuse).toEqual([{ dims: ["P", "Q"], extents: [5, 5] }]);
    expect(tileVisits(built, l, "spatial")).toBe(4);
  });

  it("fold output pixels (os) and both C x R x S and pixels (is) bit-exactly, in the order SCALE-Sim flattens them", () => {
    for (const m of [osFused(), isFused()]) {
      expect(checkMapping(m, layer, arch)).toEqual({ ok: true });
      const r = simulate({ layer, arch, dataflow: m, checked: true });
      expect(r.verification.ok, m.name).toBe(true);
      expect(r.counters["pe.mac"]!.value).toBe(7 * 7 * 8 * 8 * 9);
    }
    // Filters flattened r, s, c (c fastest) put 8 channels of one tap on the rows of a fold, as the
    // unfused ws with C on the rows does: the same schedule, cycle for cycle.
    const ws = unfolded("ws");
    const wsFused = parseMapping({ ...plain(ws), fuse: [{ dims: ["R", "S", "C"], extents: [3, 3, 8] }], gbuf: { ...ws.gbuf, loops: [{ dim: "R", factor: 9 }] }, spatial: { loops: [{ dim: "R", factor: 8, axis: "row" }, { dim: "K", factor: 8, axis: "col" }] } }, layer);
    const a = simulate({ layer, arch, dataflow: ws });
    const b = simulate({ layer, arch, dataflow: wsFused });
    expect(b.cycles).toBe(a.cycles);
    expect(counts(b)).toEqual(counts(a));
  });

  it("fold across a finer output split where the longer fold would overflow the GBuf (ws, AlexNet conv1 on 16 x 16)", () => {
    // Unfolded, ws splits R x S x C = 363 taps in whole factors (660 slots for them); the whole
    // 363 flattened over 16 rows takes 23 folds, but then the fold's output tile (K 16 x 28 rows
    // x 55 columns, int32, double-buffered) does not fit beside the input tile: the fold step
    // splits the output rows finer instead, and the DRAM words still fall.
    const conv1 = convLayer({ inChannels: 3, inHeight: 227, inWidth: 227, outChannels: 96, kernelHeight: 11, kernelWidth: 11, strides: [4, 4] });
    const a16 = resolveArch("systolic", { array: { rows: 16, cols: 16 }, noc: { inputWordsPerCycle: 16, weightWordsPerCycle: 16, drainWordsPerCycle: 16, psumWordsPerCycle: 16 } });
    const types = { input: "int8", weight: "int8" } as const;
    const plainWs = buildMapping("ws", conv1, a16, { fold: false, types });
    const foldedWs = buildMapping("ws", conv1, a16, { types });
    expect(foldedWs.fuse).toEqual([{ dims: ["R", "S", "C"], extents: [11, 11, 3] }]);
    const pTiles = (m: Mapping) => m.dram.loops.find((l) => l.dim === "P")?.factor ?? 1;
    expect(pTiles(foldedWs)).toBeGreaterThan(pTiles(plainWs));
    expect(dramTraffic(foldedWs, conv1).total).toBeLessThanOrEqual(dramTraffic(plainWs, conv1).total);
    expect(tileVisits(foldedWs, conv1, "spatial") * (foldedWs.rf.loops.reduce((a, l) => a * l.factor, 1))).toBeLessThan(0.75 * tileVisits(plainWs, conv1, "spatial") * plainWs.rf.loops.reduce((a, l) => a * l.factor, 1));
    expect(checkMapping(foldedWs, conv1, a16, { types })).toEqual({ ok: true });
  });

  it("print as loops over the group, and cannot be exported to Timeloop", () => {
    const text = formatMapping(osFused());
    expect(text).toContain("// fuse P x Q (dram tiles 7 x 7)");
    expect(text).toContain("for pq2 in 0..7 {");
    expect(text).toContain("parfor pq1 in 0..8 (row) {");
    expect(() => exportTimeloop({ layer, arch, mapping: osFused() } as never)).toThrow(/mapping\.fuse/);
  });

  it("are not the mapper's: a fused seed is refused, and the named seeds are built unfolded", () => {
    expect(() => map(layer, arch, { seeds: [osFused()], budget: { evaluations: 10 } })).toThrow(/seeds\[0\]\.fuse/);
    expect(buildMapping("os", layer, arch, { fold: false }).fuse).toBeUndefined();
    // The flags are checked at the dataflow's entry, with the field, the value and the rule.
    expect(() => buildMapping("os", layer, arch, { fold: "no" } as never)).toThrow(/options\.fold must be true or false; got "no"/);
    expect(() => buildMapping("chen2020", layer, arch, { doubleBuffer: 1 } as never)).toThrow(/options\.doubleBuffer must be true or false; got 1/);
  });

  it("refuse malformed groups with the field, the value and the rule", () => {
    const m = plain(osFused());
    const bad = (patch: Record<string, unknown>, field: RegExp) => {
      let err: unknown;
      try {
        parseMapping({ ...m, ...patch }, layer);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(patch)).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toMatch(field);
    };
    bad({ fuse: [{ dims: ["P"], extents: [7] }] }, /mapping\.fuse\[0\]\.dims .*at least two/);
    bad({ fuse: [{ dims: ["P", "Q"], extents: [7] }] }, /mapping\.fuse\[0\]\.extents .*2 dram-tile extents/);
    bad({ fuse: [{ dims: ["P", "P"], extents: [7, 7] }] }, /mapping\.fuse\[0\]\.dims\[1\].*one fused group only/);
    bad({ fuse: [{ dims: ["P", "X"], extents: [7, 7] }] }, /mapping\.fuse\[0\]\.dims\[1\]/);
    bad({ fuse: [{ dims: ["P", "Q"], extents: [7, 0] }] }, /mapping\.fuse\[0\]\.extents\[1\] must be a positive integer/);
    bad({ fuse: [{ dims: ["P", "Q"], extents: [8, 7] }] }, /mapping\.fuse\[0\]\.extents\[0\] must be at most the size of P, 7/);
    // A loop below the dram level on a member other than the lead.
    bad({ fuse: [{ dims: ["Q", "P"], extents: [7, 7] }] }, /mapping\.gbuf\.loops\[0\]\.dim .*fused into Q x P/);
    // The folds must cover the tile's 49 points.
    bad({ gbuf: { ...(m.gbuf as object), loops: [{ dim: "P", factor: 6 }] } }, /mapping\.P .*covers its size 49/);
    // No empty fold in a full tile.
    bad({ gbuf: { ...(m.gbuf as object), loops: [{ dim: "P", factor: 8 }] } }, /mapping\.gbuf\.loops\[0\]\.factor .*at most 7/);
    // The dram tiles must cover the dimension.
    bad({ fuse: [{ dims: ["P", "Q"], extents: [3, 7] }] }, /mapping\.P .*covers its size 7/);
    const rf = m.rf as { loops: unknown[] };
    bad({ rf: { ...rf, loops: [...rf.loops, { dim: "P", factor: 1 }] } }, /mapping\.rf\.loops\[3\]\.dim .*one point of a fused group/);
  });
});
