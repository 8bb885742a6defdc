/**
 * Charts as hand-written SVG (no dependencies): a grouped bar chart (per layer, one bar per
 * dataflow, the lower bounds drawn as horizontal lines across each group) and a line chart
 * (traffic against buffer size). Both have labelled axes with units, tick labels, grid lines, a
 * legend, and a `<title>` tooltip on every bar and point with its exact value. Output is a
 * standalone SVG 1.1 document that browsers and rsvg-convert render alike.
 *
 * Colours: the Okabe–Ito palette (distinguishable with the common colour-vision deficiencies);
 * each dataflow has its own colour and marker in every chart ({@link DATAFLOW_STYLES}), other
 * series take the colours no dataflow of the chart uses. Bounds are black/grey lines with
 * distinct dash patterns, so they read in greyscale too. Series that coincide stay apart: line
 * series carry hollow markers of distinct shapes, and a line equal to one drawn before it is
 * dashed so the earlier one shows through; reference lines that coincide differ in grey and width.
 * A title wraps at spaces, and shrinks (then breaks) when one word is wider than the chart.
 */
import { DASH, escapeXml, markerSvg, MARKERS, REFERENCE_INK, seriesStyles, type MarkerShape } from "./svg-style.js";
import { formatCount } from "./format.js";

export { DATAFLOW_STYLES, escapeXml, markerSvg, MARKERS, PALETTE, seriesStyles, type MarkerShape, type SeriesStyle } from "./svg-style.js";

/** A y axis scale. */
export type AxisScale = "log" | "linear";

/** One series of a bar chart: one value per group (null: missing, drawn as a marked gap). */
export interface BarSeries {
  readonly name: string;
  readonly values: readonly (number | null)[];
  /** Why a value is missing, per group (shown in its tooltip). */
  readonly missing?: readonly (string | null | undefined)[];
}

/** A reference level drawn across each group (e.g. a lower bound); null where not known. */
export interface ReferenceLine {
  readonly name: string;
  readonly values: readonly (number | null)[];
  /** Line style (default `solid`). */
  readonly style?: "solid" | "dashed" | "dotted";
}

/** A grouped bar chart. */
export interface GroupedBarChart {
  readonly title: string;
  readonly subtitle?: string;
  /** Group labels (e.g. layer names), left to right. */
  readonly groups: readonly string[];
  readonly series: readonly BarSeries[];
  /** Lines across each group (bounds). */
  readonly references?: readonly ReferenceLine[];
  /** The y quantity, e.g. `DRAM traffic`. */
  readonly yLabel: string;
  /** The y unit, e.g. `words`. */
  readonly yUnit: string;
  /** The x axis label (default none). */
  readonly xLabel?: string;
  /** Default `log`. */
  readonly yScale?: AxisScale;
}

/** One series of a line chart: one value per x (null: missing, the line breaks). */
export interface LineSeries {
  readonly name: string;
  readonly values: readonly (number | null)[];
  readonly style?: "solid" | "dashed" | "dotted";
  /** Draw a marker at each point (default true for solid lines). */
  readonly markers?: boolean;
  /** A colour; default: the next palette colour (solid) or grey/black (dashed, dotted). */
  readonly color?: string;
}

/** A line chart. */
export interface LineChart {
  readonly title: string;
  readonly subtitle?: string;
  /** The x values, increasing. */
  readonly x: readonly number[];
  readonly xLabel: string;
  /** Tick label of an x value (default SI format). */
  readonly xTickLabel?: (x: number) => string;
  /** `log2` spaces powers of two evenly (default `linear`). */
  readonly xScale?: "log2" | "linear";
  readonly series: readonly LineSeries[];
  readonly yLabel: string;
  readonly yUnit: string;
  /** Default `log`. */
  readonly yScale?: AxisScale;
  /** Lines under the chart (e.g. why points are missing). */
  readonly notes?: readonly string[];
}

const FONT = "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\"";

/** A compact SI label: 1500 -> `1.5k`, 2000000 -> `2M`, 0.5 -> `0.5`. */
export function siLabel(v: number): string {
  const a = Math.abs(v);
  const units: [number, string][] = [
    [1e12, "T"],
    [1e9, "G"],
    [1e6, "M"],
    [1e3, "k"],
  ];
  for (const [f, p] of units) {
    if (a >= f) return `${Number((v / f).toPrecision(3))}${p}`;
  }
  return String(Number(v.toPrecision(3)));
}

