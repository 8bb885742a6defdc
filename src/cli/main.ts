/**
 * The convsim command: a thin layer over the public API. `convsim help` lists the subcommands;
 * `convsim help NAME` prints one's usage. Exit codes: 0 success, 1 a verification failed,
 * 2 bad usage or input (a ConfigError: one line naming the option as typed, and
 * `see convsim help NAME`), 3 an internal error (a bug: please report it).
 */
import { createRequire } from "node:module";
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
    "convsim --version prints the version. Inputs, limits and output files: docs/inputs.md.",
    "",
  ].join("\n");
}

/** The process's standard streams as an {@link Io}. Progress is drawn when stderr is a terminal and CI is unset. */
export const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  isTTY: Boolean(process.stderr.isTTY) && !process.env.CI,
  handleSignals: true,
};

const HELP_USAGE = `Usage: convsim help [<command>]

Lists the commands, or prints one command's usage (also: convsim <command> --help).
convsim --version prints the version.
`;

/** One line: newlines in a message become spaces and other control characters `?`, so every error is a single line. */
// eslint-disable-next-line no-control-regex
const oneLine = (text: string): string => text.replace(/\s*[\r\n]\s*/g, " ").replace(/[\u0000-\u001f\u007f]/g, "?");

/** Prints a usage error: one line naming what was wrong, and where the usage is. */
function usageError(io: Io, where: string, message: string, helpTopic: string): number {
  io.err(`${where}: ${oneLine(message)} (see convsim help${helpTopic ? " " + helpTopic : ""})\n`);
  return 2;
}

function helpCommand(rest: readonly string[], io: Io): number {
  const topic = rest[0];
  if (topic === "help") {
    io.out(HELP_USAGE);
    return 0;
  }
  const cmd = topic ? COMMANDS.find((c) => c.name === topic) : undefined;
  if (topic && !cmd) return usageError(io, "convsim help", `unknown command ${JSON.stringify(topic)}`, "");
  io.out(cmd ? cmd.usage.trimEnd() + "\n" : helpText());
  return 0;
}

/**
 * Runs the CLI with the given arguments; resolves to the exit code: 0 success, 1 a verification
 * failed, 2 bad usage or input (one line on stderr naming the option as typed), 3 an internal
 * error (one line; set CONVSIM_DEBUG=1 for the stack).
 */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") return helpCommand(rest, io);
  if (name === "--version" || name === "-v") {
    const pkg = createRequire(import.meta.url)("../../package.json") as { version: string };
    io.out(`${pkg.version}\n`);
    return 0;
  }
  const cmd: Command | undefined = COMMANDS.find((c) => c.name === name);
  if (!cmd) return usageError(io, "convsim", `unknown command ${JSON.stringify(name)}`, "");
  if (rest.includes("--help") || rest.includes("-h")) {
    io.out(cmd.usage.trimEnd() + "\n");
    return 0;
  }
  try {
    return await cmd.run(rest, io);
  } catch (e) {
    if (e instanceof ConfigError) return usageError(io, `convsim ${cmd.name}`, e.message, cmd.name);
    const debug = Boolean(process.env.CONVSIM_DEBUG);
    const what = e instanceof InvariantError ? "internal invariant broken" : "internal error";
    const text = e instanceof Error ? (debug ? (e.stack ?? e.message) : `${e.name}: ${oneLine(e.message)}`) : String(e);
    io.err(`convsim ${cmd.name}: ${what}: ${text} (a bug: please report it${debug ? "" : "; CONVSIM_DEBUG=1 prints the stack"})\n`);
    return 3;
  }
}
