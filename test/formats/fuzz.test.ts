/**
 * A seeded fuzz of the three importers: importOnnx (structured mutations of small models built
 * with test/helpers/onnx-builder.ts, and byte-level mutations of their encodings), importTimeloop
 * (YAML-level mutations of the fixtures' documents, raw text mutations of the YAML and of map.txt
 * printouts) and importScaleSim (CSV and config mutations).
 *
 * The oracle, per case: the importer either returns, and then what it returns is itself valid
 * (every layer passes convLayer again; an architecture passes archSpec; a Timeloop mapping covers
 * its layer and checkMapping gives a verdict; a model's operands fit their layer; the attributes
 * and fields that were read are the ones given), or it throws a ConfigError whose field names the
 * input (the model's source, a Timeloop file, the topology or config file, or the option). Anything
 * else is a failure: another error type, a ConfigError naming no input, an ONNX error about NaN or
 * an undefined dimension (a value computed from a bad one upstream, reported at the wrong node),
 * (no timing: a hang stops the test at its timeout, and FUZZ_TRACE names the case). Failures are
 * listed with their block, case index and mutations.
 *
 * Deterministic: case i of block B draws from seedrandom(`${SEED}/${B}/${i}`). For exploration,
 * FUZZ_SCALE multiplies the case counts and FUZZ_SEED replaces the seed:
 * `FUZZ_SCALE=20 FUZZ_SEED=other npx vitest run test/formats/fuzz.test.ts`; FUZZ_TRACE=FILE appends
 * each case's name to FILE before it runs (the last line names a case that hangs).
 */
