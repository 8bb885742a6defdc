/**
 * How well the mapper's cycle estimate (src/mapper/cost.ts, docs/mapper.md "Cycles") predicts
 * the simulator: random layers (convolutions of 1x1 to 5x5 kernels, stride 1 or 2, and FC layers)
 * on the three presets (a third of them with a GBuf of 16, 64 or 128 KiB), a search of 600
 * evaluations with a random objective, and each of its best six mappings simulated. Prints, per
 * preset and over all, the spread of simulated / estimated cycles; how often the estimate orders
 * two mappings of one search as the simulator does (pairs concordant); and how much slower the
 * mapping the estimate ranks first is than the fastest of the six, simulated (geometric mean over
 * the searches: 1 when the estimate always picks the fastest); and the spread of simulated /
 * estimated energy (the energy table over the simulated counters, as `verifyMappings` prices them).
 *
 * Run: `npx tsx bench/cycle-estimate.ts [seed] [searches]` (seed g1, 60 searches: about 8 minutes
 * on a shared 2-core machine). `--out FILE` also writes each simulated mapping as a JSON line.
 */
import { appendFileSync } from "node:fs";
import seedrandom from "seedrandom";
import { resolveArch, type ArchOverrides } from "../src/arch/presets.js";
import { ConfigError } from "../src/core/errors.js";
import { simulate } from "../src/dataflow/simulate.js";
import { CostModel, map, OBJECTIVES } from "../src/mapper/index.js";
import { energyOf } from "../src/report/energy.js";
import { convLayer, type ConvLayerSpec } from "../src/workload/layer.js";

const args = process.argv.slice(2);
const outAt = args.indexOf("--out");
const out = outAt >= 0 ? args.splice(outAt, 2)[1] : undefined;
if (outAt >= 0 && out === undefined) throw new ConfigError("--out", undefined, "name a file to write the simulated mappings to");
const seed = args[0] ?? "g1";
const searches = Number(args[1] ?? 60);
if (!Number.isSafeInteger(searches) || searches < 1) throw new ConfigError("searches", args[1], "be a positive integer (the second argument)");
const r = seedrandom(seed);
const int = (a: number, b: number) => a + Math.floor(r() * (b - a + 1));
const PRESETS = ["eyeriss", "chen2020", "systolic"] as const;

/** A random layer: a convolution (a quarter of the draws an FC layer). */
function randomLayer(): ConvLayerSpec {
  if (r() < 0.25) return { inChannels: int(16, 600), inHeight: 1, inWidth: 1, outChannels: int(16, 600), kernelHeight: 1, kernelWidth: 1 };
  const k = int(1, 3) * 2 - 1;
  const s = r() < 0.2 ? 2 : 1;
  const p = k >> 1;
  return { inChannels: int(3, 96), inHeight: int(7, 40), inWidth: int(7, 40), outChannels: int(8, 128), kernelHeight: k, kernelWidth: k, strides: [s, s], pads: [p, p, p, p] };
}

const ratios = new Map<string, number[]>();
const energyRatios: number[] = [];
let concordant = 0, discordant = 0, pickLog = 0, pools = 0;
for (let n = 0; n < searches; n++) {
  const spec = randomLayer();
  const preset = PRESETS[int(0, 2)]!;
  const overrides: ArchOverrides | undefined = r() < 0.3 ? { gbuf: { capacityBytes: [16384, 65536, 131072][int(0, 2)]! } } : undefined;
  const objective = OBJECTIVES[int(0, 3)]!;
  const searchSeed = int(1, 1000);
  const layer = convLayer(spec);
  const arch = resolveArch(preset, overrides);
  let result;
  try {
    result = map(layer, arch, { objective, budget: 600, top: 6, seed: searchSeed });
  } catch (e) {
    if (e instanceof ConfigError) continue;
    throw e;
  }
  const cost = new CostModel(layer, arch, { objective: "cycles" });
  const pool = result.top.map((c) => {
    const e = cost.estimate(c.mapping);
    const s = simulate({ layer, arch, dataflow: c.mapping, seed: 1 });
    const energy = energyOf(s.counters, { ...cost.types, gbufPsumBits: 8 * (arch.gbuf.psumBytes ?? 4) }, cost.table).total;
    return { est: e.cycles, sim: s.cycles, energyRatio: energy / e.energy, mapping: c.mapping };
  });
  for (const p of pool) {
    for (const key of [preset, "all"]) ratios.set(key, [...(ratios.get(key) ?? []), p.sim / p.est]);
    energyRatios.push(p.energyRatio);
    if (out) appendFileSync(out, JSON.stringify({ search: n, preset, overrides, layer: spec, objective, mapping: p.mapping, estimated: p.est, simulated: p.sim }) + "\n");
  }
  for (let i = 0; i < pool.length; i++)
    for (let j = i + 1; j < pool.length; j++) {
      const a = pool[i]!, b = pool[j]!;
      if (a.sim === b.sim || a.est === b.est) continue;
      if (a.sim < b.sim === a.est < b.est) concordant++;
      else discordant++;
    }
  const first = pool.reduce((a, b) => (b.est < a.est ? b : a));
  pickLog += Math.log(first.sim / Math.min(...pool.map((p) => p.sim)));
  pools++;
  process.stderr.write(`\r${n + 1}/${searches} searches`);
}
process.stderr.write("\n");

const q = (s: number[], f: number) => s[Math.min(s.length - 1, Math.floor(s.length * f))]!.toFixed(2);
console.log(`cycle estimate, seed ${seed}: ${pools} searches, their best mappings simulated (simulated / estimated cycles)`);
console.log("| preset | mappings | min | p10 | median | p90 | max | geometric mean |");
console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
for (const [key, v] of ratios) {
  const s = [...v].sort((a, b) => a - b);
  const gm = Math.exp(s.reduce((a, x) => a + Math.log(x), 0) / s.length);
  console.log(`| ${key} | ${s.length} | ${q(s, 0)} | ${q(s, 0.1)} | ${q(s, 0.5)} | ${q(s, 0.9)} | ${s[s.length - 1]!.toFixed(2)} | ${gm.toFixed(2)} |`);
}
{
  const s = [...energyRatios].sort((a, b) => a - b);
  console.log(`energy, simulated / estimated: min ${q(s, 0)}, p10 ${q(s, 0.1)}, median ${q(s, 0.5)}, p90 ${q(s, 0.9)}, max ${s[s.length - 1]!.toFixed(2)}`);
}
console.log(`pairs of one search ordered as simulated: ${concordant} of ${concordant + discordant} (${((100 * concordant) / (concordant + discordant)).toFixed(0)}%)`);
console.log(`the estimate's first / the fastest simulated, geometric mean over the searches: ${Math.exp(pickLog / pools).toFixed(3)}`);
