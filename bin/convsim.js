#!/usr/bin/env node
// The convsim command. It runs the compiled dist/ when it is at least as new as every source file
// (npm ci builds it through the `prepare` script), and otherwise the TypeScript sources through
// tsx, so an edited clone never runs stale code. dist/ is preferred because tsx compiles with
// esbuild's keepNames, which wraps every closure the simulator creates in a defineProperty call:
// measured 25% slower on AlexNet conv2 (5.5 s against 4.3 s). CONVSIM_FROM=src or =dist forces
// one or the other. The published package has no src/ and always runs dist/.
import { existsSync, readdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

const root = fileURLToPath(new URL("..", import.meta.url));
const source = join(root, "src", "cli", "main.ts");
const compiled = join(root, "dist", "cli", "main.js");

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

function distIsFresh() {
  if (!existsSync(compiled)) return false;
  const built = statSync(compiled).mtimeMs;
  const inputs = Math.max(
    newest(join(root, "src"), [".ts", ".json"]),
    ...["tsconfig.json", "tsconfig.build.json", "package.json"].map((f) => (existsSync(join(root, f)) ? statSync(join(root, f)).mtimeMs : 0)),
  );
  return built >= inputs;
}

const forced = process.env.CONVSIM_FROM;
if (forced !== undefined && forced !== "src" && forced !== "dist") {
  process.stderr.write(`convsim: CONVSIM_FROM must be "src" or "dist"; got ${JSON.stringify(forced)}\n`);
  process.exit(2);
}
let useSource = existsSync(source) && (forced === "src" || (forced !== "dist" && !distIsFresh()));
if (useSource) {
  try {
    const { register } = await import("tsx/esm/api");
    register();
  } catch {
    useSource = false;
  }
}
if (!useSource && !existsSync(compiled)) {
  process.stderr.write("convsim: neither src/ with tsx nor a built dist/ was found; run `npm ci` (clone) or `npm run build`.\n");
  process.exit(2);
}
const { main } = await import(useSource ? new URL("../src/cli/main.ts", import.meta.url).href : new URL("../dist/cli/main.js", import.meta.url).href);
process.exitCode = await main(process.argv.slice(2));
