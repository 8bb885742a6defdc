// Bundles the convsim command into two files, dist/bundle/main.js (the CLI) and
// dist/bundle/worker.js (its worker threads), after `tsc` has built dist/. bin/convsim.js runs the
// bundle when it is at least as new as the sources: one file loads in about half the time of
// dist/'s 200 ES modules (`convsim --version` 0.18 s against 0.34 s; the same saving in every
// worker a run starts). The library (dist/index.js) is not bundled.
//
// The two files sit side by side, so the pool's `new URL("./worker.js", import.meta.url)` finds
// the worker, and two levels below the package root, as dist/cli/main.js is, so main's
// `../../package.json` does too. The CommonJS code of the dependencies (yaml) calls `require`,
// which an ES module lacks: the banner gives the bundle one (node:module's createRequire).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
await build({
  absWorkingDir: root,
  entryPoints: ["src/cli/main.ts", "src/runner/worker.ts"],
  entryNames: "[name]",
  outdir: "dist/bundle",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  logLevel: "warning",
  banner: { js: 'import { createRequire as __convsimCreateRequire } from "node:module"; const require = __convsimCreateRequire(import.meta.url);' },
});