/** Round numbers for a linear axis from 0 to at least `max`: steps of 1, 2 or 5 x 10^k. */
export function linearTicks(max: number, target = 6): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Decade ticks covering [min, max] for a log axis, plus 2 and 5 times each decade when the span is short. */
export function logTicks(min: number, max: number): { ticks: number[]; lo: number; hi: number } {
  const lo = Math.floor(Math.log10(min));
  let hi = Math.ceil(Math.log10(max));
  if (hi === lo) hi = lo + 1;
  const ticks: number[] = [];
  for (let e = lo; e <= hi; e++) {
    ticks.push(10 ** e);
    if (hi - lo <= 2 && e < hi) ticks.push(2 * 10 ** e, 5 * 10 ** e);
  }
  return { ticks: ticks.sort((a, b) => a - b), lo: 10 ** lo, hi: 10 ** hi };
}

interface YAxis {
  map(v: number): number;
  ticks: number[];
  scale: AxisScale;
}

function yAxis(values: number[], scale: AxisScale, top: number, bottom: number): YAxis {
  const pos = values.filter((v) => Number.isFinite(v) && v > 0);
  if (scale === "log" && pos.length > 0) {
    const { ticks, lo, hi } = logTicks(Math.min(...pos), Math.max(...pos));
    const a = Math.log10(lo);
    const b = Math.log10(hi);
    return { ticks, scale, map: (v) => bottom - ((Math.log10(Math.max(v, lo)) - a) / (b - a)) * (bottom - top) };
  }
  const ticks = linearTicks(Math.max(0, ...values.filter(Number.isFinite)));
  const hi = ticks[ticks.length - 1]!;
  return { ticks, scale: "linear", map: (v) => bottom - (v / hi) * (bottom - top) };
}

function textWidth(s: string, size: number): number {
  return s.length * size * 0.58;
}

interface LegendItem {
  readonly label: string;
  readonly kind: "box" | "line";
  readonly color: string;
  readonly style?: string;
  readonly marker?: MarkerShape;
  readonly width?: number;
}

/** Legend items laid out in rows that fit `width`; returns the SVG and its height. */
function legend(items: readonly LegendItem[], x0: number, y0: number, width: number): { svg: string; height: number } {
  const parts: string[] = [];
  let x = x0;
  let y = y0;
  const rowH = 20;
  for (const it of items) {
    const w = 30 + textWidth(it.label, 12) + 18;
    if (x > x0 && x + w > x0 + width) {
      x = x0;
      y += rowH;
    }
    if (it.kind === "box") {
      parts.push(`<rect x="${x}" y="${y - 10}" width="14" height="14" fill="${it.color}" stroke="#333" stroke-width="0.5"/>`);
    } else {
      const dash = it.style ? DASH[it.style] : "";
      parts.push(`<line x1="${x - 2}" y1="${y - 3}" x2="${x + 22}" y2="${y - 3}" stroke="${it.color}" stroke-width="${it.width ?? 2.5}"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`);
      if (it.marker) parts.push(markerSvg(it.marker, x + 10, y - 3, it.color, ""));
    }
    parts.push(`<text x="${x + 28}" y="${y + 2}" font-size="12" ${FONT} fill="#222">${escapeXml(it.label)}</text>`);
    x += w;
  }
  return { svg: parts.join("\n"), height: y - y0 + rowH };
}

/** Splits a word wider than `width` pixels at `size` into pieces that fit. */
function breakWord(word: string, width: number, size: number): string[] {
  const per = Math.max(1, Math.floor(width / textWidth("x", size)));
  const out: string[] = [];
  for (let i = 0; i < word.length; i += per) out.push(word.slice(i, i + per));
  return out;
}

