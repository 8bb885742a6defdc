/**
 * The system's topology (src/dataflow/system.ts, STYLE rule 16): every port is connected by
 * exactly one link of the table; a link missing from the table fails at build time with an error
 * naming the port; a link that names no port, or joins two ports of one direction, is an error; a
 * system built from the table runs a layer bit-exactly.
 */
import { describe, expect, it } from "vitest";
import { resolveArch } from "../../src/arch/presets.js";
import { buildMapping } from "../../src/dataflow/dataflows/index.js";
import { layoutWeights, Sequencer, weightLayout } from "../../src/dataflow/sequencer/index.js";
import { FINISHED, type Thread } from "../../src/dataflow/sequencer/types.js";
import { buildSystem, TOPOLOGY, type Hardware, type Link, type System } from "../../src/dataflow/system.js";
import { convLayer, convShape } from "../../src/workload/layer.js";
import { referenceConv } from "../../src/workload/reference.js";
import { layerTensors } from "../../src/workload/tensors.js";
import { configError } from "../helpers/errors.js";

const arch = resolveArch("eyeriss");
const layer = convLayer({ inChannels: 4, inHeight: 6, inWidth: 6, outChannels: 5, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] });
const mapping = buildMapping("rs", layer, arch);
const ops = layerTensors(layer, { seed: 3, xType: "int8", wType: "int8" });

/** A Sequencer over the operands, loaded into the DRAM model (weights in the order the mapping streams them). */
function controller(hw: Hardware): Sequencer {
  const x = hw.dram.load("x", "input", ops.x);
  const w = hw.dram.load("w", "weight", layoutWeights(ops.w as Int8Array, layer, weightLayout(mapping, layer), false).data);
  const y = hw.dram.allocate("y", "output", "int32", convShape(layer).outputElements);
  const types = { xType: "int8", wType: "int8", xZeroPoint: 0, wZeroPoint: 0 } as const;
  return new Sequencer(hw.engine, layer, arch, mapping, types, { dram: hw.dram, gbuf: hw.gbuf, noc: hw.noc, pe: hw.pe, x, w, y });
}

const build = (topology?: readonly Link[]): System => buildSystem(arch, { controller, ...(topology ? { topology } : {}) });


describe("the topology table", () => {
  it("connects every port of every component exactly once, and nothing else", () => {
    const sys = build();
    const ports = [sys.dram, sys.gbuf, sys.pe, sys.noc, sys.sequencer].flatMap((c) => c.ports);
    expect(ports.every((p) => p.bound)).toBe(true);
    const ends = TOPOLOGY.flatMap((l) => [l.from, l.to]).sort();
    expect(ends).toEqual(ports.map((p) => p.path).sort());
  });

  it("a system built from it runs a layer bit-exactly", () => {
    const sys = build();
    sys.sequencer.start();
    const run = sys.engine.run({ maxCycles: 1e7 });
    expect(run.cycles).toBeGreaterThan(0);
    expect(sys.dram.contents("y")).toEqual(referenceConv(layer, ops.x, ops.w));
    // Its threads let go of their programs as they end (types.ts, finish): the main one is left.
    const threads = (sys.sequencer as unknown as { threads: Thread[] }).threads;
    expect(threads.map((t) => [t.done, t.gen === FINISHED])).toEqual([[true, true]]);
  });

  it("without any one of its links, building fails and names both unconnected ports", () => {
    for (const [i, link] of TOPOLOGY.entries()) {
      const e = configError(() => build(TOPOLOGY.filter((_, j) => j !== i)));
      expect([link.from, link.to]).toContain(e.field);
      expect(e.message).toContain(link.from);
      expect(e.message).toContain(link.to);
      expect(e.message).toContain("be connected by a link of the topology");
    }
  });

  it("a link naming a port the system does not have, or two ports of one direction, is an error", () => {
    const bad = (link: object) => configError(() => build([...TOPOLOGY.slice(1), link as Link]));
    expect(bad({ from: "sequencer.toDrum", to: "dram.cmd", capacity: 64 }).message).toMatch(/^topology\[10\]\.from must name a port of the system \(dram\.cmd, /);
    expect(bad({ from: "sequencer.toDram", to: "dram.command", capacity: 64 }).field).toBe("topology[10].to");
    expect(bad({ from: "dram.cmd", to: "sequencer.toDram", capacity: 64 }).message).toContain("topology[10].from must name a sending port");
    expect(bad({ from: "sequencer.toDram", to: "dram.resp", capacity: 64 }).message).toContain("topology[10].to must name a receiving port");
  });

  it("a port connected by two links is an error", () => {
    const e = configError(() => build([...TOPOLOGY, { from: "sequencer.toDram", to: "dram.cmd", capacity: 1 }]));
    expect(e.message).toContain("sequencer.toDram must be connected to exactly one channel");
  });

  it("the type of a link checks its ports' names, directions and messages", () => {
    const ok: Link = { from: "noc.peSide", to: "pe.fromNoc", capacity: 1 };
    // @ts-expect-error: the DRAM's commands are not the global buffer's
    const wrongMessage: Link = { from: "sequencer.toDram", to: "gbuf.cmd", capacity: 1 };
    // @ts-expect-error: a receiving port cannot send
    const wrongDirection: Link = { from: "dram.cmd", to: "sequencer.fromDram", capacity: 1 };
    // @ts-expect-error: no such port
    const noPort: Link = { from: "sequencer.toDrum", to: "dram.cmd", capacity: 1 };
    expect([ok, wrongMessage, wrongDirection, noPort]).toHaveLength(4);
  });
});
