// Bundles the convsim command into one file, dist/bundle/convsim.cjs (the CLI's `main` and the
// worker threads' `serveWorker`, src/cli/bundle.ts), after `tsc` has built dist/, then makes its
// V8 code cache (scripts/code-cache.mjs). bin/convsim.js runs the bundle, through
// bin/bundle-loader.js, when it is at least as new as the sources: one file loads in about half
// the time of dist/'s 200 ES modules (`convsim --version` 0.18 s against 0.34 s), and its code
// cache saves most of the compiling that remains; the same in every worker a run starts, since
// the workers run the same file (dist/bundle/worker.js, written here, loads it). The library
// (dist/index.js) is not bundled.
//
// CommonJS, because Node 20 gives a code cache only to a vm.Script. The sources' `import.meta.url`
// becomes the bundle's own file URL (the banner's `__convsimUrl`): two levels below the package
// root, as dist/cli/main.js is, so main's `../../package.json` is found, and beside worker.js, so
// the pool's `new URL("./worker.js", import.meta.url)` is.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = join(root, "dist", "bundle");
rmSync(out, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { convsim: "src/cli/bundle.ts" },
  outdir: "dist/bundle",
  outExtension: { ".js": ".cjs" },
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  logLevel: "warning",
  define: { "import.meta.url": "__convsimUrl" },
  banner: { js: 'const __convsimUrl = require("node:url").pathToFileURL(__filename).href;' },
});
writeFileSync(
  join(out, "worker.js"),
  `// Written by scripts/bundle.mjs: a worker thread of the bundled command runs the bundle's serveWorker.
import { loadBundle } from "../../bin/bundle-loader.js";

loadBundle().exports.serveWorker();
`,
);
// The code cache, in a process of its own (V8's flags set as the command sets them, before any
// of the bundle compiles). Without it the command still runs, compiling as it goes.
const cache = spawnSync(process.execPath, [join(root, "scripts", "code-cache.mjs")], { stdio: "inherit" });
if (cache.status !== 0) process.stderr.write(`scripts/bundle.mjs: no code cache was made (exit ${cache.status ?? cache.signal}); the command runs without it\n`);
