/**
 * The network zoo: every convolution and fully connected layer of well-known CNNs, with exact
 * shapes (stride, padding, groups), named as in the original papers. Pooling, activation and
 * normalization layers are not convolutions and are not listed; the input size of each layer is
 * the output size of whatever precedes it in the original network. A fully connected layer is a
 * 1x1 convolution over a 1x1 input (its input features are the flattened previous activation).
 *
 * Networks are data: {@link loadNetwork} reads a user's network from JSON
 * (`{ "name": ..., "layers": [ConvLayerSpec, ...] }`).
 */
import { ConfigError } from "../core/errors.js";
import { checkInt, rejectUnsafeKeys } from "../core/fields.js";
import { convLayer, convShape, LAYER_RULES, type ConvLayer, type ConvLayerSpec } from "./layer.js";

/** A network: an ordered list of named layers. */
export interface Network {
  readonly name: string;
  /** What the network is and where its shapes come from. */
  readonly source: string;
  readonly layers: readonly ConvLayer[];
}

type Spec = Omit<ConvLayerSpec, "batch"> & { name: string };

function conv(name: string, c: number, hw: number, k: number, r: number, stride = 1, pad = 0, groups = 1): Spec {
  return {
    name,
    inChannels: c,
    inHeight: hw,
    inWidth: hw,
    outChannels: k,
    kernelHeight: r,
    kernelWidth: r,
    strides: [stride, stride],
    pads: [pad, pad, pad, pad],
    groups,
  };
}

function fc(name: string, inFeatures: number, outFeatures: number): Spec {
  return conv(name, inFeatures, 1, outFeatures, 1);
}

function alexnet(grouped: boolean): Spec[] {
  const g = grouped ? 2 : 1;
  // Krizhevsky, Sutskever, Hinton, NIPS 2012, Fig. 2 (two towers: conv2, conv4, conv5 see only
  // their tower's channels), with the 227x227 input of Caffe's bvlc_alexnet, as Eyeriss ran it.
  return [
    conv("conv1", 3, 227, 96, 11, 4, 0),
    conv("conv2", 96, 27, 256, 5, 1, 2, g),
    conv("conv3", 256, 13, 384, 3, 1, 1),
    conv("conv4", 384, 13, 384, 3, 1, 1, g),
    conv("conv5", 384, 13, 256, 3, 1, 1, g),
    fc("fc6", 256 * 6 * 6, 4096),
    fc("fc7", 4096, 4096),
    fc("fc8", 4096, 1000),
  ];
}

function vgg16(): Spec[] {
  // Simonyan and Zisserman, ICLR 2015, Table 1, configuration D. All convolutions 3x3, pad 1.
  const cfg: [string, number, number, number][] = [
    ["conv1_1", 3, 224, 64],
    ["conv1_2", 64, 224, 64],
    ["conv2_1", 64, 112, 128],
    ["conv2_2", 128, 112, 128],
    ["conv3_1", 128, 56, 256],
    ["conv3_2", 256, 56, 256],
    ["conv3_3", 256, 56, 256],
    ["conv4_1", 256, 28, 512],
    ["conv4_2", 512, 28, 512],
    ["conv4_3", 512, 28, 512],
    ["conv5_1", 512, 14, 512],
    ["conv5_2", 512, 14, 512],
    ["conv5_3", 512, 14, 512],
  ];
  return [...cfg.map(([n, c, hw, k]) => conv(n, c, hw, k, 3, 1, 1)), fc("fc6", 512 * 7 * 7, 4096), fc("fc7", 4096, 4096), fc("fc8", 4096, 1000)];
}

function resnet18(): Spec[] {
  // He, Zhang, Ren, Sun, CVPR 2016, Table 1 (18-layer); downsampling by stride 2 in the first
  // 3x3 of conv3_1, conv4_1, conv5_1, with 1x1 stride-2 projection shortcuts.
  const layers: Spec[] = [conv("conv1", 3, 224, 64, 7, 2, 3)];
  const stages: [number, number, number][] = [
    [2, 64, 56],
    [3, 128, 28],
    [4, 256, 14],
    [5, 512, 7],
  ];
  let inC = 64;
  for (const [stage, width, hw] of stages) {
    for (let b = 1; b <= 2; b++) {
      const first = b === 1 && stage > 2;
      const inHw = first ? hw * 2 : hw;
      layers.push(conv(`conv${stage}_${b}a`, inC, inHw, width, 3, first ? 2 : 1, 1));
      layers.push(conv(`conv${stage}_${b}b`, width, hw, width, 3, 1, 1));
      if (first) layers.push(conv(`conv${stage}_${b}proj`, inC, inHw, width, 1, 2, 0));
      inC = width;
    }
  }
  layers.push(fc("fc", 512, 1000));
  return layers;
}

