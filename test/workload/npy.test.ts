/**
 * Tensor I/O: .npy (versions 1.0, 2.0, 3.0) and raw little-endian files. Fixtures are built
 * byte by byte in this file, independently of encodeNpy, following the NumPy format spec
 * (numpy/lib/format.py); no binary blobs are committed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import type { ElementType, IntArray } from "../../src/workload/dtype.js";
import { MAX_TENSOR_ELEMENTS } from "../../src/workload/layer.js";
import { encodeNpy, expectTensor, parseNpy, readNpy, readRaw, writeNpy, writeRaw, type Tensor } from "../../src/workload/npy.js";

const dir = mkdtempSync(join(tmpdir(), "convsim-npy-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MAGIC = [0x93, ..."NUMPY"].map((c) => (typeof c === "number" ? c : c.charCodeAt(0)));

/** Little-endian bytes of integers of the given byte width. */
function le(width: 1 | 2 | 4, values: readonly number[]): number[] {
  const out: number[] = [];
  for (const v of values) {
    const u = v < 0 ? v + 2 ** (8 * width) : v;
    for (let k = 0; k < width; k++) out.push(Math.floor(u / 2 ** (8 * k)) % 256);
  }
  return out;
}

interface Fixture {
  /** Header text before padding, e.g. `{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }`. */
  header: string;
  /** Data bytes. */
  data?: readonly number[];
  major?: number;
  minor?: number;
  /** Pad so that the data starts on a multiple of this (0: no padding beyond the final '\n'). */
  align?: number;
  /** Overrides the header length written in the preamble. */
  headerLength?: number;
}

/** Builds a .npy file by hand from its parts (independent of encodeNpy). */
function npy(f: Fixture): Uint8Array {
  const major = f.major ?? 1;
  const lengthBytes = major === 1 ? 2 : 4;
  const align = f.align ?? 64;
  let header = f.header;
  if (align > 0) {
    const unpadded = 8 + lengthBytes + header.length + 1;
    header += " ".repeat((align - (unpadded % align)) % align);
  }
  header += "\n";
  const headerBytes = major === 3 ? [...new TextEncoder().encode(header)] : [...header].map((c) => c.charCodeAt(0));
  return Uint8Array.from([...MAGIC, major, f.minor ?? 0, ...le(lengthBytes as 2 | 4, [f.headerLength ?? headerBytes.length]), ...headerBytes, ...(f.data ?? [])]);
}

