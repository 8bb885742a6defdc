/**
 * The README's API example, run as written (against the sources), so the documentation cannot
 * drift from the API.
 */
import { readFileSync } from "node:fs";
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

  it("every command in the README's CLI section exists", async () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const { COMMANDS } = await import("../src/cli/commands.js");
    const names = new Set(COMMANDS.map((c) => c.name));
    for (const m of readme.matchAll(/npx convsim (\w+)/g)) expect(names.has(m[1]!)).toBe(true);
    for (const c of COMMANDS) expect(readme).toContain(`convsim ${c.name}`);
  });
});
