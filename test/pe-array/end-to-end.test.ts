/**
 * A tiny convolution run through every component by a hand-written driver (what a Sequencer will
 * do, one mapping hard-coded): DRAM -> GBuf -> Noc multicast -> RFs -> MAC wave -> drain -> GBuf ->
 * DRAM, checked mode on, in both engine modes, compared with referenceConv bit for bit.
 * Mapping: PE (p, k) computes output row p of output channel k (3 x 3 PEs), all C x R x S in its RF.
 */
import { describe, expect, it } from "vitest";
import { Engine, type SimMode } from "../../src/core/index.js";
import { DramChannel, GlobalBuffer, type DramRequest, type DramResponse, type GbufRequest, type GbufResponse } from "../../src/memory/index.js";
import { Noc, PeArray, type NocRequest, type NocResponse, type PeArrayCommand, type PeArrayDone, type WaitReason } from "../../src/pe-array/index.js";
import { referenceConv } from "../../src/workload/reference.js";
import { Stub } from "../core/stub.js";

const C = 2, H = 5, W = 5, K = 3, R = 3, S = 3, P = 3, Q = 3;
const XZ = 3, WZ = -2;

function run(mode: SimMode) {
  const e = new Engine({ mode, checked: true });
  e.nameTagSpace(1, "x");
  e.nameTagSpace(2, "w");
  e.nameTagSpace(3, "y");
  const arch = {
    dram: { bytesPerCycle: 8, latencyCycles: 20, burstBytes: 16, maxOutstanding: 2 },
    gbuf: { capacityBytes: 1024, banks: 4, bankWordBytes: 4, wordsPerCyclePerBank: 1, readPorts: 2, writePorts: 2 },
    rf: { inputEntries: C * R * W, weightEntries: C * R * S, psumEntries: Q, readPorts: 2, writePorts: 2 },
    array: { rows: P, cols: K, macsPerCycle: 1, pipelineLatency: 1 },
    noc: { inputWordsPerCycle: 4, weightWordsPerCycle: 4, drainWordsPerCycle: 2, neighbourLinks: false },
  };
  const d = new Stub(e);
  const dram = new DramChannel(e, arch.dram);
  const gbuf = new GlobalBuffer(e, arch.gbuf);
  const pe = new PeArray(e, arch);
  const noc = new Noc(e, arch);
  const toDram = d.out<DramRequest>("dram");
  const toGbuf = d.out<GbufRequest>("gbuf");
  const toNoc = d.out<NocRequest>("noc");
  const toPe = d.out<PeArrayCommand>("pe");
  const why = d.out<WaitReason>("why");
  e.connect(toDram, dram.cmd, { capacity: 4 });
  e.connect(dram.resp, d.in<DramResponse>("dramResp"), { capacity: 4 });
  e.connect(toGbuf, gbuf.cmd, { capacity: 4 });
  e.connect(gbuf.resp, d.in<GbufResponse>("gbufResp"), { capacity: 4 });
  e.connect(toNoc, noc.cmd, { capacity: 4 });
  e.connect(noc.resp, d.in<NocResponse>("nocResp"), { capacity: 4 });
  e.connect(toPe, pe.cmd, { capacity: 4 });
  e.connect(pe.done, d.in<PeArrayDone>("peDone"), { capacity: 4 });
  e.connect(why, pe.waitReason);
  e.connect(noc.peSide, pe.fromNoc, { capacity: 8 });
  e.connect(pe.toNoc, noc.fromPe, { capacity: 8 });

  const x = Uint8Array.from({ length: C * H * W }, (_, i) => (i * 37 + 11) % 256);
  const w = Int8Array.from({ length: K * C * R * S }, (_, i) => ((i * 53 + 7) % 256) - 128);
  const xt = dram.load("x", "input", x, { space: 1 });
  const wt = dram.load("w", "weight", w, { space: 2 });
  const yt = dram.allocate("y", "output", "int32", K * P * Q);
  const gx = gbuf.allocate("x", "input", "uint8", C * H * W);
  const gw = gbuf.allocate("w", "weight", "int8", K * C * R * S);
  const gy = gbuf.allocate("y", "output", "int32", K * P * Q);
  const all = pe.all();
  const whole = (n: number) => ({ shape: [n], offset: 0, strides: [1] });

  // The driver: steps, each waiting for the responses it asked for.
  let waiting = 0;
  const steps: ((now: number) => void)[] = [];
  const got = new Map<string, unknown>();
  const next = (now: number) => {
    const s = steps.shift();
    if (s) s(now);
  };
  d.react = (r, now) => {
    const m = r.msg as { id: number; payload?: unknown };
    got.set(`${r.port}:${m.id}`, m);
    if (--waiting === 0) next(now);
  };
  const ask = (n: number) => {
    waiting = n;
  };
  steps.push((now) => {
    d.send(why, "dram", now);
    d.send(toDram, { op: "read", id: 1, tensor: xt, box: whole(x.length), expect: { space: 1, offset: 0, strides: [1] } }, now);
    d.send(toDram, { op: "read", id: 2, tensor: wt, box: whole(w.length), expect: { space: 2, offset: 0, strides: [1] } }, now);
    ask(2);
  });
  steps.push((now) => {
    d.send(why, "gbuf", now);
    const rx = got.get("dramResp:1") as DramResponse;
    const rw = got.get("dramResp:2") as DramResponse;
    d.send(toGbuf, { op: "write", id: 1, region: gx, box: whole(x.length), payload: rx.payload! }, now);
    d.send(toGbuf, { op: "write", id: 2, region: gw, box: whole(w.length), payload: rw.payload! }, now);
    ask(2);
  });
  steps.push((now) => {
    // Input rows p..p+2 of both channels for PE row p; weights of channel k for PE column k.
    for (let p = 0; p < P; p++)
      d.send(toGbuf, { op: "read", id: 10 + p, region: gx, box: { shape: [C, R, W], offset: p * W, strides: [H * W, W, 1] }, expect: { space: 1, offset: p * W, strides: [H * W, W, 1] } }, now);
    for (let k = 0; k < K; k++)
      d.send(toGbuf, { op: "read", id: 20 + k, region: gw, box: { shape: [C * R * S], offset: k * C * R * S, strides: [1] }, expect: { space: 2, offset: k * C * R * S, strides: [1] } }, now);
    ask(P + K);
  });
  steps.push((now) => {
    d.send(why, "network", now);
    for (let p = 0; p < P; p++) {
      const r = got.get(`gbufResp:${10 + p}`) as GbufResponse;
      d.send(toNoc, { op: "deliver", id: 10 + p, part: "input", pes: pe.row(p), box: whole(C * R * W), payload: r.payload! }, now);
    }
    for (let k = 0; k < K; k++) {
      const r = got.get(`gbufResp:${20 + k}`) as GbufResponse;
      d.send(toNoc, { op: "deliver", id: 20 + k, part: "weight", pes: pe.col(k), box: whole(C * R * S), payload: r.payload! }, now);
    }
    d.send(toPe, { op: "fill", id: 1, part: "psum", pes: all, box: whole(Q), value: 0, tags: { space: 3, rowStride: Q, colStride: P * Q, strides: [1] } }, now);
    ask(P + K + 1);
  });
  steps.push((now) => {
    d.send(toPe, {
      op: "wave",
      id: 2,
      wave: {
        pes: all,
        loops: [Q, C, R, S],
        input: { offset: 0, strides: [1, R * W, W, 1] },
        weight: { offset: 0, strides: [0, R * S, S, 1] },
        psum: { offset: 0, strides: [1, 0, 0, 0] },
        inputZero: XZ,
        weightZero: WZ,
        expect: {
          input: { space: 1, rowStride: W, strides: [1, H * W, W, 1] },
          weight: { space: 2, colStride: C * R * S, strides: [0, R * S, S, 1] },
          psum: { space: 3, rowStride: Q, colStride: P * Q, strides: [1, 0, 0, 0] },
        },
      },
    }, now);
    ask(1);
  });
  steps.push((now) => {
    d.send(why, "drain", now);
    d.send(toNoc, { op: "drain", id: 30, part: "psum", pes: all, box: whole(Q), expect: { space: 3, rowStride: Q, colStride: P * Q, strides: [1] } }, now);
    ask(1);
  });
  steps.push((now) => {
    const r = got.get("nocResp:30") as NocResponse;
    // Drain order: PE (p, k) row-major, then q: y index k*P*Q + p*Q + q.
    d.send(toGbuf, { op: "write", id: 30, region: gy, box: { shape: [P, K, Q], offset: 0, strides: [Q, P * Q, 1] }, payload: r.payload! }, now);
    ask(1);
  });
  steps.push((now) => {
    d.send(toGbuf, { op: "read", id: 31, region: gy, box: whole(K * P * Q), expect: { space: 3, offset: 0, strides: [1] } }, now);
    ask(1);
  });
  steps.push((now) => {
    d.send(why, "dram", now);
    const r = got.get("gbufResp:31") as GbufResponse;
    d.send(toDram, { op: "write", id: 3, tensor: yt, box: whole(K * P * Q), payload: r.payload! }, now);
    ask(1);
  });
  steps.push((now) => {
    d.send(why, "control", now);
  });
  next(0);
  const res = e.run({ maxCycles: 100_000 });
  return { x, w, y: Array.from(dram.contents(yt)), cycles: res.cycles, counters: e.counters.values() };
}