import { appendFileSync, readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import { isMap, isNode, isScalar, isSeq, parse as parseYaml, parseDocument, Scalar, type Document, type YAMLMap, type YAMLSeq } from "yaml";
import { archSpec } from "../../src/arch/presets.js";
import { ConfigError } from "../../src/core/errors.js";
import { checkMapping } from "../../src/dataflow/legality.js";
import { checkCoverage } from "../../src/dataflow/mapping.js";
import { importOnnx, onnxLayerOperands, type OnnxImportOptions, type OnnxNetwork } from "../../src/formats/onnx/index.js";
import { importScaleSim, type ScaleSimImport } from "../../src/formats/scalesim.js";
import { importTimeloop, type TimeloopImport, type TimeloopSpecs } from "../../src/formats/timeloop/index.js";
import { convLayer, convShape, type ConvLayer } from "../../src/workload/layer.js";
import { DataType, OnnxBuilder, type Attr } from "../helpers/onnx-builder.js";
import { fixturePath } from "./timeloop/helpers.js";

const SCALE = Number(process.env.FUZZ_SCALE ?? "1");
const SEED = process.env.FUZZ_SEED ?? "convsim-fuzz-1";
/** A file each case's name is appended to before it runs (exploration: finds the case of a hang). */
const TRACE = process.env.FUZZ_TRACE;

/** A seeded stream of choices. */
class Rng {
  private readonly next: () => number;
  constructor(seed: string) {
    this.next = seedrandom(seed);
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(0, xs.length - 1)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** One case that broke the oracle. */
interface Failure {
  readonly block: string;
  readonly index: number;
  readonly mutations: readonly string[];
  readonly problem: string;
}

/** The outcome counts of a block, and its failures. */
class Tally {
  imported = 0;
  refused = 0;
  /** The slowest case so far: milliseconds and index. */
  slowest = { ms: 0, index: -1 };
  /** Milliseconds spent importing and checking, over all cases. */
  importMs = 0;
  checkMs = 0;
  readonly failures: Failure[] = [];
  /**
   * @param garbageIsComputed whether the input cannot hold NaN or an infinity (ONNX's integer
   * fields), so that an error about one names a value computed from a bad one elsewhere.
   */
  constructor(
    readonly block: string,
    private readonly garbageIsComputed = false,
  ) {}

  /**
   * Runs one case: `run` imports, `check` validates what it returned (a string is a problem).
   * A ConfigError is a refusal when its field starts with one of `names`. The time is kept for the
   * trace's summary only (tests assert no timing).
   * `finiteInput` false: the case's input holds NaN or an infinity itself, which an error may show.
   */
  run<T>(index: number, mutations: readonly string[], names: readonly string[], run: () => T, check: (r: T) => string | undefined, finiteInput = true): void {
    if (TRACE) appendFileSync(TRACE, `${this.block} #${index}\n`);
    const fail = (problem: string): void => void this.failures.push({ block: this.block, index, mutations, problem });
    const attempt = () => {
      const t0 = performance.now();
      let out: { result: T } | { error: unknown };
      try {
        out = { result: run() };
      } catch (error) {
        out = { error };
      }
      return { out, ms: performance.now() - t0 };
    };
    const { out, ms } = attempt();
    if (ms > this.slowest.ms) this.slowest = { ms, index };
    this.importMs += ms;
    if ("error" in out) {
      const e = out.error;
      if (!(e instanceof ConfigError)) return fail(`threw ${(e as Error)?.name}: ${String((e as Error)?.message).slice(0, 300)}`);
      if (!names.some((n) => e.field.startsWith(n))) return fail(`a ConfigError naming no input: ${e.message.slice(0, 300)}`);
      if (this.garbageIsComputed && finiteInput && !floatInput(e) && computedGarbage(e.value)) return fail(`a ConfigError about a value computed from another bad one: ${e.message.slice(0, 300)}`);
      this.refused++;
      return;
    }
    const c0 = performance.now();
    try {
      const problem = check(out.result);
      this.checkMs += performance.now() - c0;
      if (problem !== undefined) return fail(`imported, but ${problem}`);
    } catch (e) {
      return fail(`imported, but checking the result threw ${(e as Error)?.name}: ${String((e as Error)?.message).slice(0, 300)}`);
    }
    this.imported++;
  }
}

/** NaN, an infinity or undefined inside an array: a value no input holds, computed from a bad one upstream. */
function computedGarbage(v: unknown): boolean {
  if (typeof v === "number") return !Number.isFinite(v);
  return Array.isArray(v) && v.some((x) => x === undefined || x === null || computedGarbage(x));
}

/** An error about float values a model holds (Resize's and Upsample's scales, which a flipped bit may make NaN). */
function floatInput(e: ConfigError): boolean {
  return e.rule.includes("finite") || /\((Resize|Upsample)\)\.input\[\d\]$/.test(e.field);
}

/** A layer must be valid as it is: convLayer gives it back unchanged. */
function layerProblem(l: ConvLayer): string | undefined {
  const again = convLayer({ ...l }, "imported");
  return isDeepStrictEqual({ ...again }, { ...l }) ? undefined : `layer ${l.name ?? ""} changes when validated again: ${JSON.stringify(l)}`;
}

function expectClean(t: Tally): void {
  if (TRACE) appendFileSync(TRACE, `summary ${t.block} (${SEED}, x${SCALE}): ${t.imported} imported, ${t.refused} refused, ${t.failures.length} failures, slowest #${t.slowest.index} ${t.slowest.ms.toFixed(1)} ms; ${t.importMs.toFixed(0)} ms importing, ${t.checkMs.toFixed(0)} ms checking\n`);
  const shown = t.failures.slice(0, 15).map((f) => `${f.block} #${f.index} [${f.mutations.join("; ")}]: ${f.problem}`);
  expect(shown).toEqual([]);
  // The mutations must leave both outcomes common, or the fuzz tests little.
  expect(t.imported).toBeGreaterThan(0);
  expect(t.refused).toBeGreaterThan(0);
}

// ---------------------------------------------------------------------------------------------
// ONNX
// ---------------------------------------------------------------------------------------------

interface InputSpec {
  name: string;
  type: number;
  dims: (number | string)[] | undefined;
}
interface InitSpec {
  name: string;
  type: number;
  dims: number[];
  data: Uint8Array;
}
interface NodeSpec {
  op: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, Attr>;
}
/** A model as data, mutated before it is built. */
interface ModelSpec {
  inputs: InputSpec[];
  inits: InitSpec[];
  nodes: NodeSpec[];
  outputs: string[];
  options: { batch?: number; inputShapes?: Record<string, number[]>; weights?: boolean };
}

const WIDTH: Partial<Record<number, number>> = { [DataType.FLOAT]: 4, [DataType.INT8]: 1, [DataType.UINT8]: 1, [DataType.INT32]: 4, [DataType.INT64]: 8 };

/** Builds model specs from random valid parameters. */
class SpecBuilder {
  readonly m: ModelSpec = { inputs: [], inits: [], nodes: [], outputs: [], options: {} };
  private n = 0;
  constructor(private readonly r: Rng) {}

  input(name: string, type: number, dims: number[]): string {
    this.m.inputs.push({ name, type, dims });
    return name;
  }
  /** An initializer: `values` (int64 or float), else seeded bytes for int8/uint8 and zeros for the rest. */
  init(name: string, type: number, dims: number[], values?: readonly number[]): string {
    const n = dims.reduce((a, b) => a * b, 1);
    let data: Uint8Array;
    if (values !== undefined && type === DataType.INT64) data = new Uint8Array(BigInt64Array.from(values.map((v) => BigInt(v))).buffer);
    else if (values !== undefined && type === DataType.FLOAT) data = new Uint8Array(Float32Array.from(values).buffer);
    else if (type === DataType.INT8 || type === DataType.UINT8) data = Uint8Array.from({ length: n }, () => this.r.int(0, 255));
    else data = new Uint8Array(n * (WIDTH[type] ?? 4));
    this.m.inits.push({ name, type, dims, data });
    return name;
  }
  node(op: string, inputs: string[], attrs: Record<string, Attr> = {}, name = ""): string {
    const out = `${op.toLowerCase()}_${++this.n}`;
    this.m.nodes.push({ op, name, inputs, outputs: [out], attrs });
    return out;
  }
  done(out: string): ModelSpec {
    this.m.outputs.push(out);
    return this.m;
  }
}

/** Random valid Conv attributes over `rank` spatial axes for a kernel `k`, dropping some (defaults). */
function convAttrs(r: Rng, rank: number, k: readonly number[], group: number): Record<string, Attr> {
  const a: Record<string, Attr> = {};
  const per = (f: () => number) => Array.from({ length: rank }, f);
  if (r.chance(0.6)) a.strides = per(() => r.int(1, 2));
  if (r.chance(0.4)) a.dilations = per(() => r.int(1, 2));
  if (r.chance(0.3)) a.kernel_shape = [...k];
  if (group > 1 || r.chance(0.3)) a.group = group;
  if (r.chance(0.25)) a.auto_pad = r.pick(["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"]);
  if (a.auto_pad === undefined || a.auto_pad === "NOTSET") if (r.chance(0.6)) a.pads = per(() => r.int(0, 2)).concat(per(() => r.int(0, 2)));
  return a;
}

/** x -> Conv (2-D or 1-D) -> maybe Relu. */
function convModel(r: Rng, rank: 1 | 2): ModelSpec {
  const b = new SpecBuilder(r);
  const g = r.pick([1, 1, 2]);
  const c = g * r.int(1, 3);
  const m = g * r.int(1, 3);
  const k = Array.from({ length: rank }, () => r.int(1, 3));
  const spatial = k.map((kk) => 2 * kk + r.int(0, 5));
  const x = b.input("x", DataType.FLOAT, [r.int(1, 2), c, ...spatial]);
  let y = b.node("Conv", [x, b.init("w", DataType.FLOAT, [m, c / g, ...k])], convAttrs(r, rank, k, g), "conv");
  if (r.chance(0.5)) y = b.node("Relu", [y]);
  return b.done(y);
}

/** Conv -> MaxPool -> Pad -> Conv -> GlobalAveragePool -> Flatten -> Gemm. */
function chainModel(r: Rng): ModelSpec {
  const b = new SpecBuilder(r);
  const c = r.int(1, 4);
  const hw = 2 * r.int(3, 6);
  let y = b.node("Conv", [b.input("x", DataType.FLOAT, [1, c, hw, hw]), b.init("w1", DataType.FLOAT, [4, c, 3, 3])], { pads: [1, 1, 1, 1] }, "c1");
  y = b.node("MaxPool", [y], { kernel_shape: [2, 2], strides: [2, 2], ...(r.chance(0.3) ? { ceil_mode: 1 } : {}) });
  y = b.node("Pad", [y, b.init("pads", DataType.INT64, [8], [0, 0, 1, 1, 0, 0, 1, 1])], { mode: "constant" });
  y = b.node("Conv", [y, b.init("w2", DataType.FLOAT, [6, 4, 3, 3])], {}, "c2");
  y = b.node("Flatten", [b.node("GlobalAveragePool", [b.node("Relu", [y])])]);
  const n = r.int(1, 5);
  const transB = r.chance(0.5);
  return b.done(b.node("Gemm", [y, b.init("fc", DataType.FLOAT, transB ? [n, 6] : [6, n])], transB ? { transB: 1 } : {}, "fc"));
}

/** Conv -> Split/Concat -> Transpose -> Slice -> Resize -> Unsqueeze/Squeeze -> Add -> Conv -> Reshape (Shape/Gather/...) -> MatMul. */
function shapeModel(r: Rng): ModelSpec {
  const b = new SpecBuilder(r);
  const hw = r.int(3, 6);
  let y = b.node("Conv", [b.input("x", DataType.FLOAT, [1, 2, hw, hw]), b.init("w1", DataType.FLOAT, [4, 2, 3, 3])], { pads: [1, 1, 1, 1] }, "c1");
  const split = b.init("split", DataType.INT64, [2], [1, 3]);
  b.m.nodes.push({ op: "Split", name: "", inputs: [y, split], outputs: ["s1", "s2"], attrs: { axis: 1 } });
  y = b.node("Concat", ["s2", "s1"], { axis: 1 });
  y = b.node("Transpose", [y], { perm: [0, 1, 3, 2] });
  y = b.node("Slice", [y, b.init("st", DataType.INT64, [1], [0]), b.init("en", DataType.INT64, [1], [hw - 1]), b.init("ax", DataType.INT64, [1], [2])]);
  y = b.node("Resize", [y, "", b.init("scales", DataType.FLOAT, [4], [1, 1, 2, 1])], { mode: "nearest" });
  y = b.node("Squeeze", [b.node("Unsqueeze", [y, b.init("ua", DataType.INT64, [1], [0])]), b.init("sa", DataType.INT64, [1], [0])]);
  y = b.node("Add", [y, b.init("bias", DataType.FLOAT, [1, 4, 1, 1])]);
  y = b.node("Conv", [y, b.init("w2", DataType.FLOAT, [3, 4, 1, 1])], {}, "c2");
  const batch = b.node("Unsqueeze", [b.node("Gather", [b.node("Shape", [y]), b.init("zero", DataType.INT64, [], [0])]), b.init("axes", DataType.INT64, [1], [0])]);
  y = b.node("Reshape", [y, b.node("Concat", [batch, b.init("m1", DataType.INT64, [1], [-1])], { axis: 0 })]);
  const features = 3 * 2 * (hw - 1) * hw;
  return b.done(b.node("MatMul", [y, b.init("w3", DataType.FLOAT, [features, r.int(1, 4)])], {}, "mm"));
}

/** A quantized layer with int8 weights: ConvInteger, QLinearConv, MatMulInteger or the QDQ form; weights read. */
function quantModel(r: Rng): ModelSpec {
  const b = new SpecBuilder(r);
  const kind = r.pick(["ConvInteger", "QLinearConv", "MatMulInteger", "QDQ"]);
  const c = r.int(1, 3);
  const m = r.int(1, 4);
  const k = r.int(1, 3);
  const zp = (name: string, type: number) => b.init(name, type, []);
  const scale = (name: string) => b.init(name, DataType.FLOAT, [], [0.5]);
  let y: string;
  if (kind === "MatMulInteger") {
    y = b.node(kind, [b.input("a", DataType.UINT8, [r.int(1, 3), c]), b.init("B", DataType.INT8, [c, m]), zp("az", DataType.UINT8), zp("bz", DataType.INT8)], {}, "fc");
  } else {
    const xType = kind === "QDQ" ? DataType.FLOAT : DataType.UINT8;
    const x = b.input("x", xType, [1, c, 2 * k + r.int(0, 4), 2 * k + r.int(0, 4)]);
    const w = b.init("w", DataType.INT8, [m, c, k, k]);
    const attrs = convAttrs(r, 2, [k, k], 1);
    if (kind === "ConvInteger") y = b.node(kind, [x, w, zp("xz", DataType.UINT8), zp("wz", DataType.INT8)], attrs, "conv");
    else if (kind === "QLinearConv") y = b.node(kind, [x, scale("xs"), zp("xz", DataType.UINT8), w, scale("ws"), zp("wz", DataType.INT8), scale("ys"), zp("yz", DataType.UINT8)], attrs, "conv");
    else {
      const xs = scale("xs");
      const xz = zp("xz", DataType.INT8);
      const xq = b.node("DequantizeLinear", [b.node("QuantizeLinear", [x, xs, xz]), xs, xz]);
      y = b.node("Conv", [xq, b.node("DequantizeLinear", [w, scale("ws"), zp("wz", DataType.INT8)])], attrs, "conv");
    }
  }
  b.m.options.weights = true;
  return b.done(y);
}

/** MatMul over an N-D input, or Gemm with transA. */
function matmulModel(r: Rng): ModelSpec {
  const b = new SpecBuilder(r);
  const k = r.int(1, 5);
  const n = r.int(1, 5);
  if (r.chance(0.5)) return b.done(b.node("MatMul", [b.input("a", DataType.FLOAT, [r.int(1, 3), r.int(1, 3), k]), b.init("w", DataType.FLOAT, [k, n])], {}, "mm"));
  return b.done(b.node("Gemm", [b.input("a", DataType.FLOAT, [k, r.int(1, 3)]), b.init("w", DataType.FLOAT, [k, n])], { transA: 1 }, "gemm"));
}

/** The other operators: LpPool, Upsample, Split in equal parts, Sum, Max, Pad with axes, Dropout, Cast, Slice (attributes), Constant, ReduceMax, GlobalMaxPool, Squeeze. */
function opsModel(r: Rng): ModelSpec {
  const b = new SpecBuilder(r);
  const hw = 2 * r.int(2, 4);
  let y = b.node("LpPool", [b.input("x", DataType.FLOAT, [1, 2, hw, hw])], { kernel_shape: [2, 2], pads: [0, 0, 1, 1] });
  y = b.node("Upsample", [y, b.init("us", DataType.FLOAT, [4], [1, 1, 2, 2])]);
  b.m.nodes.push({ op: "Split", name: "", inputs: [y], outputs: ["e1", "e2"], attrs: { axis: 1 } });
  y = b.node("Max", [b.node("Sum", ["e1", "e2"]), "e1"]);
  y = b.node("Pad", [y, b.init("pp", DataType.INT64, [4], [1, 0, 1, 2]), "", b.init("pa", DataType.INT64, [2], [2, 3])]);
  const c1 = b.node("Conv", [b.node("Cast", [b.node("Dropout", [y])], { to: DataType.FLOAT }), b.init("w1", DataType.FLOAT, [3, 1, 3, 3])], {}, "c1");
  const half = b.node("Slice", [c1], { starts: [0], ends: [hw], axes: [2] });
  b.node("Conv", [b.node("ReduceMax", [half], { axes: [3], keepdims: 1 }), b.init("w2", DataType.FLOAT, [2, 3, 1, 1])], {}, "c2");
  const flat = b.node("Reshape", [c1, b.node("Constant", [], { value_ints: [1, -1] })]);
  b.node("MatMul", [flat, b.init("w3", DataType.FLOAT, [3 * 2 * hw * 2 * hw, 2])], {}, "mm");
  y = b.node("Unsqueeze", [b.node("Squeeze", [b.node("GlobalMaxPool", [c1])]), b.init("ax0", DataType.INT64, [1], [0])]);
  return b.done(b.node("Gemm", [y, b.init("fc", DataType.FLOAT, [3, r.int(1, 4)])], {}, "fc"));
}

const TEMPLATES: readonly ((r: Rng) => ModelSpec)[] = [(r) => convModel(r, 2), (r) => convModel(r, 2), (r) => convModel(r, 1), chainModel, shapeModel, quantModel, matmulModel, opsModel];

function randomModel(r: Rng): ModelSpec {
  return r.pick(TEMPLATES)(r);
}

function buildModel(m: ModelSpec): Uint8Array {
  const b = new OnnxBuilder("fuzz");
  for (const i of m.inputs) b.input(i.name, i.type as DataType, i.dims);
  for (const t of m.inits) b.init(t.name, t.type as DataType, t.dims, t.data);
  for (const n of m.nodes) b.node(n.op, n.inputs, n.attrs, { name: n.name, out: n.outputs });
  for (const o of m.outputs) b.output(o);
  return b.build();
}

const ATTR_NAMES: Readonly<Record<string, readonly string[]>> = {
  Conv: ["strides", "pads", "dilations", "group", "kernel_shape", "auto_pad"],
  MaxPool: ["kernel_shape", "strides", "pads", "dilations", "ceil_mode", "auto_pad"],
  LpPool: ["kernel_shape", "strides", "pads", "auto_pad"],
  Slice: ["starts", "ends", "axes"],
  Constant: ["value_ints", "value_int", "value_float"],
  Upsample: ["scales", "mode"],
  Squeeze: ["axes"],
  Unsqueeze: ["axes"],
  ReduceMax: ["axes", "keepdims", "noop_with_empty_axes"],
  Cast: ["to"],
  Gemm: ["transA", "transB", "alpha"],
  Flatten: ["axis"],
  Concat: ["axis"],
  Split: ["axis", "split"],
  Gather: ["axis"],
  Transpose: ["perm"],
  Reshape: ["allowzero", "shape"],
  Pad: ["mode", "pads", "value"],
  Resize: ["mode", "axes"],
  Shape: ["start", "end"],
  QuantizeLinear: ["axis", "output_dtype"],
};
const NUMS = [0, 1, 2, 3, -1, -2, 5, 64, 2 ** 20, 2 ** 20 + 1, 2 ** 31, 2 ** 40, -(2 ** 40), 2 ** 53, 2 ** 62];
const STRINGS = ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "", "same_upper", "BOGUS", "constant", "reflect", "nearest"];
const DIMS = [0, -1, 1, 2, 3, 7, 2 ** 20, 2 ** 31, 2 ** 40, 2 ** 53, 2 ** 62];
const OPS = ["Conv", "ConvInteger", "QLinearConv", "Gemm", "MatMul", "Relu", "MaxPool", "Add", "Concat", "Reshape", "Flatten", "Pad", "Split", "Slice", "Gather", "Shape", "Resize", "NonZero", "conv", "Identity", "Sum", "Transpose", "Squeeze"];

function attrValue(r: Rng): Attr {
  switch (r.int(0, 5)) {
    case 0:
      return r.pick(NUMS);
    case 1:
    case 2:
      return Array.from({ length: r.int(0, 5) }, () => (r.chance(0.7) ? r.int(0, 3) : r.pick(NUMS)));
    case 3:
      return r.pick(STRINGS);
    case 4:
      return { f: r.pick([0, 1.5, -1, Number.NaN, 1e30]) };
    default:
      return Array.from({ length: r.int(1, 4) }, () => r.int(1, 3));
  }
}

/** One structured mutation of a model spec, described. */
function mutateModel(r: Rng, m: ModelSpec): string {
  const node = m.nodes.length > 0 ? r.pick(m.nodes) : undefined;
  const choice = r.int(0, 15);
  if (node && choice <= 3) {
    const name = r.chance(0.9) ? r.pick(ATTR_NAMES[node.op] ?? ATTR_NAMES.Conv!) : "bogus";
    node.attrs[name] = attrValue(r);
    return `${node.op}.${name} = ${JSON.stringify(node.attrs[name])}`;
  }
  if (node && choice === 4) {
    const keys = Object.keys(node.attrs);
    if (keys.length === 0) return "no attribute to delete";
    const k = r.pick(keys);
    delete node.attrs[k];
    return `${node.op}: ${k} deleted`;
  }
  if (choice === 5 && m.inputs.length > 0) {
    const i = r.pick(m.inputs);
    const what = r.int(0, 4);
    if (i.dims === undefined || what === 0) i.dims = what === 0 ? undefined : [1];
    else if (what === 1) i.dims[r.int(0, i.dims.length - 1)] = r.chance(0.7) ? r.pick(DIMS) : r.pick(["N", ""]);
    else if (what === 2) i.dims.splice(r.int(0, i.dims.length - 1), 1);
    else if (what === 3) i.dims.splice(r.int(0, i.dims.length), 0, r.pick([1, 2, 3]));
    else i.type = r.pick([DataType.INT8, DataType.UINT8, DataType.INT32, DataType.FLOAT, 0, 99]);
    return `input ${i.name}: dims ${JSON.stringify(i.dims)} type ${i.type}`;
  }
  if (choice === 6 && m.inits.length > 0) {
    const t = r.pick(m.inits);
    const what = r.int(0, 5);
    if (what === 0 && t.dims.length > 0) t.dims[r.int(0, t.dims.length - 1)] = r.pick(DIMS);
    else if (what === 1) t.dims.splice(r.int(0, t.dims.length), 0, r.pick([1, 2]));
    else if (what === 2 && t.dims.length > 0) t.dims.splice(r.int(0, t.dims.length - 1), 1);
    else if (what === 3) t.type = r.pick([DataType.INT8, DataType.UINT8, DataType.INT16, DataType.INT32, DataType.INT64, DataType.FLOAT, DataType.DOUBLE, 0, 99]);
    else if (what === 4) t.data = t.data.slice(0, Math.max(0, t.data.length - r.int(1, 9)));
    else t.data = Uint8Array.from([...t.data, ...Array.from({ length: r.int(1, 9) }, () => r.int(0, 255))]);
    return `initializer ${t.name}: dims ${JSON.stringify(t.dims)} type ${t.type} ${t.data.length} bytes`;
  }
  if (choice === 7 && r.chance(0.5)) {
    // New contents of an integer or float initializer of the same size (shapes, axes, pads, sizes, scales).
    const t = r.pick(m.inits);
    const n = t.dims.reduce((a, b) => a * b, 1);
    if (t.type === DataType.INT64 && n <= 16) {
      const values = Array.from({ length: n }, () => r.pick([0, 1, 2, 3, -1, -2, -5, 7, 2 ** 20, 2 ** 40, -(2 ** 40)]));
      t.data = new Uint8Array(BigInt64Array.from(values.map((v) => BigInt(v))).buffer);
      return `initializer ${t.name} = ${JSON.stringify(values)}`;
    }
    if (t.type === DataType.FLOAT && n <= 16) {
      const values = Array.from({ length: n }, () => r.pick([0, 1, 2, 0.5, 1.5, -1, Number.NaN, Number.POSITIVE_INFINITY, 1e30]));
      t.data = new Uint8Array(Float32Array.from(values).buffer);
      return `initializer ${t.name} = ${JSON.stringify(values)}`;
    }
    return `initializer ${t.name} kept`;
  }
  if (node && choice === 7) {
    const what = r.int(0, 4);
    const i = r.int(0, Math.max(0, node.inputs.length - 1));
    if (what === 0) node.inputs.splice(i, 1);
    else if (what === 1) node.inputs[i] = "";
    else if (what === 2) node.inputs[i] = "nope";
    else if (what === 3) node.inputs.push(r.pick([...m.inits.map((t) => t.name), "x"]));
    else node.inputs = [];
    return `${node.op}: inputs ${JSON.stringify(node.inputs)}`;
  }
  if (node && choice === 8) {
    node.op = r.pick(OPS);
    return `op -> ${node.op}`;
  }
  if (node && choice === 9) {
    const other = r.pick(m.nodes);
    node.outputs = r.chance(0.5) ? [] : [...other.outputs];
    return `${node.op}: outputs ${JSON.stringify(node.outputs)}`;
  }
  if (choice === 10 && m.nodes.length > 1) {
    const [i, j] = [r.int(0, m.nodes.length - 1), r.int(0, m.nodes.length - 1)];
    [m.nodes[i], m.nodes[j]] = [m.nodes[j]!, m.nodes[i]!];
    return `nodes ${i} and ${j} swapped`;
  }
  if (choice === 11 && m.nodes.length > 1) {
    const i = r.int(0, m.nodes.length - 1);
    if (r.chance(0.5)) m.nodes.splice(i, 1);
    else m.nodes.splice(i, 0, structuredClone(m.nodes[i]!));
    return `node ${i} deleted or duplicated`;
  }
  if (node && choice === 12) {
    // Names that collide with each other or with generated ones.
    for (const n of m.nodes) if (r.chance(0.5)) n.name = r.pick(["", "conv", "conv_2", "conv_3", "layer1", "layer2", "layer3", "fc", "c1", "c1_2", "c1_3", "mm_3"]);
    return `names ${JSON.stringify(m.nodes.map((n) => n.name))}`;
  }
  if (choice === 13) {
    m.options.batch = r.pick([0, -1, 1.5, 2, 3, 2 ** 16, 2 ** 17]);
    return `batch ${m.options.batch}`;
  }
  if (choice === 14 && m.inputs.length > 0) {
    const name = r.chance(0.8) ? m.inputs[0]!.name : "nope";
    const dims = Array.from({ length: r.int(0, 5) }, () => (r.chance(0.6) ? r.int(1, 8) : r.pick(DIMS)));
    m.options.inputShapes = { [name]: dims };
    return `inputShapes ${JSON.stringify(m.options.inputShapes)}`;
  }
  m.options.weights = !m.options.weights;
  return `weights ${m.options.weights}`;
}

/** One byte-level mutation of an encoded model, described. */
function mutateBytes(r: Rng, bytes: Uint8Array): [Uint8Array, string] {
  const a = Array.from(bytes);
  const at = r.int(0, Math.max(0, a.length - 1));
  switch (r.int(0, 5)) {
    case 0:
      a[at] = a[at]! ^ (1 << r.int(0, 7));
      return [Uint8Array.from(a), `bit flip at ${at}`];
    case 1:
      a[at] = r.pick([0, 0x7f, 0x80, 0xff, r.int(0, 255)]);
      return [Uint8Array.from(a), `byte at ${at} = ${a[at]}`];
    case 2:
      return [Uint8Array.from(a.slice(0, at)), `truncated at ${at}`];
    case 3: {
      const ins = Array.from({ length: r.int(1, 8) }, () => r.int(0, 255));
      a.splice(at, 0, ...ins);
      return [Uint8Array.from(a), `inserted ${ins.length} bytes at ${at}`];
    }
    case 4: {
      const n = r.int(1, 16);
      a.splice(at, n);
      return [Uint8Array.from(a), `deleted ${n} bytes at ${at}`];
    }
    default: {
      const n = r.int(1, 16);
      a.splice(at, 0, ...a.slice(at, at + n));
      return [Uint8Array.from(a), `duplicated ${n} bytes at ${at}`];
    }
  }
}

const TYPE_RANGE: Readonly<Record<string, readonly [number, number]>> = { int8: [-128, 127], uint8: [0, 255] };

/** The attribute a layer was given must be what it holds (one value per spatial axis, pads two). */
function echoProblem(spec: ModelSpec, l: ConvLayer): string | undefined {
  const nodes = spec.nodes.filter((n) => n.name === l.name && ["Conv", "ConvInteger", "QLinearConv"].includes(n.op));
  if (nodes.length !== 1) return undefined;
  const n = nodes[0]!;
  const wName = n.inputs[n.op === "QLinearConv" ? 3 : 1];
  const w = spec.inits.find((t) => t.name === wName);
  if (w === undefined) return undefined;
  const rank = w.dims.length - 2;
  const lift = (v: readonly number[], fill: number) => (rank === 1 ? [fill, v[0]] : [...v]);
  const checks: [string, readonly number[], number, (v: readonly number[]) => unknown[]][] = [
    ["strides", l.strides, rank, (v) => lift(v, 1)],
    ["dilations", l.dilations, rank, (v) => lift(v, 1)],
    ["kernel_shape", [l.kernelHeight, l.kernelWidth], rank, (v) => lift(v, 1)],
    ["pads", l.pads, 2 * rank, (v) => (rank === 1 ? [0, v[0], 0, v[1]] : [...v])],
  ];
  const autoPad = n.attrs.auto_pad;
  for (const [name, held, length, lifted] of checks) {
    const v = n.attrs[name];
    if (!Array.isArray(v)) continue;
    if (name === "pads" && ((autoPad !== undefined && autoPad !== "NOTSET" && autoPad !== "") || spec.nodes.some((p) => p.op === "Pad" && p.outputs.includes(n.inputs[0]!)))) continue;
    if (v.length !== length || !isDeepStrictEqual(lifted(v), [...held])) return `${n.op} "${n.name}" attribute ${name} ${JSON.stringify(v)} read as ${JSON.stringify(held)} (a ${rank}-D convolution)`;
  }
  if (typeof n.attrs.group === "number" && n.attrs.group !== l.groups) return `group ${n.attrs.group} read as ${l.groups}`;
  return undefined;
}

/** The bytes of a convolution's int8/uint8 weight initializer (direct, or behind a DequantizeLinear), when the spec says it unambiguously. */
function convWeights(spec: ModelSpec, name: string): Uint8Array | undefined {
  const nodes = spec.nodes.filter((n) => n.name === name);
  const n = nodes[0];
  if (nodes.length !== 1 || !["Conv", "ConvInteger", "QLinearConv"].includes(n!.op)) return undefined;
  let w = n!.inputs[n!.op === "QLinearConv" ? 3 : 1];
  const producers = spec.nodes.filter((p) => p.outputs.includes(w!));
  if (producers.length === 1 && producers[0]!.op === "DequantizeLinear") w = producers[0]!.inputs[0];
  else if (producers.length > 0) return undefined;
  const inits = spec.inits.filter((t) => t.name === w);
  return inits.length === 1 && (inits[0]!.type === DataType.INT8 || inits[0]!.type === DataType.UINT8) ? inits[0]!.data : undefined;
}

/** What an imported model must satisfy (see the file header). */
function onnxProblem(net: OnnxNetwork, spec: ModelSpec | undefined): string | undefined {
  const names = new Set<string>();
  for (const l of net.layers) {
    if (typeof l.name !== "string" || l.name === "") return "a layer has no name";
    if (names.has(l.name)) return `two layers are named ${l.name}`;
    names.add(l.name);
    const p = layerProblem(l) ?? (spec ? echoProblem(spec, l) : undefined);
    if (p) return p;
    const o = net.operands[l.name];
    if (o === undefined) return `no operands entry for ${l.name}`;
    if ("missing" in o) {
      try {
        onnxLayerOperands(net, l.name);
        return `onnxLayerOperands returned operands for ${l.name}, which has none`;
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
      }
      continue;
    }
    if (o.w.length !== convShape(l).weightElements) return `${l.name}'s weights hold ${o.w.length} elements, its shape ${convShape(l).weightElements}`;
    const given = spec ? convWeights(spec, l.name) : undefined;
    if (given !== undefined && Buffer.compare(Buffer.from(o.w.buffer, o.w.byteOffset, o.w.byteLength), Buffer.from(given)) !== 0) return `${l.name}'s weights are not its initializer's bytes`;
    const [wLo, wHi] = o.w instanceof Int8Array ? TYPE_RANGE.int8! : TYPE_RANGE.uint8!;
    const [xLo, xHi] = TYPE_RANGE[o.inputType]!;
    if (!Number.isInteger(o.wZeroPoint) || o.wZeroPoint < wLo || o.wZeroPoint > wHi) return `${l.name}'s weight zero point ${o.wZeroPoint} is out of its type's range`;
    if (!Number.isInteger(o.inputZeroPoint) || o.inputZeroPoint < xLo || o.inputZeroPoint > xHi) return `${l.name}'s input zero point ${o.inputZeroPoint} is out of ${o.inputType}'s range`;
  }
  if (Object.keys(net.operands).length !== net.layers.length) return `${Object.keys(net.operands).length} operands entries for ${net.layers.length} layers`;
  return undefined;
}

const ONNX_NAMES = ["fuzz.onnx", "batch", "input shape"];

describe("fuzz: importOnnx", () => {
  it("the models before mutation import", () => {
    TEMPLATES.forEach((template, k) => {
      for (let i = 0; i < 20; i++) {
        const spec = template(new Rng(`${SEED}/onnx-base/${k}/${i}`));
        expect(onnxProblem(importOnnx(buildModel(spec), { source: "fuzz.onnx", ...spec.options }), spec), `template ${k}, case ${i}`).toBeUndefined();
      }
    });
  });

  it("structured mutations of small models: each imports validly or is refused with a ConfigError", () => {
    const t = new Tally("onnx-structured", true);
    for (let i = 0; i < 700 * SCALE; i++) {
      const r = new Rng(`${SEED}/onnx-structured/${i}`);
      const spec = randomModel(r);
      const mutations = Array.from({ length: r.int(1, 3) }, () => mutateModel(r, spec));
      let bytes: Uint8Array;
      try {
        bytes = buildModel(spec);
      } catch {
        continue; // a value the protobuf encoder itself refuses (not the importer's input)
      }
      const options: OnnxImportOptions = { source: "fuzz.onnx", ...spec.options };
      // A float initializer given NaN or an infinity holds what an error may then show.
      const nonFinite = mutations.some((m) => m.startsWith("initializer") && m.includes("null"));
      t.run(i, mutations, ONNX_NAMES, () => importOnnx(bytes, options), (net) => onnxProblem(net, spec), !nonFinite);
    }
    expectClean(t);
  });

  it("byte-level mutations of encoded models: each imports validly or is refused with a ConfigError", () => {
    const t = new Tally("onnx-bytes", true);
    for (let i = 0; i < 500 * SCALE; i++) {
      const r = new Rng(`${SEED}/onnx-bytes/${i}`);
      const spec = randomModel(r);
      let bytes = buildModel(spec);
      const mutations: string[] = [];
      for (let k = r.int(1, 3); k > 0; k--) {
        const [b, what] = mutateBytes(r, bytes);
        bytes = b;
        mutations.push(what);
      }
      t.run(i, mutations, ONNX_NAMES, () => importOnnx(bytes, { source: "fuzz.onnx", ...spec.options }), (net) => onnxProblem(net, undefined));
    }
    expectClean(t);
  });
});

// ---------------------------------------------------------------------------------------------
// Timeloop
// ---------------------------------------------------------------------------------------------

/** A fixture file's text, by its path under fixtures/timeloop (`dir/file`). */
const readFixture = (f: string) => readFileSync(fixturePath(f.slice(0, f.indexOf("/")), f.slice(f.indexOf("/") + 1)), "utf8");

/** Valid Timeloop inputs (the fixtures that import), as texts. */
const TIMELOOP_BASES: readonly (TimeloopSpecs & { label: string })[] = [
  ["v03-small/arch.yaml", "v03-small/problem.yaml", "v03-small/mapping.yaml"],
  ["v04-eyeriss/arch.yaml", "v04-eyeriss/problem.yaml", "v04-eyeriss/mapping.yaml"],
  ["tutorial/arch-2level.yaml", "tutorial/conv1d.prob.yaml", "tutorial/01-os.map.yaml"],
  ["tutorial/arch-3level.yaml", "tutorial/conv1d-oc.prob.yaml", "tutorial/03.map.yaml"],
  ["tutorial/arch-3level-spatial.yaml", "tutorial/conv1d-oc-ic.prob.yaml", "tutorial/04-kp.map.yaml"],
  ["tutorial/arch-3level.yaml", "tutorial/conv1d-oc.prob.yaml", "tutorial/05-null.map.txt"],
  ["designs/eyeriss_like.arch.yaml", "designs/default_problem.prob.yaml", "designs/eyeriss_like.map.yaml"],
  ["designs/eyeriss_like.arch.yaml", "designs/default_problem.prob.yaml", "designs/eyeriss_like.map.txt"],
].map(([arch, problem, mapping]) => ({
  label: mapping!,
  arch: readFixture(arch!),
  problem: readFixture(problem!),
  mapping: readFixture(mapping!),
  mappingFormat: mapping!.endsWith(".txt") ? ("map.txt" as const) : ("yaml" as const),
  files: { arch: "arch.yaml", problem: "problem.yaml", mapping: mapping!.endsWith(".txt") ? "map.txt" : "mapping.yaml" },
}));
const TIMELOOP_NAMES = ["arch.yaml", "problem.yaml", "mapping.yaml", "map.txt"];

/** What an imported Timeloop spec must satisfy. */
function timeloopProblem(r: TimeloopImport, problemText?: string): string | undefined {
  const p = layerProblem(r.layer);
  if (p) return p;
  if (!isDeepStrictEqual(archSpec(r.arch), r.arch)) return "the architecture changes when validated again";
  const coverage = checkCoverage(r.mapping, r.layer);
  if (coverage) return `the mapping does not cover the layer: ${coverage.field} ${coverage.rule}`;
  const verdict = checkMapping(r.mapping, r.layer, r.arch, { types: { input: r.operandType, weight: r.operandType } });
  if (!verdict.ok && (typeof verdict.field !== "string" || verdict.field === "")) return `checkMapping's verdict names no field: ${verdict.reason}`;
  if (r.operandType !== "int8" && r.operandType !== "int16") return `operand type ${String(r.operandType)}`;
  return problemText === undefined ? undefined : problemEcho(r.layer, problemText);
}

/** The layer a problem's sizes give, read here independently (P the output width, no padding), or undefined when they are not plain integers. */
function problemEcho(layer: ConvLayer, text: string): string | undefined {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    return undefined;
  }
  const problem = (doc as { problem?: Record<string, unknown> })?.problem;
  if (typeof problem !== "object" || problem === null) return undefined;
  const inst = (problem.instance ?? problem) as Record<string, unknown>;
  const shape = problem.shape as { coefficients?: { name?: string; default?: unknown }[] } | undefined;
  const coefDefault = (c: string) => (Array.isArray(shape?.coefficients) ? shape.coefficients.find((x) => x?.name === c)?.default : undefined) ?? 1;
  const v = (key: string, fallback: unknown = 1) => inst[key] ?? fallback;
  const values = [v("N"), v("C"), v("K", v("M")), v("P"), v("Q"), v("R"), v("S"), ...["Wstride", "Hstride", "Wdilation", "Hdilation"].map((c) => v(c, coefDefault(c)))];
  if (("K" in inst && "M" in inst) || !values.every((x) => Number.isSafeInteger(x) && (x as number) > 0)) return undefined;
  const [N, C, K, P, Q, R, S, ws, hs, wd, hd] = values as number[];
  const want = { batch: N, inChannels: C, outChannels: K, inHeight: (Q! - 1) * hs! + (S! - 1) * hd! + 1, inWidth: (P! - 1) * ws! + (R! - 1) * wd! + 1, kernelHeight: S, kernelWidth: R, strides: [hs, ws], dilations: [hd, wd], pads: [0, 0, 0, 0] };
  const got = { batch: layer.batch, inChannels: layer.inChannels, outChannels: layer.outChannels, inHeight: layer.inHeight, inWidth: layer.inWidth, kernelHeight: layer.kernelHeight, kernelWidth: layer.kernelWidth, strides: [...layer.strides], dilations: [...layer.dilations], pads: [...layer.pads] };
  return isDeepStrictEqual(got, want) ? undefined : `the problem's sizes ${JSON.stringify(want)} were read as ${JSON.stringify(got)}`;
}

/** Every place in a YAML document: the collection holding it and its index there. */
interface Site {
  readonly parent: YAMLMap | YAMLSeq;
  readonly index: number;
  readonly path: string;
}

function sitesOf(node: unknown, path: string, out: Site[]): Site[] {
  if (isMap(node)) {
    node.items.forEach((pair, i) => {
      const key = isScalar(pair.key) ? String(pair.key.value) : "?";
      out.push({ parent: node, index: i, path: `${path}.${key}` });
      sitesOf(pair.value, `${path}.${key}`, out);
    });
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      out.push({ parent: node, index: i, path: `${path}[${i}]` });
      sitesOf(item, `${path}[${i}]`, out);
    });
  }
  return out;
}

