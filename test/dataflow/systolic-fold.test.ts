import { describe, expect, it } from "vitest";
import { checkMapping } from "../../src/dataflow/legality.js";
import { mappingUsage } from "../../src/dataflow/legality.js";
import { parseMapping, streamFlows } from "../../src/dataflow/mapping.js";
import { simulate } from "../../src/dataflow/simulate.js";
import { resolveArch } from "../../src/arch/presets.js";
import { convLayer } from "../../src/workload/layer.js";
import { foldLayer, foldMapping } from "../helpers/fold.js";

function fold(c: number, folds = 1, checked = false, doubleBuffer = false) {
  return simulate({ layer: foldLayer(c, folds), arch: "systolic", dataflow: foldMapping(c, folds, doubleBuffer), checked });
}

describe("a systolic fold (docs/timing.md)", () => {
  it("fills in S_R + S_C - 2 cycles and streams one step per cycle; the per-step costs the docs give", () => {
    const a = fold(64);
    const b = fold(128);
    expect(a.verification.ok && b.verification.ok).toBe(true);
    expect([a.cycles, b.cycles]).toEqual([1016, 1504]);
    const scaleSim = (t: number) => 2 * 32 + 32 + t - 2;
    expect([scaleSim(64), scaleSim(128)]).toEqual([158, 222]);
    const perPe = (r: typeof a, k: string) => (r.counters[k]?.value ?? 0) / 1024;
    // The skew: the farthest PE (31, 31) starts 62 cycles late, plus the MAC's 1-cycle pipeline.
    expect(perPe(a, "pe.idle.pipeline")).toBe(63);
    expect(perPe(b, "pe.idle.pipeline")).toBe(63);
    // Per reduction step: the MAC, its operands' delivery (the buses carry 32 words a cycle), the
    // first tile's DRAM load (which grows with T) and half a GBuf cycle.
    const perStep = (k: string) => (perPe(b, k) - perPe(a, k)) / 64;
    expect((b.cycles - a.cycles) / 64).toBe(7.625);
    expect(perStep("pe.busy")).toBe(1);
    expect(perStep("pe.idle.network")).toBe(1);
    expect(perStep("pe.idle.dram")).toBe(5.125);
    expect(perStep("pe.idle.gbuf")).toBe(0.5);
    // The outputs leave over the drain bus: 1024 words at 32 a cycle, plus the request's cycles,
    // and go into the GBuf as one request (512 bank words of two int32 each).
    expect(perPe(a, "pe.idle.drain")).toBe(35);
    expect(perPe(a, "pe.idle.gbuf")).toBe(68);
    expect(a.counters["gbuf.bankWrites.output"]!.value).toBe(512);
    // Forwarding: each of 32 rows (weights) and 32 columns (inputs) passes T words over 31 links.
    for (const [r, t] of [[a, 64], [b, 128]] as const) {
      expect(r.counters["pe.forward.input"]!.value).toBe(32 * 31 * t);
      expect(r.counters["pe.forward.weight"]!.value).toBe(32 * 31 * t);
      // Every PE receives every word of its streams once (the edge PE from the bus, the rest over a link).
      expect(r.counters["rf.write.input"]!.value).toBe(1024 * t);
      expect(r.counters["rf.write.weight"]!.value).toBe(1024 * t);
      // What crosses the GBuf/register boundary: T words per line at the edge, and the outputs.
      expect(r.counters["pe.inject.input"]!.value).toBe(32 * t);
      expect(r.counters["pe.inject.weight"]!.value).toBe(32 * t);
      expect(r.boundaries.gbuf.measured).toBe(2 * 32 * t + 1024);
      expect(r.boundaries.gbuf.measured).toBeGreaterThanOrEqual(r.boundaries.gbuf.bounds.provable.total);
    }
  });

  it("over several folds: bit-exact in checked mode, and the next fold's streams arrive during the wave, double-buffered or not", () => {
    const u = fold(64, 4);
    const c = fold(64, 4, true);
    const d = fold(64, 4, false, true);
    const dc = fold(64, 4, true, true);
    expect(u.verification.ok && c.verification.ok && d.verification.ok && dc.verification.ok).toBe(true);
    expect([c.cycles, dc.cycles]).toEqual([u.cycles, d.cycles]);
    // Streamed operands always arrive during the previous wave (the edge feeders stream them):
    // single-buffered registers take as long as double-buffered ones (3,387 cycles before).
    expect([u.cycles, d.cycles]).toEqual([3198, 3198]);
    const perPe = (r: typeof u, k: string) => (r.counters[k]?.value ?? 0) / 1024;
    expect([perPe(u, "pe.idle.pipeline"), perPe(d, "pe.idle.pipeline")]).toEqual([4 * 63, 4 * 63]);
    // Only the first fold waits for its streams (260 cycles per PE single-buffered before).
    expect([perPe(u, "pe.idle.network"), perPe(d, "pe.idle.network")]).toEqual([7, 7]);
  });

  it("charges the stream one register: legality accepts T = 512 in a 1-entry RF, and refuses what cannot stream", () => {
    const arch = resolveArch("systolic");
    const layer = convLayer(foldLayer(512));
    const m = parseMapping(foldMapping(512));
    expect(checkMapping(m, layer, arch).ok).toBe(true);
    expect(mappingUsage(m, layer).rfEntries).toEqual({ input: 1, weight: 1, output: 1 });
    expect(streamFlows(m)).toEqual({ input: "down", weight: "right" });
    // The same array without forwarding.
    const ey = checkMapping(m, layer, resolveArch("systolic", { name: "bus-fed", noc: { forwarding: false } }));
    expect(ey.ok).toBe(false);
    if (!ey.ok) expect(ey.reason).toContain("mapping.rf.stream.input must be false: bus-fed does not forward operands PE to PE (arch.noc.forwarding)");
    // A stream must be shared along a line: the output varies along both axes here.
    const out = checkMapping(parseMapping({ ...foldMapping(512), rf: { ...foldMapping(512).rf, stream: { output: true } } }), layer, arch);
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.reason).toContain("mapping.rf.stream.output must stream a tile that every PE of a row, or of a column, shares");
    // A streamed word passes once: an rf loop over K would reuse each input.
    const reuse = { ...foldMapping(64), rf: { ...foldMapping(64).rf, loops: [{ dim: "C", factor: 64 }, { dim: "K", factor: 2 }] }, spatial: { loops: [{ dim: "Q", factor: 32, axis: "col" }, { dim: "K", factor: 16, axis: "row" }] } };
    const r = checkMapping(parseMapping(reuse), convLayer(foldLayer(64)), arch);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain("mapping.rf.loops[1] must index the streamed input");
    // A streamed input may not loop over both P and R at the rf level (overlapping windows).
    const conv = convLayer({ inChannels: 4, inHeight: 6, inWidth: 6, outChannels: 8, kernelHeight: 3, kernelWidth: 3 });
    const pr = parseMapping({
      dram: { loops: [{ dim: "C", factor: 4 }, { dim: "Q", factor: 4 }, { dim: "S", factor: 3 }] },
      gbuf: { loops: [], keep: { input: true, weight: true, output: true }, doubleBuffer: false },
      spatial: { loops: [{ dim: "K", factor: 8, axis: "col" }] },
      rf: { loops: [{ dim: "P", factor: 4 }, { dim: "R", factor: 3 }], keep: { input: true, weight: true, output: true }, doubleBuffer: false, stream: { input: true } },
    });
    const prv = checkMapping(pr, conv, arch);
    expect(prv.ok).toBe(false);
    if (!prv.ok) expect(prv.reason).toBe("mapping.rf.loops must not loop over both P and R at the rf level while the input streams (overlapping windows would reuse a streamed word); got \"P x 4, R x 3\"");
    // Malformed stream flags name the field, the value and the rule.
    const withStream = (stream: unknown) => () => parseMapping({ ...foldMapping(64), rf: { ...foldMapping(64).rf, stream } });
    expect(withStream({ input: "yes" })).toThrow('mapping.rf.stream.input must be a boolean; got "yes"');
    expect(withStream(3)).toThrow("mapping.rf.stream must be an object of per-tensor booleans");
    expect(withStream({ psum: true })).toThrow("mapping.rf.stream.psum");
    // A streamed tensor must be kept at the rf level.
    expect(() => parseMapping({ ...foldMapping(64), rf: { ...foldMapping(64).rf, keep: { input: false, weight: true, output: true } } })).toThrow(
      "mapping.rf.stream.input must be false while mapping.rf.keep.input is false",
    );
  });
});

