/**
 * A counting model of the Sequencer, written for the tests from the conventions its file header
 * and docs/counting.md state, sharing no code with src/dataflow beyond the Mapping type: it walks
 * the loop nest itself (mixed radix, outer loops coarser, tiles aligned at multiples of their
 * extent, iterations wholly beyond the edge skipped), tracks which tile of each tensor every
 * storage level holds, and counts the words each tile change moves. No data, no time: only the
 * action counts, which the tests compare with the simulated counters.
 *
 * Conventions modeled (docs/counting.md):
 * - a GBuf tile of a tensor is fetched from DRAM when the dram-level tile of that tensor
 *   changes; inputs: only real rows and columns some window reads, and not the halo the new
 *   tile shares with the resident one in the same images and channels (per axis: all of the
 *   stored rows when they are the same, their overlap when both tiles' rows are consecutive);
 *   a double-buffered GBuf copies that halo from its other half (a GBuf read and write a word);
 * - an RF tile is delivered when the PE's tile of that tensor changes; one source read per
 *   distinct tile, one delivery per PE; the PE's input span is its dense padded window, padding
 *   filled in place (`rf.fill.input`), real but unread rows left empty;
 * - a PE's output tile starts at 0 (`rf.fill.psum`); when it changes, every holder of the
 *   leaving tile drains (`noc.drain.psum`, `rf.read.psum`) — with neighbour links, holders of one
 *   tile on one line of the array first reduce along it and only the end drains; drained copies of one tile are summed
 *   on the drain path and added into the GBuf (or DRAM) copy: a read there only when that copy
 *   already holds a partial sum;
 * - a GBuf output tile is written back when the dram-level output tile changes and at the end
 *   (one GBuf read; a DRAM read too when DRAM already holds a partial sum of it);
 * - a MAC reads one input and one weight entry; each maximal run of consecutive MACs (in the rf
 *   loop order) on one psum address costs one psum read and one psum write.
 */
import type { Mapping } from "../../src/dataflow/mapping.js";
import { convShape, type ConvLayer } from "../../src/workload/layer.js";

const DIMS = ["N", "G", "K", "C", "P", "Q", "R", "S"] as const;
type D = (typeof DIMS)[number];
type Vec = Record<D, number>;

const IN_DIMS: readonly D[] = ["N", "G", "C", "P", "Q", "R", "S"];
const W_DIMS: readonly D[] = ["G", "K", "C", "R", "S"];
const OUT_DIMS: readonly D[] = ["N", "G", "K", "P", "Q"];
const REDUCTION = new Set<D>(["C", "R", "S"]);

interface Loop {
  level: "dram" | "gbuf" | "spatial" | "rf";
  dim: D;
  factor: number;
  axis?: "row" | "col";
  weight: number;
}

/** The counters the model predicts (names as the simulator registers them). */
export type ModelCounts = Record<string, number>;

const zeroVec = (): Vec => ({ N: 0, G: 0, K: 0, C: 0, P: 0, Q: 0, R: 0, S: 0 });
const key = (v: Vec, dims: readonly D[]): string => dims.map((d) => v[d]).join(",");

/** Distinct real input coordinates read by outputs [o0, o0+on) through taps [k0, k0+kn) along one axis. */
function touched(inSize: number, stride: number, dil: number, pad: number, o0: number, on: number, k0: number, kn: number): number {
  const seen = new Set<number>();
  for (let o = o0; o < o0 + on; o++) {
    for (let k = k0; k < k0 + kn; k++) {
      const i = o * stride - pad + k * dil;
      if (i >= 0 && i < inSize) seen.add(i);
    }
  }
  return seen.size;
}

/** The sorted real input coordinates read by outputs [o0, o0+on) through taps [k0, k0+kn) along one axis. */
function touchedList(inSize: number, stride: number, dil: number, pad: number, o0: number, on: number, k0: number, kn: number): number[] {
  const seen = new Set<number>();
  for (let o = o0; o < o0 + on; o++) for (let k = k0; k < k0 + kn; k++) seen.add(o * stride - pad + k * dil);
  return [...seen].filter((i) => i >= 0 && i < inSize).sort((a, b) => a - b);
}

