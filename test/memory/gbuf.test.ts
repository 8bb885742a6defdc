import { describe, expect, it } from "vitest";
import { ConfigError, Engine, InvariantError, tagOf, type SimMode } from "../../src/core/index.js";
import { GlobalBuffer, type GbufRequest, type GbufResponse } from "../../src/memory/index.js";
import type { GlobalBufferSpec } from "../../src/arch/spec.js";
import { Stub, bothModes, plain } from "../core/stub.js";

const SPEC: GlobalBufferSpec = { capacityBytes: 4096, banks: 8, bankWordBytes: 8, wordsPerCyclePerBank: 1, readPorts: 4, writePorts: 2 };

function setup(mode: SimMode, spec = SPEC, checked = true) {
  const e = new Engine({ mode, checked });
  const s = new Stub(e);
  const gbuf = new GlobalBuffer(e, spec);
  const cmd = s.out<GbufRequest>("gbuf");
  e.connect(cmd, gbuf.cmd, { capacity: 8 });
  e.connect(gbuf.resp, s.in<GbufResponse>("gbufResp"), { capacity: 8 });
  return { e, s, gbuf, cmd };
}

const tagsFor = (space: number, first: number, n: number, stride = 1) => Float64Array.from({ length: n }, (_, i) => tagOf(space, first + i * stride));

describe("GlobalBuffer timing (docs/timing.md worked examples)", () => {
  it("reads 64 contiguous int16 (16 bank words, 4 ports, 8 banks) in 4 cycles without conflicts", () => {
    const { reference, fast } = bothModes((mode) => {
      const { e, s, gbuf, cmd } = setup(mode);
      const r = gbuf.allocate("in", "input", "int16", 512);
      const data = Int16Array.from({ length: 64 }, (_, i) => i - 20);
      s.send(cmd, { op: "write", id: 1, region: r, box: { shape: [64], offset: 0, strides: [1] }, payload: { data, tags: tagsFor(1, 0, 64) } });
      s.send(cmd, { op: "read", id: 2, region: r, box: { shape: [64], offset: 0, strides: [1] }, expect: { space: 1, offset: 0, strides: [1] } }, 20);
      const res = e.run({ maxCycles: 1000 });
      return { cycles: res.cycles, resp: plain(s.on("gbufResp")), counters: e.counters.values() };
    });
    expect(fast).toEqual(reference);
    const [w, rd] = (reference.resp as { cycle: number; msg: GbufResponse }[]).map((x) => x);
    expect(w!.msg.cycles).toBe(8); // 16 words over 2 write ports
    expect(w!.msg.conflictCycles).toBe(0);
    expect(rd!.msg.cycles).toBe(4);
    expect(rd!.msg.conflictCycles).toBe(0);
    // Sent in cycle 20, popped in 21, occupies 21..24, done in 24, seen in 25.
    expect(rd!.msg.completedAt).toBe(24);
    expect(rd!.cycle).toBe(25);
    expect((rd!.msg.payload as unknown as { data: number[] }).data.slice(0, 3)).toEqual([-20, -19, -18]);
    expect(reference.counters["gbuf.read.input"]).toBe(64);
    expect(reference.counters["gbuf.readBytes.input"]).toBe(128);
    expect(reference.counters["gbuf.bankReads.input"]).toBe(16);
    expect(reference.counters["gbuf.write.input"]).toBe(64);
  });

  it("charges bank conflicts: elements 32 apart (every 8th word, all in bank 0) take one cycle each", () => {
    const { e, s, gbuf, cmd } = setup("fast", SPEC, false);
    const r = gbuf.allocate("in", "input", "int16", 512);
    s.send(cmd, { op: "read", id: 1, region: r, box: { shape: [8], offset: 0, strides: [32] } });
    s.send(cmd, { op: "read", id: 2, region: r, box: { shape: [8], offset: 0, strides: [4] } }); // words 0..7: 8 banks
    e.run({ maxCycles: 1000 });
    const [a, b] = s.on("gbufResp").map((x) => x.msg as GbufResponse);
    expect(a!.cycles).toBe(8);
    expect(a!.conflictCycles).toBe(6);
    expect(b!.cycles).toBe(2);
    expect(b!.conflictCycles).toBe(0);
    expect(e.counters.value("gbuf.readConflictCycles.input")).toBe(6);
  });

  it("lets a bank serve several words per cycle when wordsPerCyclePerBank > 1", () => {
    const { e, s, gbuf, cmd } = setup("fast", { ...SPEC, wordsPerCyclePerBank: 2 }, false);
    const r = gbuf.allocate("in", "input", "int16", 512);
    s.send(cmd, { op: "read", id: 1, region: r, box: { shape: [8], offset: 0, strides: [32] } });
    e.run({ maxCycles: 1000 });
    expect((s.on("gbufResp")[0]!.msg as GbufResponse).cycles).toBe(4);
  });
});

