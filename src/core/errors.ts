/**
 * Errors of convsim. A user's mistake is a {@link ConfigError}: it names the field (a dotted
 * path such as `layer.strides[0]` or `gbuf.banks`), the value that was given and the rule it
 * broke, and it is thrown at the boundary before any work starts. A broken simulator invariant
 * (a bug in convsim, or a stale read caught in checked mode) is an {@link InvariantError}.
 * (gem5: `fatal` vs `panic`.)
 */

/** Formats a value for an error message: strings quoted, arrays and objects as JSON. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (value === undefined) return "undefined";
  try {
    const json = JSON.stringify(value);
    return json.length > 200 ? json.slice(0, 197) + "..." : json;
  } catch {
    return String(value);
  }
}

/** A user's configuration or input is invalid. Thrown before any simulation work starts. */
export class ConfigError extends Error {
  /** Dotted path of the offending field, e.g. `layer.pads[2]` or `arch.gbuf.banks`. */
  readonly field: string;
  /** The value that was given. */
  readonly value: unknown;
  /** The rule the value broke, phrased to follow "must", e.g. `be a positive integer`. */
  readonly rule: string;

  constructor(field: string, value: unknown, rule: string, detail?: string) {
    super(`${field} must ${rule}; got ${describeValue(value)}${detail ? ` (${detail})` : ""}`);
    this.name = "ConfigError";
    this.field = field;
    this.value = value;
    this.rule = rule;
  }
}

/** A simulator invariant was broken: a bug in convsim, or a stale/unwritten read in checked mode. */
export class InvariantError extends Error {
  /** The component (hierarchical name) that detected the violation. */
  readonly component: string;

  constructor(component: string, message: string) {
    super(`${component}: ${message}`);
    this.name = "InvariantError";
    this.component = component;
  }
}

/** Throws a {@link ConfigError} unless `value` is an integer (optionally within bounds). */
export function requireInteger(field: string, value: unknown, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new ConfigError(field, value, "be an integer");
  }
  if (value < min || value > max) {
    const rule =
      min === 1 && max === Number.MAX_SAFE_INTEGER
        ? "be a positive integer"
        : min === 0 && max === Number.MAX_SAFE_INTEGER
          ? "be a non-negative integer"
          : max === Number.MAX_SAFE_INTEGER
            ? `be an integer >= ${min}`
            : `be an integer in [${min}, ${max}]`;
    throw new ConfigError(field, value, rule);
  }
  return value;
}

/** Throws a {@link ConfigError} unless `value` is a positive integer. */
export function requirePositiveInteger(field: string, value: unknown): number {
  return requireInteger(field, value, 1);
}

/** Throws a {@link ConfigError} unless `value` is a non-negative integer. */
export function requireNonNegativeInteger(field: string, value: unknown): number {
  return requireInteger(field, value, 0);
}

/** Throws a {@link ConfigError} unless `value` is one of `names` (the rule lists them). */
export function requireOneOf<T extends string>(field: string, value: unknown, names: readonly T[]): T {
  if (typeof value !== "string" || !(names as readonly string[]).includes(value)) throw new ConfigError(field, value, `be one of ${names.join(", ")}`);
  return value as T;
}

/** One component that was still busy when a run stopped, and what it was doing or waiting for. */
export interface StalledComponent {
  readonly component: string;
  readonly status: string;
}

/**
 * A run could not finish: it reached its `maxCycles` cap, or (fast mode) no component could ever
 * make progress again (a deadlock). The message names every busy component and what it waits for.
 */
export class StallError extends Error {
  /** `cap`: maxCycles reached; `deadlock`: nothing can happen any more. */
  readonly kind: "cap" | "deadlock";
  /** The cycle at which the run stopped. */
  readonly cycle: number;
  /** The busy components and their status. */
  readonly stalled: readonly StalledComponent[];

  constructor(kind: "cap" | "deadlock", cycle: number, stalled: readonly StalledComponent[], pending: readonly string[]) {
    const what = stalled.map((s) => `${s.component}: ${s.status}`).concat(pending.map((p) => `channel ${p}`));
    super(
      `${kind === "cap" ? `run reached maxCycles = ${cycle}` : `deadlock at cycle ${cycle}: no component can make progress`}; ` +
        `still busy: ${what.length ? what.join("; ") : "nothing (the cap is too low?)"}`,
    );
    this.name = "StallError";
    this.kind = kind;
    this.cycle = cycle;
    this.stalled = stalled;
  }
}
