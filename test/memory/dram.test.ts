import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ConfigError, Engine, InvariantError, tagOf, type SimMode } from "../../src/core/index.js";
import { burstsPerCycleOf, DramChannel, type DramRequest, type DramResponse } from "../../src/memory/index.js";
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

  it("loads a copy of the caller's array, or with adopt the array itself", () => {
    const { dram } = setup("fast", SPEC, false);
    const mine = Int8Array.from([1, 2, 3]);
    dram.load("x", "input", mine);
    const handed = Int8Array.from([4, 5, 6]);
    dram.load("w", "weight", handed, { adopt: true });
    mine[0] = 9;
    handed[0] = 9;
    expect(Array.from(dram.contents("x"))).toEqual([1, 2, 3]);
    expect(Array.from(dram.contents("w"))).toEqual([9, 5, 6]);
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
    expect(() => new DramChannel(new Engine(), { ...SPEC, burstBytes: 2.5 })).toThrow("dram.burstBytes must be a power of two in [1, 65536]; got 2.5");
    expect(() => new DramChannel(new Engine(), { ...SPEC, bytesPerCycle: 2.5 })).toThrow("dram.bytesPerCycle must be an integer in [1, 65536]; got 2.5");
    expect(() => new DramChannel(new Engine(), { ...SPEC, burstsPerCycle: 0 })).toThrow("dram.burstsPerCycle must be an integer in [1, 1024]; got 0");
    expect(() => new DramChannel(new Engine(), { ...SPEC, model: "fast" as never })).toThrow('dram.model must be one of channel, ideal; got "fast"');
  });
});

/** Sends `n` one-row reads of `bytes` int8 elements each (consecutive) in cycle 0; returns the responses. */
function readRows(spec: DramSpec, mode: SimMode, n: number, bytes: number) {
  const { e, s, dram, cmd } = setup(mode, spec, false);
  const x = dram.load("x", "input", Int8Array.from({ length: n * bytes }, (_, i) => i % 100));
  for (let i = 0; i < n; i++) s.send(cmd, { op: "read", id: i, tensor: x, box: { shape: [bytes], offset: i * bytes, strides: [1] } });
  const r = e.run({ maxCycles: 10_000 });
  return { cycles: r.cycles, resp: s.on("dramResp").map((m) => ({ cycle: m.cycle, msg: plain(m.msg) as DramResponse })), counters: e.counters.values() };
}

describe("DramChannel: several bursts per cycle (dram.burstsPerCycle)", () => {
  const WIDE: DramSpec = { bytesPerCycle: 128, latencyCycles: 20, burstBytes: 64, maxOutstanding: 16 };

  it("defaults to ceil(bytesPerCycle / burstBytes) bursts per cycle, at least 1", () => {
    expect(burstsPerCycleOf(WIDE)).toBe(2);
    expect(burstsPerCycleOf(SPEC)).toBe(1);
    expect(burstsPerCycleOf({ ...WIDE, bytesPerCycle: 96 })).toBe(2);
    expect(burstsPerCycleOf({ ...WIDE, burstsPerCycle: 1 })).toBe(1);
  });

  it("reads 1 KiB at 128 B/cycle in 64-B bursts in 28 cycles with 2 issues per cycle, 36 with 1", () => {
    const { reference, fast } = bothModes((mode) => readRows(WIDE, mode, 1, 1024));
    expect(fast).toEqual(reference);
    // Popped in 1: 16 bursts issue two a cycle in 1..8, their data arrive from 21 on and the bus
    // moves two bursts a cycle: the last is done in 8 + 20 = 28.
    expect(reference.resp[0]!.msg.completedAt).toBe(28);
    const one = readRows({ ...WIDE, burstsPerCycle: 1 }, "fast", 1, 1024);
    // One issue a cycle: issues in 1..16, the last burst done in 16 + 20 = 36 (64 B/cycle).
    expect(one.resp[0]!.msg.completedAt).toBe(36);
    expect(one.counters).toEqual(reference.counters);
  });

  it("pops several one-burst requests in a cycle when the issue stage has room", () => {
    const { reference, fast } = bothModes((mode) => readRows(WIDE, mode, 4, 64));
    expect(fast).toEqual(reference);
    // Four 64-B requests visible in cycle 1: two issue in 1 and two in 2; done two per cycle.
    expect(reference.resp.map((r) => [r.msg.poppedAt, r.msg.completedAt])).toEqual([
      [1, 21],
      [1, 21],
      [2, 22],
      [2, 22],
    ]);
  });

  it("packs bursts on the bus across cycle boundaries: 64-B bursts at 48 B/cycle, 3 bursts in 4 cycles", () => {
    const spec: DramSpec = { bytesPerCycle: 48, latencyCycles: 10, burstBytes: 64, maxOutstanding: 8 };
    const { reference, fast } = bothModes((mode) => readRows(spec, mode, 3, 64));
    expect(fast).toEqual(reference);
    // Issues in 1, 2, 3 (one a cycle: ceil(48 / 64) = 1); data from cycle 11: bytes 0..63 end in
    // cycle 12 (byte time 528 + 64 = 592 -> cycle 12), 64..127 in 13, 128..191 in 14.
    expect(reference.resp.map((r) => r.msg.completedAt)).toEqual([12, 13, 14]);
  });
});

