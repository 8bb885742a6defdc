/**
 * The mapper against the bounds (issue 16, docs/mapper.md "AlexNet and VGG-16 on the presets"):
 * every AlexNet and VGG-16 convolution at batch 1 on the `eyeriss` and `chen2020` presets, the
 * mapper's best DRAM words (objective dram, the default budget, seed 1) beside the attainable and
 * provable figures of `lowerBounds` at the preset's on-chip capacity in words (what `simulate` and
 * the mapper's stop rule use), the attainable figure at the real sizes (the on-chip bytes of
 * `onChipBytes`, partial sums at 4 bytes), whether the attainable tile's partial sums fit a store
 * that can hold them (the GBuf at `gbuf.psumBytes` each, or the PEs' psum registers), and with
 * objective energy the mapper's estimated energy over the best named dataflow's. Prints a
 * Markdown table and a summary line per preset.
 *
 * Run: `npx tsx bench/map-quality.ts [eyeriss|chen2020 ...]` (about 2 minutes per preset on a shared
 * 2-core machine).
 */
import { onChipBytes, resolveArch } from "../src/arch/presets.js";
import type { ArchSpec } from "../src/arch/spec.js";
import { boundaryCapacityWords, lowerBounds } from "../src/bounds/index.js";
import { buildMapping, DATAFLOW_NAMES } from "../src/dataflow/dataflows/index.js";
import { ConfigError } from "../src/core/errors.js";
import { bytes } from "../src/core/units.js";
import { CostModel, map } from "../src/mapper/index.js";
import { network } from "../src/workload/networks.js";

const types = { input: "int8", weight: "int8" } as const;
const presets = process.argv.length > 2 ? process.argv.slice(2) : ["eyeriss", "chen2020"];
const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");

/** The lowest estimated energy of the named dataflows that fit. */
function bestNamedEnergy(cost: CostModel): number {
  let best = Infinity;
  for (const d of DATAFLOW_NAMES) {
    try {
      best = Math.min(best, cost.estimate(buildMapping(d, cost.layer, cost.arch, { types })).score);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
    }
  }
  return best;
}

/** Whether `psums` partial sums fit the GBuf (at gbuf.psumBytes) or the PEs' psum registers. */
function psumsFit(psums: number, arch: ArchSpec): boolean {
  const gbuf = Math.floor(arch.gbuf.capacityBytes / (arch.gbuf.psumBytes ?? 4));
  return psums <= Math.max(gbuf, arch.array.rows * arch.array.cols * (arch.rf.psumEntries ?? 0));
}

console.log("| layer | preset | mapper | attainable | provable | mapper / attainable | tile's psums fit | attainable, real sizes | energy / best named |");
console.log("| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |");
for (const preset of presets) {
  const arch = resolveArch(preset);
  let reached = 0;
  let layers = 0;
  let below = 0;
  let energyWorse = 0;
  for (const net of ["alexnet", "vgg16"]) {
    for (const layer of network(net, 1).layers.filter((l) => l.kernelHeight > 1 || l.inHeight > 1)) {
      const b = lowerBounds(layer, { boundary: "dram", capacity: boundaryCapacityWords(arch, "dram", types), types });
      const r = map(layer, arch, { types });
      const words = r.best.estimate.dram.total;
      const att = b.attainable?.traffic.total ?? Infinity;
      const t = b.attainable?.tile;
      const fits = t ? psumsFit(t.b * t.y * t.x * t.z, arch) : false;
      const real = lowerBounds(layer, { boundary: "dram", capacity: { unit: "bytes", value: bytes(onChipBytes(arch, 1)) }, types }).attainable?.traffic.total ?? Infinity;
      const e = map(layer, arch, { types, objective: "energy" });
      const named = bestNamedEnergy(new CostModel(layer, arch, { objective: "energy", types }));
      layers++;
      if (words <= att) reached++;
      if (words < b.provable.total) below++;
      if (e.best.estimate.score > named) energyWorse++;
      console.log(`| ${net} ${layer.name} | ${preset} | ${fmt(words)} | ${fmt(att)} | ${fmt(Math.ceil(b.provable.total))} | ${(words / att).toFixed(3)} | ${fits ? "yes" : "no"} | ${fmt(real)} | ${(e.best.estimate.score / named).toFixed(3)} |`);
    }
  }
  console.log(`\n${preset}: ${reached} of ${layers} at or below attainable; ${below} below provable; ${energyWorse} with a named dataflow of lower estimated energy\n`);
}
