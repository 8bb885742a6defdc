/**
 * The convsim command: a thin layer over the public API. `convsim help` lists the subcommands;
 * `convsim help NAME` prints one's usage. Exit codes: 0 success, 1 a verification failed,
 * 2 bad usage or input (a ConfigError), 3 an internal error (a bug: please report it).
 */
import { ConfigError, InvariantError } from "../core/errors.js";
import type { Command, Io } from "./args.js";
import { COMMANDS } from "./commands.js";

function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "convsim — cycle-accurate, bit-exact CNN accelerator simulator",
    "",
    "Usage: convsim <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${"help".padEnd(width)}  Show this list, or a command's usage: convsim help <command>`,
    "",
  ].join("\n");
}

/** The process's standard streams as an {@link Io}. */
export const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  isTTY: Boolean(process.stdout.isTTY) && !process.env.CI,
};

/** Runs the CLI with the given arguments; resolves to the exit code. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    const topic = rest[0];
    const cmd = topic ? COMMANDS.find((c) => c.name === topic) : undefined;
    if (topic && !cmd) {
      io.err(`convsim: unknown command ${JSON.stringify(topic)}\n\n${helpText()}`);
      return 2;
    }
    io.out(cmd ? cmd.usage.trimEnd() + "\n" : helpText());
    return 0;
  }
  if (name === "--version" || name === "-v") {
    const { createRequire } = await import("node:module");
    const pkg = createRequire(import.meta.url)("../../package.json") as { version: string };
    io.out(`${pkg.version}\n`);
    return 0;
  }
  const cmd: Command | undefined = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    io.err(`convsim: unknown command ${JSON.stringify(name)}\n\n${helpText()}`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.out(cmd.usage.trimEnd() + "\n");
    return 0;
  }
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    if (e instanceof ConfigError) {
      io.err(`convsim ${cmd.name}: ${e.message}\n\n${cmd.usage.trimEnd()}\n`);
      return 2;
    }
    if (e instanceof InvariantError) {
      io.err(`convsim ${cmd.name}: internal invariant broken: ${e.message}\n`);
      return 3;
    }
    io.err(`convsim ${cmd.name}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 3;
  }
}
