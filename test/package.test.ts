/**
 * convsim works as a dependency. The repository is copied to a temporary directory (so the test
 * never writes into the clone: no dist/, no tarball), packed there with `npm pack` (whose
 * prepack script runs the build), and the tarball is installed into a scratch project in
 * os.tmpdir(). The scratch project then
 *   (a) imports convsim from plain Node ESM and runs referenceConv on a small layer;
 *   (b) type-checks a TypeScript file that imports convsim, with the repository's own tsc
 *       (moduleResolution NodeNext), which proves the exports map and the .d.ts files;
 *   (c) runs the installed `convsim` command, which must use dist/ since the package has no src/.
 * The install is offline when npm's cache holds convsim's two runtime dependencies, `yaml` (the
 * Timeloop formats) and `@bufbuild/protobuf` (decodes ONNX models); seeded tensors use convsim's
 * own ARC4, checked against seedrandom by a test. If that fails it falls back to a normal install.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const repo = resolve(fileURLToPath(new URL("..", import.meta.url)));
const version = (JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as { version: string }).version;
const tscBin = join(repo, "node_modules", "typescript", "bin", "tsc");

/** Top-level entries of the clone that are never copied: installs, build output, VCS state. */
const SKIP = new Set(["node_modules", ".git", "dist", "coverage", "tmp"]);

let work = "";
let scratch = "";
let packedFiles: string[] = [];

/** Runs a command; throws with its output if it fails. */
function run(cmd: string, args: readonly string[], cwd: string, what: string): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: cleanEnv(), timeout: 150_000 });
  if (r.status !== 0) {
    throw new Error(`${what} failed (${cmd} ${args.join(" ")}, exit ${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}${r.error ? `\n${String(r.error)}` : ""}`);
  }
  return r;
}

