/**
 * Property-based fuzz of the CLI's argument layer and of the API boundary (fast-check, issue 18):
 * malformed and extreme arguments, in-process (no process per case). Every CLI case must end with
 * exit 0, 1 or 2; an exit 2 prints exactly one line, naming the command and where the usage is;
 * no case prints a stack trace. Every API case returns or throws a ConfigError. Valid runs stay
 * tiny: the cases carry `--max-macs` and `--max-memory`, and outputs go to a temporary directory.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import { resolveArch } from "../../src/arch/presets.js";
import { simulate } from "../../src/dataflow/simulate.js";
import { convLayer, parseLayerShortForm } from "../../src/workload/layer.js";
import { loadNetwork } from "../../src/workload/networks.js";
import { cli } from "./helpers.js";
import { main } from "../../src/cli/main.js";

const dir = mkdtempSync(join(tmpdir(), "convsim-fuzz-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const layerFile = join(dir, "layer.json");
writeFileSync(layerFile, JSON.stringify({ inChannels: 2, inHeight: 5, inWidth: 5, outChannels: 2, kernelHeight: 3, kernelWidth: 3 }));
const netFile = join(dir, "net.json");
writeFileSync(netFile, JSON.stringify({ name: "tiny", layers: [{ name: "a", inChannels: 2, inHeight: 4, inWidth: 4, outChannels: 2, kernelHeight: 1, kernelWidth: 1, batch: 0 }] }));
const SMALL = "c=2,hw=5,k=2,r=3";
// The operands of SMALL, for verify and reference --x/--w.
const seeded = await cli("reference", "--layer", SMALL, "--seed", "1", "--x-out", join(dir, "x.npy"), "--w-out", join(dir, "w.npy"), "--out", join(dir, "y.npy"));
if (seeded.code !== 0) throw new Error(seeded.err);

const tinyNet = join(dir, "tiny.json");
writeFileSync(tinyNet, JSON.stringify({ name: "tiny", layers: [{ name: "a", inChannels: 2, inHeight: 4, inWidth: 4, outChannels: 2, kernelHeight: 3, kernelWidth: 3 }] }));
const out = (f: string) => join(dir, f);
/** A valid invocation of each command (tiny work), which the fuzz mutates. */
const BASELINES: Readonly<Record<string, readonly string[]>> = {
  run: ["--net", tinyNet, "--jobs", "1"],
  compare: ["--net", tinyNet, "--dataflows", "os", "--jobs", "1"],
  sweep: ["--layer", SMALL, "--capacities", "1KiB", "--dataflows", "os", "--jobs", "1"],
  simulate: ["--layer", SMALL],
  bound: ["--layer", SMALL, "--capacity", "1KiB"],
  verify: ["--layer", SMALL, "--x", out("x.npy"), "--w", out("w.npy"), "--y", out("y.npy")],
  reference: ["--layer", SMALL, "--seed", "1", "--out", out("o1.npy")],
  help: [],
  nosuch: [],
};
const COMMANDS = Object.keys(BASELINES);
const OUTPUT_FLAGS = ["--out", "--svg", "--x-out", "--w-out"];
const FLAGS = [
  "--layer", "--layers", "--net", "--arch", "--arch-override", "--dataflow", "--dataflows", "--memory", "--batch", "--seed", "--x", "--w", "--y",
  "--x-type", "--w-type", "--x-zero-point", "--w-zero-point", "--capacity", "--rf-capacity", "--boundary", "--capacities", "--select", "--format",
  "--show", "--range", "--jobs", "--energy", "--bias", "--max-memory", "--max-macs", "--checked", "--json", "--per-layer", "--mapping", "--bogus", "-x",
];

/** Numbers a user may mistype. */
const numbers = fc.constantFrom("", " ", "0", "1", "2", "-1", "1e1", "0x3", "1.5", "3x", "NaN", "Infinity", "99999999999999999999", "1000000000", "65536", "-0", "+1", "08");
/** Short forms: known and unknown keys with well- and ill-formed values, commas and spaces. */
const shortForm = fc
  .array(fc.tuple(fc.constantFrom("n", "c", "h", "w", "hw", "k", "r", "stride", "pad", "dil", "g", "name", "q", "C", ""), fc.oneof(numbers, fc.constantFrom("2x3", "1x1x1x1", "5000000000", "3x"))), { maxLength: 7 })
  .chain((pairs) => fc.constantFrom(",", ", ", " ", ",,").map((sep) => pairs.map(([k, v]) => `${k}=${v}`).join(sep)));
