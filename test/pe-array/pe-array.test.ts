import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ConfigError, Engine, InvariantError, tagOf, type SimMode } from "../../src/core/index.js";
import { PeArray, STALL_CAUSES, compileWave, type MacWave, type PeArrayCommand, type PeArrayDone } from "../../src/pe-array/index.js";
import { runWave } from "../../src/pe-array/wave.js";
import { kernelFor } from "../../src/pe-array/wave-kernels.js";
import { RegFile } from "../../src/memory/index.js";
import { CounterRegistry } from "../../src/core/index.js";
import { ARRAY, RF, arrayOnly } from "./harness.js";
import { bothModes } from "../core/stub.js";

const span = (offset: number, n: number) => ({ shape: [n], offset, strides: [1] });
const tags = (space: number, first: number, n: number) => Float64Array.from({ length: n }, (_, i) => tagOf(space, first + i));

/** One PE's 1-D convolution: psum[q] += in[q + s] * w[s], q < 4, s < 3 (Eyeriss RS inner loop). */
const ROW_CONV: MacWave = {
  pes: { row0: 0, col0: 0, rows: 2, cols: 3 },
  loops: [4, 3],
  input: { offset: 0, strides: [1, 1] },
  weight: { offset: 0, strides: [0, 1] },
  psum: { offset: 0, strides: [1, 0] },
  inputZero: 1,
  weightZero: -2,
  expect: {
    input: { space: 1, rowStride: 100, colStride: 10, strides: [1, 1] },
    weight: { space: 2, colStride: 3, strides: [0, 1] },
    psum: { space: 3, rowStride: 40, colStride: 4, strides: [1, 0] },
  },
};

function loadRowConv(mode: SimMode, array = ARRAY) {
  const h = arrayOnly(mode, true, array);
  const { s, noc, cmd } = h;
  // Inputs: PE (r, c) gets its own 6 inputs, values r*7 + c*3 + i - 5, tags x[100r + 10c + i].
  for (let r = 0; r < 2; r++)
    for (let c = 0; c < 3; c++) {
      const data = Int16Array.from({ length: 6 }, (_, i) => r * 7 + c * 3 + i - 5);
      s.send(noc, { op: "write", part: "input", pes: { row0: r, col0: c, rows: 1, cols: 1 }, box: span(0, 6), payload: { data, tags: tags(1, 100 * r + 10 * c, 6) }, perPe: false });
    }
  // Weights: one column each (multicast down the column).
  for (let c = 0; c < 3; c++) {
    const data = Int8Array.from({ length: 3 }, (_, i) => c - i * 2);
    s.send(noc, { op: "write", part: "weight", pes: { row0: 0, col0: c, rows: 2, cols: 1 }, box: span(0, 3), payload: { data, tags: tags(2, 3 * c, 3) }, perPe: false });
  }
  s.send(cmd, { op: "fill", id: 1, part: "psum", pes: { row0: 0, col0: 0, rows: 2, cols: 3 }, box: span(0, 4), value: 0, tags: { space: 3, rowStride: 40, colStride: 4, strides: [1] } });
  return h;
}

/** Loads the row convolution, sends `cmd` in cycle 5, runs, and collects what the tests check. */
function runRowConv(mode: SimMode, cmd: PeArrayCommand) {
  const h = loadRowConv(mode);
  h.s.send(h.cmd, cmd, 5);
  const r = h.e.run({ maxCycles: 1000 });
  const psums = [0, 1].flatMap((row) => [0, 1, 2].map((col) => Array.from(h.pe.pe(row, col).contents("psum").slice(0, 4))));
  return { cycles: r.cycles, done: h.s.on("done").map((d) => [d.cycle, (d.msg as PeArrayDone).completedAt]), counters: h.e.counters.values(), psums };
}

function expectedRowConv(r: number, c: number): number[] {
  const out: number[] = [];
  for (let q = 0; q < 4; q++) {
    let acc = 0;
    for (let s = 0; s < 3; s++) acc += (r * 7 + c * 3 + q + s - 5 - 1) * (c - s * 2 + 2);
    out.push(acc);
  }
  return out;
}

