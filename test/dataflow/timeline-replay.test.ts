// Timeline replay (src/dataflow/sequencer/timeline.ts): a fast, unchecked run replays recorded
// iteration timelines; with replay off it simulates every one. The two must agree on everything
// the model reports, on every named dataflow and preset and on random legal mappings; and a key
// that leaves out what a timeline depends on must make them disagree (the test can fail).
import { afterEach, describe, expect, it, vi } from "vitest";
import { SignatureSerials } from "../../src/dataflow/sequencer/plan-cache.js";
import { Program } from "../../src/dataflow/sequencer/program.js";
import { TimelineRuns, type RunTile } from "../../src/dataflow/sequencer/runs.js";
import { TimelineReplay, type Beside } from "../../src/dataflow/sequencer/timeline.js";
import { TimelineKeys } from "../../src/dataflow/sequencer/timeline-key.js";
import type { Thread } from "../../src/dataflow/sequencer/types.js";
import { Noc } from "../../src/pe-array/noc.js";
import { simulate, type SimulateOptions } from "../../src/dataflow/simulate.js";
import { difference, withoutRuns } from "../helpers/results.js";
import { convLayer, type ConvLayer } from "../../src/workload/layer.js";
import { eachRandomMapping } from "./random-mappings.js";
import { chen2020Variant } from "./preset-variants.js";
import { rng } from "./walk.js";

/** Runs `opts` with replay on and off; returns the difference, and the timelines replayed. */
function onOff(opts: SimulateOptions): { diff: string | undefined; replayed: number } {
  const on = simulate({ ...opts, timelineReplay: true });
  const off = simulate({ ...opts, timelineReplay: false });
  expect(off.simulator.replayedTimelines).toBe(0);
  return { diff: difference(on, off), replayed: on.simulator.replayedTimelines };
}

const LAYERS: readonly ConvLayer[] = [
  // Many channels: the same (r, s) iterations recur per channel.
  convLayer({ inChannels: 24, inHeight: 12, inWidth: 12, outChannels: 28, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] }),
  // Strided, asymmetric padding, batch 2: clipped tiles and halos at the edges.
  convLayer({ batch: 2, inChannels: 6, inHeight: 13, inWidth: 11, outChannels: 18, kernelHeight: 5, kernelWidth: 3, strides: [2, 1], pads: [2, 0, 1, 1] }),
  // Depthwise.
  convLayer({ inChannels: 8, inHeight: 10, inWidth: 10, outChannels: 8, kernelHeight: 3, kernelWidth: 3, groups: 8, pads: [1, 1, 1, 1] }),
];

/** AlexNet conv3's shape with fewer output channels: chen2020 chains its waves. */
const AlexNetConv3Like = convLayer({ inChannels: 64, inHeight: 13, inWidth: 13, outChannels: 48, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] });

const NAMED: readonly { readonly arch: string; readonly dataflows: readonly string[] }[] = [
  { arch: "chen2020", dataflows: ["chen2020", "ws", "os", "is", "rs"] },
  { arch: "eyeriss", dataflows: ["chen2020", "ws", "os", "is", "rs"] },
  { arch: "systolic", dataflows: ["ws", "os", "is"] },
];

/** Named dataflows on presets (default all) over {@link LAYERS}: the differences found and the timelines replayed. */
function namedMatrix(presets = NAMED): { diffs: string[]; replayed: number } {
  const diffs: string[] = [];
  let replayed = 0;
  for (const { arch, dataflows } of presets) {
    for (const dataflow of dataflows) {
      for (const [i, layer] of LAYERS.entries()) {
        const r = onOff({ layer, arch, dataflow, types: { input: "uint8", weight: "int8" }, zeroPoints: { input: 3, weight: -2 } });
        if (r.diff) diffs.push(`layer ${i} ${dataflow} on ${arch}: ${r.diff}`);
        replayed += r.replayed;
      }
    }
  }
  return { diffs, replayed };
}

