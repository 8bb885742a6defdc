/** The registry of convsim subcommands, in the order `convsim help` lists them. */
import type { Command } from "./args.js";

/** Every subcommand. */
export const COMMANDS: readonly Command[] = [];
