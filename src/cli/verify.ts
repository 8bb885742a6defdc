/**
 * `convsim verify` and `convsim reference`: check an RTL or hardware output dump against the
 * reference convolution, or write the reference output (and, from a seed, test vectors).
 */
import { ConfigError } from "../core/errors.js";
import { dtypeOfArray, type OperandType } from "../workload/dtype.js";
import { convShape, formatLayerShortForm, type ConvLayer } from "../workload/layer.js";
import { expectTensor, readNpy, writeNpy, type Tensor } from "../workload/npy.js";
import { compareOutputs, referenceConv, type ConvOptions, type OperandArray } from "../workload/reference.js";
import { layerTensors, type ValueRange } from "../workload/tensors.js";
import { intOption, loadLayer, parseOptions, type Command, type Io } from "./args.js";

const OPERAND_DTYPES = ["int8", "uint8", "int16"] as const;

function loadOperands(layer: ConvLayer, xPath: string, wPath: string): { x: OperandArray; w: OperandArray } {
  const s = convShape(layer);
  const x = readNpy(xPath);
  expectTensor(x, "--x", [layer.batch, layer.inChannels, layer.inHeight, layer.inWidth], OPERAND_DTYPES);
  const w = readNpy(wPath);
  expectTensor(w, "--w", [layer.outChannels, s.inChannelsPerGroup, layer.kernelHeight, layer.kernelWidth], OPERAND_DTYPES);
  return { x: x.data as OperandArray, w: w.data as OperandArray };
}

function convOptions(values: { "x-zero-point"?: string; "w-zero-point"?: string; bias?: string }, layer: ConvLayer): ConvOptions {
  const opts: ConvOptions = {};
  const zx = intOption("--x-zero-point", values["x-zero-point"]);
  const zw = intOption("--w-zero-point", values["w-zero-point"]);
  if (zx !== undefined) opts.xZeroPoint = zx;
  if (zw !== undefined) opts.wZeroPoint = zw;
  if (values.bias !== undefined) {
    const b = readNpy(values.bias);
    expectTensor(b, "--bias", [layer.outChannels], ["int32"]);
    opts.bias = b.data as Int32Array;
  }
  return opts;
}

const common = {
  layer: { type: "string" },
  x: { type: "string" },
  w: { type: "string" },
  "x-zero-point": { type: "string" },
  "w-zero-point": { type: "string" },
  bias: { type: "string" },
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
  --json              print the verdict as JSON
`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parseOptions(argv, { ...common, y: { type: "string" }, show: { type: "string" }, json: { type: "boolean" } });
    const layer = loadLayer(values.layer);
    for (const f of ["x", "w", "y"] as const) {
      if (values[f] === undefined) throw new ConfigError(`--${f}`, undefined, "be given (a .npy file)");
    }
    const show = intOption("--show", values.show) ?? 10;
    if (show < 0) throw new ConfigError("--show", show, "be a non-negative integer");
    const { x, w } = loadOperands(layer, values.x!, values.w!);
    const opts = convOptions(values, layer);
    const s = convShape(layer);
    const y: Tensor = readNpy(values.y!);
    expectTensor(y, "--y", [layer.batch, layer.outChannels, s.outHeight, s.outWidth], ["int32"]);
    const expected = referenceConv(layer, x, w, opts);
    const v = compareOutputs(layer, expected, y.data, show);
    if (values.json) {
      io.out(JSON.stringify({ layer, ...v }, null, 2) + "\n");
    } else {
      io.out(`layer   ${formatLayerShortForm(layer)}\n`);
      io.out(`verdict ${v.ok ? "PASS" : "FAIL"}: ${v.mismatches} of ${v.compared} elements differ\n`);
      if (v.first.length > 0) {
        io.out(`first mismatches (n, k, oh, ow): expected -> actual\n`);
        for (const m of v.first) io.out(`  [${m.n}, ${m.k}, ${m.oh}, ${m.ow}]  ${m.expected} -> ${m.actual}\n`);
      }
    }
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
  --seed S            generate operands from this seed instead
  --x-type T          with --seed: int8 | uint8 | int16 (default int8)
  --w-type T          with --seed: int8 | uint8 | int16 (default int8)
  --range R           with --seed: full | small (default full)
  --x-out FILE        with --seed: also write the input .npy
  --w-out FILE        with --seed: also write the weight .npy
  --x-zero-point A    input zero point (default 0)
  --w-zero-point B    weight zero point (default 0)
  --bias FILE         int32 bias, .npy, shape [outChannels]
  --out FILE          where to write y (.npy, int32, NCHW)
`,
  async run(argv: string[], io: Io): Promise<number> {
    const { values } = parseOptions(argv, {
      ...common,
      seed: { type: "string" },
      "x-type": { type: "string" },
      "w-type": { type: "string" },
      range: { type: "string" },
      "x-out": { type: "string" },
      "w-out": { type: "string" },
      out: { type: "string" },
    });
    const layer = loadLayer(values.layer);
    if (values.out === undefined) throw new ConfigError("--out", undefined, "be given (the .npy file to write)");
    let x: OperandArray;
    let w: OperandArray;
    if (values.seed !== undefined) {
      if (values.x !== undefined || values.w !== undefined) throw new ConfigError("--seed", values.seed, "not be combined with --x or --w");
      const types = { "x-type": values["x-type"] ?? "int8", "w-type": values["w-type"] ?? "int8" };
      for (const [k, t] of Object.entries(types)) {
        if (!(OPERAND_DTYPES as readonly string[]).includes(t)) throw new ConfigError(`--${k}`, t, `be one of ${OPERAND_DTYPES.join(", ")}`);
      }
      const range = values.range ?? "full";
      if (range !== "full" && range !== "small") throw new ConfigError("--range", range, "be full or small");
      const t = layerTensors(layer, { seed: values.seed, xType: types["x-type"] as OperandType, wType: types["w-type"] as OperandType, range: range as ValueRange });
      x = t.x;
      w = t.w;
      const s = convShape(layer);
      if (values["x-out"]) writeNpy(values["x-out"], { dtype: dtypeOf(x), shape: [layer.batch, layer.inChannels, layer.inHeight, layer.inWidth], data: x });
      if (values["w-out"]) writeNpy(values["w-out"], { dtype: dtypeOf(w), shape: [layer.outChannels, s.inChannelsPerGroup, layer.kernelHeight, layer.kernelWidth], data: w });
    } else {
      if (values.x === undefined || values.w === undefined) throw new ConfigError(values.x === undefined ? "--x" : "--w", undefined, "be given (or use --seed)");
      ({ x, w } = loadOperands(layer, values.x, values.w));
    }
    const opts = convOptions(values, layer);
    const y = referenceConv(layer, x, w, opts);
    const s = convShape(layer);
    writeNpy(values.out, { dtype: "int32", shape: [layer.batch, layer.outChannels, s.outHeight, s.outWidth], data: y });
    io.out(`wrote ${values.out}: int32 [${layer.batch}, ${layer.outChannels}, ${s.outHeight}, ${s.outWidth}] (${s.macs} MACs)\n`);
    return 0;
  },
};

function dtypeOf(a: OperandArray): OperandType {
  return dtypeOfArray(a) as OperandType;
}
