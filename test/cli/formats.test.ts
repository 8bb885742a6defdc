/**
 * `convsim import`, `convsim export` and `simulate --counts timeloop`: what they write runs as the
 * usage says, in a temporary directory (the repository is never written).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fixturePath } from "../formats/timeloop/helpers.js";
import { cli } from "./helpers.js";

const tmp = mkdtempSync(join(tmpdir(), "convsim-formats-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("convsim import timeloop -> simulate", () => {
  it("writes layer.json, arch.json and mapping.json that simulate runs, with --counts timeloop", async () => {
    const dir = join(tmp, "v04");
    const f = (n: string) => fixturePath("v04-eyeriss", n);
    const imp = await cli("import", "timeloop", "--arch", f("arch.yaml"), "--problem", f("problem.yaml"), "--mapping", f("mapping.yaml"), "--out", dir);
    expect(imp.code).toBe(0);
    expect(imp.out).toContain("note: DRAM: attributes not modeled");
    expect(imp.out).toContain(`run: convsim simulate --layer ${join(dir, "layer.json")} --arch ${join(dir, "arch.json")} --dataflow ${join(dir, "mapping.json")} --counts timeloop`);
    const sim = await cli("simulate", "--layer", join(dir, "layer.json"), "--arch", join(dir, "arch.json"), "--dataflow", join(dir, "mapping.json"), "--counts", "timeloop");
    expect(sim.code).toBe(0);
    expect(sim.out).toContain("verdict    PASS");
    expect(sim.out).toMatch(/psum_spad\s+Outputs\s+3,168\s+0\s+3,456/);
    const json = await cli("simulate", "--layer", join(dir, "layer.json"), "--arch", join(dir, "arch.json"), "--dataflow", join(dir, "mapping.json"), "--counts", "timeloop", "--json");
    const t = (JSON.parse(json.out) as { timeloop: Record<string, Record<string, { reads: number; fills: number; updates: number }>> }).timeloop;
    expect(Object.keys(t)).toEqual(["DRAM", "shared_glb", "weights_spad", "ifmap_spad", "psum_spad"]);
    expect(t.psum_spad!.Outputs).toEqual({ reads: 3168, fills: 0, updates: 3456 });
  });

  it("an import error names the file and the path inside it, exit 2", async () => {
    const bad = join(tmp, "bad-mapping.yaml");
    writeFileSync(bad, readFileSync(fixturePath("v03-small", "mapping.yaml"), "utf8").replace("split: 1", "split: -1"));
    const f = (n: string) => fixturePath("v03-small", n);
    const r = await cli("import", "timeloop", "--arch", f("arch.yaml"), "--problem", f("problem.yaml"), "--mapping", bad, "--out", join(tmp, "bad"));
    expect(r.code).toBe(2);
    expect(r.err).toContain("bad-mapping.yaml: mapping[2].split must be a non-negative integer");
  });

  it("--counts with an unknown convention is refused before the run", async () => {
    const r = await cli("simulate", "--layer", "c=2,hw=4,k=2,r=1", "--counts", "accelergy");
    expect(r.code).toBe(2);
    expect(r.err).toContain("--counts must be one of timeloop");
  });
});

describe("convsim export timeloop", () => {
  it("writes arch.yaml, problem.yaml and mapping.yaml that import timeloop reads back", async () => {
    const dir = join(tmp, "export");
    const ex = await cli("export", "timeloop", "--layer", join(tmp, "v04", "layer.json"), "--arch", join(tmp, "v04", "arch.json"), "--dataflow", join(tmp, "v04", "mapping.json"), "--out", dir);
    expect(ex.code).toBe(0);
    expect(readFileSync(join(dir, "problem.yaml"), "utf8")).toContain("CNN-Layer");
    const back = join(tmp, "back");
    const imp = await cli("import", "timeloop", "--arch", join(dir, "arch.yaml"), "--problem", join(dir, "problem.yaml"), "--mapping", join(dir, "mapping.yaml"), "--out", back);
    expect(imp.code).toBe(0);
    expect(JSON.parse(readFileSync(join(back, "mapping.json"), "utf8"))).toEqual(JSON.parse(readFileSync(join(tmp, "v04", "mapping.json"), "utf8")));
    expect(JSON.parse(readFileSync(join(back, "layer.json"), "utf8"))).toEqual(JSON.parse(readFileSync(join(tmp, "v04", "layer.json"), "utf8")));
  });
});

describe("convsim import scalesim -> run", () => {
  it("writes a network and an architecture that run --net reads", async () => {
    const topo = join(tmp, "net.csv");
    writeFileSync(topo, "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\nc1, 6, 6, 3, 3, 2, 4, 1,\nc2, 4, 4, 1, 1, 4, 4, 1,\n");
    const cfg = join(tmp, "net.cfg");
    writeFileSync(cfg, "[architecture_presets]\nArrayHeight: 4\nArrayWidth: 4\nDataflow: os\n");
    const dir = join(tmp, "scalesim");
    const imp = await cli("import", "scalesim", "--topology", topo, "--config", cfg, "--out", dir);
    expect(imp.code).toBe(0);
    expect(imp.out).toContain(`run: convsim run --net ${join(dir, "network.json")} --arch ${join(dir, "arch.json")} --dataflow os`);
    const run = await cli("run", "--net", join(dir, "network.json"), "--arch", join(dir, "arch.json"), "--dataflow", "os", "--jobs", "1", "--format", "json");
    expect(run.code).toBe(0);
    expect(run.out).toContain('"c2"');
  }, 60_000);
});
