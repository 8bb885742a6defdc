import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { jobCost, mappingCheck } from "../../src/cli/jobs.js";
import { resolveArch } from "../../src/arch/presets.js";
import { EYERISS_ENERGY_TABLE } from "../../src/report/energy.js";
import { network } from "../../src/workload/networks.js";
import { TUNING_FLAGS, tuningFlags } from "../../bin/v8-tuning.js";

const bin = fileURLToPath(new URL("../../bin/convsim.js", import.meta.url));

describe("bin/convsim.js", () => {
  it("rejects a bad CONVSIM_FROM naming the variable, the value and the rule", () => {
    const r = spawnSync(process.execPath, [bin, "--help"], { encoding: "utf8", env: { ...process.env, CONVSIM_FROM: "build" } });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('CONVSIM_FROM must be "src" or "dist"; got "build"');
  });

  it("runs from the sources when told to", () => {
    const r = spawnSync(process.execPath, [bin, "--help"], { encoding: "utf8", env: { ...process.env, CONVSIM_FROM: "src" } });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("Usage: convsim <command>");
  }, 30_000);
});

describe("bin/v8-tuning.js", () => {
  it("sets the inlining budgets unless the user set that flag, in node's arguments or NODE_OPTIONS, in either spelling", () => {
    const cumulative = "--max-inlined-bytecode-size-cumulative=460";
    const perCallee = "--max-inlined-bytecode-size=40";
    expect(TUNING_FLAGS).toEqual([cumulative, perCallee]);
    expect(tuningFlags([], undefined)).toEqual(TUNING_FLAGS);
    expect(tuningFlags(["--max-old-space-size=4096"], "--enable-source-maps")).toEqual(TUNING_FLAGS);
    // each flag is left out alone when the user set it (a longer flag that begins with the same
    // name is another flag)
    expect(tuningFlags(["--max-inlined-bytecode-size-cumulative=920"], undefined)).toEqual([perCallee]);
    expect(tuningFlags([], "--trace-gc  --max_inlined_bytecode_size_cumulative=300")).toEqual([perCallee]);
    expect(tuningFlags(["--max-inlined-bytecode-size=100"], undefined)).toEqual([cumulative]);
    expect(tuningFlags([], "--max_inlined_bytecode_size=100 --max-inlined-bytecode-size-cumulative=1")).toEqual([]);
  });

  it("leaves the command working with its own value and with a user's (V8 gives no way to read a flag back, so the choice itself is the test above)", () => {
    const own = spawnSync(process.execPath, [bin, "--version"], { encoding: "utf8" });
    expect(own.status).toBe(0);
    const user = spawnSync(process.execPath, ["--max-inlined-bytecode-size-cumulative=100", bin, "--version"], { encoding: "utf8" });
    expect(user.status).toBe(0);
    expect(user.stdout).toBe(own.stdout);
  });
});

describe("bench/measure-cli.ts (bench:targets' whole-process figures)", () => {
  const measurer = fileURLToPath(new URL("../../bench/measure-cli.ts", import.meta.url));
  const measure = (...args: string[]) => {
    const dir = mkdtempSync(join(tmpdir(), "convsim-measure-"));
    try {
      const file = join(dir, "r.json");
      const r = spawnSync(process.execPath, ["--import", "tsx", measurer, file, ...args], { encoding: "utf8", env: { ...process.env, CONVSIM_FROM: "src" } });
      return { status: r.status, stdout: r.stdout, figures: JSON.parse(readFileSync(file, "utf8")) as { user: number; system: number; peakMiB: number; exitCode: number; mainThread?: number; helperThreads?: number } };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it("runs the command as a user does and writes the process's CPU seconds, peak memory and exit code", () => {
    const ok = measure("simulate", "--layer", "c=2,hw=5,k=3,r=3");
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain("PASS");
    expect(ok.figures.exitCode).toBe(0);
    expect(ok.figures.user + ok.figures.system).toBeGreaterThan(0);
    expect(ok.figures.peakMiB).toBeGreaterThan(20);
    if (process.platform === "linux") {
      // the main thread's and V8's threads' shares, at most the whole (ticks of 10 ms, read a moment later)
      const { mainThread, helperThreads } = ok.figures;
      expect(mainThread).toBeGreaterThan(0);
      expect(helperThreads).toBeGreaterThanOrEqual(0);
      expect(mainThread! + helperThreads!).toBeLessThanOrEqual(ok.figures.user + ok.figures.system + 0.05);
    }
    const bad = measure("simulate", "--layer", "c=0,hw=5,k=3,r=3");
    expect(bad.status).toBe(2);
    expect(bad.figures.exitCode).toBe(2);
  }, 60_000);
});

describe("bench/measure-warm.ts (bench:targets' warm figures)", () => {
  it("runs the bundled command several times in one process and writes each run's CPU seconds and exit code", () => {
    const measurer = fileURLToPath(new URL("../../bench/measure-warm.ts", import.meta.url));
    const dir = mkdtempSync(join(tmpdir(), "convsim-warm-"));
    try {
      const file = join(dir, "r.json");
      const ok = spawnSync(process.execPath, ["--import", "tsx", measurer, file, "2", "simulate", "--layer", "c=2,hw=5,k=3,r=3"], { encoding: "utf8" });
      expect(ok.status).toBe(0);
      const runs = JSON.parse(readFileSync(file, "utf8")) as { cpu: number; wall: number; exitCode: number }[];
      expect(runs.map((r) => r.exitCode)).toEqual([0, 0]);
      for (const r of runs) expect(r.cpu).toBeGreaterThan(0);
      const bad = spawnSync(process.execPath, ["--import", "tsx", measurer, file, "1", "simulate", "--layer", "c=0,hw=5,k=3,r=3"], { encoding: "utf8" });
      expect(bad.status).toBe(0);
      expect((JSON.parse(readFileSync(file, "utf8")) as { exitCode: number }[])[0]!.exitCode).toBe(2);
      const noRuns = spawnSync(process.execPath, ["--import", "tsx", measurer, file, "0", "--version"], { encoding: "utf8" });
      expect(noRuns.status).not.toBe(0);
      expect(noRuns.stderr).toContain('RUNS must be a positive integer; got "0"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("job scheduling", () => {
  it("puts AlexNet's fc6 (38 M weights, one per MAC) before conv1 although it has fewer MACs", () => {
    const arch = resolveArch("chen2020");
    const layers = network("alexnet").layers;
    const cost = (name: string) => jobCost({ layer: layers.find((l) => l.name === name)!, arch, dataflow: "chen2020", checked: false, energyTable: EYERISS_ENERGY_TABLE });
    expect(cost("fc6")).toBeGreaterThan(cost("conv1"));
    expect(cost("conv2")).toBeGreaterThan(cost("conv5"));
  });

  it("weighs a mapping's iterations: AlexNet conv1 (61 k iterations of 14 MACs a PE) before conv2 (twice its MACs in 9,600)", () => {
    const arch = resolveArch("chen2020");
    const layers = network("alexnet").layers;
    const cost = (name: string) => {
      const layer = layers.find((l) => l.name === name)!;
      const c = mappingCheck(layer, arch, "chen2020");
      if (!c.ok) throw new Error(c.reason);
      return jobCost({ layer, arch, dataflow: "chen2020", mapping: c.mapping, checked: false, energyTable: EYERISS_ENERGY_TABLE });
    };
    expect(cost("conv1")).toBeGreaterThan(cost("conv2"));
    expect(cost("fc6")).toBeGreaterThan(cost("conv1"));
  });
});
