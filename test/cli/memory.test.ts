/** The `--memory` switch of simulate, run, compare and sweep (docs/timing.md, the `ideal` models). */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { archLabel, archOption, memoryOverrides } from "../../src/cli/jobs.js";
import { eyeriss } from "../../src/arch/presets.js";
import type { LayerMetrics } from "../../src/report/metrics.js";
import { cli } from "./helpers.js";

const LAYER = "c=3,hw=6,k=4,r=3,pad=1";

/** The traffic table and the cycles line of `convsim simulate`'s report. */
function parts(out: string): { traffic: string; cycles: number } {
  const lines = out.split("\n");
  const at = lines.findIndex((l) => l.startsWith("level"));
  const cycles = Number(/^cycles\s+([\d,]+)/m.exec(out)![1]!.replace(/,/g, ""));
  return { traffic: lines.slice(at, at + 4).join("\n"), cycles };
}

describe("--memory", () => {
  it("ideal sets both timing models; arch (the default) keeps the architecture's", () => {
    expect(memoryOverrides("ideal")).toEqual({ dram: { model: "ideal" }, gbuf: { model: "ideal" } });
    expect(memoryOverrides(undefined)).toEqual({});
    expect(memoryOverrides("arch")).toEqual({});
    const a = archOption("eyeriss", { gbuf: { capacityBytes: "64KiB" } }, "ideal");
    expect([a.dram.model, a.gbuf.model, a.gbuf.capacityBytes]).toEqual(["ideal", "ideal", 65536]);
    expect(archOption("eyeriss", undefined, "arch")).toEqual(eyeriss);
    expect(archLabel(a)).toBe("eyeriss (ideal DRAM, ideal GBuf)");
    expect(archLabel(eyeriss)).toBe("eyeriss");
  });

  it("convsim simulate --memory ideal: the same traffic, fewer cycles, and the report says so", async () => {
    const real = await cli("simulate", "--layer", LAYER, "--arch", "eyeriss", "--dataflow", "os");
    const ideal = await cli("simulate", "--layer", LAYER, "--arch", "eyeriss", "--dataflow", "os", "--memory", "ideal");
    expect([real.code, ideal.code]).toEqual([0, 0]);
    expect(ideal.out).toContain("arch       eyeriss (ideal DRAM, ideal GBuf): 12x14 PEs");
    expect(ideal.out).toContain("PASS");
    expect(parts(ideal.out).traffic).toBe(parts(real.out).traffic);
    expect(parts(ideal.out).cycles).toBeLessThan(parts(real.out).cycles);
  });

  it("refuses an unknown value, naming the option and the known values (exit 2)", async () => {
    const r = await cli("simulate", "--layer", LAYER, "--memory", "fast");
    expect(r.code).toBe(2);
    expect(r.err).toContain('--memory must be one of arch, ideal; got "fast"');
    const bad = await cli("simulate", "--layer", LAYER, "--arch-override", '{"dram":{"model":"hbm"}}');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--arch-override dram.model must be one of channel, ideal; got "hbm"');
  });

  it("convsim run --memory ideal names the models in its header and moves the same words", async () => {
    const dir = mkdtempSync(join(tmpdir(), "convsim-memory-"));
    const net = join(dir, "one.json");
    writeFileSync(net, JSON.stringify({ name: "one", layers: [{ name: "c1", inChannels: 3, inHeight: 6, inWidth: 6, outChannels: 4, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] }] }));
    const table = await cli("run", "--net", net, "--jobs", "1", "--memory", "ideal");
    expect(table.code).toBe(0);
    expect(table.out).toContain("arch chen2020 (ideal DRAM, ideal GBuf)");
    const json = async (...extra: string[]) => JSON.parse((await cli("run", "--net", net, "--jobs", "1", "--format", "json", ...extra)).out) as { arch: { dram: { model?: string } }; layers: LayerMetrics[] };
    const ideal = await json("--memory", "ideal");
    const real = await json();
    expect(ideal.arch.dram.model).toBe("ideal");
    expect(ideal.layers[0]!.traffic).toEqual(real.layers[0]!.traffic);
    expect(ideal.layers[0]!.cycles).toBeLessThan(real.layers[0]!.cycles);
  });
});