describe("GlobalBuffer regions", () => {
  it("allocates double-buffered regions aligned to bank words and rejects overflow", () => {
    const { gbuf } = setup("fast");
    const [a, b] = gbuf.allocateDouble("w", "weight", "int8", 1001);
    expect(a.baseAddress).toBe(0);
    expect(b.baseAddress).toBe(1008);
    expect(gbuf.freeBytes).toBe(4096 - 2009);
    expect(() => gbuf.allocate("psum", "psum", "int32", 600)).toThrow(ConfigError);
    expect(() => gbuf.allocate("psum2", "psum", "int32", 600)).toThrow(
      "gbuf.capacityBytes must hold region psum2 (600 x int32 = 2400 B) on top of the 2016 B already allocated; got 4096",
    );
  });

  it("validates its spec: gbuf.banks must be a power of two", () => {
    expect(() => new GlobalBuffer(new Engine(), { ...SPEC, banks: 6 })).toThrow("gbuf.banks must be a power of two in [1, 4096]; got 6");
    expect(() => new GlobalBuffer(new Engine(), { ...SPEC, capacityBytes: 100 })).toThrow(ConfigError);
    expect(() => new GlobalBuffer(new Engine(), { ...SPEC, model: "flat" as never })).toThrow('gbuf.model must be one of banked, ideal; got "flat"');
  });

  it("checked mode: reading a tile that was replaced by another throws with bank, address and both tags", () => {
    const { e, s, gbuf, cmd } = setup("fast");
    e.nameTagSpace(1, "x");
    const r = gbuf.allocate("in", "input", "int8", 64);
    // Tile 1 (x[0..15]) then tile 2 (x[100..115]) written at the same place; the reader still expects tile 1.
    s.send(cmd, { op: "write", id: 1, region: r, box: { shape: [16], offset: 0, strides: [1] }, payload: { data: new Int8Array(16), tags: tagsFor(1, 0, 16) } });
    s.send(cmd, { op: "write", id: 2, region: r, box: { shape: [16], offset: 0, strides: [1] }, payload: { data: new Int8Array(16), tags: tagsFor(1, 100, 16) } });
    s.send(cmd, { op: "read", id: 3, region: r, box: { shape: [16], offset: 0, strides: [1] }, expect: { space: 1, offset: 0, strides: [1] } }, 30);
    expect(() => e.run({ maxCycles: 1000 })).toThrow("gbuf: checked read of in[0] (bank 0, bank word 0) expected x[0] but the word holds x[100]");
  });
});

describe("GlobalBuffer, ideal model (gbuf.model = ideal)", () => {
  /** A write of 512 int16, then (sent in cycle 100, after it) a conflicting strided read and a contiguous one. */
  function scenario(spec: GlobalBufferSpec, mode: SimMode) {
    const { e, s, gbuf, cmd } = setup(mode, spec);
    const r = gbuf.allocate("in", "input", "int16", 512);
    const data = Int16Array.from({ length: 512 }, (_, i) => i - 20);
    s.send(cmd, { op: "write", id: 1, region: r, box: { shape: [512], offset: 0, strides: [1] }, payload: { data, tags: tagsFor(1, 0, 512) } });
    s.send(cmd, { op: "read", id: 2, region: r, box: { shape: [8], offset: 0, strides: [32] }, expect: { space: 1, offset: 0, strides: [32] } }, 100);
    s.send(cmd, { op: "read", id: 3, region: r, box: { shape: [64], offset: 0, strides: [1] }, expect: { space: 1, offset: 0, strides: [1] } }, 100);
    const res = e.run({ maxCycles: 1000 });
    return { cycles: res.cycles, resp: plain(s.on("gbufResp")) as { cycle: number; msg: GbufResponse }[], counters: e.counters.values() };
  }

  it("completes every request in the cycle it is popped, any number per cycle: sent in t, seen in t + 2", () => {
    const { reference, fast } = bothModes((mode) => scenario({ ...SPEC, model: "ideal" }, mode));
    expect(fast).toEqual(reference);
    expect(reference.resp.map((r) => [r.msg.id, r.msg.completedAt, r.cycle, r.msg.cycles, r.msg.conflictCycles])).toEqual([
      [1, 1, 2, 1, 0],
      [2, 101, 102, 1, 0],
      [3, 101, 102, 1, 0],
    ]);
    expect(reference.cycles).toBe(103);
  });

  it("moves the same words and counts the same accesses as the banked model, with no conflict cycles", () => {
    const ideal = scenario({ ...SPEC, model: "ideal" }, "fast");
    const banked = scenario(SPEC, "fast");
    expect(ideal.resp.map((r) => r.msg.payload)).toEqual(banked.resp.map((r) => r.msg.payload));
    const noConflicts = (c: Record<string, number>) => Object.fromEntries(Object.entries(c).filter(([k]) => !k.includes("ConflictCycles")));
    expect(noConflicts(ideal.counters)).toEqual(noConflicts(banked.counters));
    expect(banked.counters["gbuf.readConflictCycles.input"]).toBe(6);
    expect(ideal.counters["gbuf.readConflictCycles.input"]).toBe(0);
    expect(ideal.counters["gbuf.bankReads.input"]).toBe(8 + 16);
    // Banked, the write occupies cycles 1..64 (128 words, 2 ports) and the reads popped in 101
    // take 8 cycles (101..108) and then 4 (109..112): seen in 113, the run ends in 114.
    expect(banked.resp.map((r) => r.msg.completedAt)).toEqual([64, 108, 112]);
    expect(banked.cycles).toBe(114);
  });
});

