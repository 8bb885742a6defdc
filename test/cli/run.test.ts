import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { Io } from "../../src/cli/args.js";
import { runCommand } from "../../src/cli/run.js";
import { ConfigError } from "../../src/core/errors.js";
import type { LayerMetrics } from "../../src/report/metrics.js";
import { convShape } from "../../src/workload/layer.js";

function capture(isTTY = false): Io & { stdout: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  return { out: (t) => void (out += t), err: (t) => void (err += t), isTTY, stdout: () => out, stderr: () => err };
}

let dir: string;
let net: string;
const LAYERS = [
  { name: "c1", inChannels: 3, inHeight: 8, inWidth: 8, outChannels: 8, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] },
  { name: "c2", inChannels: 8, inHeight: 8, inWidth: 8, outChannels: 8, kernelHeight: 3, kernelWidth: 3, strides: [2, 2], pads: [1, 1, 1, 1] },
  { name: "fc", inChannels: 32, inHeight: 1, inWidth: 1, outChannels: 10, kernelHeight: 1, kernelWidth: 1 },
];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "convsim-run-"));
  net = join(dir, "tiny.json");
  writeFileSync(net, JSON.stringify({ name: "tiny", layers: LAYERS }));
});

type RunJson = { network: string; dataflow: string; layers: LayerMetrics[]; total: LayerMetrics; energyTable: { unit: string } };
const strip = (r: RunJson) => JSON.parse(JSON.stringify({ ...r, layers: r.layers.map((l) => ({ ...l, wallMs: 0 })), total: { ...r.total, wallMs: 0 } }));

