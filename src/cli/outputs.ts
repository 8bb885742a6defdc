/**
 * The CLI's output files (docs/inputs.md): every path a command will write is checked before any
 * work starts — its directory exists, it is not a directory, it is not one of the command's input
 * files, and no two outputs are the same file — and each file is written to a temporary file in
 * the same directory, then renamed over the target, so a reader never sees half a file and an
 * interrupted run leaves the old file (or none). Temporary files still open when the process is
 * interrupted (SIGINT during an asynchronous phase, see {@link withInterrupt}) are removed.
 */
import { existsSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { ConfigError } from "../core/errors.js";
import { formatBytes } from "../core/units.js";
import { requireOutputFormat, type OutputFormat } from "../report/format.js";

/** A file an option names: the option as typed and the path. */
export interface PathOption {
  readonly flag: string;
  readonly path: string | undefined;
}

/** Whether two paths name the same file: the same resolved path, or the same device and inode. */
function sameFile(a: string, b: string): boolean {
  if (resolve(a) === resolve(b)) return true;
  try {
    const sa = statSync(a);
    const sb = statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/**
 * Checks every output path before any work (see the file header). Inputs that are not files
 * (a preset name, inline JSON) are ignored.
 * @throws ConfigError naming the output option as typed.
 */
export function checkOutputPaths(outputs: readonly PathOption[], inputs: readonly PathOption[]): void {
  const given = outputs.filter((o): o is { flag: string; path: string } => o.path !== undefined);
  given.forEach((o, i) => {
    if (o.path.trim() === "") throw new ConfigError(o.flag, o.path, "name a file");
    const dir = dirname(resolve(o.path));
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConfigError(o.flag, o.path, `be in an existing directory (${dir} does not exist)`);
    if (existsSync(o.path) && statSync(o.path).isDirectory()) throw new ConfigError(o.flag, o.path, "name a file, not a directory");
    for (const inp of inputs) {
      if (inp.path !== undefined && existsSync(inp.path) && sameFile(o.path, inp.path)) {
        throw new ConfigError(o.flag, o.path, `not be an input of the command (it is ${inp.flag}, which would be overwritten)`);
      }
    }
    for (const other of given.slice(0, i)) {
      if (sameFile(o.path, other.path)) throw new ConfigError(o.flag, o.path, `not be the same file as ${other.flag} (one would overwrite the other)`);
    }
  });
}

/** Temporary files being written, removed if the process is interrupted. */
const pending = new Set<string>();

/**
 * Writes a file through a temporary file in the same directory and a rename.
 * @param flag the option that named the file, for the error.
 * @throws ConfigError when the file cannot be written (the temporary file is removed).
 */
export function writeOutputFile(flag: string, path: string, data: string | Uint8Array): void {
  const tmp = join(dirname(resolve(path)), `.${basename(path)}.${process.pid}.convsim-tmp`);
  pending.add(tmp);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    removeQuietly(tmp);
    throw new ConfigError(flag, path, "name a writable file", (e as Error).message);
  } finally {
    pending.delete(tmp);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** Removes every temporary file still being written (on interruption). */
export function removePendingFiles(): void {
  for (const p of pending) removeQuietly(p);
  pending.clear();
}

/**
 * Runs an asynchronous phase (worker threads) with Ctrl-C handled: SIGINT removes the temporary
 * files, prints one line (`convsim <command>: interrupted`) and exits with 130. Outside such
 * phases, SIGINT keeps Node's default (the process stops at once, exit status 130), because a
 * handler cannot run while the simulator computes synchronously.
 * @param enabled install the handler (false for in-process use, e.g. tests).
 */
export async function withInterrupt<T>(command: string, enabled: boolean, phase: () => Promise<T>): Promise<T> {
  if (!enabled) return phase();
  const onSigint = (): void => {
    removePendingFiles();
    process.stderr.write(`\nconvsim ${command}: interrupted\n`);
    process.exit(130);
  };
  process.on("SIGINT", onSigint);
  try {
    return await phase();
  } finally {
    process.off("SIGINT", onSigint);
  }
}

/**
 * `--format` (table, json, csv, md; default table), with the older `--json` switch as a synonym of
 * `--format json`.
 * @throws ConfigError for an unknown format, or `--json` with another format.
 */
export function formatOption(format: string | undefined, json?: boolean): OutputFormat {
  const f = requireOutputFormat("--format", format ?? (json ? "json" : "table"));
  if (json && f !== "json") throw new ConfigError("--json", true, `not be combined with --format ${f} (--json is --format json)`);
  return f;
}

/** The largest .npy file the CLI writes: its data is encoded in one buffer (Node's limit, 4 GiB). */
export const MAX_NPY_DATA_BYTES = 2 ** 32 - 4096;

/**
 * Refuses, before any work, a .npy output larger than {@link MAX_NPY_DATA_BYTES}.
 * @param flag the output option (`--out`); `what` names the tensor.
 * @throws ConfigError naming the option, the size and the limit.
 */
export function checkNpySize(flag: string, path: string | undefined, elements: number, bytesPerElement: number, what: string): void {
  if (path === undefined || elements * bytesPerElement <= MAX_NPY_DATA_BYTES) return;
  throw new ConfigError(flag, path, `receive a .npy of at most ${formatBytes(MAX_NPY_DATA_BYTES)}`, `the ${what} has ${elements} elements of ${bytesPerElement} bytes: ${formatBytes(elements * bytesPerElement)}; make the layer smaller`);
}
