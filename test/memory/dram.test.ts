import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ConfigError, Engine, InvariantError, tagOf, type SimMode } from "../../src/core/index.js";
import { DramChannel, type DramRequest, type DramResponse } from "../../src/memory/index.js";
import type { DramSpec } from "../../src/arch/spec.js";
import { Stub, bothModes, plain } from "../core/stub.js";

const SPEC: DramSpec = { bytesPerCycle: 16, latencyCycles: 100, burstBytes: 64, maxOutstanding: 4 };

function setup(mode: SimMode, spec: DramSpec = SPEC, checked = true) {
  const e = new Engine({ mode, checked });
  const s = new Stub(e);
  const dram = new DramChannel(e, spec);
  const cmd = s.out<DramRequest>("dram");
  e.connect(cmd, dram.cmd, { capacity: 8 });
  e.connect(dram.resp, s.in<DramResponse>("dramResp"), { capacity: 8 });
  return { e, s, dram, cmd };
}

describe("DramChannel timing (docs/timing.md worked examples)", () => {
  it("reads 1 KiB at 16 B/cycle, latency 100, 64-B bursts, 4 outstanding in 428 cycles from pop", () => {
    const { reference, fast } = bothModes((mode) => {
      const { e, s, dram, cmd } = setup(mode);
      const x = dram.load("x", "input", Int8Array.from({ length: 1024 }, (_, i) => (i % 251) - 125), { space: 1 });
      s.send(cmd, { op: "read", id: 1, tensor: x, box: { shape: [1024], offset: 0, strides: [1] }, expect: { space: 1, offset: 0, strides: [1] } });
      const r = e.run({ maxCycles: 10_000 });
      return { cycles: r.cycles, resp: plain(s.on("dramResp")), counters: e.counters.values() };
    });
    expect(fast).toEqual(reference);
    const resp = (reference.resp as { cycle: number; msg: DramResponse }[])[0]!;
    // Sent in cycle 0, popped in cycle 1, last burst done in 1 + 427 = 428, seen by the driver in 429.
    expect(resp.msg.poppedAt).toBe(1);
    expect(resp.msg.completedAt).toBe(428);
    expect(resp.cycle).toBe(429);
    expect(resp.msg.bursts).toBe(16);
    expect(Array.from(resp.msg.payload!.data as unknown as number[]).slice(0, 3)).toEqual([-125, -124, -123]);
    expect(reference.counters["dram.read.input"]).toBe(1024);
    expect(reference.counters["dram.readBytes.input"]).toBe(1024);
    expect(reference.counters["dram.readBursts.input"]).toBe(16);
    expect(reference.counters["dram.readWaste.input"]).toBe(0);
  });

  it("is bandwidth-bound with enough outstanding bursts: 1 KiB in latency + 64 bus cycles", () => {
    const { e, s, dram, cmd } = setup("fast", { ...SPEC, maxOutstanding: 32 });
    const x = dram.load("x", "input", new Int8Array(1024), { space: 1 });
    s.send(cmd, { op: "read", id: 1, tensor: x, box: { shape: [1024], offset: 0, strides: [1] }, expect: { space: 1, offset: 0, strides: [1] } });
    e.run({ maxCycles: 10_000 });
    const m = s.on("dramResp")[0]!.msg as DramResponse;
    // First burst's data in cycles 101..104, then back to back: done = 1 + 100 + 16 * 4 - 1.
    expect(m.completedAt - m.poppedAt + 1).toBe(164);
  });

  it("splits requests into aligned bursts and counts the waste", () => {
    const { e, s, dram, cmd } = setup("fast", SPEC, false);
    const x = dram.load("x", "weight", new Int8Array(1000));
    const y = dram.load("y", "weight", new Int16Array(100));
    expect(x.baseAddress).toBe(0);
    expect(y.baseAddress).toBe(1024); // 1000 rounded up to the 64-byte burst
    s.send(cmd, { op: "read", id: 1, tensor: x, box: { shape: [100], offset: 10, strides: [1] } }); // bytes 10..109: bursts 0, 1
    s.send(cmd, { op: "read", id: 2, tensor: x, box: { shape: [4], offset: 0, strides: [100] } }); // bytes 0, 100, 200, 300: bursts 0, 1, 3, 4
    s.send(cmd, { op: "read", id: 3, tensor: x, box: { shape: [2, 32], offset: 0, strides: [32, 1] } }); // two rows sharing... bytes 0..63: burst 0 once
    e.run({ maxCycles: 100_000 });
    const bursts = s.on("dramResp").map((r) => (r.msg as DramResponse).bursts);
    expect(bursts).toEqual([2, 4, 1]);
    expect(e.counters.value("dram.readBursts.weight")).toBe(7);
    expect(e.counters.value("dram.readWaste.weight")).toBe(2 * 64 - 100 + (4 * 64 - 4) + 0);
  });

  it("writes then reads back (FIFO order), and counts writes", () => {
    const { reference, fast } = bothModes((mode) => {
      const { e, s, dram, cmd } = setup(mode);
      const y = dram.allocate("y", "output", "int32", 40);
      const data = Int32Array.from({ length: 8 }, (_, i) => i * 1000 - 3);
      const tags = Float64Array.from({ length: 8 }, (_, i) => tagOf(3, 10 + i));
      s.send(cmd, { op: "write", id: 1, tensor: y, box: { shape: [8], offset: 10, strides: [1] }, payload: { data, tags } });
      s.send(cmd, { op: "read", id: 2, tensor: y, box: { shape: [4], offset: 10, strides: [2] }, expect: { space: 3, offset: 10, strides: [2] } });
      const r = e.run({ maxCycles: 10_000 });
      return { cycles: r.cycles, resp: plain(s.on("dramResp")), counters: e.counters.values(), y: Array.from(dram.contents(y)) };
    });
    expect(fast).toEqual(reference);
    const got = (reference.resp as { msg: DramResponse }[]).map((r) => r.msg);
    expect(got.map((m) => m.id)).toEqual([1, 2]);
    expect((got[1]!.payload as unknown as { data: number[] }).data).toEqual([-3, 1997, 3997, 5997]);
    expect(reference.y.slice(10, 18)).toEqual([-3, 997, 1997, 2997, 3997, 4997, 5997, 6997]);
    expect(reference.counters["dram.write.output"]).toBe(8);
    expect(reference.counters["dram.writeBytes.output"]).toBe(32);
  });

  it("checked mode: reading a word never written throws with address and both tags", () => {
    const { e, s, dram, cmd } = setup("fast");
    e.nameTagSpace(3, "y");
    const y = dram.allocate("y", "output", "int32", 16);
    s.send(cmd, { op: "read", id: 1, tensor: y, box: { shape: [4], offset: 0, strides: [1] }, expect: { space: 3, offset: 0, strides: [1] } });
    expect(() => e.run({ maxCycles: 1000 })).toThrow(InvariantError);
  });

  it("checked mode: a stale tile (tags of another tile) is caught", () => {
    const { e, s, dram, cmd } = setup("fast");
    e.nameTagSpace(1, "x");
    const x = dram.load("x", "input", new Int8Array(64), { space: 1 });
    // The driver believes it reads elements 32..35 but addresses 0..3.
    s.send(cmd, { op: "read", id: 1, tensor: x, box: { shape: [4], offset: 0, strides: [1] }, expect: { space: 1, offset: 32, strides: [1] } });
    expect(() => e.run({ maxCycles: 1000 })).toThrow("dram: checked read of x[0] (byte address 0) expected x[32] but the word holds x[0]");
  });

  it("validates its spec with path, value and rule", () => {
    const e = new Engine();
    expect(() => new DramChannel(e, { ...SPEC, maxOutstanding: 0 })).toThrow(ConfigError);
    expect(() => new DramChannel(new Engine(), { ...SPEC, burstBytes: 2.5 })).toThrow("dram.burstBytes must be a positive integer; got 2.5");
  });
});

