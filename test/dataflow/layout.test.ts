import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { layoutWeights, weightLayout } from "../../src/dataflow/sequencer/index.js";
import { simulate } from "../../src/dataflow/simulate.js";
import { layerTensors } from "../../src/workload/tensors.js";
import { convLayer, convShape } from "../../src/workload/layer.js";

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
        for (let gg = 0; gg < g; gg++)
          for (let k = 0; k < kg; k++)
            for (let c = 0; c < cg; c++)
              for (let rs = 0; rs < RS; rs++) {
                const from = ((gg * kg + k) * cg + c) * RS + rs;
                const to = ((gg * cg + c) * kg + k) * RS + rs;
                if (data[to] !== w[from] || index![to] !== from || plain.data[to] !== w[from]) return false;
              }
        return true;
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
