import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import { convLayer, convShape, formatLayerShortForm, fullyConnected, parseLayerShortForm, type ConvLayerSpec } from "../../src/workload/layer.js";

const base: ConvLayerSpec = { inChannels: 3, inHeight: 8, inWidth: 8, outChannels: 4, kernelHeight: 3, kernelWidth: 3 };

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("convLayer defaults", () => {
  it("fills ONNX defaults and freezes", () => {
    const l = convLayer(base);
    expect(l.batch).toBe(1);
    expect(l.strides).toEqual([1, 1]);
    expect(l.pads).toEqual([0, 0, 0, 0]);
    expect(l.dilations).toEqual([1, 1]);
    expect(l.groups).toBe(1);
    expect(Object.isFrozen(l)).toBe(true);
  });
});

describe("convShape on hand-worked cases", () => {
  it("3x3 stride 1 pad 1 keeps the size; every input touched", () => {
    const s = convShape({ ...base, pads: [1, 1, 1, 1] });
    expect([s.outHeight, s.outWidth]).toEqual([8, 8]);
    expect(s.macs).toBe(1 * 4 * 8 * 8 * 3 * 9);
    expect(s.touchedInputElements).toBe(3 * 64);
    // Per axis: 8 outputs x 3 taps = 24 pairs, minus the 2 that fall on padding.
    expect(s.validRowTaps).toBe(22);
    expect(s.usefulMacs).toBe(4 * 3 * 22 * 22);
  });

  it("stride larger than the kernel leaves inputs untouched", () => {
    // 1-wide kernel, stride 3 over 8: outputs at 0,3,6 -> rows 0,3,6 touched.
    const s = convShape({ ...base, kernelHeight: 1, kernelWidth: 2, strides: [3, 3] });
    expect(s.outHeight).toBe(3);
    expect(s.outWidth).toBe(3); // floor((8-2)/3)+1
    expect(s.touchedRows).toBe(3);
    expect(s.touchedCols).toBe(6); // {0,1,3,4,6,7}
    expect(s.touchedInputElements).toBe(3 * 3 * 6);
  });

  it("dilation enlarges the kernel's reach", () => {
    // kernel 3 with dilation 2 spans 5: out = 8-5+1 = 4.
    const s = convShape({ ...base, dilations: [2, 2] });
    expect(s.dilatedKernelHeight).toBe(5);
    expect(s.outHeight).toBe(4);
    expect(s.touchedRows).toBe(8);
  });

  it("dilation with stride can skip inputs", () => {
    // H=9, k=2, d=4, s=4: windows at 0 and 4 read {0,4} and {4,8}.
    const s = convShape({ ...base, inHeight: 9, kernelHeight: 2, dilations: [4, 1], strides: [4, 1] });
    expect(s.outHeight).toBe(2);
    expect(s.touchedRows).toBe(3);
  });

  it("asymmetric padding", () => {
    const s = convShape({ ...base, pads: [2, 0, 0, 1] });
    expect(s.outHeight).toBe(8 + 2 - 3 + 1);
    expect(s.outWidth).toBe(8 + 1 - 3 + 1);
  });

  it("grouped and depthwise with a channel multiplier", () => {
    const g = convShape({ ...base, inChannels: 4, outChannels: 6, groups: 2 });
    expect(g.inChannelsPerGroup).toBe(2);
    expect(g.outChannelsPerGroup).toBe(3);
    expect(g.weightElements).toBe(6 * 2 * 9);
    expect(g.macs).toBe(6 * 6 * 6 * 2 * 9);
    const dw = convShape({ ...base, inChannels: 4, outChannels: 8, groups: 4, pads: [1, 1, 1, 1] });
    expect(dw.inChannelsPerGroup).toBe(1);
    expect(dw.outChannelsPerGroup).toBe(2);
    expect(dw.macs).toBe(8 * 64 * 9);
  });

  it("batch scales inputs, outputs and MACs, not weights", () => {
    const one = convShape(base);
    const four = convShape({ ...base, batch: 4 });
    expect(four.macs).toBe(4 * one.macs);
    expect(four.inputElements).toBe(4 * one.inputElements);
    expect(four.outputElements).toBe(4 * one.outputElements);
    expect(four.weightElements).toBe(one.weightElements);
  });

  it("1x1 and FC", () => {
    const s = convShape({ ...base, kernelHeight: 1, kernelWidth: 1 });
    expect(s.macs).toBe(4 * 64 * 3);
    const fc = fullyConnected(4096, 1000, 2);
    const f = convShape(fc);
    expect([f.outHeight, f.outWidth]).toEqual([1, 1]);
    expect(f.macs).toBe(2 * 4096 * 1000);
    expect(f.weightElements).toBe(4096 * 1000);
  });

  it("AlexNet CONV1 (227, k11, s4) gives 55x55", () => {
    const s = convShape({ inChannels: 3, inHeight: 227, inWidth: 227, outChannels: 96, kernelHeight: 11, kernelWidth: 11, strides: [4, 4] });
    expect(s.outHeight).toBe(55);
    expect(s.macs).toBe(105_415_200);
  });
});

