/**
 * Reading a Timeloop YAML file into plain data, and the error convention of every format reader:
 * a {@link ConfigError} whose field is `FILE: path.inside[2].it`, so a message names the file,
 * the path inside it, the value and the rule (`mapping.yaml: mapping[2].factors must ...`).
 *
 * Timeloop v0.4 architectures tag their nodes (`!Container`, `!Component`, `!Hierarchical`,
 * `!Parallel`, ...). YAML has no schema for those tags; {@link readYaml} keeps a tagged mapping's
 * tag as its {@link TAG} property (`Component`) instead of refusing it, and the readers decide.
 */
import { isAlias, isMap, isNode, isScalar, isSeq, parseDocument, visit, type Alias, type Document, type Node as YamlNode, type YAMLMap } from "yaml";
import { ConfigError } from "../../core/errors.js";

/** The property under which {@link readYaml} keeps a mapping's local tag (`!Component` -> `Component`). */
export const TAG = "!tag";

/** Plain data read from YAML: objects, arrays, strings, numbers, booleans and null. */
export type Plain = null | boolean | number | string | Plain[] | { [key: string]: Plain };

/** A plain object of YAML data. */
export type PlainObject = { [key: string]: Plain };

/**
 * The most values (scalars, sequences, mappings) one file may expand to, aliases expanded: a
 * Timeloop spec holds hundreds; an alias of an alias of ... (a "billion laughs" document) would
 * otherwise expand exponentially before any reader saw it.
 */
export const MAX_YAML_VALUES = 100_000;

/** The state of one {@link toPlain} walk: the aliases' nodes, the values made so far, the aliases being expanded. */
interface Walk {
  readonly aliases: ReadonlyMap<Alias, unknown>;
  readonly file: string;
  values: number;
  /** The nodes an alias is being expanded into, outermost first: an alias of one of them is a cycle. */
  readonly expanding: Set<unknown>;
}

function toPlain(node: unknown, w: Walk, path: string): Plain {
  if (node === null || node === undefined) return null;
  if (++w.values > MAX_YAML_VALUES) {
    throw new Where(w.file, path).error(`more than ${MAX_YAML_VALUES} values`, `be within the first ${MAX_YAML_VALUES} values of the file, aliases expanded (a Timeloop spec holds hundreds; an alias of aliases grows exponentially)`);
  }
  if (isAlias(node)) {
    const target = w.aliases.get(node);
    if (w.expanding.has(target)) throw new Where(w.file, path).error(`*${node.source}`, "not be an alias of a node that contains it (the alias would expand forever)");
    w.expanding.add(target);
    const out = toPlain(target, w, path);
    w.expanding.delete(target);
    return out;
  }
  if (isScalar(node)) return (node.value ?? null) as Plain;
  if (isSeq(node)) {
    w.expanding.add(node);
    const out = node.items.map((item, i) => toPlain(item, w, `${path}[${i}]`));
    w.expanding.delete(node);
    return out;
  }
  if (isMap(node)) return mapToPlain(node, w, path);
  return node as Plain;
}

/**
 * The node each alias refers to: the last node before it with its anchor, in document order (as
 * `Alias.resolve` finds it, which searches the whole document on every call).
 */
function aliasTargets(doc: Document): Map<Alias, unknown> {
  const anchors = new Map<string, unknown>();
  const out = new Map<Alias, unknown>();
  visit(doc, (_, node) => {
    if (isAlias(node)) out.set(node, anchors.get(node.source));
    else if (isNode(node) && node.anchor) anchors.set(node.anchor, node);
  });
  return out;
}

function mapToPlain(node: YAMLMap, w: Walk, path: string): PlainObject {
  const out: PlainObject = {};
  const given = new Set<string>();
  w.expanding.add(node);
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    const at = path === "" ? key : `${path}.${key}`;
    // Checked here, in one pass: the YAML parser's own check (uniqueKeys) compares every pair of keys.
    if (given.has(key) && key !== "<<") throw new Where(w.file, at).error(key, "be given once in its mapping (YAML keys are unique)");
    given.add(key);
    const value = toPlain(pair.value, w, at);
    // A merge key (`<<: *defaults`) brings the aliased mapping's entries, without overriding.
    if (key === "<<" && isObject(value)) {
      for (const [k, v] of Object.entries(value)) if (!(k in out)) out[k] = v;
    } else {
      out[key] = value;
    }
  }
  w.expanding.delete(node);
  const tag = (node as YamlNode).tag;
  if (tag !== undefined && tag.startsWith("!") && !tag.startsWith("!!")) out[TAG] = tag.slice(1);
  return out;
}

/**
 * Parses YAML text into plain data (anchors and aliases resolved, local tags kept as {@link TAG}).
 * @param file the file's name, for error messages.
 * @throws ConfigError naming the file and the line when the text is not valid YAML, or the path
 * of a key given twice in a mapping, of an alias that contains itself, or of the value that expands
 * the document beyond {@link MAX_YAML_VALUES} values.
 */
export function readYaml(text: string, file: string): Plain {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: false });
  const err = doc.errors[0];
  if (err) throw new ConfigError(file, text.length > 60 ? text.slice(0, 57) + "..." : text, "be valid YAML", err.message.split("\n")[0]);
  return toPlain(doc.contents, { aliases: aliasTargets(doc), file, values: 0, expanding: new Set() }, "");
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

/** The value as a positive integer (a number, or a string of digits) of at most `max`, or a ConfigError at `w`. */
export function positiveIntAt(w: Where, v: unknown, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof v === "string" && /^\s*\d+\s*$/.test(v) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1 || n > max) throw w.error(v, max === Number.MAX_SAFE_INTEGER ? "be a positive integer" : `be an integer in [1, ${max}]`);
  return n;
}

/**
 * Runs `f`, which validates values convsim derives from an input (a layer, an ArchSpec). A
 * ConfigError it throws about a field of `sources` (convsim's name, e.g. `arch.array.rows`) is
 * thrown again at the place in the input that gave the value, with the same value and rule and
 * convsim's field in the detail, so that every import error names the file and the path inside it.
 * A ConfigError about another field is thrown again at `otherwise`, when given.
 */
export function atSource<T>(sources: ReadonlyMap<string, Where>, f: () => T, otherwise?: Where): T {
  try {
    return f();
  } catch (e) {
    const w = e instanceof ConfigError ? (sources.get(e.field) ?? otherwise) : undefined;
    if (w !== undefined) throw w.error((e as ConfigError).value, (e as ConfigError).rule, `as convsim's ${(e as ConfigError).field}`);
    throw e;
  }
}

/** Refuses keys of `obj` outside `allowed` (the first one found), naming it and the allowed keys. */
export function onlyKeys(w: Where, obj: PlainObject, allowed: readonly string[]): void {
  for (const k of Object.keys(obj)) {
    if (k !== TAG && !allowed.includes(k)) throw w.at(k).error(obj[k], `not be given: convsim reads only ${allowed.join(", ")} here`);
  }
}