describe("DramChannel, ideal model (dram.model = ideal)", () => {
  const IDEAL: DramSpec = { ...SPEC, model: "ideal" };

  it("completes every request in the cycle it is popped, any number per cycle: sent in t, seen in t + 2", () => {
    const { reference, fast } = bothModes((mode) => readRows(IDEAL, mode, 3, 1024));
    expect(fast).toEqual(reference);
    expect(reference.resp.map((r) => [r.msg.poppedAt, r.msg.completedAt, r.cycle])).toEqual([
      [1, 1, 2],
      [1, 1, 2],
      [1, 1, 2],
    ]);
    expect(reference.cycles).toBe(3);
  });

  it("moves the same words and counts the same bursts and bytes as the channel model", () => {
    const ideal = readRows(IDEAL, "fast", 3, 100);
    const channel = readRows(SPEC, "fast", 3, 100);
    expect(ideal.counters).toEqual(channel.counters);
    expect(ideal.resp.map((r) => r.msg.payload)).toEqual(channel.resp.map((r) => r.msg.payload));
    // Bytes 0..99, 100..199, 200..299: bursts 0-1, 1-3, 3-4.
    expect(ideal.counters["dram.readBursts.input"]).toBe(7);
    expect(ideal.counters["dram.readWaste.input"]).toBe(7 * 64 - 300);
  });

  it("writes then reads back in order", () => {
    const { reference, fast } = bothModes((mode) => {
      const { e, s, dram, cmd } = setup(mode, IDEAL);
      const y = dram.allocate("y", "output", "int32", 16);
      s.send(cmd, { op: "write", id: 1, tensor: y, box: { shape: [4], offset: 0, strides: [1] }, payload: { data: Int32Array.of(5, 6, 7, 8), tags: Float64Array.from({ length: 4 }, (_, i) => tagOf(3, i)) } });
      s.send(cmd, { op: "read", id: 2, tensor: y, box: { shape: [2], offset: 1, strides: [2] }, expect: { space: 3, offset: 1, strides: [2] } });
      e.run({ maxCycles: 100 });
      return plain(s.on("dramResp"));
    });
    expect(fast).toEqual(reference);
    const got = reference as { cycle: number; msg: DramResponse }[];
    expect(got.map((r) => [r.msg.id, r.msg.completedAt])).toEqual([
      [1, 1],
      [2, 1],
    ]);
    expect((got[1]!.msg.payload as unknown as { data: number[] }).data).toEqual([6, 8]);
  });
});

/**
 * An independent cycle-stepping model of the burst pipeline: each cycle, up to P bursts issue in
 * order (a request's bursts once it is visible, at most maxOutstanding in flight), then the bus
 * moves up to bytesPerCycle bytes of the bursts whose data have arrived, in order; a burst is done
 * in the cycle its last byte moves. Returns each request's completion cycle.
 */
function naiveDone(spec: DramSpec, requests: readonly { readonly bursts: number; readonly visible: number }[]): number[] {
  const W = spec.bytesPerCycle;
  const B = spec.burstBytes;
  const P = spec.burstsPerCycle ?? Math.max(1, Math.ceil(W / B));
  const owner = requests.flatMap((r, i) => Array.from({ length: r.bursts }, () => i));
  const ready: number[] = [];
  const done: number[] = [];
  let left = B; // bytes of the burst on the bus still to move
  for (let t = 0; done.length < owner.length; t++) {
    const inflight = ready.length - done.filter((d) => d < t).length;
    for (let k = 0; k < P && ready.length < owner.length && inflight + k < spec.maxOutstanding && requests[owner[ready.length]!]!.visible <= t; k++) {
      ready.push(t + spec.latencyCycles);
    }
    for (let room = W; room > 0 && done.length < ready.length && ready[done.length]! <= t; ) {
      const moved = Math.min(room, left);
      room -= moved;
      left -= moved;
      if (left === 0) {
        done.push(t);
        left = B;
      }
    }
  }
  const out: number[] = [];
  let k = 0;
  for (const r of requests) {
    k += r.bursts;
    out.push(done[k - 1]!);
  }
  return out;
}

