/**
 * A small reader for the Python literals that appear in NumPy `.npy` headers (npy.ts): dicts
 * with quoted keys, tuples (kept apart from lists: a shape must be a tuple), lists, quoted
 * strings with backslash escapes, integers (Python 2's `3L` too), `True`, `False` and `None`.
 * `(3)` is the number 3, as in Python; `(3,)` a one-element tuple. Anything else, or text after
 * the value, is a {@link LiteralSyntaxError} naming the character position, which the caller
 * turns into a ConfigError for its file.
 */

/** A Python value of a `.npy` header. */
export type PyValue = string | number | boolean | null | PyValue[] | PyTuple | Map<string, PyValue>;

/** A Python tuple (kept apart from a list: a shape must be a tuple). */
export class PyTuple {
  constructor(
    /** The tuple's items, in order. */
    readonly items: PyValue[],
  ) {}
}

/** Malformed literal text: what was expected, and at which character. */
export class LiteralSyntaxError extends Error {}

/** Python-style text of a header value, for error messages. */
export function pyRepr(v: PyValue | undefined): string {
  if (v === undefined) return "<missing>";
  if (v === null) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number") return String(v);
  if (typeof v === "string") return `'${v}'`;
  if (v instanceof PyTuple) return v.items.length === 1 ? `(${pyRepr(v.items[0])},)` : `(${v.items.map(pyRepr).join(", ")})`;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(", ")}]`;
  return `{${[...v].map(([k, x]) => `'${k}': ${pyRepr(x)}`).join(", ")}}`;
}

/**
 * Reads one Python literal that makes up the whole of `text` (surrounding white space allowed).
 * @throws LiteralSyntaxError on malformed text or text after the value.
 */
export function parsePyLiteral(text: string): PyValue {
  return new PyLiteralReader(text).whole();
}

/** A recursive-descent reader over one text; `i` is the position of the next character. */
class PyLiteralReader {
  private i = 0;

  constructor(private readonly text: string) {}

  /** The one value of the text, with nothing after it. */
  whole(): PyValue {
    const result = this.value();
    this.ws();
    if (this.i !== this.text.length) this.fail("unexpected text after the dict");
    return result;
  }

  private ws(): void {
    while (this.i < this.text.length && /\s/.test(this.text[this.i]!)) this.i++;
  }

  private fail(what: string): never {
    throw new LiteralSyntaxError(`${what} at character ${this.i}`);
  }

  private value(): PyValue {
    this.ws();
    const ch = this.text[this.i];
    if (ch === undefined) return this.fail("unexpected end of header");
    if (ch === "{") return this.dict();
    if (ch === "(") return this.sequence(")");
    if (ch === "[") return this.sequence("]");
    if (ch === "'" || ch === '"') return this.str();
    if (/[-+0-9]/.test(ch)) return this.int();
    const word = /^[A-Za-z_]+/.exec(this.text.slice(this.i))?.[0];
    if (word === "True" || word === "False" || word === "None") {
      this.i += word.length;
      return word === "True" ? true : word === "False" ? false : null;
    }
    return this.fail(`unexpected ${JSON.stringify(ch)}`);
  }

  private str(): string {
    const quote = this.text[this.i++]!;
    let out = "";
    for (;;) {
      const ch = this.text[this.i++];
      if (ch === undefined) return this.fail("unterminated string");
      if (ch === quote) return out;
      if (ch === "\\") {
        const next = this.text[this.i++];
        if (next === undefined) return this.fail("unterminated string");
        out += next === "n" ? "\n" : next === "t" ? "\t" : next;
      } else {
        out += ch;
      }
    }
  }

  private int(): number {
    const m = /^[-+]?[0-9]+L?/.exec(this.text.slice(this.i)); // Python 2 wrote longs as `3L`
    if (!m) return this.fail("malformed number");
    this.i += m[0].length;
    const digits = m[0].replace(/L$/, "");
    const n = Number(digits);
    if (!Number.isSafeInteger(n)) return this.fail(`number ${digits} out of range`);
    return n;
  }

  private sequence(close: string): PyValue {
    this.i++;
    const items: PyValue[] = [];
    let sawComma = false;
    for (;;) {
      this.ws();
      if (this.text[this.i] === close) {
        this.i++;
        break;
      }
      items.push(this.value());
      this.ws();
      if (this.text[this.i] === ",") {
        this.i++;
        sawComma = true;
      } else if (this.text[this.i] !== close) {
        this.fail(`expected ',' or '${close}'`);
      }
    }
    // `(3)` is the number 3 in Python, not a tuple.
    if (close === ")" && items.length === 1 && !sawComma) return items[0]!;
    return close === ")" ? new PyTuple(items) : items;
  }

  private dict(): Map<string, PyValue> {
    this.i++;
    const out = new Map<string, PyValue>();
    for (;;) {
      this.ws();
      if (this.text[this.i] === "}") {
        this.i++;
        return out;
      }
      if (this.text[this.i] !== "'" && this.text[this.i] !== '"') this.fail("expected a quoted key");
      const key = this.str();
      this.ws();
      if (this.text[this.i] !== ":") this.fail("expected ':'");
      this.i++;
      if (out.has(key)) this.fail(`duplicate key '${key}'`);
      out.set(key, this.value());
      this.ws();
      if (this.text[this.i] === ",") this.i++;
      else if (this.text[this.i] !== "}") this.fail("expected ',' or '}'");
    }
  }
}
