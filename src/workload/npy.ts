/**
 * Tensor I/O: NumPy `.npy` files here, and (re-exported from tensor-io.ts) raw little-endian binary.
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
 * Files: the element codec, file access, raw binary files and the tensor check are in
 * tensor-io.ts, the header's Python-literal reader in py-literal.ts; this module re-exports the
 * public ones, so that `npy.js` is the one import for tensor I/O.
 */
import { ConfigError } from "../core/errors.js";
import { dtypeInfo, type ElementType } from "./dtype.js";
import { MAX_TENSOR_ELEMENTS } from "./layer.js";
import { LiteralSyntaxError, parsePyLiteral, pyRepr, PyTuple, type PyValue } from "./py-literal.js";
import { checkTensor, decodeLittleEndian, elementCount, encodeLittleEndian, formatShape, readFile, writeFile, type Tensor } from "./tensor-io.js";

export { expectTensor, readRaw, writeRaw, type Tensor } from "./tensor-io.js";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const MAGIC_TEXT = "\\x93NUMPY";
/** The data of a .npy file starts on a multiple of this (NumPy >= 1.14 writes 64). */
const HEADER_ALIGNMENT = 64;

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
  const { headerText, dataStart } = readPreamble(bytes, source);
  const { dtype, shape } = parseHeader(headerText, source);
  const count = elementCount(shape);
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

/** The preamble of a .npy file checked (magic, version, header length): the header's text and where the data starts. */
function readPreamble(bytes: Uint8Array, source: string): { readonly headerText: string; readonly dataStart: number } {
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
  return { headerText: new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(headerBytes), dataStart };
}

/** The element type and shape a .npy header declares, checked (C order, supported dtype, size limit). */
function parseHeader(headerText: string, source: string): { readonly dtype: ElementType; readonly shape: readonly number[] } {
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
  return { dtype, shape };
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
