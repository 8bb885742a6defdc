import { describe, expect, it } from "vitest";
import { presets, resolveArch } from "../../src/arch/presets.js";
import { ConfigError } from "../../src/core/errors.js";
import { assertLegal, checkMapping, checkPsumWidth, mappingUsage, maxAbsPartialSum } from "../../src/dataflow/legality.js";
import { mapping, type MappingSpec } from "../../src/dataflow/mapping.js";
import { convLayer } from "../../src/workload/layer.js";

// 1 image, 4 in channels, 6x6 input, 8 out channels, 3x3 kernel, no pad -> 4x4 output.
const layer = convLayer({ inChannels: 4, inHeight: 6, inWidth: 6, outChannels: 8, kernelHeight: 3, kernelWidth: 3 });

const base: MappingSpec = {
  dram: { loops: [{ dim: "K", factor: 2 }, { dim: "C", factor: 4 }] },
  gbuf: { loops: [{ dim: "P", factor: 4 }] },
  spatial: { loops: [{ dim: "Q", factor: 4, axis: "row" }, { dim: "K", factor: 4, axis: "col" }] },
  rf: { loops: [{ dim: "R", factor: 3 }, { dim: "S", factor: 3 }] },
};

/** An arch with a byte-exact GBuf (1 bank of 1-byte words) and the given RF partitions. */
const exact = (capacityBytes: number, rf: Partial<{ inputEntries: number; weightEntries: number; psumEntries: number }> = {}) =>
  resolveArch("eyeriss", { name: "exact", gbuf: { capacityBytes, banks: 1, bankWordBytes: 1 }, rf });

/** The systolic array with room for more than one element per RF partition. */
const bigRfSystolic = resolveArch("systolic", { rf: { inputEntries: 16, weightEntries: 16, psumEntries: 16 } });

