/**
 * The dataflow module (src/dataflow): the Mapping loop-nest IR, its legality check, printing
 * and JSON loading, the closed-form traffic count of a Mapping, and the named dataflows as
 * Mapping builders. The Sequencer that executes a
 * Mapping through the engine is separate. Contract: docs/mapping.md.
 */
export {
  DIMS,
  LEVELS,
  TENSORS,
  TENSOR_DIMS,
  REDUCTION_DIMS,
  KEEP_ALL,
  dimSizes,
  loopNest,
  tileStride,
  tileExtents,
  tileVisits,
  levelTrips,
  spatialShape,
  inputSpan,
  touchedInputs,
  maxTouchedInputs,
  tileFootprint,
  levelFootprint,
  parseMapping,
  mapping,
  mappingToJson,
  checkCoverage,
  describeLoop,
  type Dim,
  type LevelName,
  type StorageLevelName,
  type TensorName,
  type Axis,
  type TemporalLoop,
  type SpatialLoop,
  type FusedGroup,
  type KeepFlags,
  type DramLevel,
  type StorageLevel,
  type SpatialLevel,
  type Mapping,
  type MappingSpec,
  type NestLoop,
  type DimRecord,
  type TensorWords,
  type CoverageProblem,
} from "./mapping.js";
export { formatMapping, type FormatOptions } from "./print.js";
export {
  checkMapping,
  assertLegal,
  mappingUsage,
  tensorBytes,
  type OperandTypes,
  type LegalityOptions,
  type Legality,
  type Illegal,
  type MappingUsage,
} from "./legality.js";
export {
  compose,
  fitTemplate,
  cannotFit,
  defineTemplate,
  DRAM_ORDERS,
  type DataflowOptions,
  type Dataflow,
  type Template,
  type SpatialSlot,
  type Factors,
} from "./dataflows/common.js";
export { searchTemplate, DRAM_WORD_WEIGHT } from "./dataflows/search.js";
export { balanceMapping } from "./dataflows/balance.js";
export { dramTraffic, gbufArrayAccesses, gbufInputHalo, layerTraffic, axisCoverage, LayerTraffic, type BoundaryWords, type WeightedLoop, type AxisCoverage } from "./traffic.js";
export { chen2020, chen2020Tile, attainableTraffic, CHEN2020_TEMPLATE, CHEN2020_GBUF_TEMPLATE, type Chen2020Options, type TileCost } from "./dataflows/chen2020.js";
export { ws, WS_TEMPLATE } from "./dataflows/ws.js";
export { os, OS_TEMPLATE } from "./dataflows/os.js";
export { is, IS_TEMPLATE } from "./dataflows/is.js";
export { rs, RS_TEMPLATE } from "./dataflows/rs.js";
export { dataflows, buildMapping, DATAFLOW_NAMES, type DataflowName } from "./dataflows/index.js";