describe("timeline replay", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("every named dataflow on every preset: replay on and off give identical outputs, counters, cycles and stalls", () => {
    const { diffs, replayed } = namedMatrix();
    expect(diffs).toEqual([]);
    expect(replayed).toBeGreaterThan(100);
  });

  it("random legal mappings (>= 200): replay on and off give identical results", () => {
    let replayed = 0;
    const runs = eachRandomMapping(
      320,
      (opts) => {
        const r = onOff(opts);
        expect(r.diff, JSON.stringify(opts.dataflow)).toBeUndefined();
        replayed += r.replayed;
      },
      14,
    );
    expect(runs).toBeGreaterThanOrEqual(200);
    expect(replayed).toBeGreaterThan(0);
  });

  it("pipelined programs (chained waves behind double-buffered operands) replay too, identically", () => {
    // chen2020 on its own preset double-buffers its operands and chains its waves.
    let replayed = 0;
    for (const layer of [...LAYERS, AlexNetConv3Like]) {
      const r = onOff({ layer, arch: "chen2020", dataflow: "chen2020" });
      expect(r.diff).toBeUndefined();
      replayed += r.replayed;
    }
    expect(replayed).toBeGreaterThan(100);
  });

  it("a pipelined key that leaves out which iterations a timeline spans replays wrong timelines, and the comparison sees it", () => {
    // Pipelined timelines only (no single-buffered key), all plan templates alike.
    vi.spyOn(TimelineKeys.prototype, "single").mockReturnValue(undefined);
    const runs = [...LAYERS, AlexNetConv3Like].map((layer) => onOff({ layer, arch: "chen2020", dataflow: "chen2020" }));
    expect(runs.every((r) => r.diff === undefined)).toBe(true);
    expect(runs.reduce((a, r) => a + r.replayed, 0)).toBeGreaterThan(100);
    vi.spyOn(TimelineKeys.prototype as unknown as { serial: () => number }, "serial").mockReturnValue(1);
    expect([...LAYERS, AlexNetConv3Like].some((layer) => onOff({ layer, arch: "chen2020", dataflow: "chen2020" }).diff !== undefined)).toBe(true);
  });

  it("pipelined timelines replay beside the next dram tile's prefetch too, identically, and only its own counters are restored", () => {
    withoutRuns();
    const layers = [AlexNetConv3Like, convLayer({ inChannels: 128, inHeight: 13, inWidth: 13, outChannels: 96, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] })];
    const real = TimelineReplay.prototype.replaySteady;
    const steady = vi.spyOn(TimelineReplay.prototype, "replaySteady");
    const beside = () => steady.mock.calls.filter((c) => c[1]).length;
    for (const layer of layers) expect(onOff({ layer, arch: "chen2020", dataflow: "chen2020" }).diff).toBeUndefined();
    expect(beside()).toBeGreaterThan(100);
    // Restoring every counter (the prefetch's DRAM and GBuf-write counters too) loses the
    // prefetch's progress during the replay: the comparison sees it.
    steady.mockImplementation(function (this: TimelineReplay, t, _beside, ...rest) {
      return real.call(this, t, false, ...rest);
    });
    expect(layers.some((layer) => onOff({ layer, arch: "chen2020", dataflow: "chen2020" }).diff !== undefined)).toBe(true);
  });

  it("pipelined timelines replay from a quiet boundary (the reads bound the pipeline: the wave chained behind is done), alone and beside a prefetch, identically; keyed without the reads' schedules, or restoring the prefetch's counters, they go wrong", () => {
    // chen2020 on layers of few pixels and many channels (ResNet-50's conv5 blocks): each (r, s)
    // step's GBuf reads outlast its wave, so no wave runs at the loop head.
    const layers = [
      convLayer({ inChannels: 64, inHeight: 9, inWidth: 9, outChannels: 40, kernelHeight: 3, kernelWidth: 3 }),
      convLayer({ inChannels: 32, inHeight: 7, inWidth: 7, outChannels: 48, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] }),
    ];
    const opts = (layer: ConvLayer): SimulateOptions => ({ layer, arch: "chen2020", dataflow: "chen2020", types: { input: "uint8", weight: "int8" }, zeroPoints: { input: 3, weight: -2 } });
    const real = TimelineReplay.prototype.replayQuiet;
    const quiet = vi.spyOn(TimelineReplay.prototype, "replayQuiet");
    for (const layer of layers) expect(onOff(opts(layer)).diff).toBeUndefined();
    const beside = quiet.mock.calls.filter((c) => c[1]).length;
    expect(beside).toBeGreaterThan(100);
    expect(quiet.mock.calls.length - beside).toBeGreaterThan(100);
    // Restoring every counter (the prefetch's too) loses the prefetch's progress during a replay beside it.
    quiet.mockImplementation(function (this: TimelineReplay, t, _beside, ...rest) {
      return real.call(this, t, false, ...rest);
    });
    expect(layers.some((layer) => onOff(opts(layer)).diff !== undefined)).toBe(true);
    quiet.mockRestore();
    // A key that leaves out the banked schedules of `after`'s GBuf reads.
    const key = TimelineKeys.prototype.quiet;
    vi.spyOn(TimelineKeys.prototype, "quiet").mockImplementation(function (this: TimelineKeys, cur, next, after) {
      return key.call(this, cur, next, { ...after, reads: [] });
    });
    expect(layers.some((layer) => onOff(opts(layer)).diff !== undefined)).toBe(true);
  });

  it("single-buffered timelines replay beside the next dram tile's prefetch too (chen2020's pointwise layers), identically, and only their own counters are restored", () => {
    // (timeline by timeline: runs of them, which replay beside these too, off: timeline-runs.test.ts)
    withoutRuns();
    // Fully connected and 1 x 1 layers: chen2020 streams slices of several channels through
    // single-buffered registers, the next slice prefetched (DRAM reads into GBuf writes) meanwhile.
    const layers = [
      convLayer({ inChannels: 768, inHeight: 1, inWidth: 1, outChannels: 2048, kernelHeight: 1, kernelWidth: 1 }),
      convLayer({ batch: 2, inChannels: 1024, inHeight: 1, inWidth: 1, outChannels: 1024, kernelHeight: 1, kernelWidth: 1 }),
      convLayer({ inChannels: 256, inHeight: 7, inWidth: 7, outChannels: 512, kernelHeight: 1, kernelWidth: 1 }),
    ];
    type Restore = (b: Float64Array, t: unknown, beside: boolean) => void;
    const proto = TimelineReplay.prototype as unknown as { besideOk: () => boolean; restore: Restore };
    const real = proto.restore;
    const besideOk = vi.spyOn(proto, "besideOk");
    const restore = vi.spyOn(proto, "restore");
    for (const layer of layers) expect(onOff({ layer, arch: "chen2020", dataflow: "chen2020" }).diff).toBeUndefined();
    expect(besideOk.mock.results.filter((r) => r.value === true).length).toBeGreaterThan(100);
    expect(restore.mock.calls.filter((c) => c[2]).length).toBeGreaterThan(100);
    // Restoring every counter (the prefetch's DRAM and GBuf-write counters too) loses the
    // prefetch's progress during the replay: the comparison sees it.
    restore.mockImplementation(function (this: unknown, b, t) {
      return real.call(this, b, t, false);
    });
    expect(layers.some((layer) => onOff({ layer, arch: "chen2020", dataflow: "chen2020" }).diff !== undefined)).toBe(true);
  });

  it("a dram tile's last single-buffered timeline replays too (it ends before the planning that enters the next tile and starts the prefetch after it), identically", () => {
    // chen2020's pointwise layers: every dram tile is a few iterations, the last one's planning
    // enters the next tile. Counted: boundaries where a timeline begins to replay and the
    // planning after it leaves the tile (none could before the timeline ended before it).
    const layers = [
      convLayer({ inChannels: 768, inHeight: 1, inWidth: 1, outChannels: 2048, kernelHeight: 1, kernelWidth: 1 }),
      convLayer({ inChannels: 256, inHeight: 7, inWidth: 7, outChannels: 512, kernelHeight: 1, kernelWidth: 1 }),
    ];
    type Boundary = (this: { timeline: TimelineReplay }, next: unknown, tile: RunTile) => unknown;
    const proto = TimelineRuns.prototype as unknown as { boundary: Boundary };
    const real = proto.boundary;
    let last = 0;
    vi.spyOn(proto, "boundary").mockImplementation(function (this: { timeline: TimelineReplay }, next, tile) {
      if (this.timeline.replayingNow() && !tile.more()) last++;
      return real.call(this, next, tile);
    });
    for (const layer of layers) expect(onOff({ layer, arch: "chen2020", dataflow: "chen2020" }).diff).toBeUndefined();
    // (the first layer has 154 dram tiles)
    expect(last).toBeGreaterThan(100);
  });

  it("a dram tile's first iteration replays from the join of its prefetch on (its deliveries), identically; keyed without its plan template it goes wrong", () => {
    // chen2020's pointwise layers, and ws on an FC layer (the chen2020 preset), whose dram tiles'
    // first iterations come in two templates.
    const cases: SimulateOptions[] = [
      { layer: convLayer({ inChannels: 768, inHeight: 1, inWidth: 1, outChannels: 2048, kernelHeight: 1, kernelWidth: 1 }), arch: "chen2020", dataflow: "chen2020" },
      { layer: convLayer({ inChannels: 256, inHeight: 7, inWidth: 7, outChannels: 512, kernelHeight: 1, kernelWidth: 1 }), arch: "chen2020", dataflow: "chen2020" },
      { layer: convLayer({ inChannels: 1024, inHeight: 1, inWidth: 1, outChannels: 1000, kernelHeight: 1, kernelWidth: 1 }), arch: "chen2020", dataflow: "ws" },
    ];
    type AfterJoin = (this: TimelineReplay, cur: { template?: object }, beside?: Beside) => void;
    const proto = TimelineReplay.prototype as unknown as { afterJoin: AfterJoin };
    const real = proto.afterJoin;
    let replays = 0;
    const spy = vi.spyOn(proto, "afterJoin").mockImplementation(function (this: TimelineReplay, cur, beside) {
      real.call(this, cur, beside);
      if (this.replayingNow()) replays++;
    });
    for (const c of cases) expect(onOff(c).diff).toBeUndefined();
    expect(replays).toBeGreaterThan(200);
    // Every first iteration keyed as one template: the ws case replays one template's record for
    // the other's, and the comparison sees it.
    const one = {};
    spy.mockImplementation(function (this: TimelineReplay, cur, beside) {
      real.call(this, cur.template ? { ...cur, template: one } : cur, beside);
    });
    expect(onOff(cases[2]!).diff).toBeDefined();
  });

  it("single-buffered timelines replay beside an output tile's write-back too (is on FC layers), identically, and only their own counters are restored", () => {
    // (timeline by timeline: runs of them, which replay beside these too, off: timeline-runs.test.ts)
    withoutRuns();
    // is on chen2020's FC layers: each output tile is written back to DRAM (a GBuf read, then a
    // DRAM write) beside the next tile's first iterations, which are short.
    const layers = [
      convLayer({ inChannels: 1024, inHeight: 1, inWidth: 1, outChannels: 1024, kernelHeight: 1, kernelWidth: 1 }),
      convLayer({ batch: 2, inChannels: 768, inHeight: 1, inWidth: 1, outChannels: 600, kernelHeight: 1, kernelWidth: 1 }),
    ];
    type Evictions = { evictions: ({ thread: Thread } | undefined)[] };
    const proto = Program.prototype as unknown as { beside: (this: Evictions) => Beside | undefined };
    const real = proto.beside;
    let withWriteBack = 0;
    const beside = vi.spyOn(proto, "beside").mockImplementation(function (this: Evictions) {
      const b = real.call(this);
      if (b && this.evictions.some((e) => e && b.threads.includes(e.thread))) withWriteBack++;
      return b;
    });
    const replayed: number[] = [];
    for (const layer of layers) {
      const r = onOff({ layer, arch: "chen2020", dataflow: "is" });
      expect(r.diff).toBeUndefined();
      replayed.push(r.replayed);
    }
    // (5,067 boundaries with a write-back beside; 10,749 and 4,647 replays, 7,346 and 3,186 without)
    expect(withWriteBack).toBeGreaterThan(2000);
    // Without the write-backs beside, far fewer timelines replay.
    beside.mockImplementation(function (this: Evictions) {
      const b = real.call(this);
      if (!b || !this.evictions.some((e) => e && b.threads.includes(e.thread))) return b;
      const threads = b.threads.filter((t) => !this.evictions.some((e) => e?.thread === t));
      return threads.length > 0 ? { ...b, threads } : undefined;
    });
    layers.forEach((layer, i) => expect(onOff({ layer, arch: "chen2020", dataflow: "is" }).replayed).toBeLessThan(replayed[i]! - 1000));
    // Restoring every counter (the write-back's DRAM counters too) loses the write-back's progress
    // during the replay: the comparison sees it.
    beside.mockImplementation(real);
    type Restore = (b: Float64Array, t: unknown, beside: boolean) => void;
    const restoreProto = TimelineReplay.prototype as unknown as { restore: Restore };
    const realRestore = restoreProto.restore;
    vi.spyOn(restoreProto, "restore").mockImplementation(function (this: unknown, b, t) {
      return realRestore.call(this, b, t, false);
    });
    expect(layers.some((layer) => onOff({ layer, arch: "chen2020", dataflow: "is" }).diff !== undefined)).toBe(true);
  });

  it("chen2020 on random pointwise layers and random variants of its preset (single-buffered, beside a prefetch): replay on and off give identical results", () => {
    // (timeline by timeline: runs of them, which replay beside these too, off: timeline-runs.test.ts)
    withoutRuns();
    type Restore = (b: Float64Array, t: unknown, beside: boolean) => void;
    const restore = vi.spyOn(TimelineReplay.prototype as unknown as { restore: Restore }, "restore");
    const beside = () => restore.mock.calls.filter((c) => c[2]).length;
    const rnd = rng(20261216);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    let cases = 0;
    for (let i = 0; i < 16; i++) {
      const hw = pick([1, 1, 3]);
      const layer = convLayer({ batch: pick([1, 1, 2]), inChannels: pick([96, 300, 512]), inHeight: hw, inWidth: hw, outChannels: pick([64, 200, 700]), kernelHeight: 1, kernelWidth: 1 });
      // (fast weight buses and few weight entries: single-buffered registers; a GBuf that holds
      // two slices: the next one prefetched)
      const archOverrides = {
        array: { rows: pick([6, 12]), cols: pick([8, 14]) },
        noc: { inputWordsPerCycle: pick([2, 12]), weightWordsPerCycle: pick([14, 28]) },
        gbuf: { banks: pick([4, 8]), readPorts: pick([1, 2]), capacityBytes: pick([49152, 98304]) },
        rf: { weightEntries: pick([8, 12, 24]) },
        dram: { bytesPerCycle: pick([4, 16]), latencyCycles: pick([10, 40]) },
      };
      const before = beside();
      const res = onOff({ layer, arch: "chen2020", archOverrides, dataflow: "chen2020", seed: i });
      expect(res.diff, JSON.stringify({ layer, archOverrides })).toBeUndefined();
      if (beside() > before) cases++;
    }
    expect(cases).toBeGreaterThanOrEqual(3);
    expect(beside()).toBeGreaterThan(200);
  });

  it("chen2020 on random layers and random variants of its preset (pipelined, chained): replay on and off give identical results", () => {
    withoutRuns();
    const steady = vi.spyOn(TimelineReplay.prototype, "replaySteady");
    const rnd = rng(20261203);
    let replayed = 0;
    let pipelined = 0;
    for (let i = 0; i < 32; i++) {
      const { layer, archOverrides } = chen2020Variant(rnd);
      const res = onOff({ layer, arch: "chen2020", archOverrides, dataflow: "chen2020", seed: i });
      expect(res.diff, JSON.stringify({ layer, archOverrides })).toBeUndefined();
      if (steady.mock.calls.length > replayed) pipelined++;
      replayed = steady.mock.calls.length;
    }
    // (7 of the 32 cases replay 2,287 pipelined timelines)
    expect(pipelined).toBeGreaterThanOrEqual(5);
    expect(replayed).toBeGreaterThan(1000);
  });

  it("checked and reference runs never replay", () => {
    // is on eyeriss: single-buffered registers.
    const opts = { layer: LAYERS[0]!, arch: "eyeriss", dataflow: "is" };
    expect(simulate({ ...opts, checked: true }).simulator.replayedTimelines).toBe(0);
    expect(simulate({ ...opts, mode: "reference" }).simulator.replayedTimelines).toBe(0);
    expect(simulate(opts).simulator.replayedTimelines).toBeGreaterThan(0);
  });

  it("a key that leaves out which iterations a timeline spans replays wrong timelines, and the comparison sees it", () => {
    // Every plan template gets the same serial: timelines of different iterations share keys.
    vi.spyOn(TimelineKeys.prototype as unknown as { serial: () => number }, "serial").mockReturnValue(1);
    expect(namedMatrix(NAMED.slice(0, 1)).diffs.length).toBeGreaterThan(0);
  });

  it("timelines that drain (ws, os: output tiles leave the PEs) replay too, identically", () => {
    const drains = vi.spyOn(Noc.prototype, "drainNow");
    let replayed = 0;
    const cases = [
      { layer: LAYERS[0]!, arch: "eyeriss", dataflow: "ws" },
      { layer: AlexNetConv3Like, arch: "eyeriss", dataflow: "ws" },
      { layer: LAYERS[1]!, arch: "eyeriss", dataflow: "os" },
      { layer: LAYERS[1]!, arch: "chen2020", dataflow: "os" },
    ];
    for (const c of cases) {
      const r = onOff(c);
      expect(r.diff, `${c.dataflow} on ${c.arch}`).toBeUndefined();
      replayed += r.replayed;
    }
    expect(replayed).toBeGreaterThan(1000);
    // Drains were replayed, not only the timelines between them.
    expect(drains.mock.calls.length).toBeGreaterThan(1000);
  });

  it("a key that names every drain alike replays wrong timelines, and the comparison sees it", () => {
    // Every drain signature gets the same serial: drains that write and drains that accumulate,
    // at other places in the GBuf banks, share keys.
    vi.spyOn(SignatureSerials.prototype, "serial").mockReturnValue(1);
    const r = onOff({ layer: LAYERS[0]!, arch: "eyeriss", dataflow: "ws" });
    expect(r.diff).toBeDefined();
  });

  it("a key without the GBuf reads' banked schedules replays wrong timelines, and the comparison sees it", () => {
    vi.spyOn(TimelineKeys.prototype as unknown as { schedules: () => boolean }, "schedules").mockReturnValue(true);
    expect(namedMatrix(NAMED.slice(1, 2)).diffs.length).toBeGreaterThan(0);
  });
});
