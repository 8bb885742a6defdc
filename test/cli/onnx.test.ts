/**
 * `--net model.onnx`, `--input-shape` and `--weights model` on run, compare, sweep and bound:
 * a small quantized model (QLinearConv, MaxPool, QLinearConv, Flatten, QLinearMatMul) with a
 * dynamic batch, written to a temporary file. simulate() is wrapped to record what each job
 * passed it, so the test sees the model's weights and zero points reach the simulation (runs in
 * this thread, --jobs 1).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { SimulateOptions } from "../../src/dataflow/simulate.js";
import { parseInputShapes } from "../../src/cli/onnx.js";
import { configError } from "../helpers/errors.js";
import { DataType, OnnxBuilder } from "../helpers/onnx-builder.js";
import { cli } from "./helpers.js";

const calls: SimulateOptions[] = [];
vi.mock("../../src/dataflow/simulate.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../../src/dataflow/simulate.js")>();
  return { ...real, simulate: (o: SimulateOptions) => (calls.push(o), real.simulate(o)) };
});

const W1 = Int8Array.from({ length: 8 * 4 * 3 * 3 }, (_, i) => ((i * 37) % 251) - 125);
const W2 = Int8Array.from({ length: 6 * 8 }, (_, i) => ((i * 11) % 23) - 11);
const FC = Int8Array.from({ length: 6 * 4 * 4 * 5 }, (_, i) => ((i * 7) % 19) - 9); // K x N = 96 x 5

function quantizedModel(): Uint8Array {
  const b = new OnnxBuilder("tinyq");
  const s = b.init("s", DataType.FLOAT, [], Float32Array.of(0.1));
  const xz = b.init("xz", DataType.UINT8, [], Uint8Array.of(100));
  const wz = b.init("wz", DataType.INT8, [], Int8Array.of(-3));
  const x = b.input("x", DataType.UINT8, ["batch", 4, 8, 8]);
  let y = b.node("QLinearConv", [x, s, xz, b.init("w1", DataType.INT8, [8, 4, 3, 3], W1), s, wz, s, xz], { pads: [1, 1, 1, 1] }, { name: "c1" });
  y = b.node("MaxPool", [y], { kernel_shape: [2, 2], strides: [2, 2] });
  y = b.node("QLinearConv", [y, s, xz, b.init("w2", DataType.INT8, [6, 8, 1, 1], W2), s, wz, s, xz], {}, { name: "c2" });
  y = b.node("Flatten", [y]);
  b.output(b.node("QLinearMatMul", [y, s, xz, b.init("fc", DataType.INT8, [96, 5], FC), s, wz, s, xz], {}, { name: "fc" }), DataType.UINT8);
  return b.build();
}

function floatModel(): Uint8Array {
  const b = new OnnxBuilder("tinyf");
  const x = b.input("x", DataType.FLOAT, [1, 3, 8, 8]);
  b.output(b.node("Conv", [x, b.init("w", DataType.FLOAT, [4, 3, 3, 3])], {}, { name: "conv" }));
  return b.build();
}

let q: string;
let f: string;
beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), "convsim-onnx-"));
  q = join(dir, "tinyq.onnx");
  f = join(dir, "tinyf.onnx");
  writeFileSync(q, quantizedModel());
  writeFileSync(f, floatModel());
});
beforeEach(() => void (calls.length = 0));

const same = (a: unknown, b: Int8Array) => a instanceof Int8Array && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;

describe("convsim with --net model.onnx", () => {
  it("run --weights model simulates each layer with the model's weights and zero points (fc transposed to OIHW)", async () => {
    const r = await cli("run", "--net", q, "--input-shape", "x=2x4x8x8", "--weights", "model", "--dataflow", "os", "--jobs", "1", "--format", "json");
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as { network: string; batch: number; layers: { name: string; verified: boolean }[] };
    expect([json.network, json.batch, json.layers.map((l) => l.name)]).toEqual(["tinyq", 2, ["c1", "c2", "fc"]]);
    const byLayer = new Map(calls.map((c) => [(c.layer as { name: string }).name, c]));
    expect(same(byLayer.get("c1")!.w, W1)).toBe(true);
    expect(same(byLayer.get("c2")!.w, W2)).toBe(true);
    const fcOihw = Int8Array.from({ length: 5 * 96 }, (_, i) => FC[(i % 96) * 5 + Math.floor(i / 96)]!);
    expect(same(byLayer.get("fc")!.w, fcOihw)).toBe(true);
    for (const c of calls) expect([c.types?.input, c.zeroPoints]).toEqual(["uint8", { input: 100, weight: -3 }]);
  });

  it("run without --weights seeds the operands; --batch fixes the dynamic first dimension", async () => {
    const r = await cli("run", "--net", q, "--batch", "3", "--dataflow", "os", "--jobs", "1");
    expect(r.code).toBe(0);
    expect(r.out).toContain("convsim run: tinyq (batch 3), arch chen2020, dataflow os, 3 layers, energy table");
    expect(calls.length).toBe(3);
    for (const c of calls) expect(c.w).toBeUndefined();
  });

  it("compare and sweep take the model's weights too; bound reads the model", async () => {
    const c = await cli("compare", "--net", q, "--batch", "1", "--weights", "model", "--dataflows", "os", "--jobs", "1");
    expect(c.code).toBe(0);
    expect(c.out).toContain("convsim compare: tinyq (batch 1), arch chen2020, 3 layers, dataflows os, the model's weights, energy table");
    expect(calls.map((c) => same(c.w, W1) || same(c.w, W2) || (c.w instanceof Int8Array && c.w.length === 480))).toEqual([true, true, true]);
    calls.length = 0;
    const s = await cli("sweep", "--net", q, "--batch", "1", "--layer", "c2", "--weights", "model", "--capacities", "16KiB", "--dataflows", "os", "--jobs", "1");
    expect(s.code).toBe(0);
    expect(calls.length).toBe(1);
    expect(same(calls[0]!.w, W2)).toBe(true);
    const b = await cli("bound", "--net", q, "--input-shape", "x=1x4x8x8", "--capacity", "4KiB", "--json");
    expect(b.code).toBe(0);
    expect((JSON.parse(b.out) as unknown[]).length).toBe(3);
  });

  it("says what is wrong: a dynamic input, --weights model on a float model or a zoo network, --input-shape without ONNX", async () => {
    const dyn = await cli("run", "--net", q, "--jobs", "1");
    expect(dyn.code).toBe(2);
    expect(dyn.err).toContain('graph.input "x" dims[0] must be a fixed size');
    const fl = await cli("run", "--net", f, "--weights", "model", "--jobs", "1");
    expect(fl.code).toBe(2);
    expect(fl.err).toContain("--weights must be used only on layers with int8/uint8 weights");
    expect(fl.err).toContain("layer conv");
    const zoo = await cli("run", "--net", "alexnet", "--weights", "model");
    expect([zoo.code, zoo.err.split("\n")[0]]).toEqual([2, 'convsim run: --weights must be used with --net model.onnx (alexnet has no weights of its own); got "model" (see convsim help run)']);
    const shape = await cli("bound", "--layer", "c=3,hw=8,k=4,r=3", "--input-shape", "x=1x3x8x8", "--capacity", "4KiB");
    expect(shape.code).toBe(2);
    expect(shape.err).toContain("--input-shape must be used with --net model.onnx");
    expect((await cli("run", "--net", join(tmpdir(), "no-such-model.onnx"))).err).toContain("--net must name a readable ONNX model file");
  });

  it("parses --input-shape entries and refuses malformed ones", () => {
    expect(parseInputShapes(["x=1x3x224x224", "a=b=2x5"])).toEqual({ x: [1, 3, 224, 224], "a=b": [2, 5] });
    for (const bad of ["x", "=1x2", "x=1x0", "x=1xx2", "x=1.5"]) expect(configError(() => parseInputShapes([bad])).field).toBe("--input-shape");
    expect(configError(() => parseInputShapes(["x=1", "x=2"])).message).toContain('give input "x" once');
  });
});
