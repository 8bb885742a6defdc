/**
 * The mapper's estimate of DRAM bursts, in closed form: how many aligned bursts a mapping's DRAM
 * transfers take, per tensor and direction, from the shape of the tile each transfer moves
 * (docs/mapper.md, "Cycles"). The words are exact (traffic.ts); the bursts are an estimate: each
 * tensor's words are charged the bursts per word of its full tile (edge tiles, the input halo a
 * dram loop keeps and the tiles' alignment all average out), so a tile whose rows are short in
 * DRAM pays for the bytes its bursts carry that it did not ask for, as the channel does
 * (docs/timing.md, "DramChannel").
 */
import type { ArchSpec } from "../arch/spec.js";
import { DIMS, dimSizes, tileExtents, tileVisits, type Dim, type Mapping, type TensorName } from "../dataflow/mapping.js";
import { runsOf, touched } from "../dataflow/sequencer/geometry.js";
import { weightLayoutOf, type WeightLayout } from "../dataflow/sequencer/layout.js";
import type { BoundaryWords } from "../dataflow/traffic.js";
import { burstsPerCycleOf } from "../memory/dram-timing.js";
import { convShape, type ConvLayer } from "../workload/layer.js";

/**
 * Expected bursts of one box of a row-major array: `extents[i]` of `sizes[i]` elements along each
 * dimension (outermost first), `elemBytes` each, bursts of `burstBytes` aligned to the array's
 * start. From the innermost dimension out, rows closer than a burst merge into one span (no
 * aligned burst fits in the gaps between them, so every burst of the span is taken); farther
 * apart, each is its own span. A span of n bytes starting at a random element of a burst takes
 * `1 + (n - elemBytes) / burstBytes` bursts on average.
 */
export function boxBursts(extents: readonly number[], sizes: readonly number[], elemBytes: number, burstBytes: number): number {
  const dims: [number, number][] = [];
  let stride = 1;
  for (let i = extents.length - 1; i >= 0; i--) {
    dims.unshift([extents[i]!, stride]);
    stride *= sizes[i]!;
  }
  return stridedBursts(dims, elemBytes, burstBytes);
}

/**
 * {@link boxBursts} of a box given as `[extent, stride in elements]` per dimension (outermost
 * first, strides decreasing, no two of its elements at one place).
 */
export function stridedBursts(dims: readonly (readonly [number, number])[], elemBytes: number, burstBytes: number): number {
  let span = 0;
  let spans = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    const [e, stride] = dims[i]!;
    if (span === 0) span = e === 1 ? elemBytes : (e - 1) * stride * elemBytes + elemBytes;
    else if (e > 1) {
      if (spans === 1 && stride * elemBytes - span < burstBytes) span += (e - 1) * stride * elemBytes;
      else spans *= e;
    }
  }
  return spans * (1 + (span - elemBytes) / burstBytes);
}

/**
 * The runs of one input axis that the Sequencer's fetch reads for a tile of `o` outputs and `k`
 * taps (sequencer/fetch.ts: only the coordinates some window reads, cut into runs of one step by
 * `runsOf`, a DRAM read per row run and column run, so runs share no burst), over every tile of
 * the axis (outputs and taps, edges and padding included): `[count, step]` of each distinct run
 * shape and how many runs have it. Memoized.
 */
function inputRuns(o: number, k: number, stride: number, dilation: number, pad: number, size: number, outSize: number, kernel: number): readonly { readonly count: number; readonly step: number; readonly runs: number }[] {
  const key = `${o},${k},${stride},${dilation},${pad},${size},${outSize},${kernel}`;
  let hit = RUNS.get(key);
  if (!hit) {
    const shapes = new Map<string, { count: number; step: number; runs: number }>();
    for (let o0 = 0; o0 < outSize; o0 += o)
      for (let k0 = 0; k0 < kernel; k0 += k)
        for (const r of runsOf(touched(size, stride, dilation, pad, o0, Math.min(o, outSize - o0), k0, Math.min(k, kernel - k0)), (v) => v, (v) => v)) {
          const step = r.count > 1 ? r.coordStep : 1;
          const s = shapes.get(`${r.count},${step}`);
          if (s) s.runs++;
          else shapes.set(`${r.count},${step}`, { count: r.count, step, runs: 1 });
        }
    if (RUNS.size > 4096) RUNS.clear();
    RUNS.set(key, (hit = [...shapes.values()]));
  }
  return hit;
}

const RUNS = new Map<string, readonly { readonly count: number; readonly step: number; readonly runs: number }[]>();

type Extents = Readonly<Record<Dim, number>>;