function siteValue(s: Site): unknown {
  const item = s.parent.items[s.index];
  return isMap(s.parent) ? (item as { value: unknown }).value : item;
}

function setSiteValue(s: Site, v: unknown): void {
  if (isMap(s.parent)) (s.parent.items[s.index] as { value: unknown }).value = v;
  else (s.parent.items as unknown[])[s.index] = v;
}

/** A small edit of a scalar: a digit, a letter, a sign. */
function tweakScalar(r: Rng, v: unknown): unknown {
  if (typeof v === "number") return r.pick([v + 1, v - 1, v * 2, 0, -v, v + 0.5, v * 1e12]);
  const s = String(v);
  if (s.length === 0) return "x";
  const i = r.int(0, s.length - 1);
  const repl = /\d/.test(s[i]!) ? r.pick(["0", "9", "99999999999", "-1", "", "1.5"]) : r.pick(["N", "C", "K", "M", "P", "Q", "R", "S", "X", "", "=", ",", " "]);
  return s.slice(0, i) + repl + s.slice(i + 1);
}

const REPLACEMENTS: readonly unknown[] = ["abc", "", -1, 0, 1.5, 2 ** 40, 1e300, "99999999999999999999", [], [1, "x"], {}, { a: 1 }, null, true, "K2 C0", "K2 M2", ["K=2", "M=2"], "RSPQ", "RRR", "KM", "HBM", "PE[0..3]", "PE[3..0]"];

