import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import { simulate } from "../../src/dataflow/simulate.js";
import { actionOfCounter, ENERGY_ACTIONS, energyOf, energyTable, EYERISS_ENERGY_TABLE } from "../../src/report/energy.js";

const counters = {
  "dram.read.input": 10,
  "dram.write.output": 2,
  "dram.readBytes.input": 10, // bytes: not an action
  "gbuf.read.weight": 4,
  "noc.send.input": 99, // a multicast's source read is the GBuf's; not a network transfer
  "noc.deliver.input": 8,
  "noc.drain.psum": 2,
  "noc.link.psum": 1,
  "rf.read.psum": 3,
  "rf.fill.psum": 1,
  "pe.mac": 5,
};

describe("energy table", () => {
  it("defaults to the Eyeriss normalized costs (ISCA 2016): DRAM 200, GBuf 6, NoC 2, RF 1, MAC 1 per 16-bit action", () => {
    expect(EYERISS_ENERGY_TABLE.actions).toEqual({
      "dram.read": 200,
      "dram.write": 200,
      "gbuf.read": 6,
      "gbuf.write": 6,
      "noc.transfer": 2,
      "rf.read": 1,
      "rf.write": 1,
      mac: 1,
    });
    expect(EYERISS_ENERGY_TABLE.referenceBits).toBe(16);
    expect(EYERISS_ENERGY_TABLE.unit).toBe("MAC-eq");
  });

  it("maps counters to actions and leaves bytes, bursts and sends unpriced", () => {
    expect(actionOfCounter("dram.write.output")).toEqual({ action: "dram.write", tensor: "output" });
    expect(actionOfCounter("rf.fill.psum")).toEqual({ action: "rf.write", tensor: "psum" });
    expect(actionOfCounter("noc.link.input")).toEqual({ action: "noc.transfer", tensor: "input" });
    expect(actionOfCounter("pe.mac")).toEqual({ action: "mac", tensor: undefined });
    for (const c of ["dram.readBytes.input", "noc.send.input", "pe.busy", "gbuf.bankReads.input"]) expect(actionOfCounter(c)).toBeUndefined();
  });

  it("prices each counter at its word width (int8 operands, int32 psums and outputs), linear in bits / 16", () => {
    const e = energyOf(counters, { input: "int8", weight: "int8" });
    expect(e.byLevel.dram).toBe(10 * 200 * 0.5 + 2 * 200 * 2);
    expect(e.byLevel.gbuf).toBe(4 * 6 * 0.5);
    expect(e.byLevel.noc).toBe(8 * 2 * 0.5 + 2 * 2 * 2 + 1 * 2 * 2);
    expect(e.byLevel.rf).toBe(3 * 2 + 1 * 2);
    expect(e.byLevel.mac).toBe(5 * 0.5);
    expect(e.total).toBe(1800 + 12 + 20 + 8 + 2.5);
    expect(e.perMac).toBeCloseTo(e.total / 5, 12);
    expect(e.terms.map((t) => t.counter).sort()).toEqual(Object.keys(counters).filter((k) => !/Bytes|send/.test(k)).sort());
  });

  it("prices GBuf psum and output words at gbufPsumBits (gbuf.psumBytes), elsewhere at 32", () => {
    const c = { "gbuf.read.output": 10, "gbuf.write.psum": 2, "dram.write.output": 1, "rf.read.psum": 4 };
    const e = energyOf(c, { input: "int8", weight: "int8", gbufPsumBits: 16 });
    expect(e.byLevel.gbuf).toBe((10 + 2) * 6);
    expect(e.byLevel.dram).toBe(200 * 2);
    expect(e.byLevel.rf).toBe(4 * 2);
    expect(energyOf(c, { input: "int8", weight: "int8" }).byLevel.gbuf).toBe((10 + 2) * 6 * 2);
    expect(() => energyOf(c, { input: "int8", weight: "int8", gbufPsumBits: 40 })).toThrow("types.gbufPsumBits must be an integer number of bits in [1, 32]; got 40");
  });

  it("int16 operands cost the reference 16-bit price", () => {
    const e = energyOf({ "dram.read.input": 10, "dram.read.weight": 3, "pe.mac": 2 }, { input: "int16", weight: "int8" });
    expect(e.byLevel.dram).toBe(10 * 200 + 3 * 100);
    expect(e.byLevel.mac).toBe(2 * 1); // the wider operand
  });

  it("a user table replaces the default: pJ, shorthands, explicit actions win, no width scaling on request", () => {
    const t = energyTable({ name: "t", unit: "pJ", widthScaling: "none", actions: { dram: 100, "dram.write": 150, gbuf: 5, noc: 1, rf: 0.5, mac: 0.25 } });
    expect(t.actions["dram.read"]).toBe(100);
    expect(t.actions["dram.write"]).toBe(150);
    expect(t.actions["noc.transfer"]).toBe(1);
    const e = energyOf(counters, { input: "int8", weight: "int8" }, t);
    expect(e.unit).toBe("pJ");
    expect(e.byLevel.dram).toBe(10 * 100 + 2 * 150);
    expect(e.byLevel.mac).toBe(5 * 0.25);
  });

  it("rejects a bad user table with a ConfigError naming the field, the value and the rule", () => {
    const full = Object.fromEntries(ENERGY_ACTIONS.map((a) => [a, 1]));
    const bad: [unknown, RegExp][] = [
      [{ actions: { ...full, mac: -1 } }, /energy\.actions\.mac must be a finite number >= 0.*got -1/],
      [{ actions: { ...full, "dram.read": undefined, dram: undefined } }, /energy\.actions\.dram\.read must be given/],
      [{ actions: { ...full, sram: 3 } }, /energy\.actions\.sram must be one of the actions/],
      [{ unit: "nJ", actions: full }, /energy\.unit must be "pJ".*got "nJ"/],
      [{ actions: full, widthScaling: "square" }, /energy\.widthScaling must be "linear" or "none"/],
      [{ actions: full, referenceBits: 0 }, /energy\.referenceBits must be an integer number of bits/],
      [{ actions: full, colour: "red" }, /energy\.colour must be one of the fields/],
      [[1, 2], /energy must be an object/],
    ];
    for (const [json, re] of bad) {
      const clean = JSON.parse(JSON.stringify(json));
      expect(() => energyTable(clean)).toThrow(ConfigError);
      expect(() => energyTable(clean)).toThrow(re);
    }
  });

  it("on a simulated layer, level energies follow the run's counters", () => {
    const r = simulate({ layer: { inChannels: 3, inHeight: 6, inWidth: 6, outChannels: 4, kernelHeight: 3, kernelWidth: 3, pads: [1, 1, 1, 1] } });
    const e = energyOf(r.counters, { input: "int8", weight: "int8" });
    const v = (k: string) => r.counters[k]?.value ?? 0;
    const dram = (v("dram.read.input") + v("dram.read.weight")) * 100 + (v("dram.read.output") + v("dram.write.output")) * 400;
    expect(e.byLevel.dram).toBe(dram);
    expect(e.byLevel.mac).toBe(r.macs * 0.5);
    expect(e.total).toBeCloseTo(e.byLevel.dram + e.byLevel.gbuf + e.byLevel.noc + e.byLevel.rf + e.byLevel.mac, 6);
    expect(e.byLevel.rf).toBeGreaterThan(0);
    expect(e.byLevel.noc).toBeGreaterThan(0);
  });
});
