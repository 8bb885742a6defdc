import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import { InFlight } from "../../src/dataflow/sequencer/in-flight.js";
import type { Req, Thread } from "../../src/dataflow/sequencer/types.js";

const req = (i: number): Req => ({ to: "pe", msg: { op: "wave", i } as never });
const thread = (i: number): Thread => ({ i } as never);

describe("InFlight", () => {
  it("keeps every transaction until it is deleted, against a Map, through growth and gaps in the ids", () => {
    const rng = seedrandom("in-flight");
    const table = new InFlight(4);
    const oracle = new Map<number, [Thread, Req]>();
    const threads = [0, 1, 2].map(thread);
    let next = 1;
    for (let step = 0; step < 20_000; step++) {
      const r = rng();
      if (r < 0.5 || oracle.size === 0) {
        next += rng() < 0.2 ? 1 + Math.floor(rng() * 50) : 1; // ids taken by others leave gaps
        const t = threads[Math.floor(rng() * 3)]!;
        const q = req(next);
        table.add(next, t, q);
        oracle.set(next, [t, q]);
      } else {
        // Mostly the oldest first, sometimes any (a long DRAM transaction outlives many).
        const ids = [...oracle.keys()];
        const id = rng() < 0.6 ? ids[0]! : ids[Math.floor(rng() * ids.length)]!;
        expect(table.thread(id)).toBe(oracle.get(id)![0]);
        expect(table.request(id)).toBe(oracle.get(id)![1]);
        table.delete(id);
        oracle.delete(id);
        expect(table.thread(id)).toBeUndefined();
        expect(table.request(id)).toBeUndefined();
      }
      expect(table.size).toBe(oracle.size);
      if (step % 97 === 0) {
        const seen: number[] = [];
        table.every((id, t) => (seen.push(id), expect(t).toBe(oracle.get(id)![0]), true));
        expect(seen).toEqual([...oracle.keys()]);
        for (let id = next - 200; id <= next + 2; id++) expect(table.thread(id)).toBe(oracle.get(id)?.[0]);
      }
    }
  });

  it("stops a walk when asked, replaces a request in flight, and refuses ids that do not increase", () => {
    const table = new InFlight();
    const [a, b] = [thread(0), thread(1)];
    table.add(3, a, req(3));
    table.add(7, b, req(7));
    table.add(8, a, req(8));
    const seen: number[] = [];
    expect(table.every((id, t) => (seen.push(id), t === a))).toBe(false);
    expect(seen).toEqual([3, 7]);
    const q = req(70);
    table.setRequest(7, q);
    expect(table.request(7)).toBe(q);
    expect(() => table.setRequest(5, q)).toThrow(/not in flight/);
    expect(() => table.add(8, a, req(8))).toThrow(/must increase/);
  });
});