describe("the systolic forms of ws, os and is", () => {
  it("are bit-exact in checked mode, and the engine's reference and fast modes agree on every count and cycle", () => {
    const layer = { inChannels: 16, inHeight: 9, inWidth: 9, outChannels: 24, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] as [number, number, number, number] };
    for (const df of ["ws", "os", "is"] as const) {
      const fast = simulate({ layer, arch: "systolic", dataflow: df });
      const ref = simulate({ layer, arch: "systolic", dataflow: df, mode: "reference" });
      const checked = simulate({ layer, arch: "systolic", dataflow: df, checked: true });
      expect(fast.verification.ok && ref.verification.ok && checked.verification.ok).toBe(true);
      expect(ref.cycles).toBe(fast.cycles);
      expect(checked.cycles).toBe(fast.cycles);
      const counts = (r: typeof fast) => Object.fromEntries(Object.entries(r.counters).map(([k, v]) => [k, v.value]));
      expect(counts(ref)).toEqual(counts(fast));
      expect(fast.mapping.rf.stream).toBeDefined();
    }
  });

  it("drain a streamed output while the next wave runs (ws): the PEs wait for drains less than they compute", () => {
    // Serially (each wave's partial sums reduced down the columns and drained before the next
    // wave), the drain stalls exceed the waves' busy and skew cycles on this layer; overlapped,
    // part of every drain hides behind the next wave.
    const layer = { inChannels: 64, inHeight: 13, inWidth: 13, outChannels: 64, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] as [number, number, number, number] };
    const r = simulate({ layer, arch: "systolic", dataflow: "ws" });
    expect(r.verification.ok).toBe(true);
    const perPe = (k: string) => (r.counters[k]?.value ?? 0) / 1024;
    expect(perPe("pe.idle.drain")).toBeLessThan(perPe("pe.busy") + perPe("pe.idle.pipeline"));
  });
});