describe("end to end: a small convolution through every component", () => {
  it("matches referenceConv bit for bit, with identical cycles and counters in both modes", () => {
    const ref = run("reference");
    const fast = run("fast");
    const layer = { inChannels: C, inHeight: H, inWidth: W, outChannels: K, kernelHeight: R, kernelWidth: S };
    const expected = referenceConv(layer, ref.x, ref.w, { xZeroPoint: XZ, wZeroPoint: WZ });
    expect(ref.y).toEqual(Array.from(expected));
    expect(fast.y).toEqual(ref.y);
    expect(fast.cycles).toBe(ref.cycles);
    expect(fast.counters).toEqual(ref.counters);
    const c = ref.counters;
    expect(c["pe.mac"]).toBe(K * P * Q * C * R * S);
    expect(c["dram.read.input"]).toBe(C * H * W);
    expect(c["dram.write.output"]).toBe(K * P * Q);
    expect(c["noc.send.input"]).toBe(P * C * R * W); // one bus word per source word
    expect(c["noc.deliver.input"]).toBe(P * K * C * R * W); // multicast to a row of K PEs
    expect(c["gbuf.read.weight"]).toBe(K * C * R * S);
    const peCycles = c["pe.busy"]! + Object.entries(c).filter(([k]) => k.startsWith("pe.idle.")).reduce((a, [, v]) => a + v, 0);
    expect(peCycles).toBe(P * K * ref.cycles);
    expect(c["pe.idle.dram"]).toBeGreaterThan(0);
  });
});
