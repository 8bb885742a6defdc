/**
 * Derived metrics of simulated layers (STYLE rule 8: counters count actions, metrics are formulas
 * afterwards). {@link layerMetrics} condenses one `SimulationResult` into a plain, serializable
 * summary row (it crosses worker threads and goes into JSON as is); {@link totalMetrics} sums
 * rows; {@link metricsTables} lays rows out as report tables (columns in docs/reports.md).
 *
 * Conventions: traffic is in words of each tensor's element type, all tensors, reads plus writes.
 * A boundary's `minimum` is max(compulsory, provable) (src/bounds); `ratio` is measured / minimum
 * and `ratioToPaper` measured / the paper's bound. The total of several layers sums every count
 * and every bound (each layer's traffic is bounded separately, so the sum of bounds bounds the
 * sum), and its ratios are ratios of the sums; its utilization is MACs / (PEs x cycles x MACs per
 * PE per cycle) over all layers run one after the other. The cycle lower bound of a total is the
 * sum of the layers' (they run one after the other), and its binding resource is theirs when they
 * all agree, `mixed` otherwise.
 */
import type { SimulationResult } from "../dataflow/simulate.js";
import { formatLayerShortForm } from "../workload/layer.js";
import type { OperandType } from "../workload/dtype.js";
import { energyOf, ENERGY_LEVELS, EYERISS_ENERGY_TABLE, type EnergyLevel, type EnergyTable, type EnergyTypes } from "./energy.js";
import type { Column, Table } from "./format.js";

/** One boundary's traffic against its bounds, in words. */
export interface BoundaryMetrics {
  /** Words that crossed the boundary. */
  readonly measured: number;
  /** S below the boundary, words (for a total: the first layer's). */
  readonly capacityWords: number;
  readonly compulsory: number;
  /** The paper's bound (Chen, Han & Wang, HPCA 2020). */
  readonly paper: number;
  readonly provable: number;
  /** max(compulsory, provable). */
  readonly minimum: number;
  /** measured / minimum. */
  readonly ratio: number;
  /** measured / paper. */
  readonly ratioToPaper: number;
}

/** A row's cycles against the cycle lower bound (src/bounds/cycles.ts). */
export interface CycleBoundMetrics {
  /** The cycle lower bound (for a total: the sum of the layers' bounds). */
  readonly cycles: number;
  /** The row's cycles / the bound. */
  readonly ratio: number;
  /** The binding resource (`compute`, `dram`, `gbuf.read`, ..., `noc.drain`); `mixed` for a total whose layers differ. */
  readonly binding: string;
}

/** Energy of a row, by level, in the table's unit. */
export interface EnergyMetrics {
  readonly table: string;
  readonly unit: "pJ" | "MAC-eq";
  readonly byLevel: Readonly<Record<EnergyLevel, number>>;
  readonly total: number;
  /** total / MACs. */
  readonly perMac: number;
}

/** The summary of one simulated layer (or a total over layers). Plain data. */
export interface LayerMetrics {
  /** The layer's name, or its short form when unnamed; `total` for a total. */
  readonly name: string;
  /** The layer's short form (`c=3,hw=227,k=96,r=11,s=4`); empty for a total. */
  readonly shape: string;
  readonly arch: string;
  readonly dataflow: string;
  /** Layers summed in this row (1 for a layer). */
  readonly layers: number;
  readonly macs: number;
  readonly cycles: number;
  /** PE utilization in [0, 1]. */
  readonly utilization: number;
  /** PEs x MACs per PE per cycle (peak MACs per cycle). */
  readonly peakMacsPerCycle: number;
  /** Reads plus writes at each level, words. */
  readonly traffic: { readonly dram: number; readonly gbuf: number; readonly rf: number };
  readonly boundaries: { readonly dram: BoundaryMetrics; readonly gbuf: BoundaryMetrics };
  /** Cycles against the cycle lower bound. */
  readonly cycleBound: CycleBoundMetrics;
  readonly energy: EnergyMetrics;
  /** Whether the output matched the reference bit for bit (all layers, for a total). */
  readonly verified: boolean;
  /** Output elements that differ from the reference. */
  readonly mismatches: number;
  /** Wall time of the simulation, ms (not part of the model). */
  readonly wallMs: number;
}

