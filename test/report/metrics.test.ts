import { describe, expect, it } from "vitest";
import { simulate } from "../../src/dataflow/simulate.js";
import { energyTable, ENERGY_ACTIONS } from "../../src/report/energy.js";
import { formatTable } from "../../src/report/format.js";
import { layerMetrics, metricsFlatTable, metricsTables, totalMetrics, verdict, type LayerMetrics } from "../../src/report/metrics.js";

const a = simulate({ layer: { name: "a", inChannels: 3, inHeight: 6, inWidth: 6, outChannels: 4, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] } });
const b = simulate({ layer: { name: "b", inChannels: 4, inHeight: 5, inWidth: 5, outChannels: 6, kernelHeight: 1, kernelWidth: 1 }, dataflow: "os" });

describe("layer metrics", () => {
  it("summarizes a SimulationResult: counts, traffic per level, bounds and ratios per boundary, energy, verdict", () => {
    const m = layerMetrics(a, { dataflow: "chen2020" });
    expect(m.name).toBe("a");
    expect(m.macs).toBe(a.macs);
    expect(m.cycles).toBe(a.cycles);
    expect(m.utilization).toBe(a.utilization);
    expect(m.traffic).toEqual({ dram: a.traffic.dram.total, gbuf: a.traffic.gbuf.total, rf: a.traffic.rf.total });
    expect(m.boundaries.dram.measured).toBe(a.boundaries.dram.measured);
    expect(m.boundaries.dram.minimum).toBe(a.boundaries.dram.bounds.headline);
    expect(m.boundaries.dram.ratio).toBeCloseTo(m.boundaries.dram.measured / m.boundaries.dram.minimum, 12);
    expect(m.boundaries.gbuf.paper).toBe(a.boundaries.gbuf.bounds.paper.total);
    // no simulated dataflow goes below the provable bound
    expect(m.boundaries.dram.measured).toBeGreaterThanOrEqual(m.boundaries.dram.provable);
    expect(m.energy.unit).toBe("MAC-eq");
    expect(m.energy.byLevel.mac).toBe(a.macs * 0.5); // int8 MACs at half the 16-bit cost
    expect(m.verified).toBe(true);
    expect(verdict(m)).toBe("PASS");
    // plain data: survives a structured clone (it crosses worker threads)
    expect(structuredClone(m)).toEqual(m);
  });

  it("reads int16 operand widths from the DRAM counters", () => {
    const r = simulate({ layer: { inChannels: 2, inHeight: 4, inWidth: 4, outChannels: 2, kernelHeight: 3, kernelWidth: 3 }, types: { input: "int16", weight: "int16" } });
    expect(layerMetrics(r).energy.byLevel.mac).toBe(r.macs * 1);
  });

  it("prices the GBuf's output words at the arch's gbuf.psumBytes", () => {
    const layer = { inChannels: 1, inHeight: 6, inWidth: 6, outChannels: 4, kernelHeight: 1, kernelWidth: 1 };
    const wide = simulate({ layer, arch: "eyeriss", dataflow: "os" });
    const narrow = simulate({ layer, arch: "eyeriss", archOverrides: { gbuf: { psumBytes: 2 } }, dataflow: "os" });
    const gbufOut = (r: typeof wide) => (r.counters["gbuf.read.output"]?.value ?? 0) + (r.counters["gbuf.write.output"]?.value ?? 0);
    expect(gbufOut(narrow)).toBe(gbufOut(wide));
    expect(gbufOut(wide)).toBeGreaterThan(0);
    // 32-bit words cost 6 x 2 per GBuf action, 16-bit words 6
    expect(layerMetrics(wide).energy.byLevel.gbuf - layerMetrics(narrow).energy.byLevel.gbuf).toBe(gbufOut(wide) * 6);
  });

  it("a user table gives pJ", () => {
    const t = energyTable({ actions: Object.fromEntries(ENERGY_ACTIONS.map((x) => [x, 2])) });
    const m = layerMetrics(a, { energyTable: t });
    expect(m.energy.unit).toBe("pJ");
    expect(metricsTables([m])[1]!.columns.find((c) => c.key === "energyPerMac")!.unit).toBe("pJ/MAC");
  });

  it("totals sum counts, bounds and energy; ratios and utilization come from the sums; one failure fails the total", () => {
    const ma = layerMetrics(a, { dataflow: "chen2020" });
    const mb = layerMetrics(b, { dataflow: "os" });
    const t = totalMetrics([ma, mb]);
    expect(t.macs).toBe(a.macs + b.macs);
    expect(t.cycles).toBe(a.cycles + b.cycles);
    expect(t.traffic.dram).toBe(ma.traffic.dram + mb.traffic.dram);
    expect(t.boundaries.dram.minimum).toBe(ma.boundaries.dram.minimum + mb.boundaries.dram.minimum);
    expect(t.boundaries.dram.ratio).toBeCloseTo(t.boundaries.dram.measured / t.boundaries.dram.minimum, 12);
    expect(t.utilization).toBeCloseTo((a.macs + b.macs) / (168 * (a.cycles + b.cycles)), 12);
    expect(t.energy.total).toBeCloseTo(ma.energy.total + mb.energy.total, 6);
    expect(t.dataflow).toBe("mixed");
    expect(t.layers).toBe(2);
    expect(t.verified).toBe(true);
    const failed: LayerMetrics = { ...mb, verified: false, mismatches: 3 };
    const tf = totalMetrics([ma, failed]);
    expect(tf.verified).toBe(false);
    expect(verdict(tf)).toBe("FAIL (3 mismatches)");
  });

  it("tables: traffic with bounds, energy by level, missing rows with their reason, totals as footer", () => {
    const ma = layerMetrics(a, { dataflow: "chen2020" });
    const [traffic, energy] = metricsTables([ma], { total: totalMetrics([ma]), missing: [{ name: "x", dataflow: "ws", reason: "does not fit" }], key: "layer+dataflow" });
    const text = formatTable(traffic!);
    expect(text).toMatch(/DRAM \[words\]/);
    expect(text).toMatch(/DRAM bound \[words\]/);
    expect(text).toMatch(/not run: does not fit/);
    expect(text.split("\n").filter((l) => l.startsWith("total")).length).toBe(1);
    expect(energy!.columns.map((c) => c.header)).toEqual(["layer", "dataflow", "energy", "DRAM", "GBuf", "NoC", "RF", "MAC", "energy/MAC"]);
    const flat = metricsFlatTable([ma]);
    expect(flat.columns.map((c) => c.key)).toContain("gbufProvable");
    expect(flat.rows[0]!.dramWords).toBe(ma.traffic.dram);
  });
});

