import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { searchTile, tileBudget, tilePlan, type Tile, type TileBudget } from "../../src/bounds/index.js";
import { tileTrafficOf } from "../../src/bounds/tile.js";
import { ConfigError } from "../../src/core/errors.js";
import { convShape, parseLayerShortForm, type ConvLayer } from "../../src/workload/layer.js";
import { smallLayer } from "./brute.js";

/**
 * Runs the output-tile schedule literally (tiles, channels, the set of real input elements each
 * (tile, channel) step needs) and counts its transfers and its largest per-channel slice; also
 * checks that the steps cover every useful MAC exactly once.
 */
function runSchedule(l: ConvLayer, t: Tile) {
  const s = convShape(l);
  const cpg = s.inChannelsPerGroup;
  const kpg = s.outChannelsPerGroup;
  let input = 0;
  let weight = 0;
  let output = 0;
  let maxSlice = 0;
  let macs = 0;
  // Loop order of the chen2020 mapping; a slice is kept only when the previous step staged the same one.
  let lastInput = "";
  let lastWeight = "";
  for (let g = 0; g < l.groups; g++)
    for (let n0 = 0; n0 < l.batch; n0 += t.b)
      for (let k0 = 0; k0 < kpg; k0 += t.z)
        for (let oh0 = 0; oh0 < s.outHeight; oh0 += t.y)
          for (let ow0 = 0; ow0 < s.outWidth; ow0 += t.x) {
            const zs = Math.min(t.z, kpg - k0);
            for (let c = 0; c < cpg; c++) {
              const slice = new Set<string>();
              for (let n = n0; n < Math.min(l.batch, n0 + t.b); n++)
                for (let oh = oh0; oh < Math.min(s.outHeight, oh0 + t.y); oh++)
                  for (let ow = ow0; ow < Math.min(s.outWidth, ow0 + t.x); ow++)
                    for (let kh = 0; kh < l.kernelHeight; kh++)
                      for (let kw = 0; kw < l.kernelWidth; kw++) {
                        const ih = oh * l.strides[0] - l.pads[0] + kh * l.dilations[0];
                        const iw = ow * l.strides[1] - l.pads[1] + kw * l.dilations[1];
                        if (ih < 0 || ih >= l.inHeight || iw < 0 || iw >= l.inWidth) continue;
                        slice.add(`${n},${ih},${iw}`);
                        macs += zs;
                      }
              const inputKey = `${g},${n0},${oh0},${ow0},${c}`;
              const weightKey = `${g},${k0},${c}`;
              if (inputKey !== lastInput) input += slice.size;
              if (weightKey !== lastWeight) weight += zs * l.kernelHeight * l.kernelWidth;
              lastInput = inputKey;
              lastWeight = weightKey;
              // the staging buffer must hold the largest slice of a full tile (any channel)
              maxSlice = Math.max(maxSlice, slice.size);
            }
            output += Math.min(t.b, l.batch - n0) * Math.min(t.y, s.outHeight - oh0) * Math.min(t.x, s.outWidth - ow0) * zs;
          }
  return { input, weight, output, maxSlice, macs };
}

const words = (n: number): TileBudget => tileBudget(n);

describe("tilePlan: the exact traffic of the output-tile dataflow", () => {
  it("equals the literal schedule's transfers, per tensor, for random layers and tiles", () => {
    fc.assert(
      fc.property(smallLayer(8, 3), fc.nat(), fc.nat(), fc.nat(), fc.nat(), (l, rb, rx, ry, rz) => {
        const s = convShape(l);
        const tile = { b: 1 + (rb % l.batch), x: 1 + (rx % s.outWidth), y: 1 + (ry % s.outHeight), z: 1 + (rz % s.outChannelsPerGroup) };
        const p = tilePlan(l, tile, words(1 << 20));
        const r = runSchedule(l, tile);
        expect(p.traffic).toEqual({ input: r.input, weight: r.weight, output: r.output, total: r.input + r.weight + r.output });
        expect(r.macs).toBe(s.usefulMacs);
        // the footprint's input staging is at least the largest slice the schedule needed
        expect(p.footprint.input).toBeGreaterThanOrEqual(r.maxSlice);
        expect(p.footprint.psum).toBe(tile.b * tile.x * tile.y * tile.z);
        expect(p.footprint.weight).toBe(tile.z * l.kernelHeight * l.kernelWidth);
      }),
      { numRuns: 150 },
    );
  });

  it("counts footprints in bytes with int32 psums, and doubles the staging when asked", () => {
    const l = parseLayerShortForm("c=4,hw=10,k=8,r=3,pad=1");
    const t = { b: 1, x: 5, y: 4, z: 3 };
    const single = tilePlan(l, t, tileBudget({ unit: "bytes", value: 4096 as never }, { input: "int16", weight: "int8" }));
    // psum 1*4*5*3 * 4 B; the largest slice: rows 6 (tile oh 4..7 reads ih 3..8; the first tile
    // only 5, ih -1 is padding), cols 6 (ow 0..4 -> iw 0..5; ow 5..9 -> iw 4..9), 2 B each;
    // weights 3*9 * 1 B
    expect(single.footprint).toEqual({ psum: 240, input: 72, weight: 27, total: 339 });
    const double = tilePlan(l, t, tileBudget(4096, {}, "double"));
    expect(double.footprint).toEqual({ psum: 60, input: 72, weight: 54, total: 186 });
  });

  it("tileTrafficOf gives tilePlan's total traffic at every tile of a layer", () => {
    fc.assert(
      fc.property(smallLayer(8, 3), (l) => {
        const s = convShape(l);
        const of = tileTrafficOf(l);
        for (let b = 1; b <= l.batch; b++)
          for (let y = 1; y <= s.outHeight; y++)
            for (let x = 1; x <= s.outWidth; x++)
              for (let z = 1; z <= s.outChannelsPerGroup; z++) expect(of(b, y, x, z)).toBe(tilePlan(l, { b, y, x, z }, words(1)).traffic.total);
      }),
      { numRuns: 60 },
    );
  });

  it("rejects tiles outside the layer", () => {
    const l = parseLayerShortForm("c=4,hw=10,k=8,r=3,pad=1");
    expect(() => tilePlan(l, { b: 2, x: 1, y: 1, z: 1 }, words(100))).toThrow(ConfigError);
    expect(() => tilePlan(l, { b: 1, x: 1, y: 1, z: 9 }, words(100))).toThrow(/tile\.z must be an integer in \[1, 8\]/);
  });
});