/** The environment without the npm_* variables of an enclosing `npm test` (they would leak config). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.toLowerCase().startsWith("npm_")) env[k] = v;
  }
  return env;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "convsim-pack-"));
  const clone = join(work, "convsim");
  cpSync(repo, clone, {
    recursive: true,
    filter: (src) => {
      const rel = relative(repo, src);
      if (rel === "") return true;
      const top = rel.split(sep)[0]!;
      return !SKIP.has(top) && !rel.endsWith(".tgz");
    },
  });
  // The build needs the dev dependencies (tsc, @types/*); share the clone's install.
  symlinkSync(join(repo, "node_modules"), join(clone, "node_modules"), "dir");

  const packDir = join(work, "pack");
  mkdirSync(packDir);
  const pack = run("npm", ["pack", "--json", "--pack-destination", packDir], clone, "npm pack (prepare runs `npm run build`)");
  const jsonStart = pack.stdout.indexOf("[");
  const info = JSON.parse(pack.stdout.slice(jsonStart)) as { filename: string; files: { path: string }[] }[];
  packedFiles = info[0]!.files.map((f) => f.path);
  const tarball = join(packDir, basename(info[0]!.filename));

  scratch = join(work, "scratch");
  mkdirSync(scratch);
  writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "convsim-scratch", version: "1.0.0", private: true, type: "module" }, null, 2));
  const common = ["install", "--no-audit", "--no-fund", "--no-package-lock", tarball];
  const offline = spawnSync("npm", [...common, "--offline"], { cwd: scratch, encoding: "utf8", env: cleanEnv(), timeout: 150_000 });
  if (offline.status !== 0) {
    console.warn(`offline install failed (exit ${offline.status}); falling back to the registry:\n${offline.stderr}`);
    run("npm", common, scratch, "npm install of the tarball (online fallback)");
  }
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("convsim as an installed dependency", () => {
  it("packs dist/ (JS and .d.ts), bin/ and package.json, and no sources or tests", () => {
    expect(packedFiles).toContain("package.json");
    expect(packedFiles).toContain("bin/convsim.js");
    expect(packedFiles).toContain("dist/index.js");
    expect(packedFiles).toContain("dist/index.d.ts");
    expect(packedFiles).toContain("dist/cli/main.js");
    expect(packedFiles).toContain("dist/bundle/convsim.cjs");
    expect(packedFiles).toContain("dist/bundle/convsim.cjs.cache");
    expect(packedFiles).toContain("dist/bundle/worker.js");
    expect(packedFiles).toContain("bin/bundle-loader.js");
    expect(packedFiles.filter((f) => f.startsWith("src/") || f.startsWith("test/"))).toEqual([]);
    expect(packedFiles).toContain("LICENSE");
    const installed = join(scratch, "node_modules", "convsim");
    expect(existsSync(join(installed, "dist", "index.js"))).toBe(true);
    expect(existsSync(join(installed, "src"))).toBe(false);
    // Two runtime dependencies, yaml (Timeloop's specs) and the protobuf decoder of the ONNX
    // importer; no dev dependency comes along.
    expect(existsSync(join(scratch, "node_modules", "seedrandom"))).toBe(false);
    expect(Object.keys(JSON.parse(readFileSync(join(installed, "package.json"), "utf8")).dependencies ?? {})).toEqual(["@bufbuild/protobuf", "yaml"]);
    expect(existsSync(join(scratch, "node_modules", "yaml"))).toBe(true);
    expect(existsSync(join(scratch, "node_modules", "@bufbuild", "protobuf"))).toBe(true);
  });

  it("ships no source map that points at a file the package does not hold", () => {
    const installed = join(scratch, "node_modules", "convsim");
    const maps = packedFiles.filter((f) => f.endsWith(".map"));
    expect(maps).toContain("dist/index.js.map");
    const dangling: string[] = [];
    for (const m of maps) {
      const map = JSON.parse(readFileSync(join(installed, m), "utf8")) as { sources: string[]; sourcesContent?: (string | null)[] };
      map.sources.forEach((s, i) => {
        if (typeof map.sourcesContent?.[i] === "string") return;
        if (!existsSync(resolve(installed, dirname(m), s))) dangling.push(`${m} -> ${s}`);
      });
    }
    expect(dangling).toEqual([]);
  });

  it("imports from plain Node ESM and computes a convolution", () => {
    // x = 1..9 (3x3), w = all ones (2x2): y = [1+2+4+5, 2+3+5+6, 4+5+7+8, 5+6+8+9] = [12, 16, 24, 28];
    // with xZeroPoint 1 every tap loses 1: [8, 12, 20, 24].
    writeFileSync(
      join(scratch, "use.mjs"),
      [
        'import { referenceConv, convLayer } from "convsim";',
        "const layer = convLayer({ inChannels: 1, inHeight: 3, inWidth: 3, outChannels: 1, kernelHeight: 2, kernelWidth: 2 });",
        "const x = Int8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9);",
        "const w = Int8Array.of(1, 1, 1, 1);",
        "const y = referenceConv(layer, x, w);",
        "const z = referenceConv(layer, x, w, { xZeroPoint: 1 });",
        "let deep = 'reachable';",
        'try { await import("convsim/dist/workload/layer.js"); } catch (e) { deep = e.code; }',
        "console.log(JSON.stringify({ y: Array.from(y), z: Array.from(z), isInt32: y instanceof Int32Array, deep }));",
      ].join("\n"),
    );
    const r = run(process.execPath, ["use.mjs"], scratch, "node use.mjs");
    expect(JSON.parse(r.stdout)).toEqual({ y: [12, 16, 24, 28], z: [8, 12, 20, 24], isInt32: true, deep: "ERR_PACKAGE_PATH_NOT_EXPORTED" });
  });

  it("loads from CommonJS with a dynamic import(), as the README says", () => {
    writeFileSync(
      join(scratch, "use.cjs"),
      [
        "async function main() {",
        '  const { simulate, convLayer } = await import("convsim");',
        "  const layer = convLayer({ inChannels: 3, inHeight: 8, inWidth: 8, outChannels: 4, kernelHeight: 3, kernelWidth: 3 });",
        "  console.log(simulate({ layer }).verification.ok);",
        "}",
        "main();",
      ].join("\n"),
    );
    expect(run(process.execPath, ["use.cjs"], scratch, "node use.cjs").stdout.trim()).toBe("true");
  });

  it("type-checks a TypeScript consumer (NodeNext) against the published .d.ts", () => {
    writeFileSync(
      join(scratch, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: false, types: [] },
        files: ["use.ts"],
      }),
    );
    writeFileSync(
      join(scratch, "use.ts"),
      [
        'import { referenceConv, convLayer, ConfigError, type ConvLayer } from "convsim";',
        "const layer: ConvLayer = convLayer({ inChannels: 1, inHeight: 3, inWidth: 3, outChannels: 1, kernelHeight: 2, kernelWidth: 2 });",
        "const y: Int32Array = referenceConv(layer, new Int8Array(9), new Uint8Array(4), { xZeroPoint: 0 });",
        "const h: number = layer.strides[0];",
        "const e: Error = new ConfigError('f', 1, 'be 2');",
        "// The types are real, not `any`: each misuse below must be a type error.",
        "// @ts-expect-error plain arrays are not operand arrays",
        "referenceConv(layer, [1, 2, 3], new Int8Array(4));",
        "// @ts-expect-error a ConvLayer has no field `kernel`",
        "convLayer({ inChannels: 1, inHeight: 3, inWidth: 3, outChannels: 1, kernel: 2 });",
        "// @ts-expect-error the result is an Int32Array",
        "const s: string = referenceConv(layer, new Int8Array(9), new Int8Array(4));",
        "export { y, h, e, s };",
      ].join("\n"),
    );
    run(process.execPath, [tscBin, "-p", "tsconfig.json"], scratch, "tsc --noEmit in the scratch project");
  });

  it("runs the installed convsim command from dist/", () => {
    const bin = join(scratch, "node_modules", ".bin", "convsim");
    expect(run(bin, ["--version"], scratch, "convsim --version").stdout.trim()).toBe(version);
    expect(run("npx", ["--no", "--", "convsim", "--version"], scratch, "npx --no -- convsim --version").stdout.trim()).toBe(version);
    expect(run(bin, ["help"], scratch, "convsim help").stdout).toMatch(/Usage: convsim <command>/);
    // The package holds no src/, so the command must not have needed tsx.
    expect(readdirSync(join(scratch, "node_modules", "convsim"))).not.toContain("src");
  });

  it("runs a network on worker threads from dist/ and simulates a layer", () => {
    const bin = join(scratch, "node_modules", ".bin", "convsim");
    const net = join(scratch, "tiny-net.json");
    writeFileSync(
      net,
      JSON.stringify({
        name: "tiny",
        layers: [
          { name: "a", inChannels: 3, inHeight: 8, inWidth: 8, outChannels: 4, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] },
          { name: "b", inChannels: 4, inHeight: 8, inWidth: 8, outChannels: 4, kernelHeight: 1, kernelWidth: 1 },
        ],
      }),
    );
    const out = run(bin, ["run", "--net", net, "--jobs", "2", "--format", "csv"], scratch, "convsim run --jobs 2").stdout;
    expect(out.match(/PASS/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    const sim = run(bin, ["simulate", "--layer", "c=4,hw=6,k=5,r=3,pad=1", "--arch", "eyeriss", "--dataflow", "rs", "--checked"], scratch, "convsim simulate").stdout;
    expect(sim).toContain("PASS");
  });

  it("runs the one-file bundle of the command, workers included, without dist/cli", () => {
    // bin/convsim.js prefers dist/bundle/convsim.cjs; with dist/cli/main.js gone it can run nothing else.
    const bin = join(scratch, "node_modules", ".bin", "convsim");
    const pkg = join(scratch, "node_modules", "convsim");
    const cli = join(pkg, "dist", "cli", "main.js");
    const cache = join(pkg, "dist", "bundle", "convsim.cjs.cache");
    // How bin/bundle-loader.js found the code cache, under the V8 flags the command sets.
    const cacheState = () =>
      run(
        process.execPath,
        ["--input-type=module", "-e", `import { setFlagsFromString } from "node:v8"; import { tuningFlags } from ${JSON.stringify(join(pkg, "bin", "v8-tuning.js"))}; for (const f of tuningFlags([], "")) setFlagsFromString(f); const { loadBundle } = await import(${JSON.stringify(join(pkg, "bin", "bundle-loader.js"))}); console.log(loadBundle().cache);`],
        scratch,
        "load the bundle",
      ).stdout.trim();
    renameSync(cli, `${cli}.away`);
    const good = readFileSync(cache);
    try {
      expect(cacheState()).toBe("used");
      expect(run(bin, ["--version"], scratch, "convsim --version (bundle)").stdout.trim()).toBe(version);
      const out = run(bin, ["run", "--net", join(scratch, "tiny-net.json"), "--jobs", "2", "--format", "csv"], scratch, "convsim run --jobs 2 (bundle)").stdout;
      expect(out.match(/PASS/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
      // A cache made from another bundle (its digest differs) is never given to V8; the command runs.
      const other = Buffer.from(good);
      other[0] = other[0]! ^ 0xff;
      writeFileSync(cache, other);
      expect(cacheState()).toBe("stale");
      expect(run(bin, ["run", "--net", join(scratch, "tiny-net.json"), "--jobs", "2", "--format", "csv"], scratch, "convsim run, stale cache").stdout).toBe(out);
      rmSync(cache);
      expect(cacheState()).toBe("none");
      expect(run(bin, ["--version"], scratch, "convsim --version (no cache)").stdout.trim()).toBe(version);
    } finally {
      writeFileSync(cache, good);
      renameSync(`${cli}.away`, cli);
    }
  });
});
