/**
 * `ws`, weight-stationary, as in NVDLA's convolution core and the TPU's matrix unit.
 *
 * Sources: NVDLA Hardware Architecture / Unit Description (nvdla.org, "Convolution Core": the MAC
 * array is Atomic-K cells, each a dot product over Atomic-C input channels, with the weights of a
 * K x C atom held in the cells while a stripe of input pixels streams past), and Jouppi et al.,
 * "In-Datacenter Performance Analysis of a Tensor Processing Unit" (ISCA 2017, Sec. 2: weights are
 * preloaded into the 256 x 256 matrix unit, activations flow in from the left, partial sums flow
 * down and are accumulated below the array).
 *
 * Our reading as a loop nest:
 * - spatial: the reduction across PE rows (C, then R and S to fill rows left by few channels,
 *   as an im2col row index C*R*S), output channels K across PE columns. Partial sums of one output
 *   are reduced down a column: over neighbour links (systolic), or through the drain path into
 *   the GBuf where the architecture has no links.
 * - rf: a PE holds its weights (a K x C block, sized by the search within its weight, input and
 *   psum partitions; one weight on the systolic preset) and keeps them while pixels stream: each
 *   weight meets a stripe of output columns (Q, innermost, sized by the search) before the next.
 * - gbuf: weight folds (K, C, R, S) outside, the pixel stream (N, P, Q) innermost, so the weights
 *   in the array stay put for the whole stream of the GBuf tile (weight-stationary); partial sums
 *   of a fold are accumulated in the GBuf.
 * - dram: chosen by the search (common.ts) among DRAM_ORDERS, with the factors (fewest DRAM
 *   words first): output tiles outside and reductions innermost (the GBuf's outputs stay on
 *   chip until complete), or weights, or inputs, kept in the GBuf while the other loops stream.
 */
import type { ArchSpec } from "../../arch/spec.js";
import type { ConvLayer } from "../../workload/layer.js";
import { KEEP_ALL, type Mapping } from "../mapping.js";
import { defineTemplate, DRAM_ORDERS, type DataflowOptions, type Template } from "./common.js";
import { searchTemplate } from "./search.js";

/** The loop-nest template of `ws` (see the file header). */
export const WS_TEMPLATE: Template = defineTemplate({
  name: "ws",
  spatial: [
    { dim: "C", axis: "row" },
    { dim: "R", axis: "row" },
    { dim: "S", axis: "row" },
    { dim: "K", axis: "col" },
  ],
  rfOrder: ["C", "K", "Q"],
  rfGrow: ["K", "C", "Q"],
  gbufOrder: ["K", "C", "R", "S", "N", "P", "Q"],
  gbufGrow: ["Q", "P", "N", "K", "C", "R", "S"],
  dramOrder: ["G", "N", "K", "P", "Q", "C", "R", "S"],
  dramOrders: DRAM_ORDERS,
  gbufKeep: KEEP_ALL,
  rfKeep: KEEP_ALL,
});

/**
 * The systolic form of `ws` (the TPU's matrix unit; SCALE-Sim's WS), for an architecture that
 * forwards operands (`arch.noc.forwarding`): the same array mapping, one weight per PE, with the
 * output pixels (Q, P, N) streaming at the rf level: inputs enter at the left edge and move right
 * along a row (every PE of a row needs the same input), and each step's partial sums leave the
 * PEs down the columns, reduced over the links. After the search R x S x C may be flattened down
 * the rows (fold.ts: SCALE-Sim's folds, where that is clearly faster).
 */
export const WS_SYSTOLIC_TEMPLATE: Template = defineTemplate({
  ...WS_TEMPLATE,
  rfOrder: ["N", "P", "Q"],
  rfGrow: ["Q", "P", "N"],
  rfFirst: ["Q", "P", "N"],
  rfStream: { input: true, weight: false, output: true },
  fold: [{ axis: "row", dims: ["R", "S", "C"] }],
});

/**
 * Builds the weight-stationary mapping of a layer (see the file header; on an architecture that
 * forwards operands, the systolic form {@link WS_SYSTOLIC_TEMPLATE}).
 * @throws ConfigError when not even the smallest tiles fit the architecture.
 */
export function ws(layer: ConvLayer, arch: ArchSpec, options: DataflowOptions = {}): Mapping {
  return searchTemplate(arch.noc.forwarding ? WS_SYSTOLIC_TEMPLATE : WS_TEMPLATE, layer, arch, options);
}
