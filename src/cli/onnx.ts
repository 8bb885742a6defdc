/**
 * ONNX models on the command line: `--net model.onnx` (a path ending in .onnx) on run, compare,
 * sweep and bound, `--input-shape NAME=1x3x224x224` (repeatable) to fix a graph input's shape,
 * and `--weights model` (run, compare, sweep) to simulate each layer with the model's own
 * int8/uint8 weights and zero points instead of seeded operands (inputs stay seeded, of the
 * model's input type). docs/formats.md.
 */
import { readFileSync } from "node:fs";
import { ConfigError, requireOneOf } from "../core/errors.js";
import { importOnnx, onnxLayerOperands, type OnnxNetwork } from "../formats/onnx/import.js";
import type { ModelOperands } from "../formats/onnx/layers.js";
import type { ConvLayer } from "../workload/layer.js";
import type { Network } from "../workload/networks.js";

/** `--input-shape`, for the commands that take `--net`. */
export const INPUT_SHAPE_OPTION = { "input-shape": { type: "string", multiple: true } } as const;

/** `--weights`, for the commands that simulate a network. */
export const WEIGHTS_OPTION = { weights: { type: "string" } } as const;

/** The values of `--weights`: seeded operands (the default), or the model's own. */
export const WEIGHTS_VALUES = ["seeded", "model"] as const;

/** The ONNX-related option values a command passes on. */
export interface OnnxOptionValues {
  readonly "input-shape"?: readonly string[];
  readonly batch?: string;
  readonly weights?: string;
}

/** Whether `--net` names an ONNX model (a path ending in `.onnx`). */
export function isOnnxPath(text: string): boolean {
  return /\.onnx$/i.test(text.trim());
}

/** Parses `--input-shape NAME=1x3x224x224` entries into shapes by input name. */
export function parseInputShapes(list: readonly string[] | undefined): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const entry of list ?? []) {
    const eq = entry.lastIndexOf("=");
    const name = entry.slice(0, eq);
    const dims = entry.slice(eq + 1).split("x").map(Number);
    if (eq <= 0 || dims.some((d) => !Number.isInteger(d) || d < 1)) throw new ConfigError("--input-shape", entry, "be NAME=DIMS with positive integer dimensions joined by x, e.g. input=1x3x224x224");
    if (name in out) throw new ConfigError("--input-shape", entry, `give input ${JSON.stringify(name)} once`);
    out[name] = dims;
  }
  return out;
}

/**
 * Loads `--net model.onnx` with `--input-shape`, `--batch` (when given) and `--weights model`.
 * @throws ConfigError when the file cannot be read, or for anything importOnnx refuses.
 */
export function loadOnnxNetwork(path: string, values: OnnxOptionValues, batch: number): OnnxNetwork {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path.trim());
  } catch (e) {
    throw new ConfigError("--net", path, "name a readable ONNX model file", (e as Error).message);
  }
  return importOnnx(bytes, {
    source: path.trim(),
    inputShapes: parseInputShapes(values["input-shape"]),
    ...(values.batch !== undefined ? { batch } : {}),
    weights: weightsOption(values.weights) === "model",
  });
}

/** Refuses the ONNX-only options when `--net` is not an ONNX model. */
export function requireOnnxForOptions(net: string, values: OnnxOptionValues): void {
  if (values["input-shape"] !== undefined && values["input-shape"].length > 0) throw new ConfigError("--input-shape", values["input-shape"].join(" "), "be used with --net model.onnx");
  if (weightsOption(values.weights) === "model") throw new ConfigError("--weights", "model", `be used with --net model.onnx (${net} has no weights of its own)`);
}

/** The `--weights` option: `seeded` (default) or `model`. */
export function weightsOption(text: string | undefined): (typeof WEIGHTS_VALUES)[number] {
  return requireOneOf("--weights", text ?? "seeded", WEIGHTS_VALUES);
}

/**
 * Per layer, what a simulation job takes from the model with `--weights model` (its operands),
 * or nothing. Checked for every layer up front by the caller mapping its layers through it.
 * @throws ConfigError naming a layer without int8/uint8 weights (a float layer, per-channel zero points).
 */
export function layerOperandsOption(net: Network, values: OnnxOptionValues): (layer: ConvLayer) => { operands?: ModelOperands } {
  if (weightsOption(values.weights) !== "model") return () => ({});
  if (!("operands" in net)) throw new ConfigError("--weights", "model", "be used with --net model.onnx");
  const onnx = net as OnnxNetwork;
  return (layer) => {
    try {
      return { operands: onnxLayerOperands(onnx, layer.name!) };
    } catch (e) {
      if (e instanceof ConfigError) throw new ConfigError("--weights", "model", e.rule);
      throw e;
    }
  };
}

/**
 * The usage lines of `--input-shape` and (with `weights`) `--weights`, their descriptions
 * starting at column `column` as in the rest of the command's usage.
 */
export function onnxUsage(column: number, weights: boolean): string {
  const pad = " ".repeat(column);
  const lines = [
    `  --input-shape NAME=DIMS  with an ONNX --net: a graph input's shape, e.g.`,
    `${pad}input=1x3x224x224 (fixes a dynamic dimension; repeatable)`,
  ];
  if (weights) {
    lines.push(`${"  --weights W".padEnd(column)}seeded (default), or model: simulate with the ONNX model's own`, `${pad}int8/uint8 weights and zero points (inputs seeded, of its input type)`);
  }
  return lines.join("\n");
}