/** One YAML-level mutation of a document, described. */
function mutateYaml(r: Rng, doc: Document): string {
  const sites = sitesOf(doc.contents, "", []);
  if (sites.length === 0) return "no site";
  const s = r.pick(sites);
  const items = s.parent.items as unknown[];
  switch (r.int(0, 7)) {
    case 0:
      items.splice(s.index, 1);
      return `${s.path} deleted`;
    case 1:
    case 2: {
      if (r.chance(0.7)) {
        const v = r.pick(REPLACEMENTS);
        setSiteValue(s, doc.createNode(v));
        return `${s.path} = ${JSON.stringify(v)}`;
      }
      // A copy of another place's value (a copy, so that no node holds itself).
      const other = r.pick(sites);
      const v = siteValue(other);
      setSiteValue(s, isNode(v) ? v.clone() : v);
      return `${s.path} = a copy of ${other.path}`;
    }
    case 3: {
      const v = siteValue(s);
      if (!isScalar(v)) return `${s.path} is no scalar`;
      v.value = tweakScalar(r, v.value);
      return `${s.path} tweaked to ${JSON.stringify(v.value)}`;
    }
    case 4: {
      const item = items[s.index] as { clone?: () => unknown };
      items.splice(s.index, 0, typeof item.clone === "function" ? item.clone() : item);
      return `${s.path} duplicated`;
    }
    case 5: {
      const j = r.int(0, items.length - 1);
      [items[s.index], items[j]] = [items[j], items[s.index]];
      return `${s.path} swapped with item ${j}`;
    }
    case 6: {
      if (!isMap(s.parent)) return `${s.path} has no key`;
      const key = r.pick(["bogus", "K", "M", "name", "class", "factors", "split", "meshX", "instances", "subtree", "nodes", "keep"]);
      (s.parent.items[s.index] as { key: unknown }).key = new Scalar(key);
      return `${s.path} renamed ${key}`;
    }
    default: {
      // An alias: to the site's own parent (a cycle) or to an earlier node (a shared subtree).
      const v = siteValue(s);
      const target = r.chance(0.5) ? s.parent : v;
      if (!(typeof target === "object" && target !== null && "anchor" in target)) return `${s.path} cannot be anchored`;
      (target as { anchor?: string }).anchor = "a1";
      setSiteValue(s, doc.createAlias(target as Scalar, "a1"));
      return `${s.path} = alias of ${target === s.parent ? "its parent" : "itself"}`;
    }
  }
}