describe("PeArray MAC waves", () => {
  it("runs a wave with exact timing (T = 12, m = 1, L = 2) and values, identically in both modes", () => {
    const { reference, fast } = bothModes((mode) => runRowConv(mode, { op: "wave", id: 2, wave: ROW_CONV }));
    expect(fast).toEqual(reference);
    // fill (4 entries, 1 write port) popped in 1, done in 4; wave sent in 5, popped in 6,
    // issues in 6..17 (12 MACs), pipeline 18..19, done in 19, seen in 20.
    expect(reference.done).toEqual([
      [5, 4],
      [20, 19],
    ]);
    expect(reference.psums).toEqual([0, 1].flatMap((r) => [0, 1, 2].map((c) => expectedRowConv(r, c))));
    const c = reference.counters;
    expect(c["pe.mac"]).toBe(12 * 6);
    expect(c["rf.read.input"]).toBe(72);
    expect(c["rf.read.weight"]).toBe(72);
    expect(c["rf.read.psum"]).toBe(4 * 6); // one accumulator run per output
    expect(c["rf.write.psum"]).toBe(4 * 6);
    expect(c["rf.fill.psum"]).toBe(24);
    expect(c["rf.write.input"]).toBe(36);
    expect(c["rf.write.weight"]).toBe(18);
    // Stall attribution: every PE-cycle accounted once.
    const total = c["pe.busy"]! + STALL_CAUSES.reduce((a, k) => a + c[`pe.idle.${k}`]!, 0);
    expect(total).toBe(6 * reference.cycles);
    expect(c["pe.busy"]).toBe(12 * 6);
    expect(c["pe.idle.pipeline"]).toBe(2 * 6);
  });

  it("issues macsPerCycle MACs per cycle when the RF has the read ports", () => {
    const h = loadRowConv("fast", { ...ARRAY, macsPerCycle: 2 });
    expect(() => new PeArray(new Engine(), { array: { ...ARRAY, macsPerCycle: 2 }, rf: RF })).not.toThrow();
    expect(h.pe.macsPerIssue).toBe(1); // 2 read ports: one MAC per cycle
    const e = new Engine();
    const pe4 = new PeArray(e, { array: { ...ARRAY, macsPerCycle: 2 }, rf: { ...RF, readPorts: 4 } });
    expect(pe4.macsPerIssue).toBe(2);
  });

  it("attributes idle cycles to the reason the driver posts, and unmapped PEs", () => {
    const h = loadRowConv("fast");
    h.s.send(h.why, "dram", 0);
    h.s.send(h.cmd, { op: "wave", id: 2, wave: { ...ROW_CONV, pes: { row0: 0, col0: 0, rows: 1, cols: 3 }, expect: ROW_CONV.expect } }, 30);
    const r = h.e.run({ maxCycles: 1000 });
    const c = h.e.counters.values();
    expect(c["pe.busy"]).toBe(12 * 3);
    expect(c["pe.idle.unmapped"]).toBe(12 * 3);
    // Reason "dram" visible from cycle 1; wave popped in 31: cycles 1..30 idle for dram.
    expect(c["pe.idle.dram"]).toBe(30 * 6 + (r.cycles - 45) * 6);
    expect(c["pe.idle.control"]).toBe(6);
  });

  it("runs waves on disjoint rectangles together: the longest sets the time, the counts add up", () => {
    const e = ROW_CONV.expect!;
    // Row 0: the whole 4 x 3 nest (12 MACs); row 1: its first 2 outputs (6 MACs), tags shifted a row.
    const top: MacWave = { ...ROW_CONV, pes: { row0: 0, col0: 0, rows: 1, cols: 3 } };
    const bottom: MacWave = {
      ...ROW_CONV,
      pes: { row0: 1, col0: 0, rows: 1, cols: 3 },
      loops: [2, 3],
      expect: { input: { ...e.input, offset: 100 }, weight: e.weight, psum: { ...e.psum, offset: 40 } },
    };
    const { reference, fast } = bothModes((mode) => runRowConv(mode, { op: "wave", id: 2, wave: bottom, alongside: [top] }));
    expect(fast).toEqual(reference);
    // As one 12-MAC wave: issues in 6..17, pipeline 18..19, done in 19, seen in 20.
    expect(reference.done).toEqual([
      [5, 4],
      [20, 19],
    ]);
    expect(reference.psums).toEqual([
      ...[0, 1, 2].map((c) => expectedRowConv(0, c)),
      ...[0, 1, 2].map((c) => [...expectedRowConv(1, c).slice(0, 2), 0, 0]),
    ]);
    const c = reference.counters;
    expect(c["pe.mac"]).toBe(12 * 3 + 6 * 3);
    expect(c["rf.read.input"]).toBe(54);
    expect(c["rf.read.psum"]).toBe(4 * 3 + 2 * 3);
    // Row 1 issues in the first 6 of the 12 issue cycles, then waits for row 0.
    expect(c["pe.busy"]).toBe(12 * 3 + 6 * 3);
    expect(c["pe.idle.unmapped"]).toBe(6 * 3);
    expect(c["pe.idle.pipeline"]).toBe(2 * 6);
    const h = loadRowConv("fast");
    h.s.send(h.cmd, { op: "wave", id: 2, wave: ROW_CONV, alongside: [{ ...ROW_CONV, pes: { row0: 1, col0: 2, rows: 1, cols: 1 } }] }, 5);
    expect(() => h.e.run({ maxCycles: 1000 })).toThrow(/waves 0 and 1 of one command both cover PE 5/);
  });

  it("does a command's fills together: it takes as long as the busiest PE's own fills", () => {
    const { reference, fast } = bothModes((mode) => {
      const h = arrayOnly(mode, false);
      const row = (r: number) => ({ row0: r, col0: 0, rows: 1, cols: 3 });
      // Row 0 fills 4 + 2 entries, row 1 fills 4: with one write port, 6 cycles.
      h.s.send(h.cmd, { op: "fill", id: 1, part: "psum", pes: row(0), box: span(0, 4), value: 0, alongside: [{ part: "input", pes: row(0), box: span(4, 2), value: 7 }, { part: "input", pes: row(1), box: span(0, 4), value: 5 }] });
      h.e.run({ maxCycles: 100 });
      return { done: h.s.on("done").map((d) => (d.msg as PeArrayDone).completedAt), counters: h.e.counters.values(), in0: Array.from(h.pe.pe(0, 2).contents("input").slice(0, 6)), in1: Array.from(h.pe.pe(1, 0).contents("input").slice(0, 6)) };
    });
    expect(fast).toEqual(reference);
    // popped in 1, cycles 1..6, done in 6
    expect(reference.done).toEqual([6]);
    expect(reference.in0).toEqual([0, 0, 0, 0, 7, 7]);
    expect(reference.in1).toEqual([5, 5, 5, 5, 0, 0]);
    expect(reference.counters["rf.fill.psum"]).toBe(12);
    expect(reference.counters["rf.fill.input"]).toBe(6 + 12);
  });

  it("starts a chained wave while the wave before drains its pipeline; that one still reports done after it", () => {
    const run = (chained: boolean) =>
      bothModes((mode) => {
        const h = loadRowConv(mode);
        h.s.send(h.cmd, { op: "wave", id: 2, wave: ROW_CONV }, 5);
        h.s.send(h.cmd, { op: "wave", id: 3, wave: ROW_CONV, ...(chained ? { chained } : {}) }, 10);
        const r = h.e.run({ maxCycles: 1000 });
        const psums = [0, 1].flatMap((row) => [0, 1, 2].map((col) => Array.from(h.pe.pe(row, col).contents("psum").slice(0, 4))));
        return { cycles: r.cycles, done: h.s.on("done").map((d) => [(d.msg as PeArrayDone).id, d.cycle, (d.msg as PeArrayDone).completedAt]), psums, counters: h.e.counters.values() };
      });
    const chained = run(true);
    const plain = run(false);
    expect(chained.fast).toEqual(chained.reference);
    expect(plain.fast).toEqual(plain.reference);
    // Wave 2 popped in 6 issues in 6..17 and drains in 18..19 (done in 19, seen in 20). Chained,
    // wave 3 issues in 18..29 (done in 31); plain, it waits for the drain: 20..31, done in 33.
    expect(chained.reference.done).toEqual([
      [1, 5, 4],
      [2, 20, 19],
      [3, 32, 31],
    ]);
    expect(plain.reference.done.slice(1)).toEqual([
      [2, 20, 19],
      [3, 34, 33],
    ]);
    // The same sums (each wave adds the row convolution once) and counts, but for the idle cycles.
    const twice = [0, 1].flatMap((r) => [0, 1, 2].map((c) => expectedRowConv(r, c).map((v) => 2 * v)));
    expect(chained.reference.psums).toEqual(twice);
    expect(plain.reference.psums).toEqual(twice);
    const c = chained.reference.counters;
    expect(c["pe.busy"]).toBe(2 * 12 * 6);
    expect(c["pe.idle.pipeline"]).toBe(2 * 6); // only wave 3's drain: wave 2's ran under wave 3's issue
    expect(plain.reference.counters["pe.idle.pipeline"]).toBe(2 * 2 * 6);
    const total = c["pe.busy"]! + STALL_CAUSES.reduce((a, k) => a + c[`pe.idle.${k}`]!, 0);
    expect(total).toBe(6 * chained.reference.cycles);
  });

  it("runs a shadow fill beside a wave (the other half of a double-buffered partition), a plain fill after it", () => {
    const { reference, fast } = bothModes((mode) => {
      const h = loadRowConv(mode);
      const all = { row0: 0, col0: 0, rows: 2, cols: 3 };
      // The wave reads input entries 0..5; entries 6..9 are the other half's padding.
      h.s.send(h.cmd, { op: "wave", id: 2, wave: ROW_CONV }, 5);
      h.s.send(h.cmd, { op: "fill", id: 3, part: "input", pes: all, box: span(6, 4), value: 9, shadow: true, tags: { space: 1, rowStride: 100, colStride: 10, strides: [1] } }, 5);
      h.s.send(h.cmd, { op: "fill", id: 4, part: "input", pes: all, box: span(10, 2), value: 4, tags: { space: 1, rowStride: 100, colStride: 10, strides: [1] } }, 5);
      const r = h.e.run({ maxCycles: 1000 });
      const psums = [0, 1].flatMap((row) => [0, 1, 2].map((col) => Array.from(h.pe.pe(row, col).contents("psum").slice(0, 4))));
      return { cycles: r.cycles, done: h.s.on("done").map((d) => [(d.msg as PeArrayDone).id, (d.msg as PeArrayDone).completedAt]), psums, in: Array.from(h.pe.pe(1, 2).contents("input").slice(6, 12)), counters: h.e.counters.values() };
    });
    expect(fast).toEqual(reference);
    // Wave and shadow fill popped in 6: the fill's 4 entries (1 write port) take 6..9; the wave
    // issues in 6..17 and drains its pipeline in 18..19; the plain fill waits for it: 20..21.
    expect(reference.done).toEqual([
      [1, 4],
      [3, 9],
      [2, 19],
      [4, 21],
    ]);
    expect(reference.psums).toEqual([0, 1].flatMap((r) => [0, 1, 2].map((c) => expectedRowConv(r, c))));
    expect(reference.in).toEqual([9, 9, 9, 9, 4, 4]);
    expect(reference.counters["rf.fill.input"]).toBe(6 * 6);
  });

  it("slides a window in one cycle: the words and their tags move, no register access is counted", () => {
    const { reference, fast } = bothModes((mode) => {
      const h = arrayOnly(mode, true);
      const row0 = { row0: 0, col0: 0, rows: 1, cols: 3 };
      h.s.send(h.noc, { op: "write", part: "input", pes: row0, box: span(0, 6), payload: { data: Int16Array.from([1, 2, 3, 4, 5, 6]), tags: tags(1, 10, 6) }, perPe: false });
      // Keep entries 2..5 as entries 0..3 (the window moved two entries on).
      h.s.send(h.cmd, { op: "slide", id: 1, part: "input", pes: row0, src: span(2, 4), dst: span(0, 4) }, 3);
      h.e.run({ maxCycles: 100 });
      return { done: h.s.on("done").map((d) => (d.msg as PeArrayDone).completedAt), counters: h.e.counters.values(), in: Array.from(h.pe.pe(0, 1).contents("input").slice(0, 6)), tag: h.pe.rf.tags!.input[h.pe.rf.entries.input + 0] };
    });
    expect(fast).toEqual(reference);
    expect(reference.done).toEqual([4]); // popped in 4, 1 cycle
    expect(reference.in).toEqual([3, 4, 5, 6, 5, 6]);
    expect(reference.tag).toBe(tagOf(1, 12));
    expect(reference.counters["rf.slide.input"]).toBe(12);
    expect(reference.counters["rf.read.input"]).toBe(0);
    expect(reference.counters["rf.write.input"]).toBe(18);
  });

  it("checked mode: a MAC reading an operand left over from another tile throws", () => {
    const h = loadRowConv("fast");
    h.e.nameTagSpace(1, "x");
    // Overwrite PE (1, 2)'s input entry 3 with x[999] (another tile).
    h.s.send(h.noc, { op: "write", part: "input", pes: { row0: 1, col0: 2, rows: 1, cols: 1 }, box: span(3, 1), payload: { data: new Int16Array(1), tags: tags(1, 999, 1) }, perPe: false }, 2);
    h.s.send(h.cmd, { op: "wave", id: 2, wave: ROW_CONV }, 5);
    expect(() => h.e.run({ maxCycles: 1000 })).toThrow(InvariantError);
    const h2 = loadRowConv("reference");
    h2.e.nameTagSpace(1, "x");
    h2.s.send(h2.noc, { op: "write", part: "input", pes: { row0: 1, col0: 2, rows: 1, cols: 1 }, box: span(3, 1), payload: { data: new Int16Array(1), tags: tags(1, 999, 1) }, perPe: false }, 2);
    h2.s.send(h2.cmd, { op: "wave", id: 2, wave: ROW_CONV }, 5);
    expect(() => h2.e.run({ maxCycles: 1000 })).toThrow("pe: checked MAC in PE 5 (row 1, col 2) read input entry 3: expected x[123] but the entry holds x[999]");
  });

  it("applies register writes arriving mid-wave at their cycle in both modes", () => {
    const { reference, fast } = bothModes((mode) => {
      const h = arrayOnly(mode, false);
      h.s.send(h.noc, { op: "write", part: "input", pes: { row0: 0, col0: 0, rows: 2, cols: 3 }, box: span(0, 12), payload: { data: Int16Array.from({ length: 12 }, (_, i) => i + 1) }, perPe: false });
      h.s.send(h.noc, { op: "write", part: "weight", pes: { row0: 0, col0: 0, rows: 2, cols: 3 }, box: span(0, 1), payload: { data: Int8Array.of(3) }, perPe: false });
      const wave: MacWave = { pes: { row0: 0, col0: 0, rows: 2, cols: 3 }, loops: [12], input: { offset: 0, strides: [1] }, weight: { offset: 0, strides: [0] }, psum: { offset: 0, strides: [0] } };
      h.s.send(h.cmd, { op: "wave", id: 1, wave }, 2);
      // Overwrite input entries 6..11 while the wave runs (cycles 3..14): MACs after cycle 9 see new values.
      h.s.send(h.noc, { op: "write", part: "input", pes: { row0: 0, col0: 0, rows: 2, cols: 3 }, box: span(6, 6), payload: { data: Int16Array.from({ length: 6 }, () => 100) }, perPe: false }, 8);
      const r = h.e.run({ maxCycles: 1000 });
      return { cycles: r.cycles, psum: h.pe.pe(1, 1).contents("psum")[0] };
    });
    expect(fast).toEqual(reference);
    // Wave popped in 3, MAC t in cycle 3 + t; the write is visible in cycle 9: MACs 0..5 old (1..6), 6..11 new.
    expect(reference.psum).toBe(3 * (1 + 2 + 3 + 4 + 5 + 6) + 3 * 6 * 100);
  });

  it("keeps the mapping's MAC order for a wave a register write splits, even when a whole one would run reordered", () => {
    const { reference, fast } = bothModes((mode) => {
      const h = arrayOnly(mode, false);
      const pes = { row0: 0, col0: 0, rows: 1, cols: 1 };
      h.s.send(h.noc, { op: "write", part: "input", pes, box: span(0, 12), payload: { data: Int16Array.from({ length: 12 }, (_, i) => i + 1) }, perPe: false });
      h.s.send(h.noc, { op: "write", part: "weight", pes, box: span(0, 2), payload: { data: Int8Array.of(1, 10) }, perPe: false });
      // 6 outputs x a 2-tap reduction innermost (the mapping's order); run whole, the 6-long
      // output loop would go innermost: psum[o] += in[2o + t] * w[t].
      const wave: MacWave = { pes, loops: [6, 2], input: { offset: 0, strides: [2, 1] }, weight: { offset: 0, strides: [0, 1] }, psum: { offset: 0, strides: [1, 0] } };
      h.s.send(h.cmd, { op: "wave", id: 1, wave }, 2);
      // Input entries 6..11 become 100 from cycle 9: MACs 6..11 in the mapping's order see them.
      h.s.send(h.noc, { op: "write", part: "input", pes, box: span(6, 6), payload: { data: Int16Array.from({ length: 6 }, () => 100) }, perPe: false }, 8);
      h.e.run({ maxCycles: 1000 });
      return Array.from(h.pe.pe(0, 0).contents("psum").slice(0, 6));
    });
    expect(fast).toEqual(reference);
    // MAC t = (o, tap) = (floor(t / 2), t mod 2), in cycle 3 + t: outputs 0..2 read the old inputs.
    expect(reference).toEqual([1 + 20, 3 + 40, 5 + 60, 100 + 1000, 100 + 1000, 100 + 1000]);
  });

  it("runs a wave whole past register writes it cannot meet, and in pieces around one it can", () => {
    const pes = { row0: 0, col0: 0, rows: 2, cols: 3 };
    // In the second row of PEs: reads input entries 0..5 and one weight; accumulates into psum 0 and 1.
    const wave: MacWave = { pes: { row0: 1, col0: 0, rows: 1, cols: 3 }, loops: [2, 3], input: { offset: 0, strides: [3, 1] }, weight: { offset: 0, strides: [0, 0] }, psum: { offset: 0, strides: [1, 0] } };
    const run = (mode: SimMode, write: { part: "input" | "psum"; pes: typeof pes; at: number }) => {
      const h = arrayOnly(mode, false);
      h.s.send(h.noc, { op: "write", part: "input", pes, box: span(0, 12), payload: { data: Int16Array.from({ length: 12 }, (_, i) => i + 1) }, perPe: false });
      h.s.send(h.noc, { op: "write", part: "weight", pes, box: span(0, 1), payload: { data: Int8Array.of(2) }, perPe: false });
      h.s.send(h.cmd, { op: "wave", id: 1, wave }, 2);
      // Mid-wave (the wave issues in cycles 3..8): entries 6..11 of the input partition (which
      // the wave does not read), or psum entry 1 (which it accumulates into).
      const box = write.part === "input" ? span(6, 6) : span(1, 1);
      const data = write.part === "input" ? Int16Array.from({ length: 6 }, () => 100) : Int32Array.of(1000);
      h.s.send(h.noc, { op: "write", part: write.part, pes: write.pes, box, payload: { data }, perPe: false }, write.at);
      h.e.run({ maxCycles: 1000 });
      const k = h.pe.kernels;
      const sum = (r: Record<string, number> | undefined) => Object.values(r ?? {}).reduce((a, b) => a + b, 0);
      return { psum: Array.from(h.pe.pe(1, 2).contents("psum").slice(0, 2)), whole: sum(k?.calls), pieces: sum(k?.pieces) };
    };
    const cases = [
      { part: "input" as const, pes, at: 4 },
      { part: "psum" as const, pes: { row0: 0, col0: 0, rows: 1, cols: 1 }, at: 4 }, // a PE outside the wave
      { part: "psum" as const, pes, at: 4 },
    ];
    const fast = cases.map((c) => run("fast", c));
    const reference = cases.map((c) => run("reference", c));
    expect(fast.map((f) => f.psum)).toEqual(reference.map((r) => r.psum));
    expect(fast[0]!.psum).toEqual([2 * (1 + 2 + 3), 2 * (4 + 5 + 6)]);
    expect(fast.map((f) => [f.whole, f.pieces])).toEqual([[1, 0], [1, 0], [0, 2]]);
  });

  it("validates the spec with path and rule", () => {
    expect(() => new PeArray(new Engine(), { array: ARRAY, rf: { ...RF, readPorts: 1 } })).toThrow(
      "rf.readPorts must be at least 2 (a MAC reads an input and a weight in the same cycle); got 1",
    );
    expect(() => new PeArray(new Engine(), { array: { ...ARRAY, rows: 0 }, rf: RF })).toThrow(ConfigError);
  });
});

