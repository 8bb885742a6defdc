/**
 * `convsim verify` and `convsim reference`: check an RTL or hardware output dump against the
 * reference convolution, or write the reference output (and, from a seed, test vectors).
 */
import { ConfigError, requireOneOf } from "../core/errors.js";
import { formatBytes, groupDigits } from "../core/units.js";
import { checkMemory, checkWork, referenceMemory } from "../dataflow/budget.js";
import { renderTables, type OutputFormat, type Table } from "../report/format.js";
import { dtypeInfo, dtypeOfArray, type OperandType } from "../workload/dtype.js";
import { convShape, formatLayerShortForm, type ConvLayer } from "../workload/layer.js";
import { encodeNpy, expectTensor, readNpy, type Tensor } from "../workload/npy.js";
import { compareOutputs, referenceConv, type ConvOptions, type OperandArray, type Verification } from "../workload/reference.js";
import { layerTensors, type ValueRange } from "../workload/tensors.js";
import { loadLayer, parseOptions, type Command, type Io } from "./args.js";
import { busyNote } from "./progress.js";
import { CLI_LIMIT_NAMES, LIMIT_OPTIONS, LIMIT_USAGE, limitsOption, parseIntegerFlag, parseSeedFlag } from "./numbers.js";
import { inputPaths, loadOperandFiles, OPERAND_TYPE_OPTIONS, operandTypesOption, refuseTypesWithFiles, ZERO_POINT_OPTIONS, zeroPointsOption } from "./operands.js";
import { checkNpySize, checkOutputPaths, formatOption, writeOutputFile } from "./outputs.js";

/** The reference's options from the command line: zero points checked against the operands' types (named as typed), and the bias. */
function convOptions(values: { "x-zero-point"?: string; "w-zero-point"?: string; bias?: string }, layer: ConvLayer, x: OperandArray, w: OperandArray): ConvOptions {
  const opts: ConvOptions = {};
  const zp = zeroPointsOption(values, { input: dtypeOf(x), weight: dtypeOf(w) });
  if (zp.input !== undefined) opts.xZeroPoint = zp.input;
  if (zp.weight !== undefined) opts.wZeroPoint = zp.weight;
  if (values.bias !== undefined) {
    const b = readNpy(values.bias);
    expectTensor(b, "--bias", [layer.outChannels], ["int32"]);
    opts.bias = b.data as Int32Array;
  }
  return opts;
}

/** Types an operand file will have, for the memory estimate before it is read: int16, the widest. */
const WIDEST = { input: "int16", weight: "int16" } as const;

/**
 * Computes the reference convolution after checking its memory and work limits, with a note on
 * stderr while it runs when stderr is a terminal.
 */
function checkedReference(io: Io, command: string, layer: ConvLayer, x: OperandArray, w: OperandArray, opts: ConvOptions): Int32Array {
  const done = busyNote(io, `convsim ${command}: computing the reference convolution (${groupDigits(convShape(layer).macs)} MACs)...`);
  try {
    return referenceConv(layer, x, w, opts);
  } finally {
    done();
  }
}

const common = {
  layer: { type: "string" },
  x: { type: "string" },
  w: { type: "string" },
  ...ZERO_POINT_OPTIONS,
  bias: { type: "string" },
  format: { type: "string" },
  ...LIMIT_OPTIONS,
} as const;