/** The clipped tile extents at the gbuf, spatial and rf levels (`tileExtents`, in one pass without fused groups: the search calls this per candidate). */
export interface LevelExtents {
  readonly all: Extents;
  readonly gbuf: Extents;
  readonly spatial: Extents;
  readonly rf: Extents;
  /** With fused groups, each level's `tileVisits` (their tiles are no product of per-dimension tiles). */
  readonly tiles?: Readonly<Record<"gbuf" | "spatial" | "rf", number>>;
}

/** {@link LevelExtents} of a mapping (fused groups through `tileExtents` and `tileVisits`). */
export function levelExtents(m: Mapping, layer: ConvLayer): LevelExtents {
  const all = dimSizes(layer);
  if (m.fuse?.length) {
    const at = (level: "gbuf" | "spatial" | "rf") => tileExtents(m, layer, level);
    return { all, gbuf: at("gbuf"), spatial: at("spatial"), rf: at("rf"), tiles: { gbuf: tileVisits(m, layer, "gbuf"), spatial: tileVisits(m, layer, "spatial"), rf: tileVisits(m, layer, "rf") } };
  }
  const rf = { ...ONES }, spatial = { ...ONES }, gbuf = { ...ONES };
  for (const l of m.rf.loops) rf[l.dim] *= l.factor;
  for (const d of DIMS) spatial[d] = rf[d];
  for (const l of m.spatial.loops) spatial[l.dim] *= l.factor;
  for (const d of DIMS) gbuf[d] = spatial[d];
  for (const l of m.gbuf.loops) gbuf[l.dim] *= l.factor;
  for (const d of DIMS) {
    rf[d] = Math.min(rf[d], all[d]);
    spatial[d] = Math.min(spatial[d], all[d]);
    gbuf[d] = Math.min(gbuf[d], all[d]);
  }
  return { all, gbuf, spatial, rf };
}

/** How many tiles of a level there are (`tileVisits`): without fused groups, the product of each dimension's tiles. */
export function tilesOf(x: LevelExtents, level: "gbuf" | "spatial" | "rf"): number {
  if (x.tiles) return x.tiles[level];
  let n = 1;
  for (const d of DIMS) n *= Math.ceil(x.all[d] / x[level][d]);
  return n;
}

const ONES: Record<Dim, number> = { N: 1, G: 1, K: 1, C: 1, P: 1, Q: 1, R: 1, S: 1 };

/**
 * The Sequencer's DRAM weight layout (sequencer/layout.ts, `weightLayout`), by its rule
 * (`weightLayoutOf`) from the extents at hand instead of a Nest.
 */
export function weightOrder(m: Mapping, layer: ConvLayer, x: LevelExtents): WeightLayout {
  const tile = m.gbuf.keep.weight ? x.gbuf : x.rf;
  return weightLayoutOf(tile, x.spatial, layer.inChannels / layer.groups, Boolean(m.rf.stream?.weight));
}

/**
 * Accesses per word (bursts or bank words of `unit` bytes) of a tensor's tile of `tile` extents
 * within an array of `within` extents (the layer in DRAM, or a GBuf tile), stored in the tensor's
 * order: inputs NCHW (the rows and columns the tile's windows cover), outputs NKPQ, weights in
 * `weights`'s layout.
 */
function perWord(t: TensorName, tile: Extents, within: Extents, layer: ConvLayer, weights: WeightLayout, bytes: Readonly<Record<TensorName, number>>, unit: number): number {
  const per = (ext: number[], sizes: number[], b: number) => boxBursts(ext, sizes, b, unit) / ext.reduce((a, x) => a * x, 1);
  const covered = (e: Extents, a: 0 | 1) => {
    const [o, k, size] = a === 0 ? [e.P, e.R, layer.inHeight] : [e.Q, e.S, layer.inWidth];
    return Math.min(size, (o - 1) * layer.strides[a] + (k - 1) * layer.dilations[a] + 1);
  };
  switch (t) {
    case "input":
      return per([tile.N, tile.G * tile.C, covered(tile, 0), covered(tile, 1)], [within.N, within.G * within.C, covered(within, 0), covered(within, 1)], bytes.input);
    case "output":
      return per([tile.N, tile.G * tile.K, tile.P, tile.Q], [within.N, within.G * within.K, within.P, within.Q], bytes.output);
    case "weight":
      if (weights === "HWIO") return per([tile.G, tile.R, tile.S, tile.C, tile.K], [within.G, within.R, within.S, within.C, within.K], bytes.weight);
      return weights === "OIHW"
        ? per([tile.G * tile.K, tile.C, tile.R, tile.S], [within.G * within.K, within.C, within.R, within.S], bytes.weight)
        : per([tile.G, tile.C, tile.K, tile.R, tile.S], [within.G, within.C, within.K, within.R, within.S], bytes.weight);
  }
}