const jsonText = fc.oneof(
  fc.json({ maxDepth: 3 }),
  fc.constantFrom('{"__proto__":{"rows":2}}', '{"array":{"rows":2048,"cols":2048}}', '{"rf":{"psumEntries":1000000000}}', '{"dram":{"maxOutstanding":1000000000000}}', '{"gbuf":{"capacityBytes":"64KiB"}}', '{"constructor":{}}', "{", "[]"),
);
const values = fc.oneof(
  numbers,
  shortForm,
  jsonText,
  fc.constantFrom(SMALL, "c=3,hw=8,k=4,r=3,pad=1", "chen2020", "eyeriss", "systolic", "ws", "os", "rs", "is", "alexnet", "int8", "uint8", "int16", "json", "csv", "md", "table", "dram", "gbuf", "both", "16KiB", "1KiB..4KiB", "512W", "full", "small", "ideal", "conv1", "1-2"),
  fc.constantFrom(layerFile, netFile, join(dir, "x.npy"), join(dir, "w.npy"), join(dir, "y.npy"), join(dir, "missing.json")),
  fc.string({ maxLength: 12 }),
);
/** Output paths: fresh files in the temporary directory, an input, a directory, a missing directory. */
const outputPath = fc.oneof(fc.constantFrom("o1.npy", "o2.txt", "o3.svg").map((f) => join(dir, f)), fc.constantFrom(join(dir, "x.npy"), dir, join(dir, "nodir", "y.npy"), ""));
const option = fc.oneof(
  { weight: 1, arbitrary: fc.constantFrom(...OUTPUT_FLAGS).chain((f) => outputPath.map((p) => [f, p])) },
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...FLAGS), values).map(([f, v]) => (f === "--checked" || f === "--json" || f === "--per-layer" || f === "--mapping" ? [f] : [f, v])) },
);
/** A mutation of a baseline: set a flag (replacing its value when present), drop a flag, or append raw tokens. */
const mutation = fc.oneof(
  { weight: 4, arbitrary: option.map((o) => ({ kind: "set" as const, tokens: o })) },
  { weight: 1, arbitrary: fc.constantFrom(...FLAGS).map((f) => ({ kind: "drop" as const, tokens: [f] })) },
  { weight: 1, arbitrary: fc.array(values, { maxLength: 2 }).map((t) => ({ kind: "raw" as const, tokens: t })) },
);
function mutate(base: readonly string[], m: { kind: "set" | "drop" | "raw"; tokens: string[] }): string[] {
  const args = [...base];
  const at = args.indexOf(m.tokens[0]!);
  if (m.kind === "raw") return [...args, ...m.tokens];
  if (m.kind === "drop") return at < 0 ? args : [...args.slice(0, at), ...args.slice(at + (args[at + 1]?.startsWith("--") === false ? 2 : 1))];
  if (at >= 0 && m.tokens.length === 2 && args[at + 1] !== undefined && !args[at + 1]!.startsWith("--")) args[at + 1] = m.tokens[1]!;
  else args.push(...m.tokens);
  return args;
}
const argv = fc.tuple(fc.constantFrom(...COMMANDS), fc.array(mutation, { maxLength: 3 })).map(([cmd, ms]) => [cmd, ...ms.reduce<string[]>((a, m) => mutate(a, m), [...BASELINES[cmd]!])]);
/** Keeps valid runs tiny and in this thread: limits and one job where the command takes them. */
function bounded(args: string[]): string[] {
  const cmd = args[0]!;
  const limits = ["run", "simulate", "compare", "sweep", "verify", "reference"].includes(cmd) ? ["--max-macs", "20000", "--max-memory", "256MiB"] : [];
  const oneThread = ["run", "compare", "sweep"].includes(cmd) && !args.includes("--jobs") ? ["--jobs", "1"] : [];
  return [...args, ...(args.includes("--max-macs") || args.includes("--max-memory") ? [] : limits), ...oneThread];
}

