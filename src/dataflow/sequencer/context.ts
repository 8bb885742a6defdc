/**
 * The Sequencer's context: the run's fixed inputs and the geometry derived from them.
 */
import type { Box } from "../../core/index.js";
import type { ArchSpec } from "../../arch/spec.js";
import type { GbufRegion } from "../../memory/index.js";
import type { WaveStream } from "../../pe-array/index.js";
import { convShape, layerAxis, type ConvLayer, type ConvShape } from "../../workload/layer.js";
import { inputSpan, maxTouchedInputs, streamFlows, type Mapping } from "../mapping.js";
import { Nest, NDIMS } from "../nest.js";
import { touched } from "./geometry.js";
import { weightLayout, weightStrides, type WeightLayout } from "./layout.js";
import { C, G, K, N, P, Q, R, S, type Coords, type InputSpan, type SequencerHardware, type SequencerOperands, type SpanPlace } from "./types.js";

/**
 * What every pass of one run reads: the layer, the architecture, the mapping and the hardware,
 * the geometry derived from them once (tile extents, spans, GBuf regions), the index helpers of
 * the DRAM layouts and tags, and the ids of sums on the drain path. Its only mutable fields are the psum base
 * of the current iteration and the serial of the input spans.
 */
export class SeqContext {
  readonly nest: Nest;
  readonly shape: ConvShape;
  readonly wLayout: WeightLayout;
  readonly Hp: number;
  readonly Wp: number;
  readonly Cg: number;
  readonly Kg: number;
  readonly spanH: number;
  readonly spanW: number;
  readonly pes: number;
  readonly gbufRegions: { input?: readonly GbufRegion[]; weight?: readonly GbufRegion[]; output?: readonly GbufRegion[] } = {};
  readonly gbufInputRows: number;
  readonly gbufInputCols: number;
  /** Double-buffered register files: operands alternate between two halves of their partitions. */
  readonly rfDouble: boolean;
  /** The operands that stream through the PEs (mapping.rf.stream), for the wave commands. */
  readonly waveStreams: readonly WaveStream[] | undefined;
  /**
   * Per operand, whether it passes through the PE instead of staying: streamed (mapping.rf.stream)
   * or bypassing the register file (mapping.rf.keep false: from the network straight to the MAC).
   * Either way every wave needs its words again, delivered while the previous wave computes.
   */
  readonly passThrough: { readonly input: boolean; readonly weight: boolean };
  /**
   * Per operand, whether its next tile is delivered while the current wave runs (into the other
   * half of its partition): double-buffered register files, and operands that pass through the
   * PE, which the network feeds while the previous wave computes.
   */
  readonly early: { readonly input: boolean; readonly weight: boolean };
  /** Whether any operand is delivered early: the program pipelines deliveries with waves. */
  readonly pipelined: boolean;
  /** Whether partial sums stream out of the PEs (drained after every wave). */
  readonly streamOut: boolean;
  /** Two accumulator sets (mapping.rf.doubleBufferOutput): a drain of every PE's tile runs behind the next wave. */
  readonly psumDouble: boolean;
  /** The direction in which a streamed output's partial sums flow (and are reduced) during a wave, if any. */
  readonly psumFlow: "right" | "down" | undefined;
  /** Entries of one psum tile, and the psum entry the current iteration's tiles start at. */
  readonly psumTile: number;
  psumBase = 0;

  /**
   * New psum tiles start at the other half of the psum entries from now on: a streamed output's
   * two halves, or the other of two accumulator sets (mapping.rf.doubleBufferOutput), so the tiles
   * in this half can drain while the next wave computes.
   */
  switchPsumHalf(): void {
    this.psumBase = this.psumBase === 0 ? this.psumTile : 0;
  }
  /** Entries of one RF operand tile (the offset of the second half). */
  readonly rfTile: { readonly input: number; readonly weight: number };
  /** Per dimension, how far past a gbuf iteration's start its PEs' tiles reach (unclipped). */
  readonly peReach: Int32Array;
  /** Padded rows and columns the PEs' windows of one iteration span (unclipped). */
  readonly peSpan: { readonly h: number; readonly w: number };

  /** The layer, its strides, pads and dilations in arrays that are not frozen ({@link thawedLayer}). */
  readonly layer: ConvLayer;

