import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { chen2020 } from "../../src/arch/presets.js";
import { cli } from "./helpers.js";

const bin = fileURLToPath(new URL("../../bin/convsim.js", import.meta.url));
const FORMATS = ["table", "json", "csv", "md"] as const;
const SWEEP = ["sweep", "--layer", "c=2,hw=6,k=4,r=3,pad=1", "--capacities", "256B,4KiB", "--dataflows", "chen2020,rs", "--jobs", "1"];

let dir: string;
let COMPARE: string[];
let MAP: string[];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "convsim-merge-"));
  const net = join(dir, "tiny.json");
  writeFileSync(
    net,
    JSON.stringify({
      name: "tiny",
      layers: [
        { name: "c1", inChannels: 2, inHeight: 6, inWidth: 6, outChannels: 4, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] },
        { name: "fc", inChannels: 16, inHeight: 1, inWidth: 1, outChannels: 6, kernelHeight: 1, kernelWidth: 1 },
      ],
    }),
  );
  COMPARE = ["compare", "--net", net, "--dataflows", "chen2020,os,rs", "--per-layer", "--jobs", "1"];
  // c1 and c1b differ only in their name: the unsharded run searches and simulates them once
  const mapNet = join(dir, "tiny-map.json");
  const c1 = { inChannels: 2, inHeight: 6, inWidth: 6, outChannels: 4, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] };
  writeFileSync(mapNet, JSON.stringify({ name: "tiny-map", layers: [{ name: "c1", ...c1 }, { name: "c1b", ...c1 }, { name: "fc", inChannels: 16, inHeight: 1, inWidth: 1, outChannels: 6, kernelHeight: 1, kernelWidth: 1 }] }));
  MAP = ["map", "--net", mapNet, "--arch", "eyeriss", "--budget", "300", "--top", "2", "--mapping", "--jobs", "1"];
});

/** Runs a command in n shards (in this process), each to its own file; returns the files. */
async function shards(argv: readonly string[], n: number, tag: string): Promise<string[]> {
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const file = join(dir, `${tag}-${i}.jsonl`);
    const r = await cli(...argv, "--shard", `${i}/${n}`, "--out", file);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`wrote shard ${i}/${n}`);
    files.push(file);
  }
  return files;
}

/** Runs `convsim map` in n shards (in this process), each shard's JSON Lines from stdout to its own file. */
async function mapShards(argv: readonly string[], n: number, tag: string): Promise<string[]> {
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await cli(...argv, "--shard", `${i}/${n}`);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out.split("\n")[0]!)).toMatchObject({ convsim: "shard", command: "map", shard: `${i}/${n}` });
    files.push(join(dir, `${tag}-${i}.jsonl`));
    writeFileSync(files[i]!, r.out);
  }
  return files;
}

/** Every format (and the chart, if the command draws one) of the unsharded run equals merge's, byte for byte. */
async function expectSameReports(argv: readonly string[], parts: readonly string[], tag: string, chart = true): Promise<void> {
  for (const format of FORMATS) {
    const whole = await cli(...argv, "--format", format);
    const merged = await cli("merge", ...parts, "--format", format);
    expect(whole.code, whole.err).toBe(0);
    expect(merged.code, merged.err).toBe(0);
    expect(merged.out.length).toBeGreaterThan(100);
    expect(merged.out).toBe(whole.out);
  }
  if (!chart) return;
  const svgs = [join(dir, `${tag}-whole.svg`), join(dir, `${tag}-merged.svg`)];
  expect((await cli(...argv, "--svg", svgs[0]!)).code).toBe(0);
  expect((await cli("merge", ...parts, "--svg", svgs[1]!)).code).toBe(0);
  expect(readFileSync(svgs[1]!, "utf8")).toBe(readFileSync(svgs[0]!, "utf8"));
}

