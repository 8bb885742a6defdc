/**
 * The README's API example, run as written (against the sources), so the documentation cannot
 * drift from the API.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as convsim from "../src/index.js";

describe("README", () => {
  it("the API example runs and says what the README says", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    expect(readme).toContain('import { simulate, convLayer, lowerBounds, parseCapacity } from "convsim";');
    const { simulate, convLayer, lowerBounds, parseCapacity } = convsim;
    const layer = convLayer({ inChannels: 64, inHeight: 13, inWidth: 13, outChannels: 64, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] });
    const r = simulate({ layer, arch: "eyeriss", dataflow: "rs", types: { input: "uint8" }, zeroPoints: { input: 128 }, checked: true });
    expect(r.verification.ok).toBe(true);
    expect(r.traffic.dram.read.input).toBeGreaterThanOrEqual(64 * 13 * 13); // every input at least once
    expect(r.boundaries.dram.ratio).toBeGreaterThanOrEqual(1);
    const b = lowerBounds(layer, { capacity: parseCapacity("capacity", "108KiB"), boundary: "dram" });
    expect(b.compulsory.total).toBeGreaterThan(0);
    expect(b.attainable?.tile).toBeDefined();
  });

  it("the network-runner and simulateAsync example runs as written", async () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    expect(readme).toContain('import { runNetwork, formatNetworkRun, networkRunChartSvg, simulateAsync, readNpy, parseLayerShortForm } from "convsim";');
    expect(readme).toContain('const run = await runNetwork({ network: "alexnet", layers: "fc8", arch: "chen2020", jobs: 2,');
    const { runNetwork, formatNetworkRun, networkRunChartSvg, simulateAsync, readNpy, parseLayerShortForm, referenceConv, writeNpy, seededTensor } = convsim;
    const seen: number[] = [];
    const run = await runNetwork({ network: "alexnet", layers: "fc8", arch: "chen2020", jobs: 2, onProgress: (p) => seen.push(p.layersDone) });
    expect(run.verified).toBe(true);
    expect(run.layers[0]!.name).toBe("fc8");
    expect(seen[seen.length - 1]).toBe(1);
    expect(formatNetworkRun(run, "md")).toContain("| fc8 ");
    expect(networkRunChartSvg(run)).toContain("<svg");
    const dir = mkdtempSync(join(tmpdir(), "convsim-readme-"));
    const layer = parseLayerShortForm("c=16,hw=14,k=32,r=3,pad=1");
    writeNpy(join(dir, "x.npy"), { dtype: "uint8", shape: [1, 16, 14, 14], data: seededTensor("uint8", 16 * 14 * 14, 7) });
    writeNpy(join(dir, "w.npy"), { dtype: "int8", shape: [32, 16, 3, 3], data: seededTensor("int8", 32 * 16 * 9, 8) });
    const x = readNpy(join(dir, "x.npy")),
      w = readNpy(join(dir, "w.npy"));
    const r2 = await simulateAsync({ layer, x: x.data, w: w.data, zeroPoints: { input: 128 } }, { signal: AbortSignal.timeout(60_000) });
    expect(r2.verification.ok).toBe(true);
    expect(Array.from(r2.output)).toEqual(Array.from(referenceConv(layer, x.data, w.data, { xZeroPoint: 128 })));
    rmSync(dir, { recursive: true, force: true });
  });

  it("every command in the README's CLI section exists", async () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const { COMMANDS } = await import("../src/cli/commands.js");
    const names = new Set(COMMANDS.map((c) => c.name));
    for (const m of readme.matchAll(/npx convsim (\w+)/g)) expect(names.has(m[1]!)).toBe(true);
    for (const c of COMMANDS) expect(readme).toContain(`convsim ${c.name}`);
  });
});
