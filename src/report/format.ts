/**
 * Output formats of convsim's reports: an aligned plain-text table, Markdown, CSV and JSON. A
 * {@link Table} is data (columns with a header, a unit and a kind; rows of raw values); how a
 * value prints depends on the format: text and Markdown group digits (`1,234,567`), scale energy
 * columns to a readable prefix (`µJ`, `G MAC-eq`) and round; CSV and JSON keep every value raw
 * (full precision, no separators), so a script reading them loses nothing. Units are always in
 * the headers: `DRAM [words]`, `util [%]`, `energy [µJ]`.
 */
import { ConfigError } from "../core/errors.js";
import { groupDigits } from "../core/units.js";

/** A report's output format. */
export type OutputFormat = "table" | "json" | "csv" | "md";

/** The output formats, in the order the CLI lists them. */
export const OUTPUT_FORMATS: readonly OutputFormat[] = Object.freeze(["table", "json", "csv", "md"]);

/** Checks an output format name. @throws ConfigError naming the field, the value and the rule. */
export function requireOutputFormat(field: string, value: unknown): OutputFormat {
  if (typeof value !== "string" || !(OUTPUT_FORMATS as readonly string[]).includes(value)) {
    throw new ConfigError(field, value, `be one of ${OUTPUT_FORMATS.join(", ")}`);
  }
  return value as OutputFormat;
}

/**
 * How a column's values print in text and Markdown: `count` an integer with digit groups,
 * `percent` one decimal, `ratio` two decimals, `real` four significant digits, `energy` scaled
 * with an SI prefix shared by every energy column of the table (three significant digits), `text` as is.
 */
export type ColumnKind = "count" | "percent" | "ratio" | "real" | "energy" | "text";

/** A column of a {@link Table}. */
export interface Column {
  /** The field of a row this column shows. */
  readonly key: string;
  /** The header, without the unit. */
  readonly header: string;
  /** The unit, shown in brackets after the header (`words`, `%`, `pJ`). */
  readonly unit?: string;
  /** Text columns are left-aligned, numbers right-aligned (default by kind). */
  readonly align?: "left" | "right";
  /** How the values print (default `text`). */
  readonly kind?: ColumnKind;
}

/** A cell's raw value; undefined and null print as `-` (empty in CSV). */
export type Cell = string | number | boolean | null | undefined;

/** A table: columns and rows of raw values, with optional footer rows (totals) after a rule. */
export interface Table {
  readonly title?: string;
  readonly columns: readonly Column[];
  readonly rows: readonly Readonly<Record<string, Cell>>[];
  readonly footer?: readonly Readonly<Record<string, Cell>>[];
  /** Lines printed under the table (notes, reasons). */
  readonly notes?: readonly string[];
}

const PJ_PREFIXES: readonly [number, string][] = [
  [1e12, "J"],
  [1e9, "mJ"],
  [1e6, "µJ"],
  [1e3, "nJ"],
  [1, "pJ"],
];
const SI_PREFIXES: readonly [number, string][] = [
  [1e12, "T"],
  [1e9, "G"],
  [1e6, "M"],
  [1e3, "k"],
  [1, ""],
];

/**
 * The scale that prints `max` with one to three integer digits, and its unit: pJ becomes nJ, µJ,
 * mJ or J; any other unit gets an SI prefix (`G MAC-eq`).
 */
export function energyScale(max: number, unit: string): { factor: number; unit: string } {
  const table = unit === "pJ" ? PJ_PREFIXES : SI_PREFIXES;
  for (const [factor, prefix] of table) {
    if (Math.abs(max) >= factor) return { factor, unit: unit === "pJ" ? prefix : prefix ? `${prefix} ${unit}` : unit };
  }
  return { factor: 1, unit };
}

/** Formats a number with digit groups, e.g. `1,234,567`. */
export function formatCount(n: number): string {
  return groupDigits(Math.round(n));
}

/**
 * `digits` significant digits (default 4), without an exponent for magnitudes in [1e-4, 1e6),
 * trailing zeros dropped: `12.35`, `0.004567`, `1.235e+7`.
 */
export function formatReal(n: number, digits = 4): string {
  if (n === 0) return "0";
  const a = Math.abs(n);
  if (a >= 1e6 || a < 1e-4) return n.toExponential(digits - 1);
  if (a >= 10 ** digits) return Math.round(n).toString();
  return Number(n.toPrecision(digits)).toString();
}

function headerText(c: Column, unitOverride?: string): string {
  const unit = unitOverride ?? c.unit;
  return unit ? `${c.header} [${unit}]` : c.header;
}

function alignOf(c: Column): "left" | "right" {
  return c.align ?? (c.kind === undefined || c.kind === "text" ? "left" : "right");
}