const CHARS = [":", "-", "[", "]", "{", "}", ",", "#", "&", "*", "!", "'", '"', " ", "\t", "0", "9", "x", "\u0000", "é", "|", ">", "%", "@"];

/** One raw text mutation (lines, characters, numbers, words, anchors), described. */
function mutateText(r: Rng, text: string): [string, string] {
  const lines = text.split("\n");
  const li = r.int(0, lines.length - 1);
  const at = r.int(0, text.length);
  switch (r.int(0, 11)) {
    case 0:
      lines.splice(li, 1);
      return [lines.join("\n"), `line ${li + 1} deleted`];
    case 1:
      lines.splice(li, 0, lines[li]!);
      return [lines.join("\n"), `line ${li + 1} duplicated`];
    case 2: {
      const lj = Math.min(lines.length - 1, li + 1);
      [lines[li], lines[lj]] = [lines[lj]!, lines[li]!];
      return [lines.join("\n"), `lines ${li + 1} and ${lj + 1} swapped`];
    }
    case 3:
      lines[li] = r.chance(0.5) ? `  ${lines[li]}` : lines[li]!.replace(/^ {1,2}/, "");
      return [lines.join("\n"), `line ${li + 1} re-indented`];
    case 4: {
      const c = r.pick(CHARS);
      return [text.slice(0, at) + c + text.slice(at), `${JSON.stringify(c)} inserted at ${at}`];
    }
    case 5: {
      const n = r.int(1, 12);
      return [text.slice(0, at) + text.slice(at + n), `${n} characters deleted at ${at}`];
    }
    case 6:
    case 7: {
      const numbers = [...text.matchAll(/\d+/g)];
      if (numbers.length === 0) return [text, "no number"];
      const m = r.pick(numbers);
      const v = r.pick(["0", "-1", "1.5", "99999999999999999999", "1e309", "007", "2", "65536", "", "4096", "1048577", "3,7"]);
      return [text.slice(0, m.index) + v + text.slice(m.index! + m[0].length), `number ${m[0]} at ${m.index} -> ${JSON.stringify(v)}`];
    }
    case 8: {
      const words = [...text.matchAll(/[A-Za-z_]+/g)];
      if (words.length === 0) return [text, "no word"];
      const m = r.pick(words);
      const v = r.chance(0.5) ? r.pick(words)[0] : r.pick(["bogus", "Spatial-Z", "Psums", "N", "K", "M", "null", "true", "inter_bogus_spatial"]);
      return [text.slice(0, m.index) + v + text.slice(m.index! + m[0].length), `word ${m[0]} -> ${v}`];
    }
    case 9:
      return [text.slice(0, at), `truncated at ${at}`];
    case 10:
      return [text.replace(/\n/g, r.chance(0.5) ? "\r\n" : "\n\n"), "line endings changed"];
    default: {
      // Anchors and aliases at the top level: a cycle, or a document that expands exponentially.
      if (r.chance(0.5)) return [`${text}\nselfref: &s [ *s ]\n`, "a self-referencing alias appended"];
      let bomb = "bomb0: &b0 [lol, lol, lol, lol]\n";
      for (let k = 1; k < 12; k++) bomb += `bomb${k}: &b${k} [*b${k - 1}, *b${k - 1}, *b${k - 1}, *b${k - 1}]\n`;
      return [`${text}\n${bomb}`, "an alias bomb appended"];
    }
  }
}