  constructor(
    layer: ConvLayer,
    readonly arch: ArchSpec,
    readonly m: Mapping,
    readonly ops: SequencerOperands,
    readonly hw: SequencerHardware,
    readonly checked: boolean,
    /** A fresh id for one sum on the drain path (`NocDrain.sum`; requests get theirs at issue). */
    readonly sumId: () => number,
    readonly countMacs: (n: number) => void,
  ) {
    layer = this.layer = thawedLayer(layer);
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
    this.psumDouble = m.rf.doubleBufferOutput ?? false;
    this.passThrough = { input: !m.rf.keep.input || (m.rf.stream?.input ?? false), weight: !m.rf.keep.weight || (m.rf.stream?.weight ?? false) };
    this.early = { input: this.rfDouble || this.passThrough.input, weight: this.rfDouble || this.passThrough.weight };
    this.pipelined = this.early.input || this.early.weight;
    this.psumFlow = this.streamOut ? flows.output : undefined;
    this.psumTile = e[N]! * e[G]! * e[K]! * e[P]! * e[Q]!;
    this.rfTile = { input: e[N]! * e[G]! * e[C]! * this.spanH * this.spanW, weight: e[G]! * e[K]! * e[C]! * e[R]! * e[S]! };
    this.peReach = new Int32Array(NDIMS);
    for (const off of this.nest.peOffset) for (let d = 0; d < NDIMS; d++) this.peReach[d] = Math.max(this.peReach[d]!, off[d]! + this.nest.rfStride[d]!);
    // A fused group's PEs may sit anywhere in the dram tile.
    for (const g of this.nest.groups) for (const d of g.dims) this.peReach[d] = this.nest.gbufStride[d]!;
    const pr = this.peReach;
    this.peSpan = { h: inputSpan(pr[P]!, pr[R]!, layer.strides[0], layer.dilations[0]), w: inputSpan(pr[Q]!, pr[S]!, layer.strides[1], layer.dilations[1]) };
    const ge = this.nest.gbufExtent;
    this.gbufInputRows = maxTouchedInputs(layerAxis(layer, "h"), ge[P]!, ge[R]!);
    this.gbufInputCols = maxTouchedInputs(layerAxis(layer, "w"), ge[Q]!, ge[S]!);
    const gb = hw.gbuf;
    // A tile whose windows read only padding stores nothing; its region keeps one word. Partial
    // sums and outputs are int32 values in words of arch.gbuf.psumBytes (default 4).
    const alloc = (name: string, kind: "input" | "weight" | "output", dtype: "int8" | "uint8" | "int16" | "int32", n: number, dbl: boolean, eb?: number) =>
      dbl ? gb.allocateDouble(name, kind, dtype, Math.max(1, n), eb) : [gb.allocate(name, kind, dtype, Math.max(1, n), eb)];
    const dbl = m.gbuf.doubleBuffer;
    if (m.gbuf.keep.input) this.gbufRegions.input = alloc("x", "input", ops.xType, ge[N]! * ge[G]! * ge[C]! * this.gbufInputRows * this.gbufInputCols, dbl);
    if (m.gbuf.keep.weight) this.gbufRegions.weight = alloc("w", "weight", ops.wType, ge[G]! * ge[K]! * ge[C]! * ge[R]! * ge[S]!, dbl);
    if (m.gbuf.keep.output) this.gbufRegions.output = alloc("y", "output", "int32", ge[N]! * ge[G]! * ge[K]! * ge[P]! * ge[Q]!, dbl, arch.gbuf.psumBytes);
  }

  // ---------------------------------------------------------------------------------------------
  // Index helpers

  /** Flat NCHW index of real input element (n, channel, h, w). */
  xIndex(n: number, ch: number, h: number, w: number): number {
    return ((n * this.layer.inChannels + ch) * this.layer.inHeight + h) * this.layer.inWidth + w;
  }

  /** Index of (n, channel, padded row, padded col) in the padded input: the input's tag index. */
  xTag(n: number, ch: number, hp: number, wp: number): number {
    return ((n * this.layer.inChannels + ch) * this.Hp + hp) * this.Wp + wp;
  }

  /** Address of weight (g, k, c, r, s) in the DRAM layout, and the DRAM strides over [G, K, C, R, S]. */
  wDram(g: number, k: number, c: number, r: number, s: number): number {
    const st = (this.dramWeightStrides ??= this.wDramStrides());
    return g * st[0]! + k * st[1]! + c * st[2]! + r * st[3]! + s * st[4]!;
  }

  /** {@link wDramStrides}, kept for {@link wDram}. */
  private dramWeightStrides: number[] | undefined;

  wDramStrides(): number[] {
    const l = this.layer;
    return weightStrides(this.wLayout, [l.groups, this.Kg, this.Cg, l.kernelHeight, l.kernelWidth]);
  }

  /**
   * Strides over [G, K, C, R, S] of the GBuf weight tile's layout: the DRAM layout's order
   * ({@link WeightLayout}), so a tile is written in runs and a step's channel is read in one.
   */
  gbufWeightStrides(): number[] {
    const ge = this.nest.gbufExtent;
    return weightStrides(this.wLayout, [ge[G]!, ge[K]!, ge[C]!, ge[R]!, ge[S]!]);
  }

