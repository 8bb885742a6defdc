import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Io } from "../../src/cli/args.js";
import { compareCommand } from "../../src/cli/compare.js";
import { ConfigError } from "../../src/core/errors.js";
import { chen2020 } from "../../src/arch/presets.js";
import type { LayerMetrics } from "../../src/report/metrics.js";

function capture(): Io & { stdout: () => string } {
  let out = "";
  return { out: (t) => void (out += t), err: () => {}, isTTY: false, stdout: () => out };
}

let dir: string;
let net: string;
let smallArch: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "convsim-compare-"));
  net = join(dir, "tiny.json");
  writeFileSync(
    net,
    JSON.stringify({
      name: "tiny",
      layers: [
        { name: "c1", inChannels: 4, inHeight: 8, inWidth: 8, outChannels: 8, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] },
        { name: "fc", inChannels: 32, inHeight: 1, inWidth: 1, outChannels: 10, kernelHeight: 1, kernelWidth: 1 },
      ],
    }),
  );
  // chen2020 without weight registers: no dataflow can map any layer on it.
  smallArch = join(dir, "noweights.json");
  writeFileSync(smallArch, JSON.stringify({ ...chen2020, name: "noweights", rf: { ...chen2020.rf, weightEntries: 0 } }));
});

type CompareJson = { dataflows: { dataflow: string; total: LayerMetrics; layers: LayerMetrics[]; missing: { layer: string; reason: string }[] }[] };

describe("convsim compare", () => {
  it("one total per dataflow; each total sums that dataflow's verified layers; bounds are the same for every dataflow", async () => {
    const io = capture();
    expect(await compareCommand.run(["--net", net, "--dataflows", "chen2020,os,rs", "--jobs", "1", "--format", "json"], io)).toBe(0);
    const r = JSON.parse(io.stdout()) as CompareJson;
    expect(r.dataflows.map((d) => d.dataflow)).toEqual(["chen2020", "os", "rs"]);
    for (const d of r.dataflows) {
      expect(d.layers.map((l) => l.name)).toEqual(["c1", "fc"]);
      expect(d.layers.every((l) => l.verified && l.dataflow === d.dataflow)).toBe(true);
      expect(d.total.traffic.dram).toBe(d.layers[0]!.traffic.dram + d.layers[1]!.traffic.dram);
      expect(d.total.traffic.dram).toBeGreaterThanOrEqual(d.total.boundaries.dram.minimum);
      expect(d.total.boundaries.dram.minimum).toBe(r.dataflows[0]!.total.boundaries.dram.minimum);
    }
    // the dataflows really differ somewhere (cycles or on-chip traffic)
    const sig = r.dataflows.map((d) => `${d.total.cycles}/${d.total.traffic.rf}`);
    expect(new Set(sig).size).toBe(3);
  });

  it("defaults to every dataflow, and to the systolic ones (ws, os, is) on an array that forwards operands", async () => {
    const io = capture();
    expect(await compareCommand.run(["--net", net, "--layers", "c1", "--arch", "systolic", "--jobs", "1", "--format", "json"], io)).toBe(0);
    const r = JSON.parse(io.stdout()) as CompareJson;
    expect(r.dataflows.map((d) => d.dataflow)).toEqual(["ws", "os", "is"]);
    expect(r.dataflows.every((d) => d.layers.every((l) => l.verified))).toBe(true);
    const all = capture();
    expect(await compareCommand.run(["--net", net, "--layers", "c1", "--jobs", "1", "--format", "json"], all)).toBe(0);
    expect((JSON.parse(all.stdout()) as CompareJson).dataflows.map((d) => d.dataflow)).toEqual(["chen2020", "ws", "os", "is", "rs"]);
  });

  it("--per-layer prints a row per layer and dataflow, totals as footer; the chart has a bar per pair", async () => {
    const io = capture();
    const svg = join(dir, "cmp.svg");
    expect(await compareCommand.run(["--net", net, "--dataflows", "chen2020,ws", "--per-layer", "--jobs", "1", "--svg", svg], io)).toBe(0);
    const text = io.stdout();
    expect(text).toMatch(/^layer\s+dataflow\s+MACs/m);
    for (const l of ["c1", "fc"]) for (const d of ["chen2020", "ws"]) expect(text).toMatch(new RegExp(`^${l}\\s+${d}\\s.*PASS$`, "m"));
    expect(text.match(/^total\s+(chen2020|ws)\s/gm)).toHaveLength(4); // two tables x two dataflows
    const chart = readFileSync(svg, "utf8");
    expect((chart.match(/<rect [^>]*><title>/g) ?? []).length).toBe(4);
    expect(chart).toContain("c1 / ws:");
  });

  it("a dataflow that cannot map a layer is reported with the reason and drawn as missing", async () => {
    const io = capture();
    const svg = join(dir, "small.svg");
    expect(await compareCommand.run(["--net", net, "--arch", smallArch, "--dataflows", "chen2020,ws", "--per-layer", "--jobs", "1", "--svg", svg], io)).toBe(0);
    for (const l of ["c1", "fc"]) for (const d of ["chen2020", "ws"]) expect(io.stdout()).toMatch(new RegExp(`^${l}\\s+${d}\\s.*not run: dataflow\\.${d} must fit`, "m"));
    expect(readFileSync(svg, "utf8")).toMatch(/c1 \/ ws: not run: /);
    const json = capture();
    expect(await compareCommand.run(["--net", net, "--arch", smallArch, "--dataflows", "ws", "--jobs", "1", "--format", "json"], json)).toBe(0);
    const d = (JSON.parse(json.stdout()) as CompareJson).dataflows[0]!;
    expect(d.missing.map((m) => m.layer)).toEqual(["c1", "fc"]);
    expect(d.missing.every((m) => /weight|smallest tiles/.test(m.reason))).toBe(true);
    expect(d.layers).toEqual([]);
    expect(d.total.layers).toBe(0);
    const text = capture();
    await compareCommand.run(["--net", net, "--arch", smallArch, "--dataflows", "ws", "--jobs", "1"], text);
    expect(text.stdout()).toMatch(/ws: 2 of 2 layers not run/);
    expect(text.stdout()).toMatch(/ws: no layer could run/);
  });

  it("refuses unknown or repeated dataflows before any work", async () => {
    await expect(compareCommand.run(["--net", net, "--dataflows", "ws,xyz"], capture())).rejects.toThrow(/--dataflows must be one of chen2020, ws, os, is, rs, best; got "xyz"/);
    await expect(compareCommand.run(["--net", net, "--dataflows", "ws,ws"], capture())).rejects.toThrow(ConfigError);
  });
});
