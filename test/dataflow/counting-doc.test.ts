/**
 * The worked example of docs/counting.md, run from the JSON on that page: every count derived by
 * hand there is asserted here, and the page's table must list the same numbers.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { ArchSpecInput } from "../../src/arch/presets.js";
import { simulate, type SimulationResult } from "../../src/dataflow/simulate.js";
import type { ConvLayerSpec } from "../../src/workload/layer.js";

const DOC = readFileSync(fileURLToPath(new URL("../../docs/counting.md", import.meta.url)), "utf8");

/** The JSON block that follows `<!-- counting-example:<name> -->` on the page. */
function block(name: string): unknown {
  const m = new RegExp(`<!-- counting-example:${name} -->\\s*\`\`\`json\\n([\\s\\S]*?)\\n\`\`\``).exec(DOC);
  if (!m) throw new Error(`docs/counting.md has no counting-example:${name} JSON block`);
  return JSON.parse(m[1]!) as unknown;
}

/** The table that follows `<!-- counting-example:counts -->`: counter name -> number. */
function docTable(): Record<string, number> {
  const at = DOC.indexOf("<!-- counting-example:counts -->");
  if (at < 0) throw new Error("docs/counting.md has no counting-example:counts table");
  const out: Record<string, number> = {};
  for (const line of DOC.slice(at).split("\n").slice(1)) {
    if (!line.startsWith("|")) {
      if (Object.keys(out).length > 0) break;
      continue;
    }
    const m = /^\|\s*`([^`]+)`\s*\|\s*(\d+)\s*\|$/.exec(line.trim());
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** The numbers derived by hand on the page. */
const HAND: Record<string, number> = {
  "dram.read.input": 16,
  "dram.read.weight": 18,
  "dram.read.output": 0,
  "dram.write.output": 32,
  "dram.readBursts.input": 1,
  "dram.readBursts.weight": 2,
  "dram.readWaste.weight": 14,
  "dram.writeBursts.output": 8,
  "dram.writeBytes.output": 128,
  "gbuf.write.input": 16,
  "gbuf.write.weight": 18,
  "gbuf.write.output": 64,
  "gbuf.read.input": 70,
  "gbuf.read.weight": 18,
  "gbuf.read.output": 64,
  "gbuf.bankWrites.input": 4,
  "gbuf.bankReads.input": 20,
  "gbuf.bankReads.weight": 10,
  "gbuf.bankReads.output": 64,
  "gbuf.bankWrites.output": 64,
  "noc.send.input": 70,
  "noc.deliver.input": 140,
  "noc.send.weight": 18,
  "noc.deliver.weight": 18,
  "noc.drain.psum": 192,
  "rf.write.input": 140,
  "rf.fill.input": 76,
  "rf.write.weight": 18,
  "rf.fill.psum": 192,
  "rf.read.input": 288,
  "rf.read.weight": 288,
  "rf.read.psum": 384,
  "rf.write.psum": 192,
  "pe.mac": 288,
  "noc.link.psum": 0,
  "boundaries.dram.measured": 66,
  "boundaries.gbuf.measured": 350,
};

function measuredOf(r: SimulationResult, name: string): number {
  if (name === "boundaries.dram.measured") return r.boundaries.dram.measured;
  if (name === "boundaries.gbuf.measured") return r.boundaries.gbuf.measured;
  const c = r.counters[name];
  if (!c) throw new Error(`no counter ${name}`);
  return c.value;
}

describe("docs/counting.md worked example", () => {
  const run = (mode: "fast" | "reference") =>
    simulate({
      layer: block("layer") as ConvLayerSpec,
      arch: block("arch") as ArchSpecInput,
      dataflow: block("mapping") as Record<string, unknown>,
      checked: true,
      mode,
      seed: 11,
    });

  it("the page's table lists the hand-derived numbers", () => {
    expect(docTable()).toEqual(HAND);
  });

  for (const mode of ["fast", "reference"] as const) {
    it(`runs bit-exactly and counts what the page derives (${mode} mode)`, () => {
      const r = run(mode);
      expect(r.verification.ok).toBe(true);
      expect(r.output.length).toBe(32);
      expect(r.mapping.name).toBe("worked-example");
      const got: Record<string, number> = {};
      for (const k of Object.keys(HAND)) got[k] = measuredOf(r, k);
      expect(got).toEqual(HAND);
    });
  }

  it("the conventions the page states hold between its counters", () => {
    const r = run("fast");
    const v = (k: string) => measuredOf(r, k);
    // multicast: one source read, one send per source word, N deliveries (here N = 2 for inputs)
    expect(v("noc.send.input")).toBe(v("gbuf.read.input"));
    expect(v("noc.deliver.input")).toBe(2 * v("noc.send.input"));
    // deliveries write the RF; padding is filled, never delivered
    expect(v("rf.write.input")).toBe(v("noc.deliver.input"));
    expect(v("rf.write.input") + v("rf.fill.input")).toBe(24 * 5 + 24 * 4);
    // psum: runs + drained words
    expect(v("rf.read.psum")).toBe(v("rf.write.psum") + v("noc.drain.psum"));
    // no psum reloads, no neighbour links
    expect(v("noc.deliver.psum")).toBe(0);
    expect(v("noc.link.input") + v("noc.link.weight") + v("noc.link.psum")).toBe(0);
    // bytes alongside words
    expect(v("gbuf.readBytes.output")).toBe(4 * v("gbuf.read.output"));
    expect(v("dram.readBytes.weight")).toBe(v("dram.read.weight"));
    // the boundaries
    expect(r.boundaries.dram.measured).toBe(r.boundaries.dram.bounds.compulsory.total);
    expect(v("gbuf.read.input") + v("gbuf.read.weight") + v("noc.drain.psum")).toBe(280);
  });
});
