import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import { convShape } from "../../src/workload/layer.js";
import { loadNetwork, network, NETWORK_NAMES, selectLayers, totalMacs } from "../../src/workload/networks.js";

const isFc = (l: { inHeight: number; inWidth: number; kernelHeight: number; kernelWidth: number }) =>
  l.inHeight === 1 && l.inWidth === 1 && l.kernelHeight === 1 && l.kernelWidth === 1;

// Published figures (multiply-accumulates per image, convolution layers unless noted) and their sources.
const published: Record<string, { convLayers: number; fcLayers: number; convMacs: number; tolerance: number; source: string }> = {
  alexnet: { convLayers: 5, fcLayers: 3, convMacs: 666e6, tolerance: 0.005, source: "Eyeriss, Chen et al., ISCA 2016 / JSSC 2017: AlexNet CONV1-5, 666 M MACs" },
  vgg16: { convLayers: 13, fcLayers: 3, convMacs: 15.3e9, tolerance: 0.01, source: "Sze et al., Proc. IEEE 2017, Table 3: VGG-16 CONV layers 15.3 G MACs" },
  resnet18: { convLayers: 20, fcLayers: 1, convMacs: 1.8e9, tolerance: 0.02, source: "He et al., CVPR 2016, Table 1: 18-layer 1.8 x 10^9 FLOPs (multiply-adds)" },
  resnet50: { convLayers: 53, fcLayers: 1, convMacs: 3.8e9, tolerance: 0.02, source: "He et al., CVPR 2016, Table 1: 50-layer 3.8 x 10^9 FLOPs (multiply-adds)" },
  mobilenetv2: { convLayers: 52, fcLayers: 1, convMacs: 300e6, tolerance: 0.01, source: "Sandler et al., CVPR 2018, Table 3: 300 M multiply-adds" },
  googlenet: { convLayers: 57, fcLayers: 1, convMacs: 1.5e9, tolerance: 0.06, source: "Szegedy et al., CVPR 2015, Sec. 5: 1.5 billion multiply-adds" },
};

describe("network zoo against published figures", () => {
  for (const [name, p] of Object.entries(published)) {
    it(`${name}: ${p.source}`, () => {
      const net = network(name);
      const conv = net.layers.filter((l) => !isFc(l));
      expect(conv.length).toBe(p.convLayers);
      expect(net.layers.length - conv.length).toBe(p.fcLayers);
      const macs = totalMacs(conv);
      expect(Math.abs(macs / p.convMacs - 1)).toBeLessThan(p.tolerance);
    });
  }

  it("AlexNet layer by layer (Eyeriss JSSC 2017, Table IV)", () => {
    const macs = network("alexnet").layers.map((l) => convShape(l).macs);
    expect(macs.slice(0, 5)).toEqual([105_415_200, 223_948_800, 149_520_384, 112_140_288, 74_760_192]);
    expect(network("alexnet").layers.map((l) => convShape(l).outHeight).slice(0, 5)).toEqual([55, 27, 13, 13, 13]);
  });

  it("layer inputs chain: each layer's input is the previous output (or its pooled size)", () => {
    const vgg = network("vgg16").layers;
    for (let i = 1; i < 13; i++) {
      const prev = convShape(vgg[i - 1]!);
      expect(vgg[i]!.inChannels).toBe(vgg[i - 1]!.outChannels);
      expect([prev.outHeight, prev.outHeight / 2]).toContain(vgg[i]!.inHeight);
    }
  });

  it("every built-in network has unique layer names and scales with batch", () => {
    for (const name of NETWORK_NAMES) {
      const one = network(name);
      const names = one.layers.map((l) => l.name);
      expect(new Set(names).size).toBe(names.length);
      expect(totalMacs(network(name, 3).layers)).toBe(3 * totalMacs(one.layers));
    }
  });

  it("MobileNet-V2's depthwise layers have one channel per group", () => {
    const dw = network("mobilenetv2").layers.filter((l) => l.name!.endsWith("_dw"));
    expect(dw.length).toBe(17);
    for (const l of dw) expect(l.groups).toBe(l.inChannels);
  });
});

describe("user networks and selection", () => {
  it("loads a network from JSON and validates every layer", () => {
    const net = loadNetwork({ name: "tiny", layers: [{ inChannels: 3, inHeight: 8, inWidth: 8, outChannels: 4, kernelHeight: 3, kernelWidth: 3 }] }, 2);
    expect(net.layers[0]!.name).toBe("layer1");
    expect(net.layers[0]!.batch).toBe(2);
    // A layer's own batch is checked even when the batch argument replaces it.
    const zero = { name: "z", layers: [{ inChannels: 3, inHeight: 8, inWidth: 8, outChannels: 4, kernelHeight: 3, kernelWidth: 3, batch: 0 }] };
    expect(() => loadNetwork(zero, 2)).toThrow("network.layers[0].batch must be an integer in [1, 65536]; got 0");
    expect(() => loadNetwork(JSON.parse('{"name":"p","layers":[],"__proto__":{}}'))).toThrow("network.__proto__ must not be used as a key");
    try {
      loadNetwork({ name: "bad", layers: [{ inChannels: 3, inHeight: 8, inWidth: 8, outChannels: 4, kernelHeight: 3, kernelWidth: 0 }] });
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigError).field).toBe("network.layers[0].kernelWidth");
    }
    expect(() => loadNetwork({ name: "x", layers: [] })).toThrow(/network.layers/);
  });
  it("selects by name and by range, and names unknown layers", () => {
    const net = network("alexnet");
    expect(selectLayers(net, "conv1,conv3").map((l) => l.name)).toEqual(["conv1", "conv3"]);
    expect(selectLayers(net, "2-4").map((l) => l.name)).toEqual(["conv2", "conv3", "conv4"]);
    expect(() => selectLayers(net, "conv9")).toThrow(/--layers must name a layer of alexnet/);
    expect(() => selectLayers(net, "conv1,,conv3")).toThrow(/--layers must list layers by name or 1-based range .* without an empty entry/);
    expect(() => selectLayers(net, "")).toThrow(/without an empty entry/);
    expect(() => selectLayers(net, "conv1,1", "--select")).toThrow('--select must select each layer once (conv1 is selected twice); got "conv1,1"');
    expect(() => network("lenet")).toThrow(/net must be one of/);
  });
});
