/**
 * The mapper's budget: a number of evaluations (deterministic: the same seed gives the same
 * result on every machine) or a wall-clock time (the result depends on the machine's speed and
 * load). One evaluation is one candidate mapping considered, whether it is then skipped as seen,
 * pruned by the score bound, found illegal or scored (src/mapper/search.ts).
 */
import { ConfigError } from "../core/errors.js";
import { groupDigits } from "../core/units.js";

/** A budget in evaluations or in seconds. */
export type Budget = { readonly evaluations: number } | { readonly seconds: number };

/**
 * Parses a budget: a positive integer or a string of digits (evaluations: `20000`, `20k`), or a
 * time (`10s`, `1.5m`, `500ms`, or `{ seconds }`).
 * @param field the option's name for error messages (e.g. `--budget`).
 * @throws ConfigError naming the field, the value and the rule.
 */
export function parseBudget(raw: Budget | number | string, field = "budget"): Budget {
  const rule = "be a number of evaluations (20000, 20k) or a time (10s, 1.5m, 500ms)";
  if (typeof raw === "number") {
    if (!Number.isSafeInteger(raw) || raw < 1) throw new ConfigError(field, raw, rule);
    return Object.freeze({ evaluations: raw });
  }
  if (typeof raw === "object" && raw !== null) {
    if ("evaluations" in raw) return parseBudget(raw.evaluations, field);
    if ("seconds" in raw && typeof raw.seconds === "number" && raw.seconds > 0 && Number.isFinite(raw.seconds)) return Object.freeze({ seconds: raw.seconds });
    throw new ConfigError(field, raw, rule);
  }
  const m = typeof raw === "string" ? /^\s*(\d+(?:\.\d+)?)\s*(k|ms|s|m)?\s*$/.exec(raw) : null;
  if (!m) throw new ConfigError(field, raw, rule);
  const v = Number(m[1]);
  const unit = m[2];
  if (unit === undefined || unit === "k") {
    const n = unit === "k" ? v * 1000 : v;
    if (!Number.isSafeInteger(n) || n < 1) throw new ConfigError(field, raw, rule);
    return Object.freeze({ evaluations: n });
  }
  const seconds = unit === "ms" ? v / 1000 : unit === "m" ? v * 60 : v;
  if (!(seconds > 0)) throw new ConfigError(field, raw, rule);
  return Object.freeze({ seconds });
}

/** A budget as text: `20000 evaluations` or `10 s`. */
export function formatBudget(b: Budget): string {
  return "evaluations" in b ? `${groupDigits(b.evaluations)} evaluations` : `${b.seconds} s`;
}
