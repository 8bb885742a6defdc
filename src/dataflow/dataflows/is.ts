/**
 * `is`, input-stationary, as SCALE-Sim defines it for systolic arrays.
 *
 * Source: Samajdar et al., "A Systematic Methodology for Characterizing Scalability of DNN
 * Accelerators using SCALE-Sim" (ISPASS 2020, Sec. III) and "SCALE-Sim: Systolic CNN Accelerator
 * Simulator" (arXiv 1811.02883): in the IS dataflow each PE column holds one convolution window
 * (an output pixel's C*R*S inputs down the rows), the inputs stay in the array while the filters
 * stream in one after another, and partial sums are reduced down the columns.
 *
 * Our reading as a loop nest:
 * - spatial: the reduction (C, then R, S) across PE rows, output pixels (Q, then P, N) across PE
 *   columns. Partial sums of one output are reduced down a column (neighbour links, or the drain
 *   path into the GBuf where the architecture has no links).
 * - rf: a PE holds its input and streams output channels K past it (one on the systolic preset;
 *   elsewhere as many as the search picks within its psum and weight partitions).
 * - gbuf: input folds (N, P, Q, C, R, S) outside, the filter stream K innermost, so the inputs in
 *   the array stay put while every filter of the GBuf tile passes (input-stationary); partial
 *   sums are accumulated in the GBuf.
 * - dram: chosen by the search (common.ts) among DRAM_ORDERS, with the factors (fewest DRAM
 *   words first): output tiles outside and reductions innermost (the GBuf's outputs stay on
 *   chip until complete), or weights, or inputs, kept in the GBuf while the other loops stream.
 */
import type { ArchSpec } from "../../arch/spec.js";
import type { ConvLayer } from "../../workload/layer.js";
import { KEEP_ALL, type Mapping } from "../mapping.js";
import { defineTemplate, DRAM_ORDERS, type DataflowOptions, type Template } from "./common.js";
import { searchTemplate } from "./search.js";

/** The loop-nest template of `is` (see the file header). */
export const IS_TEMPLATE: Template = defineTemplate({
  name: "is",
  spatial: [
    { dim: "C", axis: "row" },
    { dim: "R", axis: "row" },
    { dim: "S", axis: "row" },
    { dim: "Q", axis: "col" },
    { dim: "P", axis: "col" },
    { dim: "N", axis: "col" },
  ],
  rfOrder: ["K"],
  rfGrow: ["K"],
  gbufOrder: ["N", "P", "Q", "C", "R", "S", "K"],
  gbufGrow: ["K", "Q", "P", "N", "C", "R", "S"],
  dramOrder: ["G", "N", "P", "Q", "K", "C", "R", "S"],
  dramOrders: DRAM_ORDERS,
  gbufKeep: KEEP_ALL,
  rfKeep: KEEP_ALL,
});

/**
 * The systolic form of `is`, for an architecture that forwards operands (`arch.noc.forwarding`):
 * the same array mapping, with the output channels K streaming at the rf level: each filter's
 * weights enter at the left edge and move right along a row (every PE of a row holds the same
 * input position of a different window), and each step's partial sums leave the PEs down the
 * columns, reduced over the links (SCALE-Sim's IS: filters stream, outputs drain down). After the
 * search R x S x C may be flattened down the rows and the pixels across the columns (fold.ts:
 * SCALE-Sim's folds, where that is clearly faster).
 */
export const IS_SYSTOLIC_TEMPLATE: Template = defineTemplate({
  ...IS_TEMPLATE,
  rfFirst: ["K"],
  rfStream: { input: false, weight: true, output: true },
  fold: [
    { axis: "row", dims: ["R", "S", "C"] },
    { axis: "col", dims: ["N", "P", "Q"] },
  ],
});

/**
 * Builds the input-stationary mapping of a layer (see the file header; on an architecture that
 * forwards operands, the systolic form {@link IS_SYSTOLIC_TEMPLATE}).
 * @throws ConfigError when not even the smallest tiles fit the architecture.
 */
export function is(layer: ConvLayer, arch: ArchSpec, options: DataflowOptions = {}): Mapping {
  return searchTemplate(arch.noc.forwarding ? IS_SYSTOLIC_TEMPLATE : IS_TEMPLATE, layer, arch, options);
}