/** Options of {@link layerMetrics}. */
export interface MetricsOptions {
  /** The energy table (default {@link EYERISS_ENERGY_TABLE}). */
  readonly energyTable?: EnergyTable;
  /** The dataflow's name for the row (default `mapping`: a user's Mapping). */
  readonly dataflow?: string;
  /**
   * The operand types (word widths for energy). Default: read from the DRAM counters (bytes read
   * per word read of each tensor), else int8.
   */
  readonly types?: EnergyTypes;
}

function typeFromCounters(r: SimulationResult, tensor: "input" | "weight"): OperandType {
  const words = r.counters[`dram.read.${tensor}`]?.value ?? 0;
  const bytes = r.counters[`dram.readBytes.${tensor}`]?.value ?? 0;
  return words > 0 && bytes === 2 * words ? "int16" : "int8";
}

function boundary(b: SimulationResult["boundaries"]["dram"]): BoundaryMetrics {
  return {
    measured: b.measured,
    capacityWords: b.bounds.capacityWords,
    compulsory: b.bounds.compulsory.total,
    paper: b.bounds.paper.total,
    provable: b.bounds.provable.total,
    minimum: b.minimum,
    ratio: b.ratio,
    ratioToPaper: b.ratioToPaper,
  };
}

/**
 * The summary row of one simulated layer: MACs, cycles, utilization, traffic per level, bounds
 * and ratios per boundary, the cycle lower bound, energy by level, verdict.
 */
export function layerMetrics(result: SimulationResult, options: MetricsOptions = {}): LayerMetrics {
  const types = options.types ?? { input: typeFromCounters(result, "input"), weight: typeFromCounters(result, "weight") };
  const e = energyOf(result.counters, { ...types, gbufPsumBits: 8 * (result.arch.gbuf.psumBytes ?? 4) }, options.energyTable ?? EYERISS_ENERGY_TABLE);
  const l = result.layer;
  const shape = formatLayerShortForm(l);
  return {
    name: l.name ?? shape,
    shape,
    arch: result.arch.name,
    dataflow: options.dataflow ?? "mapping",
    layers: 1,
    macs: result.macs,
    cycles: result.cycles,
    utilization: result.utilization,
    peakMacsPerCycle: result.arch.array.rows * result.arch.array.cols * result.arch.array.macsPerCycle,
    traffic: { dram: result.traffic.dram.total, gbuf: result.traffic.gbuf.total, rf: result.traffic.rf.total },
    boundaries: { dram: boundary(result.boundaries.dram), gbuf: boundary(result.boundaries.gbuf) },
    cycleBound: { cycles: result.cycleBound.cycles, ratio: result.cycleBound.ratio, binding: result.cycleBound.binding },
    energy: { table: e.table, unit: e.unit, byLevel: { ...e.byLevel }, total: e.total, perMac: e.perMac },
    verified: result.verification.ok,
    mismatches: result.verification.mismatches,
    wallMs: result.wallMs,
  };
}

function sumBoundary(rows: readonly BoundaryMetrics[]): BoundaryMetrics {
  const s = (f: (b: BoundaryMetrics) => number) => rows.reduce((a, b) => a + f(b), 0);
  const measured = s((b) => b.measured);
  const minimum = s((b) => b.minimum);
  const paper = s((b) => b.paper);
  return {
    measured,
    capacityWords: rows[0]?.capacityWords ?? 0,
    compulsory: s((b) => b.compulsory),
    paper,
    provable: s((b) => b.provable),
    minimum,
    ratio: minimum > 0 ? measured / minimum : 0,
    ratioToPaper: paper > 0 ? measured / paper : 0,
  };
}

/**
 * The total of several rows: counts, bounds and energy summed, ratios and utilization recomputed
 * from the sums. An empty list gives zeros.
 * @param name the row's name (default `total`).
 */