describe("validation names the field, the value and the rule", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["layer.inChannels", { inChannels: 0 }, "integer in [1, 1048576]"],
    ["layer.inHeight", { inHeight: 2.5 }, "integer"],
    ["layer.inWidth", { inWidth: -1 }, "integer in [1, 1048576]"],
    ["layer.outChannels", { outChannels: "4" }, "integer"],
    ["layer.kernelHeight", { kernelHeight: 0 }, "integer in [1, 1048576]"],
    ["layer.kernelWidth", { kernelWidth: 9 }, "no larger than the padded input width"],
    ["layer.kernelHeight", { kernelHeight: 5, dilations: [2, 1] }, "dilated kernel height (9)"],
    ["layer.batch", { batch: 0 }, "integer in [1, 65536]"],
    ["layer.strides", { strides: [1] }, "array of 2 integers"],
    ["layer.strides[1]", { strides: [1, 0] }, "integer in [1, 1048576]"],
    ["layer.pads[2]", { pads: [0, 0, -1, 0] }, "integer in [0, 1048576]"],
    ["layer.pads", { pads: [1, 1] }, "array of 4 integers"],
    ["layer.dilations[0]", { dilations: [0, 1] }, "integer in [1, 1048576]"],
    ["layer.groups", { groups: 0 }, "integer in [1, 1048576]"],
    ["layer.inChannels", { groups: 2 }, "divisible by groups"],
    ["layer.outChannels", { inChannels: 4, outChannels: 6, groups: 4 }, "divisible by groups"],
    ["layer.stride", { stride: 2 }, "ConvLayer fields"],
    ["layer.name", { name: 3 }, "string"],
  ];
  for (const [field, patch, rule] of cases) {
    it(`${field}: ${JSON.stringify(patch)}`, () => {
      const e = configError(() => convLayer({ ...base, ...patch } as ConvLayerSpec));
      expect(e.field).toBe(field);
      expect(e.message).toContain(field);
      expect(e.message).toContain(rule);
      expect(e.message).toContain("got");
    });
  }

  it("rejects tensors too large for typed arrays", () => {
    const e = configError(() => convLayer({ ...base, batch: 1024, inChannels: 1024, inHeight: 64, inWidth: 64 }));
    expect(e.field).toBe("layer");
    expect(e.message).toContain("input tensor");
  });

  it("rejects a non-object", () => {
    expect(configError(() => convLayer(null as unknown as ConvLayerSpec)).field).toBe("layer");
  });
});

describe("short form", () => {
  it("parses and round-trips", () => {
    const l = parseLayerShortForm("n=2,c=4,hw=9x10,k=6,r=3x2,stride=2x1,pad=1x0x2x1,dil=1x2,g=2,name=x");
    expect(l).toMatchObject({
      name: "x",
      batch: 2,
      inChannels: 4,
      inHeight: 9,
      inWidth: 10,
      outChannels: 6,
      kernelHeight: 3,
      kernelWidth: 2,
      strides: [2, 1],
      pads: [1, 0, 2, 1],
      dilations: [1, 2],
      groups: 2,
    });
    expect(parseLayerShortForm(formatLayerShortForm(l))).toEqual(l);
  });
  it("symmetric pad shorthand", () => {
    expect(parseLayerShortForm("c=3,hw=8,k=4,r=3,pad=1").pads).toEqual([1, 1, 1, 1]);
    expect(parseLayerShortForm("c=3,hw=8,k=4,r=3,pad=1x2").pads).toEqual([1, 2, 1, 2]);
  });
  it("bad keys and values name the field", () => {
    expect(configError(() => parseLayerShortForm("c=3,hw=8,k=4,q=3")).field).toBe("layer q");
    expect(configError(() => parseLayerShortForm("c=3,hw=8,k=4,r=3x3x3")).field).toBe("layer r");
    expect(configError(() => parseLayerShortForm("c=3,hw=8,k=4,r=3,stride=0")).field).toBe("layer stride");
    expect(configError(() => parseLayerShortForm("c=3,hw=8,k=4")).message).toBe("layer r must be given; got undefined");
  });

  it("is strict: empty pairs, repeated keys, exponents, hex, signs, trailing junk and empty names are errors naming the key as typed", () => {
    const cases: [string, string][] = [
      ["c=3,,hw=8,k=1,r=1", '--layer must not have an empty pair (two commas in a row, or a comma at an end); got "c=3,,hw=8,k=1,r=1"'],
      ["c=3,hw=8,k=1,r=1,", '--layer must not have an empty pair (two commas in a row, or a comma at an end); got "c=3,hw=8,k=1,r=1,"'],
      ["c=3,hw=8,k=1,r=1,c=5", '--layer c must be given once; got "5"'],
      ["c=3,hw=8,H=4,k=1,r=1", '--layer H must not be given together with hw (both set inHeight); got "4"'],
      ["c=1e1,hw=8,k=1,r=1", '--layer c must be a decimal integer (no sign, exponent, hex or fraction); got "1e1"'],
      ["c=0x3,hw=8,k=1,r=1", '--layer c must be a decimal integer (no sign, exponent, hex or fraction); got "0x3"'],
      ["c=abc,hw=8,k=1,r=1", '--layer c must be a decimal integer (no sign, exponent, hex or fraction); got "abc"'],
      ["c=1,hw=8x,k=1,r=1", '--layer hw must be N or NxN, N a decimal integer; got "8x"'],
      ["c=1,hw=8,k=1,r=1,pad=-1", '--layer pad must be N or NxN or NxNxNxN, N a decimal integer; got "-1"'],
      ["name=,c=1,hw=8,k=1,r=1", '--layer name must be a non-empty name; got ""'],
      ["c=1,hw=5000000000,k=1,r=1", "--layer hw must be an integer in [1, 1048576]; got 5000000000"],
      ["c=1,hw=8,k=1,r=1,n=100000", "--layer n must be an integer in [1, 65536]; got 100000"],
      ["c=3,hw=8,k=2,r=3,g=2", "--layer c must be divisible by groups (2); got 3"],
    ];
    for (const [text, message] of cases) expect(configError(() => parseLayerShortForm(text, "--layer")).message, text).toBe(message);
    expect(parseLayerShortForm("c=3 hw=8, k=2 r=3", "--layer")).toMatchObject({ inChannels: 3, inHeight: 8, outChannels: 2, kernelWidth: 3 });
  });
});