/** `convsim verify`: compare a dumped output with the reference convolution. */
export const verifyCommand: Command = {
  name: "verify",
  summary: "Check an output dump (.npy) against the reference convolution",
  usage: `Usage: convsim verify --layer L --x x.npy --w w.npy --y y.npy [options]

Computes the reference convolution (ONNX ConvInteger semantics, int32 wrap-around) of x and w
and compares it with y element by element. Exits 0 when every element matches, 1 otherwise.

  --layer L           the layer: a JSON file, inline JSON, or a short form (c=3,hw=224,k=64,r=3,pad=1)
  --x FILE            input, .npy, shape [batch, inChannels, inHeight, inWidth], int8|uint8|int16
  --w FILE            weights, .npy, shape [outChannels, inChannels/groups, kH, kW], int8|uint8|int16
  --y FILE            the output to check, .npy, int32, shape [batch, outChannels, outH, outW]
  --x-zero-point A    input zero point (default 0)
  --w-zero-point B    weight zero point (default 0)
  --bias FILE         int32 bias, .npy, shape [outChannels]
  --show N            how many mismatches to list (default 10)
  --format F          table (default), json, csv or md
  --json              the same as --format json
${LIMIT_USAGE}
`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parseOptions(argv, { ...common, y: { type: "string" }, show: { type: "string" }, json: { type: "boolean" } });
    const format = formatOption(values.format, values.json);
    const layer = loadLayer(values.layer);
    for (const f of ["x", "w", "y"] as const) {
      if (values[f] === undefined) throw new ConfigError(`--${f}`, undefined, "be given (a .npy file)");
    }
    const show = parseIntegerFlag("--show", values.show, 0, 1_000_000) ?? 10;
    const limits = limitsOption(values);
    checkMemory(referenceMemory(layer, WIDEST, 2, "--layer"), limits, CLI_LIMIT_NAMES);
    checkWork(convShape(layer).macs, limits, CLI_LIMIT_NAMES);
    const { x, w } = loadOperandFiles(layer, values.x!, values.w!);
    const opts = convOptions(values, layer, x, w);
    const s = convShape(layer);
    const y: Tensor = readNpy(values.y!);
    expectTensor(y, "--y", [layer.batch, layer.outChannels, s.outHeight, s.outWidth], ["int32"]);
    const expected = checkedReference(io, "verify", layer, x, w, opts);
    const v = compareOutputs(layer, expected, y.data, show);
    io.out(renderVerdict(layer, v, format));
    return v.ok ? 0 : 1;
  },
};

/** `convsim reference`: write the reference output (int32 .npy), from given or seeded operands. */
export const referenceCommand: Command = {
  name: "reference",
  summary: "Write the reference convolution's output (int32 .npy), from .npy operands or a seed",
  usage: `Usage: convsim reference --layer L (--x x.npy --w w.npy | --seed S) --out y.npy [options]

Writes the reference output of the layer as an int32 .npy file. With --seed instead of --x/--w,
the operands are generated deterministically and can be saved with --x-out/--w-out: test
vectors for an RTL testbench.

  --layer L           the layer: a JSON file, inline JSON, or a short form (c=3,hw=224,k=64,r=3,pad=1)
  --x FILE, --w FILE  operands, .npy (types are taken from the files)
  --seed S            generate operands from this seed instead (a decimal integer)
  --x-type T          with --seed: int8 | uint8 | int16 (default int8)
  --w-type T          with --seed: int8 | uint8 | int16 (default int8)
  --range R           with --seed: full | small (default full)
  --x-out FILE        with --seed: also write the input .npy (an error with --x/--w)
  --w-out FILE        with --seed: also write the weight .npy
  --x-zero-point A    input zero point (default 0)
  --w-zero-point B    weight zero point (default 0)
  --bias FILE         int32 bias, .npy, shape [outChannels]
  --out FILE          where to write y (.npy, int32, NCHW); every output is checked before any
                      work (existing directory, not an input, not another output) and written
                      through a temporary file
  --format F          how to report the file written: table (default), json, csv or md
${LIMIT_USAGE}
`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parseOptions(argv, { ...common, seed: { type: "string" }, ...OPERAND_TYPE_OPTIONS, range: { type: "string" }, "x-out": { type: "string" }, "w-out": { type: "string" }, out: { type: "string" } });
    const format = formatOption(values.format);
    const layer = loadLayer(values.layer);
    if (values.out === undefined) throw new ConfigError("--out", undefined, "be given (the .npy file to write)");
    const seed = parseSeedFlag(values.seed);
    if (seed === undefined) {
      if (values.x === undefined || values.w === undefined) throw new ConfigError(values.x === undefined ? "--x" : "--w", undefined, "be given (or use --seed)");
      refuseTypesWithFiles(values);
      for (const f of ["x-out", "w-out", "range"] as const) {
        if (values[f] !== undefined) throw new ConfigError(`--${f}`, values[f], "be used with --seed only (with --x and --w the operands are the files)");
      }
    } else if (values.x !== undefined || values.w !== undefined) throw new ConfigError("--seed", values.seed, "not be combined with --x or --w");
    checkOutputPaths(["out", "x-out", "w-out"].map((f) => ({ flag: `--${f}`, path: values[f as "out"] })), inputPaths(values));
    const types = seed === undefined ? WIDEST : operandTypesOption(values);
    const s = convShape(layer);
    checkNpySize("--out", values.out, s.outputElements, 4, "output");
    checkNpySize("--x-out", values["x-out"], s.inputElements, dtypeInfo(types.input).bytes, "input");
    checkNpySize("--w-out", values["w-out"], s.weightElements, dtypeInfo(types.weight).bytes, "weight tensor");
    const range = requireOneOf("--range", values.range ?? "full", ["full", "small"] as const);
    const limits = limitsOption(values);
    checkMemory(referenceMemory(layer, types, 1, "--layer"), limits, CLI_LIMIT_NAMES);
    checkWork(s.macs, limits, CLI_LIMIT_NAMES);
    const { x, w } = seed === undefined ? loadOperandFiles(layer, values.x!, values.w!) : layerTensors(layer, { seed, xType: types.input, wType: types.weight, range: range as ValueRange });
    const opts = convOptions(values, layer, x, w);
    const y = checkedReference(io, "reference", layer, x, w, opts);
    if (values["x-out"]) writeOutputFile("--x-out", values["x-out"], encodeNpy({ dtype: dtypeOf(x), shape: [layer.batch, layer.inChannels, layer.inHeight, layer.inWidth], data: x }));
    if (values["w-out"]) writeOutputFile("--w-out", values["w-out"], encodeNpy({ dtype: dtypeOf(w), shape: [layer.outChannels, s.inChannelsPerGroup, layer.kernelHeight, layer.kernelWidth], data: w }));
    const shape = [layer.batch, layer.outChannels, s.outHeight, s.outWidth];
    const done = busyNote(io, `convsim reference: writing ${values.out} (${formatBytes(y.byteLength)})...`);
    try {
      writeOutputFile("--out", values.out, encodeNpy({ dtype: "int32", shape, data: y }));
    } finally {
      done();
    }
    io.out(renderWritten(values.out, shape, s.macs, format));
    return 0;
  },
};