  wIndex(g: number, k: number, c: number, r: number, s: number): number {
    return (((g * this.Kg + k) * this.Cg + c) * this.layer.kernelHeight + r) * this.layer.kernelWidth + s;
  }

  yIndex(n: number, g: number, k: number, p: number, q: number): number {
    return ((n * this.layer.outChannels + g * this.Kg + k) * this.shape.outHeight + p) * this.shape.outWidth + q;
  }

  // ---------------------------------------------------------------------------------------------
  // Input boxes: which rows/cols, and where they go.

  /** Sorted real rows and columns an input tile (start, ext) reads. */
  inputRowsCols(start: Int32Array, ext: Int32Array): { rows: number[]; cols: number[] } {
    const l = this.layer;
    return {
      rows: touched(l.inHeight, l.strides[0], l.dilations[0], l.pads[0], start[P]!, ext[P]!, start[R]!, ext[R]!),
      cols: touched(l.inWidth, l.strides[1], l.dilations[1], l.pads[1], start[Q]!, ext[Q]!, start[S]!, ext[S]!),
    };
  }

  // ---------------------------------------------------------------------------------------------


  private spanSerial = 0;
  /** Scratch of the input delivery pass: a PE mask per padding band (reused; read within one call). */
  readonly padPool: Float64Array[] = [];
  /** Scratch of the drain pass: a key per PE. */
  drainKeys: Float64Array | undefined;

  /** The place of a tile's (start, ext) input span in a PE's register file. */
  spanAt(start: Int32Array, ext: Int32Array): SpanPlace {
    return this.span(start, ext, false, -1);
  }

  /** Takes the next `n` span serials now, for spans built later ({@link spanWith}); returns the first. */
  reserveSpans(n: number): number {
    const first = this.spanSerial;
    this.spanSerial += n;
    return first;
  }

  /** {@link makeSpan} of {@link spanAt}, built at once, with a serial taken earlier ({@link reserveSpans}): a replayed plan's spans, one per PE group. */
  spanWith(start: Int32Array, ext: Int32Array, dense: boolean, serial: number): InputSpan {
    return this.span(start, ext, dense, serial);
  }

  private span(start: Int32Array, ext: Int32Array, dense: boolean, serial: number): InputSpan {
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
      dense,
      serial,
    };
  }

  /** The input span of a tile in a PE's register file (a new object: its serial tells spans apart). */
  makeSpan(at: SpanPlace, dense: boolean): InputSpan {
    // (one literal with every field, not a spread: spans are read in every plan signature, and a
    // spread's copy gave them a slow shape)
    const { n, ch0, en, eg, ec, oh, ow, rows, cols } = at;
    return { n, ch0, en, eg, ec, oh, ow, rows, cols, dense, serial: this.spanSerial++ };
  }


  /** A psum tile of extent `ext` in a PE's psum partition, from entry `base`. */
  psumBox(ext: Coords, base: number): Box {
    return { shape: [ext[N]!, ext[G]!, ext[K]!, ext[P]!, ext[Q]!], offset: base, strides: this.psumStrides() };
  }

  /** PE-local psum layout strides over [N, G, K, P, Q]. */
  psumStrides(): number[] {
    const re = this.nest.rfExtent;
    return [re[G]! * re[K]! * re[P]! * re[Q]!, re[K]! * re[P]! * re[Q]!, re[P]! * re[Q]!, re[Q]!, 1];
  }

  yTagStrides(): number[] {
    const OH = this.shape.outHeight, OW = this.shape.outWidth;
    return [this.layer.outChannels * OH * OW, this.Kg * OH * OW, OH * OW, OW, 1];
  }
}

/**
 * `layer` with its strides, pads and dilations copied into arrays that are not frozen (the layer
 * object itself stays frozen): V8 (Node 20) reads a frozen array's elements about 2.6 times as
 * slowly as a plain one's, and the Sequencer reads these per PE and iteration (an input span's
 * place and size, the plan signature's padding, the reads' shifts). Replays of `is` on the
 * chen2020 preset, which place a span per PE and iteration, spent a tenth of their time there.
 */
function thawedLayer(layer: ConvLayer): ConvLayer {
  const { strides: s, pads: p, dilations: d } = layer;
  const strides: [number, number] = [s[0], s[1]];
  const pads: [number, number, number, number] = [p[0], p[1], p[2], p[3]];
  const dilations: [number, number] = [d[0], d[1]];
  return Object.freeze({ ...layer, strides, pads, dilations });
}
