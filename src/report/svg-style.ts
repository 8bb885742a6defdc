/**
 * How chart series look, the same in every chart: the Okabe–Ito palette, a fixed colour and
 * marker per named dataflow ({@link DATAFLOW_STYLES}), the colours and markers other series take
 * ({@link seriesStyles}), the dash patterns and greys of reference lines, and hollow markers of
 * distinct shapes (so several markers at one point all stay visible). Used by svg.ts.
 */
import { DATAFLOW_NAMES } from "../dataflow/dataflows/index.js";

/** Okabe–Ito colours, black left out (it is the bounds' colour). */
export const PALETTE: readonly string[] = Object.freeze(["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"]);

/** Marker shapes of line series, in the order series take them. */
export const MARKERS = Object.freeze(["circle", "square", "triangle", "diamond", "triangle-down", "cross"] as const);

/** A marker shape. */
export type MarkerShape = (typeof MARKERS)[number];

/** How a series is drawn: its colour and, on a line chart, its marker. */
export interface SeriesStyle {
  /** A CSS colour (`#RRGGBB`). */
  readonly color: string;
  /** The marker shape on a line chart. */
  readonly marker: MarkerShape;
}

/** Each named dataflow's colour and marker, the same in every chart (in DATAFLOW_NAMES order). */
export const DATAFLOW_STYLES: Readonly<Record<string, SeriesStyle>> = Object.freeze(
  Object.fromEntries(DATAFLOW_NAMES.map((n, i) => [n, Object.freeze({ color: PALETTE[i % PALETTE.length]!, marker: MARKERS[i % MARKERS.length]! })])),
);

/**
 * The styles of a chart's series, by name: a dataflow keeps its own ({@link DATAFLOW_STYLES});
 * any other series takes, in order, the palette colours and markers that no dataflow of this
 * chart uses (then they repeat).
 */
export function seriesStyles(names: readonly string[]): SeriesStyle[] {
  const taken = names.map((n) => DATAFLOW_STYLES[n]).filter((st): st is SeriesStyle => st !== undefined);
  const freeColors = PALETTE.filter((c) => !taken.some((st) => st.color === c));
  const freeMarkers = MARKERS.filter((m) => !taken.some((st) => st.marker === m));
  let k = 0;
  return names.map((n) => {
    const fixed = DATAFLOW_STYLES[n];
    if (fixed) return fixed;
    const i = k++;
    const colors = freeColors.length > 0 ? freeColors : PALETTE;
    const markers = freeMarkers.length > 0 ? freeMarkers : MARKERS;
    return { color: colors[i % colors.length]!, marker: markers[i % markers.length]! };
  });
}

/** Greys and widths of reference lines, by index: coinciding lines stay distinguishable. */
export const REFERENCE_INK: readonly { readonly color: string; readonly width: number }[] = [
  { color: "#000", width: 2.5 },
  { color: "#666", width: 2 },
  { color: "#999", width: 1.5 },
];

/** Dash patterns of line styles; `coincident` marks a solid line drawn over an identical earlier one. */
export const DASH: Readonly<Record<string, string>> = Object.freeze({ solid: "", dashed: "7 4", dotted: "2 3", coincident: "8 5" });

/** Escapes text for SVG content and attributes. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * A hollow marker (so markers of different shapes at one point are all visible) centred at
 * (cx, cy), with an optional tooltip.
 */
export function markerSvg(shape: MarkerShape, cx: number, cy: number, color: string, title: string): string {
  const r = 4.5;
  const f = (v: number) => v.toFixed(1);
  const pts = (p: readonly [number, number][]) => p.map(([dx, dy]) => `${f(cx + dx)},${f(cy + dy)}`).join(" ");
  const paint = `fill="white" stroke="${color}" stroke-width="2"`;
  const tip = title ? `<title>${escapeXml(title)}</title>` : "";
  const close = (tag: string) => (tip ? `>${tip}</${tag}>` : "/>");
  switch (shape) {
    case "circle":
      return `<circle cx="${f(cx)}" cy="${f(cy)}" r="${r}" ${paint}${close("circle")}`;
    case "square":
      return `<rect x="${f(cx - r)}" y="${f(cy - r)}" width="${2 * r}" height="${2 * r}" ${paint}${close("rect")}`;
    case "triangle":
      return `<polygon points="${pts([[0, -r - 1], [r + 1, r], [-r - 1, r]])}" ${paint}${close("polygon")}`;
    case "triangle-down":
      return `<polygon points="${pts([[0, r + 1], [r + 1, -r], [-r - 1, -r]])}" ${paint}${close("polygon")}`;
    case "diamond":
      return `<polygon points="${pts([[0, -r - 1.5], [r + 1.5, 0], [0, r + 1.5], [-r - 1.5, 0]])}" ${paint}${close("polygon")}`;
    case "cross":
      return `<path d="M${f(cx - r)} ${f(cy - r)}L${f(cx + r)} ${f(cy + r)}M${f(cx - r)} ${f(cy + r)}L${f(cx + r)} ${f(cy - r)}" fill="none" stroke="${color}" stroke-width="2.5"${close("path")}`;
  }
}
