import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { boundCommand } from "../../src/cli/bound.js";
import type { Io } from "../../src/cli/args.js";
import { ConfigError } from "../../src/core/errors.js";

function capture(): Io & { text: () => string } {
  let out = "";
  return { out: (t) => (out += t), err: () => undefined, isTTY: false, text: () => out };
}

describe("convsim bound", () => {
  it("prints one row per layer and boundary, with the hand-worked example's figures", async () => {
    const io = capture();
    expect(await boundCommand.run(["--layer", "c=2,hw=4,k=2,r=3,pad=1", "--capacity", "64W"], io)).toBe(0);
    const lines = io.text().trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^layer\s+boundary\s+S \(words\)\s+MACs\s+R\s+compulsory\s+paper\s+provable\s+attainable\s+att\/paper\s+tile b,y,x,z$/);
    expect(lines[1]!.split(/\s{2,}/)).toEqual(["c=2,hw=4,k=2,r=3,pad=1", "dram", "64", "576", "9", "100", "80", "0", "132", "1.650", "1,4,4,1"]);
  });

  it("prints JSON for both boundaries of every layer of a --layers file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "convsim-bound-"));
    const file = join(dir, "layers.json");
    writeFileSync(
      file,
      JSON.stringify([
        { name: "a", inChannels: 64, inHeight: 8, inWidth: 8, outChannels: 64, kernelHeight: 1, kernelWidth: 1 },
        { name: "b", inChannels: 8, inHeight: 12, inWidth: 12, outChannels: 8, kernelHeight: 3, kernelWidth: 3, groups: 8 },
      ]),
    );
    const io = capture();
    expect(await boundCommand.run(["--layers", file, "--capacity", "1KiW", "--rf-capacity", "256W", "--boundary", "both", "--json"], io)).toBe(0);
    const rows = JSON.parse(io.text()) as { layer: { name: string }; boundary: string; capacityWords: number; attainable: { traffic: { total: number } } }[];
    expect(rows.map((r) => [r.layer.name, r.boundary, r.capacityWords])).toEqual([
      ["a", "dram", 1024],
      ["a", "gbuf", 256],
      ["b", "dram", 1024],
      ["b", "gbuf", 256],
    ]);
    expect(rows[0]!.attainable.traffic.total).toBe(24576);
  });

  it("counts a byte capacity in words of the smallest element type", async () => {
    const io = capture();
    await boundCommand.run(["--layer", "c=8,hw=8,k=8,r=3", "--capacity", "4KiB", "--input-type", "int16", "--weight-type", "int16", "--json"], io);
    expect((JSON.parse(io.text()) as { capacityWords: number }[])[0]!.capacityWords).toBe(2048);
  });

  it("says when no tile fits", async () => {
    const io = capture();
    await boundCommand.run(["--layer", "c=3,hw=227,k=96,r=11,stride=4", "--capacity", "100W"], io);
    expect(io.text()).toMatch(/none fits \(needs 243 words\)/);
  });

  it("rejects bad usage with a ConfigError naming the option", async () => {
    const io = capture();
    await expect(boundCommand.run(["--layer", "c=2,hw=4,k=2,r=3"], io)).rejects.toThrow(/--capacity must be given/);
    await expect(boundCommand.run(["--layer", "c=2,hw=4,k=2,r=3", "--capacity", "1KiB", "--boundary", "l2"], io)).rejects.toThrow(/--boundary must be dram, gbuf or both/);
    await expect(boundCommand.run(["--layer", "c=2,hw=4,k=2,r=3", "--capacity", "1KiB", "--boundary", "both"], io)).rejects.toThrow(/--rf-capacity must be given/);
    await expect(boundCommand.run(["--capacity", "1KiB"], io)).rejects.toThrow(ConfigError);
    await expect(boundCommand.run(["--layer", "c=2,hw=4,k=2,r=3", "--capacity", "12 parsecs"], io)).rejects.toThrow(/--capacity must /);
  });
});
