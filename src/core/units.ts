/**
 * Quantities with types (STYLE rule 4). `Cycle`, `Words` and `Bytes` are branded numbers: a
 * plain number does not type-check where one of them is expected, and the conversions live here
 * and nowhere else. All three are non-negative integers, exact in a double up to 2^53.
 *
 * Size strings follow IEC and SI: `KiB`/`MiB`/`GiB` are powers of 1024, `kB`/`KB`/`MB`/`GB`
 * powers of 1000, `B` bytes; a bare number is bytes. `W`, `KiW`, `kW` are words.
 */
import { ConfigError } from "./errors.js";

declare const cycleBrand: unique symbol;
declare const wordsBrand: unique symbol;
declare const bytesBrand: unique symbol;

/** A whole number of clock cycles. */
export type Cycle = number & { readonly [cycleBrand]: true };
/** A whole number of words of some tensor's element type. */
export type Words = number & { readonly [wordsBrand]: true };
/** A whole number of bytes. */
export type Bytes = number & { readonly [bytesBrand]: true };

/** Brands a non-negative integer as a cycle count. */
export const cycles = (n: number): Cycle => n as Cycle;
/** Brands a non-negative integer as a word count. */
export const words = (n: number): Words => n as Words;
/** Brands a non-negative integer as a byte count. */
export const bytes = (n: number): Bytes => n as Bytes;

/** Bytes occupied by `n` words of `bytesPerWord` bytes each. */
export function wordsToBytes(n: Words, bytesPerWord: number): Bytes {
  return (n * bytesPerWord) as Bytes;
}

/** Whole words of `bytesPerWord` bytes that fit in `n` bytes (rounded down). */
export function bytesToWords(n: Bytes, bytesPerWord: number): Words {
  return Math.floor(n / bytesPerWord) as Words;
}

const BYTE_UNITS: Record<string, number> = {
  b: 1,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
};

/** A capacity parsed from a string: either bytes or words. */
export type Capacity = { readonly unit: "bytes"; readonly value: Bytes } | { readonly unit: "words"; readonly value: Words };

const WORD_UNITS: Record<string, number> = { w: 1, kiw: 1024, miw: 1024 ** 2, kw: 1000, mw: 1000 ** 2 };

/**
 * Parses a capacity such as `108KiB`, `64kB`, `4096`, `512W` or `16KiW`.
 * @param field the option's name, for the error message.
 * @throws ConfigError when the text is not a non-negative whole quantity with a known unit.
 */
export function parseCapacity(field: string, text: string | number): Capacity {
  if (typeof text === "number") {
    if (!Number.isSafeInteger(text) || text < 0) throw new ConfigError(field, text, "be a non-negative whole number of bytes");
    return { unit: "bytes", value: text as Bytes };
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(text);
  if (!m) throw new ConfigError(field, text, "be a size such as 108KiB, 64kB, 4096 (bytes) or 512W (words)");
  const amount = Number(m[1]);
  const unit = (m[2] ?? "").toLowerCase();
  const byteScale = unit === "" ? 1 : BYTE_UNITS[unit];
  const wordScale = WORD_UNITS[unit];
  const scale = byteScale ?? wordScale;
  if (scale === undefined) {
    throw new ConfigError(field, text, "use a unit among B, KiB, MiB, GiB, kB, MB, GB, W, KiW, kW");
  }
  const value = amount * scale;
  if (!Number.isSafeInteger(value)) throw new ConfigError(field, text, "be a whole number of bytes or words");
  return byteScale !== undefined ? { unit: "bytes", value: value as Bytes } : { unit: "words", value: value as Words };
}

/**
 * `n.toLocaleString("en-US")` (digit groups, e.g. `1,234,567`) for a safe integer, without the
 * locale machinery, whose first use costs a process about 30 ms; any other number goes to it.
 */
export function groupDigits(n: number): string {
  if (!Number.isSafeInteger(n) || Object.is(n, -0)) return n.toLocaleString("en-US");
  const s = String(n < 0 ? -n : n);
  let out = s.slice(0, ((s.length - 1) % 3) + 1);
  for (let i = out.length; i < s.length; i += 3) out += "," + s.slice(i, i + 3);
  return n < 0 ? "-" + out : out;
}

/** Formats a byte count with an IEC unit, e.g. `108 KiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(2)} ${units[i]}`;
}
