/**
 * `convsim simulate`'s report of the cycle lower bound: the text lines (cycles against the bound,
 * the binding resource, every term) and the JSON's `cycleBound`.
 */
import { describe, expect, it } from "vitest";
import { CYCLE_RESOURCES } from "../../src/bounds/cycles.js";
import { simulate } from "../../src/dataflow/simulate.js";
import { cli } from "./helpers.js";

const layer = "c=8,hw=10,k=16,r=3,pad=1";
const fmt = (n: number) => n.toLocaleString("en-US");

describe("convsim simulate: the cycle lower bound", () => {
  it("prints the cycles against the bound, the binding resource and every term", async () => {
    const r = await cli("simulate", "--layer", layer, "--arch-override", '{"dram":{"bytesPerCycle":1}}');
    expect(r.code).toBe(0);
    // The worked example of docs/timing.md at 1 B/cycle.
    expect(r.out).toContain("bound      cycles 11,260 = 1.05x the cycle lower bound 10,752 (binding: dram)\n");
    const terms = r.out.split("\n").find((l) => l.trimStart().startsWith("compute "))!;
    expect(terms).toContain("compute 1,200, dram 10,752, gbuf.read 1,444, gbuf.write 248, noc.input 523, noc.weight 83, noc.psum 0, noc.drain 115");
    expect(terms).toContain("(cycles; compute on 96 of 168 PEs)");
  });

  it("--json carries cycleBound as SimulationResult has it", async () => {
    const r = await cli("simulate", "--layer", layer, "--arch", "eyeriss", "--dataflow", "rs", "--json");
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as { cycles: number; cycleBound: { cycles: number; binding: string; ratio: number; terms: Record<string, unknown> } };
    const direct = simulate({ layer: { inChannels: 8, inHeight: 10, inWidth: 10, outChannels: 16, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] }, arch: "eyeriss", dataflow: "rs" });
    expect(json.cycleBound).toEqual(JSON.parse(JSON.stringify(direct.cycleBound)));
    expect(Object.keys(json.cycleBound.terms)).toEqual([...CYCLE_RESOURCES]);
    expect(json.cycles / json.cycleBound.cycles).toBe(json.cycleBound.ratio);
    const text = await cli("simulate", "--layer", layer, "--arch", "eyeriss", "--dataflow", "rs");
    expect(text.out).toContain(`bound      cycles ${fmt(json.cycles)} = ${json.cycleBound.ratio.toFixed(2)}x the cycle lower bound ${fmt(json.cycleBound.cycles)} (binding: ${json.cycleBound.binding})`);
  });
});

describe("convsim simulate: a pooled register file and narrow GBuf psums", () => {
  it("says so on the arch line, and refuses a psum width the layer's partial sums exceed", async () => {
    const r = await cli("simulate", "--layer", layer, "--arch", "eyeriss", "--dataflow", "os", "--arch-override", '{"rf":{"sharedEntries":260},"gbuf":{"psumBytes":3}}');
    expect(r.code).toBe(0);
    expect(r.out).toContain("arch       eyeriss: 12x14 PEs, GBuf 110,592 B (3-byte psums), RF 260 entries (shared)\n");
    const bad = await cli("simulate", "--layer", layer, "--arch", "eyeriss", "--dataflow", "os", "--arch-override", '{"gbuf":{"psumBytes":2}}');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("arch.gbuf.psumBytes must hold every partial sum of the layer");
  });
});
