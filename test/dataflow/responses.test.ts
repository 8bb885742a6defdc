import { describe, expect, it } from "vitest";
import { Responses } from "../../src/dataflow/sequencer/responses.js";
import type { Req, Resp } from "../../src/dataflow/sequencer/types.js";

const req = (i: number): Req => ({ to: "pe", msg: { op: "wave", i } as never });
const resp = (i: number): Resp => ({ op: "done", i } as never);

describe("Responses", () => {
  it("answer each request once, taken in any order, and list the rest in arrival order", () => {
    const qs = [0, 1, 2, 3, 4].map(req);
    const rs = [0, 1, 2, 3, 4].map(resp);
    const r = new Responses();
    qs.forEach((q, i) => r.set(q, rs[i]!));
    expect(r.size).toBe(5);
    expect(r.take(qs[2]!)).toBe(rs[2]);
    expect(r.take(qs[2]!)).toBeUndefined();
    expect(r.take(qs[0]!)).toBe(rs[0]);
    expect(r.take(req(9))).toBeUndefined();
    expect(r.size).toBe(3);
    const seen: number[] = [];
    r.forEach((v, q) => seen.push(qs.indexOf(q), rs.indexOf(v)));
    expect(seen).toEqual([1, 1, 3, 3, 4, 4]);
    expect(r.every((v) => v !== rs[3])).toBe(false);
    expect(r.every((v) => v !== rs[2])).toBe(true);
    expect(r.take(qs[4]!)).toBe(rs[4]);
    expect(r.take(qs[1]!)).toBe(rs[1]);
    expect(r.take(qs[3]!)).toBe(rs[3]);
    expect(r.size).toBe(0);
  });

  it("serve again once emptied, the earlier requests gone", () => {
    const r = new Responses();
    const [a, b] = [req(0), req(1)];
    r.set(a, resp(0));
    r.take(a);
    r.set(b, resp(1));
    expect(r.size).toBe(1);
    expect(r.take(a)).toBeUndefined();
    const seen: Req[] = [];
    r.forEach((_, q) => seen.push(q));
    expect(seen).toEqual([b]);
  });
});
