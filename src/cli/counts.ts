/**
 * `simulate --counts timeloop`: the run's counts in Timeloop's conventions (src/formats/timeloop/
 * counts.ts), as a table per level and data space, and as the `timeloop` object of `--json`.
 */
import { ConfigError } from "../core/errors.js";
import { timeloopCounts, type CountsSource, type TimeloopCounts } from "../formats/timeloop/counts.js";
import { groupDigits } from "../core/units.js";

/** The count conventions `--counts` names. */
export const COUNT_CONVENTIONS = Object.freeze(["timeloop"] as const);

/** Checks `--counts` before the run; returns what computes the counts after it (undefined when absent). */
export function countsOption(text: string | undefined): ((r: CountsSource) => TimeloopCounts) | undefined {
  if (text === undefined) return undefined;
  if (text !== "timeloop") throw new ConfigError("--counts", text, `be one of ${COUNT_CONVENTIONS.join(", ")}`);
  return timeloopCounts;
}

const fmt = (n: number) => groupDigits(n);

/** The table of Timeloop-convention counts: one row per level and data space. */
export function formatTimeloopCounts(c: TimeloopCounts): string {
  const rows: string[][] = [["level", "data space", "reads", "fills", "updates"]];
  for (const [level, spaces] of Object.entries(c)) {
    for (const [space, a] of Object.entries(spaces)) if (a) rows.push([level, space, fmt(a.reads), fmt(a.fills), fmt(a.updates)]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  "));
  return `Timeloop conventions (words; docs/counting.md, "In Timeloop's conventions")\n${lines.join("\n")}\n`;
}