function resnet50(): Spec[] {
  // He et al., CVPR 2016, Table 1 (50-layer), bottleneck blocks 1x1 -> 3x3 -> 1x1 (x4), stride 2
  // in the first 1x1 of conv3_1, conv4_1, conv5_1 and in their projection shortcuts, as in the
  // paper's original (v1) design; ~3.8 G multiply-adds per 224x224 image (Table 1).
  const layers: Spec[] = [conv("conv1", 3, 224, 64, 7, 2, 3)];
  const stages: [number, number, number, number][] = [
    [2, 64, 56, 3],
    [3, 128, 28, 4],
    [4, 256, 14, 6],
    [5, 512, 7, 3],
  ];
  let inC = 64;
  for (const [stage, width, hw, blocks] of stages) {
    for (let b = 1; b <= blocks; b++) {
      const down = b === 1 && stage > 2;
      const inHw = down ? hw * 2 : hw;
      const s = down ? 2 : 1;
      layers.push(conv(`conv${stage}_${b}a`, inC, inHw, width, 1, s, 0));
      layers.push(conv(`conv${stage}_${b}b`, width, hw, width, 3, 1, 1));
      layers.push(conv(`conv${stage}_${b}c`, width, hw, width * 4, 1, 1, 0));
      if (b === 1) layers.push(conv(`conv${stage}_${b}proj`, inC, inHw, width * 4, 1, s, 0));
      inC = width * 4;
    }
  }
  layers.push(fc("fc", 2048, 1000));
  return layers;
}

function mobilenetV2(): Spec[] {
  // Sandler et al., CVPR 2018, Table 2: inverted residual bottlenecks (t, c, n, s); expansion
  // 1x1, depthwise 3x3 (groups = channels), projection 1x1. ~300 M multiply-adds (Table 3).
  const layers: Spec[] = [conv("conv1", 3, 224, 32, 3, 2, 1)];
  const cfg: [number, number, number, number][] = [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
  ];
  let inC = 32;
  let hw = 112;
  let block = 0;
  for (const [t, c, n, s] of cfg) {
    for (let i = 0; i < n; i++) {
      block++;
      const stride = i === 0 ? s : 1;
      const hidden = inC * t;
      const outHw = Math.floor((hw + 2 - 3) / stride) + 1;
      if (t !== 1) layers.push(conv(`block${block}_expand`, inC, hw, hidden, 1));
      layers.push(conv(`block${block}_dw`, hidden, hw, hidden, 3, stride, 1, hidden));
      layers.push(conv(`block${block}_project`, hidden, outHw, c, 1));
      inC = c;
      hw = outHw;
    }
  }
  layers.push(conv("conv_last", 320, 7, 1280, 1));
  layers.push(fc("fc", 1280, 1000));
  return layers;
}

function googlenet(): Spec[] {
  // Szegedy et al., CVPR 2015, Table 1: (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj).
  // ~1.5 G multiply-adds per image (Section 5).
  const layers: Spec[] = [conv("conv1", 3, 224, 64, 7, 2, 3), conv("conv2_reduce", 64, 56, 64, 1), conv("conv2", 64, 56, 192, 3, 1, 1)];
  const incs: [string, number, number[]][] = [
    ["3a", 28, [64, 96, 128, 16, 32, 32]],
    ["3b", 28, [128, 128, 192, 32, 96, 64]],
    ["4a", 14, [192, 96, 208, 16, 48, 64]],
    ["4b", 14, [160, 112, 224, 24, 64, 64]],
    ["4c", 14, [128, 128, 256, 24, 64, 64]],
    ["4d", 14, [112, 144, 288, 32, 64, 64]],
    ["4e", 14, [256, 160, 320, 32, 128, 128]],
    ["5a", 7, [256, 160, 320, 32, 128, 128]],
    ["5b", 7, [384, 192, 384, 48, 128, 128]],
  ];
  let inC = 192;
  for (const [name, hw, v] of incs) {
    const [n1, r3, n3, r5, n5, pp] = v as [number, number, number, number, number, number];
    layers.push(
      conv(`inception${name}_1x1`, inC, hw, n1, 1),
      conv(`inception${name}_3x3_reduce`, inC, hw, r3, 1),
      conv(`inception${name}_3x3`, r3, hw, n3, 3, 1, 1),
      conv(`inception${name}_5x5_reduce`, inC, hw, r5, 1),
      conv(`inception${name}_5x5`, r5, hw, n5, 5, 1, 2),
      conv(`inception${name}_pool_proj`, inC, hw, pp, 1),
    );
    inC = n1 + n3 + n5 + pp;
  }
  layers.push(fc("fc", 1024, 1000));
  return layers;
}

const ZOO: Record<string, { source: string; build: () => Spec[] }> = {
  alexnet: { source: "AlexNet, two-tower grouped version (Krizhevsky et al., NIPS 2012), 227x227 input as run by Eyeriss", build: () => alexnet(true) },
  "alexnet-single": { source: "AlexNet, single-tower (no groups) with the original channel counts, 227x227 input", build: () => alexnet(false) },
  vgg16: { source: "VGG-16, configuration D (Simonyan and Zisserman, ICLR 2015), 224x224 input", build: vgg16 },
  resnet18: { source: "ResNet-18 (He et al., CVPR 2016, Table 1), 224x224 input", build: resnet18 },
  resnet50: { source: "ResNet-50 (He et al., CVPR 2016, Table 1; stride in the first 1x1, v1), 224x224 input", build: resnet50 },
  mobilenetv2: { source: "MobileNet-V2 1.0 (Sandler et al., CVPR 2018, Table 2), 224x224 input", build: mobilenetV2 },
  googlenet: { source: "GoogLeNet / Inception v1 (Szegedy et al., CVPR 2015, Table 1), 224x224 input", build: googlenet },
};

