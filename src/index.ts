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
  referenceConvJs,
  compareOutputs,
  checkOperands,
  type ConvOptions,
  type OperandArray,
  type Verification,
  type Mismatch,
} from "./workload/reference.js";
export { seededTensor, layerTensors, type ValueRange } from "./workload/tensors.js";
export { parseNpy, encodeNpy, readNpy, writeNpy, readRaw, writeRaw, expectTensor, type Tensor } from "./workload/npy.js";
export { network, loadNetwork, selectLayers, totalMacs, NETWORK_NAMES, DEFAULT_NETWORK, type Network } from "./workload/networks.js";
export { importOnnx, onnxLayerOperands, type OnnxImportOptions, type OnnxNetwork, type ModelOperands } from "./formats/onnx/index.js";
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
} from "./bounds/index.js";
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
} from "./dataflow/mapping.js";
export { checkMapping, assertLegal, checkPsumWidth, maxAbsPartialSum, type LegalityOptions, type PsumOperands } from "./dataflow/legality.js";
export { formatMapping } from "./dataflow/print.js";
export { dataflows, buildMapping, DATAFLOW_NAMES, DATAFLOW_CHOICES, MAPPER_DATAFLOW, type DataflowName } from "./dataflow/dataflows/index.js";
export {
  map,
  verifyMappings,
  bestMapping,
  objectiveBound,
  parseBudget,
  CostModel,
  OBJECTIVES,
  BEST_BUDGET,
  type MapOptions,
  type MapResult,
  type MapCandidate,
  type MapProgress,
  type Objective,
  type Estimate,
  type Budget,
  type VerifiedCandidate,
  type VerifyOptions,
} from "./mapper/index.js";
export { chen2020Tile } from "./dataflow/dataflows/chen2020.js";
export { archSpec, resolveArch, presets, PRESET_NAMES, eyeriss, chen2020, systolic, type ArchOverrides, type ArchSpecInput, type PresetName } from "./arch/presets.js";
export { DRAM_MODEL_NAMES, GBUF_MODEL_NAMES, GBUF_PSUM_BYTES, rfEntriesPerPe, rfTensorEntries } from "./arch/spec.js";
export type { ArchSpec, DramSpec, GlobalBufferSpec, RegFileSpec, PeArraySpec, NocSpec, DramModelName, GbufModelName, LevelNames } from "./arch/spec.js";
export { Engine, StallError, type SimMode, type CounterSnapshot, type CounterUnit } from "./core/index.js";
export { STALL_CAUSES, WAVE_KERNEL_NAMES, type StallCause, type WaveKernelName } from "./pe-array/index.js";
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
  type LayerMetrics,
  type BoundaryMetrics,
  type CycleBoundMetrics,
  type EnergyMetrics,
  type OutputFormat,
  type Table,
  type GroupedBarChart,
  type LineChart,
  parseShard,
  shardOfItem,
  stableHash,
  canonicalJson,
  shardLines,
  readShardParts,
  resultsInOrder,
  type ShardSpec,
  type ShardPart,
  type MergedShards,
} from "./report/index.js";
export {
  importTimeloop,
  exportTimeloop,
  timeloopCounts,
  boundingBoxFactor,
  peOutputPairs,
  levelNamesOf,
  timeloopGbufInputFills,
  diagonalShareFactor,
  type TimeloopSpecs,
  type TimeloopImport,
  type TimeloopExportInput,
  type TimeloopExport,
  type TimeloopCounts,
  type TimeloopActions,
  type CountsSource,
} from "./formats/timeloop/index.js";
export { importScaleSim, type ScaleSimInput, type ScaleSimImport, type ScaleSimNetwork } from "./formats/scalesim.js";
