/**
 * importScaleSim: a topology CSV (header, trailing commas, a DP depthwise row, a second stride)
 * and a config become the network and architecture they describe; SCALE-Sim's ceil output size is
 * kept, with a note where floor semantics differ; bad rows name the file, the row and the column.
 */
import { describe, expect, it } from "vitest";
import { importScaleSim } from "../../src/formats/scalesim.js";
import { loadNetwork } from "../../src/workload/networks.js";
import { convLayer, convShape } from "../../src/workload/layer.js";
import { configError } from "../helpers/errors.js";

// Written from SCALE-Sim's documented topology format (one row per layer, each ending with a comma).
const topology = `Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,
Conv1, 230, 230, 7, 7, 3, 64, 2,
Conv2_DP, 58, 58, 3, 3, 32, 32, 1,
Conv3, 56, 56, 1, 1, 64, 128, 1,
FC, 1, 1, 1, 1, 512, 10, 1, 1,
`;

const config = `[general]
run_name = tiny_net

[architecture_presets]
ArrayHeight:    16
ArrayWidth:     8
IfmapSramSzkB:  64
FilterSramSzkB: 64
OfmapSramSzkB:  32
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Dataflow : ws
Bandwidth : 10
`;

describe("importScaleSim", () => {
  const r = importScaleSim({ topology, topologyFile: "tiny.csv", config, configFile: "tiny.cfg" });

  it("reads every row as a pre-padded layer, a DP row as depthwise", () => {
    const [conv1, dp, conv3, fc] = r.network.layers;
    // ceil((230 - 7 + 2) / 2) = 113 outputs; floor((230 - 7) / 2) + 1 = 112: one row and column of padding.
    expect(conv1).toEqual(convLayer({ name: "Conv1", inChannels: 3, inHeight: 230, inWidth: 230, outChannels: 64, kernelHeight: 7, kernelWidth: 7, strides: [2, 2], pads: [0, 0, 1, 1] }));
    expect(convShape(conv1!).outHeight).toBe(113);
    expect(dp).toMatchObject({ groups: 32, inChannels: 32, outChannels: 32, pads: [0, 0, 0, 0] });
    expect(convShape(conv3!).outHeight).toBe(56);
    expect(fc).toMatchObject({ inChannels: 512, outChannels: 10, strides: [1, 1] });
  });

  it("notes where SCALE-Sim's ceil output size differs from floor semantics", () => {
    expect(r.notes).toContain("Conv1: SCALE-Sim computes 113 output rows (ceil((H - F + S) / S)), floor semantics 112; the layer is padded by 1 at the bottom to match");
    expect(r.notes.some((n) => n.startsWith("Conv3"))).toBe(false);
  });

  it("writes a network convsim run --net reads", () => {
    const net = loadNetwork(JSON.parse(JSON.stringify(r.network)));
    expect(net.name).toBe("tiny_net");
    expect(net.layers.map((l) => l.name)).toEqual(["Conv1", "Conv2_DP", "Conv3", "FC"]);
  });

  it("takes the array, the SRAMs' total and the bandwidth from the config, the rest from the systolic preset", () => {
    expect(r.arch.array).toMatchObject({ rows: 16, cols: 8 });
    expect(r.arch.gbuf.capacityBytes).toBe(160 * 1024);
    expect(r.arch.dram.bytesPerCycle).toBe(10);
    expect(r.arch.noc.forwarding).toBe(true);
    expect(r.dataflow).toBe("ws");
    expect(r.notes).toContain("config keys not modeled: IfmapOffset, FilterOffset, OfmapOffset");
  });

  it("without a config: the systolic preset and os", () => {
    const d = importScaleSim({ topology: "Conv3, 56, 56, 1, 1, 64, 128, 1,\n" });
    expect(d.arch.array).toMatchObject({ rows: 32, cols: 32 });
    expect(d.dataflow).toBe("os");
    expect(d.network.name).toBe("topology");
  });
});

describe("importScaleSim: bad input names the file, the row and the column", () => {
  const cases: [string, string, string][] = [
    ["a non-number", "Conv1, 56, 56, 3, x, 3, 64, 1,\n", "t.csv: row 1.filter width must be a positive integer"],
    ["a missing field", "Conv1, 56, 56, 3, 3, 3,\n", "t.csv: row 1 must have 8 or 9 fields"],
    ["a filter larger than the input", "Conv1, 2, 56, 3, 3, 3, 64, 1,\n", "t.csv: row 1.filter height must be at most the IFMAP height 2"],
    ["a depthwise row whose filters do not spread over its channels", "DP1, 8, 8, 3, 3, 4, 6, 1,\n", "t.csv: row 1.filters must be a multiple of the channels (4)"],
    ["a repeated name", "A, 8, 8, 1, 1, 1, 1, 1,\nA, 8, 8, 1, 1, 1, 1, 1,\n", "t.csv: row 2.name must be unique"],
  ];
  for (const [what, csv, message] of cases) {
    it(what, () => expect(configError(() => importScaleSim({ topology: csv, topologyFile: "t.csv" })).message).toContain(message));
  }

  it("a dataflow SCALE-Sim does not have", () => {
    const e = configError(() => importScaleSim({ topology: "A, 8, 8, 1, 1, 1, 1, 1,\n", config: "[architecture_presets]\nDataflow: rs\n", configFile: "c.cfg" }));
    expect(e.message).toContain("c.cfg: [architecture_presets] Dataflow must be os, ws or is");
  });
});

describe("importScaleSim: inputs the fuzz (test/formats/fuzz.test.ts) found mishandled", () => {
  it("reads a first row with a number after its name as a layer: a typo in it is an error (the row was dropped as a header)", () => {
    const csv = "Conv1, , 12, 3, 3, 4, 8, 1,\nConv2, 12, 12, 3, 3, 8, 8, 1,\n";
    expect(configError(() => importScaleSim({ topology: csv, topologyFile: "t.csv" })).message).toBe('t.csv: row 1.IFMAP height must be a positive integer; got ""');
    // A header still is one, with or without a column name that looks odd.
    const headed = importScaleSim({ topology: `Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n${csv.split("\n")[1]}\n` });
    expect(headed.network.layers.map((l) => l.name)).toEqual(["Conv2"]);
  });

  it("names the config key, not convsim's field, when a size is out of convsim's range", () => {
    const run = (cfg: string) => configError(() => importScaleSim({ topology: "A, 8, 8, 1, 1, 1, 1, 1,\n", config: `[architecture_presets]\n${cfg}\n`, configFile: "c.cfg" })).message;
    expect(run("ArrayHeight: 1048577")).toBe("c.cfg: [architecture_presets] ArrayHeight must be an integer in [1, 4096]; got 1048577 (as convsim's arch.array.rows)");
    expect(run("Bandwidth: 99999999999999999999")).toBe("c.cfg: [architecture_presets] Bandwidth must be an integer in [1, 65536]; got 100000000000000000000 (as convsim's arch.dram.bytesPerCycle)");
    expect(run("IfmapSramSzkB: 2097152\nOfmapSramSzkB: 1")).toBe("c.cfg: [architecture_presets] IfmapSramSzkB + OfmapSramSzkB must be an integer in [1, 2147483648]; got 2147484672 (as convsim's arch.gbuf.capacityBytes)");
  });
});
