/**
 * Strict parsing of the CLI's numeric options (docs/inputs.md): a number is a decimal integer
 * (an optional minus sign and digits: no exponent, hex, fraction, spaces or empty string) unless
 * the option takes a size with a unit (`--max-memory 2GiB`). Errors name the option as typed.
 */
import { ConfigError } from "../core/errors.js";
import { parseCapacity } from "../core/units.js";
import type { RunLimits } from "../dataflow/budget.js";

/** The rule text of a decimal integer within bounds. */
function integerRule(min: number, max: number): string {
  if (max === Number.MAX_SAFE_INTEGER && min === Number.MIN_SAFE_INTEGER) return "be a decimal integer";
  if (max === Number.MAX_SAFE_INTEGER) return min === 1 ? "be a positive decimal integer" : min === 0 ? "be a non-negative decimal integer" : `be a decimal integer >= ${min}`;
  return `be a decimal integer in [${min}, ${max}]`;
}

/**
 * Parses a decimal integer option; undefined stays undefined.
 * @param flag the option as typed (`--batch`).
 * @throws ConfigError naming the option, the text and the rule.
 */
export function parseIntegerFlag(flag: string, text: string | undefined, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (text === undefined) return undefined;
  const rule = integerRule(min, max);
  if (!/^-?\d+$/.test(text)) throw new ConfigError(flag, text, `${rule} (no exponent, hex, fraction or spaces)`);
  const v = Number(text);
  if (!Number.isSafeInteger(v) || v < min || v > max) throw new ConfigError(flag, text, rule);
  return v;
}

/**
 * Parses `--seed`: a non-negative decimal integer (the seed of the generated operands).
 * @throws ConfigError for anything else, the empty string included.
 */
export function parseSeedFlag(text: string | undefined, flag = "--seed"): number | undefined {
  return parseIntegerFlag(flag, text, 0, 2 ** 32 - 1);
}

/**
 * Parses a size in bytes with an optional unit (`2GiB`, `512MiB`, `1000000`), positive.
 * @throws ConfigError naming the option for words, zero or a malformed size.
 */
export function parseBytesFlag(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const c = parseCapacity(flag, text);
  if (c.unit !== "bytes") throw new ConfigError(flag, text, "be a size in bytes (B, KiB, MiB, GiB, kB, MB, GB), not words");
  if (c.value < 1) throw new ConfigError(flag, text, "be a positive size");
  return c.value;
}

/** The options that set a run's limits (every command that computes). */
export const LIMIT_OPTIONS = {
  "max-memory": { type: "string" },
  "max-macs": { type: "string" },
} as const;

/** The usage lines of {@link LIMIT_OPTIONS}. */
export const LIMIT_USAGE = `  --max-memory M      refuse a run whose estimated memory exceeds M (e.g. 4GiB; default half
                       of this machine's memory)
  --max-macs N         refuse a run of more than N MACs (decimal integer; default 100000000000)`;

/** The `--max-memory` and `--max-macs` options as {@link RunLimits}. */
export function limitsOption(values: { readonly "max-memory"?: string; readonly "max-macs"?: string }): RunLimits {
  const maxMemoryBytes = parseBytesFlag("--max-memory", values["max-memory"]);
  const maxMacs = parseIntegerFlag("--max-macs", values["max-macs"], 1);
  return { ...(maxMemoryBytes !== undefined ? { maxMemoryBytes } : {}), ...(maxMacs !== undefined ? { maxMacs } : {}) };
}

/** How the CLI's limit errors name the options. */
export const CLI_LIMIT_NAMES = { layer: "--layer", maxMemory: "--max-memory", maxMacs: "--max-macs" } as const;
/** The options that raise the limits, for jobs whose layers come from elsewhere than `--layer` (a network, a sweep). */
export const CLI_LIMIT_FLAGS = { maxMemory: CLI_LIMIT_NAMES.maxMemory, maxMacs: CLI_LIMIT_NAMES.maxMacs } as const;
