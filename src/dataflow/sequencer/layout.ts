/**
 * How the tensors sit in the DRAM model: the tag spaces of checked mode and the weights' layout.
 */
import type { ConvLayer } from "../../workload/layer.js";
import { convShape } from "../../workload/layer.js";
import { tileExtents, type Mapping } from "../mapping.js";
import { Nest } from "../nest.js";
import { C, K, R, S } from "./types.js";

/** Tag spaces of the three tensors (checked mode). */
export const TAG_SPACE = Object.freeze({ input: 1, weight: 2, output: 3 });


/**
 * The order in which the weights are laid out in DRAM. Weights are static, so an accelerator
 * stores them in the order its dataflow streams them (an offline transform): `OIHW` (the ONNX
 * order, output channel major) unless the dataflow streams input channels one at a time through
 * tiles of several output channels (chen2020, whose array steps each take one channel), where
 * `IOHW` (per group: input channel major) makes a tile of C' channels C' runs (one when it holds
 * every output channel) instead of one burst per output channel. The GBuf keeps a weight tile in
 * the same order, so a step's channel is one run there too. `HWIO` (per group: kernel position
 * major, then input and output channels) where the weights stream through the array one kernel
 * position a step (`is` on a systolic array: each gbuf iteration streams one (r, s) of every
 * channel in the tile), so that a step's weights are one run instead of a word every R x S.
 * Counts in words do not depend on the layout; bursts, burst waste, bank accesses and cycles do.
 */
export type WeightLayout = "OIHW" | "IOHW" | "HWIO";

/** Positions in [G, K, C, R, S] of each layout's dimensions, outermost first (the order its addresses walk). */
export const WEIGHT_WALK: Readonly<Record<WeightLayout, readonly number[]>> = Object.freeze({ OIHW: [0, 1, 2, 3, 4], IOHW: [0, 2, 1, 3, 4], HWIO: [0, 3, 4, 2, 1] });

/**
 * Strides over [G, K, C, R, S] of weights of extents `ext` (over the same dimensions; the
 * outermost one's extent is not read) stored in `layout`: the DRAM tensor's, or a GBuf tile's.
 */
export function weightStrides(layout: WeightLayout, ext: readonly number[]): number[] {
  const walk = WEIGHT_WALK[layout];
  const strides = [0, 0, 0, 0, 0];
  let step = 1;
  for (let i = walk.length - 1; i >= 0; i--) {
    strides[walk[i]!] = step;
    step *= ext[walk[i]!]!;
  }
  return strides;
}

/**
 * The DRAM weight layout the Sequencer uses for a mapping (see {@link WeightLayout}), from the
 * weight tile DRAM sends (the GBuf's, or the register files' where the GBuf bypasses weights):
 * `HWIO` when the weights stream through the array (`mapping.rf.stream.weight`), an array step
 * takes one kernel position and the tile holds several; `IOHW` when it holds one input channel
 * and several output channels, or when it holds fewer input channels than output channels, not
 * all of its group's, and every array step takes one input channel; else `OIHW`.
 */
export function weightLayout(m: Mapping, layer: ConvLayer): WeightLayout {
  const nest = new Nest(m, layer);
  const tile = m.gbuf.keep.weight ? nest.gbufExtent : nest.rfExtent;
  // (one array step's extents: the spatial level's tile, the PEs' tiles included)
  const step = tileExtents(m, layer, "spatial");
  return weightLayoutOf({ C: tile[C]!, K: tile[K]!, R: tile[R]!, S: tile[S]! }, step, convShape(layer).inChannelsPerGroup, Boolean(m.rf.stream?.weight));
}

/**
 * {@link weightLayout}'s rule, from the extents of the weight tile DRAM sends and of one array
 * step, the layer's input channels per group and whether the weights stream (the mapper's cost
 * model applies it to extents it has at hand).
 */
