/**
 * `rs`, Eyeriss's row-stationary dataflow.
 *
 * Source: Chen, Emer, Sze, "Eyeriss: A Spatial Architecture for Energy-Efficient Dataflow for
 * Convolutional Neural Networks" (ISCA 2016, Sec. V) and Chen et al., JSSC 2017 (Sec. III-IV):
 * a PE runs a 1-D row convolution: it keeps a filter row (S weights, for p filters and q
 * channels) in its scratchpads and slides an input row through it, keeping p partial sums.
 * A "PE set" puts filter rows R vertically and output rows E horizontally; input rows are shared
 * along diagonals, filter rows along rows, and partial sums accumulate vertically, from PE to PE,
 * into an output row. Sets are replicated for more channels or filters when the array is larger
 * than R x E, and strip-mined when E is larger than the array.
 *
 * Our reading as a loop nest:
 * - spatial: filter rows R across PE rows and output rows P across PE columns (the PE set);
 *   spare rows take input channels C (their partial sums join the same vertical accumulation),
 *   spare columns output channels K, then images N. Kernel rows beyond the array height are
 *   folded in time. The vertical reduction needs neighbour links (or the drain path into the
 *   GBuf where the architecture has none).
 * - rf: the row primitive: loops over q channels (C), p filters (K) and the filter row (S): the
 *   whole filter row first (its largest legal factor, `rfFirst`, when the input pad allows), then
 *   p and q sized by the search, within the 224 / 12 / 24 entry partitions on Eyeriss.
 * - gbuf: filter folds (K, C, R, S) outside and the sliding over images, output rows and output
 *   columns (N, P, Q) innermost: the filter rows stay in the PEs while the input rows slide past
 *   (row-stationary); partial sums of a pass go to the GBuf between channel folds, as on Eyeriss.
 * - dram: chosen by the search (common.ts) among DRAM_ORDERS, with the factors (fewest DRAM
 *   words first): output tiles outside and reductions innermost (the GBuf's outputs stay on
 *   chip until complete), or weights, or inputs, kept in the GBuf while the other loops stream.
 */
import type { ArchSpec } from "../../arch/spec.js";
import type { ConvLayer } from "../../workload/layer.js";
import { KEEP_ALL, type Mapping } from "../mapping.js";
import { defineTemplate, DRAM_ORDERS, type DataflowOptions, type Template } from "./common.js";
import { searchTemplate } from "./search.js";

/** The loop-nest template of `rs` (see the file header). */
export const RS_TEMPLATE: Template = defineTemplate({
  name: "rs",
  spatial: [
    { dim: "R", axis: "row" },
    { dim: "C", axis: "row" },
    { dim: "P", axis: "col" },
    { dim: "K", axis: "col" },
    { dim: "N", axis: "col" },
  ],
  rfOrder: ["C", "K", "S"],
  rfGrow: ["S", "K", "C"],
  rfFirst: ["S"],
  gbufOrder: ["K", "C", "R", "S", "N", "P", "Q"],
  gbufGrow: ["Q", "P", "N", "K", "C", "R", "S"],
  dramOrder: ["G", "N", "K", "P", "Q", "C", "R", "S"],
  dramOrders: DRAM_ORDERS,
  gbufKeep: KEEP_ALL,
  rfKeep: KEEP_ALL,
});

/**
 * Builds the row-stationary mapping of a layer (see the file header).
 * @throws ConfigError when not even the smallest tiles fit the architecture.
 */
export function rs(layer: ConvLayer, arch: ArchSpec, options: DataflowOptions = {}): Mapping {
  return searchTemplate(RS_TEMPLATE, layer, arch, options);
}
