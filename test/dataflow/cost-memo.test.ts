import { describe, expect, it } from "vitest";
import seedrandom from "seedrandom";
import { CostMemo } from "../../src/dataflow/dataflows/cost-memo.js";

describe("CostMemo", () => {
  it("finds every value stored, as a Map would, through its growth and keys far beyond 2^32", () => {
    const rng = seedrandom("cost-memo");
    const memo = new CostMemo();
    const map = new Map<number, number>();
    for (let i = 0; i < 200_000; i++) {
      // Clustered small keys (as tile keys are) and some huge ones.
      const key = i % 10 === 0 ? Math.floor(rng() * 2 ** 52) : Math.floor(rng() * 300_000);
      const had = map.get(key);
      expect(memo.get(key)).toBe(had);
      if (had === undefined) {
        const v = rng() * 1e6 - 5e5;
        map.set(key, v);
        memo.set(key, v);
      }
    }
    let wrong = 0;
    for (const [k, v] of map) if (memo.get(k) !== v) wrong++;
    expect(wrong).toBe(0);
  });

  it("keeps searches apart: a new memo sees none of an old one's entries, and an old one never a wrong value", () => {
    const a = new CostMemo();
    for (let k = 0; k < 5000; k++) a.set(k, k + 0.5);
    const b = new CostMemo();
    let seen = 0;
    for (let k = 0; k < 5000; k++) if (b.get(k) !== undefined) seen++;
    expect(seen).toBe(0);
    for (let k = 0; k < 5000; k += 2) b.set(k, -k);
    let wrong = 0;
    for (let k = 0; k < 5000; k++) {
      const v = a.get(k);
      if (v !== undefined && v !== k + 0.5) wrong++;
      const w = b.get(k);
      if (k % 2 === 0 ? w !== -k : w !== undefined) wrong++;
    }
    expect(wrong).toBe(0);
  });
});
