import { describe, expect, it } from "vitest";
import type { Mapping, TemporalLoop } from "../../src/dataflow/mapping.js";
import { unevenPrefetch } from "../../src/mapper/prefetch.js";

/** A mapping with these dram loops (only they matter here). */
function withDram(loops: TemporalLoop[]): Mapping {
  return {
    name: "t",
    dram: { loops },
    gbuf: { loops: [], keep: { input: true, weight: true, output: true }, doubleBuffer: true },
    spatial: { loops: [] },
    rf: { loops: [], keep: { input: true, weight: true, output: true }, doubleBuffer: false },
  };
}

describe("the prefetches of uneven dram tiles (mapper/prefetch.ts)", () => {
  it("charges the steps of each dram loop the fetches of the tensors whose tiles change there, beyond a tile's work (closed form by hand)", () => {
    // K 4 outside P 4: 3 K steps fetch every tensor (P wraps), 12 P steps the input and the output.
    // Fetches: input 16, weight 4, output 16. Times (400 shared 1:2:1): 100, 200, 100, so a fetch
    // takes 6.25, 50 and 6.25: a K step 62.5, a P step 12.5.
    const m = withDram([{ dim: "K", factor: 4 }, { dim: "P", factor: 4 }]);
    const shares = { input: 1, weight: 2, output: 1 };
    expect(unevenPrefetch(m, shares, 400, 20)).toBeCloseTo(3 * (62.5 - 20), 9);
    expect(unevenPrefetch(m, shares, 400, 10)).toBeCloseTo(3 * (62.5 - 10) + 12 * (12.5 - 10), 9);
    expect(unevenPrefetch(m, shares, 400, 70)).toBe(0);
    // Loops of one trip take no step; P outside K: weights change at every step.
    expect(unevenPrefetch(withDram([{ dim: "C", factor: 1 }, { dim: "K", factor: 4 }, { dim: "P", factor: 4 }]), shares, 400, 20)).toBeCloseTo(127.5, 9);
    const even = withDram([{ dim: "P", factor: 4 }, { dim: "K", factor: 4 }]);
    // (input 4 fetches of 25, weight 16 of 12.5, output 16 of 6.25: a P step 43.75, a K step 18.75)
    expect(unevenPrefetch(even, shares, 400, 20)).toBeCloseTo(3 * (43.75 - 20), 9);
  });

  it("adds nothing without dram steps or DRAM time, and nothing where every tile's fetch fits its work", () => {
    expect(unevenPrefetch(withDram([]), { input: 1, weight: 1, output: 1 }, 1000, 1)).toBe(0);
    expect(unevenPrefetch(withDram([{ dim: "K", factor: 8 }]), { input: 0, weight: 0, output: 0 }, 1000, 1)).toBe(0);
    expect(unevenPrefetch(withDram([{ dim: "K", factor: 8 }]), { input: 0, weight: 1, output: 1 }, 800, 100)).toBe(0);
  });
});
