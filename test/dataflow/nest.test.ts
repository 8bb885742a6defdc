/**
 * The nest's per-PE offsets (nest.ts): a PE's spatial offset is its row's and column's digits
 * over the spatial loops of each axis (the first loop the most significant), each times the
 * extent of the loops below it on the same dimension; made on first use, and read one PE at a
 * time by the mapping search (peOffsetInto) with the same values.
 */
import { describe, expect, it } from "vitest";
import type { Mapping } from "../../src/dataflow/mapping.js";
import { DIM_INDEX, Nest, NDIMS } from "../../src/dataflow/nest.js";
import { convLayer } from "../../src/workload/layer.js";

const layer = convLayer({ inChannels: 16, inHeight: 8, inWidth: 8, outChannels: 24, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] });

/** Rows: K by 3 then P by 2 (K most significant); columns: C by 4; below them K by 2 and P by 4 (rf). */
const mapping = {
  dram: { loops: [{ dim: "K", factor: 2 }, { dim: "C", factor: 2 }] },
  gbuf: { loops: [{ dim: "C", factor: 2 }] },
  spatial: { loops: [{ dim: "K", factor: 3, axis: "row" }, { dim: "P", factor: 2, axis: "row" }, { dim: "C", factor: 4, axis: "col" }] },
  rf: { loops: [{ dim: "K", factor: 2 }, { dim: "P", factor: 4 }, { dim: "Q", factor: 8 }, { dim: "R", factor: 3 }, { dim: "S", factor: 3 }] },
} as unknown as Mapping;

describe("Nest's per-PE offsets", () => {
  it("are each row's and column's digits times the extent below them", () => {
    const nest = new Nest(mapping, layer);
    expect([nest.usedRows, nest.usedCols]).toEqual([6, 4]);
    for (let r = 0; r < 6; r++)
      for (let c = 0; c < 4; c++) {
        const want = new Int32Array(NDIMS);
        want[DIM_INDEX.K] = Math.floor(r / 2) * 2; // K by 3 over rows, 2 channels per PE below
        want[DIM_INDEX.P] = (r % 2) * 4; // P by 2 over rows, 4 rows per PE below
        want[DIM_INDEX.C] = c; // C by 4 over columns, 1 channel per PE below
        expect(nest.peOffset[r * 4 + c]).toEqual(want);
        expect(nest.peOffsetInto(r * 4 + c, new Int32Array(NDIMS).fill(7))).toEqual(want);
      }
    expect(nest.peFold.every((f) => f.length === 0)).toBe(true);
  });
});
