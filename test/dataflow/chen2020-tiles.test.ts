import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { presets, resolveArch } from "../../src/arch/presets.js";
import { arrayTileSets, type TileChoice } from "../../src/dataflow/dataflows/chen2020-tiles.js";
import { tileTrafficOf } from "../../src/bounds/tile.js";
import { attainableTraffic, COST_SLACK, EFFICIENCY_FLOOR } from "../../src/dataflow/dataflows/chen2020.js";
import { dimSizes } from "../../src/dataflow/mapping.js";
import { convLayer } from "../../src/workload/layer.js";

describe("chen2020's array tile search (chen2020-tiles.ts)", () => {
  // The search skips the spatial splits whose PEs bound every spread's efficiency below what the
  // pass can use; visiting every split must find the same sets, in the same order.
  it("finds the same tile sets as the exhaustive search, on random layers, arrays and register files", () => {
    const layerArb = fc.record({
      batch: fc.integer({ min: 1, max: 3 }),
      inChannels: fc.integer({ min: 1, max: 48 }),
      hw: fc.integer({ min: 1, max: 30 }),
      outChannels: fc.integer({ min: 1, max: 64 }),
      k: fc.constantFrom(1, 3, 5),
      stride: fc.constantFrom(1, 2, 4),
    });
    const archArb = fc.record({
      rows: fc.integer({ min: 1, max: 16 }),
      cols: fc.integer({ min: 1, max: 16 }),
      input: fc.integer({ min: 4, max: 80 }),
      weight: fc.integer({ min: 2, max: 32 }),
      psum: fc.integer({ min: 4, max: 200 }),
      floor: fc.constantFrom(EFFICIENCY_FLOOR, 0.5, 0.9),
    });
    let found = 0;
    fc.assert(
      fc.property(layerArb, archArb, (l, a) => {
        const k = Math.min(l.k, l.hw);
        const layer = convLayer({ batch: l.batch, inChannels: l.inChannels, inHeight: l.hw, inWidth: l.hw, outChannels: l.outChannels, kernelHeight: k, kernelWidth: k, strides: [l.stride, l.stride] });
        const arch = resolveArch({ ...presets.chen2020, array: { ...presets.chen2020.array, rows: a.rows, cols: a.cols }, rf: { ...presets.chen2020.rf, inputEntries: a.input, weightEntries: a.weight, psumEntries: a.psum } });
        const choice: TileChoice = { floor: a.floor, fits: (t) => t.b * t.y * t.x * t.z <= 4096, tries: 32, cheapest: 8, slack: COST_SLACK };
        const pruned = arrayTileSets(layer, arch, attainableTraffic, choice);
        const every = arrayTileSets(layer, arch, attainableTraffic, { ...choice, exhaustive: true });
        expect(pruned).toEqual(every);
        // chen2020's own call: the cost as a function of the extents, asked at every spread
        expect(arrayTileSets(layer, arch, attainableTraffic, { ...choice, costOf: tileTrafficOf(layer) })).toEqual(pruned);
        // Each tile's efficiency, from its factors (the search multiplies its MAC slots out loop by loop).
        const sz = dimSizes(layer);
        for (const t of [...pruned.fitting, ...pruned.diverse]) {
          const [qsp, psp, nsp, krow, ksp] = t.factors.spatial as number[];
          const { N: b1, P: y1, Q: x1, K: z1 } = t.factors.rf as Record<string, number>;
          const steps = Math.ceil(sz.N / (nsp! * b1!)) * Math.ceil(sz.P / (psp! * y1!)) * Math.ceil(sz.Q / (qsp! * x1!)) * Math.ceil(sz.K / (krow! * ksp! * z1!));
          expect(t.efficiency).toBe((sz.N * sz.P * sz.Q * sz.K) / (a.rows * a.cols * steps * b1! * y1! * x1! * z1!));
        }
        if (pruned.diverse.length > 0) found++;
      }),
      { numRuns: 60, seed: 33 },
    );
    // (most cases find tiles: the comparison is not of empty sets)
    expect(found).toBeGreaterThan(45);
  });
});