describe("GlobalBuffer accumulate (the read-modify-write unit at the buffer)", () => {
  it("adds a payload into int32 words in place with wrap-around, counting a read, a write and an add per word", () => {
    const { reference, fast } = bothModes((mode) => {
      const { e, s, gbuf, cmd } = setup(mode);
      const r = gbuf.allocate("y", "output", "int32", 64);
      const box = { shape: [16], offset: 0, strides: [1] };
      const tags = tagsFor(3, 0, 16);
      s.send(cmd, { op: "write", id: 1, region: r, box, payload: { data: Int32Array.from({ length: 16 }, (_, i) => (i === 0 ? 2147483647 : i)), tags } });
      s.send(cmd, { op: "accumulate", id: 2, region: r, box, payload: { data: Int32Array.from({ length: 16 }, (_, i) => (i === 0 ? 5 : 100 * i)), tags }, expect: { space: 3, offset: 0, strides: [1] } }, 20);
      const res = e.run({ maxCycles: 1000 });
      return { cycles: res.cycles, resp: plain(s.on("gbufResp")), counters: e.counters.values(), words: Array.from(gbuf.contents(r).slice(0, 4)) };
    });
    expect(fast).toEqual(reference);
    expect(reference.words).toEqual([-2147483644, 101, 202, 303]);
    const acc = (reference.resp as { cycle: number; msg: GbufResponse }[])[1]!;
    // 16 int32 = 8 bank words: read in 2 cycles (4 ports) beside the write lane's 4 (2 ports)
    // plus the add: sent in 20, popped in 21, done in 25, seen in 26.
    expect(acc.msg.op).toBe("accumulate");
    expect(acc.msg.cycles).toBe(5);
    expect(acc.msg.completedAt).toBe(25);
    expect(acc.cycle).toBe(26);
    const c = reference.counters;
    expect([c["gbuf.read.output"], c["gbuf.bankReads.output"], c["gbuf.write.output"], c["gbuf.bankWrites.output"], c["gbuf.add.output"]]).toEqual([16, 8, 32, 16, 16]);
    expect([c["gbuf.readConflictCycles.output"], c["gbuf.writeConflictCycles.output"]]).toEqual([0, 0]);
  });

  it("holds the read lane for its read side: a read behind it waits", () => {
    const { e, s, gbuf, cmd } = setup("fast", SPEC, false);
    const r = gbuf.allocate("y", "output", "int32", 64);
    const box = { shape: [64], offset: 0, strides: [1] }; // 32 bank words: 8 read cycles
    s.send(cmd, { op: "accumulate", id: 1, region: r, box, payload: { data: new Int32Array(64) } });
    s.send(cmd, { op: "read", id: 2, region: r, box: { shape: [2], offset: 0, strides: [1] } });
    e.run({ maxCycles: 1000 });
    const byId = (id: number) => s.on("gbufResp").map((x) => x.msg as GbufResponse).find((m) => m.id === id)!;
    expect(byId(1).cycles).toBe(17); // 32 bank words over 2 write ports, plus the add
    expect(byId(1).completedAt).toBe(1 + 17 - 1);
    expect(byId(2).completedAt).toBe(1 + 8); // popped in 1, starts behind the 8-cycle read side
  });

  it("refuses to accumulate into a region that is not int32, and needs the expected tags in checked mode", () => {
    const { e, s, gbuf, cmd } = setup("fast");
    const r = gbuf.allocate("x", "input", "int16", 64);
    s.send(cmd, { op: "accumulate", id: 1, region: r, box: { shape: [2], offset: 0, strides: [1] }, payload: { data: new Int16Array(2), tags: new Float64Array(2) } });
    expect(() => e.run({ maxCycles: 100 })).toThrow(/only int32 regions accumulate/);
    const t = setup("fast");
    const y = t.gbuf.allocate("y", "output", "int32", 64);
    t.s.send(t.cmd, { op: "accumulate", id: 1, region: y, box: { shape: [2], offset: 0, strides: [1] }, payload: { data: new Int32Array(2), tags: new Float64Array(2) } });
    expect(() => t.e.run({ maxCycles: 100 })).toThrow(/checked mode needs the expected tags/);
  });
});

