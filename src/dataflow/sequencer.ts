/**
 * The Sequencer: executes any legal Mapping through the engine (DESIGN.md, "The flow of one
 * simulation"). It is the accelerator's controller: a component that walks the loop nest and
 * sends transactions to the DRAM channel, the global buffer, the network and the PE array, so
 * that real values move DRAM -> GBuf -> RF -> MAC -> RF -> GBuf -> DRAM. It knows the mapping; the
 * hardware models do not.
 *
 * What it does, per level of the nest (mapping.ts gives the semantics):
 * - dram iteration: for each tensor the GBuf keeps, if the GBuf tile changes, the words of the new
 *   tile are fetched from DRAM (only input rows and columns some window reads: padding and rows a
 *   stride skips are never fetched) and written into the tensor's GBuf region, laid out compactly
 *   (rank of each touched row and column). Before an output tile leaves the GBuf, every PE's
 *   partial sums are drained into it; the tile is then written to DRAM, added to what DRAM already
 *   holds for it when an earlier tile was spilled (read-modify-write: one DRAM read and one write
 *   per word).
 * - gbuf iteration: for each PE whose RF tile of a tensor changes, the tile is delivered from the
 *   GBuf (or straight from DRAM when the GBuf bypasses the tensor). Each distinct tile is read once
 *   at its source and carried once on the bus to every PE that needs it (multicast); the distinct
 *   tiles of one iteration whose addresses differ by a constant step are gathered by one read and
 *   handed out by one transfer (a box index per PE). A PE stores its input window as the dense
 *   span in padded coordinates; padding is filled in place with the input zero point (`rf.fill`,
 *   never fetched). A PE whose output tile changes drains its partial sums first; PEs that share
 *   an output tile because a reduction dimension (C, R, S) is spread across the array are summed,
 *   along a line of the array over the neighbour links when the architecture has them and the
 *   PEs form one, else on the drain path, and the sum is added into the GBuf (or DRAM) copy with
 *   a read-modify-write when one exists. New output tiles start at 0 in the RF (`rf.fill`). Then
 *   one MAC wave per rectangle of PEs with the same tile shape runs the rf-level loops.
 * - end: every PE drains; every GBuf output tile is written back.
 * - DRAM layout: weights are stored in the order the dataflow streams them ({@link WeightLayout}).
 *
 * Timing (docs/timing.md): the main program is a sequence of steps; each step's transactions are
 * issued together and the next step starts when all of them have completed. The GBuf reads of the
 * next gbuf iteration are issued with the current MAC waves; with a double-buffered GBuf the next
 * dram iteration's tiles are prefetched, and output write-backs overlap the next tile, as
 * cooperative threads ({@link Thread}). With single-buffered register files deliveries never
 * overlap a PE's own MAC wave; with `rf.doubleBuffer` the next iteration's operands are delivered
 * into the other halves during the wave. Bias is not applied here.
 *
 * Streams (`mapping.rf.stream`, a systolic array): a streamed operand is delivered again for every
 * wave (it passes through the PE, nothing stays), into a stream buffer the simulator keeps in
 * place of the pipeline register, and the wave command names it, so the PE array charges the
 * skew and counts the words forwarded over the links; a streamed output leaves the PEs after
 * every wave (reduced down its column over the links and drained) while the next wave fills the
 * other half of its stream buffer.
 *
 * Checked mode: inputs are tagged by their index in the padded input (padding included, so padded
 * positions have tags of their own), weights and outputs by their flat index; every read states
 * the tags it expects, so a wrong schedule fails with the address and both tags.
 */
import { Component, InvariantError, Outbox, sameNumbers, type Box, type Engine, type InPort, type OutPort, type Payload, type WordArray } from "../core/index.js";
import type { ArchSpec } from "../arch/spec.js";
import type { DramChannel, DramRequest, DramResponse, DramTensor, GbufRegion, GbufRequest, GbufResponse, GlobalBuffer } from "../memory/index.js";
import type { MacWave, NocRequest, NocResponse, PeArrayCommand, PeArrayDone, PeFillCommand, PeRect, PeSlideCommand, PeTagExpect, WaitReason, WaveStream } from "../pe-array/index.js";
import { convShape, type ConvLayer, type ConvShape } from "../workload/layer.js";
import type { OperandType } from "../workload/dtype.js";
import { inputSpan, maxTouchedInputs, inputAxis, streamFlows, type Mapping } from "./mapping.js";
import { Nest, NDIMS, startKey } from "./nest.js";

/** Tag spaces of the three tensors (checked mode). */
export const TAG_SPACE = Object.freeze({ input: 1, weight: 2, output: 3 });

const N = 0, G = 1, K = 2, C = 3, P = 4, Q = 5, R = 6, S = 7;
const INPUT_DIMS = [N, G, C, P, Q, R, S];
const WEIGHT_DIMS = [G, K, C, R, S];
const OUTPUT_DIMS = [N, G, K, P, Q];
const ALL_DIMS = [N, G, K, C, P, Q, R, S];

type Req =
  | { readonly to: "dram"; readonly msg: DramRequest }
  | { readonly to: "gbuf"; readonly msg: GbufRequest }
  | { readonly to: "noc"; readonly msg: NocRequest }
  | { readonly to: "pe"; readonly msg: PeArrayCommand };

type Resp = DramResponse | GbufResponse | NocResponse | PeArrayDone;

/** One step: transactions issued together; the step ends when all have completed. */
interface Step {
  readonly reason: WaitReason;
  readonly reqs: Req[];
  /** Start this thread and continue at once (its transactions overlap the caller's). */
  readonly spawn?: Thread;
  /** Wait until this thread has finished. */
  readonly join?: Thread;
}

/**
 * A cooperative thread of steps (a prefetch, a write-back) that runs alongside the main program:
 * its transactions are issued as soon as its previous step completes, whatever the main program
 * is waiting for. Threads are advanced in creation order, so runs stay deterministic.
 */
export interface Thread {
  readonly gen: Generator<Step, void, Map<number, Resp>>;
  outstanding: number;
  /** Responses to its last step, by transaction id (one map per thread, cleared after each step). */
  responses: Map<number, Resp>;
  done: boolean;
  /** The thread this one waits for, if any. */
  joining: Thread | undefined;
  /** Whether this is the main program (its steps set the PE array's wait reason). */
  readonly main: boolean;
}

function thread(gen: Generator<Step, void, Map<number, Resp>>, main = false): Thread {
  return { gen, outstanding: 0, responses: new Map(), done: false, joining: undefined, main };
}

/** A run of coordinates along one axis: source and destination both arithmetic progressions. */
interface Run {
  readonly count: number;
  /** Real input coordinate of the first element and its step. */
  readonly coord0: number;
  readonly coordStep: number;
  /** Destination index (rank in a GBuf tile, or span offset in an RF) of the first element, and its step. */
  readonly dst0: number;
  readonly dstStep: number;
  /** Source index (rank in the GBuf tile, or the real coordinate for DRAM), and its step. */
  readonly src0: number;
  readonly srcStep: number;
}

/** Splits sorted coordinates into maximal runs where coordinate, source and destination are all affine. */
function runsOf(coords: readonly number[], src: (c: number) => number, dst: (c: number) => number): Run[] {
  const out: Run[] = [];
  let i = 0;
  while (i < coords.length) {
    const c0 = coords[i]!;
    if (i + 1 === coords.length) {
      out.push({ count: 1, coord0: c0, coordStep: 1, dst0: dst(c0), dstStep: 1, src0: src(c0), srcStep: 1 });
      break;
    }
    const c1 = coords[i + 1]!;
    const cs = c1 - c0, ss = src(c1) - src(c0), ds = dst(c1) - dst(c0);
    let j = i + 1;
    while (j + 1 < coords.length) {
      const a = coords[j]!, b = coords[j + 1]!;
      if (b - a !== cs || src(b) - src(a) !== ss || dst(b) - dst(a) !== ds) break;
      j++;
    }
    out.push({ count: j - i + 1, coord0: c0, coordStep: cs, dst0: dst(c0), dstStep: ds, src0: src(c0), srcStep: ss });
    i = j + 1;
  }
  return out;
}

/** Real input coordinates read by outputs [o0, o0+on) through taps [k0, k0+kn) on one axis, sorted. */
function touched(inSize: number, stride: number, dil: number, pad: number, o0: number, on: number, k0: number, kn: number): number[] {
  const seen = new Uint8Array(inSize);
  for (let o = o0; o < o0 + on; o++) {
    for (let k = k0; k < k0 + kn; k++) {
      const i = o * stride - pad + k * dil;
      if (i >= 0 && i < inSize) seen[i] = 1;
    }
  }
  const out: number[] = [];
  for (let i = 0; i < inSize; i++) if (seen[i]) out.push(i);
  return out;
}

/** Replaces a list of PE-array fills (or slides) by one command that carries the others alongside. */
function mergeCommands(list: Req[], op: "fill" | "slide"): void {
  if (list.length < 2) return;
  const msgs = list.map((q) => {
    if (q.to !== "pe" || q.msg.op !== op) throw new InvariantError("sequencer", `expected only ${op} commands to merge`);
    return q.msg;
  });
  const [first, ...rest] = msgs as (PeFillCommand | PeSlideCommand)[];
  list.length = 0;
  list.push({ to: "pe", msg: { ...first!, alongside: rest } as PeArrayCommand });
}

/** A hash of the structure of a tile's pieces: shapes, strides and destinations, not addresses. */
function structureHash(pieces: readonly Piece[]): number {
  let h = 0x811c9dc5;
  const mix = (v: number) => {
    h = Math.imul(h ^ (v | 0), 16777619);
    h = Math.imul(h ^ ((v / 4294967296) | 0), 16777619);
  };
  const list = (a: readonly number[]) => {
    mix(a.length);
    for (const v of a) mix(v);
  };
  for (const p of pieces) {
    list(p.shape);
    list(p.srcStrides);
    list(p.tagStrides);
    mix(p.dst.offset);
    list(p.dst.strides);
  }
  return h;
}

/** A tile on its way to memory: its box there, its words, and (checked) the tags they carry. */
interface OutTile {
  readonly box: Box;
  readonly data: Int32Array;
  readonly tags: Float64Array | undefined;
  readonly has: number;
  readonly expect: { space: number; offset: number; strides: number[] };
}

/**
 * Tiles of one shape whose memory offsets, sorted, form a full grid of up to 4 dimensions (and
 * whose tag offsets follow the same grid), as one tile: the grid's dimensions outside the tile's,
 * the words and tags concatenated in grid order. Undefined when they do not.
 */
function mergeGrid(g: readonly OutTile[]): OutTile | undefined {
  const sorted = [...g].sort((a, b) => a.box.offset - b.box.offset);
  const o = sorted.map((t) => t.box.offset);
  const y = sorted.map((t) => t.expect.offset);
  const n = o.length;
  const dims: { n: number; s: number; t: number }[] = []; // innermost first
  let size = 1;
  while (size < n) {
    if (dims.length === 4 || n % size !== 0) return undefined;
    const step = o[size]! - o[0]!;
    const tstep = y[size]! - y[0]!;
    let count = 1;
    while ((count + 1) * size <= n && o[count * size] === o[0]! + count * step && y[count * size] === y[0]! + count * tstep) count++;
    if (count === 1 || n % (size * count) !== 0) return undefined;
    dims.push({ n: count, s: step, t: tstep });
    size *= count;
  }
  // Verify every member sits at its grid point (row-major, innermost first above).
  for (let i = 0; i < n; i++) {
    let rest = i;
    let oo = o[0]!;
    let yy = y[0]!;
    for (const d of dims) {
      const k = rest % d.n;
      rest = Math.floor(rest / d.n);
      oo += k * d.s;
      yy += k * d.t;
    }
    if (o[i] !== oo || y[i] !== yy) return undefined;
  }
  const words = sorted[0]!.data.length;
  const data = new Int32Array(n * words);
  sorted.forEach((t, i) => data.set(t.data, i * words));
  let tags: Float64Array | undefined;
  if (sorted[0]!.tags) {
    tags = new Float64Array(n * words);
    sorted.forEach((t, i) => tags!.set(t.tags!, i * words));
  }
  const outer = [...dims].reverse();
  const first = sorted[0]!;
  return {
    box: { shape: [...outer.map((d) => d.n), ...first.box.shape], offset: o[0]!, strides: [...outer.map((d) => d.s), ...first.box.strides] },
    data,
    tags,
    has: first.has,
    expect: { space: first.expect.space, offset: y[0]!, strides: [...outer.map((d) => d.t), ...first.expect.strides] },
  };
}

/** A payload read as [word][group] (groups innermost) rearranged as [group][word]. */
function transposePayload(p: Payload, groups: number): Payload {
  const t = <A extends WordArray | Float64Array>(a: A): A => {
    const out = new (a.constructor as new (n: number) => A)(a.length);
    const n = a.length / groups;
    for (let j = 0, k = 0; j < n; j++) for (let g = 0; g < groups; g++, k++) out[g * n + j] = a[k]!;
    return out;
  };
  return p.tags ? { data: t(p.data), tags: t(p.tags) } : { data: t(p.data) };
}