describe("convsim run", () => {
  let inProcess: RunJson;

  it("simulates every layer in this thread (--jobs 1), verified, with totals that add up", async () => {
    const io = capture();
    expect(await runCommand.run(["--net", net, "--jobs", "1", "--format", "json"], io)).toBe(0);
    inProcess = JSON.parse(io.stdout()) as RunJson;
    expect(inProcess.layers.map((l) => l.name)).toEqual(["c1", "c2", "fc"]);
    expect(inProcess.dataflow).toBe("chen2020");
    for (const [i, l] of inProcess.layers.entries()) {
      expect(l.verified).toBe(true);
      expect(l.macs).toBe(convShape({ ...LAYERS[i]!, batch: 1 } as never).macs);
      expect(l.boundaries.dram.measured).toBeGreaterThanOrEqual(l.boundaries.dram.provable);
      expect(l.boundaries.dram.measured).toBeGreaterThanOrEqual(l.boundaries.dram.compulsory);
    }
    const sum = (f: (l: LayerMetrics) => number) => inProcess.layers.reduce((s, l) => s + f(l), 0);
    expect(inProcess.total.macs).toBe(sum((l) => l.macs));
    expect(inProcess.total.traffic.dram).toBe(sum((l) => l.traffic.dram));
    expect(inProcess.total.energy.total).toBeCloseTo(sum((l) => l.energy.total), 6);
    expect(inProcess.energyTable.unit).toBe("MAC-eq");
    expect(io.stderr()).toBe(""); // no progress bar when not a TTY
  });

  it("runs os by default on an array that forwards operands (the systolic preset)", async () => {
    const io = capture();
    expect(await runCommand.run(["--net", net, "--layers", "c1", "--arch", "systolic", "--jobs", "1", "--format", "json"], io)).toBe(0);
    const r = JSON.parse(io.stdout()) as RunJson;
    expect(r.dataflow).toBe("os");
    expect(r.layers.every((l) => l.verified)).toBe(true);
  });

  it("gives the same results on two worker threads (--jobs 2), and writes the chart", async () => {
    const io = capture();
    const svg = join(dir, "run.svg");
    expect(await runCommand.run(["--net", net, "--jobs", "2", "--format", "json", "--svg", svg], io)).toBe(0);
    expect(strip(JSON.parse(io.stdout()) as RunJson)).toEqual(strip(inProcess));
    const chart = readFileSync(svg, "utf8");
    expect(chart).toContain("DRAM traffic [words]");
    for (const n of ["c1", "c2", "fc", "lower bound"]) expect(chart).toContain(`>${n}</text>`);
  });

  it("prints tables with units, a total row and the verdicts; CSV and Markdown too; --layers selects", async () => {
    const io = capture();
    expect(await runCommand.run(["--net", net, "--jobs", "1", "--layers", "c1,fc"], io)).toBe(0);
    const text = io.stdout();
    expect(text).toMatch(/layer\s+MACs\s+cycles\s+util \[%\]\s+DRAM \[words\]\s+GBuf \[words\]\s+RF \[words\]\s+DRAM bound \[words\]\s+DRAM\/bound \[x\]/);
    expect(text).toMatch(/^c1 .*PASS$/m);
    expect(text).not.toMatch(/^c2 /m);
    expect(text).toMatch(/^total .*PASS$/m);
    expect(text).toMatch(/energy \[k MAC-eq\]/);
    const csv = capture();
    expect(await runCommand.run(["--net", net, "--jobs", "1", "--layers", "2", "--format", "csv"], csv)).toBe(0);
    const lines = csv.stdout().trim().split("\r\n");
    expect(lines[0]).toMatch(/^layer,shape,arch,dataflow,MACs,cycles,util \[%\],DRAM \[words\]/);
    expect(lines).toHaveLength(3); // header, c2, total
    const md = capture();
    const out = join(dir, "report.md");
    expect(await runCommand.run(["--net", net, "--jobs", "1", "--layers", "fc", "--format", "md", "--out", out], md)).toBe(0);
    expect(md.stdout()).toBe("");
    expect(readFileSync(out, "utf8")).toMatch(/\| \*\*total\*\* \|/);
  });

  it("a user energy table gives pJ and pJ/MAC", async () => {
    const table = join(dir, "energy.json");
    writeFileSync(table, JSON.stringify({ name: "test45", unit: "pJ", actions: { dram: 160, gbuf: 6, noc: 2, rf: 1, mac: 0.5 } }));
    const io = capture();
    expect(await runCommand.run(["--net", net, "--jobs", "1", "--layers", "fc", "--energy", table], io)).toBe(0);
    expect(io.stdout()).toMatch(/energy \[(pJ|nJ|µJ)\]/);
    expect(io.stdout()).toMatch(/energy\/MAC \[pJ\/MAC\]/);
  });

  it("draws a progress bar on a terminal", async () => {
    const io = capture(true);
    expect(await runCommand.run(["--net", net, "--jobs", "1", "--layers", "fc"], io)).toBe(0);
    expect(io.stderr()).toMatch(/\[#+\] 1\/1 layers .*MAC\/s .* left/);
  });

  it("refuses bad options with a ConfigError before any work", async () => {
    const cases: [string[], RegExp][] = [
      [["--format", "xml"], /--format must be one of table, json, csv, md/],
      [["--jobs", "0"], /--jobs must be a decimal integer in \[1, 1024\]/],
      [["--dataflow", "magic"], /--dataflow must be one of chen2020/],
      [["--dataflow", "ws,os"], /--dataflow must name one dataflow/],
      [["--arch", "tpu9"], /--arch must be a preset/],
      [["--layers", "conv9"], /--layers must name a layer of tiny/],
      [["--energy", join(dir, "missing.json")], /--energy must name a readable JSON file/],
      [["--batch", "0"], /--batch must be a decimal integer in \[1, 65536\]/],
      [["--batch", "1e9"], /--batch must be a decimal integer in \[1, 65536\] \(no exponent/],
      [["--out", join(dir, "r.txt"), "--svg", join(dir, "r.txt")], /--svg must not be the same file as --out/],
      [["--out", join(dir, "nodir", "r.txt")], /--out must be in an existing directory/],
      [["--max-macs", "10"], /--net must take at most 1.00e\+1 MACs \(the work limit; raise it with --max-macs\)/],
      [["--arch-override", "{\"__proto__\":{}}"], /--arch-override.__proto__ must not be used as a key/],
    ];
    for (const [args, re] of cases) {
      const io = capture();
      const p = runCommand.run(["--net", net, ...args], io);
      await expect(p).rejects.toThrow(ConfigError);
      await expect(p).rejects.toThrow(re);
      expect(io.stdout()).toBe("");
    }
  });
});

describe("convsim run, a layer that fails to verify", () => {
  afterEach(() => {
    vi.doUnmock("../../src/dataflow/simulate.js");
    vi.resetModules();
  });

  it("exits 1 and says FAIL", async () => {
    vi.resetModules();
    vi.doMock("../../src/dataflow/simulate.js", async (importOriginal) => {
      const real = await importOriginal<typeof import("../../src/dataflow/simulate.js")>();
      return {
        ...real,
        simulate: (o: Parameters<typeof real.simulate>[0]) => {
          const r = real.simulate(o);
          return r.layer.name === "c2" ? { ...r, verification: { ...r.verification, ok: false, mismatches: 7 } } : r;
        },
      };
    });
    const { runCommand: mocked } = await import("../../src/cli/run.js");
    const io = capture();
    expect(await mocked.run(["--net", net, "--jobs", "1", "--layers", "c2,fc"], io)).toBe(1);
    expect(io.stdout()).toMatch(/^c2 .*FAIL \(7 mismatches\)$/m);
    expect(io.stdout()).toMatch(/^fc .*PASS$/m);
    expect(io.stdout()).toMatch(/^total .*FAIL \(7 mismatches\)$/m);
  });

  it("prints the same JSON bytes twice: wall times only with --timing", async () => {
    const a = capture();
    const b = capture();
    expect(await runCommand.run(["--net", net, "--jobs", "1", "--format", "json"], a)).toBe(0);
    expect(await runCommand.run(["--net", net, "--jobs", "1", "--format", "json"], b)).toBe(0);
    expect(a.stdout()).toBe(b.stdout());
    expect(a.stdout()).not.toContain("wallMs");
    const t = capture();
    expect(await runCommand.run(["--net", net, "--jobs", "1", "--format", "json", "--timing"], t)).toBe(0);
    expect(t.stdout()).toContain("wallMs");
  });

  it("--timing adds each layer's simulation time to the tables and the CSV, and their total", async () => {
    const plain = capture();
    expect(await runCommand.run(["--net", net, "--jobs", "1", "--layers", "c2,fc"], plain)).toBe(0);
    expect(plain.stdout()).not.toContain("sim time");
    const t = capture();
    expect(await runCommand.run(["--net", net, "--jobs", "1", "--layers", "c2,fc", "--timing"], t)).toBe(0);
    expect(t.stdout()).toMatch(/sim time \[s\] {2}verdict$/m);
    const secs = (name: string) => Number(/ (\d+\.\d\d) {2}PASS$/.exec(t.stdout().split("\n").find((l) => l.startsWith(`${name} `))!)![1]);
    expect(secs("c2")).toBeGreaterThan(0);
    expect(secs("fc")).toBeGreaterThan(0);
    // (the total row sums the rows' unrounded times)
    expect(Math.abs(secs("total") - secs("c2") - secs("fc"))).toBeLessThanOrEqual(0.011);
    const csv = capture();
    expect(await runCommand.run(["--net", net, "--jobs", "1", "--layers", "c2,fc", "--timing", "--format", "csv"], csv)).toBe(0);
    const [head, ...rows] = csv.stdout().trim().split(/\r?\n/);
    expect(head).toMatch(/,sim time \[s\],verdict$/);
    expect(rows).toHaveLength(3);
    for (const r of rows) expect(r).toMatch(/,\d+(\.\d{1,3})?,PASS$/);
  });
});
