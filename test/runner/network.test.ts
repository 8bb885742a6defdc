/**
 * The network runner as a library function: runNetwork gives the rows `convsim run` prints
 * (formatNetworkRun renders them byte for byte as the command does), the same rows in this
 * thread and on worker threads, and refuses what cannot run before any simulation.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Io } from "../../src/cli/args.js";
import { runCommand } from "../../src/cli/run.js";
import { ConfigError } from "../../src/core/errors.js";
import { formatNetworkRun, networkRunChartSvg, runNetwork, type NetworkProgress, type NetworkRun } from "../../src/index.js";
import { loadNetwork } from "../../src/workload/networks.js";
import { convShape } from "../../src/workload/layer.js";

const tiny = loadNetwork({
  name: "tiny",
  layers: [
    { name: "c1", inChannels: 3, inHeight: 8, inWidth: 8, outChannels: 8, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] },
    { name: "c2", inChannels: 8, inHeight: 8, inWidth: 8, outChannels: 8, kernelHeight: 3, kernelWidth: 3, strides: [2, 2], pads: [1, 1, 1, 1] },
    { name: "fc", inChannels: 32, inHeight: 1, inWidth: 1, outChannels: 10, kernelHeight: 1, kernelWidth: 1 },
  ],
});

/** A run's rows without their wall times (the only figures that vary from run to run). */
const rowsOf = (r: NetworkRun) => r.layers.map((l) => ({ ...l, wallMs: 0 }));

describe("runNetwork", () => {
  it("simulates every selected layer, verified, with the same rows in this thread and on two workers; progress reaches every MAC", async () => {
    const seen: NetworkProgress[] = [];
    const one = await runNetwork({ network: tiny, arch: "eyeriss", dataflow: "rs", jobs: 1, onProgress: (p) => seen.push(p) });
    const two = await runNetwork({ network: tiny, arch: "eyeriss", dataflow: "rs", jobs: 2 });
    expect(one.verified).toBe(true);
    expect(one.layers.map((l) => l.name)).toEqual(["c1", "c2", "fc"]);
    expect(one.layers.map((l) => l.macs)).toEqual(tiny.layers.map((l) => convShape(l).macs));
    expect(rowsOf(two)).toEqual(rowsOf(one));
    expect(one.total.macs).toBe(one.layers.reduce((a, l) => a + l.macs, 0));
    const last = seen[seen.length - 1]!;
    expect(last).toEqual({ macs: one.total.macs, totalMacs: one.total.macs, layersDone: 3, layers: 3 });
  });

  it("renders what `convsim run` prints, byte for byte, and its chart", async () => {
    const run = await runNetwork({ network: tiny, layers: "c1,fc", jobs: 1 });
    let out = "";
    const io: Io = { out: (t) => void (out += t), err: () => undefined, isTTY: false };
    const file = join(mkdtempSync(join(tmpdir(), "convsim-runner-")), "tiny.json");
    writeFileSync(file, JSON.stringify({ name: "tiny", layers: tiny.layers }));
    for (const format of ["table", "md", "csv"] as const) {
      out = "";
      expect(await runCommand.run(["--net", file, "--layers", "c1,fc", "--jobs", "1", "--format", format], io)).toBe(0);
      expect(formatNetworkRun(run, format)).toBe(out);
    }
    expect(formatNetworkRun(run)).toMatch(/^convsim run: tiny \(batch 1\), arch chen2020, dataflow chen2020, 2 layers/);
    expect(JSON.parse(formatNetworkRun(run, "json")).layers).toHaveLength(2);
    // { timing: true }: each layer's simulation time, as `convsim run --timing`
    expect(formatNetworkRun(run, "table")).not.toContain("sim time");
    expect(formatNetworkRun(run, "table", { timing: true })).toMatch(/sim time \[s\] {2}verdict$/m);
    expect(() => formatNetworkRun(run, "html" as never)).toThrow('format must be one of table, json, csv, md; got "html"');
    expect(() => formatNetworkRun(run, "md", { timing: "yes" as never })).toThrow('options.timing must be a boolean; got "yes"');
    expect(() => formatNetworkRun(run, "md", 5 as never)).toThrow("options must be an object ({ timing?: boolean }); got 5");
    const svg = networkRunChartSvg(run);
    const title = [...svg.matchAll(/font-weight="bold"[^>]*>([^<]*)</g)].map((m) => m[1]).join(" ");
    expect(title).toBe("DRAM traffic per layer: tiny, dataflow chen2020 on chen2020");
    expect(svg).toContain(">fc<");
  });

  it("refuses an unknown dataflow, a bad jobs count and an unmappable layer with a ConfigError naming the field, before simulating", async () => {
    await expect(runNetwork({ network: tiny, dataflow: "nope" })).rejects.toThrow(ConfigError);
    await expect(runNetwork({ network: tiny, dataflow: "nope" })).rejects.toThrow(/dataflow/);
    await expect(runNetwork({ network: tiny, jobs: 0 })).rejects.toThrow(/jobs/);
    await expect(runNetwork({ network: "no-such-net" })).rejects.toThrow(ConfigError);
    // No weight registers: ws cannot map c1 (the CLI names its flag, as passed in the field names).
    const noWeights = { network: tiny, dataflow: "ws", archOverrides: { rf: { weightEntries: 0 } } };
    await expect(runNetwork(noWeights, { dataflow: "--dataflow", jobs: "--jobs" })).rejects.toThrow(ConfigError);
    await expect(runNetwork(noWeights, { dataflow: "--dataflow", jobs: "--jobs" })).rejects.toThrow(/--dataflow|weightEntries/);
  });
});