function dtypeOf(a: OperandArray): OperandType {
  return dtypeOfArray(a) as OperandType;
}

/** verify's verdict in a format. */
function renderVerdict(layer: ConvLayer, v: Verification, format: OutputFormat): string {
  if (format === "json") return JSON.stringify({ layer, ...v }, null, 2) + "\n";
  if (format === "table") {
    const lines = [`layer   ${formatLayerShortForm(layer)}`, `verdict ${v.ok ? "PASS" : "FAIL"}: ${v.mismatches} of ${v.compared} elements differ`];
    if (v.first.length > 0) lines.push("first mismatches (n, k, oh, ow): expected -> actual", ...v.first.map((m) => `  [${m.n}, ${m.k}, ${m.oh}, ${m.ow}]  ${m.expected} -> ${m.actual}`));
    return lines.join("\n") + "\n";
  }
  const verdict: Table = {
    columns: [{ key: "layer", header: "layer" }, { key: "verdict", header: "verdict" }, { key: "mismatches", header: "mismatches", kind: "count" }, { key: "compared", header: "compared", kind: "count" }],
    rows: [{ layer: formatLayerShortForm(layer), verdict: v.ok ? "PASS" : "FAIL", mismatches: v.mismatches, compared: v.compared }],
  };
  const first: Table = {
    title: "first mismatches",
    columns: ["n", "k", "oh", "ow", "expected", "actual"].map((key) => ({ key, header: key, kind: "count" as const })),
    rows: v.first.map((m) => ({ ...m })),
  };
  return renderTables(v.first.length > 0 ? [verdict, first] : [verdict], format);
}

/** reference's report of the file it wrote, in a format. */
function renderWritten(out: string, shape: readonly number[], macs: number, format: OutputFormat): string {
  if (format === "json") return JSON.stringify({ out, dtype: "int32", shape, macs }, null, 2) + "\n";
  if (format === "table") return `wrote ${out}: int32 [${shape.join(", ")}] (${macs} MACs)\n`;
  const t: Table = {
    columns: [{ key: "out", header: "file" }, { key: "dtype", header: "dtype" }, { key: "shape", header: "shape" }, { key: "macs", header: "MACs", kind: "count" }],
    rows: [{ out, dtype: "int32", shape: shape.join("x"), macs }],
  };
  return renderTables([t], format);
}
