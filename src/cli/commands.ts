/** The registry of convsim subcommands, in the order `convsim help` lists them. */
import type { Command } from "./args.js";
import { boundCommand } from "./bound.js";
import { exportCommand, importCommand } from "./formats.js";
import { compareCommand } from "./compare.js";
import { mergeCommand } from "./merge.js";
import { runCommand } from "./run.js";
import { sweepCommand } from "./sweep.js";
import { simulateCommand } from "./simulate.js";
import { referenceCommand, verifyCommand } from "./verify.js";

/** Every subcommand. */
export const COMMANDS: readonly Command[] = [runCommand, simulateCommand, compareCommand, sweepCommand, mergeCommand, boundCommand, verifyCommand, referenceCommand, importCommand, exportCommand];
