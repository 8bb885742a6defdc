/**
 * Field rules declared once (STYLE rule 5): a rule says what one field of a spec may hold — an
 * integer within bounds (optionally a power of two), one of a list of names or numbers, or a
 * boolean — with a one-line description. The architecture schema (src/arch/schema.ts) and the
 * layer schema (src/workload/layer.ts) are tables of these rules; the API, the CLI, the presets
 * and the components all check a value with {@link checkField}, so one field has one rule and one
 * message everywhere. Every integer rule has an upper bound: sizes stay far below what would
 * overflow a typed array, a WebAssembly memory or exact double arithmetic.
 *
 * Our own small module rather than zod or valibot: the rules are a handful of integer ranges and
 * name lists, and the messages must follow ConfigError's "<field> must <rule>; got <value>" with
 * the field named as the user wrote it (`--layer c`, `arch.dram.latencyCycles`), which a schema
 * library would need an adapter for.
 */
import { ConfigError } from "./errors.js";

/** An integer field: `min <= v <= max`, and a power of two when `powerOfTwo`. */
export interface IntRule {
  readonly kind: "int";
  readonly min: number;
  readonly max: number;
  readonly powerOfTwo?: boolean;
  /** The field may be absent (undefined). */
  readonly optional?: boolean;
  /** What the field means, one line. */
  readonly doc: string;
}

/** A field that holds one of a list of values (names or numbers). */
export interface OneOfRule<T extends string | number = string | number> {
  readonly kind: "oneOf";
  readonly values: readonly T[];
  readonly optional?: boolean;
  readonly doc: string;
}

/** A boolean field. */
export interface BoolRule {
  readonly kind: "bool";
  readonly optional?: boolean;
  readonly doc: string;
}

/** A rule for one field. */
export type FieldRule = IntRule | OneOfRule | BoolRule;

/** An integer rule (a helper for rule tables). */
export function intRule(min: number, max: number, doc: string, extra: { powerOfTwo?: boolean; optional?: boolean } = {}): IntRule {
  return Object.freeze({ kind: "int", min, max, doc, ...extra });
}

/** The text of an integer rule, phrased to follow "must": `be an integer in [1, 4096]`. */
export function intRuleText(rule: IntRule): string {
  return `be ${rule.powerOfTwo ? "a power of two" : "an integer"} in [${rule.min}, ${rule.max}]`;
}

const isPowerOfTwo = (n: number): boolean => n > 0 && Number.isInteger(Math.log2(n));

/**
 * Checks a value against a rule and returns it. An absent value passes an optional rule (and is
 * returned as undefined).
 * @param field the field as the user wrote it, for the message.
 * @throws ConfigError naming the field, the value and the rule.
 */
export function checkField(field: string, value: unknown, rule: FieldRule): unknown {
  if (value === undefined && rule.optional) return undefined;
  switch (rule.kind) {
    case "int":
      if (typeof value !== "number" || !Number.isInteger(value) || value < rule.min || value > rule.max || (rule.powerOfTwo && !isPowerOfTwo(value))) {
        throw new ConfigError(field, value, intRuleText(rule));
      }
      return value;
    case "oneOf":
      if (!(rule.values as readonly unknown[]).includes(value)) throw new ConfigError(field, value, `be one of ${rule.values.join(", ")}`);
      return value;
    case "bool":
      if (typeof value !== "boolean") throw new ConfigError(field, value, "be true or false");
      return value;
  }
}

/** Checks an integer field (see {@link checkField}). */
export function checkInt(field: string, value: unknown, rule: IntRule): number {
  return checkField(field, value, rule) as number;
}

/** Keys that would reach an object's prototype when copied or merged: refused in every input. */
export const UNSAFE_KEYS: readonly string[] = Object.freeze(["__proto__", "constructor", "prototype"]);

/**
 * Refuses `__proto__`, `constructor` and `prototype` as keys anywhere in a parsed value (objects
 * and arrays, recursively): a merge would otherwise change a prototype or drop the key silently.
 * Also refuses a cycle (an object or array that contains itself), which an API caller can pass
 * and JSON cannot: every later walk over the value would never end. A value shared by two fields
 * (no cycle) is checked once.
 * @throws ConfigError naming the key's path, or the path of the field that closes a cycle.
 */
export function rejectUnsafeKeys(path: string, value: unknown): void {
  // An explicit stack: a deeply nested input must not overflow the call stack. An entry with
  // `leave` set marks the end of its value's subtree: the values between are its descendants.
  const stack: { p: string; v: unknown; leave?: boolean }[] = [{ p: path, v: value }];
  const open = new Map<object, string>();
  const done = new Set<object>();
  while (stack.length > 0) {
    const { p, v, leave } = stack.pop()!;
    if (v === null || typeof v !== "object" || done.has(v)) continue;
    if (leave) {
      open.delete(v);
      done.add(v);
      continue;
    }
    const enclosing = open.get(v);
    if (enclosing !== undefined) throw new ConfigError(p, `a reference to ${enclosing}`, `not refer back to ${enclosing}, which contains it (a cycle: the input must be plain data)`);
    open.set(v, p);
    stack.push({ p, v, leave: true });
    if (Array.isArray(v)) {
      v.forEach((x, i) => stack.push({ p: `${p}[${i}]`, v: x }));
      continue;
    }
    for (const k of Object.keys(v)) {
      if (UNSAFE_KEYS.includes(k)) throw new ConfigError(`${p}.${k}`, k, `not be used as a key (${UNSAFE_KEYS.join(", ")} are refused)`);
      stack.push({ p: `${p}.${k}`, v: (v as Record<string, unknown>)[k] });
    }
  }
}

/**
 * Refuses a field of `obj` that is not in `allowed`, naming it as `<path>.<key>`: a misspelt
 * option must not be ignored silently.
 * @throws ConfigError such as `options.mapping must be one of the fields layer, arch, ...`.
 */
export function rejectUnknownKeys(path: string, obj: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) throw new ConfigError(`${path}.${k}`, obj[k], `be one of the fields ${allowed.join(", ")}`);
  }
}

/**
 * Parses JSON text, refusing the keys of {@link UNSAFE_KEYS} anywhere in it.
 * @param field the option or file as the user wrote it (`--arch-override`, `--net net.json`).
 * @throws ConfigError for invalid JSON or an unsafe key.
 */
export function parseJson(field: string, text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(field, text.length > 80 ? text.slice(0, 77) + "..." : text, "be valid JSON", (e as Error).message);
  }
  rejectUnsafeKeys(field, value);
  return value;
}
