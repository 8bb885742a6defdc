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