describe("a fold after the first (ws, ideal memory: SCALE-Sim's setting)", () => {
  // 1 x 1 layers of 28 x 28 pixels on 32 x 32: a fold streams T = 784 steps. SCALE-Sim charges
  // every fold 2 S_R + S_C + T - 2 = 878 cycles.
  const run = (c: number, k: number) =>
    simulate({ layer: { inChannels: c, inHeight: 28, inWidth: 28, outChannels: k, kernelHeight: 1, kernelWidth: 1 }, arch: "systolic", archOverrides: { dram: { model: "ideal" }, gbuf: { model: "ideal" } }, dataflow: "ws" });
  const perFold = 2 * 32 + 32 + 784 - 2;
  const one = run(32, 32);
  it("costs SCALE-Sim's fold plus the handshakes, whether it reduces into the same outputs or starts new ones", () => {
    // C = 64: two folds into the same outputs; K = 64: a second output tile, whose first fold
    // starts while the first tile's partial sums drain (docs/timing.md, "The Sequencer").
    for (const r of [one, run(64, 32), run(32, 64)]) expect(r.verification.ok).toBe(true);
    for (const r of [run(64, 32), run(32, 64)]) {
      expect(r.cycles - one.cycles).toBeGreaterThanOrEqual(784);
      expect(r.cycles - one.cycles).toBeLessThanOrEqual(perFold + 8);
      // Only the last fold's drain is exposed, and it left the array during its wave (in flight:
      // a few cycles for the request and the GBuf accumulate, not the 784 its words took).
      expect(r.counters["pe.idle.drain"]!.value).toBe(one.counters["pe.idle.drain"]!.value);
      expect(one.counters["pe.idle.drain"]!.value / 1024).toBeLessThanOrEqual(8);
    }
  });

  it("resets the streamed partial sums as they pass: the fold's psum fill takes one cycle, its words all counted", () => {
    // The stand-in buffer holds the fold's 784 partial sums; the hardware's accumulator takes a
    // zero at each step's first MAC, so the fill does not take 784 / rf.writePorts cycles.
    const two = run(64, 32);
    expect(two.counters["rf.fill.psum"]!.value).toBe(2 * 1024 * 784);
    const weightLoad = Math.ceil(1024 / 32) + 1;
    const between = two.cycles - one.cycles - 784 - 63;
    expect(between).toBeLessThan(weightLoad + 8);
  });
});