export function weightLayoutOf(
  tile: { readonly C: number; readonly K: number; readonly R: number; readonly S: number },
  step: { readonly C: number; readonly R: number; readonly S: number },
  channelsPerGroup: number,
  streamed: boolean,
): WeightLayout {
  const { C: c, K: k } = tile;
  if (streamed && step.R * step.S === 1 && tile.R * tile.S > 1 && c * k > 1) return "HWIO";
  if (k <= 1) return "OIHW";
  if (c === 1) return "IOHW";
  return step.C === 1 && c < k && c < channelsPerGroup ? "IOHW" : "OIHW";
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
  if (layout === "HWIO") return { data, index: hwio(w, data, index, layer.groups, Kg, Cg, RS) };
  if (RS === 1 && !index && w.BYTES_PER_ELEMENT === 1 && transposeBytes(w, data, layer.groups, Kg, Cg)) return { data, index };
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

/** {@link layoutWeights} into HWIO: weight (g, k, c, rs) at ((g RS + rs) C + c) K + k; `index` (when given) filled with each word's OIHW index. */
function hwio(w: ArrayLike<number>, data: { [i: number]: number }, index: Float64Array | undefined, groups: number, Kg: number, Cg: number, RS: number): Float64Array | undefined {
  for (let g = 0; g < groups; g++)
    for (let k = 0; k < Kg; k++)
      for (let c = 0; c < Cg; c++) {
        const o = ((g * Kg + k) * Cg + c) * RS;
        for (let rs = 0; rs < RS; rs++) {
          const i = ((g * RS + rs) * Cg + c) * Kg + k;
          data[i] = w[o + rs]!;
          if (index) index[i] = o + rs;
        }
      }
  return index;
}

/** Whether this machine stores the low byte of a word first (typed arrays use its byte order). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Transposes each group's [K][C] bytes into [C][K] four rows and four columns at a time, through
 * 32-bit words (AlexNet fc6's 37.7 M weights: about a quarter of the time of the byte loop).
 * Returns false, having written nothing, unless both counts are multiples of four, both arrays
 * start on a word boundary and the machine is little-endian.
 */
function transposeBytes(w: ArrayBufferView, out: ArrayBufferView, groups: number, K: number, C: number): boolean {
  if (!LITTLE_ENDIAN || K % 4 !== 0 || C % 4 !== 0 || w.byteOffset % 4 !== 0 || out.byteOffset % 4 !== 0) return false;
  const src = new Int32Array(w.buffer, w.byteOffset, (groups * K * C) / 4);
  const dst = new Int32Array(out.buffer, out.byteOffset, (groups * K * C) / 4);
  const C4 = C / 4, K4 = K / 4;
  // Blocks of 64 words of a row by 256 rows keep both sides in cache.
  const BC = 64, BK = 256;
  for (let g = 0; g < groups; g++) {
    const base = g * K4 * C;
    for (let c0 = 0; c0 < C4; c0 += BC)
      for (let k0 = 0; k0 < K; k0 += BK) {
        const c1 = Math.min(C4, c0 + BC), k1 = Math.min(K, k0 + BK);
        for (let cq = c0; cq < c1; cq++)
          for (let k = k0; k < k1; k += 4) {
            // Rows k..k+3, bytes 4cq..4cq+3 of each: byte j of each of the four words makes the
            // word of output row 4cq + j at columns k..k+3.
            const i = base + k * C4 + cq;
            const a = src[i]!, b = src[i + C4]!, c = src[i + 2 * C4]!, d = src[i + 3 * C4]!;
            const o = base + 4 * cq * K4 + k / 4;
            dst[o] = (a & 0xff) | ((b & 0xff) << 8) | ((c & 0xff) << 16) | (d << 24);
            dst[o + K4] = ((a >>> 8) & 0xff) | (b & 0xff00) | ((c & 0xff00) << 8) | ((d >>> 8) << 24);
            dst[o + 2 * K4] = ((a >>> 16) & 0xff) | ((b >>> 8) & 0xff00) | (c & 0xff0000) | ((d >>> 16) << 24);
            dst[o + 3 * K4] = (a >>> 24) | ((b >>> 16) & 0xff00) | ((c >>> 8) & 0xff0000) | ((d >>> 24) << 24);
          }
      }
  }
  return true;
}