/** Rows (columns) a GBuf input tile keeps from the previous one: all when equal, the overlap when both are consecutive. */
function keptCount(a: number[], b: number[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  if (a.join() === b.join()) return a.length;
  const consecutive = (v: number[]) => v.every((x, i) => x === v[0]! + i);
  if (!consecutive(a) || !consecutive(b)) return 0;
  return a.filter((x) => b.includes(x)).length;
}

/** Every start vector of `loops` (outermost first, innermost fastest) offset by `base`, skipping those outside the layer. */
function* starts(loops: readonly Loop[], base: Vec, sizes: Vec): Generator<Vec> {
  const idx = loops.map(() => 0);
  for (;;) {
    const s = { ...base };
    loops.forEach((l, j) => (s[l.dim] += idx[j]! * l.weight));
    if (DIMS.every((d) => s[d] < sizes[d])) yield s;
    let j = loops.length - 1;
    for (; j >= 0; j--) {
      if (++idx[j]! < loops[j]!.factor) break;
      idx[j] = 0;
    }
    if (j < 0) return;
  }
}

/** Predicts the Sequencer's action counters for a layer and a (legal) mapping. */
export function modelCounts(layer: ConvLayer, m: Mapping, neighbourLinks = false): ModelCounts {
  const sh = convShape(layer);
  const sizes: Vec = {
    N: layer.batch,
    G: layer.groups,
    K: sh.outChannelsPerGroup,
    C: sh.inChannelsPerGroup,
    P: sh.outHeight,
    Q: sh.outWidth,
    R: layer.kernelHeight,
    S: layer.kernelWidth,
  };
  const loops: Loop[] = [];
  for (const level of ["dram", "gbuf", "spatial", "rf"] as const) {
    for (const l of m[level].loops) loops.push({ level, dim: l.dim as D, factor: l.factor, weight: 1, ...("axis" in l ? { axis: l.axis as "row" | "col" } : {}) });
  }
  loops.forEach((l, j) => {
    for (let i = j + 1; i < loops.length; i++) if (loops[i]!.dim === l.dim) l.weight *= loops[i]!.factor;
  });
  const at = (level: Loop["level"]) => loops.filter((l) => l.level === level);
  const stride = (levels: Loop["level"][]): Vec => {
    const v: Vec = { N: 1, G: 1, K: 1, C: 1, P: 1, Q: 1, R: 1, S: 1 };
    for (const l of loops) if (levels.includes(l.level)) v[l.dim] *= l.factor;
    return v;
  };
  const gbufStride = stride(["gbuf", "spatial", "rf"]);
  const rfStride = stride(["rf"]);
  const extent = (s: Vec, st: Vec): Vec => {
    const e = zeroVec();
    for (const d of DIMS) e[d] = Math.max(0, Math.min(st[d], sizes[d] - s[d]));
    return e;
  };
  const prod = (e: Vec, dims: readonly D[]) => dims.reduce((a, d) => a * e[d], 1);

  // PEs: row index = mixed radix over row-axis loops (first most significant), same for columns.
  const rowLoops = at("spatial").filter((l) => l.axis === "row");
  const colLoops = at("spatial").filter((l) => l.axis === "col");
  const offsets: Vec[] = [];
  const rowsUsed = rowLoops.reduce((a, l) => a * l.factor, 1);
  const colsUsed = colLoops.reduce((a, l) => a * l.factor, 1);
  const decode = (ls: Loop[], index: number, off: Vec) => {
    let rest = index;
    for (let j = ls.length - 1; j >= 0; j--) {
      off[ls[j]!.dim] += (rest % ls[j]!.factor) * ls[j]!.weight;
      rest = Math.floor(rest / ls[j]!.factor);
    }
  };
  for (let r = 0; r < rowsUsed; r++) {
    for (let c = 0; c < colsUsed; c++) {
      const off = zeroVec();
      decode(rowLoops, r, off);
      decode(colLoops, c, off);
      offsets.push(off);
    }
  }
  const pes = offsets.length;

  const n: ModelCounts = {};
  const add = (k: string, v: number) => (n[k] = (n[k] ?? 0) + v);
  for (const k of [
    "pe.mac",
    "dram.read.input",
    "dram.read.weight",
    "dram.read.output",
    "dram.write.output",
    "gbuf.read.input",
    "gbuf.read.weight",
    "gbuf.read.output",
    "gbuf.write.input",
    "gbuf.write.weight",
    "gbuf.write.output",
    "noc.deliver.input",
    "noc.deliver.weight",
    "noc.drain.psum",
    "noc.link.psum",
    "rf.fill.input",
    "rf.fill.psum",
    "rf.read.input",
    "rf.read.weight",
    "rf.read.psum",
    "rf.write.input",
    "rf.write.weight",
    "rf.write.psum",
  ])
    n[k] = 0;

  const [strH, strW] = layer.strides;
  // An input tile's identity (the Sequencer's, iteration.ts inputKeyWeights): the input row it
  // reads when every PE's tile has one output row and one kernel row (PEs on a diagonal share
  // it), else its P and R starts; likewise the columns.
  const byRow = rfStride.P === 1 && rfStride.R === 1;
  const byCol = rfStride.Q === 1 && rfStride.S === 1;
  const inKey = (v: Vec): string =>
    [v.N, v.G, v.C, byRow ? `h${v.P * strH + v.R * layer.dilations[0]}` : `${v.P}/${v.R}`, byCol ? `w${v.Q * strW + v.S * layer.dilations[1]}` : `${v.Q}/${v.S}`].join(",");
  const [dilH, dilW] = layer.dilations;
  const [padT, padL] = layer.pads;
  const { inHeight: H, inWidth: W } = layer;
  const realInputs = (s: Vec, e: Vec) =>
    e.N * e.G * e.C * touched(H, strH, dilH, padT, s.P, e.P, s.R, e.R) * touched(W, strW, dilW, padL, s.Q, e.Q, s.S, e.S);
  const outIndex = (nn: number, g: number, k: number, p: number, q: number) =>
    (((nn * layer.groups + g) * sizes.K + k) * sizes.P + p) * sizes.Q + q;
  const outElements = (s: Vec, e: Vec): number[] => {
    const out: number[] = [];
    for (let a = 0; a < e.N; a++)
      for (let g = 0; g < e.G; g++)
        for (let k = 0; k < e.K; k++)
          for (let p = 0; p < e.P; p++) for (let q = 0; q < e.Q; q++) out.push(outIndex(s.N + a, s.G + g, s.K + k, s.P + p, s.Q + q));
    return out;
  };
  /** Whether the elements hold a partial sum (all or none, else the model is wrong); marks them. */
  const testAndMark = (has: Set<number>, els: number[]): boolean => {
    const h = has.has(els[0]!);
    for (const x of els) {
      if (has.has(x) !== h) throw new Error("model: mixed accumulation history in one tile");
      has.add(x);
    }
    return h;
  };

  const keepG = m.gbuf.keep;
  const dramHas = new Set<number>();
  let gbufHas = new Set<number>();
  let gbufOut: { s: Vec; e: Vec } | undefined;
  // The GBuf input tile: its images and channels, and its stored rows and columns.
  let gbufIn: { ch: string; rows: number[]; cols: number[] } | undefined;
  let gKeyIn: string | undefined, gKeyW: string | undefined, gKeyOut: string | undefined;
  // Operand tiles per RF half (two when the RFs are double-buffered) and the half in use: an
  // operand moves to the other half when some active PE needs a tile its half does not hold.
  const halves = { input: [new Array<string | undefined>(pes).fill(undefined), new Array<string | undefined>(pes).fill(undefined)], weight: [new Array<string | undefined>(pes).fill(undefined), new Array<string | undefined>(pes).fill(undefined)] };
  const inUse = { input: 0, weight: 0 };
  // The input span each PE holds (single-buffered halo reuse); `id` names the delivery it came in.
  interface Span { id: string; n: number; ch0: number; en: number; eg: number; ec: number; oh: number; ow: number; rows: number; cols: number; dense: boolean }
  const peSpan: (Span | undefined)[] = new Array(pes).fill(undefined);
  let iteration = 0;
  const spanOf = (s: Vec, e: Vec, id: string): Span => {
    const oh = s.P * strH + s.R * dilH;
    const ow = s.Q * strW + s.S * dilW;
    const rows = (e.P - 1) * strH + (e.R - 1) * dilH + 1;
    const cols = (e.Q - 1) * strW + (e.S - 1) * dilW + 1;
    const realIn = (a: number, b: number, pad: number, size: number) => Math.max(0, Math.min(b, pad + size) - Math.max(a, pad));
    const dense =
      touched(H, strH, dilH, padT, s.P, e.P, s.R, e.R) === realIn(oh, oh + rows, padT, H) && touched(W, strW, dilW, padL, s.Q, e.Q, s.S, e.S) === realIn(ow, ow + cols, padL, W);
    return { id, n: s.N, ch0: s.G * sh.inChannelsPerGroup + s.C, en: e.N, eg: e.G, ec: e.C, oh, ow, rows, cols, dense };
  };
  let peIn = halves.input[0]!;
  let peW = halves.weight[0]!;
  const peOut: ({ key: string; s: Vec; e: Vec } | undefined)[] = new Array(pes).fill(undefined);

  const accumulate = (s: Vec, e: Vec) => {
    const els = outElements(s, e);
    if (keepG.output) {
      if (testAndMark(gbufHas, els)) add("gbuf.read.output", els.length);
      add("gbuf.write.output", els.length);
    } else {
      if (testAndMark(dramHas, els)) add("dram.read.output", els.length);
      add("dram.write.output", els.length);
    }
  };
  const drain = (which: (pe: number) => boolean) => {
    const tiles = new Map<string, { s: Vec; e: Vec }>();
    const holders = new Map<string, number[]>();
    for (let pe = 0; pe < pes; pe++) {
      const o = peOut[pe];
      if (!o || !which(pe)) continue;
      tiles.set(o.key, o);
      let h = holders.get(o.key);
      if (!h) holders.set(o.key, (h = []));
      h.push(pe);
      peOut[pe] = undefined;
    }
    for (const [key, hs] of holders) {
      const words = prod(tiles.get(key)!.e, OUT_DIMS);
      // With neighbour links, holders on one line of the array (one column, consecutive rows; or
      // one row, consecutive columns) pass their sums along it: each of the L - 1 hops is a link
      // transfer, reads the sender and the receiver and writes the receiver; only the end drains.
      const rows = hs.map((pe) => Math.floor(pe / colsUsed));
      const cs = hs.map((pe) => pe % colsUsed);
      const run = (v: number[]) => [...v].sort((a, b) => a - b).every((x, i, a) => x === a[0]! + i);
      const line = hs.length > 1 && neighbourLinks && ((cs.every((c) => c === cs[0]) && run(rows)) || (rows.every((r) => r === rows[0]) && run(cs)));
      if (line) {
        const hops = hs.length - 1;
        add("noc.link.psum", words * hops);
        add("rf.read.psum", 2 * words * hops);
        add("rf.write.psum", words * hops);
        add("noc.drain.psum", words);
        add("rf.read.psum", words);
      } else {
        add("noc.drain.psum", words * hs.length);
        add("rf.read.psum", words * hs.length);
      }
    }
    for (const t of tiles.values()) accumulate(t.s, t.e);
  };
  const evict = () => {
    const { s, e } = gbufOut!;
    const els = outElements(s, e);
    add("gbuf.read.output", els.length);
    if (testAndMark(dramHas, els)) add("dram.read.output", els.length);
    add("dram.write.output", els.length);
  };

  // psum runs per MAC wave: MACs / (product of the innermost rf loops that are reductions,
  // loops of extent 1 being transparent).
  const rfLoops = at("rf");
  const runsOf = (e: Vec): number => {
    let macs = 1;
    for (const l of rfLoops) macs *= e[l.dim];
    let inner = 1;
    for (let j = rfLoops.length - 1; j >= 0; j--) {
      const d = rfLoops[j]!.dim;
      if (e[d] === 1) continue;
      if (!REDUCTION.has(d)) break;
      inner *= e[d];
    }
    return macs / inner;
  };

  for (const dS of starts(at("dram"), zeroVec(), sizes)) {
    const dE = extent(dS, gbufStride);
    if (keepG.output && key(dS, OUT_DIMS) !== gKeyOut) {
      if (gbufOut) {
        drain(() => true);
        evict();
      }
      gKeyOut = key(dS, OUT_DIMS);
      gbufOut = { s: dS, e: dE };
      gbufHas = new Set();
    }
    if (keepG.input && key(dS, IN_DIMS) !== gKeyIn) {
      gKeyIn = key(dS, IN_DIMS);
      const words = realInputs(dS, dE);
      const tile = { ch: key(dS, ["N", "G", "C"]) + "/" + key(dE, ["N", "G", "C"]), rows: touchedList(H, strH, dilH, padT, dS.P, dE.P, dS.R, dE.R), cols: touchedList(W, strW, dilW, padL, dS.Q, dE.Q, dS.S, dE.S) };
      const kept = gbufIn && gbufIn.ch === tile.ch ? dE.N * dE.G * dE.C * keptCount(gbufIn.rows, tile.rows) * keptCount(gbufIn.cols, tile.cols) : 0;
      gbufIn = tile;
      add("dram.read.input", words - kept);
      add("gbuf.write.input", m.gbuf.doubleBuffer ? words : words - kept);
      if (m.gbuf.doubleBuffer) add("gbuf.read.input", kept);
    }
    if (keepG.weight && key(dS, W_DIMS) !== gKeyW) {
      gKeyW = key(dS, W_DIMS);
      const words = prod(dE, W_DIMS);
      add("dram.read.weight", words);
      add("gbuf.write.weight", words);
    }
    for (const gS of starts(at("gbuf"), dS, sizes)) {
      iteration++;
      const inGroups = new Map<string, number[]>();
      const st: Vec[] = [];
      const ex: Vec[] = [];
      const active: boolean[] = [];
      for (let pe = 0; pe < pes; pe++) {
        const s = { ...gS };
        for (const d of DIMS) s[d] += offsets[pe]![d];
        st.push(s);
        active.push(DIMS.every((d) => s[d] < sizes[d]));
        ex.push(extent(s, rfStride));
      }
      // Drains: active PEs whose output tile changes, and every other holder of a leaving tile.
      const leaving = new Set<string>();
      for (let pe = 0; pe < pes; pe++) {
        const o = peOut[pe];
        if (active[pe] && o && o.key !== key(st[pe]!, OUT_DIMS)) leaving.add(o.key);
      }
      if (leaving.size > 0) drain((pe) => leaving.has(peOut[pe]!.key));
      if (m.rf.doubleBuffer) {
        const flip = (t: "input" | "weight", k: (s: Vec) => string) => {
          const held = halves[t][inUse[t]]!;
          if (st.some((s, pe) => active[pe] && held[pe] !== k(s))) inUse[t] = 1 - inUse[t];
          return halves[t][inUse[t]]!;
        };
        const flipIn = () => flip("input", inKey);
        peIn = flipIn();
        peW = flip("weight", (s) => key(s, W_DIMS));
      }
      const sources = { input: new Set<string>(), weight: new Set<string>() };
      for (let pe = 0; pe < pes; pe++) {
        if (!active[pe]) continue;
        const s = st[pe]!;
        const e = ex[pe]!;
        const ok = key(s, OUT_DIMS);
        if (peOut[pe]?.key !== ok) {
          peOut[pe] = { key: ok, s, e };
          add("rf.fill.psum", prod(e, OUT_DIMS));
        }
        const ik = inKey(s);
        if (peIn[pe] !== ik) {
          peIn[pe] = ik;
          let g = inGroups.get(ik);
          if (!g) inGroups.set(ik, (g = []));
          g.push(pe);
        }
        const wk = key(s, W_DIMS);
        if (peW[pe] !== wk) {
          peW[pe] = wk;
          const words = prod(e, W_DIMS);
          add("noc.deliver.weight", words);
          if (!sources.weight.has(wk)) {
            sources.weight.add(wk);
            add(keepG.weight ? "gbuf.read.weight" : "dram.read.weight", words);
          }
        }
        const macs = prod(e, DIMS);
        add("pe.mac", macs);
        add("rf.read.input", macs);
        add("rf.read.weight", macs);
        const runs = runsOf(e);
        add("rf.read.psum", runs);
        add("rf.write.psum", runs);
      }
      // Input deliveries, per group of PEs that get the same new tile (as the Sequencer groups
      // them). Single-buffered, a group whose PEs all hold the same resident span, in the same
      // channels, both dense, keeps the overlap (slid in place when the origin moved) and brings
      // in only the rest.
      for (const [ik, group] of inGroups) {
        const s = st[group[0]!]!;
        const e = ex[group[0]!]!;
        const span = spanOf(s, e, `${iteration}/${ik}`);
        const old = peSpan[group[0]!];
        let keepR: [number, number] | undefined, keepC: [number, number] | undefined;
        if (!m.rf.doubleBuffer && old && group.every((pe) => peSpan[pe]?.id === old.id) && old.dense && span.dense && old.n === span.n && old.ch0 === span.ch0 && old.en === span.en && old.eg === span.eg && old.ec === span.ec) {
          const r0 = Math.max(old.oh, span.oh), r1 = Math.min(old.oh + old.rows, span.oh + span.rows);
          const c0 = Math.max(old.ow, span.ow), c1 = Math.min(old.ow + old.cols, span.ow + span.cols);
          if (r1 > r0 && c1 > c0) {
            keepR = [r0, r1];
            keepC = [c0, c1];
          }
        }
        const lead = e.N * e.G * e.C;
        // Real rows (columns) of the input among padded rows [a, b).
        const realIn = (a: number, b: number, pad: number, size: number) => Math.max(0, Math.min(b, pad + size) - Math.max(a, pad));
        const allR: [number, number] = [span.oh, span.oh + span.rows];
        const allC: [number, number] = [span.ow, span.ow + span.cols];
        // Regions brought in: [rows, cols] in padded coordinates.
        const regions: [[number, number], [number, number]][] = [];
        if (!keepR || !keepC) regions.push([allR, allC]);
        else {
          if (keepR[0] > allR[0]) regions.push([[allR[0], keepR[0]], allC]);
          if (keepR[1] < allR[1]) regions.push([[keepR[1], allR[1]], allC]);
          if (keepC[0] > allC[0]) regions.push([keepR, [allC[0], keepC[0]]]);
          if (keepC[1] < allC[1]) regions.push([keepR, [keepC[1], allC[1]]]);
        }
        // Delivered: the real inputs some window reads (in a dense span, every real one); filled:
        // the padding (outside the real input), whether read or not.
        let real = 0;
        let pad = 0;
        for (const [[a, b], [c, d]] of regions) {
          const realArea = lead * realIn(a, b, padT, H) * realIn(c, d, padL, W);
          pad += lead * (b - a) * (d - c) - realArea;
          real += span.dense ? realArea : realInputs(s, e);
        }
        add(keepG.input ? "gbuf.read.input" : "dram.read.input", real);
        for (const pe of group) {
          add("noc.deliver.input", real);
          add("rf.fill.input", pad);
          if (keepR && keepC && (old!.oh !== span.oh || old!.ow !== span.ow)) add("rf.slide.input", lead * (keepR[1] - keepR[0]) * (keepC[1] - keepC[0]));
          peSpan[pe] = span;
        }
      }
    }
  }
  drain(() => true);
  if (gbufOut) evict();
  n["rf.write.input"] = n["noc.deliver.input"]!;
  n["rf.write.weight"] = n["noc.deliver.weight"]!;
  return n;
}