/** Whether two tiles' pieces have the same structure (see {@link structureHash}). */
function sameStructure(a: readonly Piece[], b: readonly Piece[]): boolean {
  const eq = (x: readonly number[], y: readonly number[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return (
    a.length === b.length &&
    a.every((p, i) => {
      const q = b[i]!;
      return eq(p.shape, q.shape) && eq(p.srcStrides, q.srcStrides) && eq(p.tagStrides, q.tagStrides) && p.dst.offset === q.dst.offset && eq(p.dst.strides, q.dst.strides);
    })
  );
}

/** Scratch of {@link distinctKeys}. */
let distinctScratch = new Float64Array(0);

/** The number of PEs with a key (not NaN) when no two of them share it, else 0. */
function distinctKeys(keys: Float64Array): number {
  if (distinctScratch.length < keys.length) distinctScratch = new Float64Array(keys.length);
  let n = 0;
  for (let p = 0; p < keys.length; p++) if (!Number.isNaN(keys[p]!)) distinctScratch[n++] = keys[p]!;
  const sorted = distinctScratch.subarray(0, n).sort();
  for (let i = 1; i < n; i++) if (sorted[i] === sorted[i - 1]) return 0;
  return n;
}

/** An open rectangle of {@link rectangles}. */
interface OpenRect {
  readonly key: number;
  readonly col0: number;
  readonly cols: number;
  readonly row0: number;
  rows: number;
  /** The last row this rectangle was extended to. */
  seen: number;
}

/** Scratch of {@link rectangles}: open rectangles by first column, of the previous and current row. */
const rectScratch = { a: [] as (OpenRect | undefined)[], b: [] as (OpenRect | undefined)[], la: [] as OpenRect[], lb: [] as OpenRect[] };

/**
 * Groups PE indices (row-major over `cols`) with equal keys into rectangles (NaN: no PE). A run
 * of equal keys in a row extends the rectangle above it when that one has the same key and the
 * same columns; rectangles are listed per key in the order they close.
 */
function rectangles(keys: Float64Array, rows: number, cols: number): Map<number, PeRect[]> {
  const out = new Map<number, PeRect[]>();
  let any = false;
  for (let p = 0; p < keys.length && !any; p++) any = !Number.isNaN(keys[p]!);
  if (!any) return out;
  const close = (o: OpenRect) => {
    let list = out.get(o.key);
    if (!list) out.set(o.key, (list = []));
    list.push({ row0: o.row0, col0: o.col0, rows: o.rows, cols: o.cols });
  };
  // Open rectangles by first column: the runs of a row partition it, so at most one per column.
  let prev = rectScratch.a;
  let cur = rectScratch.b;
  let prevList = rectScratch.la;
  let curList = rectScratch.lb;
  prev.length = 0;
  prevList.length = 0;
  for (let r = 0; r < rows; r++) {
    cur.length = 0;
    curList.length = 0;
    let c = 0;
    while (c < cols) {
      const key = keys[r * cols + c]!;
      let e = c + 1;
      while (e < cols && keys[r * cols + e] === key) e++;
      if (!Number.isNaN(key)) {
        const up = prev[c];
        let o: OpenRect;
        if (up && up.key === key && up.cols === e - c) {
          up.rows++;
          up.seen = r;
          o = up;
        } else {
          o = { key, col0: c, cols: e - c, row0: r, rows: 1, seen: r };
        }
        cur[c] = o;
        curList.push(o);
      }
      c = e;
    }
    for (const p of prevList) if (p.seen !== r) close(p);
    [prev, cur] = [cur, prev];
    [prevList, curList] = [curList, prevList];
  }
  for (const p of prevList) close(p);
  prev.length = 0;
  cur.length = 0;
  prevList.length = 0;
  curList.length = 0;
  return out;
}

/**
 * The order in which the weights are laid out in DRAM. Weights are static, so an accelerator
 * stores them in the order its dataflow streams them (an offline transform): `OIHW` (the ONNX
 * order, output channel major) unless the tiles that come from DRAM hold one input channel and
 * several output channels — a channel-streaming dataflow such as chen2020 — where `IOHW` (per
 * group: input channel major) makes each tile one contiguous run instead of one burst per word.
 * Counts in words do not depend on the layout; bursts, burst waste and DRAM cycles do.
 */
export type WeightLayout = "OIHW" | "IOHW";

/** The DRAM weight layout the Sequencer uses for a mapping (see {@link WeightLayout}). */
export function weightLayout(m: Mapping, layer: ConvLayer): WeightLayout {
  const nest = new Nest(m, layer);
  const tile = m.gbuf.keep.weight ? nest.gbufExtent : nest.rfExtent;
  return tile[C] === 1 && tile[K]! > 1 ? "IOHW" : "OIHW";
}

/**
 * Reorders OIHW weights into `layout` (per group); with `withIndex`, also the OIHW index of each
 * word (its tag index, for checked mode).
 */
export function layoutWeights<T extends Int8Array | Uint8Array | Int16Array>(w: T, layer: ConvLayer, layout: WeightLayout, withIndex = true): { data: T; index: Float64Array | undefined } {
  const s = convShape(layer);
  const n = w.length;
  const index = withIndex ? new Float64Array(n) : undefined;
  if (layout === "OIHW") {
    if (index) for (let i = 0; i < n; i++) index[i] = i;
    return { data: w, index };
  }
  const Kg = s.outChannelsPerGroup, Cg = s.inChannelsPerGroup, RS = layer.kernelHeight * layer.kernelWidth;
  const data = new (w.constructor as new (n: number) => T)(n);
  // A transpose of [K][C] into [C][K] per group (RS-word items), in 64 x 64 blocks so that both
  // sides stay in cache (FC layers have tens of millions of weights).
  const B = 64;
  for (let g = 0; g < layer.groups; g++)
    for (let c0 = 0; c0 < Cg; c0 += B)
      for (let k0 = 0; k0 < Kg; k0 += B) {
        const c1 = Math.min(Cg, c0 + B), k1 = Math.min(Kg, k0 + B);
        for (let c = c0; c < c1; c++) {
          if (RS === 1 && !index) {
            // Fully connected: one word per item, a plain transpose.
            let o = (g * Kg + k0) * Cg + c;
            let i = (g * Cg + c) * Kg + k0;
            for (let k = k0; k < k1; k++, o += Cg) data[i++] = w[o]!;
            continue;
          }
          for (let k = k0; k < k1; k++) {
            const o = ((g * Kg + k) * Cg + c) * RS;
            const i = ((g * Cg + c) * Kg + k) * RS;
            for (let rs = 0; rs < RS; rs++) {
              data[i + rs] = w[o + rs]!;
              if (index) index[i + rs] = o + rs;
            }
          }
        }
      }
  return { data, index };
}

/** Operand data and zero points of the run. */
export interface SequencerOperands {
  readonly xType: OperandType;
  readonly wType: OperandType;
  readonly xZeroPoint: number;
  readonly wZeroPoint: number;
}

/** The hardware the Sequencer drives. */
export interface SequencerHardware {
  readonly dram: DramChannel;
  readonly gbuf: GlobalBuffer;
  readonly x: DramTensor;
  readonly w: DramTensor;
  readonly y: DramTensor;
}

/** Progress reported by the Sequencer. */
export interface SequencerProgress {
  /** MACs issued so far. */
  readonly macs: number;
  readonly totalMacs: number;
}

/** The controller component (see the file header). */
export class Sequencer extends Component {
  readonly toDram: OutPort<DramRequest>;
  readonly fromDram: InPort<DramResponse>;
  readonly toGbuf: OutPort<GbufRequest>;
  readonly fromGbuf: InPort<GbufResponse>;
  readonly toNoc: OutPort<NocRequest>;
  readonly fromNoc: InPort<NocResponse>;
  readonly toPe: OutPort<PeArrayCommand>;
  readonly fromPe: InPort<PeArrayDone>;
  readonly why: OutPort<WaitReason>;

  private readonly outbox = new Outbox();
  private threads: Thread[] = [];
  private readonly owner = new Map<number, Thread>();
  private finished = false;
  private lastReason: WaitReason | undefined;
  private nextId = 1;
  /** MACs issued so far (for progress reports). */
  macsIssued = 0;
  private reportedMacs = -1;

  constructor(
    engine: Engine,
    private readonly layer: ConvLayer,
    private readonly arch: ArchSpec,
    private readonly mapping: Mapping,
    private readonly ops: SequencerOperands,
    private readonly hw: SequencerHardware,
    private readonly onStep?: (p: SequencerProgress) => void,
  ) {
    super(engine, "sequencer");
    this.toDram = this.outPort("toDram");
    this.fromDram = this.inPort("fromDram");
    this.toGbuf = this.outPort("toGbuf");
    this.fromGbuf = this.inPort("fromGbuf");
    this.toNoc = this.outPort("toNoc");
    this.fromNoc = this.inPort("fromNoc");
    this.toPe = this.outPort("toPe");
    this.fromPe = this.inPort("fromPe");
    this.why = this.outPort("why");
    this.inPorts = [this.fromDram, this.fromGbuf, this.fromNoc, this.fromPe] as InPort<Resp>[];
  }

  private readonly inPorts: readonly InPort<Resp>[];

  /** Iterations of the gbuf loops planned so far, and how many of them were replays. */
  planStats(): { readonly iterations: number; readonly replayedIterations: number } {
    return this.program ? this.program.planStats() : { iterations: 0, replayedIterations: 0 };
  }

  private program: Program | undefined;

  /**
   * Allocates the GBuf regions the mapping needs and prepares the program. Call after every port
   * is connected and before `engine.run`.
   * @throws ConfigError when a region does not fit the global buffer.
   */
  start(): void {
    const program = (this.program = new Program(this.layer, this.arch, this.mapping, this.ops, this.hw, this.engine.checked, () => this.nextId++, (n) => {
      this.macsIssued += n;
    }));
    this.threads = [thread(program.run(), true)];
  }

  /** Whether a thread can take its next step now. */
  private runnable(t: Thread): boolean {
    return !t.done && t.outstanding === 0 && (t.joining === undefined || t.joining.done);
  }

  /** The layer's MACs, for progress reports (computed once). */
  private totalMacs: number | undefined;

  override interact(now: number): void {
    for (const port of this.inPorts) {
      for (let m = port.pop(now); m !== undefined; m = port.pop(now)) {
        const t = this.owner.get(m.id);
        if (!t) throw new InvariantError(this.name, `a response to transaction ${m.id}, which no thread issued`);
        this.owner.delete(m.id);
        t.responses.set(m.id, m);
        t.outstanding--;
      }
    }
    if (this.threads.length === 0) throw new InvariantError(this.name, "start() was not called before the run");
    let progressed = true;
    while (progressed) {
      progressed = false;
      for (let i = 0; i < this.threads.length; i++) {
        const t = this.threads[i]!;
        while (this.runnable(t)) {
          progressed = true;
          t.joining = undefined;
          // The generator reads the responses during next() (stepAndCollect keeps the payloads)
          // and holds no reference after it, so the thread's map is reused.
          const got = t.responses;
          const r = t.gen.next(got);
          got.clear();
          if (r.done) {
            t.done = true;
            break;
          }
          const step = r.value;
          if (step.spawn) this.threads.push(step.spawn);
          if (step.join && !step.join.done) t.joining = step.join;
          const blocks = step.reqs.length > 0 || t.joining !== undefined;
          if (t.main && blocks && step.reason !== this.lastReason) {
            this.outbox.post(this.why, step.reason);
            this.lastReason = step.reason;
          }
          if (step.reqs.length === 0) continue;
          for (const q of step.reqs) {
            this.owner.set(q.msg.id, t);
            switch (q.to) {
              case "dram":
                this.outbox.post(this.toDram, q.msg);
                break;
              case "gbuf":
                this.outbox.post(this.toGbuf, q.msg);
                break;
              case "noc":
                this.outbox.post(this.toNoc, q.msg);
                break;
              case "pe":
                this.outbox.post(this.toPe, q.msg);
                break;
            }
          }
          t.outstanding = step.reqs.length;
        }
      }
      if (progressed && this.threads.some((t) => t.done && !t.main)) this.threads = this.threads.filter((t) => !t.done || t.main);
    }
    const main = this.threads[0]!;
    if (main.done && !this.finished && this.threads.length === 1) {
      this.finished = true;
      if (this.lastReason !== "control") {
        this.outbox.post(this.why, "control");
        this.lastReason = "control";
      }
    }
    if (this.onStep && this.macsIssued !== this.reportedMacs) {
      this.reportedMacs = this.macsIssued;
      this.onStep({ macs: this.macsIssued, totalMacs: (this.totalMacs ??= convShape(this.layer).macs) });
    }
    this.outbox.flush(now);
  }

  override progress(): void {}

  override horizon(now: number): number {
    for (let i = 0; i < this.inPorts.length; i++) if (this.inPorts[i]!.ready(now)) return 0;
    for (let i = 0; i < this.threads.length; i++) if (this.runnable(this.threads[i]!)) return 0;
    if (!this.finished && this.threads[0]?.done && this.threads.length === 1) return 0;
    return this.outbox.horizon(now);
  }

  override busy(): boolean {
    return !this.finished || this.outbox.size > 0;
  }

  override status(): string {
    if (this.finished) return this.outbox.size ? "finished; sending the last messages" : "finished";
    const waiting = this.threads.map((t, i) => `${t.main ? "main" : `thread ${i}`}: ${t.done ? "done" : t.joining ? "joining" : `${t.outstanding} transaction(s) outstanding`}`);
    return `${waiting.join("; ")} (wait reason: ${this.lastReason ?? "none"})`;
  }

}

interface OutputTile {
  readonly start: Int32Array;
  readonly ext: Int32Array;
}

/** Any tile's start and extent (GBuf tiles' and PEs' psum tiles'). */
interface TileCoords {
  readonly start: Coords;
  readonly ext: Coords;
}

/** A tile's start or extent, per dimension (a PE's psum tile keeps plain arrays: cheap to make). */
type Coords = Int32Array | readonly number[];

/** A copy of 8 coordinates as a plain array (an array literal allocates far faster than a typed array). */
function coords8(a: Int32Array): number[] {
  return [a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!];
}

/** A psum tile in a PE: its extent and the psum entry it starts at (the half, for streamed outputs). */
interface RfOutTile extends TileCoords {
  /** startKey of `ext` over the output dimensions (tiles of one shape drain together). */
  readonly extKey: number;
  readonly base: number;
}

/** A transfer that waits for a read: the read's id, and what to send once its payload is back. */
interface Deferred {
  readonly id: number;
  readonly send: (payload: Payload) => Req[];
}

/** One box of a tile to deliver: where it is read (GBuf region or DRAM) and where it goes in the RF. */
interface Piece {
  readonly shape: readonly number[];
  readonly src: number;
  readonly srcStrides: readonly number[];
  /** Tag index of the first word and tag strides (checked mode). */
  readonly tag: number;
  readonly tagStrides: readonly number[];
  readonly dst: Box;
}

/** Where an input tile sits in a PE's register file: its channels and its span (padded coordinates). */
interface InputSpan {
  readonly n: number;
  readonly ch0: number;
  readonly en: number;
  readonly eg: number;
  readonly ec: number;
  /** Padded row and column of the span's origin, and its size. */
  readonly oh: number;
  readonly ow: number;
  readonly rows: number;
  readonly cols: number;
  /** Every row and column of the span is read by some window or is padding (so all of it is valid). */
  readonly dense: boolean;
  /** Creation order: which PEs hold the same span object (plan signatures compare it relatively). */
  readonly serial: number;
}

/** Where an input span sits and how large it is: all of it but its density and serial. */
type SpanPlace = Omit<InputSpan, "dense" | "serial">;

/** The PEs that received one input span in a planned iteration (for replays: see {@link PlanCache}). */
interface SpanGroup {
  /** The PE whose tile start and extent give the span. */
  readonly pe0: number;
  readonly pes: Int32Array;
  readonly dense: boolean;
}

/** Where an iteration's reads are anchored: its start, its GBuf tiles' starts, their first stored row and column. */
interface PlanAnchor {
  readonly g: Int32Array;
  readonly xs: Int32Array | undefined;
  readonly ws: Int32Array | undefined;
  readonly rowRun: number;
  readonly colRun: number;
}

/** What {@link PlanCache} keeps of a planned iteration: every request with its id to be replaced. */
interface PlanTemplate {
  /** Where its reads were: a replay shifts them by the difference ({@link Program.readShift}). */
  readonly anchor: PlanAnchor;
  readonly reads: readonly Req[];
  readonly after: readonly Deferred[];
  readonly direct: readonly Req[];
  readonly moves: readonly Req[];
  readonly waves: readonly Req[];
  readonly psumFills?: readonly Req[];
  readonly operandFills?: readonly Req[];
  /** Per entry of `after`: the index in `reads` of the read it waits for. */
  readonly afterRead: Int32Array;
  /** MACs of the waves (counted again on every replay). */
  readonly macs: number;
  readonly spanGroups: readonly SpanGroup[] | undefined;
  /** The GBuf halves its reads came from (a replay reads the current ones). */
  readonly gbufHalf: { readonly input: number; readonly weight: number };
}

/**
 * Planned iterations by signature (unchecked runs only: checked plans carry absolute tags). The
 * signature holds everything the transfers, fills and waves of an iteration depend on (see
 * Program.planSignature); two iterations with equal signatures issue the same requests. Bounded:
 * cleared when it holds {@link PlanCache.limit} plans; switched off for the rest of the run when
 * fewer than 1 in 8 of the first {@link PlanCache.trial} lookups hit (then signatures cost more
 * than they save). Neither changes what is simulated, only how fast.
 */
class PlanCache {
  static readonly limit = 2048;
  static readonly trial = 1024;
  private readonly byHash = new Map<number, { sig: Float64Array; t: PlanTemplate }[]>();
  private size = 0;
  hits = 0;
  misses = 0;

  private off = false;

  /** Whether lookups are still worth their cost (once not, the plans are dropped for good). */
  worthwhile(): boolean {
    if (this.off) return false;
    if (this.hits + this.misses < PlanCache.trial || this.hits * 8 >= this.hits + this.misses) return true;
    this.off = true;
    this.byHash.clear();
    this.size = 0;
    return false;
  }

  private static hash(sig: Float64Array): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < sig.length; i++) {
      const v = sig[i]!;
      h = Math.imul(h ^ (v | 0), 16777619);
      h = Math.imul(h ^ ((v / 4294967296) | 0), 16777619);
    }
    return h;
  }

  find(sig: Float64Array): PlanTemplate | undefined {
    const bucket = this.byHash.get(PlanCache.hash(sig));
    if (bucket) {
      outer: for (const e of bucket) {
        if (e.sig.length !== sig.length) continue;
        for (let i = 0; i < sig.length; i++) if (e.sig[i] !== sig[i] && !(Number.isNaN(e.sig[i]!) && Number.isNaN(sig[i]!))) continue outer;
        this.hits++;
        return e.t;
      }
    }
    this.misses++;
    return undefined;
  }

  store(sig: Float64Array, t: PlanTemplate): void {
    if (this.size >= PlanCache.limit) {
      this.byHash.clear();
      this.size = 0;
    }
    const h = PlanCache.hash(sig);
    let bucket = this.byHash.get(h);
    if (!bucket) this.byHash.set(h, (bucket = []));
    bucket.push({ sig: sig.slice(), t });
    this.size++;
  }
}

