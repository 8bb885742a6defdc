/**
 * The layers and operands the reference benchmarks time: VGG-16 conv3_2 (c=256, 56x56, k=256,
 * 3x3, pad 1; 1.85 G MACs) and AlexNet conv1 (c=3, 227x227, k=96, 11x11, stride 4; 105 M MACs),
 * from the network zoo, with seeded int8 operands and non-zero zero points (so the shift by the
 * zero point is part of the work timed).
 */
import { convShape, type ConvLayer } from "../src/workload/layer.js";
import { network, selectLayers } from "../src/workload/networks.js";
import type { OperandArray } from "../src/workload/reference.js";
import { layerTensors } from "../src/workload/tensors.js";

/** One benchmark case: a zoo layer and its operands. */
export interface ReferenceCase {
  readonly label: string;
  readonly layer: ConvLayer;
  readonly macs: number;
  readonly x: OperandArray;
  readonly w: OperandArray;
  readonly xZeroPoint: number;
  readonly wZeroPoint: number;
}

/** The cases, by label (`vgg16/conv3_2`, `alexnet/conv1`), in the order given. */
export function referenceCases(labels: readonly string[] = ["alexnet/conv1", "vgg16/conv3_2"]): ReferenceCase[] {
  return labels.map((label) => {
    const [net, name] = label.split("/") as [string, string];
    const layer = selectLayers(network(net), name)[0]!;
    const { x, w } = layerTensors(layer, { seed: 1 });
    return { label, layer, macs: convShape(layer).macs, x, w, xZeroPoint: 3, wZeroPoint: -2 };
  });
}