/** Naive evaluation of a wave in one PE: returns psum partition and accumulator runs. */
function naive(w: MacWave, inp: Int32Array, wt: Int32Array, ps: Int32Array): number {
  const idx = new Array(w.loops.length).fill(0);
  const T = w.loops.reduce((a, b) => a * b, 1);
  let runs = 0;
  let prev = -1;
  for (let t = 0; t < T; t++) {
    let ia = w.input.offset, wa = w.weight.offset, pa = w.psum.offset;
    for (let d = 0; d < idx.length; d++) {
      ia += idx[d] * w.input.strides[d]!;
      wa += idx[d] * w.weight.strides[d]!;
      pa += idx[d] * w.psum.strides[d]!;
    }
    if (pa !== prev) runs++;
    prev = pa;
    ps[pa] = (ps[pa]! + (inp[ia]! - (w.inputZero ?? 0)) * (wt[wa]! - (w.weightZero ?? 0))) | 0;
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d] < w.loops[d]!) break;
      idx[d] = 0;
    }
  }
  return runs;
}

describe("wave kernel vs a naive per-MAC loop", () => {
  const arbWave = fc
    .array(fc.record({ n: fc.integer({ min: 1, max: 4 }), si: fc.integer({ min: 0, max: 3 }), sw: fc.integer({ min: 0, max: 3 }), sp: fc.integer({ min: 0, max: 2 }) }), { minLength: 1, maxLength: 4 })
    .map((ls) => ({
      loops: ls.map((l) => l.n),
      input: { offset: 0, strides: ls.map((l) => l.si) },
      weight: { offset: 0, strides: ls.map((l) => l.sw) },
      psum: { offset: 0, strides: ls.map((l) => l.sp) },
    }));
  it("computes the same values and psum runs, whole or split at any cycles, in both modes", () => {
    fc.assert(
      fc.property(arbWave, fc.integer({ min: -3, max: 3 }), fc.integer({ min: 0, max: 1000 }), fc.constantFrom<SimMode>("reference", "fast"), (nest, zi, seed, mode) => {
        const extent = (s: { strides: number[] }) => nest.loops.reduce((a, n, d) => a + (n - 1) * s.strides[d]!, 0) + 1;
        const rf = { inputEntries: Math.max(1, extent(nest.input)), weightEntries: Math.max(1, extent(nest.weight)), psumEntries: Math.max(1, extent(nest.psum)), readPorts: 2, writePorts: 1 };
        const array = { rows: 1, cols: 2, macsPerCycle: 1, pipelineLatency: 1 };
        const h = arrayOnly(mode, false, array, rf);
        const rnd = (i: number) => ((seed * 7919 + i * 104729) % 255) - 127;
        const inp = Int16Array.from({ length: rf.inputEntries }, (_, i) => rnd(i));
        const wt = Int8Array.from({ length: rf.weightEntries }, (_, i) => rnd(i + 1000));
        const all = { row0: 0, col0: 0, rows: 1, cols: 2 };
        h.s.send(h.noc, { op: "write", part: "input", pes: all, box: span(0, rf.inputEntries), payload: { data: inp }, perPe: false });
        h.s.send(h.noc, { op: "write", part: "weight", pes: all, box: span(0, rf.weightEntries), payload: { data: wt }, perPe: false });
        const wave: MacWave = { pes: all, ...nest, inputZero: zi, weightZero: 1 };
        h.s.send(h.cmd, { op: "wave", id: 1, wave }, 1);
        // Reads during the wave split fast mode's bulk execution at arbitrary cycles.
        h.s.send(h.noc, { op: "read", id: 9, part: "psum", pes: all, box: span(0, rf.psumEntries) }, 2 + (seed % 5));
        h.e.run({ maxCycles: 10_000 });
        const ps = new Int32Array(rf.psumEntries);
        const runs = naive(wave, Int32Array.from(inp), Int32Array.from(wt), ps);
        expect(Array.from(h.pe.pe(0, 1).contents("psum"))).toEqual(Array.from(ps));
        // Accumulator runs of both PEs, plus the mid-wave read of the whole psum partition.
        expect(h.e.counters.value("rf.read.psum")).toBe(2 * runs + 2 * rf.psumEntries);
        expect(h.e.counters.value("rf.write.psum")).toBe(2 * runs);
      }),
      { numRuns: 200 },
    );
  });

  it("merges chained loops so the innermost row is long", () => {
    const rf = new RegFile(new CounterRegistry(), "rf", { inputEntries: 64, weightEntries: 64, psumEntries: 4, readPorts: 2, writePorts: 1 }, 1, false);
    const cw = compileWave("pe", { pes: { row0: 0, col0: 0, rows: 1, cols: 1 }, loops: [4, 4, 4], input: { offset: 0, strides: [16, 4, 1] }, weight: { offset: 0, strides: [16, 4, 1] }, psum: { offset: 0, strides: [1, 0, 0] } }, rf, false);
    expect(cw.order.inner).toBe(16);
    expect(cw.order.rowIn.length).toBe(4);
    expect(cw.psumRuns).toBe(4);
  });

  it("runs the longest loop innermost, with the same sums and the mapping order's counts", () => {
    const rf = filledRf(64, 16);
    // 16 outputs x a 2-tap reduction, the reduction innermost in the mapping.
    const wave = { pes: { row0: 0, col0: 0, rows: 1, cols: 1 }, loops: [16, 2], input: { offset: 0, strides: [1, 16] }, weight: { offset: 0, strides: [0, 1] }, psum: { offset: 0, strides: [1, 0] } };
    const cw = compileWave("pe", wave, rf, false);
    expect(cw.order.inner).toBe(2);
    expect(cw.exec.inner).toBe(16);
    expect(cw.psumRuns).toBe(16);
    runWave(cw, rf, 1, 0, 5);
    runWave(cw, rf, 1, 5, 32);
    for (let o = 0; o < 16; o++) expect(rf.data.psum[o]).toBe((rf.data.input[o]! * rf.data.weight[0]! + rf.data.input[o + 16]! * rf.data.weight[1]!) | 0);
  });
});