/** PEs that share one tile (one or more rectangles) and the pieces of that tile. */
interface DeliveryGroup {
  readonly rects: PeRect[];
  readonly pieces: Piece[];
}

/** A PE's partial-sum tile on its way out. */
interface DrainEntry {
  readonly pe: number;
  readonly tile: RfOutTile;
  readonly key: number;
}

/** What one iteration of the gbuf loops does, planned before it runs. */
interface IterationPlan {
  readonly drains: readonly DrainEntry[];
  readonly reads: Req[];
  readonly after: Deferred[];
  readonly direct: Req[];
  readonly waves: Req[];
  /** Halo moves within the PEs' register files, done before the deliveries. */
  readonly moves: Req[];
  /** Double-buffered register files: `direct` split into the psum fills and the operands' fills. */
  readonly psumFills?: Req[];
  readonly operandFills?: Req[];
}

/** An input tile resident in the GBuf: its extent and the rank of each stored row and column. */
interface GbufInputTile {
  readonly start: Int32Array;
  readonly ext: Int32Array;
  readonly rowRank: Map<number, number>;
  readonly colRank: Map<number, number>;
  /** The first stored row (column) when the stored rows (columns) are consecutive, else NaN. */
  readonly rowRun: number;
  readonly colRun: number;
}

/** The GBuf tiles one iteration of the dram loops needs, and the transfers that bring them. */
interface FetchPlan {
  readonly keys: { input: number; weight: number };
  readonly halves: { input: number; weight: number };
  readonly input: GbufInputTile | undefined;
  readonly weight: OutputTile | undefined;
  readonly reads: Req[];
  readonly writes: (() => Req[])[];
}

/** The schedule itself, as a generator of steps (kept apart from the component plumbing). */
class Program {
  private readonly nest: Nest;
  private readonly shape: ConvShape;
  private readonly wLayout: WeightLayout;
  private readonly Hp: number;
  private readonly Wp: number;
  private readonly Cg: number;
  private readonly Kg: number;
  private readonly spanH: number;
  private readonly spanW: number;
  private readonly pes: number;
  private gbufRegions: { input?: readonly GbufRegion[]; weight?: readonly GbufRegion[]; output?: readonly GbufRegion[] } = {};
  private readonly gbufInputRows: number;
  private readonly gbufInputCols: number;
  /** Double-buffered register files: operands alternate between two halves of their partitions. */
  private readonly rfDouble: boolean;
  /** The operands that stream through the PEs (mapping.rf.stream), for the wave commands. */
  private readonly waveStreams: readonly WaveStream[] | undefined;
  /** Whether partial sums stream out of the PEs (drained after every wave). */
  private readonly streamOut: boolean;
  /** Entries of one psum tile, and the psum entry the current iteration's tiles start at. */
  private readonly psumTile: number;
  private psumBase = 0;
  /** Entries of one RF operand tile (the offset of the second half). */
  private readonly rfTile: { readonly input: number; readonly weight: number };
  /** Planned iterations for replay (unchecked runs). */
  private readonly plans: PlanCache | undefined;
  /** Per dimension, how far past a gbuf iteration's start its PEs' tiles reach (unclipped). */
  private readonly peReach: Int32Array;
  private sigBuf = new Float64Array(0);
  /** Padded rows and columns the PEs' windows of one iteration span (unclipped). */
  private readonly peSpan: { readonly h: number; readonly w: number };

  constructor(
    private readonly layer: ConvLayer,
    private readonly arch: ArchSpec,
    private readonly m: Mapping,
    private readonly ops: SequencerOperands,
    private readonly hw: SequencerHardware,
    private readonly checked: boolean,
    private readonly id: () => number,
    private readonly countMacs: (n: number) => void,
  ) {
    this.nest = new Nest(m, layer);
    this.shape = convShape(layer);
    this.wLayout = weightLayout(m, layer);
    this.Hp = layer.inHeight + layer.pads[0] + layer.pads[2];
    this.Wp = layer.inWidth + layer.pads[1] + layer.pads[3];
    this.Cg = this.shape.inChannelsPerGroup;
    this.Kg = this.shape.outChannelsPerGroup;
    const e = this.nest.rfExtent;
    this.spanH = inputSpan(e[P]!, e[R]!, layer.strides[0], layer.dilations[0]);
    this.spanW = inputSpan(e[Q]!, e[S]!, layer.strides[1], layer.dilations[1]);
    this.pes = this.nest.usedRows * this.nest.usedCols;
    this.rfDouble = m.rf.doubleBuffer;
    const flows = streamFlows(m);
    const streams: WaveStream[] = [];
    for (const part of ["input", "weight"] as const) {
      const flow = flows[part];
      if (m.rf.stream?.[part] && flow) streams.push({ part, flow });
    }
    this.waveStreams = streams.length > 0 ? Object.freeze(streams) : undefined;
    this.streamOut = m.rf.stream?.output ?? false;
    this.psumTile = e[N]! * e[G]! * e[K]! * e[P]! * e[Q]!;
    this.rfTile = { input: e[N]! * e[G]! * e[C]! * this.spanH * this.spanW, weight: e[G]! * e[K]! * e[C]! * e[R]! * e[S]! };
    this.plans = checked ? undefined : new PlanCache();
    this.peReach = new Int32Array(NDIMS);
    for (const off of this.nest.peOffset) for (let d = 0; d < NDIMS; d++) this.peReach[d] = Math.max(this.peReach[d]!, off[d]! + this.nest.rfStride[d]!);
    const pr = this.peReach;
    this.peSpan = { h: inputSpan(pr[P]!, pr[R]!, layer.strides[0], layer.dilations[0]), w: inputSpan(pr[Q]!, pr[S]!, layer.strides[1], layer.dilations[1]) };
    const ge = this.nest.gbufExtent;
    this.gbufInputRows = maxTouchedInputs(inputAxis(layer, "h"), ge[P]!, ge[R]!);
    this.gbufInputCols = maxTouchedInputs(inputAxis(layer, "w"), ge[Q]!, ge[S]!);
    const gb = hw.gbuf;
    // A tile whose windows read only padding stores nothing; its region keeps one word.
    const alloc = (name: string, kind: "input" | "weight" | "output", dtype: "int8" | "uint8" | "int16" | "int32", n: number, dbl: boolean) =>
      dbl ? gb.allocateDouble(name, kind, dtype, Math.max(1, n)) : [gb.allocate(name, kind, dtype, Math.max(1, n))];
    const dbl = m.gbuf.doubleBuffer;
    if (m.gbuf.keep.input) this.gbufRegions.input = alloc("x", "input", ops.xType, ge[N]! * ge[G]! * ge[C]! * this.gbufInputRows * this.gbufInputCols, dbl);
    if (m.gbuf.keep.weight) this.gbufRegions.weight = alloc("w", "weight", ops.wType, ge[G]! * ge[K]! * ge[C]! * ge[R]! * ge[S]!, dbl);
    if (m.gbuf.keep.output) this.gbufRegions.output = alloc("y", "output", "int32", ge[N]! * ge[G]! * ge[K]! * ge[P]! * ge[Q]!, dbl);
  }

  // ---------------------------------------------------------------------------------------------
  // Index helpers

  /** Flat NCHW index of real input element (n, channel, h, w). */
  private xIndex(n: number, ch: number, h: number, w: number): number {
    return ((n * this.layer.inChannels + ch) * this.layer.inHeight + h) * this.layer.inWidth + w;
  }

  /** Index of (n, channel, padded row, padded col) in the padded input: the input's tag index. */
  private xTag(n: number, ch: number, hp: number, wp: number): number {
    return ((n * this.layer.inChannels + ch) * this.Hp + hp) * this.Wp + wp;
  }

  /** Address of weight (g, k, c, r, s) in the DRAM layout, and the DRAM strides over [G, K, C, R, S]. */
  private wDram(g: number, k: number, c: number, r: number, s: number): number {
    if (this.wLayout === "OIHW") return this.wIndex(g, k, c, r, s);
    return (((g * this.Cg + c) * this.Kg + k) * this.layer.kernelHeight + r) * this.layer.kernelWidth + s;
  }

  private wDramStrides(): number[] {
    const l = this.layer;
    const RS = l.kernelHeight * l.kernelWidth;
    return this.wLayout === "OIHW" ? [this.Kg * this.Cg * RS, this.Cg * RS, RS, l.kernelWidth, 1] : [this.Kg * this.Cg * RS, RS, this.Kg * RS, l.kernelWidth, 1];
  }

  /** Strides over [G, K, C, R, S] of the GBuf weight tile's layout. */
  private gbufWeightStrides(): number[] {
    const ge = this.nest.gbufExtent;
    return [ge[K]! * ge[C]! * ge[R]! * ge[S]!, ge[C]! * ge[R]! * ge[S]!, ge[R]! * ge[S]!, ge[S]!, 1];
  }

  private wIndex(g: number, k: number, c: number, r: number, s: number): number {
    return (((g * this.Kg + k) * this.Cg + c) * this.layer.kernelHeight + r) * this.layer.kernelWidth + s;
  }

  private yIndex(n: number, g: number, k: number, p: number, q: number): number {
    return ((n * this.layer.outChannels + g * this.Kg + k) * this.shape.outHeight + p) * this.shape.outWidth + q;
  }

  private step(reason: WaitReason, reqs: Req[]): Step {
    return { reason, reqs };
  }

  // ---------------------------------------------------------------------------------------------
  // Input boxes: which rows/cols, and where they go.

  /** Sorted real rows and columns an input tile (start, ext) reads. */
  private inputRowsCols(start: Int32Array, ext: Int32Array): { rows: number[]; cols: number[] } {
    const l = this.layer;
    return {
      rows: touched(l.inHeight, l.strides[0], l.dilations[0], l.pads[0], start[P]!, ext[P]!, start[R]!, ext[R]!),
      cols: touched(l.inWidth, l.strides[1], l.dilations[1], l.pads[1], start[Q]!, ext[Q]!, start[S]!, ext[S]!),
    };
  }

  // ---------------------------------------------------------------------------------------------
  // The program

