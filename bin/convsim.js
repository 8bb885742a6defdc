#!/usr/bin/env node
// The convsim command. In a clone of the repository it runs the TypeScript sources through tsx,
// so no build step is needed; in the published package (no src/) it runs the compiled dist/.
import { existsSync } from "node:fs";

const source = new URL("../src/cli/main.ts", import.meta.url);
const compiled = new URL("../dist/cli/main.js", import.meta.url);

let useSource = existsSync(source);
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
const { main } = await import((useSource ? source : compiled).href);
process.exitCode = await main(process.argv.slice(2));