describe("fuzz: importTimeloop", () => {
  it("the base specs import", () => {
    for (const b of TIMELOOP_BASES) expect(timeloopProblem(importTimeloop(b), b.problem), b.label).toBeUndefined();
  });

  it("YAML-level mutations (keys deleted, values replaced, entries duplicated or reordered, aliases): valid or a ConfigError", () => {
    const t = new Tally("timeloop-yaml");
    for (let i = 0; i < 500 * SCALE; i++) {
      const r = new Rng(`${SEED}/timeloop-yaml/${i}`);
      const base = r.pick(TIMELOOP_BASES);
      const which = r.pick(base.mappingFormat === "map.txt" ? (["arch", "problem"] as const) : (["arch", "problem", "mapping"] as const));
      const doc = parseDocument(base[which]);
      const mutations = Array.from({ length: r.int(1, 3) }, () => `${which}: ${mutateYaml(r, doc)}`);
      let text: string;
      try {
        text = doc.toString();
      } catch {
        continue; // the YAML library cannot write the mutated document
      }
      const specs = { ...base, [which]: text };
      t.run(i, [base.label, ...mutations], TIMELOOP_NAMES, () => importTimeloop(specs), (res) => timeloopProblem(res, specs.problem));
    }
    expectClean(t);
  });

  it("raw text mutations of the YAML files and the map.txt printouts: valid or a ConfigError", () => {
    const t = new Tally("timeloop-text");
    for (let i = 0; i < 350 * SCALE; i++) {
      const r = new Rng(`${SEED}/timeloop-text/${i}`);
      const base = r.pick(TIMELOOP_BASES);
      const which = r.pick(["arch", "problem", "mapping", "mapping"] as const);
      let text = base[which];
      const mutations: string[] = [base.label];
      for (let k = r.int(1, 3); k > 0; k--) {
        const [next, what] = mutateText(r, text);
        text = next;
        mutations.push(`${which}: ${what}`);
      }
      const specs = { ...base, [which]: text };
      t.run(i, mutations, TIMELOOP_NAMES, () => importTimeloop(specs), (res) => timeloopProblem(res, specs.problem));
    }
    expectClean(t);
  });
});

