import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { layoutWeights } from "../../src/dataflow/sequencer/index.js";
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