export function totalMetrics(rows: readonly LayerMetrics[], name = "total"): LayerMetrics {
  const s = (f: (m: LayerMetrics) => number) => rows.reduce((a, m) => a + f(m), 0);
  const macs = s((m) => m.macs);
  const cycles = s((m) => m.cycles);
  // Peak MAC-slots: each layer's cycles x its array's peak rate.
  const slots = s((m) => m.cycles * m.peakMacsPerCycle);
  const byLevel = {} as Record<EnergyLevel, number>;
  for (const l of ENERGY_LEVELS) byLevel[l] = s((m) => m.energy.byLevel[l]);
  const total = s((m) => m.energy.total);
  const first = rows[0];
  const same = (f: (m: LayerMetrics) => string) => (rows.every((m) => f(m) === f(first!)) ? f(first!) : "mixed");
  const cycleBound = s((m) => m.cycleBound.cycles);
  return {
    name,
    shape: "",
    arch: first ? same((m) => m.arch) : "",
    dataflow: first ? same((m) => m.dataflow) : "",
    layers: s((m) => m.layers),
    macs,
    cycles,
    utilization: slots > 0 ? macs / slots : 0,
    peakMacsPerCycle: first ? first.peakMacsPerCycle : 0,
    traffic: { dram: s((m) => m.traffic.dram), gbuf: s((m) => m.traffic.gbuf), rf: s((m) => m.traffic.rf) },
    boundaries: { dram: sumBoundary(rows.map((m) => m.boundaries.dram)), gbuf: sumBoundary(rows.map((m) => m.boundaries.gbuf)) },
    cycleBound: { cycles: cycleBound, ratio: cycleBound > 0 ? cycles / cycleBound : 0, binding: first ? same((m) => m.cycleBound.binding) : "" },
    energy: {
      table: first?.energy.table ?? EYERISS_ENERGY_TABLE.name,
      unit: first?.energy.unit ?? EYERISS_ENERGY_TABLE.unit,
      byLevel,
      total,
      perMac: macs > 0 ? total / macs : 0,
    },
    verified: rows.every((m) => m.verified),
    mismatches: s((m) => m.mismatches),
    wallMs: s((m) => m.wallMs),
  };
}

/** The verdict text of a row: `PASS`, or `FAIL (n mismatches)`. */
export function verdict(m: LayerMetrics): string {
  return m.verified ? "PASS" : `FAIL (${m.mismatches} mismatches)`;
}

/** A row that could not be simulated (e.g. the dataflow does not fit the layer), with the reason. */
export interface MissingRow {
  readonly name: string;
  readonly dataflow: string;
  readonly reason: string;
}

/** What the first column of a metrics table holds. */
export type RowKey = "layer" | "dataflow" | "layer+dataflow";

/** Options of {@link metricsTables}. */
export interface MetricsTableOptions {
  /** First column(s): the layer name, the dataflow, or both (default `layer`). */
  readonly key?: RowKey;
  /** A total row, shown after a rule. */
  readonly total?: LayerMetrics;
  /** Rows that could not run; shown with their reason. */
  readonly missing?: readonly MissingRow[];
  /** The energy unit when there are no rows to take it from. */
  readonly energyUnit?: "pJ" | "MAC-eq";
  /**
   * A column of each row's simulation wall time in seconds (`wallMs`: the simulator's own time,
   * verification included; `--timing`), before the verdict. Off by default, so that two runs of
   * the same work print the same bytes.
   */
  readonly timing?: boolean;
}

/** The simulation wall time column ({@link MetricsTableOptions.timing}; `sweep`'s tables too), of {@link simSeconds}. */
export const TIMING_COLUMN: Column = { key: "simSeconds", header: "sim time", unit: "s", kind: "ratio" };

/**
 * A row's simulation wall time in seconds, to the millisecond; undefined without one (a row read
 * back from a shard record made without `--timing`).
 */
export function simSeconds(m: LayerMetrics | undefined): number | undefined {
  return m && Number.isFinite(m.wallMs) ? Math.round(m.wallMs) / 1000 : undefined;
}

function keyColumns(key: RowKey): Column[] {
  const cols: Column[] = [];
  if (key !== "dataflow") cols.push({ key: "name", header: "layer", align: "left" });
  if (key !== "layer") cols.push({ key: "dataflow", header: "dataflow", align: "left" });
  return cols;
}

