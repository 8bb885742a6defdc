/**
 * How the tensors sit in the DRAM model: the tag spaces of checked mode and the weights' layout.
 */
import type { ConvLayer } from "../../workload/layer.js";
import { convShape } from "../../workload/layer.js";
import { tileExtents, type Mapping } from "../mapping.js";
import { Nest } from "../nest.js";
import { C, K } from "./types.js";

/** Tag spaces of the three tensors (checked mode). */
export const TAG_SPACE = Object.freeze({ input: 1, weight: 2, output: 3 });


/**
 * The order in which the weights are laid out in DRAM. Weights are static, so an accelerator
 * stores them in the order its dataflow streams them (an offline transform): `OIHW` (the ONNX
 * order, output channel major) unless the dataflow streams input channels one at a time through
 * tiles of several output channels (chen2020, whose array steps each take one channel), where
 * `IOHW` (per group: input channel major) makes a tile of C' channels C' runs (one when it holds
 * every output channel) instead of one burst per output channel. The GBuf keeps a weight tile in
 * the same order, so a step's channel is one run there too. Counts in words do not depend on the
 * layout; bursts, burst waste, bank accesses and cycles do.
 */
export type WeightLayout = "OIHW" | "IOHW";

/**
 * The DRAM weight layout the Sequencer uses for a mapping (see {@link WeightLayout}), from the
 * weight tile DRAM sends (the GBuf's, or the register files' where the GBuf bypasses weights):
 * `IOHW` when it holds one input channel and several output channels, or when it holds fewer
 * input channels than output channels, not all of its group's, and every array step takes one
 * input channel; else `OIHW`.
 */
export function weightLayout(m: Mapping, layer: ConvLayer): WeightLayout {
  const nest = new Nest(m, layer);
  const tile = m.gbuf.keep.weight ? nest.gbufExtent : nest.rfExtent;
  const c = tile[C]!, k = tile[K]!;
  if (k <= 1) return "OIHW";
  if (c === 1) return "IOHW";
  // (the channels one array step takes: the spatial level's tile, the PEs' tiles included)
  const step = tileExtents(m, layer, "spatial").C;
  return step === 1 && c < k && c < convShape(layer).inChannelsPerGroup ? "IOHW" : "OIHW";
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

