import { describe, expect, it } from "vitest";
import { ConfigError, Engine, InvariantError, tagOf, type SimMode } from "../../src/core/index.js";
import { Noc, type NocResponse } from "../../src/pe-array/index.js";
import { ARRAY, NOC, RF, arrayWithNoc } from "./harness.js";
import { bothModes } from "../core/stub.js";

const span = (offset: number, n: number) => ({ shape: [n], offset, strides: [1] });
const tags = (space: number, first: number, n: number) => Float64Array.from({ length: n }, (_, i) => tagOf(space, first + i));

describe("Noc (docs/timing.md worked examples)", () => {
  it("multicasts 16 input words to a 12-PE column in 16 cycles (1 RF write port), 1 send and 12 deliveries per word", () => {
    const { reference, fast } = bothModes((mode: SimMode) => {
      const array = { rows: 12, cols: 14, macsPerCycle: 1, pipelineLatency: 1 };
      const h = arrayWithNoc(mode, true, array, { ...RF, inputEntries: 16 });
      const data = Int16Array.from({ length: 16 }, (_, i) => 3 * i - 7);
      h.s.send(h.nocCmd, { op: "deliver", id: 1, part: "input", pes: h.pe.col(5), box: span(0, 16), payload: { data, tags: tags(1, 0, 16) } });
      const r = h.e.run({ maxCycles: 1000 });
      const resp = h.s.on("nocResp")[0]!;
      return { cycles: r.cycles, seen: resp.cycle, done: (resp.msg as NocResponse).completedAt, counters: h.e.counters.values(), pe: Array.from(h.pe.pe(11, 5).contents("input")), other: Array.from(h.pe.pe(0, 4).contents("input")) };
    });
    expect(fast).toEqual(reference);
    // Sent in 0, accepted and started in 1, occupies 1..16, done in 16, seen in 17.
    expect(reference.done).toBe(16);
    expect(reference.seen).toBe(17);
    expect(reference.counters["noc.send.input"]).toBe(16);
    expect(reference.counters["noc.deliver.input"]).toBe(192);
    expect(reference.counters["rf.write.input"]).toBe(192);
    expect(reference.pe).toEqual(Array.from({ length: 16 }, (_, i) => 3 * i - 7));
    expect(reference.other).toEqual(new Array(16).fill(0));
  });

  it("is bus-bound when the RF can keep up: 8 words to one PE at 2 words/cycle with 4 write ports take 4 cycles", () => {
    const h = arrayWithNoc("fast", false, ARRAY, { ...RF, writePorts: 4 });
    h.s.send(h.nocCmd, { op: "deliver", id: 1, part: "weight", pes: h.pe.one(1, 1), box: span(0, 8), payload: { data: new Int8Array(8) } });
    h.e.run({ maxCycles: 1000 });
    expect((h.s.on("nocResp")[0]!.msg as NocResponse).completedAt).toBe(4);
  });

  it("is bus-bound into a partition the words pass through (a streamed operand): 16 words to a 12-PE column in 4 cycles, not 16", () => {
    const array = { rows: 12, cols: 14, macsPerCycle: 1, pipelineLatency: 1 };
    const done = (passing: boolean) => {
      const h = arrayWithNoc("fast", false, array, { ...RF, inputEntries: 16, ...(passing ? { passing: { input: true } } : {}) });
      const data = Int16Array.from({ length: 16 }, (_, i) => i - 3);
      h.s.send(h.nocCmd, { op: "deliver", id: 1, part: "input", pes: h.pe.col(5), box: span(0, 16), payload: { data } });
      h.e.run({ maxCycles: 1000 });
      return { at: (h.s.on("nocResp")[0]!.msg as NocResponse).completedAt, words: Array.from(h.pe.pe(11, 5).contents("input")), writes: h.e.counters.value("rf.write.input") };
    };
    const streamed = done(true);
    // 16 words at 4 a cycle; the kept partition waits for its one write port (16 cycles).
    expect(streamed.at).toBe(4);
    expect(done(false).at).toBe(16);
    expect(streamed.words).toEqual(Array.from({ length: 16 }, (_, i) => i - 3));
    expect(streamed.writes).toBe(192);
  });

  it("unicasts a distinct box per PE (perPe) on one bus", () => {
    const h = arrayWithNoc("fast", false, ARRAY, { ...RF, writePorts: 4 });
    const data = Int8Array.from({ length: 12 }, (_, i) => i);
    h.s.send(h.nocCmd, { op: "deliver", id: 1, part: "weight", pes: h.pe.row(1), box: span(0, 4), payload: { data }, perPe: true });
    h.e.run({ maxCycles: 1000 });
    expect((h.s.on("nocResp")[0]!.msg as NocResponse).completedAt).toBe(6); // 12 words at 2/cycle
    expect(Array.from(h.pe.pe(1, 2).contents("weight").slice(0, 4))).toEqual([8, 9, 10, 11]);
    expect(h.e.counters.value("noc.send.weight")).toBe(12);
    expect(h.e.counters.value("noc.deliver.weight")).toBe(12);
  });

  it("drains 2 psums from each of 6 PEs at 2 words/cycle: read in 1, words on the path in 3..8", () => {
    const { reference, fast } = bothModes((mode: SimMode) => {
      const h = arrayWithNoc(mode, true);
      h.s.send(h.cmd, { op: "fill", id: 1, part: "psum", pes: h.pe.all(), box: span(0, 2), value: 7, tags: { space: 3, rowStride: 6, colStride: 2, strides: [1] } });
      h.s.send(h.nocCmd, { op: "drain", id: 2, part: "psum", pes: h.pe.all(), box: span(0, 2), expect: { space: 3, rowStride: 6, colStride: 2, strides: [1] } }, 10);
      const r = h.e.run({ maxCycles: 1000 });
      const resp = h.s.on("nocResp")[0]!;
      const m = resp.msg as NocResponse;
      return { cycles: r.cycles, done: m.completedAt, data: Array.from(m.payload!.data), tags: Array.from(m.payload!.tags!), counters: h.e.counters.values() };
    });
    expect(fast).toEqual(reference);
    // Sent in 10, accepted in 11 (read sent), PE answers in 12, path busy 13..18.
    expect(reference.done).toBe(18);
    expect(reference.data).toEqual(new Array(12).fill(7));
    expect(reference.tags).toEqual(Array.from(tags(3, 0, 12)));
    expect(reference.counters["noc.drain.psum"]).toBe(12);
    expect(reference.counters["rf.read.psum"]).toBe(12);
  });

  it("drains a streamed output in flight: the path charges only what its width could not carry during the wave", () => {
    const run = (inFlight: number | undefined) =>
      bothModes((mode: SimMode) => {
        const h = arrayWithNoc(mode, true);
        h.s.send(h.cmd, { op: "fill", id: 1, part: "psum", pes: h.pe.all(), box: span(0, 2), value: 7, tags: { space: 3, rowStride: 6, colStride: 2, strides: [1] } });
        h.s.send(h.nocCmd, { op: "drain", id: 2, part: "psum", pes: h.pe.all(), box: span(0, 2), expect: { space: 3, rowStride: 6, colStride: 2, strides: [1] }, ...(inFlight ? { inFlight } : {}) }, 10);
        h.e.run({ maxCycles: 1000 });
        const m = h.s.on("nocResp")[0]!.msg as NocResponse;
        const counters = Object.fromEntries(Object.entries(h.e.counters.values()).filter(([k]) => k.startsWith("noc.") || k.startsWith("rf.")));
        return { done: m.completedAt, data: Array.from(m.payload!.data), counters };
      });
    // 12 words at 2 a cycle: 6 cycles of path; 2 of them were the wave's (13..18 becomes 13..16),
    // and a wave of 6 or more steps carried them all (1 cycle). The same words, read and counted.
    const plain = run(undefined).reference;
    for (const [t, done] of [[2, 16], [6, 13], [50, 13]] as const) {
      const { reference, fast } = run(t);
      expect(fast).toEqual(reference);
      expect(reference.done).toBe(done);
      expect(reference.data).toEqual(plain.data);
      expect(reference.counters).toEqual(plain.counters);
    }
  });

  it("adds on the drain path the psums of PEs that share an output tile: two drains, one sum, the last returns it", () => {
    const { reference, fast } = bothModes((mode: SimMode) => {
      const h = arrayWithNoc(mode, true);
      // Row 0 holds 1s, row 1 holds 2147483647s (2 psums per PE); the PEs of a column share an output tile.
      const fill = (id: number, row: number, value: number) =>
        h.s.send(h.cmd, { op: "fill", id, part: "psum", pes: h.pe.row(row), box: span(0, 2), value, tags: { space: 3, rowStride: 0, colStride: 2, strides: [1] } });
      fill(1, 0, 1);
      fill(2, 1, 2147483647);
      const slot = Int32Array.from({ length: 3 }, (_, j) => 2 * j);
      const drain = (id: number, row: number, last: boolean) => ({
        op: "drain" as const, id, part: "psum" as const, pes: h.pe.row(row), box: span(0, 2), expect: { space: 3, rowStride: 0, colStride: 2, strides: [1] }, sum: { id: 99, words: 6, slot, last },
      });
      h.s.send(h.nocCmd, drain(3, 0, false), 10);
      h.s.send(h.nocCmd, drain(4, 1, true), 10);
      h.e.run({ maxCycles: 1000 });
      const by = (id: number) => h.s.on("nocResp").map((r) => r.msg as NocResponse).find((m) => m.id === id)!;
      return { first: by(3).payload === undefined, data: Array.from(by(4).payload!.data), tags: Array.from(by(4).payload!.tags!), counters: h.e.counters.values() };
    });
    expect(fast).toEqual(reference);
    expect(reference.first).toBe(true);
    expect(reference.data).toEqual(new Array(6).fill(-2147483648)); // 1 + 2147483647 wraps
    expect(reference.tags).toEqual(Array.from(tags(3, 0, 6)));
    expect(reference.counters["noc.drain.psum"]).toBe(12);
    expect(reference.counters["noc.add.psum"]).toBe(6);
  });

  it("sums one part into its slots, in order (the part's words), apart (the words move) or shared (they add), unchecked", () => {
    // Row 0's three PEs hold [10j, 10j + 1] (j their column); one drain of the row is the whole sum.
    const run = (slot: Int32Array, words = 6) =>
      bothModes((mode: SimMode) => {
        const h = arrayWithNoc(mode, false);
        for (let j = 0; j < 3; j++) {
          h.s.send(h.cmd, { op: "fill", id: 1 + 2 * j, part: "psum", pes: h.pe.one(0, j), box: span(0, 1), value: 10 * j });
          h.s.send(h.cmd, { op: "fill", id: 2 + 2 * j, part: "psum", pes: h.pe.one(0, j), box: span(1, 1), value: 10 * j + 1 });
        }
        h.s.send(h.nocCmd, { op: "drain", id: 9, part: "psum", pes: h.pe.row(0), box: span(0, 2), sum: { id: 5, words, slot, last: true } }, 10);
        h.e.run({ maxCycles: 1000 });
        const m = h.s.on("nocResp").map((r) => r.msg as NocResponse).find((r) => r.id === 9)!;
        return { data: Array.from(m.payload!.data), adds: h.e.counters.value("noc.add.psum"), drained: h.e.counters.value("noc.drain.psum") };
      });
    const inOrder = run(Int32Array.of(0, 2, 4));
    expect(inOrder.fast).toEqual(inOrder.reference);
    expect(inOrder.reference).toEqual({ data: [0, 1, 10, 11, 20, 21], adds: 0, drained: 6 });
    const moved = run(Int32Array.of(4, 0, 2));
    expect(moved.fast).toEqual(moved.reference);
    expect(moved.reference).toEqual({ data: [10, 11, 20, 21, 0, 1], adds: 0, drained: 6 });
    // A slot the part fills twice (two PEs of one output tile) adds, as a sum of several parts does.
    const shared = run(Int32Array.of(0, 0, 2), 4);
    expect(shared.fast).toEqual(shared.reference);
    expect(shared.reference).toEqual({ data: [10, 12, 20, 21], adds: 2, drained: 6 });
    // Slots that leave words of the sum untouched leave them 0.
    const gaps = run(Int32Array.of(6, 0, 3), 9);
    expect(gaps.reference).toEqual({ data: [10, 11, 0, 20, 21, 0, 0, 1, 0], adds: 0, drained: 6 });
  });

  it("refuses a sum whose slots reach outside it or overlap one another", () => {
    const run = (slot: Int32Array, words: number) => {
      const h = arrayWithNoc("fast", true);
      h.s.send(h.cmd, { op: "fill", id: 1, part: "psum", pes: h.pe.row(0), box: span(0, 2), value: 1, tags: { space: 3, rowStride: 0, colStride: 2, strides: [1] } });
      h.s.send(h.nocCmd, { op: "drain", id: 2, part: "psum", pes: h.pe.row(0), box: span(0, 2), expect: { space: 3, rowStride: 0, colStride: 2, strides: [1] }, sum: { id: 7, words, slot, last: true } }, 10);
      return () => h.e.run({ maxCycles: 1000 });
    };
    expect(run(Int32Array.of(0, 2, 4), 6)).not.toThrow();
    expect(run(Int32Array.of(0, 2, 5), 6)).toThrow(/drain 2: slot 5 outside a sum of 6 words/);
    expect(run(Int32Array.of(0, -1, 4), 6)).toThrow(/slot -1 outside a sum/);
    expect(run(Int32Array.of(0, 1, 4), 6)).toThrow(/drain 2: slot 1 overlaps another slot of its sum/);
  });

  it("shifts words east over neighbour links in n + 1 cycles", () => {
    const h = arrayWithNoc("fast", true);
    h.s.send(h.nocCmd, { op: "deliver", id: 1, part: "input", pes: h.pe.one(0, 0), box: span(0, 3), payload: { data: Int16Array.of(4, 5, 6), tags: tags(1, 0, 3) } });
    h.s.send(h.nocCmd, { op: "link", id: 2, link: { kind: "shift", part: "input", pes: h.pe.one(0, 0), dir: "east", src: span(0, 3), dst: span(5, 3), expect: { space: 1, strides: [1] } } }, 10);
    h.e.run({ maxCycles: 1000 });
    const link = h.s.on("nocResp").find((r) => (r.msg as NocResponse).op === "link")!.msg as NocResponse;
    expect(link.completedAt).toBe(11 + 4 - 1);
    expect(Array.from(h.pe.pe(0, 1).contents("input").slice(5, 8))).toEqual([4, 5, 6]);
    expect(h.e.counters.value("noc.link.input")).toBe(3);
  });

  it("reduces partial sums up a column (n + L - 1 cycles), int32 wrap-around", () => {
    const { reference, fast } = bothModes((mode: SimMode) => {
      const h = arrayWithNoc(mode, true);
      // Both rows hold partial sums of the same 2 outputs per column.
      h.s.send(h.cmd, { op: "fill", id: 1, part: "psum", pes: h.pe.row(0), box: span(0, 2), value: 2147483647, tags: { space: 3, colStride: 2, strides: [1] } });
      h.s.send(h.cmd, { op: "fill", id: 2, part: "psum", pes: h.pe.row(1), box: span(0, 2), value: 5, tags: { space: 3, colStride: 2, strides: [1] } });
      h.s.send(h.nocCmd, { op: "link", id: 3, link: { kind: "reduce", part: "psum", pes: h.pe.all(), dir: "north", box: span(0, 2), expect: { space: 3, colStride: 2, strides: [1] } } }, 10);
      const r = h.e.run({ maxCycles: 1000 });
      const m = h.s.on("nocResp")[0]!.msg as NocResponse;
      return { cycles: r.cycles, done: m.completedAt, top: Array.from(h.pe.pe(0, 2).contents("psum").slice(0, 2)), counters: h.e.counters.values() };
    });
    expect(fast).toEqual(reference);
    expect(reference.done).toBe(11 + (2 + 2 - 1) - 1);
    expect(reference.top).toEqual([-2147483644, -2147483644]);
    expect(reference.counters["noc.link.psum"]).toBe(2 * 1 * 3);
    expect(reference.counters["rf.read.psum"]).toBe(2 * 2 * 3);
    expect(reference.counters["rf.write.psum"]).toBe(2 * 3);
  });

  it("refuses link operations when the array has no neighbour links", () => {
    const h = arrayWithNoc("fast", false, ARRAY, RF, { ...NOC, neighbourLinks: false });
    h.s.send(h.nocCmd, { op: "link", id: 1, link: { kind: "shift", part: "input", pes: h.pe.one(0, 0), dir: "east", src: span(0, 1), dst: span(0, 1) } });
    expect(() => h.e.run({ maxCycles: 100 })).toThrow(InvariantError);
    expect(() => new Noc(new Engine(), { noc: { ...NOC, drainWordsPerCycle: 0 }, array: ARRAY, rf: RF })).toThrow(ConfigError);
  });

  it("refuses a shift off the edge of the array", () => {
    const h = arrayWithNoc("fast", false);
    h.s.send(h.nocCmd, { op: "link", id: 1, link: { kind: "shift", part: "input", pes: h.pe.col(2), dir: "east", src: span(0, 1), dst: span(0, 1) } });
    expect(() => h.e.run({ maxCycles: 100 })).toThrow(/not inside the 2 x 3 array/);
  });
});
