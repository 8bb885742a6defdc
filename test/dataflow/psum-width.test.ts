/**
 * Partial sums and outputs stored narrower in the GBuf (arch.gbuf.psumBytes): refused before the
 * run when a partial sum of the layer could exceed the width; bit-exact when none can, with the
 * same words moved and fewer GBuf bytes and bank-word accesses than at 4 bytes.
 */
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import { simulate, type SimulateOptions, type SimulationResult } from "../../src/dataflow/simulate.js";
import { convLayer } from "../../src/workload/layer.js";

const value = (r: SimulationResult, name: string): number => r.counters[name]?.value ?? 0;
const gbufOutput = (r: SimulationResult) => ({
  words: value(r, "gbuf.read.output") + value(r, "gbuf.write.output"),
  bytes: value(r, "gbuf.readBytes.output") + value(r, "gbuf.writeBytes.output"),
  accesses: value(r, "gbuf.bankReads.output") + value(r, "gbuf.bankWrites.output"),
});
/** Every count of an action, except the GBuf's output bytes and bank words (idle and conflict cycles follow the timing). */
const others = (r: SimulationResult) =>
  Object.fromEntries(
    Object.entries(r.counters)
      .filter(([k]) => !/^gbuf\.(readBytes|writeBytes|bankReads|bankWrites|readConflictCycles|writeConflictCycles)\.output$/.test(k) && !k.startsWith("pe.idle."))
      .map(([k, c]) => [k, c.value]),
  );

function at(psumBytes: number, options: SimulateOptions): SimulationResult {
  return simulate({ ...options, archOverrides: { ...options.archOverrides, gbuf: { psumBytes } } });
}

describe("gbuf.psumBytes", () => {
  // C 8 x 3 x 3 = 72 taps of int8 x int8: |psum| <= 72 x 128 x 128 = 1,179,648: 3 bytes, not 2.
  const layer = convLayer({ inChannels: 8, inHeight: 8, inWidth: 8, outChannels: 16, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] });
  const base: SimulateOptions = { layer, arch: "eyeriss", dataflow: "os", types: { input: "int8", weight: "int8" } };

  it("refuses, before the run, a width some partial sum of the layer could exceed", () => {
    let err: unknown;
    try {
      at(2, { ...base, maxCycles: 1 }); // a run would hit the cap: the check comes first
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe("arch.gbuf.psumBytes");
    expect((err as ConfigError).value).toBe(2);
    expect((err as ConfigError).message).toContain("= 1179648, but a 2-byte word holds |psum| <= 2^15 - 1 = 32767; use psumBytes 3 or more");
    // zero points move the worst case: uint8 inputs about 128 reach 128 as int8 about 0 does
    expect(() => at(2, { ...base, types: { input: "uint8", weight: "int8" }, zeroPoints: { input: 128 }, maxCycles: 1 })).toThrow("max|x - zx| 128 (uint8, zx 128)");
  });

  it("runs a layer that fits 3 bytes bit-exactly: same words, 3/4 of the bytes, fewer bank accesses", () => {
    for (const checked of [false, true]) {
      const wide = at(4, { ...base, checked });
      const narrow = at(3, { ...base, checked });
      expect(narrow.verification.ok).toBe(true);
      expect(narrow.output).toEqual(wide.output);
      const [w, n] = [gbufOutput(wide), gbufOutput(narrow)];
      expect(n.words).toBe(w.words);
      expect(w.words).toBeGreaterThan(0);
      expect(n.bytes).toBe((w.bytes / 4) * 3);
      expect(n.accesses).toBeLessThan(w.accesses);
      expect(others(narrow)).toEqual(others(wide));
      expect(narrow.cycles).toBeLessThanOrEqual(wide.cycles);
    }
  });

  it("runs a one-tap layer at 2 bytes bit-exactly, its extreme operands included", () => {
    // C 1 x 1 x 1 of int8: |psum| <= 128 x 128 = 16384 <= 32767.
    const oneTap = convLayer({ inChannels: 1, inHeight: 8, inWidth: 8, outChannels: 16, kernelHeight: 1, kernelWidth: 1 });
    const extreme = { x: new Int8Array(64).fill(-128), w: new Int8Array(16).fill(-128) };
    for (const options of [{}, extreme]) {
      for (const mode of ["fast", "reference"] as const) {
        const o: SimulateOptions = { layer: oneTap, arch: "eyeriss", dataflow: "os", types: { input: "int8", weight: "int8" }, checked: mode === "reference", mode, ...options };
        const wide = at(4, o);
        const narrow = at(2, o);
        expect(narrow.verification.ok).toBe(true);
        expect(narrow.output).toEqual(wide.output);
        const [w, n] = [gbufOutput(wide), gbufOutput(narrow)];
        expect(n.words).toBe(w.words);
        expect(n.bytes).toBe(w.bytes / 2);
        expect(n.accesses).toBeLessThan(w.accesses);
        expect(narrow.cycles).toBeLessThanOrEqual(wide.cycles);
      }
    }
    expect(at(2, { layer: oneTap, arch: "eyeriss", dataflow: "os", ...extreme }).output[0]).toBe(16384);
  });

  it("leaves a GBuf that keeps no outputs as it was", () => {
    const wide = at(4, { ...base, dataflow: "chen2020" });
    const narrow = at(3, { ...base, dataflow: "chen2020" });
    expect(wide.mapping.gbuf.keep.output).toBe(false);
    expect({ ...narrow, arch: undefined, wallMs: 0, referenceMs: 0 }).toEqual({ ...wide, arch: undefined, wallMs: 0, referenceMs: 0 });
  });
});
