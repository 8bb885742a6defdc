#!/usr/bin/env node
// The convsim command. It runs the compiled dist/ when it is at least as new as every source file
// (npm ci builds it through the `prepare` script), and otherwise the TypeScript sources through
// tsx, so an edited clone never runs stale code. Of dist/ it runs the one-file bundle
// (dist/bundle/convsim.cjs, scripts/bundle.mjs; loaded by bin/bundle-loader.js with its code
// cache) when that is fresh too: it loads in about half the time
// of dist/cli/main.js's 200 modules (0.18 s against 0.34 s for `convsim --version`). dist/ is preferred because tsx compiles with
// esbuild's keepNames, which wraps every closure the simulator creates in a defineProperty call:
// measured 25% slower on AlexNet conv2 (5.5 s against 4.3 s). CONVSIM_FROM=src or =dist forces
// one or the other. The published package has no src/ and always runs dist/.
import { existsSync, readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { applyTuningFlags } from "./v8-tuning.js";

// V8's inlining budget, before any of the simulator's code runs (bin/v8-tuning.js says why).
applyTuningFlags();

const root = fileURLToPath(new URL("..", import.meta.url));
const source = join(root, "src", "cli", "main.ts");
const compiled = join(root, "dist", "cli", "main.js");
const bundled = join(root, "dist", "bundle", "convsim.cjs");

/** The newest modification time (ms) of the files under `dir` ending in one of `exts`. */
function newest(dir, exts) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p, exts));
    else if (exts.some((x) => e.name.endsWith(x))) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** The newest modification time (ms) of the build's inputs: the sources and the configuration. */
function inputsTime() {
  return Math.max(
    existsSync(join(root, "src")) ? newest(join(root, "src"), [".ts", ".json"]) : 0,
    ...["tsconfig.json", "tsconfig.build.json", "package.json", join("scripts", "bundle.mjs")].map((f) => (existsSync(join(root, f)) ? statSync(join(root, f)).mtimeMs : 0)),
  );
}

/** Whether the built file `file` exists and is at least as new as the inputs (and as `than`, when given). */
function fresh(file, inputs, than) {
  if (!existsSync(file)) return false;
  const built = statSync(file).mtimeMs;
  return built >= inputs && (than === undefined || !existsSync(than) || built >= statSync(than).mtimeMs);
}

const forced = process.env.CONVSIM_FROM;
if (forced !== undefined && forced !== "src" && forced !== "dist") {
  process.stderr.write(`convsim: CONVSIM_FROM must be "src" or "dist"; got ${JSON.stringify(forced)}\n`);
  process.exit(2);
}
const inputs = forced === undefined && existsSync(source) ? inputsTime() : 0;
let useSource = existsSync(source) && (forced === "src" || (forced !== "dist" && !fresh(compiled, inputs)));
if (useSource) {
  try {
    const { register } = await import("tsx/esm/api");
    register();
  } catch {
    useSource = false;
  }
}
if (!useSource && !existsSync(compiled) && !existsSync(bundled)) {
  process.stderr.write("convsim: neither src/ with tsx nor a built dist/ was found; run `npm ci` (clone) or `npm run build`.\n");
  process.exit(2);
}
// The bundle only when it is not older than dist/cli/main.js either (a `tsc` alone leaves it behind);
// it loads with its code cache (bin/bundle-loader.js).
const { main } = !useSource && fresh(bundled, inputs, compiled) ? (await import("./bundle-loader.js")).loadBundle().exports : await import(new URL(useSource ? "../src/cli/main.ts" : "../dist/cli/main.js", import.meta.url).href);
process.exitCode = await main(process.argv.slice(2));
