/**
 * ONNX models in: {@link importOnnx} reads a model's layers as a convsim network (docs/formats.md).
 */
export { importOnnx, onnxLayerOperands, type OnnxImportOptions, type OnnxNetwork } from "./import.js";
export type { ModelOperands } from "./layers.js";
