/**
 * Tensor I/O: NumPy `.npy` files and raw little-endian binary.
 *
 * The `.npy` format (NumPy Enhancement Proposal 1, `numpy/lib/format.py`): the magic string
 * `\x93NUMPY`, a major and a minor version byte, the header length (2 bytes little-endian in
 * version 1.0, 4 bytes in 2.0 and 3.0), then the header: a Python dict literal
 * `{'descr': '<i2', 'fortran_order': False, 'shape': (3, 4), }` padded with spaces and ended by
 * `\n` so that the data starts on a 64-byte boundary; then the data, densely packed.
 * Versions 1.0 and 2.0 have a latin-1 header, 3.0 a UTF-8 one; otherwise they are identical.
 *
 * Supported element types: `|i1` (int8), `|u1` (uint8), `<i2` (int16), `<u2` (uint16) and `<i4`
 * (int32), little-endian, in C (row-major) order. Big-endian data, Fortran order, booleans,
 * floats, 64-bit integers and structured types are rejected with a {@link ConfigError} that says
 * how to convert the array in NumPy. Every malformed input (wrong magic, truncated header or
 * data, trailing bytes, a bad shape) is a {@link ConfigError} whose field is the file's path.
 *
 * Byte order is handled explicitly: data is decoded as little-endian whatever the platform's
 * order, and multi-byte elements are read from a fresh, aligned copy (a typed array cannot view
 * an unaligned offset).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { ConfigError } from "../core/errors.js";
import { allocate, dtypeInfo, dtypeOfArray, type ElementType, type IntArray } from "./dtype.js";
import { MAX_TENSOR_ELEMENTS } from "./layer.js";

/** An n-dimensional integer tensor in C (row-major) order. */
export interface Tensor {
  /** The element type; it matches the class of {@link Tensor.data}. */
  readonly dtype: ElementType;
  /** The extent of each axis, outermost first; `[]` is a scalar (one element). */
  readonly shape: readonly number[];
  /** The elements in C order; its length is the product of {@link Tensor.shape}. */
  readonly data: IntArray;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const MAGIC_TEXT = "\\x93NUMPY";
/** The data of a .npy file starts on a multiple of this (NumPy >= 1.14 writes 64). */
const HEADER_ALIGNMENT = 64;
const ALL_TYPES: readonly ElementType[] = ["int8", "uint8", "int16", "uint16", "int32"];

const DESCR_OF: Readonly<Record<ElementType, string>> = {
  int8: "|i1",
  uint8: "|u1",
  int16: "<i2",
  uint16: "<u2",
  int32: "<i4",
};

const TYPE_OF_DESCR: ReadonlyMap<string, ElementType> = new Map<string, ElementType>([
  ["|i1", "int8"],
  ["<i1", "int8"],
  [">i1", "int8"], // byte order is meaningless for one byte; NumPy itself writes '|i1'
  ["|u1", "uint8"],
  ["<u1", "uint8"],
  [">u1", "uint8"],
  ["<i2", "int16"],
  ["<u2", "uint16"],
  ["<i4", "int32"],
]);

const SUPPORTED_DESCRS = "'|i1' (int8), '|u1' (uint8), '<i2' (int16), '<u2' (uint16) or '<i4' (int32)";

const LITTLE_ENDIAN_PLATFORM = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/* ------------------------------------------------------------------------------------------ */
/* A small reader for the Python literals that appear in .npy headers.                         */
/* ------------------------------------------------------------------------------------------ */

type PyValue = string | number | boolean | null | PyValue[] | PyTuple | Map<string, PyValue>;

/** A Python tuple (kept apart from a list: a shape must be a tuple). */
class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

class LiteralSyntaxError extends Error {}

/** Python-style text of a header value, for error messages. */
function pyRepr(v: PyValue | undefined): string {
  if (v === undefined) return "<missing>";
  if (v === null) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number") return String(v);
  if (typeof v === "string") return `'${v}'`;
  if (v instanceof PyTuple) return v.items.length === 1 ? `(${pyRepr(v.items[0])},)` : `(${v.items.map(pyRepr).join(", ")})`;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(", ")}]`;
  return `{${[...v].map(([k, x]) => `'${k}': ${pyRepr(x)}`).join(", ")}}`;
}

function parsePyLiteral(text: string): PyValue {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const fail = (what: string): never => {
    throw new LiteralSyntaxError(`${what} at character ${i}`);
  };
  const value = (): PyValue => {
    ws();
    const ch = text[i];
    if (ch === undefined) return fail("unexpected end of header");
    if (ch === "{") return dict();
    if (ch === "(") return sequence(")");
    if (ch === "[") return sequence("]");
    if (ch === "'" || ch === '"') return str();
    if (/[-+0-9]/.test(ch)) return int();
    const word = /^[A-Za-z_]+/.exec(text.slice(i))?.[0];
    if (word === "True" || word === "False" || word === "None") {
      i += word.length;
      return word === "True" ? true : word === "False" ? false : null;
    }
    return fail(`unexpected ${JSON.stringify(ch)}`);
  };
  const str = (): string => {
    const quote = text[i++]!;
    let out = "";
    for (;;) {
      const ch = text[i++];
      if (ch === undefined) return fail("unterminated string");
      if (ch === quote) return out;
      if (ch === "\\") {
        const next = text[i++];
        if (next === undefined) return fail("unterminated string");
        out += next === "n" ? "\n" : next === "t" ? "\t" : next;
      } else {
        out += ch;
      }
    }
  };
  const int = (): number => {
    const m = /^[-+]?[0-9]+L?/.exec(text.slice(i)); // Python 2 wrote longs as `3L`
    if (!m) return fail("malformed number");
    i += m[0].length;
    const digits = m[0].replace(/L$/, "");
    const n = Number(digits);
    if (!Number.isSafeInteger(n)) return fail(`number ${digits} out of range`);
    return n;
  };
  const sequence = (close: string): PyValue => {
    i++;
    const items: PyValue[] = [];
    let sawComma = false;
    for (;;) {
      ws();
      if (text[i] === close) {
        i++;
        break;
      }
      items.push(value());
      ws();
      if (text[i] === ",") {
        i++;
        sawComma = true;
      } else if (text[i] !== close) {
        fail(`expected ',' or '${close}'`);
      }
    }
    // `(3)` is the number 3 in Python, not a tuple.
    if (close === ")" && items.length === 1 && !sawComma) return items[0]!;
    return close === ")" ? new PyTuple(items) : items;
  };
  const dict = (): Map<string, PyValue> => {
    i++;
    const out = new Map<string, PyValue>();
    for (;;) {
      ws();
      if (text[i] === "}") {
        i++;
        return out;
      }
      if (text[i] !== "'" && text[i] !== '"') fail("expected a quoted key");
      const key = str();
      ws();
      if (text[i] !== ":") fail("expected ':'");
      i++;
      if (out.has(key)) fail(`duplicate key '${key}'`);
      out.set(key, value());
      ws();
      if (text[i] === ",") i++;
      else if (text[i] !== "}") fail("expected ',' or '}'");
    }
  };
  const result = value();
  ws();
  if (i !== text.length) fail("unexpected text after the dict");
  return result;
}

/* ------------------------------------------------------------------------------------------ */
/* Shared helpers.                                                                             */
/* ------------------------------------------------------------------------------------------ */

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/** Checks a shape given by a caller (not read from a file). */
function checkShape(field: string, shape: unknown): readonly number[] {
  if (!Array.isArray(shape)) throw new ConfigError(field, shape, "be an array of non-negative integers");
  shape.forEach((d: unknown, i) => {
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      throw new ConfigError(`${field}[${i}]`, d, "be a non-negative integer");
    }
  });
  const n = elementCount(shape as number[]);
  if (n > MAX_TENSOR_ELEMENTS) {
    throw new ConfigError(field, shape, `hold at most ${MAX_TENSOR_ELEMENTS} elements`, `it holds ${n}`);
  }
  return Object.freeze([...(shape as number[])]);
}

function checkElementType(field: string, dtype: unknown): ElementType {
  if (typeof dtype !== "string" || !(ALL_TYPES as readonly string[]).includes(dtype)) {
    throw new ConfigError(field, dtype, `be one of ${ALL_TYPES.join(", ")}`);
  }
  return dtype as ElementType;
}

/** Decodes `count` little-endian elements of `dtype` starting at `bytes[offset]`. */
function decodeLittleEndian(bytes: Uint8Array, offset: number, dtype: ElementType, count: number): IntArray {
  const size = dtypeInfo(dtype).bytes;
  const end = offset + count * size;
  if (size === 1 || LITTLE_ENDIAN_PLATFORM) {
    // Copy into a fresh ArrayBuffer, so the view starts at offset 0 (always aligned) and never
    // aliases the caller's buffer. (Buffer#slice would return a view of Node's shared pool.)
    const copy = new Uint8Array(end - offset);
    copy.set(bytes.subarray(offset, end));
    switch (dtype) {
      case "int8":
        return new Int8Array(copy.buffer, 0, count);
      case "uint8":
        return copy;
      case "int16":
        return new Int16Array(copy.buffer, 0, count);
      case "uint16":
        return new Uint16Array(copy.buffer, 0, count);
      default:
        return new Int32Array(copy.buffer, 0, count);
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * size);
  const out = allocate(dtype, count);
  for (let k = 0; k < count; k++) {
    out[k] = dtype === "int16" ? view.getInt16(k * 2, true) : dtype === "uint16" ? view.getUint16(k * 2, true) : view.getInt32(k * 4, true);
  }
  return out;
}

/** Encodes a typed array as little-endian bytes. */
function encodeLittleEndian(data: IntArray): Uint8Array {
  if (data.BYTES_PER_ELEMENT === 1 || LITTLE_ENDIAN_PLATFORM) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let k = 0; k < data.length; k++) {
    if (data instanceof Int16Array) view.setInt16(k * 2, data[k]!, true);
    else if (data instanceof Uint16Array) view.setUint16(k * 2, data[k]!, true);
    else view.setInt32(k * 4, data[k]!, true);
  }
  return out;
}

/** Checks that a tensor is self-consistent (type of array, length of data) before writing it. */
function checkTensor(field: string, t: Tensor): void {
  if (t === null || typeof t !== "object") throw new ConfigError(field, t, "be a tensor { dtype, shape, data }");
  const dtype = checkElementType(`${field}.dtype`, t.dtype);
  const shape = checkShape(`${field}.shape`, t.shape);
  const actual = dtypeOfArray(t.data);
  if (actual !== dtype) {
    throw new ConfigError(`${field}.data`, actual ?? typeof t.data, `be the typed array of dtype ${dtype}`);
  }
  const n = elementCount(shape);
  if (t.data.length !== n) {
    throw new ConfigError(`${field}.data.length`, t.data.length, `equal the product of shape ${formatShape(shape)} = ${n}`);
  }
}

function readFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ConfigError(path, path, "be a readable file", e instanceof Error ? e.message : String(e));
  }
}

function writeFile(path: string, bytes: Uint8Array): void {
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    throw new ConfigError(path, path, "be a writable file path", e instanceof Error ? e.message : String(e));
  }
}

/* ------------------------------------------------------------------------------------------ */
/* .npy                                                                                        */
/* ------------------------------------------------------------------------------------------ */

function preview(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes.subarray(0, 8)) s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`;
  return s;
}