// ---------------------------------------------------------------------------------------------
// SCALE-Sim
// ---------------------------------------------------------------------------------------------

const HEADER = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,";

/** A random valid topology: rows of small layers, a header or not, trailing commas or not. */
function randomTopology(r: Rng): string {
  const rows: string[] = [];
  for (let i = 0; i < r.int(1, 4); i++) {
    const dp = r.chance(0.25);
    const c = r.int(1, 8);
    const h = r.int(3, 30);
    const w = r.int(3, 30);
    const fields = [dp ? `Conv${i}_DP` : `Conv${i}`, h, w, r.int(1, 3), r.int(1, 3), c, dp ? c * r.int(1, 2) : r.int(1, 16), r.int(1, 3)];
    if (r.chance(0.2)) fields.push(r.int(1, 3));
    rows.push(fields.join(r.pick([",", ", "])) + (r.chance(0.7) ? "," : ""));
  }
  return (r.chance(0.6) ? `${HEADER}\n` : "") + rows.join("\n") + "\n";
}

function randomConfig(r: Rng): string {
  return `[general]\nrun_name = fuzz\n\n[architecture_presets]\nArrayHeight: ${r.int(1, 64)}\nArrayWidth: ${r.int(1, 64)}\nIfmapSramSzkB: ${r.int(1, 256)}\nFilterSramSzkB: ${r.int(1, 256)}\nOfmapSramSzkB: ${r.int(1, 256)}\nIfmapOffset: 0\nDataflow: ${r.pick(["os", "ws", "is"])}\nBandwidth: ${r.int(1, 64)}\n`;
}

