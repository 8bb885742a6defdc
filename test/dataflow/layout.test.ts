import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { layoutWeights, weightLayout } from "../../src/dataflow/sequencer/index.js";
import { simulate } from "../../src/dataflow/simulate.js";
import { layerTensors } from "../../src/workload/tensors.js";
import { convLayer, convShape } from "../../src/workload/layer.js";

/**
 * Whether `ok(from, to)` holds for every weight (g, k, c, rs) of `groups` groups of `kg` x `cg`
 * channels and `RS` kernel positions, `from` its OIHW index and `to` the index `to` gives it.
 */
function movedTo(groups: number, kg: number, cg: number, RS: number, to: (g: number, k: number, c: number, rs: number) => number, ok: (from: number, to: number) => boolean): boolean {
  for (let g = 0; g < groups; g++)
    for (let k = 0; k < kg; k++)
      for (let c = 0; c < cg; c++)
        for (let rs = 0; rs < RS; rs++) if (!ok(((g * kg + k) * cg + c) * RS + rs, to(g, k, c, rs))) return false;
  return true;
}

describe("layoutWeights", () => {
  it("IOHW puts weight (g, k, c, r, s) at ((g C + c) K + k) RS + rs, and says where each came from (with or without the index)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 140 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 2 }), (g, cg, kg, r, s) => {
        const layer = convLayer({ inChannels: g * cg, inHeight: r, inWidth: s, outChannels: g * kg, kernelHeight: r, kernelWidth: s, groups: g });
        const n = convShape(layer).weightElements;
        const w = Int16Array.from({ length: n }, (_, i) => (i * 7919) % 65536 - 32768);
        const { data, index } = layoutWeights(w, layer, "IOHW", true);
        // Without the index (unchecked runs), fully connected layers take a plain transpose.
        const plain = layoutWeights(w, layer, "IOHW", false);
        if (plain.index !== undefined) return false;
        const RS = r * s;
        return movedTo(g, kg, cg, RS, (gg, k, c, rs) => ((gg * cg + c) * kg + k) * RS + rs, (from, to) => data[to] === w[from] && index![to] === from && plain.data[to] === w[from]);
      }),
      { numRuns: 60, seed: 7 },
    );
  });

  it("a fully connected layer's bytes (int8, uint8; word-sized or not) transpose to the same array as the element loop", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 600 }), fc.boolean(), (g, cg, kg, signed) => {
        const layer = convLayer({ inChannels: g * cg, inHeight: 1, inWidth: 1, outChannels: g * kg, kernelHeight: 1, kernelWidth: 1, groups: g });
        const n = convShape(layer).weightElements;
        const w = signed ? Int8Array.from({ length: n }, (_, i) => (i * 7919) % 256) : Uint8Array.from({ length: n }, (_, i) => (i * 7919) % 256);
        const { data } = layoutWeights(w, layer, "IOHW", false);
        if (data.constructor !== w.constructor) return false;
        for (let gg = 0; gg < g; gg++)
          for (let k = 0; k < kg; k++)
            for (let c = 0; c < cg; c++) if (data[(gg * cg + c) * kg + k] !== w[(gg * kg + k) * cg + c]) return false;
        return true;
      }),
      { numRuns: 80, seed: 11 },
    );
    // Word-sized shapes, which take the word transpose.
    for (const [cg, kg] of [[4, 4], [8, 260], [516, 12]] as const) {
      const layer = convLayer({ inChannels: cg, inHeight: 1, inWidth: 1, outChannels: kg, kernelHeight: 1, kernelWidth: 1 });
      const w = Int8Array.from({ length: cg * kg }, (_, i) => (i * 31) % 251);
      const { data } = layoutWeights(w, layer, "IOHW", false);
      for (let k = 0; k < kg; k++) for (let c = 0; c < cg; c++) expect(data[c * kg + k]).toBe(w[k * cg + c]);
    }
  });
});

