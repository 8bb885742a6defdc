/**
 * The `best` dataflow: the mapper as a dataflow builder, with a small evaluation budget so that
 * `run`, `compare` and `sweep --dataflow best` stay fast (docs/mapper.md). Deterministic (seed 1,
 * an evaluation budget).
 */
import type { ArchSpec } from "../arch/spec.js";
import type { DataflowOptions } from "../dataflow/dataflows/common.js";
import type { Mapping } from "../dataflow/mapping.js";
import type { ConvLayer } from "../workload/layer.js";
import { map } from "./search.js";

/** Evaluations the `best` dataflow spends per layer. */
export const BEST_BUDGET = 3000;

/**
 * The mapper's best mapping for the DRAM objective within {@link BEST_BUDGET} evaluations, named
 * `best`. `options.types` are the operand types it must fit (default int8, as `simulate`
 * generates); `options.doubleBuffer` is not used (the mapper chooses). `seeds` are mappings to
 * start from besides the named dataflows (`sweep` passes the best at the next smaller capacity,
 * so the DRAM words never rise with the capacity).
 * @throws ConfigError when no legal mapping is found.
 */
export function bestMapping(layer: ConvLayer, arch: ArchSpec, options: DataflowOptions = {}, seeds: readonly Mapping[] = []): Mapping {
  const types = { input: options.types?.input ?? "int8", weight: options.types?.weight ?? "int8" } as const;
  return map(layer, arch, { objective: "dram", budget: BEST_BUDGET, types, top: 1, seeds }).best.mapping;
}