describe("two accumulator sets (mapping.rf.doubleBufferOutput, os on the systolic preset)", () => {
  // ResNet-50 res2a_branch2a on 32 x 32 with ideal memory: 224 folds of T = 64 steps, so a fold's
  // drain (1,024 outputs at 32 words a cycle) is a large share of it when it runs serially.
  const layer = { inChannels: 64, inHeight: 56, inWidth: 56, outChannels: 64, kernelHeight: 1, kernelWidth: 1 };
  const overrides = { dram: { model: "ideal" as const }, gbuf: { model: "ideal" as const } };
  const sets = simulate({ layer, arch: "systolic", archOverrides: overrides, dataflow: "os" });
  const one = simulate({ layer, arch: "systolic", archOverrides: overrides, dataflow: { ...sets.mapping, rf: { ...sets.mapping.rf, doubleBufferOutput: false } } });

  it("are chosen by os where the psum partition holds two outputs, and legality charges both", () => {
    expect(sets.mapping.rf.doubleBufferOutput).toBe(true);
    expect(mappingUsage(sets.mapping, convLayer(layer)).rfEntries.output).toBe(2);
    const v = checkMapping(sets.mapping, convLayer(layer), resolveArch("systolic", { rf: { psumEntries: 1 } }), { types: { input: "int8", weight: "int8" } });
    expect(v.ok ? "" : v.reason).toMatch(/^mapping\.rf\.keep\.output must fit the RF's output partition, arch\.rf\.psumEntries = 1 entries \(double-buffered: twice the tile\)/);
    expect(simulate({ layer, arch: "systolic", archOverrides: { rf: { psumEntries: 1 } }, dataflow: "os" }).mapping.rf.doubleBufferOutput).toBeUndefined();
  });

  it("drain a fold's outputs behind the next fold: the same counts, only the last drain exposed", () => {
    expect(sets.verification.ok && one.verification.ok).toBe(true);
    const counts = (r: typeof sets) => Object.fromEntries(Object.entries(r.counters).filter(([k]) => !k.startsWith("pe.idle") && k !== "pe.busy").map(([k, v]) => [k, v.value]));
    expect(counts(sets)).toEqual(counts(one));
    const drain = (r: typeof sets) => r.counters["pe.idle.drain"]!.value / 1024;
    expect(drain(one)).toBeGreaterThan(224 * 30);
    expect(drain(sets)).toBeLessThan(40);
    expect(sets.cycles).toBeLessThan(one.cycles - 224 * 30);
  });

  it("are bit-exact in checked and reference mode, with padding and edge tiles", () => {
    const small = { inChannels: 16, inHeight: 9, inWidth: 9, outChannels: 24, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] as [number, number, number, number] };
    const fast = simulate({ layer: small, arch: "systolic", dataflow: "os" });
    expect(fast.mapping.rf.doubleBufferOutput).toBe(true);
    for (const r of [simulate({ layer: small, arch: "systolic", dataflow: "os", checked: true }), simulate({ layer: small, arch: "systolic", dataflow: "os", mode: "reference" })]) {
      expect(r.verification.ok).toBe(true);
      expect(r.cycles).toBe(fast.cycles);
    }
  });
});

describe("a streamed output reduces through idle PEs", () => {
  it("sums a column whose rows have gaps (a partial kernel-row tile) in flight, bit-exactly in every mode", () => {
    // Rows C 3 x R 2, R in 2 gbuf steps: the second step has one kernel row, so rows 1, 3, 5
    // idle and each column's partial sums skip them. They still flow through in one reduction
    // (the idle PEs add zero) instead of every PE draining on its own.
    const layer = { inChannels: 3, inHeight: 10, inWidth: 10, outChannels: 8, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] as [number, number, number, number] };
    const m = parseMapping({
      dram: { loops: [] },
      gbuf: { loops: [{ dim: "R", factor: 2 }, { dim: "S", factor: 3 }], keep: { input: true, weight: true, output: true }, doubleBuffer: true },
      spatial: { loops: [{ dim: "C", factor: 3, axis: "row" }, { dim: "R", factor: 2, axis: "row" }, { dim: "K", factor: 8, axis: "col" }] },
      rf: { loops: [{ dim: "P", factor: 10 }, { dim: "Q", factor: 10 }], stream: { input: true, output: true } },
    });
    const run = (mode: "fast" | "reference", checked: boolean) => simulate({ layer, arch: "systolic", archOverrides: { array: { rows: 8, cols: 8 } }, dataflow: m, mode, checked });
    const fast = run("fast", false);
    const counts = (r: typeof fast) => Object.fromEntries(Object.entries(r.counters).map(([k, v]) => [k, v.value]));
    for (const r of [fast, run("fast", true), run("reference", false)]) {
      expect(r.verification.ok).toBe(true);
      expect(r.cycles).toBe(fast.cycles);
      expect(counts(r)).toEqual(counts(fast));
    }
    // One column end drains per wave: 6 waves (R 2 x S 3) x 8 columns x 100 outputs. Drained PE
    // by PE where a column has gaps, the same run drained 9,600 words.
    expect(fast.counters["noc.drain.psum"]!.value).toBe(6 * 8 * 100);
    // (1,265 while each weight load was read a group of PE rows at a time: rows C x R are not
    // affine in the row alone; row-boxes.ts. 1,252 while the streamed input's deliveries were
    // held to the register files' write ports: pe-array/noc.ts, deliverCycles.)
    expect(fast.cycles).toBe(1212);
  });
});