describe("seeded weights drawn in their DRAM layout (simulate, fully connected layers)", () => {
  it("give the run of the same weights passed OIHW: the same output, counts and cycles", () => {
    for (const [spec, types] of [
      [{ inChannels: 900, inHeight: 1, inWidth: 1, outChannels: 300, kernelHeight: 1, kernelWidth: 1 }, { input: "int8", weight: "int8" }],
      [{ batch: 2, inChannels: 1024, inHeight: 1, inWidth: 1, outChannels: 256, kernelHeight: 1, kernelWidth: 1 }, { input: "uint8", weight: "int16" }],
    ] as const) {
      const layer = convLayer(spec);
      const seeded = simulate({ layer, seed: 5, types, zeroPoints: { input: 3, weight: -2 } });
      // (the case this is about: the dataflow keeps these weights IOHW)
      expect(weightLayout(seeded.mapping, layer)).toBe("IOHW");
      const { x, w } = layerTensors(layer, { seed: 5, xType: types.input, wType: types.weight });
      const given = simulate({ layer, x, w, zeroPoints: { input: 3, weight: -2 } });
      expect(seeded.verification.mismatches).toBe(0);
      expect(seeded.output).toEqual(given.output);
      expect(seeded.counters).toEqual(given.counters);
      expect(seeded.cycles).toBe(given.cycles);
    }
  });
});

describe("HWIO: weights that stream one kernel position a step", () => {
  it("puts weight (g, k, c, r, s) at ((g RS + rs) C + c) K + k, and says where each came from", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 11 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), (g, cg, kg, r, s) => {
        const layer = convLayer({ inChannels: g * cg, inHeight: r, inWidth: s, outChannels: g * kg, kernelHeight: r, kernelWidth: s, groups: g });
        const w = Int8Array.from({ length: convShape(layer).weightElements }, (_, i) => (i * 31) % 251);
        const { data, index } = layoutWeights(w, layer, "HWIO", true);
        const RS = r * s;
        return movedTo(g, kg, cg, RS, (gg, k, c, rs) => ((gg * RS + rs) * cg + c) * kg + k, (from, to) => data[to] === w[from] && index![to] === from);
      }),
      { numRuns: 60, seed: 13 },
    );
  });

  it("is is's layout on the systolic preset: its streamed weight reads take whole bank words, with no conflicts, bit-exactly in every mode", () => {
    // `is` streams, at each gbuf iteration, one (r, s) of every input and output channel of the
    // tile. Kept OIHW, those words lay R x S apart: 5,632 bank reads for 9,216 words here (2,456
    // cycles; on AlexNet conv5 204,689, now 151,107); HWIO reads them as runs.
    const layer = convLayer({ inChannels: 16, inHeight: 8, inWidth: 8, outChannels: 32, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] });
    const fast = simulate({ layer, arch: "systolic", dataflow: "is" });
    expect(fast.mapping.rf.stream?.weight).toBe(true);
    expect(weightLayout(fast.mapping, layer)).toBe("HWIO");
    const c = (name: string) => fast.counters[name]!.value;
    expect(c("gbuf.bankReads.weight") * 8).toBe(c("gbuf.read.weight"));
    expect(c("gbuf.readConflictCycles.weight")).toBe(0);
    expect(fast.cycles).toBe(2423);
    for (const r of [simulate({ layer, arch: "systolic", dataflow: "is", checked: true }), simulate({ layer, arch: "systolic", dataflow: "is", mode: "reference" })]) {
      expect(r.verification.ok).toBe(true);
      expect(r.cycles).toBe(fast.cycles);
      expect(r.counters).toEqual(fast.counters);
    }
    // The other systolic forms keep their layouts (their steps take every kernel position, or none is streamed).
    for (const df of ["ws", "os"]) expect(weightLayout(simulate({ layer, arch: "systolic", dataflow: df }).mapping, layer)).toBe("OIHW");
  });
});