const dict = (descr: string, shape: string, fortran = "False"): string => `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;

/** Asserts that `fn` throws a ConfigError with the given field, and a message matching `message`. */
function expectConfigError(fn: () => unknown, field: string, message: RegExp): ConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  const e = caught as ConfigError;
  expect(e.field).toBe(field);
  expect(e.message.startsWith(`${field} must `)).toBe(true);
  expect(e.message).toMatch(message);
  return e;
}

const SAMPLES: Record<ElementType, { descr: string; width: 1 | 2 | 4; values: number[]; make: (v: number[]) => IntArray }> = {
  int8: { descr: "|i1", width: 1, values: [-128, -1, 0, 1, 100, 127], make: (v) => Int8Array.from(v) },
  uint8: { descr: "|u1", width: 1, values: [0, 1, 127, 128, 200, 255], make: (v) => Uint8Array.from(v) },
  int16: { descr: "<i2", width: 2, values: [-32768, -256, -1, 0, 258, 32767], make: (v) => Int16Array.from(v) },
  uint16: { descr: "<u2", width: 2, values: [0, 1, 255, 256, 32768, 65535], make: (v) => Uint16Array.from(v) },
  int32: { descr: "<i4", width: 4, values: [-2147483648, -65536, -1, 0, 16909060, 2147483647], make: (v) => Int32Array.from(v) },
};
const TYPES = Object.keys(SAMPLES) as ElementType[];

describe("parseNpy on hand-built files", () => {
  it.each(TYPES)("reads %s with shape (2, 3), values at both ends of the range", (t) => {
    const s = SAMPLES[t];
    const parsed = parseNpy(npy({ header: dict(s.descr, "(2, 3)"), data: le(s.width, s.values) }), "a.npy");
    expect(parsed.dtype).toBe(t);
    expect(parsed.shape).toEqual([2, 3]);
    expect(parsed.data).toEqual(s.make(s.values));
  });

  it("reads the exact bytes NumPy writes for np.arange(-5, 7, dtype='<i2').reshape(3, 4)", () => {
    // np.save output: 10-byte preamble, header length 0x76 = 118, data at byte 128.
    const values = Array.from({ length: 12 }, (_, i) => i - 5);
    const bytes = npy({ header: dict("<i2", "(3, 4)"), data: le(2, values) });
    expect(bytes.length).toBe(128 + 24);
    expect([bytes[8], bytes[9]]).toEqual([0x76, 0x00]);
    const t = parseNpy(bytes);
    expect(t).toEqual({ dtype: "int16", shape: [3, 4], data: Int16Array.from(values) });
  });

  it("reads scalars, 1-D and empty shapes: (), (3,), (2, 0)", () => {
    expect(parseNpy(npy({ header: dict("<i4", "()"), data: le(4, [-7]) }))).toEqual({ dtype: "int32", shape: [], data: Int32Array.of(-7) });
    expect(parseNpy(npy({ header: dict("|u1", "(3,)"), data: [1, 2, 3] })).shape).toEqual([3]);
    const empty = parseNpy(npy({ header: dict("<i2", "(2, 0)") }));
    expect(empty.shape).toEqual([2, 0]);
    expect(empty.data).toEqual(new Int16Array(0));
  });

  it("reads version 2.0 and 3.0 headers (4-byte header length; 3.0 is UTF-8)", () => {
    const v2 = npy({ major: 2, header: dict("<u2", "(2,)"), data: le(2, [1, 65535]) });
    expect((new DataView(v2.buffer).getUint32(8, true) + 12) % 64).toBe(0);
    expect(parseNpy(v2)).toEqual({ dtype: "uint16", shape: [2], data: Uint16Array.of(1, 65535) });
    const v3 = npy({ major: 3, header: dict("<i4", "(1, 2)"), data: le(4, [5, -5]) });
    expect(parseNpy(v3)).toEqual({ dtype: "int32", shape: [1, 2], data: Int32Array.of(5, -5) });
  });

  it("accepts header variants NumPy's reader accepts: 16-byte alignment, key order, double quotes, Python 2 longs, no trailing comma", () => {
    const data = le(2, [1, 2, 3, 4, 5, 6]);
    const variants = [
      npy({ header: dict("<i2", "(2, 3)"), data, align: 16 }),
      npy({ header: "{'shape': (2, 3), 'fortran_order': False, 'descr': '<i2'}", data }),
      npy({ header: '{"descr": "<i2", "fortran_order": False, "shape": (2L, 3L)}', data }),
      npy({ header: "{'descr':'<i2','fortran_order':False,'shape':(2,3,)}", data, align: 0 }),
    ];
    for (const v of variants) expect(parseNpy(v)).toEqual({ dtype: "int16", shape: [2, 3], data: Int16Array.of(1, 2, 3, 4, 5, 6) });
  });

  it("reads multi-byte data at an unaligned offset, and from a view at an odd byteOffset", () => {
    // No padding: the data starts right after the '\n', at an offset that is not a multiple of 4.
    const bytes = npy({ header: dict("<i4", "(3,)") + " ", data: le(4, [-2, 70000, 2147483647]), align: 0 });
    const offset = bytes.length - 12;
    expect(offset % 4).not.toBe(0);
    expect(parseNpy(bytes).data).toEqual(Int32Array.of(-2, 70000, 2147483647));
    const backing = new Uint8Array(bytes.length + 3);
    backing.set(bytes, 3);
    expect(parseNpy(backing.subarray(3)).data).toEqual(Int32Array.of(-2, 70000, 2147483647));
  });

  it("returns a copy: changing the input bytes afterwards does not change the tensor", () => {
    for (const t of ["|u1", "<i2"]) {
      const bytes = npy({ header: dict(t, "(2,)"), data: t === "|u1" ? [1, 2] : le(2, [1, 2]) });
      const parsed = parseNpy(bytes);
      bytes.fill(0xff, bytes.length - 2);
      expect(Array.from(parsed.data)).toEqual([1, 2]);
    }
  });

  it("accepts fortran_order True when at most one axis is longer than 1 (the layouts coincide)", () => {
    const t = parseNpy(npy({ header: dict("|i1", "(1, 4, 1)", "True"), data: [1, 2, 3, 4] }));
    expect(t.shape).toEqual([1, 4, 1]);
    expect(t.data).toEqual(Int8Array.of(1, 2, 3, 4));
  });

  it("accepts any byte-order mark on one-byte types", () => {
    expect(parseNpy(npy({ header: dict(">i1", "(1,)"), data: [0xff] })).data).toEqual(Int8Array.of(-1));
    expect(parseNpy(npy({ header: dict("<u1", "(1,)"), data: [0xff] })).data).toEqual(Uint8Array.of(255));
  });
});

describe("parseNpy errors name the source, the value and the rule", () => {
  const good = (): Uint8Array => npy({ header: dict("<i2", "(2, 3)"), data: le(2, [1, 2, 3, 4, 5, 6]) });

  it("wrong magic string", () => {
    const e = expectConfigError(() => parseNpy(Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0, 0, 0, 0, 0]), "x.npy"), "x.npy", /magic string "\\x93NUMPY".*not a NumPy \.npy file/);
    expect(e.value).toBe("PK\\x03\\x04\\x00\\x00\\x00\\x00");
    expectConfigError(() => parseNpy(new Uint8Array(0), "empty.npy"), "empty.npy", /magic/);
  });

  it("unsupported format version", () => {
    const b = good();
    b[6] = 4;
    expectConfigError(() => parseNpy(b, "v.npy"), "v.npy", /version 1\.0, 2\.0 or 3\.0; got "version 4\.0"/);
    const c = good();
    c[7] = 1;
    expectConfigError(() => parseNpy(c, "v.npy"), "v.npy", /got "version 1\.1"/);
  });

  it("truncated preamble and truncated header", () => {
    const b = good();
    expectConfigError(() => parseNpy(b.subarray(0, 7), "t.npy"), "t.npy", /preamble.*truncated/);
    expectConfigError(() => parseNpy(b.subarray(0, 9), "t.npy"), "t.npy", /preamble \(10 bytes\).*truncated/);
    const v2 = npy({ major: 2, header: dict("<i2", "(1,)"), data: [0, 0] });
    expectConfigError(() => parseNpy(v2.subarray(0, 11), "t.npy"), "t.npy", /2\.0 preamble \(12 bytes\)/);
    expectConfigError(() => parseNpy(b.subarray(0, 60), "t.npy"), "t.npy", /whole header.*118 bytes.*header is truncated/);
    expectConfigError(() => parseNpy(npy({ header: dict("<i2", "(1,)"), headerLength: 0xffff }), "t.npy"), "t.npy", /header is truncated/);
  });

  it("truncated data and too much data", () => {
    const b = good();
    expectConfigError(() => parseNpy(b.subarray(0, b.length - 1), "d.npy"), "d.npy", /hold 12 data bytes for shape \[2,3\] of int16; got "11 data bytes" \(the data is truncated\)/);
    expectConfigError(() => parseNpy(b.subarray(0, 128), "d.npy"), "d.npy", /got "0 data bytes"/);
    const extra = Uint8Array.from([...b, 0, 0]);
    expectConfigError(() => parseNpy(extra, "d.npy"), "d.npy", /exactly 12 data bytes.*got "14 data bytes" \(2 bytes follow the data\)/);
  });

  it("big-endian '>i2' and '>i4' get a clear error", () => {
    for (const [descr, width] of [[">i2", 2], [">i4", 4]] as const) {
      const e = expectConfigError(() => parseNpy(npy({ header: dict(descr, "(1,)"), data: new Array(width).fill(0) }), "be.npy"), "be.npy", /little-endian.*big-endian data is not supported/);
      expect(e.value).toBe(descr);
    }
  });

  it("unsupported dtypes: bool, floats, 64-bit and uint32, structured", () => {
    expectConfigError(() => parseNpy(npy({ header: dict("|b1", "(1,)"), data: [1] }), "b.npy"), "b.npy", /'\|i1' \(int8\).*got "\|b1" \(booleans are not supported/);
    expectConfigError(() => parseNpy(npy({ header: dict("<f4", "(1,)"), data: [0, 0, 0, 0] }), "f.npy"), "f.npy", /got "<f4" \(floating-point/);
    expectConfigError(() => parseNpy(npy({ header: dict("<i8", "(1,)"), data: new Array(8).fill(0) }), "l.npy"), "l.npy", /got "<i8" \(this integer type is not supported/);
    expectConfigError(() => parseNpy(npy({ header: dict("<u4", "(1,)"), data: [0, 0, 0, 0] }), "u.npy"), "u.npy", /got "<u4"/);
    expectConfigError(() => parseNpy(npy({ header: dict("<U3", "(1,)") }), "s.npy"), "s.npy", /have dtype .*got "<U3"$/);
    const structured = "{'descr': [('a', '<i4'), ('b', '|u1')], 'fortran_order': False, 'shape': (1,), }";
    expectConfigError(() => parseNpy(npy({ header: structured, data: [0, 0, 0, 0, 0] }), "r.npy"), "r.npy", /got "\[\('a', '<i4'\), \('b', '\|u1'\)\]" \(structured dtypes/);
  });

  it("Fortran order gets a clear error", () => {
    const e = expectConfigError(
      () => parseNpy(npy({ header: dict("<i2", "(2, 3)", "True"), data: le(2, [1, 2, 3, 4, 5, 6]) }), "f.npy"),
      "f.npy",
      /be in C \(row-major\) order; got "fortran_order: True" \(Fortran-order arrays are not supported; save np\.ascontiguousarray\(a\)/,
    );
    expect(e.rule).toBe("be in C (row-major) order");
  });

  it("malformed headers", () => {
    const bad = (header: string, message: RegExp): void => {
      expectConfigError(() => parseNpy(npy({ header }), "h.npy"), "h.npy", message);
    };
    bad("['descr', '<i2']", /header that is a Python dict literal/);
    bad("{'descr': '<i2', 'fortran_order': False", /Python dict literal.*expected ',' or '}'/);
    bad("{'descr': ", /Python dict literal.*unexpected end of header/);
    bad("{'descr': '<i2, 'fortran_order': False, 'shape': (1,)}", /Python dict literal/);
    bad("{'descr': '<i2', 'fortran_order': False, 'shape': (1,)} x", /unexpected text after the dict/);
    bad("{'descr': '<i2', 'descr': '<i2', 'fortran_order': False, 'shape': (1,)}", /duplicate key 'descr'/);
    bad("{'descr': '<i2', 'shape': (1,)}", /exactly the keys 'descr', 'fortran_order' and 'shape'; got \["descr","shape"\]/);
    bad("{'descr': '<i2', 'fortran_order': False, 'shape': (1,), 'extra': 1}", /exactly the keys/);
    bad(dict("<i2", "[2, 3]"), /shape that is a tuple of non-negative integers; got "\[2, 3\]"/);
    bad(dict("<i2", "(2, -3)"), /tuple of non-negative integers; got "\(2, -3\)"/);
    bad(dict("<i2", "('2',)"), /tuple of non-negative integers; got "\('2',\)"/);
    bad(dict("<i2", "3"), /tuple of non-negative integers; got "3"/);
    bad(dict("<i2", "(1,)", "1"), /fortran_order True or False; got "1"/);
    bad(dict("<i2", "(99999999999999999999,)"), /out of range/);
    bad(dict("<i2", `(${MAX_TENSOR_ELEMENTS}, 2)`), /at most 2147483647 elements; got "\[2147483647,2\]"/);
  });

  it("readNpy: a missing file is a ConfigError naming the path", () => {
    const path = join(dir, "missing.npy");
    expectConfigError(() => readNpy(path), path, /be a readable file.*ENOENT/);
  });
});

describe("encodeNpy, writeNpy and readNpy", () => {
  const shapes: number[][] = [[], [0], [6], [2, 3], [1, 2, 3, 1]];

  it.each(TYPES)("round-trips %s through bytes and through a file, for every shape", (t) => {
    const s = SAMPLES[t];
    for (const shape of shapes) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = s.make(Array.from({ length: n }, (_, i) => s.values[i % s.values.length]!));
      const tensor: Tensor = { dtype: t, shape, data };
      const bytes = encodeNpy(tensor);
      expect(parseNpy(bytes)).toEqual(tensor);
      const path = join(dir, `${t}-${shape.join("x")}.npy`);
      writeNpy(path, tensor);
      expect(new Uint8Array(readFileSync(path))).toEqual(bytes);
      expect(readNpy(path)).toEqual(tensor);
    }
  });

  it("writes what NumPy writes: version 1.0, header padded with spaces to a 64-byte boundary", () => {
    const values = Array.from({ length: 12 }, (_, i) => i - 5);
    const bytes = encodeNpy({ dtype: "int16", shape: [3, 4], data: Int16Array.from(values) });
    expect(bytes).toEqual(npy({ header: dict("<i2", "(3, 4)"), data: le(2, values) }));
    // One-element shapes get Python's trailing comma, scalars an empty tuple.
    expect(encodeNpy({ dtype: "uint8", shape: [5], data: new Uint8Array(5) })).toEqual(npy({ header: dict("|u1", "(5,)"), data: [0, 0, 0, 0, 0] }));
    expect(encodeNpy({ dtype: "int32", shape: [], data: Int32Array.of(-1) })).toEqual(npy({ header: dict("<i4", "()"), data: le(4, [-1]) }));
  });

  it("writes data little-endian, byte by byte", () => {
    const bytes = encodeNpy({ dtype: "int32", shape: [2], data: Int32Array.of(0x01020304, -2) });
    expect(Array.from(bytes.subarray(bytes.length - 8))).toEqual([4, 3, 2, 1, 0xfe, 0xff, 0xff, 0xff]);
  });

  it("switches to version 2.0 when the header exceeds 65535 bytes, still 64-byte aligned", () => {
    const shape = new Array<number>(30000).fill(1);
    const bytes = encodeNpy({ dtype: "int16", shape, data: Int16Array.of(-300) });
    expect([bytes[6], bytes[7]]).toEqual([2, 0]);
    const headerLength = new DataView(bytes.buffer).getUint32(8, true);
    expect(headerLength).toBeGreaterThan(0xffff);
    expect((12 + headerLength) % 64).toBe(0);
    expect(bytes[12 + headerLength - 1]).toBe(0x0a);
    expect(bytes.length).toBe(12 + headerLength + 2);
    expect(parseNpy(bytes)).toEqual({ dtype: "int16", shape, data: Int16Array.of(-300) });
    // Just below the limit stays version 1.0.
    expect(encodeNpy({ dtype: "uint8", shape: new Array<number>(1000).fill(1), data: Uint8Array.of(1) })[6]).toBe(1);
  });

  it("rejects an inconsistent tensor", () => {
    expectConfigError(() => encodeNpy({ dtype: "int16", shape: [2], data: Int8Array.of(1, 2) }), "tensor.data", /typed array of dtype int16; got "int8"/);
    expectConfigError(() => encodeNpy({ dtype: "int8", shape: [3], data: Int8Array.of(1, 2) }), "tensor.data.length", /product of shape \[3\] = 3; got 2/);
    expectConfigError(() => encodeNpy({ dtype: "float32" as ElementType, shape: [1], data: Int8Array.of(1) }), "tensor.dtype", /one of int8, uint8, int16, uint16, int32/);
    expectConfigError(() => encodeNpy({ dtype: "int8", shape: [1.5], data: Int8Array.of(1) }), "tensor.shape[0]", /non-negative integer; got 1\.5/);
  });

  it("writeNpy: an unwritable path is a ConfigError naming it", () => {
    const path = join(dir, "no-such-dir", "y.npy");
    expectConfigError(() => writeNpy(path, { dtype: "int8", shape: [1], data: Int8Array.of(1) }), path, /writable file path/);
  });
});

describe("readRaw and writeRaw", () => {
  it.each(TYPES)("round-trips %s, little-endian with no header", (t) => {
    const s = SAMPLES[t];
    const tensor: Tensor = { dtype: t, shape: [2, 3], data: s.make(s.values) };
    const path = join(dir, `raw-${t}.bin`);
    writeRaw(path, tensor);
    expect(Array.from(readFileSync(path))).toEqual(le(s.width, s.values));
    expect(readRaw(path, t, [2, 3])).toEqual(tensor);
    expect(readRaw(path, t, [6]).shape).toEqual([6]);
  });

  it("reads hand-written little-endian bytes", () => {
    const path = join(dir, "hand.bin");
    writeFileSync(path, Uint8Array.from([0x01, 0x00, 0xfe, 0xff, 0x00, 0x80]));
    expect(readRaw(path, "int16", [3]).data).toEqual(Int16Array.of(1, -2, -32768));
    expect(readRaw(path, "uint16", [1, 3]).data).toEqual(Uint16Array.of(1, 65534, 32768));
    expect(readRaw(path, "uint8", [6]).data).toEqual(Uint8Array.of(1, 0, 254, 255, 0, 128));
  });

  it("a size mismatch names the file, its size and the expected size", () => {
    const path = join(dir, "six.bin");
    writeFileSync(path, new Uint8Array(6));
    expectConfigError(() => readRaw(path, "int16", [4]), path, /hold exactly 8 bytes \(4 int16 elements of 2 bytes for shape \[4\]\); got "6 bytes" \(it holds 3 elements\)/);
    expectConfigError(() => readRaw(path, "int16", [2]), path, /hold exactly 4 bytes.*got "6 bytes"/);
    expectConfigError(() => readRaw(path, "int32", [1, 1]), path, /hold exactly 4 bytes.*\(6 is not a multiple of 4\)/);
  });

  it("bad arguments and missing files", () => {
    const path = join(dir, "six.bin");
    expectConfigError(() => readRaw(path, "float32" as ElementType, [6]), "dtype", /be one of int8, uint8, int16, uint16, int32; got "float32"/);
    expectConfigError(() => readRaw(path, "int8", [2, -3]), "shape[1]", /non-negative integer; got -3/);
    expectConfigError(() => readRaw(path, "int8", [65536, 65536]), "shape", /at most 2147483647 elements/);
    expectConfigError(() => readRaw(join(dir, "nope.bin"), "int8", [1]), join(dir, "nope.bin"), /readable file/);
    expectConfigError(() => writeRaw(join(dir, "x.bin"), { dtype: "int32", shape: [2], data: Int32Array.of(1) }), "tensor.data.length", /= 2; got 1/);
  });
});

describe("expectTensor", () => {
  const x: Tensor = { dtype: "int8", shape: [1, 3, 8, 9], data: new Int8Array(216) };
  const axes = ["batch", "inChannels", "inHeight", "inWidth"];

  it("accepts a tensor of the right shape and one of the allowed types", () => {
    expect(() => expectTensor({ ...x, shape: [1, 3, 8, 9] }, "--x", [1, 3, 8, 9], ["int8", "uint8", "int16"], axes)).not.toThrow();
  });

  it("a shape mismatch names the field, the expected shape with its axes, and the actual shape", () => {
    const e = expectConfigError(() => expectTensor(x, "--x", [1, 3, 8, 8], ["int8"], axes), "--x shape", /^/);
    expect(e.message).toBe("--x shape must be [1,3,8,8] (batch, inChannels, inHeight, inWidth); got [1,3,8,9]");
    expectConfigError(() => expectTensor(x, "--x", [3, 8, 9], ["int8"]), "--x shape", /^--x shape must be \[3,8,9\]; got \[1,3,8,9\]$/);
  });

  it("a type mismatch names the field and the allowed types", () => {
    const e = expectConfigError(() => expectTensor(x, "--y", [1, 3, 8, 9], ["int32"]), "--y dtype", /^/);
    expect(e.message).toBe('--y dtype must be int32; got "int8"');
    expectConfigError(() => expectTensor(x, "--w", [1, 3, 8, 9], ["uint8", "int16"]), "--w dtype", /must be one of uint8, int16; got "int8"$/);
  });

  it("an inconsistent tensor (data length or array class vs dtype) is rejected", () => {
    expectConfigError(() => expectTensor({ ...x, data: new Int8Array(5) }, "--x", [1, 3, 8, 9], ["int8"]), "--x data", /int8 array of 216 elements; got "int8 of length 5"/);
    expectConfigError(() => expectTensor({ ...x, data: new Uint8Array(216) }, "--x", [1, 3, 8, 9], ["int8"]), "--x data", /got "uint8 of length 216"/);
  });
});

describe("a tensor read from .npy feeds the API as it is", () => {
  // Typed without a cast: `Tensor.data` (any integer array) is what referenceConv and simulate take;
  // typecheck fails here if either narrows its parameter again.
  it("referenceConv and simulate take readNpy(...).data, and refuse a non-operand dtype with a ConfigError", async () => {
    const { referenceConv } = await import("../../src/workload/reference.js");
    const { simulate } = await import("../../src/dataflow/simulate.js");
    const layer = { inChannels: 2, inHeight: 4, inWidth: 4, outChannels: 3, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] as const };
    const xPath = join(dir, "ops-x.npy");
    const wPath = join(dir, "ops-w.npy");
    writeNpy(xPath, { dtype: "uint8", shape: [1, 2, 4, 4], data: Uint8Array.from({ length: 32 }, (_, i) => (i * 37) % 256) });
    writeNpy(wPath, { dtype: "int8", shape: [3, 2, 3, 3], data: Int8Array.from({ length: 54 }, (_, i) => ((i * 11) % 19) - 9) });
    const x = readNpy(xPath);
    const w = readNpy(wPath);
    const y = referenceConv(layer, x.data, w.data, { xZeroPoint: 128 });
    const r = simulate({ layer, arch: "eyeriss", dataflow: "rs", x: x.data, w: w.data, zeroPoints: { input: 128 } });
    expect(r.verification.ok).toBe(true);
    expect(Array.from(r.output)).toEqual(Array.from(y));
    const wide = new Int32Array(32);
    expect(() => referenceConv(layer, wide, w.data)).toThrow(ConfigError);
    expect(() => simulate({ layer, x: wide, w: w.data })).toThrow(/x/);
  });
});