function descrError(source: string, descr: PyValue): ConfigError {
  if (typeof descr !== "string") {
    return new ConfigError(source, pyRepr(descr), `have a plain integer dtype ${SUPPORTED_DESCRS}`, "structured dtypes are not supported");
  }
  const m = /^([<>|=]?)([a-zA-Z])(\d*)$/.exec(descr);
  if (m && m[1] === ">" && (m[2] === "i" || m[2] === "u") && (m[3] === "2" || m[3] === "4")) {
    return new ConfigError(
      source,
      descr,
      `have a little-endian dtype ${SUPPORTED_DESCRS}`,
      `big-endian data is not supported; convert it in NumPy with a.astype(a.dtype.newbyteorder('<'))`,
    );
  }
  const hint =
    m?.[2] === "b"
      ? "booleans are not supported; save a.astype(np.uint8)"
      : m?.[2] === "f" || m?.[2] === "c"
        ? "floating-point data is not supported; quantize to an integer type first"
        : m && (m[3] === "8" || (m[2] === "u" && m[3] === "4"))
          ? "this integer type is not supported; cast to int32 (outputs) or int8/uint8/int16 (operands)"
          : undefined;
  return new ConfigError(source, descr, `have dtype ${SUPPORTED_DESCRS}`, hint);
}