describe("stream buffers (simulate.ts streamBuffers)", () => {
  it("keep a streamed operand once per line it flows along, so storage grows with the array's side", async () => {
    const { streamBuffers } = await import("../../src/dataflow/simulate.js");
    const { buildMapping } = await import("../../src/dataflow/dataflows/index.js");
    const { RegFile } = await import("../../src/memory/regfile.js");
    const arch = resolveArch("systolic", { array: { rows: 128, cols: 128 } });
    const layer = convLayer({ inChannels: 3, inHeight: 227, inWidth: 227, outChannels: 96, kernelHeight: 11, kernelWidth: 11, strides: [4, 4] });
    const m = buildMapping("ws", layer, arch);
    const flows = streamFlows(m);
    const rf = streamBuffers(arch, m, layer);
    // ws streams inputs along the rows (every PE of a row takes the same input tile).
    expect(flows.input).toBe("right");
    // Its partial sums are summed down each column (the window spreads over the rows): one slice
    // per column, unless checked (each PE keeps its own, tagged).
    expect(rf.lines).toEqual({ input: "row", psum: "col" });
    expect(streamBuffers(arch, m, layer, true).lines).toEqual({ input: "row" });
    const perPe = RegFile.words({ ...rf, lines: undefined }, 128 * 128, 128);
    const lined = RegFile.words(rf, 128 * 128, 128);
    expect(lined).toBe(128 * rf.inputEntries + 128 * 128 * rf.weightEntries + 128 * rf.psumEntries);
    expect(lined * 100).toBeLessThan(perPe);
    // os keeps each PE's outputs apart (no line shares one).
    expect(streamBuffers(arch, buildMapping("os", layer, arch), layer).lines?.psum).toBeUndefined();
  });

  it("keep an operand every PE of a row (column) holds alike once per line, and count every PE's accesses as before", async () => {
    const { streamBuffers, simulate } = await import("../../src/dataflow/simulate.js");
    const { buildMapping } = await import("../../src/dataflow/dataflows/index.js");
    const arch = resolveArch("chen2020");
    const layer = convLayer({ inChannels: 16, inHeight: 14, inWidth: 14, outChannels: 32, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] });
    // chen2020: one axis takes output positions, the other output channels (here transposed:
    // positions along columns); inputs do not depend on the channels, weights not on the positions.
    const m = buildMapping("chen2020", layer, arch);
    const positions = m.spatial.loops.find((s) => s.dim === "P" || s.dim === "Q")!.axis;
    expect(positions).toBe("col");
    expect(streamBuffers(arch, m, layer).lines).toEqual({ input: "col", weight: "row" });
    // rs: inputs depend on both axes (rows: filter rows, columns: output rows); weights on rows only.
    const rs = buildMapping("rs", layer, resolveArch("eyeriss"));
    expect(streamBuffers(resolveArch("eyeriss"), rs, layer).lines?.input).toBeUndefined();
    // Checked mode: every PE's reads find the words it expects in its line's slice.
    const r = simulate({ layer, arch, dataflow: m, checked: true });
    expect(r.verification.ok).toBe(true);
    // Every PE's writes are counted: 14 x 12 PEs' input windows, not 12 lines'.
    expect(r.counters["rf.write.input"]!.value).toBeGreaterThan(r.counters["noc.send.input"]!.value * 5);
  });
});
