import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Io } from "../../src/cli/args.js";
import { parseCapacities, sweepCommand, type SweepPoint } from "../../src/cli/sweep.js";
import { ConfigError } from "../../src/core/errors.js";
import { chen2020 } from "../../src/arch/presets.js";

function capture(): Io & { stdout: () => string } {
  let out = "";
  return { out: (t) => void (out += t), err: () => {}, isTTY: false, stdout: () => out };
}

const LAYER = "c=4,hw=8,k=8,r=3,pad=1";

describe("convsim sweep", () => {
  it("parses capacity ranges (powers of two) and lists", () => {
    expect(parseCapacities("16KiB..512KiB")).toEqual([16, 32, 64, 128, 256, 512].map((k) => k * 1024));
    expect(parseCapacities("100..1000")).toEqual([128, 256, 512]);
    expect(parseCapacities("64KiB,16KiB")).toEqual([16384, 65536]);
    expect(() => parseCapacities("64KiB,16KiB,64KiB")).toThrow("--capacities must list each size once");
    expect(() => parseCapacities("64KiB,,16KiB")).toThrow("--capacities must list sizes without an empty entry");
    expect(() => parseCapacities("512W..2KiW")).toThrow(/must be in bytes/);
    expect(() => parseCapacities("600..1000")).toThrow(/at least one power of two/);
    expect(() => parseCapacities("2KiB..1KiB")).toThrow(ConfigError);
    expect(() => parseCapacities("1..8GiB")).toThrow(/at most 32/);
  });

  it("simulates each dataflow at each capacity against the bounds there", async () => {
    const io = capture();
    expect(await sweepCommand.run(["--layer", LAYER, "--capacities", "256B..1KiB", "--dataflows", "chen2020,ws", "--jobs", "1", "--format", "json"], io)).toBe(0);
    const r = JSON.parse(io.stdout()) as { points: SweepPoint[] };
    expect(r.points.map((p) => p.capacityBytes)).toEqual([256, 512, 1024]);
    // S grows with the buffer (bytes of int8 words) and the paper's bound falls with it
    expect(r.points[1]!.onChipWords - r.points[0]!.onChipWords).toBe(256);
    expect(r.points[2]!.bounds.paper).toBeLessThan(r.points[0]!.bounds.paper);
    let simulated = 0;
    for (const p of r.points) {
      expect(p.results.map((x) => x.dataflow)).toEqual(["chen2020", "ws"]);
      for (const x of p.results) {
        if (!x.metrics) {
          expect(x.reason).toBeTruthy();
          continue;
        }
        simulated++;
        expect(x.metrics.verified).toBe(true);
        expect(x.metrics.traffic.dram).toBeGreaterThanOrEqual(p.bounds.minimum);
        expect(x.metrics.boundaries.dram.minimum).toBe(p.bounds.minimum);
        expect(x.metrics.boundaries.dram.capacityWords).toBe(p.onChipWords);
      }
    }
    expect(simulated).toBeGreaterThanOrEqual(4);
  });

  it("prints one row per capacity with a column per dataflow; draws the line chart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "convsim-sweep-"));
    const svg = join(dir, "sweep.svg");
    const io = capture();
    expect(await sweepCommand.run(["--layer", LAYER, "--capacities", "256B,1KiB", "--dataflows", "chen2020,ws", "--jobs", "1", "--svg", svg], io)).toBe(0);
    const text = io.stdout();
    expect(text).toMatch(/GBuf\s+on-chip S \[words\]\s+compulsory \[words\]\s+paper bound \[words\]\s+provable bound \[words\]\s+chen2020 \[words\]\s+ws \[words\]/);
    expect(text).toMatch(/^\s*256 B\s/m);
    expect(text).toMatch(/^\s*1 KiB\s/m);
    const chart = readFileSync(svg, "utf8");
    expect(chart).toContain(">256 B<");
    expect(chart).toContain(">1 KiB<");
    expect(chart).toContain(">paper bound</text>");
    expect(chart).toContain(">ws</text>");
  });

  it("a capacity at which a dataflow cannot map the layer is a missing point, with the reason", async () => {
    const dir = mkdtempSync(join(tmpdir(), "convsim-sweep-"));
    // chen2020 without weight registers: nothing can map, at any buffer size
    const arch = join(dir, "noweights.json");
    writeFileSync(arch, JSON.stringify({ ...chen2020, name: "noweights", rf: { ...chen2020.rf, weightEntries: 0 } }));
    const svg = join(dir, "sweep.svg");
    const io = capture();
    expect(await sweepCommand.run(["--layer", LAYER, "--arch", arch, "--capacities", "1KiB,2KiB", "--dataflows", "ws", "--jobs", "1", "--svg", svg], io)).toBe(0);
    expect(io.stdout()).toMatch(/^\s*1 KiB\s.*missing/m);
    expect(io.stdout()).toMatch(/missing: ws at 2 KiB: dataflow\.ws must fit/);
    expect(readFileSync(svg, "utf8")).toContain("ws at 1 KiB; ws at 2 KiB");
    const json = capture();
    await sweepCommand.run(["--layer", LAYER, "--arch", arch, "--capacities", "1KiB", "--dataflows", "ws", "--jobs", "1", "--format", "json"], json);
    const p = (JSON.parse(json.stdout()) as { points: SweepPoint[] }).points[0]!;
    expect(p.results[0]!.metrics).toBeUndefined();
    expect(p.results[0]!.reason).toMatch(/smallest tiles/);
  });

  it("takes a layer from a network by name, and refuses bad input before any work", async () => {
    await expect(sweepCommand.run(["--capacities", "1KiB"], capture())).rejects.toThrow(/--layer must be given/);
    await expect(sweepCommand.run(["--layer", LAYER, "--capacities", "4KiW"], capture())).rejects.toThrow(/must be in bytes/);
    await expect(sweepCommand.run(["--layer", "conv99", "--net", "alexnet", "--capacities", "1KiB"], capture())).rejects.toThrow(/--layer must name a layer of alexnet/);
    // 100 bytes is not a whole number of the preset's 64-byte bank rows
    await expect(sweepCommand.run(["--layer", LAYER, "--capacities", "100"], capture())).rejects.toThrow(/gbuf\.capacityBytes must be a multiple/);
  });
});