/** Splits text into lines of at most `width` pixels at `size` (estimated), at spaces; a word wider than a line is broken. */
export function wrapText(text: string, width: number, size: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter(Boolean).flatMap((w) => (textWidth(w, size) > width ? breakWord(w, width, size) : [w]))) {
    const next = line ? `${line} ${word}` : word;
    if (line && textWidth(next, size) > width) {
      lines.push(line);
      line = word;
    } else {
      line = next;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/** Bold text is about this much wider than {@link textWidth}'s estimate for regular text. */
const BOLD = 1.1;

/**
 * The title's lines and font size: 17 px, wrapped at spaces to the chart's width less 40 px;
 * when one word is wider than that, the size shrinks to fit it (down to 11 px), and below that
 * the word is broken. No line is wider than the chart.
 */
export function titleLayout(title: string, width: number): { lines: string[]; size: number } {
  const room = (width - 40) / BOLD;
  const widest = Math.max(0, ...title.split(/\s+/).map((w) => textWidth(w, 17)));
  const size = widest > room ? Math.max(11, Math.floor((17 * room) / widest)) : 17;
  return { lines: wrapText(title, room, size), size };
}

/** Pixels the title and subtitle take below y = 26 beyond a one-line title: where the legend moves down to. */
function headExtra(title: string, subtitle: string | undefined, width: number): number {
  const t = titleLayout(title, width);
  return (t.lines.length - 1) * Math.round(t.size * 1.25) + subtitleLines(subtitle, width) * 16;
}

/** The document head: the SVG element, a white background, the wrapped title and the wrapped subtitle. */
function header(width: number, height: number, title: string, subtitle: string | undefined): string[] {
  const sub = subtitle ? wrapText(subtitle, width - 40, 12) : [];
  const t = titleLayout(title, width);
  const lh = Math.round(t.size * 1.25);
  const below = (t.lines.length - 1) * lh;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...t.lines.map((l, i) => `<text x="${width / 2}" y="${26 + i * lh}" text-anchor="middle" font-size="${t.size}" font-weight="bold" ${FONT} fill="#111">${escapeXml(l)}</text>`),
    ...sub.map((l, i) => `<text x="${width / 2}" y="${46 + below + i * 16}" text-anchor="middle" font-size="12" ${FONT} fill="#555">${escapeXml(l)}</text>`),
  ];
}

function subtitleLines(subtitle: string | undefined, width: number): number {
  return subtitle ? wrapText(subtitle, width - 40, 12).length : 0;
}

function yAxisSvg(axis: YAxis, left: number, right: number, top: number, bottom: number, label: string): string[] {
  const parts: string[] = [];
  for (const t of axis.ticks) {
    const y = axis.map(t);
    if (y < top - 0.5 || y > bottom + 0.5) continue;
    const major = axis.scale === "linear" || Math.abs(Math.log10(t) - Math.round(Math.log10(t))) < 1e-9;
    parts.push(`<line x1="${left}" y1="${y.toFixed(1)}" x2="${right}" y2="${y.toFixed(1)}" stroke="${major ? "#d0d0d0" : "#ececec"}" stroke-width="1"/>`);
    parts.push(`<line x1="${left - 5}" y1="${y.toFixed(1)}" x2="${left}" y2="${y.toFixed(1)}" stroke="#333"/>`);
    parts.push(`<text x="${left - 8}" y="${(y + 4).toFixed(1)}" text-anchor="end" font-size="12" ${FONT} fill="#222">${siLabel(t)}</text>`);
  }
  parts.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#333"/>`);
  parts.push(`<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#333"/>`);
  const cy = (top + bottom) / 2;
  parts.push(`<text x="18" y="${cy}" text-anchor="middle" font-size="13" ${FONT} fill="#111" transform="rotate(-90 18 ${cy})">${escapeXml(label)}</text>`);
  return parts;
}

function fmtValue(v: number, unit: string): string {
  return `${formatCount(v)} ${unit}`;
}

/** The drawing context of a grouped bar chart's groups. */
interface BarLayout {
  readonly chart: GroupedBarChart;
  readonly colors: readonly string[];
  readonly axis: YAxis;
  readonly left: number;
  readonly slot: number;
  readonly barW: number;
  readonly bottom: number;
  readonly rotate: boolean;
}

/** One group: its bars (a grey `×` for a missing one), the reference lines across it, its label. */
function barGroupSvg(L: BarLayout, g: number): string[] {
  const { chart, axis, barW, bottom } = L;
  const nS = Math.max(1, chart.series.length);
  const parts: string[] = [];
  const cx = L.left + L.slot * g + L.slot / 2;
  const x0 = cx - (nS * barW) / 2;
  if (g > 0) parts.push(`<line x1="${(L.left + L.slot * g).toFixed(1)}" y1="${bottom}" x2="${(L.left + L.slot * g).toFixed(1)}" y2="${bottom + 5}" stroke="#333"/>`);
  chart.series.forEach((s, i) => {
    const v = s.values[g] ?? null;
    const x = x0 + i * barW;
    if (v === null) {
      const why = s.missing?.[g];
      parts.push(
        `<g><title>${escapeXml(`${chart.groups[g]} / ${s.name}: not run${why ? `: ${why}` : ""}`)}</title>` +
          `<text x="${(x + barW / 2).toFixed(1)}" y="${bottom - 4}" text-anchor="middle" font-size="${Math.min(14, barW)}" ${FONT} fill="#888">×</text></g>`,
      );
      return;
    }
    const y = axis.map(v);
    parts.push(
      `<rect x="${(x + 1).toFixed(1)}" y="${y.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${Math.max(0, bottom - y).toFixed(1)}" fill="${L.colors[i]}">` +
        `<title>${escapeXml(`${chart.groups[g]} / ${s.name}: ${fmtValue(v, chart.yUnit)}`)}</title></rect>`,
    );
  });
  (chart.references ?? []).forEach((r, k) => {
    const v = r.values[g] ?? null;
    if (v === null || (axis.scale === "log" && v <= 0)) return;
    const y = axis.map(v).toFixed(1);
    const dash = DASH[r.style ?? "solid"];
    const ink = REFERENCE_INK[Math.min(k, REFERENCE_INK.length - 1)]!;
    parts.push(
      `<line x1="${(x0 - 6).toFixed(1)}" y1="${y}" x2="${(x0 + nS * barW + 6).toFixed(1)}" y2="${y}" stroke="${ink.color}" stroke-width="${ink.width}"${dash ? ` stroke-dasharray="${dash}"` : ""}>` +
        `<title>${escapeXml(`${chart.groups[g]} / ${r.name}: ${fmtValue(v, chart.yUnit)}`)}</title></line>`,
    );
  });
  const label = escapeXml(chart.groups[g]!);
  if (L.rotate) {
    parts.push(`<text x="${cx.toFixed(1)}" y="${bottom + 16}" text-anchor="end" font-size="12" ${FONT} fill="#222" transform="rotate(-40 ${cx.toFixed(1)} ${bottom + 16})">${label}</text>`);
  } else {
    parts.push(`<text x="${cx.toFixed(1)}" y="${bottom + 18}" text-anchor="middle" font-size="12" ${FONT} fill="#222">${label}</text>`);
  }
  return parts;
}

/**
 * A grouped bar chart as an SVG document: per group (layer) one bar per series (dataflow, in its
 * own colour), each reference line (bound) drawn across the group, y axis log (default) or
 * linear with labelled ticks and the unit, legend under the title. A missing bar is drawn as a
 * grey `×` at the axis.
 */
export function groupedBarChartSvg(chart: GroupedBarChart): string {
  const nG = chart.groups.length;
  const nS = Math.max(1, chart.series.length);
  const refs = chart.references ?? [];
  const left = 78;
  const plotW = Math.max(520, nG * (nS * 12 + 24));
  const width = left + plotW + 24;
  const slot = plotW / Math.max(1, nG);
  const barW = Math.max(6, Math.min(nS === 1 ? 44 : 26, (slot * 0.78) / nS));
  const colors = seriesStyles(chart.series.map((s) => s.name)).map((st) => st.color);
  const items: LegendItem[] = [
    ...chart.series.map((s, i): LegendItem => ({ label: s.name, kind: "box", color: colors[i]! })),
    ...refs.map((r, k): LegendItem => {
      const ink = REFERENCE_INK[Math.min(k, REFERENCE_INK.length - 1)]!;
      return { label: r.name, kind: "line", color: ink.color, width: ink.width, style: r.style ?? "solid" };
    }),
  ];
  const legendTop = 56 + headExtra(chart.title, chart.subtitle, width);
  const lg = legend(items, left, legendTop, plotW);
  const top = legendTop + lg.height + 6;
  const maxLabel = Math.max(0, ...chart.groups.map((g) => textWidth(g, 12)));
  const rotate = maxLabel > slot - 6;
  const labelH = rotate ? Math.min(140, maxLabel * 0.72 + 16) : 24;
  const bottom = top + 340;
  const height = bottom + labelH + (chart.xLabel ? 28 : 10);

  const values: number[] = [];
  for (const s of chart.series) for (const v of s.values) if (v !== null) values.push(v);
  for (const r of refs) for (const v of r.values) if (v !== null) values.push(v);
  const axis = yAxis(values, chart.yScale ?? "log", top, bottom);

  const parts = header(width, height, chart.title, chart.subtitle);
  parts.push(lg.svg);
  parts.push(...yAxisSvg(axis, left, left + plotW, top, bottom, `${chart.yLabel} [${chart.yUnit}]${axis.scale === "log" ? ", log scale" : ""}`));
  const layout: BarLayout = { chart, colors, axis, left, slot, barW, bottom, rotate };
  for (let g = 0; g < nG; g++) parts.push(...barGroupSvg(layout, g));
  if (chart.xLabel) parts.push(`<text x="${left + plotW / 2}" y="${height - 10}" text-anchor="middle" font-size="13" ${FONT} fill="#111">${escapeXml(chart.xLabel)}</text>`);
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

/** How each line series is drawn: colour, dash, marker (or none). */
interface LineInk {
  readonly color: string;
  readonly dash: string;
  readonly marker: MarkerShape | undefined;
}

/** A dash that lets an earlier, identical line show through a solid one drawn over it. */
const COINCIDENT_DASH = DASH.coincident!;

/**
 * The ink of each line series: solid series take their styles from {@link seriesStyles} (a
 * dataflow its own colour and marker) unless given a colour; dashed ones are black, dotted grey.
 * A solid series whose values equal an earlier series' is dashed, so both stay visible.
 */
function lineInks(series: readonly LineSeries[]): LineInk[] {
  const solid = series.filter((s) => (s.style ?? "solid") === "solid" && s.color === undefined);
  const styles = new Map(solid.map((s, i) => [s, seriesStyles(solid.map((x) => x.name))[i]!]));
  const same = (a: LineSeries, b: LineSeries) => a.values.length === b.values.length && a.values.every((v, j) => v === b.values[j]);
  return series.map((s, i) => {
    const style = s.style ?? "solid";
    const st = styles.get(s);
    const color = s.color ?? st?.color ?? (style === "dashed" ? "#000" : "#555");
    const coincident = style === "solid" && series.slice(0, i).some((e) => same(e, s));
    const dash = coincident ? COINCIDENT_DASH : DASH[style]!;
    const wantMarker = s.markers ?? style === "solid";
    const marker = wantMarker ? (st?.marker ?? MARKERS[i % MARKERS.length]!) : undefined;
    return { color, dash, marker };
  });
}

/** The drawing context of a line chart's series. */
interface LineLayout {
  readonly chart: LineChart;
  readonly axis: YAxis;
  mapX(v: number): number;
  drawable(v: number | null): v is number;
  tickLabel(x: number): string;
}

/** One series: its path, broken at missing points, and its markers with tooltips. */
function lineSeriesSvg(L: LineLayout, s: LineSeries, ink: LineInk): string[] {
  const xs = L.chart.x;
  const parts: string[] = [];
  let d = "";
  let pen = false;
  s.values.forEach((v, j) => {
    if (!L.drawable(v) || j >= xs.length) {
      pen = false;
      return;
    }
    d += `${pen ? "L" : "M"}${L.mapX(xs[j]!).toFixed(1)} ${L.axis.map(v).toFixed(1)} `;
    pen = true;
  });
  if (d) parts.push(`<path d="${d.trim()}" fill="none" stroke="${ink.color}" stroke-width="2.5"${ink.dash ? ` stroke-dasharray="${ink.dash}"` : ""} stroke-linejoin="round"/>`);
  if (ink.marker) {
    s.values.forEach((v, j) => {
      if (!L.drawable(v) || j >= xs.length) return;
      parts.push(markerSvg(ink.marker!, L.mapX(xs[j]!), L.axis.map(v), ink.color, `${s.name} at ${L.tickLabel(xs[j]!)}: ${fmtValue(v, L.chart.yUnit)}`));
    });
  }
  return parts;
}

/**
 * A line chart as an SVG document: x linear or log2 (powers of two evenly spaced), y log
 * (default) or linear, labelled ticks with units, one line per series (hollow markers of distinct
 * shapes on measured series, dash patterns for bounds), a legend under the title and notes under
 * the chart.
 */
export function lineChartSvg(chart: LineChart): string {
  const left = 78;
  const plotW = 600;
  const width = left + plotW + 30;
  const inks = lineInks(chart.series);
  const items: LegendItem[] = chart.series.map((s, i) => ({ label: s.name, kind: "line", color: inks[i]!.color, style: inks[i]!.dash === COINCIDENT_DASH ? "coincident" : (s.style ?? "solid"), ...(inks[i]!.marker ? { marker: inks[i]!.marker } : {}) }));
  const legendTop = 56 + headExtra(chart.title, chart.subtitle, width);
  const lg = legend(items, left, legendTop, plotW);
  const top = legendTop + lg.height + 6;
  const bottom = top + 340;
  const notes = [...(chart.notes ?? [])];
  const zeroNotes = chart.series.filter((s) => (chart.yScale ?? "log") === "log" && s.values.some((v) => v !== null && v <= 0)).length;
  const height = bottom + 54 + zeroNotes * 16 + (notes.length > 0 ? 12 + notes.length * 16 : 0);

  const values: number[] = [];
  for (const s of chart.series) for (const v of s.values) if (v !== null) values.push(v);
  const axis = yAxis(values, chart.yScale ?? "log", top, bottom);
  // A log axis cannot show zero: such points are left out and said so under the chart.
  const drawable = (v: number | null): v is number => v !== null && (axis.scale === "linear" || v > 0);
  for (const s of chart.series) {
    const zeros = s.values.filter((v) => v !== null && !drawable(v)).length;
    if (zeros > 0) notes.push(`${s.name}: ${zeros === s.values.length ? "0 everywhere" : `0 at ${zeros} point${zeros === 1 ? "" : "s"}`}, not drawn on the log axis`);
  }
  const xs = chart.x;
  const xMode = chart.xScale ?? "linear";
  const xf = (v: number) => (xMode === "log2" ? Math.log2(v) : v);
  const xa = xs.length > 0 ? xf(xs[0]!) : 0;
  const xb = xs.length > 1 ? xf(xs[xs.length - 1]!) : xa + 1;
  const pad = 24;
  const mapX = (v: number) => left + pad + ((xf(v) - xa) / (xb - xa || 1)) * (plotW - 2 * pad);
  const tickLabel = chart.xTickLabel ?? siLabel;

  const parts = header(width, height, chart.title, chart.subtitle);
  parts.push(lg.svg);
  parts.push(...yAxisSvg(axis, left, left + plotW, top, bottom, `${chart.yLabel} [${chart.yUnit}]${axis.scale === "log" ? ", log scale" : ""}`));
  for (const x of xs) {
    const px = mapX(x).toFixed(1);
    parts.push(`<line x1="${px}" y1="${top}" x2="${px}" y2="${bottom}" stroke="#f0f0f0"/>`);
    parts.push(`<line x1="${px}" y1="${bottom}" x2="${px}" y2="${bottom + 5}" stroke="#333"/>`);
    parts.push(`<text x="${px}" y="${bottom + 19}" text-anchor="middle" font-size="12" ${FONT} fill="#222">${escapeXml(tickLabel(x))}</text>`);
  }
  parts.push(`<text x="${left + plotW / 2}" y="${bottom + 42}" text-anchor="middle" font-size="13" ${FONT} fill="#111">${escapeXml(chart.xLabel)}${xMode === "log2" ? " (log scale)" : ""}</text>`);
  // Bounds (dashed, dotted) first, so the measured lines are drawn over them.
  const solid = (i: number) => Number((chart.series[i]!.style ?? "solid") === "solid");
  const layout: LineLayout = { chart, axis, mapX, drawable, tickLabel };
  for (const i of chart.series.map((_, i) => i).sort((a, b) => solid(a) - solid(b))) parts.push(...lineSeriesSvg(layout, chart.series[i]!, inks[i]!));
  notes.forEach((n, i) => parts.push(`<text x="${left}" y="${bottom + 62 + i * 16}" font-size="11" ${FONT} fill="#555">${escapeXml(n)}</text>`));
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}