const LEVEL_HEADER: Readonly<Record<EnergyLevel, string>> = { dram: "DRAM", gbuf: "GBuf", noc: "NoC", rf: "RF", mac: "MAC" };

/** The cycle lower bound's columns: the bound, cycles / bound, the binding resource. */
const CYCLE_BOUND_COLUMNS: readonly Column[] = [
  { key: "cycleBound", header: "cycle bound", unit: "cycles", kind: "count" },
  { key: "cycleRatio", header: "cycles/bound", unit: "x", kind: "ratio" },
  { key: "cycleBinding", header: "binding", align: "left" },
];

/** The flat record of a row: every column of {@link metricsTables}' tables, unformatted. */
export function flatMetrics(m: LayerMetrics): Record<string, string | number | boolean> {
  const r: Record<string, string | number | boolean> = {
    name: m.name,
    shape: m.shape,
    arch: m.arch,
    dataflow: m.dataflow,
    macs: m.macs,
    cycles: m.cycles,
    utilization: m.utilization * 100,
    dramWords: m.traffic.dram,
    gbufWords: m.traffic.gbuf,
    rfWords: m.traffic.rf,
    dramMeasured: m.boundaries.dram.measured,
    dramCompulsory: m.boundaries.dram.compulsory,
    dramPaper: m.boundaries.dram.paper,
    dramProvable: m.boundaries.dram.provable,
    dramMinimum: m.boundaries.dram.minimum,
    dramRatio: m.boundaries.dram.ratio,
    dramRatioToPaper: m.boundaries.dram.ratioToPaper,
    gbufMeasured: m.boundaries.gbuf.measured,
    gbufCompulsory: m.boundaries.gbuf.compulsory,
    gbufPaper: m.boundaries.gbuf.paper,
    gbufProvable: m.boundaries.gbuf.provable,
    gbufMinimum: m.boundaries.gbuf.minimum,
    gbufRatio: m.boundaries.gbuf.ratio,
    gbufRatioToPaper: m.boundaries.gbuf.ratioToPaper,
    cycleBound: m.cycleBound.cycles,
    cycleRatio: m.cycleBound.ratio,
    cycleBinding: m.cycleBound.binding,
    energy: m.energy.total,
    energyPerMac: m.energy.perMac,
    verdict: verdict(m),
  };
  for (const l of ENERGY_LEVELS) r[`energy_${l}`] = m.energy.byLevel[l];
  const t = simSeconds(m);
  if (t !== undefined) r.simSeconds = t;
  return r;
}

/**
 * The report tables of a list of rows: (1) performance and traffic against the bounds, (2) energy
 * by level. Headers carry units; numbers stay numbers (the formatter decides how to print them).
 */
export function metricsTables(rows: readonly LayerMetrics[], options: MetricsTableOptions = {}): Table[] {
  const key = options.key ?? "layer";
  const unit = rows[0]?.energy.unit ?? options.total?.energy.unit ?? options.energyUnit ?? "MAC-eq";
  const perMacUnit = unit === "pJ" ? "pJ/MAC" : "MAC-eq/MAC";
  const toRecord = (m: LayerMetrics) => flatMetrics(m);
  const missing = (options.missing ?? []).map((x) => ({ name: x.name, dataflow: x.dataflow, verdict: `not run: ${x.reason}` }));
  const traffic: Table = {
    title: "Performance and traffic (words) against the lower bounds",
    columns: [
      ...keyColumns(key),
      { key: "macs", header: "MACs", kind: "count" },
      { key: "cycles", header: "cycles", kind: "count" },
      { key: "utilization", header: "util", unit: "%", kind: "percent" },
      { key: "dramWords", header: "DRAM", unit: "words", kind: "count" },
      { key: "gbufWords", header: "GBuf", unit: "words", kind: "count" },
      { key: "rfWords", header: "RF", unit: "words", kind: "count" },
      { key: "dramMinimum", header: "DRAM bound", unit: "words", kind: "count" },
      { key: "dramRatio", header: "DRAM/bound", unit: "x", kind: "ratio" },
      { key: "dramRatioToPaper", header: "DRAM/paper", unit: "x", kind: "ratio" },
      { key: "gbufMeasured", header: "GBuf<->RF", unit: "words", kind: "count" },
      { key: "gbufMinimum", header: "GBuf<->RF bound", unit: "words", kind: "count" },
      { key: "gbufRatio", header: "GBuf<->RF/bound", unit: "x", kind: "ratio" },
      ...CYCLE_BOUND_COLUMNS,
      ...(options.timing ? [TIMING_COLUMN] : []),
      { key: "verdict", header: "verdict", align: "left" },
    ],
    rows: [...rows.map(toRecord), ...missing],
    ...(options.total ? { footer: [toRecord(options.total)] } : {}),
  };
  const energy: Table = {
    title: `Energy by level (${rows[0]?.energy.table ?? options.total?.energy.table ?? "energy table"})`,
    columns: [
      ...keyColumns(key),
      { key: "energy", header: "energy", unit, kind: "energy" },
      ...ENERGY_LEVELS.map((l): Column => ({ key: `energy_${l}`, header: LEVEL_HEADER[l], unit, kind: "energy" })),
      { key: "energyPerMac", header: "energy/MAC", unit: perMacUnit, kind: "real" },
    ],
    rows: rows.map(toRecord),
    ...(options.total ? { footer: [toRecord(options.total)] } : {}),
  };
  return [traffic, energy];
}