/** The printed cells of a table for text and Markdown: headers with (scaled) units, formatted values. */
function printed(t: Table): { headers: string[]; rows: string[][]; footer: string[][] } {
  const all = [...t.rows, ...(t.footer ?? [])];
  // One energy scale per unit for the whole table, so a row's breakdown reads in one unit.
  const maxima = new Map<string, number>();
  for (const c of t.columns) {
    if (c.kind !== "energy") continue;
    const u = c.unit ?? "";
    for (const r of all) {
      const v = r[c.key];
      if (typeof v === "number" && Number.isFinite(v)) maxima.set(u, Math.max(maxima.get(u) ?? 0, Math.abs(v)));
    }
    if (!maxima.has(u)) maxima.set(u, 0);
  }
  const scales = new Map([...maxima].map(([u, max]) => [u, energyScale(max, u)] as const));
  const fmt = (c: Column, v: Cell): string => {
    if (v === undefined || v === null) return "-";
    if (typeof v === "boolean") return v ? "yes" : "no";
    if (typeof v === "string") return v;
    if (!Number.isFinite(v)) return String(v);
    switch (c.kind) {
      case "count":
        return formatCount(v);
      case "percent":
        return v.toFixed(1);
      case "ratio":
        return v.toFixed(2);
      case "energy": {
        const s = scales.get(c.unit ?? "")!;
        const x = v / s.factor;
        return x === 0 ? "0" : Math.abs(x) < 1e-4 ? x.toExponential(2) : x.toPrecision(3);
      }
      case "real":
        return formatReal(v);
      default:
        return String(v);
    }
  };
  const headers = t.columns.map((c) => headerText(c, c.kind === "energy" ? scales.get(c.unit ?? "")!.unit : undefined));
  const rows = t.rows.map((r) => t.columns.map((c) => fmt(c, r[c.key])));
  const footer = (t.footer ?? []).map((r) => t.columns.map((c) => fmt(c, r[c.key])));
  return { headers, rows, footer };
}

/** An aligned plain-text table: title, header, rule, rows, a rule and the footer rows, notes. */
export function formatTable(t: Table): string {
  const { headers, rows, footer } = printed(t);
  const all = [headers, ...rows, ...footer];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((cell, i) => (alignOf(t.columns[i]!) === "left" ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  const out: string[] = [];
  if (t.title) out.push(t.title);
  out.push(line(headers), rule, ...rows.map(line));
  if (footer.length > 0) out.push(rule, ...footer.map(line));
  for (const n of t.notes ?? []) out.push(n);
  return out.join("\n") + "\n";
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, "\\|");
}

/** A GitHub-flavoured Markdown table (numbers right-aligned); footer rows in bold; title as a heading. */
export function formatMarkdown(t: Table): string {
  const { headers, rows, footer } = printed(t);
  const out: string[] = [];
  if (t.title) out.push(`**${mdEscape(t.title)}**`, "");
  out.push(`| ${headers.map(mdEscape).join(" | ")} |`);
  out.push(`|${t.columns.map((c) => (alignOf(c) === "left" ? " :--- " : " ---: ")).join("|")}|`);
  for (const r of rows) out.push(`| ${r.map(mdEscape).join(" | ")} |`);
  for (const r of footer) out.push(`| ${r.map((c) => (c === "-" || c === "" ? c : `**${mdEscape(c)}**`)).join(" | ")} |`);
  if (t.notes && t.notes.length > 0) out.push("", ...t.notes.map((n) => `${mdEscape(n)}  `));
  return out.join("\n") + "\n";
}

function csvField(v: Cell): string {
  if (v === undefined || v === null) return "";
  const s = typeof v === "number" ? (Number.isFinite(v) ? String(v) : "") : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV (RFC 4180): one header line with units, raw values, footer rows after the rows; no title or notes. */
export function formatCsv(t: Table): string {
  const lines = [t.columns.map((c) => csvField(headerText(c))).join(",")];
  for (const r of [...t.rows, ...(t.footer ?? [])]) lines.push(t.columns.map((c) => csvField(r[c.key])).join(","));
  return lines.join("\r\n") + "\r\n";
}

/** JSON with two-space indentation and a final newline; non-finite numbers become null. */
export function formatJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2) + "\n";
}

/**
 * Renders tables in a text format: `table` (aligned text) or `md`, separated by a blank line;
 * `csv` renders each table and separates them by a blank line (pass one table for a plain CSV).
 * JSON is not a table format: callers serialize their data with {@link formatJson}.
 */
export function renderTables(tables: readonly Table[], format: Exclude<OutputFormat, "json">): string {
  const f = format === "table" ? formatTable : format === "md" ? formatMarkdown : formatCsv;
  return tables.map(f).join("\n");
}