describe("DramChannel closed form vs a cycle-stepping model", () => {
  it("agrees on every request's completion cycle, with one or several bursts issued per cycle", () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            bytesPerCycle: fc.constantFrom(1, 3, 4, 8, 16, 24, 64, 128),
            latencyCycles: fc.integer({ min: 1, max: 30 }),
            burstBytes: fc.constantFrom(8, 16, 32, 64),
            maxOutstanding: fc.integer({ min: 1, max: 12 }),
            burstsPerCycle: fc.integer({ min: 1, max: 5 }),
          },
          { requiredKeys: ["bytesPerCycle", "latencyCycles", "burstBytes", "maxOutstanding"] },
        ),
        fc.array(fc.record({ size: fc.integer({ min: 1, max: 200 }), at: fc.integer({ min: 0, max: 40 }) }), { minLength: 1, maxLength: 6 }),
        fc.constantFrom<SimMode>("reference", "fast"),
        (spec, reqs, mode) => {
          const { e, s, dram, cmd } = setup(mode, spec, false);
          const x = dram.load("x", "input", new Int8Array(2048));
          let off = 0;
          let at = 0;
          const visible: number[] = [];
          reqs.forEach((r, i) => {
            at += r.at; // sent in nondecreasing cycles, seen one cycle later
            s.send(cmd, { op: "read", id: i, tensor: x, box: { shape: [r.size], offset: off, strides: [1] } }, at);
            visible.push(at + 1);
            off += r.size;
          });
          e.run({ maxCycles: 1_000_000 });
          const got = s.on("dramResp").map((r) => r.msg as DramResponse);
          const expected = naiveDone(spec, got.map((m, i) => ({ bursts: m.bursts, visible: visible[i]! })));
          expect(got.map((m) => m.completedAt)).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("DramChannel accumulate (a read-modify-write at the memory side)", () => {
  it("reads the box's bursts then writes them back, adds with wrap-around, counts both and the adds", () => {
    const { reference, fast } = bothModes((mode) => {
      const spec: DramSpec = { bytesPerCycle: 16, latencyCycles: 10, burstBytes: 64, maxOutstanding: 4 };
      const { e, s, dram, cmd } = setup(mode, spec);
      const y = dram.allocate("y", "output", "int32", 32);
      const box = { shape: [32], offset: 0, strides: [1] };
      const tags = Float64Array.from({ length: 32 }, (_, i) => tagOf(3, i));
      s.send(cmd, { op: "write", id: 1, tensor: y, box, payload: { data: Int32Array.from({ length: 32 }, (_, i) => (i === 0 ? -2147483648 : i)), tags } });
      s.send(cmd, { op: "accumulate", id: 2, tensor: y, box, payload: { data: Int32Array.from({ length: 32 }, (_, i) => (i === 0 ? -1 : 10 * i)), tags }, expect: { space: 3, offset: 0, strides: [1] } }, 100);
      const r = e.run({ maxCycles: 10_000 });
      return { cycles: r.cycles, resp: plain(s.on("dramResp")), counters: e.counters.values(), words: Array.from(dram.contents(y).slice(0, 3) as Int32Array) };
    });
    expect(fast).toEqual(reference);
    expect(reference.words).toEqual([2147483647, 11, 22]);
    const acc = (reference.resp as { cycle: number; msg: DramResponse }[])[1]!;
    // 128 bytes = 2 bursts, read then written: 4 bursts of 4 bus cycles after the latency.
    expect(acc.msg.bursts).toBe(4);
    expect(acc.msg.completedAt - acc.msg.poppedAt + 1).toBe(10 + 4 * 4);
    const c = reference.counters;
    expect([c["dram.read.output"], c["dram.readBursts.output"], c["dram.write.output"], c["dram.writeBursts.output"], c["dram.add.output"]]).toEqual([32, 2, 64, 4, 32]);
  });

  it("refuses to accumulate into a tensor that is not int32", () => {
    const { e, s, dram, cmd } = setup("fast", SPEC, false);
    const x = dram.load("x", "input", new Int8Array(8));
    s.send(cmd, { op: "accumulate", id: 1, tensor: x, box: { shape: [2], offset: 0, strides: [1] }, payload: { data: new Int8Array(2) } });
    expect(() => e.run({ maxCycles: 1000 })).toThrow(InvariantError);
  });
});