describe("CLI fuzz", () => {
  it("ends every case with exit 0, 1 or 2 and at most a one-line error, never a stack trace", async () => {
    await fc.assert(
      fc.asyncProperty(argv, async (args) => {
        const r = await cli(...bounded(args));
        expect([0, 1, 2], `${JSON.stringify(args)}: ${r.err}`).toContain(r.code);
        expect(r.err + r.out).not.toMatch(/\n\s+at .+:\d+:\d+\)?\n/);
        if (r.code === 2) {
          expect(r.err.trimEnd().split("\n"), JSON.stringify(args)).toHaveLength(1);
          expect(r.err).toMatch(/^convsim( \w+)?: .*\(see convsim help( \w+)?\)\n$/);
        }
      }),
      { numRuns: 1000, seed: 18 },
    );
  });

  it("the issue's examples are exit-2 errors naming the option as typed", async () => {
    const STAGED = JSON.stringify({ gbuf: { keep: { input: false, weight: false, output: true } }, rf: { loops: [{ dim: "C", factor: 1024 }, { dim: "R", factor: 11 }, { dim: "S", factor: 11 }], keep: { input: false, weight: false, output: true } } });
    const cases: [string[], string][] = [
      [["simulate", "--layer", "c=3,,hw=8,k=1,r=1"], "--layer must not have an empty pair"],
      [["simulate", "--layer", "c=3,hw=8,k=1,r=1,c=5"], "--layer c must be given once"],
      [["simulate", "--layer", "c=abc,hw=8,k=1,r=1"], '--layer c must be a decimal integer (no sign, exponent, hex or fraction); got "abc"'],
      [["simulate", "--layer", "c=1,hw=8x,k=1,r=1"], '--layer hw must be N or NxN, N a decimal integer; got "8x"'],
      [["simulate", "--layer", "c=1,hw=5000000000,k=1,r=1"], "--layer hw must be an integer in [1, 1048576]; got 5000000000"],
      [["simulate", "--layer", SMALL, "--x-zero-point", "0x10"], '--x-zero-point must be a decimal integer (no exponent, hex, fraction or spaces); got "0x10"'],
      [["simulate", "--layer", SMALL, "--seed", ""], '--seed must be a decimal integer in [0, 4294967295]'],
      [["simulate", "--layer", SMALL, "--arch-override", '{"__proto__":{"rows":2}}'], "--arch-override.__proto__ must not be used as a key"],
      [["simulate", "--layer", SMALL, "--arch-override", '{"array":{"rows":2048,"cols":2048}}'], "arch.array (rows x cols) and arch.rf must give register files of at most 1 GiB"],
      [["simulate", "--layer", SMALL, "--arch-override", '{"rf":{"psumEntries":1000000000}}'], "--arch-override rf.psumEntries must be an integer in [0, 1048576]; got 1000000000"],
      [["simulate", "--layer", SMALL, "--arch-override", '{"dram":{"maxOutstanding":1000000000}}'], "--arch-override dram.maxOutstanding must be an integer in [1, 65536]; got 1000000000"],
      [["simulate", "--layer", "c=40000,hw=200,k=40000,r=1", "--max-memory", "4GiB"], "--layer must fit the memory limit of 4 GiB (set by --max-memory)"],
      [["simulate", "--layer", "c=64,hw=56,k=64,r=3", "--max-macs", "1000000"], "--layer must take at most 1.00e+6 MACs (the work limit; raise it with --max-macs)"],
      // (a legal mapping staging each PE's whole RF tile: refused once the mapping is known, still naming the option)
      [["simulate", "--layer", "c=1024,hw=11,k=1,r=11", "--arch", "eyeriss", "--dataflow", STAGED, "--max-memory", "256MiB"], "mapping.rf must fit the memory limit of 256 MiB (set by --max-memory)"],
      [["run", "--batch", "1e9"], '--batch must be a decimal integer in [1, 65536] (no exponent, hex, fraction or spaces); got "1e9"'],
      [["run", "--net", netFile, "--jobs", "1"], "network.layers[0].batch must be an integer in [1, 65536]; got 0"],
      [["bound", "--layer", SMALL, "--select", "conv1", "--capacity", "1KiB"], '--select must be used with --net (it picks from a network); got "conv1"'],
      [["reference", "--layer", SMALL, "--x", join(dir, "x.npy"), "--w", join(dir, "w.npy"), "--x-out", join(dir, "x2.npy"), "--out", join(dir, "o.npy")], "--x-out must be used with --seed only"],
      [["reference", "--layer", SMALL, "--x", join(dir, "x.npy"), "--w", join(dir, "w.npy"), "--out", join(dir, "x.npy")], "--out must not be an input of the command (it is --x, which would be overwritten)"],
      [["run", "--out", join(dir, "r.txt"), "--svg", join(dir, "r.txt")], "--svg must not be the same file as --out"],
      [["run", "--out", join(dir, "nodir", "r.txt")], "--out must be in an existing directory"],
      [["reference", "--layer", "c=1,hw=46000,k=1,r=1", "--seed", "1", "--out", join(dir, "big.npy")], "--out must receive a .npy of at most 4.00 GiB"],
    ];
    for (const [args, message] of cases) {
      const r = await cli(...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.err, args.join(" ")).toContain(message);
      expect(r.err.trimEnd().split("\n")).toHaveLength(1);
    }
  });

  it("help help, --version and an unknown command", async () => {
    expect((await cli("help", "help")).out).toContain("Usage: convsim help [<command>]");
    expect((await cli("--version")).out).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect((await cli("nosuch")).err).toBe('convsim: unknown command "nosuch" (see convsim help)\n');
    let err = "";
    await main(["simulate", "--layer"], { out: () => undefined, err: (t) => (err += t), isTTY: false });
    expect(err).toBe("convsim simulate: --layer must be followed by a value; got undefined (see convsim help simulate)\n");
  });
});

