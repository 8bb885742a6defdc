/** The repository's root, for the bench scripts that run the command from its bin/. */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The nearest folder above `fileUrl` (a module's import.meta.url) with a package.json. */
export function repoRoot(fileUrl: string): string {
  let dir = dirname(fileURLToPath(fileUrl));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("no package.json above " + fileURLToPath(fileUrl));
    dir = up;
  }
  return dir;
}
