/**
 * convsim's public API. Nothing outside this file is public.
 * @packageDocumentation
 */
export { ConfigError, InvariantError } from "./core/errors.js";
export { parseCapacity, formatBytes, type Cycle, type Words, type Bytes, type Capacity } from "./core/units.js";
export {
  dtypeInfo,
  OPERAND_TYPES,
  type OperandType,
  type ElementType,
  type IntArray,
  type DTypeInfo,
  type OperandTypes,
  type TypedArrayOf,
} from "./workload/dtype.js";
export {
  convLayer,
  convShape,
  parseLayerShortForm,
  formatLayerShortForm,
  fullyConnected,
  MAX_TENSOR_ELEMENTS,
  type ConvLayer,
  type ConvLayerSpec,
  type ConvShape,
} from "./workload/layer.js";
export {
  referenceConv,
  compareOutputs,
  checkOperands,
  type ConvOptions,
  type ConvOperands,
  type OperandArray,
  type Verification,
  type Mismatch,
} from "./workload/reference.js";
export { seededTensor, layerTensors, type ValueRange, type LayerTensors } from "./workload/tensors.js";
export { parseNpy, encodeNpy, readNpy, writeNpy, readRaw, writeRaw, expectTensor, type Tensor } from "./workload/npy.js";
export { network, loadNetwork, selectLayers, totalMacs, NETWORK_NAMES, DEFAULT_NETWORK, type Network } from "./workload/networks.js";
export {
  lowerBounds,
  compulsoryTraffic,
  paperBound,
  provableBound,
  boundaryCapacityWords,
  BOUNDARIES,
  reuse,
  maxReuse,
  searchTile,
  tilePlan,
  cycleLowerBound,
  CYCLE_RESOURCES,
  type CycleBound,
  type CycleTerm,
  type CycleResource,
  type CounterValues,
  type Boundary,
  type BoundOptions,
  type PaperBound,
  type ProvableBound,
  type AttainableTraffic,
  type LayerBounds,
  type ReuseFacts,
  type Tile,
  type TilePlan,
  type TensorTraffic,
  type Staging,
  type TileBudget,
  type TileFootprint,
} from "./bounds/index.js";
export { simulateAsync, type SimulateAsyncControl } from "./runner/async.js";
export {
  runNetwork,
  formatNetworkRun,
  networkRunChartSvg,
  archLabel,
  defaultDataflow,
  defaultDataflows,
  type RunNetworkOptions,
  type RunNetworkFieldNames,
  type NetworkRun,
  type NetworkProgress,
} from "./runner/network.js";
export { runJobs, mappingCheck, jobCost, type SimJob, type SimJobOutcome, type RunJobsOptions } from "./runner/jobs.js";
export {
  simulate,
  type SimulateOptions,
  type SimulationResult,
  type SimulatorStats,
  type LevelTraffic,
  type BoundaryReport,
  type CycleBoundReport,
} from "./dataflow/simulate.js";
export {
  parseMapping,
  mappingToJson,
  checkCoverage,
  tileExtents,
  tileFootprint,
  streamFlows,
  DIMS,
  LEVELS,
  TENSORS,
  type Mapping,
  type MappingSpec,
  type RfLevel,
  type StreamFlow,
  type Dim,
  type TemporalLoop,
  type SpatialLoop,
  type KeepFlags,
  type Axis,
  type CoverageProblem,
  type DimRecord,
  type DramLevel,
  type SpatialLevel,
  type StorageLevel,
  type LevelName,
  type TensorName,
} from "./dataflow/mapping.js";
export { checkMapping, assertLegal, checkPsumWidth, maxAbsPartialSum, type LegalityOptions, type Legality, type Illegal, type PsumOperands } from "./dataflow/legality.js";
export { formatMapping, type FormatOptions } from "./dataflow/print.js";
export { dataflows, buildMapping, DATAFLOW_NAMES, type DataflowName, type DataflowOptions } from "./dataflow/dataflows/index.js";
export { chen2020Tile } from "./dataflow/dataflows/chen2020.js";
export { archSpec, resolveArch, presets, PRESET_NAMES, eyeriss, chen2020, systolic, type ArchOverrides, type ArchSpecInput, type PresetName } from "./arch/presets.js";
export { DRAM_MODEL_NAMES, GBUF_MODEL_NAMES, GBUF_PSUM_BYTES, rfEntriesPerPe, rfTensorEntries } from "./arch/spec.js";
export type { ArchSpec, DramSpec, GlobalBufferSpec, RegFileSpec, PeArraySpec, NocSpec, DramModelName, GbufModelName } from "./arch/spec.js";
export {
  Engine,
  StallError,
  type SimMode,
  type CounterSnapshot,
  type CounterUnit,
  type CounterEntry,
  type EngineOptions,
  type RunOptions,
  type RunResult,
  type StalledComponent,
  type Component,
  type Channel,
  type ChannelOptions,
  type InPort,
  type OutPort,
  type Port,
  type PortBase,
  type Counter,
} from "./core/index.js";
export { STALL_CAUSES, WAVE_KERNEL_NAMES, type StallCause, type WaitReason, type WaveKernelName } from "./pe-array/index.js";
export {
  energyTable,
  loadEnergyTable,
  energyOf,
  EYERISS_ENERGY_TABLE,
  ENERGY_LEVELS,
  ENERGY_ACTIONS,
  layerMetrics,
  totalMetrics,
  formatTable,
  formatMarkdown,
  formatCsv,
  formatJson,
  groupedBarChartSvg,
  lineChartSvg,
  type EnergyTable,
  type EnergyLevel,
  type EnergyAction,
  type EnergyBreakdown,
  type EnergyTerm,
  type EnergyTypes,
  type WidthScaling,
  type LayerMetrics,
  type MetricsOptions,
  type BoundaryMetrics,
  type CycleBoundMetrics,
  type EnergyMetrics,
  type OutputFormat,
  type Table,
  type Cell,
  type Column,
  type ColumnKind,
  type GroupedBarChart,
  type LineChart,
  type AxisScale,
  type BarSeries,
  type LineSeries,
  type ReferenceLine,
} from "./report/index.js";