/**
 * Bursts of `burstBytes` per word of an input tile of `tile` extents fetched from DRAM (NCHW,
 * `elemBytes` a word): only the rows and columns some window reads, a read per row run and
 * column run ({@link inputRuns}), every run's box taking the bursts of one.
 */
function dramInputPerWord(tile: Extents, layer: ConvLayer, elemBytes: number, burstBytes: number): number {
  const [H, W] = [layer.inHeight, layer.inWidth];
  const sh = convShape(layer);
  let bursts = 0, words = 0;
  for (const r of inputRuns(tile.P, tile.R, layer.strides[0], layer.dilations[0], layer.pads[0], H, sh.outHeight, layer.kernelHeight))
    for (const c of inputRuns(tile.Q, tile.S, layer.strides[1], layer.dilations[1], layer.pads[1], W, sh.outWidth, layer.kernelWidth)) {
      const dims: [number, number][] = [[tile.N, layer.inChannels * H * W], [tile.G * tile.C, H * W], [r.count, r.step * W], [c.count, c.step]];
      bursts += r.runs * c.runs * stridedBursts(dims, elemBytes, burstBytes);
      words += r.runs * c.runs * tile.N * tile.G * tile.C * r.count * c.count;
    }
  return words > 0 ? bursts / words : 0;
}

/** Bursts per word of each tensor's DRAM transfers (see the file header; outputs and partial sums are int32 in DRAM). */
export function burstsPerWord(m: Mapping, layer: ConvLayer, arch: ArchSpec, bytes: Readonly<Record<TensorName, number>>, x: LevelExtents = levelExtents(m, layer)): Record<TensorName, number> {
  const { all, gbuf, spatial } = x;
  const layout = weightOrder(m, layer, x);
  const dramBytes = { ...bytes, output: 4 };
  // A tensor the GBuf keeps moves in GBuf tiles; one it bypasses in the array's tiles, per gbuf iteration.
  const tile = (t: TensorName) => (m.gbuf.keep[t] ? gbuf : spatial);
  const of = (t: "weight" | "output") => perWord(t, tile(t), all, layer, layout, dramBytes, arch.dram.burstBytes);
  return { input: dramInputPerWord(tile("input"), layer, bytes.input, arch.dram.burstBytes), weight: of("weight"), output: of("output") };
}

/**
 * Bank words per word of the GBuf's accesses towards the array, per tensor: the array's tile
 * (one gbuf iteration's) read from, or for outputs added into, the GBuf tile, which the GBuf
 * keeps in the tensor's order. 1 / (words per bank word) when the tile is the GBuf's.
 */
export function bankWordsPerWord(m: Mapping, layer: ConvLayer, arch: ArchSpec, bytes: Readonly<Record<TensorName, number>>, x: LevelExtents = levelExtents(m, layer)): Record<TensorName, number> {
  const { gbuf, spatial } = x;
  const layout = weightOrder(m, layer, x);
  const of = (t: TensorName) => perWord(t, spatial, gbuf, layer, layout, bytes, arch.gbuf.bankWordBytes);
  return { input: of("input"), weight: of("weight"), output: of("output") };
}

/** Expected DRAM bursts of a mapping's transfers per tensor (reads and writes; an accumulate's read counted with the reads). */
export function dramBursts(m: Mapping, layer: ConvLayer, arch: ArchSpec, d: BoundaryWords, bytes: Readonly<Record<TensorName, number>>, x: LevelExtents = levelExtents(m, layer)): Record<TensorName, number> {
  const p = burstsPerWord(m, layer, arch, bytes, x);
  return { input: (d.read.input + d.write.input) * p.input, weight: (d.read.weight + d.write.weight) * p.weight, output: (d.read.output + d.write.output) * p.output };
}

/**
 * Cycles a stream of bursts takes on the channel (docs/timing.md, `channel`): each burst holds the
 * bus `burstBytes / bytesPerCycle` cycles, at most `burstsPerCycle` issue a cycle, and at most
 * `maxOutstanding` are in flight, each for the latency and its bus time, so a window-bound stream
 * takes `(latency + bus time) / maxOutstanding` a burst. 0 for ideal memory.
 */
export function burstCycles(arch: ArchSpec): number {
  const dram = arch.dram;
  if (dram.model === "ideal") return 0;
  const bus = dram.burstBytes / dram.bytesPerCycle;
  return Math.max(bus, 1 / burstsPerCycleOf(dram), (dram.latencyCycles + bus) / dram.maxOutstanding);
}