describe("searchTile", () => {
  it("finds the least traffic over every tile that fits (exhaustive search on small layers)", () => {
    fc.assert(
      fc.property(smallLayer(8, 4), fc.integer({ min: 1, max: 400 }), fc.boolean(), (l, cap, dbl) => {
        const budget = tileBudget(cap, {}, dbl ? "double" : "single");
        const s = convShape(l);
        let best = Infinity;
        let bestFoot = Infinity;
        for (let b = 1; b <= l.batch; b++)
          for (let y = 1; y <= s.outHeight; y++)
            for (let x = 1; x <= s.outWidth; x++)
              for (let z = 1; z <= s.outChannelsPerGroup; z++) {
                const p = tilePlan(l, { b, x, y, z }, budget);
                if (p.footprint.total > cap) continue;
                if (p.traffic.total < best || (p.traffic.total === best && p.footprint.total < bestFoot)) {
                  best = p.traffic.total;
                  bestFoot = p.footprint.total;
                }
              }
        const found = searchTile(l, budget);
        if (best === Infinity) {
          expect(found).toBeNull();
        } else {
          expect(found).not.toBeNull();
          expect(found!.traffic.total).toBe(best);
          expect(found!.footprint.total).toBe(bestFoot);
          expect(found!.footprint.total).toBeLessThanOrEqual(cap);
        }
      }),
      { numRuns: 120 },
    );
  });

  it("hand-worked example 1 (docs/bounds.md): 1x1, 64x8x8 -> 64, S = 1024 words", () => {
    const l = parseLayerShortForm("c=64,hw=8,k=64,r=1");
    const p = searchTile(l, words(1024))!;
    expect(p.tile).toEqual({ b: 1, x: 8, y: 4, z: 22 });
    expect(p.traffic).toEqual({ input: 3 * 4096, weight: 2 * 4096, output: 4096, total: 24576 });
    expect(p.footprint.total).toBe(758);
  });

  it("hand-worked example 2 (docs/bounds.md): 3x3 pad 1, 2x4x4 -> 2, S = 64 words", () => {
    const l = parseLayerShortForm("c=2,hw=4,k=2,r=3,pad=1");
    const p = searchTile(l, words(64))!;
    expect(p.tile).toEqual({ b: 1, x: 4, y: 4, z: 1 });
    expect(p.traffic).toEqual({ input: 64, weight: 36, output: 32, total: 132 });
    expect(p.footprint.total).toBe(41);
    expect(searchTile(l, words(40))!.traffic.total).toBe(200);
    expect(searchTile(l, words(66))!.traffic.total).toBe(100);
  });

  it("returns null when even the 1x1x1x1 tile does not fit", () => {
    const l = parseLayerShortForm("c=3,hw=227,k=96,r=11,stride=4");
    expect(searchTile(l, words(242))).toBeNull();
    expect(searchTile(l, words(243))).not.toBeNull();
  });

  it("searches VGG- and AlexNet-size layers (the CLI does one search per layer)", () => {
    const vgg = parseLayerShortForm("c=64,hw=224,k=64,r=3,pad=1");
    const p = searchTile(vgg, tileBudget({ unit: "bytes", value: 110592 as never }))!;
    expect(p.footprint.total).toBeLessThanOrEqual(110592);
    expect(p.traffic.total).toBeGreaterThan(convShape(vgg).touchedInputElements);
  });
});