describe("the cycle lower bound in the metrics", () => {
  it("a row carries the run's bound, ratio and binding resource; a total sums the bounds and names a shared binding only", () => {
    const ma = layerMetrics(a, { dataflow: "chen2020" });
    const mb = layerMetrics(b, { dataflow: "os" });
    expect(ma.cycleBound).toEqual({ cycles: a.cycleBound.cycles, ratio: a.cycles / a.cycleBound.cycles, binding: a.cycleBound.binding });
    expect(a.cycleBound.binding).not.toBe(b.cycleBound.binding); // compute and gbuf.write: the total's binding is mixed
    const t = totalMetrics([ma, mb]);
    expect(t.cycleBound).toEqual({ cycles: a.cycleBound.cycles + b.cycleBound.cycles, ratio: (a.cycles + b.cycles) / (a.cycleBound.cycles + b.cycleBound.cycles), binding: "mixed" });
    expect(totalMetrics([ma, ma]).cycleBound.binding).toBe(a.cycleBound.binding);
    expect(totalMetrics([]).cycleBound).toEqual({ cycles: 0, ratio: 0, binding: "" });
  });

  it("tables and CSV show the bound, cycles/bound and the binding resource", () => {
    const ma = layerMetrics(a, { dataflow: "chen2020" });
    const [traffic] = metricsTables([ma]);
    const text = formatTable(traffic!);
    expect(text).toMatch(/cycle bound \[cycles\]\s+cycles\/bound \[x\]\s+binding\s+verdict/);
    expect(text).toContain(` ${ma.cycleBound.ratio.toFixed(2)}  ${ma.cycleBound.binding} `);
    const flat = metricsFlatTable([ma]);
    expect(flat.rows[0]).toMatchObject({ cycleBound: ma.cycleBound.cycles, cycleRatio: ma.cycleBound.ratio, cycleBinding: ma.cycleBound.binding });
    expect(flat.columns.map((c) => c.header)).toContain("cycles/bound");
  });
});
