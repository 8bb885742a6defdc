/**
 * Reading a Timeloop YAML file into plain data, and the error convention of every format reader:
 * a {@link ConfigError} whose field is `FILE: path.inside[2].it`, so a message names the file,
 * the path inside it, the value and the rule (`mapping.yaml: mapping[2].factors must ...`).
 *
 * Timeloop v0.4 architectures tag their nodes (`!Container`, `!Component`, `!Hierarchical`,
 * `!Parallel`, ...). YAML has no schema for those tags; {@link readYaml} keeps a tagged mapping's
 * tag as its {@link TAG} property (`Component`) instead of refusing it, and the readers decide.
 */
import { isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type Node as YamlNode } from "yaml";
import { ConfigError } from "../../core/errors.js";

/** The property under which {@link readYaml} keeps a mapping's local tag (`!Component` -> `Component`). */
export const TAG = "!tag";

/** Plain data read from YAML: objects, arrays, strings, numbers, booleans and null. */
export type Plain = null | boolean | number | string | Plain[] | { [key: string]: Plain };

/** A plain object of YAML data. */
export type PlainObject = { [key: string]: Plain };

function toPlain(node: unknown, doc: Document): Plain {
  if (node === null || node === undefined) return null;
  if (isAlias(node)) return toPlain(node.resolve(doc), doc);
  if (isScalar(node)) return (node.value ?? null) as Plain;
  if (isSeq(node)) return node.items.map((i) => toPlain(i, doc));
  if (isMap(node)) {
    const out: PlainObject = {};
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const value = toPlain(pair.value, doc);
      // A merge key (`<<: *defaults`) brings the aliased mapping's entries, without overriding.
      if (key === "<<" && isObject(value)) {
        for (const [k, v] of Object.entries(value)) if (!(k in out)) out[k] = v;
      } else {
        out[key] = value;
      }
    }
    const tag = (node as YamlNode).tag;
    if (tag !== undefined && tag.startsWith("!") && !tag.startsWith("!!")) out[TAG] = tag.slice(1);
    return out;
  }
  return node as Plain;
}

/**
 * Parses YAML text into plain data (anchors and aliases resolved, local tags kept as {@link TAG}).
 * @param file the file's name, for error messages.
 * @throws ConfigError naming the file and the line when the text is not valid YAML.
 */
export function readYaml(text: string, file: string): Plain {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) throw new ConfigError(file, text.length > 60 ? text.slice(0, 57) + "..." : text, "be valid YAML", err.message.split("\n")[0]);
  return toPlain(doc.contents, doc);
}

/** Where a value sits: the file and the path inside it, which every error names. */
export class Where {
  constructor(
    readonly file: string,
    readonly path: string,
  ) {}

  /** A child path: `.key` for a string, `[i]` for a number. */
  at(key: string | number): Where {
    const sep = typeof key === "number" ? `[${key}]` : this.path === "" ? key : `.${key}`;
    return new Where(this.file, this.path + sep);
  }

  /** The ConfigError field of this place: `FILE: path`. */
  get field(): string {
    return this.path === "" ? this.file : `${this.file}: ${this.path}`;
  }

  /** A ConfigError at this place. */
  error(value: unknown, rule: string, detail?: string): ConfigError {
    return new ConfigError(this.field, value, rule, detail);
  }
}

/** Whether a value is a plain object (not an array, not null). */
export function isObject(v: unknown): v is PlainObject {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The value as an object, or a ConfigError at `w`. */
export function objectAt(w: Where, v: unknown, what: string): PlainObject {
  if (!isObject(v)) throw w.error(v, `be ${what}`);
  return v;
}

/** The value as an array, or a ConfigError at `w`. */
export function arrayAt(w: Where, v: unknown, what: string): Plain[] {
  if (!Array.isArray(v)) throw w.error(v, `be ${what}`);
  return v as Plain[];
}

/** The value as a positive integer (a number, or a string of digits), or a ConfigError at `w`. */
export function positiveIntAt(w: Where, v: unknown): number {
  const n = typeof v === "string" && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1) throw w.error(v, "be a positive integer");
  return n;
}

/** Refuses keys of `obj` outside `allowed` (the first one found), naming it and the allowed keys. */
export function onlyKeys(w: Where, obj: PlainObject, allowed: readonly string[]): void {
  for (const k of Object.keys(obj)) {
    if (k !== TAG && !allowed.includes(k)) throw w.at(k).error(obj[k], `not be given: convsim reads only ${allowed.join(", ")} here`);
  }
}
