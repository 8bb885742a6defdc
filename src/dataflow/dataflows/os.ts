/**
 * `os`, output-stationary, as in ShiDianNao.
 *
 * Source: Du et al., "ShiDianNao: Shifting Vision Processing Closer to the Sensor" (ISCA 2015,
 * Sec. 5-6): an 8 x 8 PE array in which each PE computes one output neuron of one output feature
 * map, accumulating it in place over all input maps and kernel taps; a kernel weight is broadcast
 * to every PE at once, and input neurons are shifted between neighbouring PEs (FIFO-H / FIFO-V)
 * for sliding-window reuse; classifier layers map one output neuron per PE.
 *
 * Our reading as a loop nest:
 * - spatial: output rows P across PE rows and output columns Q across PE columns; PEs left over
 *   by a small output map take more output channels K (and then images N), as ShiDianNao does for
 *   classifier layers. No reduction is spatial: no partial-sum path is needed.
 * - rf: one output per PE (its partial sum never leaves the PE until it is complete); the PE's
 *   loops are the reduction S, R, C, sized by the search within its input and weight partitions.
 *   (Which path delivers an input, broadcast or a neighbour's shift, is the NoC's business; the
 *   reuse is the same.)
 * - gbuf: output tiles (N, K, P, Q) outside, the reduction (C, R, S) innermost, so each PE's
 *   output stays stationary over its whole reduction.
 * - dram: chosen by the search (common.ts) among DRAM_ORDERS, with the factors (fewest DRAM
 *   words first): output tiles outside and reductions innermost (the GBuf's outputs stay on
 *   chip until complete), or weights, or inputs, kept in the GBuf while the other loops stream.
 */
import type { ArchSpec } from "../../arch/spec.js";
import type { ConvLayer } from "../../workload/layer.js";
import { KEEP_ALL, type Mapping } from "../mapping.js";
import { defineTemplate, DRAM_ORDERS, type DataflowOptions, type Template } from "./common.js";
import { searchTemplate } from "./search.js";

/** The loop-nest template of `os` (see the file header). */
export const OS_TEMPLATE: Template = defineTemplate({
  name: "os",
  spatial: [
    { dim: "P", axis: "row" },
    { dim: "Q", axis: "col" },
    { dim: "K", axis: "row" },
    { dim: "K", axis: "col" },
    { dim: "N", axis: "row" },
    { dim: "N", axis: "col" },
  ],
  rfOrder: ["C", "R", "S"],
  rfGrow: ["S", "R", "C"],
  gbufOrder: ["N", "K", "P", "Q", "C", "R", "S"],
  gbufGrow: ["S", "R", "C", "Q", "P", "K", "N"],
  dramOrder: ["G", "N", "K", "P", "Q", "C", "R", "S"],
  dramOrders: DRAM_ORDERS,
  gbufKeep: KEEP_ALL,
  rfKeep: KEEP_ALL,
});

/**
 * The systolic form of `os` (SCALE-Sim's output-stationary dataflow, Samajdar et al., ISPASS
 * 2020), for an architecture that forwards operands (`arch.noc.forwarding`): output pixels (Q, P,
 * then images N) down the PE rows and filters K across the columns, one output per PE; the
 * reduction C, R, S streams through the PEs at the rf level: inputs enter at the left edge and
 * move right along a row (every PE of a row computes the same pixel), weights enter at the top
 * and move down a column (one filter per column). The register files are double-buffered, so the
 * next tile's streams are delivered while the current one computes; where the psum partition
 * holds two outputs, the PEs have two accumulator sets (Gemmini's c1/c2: a fold's outputs drain
 * while the next fold computes). After the search the pixels may be flattened down the rows
 * (fold.ts: SCALE-Sim's folds, where that is clearly faster).
 */
export const OS_SYSTOLIC_TEMPLATE: Template = defineTemplate({
  ...OS_TEMPLATE,
  spatial: [
    { dim: "Q", axis: "row" },
    { dim: "P", axis: "row" },
    { dim: "N", axis: "row" },
    { dim: "K", axis: "col" },
  ],
  rfFirst: ["S", "R", "C"],
  rfStream: { input: true, weight: true, output: false },
  rfDoubleBuffer: true,
  rfDoubleBufferOutput: true,
  fold: [{ axis: "row", dims: ["N", "P", "Q"] }],
});

/**
 * Builds the output-stationary mapping of a layer (see the file header; on an architecture that
 * forwards operands, the systolic form {@link OS_SYSTOLIC_TEMPLATE}).
 * @throws ConfigError when not even the smallest tiles fit the architecture.
 */
export function os(layer: ConvLayer, arch: ArchSpec, options: DataflowOptions = {}): Mapping {
  return searchTemplate(arch.noc.forwarding ? OS_SYSTOLIC_TEMPLATE : OS_TEMPLATE, layer, arch, options);
}