describe("convsim merge", () => {
  it("a sweep in 3 shards merges to the unsharded report in every format", async () => {
    const parts = await shards(SWEEP, 3, "sweep");
    const records = parts.map((f) => readFileSync(f, "utf8").trim().split("\n").length - 1);
    expect(records.reduce((a, b) => a + b, 0)).toBe(4); // 2 capacities x 2 dataflows
    await expectSameReports(SWEEP, parts.slice().reverse(), "sweep");
    // --timing: a sim time column (per point in the CSV; per capacity, its dataflows' sum, in the table)
    expect((await cli(...SWEEP)).out).not.toContain("sim time");
    expect((await cli(...SWEEP, "--timing")).out).toMatch(/sim time, all \[s\]$/m);
    const csv = (await cli(...SWEEP, "--timing", "--format", "csv")).out.trim().split(/\r?\n/);
    expect(csv[0]).toMatch(/,sim time \[s\],verdict$/);
    for (const row of csv.slice(1)) expect(row).toMatch(/,\d+(\.\d{1,3})?,PASS$/);
  });

  it("a per-layer comparison in 3 shards merges to the unsharded report in every format", async () => {
    const parts = await shards(COMPARE, 3, "compare");
    await expectSameReports(COMPARE, parts, "compare");
    // no wall-clock time unless --timing: two runs of the same work print the same bytes
    const json = (await cli(...COMPARE, "--format", "json")).out;
    expect(json).not.toContain("wallMs");
    expect((await cli(...COMPARE, "--format", "json", "--timing")).out).toContain('"wallMs"');
    // --timing shows them as a column of the tables too
    expect((await cli(...COMPARE)).out).not.toContain("sim time");
    expect((await cli(...COMPARE, "--timing")).out).toMatch(/sim time \[s\] {2}verdict$/m);
  });

  it("four shards run as separate processes (--shard auto: Slurm array, Kubernetes Indexed Job) merge to the single run", async () => {
    const run = promisify(execFile);
    const base = { ...process.env, CONVSIM_FROM: "src" };
    const envs = [
      { SLURM_ARRAY_TASK_ID: "1", SLURM_ARRAY_TASK_MIN: "1", SLURM_ARRAY_TASK_COUNT: "4" },
      { SLURM_ARRAY_TASK_ID: "2", SLURM_ARRAY_TASK_MIN: "1", SLURM_ARRAY_TASK_COUNT: "4" },
      { JOB_COMPLETION_INDEX: "2" },
      { JOB_COMPLETION_INDEX: "3" },
    ];
    const parts = envs.map((_, i) => join(dir, `proc-${i}.jsonl`));
    await Promise.all(envs.map((env, i) => run(process.execPath, [bin, ...SWEEP, "--shard", "auto", ...("JOB_COMPLETION_INDEX" in env ? ["--shards", "4"] : []), "--out", parts[i]!], { env: { ...base, ...env } })));
    expect(parts.map((p) => JSON.parse(readFileSync(p, "utf8").split("\n")[0]!).shard)).toEqual(["0/4", "1/4", "2/4", "3/4"]);
    const merged = await cli("merge", ...parts);
    expect(merged.code, merged.err).toBe(0);
    expect(merged.out).toBe((await cli(...SWEEP)).out);
  }, 120_000);

  it("items a dataflow cannot map travel as their reason: the merged report lists them as the whole run does", async () => {
    const arch = join(dir, "noweights.json");
    writeFileSync(arch, JSON.stringify({ ...chen2020, name: "noweights", rf: { ...chen2020.rf, weightEntries: 0 } }));
    const argv = [...COMPARE, "--arch", arch];
    const parts = await shards(argv, 2, "missing");
    for (const format of ["table", "json"] as const) {
      const whole = await cli(...argv, "--format", format);
      expect(whole.out).toMatch(/not run|must fit/);
      expect((await cli("merge", ...parts, "--format", format)).out).toBe(whole.out);
    }
  });

  it("refuses a missing shard, a shard twice and parts of different commands, naming the file", async () => {
    const sweep = await shards(SWEEP, 2, "refuse-sweep");
    const compare = await shards(COMPARE, 2, "refuse-compare");
    const missing = await cli("merge", sweep[0]!);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/convsim merge: parts must include every shard of 2; missing 1\/2/);
    const twice = await cli("merge", sweep[0]!, sweep[1]!, sweep[1]!);
    expect(twice.err).toContain(`${sweep[1]}:1 shard must appear once; ${sweep[1]} holds the same shard`);
    const mixed = await cli("merge", sweep[0]!, compare[1]!);
    expect(mixed.err).toContain(`${compare[1]}:1 command must be "sweep" as in ${sweep[0]}`);
    const other = await shards([...SWEEP.slice(0, -4), "--dataflows", "chen2020", "--jobs", "1"], 2, "refuse-options");
    expect((await cli("merge", sweep[0]!, other[1]!)).err).toContain(`${other[1]}:1 optionsHash must be`);
    expect((await cli("merge", join(dir, "nothing.jsonl"))).err).toMatch(/PART must name a readable shard file; got ".*nothing\.jsonl"/);
    expect((await cli("merge", sweep[0]!, sweep[1]!, "--format", "xml")).code).toBe(2);
  });

  it("a shard writes JSON Lines only: --format and --svg are refused with --shard", async () => {
    const r = await cli(...SWEEP, "--shard", "0/2", "--format", "csv");
    expect(r.code).toBe(2);
    expect(r.err).toContain('--format must be left out with --shard: a shard writes JSON Lines; give it to convsim merge; got "csv"');
    expect((await cli(...SWEEP, "--shard", "0/2", "--svg", "x.svg")).err).toContain("--svg must be left out with --shard");
    expect((await cli(...SWEEP, "--shard", "2/2")).err).toContain('--shard must give a shard index i < n (0-based: 0 .. 1); got "2/2"');
  });

  it("a network's mapping in 3 shards (to stdout) merges to the unsharded report in every format", async () => {
    const parts = await mapShards(MAP, 3, "map");
    const items = parts.map((f) => readFileSync(f, "utf8").trim().split("\n").slice(1).map((l) => (JSON.parse(l) as { item: { layer: { name: string } } }).item.layer.name));
    expect(items.flat().sort()).toEqual(["c1", "c1b", "fc"]);
    // the run's layers are spread over more than one shard, so the merge really puts parts together
    expect(items.filter((names) => names.length > 0).length).toBeGreaterThan(1);
    await expectSameReports(MAP, parts.slice().reverse(), "map", false);
    const whole = await cli(...MAP);
    expect(whole.out.match(/PASS/g)).toHaveLength(6); // 3 layers x top 2, simulated
    expect(whole.out).toContain("layer      c1b  ");
    // no wall-clock time unless --timing: two runs print the same bytes
    const json = (await cli(...MAP, "--format", "json")).out;
    expect(json).not.toContain("wallMs");
    expect((await cli(...MAP, "--json")).out).toBe(json);
    expect((await cli(...MAP, "--format", "json", "--timing")).out).toContain('"wallMs"');
    expect((await cli(...MAP, "--timing")).out).toMatch(/time {7}search \d+\.\d s, simulation \d+\.\d s/);
  });

  it("map --shard refuses --out, --json, --format and a time budget; merge refuses a chart of map parts", async () => {
    const out = await cli(...MAP, "--shard", "0/3", "--out", join(dir, "best.json"));
    expect(out.code).toBe(2);
    expect(out.err).toContain("--out must be left out with --shard: a shard writes its JSON Lines to stdout (convsim map --shard i/n > part-i.jsonl); give them to convsim merge");
    expect((await cli(...MAP, "--shard", "0/3", "--json")).err).toContain("--json must be left out with --shard");
    expect((await cli(...MAP, "--shard", "0/3", "--format", "md")).err).toContain("--format must be left out with --shard");
    const time = await cli(...MAP.map((a) => (a === "300" ? "2s" : a)), "--shard", "1/3");
    expect(time.code).toBe(2);
    expect(time.err).toContain('--budget must be a number of evaluations with --shard (e.g. 20000): merged shards must print the single run\'s report byte for byte, and a time budget\'s result depends on the machine\'s speed and load; got "2s"');
    expect(time.out).toBe("");
    const parts = await mapShards(MAP, 2, "map-refuse");
    const svg = await cli("merge", ...parts, "--svg", join(dir, "map.svg"));
    expect(svg.code).toBe(2);
    expect(svg.err).toContain("--svg must be left out: convsim map draws no chart");
    const mixed = await cli("merge", parts[0]!, (await shards(SWEEP, 2, "refuse-map-sweep"))[1]!);
    expect(mixed.err).toMatch(/command must be "map" as in/);
  });
});