  *run(): Generator<Step, void, Map<number, Resp>> {
    const nest = this.nest;
    const m = this.m;
    const pes = this.pes;
    const cols = nest.usedCols;
    const rows = nest.usedRows;
    // Residency state.
    const gbufKey = { input: NaN, weight: NaN, output: NaN };
    const gbufHalf = { input: 0, weight: 0, output: 0 };
    let gbufInput: GbufInputTile | undefined;
    let gbufWeight: OutputTile | undefined;
    let gbufOutput: OutputTile | undefined;
    let gbufOutputHas: Uint8Array | undefined;
    const dramHas = new Uint8Array(this.shape.outputElements);
    // Operand tiles resident in the RFs: per half (one unless the RFs are double-buffered), per PE.
    const rfKeys = {
      input: [new Float64Array(pes).fill(NaN), new Float64Array(pes).fill(NaN)],
      weight: [new Float64Array(pes).fill(NaN), new Float64Array(pes).fill(NaN)],
    };
    // The half each operand's next wave reads.
    const rfHalf = { input: 0, weight: 0 };
    // Single-buffered: the input span each PE holds (for halo reuse); shared by PEs that share it.
    const inputSpans: (InputSpan | undefined)[] = new Array(pes).fill(undefined);
    const rfOutKey = new Float64Array(pes).fill(NaN);
    const rfOut: (RfOutTile | undefined)[] = new Array(pes).fill(undefined);
    // Each PE's tile start: the gbuf iteration's start (`iterStart`) plus the PE's offset.
    const peStart = nest.peOffset.map((off) => new Int32Array(off));
    const iterStart = new Int32Array(NDIMS);
    const peExt: Int32Array[] = Array.from({ length: pes }, () => new Int32Array(NDIMS));
    const peOutExtKey = new Float64Array(pes);
    const peActive = new Uint8Array(pes);
    // Per dimension, how far the planned iteration's PEs reach before the layer's edge (clipped
    // tiles; -1: none planned yet). Updated first thing in planIteration, then read by the signature.
    const peClip = new Int32Array(NDIMS).fill(-1);

    const sizes = nest.sizes;
    // A start key is linear in the start: a PE's key is the iteration's plus its offset's.
    const offsetKeys = (dims: readonly number[]) => Float64Array.from(nest.peOffset, (off) => startKey(off, dims, sizes));
    const offKeys = { output: offsetKeys(OUTPUT_DIMS), input: offsetKeys(INPUT_DIMS), weight: offsetKeys(WEIGHT_DIMS) };
    const zero = new Int32Array(NDIMS);
    const scratch = { newOut: new Float64Array(pes), drain: new Uint8Array(pes), keys: [0, 1, 2, 3].map(() => new Float64Array(pes)) };
    const lastWaves = { keys: new Float64Array(pes), parts: [] as MacWave[], macs: 0, bases: { input: 0, weight: 0, psum: 0 } };

    const dramStarts: Int32Array[] = [];
    for (const a of nest.iterate(nest.dramLoops, zero)) dramStarts.push(new Int32Array(a)); // iterate() reuses its array
    const double = m.gbuf.doubleBuffer;
    const evictions: (Thread | undefined)[] = [undefined, undefined];
    let prefetch: { thread: Thread; plan: FetchPlan } | undefined;
    for (let it = 0; it < dramStarts.length; it++) {
      const dStart = dramStarts[it]!;
      const dExt = nest.extent(dStart, nest.gbufStride, new Int32Array(NDIMS));
      // -- the GBuf output tile
      if (m.gbuf.keep.output) {
        const key = startKey(dStart, OUTPUT_DIMS, sizes);
        if (key !== gbufKey.output) {
          if (gbufOutput) {
            yield* this.joinDrain();
            yield* this.drainTiles(this.collectDrains(rfOut, rfOutKey, null), gbufOutput, gbufOutputHas!, gbufHalf.output, dramHas);
            const evict = this.evictOutput(gbufOutput, gbufHalf.output, dramHas);
            if (double) {
              // The write-back overlaps the next tile's work, which uses the other half.
              const t = thread(evict);
              evictions[gbufHalf.output] = t;
              yield { reason: "drain", reqs: [], spawn: t };
            } else {
              yield* evict;
            }
            gbufHalf.output = this.gbufRegions.output!.length > 1 ? 1 - gbufHalf.output : 0;
            const pendingEviction = evictions[gbufHalf.output];
            if (pendingEviction) {
              yield { reason: "drain", reqs: [], join: pendingEviction };
              evictions[gbufHalf.output] = undefined;
            }
          }
          gbufKey.output = key;
          gbufOutput = { start: dStart, ext: dExt };
          gbufOutputHas = new Uint8Array(this.gbufRegions.output![0]!.elements);
        }
      }
      // -- GBuf input and weight tiles: prefetched during the previous tile, or fetched now.
      let plan: FetchPlan;
      if (prefetch) {
        yield { reason: "dram", reqs: [], join: prefetch.thread };
        plan = prefetch.plan;
        prefetch = undefined;
      } else {
        plan = this.planFetch(dStart, dExt, gbufKey, gbufHalf, gbufInput, gbufWeight);
        yield* this.runFetch(plan);
      }
      ({ input: gbufInput, weight: gbufWeight } = plan);
      Object.assign(gbufKey, plan.keys);
      Object.assign(gbufHalf, plan.halves);
      if (double && it + 1 < dramStarts.length) {
        const next = dramStarts[it + 1]!;
        const nextPlan = this.planFetch(next, nest.extent(next, nest.gbufStride, new Int32Array(NDIMS)), gbufKey, gbufHalf, gbufInput, gbufWeight);
        const t = thread(this.runFetch(nextPlan));
        prefetch = { thread: t, plan: nextPlan };
        yield { reason: "dram", reqs: [], spawn: t };
      }

      // -- gbuf iterations, pipelined: the GBuf (or DRAM) reads of iteration j + 1 are issued with
      // the MAC waves of iteration j (they touch no register file); drains, deliveries and the
      // next wave wait for the wave (the register files are single-buffered).
      const planIteration = (gStart: Int32Array): IterationPlan => {
        this.iterations++;
        // (scratch arrays are only read during planning, never by the plan's closures)
        // The PEs' tile starts move with the iteration's start (only the dimensions that moved);
        // their extents and activity depend only on how far they reach before the layer's edge.
        let reachChanged = false;
        for (let d = 0; d < NDIMS; d++) {
          const dv = gStart[d]! - iterStart[d]!;
          if (dv !== 0) {
            for (let pe = 0; pe < pes; pe++) peStart[pe]![d]! += dv;
            iterStart[d] = gStart[d]!;
          }
          const reach = Math.min(sizes[d]! - gStart[d]!, this.peReach[d]!);
          if (reach !== peClip[d]) {
            peClip[d] = reach;
            reachChanged = true;
          }
        }
        if (reachChanged) {
          for (let pe = 0; pe < pes; pe++) {
            const st = peStart[pe]!;
            let active = 1;
            for (let d = 0; d < NDIMS; d++) if (st[d]! >= sizes[d]!) active = 0;
            peActive[pe] = active;
            if (active) {
              peExt[pe] = nest.extent(st, nest.rfStride, new Int32Array(NDIMS));
              peOutExtKey[pe] = startKey(peExt[pe]!, OUTPUT_DIMS, sizes);
            }
          }
        }
        // PEs whose output tile changes drain first (every holder of a changing tile: PEs that
        // share an output tile change together).
        const newOutKey = scratch.newOut.fill(NaN);
        const outKey0 = startKey(gStart, OUTPUT_DIMS, sizes);
        const drainMask = scratch.drain.fill(0);
        let anyDrain = false;
        for (let pe = 0; pe < pes; pe++) {
          // A streamed output leaves the array after every wave (it does not stay in the PE).
          if (this.streamOut && !Number.isNaN(rfOutKey[pe]!)) {
            drainMask[pe] = 1;
            anyDrain = true;
          }
          if (!peActive[pe]) continue;
          const k = outKey0 + offKeys.output[pe]!;
          newOutKey[pe] = k;
          if (!Number.isNaN(rfOutKey[pe]!) && rfOutKey[pe] !== k) {
            drainMask[pe] = 1;
            anyDrain = true;
          }
        }
        let stay = 0;
        if (anyDrain) for (let pe = 0; pe < pes; pe++) if (!drainMask[pe] && !Number.isNaN(rfOutKey[pe]!)) stay++;
        if (stay > 0) {
          const leaving = new Set<number>();
          for (let pe = 0; pe < pes; pe++) if (drainMask[pe]) leaving.add(rfOutKey[pe]!);
          for (let pe = 0; pe < pes; pe++) if (!drainMask[pe] && leaving.has(rfOutKey[pe]!)) drainMask[pe] = 1;
        }
        const drains = anyDrain ? this.collectDrains(rfOut, rfOutKey, drainMask) : [];
        // A streamed output alternates between two halves of the psum stream buffer, so the
        // previous wave's partial sums drain while this one computes (see run()).
        if (this.streamOut) this.psumBase = this.psumBase === 0 ? this.psumTile : 0;
        // The residency state first: the PEs that get a new psum tile, input tile or weight tile.
        const psumKeys = scratch.keys[0]!.fill(NaN);
        for (let pe = 0; pe < pes; pe++) {
          if (peActive[pe] && rfOutKey[pe] !== newOutKey[pe]) {
            const extKey = peOutExtKey[pe]!;
            psumKeys[pe] = extKey; // one fill per tile shape
            rfOutKey[pe] = newOutKey[pe]!;
            // (peExt arrays are replaced, never changed, when the reach changes: the tile may keep one)
            rfOut[pe] = { start: coords8(peStart[pe]!), ext: peExt[pe]!, base: this.psumBase, extKey };
          }
        }
        const operandKeys = (part: "input" | "weight", dims: readonly number[], keys: Float64Array): void => {
          // Single-buffered: every PE whose tile changes gets the new one. Double-buffered: the
          // operand stays in its half while every PE's tile is unchanged; otherwise it moves to
          // the other half (which the running wave does not read), and every PE whose tile there
          // is not the one it needs gets it.
          // The tile each active PE needs, into `keys` (NaN: inactive); then only the changes stay.
          const key0 = startKey(gStart, dims, sizes);
          const off = offKeys[part];
          for (let pe = 0; pe < pes; pe++) if (peActive[pe]) keys[pe] = key0 + off[pe]!;
          let h = rfHalf[part];
          if (this.rfDouble && keys.some((k, pe) => !Number.isNaN(k) && k !== rfKeys[part][h]![pe])) h = rfHalf[part] = 1 - h;
          const held = rfKeys[part][h]!;
          // A streamed operand passes through the PE: every wave needs its words delivered again.
          if (this.m.rf.stream?.[part]) return;
          for (let pe = 0; pe < pes; pe++) {
            if (keys[pe] === held[pe]) keys[pe] = NaN;
            else if (!Number.isNaN(keys[pe]!)) held[pe] = keys[pe]!;
          }
        };
        const inKeys = scratch.keys[1]!.fill(NaN);
        operandKeys("input", INPUT_DIMS, inKeys);
        const wKeys = scratch.keys[2]!.fill(NaN);
        operandKeys("weight", WEIGHT_DIMS, wKeys);
        const spans = this.rfDouble || this.m.rf.stream?.input ? undefined : inputSpans;
        // The transfers, fills and waves depend only on what the signature records: an iteration
        // like one planned before replays that plan with fresh transaction ids.
        const sig = this.plans?.worthwhile() ? this.planSignature(gStart, peClip, dStart, psumKeys, inKeys, wKeys, spans, peStart, rfHalf, gbufInput) : undefined;
        if (sig) {
          const hit = this.plans!.find(sig);
          if (hit) return this.replay(hit, drains, spans, peStart, peExt, gbufHalf, this.anchor(gStart, gbufInput, gbufWeight, false));
        }
        const spanGroups: SpanGroup[] | undefined = sig && spans ? [] : undefined;
        const reads: Req[] = [];
        const after: Deferred[] = [];
        const direct: Req[] = [...this.psumInit(psumKeys, rows, cols, peStart, peExt)];
        const psumFills = direct.length;
        const moves: Req[] = [];
        after.push(...this.deliverInputs(inKeys, rows, cols, peStart, peExt, gbufInput, gbufHalf.input, reads, direct, rfHalf.input * this.rfTile.input, spans, moves, spanGroups));
        after.push(...this.deliverWeights(wKeys, rows, cols, peStart, peExt, gbufWeight, gbufHalf.weight, reads, rfHalf.weight * this.rfTile.weight));
        const bases = { input: rfHalf.input * this.rfTile.input, weight: rfHalf.weight * this.rfTile.weight, psum: this.psumBase };
        // Double-buffered: the operands' fills (padding, into the halves the running wave does not
        // read) go with the deliveries, the psum fills after the drain (runDoubleBuffered).
        let split: { psumFills: Req[]; operandFills: Req[] } | undefined;
        if (this.rfDouble) {
          split = { psumFills: direct.slice(0, psumFills), operandFills: direct.slice(psumFills) };
          mergeCommands(split.psumFills, "fill");
          mergeCommands(split.operandFills, "fill");
        }
        // The iteration's local fills (psum init, padding) go as one command: each PE writes its own.
        mergeCommands(direct, "fill");
        const waveKeys = scratch.keys[3]!.fill(NaN);
        for (let pe = 0; pe < pes; pe++) if (peActive[pe]) waveKeys[pe] = startKey(peExt[pe]!, ALL_DIMS, sizes);
        // One command: the PEs' tiles of different shapes (edge tiles) run as waves side by side.
        // Unchecked waves depend only on the tile shapes: the last iteration's, when they match.
        let parts: MacWave[];
        if (
          !this.checked &&
          lastWaves.parts.length > 0 &&
          lastWaves.bases.input === bases.input &&
          lastWaves.bases.weight === bases.weight &&
          lastWaves.bases.psum === bases.psum &&
          waveKeys.every((k, pe) => k === lastWaves.keys[pe] || (Number.isNaN(k) && Number.isNaN(lastWaves.keys[pe]!)))
        ) {
          parts = lastWaves.parts;
          this.countMacs(lastWaves.macs);
        } else {
          parts = [];
          for (const [, rects] of rectangles(waveKeys, rows, cols)) for (const rect of rects) parts.push(this.wave(rect, peStart, peExt, bases));
          lastWaves.keys.set(waveKeys);
          lastWaves.bases = bases;
          lastWaves.parts = parts;
          lastWaves.macs = parts.reduce((a, w) => a + w.pes.rows * w.pes.cols * w.loops.reduce((x, y) => x * y, 1), 0);
        }
        const streams = this.waveStreams;
        const waves: Req[] = parts.length > 0 ? [{ to: "pe", msg: { op: "wave", id: this.id(), wave: parts[0]!, alongside: parts.slice(1), ...(streams ? { streams } : {}) } }] : [];
        // The iteration's halo slides go as one command.
        mergeCommands(moves, "slide");
        if (sig) {
          const macs = lastWaves.macs; // (the MACs of `parts`, either way above)
          const afterRead = Int32Array.from(after, (d) => reads.findIndex((q) => q.msg.id === d.id));
          const anchor = this.anchor(gStart, gbufInput, gbufWeight, true);
          this.plans!.store(sig, { anchor, reads, after, afterRead, direct, moves, waves, ...split, macs, spanGroups, gbufHalf: { input: gbufHalf.input, weight: gbufHalf.weight } });
        }
        return { drains, reads, moves, after, direct, waves, ...split };
      };
      const readReason: WaitReason = m.gbuf.keep.input || m.gbuf.keep.weight ? "gbuf" : "dram";
      const gbufStarts = nest.iterate(nest.gbufLoops, dStart);
      const planNext = (): IterationPlan | undefined => {
        const nx = gbufStarts.next();
        return nx.done ? undefined : planIteration(nx.value);
      };
      if (this.rfDouble) {
        yield* this.runDoubleBuffered(planNext, readReason, (d) => this.drainTiles(d, gbufOutput, gbufOutputHas, gbufHalf.output, dramHas));
        continue;
      }
      let cur = planNext();
      if (cur && cur.reads.length > 0) yield* this.stepAndCollect(this.step(readReason, cur.reads));
      while (cur) {
        if (cur.drains.length > 0) {
          if (this.streamOut) {
            // The previous wave's streamed partial sums leave (from their half) while this
            // iteration is delivered and computed; drains stay in order (they may accumulate
            // into the same outputs), so the one before is joined first.
            yield* this.joinDrain();
            const t = thread(this.drainTiles(cur.drains, gbufOutput, gbufOutputHas, gbufHalf.output, dramHas));
            this.pendingDrain = t;
            yield { reason: "drain", reqs: [], spawn: t };
          } else {
            yield* this.drainTiles(cur.drains, gbufOutput, gbufOutputHas, gbufHalf.output, dramHas);
          }
        }
        // Halo slides complete before the deliveries start (a delivery may land where a kept word was).
        if (cur.moves.length > 0) yield* this.stepAndCollect(this.step("network", cur.moves));
        const sends: Req[] = [...cur.direct];
        for (const f of cur.after) sends.push(...f.send(this.take(f.id)));
        if (sends.length > 0) yield* this.stepAndCollect(this.step("network", sends));
        const next = planNext();
        // PEs idle during this step (not in the wave, or done with it) wait for the next reads.
        const overlap = next !== undefined && next.reads.length > 0;
        yield* this.stepAndCollect(this.step(overlap ? readReason : "control", overlap ? [...cur.waves, ...next.reads] : cur.waves));
        cur = next;
      }
    }
    // The end: drain every PE, write back the GBuf output tile, wait for pending write-backs.
    yield* this.joinDrain();
    yield* this.drainTiles(this.collectDrains(rfOut, rfOutKey, null), gbufOutput, gbufOutputHas, gbufHalf.output, dramHas);
    if (gbufOutput) yield* this.evictOutput(gbufOutput, gbufHalf.output, dramHas);
    for (const e of evictions) if (e) yield { reason: "drain", reqs: [], join: e };
  }

  /**
   * The signature of an iteration's plan: everything its transfers, fills and waves depend on,
   * given the residency state already updated (unchecked runs).
   * - How far each dimension reaches before the layer's edge (clipped tiles), and where the
   *   padding starts and ends relative to the iteration's origin. Not the position itself: the
   *   reads' addresses are affine in it (GBuf tiles, DRAM tensors), so a replay shifts them
   *   ({@link readShift}); only when the GBuf input tile's stored rows (columns) are not
   *   consecutive do their absolute positions enter the signature.
   * - The psum base and the RF halves the operands go to. (Not the GBuf halves they come from:
   *   the halves are alike, so a replay reads from the current ones.)
   * - Per PE: whether it gets a new psum, input and weight tile; for a new input tile with halo
   *   reuse, the span it holds, relative to its new tile (and which PEs share that span).
   * PEs' tile starts are the iteration's start plus fixed offsets, so the rest follows.
   */
  private planSignature(
    gStart: Int32Array,
    clip: Int32Array,
    dStart: Int32Array,
    psumKeys: Float64Array,
    inKeys: Float64Array,
    wKeys: Float64Array,
    spans: readonly (InputSpan | undefined)[] | undefined,
    peStart: readonly Int32Array[],
    rfHalf: { readonly input: number; readonly weight: number },
    gbufInput: GbufInputTile | undefined,
  ): Float64Array {
    const need = NDIMS + 15 + this.pes * 13;
    if (this.sigBuf.length < need) this.sigBuf = new Float64Array(need);
    const b = this.sigBuf;
    let n = 0;
    for (let d = 0; d < NDIMS; d++) b[n++] = clip[d]!;
    // Where the padding starts and ends relative to the iteration's origin, clamped to the PEs'
    // span (beyond it nothing changes); the GBuf input tile's stored rows and columns rank
    // relative to the first when consecutive (a shift), else by absolute position.
    const l = this.layer;
    const keptInput = this.m.gbuf.keep.input;
    const axis = (o: number, pad: number, size: number, span: number, run: number, p: number, r: number) => {
      b[n++] = Math.max(0, Math.min(span, pad - o));
      b[n++] = Math.max(0, Math.min(span, pad + size - o));
      if (keptInput && Number.isNaN(run)) {
        b[n++] = -1;
        b[n++] = gStart[p]!;
        b[n++] = gStart[r]!;
        b[n++] = dStart[p]!;
        b[n++] = dStart[r]!;
      }
    };
    axis(gStart[P]! * l.strides[0] + gStart[R]! * l.dilations[0], l.pads[0], l.inHeight, this.peSpan.h, gbufInput ? gbufInput.rowRun : NaN, P, R);
    axis(gStart[Q]! * l.strides[1] + gStart[S]! * l.dilations[1], l.pads[1], l.inWidth, this.peSpan.w, gbufInput ? gbufInput.colRun : NaN, Q, S);
    b[n++] = this.psumBase;
    b[n++] = rfHalf.input;
    b[n++] = rfHalf.weight;
    let base = NaN;
    let last: InputSpan | undefined;
    let lastN = 0;
    let lastCh = 0;
    for (let pe = 0; pe < this.pes; pe++) {
      const code = (Number.isNaN(psumKeys[pe]!) ? 0 : 1) | (Number.isNaN(inKeys[pe]!) ? 0 : 2) | (Number.isNaN(wKeys[pe]!) ? 0 : 4);
      const o = spans && code & 2 ? spans[pe] : undefined;
      // PEs that share their span (usually neighbours) share its record: -code marks "as the last one".
      const st = peStart[pe]!;
      const relN = o ? o.n - st[N]! : 0;
      const relCh = o ? o.ch0 - (st[G]! * this.Cg + st[C]!) : 0;
      if (o && o === last && relN === lastN && relCh === lastCh) {
        b[n++] = -code;
        continue;
      }
      b[n++] = code;
      if (!spans || !(code & 2)) continue;
      if (!o) {
        b[n++] = 0;
        continue;
      }
      last = o;
      lastN = relN;
      lastCh = relCh;
      if (Number.isNaN(base)) base = o.serial;
      b[n++] = 1;
      b[n++] = o.serial - base;
      b[n++] = o.dense ? 1 : 0;
      b[n++] = relN;
      b[n++] = relCh;
      b[n++] = o.en;
      b[n++] = o.eg;
      b[n++] = o.ec;
      b[n++] = o.oh - (st[P]! * l.strides[0] + st[R]! * l.dilations[0]);
      b[n++] = o.ow - (st[Q]! * l.strides[1] + st[S]! * l.dilations[1]);
      b[n++] = o.rows;
      b[n++] = o.cols;
    }
    return b.subarray(0, n);
  }

