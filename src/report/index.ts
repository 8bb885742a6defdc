/**
 * Reports: derived metrics (energy = action counts x an energy table, per-layer summaries and
 * totals), output formats (text table, Markdown, CSV, JSON) and SVG charts. docs/reports.md
 * describes the columns, the energy model and the charts.
 */
export {
  energyTable,
  loadEnergyTable,
  energyOf,
  actionOfCounter,
  EYERISS_ENERGY_TABLE,
  ENERGY_LEVELS,
  ENERGY_ACTIONS,
  type EnergyTable,
  type EnergyLevel,
  type EnergyAction,
  type EnergyBreakdown,
  type EnergyTerm,
  type EnergyTypes,
  type WidthScaling,
} from "./energy.js";
export {
  layerMetrics,
  totalMetrics,
  flatMetrics,
  metricsTables,
  metricsFlatTable,
  verdict,
  type LayerMetrics,
  type BoundaryMetrics,
  type CycleBoundMetrics,
  type EnergyMetrics,
  type MetricsOptions,
  type MetricsTableOptions,
  type MissingRow,
  type RowKey,
} from "./metrics.js";
export {
  formatTable,
  formatMarkdown,
  formatCsv,
  formatJson,
  renderTables,
  requireOutputFormat,
  energyScale,
  formatCount,
  formatReal,
  OUTPUT_FORMATS,
  type OutputFormat,
  type Table,
  type Column,
  type ColumnKind,
  type Cell,
} from "./format.js";
export {
  groupedBarChartSvg,
  lineChartSvg,
  linearTicks,
  logTicks,
  siLabel,
  escapeXml,
  PALETTE,
  type GroupedBarChart,
  type BarSeries,
  type ReferenceLine,
  type LineChart,
  type LineSeries,
  type AxisScale,
} from "./svg.js";
