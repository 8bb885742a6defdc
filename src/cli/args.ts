/**
 * Argument helpers shared by the convsim subcommands: option parsing on top of node:util's
 * parseArgs, and loading a layer from a JSON file, inline JSON or the short form.
 */
import { readFileSync, existsSync } from "node:fs";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ConfigError } from "../core/errors.js";
import { parseJson } from "../core/fields.js";
import { parseIntegerFlag } from "./numbers.js";
import { convLayer, parseLayerShortForm, type ConvLayer, type ConvLayerSpec } from "../workload/layer.js";
import { loadNetwork, network, NETWORK_NAMES, type Network } from "../workload/networks.js";
import { isOnnxPath, loadOnnxNetwork, requireOnnxForOptions, type OnnxOptionValues } from "./onnx.js";

/** What a subcommand prints to; injectable so tests capture the output. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is an interactive terminal (progress is drawn only then). */
  readonly isTTY: boolean;
  /** Whether the command may handle SIGINT for the process (true only for the real process). */
  readonly handleSignals?: boolean;
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
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals, tokens: true });
  } catch (e) {
    throw parseArgsError(e, Object.keys(options));
  }
  const seen = new Set<string>();
  for (const t of parsed.tokens ?? []) {
    if (t.kind !== "option") continue;
    if (seen.has(t.name) && !options[t.name]?.multiple) throw new ConfigError(t.rawName, t.value ?? true, "be given once");
    seen.add(t.name);
  }
  const { tokens, ...rest } = parsed;
  void tokens;
  return rest as never;
}

/** node:util's parse errors as one ConfigError naming the option as typed. */
function parseArgsError(e: unknown, known: readonly string[]): ConfigError {
  const msg = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: string }).code;
  const quoted = /'([^']*)'/.exec(msg)?.[1] ?? "";
  const flag = quoted.split(" ")[0]!;
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return new ConfigError(flag, flag, `be an option of this command (${known.map((k) => "--" + k).join(", ")})`);
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") return new ConfigError("arguments", quoted, "be options (--name value); this command takes no other arguments");
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    return msg.includes("does not take an argument") ? new ConfigError(flag, msg, "be given without a value (it is a switch)") : new ConfigError(flag, undefined, "be followed by a value");
  }
  return new ConfigError("arguments", msg, "be options this command knows");
}

/**
 * Loads a layer from a path to a JSON file, inline JSON (`{"inChannels": 3, ...}`) or the short
 * form (`c=3,hw=224,k=64,r=3,pad=1`).
 */
export function loadLayer(text: string | undefined, field = "--layer"): ConvLayer {
  if (text === undefined || text.trim() === "") throw new ConfigError(field, text, "be given: a JSON file, inline JSON, or a short form such as c=3,hw=224,k=64,r=3,pad=1");
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) return convLayer(parseJson(field, trimmed) as ConvLayerSpec, field);
  if (existsSync(trimmed)) return convLayer(parseJson(field, readTextFile(field, trimmed)) as ConvLayerSpec, field);
  if (trimmed.includes("=")) return parseLayerShortForm(trimmed, field);
  throw new ConfigError(field, text, "name an existing JSON file, or be inline JSON or a short form such as c=3,hw=224,k=64,r=3");
}

/** An option that is a JSON file or inline JSON (or, with `names`, one of those names, handled by the caller). */
export function readJsonOption(field: string, text: string, names?: readonly string[]): unknown {
  const inline = text.trim().startsWith("{");
  if (names && !inline && !existsSync(text)) throw new ConfigError(field, text, `be one of ${names.join(", ")}, a JSON file or inline JSON`);
  if (!inline && !existsSync(text)) throw new ConfigError(field, text, "be a JSON file or inline JSON");
  return parseJson(field, inline ? text : readTextFile(field, text));
}

/** Reads a text file an option names. @throws ConfigError naming the option when it cannot be read. */
export function readTextFile(field: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError(field, path, "name a readable file", (e as Error).message);
  }
}

/** Parses an integer option strictly (a decimal integer, see numbers.ts); undefined stays undefined. */
export function intOption(field: string, text: string | undefined): number | undefined {
  return parseIntegerFlag(field, text);
}

/**
 * Loads a network by zoo name, from a JSON file (`{ "name", "layers": [...] }`), or from an ONNX
 * model (a path ending in `.onnx`, with `--input-shape`, `--batch` and `--weights`: src/cli/onnx.ts).
 */
export function loadNetworkOption(text: string, batch: number, onnx: OnnxOptionValues = {}): Network {
  if (isOnnxPath(text)) return loadOnnxNetwork(text, onnx, batch);
  requireOnnxForOptions(text, onnx);
  if (NETWORK_NAMES.includes(text)) return network(text, batch);
  if (existsSync(text)) return loadNetwork(parseJson("--net", readTextFile("--net", text)), batch);
  throw new ConfigError("--net", text, `be one of ${NETWORK_NAMES.join(", ")}, a network JSON file, or an ONNX model (.onnx)`);
}
