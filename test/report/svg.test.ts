import { describe, expect, it } from "vitest";
import { DATAFLOW_NAMES } from "../../src/dataflow/dataflows/index.js";
import { DATAFLOW_STYLES, groupedBarChartSvg, lineChartSvg, linearTicks, logTicks, seriesStyles, siLabel, titleLayout, wrapText } from "../../src/report/svg.js";

const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;

describe("svg charts", () => {
  it("ticks and labels", () => {
    expect(linearTicks(930)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(logTicks(1500, 2.2e6)).toEqual({ ticks: [1e3, 1e4, 1e5, 1e6, 1e7], lo: 1e3, hi: 1e7 });
    expect(logTicks(300, 4000).ticks).toEqual([100, 200, 500, 1000, 2000, 5000, 10000]);
    expect(siLabel(1500)).toBe("1.5k");
    expect(siLabel(2e6)).toBe("2M");
    expect(wrapText("aaa bbb ccc ddd", 60, 12)).toEqual(["aaa bbb", "ccc ddd"]);
  });

  it("grouped bars: one bar per present value, a marked gap per missing one, one line per bound per group, units and legend", () => {
    const svg = groupedBarChartSvg({
      title: "DRAM <traffic> & more",
      groups: ["conv1", "conv2"],
      series: [
        { name: "chen2020", values: [1000, 2000] },
        { name: "ws", values: [5000, null], missing: [null, "does not fit"] },
      ],
      references: [
        { name: "lower bound", values: [900, 1800] },
        { name: "paper bound", values: [800, 0], style: "dashed" },
      ],
      yLabel: "DRAM traffic",
      yUnit: "words",
    });
    expect(svg.startsWith("<?xml")).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg).toContain("DRAM &lt;traffic&gt; &amp; more");
    expect(count(svg, /<rect [^>]*><title>/g)).toBe(3);
    expect(svg).toContain("conv2 / ws: not run: does not fit");
    // bound lines: the lower bound (black) in both groups, the paper bound (grey) in one (a zero
    // cannot be drawn on a log axis), each plus its legend sample
    expect(count(svg, /stroke="#000" stroke-width="2.5"/g)).toBe(2 + 1);
    expect(count(svg, /stroke="#666" stroke-width="2" stroke-dasharray/g)).toBe(1 + 1);
    expect(svg).toContain("DRAM traffic [words], log scale");
    expect(svg).toContain(">1k<");
    for (const name of ["chen2020", "ws", "lower bound", "paper bound"]) expect(svg).toContain(`>${name}</text>`);
    // y of a bar top: a larger value is higher (smaller y)
    const ys = [...svg.matchAll(/<rect x="[\d.]+" y="([\d.]+)"[^>]*><title>conv1/g)].map((m) => Number(m[1]));
    expect(ys[0]!).toBeGreaterThan(ys[1]!);
  });

  it("linear y axis starts at 0", () => {
    const svg = groupedBarChartSvg({ title: "t", groups: ["a"], series: [{ name: "s", values: [37] }], yLabel: "y", yUnit: "u", yScale: "linear" });
    expect(svg).toContain(">0<");
    expect(svg).toContain(">40<");
    expect(svg).not.toContain("log scale");
  });

  it("line chart: a path per series broken at missing points, markers on measured series, zeros noted on a log axis", () => {
    const svg = lineChartSvg({
      title: "sweep",
      x: [1024, 2048, 4096],
      xScale: "log2",
      xLabel: "buffer",
      xTickLabel: (v) => `${v / 1024} KiB`,
      series: [
        { name: "os", values: [null, 500, 300] },
        { name: "paper bound", values: [100, 90, 80], style: "dashed" },
        { name: "provable bound", values: [0, 0, 10], style: "dotted" },
      ],
      yLabel: "DRAM traffic",
      yUnit: "words",
      notes: ["os at 1 KiB: does not fit"],
    });
    expect(count(svg, /<path /g)).toBe(3);
    expect(count(svg, /<polygon [^>]*stroke="#009E73"/g)).toBe(2 + 1); // two points of os (its triangle), one legend marker
    expect(svg).toContain(">2 KiB<");
    expect(svg).toContain("provable bound: 0 at 2 points, not drawn on the log axis");
    expect(svg).toContain("os at 1 KiB: does not fit");
    // evenly spaced powers of two
    const xs = [...svg.matchAll(/<text x="([\d.]+)" y="[\d.]+" text-anchor="middle" font-size="12"[^>]*>\d KiB</g)].map((m) => Number(m[1]));
    expect(xs[1]! - xs[0]!).toBeCloseTo(xs[2]! - xs[1]!, 0);
  });

  it("a title never runs past the chart: long titles wrap, a long word shrinks the font and then breaks; the legend moves below", () => {
    const estimate = (text: string, size: number) => text.length * size * 0.58 * 1.1; // svg.ts's estimate for bold text
    const name = "my-own-network-exported-from-a-framework-with-a-very-long-file-name-resnet152-v1.5-int8-calibrated";
    for (const title of [`DRAM traffic per layer: ${name}, dataflow chen2020 on eyeriss`, `x${"y".repeat(400)}`, "DRAM traffic per layer: alexnet"]) {
      const svg = groupedBarChartSvg({ title, groups: ["a"], series: [{ name: "rs", values: [10] }], yLabel: "y", yUnit: "u" });
      const width = Number(/width="(\d+)"/.exec(svg)![1]);
      const lines = [...svg.matchAll(/<text x="[\d.]+" y="(\d+)" text-anchor="middle" font-size="(\d+)" font-weight="bold"[^>]*>([^<]*)</g)];
      expect(lines.map((m) => m[3]).join("").replace(/\s+/g, "")).toBe(title.replace(/\s+/g, ""));
      for (const m of lines) expect(estimate(m[3]!, Number(m[2])) + 40).toBeLessThanOrEqual(width);
      const legendY = Number(/<rect x="78" y="([\d.]+)" width="14"/.exec(svg)![1]);
      expect(legendY).toBeGreaterThan(Number(lines[lines.length - 1]![1]));
    }
    expect(titleLayout("DRAM traffic per layer: alexnet", 622)).toEqual({ lines: ["DRAM traffic per layer: alexnet"], size: 17 });
    const long = titleLayout(name, 622);
    expect(long.size).toBeLessThan(17);
    expect(long.size).toBeGreaterThanOrEqual(11);
    expect(wrapText("abcdefghij", 3 * 12 * 0.58, 12)).toEqual(["abc", "def", "ghi", "j"]);
  });

  it("identical line series stay apart: distinct marker shapes, and the later line dashed over the earlier", () => {
    const svg = lineChartSvg({
      title: "sweep",
      x: [1, 2, 3],
      xLabel: "x",
      series: [
        { name: "rs", values: [5, 6, 7] },
        { name: "os", values: [5, 6, 7] },
        { name: "ws", values: [9, 9, 9] },
      ],
      yLabel: "y",
      yUnit: "u",
    });
    const paths = [...svg.matchAll(/<path d="[^"]*" fill="none" stroke="(#[0-9A-F]+)" stroke-width="2.5"( stroke-dasharray="([\d ]+)")?/g)];
    const byColor = new Map(paths.map((m) => [m[1], m[3]]));
    expect(byColor.get(DATAFLOW_STYLES.rs!.color)).toBeUndefined(); // first of the two: solid
    expect(byColor.get(DATAFLOW_STYLES.os!.color)).toBeDefined(); // equal to rs: dashed
    expect(byColor.get(DATAFLOW_STYLES.ws!.color)).toBeUndefined(); // different values: solid
    const markerOf = (name: string) => [...svg.matchAll(/<(\w+) ([^>]*)><title>([a-z0-9]+) at 1:/g)].find((m) => m[3] === name)!;
    expect(markerOf("rs")[2]).not.toBe(markerOf("os")[2]);
  });

  it("each dataflow keeps one colour and marker in every chart; other series take the colours no dataflow of the chart uses", () => {
    expect(new Set(DATAFLOW_NAMES.map((d) => DATAFLOW_STYLES[d]!.color)).size).toBe(DATAFLOW_NAMES.length);
    expect(new Set(DATAFLOW_NAMES.map((d) => DATAFLOW_STYLES[d]!.marker)).size).toBe(DATAFLOW_NAMES.length);
    const barColor = (series: string[], name: string) => {
      const svg = groupedBarChartSvg({ title: "t", groups: ["g"], series: series.map((n, i) => ({ name: n, values: [10 + i] })), yLabel: "y", yUnit: "u" });
      return /fill="(#[0-9A-F]+)"><title>g \/ ([^:]+):/.exec([...svg.matchAll(/<rect [^>]*fill="(#[0-9A-F]+)"><title>g \/ ([^:]+):/g)].find((m) => m[2] === name)![0])![1];
    };
    for (const d of DATAFLOW_NAMES) {
      expect(barColor([d], d)).toBe(DATAFLOW_STYLES[d]!.color);
      expect(barColor([...DATAFLOW_NAMES].reverse(), d)).toBe(DATAFLOW_STYLES[d]!.color);
      const line = lineChartSvg({ title: "t", x: [1], xLabel: "x", series: [{ name: "other", values: [3] }, { name: d, values: [4] }], yLabel: "y", yUnit: "u" });
      expect(line).toContain(`stroke="${DATAFLOW_STYLES[d]!.color}" stroke-width="2"><title>${d} at 1:`);
    }
    const styles = seriesStyles(["mine", "chen2020", "ws"]);
    expect(styles[0]!.color).not.toBe(DATAFLOW_STYLES.chen2020!.color);
    expect(styles[0]!.color).not.toBe(DATAFLOW_STYLES.ws!.color);
    expect(styles.slice(1)).toEqual([DATAFLOW_STYLES.chen2020, DATAFLOW_STYLES.ws]);
  });
});