  /** The anchor of an iteration's reads (`stored`: kept in a plan, so the start is copied; the iterator reuses its array). */
  private anchor(gStart: Int32Array, input: GbufInputTile | undefined, weight: OutputTile | undefined, stored: boolean): PlanAnchor {
    return { g: stored ? gStart.slice() : gStart, xs: input?.start, ws: weight?.start, rowRun: input ? input.rowRun : NaN, colRun: input ? input.colRun : NaN };
  }

  /**
   * How far an iteration's reads sit from those of the plan it replays (words, per operand). A
   * GBuf input address is affine in the tile start's N, G, C relative to the GBuf tile and in
   * the stored row's and column's rank, which for consecutive rows (columns) is the padded
   * position minus the first stored one (otherwise the signature pins both absolutely); a GBuf
   * weight address is affine in G, K, C, R, S relative to its tile; DRAM addresses are affine in
   * the absolute position. The signature guarantees that padding clips both alike.
   */
  private readShift(from: PlanAnchor, to: PlanAnchor): { input: number; weight: number } {
    const l = this.layer;
    const dg = (d: number) => to.g[d]! - from.g[d]!;
    const [sh, sw] = l.strides;
    const [dh, dw] = l.dilations;
    const rows = dg(P) * sh + dg(R) * dh;
    const cols = dg(Q) * sw + dg(S) * dw;
    let input: number;
    if (this.m.gbuf.keep.input) {
      const ge = this.nest.gbufExtent;
      const MR = this.gbufInputRows, MC = this.gbufInputCols;
      const rel = (d: number) => dg(d) - (to.xs![d]! - from.xs![d]!);
      const run = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? 0 : b - a);
      input = ((rel(N) * ge[G]! + rel(G)) * ge[C]! + rel(C)) * MR * MC + (rows - run(from.rowRun, to.rowRun)) * MC + (cols - run(from.colRun, to.colRun));
    } else {
      input = ((dg(N) * l.inChannels + dg(G) * this.Cg + dg(C)) * l.inHeight + rows) * l.inWidth + cols;
    }
    let weight = 0;
    const wDims = [G, K, C, R, S];
    if (this.m.gbuf.keep.weight) {
      const st = this.gbufWeightStrides();
      wDims.forEach((d, i) => (weight += (dg(d) - (to.ws![d]! - from.ws![d]!)) * st[i]!));
    } else {
      const st = this.wDramStrides();
      wDims.forEach((d, i) => (weight += dg(d) * st[i]!));
    }
    return { input, weight };
  }

  /** An iteration planned before, again: its requests with fresh ids, its spans, its MACs. */
  private replay(
    t: PlanTemplate,
    drains: DrainEntry[],
    spans: (InputSpan | undefined)[] | undefined,
    peStart: readonly Int32Array[],
    peExt: readonly Int32Array[],
    gbufHalf: { readonly input: number; readonly weight: number },
    anchor: PlanAnchor,
  ): IterationPlan {
    const { input: xr, weight: wr } = this.gbufRegions;
    const shift = this.readShift(t.anchor, anchor);
    const moved = (b: Box, by: number): Box => (by === 0 ? b : { shape: b.shape, offset: b.offset + by, strides: b.strides });
    const reads = t.reads.map((q): Req => {
      if (q.to === "gbuf" && q.msg.op === "read") {
        const r = q.msg.region;
        if (xr && r === xr[t.gbufHalf.input]) return { to: "gbuf", msg: { ...q.msg, id: this.id(), region: xr[gbufHalf.input]!, box: moved(q.msg.box, shift.input) } };
        if (wr && r === wr[t.gbufHalf.weight]) return { to: "gbuf", msg: { ...q.msg, id: this.id(), region: wr[gbufHalf.weight]!, box: moved(q.msg.box, shift.weight) } };
        throw new InvariantError("sequencer", "a planned read from a GBuf region that holds no operand");
      }
      if (q.to === "dram" && q.msg.op === "read") return { to: "dram", msg: { ...q.msg, id: this.id(), box: moved(q.msg.box, q.msg.tensor === this.hw.x ? shift.input : shift.weight) } };
      return this.reId(q);
    });
    const after = t.after.map((d, i) => ({ id: reads[t.afterRead[i]!]!.msg.id, send: d.send }));
    if (spans && t.spanGroups) {
      for (const g of t.spanGroups) {
        const span = this.makeSpan(this.spanAt(peStart[g.pe0]!, peExt[g.pe0]!), g.dense);
        for (let i = 0; i < g.pes.length; i++) spans[g.pes[i]!] = span;
      }
    }
    this.countMacs(t.macs);
    const split = t.psumFills ? { psumFills: t.psumFills.map((q) => this.reId(q)), operandFills: t.operandFills!.map((q) => this.reId(q)) } : {};
    return { drains, reads, after, direct: t.direct.map((q) => this.reId(q)), moves: t.moves.map((q) => this.reId(q)), waves: t.waves.map((q) => this.reId(q)), ...split };
  }

  /** A planned request again, with a fresh transaction id. */
  private reId(q: Req): Req {
    return { to: q.to, msg: { ...q.msg, id: this.id() } } as Req;
  }

  private iterations = 0;

  /** Iterations planned so far, and how many were replays. */
  planStats(): { readonly iterations: number; readonly replayedIterations: number } {
    return { iterations: this.iterations, replayedIterations: this.plans?.hits ?? 0 };
  }

  /** A streamed output's drain running alongside the next wave (run()), if any. */
  private pendingDrain: Thread | undefined;

  /** Waits for {@link pendingDrain}. */
  private *joinDrain(): Generator<Step, void, Map<number, Resp>> {
    if (!this.pendingDrain) return;
    yield { reason: "drain", reqs: [], join: this.pendingDrain };
    this.pendingDrain = undefined;
  }

  /**
   * The gbuf iterations of one dram tile with double-buffered register files: iteration j + 1's
   * operands are delivered (into the halves iteration j's wave does not read) while j's wave runs,
   * with the GBuf (or DRAM) reads of j + 2. Then j + 1's drains (of the output tiles that change)
   * and psum fills, which touch the one psum tile, wait for the wave; then j + 1's wave.
   */
  private *runDoubleBuffered(
    planNext: () => IterationPlan | undefined,
    readReason: WaitReason,
    drain: (d: readonly DrainEntry[]) => Generator<Step, void, Map<number, Resp>>,
  ): Generator<Step, void, Map<number, Resp>> {
    const sendsOf = (p: IterationPlan): Req[] => {
      const out: Req[] = [...p.operandFills!];
      for (const f of p.after) out.push(...f.send(this.take(f.id)));
      return out;
    };
    let cur = planNext();
    if (!cur) return;
    if (cur.reads.length > 0) yield* this.stepAndCollect(this.step(readReason, cur.reads));
    let next = planNext();
    // The first iteration: its drains, then its operands and psum fills, with the next one's reads.
    if (cur.drains.length > 0) yield* drain(cur.drains);
    {
      const reads = next ? next.reads : [];
      const reqs = [...sendsOf(cur), ...cur.psumFills!, ...reads];
      if (reqs.length > 0) yield* this.stepAndCollect(this.step(reads.length > 0 ? readReason : "network", reqs));
    }
    while (cur) {
      const after = next ? planNext() : undefined;
      const reads = after ? after.reads : [];
      yield* this.stepAndCollect(this.step(reads.length > 0 ? readReason : next ? "network" : "control", [...cur.waves, ...(next ? sendsOf(next) : []), ...reads]));
      if (next) {
        if (next.drains.length > 0) yield* drain(next.drains);
        if (next.psumFills!.length > 0) yield* this.stepAndCollect(this.step("network", next.psumFills!));
      }
      cur = next;
      next = after;
    }
  }

  /**
   * Decides which GBuf tiles an iteration of the dram loops needs that are not resident, and where
   * they go: a changed tile goes to the other half of a double-buffered region.
   */
  private planFetch(
    dStart: Int32Array,
    dExt: Int32Array,
    keys: { readonly input: number; readonly weight: number },
    halves: { readonly input: number; readonly weight: number },
    input: GbufInputTile | undefined,
    weight: OutputTile | undefined,
  ): FetchPlan {
    const m = this.m;
    const sizes = this.nest.sizes;
    const reads: Req[] = [];
    const writes: (() => Req[])[] = [];
    const plan = { keys: { input: keys.input, weight: keys.weight }, halves: { input: halves.input, weight: halves.weight }, input, weight, reads, writes };
    if (m.gbuf.keep.input) {
      const key = startKey(dStart, INPUT_DIMS, sizes);
      if (key !== keys.input) {
        if (!Number.isNaN(keys.input)) plan.halves.input = this.gbufRegions.input!.length > 1 ? 1 - halves.input : 0;
        plan.keys.input = key;
        const { rows: rr, cols: cc } = this.inputRowsCols(dStart, dExt);
        const run = (v: readonly number[]) => (v.length > 0 && v[v.length - 1]! - v[0]! === v.length - 1 ? v[0]! : NaN);
        plan.input = { start: dStart, ext: dExt, rowRank: new Map(rr.map((v, i) => [v, i])), colRank: new Map(cc.map((v, i) => [v, i])), rowRun: run(rr), colRun: run(cc) };
        writes.push(...this.fetchInputTile(dStart, dExt, rr, cc, plan.halves.input, reads));
      }
    }
    if (m.gbuf.keep.weight) {
      const key = startKey(dStart, WEIGHT_DIMS, sizes);
      if (key !== keys.weight) {
        if (!Number.isNaN(keys.weight)) plan.halves.weight = this.gbufRegions.weight!.length > 1 ? 1 - halves.weight : 0;
        plan.keys.weight = key;
        plan.weight = { start: dStart, ext: dExt };
        writes.push(this.fetchWeightTile(dStart, dExt, plan.halves.weight, reads));
      }
    }
    return plan;
  }

  /** Moves a planned fetch: DRAM reads, then GBuf writes of what they returned. */
  private *runFetch(plan: FetchPlan): Generator<Step, void, Map<number, Resp>> {
    if (plan.reads.length === 0) return;
    yield* this.stepAndCollect(this.step("dram", plan.reads));
    const writes: Req[] = [];
    for (const f of plan.writes) writes.push(...f());
    yield* this.stepAndCollect(this.step("gbuf", writes));
  }

  // ---------------------------------------------------------------------------------------------
  // DRAM -> GBuf

  private fetchInputTile(start: Int32Array, ext: Int32Array, rows: number[], cols: number[], half: number, fetch: Req[]): (() => Req[])[] {
    const region = this.gbufRegions.input![half]!;
    const MR = this.gbufInputRows;
    const MC = this.gbufInputCols;
    const ge = this.nest.gbufExtent;
    const l = this.layer;
    const rowRuns = runsOf(rows, (c) => c, (c) => rows.indexOf(c));
    const colRuns = runsOf(cols, (c) => c, (c) => cols.indexOf(c));
    const done: (() => Req[])[] = [];
    const Ctot = l.inChannels;
    const HW = l.inHeight * l.inWidth;
    for (const rr of rowRuns) {
      for (const cr of colRuns) {
        const shape = [ext[N]!, ext[G]!, ext[C]!, rr.count, cr.count];
        const ch0 = start[G]! * this.Cg + start[C]!;
        const box: Box = {
          shape,
          offset: this.xIndex(start[N]!, ch0, rr.coord0, cr.coord0),
          strides: [Ctot * HW, this.Cg * HW, HW, l.inWidth * rr.coordStep, cr.coordStep],
        };
        const tagBox = {
          space: TAG_SPACE.input,
          offset: this.xTag(start[N]!, ch0, rr.coord0 + l.pads[0], cr.coord0 + l.pads[1]),
          strides: [Ctot * this.Hp * this.Wp, this.Cg * this.Hp * this.Wp, this.Hp * this.Wp, this.Wp * rr.coordStep, cr.coordStep],
        };
        const id = this.id();
        fetch.push({ to: "dram", msg: { op: "read", id, tensor: this.hw.x, box, ...(this.checked ? { expect: tagBox } : {}) } });
        const dst: Box = {
          shape,
          offset: rr.dst0 * MC + cr.dst0,
          strides: [ge[G]! * ge[C]! * MR * MC, ge[C]! * MR * MC, MR * MC, MC * rr.dstStep, cr.dstStep],
        };
        done.push(() => []);
        const last = done.length - 1;
        done[last] = () => [{ to: "gbuf", msg: { op: "write", id: this.id(), region, box: dst, payload: this.take(id) } }];
      }
    }
    return done;
  }

  private fetchWeightTile(start: Int32Array, ext: Int32Array, half: number, fetch: Req[]): () => Req[] {
    const region = this.gbufRegions.weight![half]!;
    const l = this.layer;
    const RS = l.kernelHeight * l.kernelWidth;
    const shape = [ext[G]!, ext[K]!, ext[C]!, ext[R]!, ext[S]!];
    const srcStrides = [this.Kg * this.Cg * RS, this.Cg * RS, RS, l.kernelWidth, 1];
    const offset = this.wIndex(start[G]!, start[K]!, start[C]!, start[R]!, start[S]!);
    const id = this.id();
    fetch.push({
      to: "dram",
      msg: {
        op: "read",
        id,
        tensor: this.hw.w,
        box: { shape, offset: this.wDram(start[G]!, start[K]!, start[C]!, start[R]!, start[S]!), strides: this.wDramStrides() },
        ...(this.checked ? { expect: { space: TAG_SPACE.weight, offset, strides: srcStrides } } : {}),
      },
    });
    const dst: Box = { shape, offset: 0, strides: this.gbufWeightStrides() };
    return () => [{ to: "gbuf", msg: { op: "write", id: this.id(), region, box: dst, payload: this.take(id) } }];
  }

  private pending = new Map<number, Resp>();

  /** Records the responses of the last step (the generator receives them from the driver). */
  private take(id: number): Payload {
    const r = this.pending.get(id) as { payload?: Payload } | undefined;
    if (!r?.payload) throw new InvariantError("sequencer", `no payload for transaction ${id}`);
    this.pending.delete(id);
    return r.payload;
  }

  // The driver passes responses into the generator; every `yield` goes through this wrapper,
  // which keeps the payloads (the map itself is the thread's, reused for its next step).
  private *stepAndCollect(step: Step): Generator<Step, void, Map<number, Resp>> {
    const got = yield step;
    got.forEach((v, k) => {
      if ((v as { payload?: Payload }).payload) this.pending.set(k, v);
    });
  }

  // ---------------------------------------------------------------------------------------------
  // GBuf (or DRAM) -> RF

  /**
   * Deliveries (and padding fills) of the PEs' new input tiles. With `spans` (single-buffered
   * register files), a PE whose new tile overlaps its resident one in the same channels keeps the
   * overlap: one move per rectangle of PEs shifts it to its new place in the span (`moves`), and
   * only the rest of the new span is delivered or padded (a sliding window keeping its halo).
   * Only dense spans (every row and column of the span read or padding) take part.
   */
  private deliverInputs(
    keys: Float64Array,
    rows: number,
    cols: number,
    peStart: Int32Array[],
    peExt: Int32Array[],
    gbufInput: GbufInputTile | undefined,
    half: number,
    reads: Req[],
    fills: Req[],
    rfBase: number,
    spans: (InputSpan | undefined)[] | undefined,
    moves: Req[],
    spanGroups?: SpanGroup[],
  ): Deferred[] {
    const l = this.layer;
    const fromGbuf = this.m.gbuf.keep.input;
    const SH = this.spanH, SW = this.spanW;
    const re = this.nest.rfExtent;
    const ge = this.nest.gbufExtent;
    const MR = this.gbufInputRows, MC = this.gbufInputCols;
    const Ctot = l.inChannels;
    const HW = l.inHeight * l.inWidth;
    const groups: DeliveryGroup[] = [];
    // Padding bands by box: the PEs that need each (1 / NaN, for rectangles()) and, checked, their tag bases.
    const padding = new Map<string, { box: Box; need: Float64Array; tagBase: Float64Array | undefined }>();
    const rfStrides = [re[G]! * re[C]! * SH * SW, re[C]! * SH * SW, SH * SW];
    const tagStrides3 = [Ctot * this.Hp * this.Wp, this.Cg * this.Hp * this.Wp, this.Hp * this.Wp];
    for (const [, rects] of rectangles(keys, rows, cols)) {
      const pe0 = rects[0]!.row0 * cols + rects[0]!.col0;
      const start = peStart[pe0]!;
      const ext = peExt[pe0]!;
      // The span's padded origin (oh, ow), size and first channel.
      const at = this.spanAt(start, ext);
      const { oh, ow, rows: spanRows, cols: spanCols, ch0 } = at;
      const { rows: rr, cols: cc } = this.inputRowsCols(start, ext);
      const lead = [ext[N]!, ext[G]!, ext[C]!];
      // Span coordinates of the real input: rows [realTop, realBottom), columns [realLeft, realRight).
      const realTop = l.pads[0] - oh;
      const realBottom = realTop + l.inHeight;
      const realLeft = l.pads[1] - ow;
      const realRight = realLeft + l.inWidth;
      const clip = (v: number, n: number) => Math.max(0, Math.min(n, v));
      const dense = rr.length === clip(realBottom, spanRows) - clip(realTop, spanRows) && cc.length === clip(realRight, spanCols) - clip(realLeft, spanCols);
      const span = this.makeSpan(at, dense);
      // The part of the resident span this group keeps (padded coordinates), if any.
      let keep: { r0: number; r1: number; c0: number; c1: number } | undefined;
      const old = spans?.[pe0];
      if (spans) {
        const same = old !== undefined && rects.every((r) => {
          for (let i = 0; i < r.rows; i++) for (let j = 0; j < r.cols; j++) if (spans[(r.row0 + i) * cols + r.col0 + j] !== old) return false;
          return true;
        });
        if (same && old.dense && dense && old.n === span.n && old.ch0 === span.ch0 && old.en === span.en && old.eg === span.eg && old.ec === span.ec) {
          const r0 = Math.max(old.oh, oh), r1 = Math.min(old.oh + old.rows, oh + spanRows);
          const c0 = Math.max(old.ow, ow), c1 = Math.min(old.ow + old.cols, ow + spanCols);
          if (r1 > r0 && c1 > c0) keep = { r0, r1, c0, c1 };
        }
        const members: number[] | undefined = spanGroups ? [] : undefined;
        for (const r of rects) {
          for (let i = 0; i < r.rows; i++) {
            for (let j = 0; j < r.cols; j++) {
              spans[(r.row0 + i) * cols + r.col0 + j] = span;
              members?.push((r.row0 + i) * cols + r.col0 + j);
            }
          }
        }
        if (members) spanGroups!.push({ pe0, pes: Int32Array.from(members), dense });
      }
      if (keep) {
        // The kept words, from where they sit in the old span to their place in the new one.
        const from = (keep.r0 - old!.oh) * SW + (keep.c0 - old!.ow);
        const to = (keep.r0 - oh) * SW + (keep.c0 - ow);
        const shape = [...lead, keep.r1 - keep.r0, keep.c1 - keep.c0];
        const src: Box = { shape, offset: rfBase + from, strides: [...rfStrides, SW, 1] };
        const dst: Box = { shape, offset: rfBase + to, strides: [...rfStrides, SW, 1] };
        if (from !== to) for (const pes of rects) moves.push({ to: "pe", msg: { op: "slide", id: this.id(), part: "input", pes, src, dst } });
      }
      // Regions of the new span (span coordinates) to bring in: all of it, or what the kept part leaves.
      const regions: [number, number, number, number][] = []; // [row0, row1, col0, col1)
      if (!keep) {
        regions.push([0, spanRows, 0, spanCols]);
      } else {
        const k0 = keep.r0 - oh, k1 = keep.r1 - oh, j0 = keep.c0 - ow, j1 = keep.c1 - ow;
        if (k0 > 0) regions.push([0, k0, 0, spanCols]);
        if (k1 < spanRows) regions.push([k1, spanRows, 0, spanCols]);
        if (j0 > 0) regions.push([k0, k1, 0, j0]);
        if (j1 < spanCols) regions.push([k0, k1, j1, spanCols]);
      }
      const pieces: Piece[] = [];
      const srcRow = fromGbuf ? (c: number) => gbufInput!.rowRank.get(c)! : (c: number) => c;
      const srcCol = fromGbuf ? (c: number) => gbufInput!.colRank.get(c)! : (c: number) => c;
      for (const [a0, a1, b0, b1] of regions) {
        // Real inputs of the region: delivered.
        const rSub = rr.filter((c) => c + l.pads[0] - oh >= a0 && c + l.pads[0] - oh < a1);
        const cSub = cc.filter((c) => c + l.pads[1] - ow >= b0 && c + l.pads[1] - ow < b1);
        if (rSub.length > 0 && cSub.length > 0) {
          const rowRuns = runsOf(rSub, srcRow, (c) => c + l.pads[0] - oh);
          const colRuns = runsOf(cSub, srcCol, (c) => c + l.pads[1] - ow);
          for (const ra of rowRuns) {
            for (const cb of colRuns) {
              const shape = [...lead, ra.count, cb.count];
              const gs = gbufInput?.start;
              pieces.push({
                shape,
                src: fromGbuf
                  ? (((start[N]! - gs![N]!) * ge[G]! + (start[G]! - gs![G]!)) * ge[C]! + (start[C]! - gs![C]!)) * MR * MC + ra.src0 * MC + cb.src0
                  : this.xIndex(start[N]!, ch0, ra.coord0, cb.coord0),
                srcStrides: fromGbuf ? [ge[G]! * ge[C]! * MR * MC, ge[C]! * MR * MC, MR * MC, MC * ra.srcStep, cb.srcStep] : [Ctot * HW, this.Cg * HW, HW, l.inWidth * ra.coordStep, cb.coordStep],
                tag: this.xTag(start[N]!, ch0, ra.coord0 + l.pads[0], cb.coord0 + l.pads[1]),
                tagStrides: [...tagStrides3, this.Wp * ra.coordStep, cb.coordStep],
                dst: { shape, offset: rfBase + ra.dst0 * SW + cb.dst0, strides: [...rfStrides, SW * ra.dstStep, cb.dstStep] },
              });
            }
          }
        }
        // Padding of the region: the parts outside the real input hold the zero point (filled in place).
        const rt = clip(realTop, spanRows), rb = Math.max(rt, clip(realBottom, spanRows));
        const cl = clip(realLeft, spanCols), cr = Math.max(cl, clip(realRight, spanCols));
        const bands: [number, number, number, number][] = []; // [row0, rowCount, col0, colCount]
        const band = (r0: number, r1: number, c0: number, c1: number) => {
          if (r1 > r0 && c1 > c0) bands.push([r0, r1 - r0, c0, c1 - c0]);
        };
        band(a0, Math.min(a1, rt), b0, b1);
        band(Math.max(a0, rb), a1, b0, b1);
        band(Math.max(a0, rt), Math.min(a1, rb), b0, Math.min(b1, cl));
        band(Math.max(a0, rt), Math.min(a1, rb), Math.max(b0, cr), b1);
        for (const [br, bn, bc, bm] of bands) {
          const box: Box = { shape: [...lead, bn, bm], offset: rfBase + br * SW + bc, strides: [...rfStrides, SW, 1] };
          const key = `${lead[0]},${lead[1]},${lead[2]},${br},${bn},${bc},${bm}`;
          let pad = padding.get(key);
          if (!pad) padding.set(key, (pad = { box, need: this.padNeed(padding.size, rows * cols), tagBase: this.checked ? new Float64Array(rows * cols) : undefined }));
          const tagBase = this.checked ? this.xTag(start[N]!, ch0, oh + br, ow + bc) : 0;
          for (const r of rects) {
            for (let i = 0; i < r.rows; i++) {
              for (let j = 0; j < r.cols; j++) {
                pad.need[(r.row0 + i) * cols + r.col0 + j] = 1;
                if (pad.tagBase) pad.tagBase[(r.row0 + i) * cols + r.col0 + j] = tagBase;
              }
            }
          }
        }
      }
      if (pieces.length > 0) groups.push({ rects, pieces });
    }
    // Padding fills: one command per band shape and rectangle of PEs, with each PE's own tags.
    for (const { box, need, tagBase } of padding.values()) {
      for (const [, rects] of rectangles(need, rows, cols)) {
        for (const pes of rects) {
          let tags: { tags: PeTagExpect } | undefined;
          if (tagBase) {
            const perPe = new Float64Array(pes.rows * pes.cols);
            for (let i = 0; i < pes.rows; i++) for (let j = 0; j < pes.cols; j++) perPe[i * pes.cols + j] = tagBase[(pes.row0 + i) * cols + pes.col0 + j]!;
            tags = { tags: { space: TAG_SPACE.input, perPe, strides: [Ctot * this.Hp * this.Wp, this.Cg * this.Hp * this.Wp, this.Hp * this.Wp, this.Wp, 1] } };
          }
          fills.push({ to: "pe", msg: { op: "fill", id: this.id(), part: "input", pes, box, value: this.ops.xZeroPoint, ...tags } });
        }
      }
    }
    return this.emitDeliveries("input", groups, fromGbuf ? { region: this.gbufRegions.input![half]! } : { tensor: this.hw.x }, reads);
  }

  private spanSerial = 0;

  /** The place of a tile's (start, ext) input span in a PE's register file. */
  private spanAt(start: Int32Array, ext: Int32Array): SpanPlace {
    const l = this.layer;
    return {
      n: start[N]!,
      ch0: start[G]! * this.Cg + start[C]!,
      en: ext[N]!,
      eg: ext[G]!,
      ec: ext[C]!,
      oh: start[P]! * l.strides[0] + start[R]! * l.dilations[0],
      ow: start[Q]! * l.strides[1] + start[S]! * l.dilations[1],
      rows: inputSpan(ext[P]!, ext[R]!, l.strides[0], l.dilations[0]),
      cols: inputSpan(ext[Q]!, ext[S]!, l.strides[1], l.dilations[1]),
    };
  }

  /** The input span of a tile in a PE's register file (a new object: its serial tells spans apart). */
  private makeSpan(at: SpanPlace, dense: boolean): InputSpan {
    // (one literal with every field, not a spread: spans are read in every plan signature, and a
    // spread's copy gave them a slow shape)
    const { n, ch0, en, eg, ec, oh, ow, rows, cols } = at;
    return { n, ch0, en, eg, ec, oh, ow, rows, cols, dense, serial: this.spanSerial++ };
  }

  /** Scratch for {@link deliverInputs}: the `i`-th padding band's PE mask, all NaN (reused: only read within one call). */
  private padNeed(i: number, n: number): Float64Array {
    let a = this.padPool[i];
    if (!a || a.length !== n) this.padPool[i] = a = new Float64Array(n);
    return a.fill(NaN);
  }

  private readonly padPool: Float64Array[] = [];

  /**
   * Reads and deliveries for groups of PEs that each share one tile. Groups that sit in
   * consecutive rows (or columns) of the array and whose tiles differ only by a constant address
   * step are gathered by one read each piece and sent in one transfer that hands each row (column)
   * its own tile: the same words and counts as one transfer per group, in fewer transactions.
   */
  private emitDeliveries(part: "input" | "weight", groups: DeliveryGroup[], source: { region: GbufRegion } | { tensor: DramTensor }, reads: Req[]): Deferred[] {
    const out: Deferred[] = [];
    const space = part === "input" ? TAG_SPACE.input : TAG_SPACE.weight;
    const read = (id: number, box: Box, tag: number, tagStrides: number[]): Req => {
      const expect = this.checked ? { expect: { space, offset: tag, strides: tagStrides } } : {};
      return "region" in source
        ? { to: "gbuf", msg: { op: "read", id, region: source.region, box, ...expect } }
        : { to: "dram", msg: { op: "read", id, tensor: source.tensor, box, ...expect } };
    };
    // Groups whose tiles have the same structure and differ only by a constant address step (in
    // some order) are served together: one read per piece gathers every group's tile, and one
    // transfer hands each PE its group's (a box index per PE). Other groups go one by one.
    const rest: DeliveryGroup[] = [];
    // Classes of groups with the same structure, in order of first appearance (found by a hash,
    // confirmed by comparing the structures).
    const classes: DeliveryGroup[][] = [];
    const byHash = new Map<number, DeliveryGroup[][]>();
    for (const g of groups) {
      if (g.pieces.length === 0) continue;
      const h = structureHash(g.pieces);
      let bucket = byHash.get(h);
      if (!bucket) byHash.set(h, (bucket = []));
      let list = bucket.find((c) => sameStructure(c[0]!.pieces, g.pieces));
      if (!list) {
        list = [];
        bucket.push(list);
        classes.push(list);
      }
      list.push(g);
    }
    const stepOf = (a: DeliveryGroup, b: DeliveryGroup) => a.pieces.map((p, i) => [b.pieces[i]!.src - p.src, b.pieces[i]!.tag - p.tag] as const);
    const sameStep = (x: readonly (readonly [number, number])[], y: readonly (readonly [number, number])[]) => x.every((v, i) => v[0] === y[i]![0] && v[1] === y[i]![1]);
    const serveTogether = (run: DeliveryGroup[]) => {
      let r0 = Infinity, c0 = Infinity, r1 = -1, c1 = -1;
      for (const g of run) for (const r of g.rects) {
        r0 = Math.min(r0, r.row0);
        c0 = Math.min(c0, r.col0);
        r1 = Math.max(r1, r.row0 + r.rows);
        c1 = Math.max(c1, r.col0 + r.cols);
      }
      const pes: PeRect = { row0: r0, col0: c0, rows: r1 - r0, cols: c1 - c0 };
      const boxIndex = new Int32Array(pes.rows * pes.cols).fill(-1);
      run.forEach((g, b) => {
        for (const r of g.rects) for (let i = 0; i < r.rows; i++) for (let j = 0; j < r.cols; j++) boxIndex[(r.row0 - r0 + i) * pes.cols + (r.col0 - c0 + j)] = b;
      });
      const step = stepOf(run[0]!, run[1]!);
      run[0]!.pieces.forEach((p, i) => {
        const id = this.id();
        const [srcStep, tagStep] = step[i]!;
        // The read walks addresses in order, so when the groups' tiles interleave (their step is
        // finer than the piece's innermost stride, e.g. the columns of a systolic array each
        // streaming one pixel's channels) the group index goes innermost, and the payload is
        // transposed back to one tile after another for the transfer.
        let d = p.shape.length - 1;
        while (d >= 0 && p.shape[d]! <= 1) d--;
        const interleave = d >= 0 && Math.abs(srcStep) < Math.abs(p.srcStrides[d]!);
        const box: Box = interleave
          ? { shape: [...p.shape, run.length], offset: p.src, strides: [...p.srcStrides, srcStep] }
          : { shape: [run.length, ...p.shape], offset: p.src, strides: [srcStep, ...p.srcStrides] };
        reads.push(read(id, box, p.tag, interleave ? [...p.tagStrides, tagStep] : [tagStep, ...p.tagStrides]));
        out.push({
          id,
          send: (payload) => [{ to: "noc", msg: { op: "deliver", id: this.id(), part, pes, box: p.dst, payload: interleave ? transposePayload(payload, run.length) : payload, boxIndex } }],
        });
      });
    };
    for (const list of classes) {
      list.sort((a, b) => a.pieces[0]!.src - b.pieces[0]!.src || a.pieces[0]!.tag - b.pieces[0]!.tag);
      let run: DeliveryGroup[] = [];
      const flush = () => {
        if (run.length > 1) serveTogether(run);
        else rest.push(...run);
        run = [];
      };
      for (const g of list) {
        if (run.length >= 2 && !sameStep(stepOf(run[0]!, run[1]!), stepOf(run[run.length - 1]!, g))) flush();
        run.push(g);
      }
      flush();
    }
    for (const g of rest) {
      for (const p of g.pieces) {
        const id = this.id();
        reads.push(read(id, { shape: p.shape, offset: p.src, strides: p.srcStrides }, p.tag, [...p.tagStrides]));
        out.push({ id, send: (payload) => g.rects.map((pes) => ({ to: "noc" as const, msg: { op: "deliver" as const, id: this.id(), part, pes, box: p.dst, payload } })) });
      }
    }
    return out;
  }

  private deliverWeights(
    keys: Float64Array,
    rows: number,
    cols: number,
    peStart: Int32Array[],
    peExt: Int32Array[],
    gbufWeight: { start: Int32Array; ext: Int32Array } | undefined,
    half: number,
    reads: Req[],
    rfBase: number,
  ): Deferred[] {
    const l = this.layer;
    const out: Deferred[] = [];
    const re = this.nest.rfExtent;
    const ge = this.nest.gbufExtent;
    const RS = l.kernelHeight * l.kernelWidth;
    const tagStrides = [this.Kg * this.Cg * RS, this.Cg * RS, RS, l.kernelWidth, 1];
    const fromGbuf = this.m.gbuf.keep.weight;
    const gs = gbufWeight?.start;
    const gStrides = this.gbufWeightStrides();
    // Source address of a PE's tile (GBuf region or DRAM) and its tag index.
    const srcOf = (st: Int32Array) =>
      fromGbuf
        ? (((st[G]! - gs![G]!) * ge[K]! + (st[K]! - gs![K]!)) * ge[C]! + (st[C]! - gs![C]!)) * ge[R]! * ge[S]! + (st[R]! - gs![R]!) * ge[S]! + (st[S]! - gs![S]!)
        : this.wDram(st[G]!, st[K]!, st[C]!, st[R]!, st[S]!);
    const tagOf = (st: Int32Array) => this.wIndex(st[G]!, st[K]!, st[C]!, st[R]!, st[S]!);
    const srcStrides = fromGbuf ? gStrides : this.wDramStrides();
    const dst = (ext: Int32Array): Box => ({ shape: [ext[G]!, ext[K]!, ext[C]!, ext[R]!, ext[S]!], offset: rfBase, strides: [re[K]! * re[C]! * re[R]! * re[S]!, re[C]! * re[R]! * re[S]!, re[R]! * re[S]!, re[S]!, 1] });
    const read = (id: number, box: Box, tag: { offset: number; strides: number[] }): Req =>
      fromGbuf
        ? { to: "gbuf", msg: { op: "read", id, region: this.gbufRegions.weight![half]!, box, ...(this.checked ? { expect: { space: TAG_SPACE.weight, ...tag } } : {}) } }
        : { to: "dram", msg: { op: "read", id, tensor: this.hw.w, box, ...(this.checked ? { expect: { space: TAG_SPACE.weight, ...tag } } : {}) } };
    // Every PE needs its own tile (no sharing): when the tiles' sources are affine in the PE's
    // position, one read gathers them all and one transfer hands each PE its own (per-PE payload).
    if (distinctKeys(keys) > 1) {
      const extKeys = new Float64Array(keys.length).fill(NaN);
      for (let pe = 0; pe < keys.length; pe++) if (!Number.isNaN(keys[pe]!)) extKeys[pe] = startKey(peExt[pe]!, WEIGHT_DIMS, this.nest.sizes);
      const rest = new Float64Array(keys.length).fill(NaN);
      for (const [, rects] of rectangles(extKeys, rows, cols)) {
        for (const rect of rects) {
          const at = (i: number, j: number) => peStart[(rect.row0 + i) * cols + rect.col0 + j]!;
          const s0 = at(0, 0);
          const ri = rect.rows > 1 ? srcOf(at(1, 0)) - srcOf(s0) : 0;
          const cj = rect.cols > 1 ? srcOf(at(0, 1)) - srcOf(s0) : 0;
          const ti = rect.rows > 1 ? tagOf(at(1, 0)) - tagOf(s0) : 0;
          const tj = rect.cols > 1 ? tagOf(at(0, 1)) - tagOf(s0) : 0;
          let affine = true;
          for (let i = 0; i < rect.rows && affine; i++) {
            for (let j = 0; j < rect.cols; j++) {
              const st = at(i, j);
              if (srcOf(st) !== srcOf(s0) + i * ri + j * cj || tagOf(st) !== tagOf(s0) + i * ti + j * tj) {
                affine = false;
                break;
              }
            }
          }
          if (!affine) {
            for (let i = 0; i < rect.rows; i++) for (let j = 0; j < rect.cols; j++) rest[(rect.row0 + i) * cols + rect.col0 + j] = keys[(rect.row0 + i) * cols + rect.col0 + j]!;
            continue;
          }
          const ext = peExt[rect.row0 * cols + rect.col0]!;
          const d = dst(ext);
          const id = this.id();
          reads.push(read(id, { shape: [rect.rows, rect.cols, ...d.shape], offset: srcOf(s0), strides: [ri, cj, ...srcStrides] }, { offset: tagOf(s0), strides: [ti, tj, ...tagStrides] }));
          out.push({ id, send: (payload) => [{ to: "noc", msg: { op: "deliver", id: this.id(), part: "weight", pes: rect, box: d, payload, perPe: true } }] });
        }
      }
      keys = rest;
    }
    const shared: DeliveryGroup[] = [];
    for (const [, rects] of rectangles(keys, rows, cols)) {
      const pe0 = rects[0]!.row0 * cols + rects[0]!.col0;
      const start = peStart[pe0]!;
      const d = dst(peExt[pe0]!);
      shared.push({ rects, pieces: [{ shape: [...d.shape], src: srcOf(start), srcStrides, tag: tagOf(start), tagStrides, dst: d }] });
    }
    out.push(...this.emitDeliveries("weight", shared, fromGbuf ? { region: this.gbufRegions.weight![half]! } : { tensor: this.hw.w }, reads));
    return out;
  }

  /** A psum tile of extent `ext` in a PE's psum partition, from entry `base`. */
  private psumBox(ext: Coords, base: number): Box {
    return { shape: [ext[N]!, ext[G]!, ext[K]!, ext[P]!, ext[Q]!], offset: base, strides: this.psumStrides() };
  }

  /** PE-local psum layout strides over [N, G, K, P, Q]. */
  private psumStrides(): number[] {
    const re = this.nest.rfExtent;
    return [re[G]! * re[K]! * re[P]! * re[Q]!, re[K]! * re[P]! * re[Q]!, re[P]! * re[Q]!, re[Q]!, 1];
  }

  private yTagStrides(): number[] {
    const OH = this.shape.outHeight, OW = this.shape.outWidth;
    return [this.layer.outChannels * OH * OW, this.Kg * OH * OW, OH * OW, OW, 1];
  }

  private psumInit(keys: Float64Array, rows: number, cols: number, peStart: Int32Array[], peExt: Int32Array[]): Req[] {
    const out: Req[] = [];
    for (const [, rects] of rectangles(keys, rows, cols)) {
      for (const pes of rects) {
        const ext = peExt[pes.row0 * cols + pes.col0]!;
        const perPe = new Float64Array(pes.rows * pes.cols);
        for (let i = 0; i < pes.rows; i++) {
          for (let j = 0; j < pes.cols; j++) {
            const s = peStart[(pes.row0 + i) * cols + pes.col0 + j]!;
            perPe[i * pes.cols + j] = this.yIndex(s[N]!, s[G]!, s[K]!, s[P]!, s[Q]!);
          }
        }
        const box = this.psumBox(ext, this.psumBase);
        out.push({ to: "pe", msg: { op: "fill", id: this.id(), part: "psum", pes, box, value: 0, ...(this.checked ? { tags: { space: TAG_SPACE.output, perPe, strides: this.yTagStrides() } } : {}) } });
      }
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // MAC waves

  /** Unchecked waves depend only on the rectangle and the loop counts: built once, frozen, reused. */
  private readonly waveCache = new Map<string, MacWave>();

  private wave(rect: PeRect, peStart: Int32Array[], peExt: Int32Array[], bases: { readonly input: number; readonly weight: number; readonly psum: number }): MacWave {
    const l = this.layer;
    const cols = this.nest.usedCols;
    const ext = peExt[rect.row0 * cols + rect.col0]!;
    const cacheKey = () => `${rect.row0},${rect.col0},${rect.rows},${rect.cols}@${bases.input},${bases.weight},${bases.psum}:${this.nest.rfLoops.map((lp) => ext[lp.dim]).join(",")}`;
    if (!this.checked) {
      let macs = rect.rows * rect.cols;
      for (const lp of this.nest.rfLoops) macs *= ext[lp.dim]!;
      const key = cacheKey();
      const hit = this.waveCache.get(key);
      if (hit) {
        this.countMacs(macs);
        return hit;
      }
    }
    const re = this.nest.rfExtent;
    const SH = this.spanH, SW = this.spanW;
    const [sh, sw] = l.strides;
    const [dh, dw] = l.dilations;
    // Per-dimension coefficients of each stream (entries) and of each tag stream (element index).
    const inE = [re[G]! * re[C]! * SH * SW, re[C]! * SH * SW, 0, SH * SW, sh * SW, sw, dh * SW, dw];
    const wE = [0, re[K]! * re[C]! * re[R]! * re[S]!, re[C]! * re[R]! * re[S]!, re[R]! * re[S]!, 0, 0, re[S]!, 1];
    const psS = this.psumStrides();
    const pE = [psS[0]!, psS[1]!, psS[2]!, 0, psS[3]!, psS[4]!, 0, 0];
    const Ctot = l.inChannels;
    const inT = [Ctot * this.Hp * this.Wp, this.Cg * this.Hp * this.Wp, 0, this.Hp * this.Wp, sh * this.Wp, sw, dh * this.Wp, dw];
    const RS = l.kernelHeight * l.kernelWidth;
    const wT = [0, this.Kg * this.Cg * RS, this.Cg * RS, RS, 0, 0, l.kernelWidth, 1];
    const yT = this.yTagStrides();
    const pT = [yT[0]!, yT[1]!, yT[2]!, 0, yT[3]!, yT[4]!, 0, 0];
    const loops: number[] = [];
    const dims: number[] = [];
    for (const lp of this.nest.rfLoops) {
      loops.push(ext[lp.dim]!);
      dims.push(lp.dim);
    }
    if (loops.length === 0) {
      loops.push(1);
      dims.push(N);
    }
    let macs = rect.rows * rect.cols;
    for (const n of loops) macs *= n;
    this.countMacs(macs);
    const wave: MacWave = {
      pes: rect,
      loops,
      input: { offset: bases.input, strides: dims.map((d) => inE[d]!) },
      weight: { offset: bases.weight, strides: dims.map((d) => wE[d]!) },
      psum: { offset: bases.psum, strides: dims.map((d) => pE[d]!) },
      inputZero: this.ops.xZeroPoint,
      weightZero: this.ops.wZeroPoint,
      ...(this.checked
        ? {
            expect: (() => {
              const n = rect.rows * rect.cols;
              const bi = new Float64Array(n), bw = new Float64Array(n), bp = new Float64Array(n);
              for (let i = 0; i < rect.rows; i++) {
                for (let j = 0; j < rect.cols; j++) {
                  const s = peStart[(rect.row0 + i) * cols + rect.col0 + j]!;
                  const ch0 = s[G]! * this.Cg + s[C]!;
                  bi[i * rect.cols + j] = this.xTag(s[N]!, ch0, s[P]! * sh + s[R]! * dh, s[Q]! * sw + s[S]! * dw);
                  bw[i * rect.cols + j] = this.wIndex(s[G]!, s[K]!, s[C]!, s[R]!, s[S]!);
                  bp[i * rect.cols + j] = this.yIndex(s[N]!, s[G]!, s[K]!, s[P]!, s[Q]!);
                }
              }
              return {
                input: { space: TAG_SPACE.input, perPe: bi, strides: dims.map((d) => inT[d]!) },
                weight: { space: TAG_SPACE.weight, perPe: bw, strides: dims.map((d) => wT[d]!) },
                psum: { space: TAG_SPACE.output, perPe: bp, strides: dims.map((d) => pT[d]!) },
              };
            })(),
          }
        : {}),
    };
    if (!this.checked) this.waveCache.set(cacheKey(), Object.freeze(wave));
    return wave;
  }

  // ---------------------------------------------------------------------------------------------
  // RF -> GBuf / DRAM

  /**
   * Takes the partial-sum tiles of the PEs in `mask` (every holder when null) out of the
   * residency state, for {@link drainTiles}.
   */
  private collectDrains(rfOut: (RfOutTile | undefined)[], rfOutKey: Float64Array, mask: Uint8Array | null): DrainEntry[] {
    const out: DrainEntry[] = [];
    for (let pe = 0; pe < this.pes; pe++) {
      if ((mask === null || mask[pe]) && rfOut[pe]) {
        out.push({ pe, tile: rfOut[pe]!, key: rfOutKey[pe]! });
        rfOut[pe] = undefined;
        rfOutKey[pe] = NaN;
      }
    }
    return out;
  }

  private drainKeys: Float64Array | undefined;

  /**
   * Drains the given PEs' partial sums, sums PEs that share an output tile (a reduction spread
   * across the array), and adds the sums into the GBuf output tile (or DRAM when the GBuf
   * bypasses outputs).
   */
  private *drainTiles(
    entries: readonly DrainEntry[],
    gbufOutput: OutputTile | undefined,
    gbufHas: Uint8Array | undefined,
    half: number,
    dramHas: Uint8Array,
  ): Generator<Step, void, Map<number, Resp>> {
    if (entries.length === 0) return;
    if (this.arch.noc.neighbourLinks) {
      // PEs that share an output tile along a line of the array pass their partial sums down the
      // line over the neighbour links; only the PE at the end of each line is drained.
      const { links, kept } = this.linkReductions(entries);
      if (links.length > 0) {
        yield* this.stepAndCollect(this.step("drain", links));
        entries = kept;
      }
    }
    const pes = this.pes;
    const cols = this.nest.usedCols;
    // (scratch: read only before the first yield below)
    const keys = (this.drainKeys ??= new Float64Array(pes)).fill(NaN);
    const byPe: (DrainEntry | undefined)[] = new Array(pes).fill(undefined);
    for (const e of entries) {
      keys[e.pe] = e.tile.extKey;
      byPe[e.pe] = e;
    }
    const drains: { id: number; rect: PeRect }[] = [];
    const reqs: Req[] = [];
    for (const [, rects] of rectangles(keys, this.nest.usedRows, cols)) {
      for (const rect of rects) {
        const ext = byPe[rect.row0 * cols + rect.col0]!.tile.ext;
        const box = this.psumBox(ext, byPe[rect.row0 * cols + rect.col0]!.tile.base);
        const id = this.id();
        drains.push({ id, rect });
        let expect: { expect: PeTagExpect } | undefined;
        if (this.checked) {
          const perPe = new Float64Array(rect.rows * rect.cols);
          for (let i = 0; i < rect.rows; i++) {
            for (let j = 0; j < rect.cols; j++) {
              const st = byPe[(rect.row0 + i) * cols + rect.col0 + j]!.tile.start;
              perPe[i * rect.cols + j] = this.yIndex(st[N]!, st[G]!, st[K]!, st[P]!, st[Q]!);
            }
          }
          expect = { expect: { space: TAG_SPACE.output, perPe, strides: this.yTagStrides() } };
        }
        reqs.push({ to: "noc", msg: { op: "drain", id, part: "psum", pes: rect, box, ...expect } });
      }
    }
    yield* this.stepAndCollect(this.step("drain", reqs));
    // Sum per output tile (spatial reduction on the drain path).
    const sums = new Map<number, { tile: TileCoords; data: Int32Array; tags: Float64Array | undefined }>();
    for (const { id, rect } of drains) {
      const payload = this.take(id);
      const data = payload.data as Int32Array;
      const tags = payload.tags;
      const per = data.length / (rect.rows * rect.cols);
      for (let i = 0; i < rect.rows; i++) {
        for (let j = 0; j < rect.cols; j++) {
          const e = byPe[(rect.row0 + i) * cols + rect.col0 + j]!;
          const at = (i * rect.cols + j) * per;
          const slot = sums.get(e.key);
          if (!slot) {
            sums.set(e.key, { tile: e.tile, data: data.slice(at, at + per), tags: tags ? tags.slice(at, at + per) : undefined });
          } else {
            const d = slot.data;
            for (let k = 0; k < per; k++) d[k] = (d[k]! + data[at + k]!) | 0;
          }
        }
      }
    }
    yield* this.accumulate([...sums.values()], gbufOutput, gbufHas, half, dramHas);
  }

  /**
   * Plans neighbour-link reductions for the PEs about to drain: a group of PEs that share one
   * output tile and fill a vertical (horizontal) segment of the array, beside other such groups
   * with the same segment and tile shape, is one `reduce` towards the segment's top (left) end.
   * Returns the link requests and the entries left to drain (the ends, and every PE not reduced).
   */
  private linkReductions(entries: readonly DrainEntry[]): { links: Req[]; kept: DrainEntry[] } {
    if (this.checked) return this.planLinkReductions(entries);
    // Unchecked, the plan depends only on each entry's PE, which entries share an output tile,
    // and the tile's extent and psum base (checked plans also carry the tiles' absolute tags):
    // an iteration that drains like the last one reuses its plan with fresh ids.
    const sig = this.linkSignature(entries);
    const last = this.lastLinks;
    if (last && sameNumbers(last.sig, sig)) return { links: last.links.map((q) => this.reId(q)), kept: Array.from(last.kept, (i) => entries[i]!) };
    const plan = this.planLinkReductions(entries);
    const at = new Map<DrainEntry, number>();
    entries.forEach((e, i) => at.set(e, i));
    this.lastLinks = { sig: sig.slice(), links: plan.links, kept: Int32Array.from(plan.kept, (e) => at.get(e)!) };
    return plan;
  }

  /** The last unchecked link plan: its signature, requests and kept entries (indices). */
  private lastLinks: { readonly sig: Float64Array; readonly links: readonly Req[]; readonly kept: Int32Array } | undefined;
  private linkSig = new Float64Array(0);
  private readonly linkClass = new Map<number, number>();

  /** Per entry: its PE, its output tile's class (first-seen order), its psum base and extent. */
  private linkSignature(entries: readonly DrainEntry[]): Float64Array {
    const per = 3 + NDIMS;
    if (this.linkSig.length < entries.length * per) this.linkSig = new Float64Array(entries.length * per);
    const b = this.linkSig;
    const cls = this.linkClass;
    cls.clear();
    let n = 0;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      let c = cls.get(e.key);
      if (c === undefined) cls.set(e.key, (c = cls.size));
      b[n++] = e.pe;
      b[n++] = c;
      b[n++] = e.tile.base;
      for (let d = 0; d < NDIMS; d++) b[n++] = e.tile.ext[d]!;
    }
    return b.subarray(0, n);
  }

  private planLinkReductions(entries: readonly DrainEntry[]): { links: Req[]; kept: DrainEntry[] } {
    const cols = this.nest.usedCols;
    const groups = new Map<number, DrainEntry[]>();
    for (const e of entries) {
      let g = groups.get(e.key);
      if (!g) groups.set(e.key, (g = []));
      g.push(e);
    }
    // A line: the group's PEs in one column with consecutive rows (or one row, consecutive columns).
    interface Line {
      readonly axis: "col" | "row";
      readonly fixed: number;
      readonly from: number;
      readonly length: number;
      readonly ext: string;
      readonly members: DrainEntry[];
    }
    const lines: Line[] = [];
    const kept: DrainEntry[] = [];
    for (const g of groups.values()) {
      if (g.length < 2) {
        kept.push(...g);
        continue;
      }
      const rs = g.map((e) => Math.floor(e.pe / cols));
      const cs = g.map((e) => e.pe % cols);
      const ext = g[0]!.tile.ext.join(",");
      const consecutive = (v: number[]) => {
        const sorted = [...v].sort((a, b) => a - b);
        return sorted.every((x, i) => x === sorted[0]! + i) ? sorted[0]! : -1;
      };
      if (cs.every((c) => c === cs[0]) && consecutive(rs) >= 0) {
        lines.push({ axis: "col", fixed: cs[0]!, from: consecutive(rs), length: g.length, ext, members: g });
      } else if (rs.every((r) => r === rs[0]) && consecutive(cs) >= 0) {
        lines.push({ axis: "row", fixed: rs[0]!, from: consecutive(cs), length: g.length, ext, members: g });
      } else {
        kept.push(...g);
      }
    }
    // Side-by-side lines with the same span and tile shape form one rectangle.
    const bands = new Map<string, Line[]>();
    for (const l of lines) {
      const key = `${l.axis}:${l.from}:${l.length}:${l.ext}`;
      let b = bands.get(key);
      if (!b) bands.set(key, (b = []));
      b.push(l);
    }
    const links: Req[] = [];
    for (const band of bands.values()) {
      band.sort((a, b) => a.fixed - b.fixed);
      let run: Line[] = [];
      const emit = () => {
        if (run.length === 0) return;
        const first = run[0]!;
        const vertical = first.axis === "col";
        const pes: PeRect = vertical
          ? { row0: first.from, col0: first.fixed, rows: first.length, cols: run.length }
          : { row0: first.fixed, col0: first.from, rows: run.length, cols: first.length };
        const tile = first.members[0]!.tile;
        const box = this.psumBox(tile.ext, tile.base);
        const perPe = new Float64Array(pes.rows * pes.cols);
        for (const l of run) {
          for (const e of l.members) {
            const st = e.tile.start;
            const i = Math.floor(e.pe / cols) - pes.row0;
            const j = (e.pe % cols) - pes.col0;
            perPe[i * pes.cols + j] = this.yIndex(st[N]!, st[G]!, st[K]!, st[P]!, st[Q]!);
          }
          // The line's end (top row, or left column) keeps the sum and is drained.
          kept.push(l.members.find((e) => (vertical ? Math.floor(e.pe / cols) : e.pe % cols) === l.from)!);
        }
        const expect = this.checked ? { expect: { space: TAG_SPACE.output, perPe, strides: this.yTagStrides() } } : {};
        links.push({ to: "noc", msg: { op: "link", id: this.id(), link: { kind: "reduce", part: "psum", pes, dir: vertical ? "north" : "west", box, ...expect } } });
        run = [];
      };
      for (const l of band) {
        if (run.length > 0 && l.fixed !== run[run.length - 1]!.fixed + 1) emit();
        run.push(l);
      }
      emit();
    }
    return { links, kept };
  }

  /** Adds drained sums into the GBuf output tile, or into DRAM when the GBuf bypasses outputs. */
  private *accumulate(
    sums: { tile: TileCoords; data: Int32Array; tags: Float64Array | undefined }[],
    gbufOutput: OutputTile | undefined,
    gbufHas: Uint8Array | undefined,
    half: number,
    dramHas: Uint8Array,
  ): Generator<Step, void, Map<number, Resp>> {
    const toGbuf = this.m.gbuf.keep.output;
    type Expect = OutTile["expect"];
    const tiles: OutTile[] = [];
    const ge = this.nest.gbufExtent;
    const st = [ge[G]! * ge[K]! * ge[P]! * ge[Q]!, ge[K]! * ge[P]! * ge[Q]!, ge[P]! * ge[Q]!, ge[Q]!, 1];
    const yStrides = this.yTagStrides();
    for (const s of sums) {
      const { start, ext } = s.tile;
      const shape = [ext[N]!, ext[G]!, ext[K]!, ext[P]!, ext[Q]!];
      const yOff = this.yIndex(start[N]!, start[G]!, start[K]!, start[P]!, start[Q]!);
      const expect = { space: TAG_SPACE.output, offset: yOff, strides: yStrides };
      let box: Box;
      let has: number;
      if (toGbuf) {
        const gs = gbufOutput!.start;
        const off = (start[N]! - gs[N]!) * st[0]! + (start[G]! - gs[G]!) * st[1]! + (start[K]! - gs[K]!) * st[2]! + (start[P]! - gs[P]!) * st[3]! + (start[Q]! - gs[Q]!);
        box = { shape, offset: off, strides: st };
        has = this.markHeld(gbufHas!, box);
      } else {
        box = { shape, offset: yOff, strides: yStrides };
        has = this.markHeld(dramHas, box);
      }
      tiles.push({ box, data: s.data, tags: s.tags, has, expect });
    }
    // Tiles of one shape and history whose places form a regular grid (the PEs of a drain, one
    // tile each) go to memory as one request: the drain path delivers them as one stream.
    const plan: { box: Box; data: Int32Array; tags: Float64Array | undefined; has: number; readId: number | undefined; expect: Expect }[] = [];
    // Grouped by history and shape, groups in order of first appearance (few per drain: a linear
    // search, no string keys).
    const groups: (typeof tiles)[] = [];
    for (const t of tiles) {
      let g = groups.find((h) => h[0]!.has === t.has && sameNumbers(h[0]!.box.shape, t.box.shape));
      if (!g) groups.push((g = []));
      g.push(t);
    }
    for (const g of groups) {
      const merged = g.length > 1 ? mergeGrid(g) : undefined;
      for (const t of merged ? [merged] : g) plan.push({ ...t, readId: undefined });
    }
    const reads: Req[] = [];
    for (const p of plan) {
      if (!p.has) continue;
      p.readId = this.id();
      const box = p.box;
      const expect = p.expect;
      reads.push(
        toGbuf
          ? { to: "gbuf", msg: { op: "read", id: p.readId, region: this.gbufRegions.output![half]!, box, ...(this.checked ? { expect } : {}) } }
          : { to: "dram", msg: { op: "read", id: p.readId, tensor: this.hw.y, box, ...(this.checked ? { expect } : {}) } },
      );
    }
    if (reads.length > 0) yield* this.stepAndCollect(this.step(toGbuf ? "gbuf" : "dram", reads));
    const writes: Req[] = [];
    for (const p of plan) {
      if (p.readId !== undefined) {
        const old = this.take(p.readId).data as Int32Array;
        for (let e = 0; e < p.data.length; e++) p.data[e] = (p.data[e]! + old[e]!) | 0;
      }
      const payload: Payload = { data: p.data, ...(p.tags ? { tags: p.tags } : {}) };
      writes.push(
        toGbuf
          ? { to: "gbuf", msg: { op: "write", id: this.id(), region: this.gbufRegions.output![half]!, box: p.box, payload } }
          : { to: "dram", msg: { op: "write", id: this.id(), tensor: this.hw.y, box: p.box, payload } },
      );
    }
    yield* this.stepAndCollect(this.step(toGbuf ? "gbuf" : "dram", writes));
  }

  /**
   * Whether the words of `box` in a has-array already hold a partial sum; marks them as holding one.
   * Every word of a tile shares its history, so a mixed box is a Sequencer bug.
   */
  private markHeld(has: Uint8Array, box: Box): number {
    const shape = box.shape;
    let first = -1;
    const idx = new Array<number>(shape.length).fill(0);
    for (;;) {
      let a = box.offset;
      for (let d = 0; d < shape.length; d++) a += idx[d]! * box.strides[d]!;
      const v = has[a]!;
      if (first === -1) first = v;
      else if (v !== first) throw new InvariantError("sequencer", `output words of one tile have different accumulation histories (address ${a})`);
      has[a] = 1;
      let d = shape.length - 1;
      for (; d >= 0; d--) {
        if (++idx[d]! < shape[d]!) break;
        idx[d] = 0;
      }
      if (d < 0) break;
    }
    return first;
  }

  /** Writes the GBuf output tile to DRAM, adding what DRAM already holds for it. */
  private *evictOutput(tile: OutputTile, half: number, dramHas: Uint8Array): Generator<Step, void, Map<number, Resp>> {
    const { start, ext } = tile;
    const ge = this.nest.gbufExtent;
    const shape = [ext[N]!, ext[G]!, ext[K]!, ext[P]!, ext[Q]!];
    const gst = [ge[G]! * ge[K]! * ge[P]! * ge[Q]!, ge[K]! * ge[P]! * ge[Q]!, ge[P]! * ge[Q]!, ge[Q]!, 1];
    const yOff = this.yIndex(start[N]!, start[G]!, start[K]!, start[P]!, start[Q]!);
    const expect = { space: TAG_SPACE.output, offset: yOff, strides: this.yTagStrides() };
    const dbox: Box = { shape, offset: yOff, strides: this.yTagStrides() };
    const has = this.markHeld(dramHas, dbox);
    const rid = this.id();
    const reads: Req[] = [{ to: "gbuf", msg: { op: "read", id: rid, region: this.gbufRegions.output![half]!, box: { shape, offset: 0, strides: gst }, ...(this.checked ? { expect } : {}) } }];
    const did = this.id();
    if (has) reads.push({ to: "dram", msg: { op: "read", id: did, tensor: this.hw.y, box: dbox, ...(this.checked ? { expect } : {}) } });
    yield* this.stepAndCollect(this.step("gbuf", reads));
    const p = this.take(rid);
    let data = p.data as WordArray;
    if (has) {
      const old = this.take(did).data as Int32Array;
      const sum = new Int32Array(data.length);
      for (let e = 0; e < sum.length; e++) sum[e] = (data[e]! + old[e]!) | 0;
      data = sum;
    }
    yield* this.stepAndCollect(this.step("dram", [{ to: "dram", msg: { op: "write", id: this.id(), tensor: this.hw.y, box: dbox, payload: { data, ...(p.tags ? { tags: p.tags } : {}) } } }]));
  }
}