/**
 * Parses the bytes of a NumPy `.npy` file (format versions 1.0, 2.0 and 3.0).
 * @param bytes the whole file.
 * @param source the file's path, used as the field of every error.
 * @returns the tensor; its `data` is a fresh copy (never a view of `bytes`).
 * @throws ConfigError (field = `source`) on a wrong magic string or version, a truncated or
 *   malformed header, an unsupported or big-endian dtype, Fortran order, a bad shape, or data
 *   shorter or longer than the shape says.
 */
export function parseNpy(bytes: Uint8Array, source = "<buffer>"): Tensor {
  if (bytes.length < MAGIC.length || MAGIC.some((b, k) => bytes[k] !== b)) {
    throw new ConfigError(source, preview(bytes), `start with the .npy magic string "${MAGIC_TEXT}"`, "this is not a NumPy .npy file");
  }
  if (bytes.length < 8) throw new ConfigError(source, `${bytes.length} bytes`, "hold a complete .npy preamble (at least 10 bytes)", "the file is truncated");
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (major < 1 || major > 3 || minor !== 0) {
    throw new ConfigError(source, `version ${major}.${minor}`, "be .npy format version 1.0, 2.0 or 3.0");
  }
  const lengthBytes = major === 1 ? 2 : 4;
  const headerStart = 8 + lengthBytes;
  if (bytes.length < headerStart) {
    throw new ConfigError(source, `${bytes.length} bytes`, `hold a complete .npy ${major}.0 preamble (${headerStart} bytes)`, "the file is truncated");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = headerStart + headerLength;
  if (bytes.length < dataStart) {
    throw new ConfigError(
      source,
      `${bytes.length} bytes`,
      `hold the whole header its preamble announces (${headerLength} bytes, ending at byte ${dataStart})`,
      "the header is truncated",
    );
  }
  const headerBytes = bytes.subarray(headerStart, dataStart);
  const headerText = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(headerBytes);

  let header: PyValue;
  try {
    header = parsePyLiteral(headerText);
  } catch (e) {
    if (!(e instanceof LiteralSyntaxError)) throw e;
    throw new ConfigError(source, headerText.trim(), "have a .npy header that is a Python dict literal", e.message);
  }
  if (!(header instanceof Map)) {
    throw new ConfigError(source, headerText.trim(), "have a .npy header that is a Python dict literal");
  }
  const keys = [...header.keys()].sort();
  if (keys.join(",") !== "descr,fortran_order,shape") {
    throw new ConfigError(source, keys, "have a .npy header with exactly the keys 'descr', 'fortran_order' and 'shape'");
  }

  const descr = header.get("descr")!;
  const dtype = typeof descr === "string" ? TYPE_OF_DESCR.get(descr) : undefined;
  if (dtype === undefined) throw descrError(source, descr);

  const shapeValue = header.get("shape")!;
  if (!(shapeValue instanceof PyTuple) || shapeValue.items.some((d) => typeof d !== "number" || d < 0)) {
    throw new ConfigError(source, pyRepr(shapeValue), "have a shape that is a tuple of non-negative integers");
  }
  const shape = Object.freeze(shapeValue.items as number[]);
  const count = elementCount(shape);
  if (count > MAX_TENSOR_ELEMENTS) {
    throw new ConfigError(source, formatShape(shape), `have a shape of at most ${MAX_TENSOR_ELEMENTS} elements`, `it has ${count}`);
  }

  const fortran = header.get("fortran_order");
  if (typeof fortran !== "boolean") {
    throw new ConfigError(source, pyRepr(fortran), "have fortran_order True or False");
  }
  // With at most one axis longer than 1, Fortran and C order lay the elements out identically.
  if (fortran && shape.filter((d) => d > 1).length > 1) {
    throw new ConfigError(
      source,
      "fortran_order: True",
      "be in C (row-major) order",
      `Fortran-order arrays are not supported; save np.ascontiguousarray(a) instead`,
    );
  }

  const size = dtypeInfo(dtype).bytes;
  const expected = count * size;
  const actual = bytes.length - dataStart;
  if (actual < expected) {
    throw new ConfigError(
      source,
      `${actual} data bytes`,
      `hold ${expected} data bytes for shape ${formatShape(shape)} of ${dtype}`,
      "the data is truncated",
    );
  }
  if (actual > expected) {
    throw new ConfigError(
      source,
      `${actual} data bytes`,
      `hold exactly ${expected} data bytes for shape ${formatShape(shape)} of ${dtype}`,
      `${actual - expected} bytes follow the data`,
    );
  }
  return Object.freeze({ dtype, shape, data: decodeLittleEndian(bytes, dataStart, dtype, count) });
}

/**
 * Encodes a tensor as a NumPy `.npy` file: format 1.0, or 2.0 when the header does not fit
 * 1.0's 16-bit length; the header is padded with spaces so that the data starts on a 64-byte
 * boundary, as NumPy does. The data is written little-endian in C order.
 * @throws ConfigError if the tensor is inconsistent (array class vs dtype, length vs shape).
 */
export function encodeNpy(t: Tensor): Uint8Array {
  checkTensor("tensor", t);
  const dims = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(", ")})`;
  const dict = `{'descr': '${DESCR_OF[t.dtype]}', 'fortran_order': False, 'shape': ${dims}, }`;
  const layout = (lengthBytes: number): { header: string; total: number } => {
    const unpadded = MAGIC.length + 2 + lengthBytes + dict.length + 1; // + the final '\n'
    const pad = (HEADER_ALIGNMENT - (unpadded % HEADER_ALIGNMENT)) % HEADER_ALIGNMENT;
    const header = dict + " ".repeat(pad) + "\n";
    return { header, total: MAGIC.length + 2 + lengthBytes + header.length };
  };
  let major = 1;
  let { header, total } = layout(2);
  if (header.length > 0xffff) {
    major = 2;
    ({ header, total } = layout(4));
  }
  const data = encodeLittleEndian(t.data);
  const out = new Uint8Array(total + data.length);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  const headerStart = major === 1 ? 10 : 12;
  for (let k = 0; k < header.length; k++) out[headerStart + k] = header.charCodeAt(k); // ASCII only
  out.set(data, total);
  return out;
}

/**
 * Reads a NumPy `.npy` file.
 * @throws ConfigError (field = `path`) if the file cannot be read or is not a supported .npy
 *   file; see {@link parseNpy}.
 */
export function readNpy(path: string): Tensor {
  return parseNpy(readFile(path), path);
}

/**
 * Writes a tensor as a NumPy `.npy` file (see {@link encodeNpy}).
 * @throws ConfigError if the tensor is inconsistent or the file cannot be written.
 */
export function writeNpy(path: string, t: Tensor): void {
  writeFile(path, encodeNpy(t));
}

/* ------------------------------------------------------------------------------------------ */
/* Raw little-endian binary                                                                    */
/* ------------------------------------------------------------------------------------------ */

/**
 * Reads a raw binary file of little-endian elements in C order, with no header.
 * @param dtype the element type of the file.
 * @param shape the tensor's shape; the file must hold exactly its product of elements.
 * @throws ConfigError on a bad dtype or shape, an unreadable file, or a file whose size is not
 *   exactly `product(shape) * bytes per element`.
 */
export function readRaw(path: string, dtype: ElementType, shape: readonly number[]): Tensor {
  const t = checkElementType("dtype", dtype);
  const s = checkShape("shape", shape);
  const bytes = readFile(path);
  const count = elementCount(s);
  const size = dtypeInfo(t).bytes;
  if (bytes.length !== count * size) {
    throw new ConfigError(
      path,
      `${bytes.length} bytes`,
      `hold exactly ${count * size} bytes (${count} ${t} elements of ${size} byte${size === 1 ? "" : "s"} for shape ${formatShape(s)})`,
      bytes.length % size === 0 ? `it holds ${bytes.length / size} elements` : `${bytes.length} is not a multiple of ${size}`,
    );
  }
  return Object.freeze({ dtype: t, shape: s, data: decodeLittleEndian(bytes, 0, t, count) });
}

/**
 * Writes a tensor's elements as raw little-endian binary in C order, with no header (the
 * shape and type are not recorded).
 * @throws ConfigError if the tensor is inconsistent or the file cannot be written.
 */
export function writeRaw(path: string, t: Tensor): void {
  checkTensor("tensor", t);
  writeFile(path, encodeLittleEndian(t.data));
}

/* ------------------------------------------------------------------------------------------ */
/* Checking a tensor against what a layer needs                                                */
/* ------------------------------------------------------------------------------------------ */

/**
 * Checks that a tensor has the given shape and one of the given element types.
 * @param field what the tensor is, as the user named it, e.g. `--x` or `x.npy`.
 * @param axisNames optional names of the axes, shown in the message, e.g.
 *   `["batch", "inChannels", "inHeight", "inWidth"]`.
 * @throws ConfigError with field `${field} shape` or `${field} dtype`, e.g.
 *   `--x shape must be [1,3,8,8] (batch, inChannels, inHeight, inWidth); got [1,3,8,9]`.
 */
export function expectTensor(t: Tensor, field: string, shape: readonly number[], dtypes: readonly ElementType[], axisNames?: readonly string[]): void {
  if (!dtypes.includes(t.dtype)) {
    const rule = dtypes.length === 1 ? `be ${dtypes[0]}` : `be one of ${dtypes.join(", ")}`;
    throw new ConfigError(`${field} dtype`, t.dtype, rule);
  }
  const same = t.shape.length === shape.length && t.shape.every((d, k) => d === shape[k]);
  if (!same) {
    const names = axisNames && axisNames.length === shape.length ? ` (${axisNames.join(", ")})` : "";
    throw new ConfigError(`${field} shape`, [...t.shape], `be ${formatShape(shape)}${names}`);
  }
  const count = elementCount(shape);
  if (t.data.length !== count || dtypeOfArray(t.data) !== t.dtype) {
    throw new ConfigError(`${field} data`, `${dtypeOfArray(t.data) ?? typeof t.data} of length ${t.data.length}`, `be a ${t.dtype} array of ${count} elements`);
  }
}
