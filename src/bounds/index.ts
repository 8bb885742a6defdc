/**
 * Lower bounds per memory boundary (src/bounds): the sliding-window reuse R, the compulsory
 * traffic, the bound of Chen, Han & Wang (HPCA 2020, arXiv 1911.05662) as stated, a provable
 * bound with its lower-order terms, and the attainable traffic of the paper's output-tile
 * dataflow with its tile search (derivations: docs/bounds.md); and the cycle lower bound of a run
 * (docs/timing.md).
 */
export {
  gcd,
  axisUses,
  axisMaxReuse,
  axisInteriorReuse,
  axisMaxUsesPerTap,
  axisMaxTapsPerOutput,
  axisUsedTaps,
  reuse,
  maxReuse,
  type ReuseFacts,
} from "./reuse.js";
export {
  axisTilings,
  axisTiling,
  tileBudget,
  budgetWords,
  tilePlan,
  searchTile,
  minimumFootprint,
  type Tile,
  type TensorTraffic,
  type AxisTiling,
  type Staging,
  type TileBudget,
  type OperandTypes,
  type TileFootprint,
  type TilePlan,
} from "./tile.js";
export {
  lowerBounds,
  compulsoryTraffic,
  paperBound,
  provableBound,
  segmentModel,
  segmentBound,
  maxSegmentMacs,
  maxProduct3,
  usedWeights,
  boundaryCapacityWords,
  BOUNDARIES,
  type Boundary,
  type BoundOptions,
  type PaperBound,
  type ProvableBound,
  type AttainableTraffic,
  type LayerBounds,
  type SegmentModel,
} from "./bounds.js";
export { cycleLowerBound, peMacsPerCycle, CYCLE_RESOURCES, type CycleBound, type CycleTerm, type CycleResource, type CounterValues } from "./cycles.js";
