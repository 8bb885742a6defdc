/**
 * The operand options shared by `simulate`, `reference`, `verify`, `run`, `compare` and `sweep`:
 * operand files (`--x`, `--w`), operand types (`--x-type`, `--w-type`, default
 * {@link DEFAULT_OPERAND_TYPE}), zero points (`--x-zero-point`, `--w-zero-point`, checked against
 * the operand's type), and the input files a command reads (for the output-path checks).
 */
import { ConfigError } from "../core/errors.js";
import { DEFAULT_OPERAND_TYPE, OPERAND_TYPES, requireOperandType, requireZeroPoint, type OperandType } from "../workload/dtype.js";
import { convShape, type ConvLayer } from "../workload/layer.js";
import { expectTensor, readNpy } from "../workload/npy.js";
import type { OperandArray } from "../workload/reference.js";
import { parseIntegerFlag } from "./numbers.js";
import type { PathOption } from "./outputs.js";

/** Reads `--x` and `--w` (.npy), checked against the layer's shapes and the operand types. */
export function loadOperandFiles(layer: ConvLayer, xPath: string, wPath: string): { x: OperandArray; w: OperandArray } {
  const s = convShape(layer);
  const x = readNpy(xPath);
  expectTensor(x, "--x", [layer.batch, layer.inChannels, layer.inHeight, layer.inWidth], OPERAND_TYPES);
  const w = readNpy(wPath);
  expectTensor(w, "--w", [layer.outChannels, s.inChannelsPerGroup, layer.kernelHeight, layer.kernelWidth], OPERAND_TYPES);
  return { x: x.data as OperandArray, w: w.data as OperandArray };
}

/** The operand-type options. */
export const OPERAND_TYPE_OPTIONS = {
  "x-type": { type: "string" },
  "w-type": { type: "string" },
} as const;

/** `--x-type` and `--w-type`, each one of int8, uint8, int16 (default int8). */
export function operandTypesOption(values: { readonly "x-type"?: string; readonly "w-type"?: string }): { input: OperandType; weight: OperandType } {
  return {
    input: requireOperandType("--x-type", values["x-type"] ?? DEFAULT_OPERAND_TYPE),
    weight: requireOperandType("--w-type", values["w-type"] ?? DEFAULT_OPERAND_TYPE),
  };
}

/** The zero-point options. */
export const ZERO_POINT_OPTIONS = {
  "x-zero-point": { type: "string" },
  "w-zero-point": { type: "string" },
} as const;

/** `--x-zero-point` and `--w-zero-point`: decimal integers within the operand type's range. */
export function zeroPointsOption(values: { readonly "x-zero-point"?: string; readonly "w-zero-point"?: string }, types: { readonly input: OperandType; readonly weight: OperandType }): { input?: number; weight?: number } {
  const zx = parseIntegerFlag("--x-zero-point", values["x-zero-point"]);
  const zw = parseIntegerFlag("--w-zero-point", values["w-zero-point"]);
  return {
    ...(zx !== undefined ? { input: requireZeroPoint("--x-zero-point", zx, types.input) } : {}),
    ...(zw !== undefined ? { weight: requireZeroPoint("--w-zero-point", zw, types.weight) } : {}),
  };
}

/** The options that name input files (or may: a preset name or inline JSON is skipped by the checks). */
const INPUT_FLAGS = ["layer", "layers", "arch", "arch-override", "dataflow", "net", "energy", "x", "w", "y", "bias"] as const;

/** The input files among a command's option values, for {@link checkOutputPaths} (outputs.ts). */
export function inputPaths(values: Readonly<Record<string, unknown>>): PathOption[] {
  return INPUT_FLAGS.filter((f) => typeof values[f] === "string").map((f) => ({ flag: `--${f}`, path: values[f] as string }));
}

/** Refuses `--x-type`/`--w-type` next to operand files, whose types come from the files. */
export function refuseTypesWithFiles(values: { readonly x?: string; readonly "x-type"?: string; readonly "w-type"?: string }): void {
  if (values.x === undefined) return;
  for (const f of ["x-type", "w-type"] as const) {
    if (values[f] !== undefined) throw new ConfigError(`--${f}`, values[f], "not be given with --x and --w (the types come from the .npy files)");
  }
}