/** An independent cycle-stepping model of the burst pipeline (one request stream from cycle `start`). */
function naiveDone(spec: DramSpec, bursts: number[], start: number): number[] {
  const D = Math.ceil(spec.burstBytes / spec.bytesPerCycle);
  const total = bursts.reduce((a, b) => a + b, 0);
  const ready: number[] = [];
  const done: number[] = [];
  let issued = 0;
  let onBus = 0;
  let busUntil = -1;
  for (let t = start; done.length < total; t++) {
    const inflight = issued - done.filter((d) => d < t).length;
    if (issued < total && inflight < spec.maxOutstanding) {
      ready.push(t + spec.latencyCycles);
      issued++;
    }
    if (busUntil < t && onBus < issued && ready[onBus]! <= t) {
      busUntil = t + D - 1;
      done.push(busUntil);
      onBus++;
    }
  }
  const out: number[] = [];
  let k = 0;
  for (const b of bursts) {
    k += b;
    out.push(done[k - 1]!);
  }
  return out;
}

describe("DramChannel closed form vs a cycle-stepping model", () => {
  it("agrees on every request's completion cycle", () => {
    fc.assert(
      fc.property(
        fc.record({
          bytesPerCycle: fc.constantFrom(1, 4, 8, 16, 3),
          latencyCycles: fc.integer({ min: 0, max: 30 }),
          burstBytes: fc.constantFrom(8, 16, 32, 64),
          maxOutstanding: fc.integer({ min: 1, max: 6 }),
        }),
        fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 4 }),
        fc.constantFrom<SimMode>("reference", "fast"),
        (spec, sizes, mode) => {
          const { e, s, dram, cmd } = setup(mode, spec, false);
          const x = dram.load("x", "input", new Int8Array(1024));
          let off = 0;
          sizes.forEach((n, i) => {
            s.send(cmd, { op: "read", id: i, tensor: x, box: { shape: [n], offset: off, strides: [1] } });
            off += n;
          });
          e.run({ maxCycles: 1_000_000 });
          const got = s.on("dramResp").map((r) => r.msg as DramResponse);
          expect(naiveDone(spec, got.map((m) => m.bursts), 1)).toEqual(got.map((m) => m.completedAt));
        },
      ),
      { numRuns: 150 },
    );
  });
});
