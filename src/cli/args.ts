/**
 * Argument helpers shared by the convsim subcommands: option parsing on top of node:util's
 * parseArgs, and loading a layer from a JSON file, inline JSON or the short form.
 */
import { readFileSync, existsSync } from "node:fs";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ConfigError } from "../core/errors.js";
import { convLayer, parseLayerShortForm, type ConvLayer, type ConvLayerSpec } from "../workload/layer.js";
import { loadNetwork, network, NETWORK_NAMES, type Network } from "../workload/networks.js";
import { isOnnxPath, loadOnnxNetwork, requireOnnxForOptions, type OnnxOptionValues } from "./onnx.js";

/** What a subcommand prints to; injectable so tests capture the output. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether stdout is an interactive terminal (for progress bars). */
  readonly isTTY: boolean;
}

/** A subcommand of the convsim CLI. */
export interface Command {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The full usage text printed by `convsim help NAME` and on a usage error. */
  readonly usage: string;
  /** Runs the command; resolves to the process exit code. */
  run(argv: string[], io: Io): Promise<number>;
}

/** Parses options strictly: an unknown option or a missing value is a ConfigError. */
export function parseOptions<T extends NonNullable<ParseArgsConfig["options"]>>(
  argv: string[],
  options: T,
  allowPositionals = false,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: boolean }>> {
  // node:util refuses `--opt -3` as ambiguous; a negative number is a value, so join it.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = argv[i + 1];
    const name = a.startsWith("--") ? a.slice(2) : undefined;
    if (name !== undefined && !name.includes("=") && options[name]?.type === "string" && next !== undefined && /^-\d/.test(next)) {
      args.push(`${a}=${next}`);
      i++;
    } else {
      args.push(a);
    }
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new ConfigError("arguments", argv.join(" "), "be options this command knows", msg);
  }
}

/**
 * Loads a layer from a path to a JSON file, inline JSON (`{"inChannels": 3, ...}`) or the short
 * form (`c=3,hw=224,k=64,r=3,pad=1`).
 */
export function loadLayer(text: string | undefined, field = "--layer"): ConvLayer {
  if (text === undefined || text === "") throw new ConfigError(field, text, "be given: a JSON file, inline JSON, or a short form such as c=3,hw=224,k=64,r=3,pad=1");
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    let spec: unknown;
    try {
      spec = JSON.parse(trimmed);
    } catch (e) {
      throw new ConfigError(field, text, "be valid JSON", (e as Error).message);
    }
    return convLayer(spec as ConvLayerSpec, "layer");
  }
  if (existsSync(trimmed)) {
    let spec: unknown;
    try {
      spec = JSON.parse(readFileSync(trimmed, "utf8"));
    } catch (e) {
      throw new ConfigError(field, text, "name a file holding valid JSON", (e as Error).message);
    }
    return convLayer(spec as ConvLayerSpec, "layer");
  }
  if (trimmed.includes("=")) return parseLayerShortForm(trimmed, "layer");
  throw new ConfigError(field, text, "name an existing JSON file, or be inline JSON or a short form such as c=3,hw=224,k=64,r=3");
}

/** Parses an integer option (e.g. a zero point); undefined stays undefined. */
export function intOption(field: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!Number.isInteger(v) || text.trim() === "") throw new ConfigError(field, text, "be an integer");
  return v;
}

/**
 * Loads a network by zoo name, from a JSON file (`{ "name", "layers": [...] }`), or from an ONNX
 * model (a path ending in `.onnx`, with `--input-shape`, `--batch` and `--weights`: src/cli/onnx.ts).
 */
export function loadNetworkOption(text: string, batch: number, onnx: OnnxOptionValues = {}): Network {
  if (isOnnxPath(text)) return loadOnnxNetwork(text, onnx, batch);
  requireOnnxForOptions(text, onnx);
  if (NETWORK_NAMES.includes(text)) return network(text, batch);
  if (existsSync(text)) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(text, "utf8"));
    } catch (e) {
      throw new ConfigError("--net", text, "name a file holding valid JSON", (e as Error).message);
    }
    return loadNetwork(json, batch);
  }
  throw new ConfigError("--net", text, `be one of ${NETWORK_NAMES.join(", ")}, a network JSON file, or an ONNX model (.onnx)`);
}
