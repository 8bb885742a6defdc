import { describe, expect, it } from "vitest";
import { groupedBarChartSvg, lineChartSvg, linearTicks, logTicks, siLabel, wrapText } from "../../src/report/svg.js";

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
    // bound lines: 2 + 1 (a zero cannot be drawn on a log axis) plus the legend's two samples
    expect(count(svg, /stroke="#000" stroke-width="2.5"/g)).toBe(3 + 2);
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
    expect(count(svg, /<circle /g)).toBe(2 + 1); // two points of os, one legend marker
    expect(svg).toContain(">2 KiB<");
    expect(svg).toContain("provable bound: 0 at 2 points, not drawn on the log axis");
    expect(svg).toContain("os at 1 KiB: does not fit");
    // evenly spaced powers of two
    const xs = [...svg.matchAll(/<text x="([\d.]+)" y="[\d.]+" text-anchor="middle" font-size="12"[^>]*>\d KiB</g)].map((m) => Number(m[1]));
    expect(xs[1]! - xs[0]!).toBeCloseTo(xs[2]! - xs[1]!, 0);
  });
});