const FIELD_VALUES = ["", "x", "0", "-1", "1.5", "1e3", " 7 ", "99999999999999999999", "0x10", "+3", "2147483648", "1048577", "DP", "3 4", "07"];

/** One CSV-level mutation of a topology, described. */
function mutateTopology(r: Rng, text: string): [string, string] {
  const lines = text.split("\n");
  const li = r.int(0, Math.max(0, lines.length - 2));
  const fields = lines[li]!.split(",");
  const fi = r.int(0, Math.max(0, fields.length - 1));
  switch (r.int(0, 6)) {
    case 0:
    case 1:
      fields[fi] = r.pick(FIELD_VALUES);
      break;
    case 2:
      fields.splice(fi, 1);
      break;
    case 3:
      fields.splice(fi, 0, r.pick(["", "1", "x"]));
      break;
    case 4:
      lines.splice(li, 0, r.pick(["", "  ", ",", ",,,,,,,,", lines[li]!]));
      return [lines.join("\n"), `line ${li + 1}: ${JSON.stringify(lines[li])} inserted`];
    case 5:
      lines.splice(li, 1);
      return [lines.join("\n"), `line ${li + 1} deleted`];
    default:
      return mutateText(r, text);
  }
  lines[li] = fields.join(",");
  return [lines.join("\n"), `line ${li + 1} -> ${JSON.stringify(lines[li])}`];
}

/** One mutation of a config, described. */
function mutateConfig(r: Rng, text: string): [string, string] {
  const lines = text.split("\n");
  const li = r.int(0, lines.length - 1);
  const kv = /^([^:=]+)([:=])(.*)$/.exec(lines[li]!);
  if (kv && r.chance(0.6)) {
    lines[li] = `${kv[1]}${kv[2]} ${r.pick([...FIELD_VALUES, "rs", "OS", "ws ", "is;comment", "64 # x"])}`;
    return [lines.join("\n"), `line ${li + 1} -> ${JSON.stringify(lines[li])}`];
  }
  if (kv && r.chance(0.5)) {
    lines.splice(li, 0, r.chance(0.5) ? lines[li]!.toLowerCase() : `${kv[1]}${kv[2]} 3`);
    return [lines.join("\n"), `line ${li + 1} repeated as ${JSON.stringify(lines[li])}`];
  }
  return mutateText(r, text);
}

/** Fields read independently of the importer: a row's name and numbers. */
function rowFields(line: string): string[] {
  const f = line.split(",").map((s) => s.trim());
  if (f[f.length - 1] === "") f.pop();
  return f;
}

/** What an imported SCALE-Sim input must satisfy: valid layers, one per data row, holding the row's numbers. */
function scaleSimProblem(res: ScaleSimImport, topology: string, config: string | undefined): string | undefined {
  const names = new Set<string>();
  for (const l of res.network.layers) {
    const p = layerProblem(l);
    if (p) return p;
    if (names.has(l.name!)) return `two layers are named ${l.name}`;
    names.add(l.name!);
  }
  if (!isDeepStrictEqual(archSpec(res.arch), res.arch)) return "the architecture changes when validated again";
  if (!["os", "ws", "is"].includes(res.dataflow)) return `dataflow ${res.dataflow}`;
  // The first row is a header only if it holds no number after the name.
  const rows = topology.split(/\r?\n/).filter((line) => line.trim() !== "");
  const data = rows.filter((line, i) => i > 0 || rowFields(line).slice(1).some((f) => /^\d+$/.test(f)));
  if (data.length !== res.network.layers.length) return `${data.length} data rows but ${res.network.layers.length} layers`;
  for (const [i, line] of data.entries()) {
    const [name, ...n] = rowFields(line);
    const l = res.network.layers[i]!;
    const got = [l.name, l.inHeight, l.inWidth, l.kernelHeight, l.kernelWidth, l.inChannels, l.outChannels, l.strides[0], l.strides[1]];
    const want = [name, ...n.slice(0, 7).map(Number), Number(n[7] ?? n[6])];
    if (!isDeepStrictEqual(got, want)) return `row ${JSON.stringify(line)} read as ${JSON.stringify(got)}`;
  }
  return config === undefined ? undefined : configEcho(res, config);
}

/** The config's keys, read here independently: each key given once with a plain number must be the field it sets. */
function configEcho(res: ScaleSimImport, config: string): string | undefined {
  let section = "";
  const seen = new Map<string, string[]>();
  for (const line of config.split(/\r?\n/)) {
    const t = line.replace(/[#;].*$/, "").trim();
    const sec = /^\[(.+)\]$/.exec(t);
    if (sec) section = sec[1]!.trim().toLowerCase();
    const kv = /^([^:=]+)[:=](.*)$/.exec(t);
    if (!sec && kv && section === "architecture_presets") seen.set(kv[1]!.trim(), [...(seen.get(kv[1]!.trim()) ?? []), kv[2]!.trim()]);
  }
  const once = (key: string) => (seen.get(key)?.length === 1 ? seen.get(key)![0] : undefined);
  const fields: [string, number][] = [["ArrayHeight", res.arch.array.rows], ["ArrayWidth", res.arch.array.cols], ["Bandwidth", res.arch.dram.bytesPerCycle]];
  for (const [key, got] of fields) {
    const v = once(key);
    if (v !== undefined && /^\d+$/.test(v) && Number(v) !== got) return `${key}: ${v} was read as ${got}`;
  }
  const df = once("Dataflow");
  if (df !== undefined && df.toLowerCase() !== res.dataflow) return `Dataflow: ${df} was read as ${res.dataflow}`;
  return undefined;
}

describe("fuzz: importScaleSim", () => {
  it("topology and config mutations (columns, numbers, commas, blank lines, keys): valid or a ConfigError", () => {
    const t = new Tally("scalesim");
    for (let i = 0; i < 700 * SCALE; i++) {
      const r = new Rng(`${SEED}/scalesim/${i}`);
      let topology = randomTopology(r);
      let config = r.chance(0.7) ? randomConfig(r) : undefined;
      const mutations: string[] = [];
      for (let k = r.int(1, 2); k > 0; k--) {
        if (config !== undefined && r.chance(0.35)) {
          const [c, what] = mutateConfig(r, config);
          config = c;
          mutations.push(`config: ${what}`);
        } else {
          const [tp, what] = mutateTopology(r, topology);
          topology = tp;
          mutations.push(`topology: ${what}`);
        }
      }
      const input = { topology, topologyFile: "net.csv", ...(config !== undefined ? { config, configFile: "net.cfg" } : {}) };
      t.run(i, mutations, ["net.csv", "net.cfg"], () => importScaleSim(input), (res) => scaleSimProblem(res, topology, config));
    }
    expectClean(t);
  });
});
