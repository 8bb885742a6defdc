/**
 * addressOrder (the drain path's reordering of a tile into the order memory stores it): the same
 * word lands at the same address, the dimensions come largest stride first, tags move with words.
 */
import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import { addressOrder } from "../../src/dataflow/sequencer/transfer.js";
import type { OutTile } from "../../src/dataflow/sequencer/types.js";

/** Address -> word of a tile written in its box order (brute force over every index). */
function written(t: { box: { shape: readonly number[]; offset: number; strides: readonly number[] }; data: ArrayLike<number> }): Map<number, number> {
  const out = new Map<number, number>();
  const { shape, offset, strides } = t.box;
  const idx = shape.map(() => 0);
  for (let k = 0; k < t.data.length; k++) {
    out.set(offset + idx.reduce((a, v, d) => a + v * strides[d]!, 0), t.data[k]!);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

describe("addressOrder", () => {
  it("puts every word (and tag) at its address, the dimensions in address order, on random boxes", () => {
    const rng = seedrandom("address-order");
    let permuted = 0;
    for (let trial = 0; trial < 300; trial++) {
      const n = 1 + Math.floor(rng() * 5);
      const shape = Array.from({ length: n }, () => 1 + Math.floor(rng() * 4));
      // Dense strides of a random order of the dimensions, so that no two words share an address.
      const order = shape.map((_, d) => d).sort(() => rng() - 0.5);
      const strides = new Array<number>(n);
      let s = 1;
      for (let i = order.length - 1; i >= 0; i--) {
        strides[order[i]!] = s;
        s *= shape[order[i]!]!;
      }
      const size = shape.reduce((a, b) => a * b, 1);
      const data = Int32Array.from({ length: size }, (_, i) => i * 7 - 3);
      const tags = Float64Array.from({ length: size }, (_, i) => 1000 + i);
      const t: OutTile = { box: { shape, offset: 5, strides }, data, tags, has: 0, expect: { space: 1, offset: 0, strides: [...strides] } };
      const r = addressOrder(t);
      if (r !== t) permuted++;
      expect(written(r)).toEqual(written(t));
      expect(written({ box: r.box, data: r.tags! })).toEqual(written({ box: t.box, data: tags }));
      // Largest stride first, so the words come in address order.
      const addrs = [...written(r).keys()];
      expect(addrs).toEqual([...addrs].sort((a, b) => a - b));
      expect(r.expect.strides).toEqual(r.box.strides);
    }
    expect(permuted).toBeGreaterThan(100);
  });
});