/** One PE's register file of `operands` input and weight entries, filled with small signed values, and `psums` psum entries. */
function filledRf(operands: number, psums: number): RegFile {
  const rf = new RegFile(new CounterRegistry(), "rf", { inputEntries: operands, weightEntries: operands, psumEntries: psums, readPorts: 2, writePorts: 1 }, 1, false);
  for (let i = 0; i < operands; i++) {
    rf.data.input[i] = (i * 7) % 13 - 6;
    rf.data.weight[i] = (i * 5) % 11 - 5;
  }
  return rf;
}

describe("the wave's execution order prefers consecutive partial sums", () => {
  it("runs a shorter loop whose partial sums are consecutive innermost over a longer strided one (a vector kernel, not one MAC a step), with the same sums", () => {
    // chen2020's rf loops on ResNet-50's conv5 blocks: 7 outputs along Q (psums consecutive, one
    // weight) inside 11 along K (psums 7 apart, one input): K innermost ran the scalar kernel.
    const rf = filledRf(16, 80);
    const wave = { pes: { row0: 0, col0: 0, rows: 1, cols: 1 }, loops: [7, 11], input: { offset: 0, strides: [1, 0] }, weight: { offset: 0, strides: [0, 1] }, psum: { offset: 0, strides: [1, 7] } };
    const cw = compileWave("pe", wave, rf, false);
    expect(cw.order.inner).toBe(11);
    expect(cw.exec.inner).toBe(7);
    expect(kernelFor(cw.exec.si, cw.exec.sw, cw.exec.sp)).toBe("vw0");
    runWave(cw, rf, 1, 0, 77);
    for (let q = 0; q < 7; q++) for (let k = 0; k < 11; k++) expect(rf.data.psum[q + 7 * k]).toBe((rf.data.input[q]! * rf.data.weight[k]!) | 0);
  });
});

