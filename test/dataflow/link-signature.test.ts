import { describe, expect, it, vi } from "vitest";
import seedrandom from "seedrandom";
import { parseLayerShortForm, resolveArch, simulate } from "../../src/index.js";
import type { SeqContext } from "../../src/dataflow/sequencer/context.js";
import { LinkPlanner, entryIndices } from "../../src/dataflow/sequencer/links.js";
import type { DrainEntry } from "../../src/dataflow/sequencer/types.js";

/** Drain entries of the given PEs and output tile keys (one psum base and extent unless given). */
function entries(pes: readonly number[], keys: readonly number[], base = 0, shapeKey = 5): DrainEntry[] {
  return pes.map((pe, i) => ({ pe, key: keys[i]!, start: [0, 0, 0, 0, 0, 0, 0, 0], ext: [1, 1, 1, 1, 1, 1, 1, 1], base, extKey: 1, shapeKey, gen: 0 }));
}

/** The classes (first-seen order of equal keys) the link signature gives each entry. */
function classes(keys: readonly number[]): number[] {
  const seen = new Map<number, number>();
  return keys.map((k) => {
    if (!seen.has(k)) seen.set(k, seen.size);
    return seen.get(k)!;
  });
}

describe("LinkPlanner.signatureSerial", () => {
  // (signatureSerial reads only the entries; the context is for planning)
  const planner = () => new LinkPlanner({} as SeqContext);
  const pes = [0, 1, 2, 3, 4, 5];

  it("gives a drain whose keys all moved by one amount the last one's serial, and any other change another", () => {
    const p = planner();
    const a = p.signatureSerial(entries(pes, [10, 10, 20, 20, 30, 30]));
    expect(p.signatureSerial(entries(pes, [17, 17, 27, 27, 37, 37]))).toBe(a);
    expect(p.signatureSerial(entries(pes, [-3, -3, 7, 7, 17, 17]))).toBe(a);
    // Moved, but not alike: the classes change.
    expect(p.signatureSerial(entries(pes, [11, 11, 21, 21, 31, 32]))).not.toBe(a);
    expect(p.signatureSerial(entries(pes, [10, 20, 20, 30, 30, 40]))).not.toBe(a);
    // Other PEs, bases or extents.
    expect(p.signatureSerial(entries([0, 1, 2, 3, 4, 6], [10, 10, 20, 20, 30, 30]))).not.toBe(a);
    expect(p.signatureSerial(entries(pes, [10, 10, 20, 20, 30, 30], 4))).not.toBe(a);
    expect(p.signatureSerial(entries(pes, [10, 10, 20, 20, 30, 30], 0, 6))).not.toBe(a);
    // Not moved by one amount, but with the same classes: the same signature, found the long way.
    expect(p.signatureSerial(entries(pes, [100, 100, 50, 50, 7, 7]))).toBe(a);
    expect(p.signatureSerial(entries(pes, [10, 10, 20, 20, 30, 30]))).toBe(a);
  });

  it("equals the serial of the classes over 2,000 random drains, each against the one before", () => {
    const rng = seedrandom("link-signature");
    const p = planner();
    const byClasses = new Map<string, number>();
    let keys = [1, 1, 2, 2, 3, 3];
    for (let i = 0; i < 2000; i++) {
      const r = rng();
      if (r < 0.5) {
        const by = Math.floor(rng() * 100) - 50;
        keys = keys.map((k) => k + by);
      } else if (r < 0.8) {
        const j = Math.floor(rng() * keys.length);
        keys = keys.map((k, i2) => (i2 === j ? k + Math.floor(rng() * 3) - 1 : k));
      } else keys = keys.map(() => Math.floor(rng() * 4));
      const serial = p.signatureSerial(entries(pes, keys));
      const cls = classes(keys).join(",");
      const known = byClasses.get(cls);
      if (known === undefined) {
        expect([...byClasses.values()]).not.toContain(serial);
        byClasses.set(cls, serial);
      } else expect(serial).toBe(known);
    }
    expect(byClasses.size).toBeGreaterThan(10);
  });
});

describe("entryIndices", () => {
  it("finds each kept entry's index, by PE when every PE has one entry and by identity when one has two", () => {
    const all = entries([7, 2, 9, 4], [1, 1, 2, 2]);
    const table = new Int32Array(16).fill(123);
    expect([...entryIndices([all[2]!, all[0]!, all[3]!], all, table)]).toEqual([2, 0, 3]);
    // PE 2 twice: the second entry of PE 2 must be found as itself, not as the last of its PE.
    const twice = entries([2, 5, 2], [1, 1, 3]);
    expect([...entryIndices([twice[0]!, twice[2]!, twice[1]!], twice, table)]).toEqual([0, 2, 1]);
    // a table left over from another drain does not matter
    expect([...entryIndices([all[1]!], all, table)]).toEqual([1]);
  });
});

describe("LinkPlanner: drains that alternate between two signatures", () => {
  it("serves each from its record, without computing a signature again (psums in two halves)", () => {
    const p = new LinkPlanner({} as SeqContext);
    const spy = vi.spyOn(p as unknown as { signature(e: readonly DrainEntry[]): Float64Array }, "signature");
    const pes = [0, 1, 2, 3];
    const a = p.signatureSerial(entries(pes, [10, 10, 20, 20], 0));
    const b = p.signatureSerial(entries(pes, [30, 30, 40, 40], 4));
    expect(b).not.toBe(a);
    expect(spy).toHaveBeenCalledTimes(2);
    for (let i = 1; i <= 20; i++) {
      expect(p.signatureSerial(entries(pes, [10 + 40 * i, 10 + 40 * i, 20 + 40 * i, 20 + 40 * i], 0))).toBe(a);
      expect(p.signatureSerial(entries(pes, [30 + 40 * i, 30 + 40 * i, 40 + 40 * i, 40 + 40 * i], 4))).toBe(b);
    }
    expect(spy).toHaveBeenCalledTimes(2);
    // A third layout pushes the oldest record out; it is then found the long way, with its serial.
    const c = p.signatureSerial(entries(pes, [1, 2, 3, 4], 8));
    expect(p.signatureSerial(entries(pes, [11, 11, 21, 21], 0))).toBe(a);
    expect([a, b]).not.toContain(c);
    expect(spy).toHaveBeenCalledTimes(4);
  });

  it("plans a systolic array's alternating drains' link reductions once per signature", () => {
    // (with the last plan kept alone: 36 and 369 plans, one per drain)
    for (const [layer, dataflow, most] of [["c=16,hw=12,k=16,r=1", "os", 2], ["c=8,hw=20,k=16,r=3", "is", 4]] as const) {
      const spy = vi.spyOn(LinkPlanner.prototype as unknown as { planLinkReductions(e: readonly DrainEntry[]): unknown }, "planLinkReductions");
      const r = simulate({ layer: parseLayerShortForm(layer), arch: resolveArch("systolic", { array: { rows: 8, cols: 8 } }), dataflow, seed: 3 });
      const plans = spy.mock.calls.length;
      spy.mockRestore();
      expect(r.verification.ok).toBe(true);
      expect(r.simulator.iterations).toBeGreaterThan(30);
      expect(plans).toBeGreaterThan(0);
      expect(plans).toBeLessThanOrEqual(most);
    }
  });
});
