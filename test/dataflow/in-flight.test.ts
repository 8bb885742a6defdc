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

  it("keeps a transaction that outlives the window (a running wave through replayed timelines) and walks only those in flight", () => {
    const table = new InFlight(8);
    const [wave, other] = [thread(0), thread(1)];
    table.add(5, wave, req(5));
    let id = 6;
    for (let round = 0; round < 200; round++) {
      id += 1000; // ids the replayed requests took
      table.add(id, other, req(id));
      table.add(id + 1, other, req(id + 1));
      const seen: number[] = [];
      table.every((i) => (seen.push(i), true));
      expect(seen).toEqual([5, id, id + 1]);
      table.delete(id);
      table.delete(id + 1);
      id += 2;
    }
    expect(table.thread(5)).toBe(wave);
    expect(table.size).toBe(1);
    // Many at once: the ring grows, and nothing is lost.
    for (let k = 0; k < 100; k++) table.add(id + k, other, req(id + k));
    expect(table.size).toBe(101);
    for (let k = 0; k < 100; k++) expect(table.request(id + k)!.msg).toEqual({ op: "wave", i: id + k });
    table.delete(5);
    expect(table.thread(5)).toBeUndefined();
    expect(table.size).toBe(100);
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