/**
 * One flat table with every column (CSV): identification, performance, traffic, both boundaries'
 * bounds and ratios, the cycle lower bound, energy by level, verdict.
 */
export function metricsFlatTable(rows: readonly LayerMetrics[], options: MetricsTableOptions = {}): Table {
  const unit = rows[0]?.energy.unit ?? options.total?.energy.unit ?? options.energyUnit ?? "MAC-eq";
  const w = "words";
  const columns: Column[] = [
    { key: "name", header: "layer", align: "left" },
    { key: "shape", header: "shape", align: "left" },
    { key: "arch", header: "arch", align: "left" },
    { key: "dataflow", header: "dataflow", align: "left" },
    { key: "macs", header: "MACs", kind: "count" },
    { key: "cycles", header: "cycles", kind: "count" },
    { key: "utilization", header: "util", unit: "%", kind: "percent" },
    { key: "dramWords", header: "DRAM", unit: w, kind: "count" },
    { key: "gbufWords", header: "GBuf", unit: w, kind: "count" },
    { key: "rfWords", header: "RF", unit: w, kind: "count" },
  ];
  for (const b of ["dram", "gbuf"] as const) {
    const label = b === "dram" ? "DRAM" : "GBuf<->RF";
    columns.push(
      { key: `${b}Measured`, header: `${label} measured`, unit: w, kind: "count" },
      { key: `${b}Compulsory`, header: `${label} compulsory`, unit: w, kind: "count" },
      { key: `${b}Paper`, header: `${label} paper bound`, unit: w, kind: "count" },
      { key: `${b}Provable`, header: `${label} provable bound`, unit: w, kind: "count" },
      { key: `${b}Minimum`, header: `${label} bound`, unit: w, kind: "count" },
      { key: `${b}Ratio`, header: `${label}/bound`, unit: "x", kind: "ratio" },
      { key: `${b}RatioToPaper`, header: `${label}/paper`, unit: "x", kind: "ratio" },
    );
  }
  columns.push(...CYCLE_BOUND_COLUMNS);
  columns.push({ key: "energy", header: "energy", unit, kind: "real" });
  for (const l of ENERGY_LEVELS) columns.push({ key: `energy_${l}`, header: `energy ${LEVEL_HEADER[l]}`, unit, kind: "real" });
  columns.push({ key: "energyPerMac", header: "energy/MAC", unit: unit === "pJ" ? "pJ/MAC" : "MAC-eq/MAC", kind: "real" });
  if (options.timing) columns.push(TIMING_COLUMN);
  columns.push({ key: "verdict", header: "verdict", align: "left" });
  const missing = (options.missing ?? []).map((x) => ({ name: x.name, dataflow: x.dataflow, verdict: `not run: ${x.reason}` }));
  return {
    columns,
    rows: [...rows.map(flatMetrics), ...missing],
    ...(options.total ? { footer: [flatMetrics(options.total)] } : {}),
  };
}