describe("GlobalBuffer narrowed regions (gbuf.psumBytes)", () => {
  /** Writes then reads back `n` contiguous int32 values of a region of `eb`-byte elements. */
  function roundTrip(eb: number, values: Int32Array, mode: SimMode = "fast") {
    const { e, s, gbuf, cmd } = setup(mode, SPEC, false);
    const r = gbuf.allocate("y", "output", "int32", 64, eb);
    const box = { shape: [values.length], offset: 0, strides: [1] };
    s.send(cmd, { op: "write", id: 1, region: r, box, payload: { data: values } });
    s.send(cmd, { op: "read", id: 2, region: r, box }, 40);
    const res = e.run({ maxCycles: 1000 });
    const resp = s.on("gbufResp").map((x) => x.msg as GbufResponse);
    return { region: r, free: gbuf.freeBytes, cycles: res.cycles, resp, counters: e.counters.values() };
  }

  it("stores int32 values in 2-byte words: half the bytes and bank-word accesses, the same values", () => {
    const values = Int32Array.from({ length: 64 }, (_, i) => (i % 2 ? -1 : 1) * i * 500);
    const narrow = roundTrip(2, values);
    const wide = roundTrip(4, values);
    expect(narrow.region.bytes).toBe(128);
    expect(narrow.free).toBe(4096 - 128);
    expect(Array.from(narrow.resp[1]!.payload!.data)).toEqual(Array.from(values));
    // 64 elements x 2 B = 128 B = 16 bank words of 8 B; at 4 B they are 32.
    expect([narrow.counters["gbuf.write.output"], narrow.counters["gbuf.writeBytes.output"], narrow.counters["gbuf.bankWrites.output"]]).toEqual([64, 128, 16]);
    expect([wide.counters["gbuf.write.output"], wide.counters["gbuf.writeBytes.output"], wide.counters["gbuf.bankWrites.output"]]).toEqual([64, 256, 32]);
    expect(narrow.counters["gbuf.bankReads.output"]).toBe(16);
    expect(narrow.counters["gbuf.readBytes.output"]).toBe(128);
    // 16 words over 2 write ports: 8 cycles (32 words: 16)
    expect([narrow.resp[0]!.cycles, wide.resp[0]!.cycles]).toEqual([8, 16]);
    const both = bothModes((mode) => roundTrip(2, values, mode));
    expect(both.fast).toEqual(both.reference);
  });

  it("counts an access to each bank word a 3-byte word straddles", () => {
    const { e, s, gbuf, cmd } = setup("fast", SPEC, false);
    const r = gbuf.allocate("y", "output", "int32", 16, 3);
    expect(r.bytes).toBe(48);
    // element 2 is bytes 6..8: bank words 0 and 1; elements 0..7 are bytes 0..23: words 0..2
    s.send(cmd, { op: "read", id: 1, region: r, box: { shape: [1], offset: 2, strides: [1] } });
    s.send(cmd, { op: "read", id: 2, region: r, box: { shape: [8], offset: 0, strides: [1] } });
    s.send(cmd, { op: "read", id: 3, region: r, box: { shape: [1], offset: 1, strides: [1] } });
    e.run({ maxCycles: 1000 });
    expect(e.counters.value("gbuf.bankReads.output")).toBe(2 + 3 + 1);
    expect(e.counters.value("gbuf.readBytes.output")).toBe(10 * 3);
  });

  it("refuses a value the narrower word cannot hold, and an element size wider than the type", () => {
    const over = roundTripThrows(Int32Array.of(1, 32767, -32768, 32768));
    expect(over).toThrow(InvariantError);
    expect(over).toThrow("gbuf: write of y: value 32768 does not fit its 2-byte words ([-32768, 32767])");
    expect(roundTripThrows(Int32Array.of(32767, -32768))).not.toThrow();
    const { gbuf } = setup("fast");
    expect(() => gbuf.allocate("y", "output", "int32", 8, 5)).toThrow("gbuf.regions.y.elementBytes must be an integer in [1, 4] (the bytes of int32); got 5");
  });

  function roundTripThrows(values: Int32Array): () => void {
    return () => {
      roundTrip(2, values);
    };
  }
});