describe("API fuzz", () => {
  const isConfigError = (f: () => unknown): boolean => {
    try {
      f();
      return true;
    } catch (e) {
      if (e instanceof ConfigError) return true;
      throw e;
    }
  };
  const dims = fc.oneof(fc.integer({ min: 1, max: 6 }), fc.constantFrom(0, -1, 1.5, 2 ** 40, Number.NaN, "3", null));
  const layer = fc.record(
    { inChannels: dims, inHeight: dims, inWidth: dims, outChannels: dims, kernelHeight: dims, kernelWidth: dims, groups: fc.constantFrom(1, 2, 0), batch: fc.constantFrom(1, 2, 0, 70000) },
    { requiredKeys: ["inChannels", "inHeight", "inWidth", "outChannels", "kernelHeight", "kernelWidth"] },
  );
  const overrides = fc.oneof(fc.object({ maxDepth: 2 }), fc.constantFrom({ array: { rows: 4096, cols: 4096 } }, { rf: { sharedEntries: 2 ** 20 } }, { dram: { latencyCycles: 0 } }, JSON.parse('{"__proto__":{"x":1}}') as object, { gbuf: { capacityBytes: 2 ** 32 } }));

  it("simulate returns or throws a ConfigError for any options", () => {
    fc.assert(
      fc.property(layer, fc.constantFrom("chen2020", "eyeriss", "systolic", "nope"), fc.option(overrides), fc.constantFrom("chen2020", "ws", "os", "rs", "is", "{", "x"), (l, arch, over, dataflow) =>
        isConfigError(() => simulate({ layer: l as never, arch, ...(over ? { archOverrides: over as never } : {}), dataflow, limits: { maxMacs: 20_000, maxMemoryBytes: 2 ** 28 } })),
      ),
      { numRuns: 300, seed: 18 },
    );
  });

  it("the layer, arch, network and short-form parsers return or throw a ConfigError", () => {
    fc.assert(fc.property(fc.anything(), (v) => isConfigError(() => convLayer(v as never))), { numRuns: 300, seed: 18 });
    fc.assert(fc.property(fc.anything(), fc.anything(), (a, o) => isConfigError(() => resolveArch(a as never, o as never))), { numRuns: 300, seed: 18 });
    fc.assert(fc.property(fc.anything(), (v) => isConfigError(() => loadNetwork(v))), { numRuns: 300, seed: 18 });
    fc.assert(fc.property(fc.string(), (t) => isConfigError(() => parseLayerShortForm(t))), { numRuns: 1000, seed: 18 });
  });
});