describe("PeArray neighbour links, unchecked (bulk register-file path) against a plain oracle", () => {
  const array = { rows: 4, cols: 5, macsPerCycle: 1, pipelineLatency: 1 };
  const rf = { ...RF, inputEntries: 12, psumEntries: 8 };
  const size = array.rows * array.cols;
  // A strided 2-D box: entries 1, 2, 4, 5, 7, 8 of a PE's partition (rows of 2, stride 3).
  const box = { shape: [3, 2], offset: 1, strides: [3, 1] };
  const idx = [1, 2, 4, 5, 7, 8];
  const psumBox = { shape: [2, 2], offset: 1, strides: [4, 2] };
  const psumIdx = [1, 3, 5, 7];
  const rect = { row0: 1, col0: 1, rows: 3, cols: 3 };
  const start = (part: "input" | "psum", entries: number) =>
    Int32Array.from({ length: size * entries }, (_, i) => (part === "psum" ? ((i * 2654435761) | 0) ^ (i % 3 === 0 ? 0x7fffff00 : 0) : (i * 37) % 201 - 100));
  const run = (part: "input" | "psum", link: object) => {
    const entries = part === "psum" ? rf.psumEntries : rf.inputEntries;
    const h = arrayOnly("fast", false, array, rf);
    const init = start(part, entries);
    h.s.send(h.noc, { op: "write", part, pes: h.pe.all(), box: { shape: [entries], offset: 0, strides: [1] }, payload: { data: init }, perPe: true });
    // (a link with its own `pes`, a shift's, overrides the rectangle)
    h.s.send(h.noc, { op: "link", link: { part, pes: rect, ...link } as never }, 1);
    const before = h.e.counters.values();
    h.e.run({ maxCycles: 100 });
    const after = h.e.counters.values();
    const got: number[][] = [];
    for (let p = 0; p < size; p++) got.push(Array.from(h.pe.pe(Math.floor(p / array.cols), p % array.cols).contents(part)));
    const want: number[][] = [];
    for (let p = 0; p < size; p++) want.push(Array.from(init.subarray(p * entries, (p + 1) * entries)));
    const delta = (k: string) => (after[k] ?? 0) - (before[k] ?? 0) - (k.startsWith("rf.write") ? size * entries : 0);
    return { got, want, reads: delta(`rf.read.${part}`), writes: delta(`rf.write.${part}`) };
  };
  const steps = { north: [-1, 0], south: [1, 0], west: [0, -1], east: [0, 1] } as const;

  it.each(["north", "south", "west", "east"] as const)("reduces toward %s: each line's end holds the int32 sum, the others' words as the hops left them", (dir) => {
    const r = run("psum", { kind: "reduce", dir, box: psumBox });
    const [dr, dc] = steps[dir];
    const along = dr !== 0;
    const len = along ? rect.rows : rect.cols;
    let hops = 0;
    for (let line = 0; line < (along ? rect.cols : rect.rows); line++) {
      // From the far end toward dir, each PE adds its (already accumulated) words into the next.
      for (let k = 0; k < len - 1; k++) {
        const pos = dr + dc < 0 ? len - 1 - k : k;
        const [i, j] = along ? [pos, line] : [line, pos];
        const from = (rect.row0 + i) * array.cols + rect.col0 + j;
        const to = from + dr * array.cols + dc;
        for (const e of psumIdx) r.want[to]![e] = (r.want[to]![e]! + r.want[from]![e]!) | 0;
        hops++;
      }
    }
    expect(r.got).toEqual(r.want);
    expect(hops).toBe(6);
    expect(r.reads).toBe(2 * psumIdx.length * hops);
    expect(r.writes).toBe(psumIdx.length * hops);
  });

  it.each(["north", "south", "west", "east"] as const)("shifts toward %s: every receiver gets its sender's words as they were before the shift", (dir) => {
    const [dr, dc] = steps[dir];
    const shifted = { row0: rect.row0 - Math.max(0, dr), col0: rect.col0 - Math.max(0, dc), rows: rect.rows, cols: rect.cols };
    const dst = { shape: [6], offset: 6, strides: [1] };
    const r = run("input", { kind: "shift", pes: shifted, dir, src: box, dst });
    const init = r.want.map((words) => words.slice());
    for (let i = 0; i < shifted.rows; i++)
      for (let j = 0; j < shifted.cols; j++) {
        const from = (shifted.row0 + i) * array.cols + shifted.col0 + j;
        const to = from + dr * array.cols + dc;
        idx.forEach((e, q) => (r.want[to]![6 + q] = init[from]![e]!));
      }
    expect(r.got).toEqual(r.want);
    expect(r.reads).toBe(idx.length * 9);
    expect(r.writes).toBe(idx.length * 9);
  });
});