/** The names of the built-in networks. */
export const NETWORK_NAMES: readonly string[] = Object.freeze(Object.keys(ZOO));

/** The default network of the CLI. */
export const DEFAULT_NETWORK = "alexnet";

/**
 * A built-in network with the given batch size.
 * @throws ConfigError for an unknown name or a bad batch.
 */
export function network(name: string, batch = 1): Network {
  const entry = ZOO[name];
  if (!entry) throw new ConfigError("net", name, `be one of ${NETWORK_NAMES.join(", ")} (or a JSON file)`);
  checkInt("batch", batch, LAYER_RULES.batch);
  return Object.freeze({
    name,
    source: entry.source,
    layers: Object.freeze(entry.build().map((s, i) => convLayer({ ...s, batch }, `${name}.layers[${i}]`))),
  });
}

/**
 * A network from parsed JSON: `{ "name": "...", "source"?: "...", "layers": [ConvLayerSpec...] }`.
 * Each layer is validated (its own `batch` too); `batch` overrides the layers' own batch when
 * given. Keys `__proto__`, `constructor` and `prototype` are refused anywhere in it.
 * @throws ConfigError for JSON that is not such an object, a missing name or layers, a batch
 *   that is not a positive integer, a layer convLayer refuses (the field names its index), or
 *   two layers with one name.
 */
export function loadNetwork(json: unknown, batch?: number): Network {
  if (json === null || typeof json !== "object" || Array.isArray(json)) throw new ConfigError("network", json, "be an object with name and layers");
  rejectUnsafeKeys("network", json);
  const o = json as { name?: unknown; source?: unknown; layers?: unknown };
  if (typeof o.name !== "string" || o.name === "") throw new ConfigError("network.name", o.name, "be a non-empty string");
  if (!Array.isArray(o.layers) || o.layers.length === 0) throw new ConfigError("network.layers", o.layers, "be a non-empty array of layers");
  if (batch !== undefined) checkInt("batch", batch, LAYER_RULES.batch);
  const layers = o.layers.map((l, i) => {
    // A layer's own batch is checked even when `batch` replaces it: a "batch": 0 is a mistake.
    const own = (l as { batch?: unknown } | null)?.batch;
    if (own !== undefined) checkInt(`network.layers[${i}].batch`, own, LAYER_RULES.batch);
    const spec = { ...(l as ConvLayerSpec), ...(batch !== undefined ? { batch } : {}) };
    if (spec.name === undefined) spec.name = `layer${i + 1}`;
    return convLayer(spec, `network.layers[${i}]`);
  });
  const names = new Set<string>();
  for (const [i, l] of layers.entries()) {
    if (names.has(l.name!)) throw new ConfigError(`network.layers[${i}].name`, l.name, "be unique within the network");
    names.add(l.name!);
  }
  return Object.freeze({ name: o.name, source: typeof o.source === "string" ? o.source : "user network", layers: Object.freeze(layers) });
}

/**
 * Selects layers by name (`conv1,conv3`) or 1-based index ranges (`1-5`); `all` or no selection
 * selects every layer. Strict: an empty selection, an empty entry and a layer selected twice are
 * errors.
 * @param field the option that gave the selection, for errors (default `--layers`).
 * @throws ConfigError naming the option and the entry.
 */
export function selectLayers(net: Network, selection: string | undefined, field = "--layers"): readonly ConvLayer[] {
  if (selection === undefined || selection === "all") return net.layers;
  const parts = selection.split(",").map((p) => p.trim());
  if (parts.some((p) => p === "")) throw new ConfigError(field, selection, "list layers by name or 1-based range (conv1,conv3 or 1-5), without an empty entry");
  const out: ConvLayer[] = [];
  for (const part of parts) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (range) {
      const a = Number(range[1]);
      const b = range[2] !== undefined ? Number(range[2]) : a;
      if (a < 1 || b > net.layers.length || a > b) throw new ConfigError(field, part, `be a range within 1-${net.layers.length}`);
      out.push(...net.layers.slice(a - 1, b));
      continue;
    }
    const l = net.layers.find((x) => x.name === part);
    if (!l) throw new ConfigError(field, part, `name a layer of ${net.name} (${net.layers.map((x) => x.name).join(", ")})`);
    out.push(l);
  }
  const twice = out.find((l, i) => out.indexOf(l) !== i);
  if (twice) throw new ConfigError(field, selection, `select each layer once (${twice.name} is selected twice)`);
  return out;
}

/** Total dense MACs of a list of layers. */
export function totalMacs(layers: readonly ConvLayer[]): number {
  return layers.reduce((s, l) => s + convShape(l).macs, 0);
}