describe("checkMapping", () => {
  it("accepts a mapping that fits", () => {
    expect(checkMapping(mapping(base), layer, presets.eyeriss)).toEqual({ ok: true });
  });

  it("counts GBuf bytes per tensor: operand width, int32 psums, double buffering", () => {
    // gbuf tile: C 1, K 4, P 4, Q 4, R 3, S 3 -> input 1 x 6 x 6 = 36, weights 4*9 = 36, outputs 4*4*4 = 64.
    const u = mappingUsage(mapping(base), layer);
    expect(u.gbufWords).toEqual({ input: 36, weight: 36, output: 64 });
    expect(u.gbufBytes).toEqual({ input: 72, weight: 72, output: 256 });
    expect(u.gbufTotalBytes).toBe(400);
    expect(mappingUsage(mapping(base), layer, { types: { input: "int8", weight: "uint8" } }).gbufTotalBytes).toBe(36 + 36 + 256);
    const db = mapping({ ...base, gbuf: { ...base.gbuf, doubleBuffer: true } });
    expect(mappingUsage(db, layer).gbufTotalBytes).toBe(800);
    expect(u.rfEntries).toEqual({ input: 9, weight: 9, output: 1 });
    expect([u.rows, u.cols]).toEqual([4, 4]);
  });

  it("enforces the GBuf capacity exactly", () => {
    const m = mapping(base);
    expect(checkMapping(m, layer, exact(400)).ok).toBe(true);
    const v = checkMapping(m, layer, exact(399));
    expect(v).toMatchObject({ ok: false, level: "gbuf", field: "mapping.gbuf", value: "400 bytes" });
    if (!v.ok) expect(v.reason).toContain("input 36 words = 72 B, weight 36 words = 72 B, output 64 words = 256 B");
    // int8 operands fit where int16 do not
    expect(checkMapping(m, layer, exact(399), { types: { input: "int8", weight: "int8" } }).ok).toBe(true);
    // bypassing outputs frees their 256 bytes
    expect(checkMapping(mapping({ ...base, gbuf: { ...base.gbuf, keep: { output: false } } }), layer, exact(144)).ok).toBe(true);
    // double buffering doubles
    expect(checkMapping(mapping({ ...base, gbuf: { ...base.gbuf, doubleBuffer: true } }), layer, exact(400)).ok).toBe(false);
  });

  it("enforces each RF partition in entries, double buffering included", () => {
    const m = mapping(base);
    expect(checkMapping(m, layer, exact(4096, { inputEntries: 9, weightEntries: 9, psumEntries: 1 })).ok).toBe(true);
    expect(checkMapping(m, layer, exact(4096, { inputEntries: 8 }))).toMatchObject({ ok: false, level: "rf", field: "mapping.rf.keep.input", value: "9 entries" });
    expect(checkMapping(m, layer, exact(4096, { weightEntries: 8 }))).toMatchObject({ ok: false, level: "rf", field: "mapping.rf.keep.weight" });
    expect(checkMapping(m, layer, exact(4096, { psumEntries: 0 }))).toMatchObject({ ok: false, level: "rf", field: "mapping.rf.keep.output" });
    const db = mapping({ ...base, rf: { ...base.rf, doubleBuffer: true } });
    expect(checkMapping(db, layer, exact(4096, { inputEntries: 17, weightEntries: 18, psumEntries: 2 }))).toMatchObject({ ok: false, field: "mapping.rf.keep.input" });
    expect(checkMapping(db, layer, exact(4096, { inputEntries: 18, weightEntries: 18, psumEntries: 2 })).ok).toBe(true);
    // a bypassed tensor takes no entries
    const bypass = mapping({ ...base, rf: { ...base.rf, keep: { input: false } } });
    expect(checkMapping(bypass, layer, exact(4096, { inputEntries: 0 })).ok).toBe(true);
  });

  it("fits the spatial factors to the array", () => {
    const tooWide = mapping({
      ...base,
      dram: { loops: [{ dim: "C", factor: 4 }] },
      spatial: { loops: [{ dim: "Q", factor: 4, axis: "col" }, { dim: "K", factor: 8, axis: "col" }] },
    });
    expect(checkMapping(tooWide, layer, presets.eyeriss)).toMatchObject({ ok: false, level: "spatial", value: 32 });
    expect(checkMapping(tooWide, layer, bigRfSystolic).ok).toBe(true);
    const tooTall = mapping({ ...base, spatial: { loops: [{ dim: "Q", factor: 4, axis: "row" }, { dim: "K", factor: 4, axis: "row" }] } });
    expect(checkMapping(tooTall, layer, presets.eyeriss)).toMatchObject({ ok: false, level: "spatial", value: 16 });
  });

  it("needs a path for reductions across PEs", () => {
    const reduce = (keepOutput: boolean) =>
      mapping({
        dram: { loops: [{ dim: "K", factor: 8 }] },
        gbuf: { loops: [{ dim: "P", factor: 4 }, { dim: "Q", factor: 4 }], keep: { output: keepOutput } },
        spatial: { loops: [{ dim: "C", factor: 4, axis: "row" }, { dim: "R", factor: 3, axis: "col" }] },
        rf: { loops: [{ dim: "S", factor: 3 }] },
      });
    // eyeriss and systolic have neighbour links
    expect(checkMapping(reduce(false), layer, presets.eyeriss).ok).toBe(true);
    expect(checkMapping(reduce(false), layer, bigRfSystolic).ok).toBe(true);
    // chen2020 has none: the drain path reduces into a GBuf that keeps outputs, not otherwise
    expect(checkMapping(reduce(true), layer, presets.chen2020).ok).toBe(true);
    const v = checkMapping(reduce(false), layer, presets.chen2020);
    expect(v).toMatchObject({ ok: false, level: "spatial", field: "mapping.spatial.loops[0]", value: "C x 4 (row)" });
    // a spatial loop over a non-reduction dimension needs no path
    const noReduce = mapping({ ...base, gbuf: { ...base.gbuf, keep: { output: false } } });
    expect(checkMapping(noReduce, layer, presets.chen2020).ok).toBe(true);
  });

  it("reports coverage and structure problems with their level", () => {
    const short = mapping({ ...base, dram: { loops: [{ dim: "K", factor: 2 }] } });
    expect(checkMapping(short, layer, presets.eyeriss)).toMatchObject({ ok: false, level: "dram", field: "mapping.C", value: 1 });
    const malformed = { ...mapping(base), rf: { loops: [{ dim: "Z", factor: 1 }], keep: { input: true, weight: true, output: true }, doubleBuffer: false } };
    expect(checkMapping(malformed as never, layer, presets.eyeriss)).toMatchObject({ ok: false, level: "mapping", field: "mapping.rf.loops[0].dim" });
  });

  it("assertLegal throws the broken rule as a ConfigError", () => {
    expect(assertLegal(mapping(base), layer, presets.eyeriss)).toEqual(mapping(base));
    let err: unknown;
    try {
      assertLegal(mapping(base), layer, exact(399));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe("mapping.gbuf");
    expect((err as ConfigError).message).toMatch(/^mapping\.gbuf must fit in arch\.gbuf\.capacityBytes = 399 .*; got "400 bytes"$/);
  });

  it("counts GBuf outputs and psums at arch.gbuf.psumBytes", () => {
    const m = mapping(base);
    expect(mappingUsage(m, layer, { psumBytes: 2 }).gbufBytes).toEqual({ input: 72, weight: 72, output: 128 });
    expect(mappingUsage(m, layer, { psumBytes: 3 }).gbufTotalBytes).toBe(72 + 72 + 192);
    const narrow = (capacityBytes: number, psumBytes: number) => resolveArch(exact(capacityBytes), { gbuf: { psumBytes } });
    expect(checkMapping(m, layer, narrow(272, 2)).ok).toBe(true);
    const v = checkMapping(m, layer, narrow(271, 2));
    expect(v).toMatchObject({ ok: false, level: "gbuf", field: "mapping.gbuf", value: "272 bytes" });
    if (!v.ok) expect(v.reason).toContain("output 64 words = 128 B");
    expect(checkMapping(m, layer, narrow(336, 3)).ok).toBe(true);
    expect(checkMapping(m, layer, narrow(335, 3)).ok).toBe(false);
  });

  it("fits the three rf tiles together in a shared pool (arch.rf.sharedEntries)", () => {
    const pool = (sharedEntries: number) => resolveArch(exact(4096), { rf: { sharedEntries } });
    // rf tiles: input 9, weight 9, psum 1
    const m = mapping(base);
    expect(checkMapping(m, layer, pool(19)).ok).toBe(true);
    const v = checkMapping(m, layer, pool(18));
    expect(v).toMatchObject({ ok: false, level: "rf", field: "arch.rf.sharedEntries", value: 18 });
    if (!v.ok) {
      expect(v.reason).toBe(
        "arch.rf.sharedEntries must hold the mapping's rf tiles: input 9 + weight 9 + psum 1 = 19 entries; shrink the rf tile (move factors out of the rf level); got 18",
      );
    }
    // double buffering doubles the operand tiles (not the psums), and the message says so
    const db = mapping({ ...base, rf: { ...base.rf, doubleBuffer: true } });
    expect(checkMapping(db, layer, pool(37)).ok).toBe(true);
    const d = checkMapping(db, layer, pool(36));
    if (!d.ok) expect(d.reason).toContain("input 18 + weight 18 + psum 1 = 37 entries (inputs and weights double-buffered: twice their tiles)");
    expect(d.ok).toBe(false);
    // a big weight tile next to a small input tile: too big for its partition, fits the same total pooled
    const bigW = mapping({ ...base, dram: { loops: [{ dim: "C", factor: 4 }] }, spatial: { loops: [{ dim: "Q", factor: 4, axis: "row" }] }, rf: { loops: [{ dim: "K", factor: 8 }, { dim: "R", factor: 3 }, { dim: "S", factor: 3 }] } });
    expect(mappingUsage(bigW, layer).rfEntries).toEqual({ input: 9, weight: 72, output: 8 });
    expect(checkMapping(bigW, layer, exact(4096, { inputEntries: 30, weightEntries: 30, psumEntries: 29 }))).toMatchObject({ ok: false, field: "mapping.rf.keep.weight" });
    expect(checkMapping(bigW, layer, pool(89)).ok).toBe(true);
    // a streamed tensor takes one entry of the pool, as of its partition
    const streamed = mapping({
      gbuf: { loops: [{ dim: "C", factor: 4 }, { dim: "R", factor: 3 }, { dim: "S", factor: 3 }] },
      spatial: { loops: [{ dim: "P", factor: 4, axis: "row" }, { dim: "K", factor: 8, axis: "col" }] },
      rf: { loops: [{ dim: "Q", factor: 4 }], stream: { input: true } },
    });
    expect(mappingUsage(streamed, layer).rfEntries).toEqual({ input: 1, weight: 1, output: 4 });
    expect(checkMapping(streamed, layer, resolveArch("systolic", { rf: { sharedEntries: 6 } })).ok).toBe(true);
    expect(checkMapping(streamed, layer, resolveArch("systolic", { rf: { sharedEntries: 5 } })).ok).toBe(false);
  });

  it("rejects an unknown operand type", () => {
    expect(() => checkMapping(mapping(base), layer, presets.eyeriss, { types: { input: "int4" as never } })).toThrow("types.input must be one of int8, uint8, int16");
  });
});

describe("checkPsumWidth (arch.gbuf.psumBytes against the layer's partial sums)", () => {
  const int8 = { xType: "int8", wType: "int8", xZeroPoint: 0, wZeroPoint: 0 } as const;
  const narrow = (psumBytes: number) => resolveArch("eyeriss", { gbuf: { psumBytes } });

  it("bounds |psum| by C/groups x R x S x max|x - zx| x max|w - zw| over the types' ranges", () => {
    // C 4 x R 3 x S 3 = 36 taps
    expect(maxAbsPartialSum(layer, int8)).toBe(36 * 128 * 128);
    // uint8 with zero point 0 reaches 255; int8 with zero point -128 reaches 127 + 128 = 255
    expect(maxAbsPartialSum(layer, { ...int8, xType: "uint8" })).toBe(36 * 255 * 128);
    expect(maxAbsPartialSum(layer, { ...int8, wZeroPoint: -128 })).toBe(36 * 128 * 255);
    expect(maxAbsPartialSum(layer, { xType: "int16", wType: "int16", xZeroPoint: 0, wZeroPoint: 0 })).toBe(36 * 32768 * 32768);
    const grouped = convLayer({ inChannels: 8, inHeight: 4, inWidth: 4, outChannels: 8, kernelHeight: 1, kernelWidth: 1, groups: 4 });
    expect(maxAbsPartialSum(grouped, int8)).toBe(2 * 128 * 128);
  });

  it("refuses a width some partial sum could exceed, naming the field, the value, the worst case and the rule", () => {
    expect(() => checkPsumWidth(layer, narrow(2), int8)).toThrow(ConfigError);
    expect(() => checkPsumWidth(layer, narrow(2), int8)).toThrow(
      "arch.gbuf.psumBytes must hold every partial sum of the layer: |psum| <= C/groups 4 x R 3 x S 3 x max|x - zx| 128 (int8, zx 0) x max|w - zw| 128 (int8, zw 0) = 589824, but a 2-byte word holds |psum| <= 2^15 - 1 = 32767; use psumBytes 3 or more; got 2",
    );
    expect(() => checkPsumWidth(layer, narrow(3), int8)).not.toThrow();
    expect(() => checkPsumWidth(layer, narrow(3), { ...int8, xType: "int16", wType: "int16" })).toThrow("use psumBytes 4 or more; got 3");
    // 4 bytes (and the default) are the model's own int32: nothing to check
    expect(() => checkPsumWidth(layer, narrow(4), { ...int8, xType: "int16", wType: "int16" })).not.toThrow();
    expect(() => checkPsumWidth(layer, presets.eyeriss, { ...int8, xType: "int16", wType: "int16" })).not.toThrow();
  });

  it("is exact at the edge: one int8 tap fits 2 bytes (128 x 128 = 16384), two do not (32768 > 32767)", () => {
    const taps = (c: number) => convLayer({ inChannels: c, inHeight: 2, inWidth: 2, outChannels: 1, kernelHeight: 1, kernelWidth: 1 });
    expect(() => checkPsumWidth(taps(1), narrow(2), int8)).not.toThrow();
    expect(() => checkPsumWidth(taps(2), narrow(2), int8)).toThrow("= 32768, but a 2-byte word holds |psum| <= 2^15 - 1 = 32767");
  });
});
