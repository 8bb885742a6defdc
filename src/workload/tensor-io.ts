/**
 * Tensors and their bytes: the {@link Tensor} type, little-endian encoding and decoding of
 * integer elements, file reads and writes whose failures are ConfigErrors naming the path, raw
 * binary tensor files (no header), and the check that a tensor has the shape and element type a
 * layer needs. The `.npy` format (npy.ts) builds on these and re-exports the public ones.
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

const ALL_TYPES: readonly ElementType[] = ["int8", "uint8", "int16", "uint16", "int32"];

const LITTLE_ENDIAN_PLATFORM = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The number of elements of a shape (1 for a scalar). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** A shape as `[d0,d1,...]`, for messages. */
export function formatShape(shape: readonly number[]): string {
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
export function decodeLittleEndian(bytes: Uint8Array, offset: number, dtype: ElementType, count: number): IntArray {
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
export function encodeLittleEndian(data: IntArray): Uint8Array {
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
export function checkTensor(field: string, t: Tensor): void {
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

/** The bytes of a file. @throws ConfigError (field = `path`) if it cannot be read. */
export function readFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ConfigError(path, path, "be a readable file", e instanceof Error ? e.message : String(e));
  }
}

/** Writes a file. @throws ConfigError (field = `path`) if it cannot be written. */
export function writeFile(path: string, bytes: Uint8Array): void {
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    throw new ConfigError(path, path, "be a writable file path", e instanceof Error ? e.message : String(e));
  }
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
