/**
 * Integer element types and their semantics (ONNX ConvInteger; see docs/numerics.md).
 * Inputs and weights are int8, uint8 or int16; outputs, biases and accumulators are int32 with
 * two's-complement wrap-around.
 */
import { ConfigError, requireInteger } from "../core/errors.js";

/** An element type of an input or weight tensor. */
export type OperandType = "int8" | "uint8" | "int16";
/** Every element type a tensor of convsim can hold (outputs and biases are int32). */
export type ElementType = OperandType | "uint16" | "int32";

/**
 * The element types of a convolution's two operands (partial sums and outputs are int32). A
 * missing one takes the default of the API it is passed to (its TSDoc says which).
 */
export interface OperandTypes {
  readonly input?: OperandType;
  readonly weight?: OperandType;
}

/** A typed array able to hold the given element type. */
export type TypedArrayOf<T extends ElementType> = T extends "int8"
  ? Int8Array
  : T extends "uint8"
    ? Uint8Array
    : T extends "int16"
      ? Int16Array
      : T extends "uint16"
        ? Uint16Array
        : Int32Array;

/** Any typed array convsim uses for tensor data. */
export type IntArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array;

/** Static facts about an element type. */
export interface DTypeInfo {
  readonly name: ElementType;
  readonly bits: number;
  readonly bytes: number;
  readonly signed: boolean;
  readonly min: number;
  readonly max: number;
}

const INFO: Readonly<Record<ElementType, DTypeInfo>> = Object.freeze({
  int8: Object.freeze({ name: "int8", bits: 8, bytes: 1, signed: true, min: -128, max: 127 }),
  uint8: Object.freeze({ name: "uint8", bits: 8, bytes: 1, signed: false, min: 0, max: 255 }),
  int16: Object.freeze({ name: "int16", bits: 16, bytes: 2, signed: true, min: -32768, max: 32767 }),
  uint16: Object.freeze({ name: "uint16", bits: 16, bytes: 2, signed: false, min: 0, max: 65535 }),
  int32: Object.freeze({ name: "int32", bits: 32, bytes: 4, signed: true, min: -2147483648, max: 2147483647 }),
});

/** The operand types accepted for inputs and weights. */
export const OPERAND_TYPES: readonly OperandType[] = Object.freeze(["int8", "uint8", "int16"]);

/**
 * The operand type assumed wherever none is given — generated operands, legality, bounds, the
 * memory estimate, the CLI's `--x-type`/`--w-type`: int8, declared once here.
 */
export const DEFAULT_OPERAND_TYPE: OperandType = "int8";

/** Facts about an element type. */
export function dtypeInfo(t: ElementType): DTypeInfo {
  return INFO[t];
}

/** Checks that `t` is an operand type (int8, uint8, int16). */
export function requireOperandType(field: string, t: unknown): OperandType {
  if (t !== "int8" && t !== "uint8" && t !== "int16") {
    throw new ConfigError(field, t, `be one of ${OPERAND_TYPES.join(", ")}`);
  }
  return t;
}

/** Allocates a zeroed typed array for `length` elements of type `t`. */
export function allocate<T extends ElementType>(t: T, length: number): TypedArrayOf<T> {
  switch (t) {
    case "int8":
      return new Int8Array(length) as TypedArrayOf<T>;
    case "uint8":
      return new Uint8Array(length) as TypedArrayOf<T>;
    case "int16":
      return new Int16Array(length) as TypedArrayOf<T>;
    case "uint16":
      return new Uint16Array(length) as TypedArrayOf<T>;
    default:
      return new Int32Array(length) as TypedArrayOf<T>;
  }
}

/** Bytes of each block {@link allocatePayload} carves payloads from. */
const SLAB_BYTES = 64 * 1024;
/** Payloads of at most this many bytes are ordinary arrays (V8 keeps them in its heap: cheap). */
const SLAB_MIN_BYTES = 64;
/** Payloads above this many bytes are ordinary arrays too (a block would hold few). */
const SLAB_MAX_BYTES = 8 * 1024;
/** The block payloads are carved from now, and the first free byte in it. */
const slab = { buffer: new ArrayBuffer(SLAB_BYTES), used: SLAB_BYTES };

/**
 * {@link allocate} for a short-lived payload (a read's words on their way to the next level): a
 * zeroed array of `length` elements, but, from 65 bytes to 8 KiB, a view into a shared 64 KiB
 * block instead of an array with a buffer of its own. Blocks are never reused (each view's bytes
 * are fresh, hence zero), so a view behaves as an own array except for its `buffer` and
 * `byteOffset`; a block is freed when no view into it is left. A V8 typed array of more than 64
 * bytes allocates its own backing store outside the heap, which the scavenger must then track
 * and free: VGG-16 conv3_2 makes 113,000 such GBuf reads. Only for arrays that die soon: a
 * long-kept view keeps its whole block alive.
 */
export function allocatePayload<T extends ElementType>(t: T, length: number): TypedArrayOf<T> {
  const bytes = length * INFO[t].bytes;
  if (bytes <= SLAB_MIN_BYTES || bytes > SLAB_MAX_BYTES) return allocate(t, length);
  let at = (slab.used + 7) & ~7;
  if (at + bytes > SLAB_BYTES) {
    slab.buffer = new ArrayBuffer(SLAB_BYTES);
    at = 0;
  }
  slab.used = at + bytes;
  const b = slab.buffer;
  switch (t) {
    case "int8":
      return new Int8Array(b, at, length) as TypedArrayOf<T>;
    case "uint8":
      return new Uint8Array(b, at, length) as TypedArrayOf<T>;
    case "int16":
      return new Int16Array(b, at, length) as TypedArrayOf<T>;
    case "uint16":
      return new Uint16Array(b, at, length) as TypedArrayOf<T>;
    default:
      return new Int32Array(b, at, length) as TypedArrayOf<T>;
  }
}

/** The element type a typed array holds, or undefined for other arrays. */
export function dtypeOfArray(a: unknown): ElementType | undefined {
  if (a instanceof Int8Array) return "int8";
  if (a instanceof Uint8Array) return "uint8";
  if (a instanceof Int16Array) return "int16";
  if (a instanceof Uint16Array) return "uint16";
  if (a instanceof Int32Array) return "int32";
  return undefined;
}

/** Checks that a zero point is an integer in the range of type `t`. */
export function requireZeroPoint(field: string, value: unknown, t: OperandType): number {
  const info = INFO[t];
  return requireInteger(field, value, info.min, info.max);
}
