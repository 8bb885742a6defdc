/**
 * The cycle lower bound as a pure function of counters, an architecture and the PEs used
 * (src/bounds/cycles.ts): closed-form terms on hand-made counters, the rates the model really has
 * (a PE's MAC rate capped by its read ports, a DRAM burst's whole cycles, a GBuf lane capped by its
 * banks, the psum bus's default width), the binding resource, and bad input.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { resolveArch, type ArchSpecInput } from "../../src/arch/presets.js";
import { CYCLE_RESOURCES, cycleLowerBound, peMacsPerCycle, type CycleResource } from "../../src/bounds/index.js";
import { ConfigError } from "../../src/core/errors.js";

const BASE: ArchSpecInput = {
  name: "hand",
  dram: { bytesPerCycle: 3, latencyCycles: 10, burstBytes: 64, maxOutstanding: 4 },
  gbuf: { capacityBytes: 1024, banks: 2, bankWordBytes: 8, wordsPerCyclePerBank: 1, readPorts: 4, writePorts: 1 },
  rf: { inputEntries: 8, weightEntries: 8, psumEntries: 8, readPorts: 3, writePorts: 2 },
  array: { rows: 4, cols: 4, macsPerCycle: 4, pipelineLatency: 1 },
  noc: { inputWordsPerCycle: 4, weightWordsPerCycle: 2, drainWordsPerCycle: 3, neighbourLinks: false },
};
const ARCH = resolveArch(BASE);

/** Counters of an imaginary run, with look-alike counters the bound must not count. */
const COUNTERS: Readonly<Record<string, number>> = {
  "pe.mac": 1000,
  "pe.busy": 999_999,
  "dram.readBursts.input": 3,
  "dram.readBursts.weight": 2,
  "dram.writeBursts.output": 1,
  "dram.read.input": 999_999,
  "dram.readBytes.input": 999_999,
  "dram.readWaste.input": 999_999,
  "gbuf.bankReads.input": 100,
  "gbuf.bankReads.weight": 51,
  "gbuf.bankWrites.output": 70,
  "gbuf.read.input": 999_999,
  "gbuf.readConflictCycles.input": 999_999,
  "noc.send.input": 300,
  "noc.send.weight": 130,
  "noc.send.psum": 10,
  "noc.deliver.input": 999_999,
  "noc.link.psum": 999_999,
  "noc.drain.psum": 200,
  "noc.drain.input": 1,
};

describe("cycleLowerBound: closed-form terms", () => {
  it("computes every term from its counters and the resource's real rate", () => {
    const b = cycleLowerBound(COUNTERS, ARCH, 12);
    const cycles = Object.fromEntries(CYCLE_RESOURCES.map((r) => [r, b.terms[r].cycles]));
    expect(cycles).toEqual({
      compute: 84, // 1000 MACs / (12 PEs x min(4 MACs/cycle, floor(3 read ports / 2) = 1)) = 83.3
      dram: 128, // 6 bursts x 64 B / 3 B per cycle (the bus packs bursts across cycle edges)
      "gbuf.read": 76, // 151 accesses / min(4 ports, 2 banks x 1 word) = 75.5
      "gbuf.write": 70, // 70 accesses / min(1 port, 2)
      "noc.input": 75, // 300 words / 4
      "noc.weight": 65, // 130 words / 2
      "noc.psum": 4, // 10 words / the drain path's 3 (no psumWordsPerCycle)
      "noc.drain": 67, // 201 words / 3
    });
    expect(b.terms.compute).toEqual({ amount: 1000, unit: "MACs", perCycle: 12, cycles: 84 });
    expect(b.terms.dram).toEqual({ amount: 384, unit: "bytes", perCycle: 3, cycles: 128 });
    expect(b.terms["gbuf.read"]).toEqual({ amount: 151, unit: "accesses", perCycle: 2, cycles: 76 });
    expect(b.terms["noc.drain"]).toEqual({ amount: 201, unit: "words", perCycle: 3, cycles: 67 });
    expect(b.cycles).toBe(128);
    expect(b.binding).toBe("dram");
  });

  it("takes the psum bus's own width when the arch gives one, and MACs per cycle when the read ports allow them", () => {
    const arch = resolveArch(BASE, { rf: { readPorts: 8 }, noc: { psumWordsPerCycle: 1 } });
    expect(peMacsPerCycle(arch)).toBe(4);
    const b = cycleLowerBound(COUNTERS, arch, 12);
    expect(b.terms["noc.psum"].cycles).toBe(10);
    expect(b.terms.compute.cycles).toBe(21); // 1000 / 48
  });

  it("gives ideal memory no bandwidth term", () => {
    const b = cycleLowerBound(COUNTERS, resolveArch(BASE, { dram: { model: "ideal" }, gbuf: { model: "ideal" } }), 12);
    expect([b.terms.dram.cycles, b.terms["gbuf.read"].cycles, b.terms["gbuf.write"].cycles]).toEqual([0, 0, 0]);
    expect(b.terms.dram.amount).toBe(384);
  });

  it("names the largest term, the first in CYCLE_RESOURCES order on a tie", () => {
    // compute = dram = 128: 1536 MACs on 12 PEs at 1 MAC per cycle.
    expect(cycleLowerBound({ ...COUNTERS, "pe.mac": 1536 }, ARCH, 12)).toMatchObject({ cycles: 128, binding: "compute" });
    expect(cycleLowerBound({ ...COUNTERS, "pe.mac": 1537 }, ARCH, 12)).toMatchObject({ cycles: 129, binding: "compute" });
    expect(cycleLowerBound({ ...COUNTERS, "pe.mac": 1524 }, ARCH, 12)).toMatchObject({ cycles: 128, binding: "dram" });
    expect(cycleLowerBound({ ...COUNTERS, "noc.send.weight": 400 }, ARCH, 12)).toMatchObject({ cycles: 200, binding: "noc.weight" });
    expect(cycleLowerBound({ "gbuf.bankWrites.input": 5 }, ARCH, 1)).toMatchObject({ cycles: 5, binding: "gbuf.write" });
  });

  it("counts a missing counter as 0", () => {
    const b = cycleLowerBound({}, ARCH, 16);
    expect(b.cycles).toBe(0);
    expect(b.binding).toBe("compute");
    for (const r of CYCLE_RESOURCES) expect(b.terms[r].amount, r).toBe(0);
  });

  it("on random counters: the bound is the largest term, and each term is at least amount / rate", () => {
    const resources = fc.constantFrom(...CYCLE_RESOURCES);
    fc.assert(
      fc.property(
        fc.record({
          mac: fc.nat(10_000),
          bursts: fc.nat(300),
          reads: fc.nat(3000),
          writes: fc.nat(3000),
          words: fc.array(fc.nat(2000), { minLength: 4, maxLength: 4 }),
          bytesPerCycle: fc.integer({ min: 1, max: 100 }),
          burstBytes: fc.constantFrom(1, 2, 4, 8, 16, 32, 64, 128),
          ports: fc.integer({ min: 1, max: 16 }),
          banks: fc.constantFrom(1, 2, 4, 8),
          readPorts: fc.integer({ min: 2, max: 9 }),
          pes: fc.integer({ min: 1, max: 16 }),
        }),
        resources,
        (c, r: CycleResource) => {
          const arch = resolveArch(BASE, {
            dram: { bytesPerCycle: c.bytesPerCycle, burstBytes: c.burstBytes },
            gbuf: { readPorts: c.ports, banks: c.banks, capacityBytes: 1024 },
            rf: { readPorts: c.readPorts },
          });
          const values = {
            "pe.mac": c.mac,
            "dram.readBursts.input": c.bursts,
            "gbuf.bankReads.weight": c.reads,
            "gbuf.bankWrites.output": c.writes,
            "noc.send.input": c.words[0]!,
            "noc.send.weight": c.words[1]!,
            "noc.send.psum": c.words[2]!,
            "noc.drain.psum": c.words[3]!,
          };
          const b = cycleLowerBound(values, arch, c.pes);
          expect(b.cycles).toBe(Math.max(...CYCLE_RESOURCES.map((x) => b.terms[x].cycles)));
          expect(b.terms[b.binding].cycles).toBe(b.cycles);
          const t = b.terms[r];
          expect(t.cycles).toBeGreaterThanOrEqual(t.amount / t.perCycle - 1e-9);
          expect(t.cycles).toBeLessThan(t.amount / t.perCycle + 1);
          expect(Number.isInteger(t.cycles)).toBe(true);
          // More work never lowers the bound.
          const more = cycleLowerBound({ ...values, "pe.mac": c.mac + 1, "dram.readBursts.input": c.bursts + 1 }, arch, c.pes);
          expect(more.cycles).toBeGreaterThanOrEqual(b.cycles);
          expect(b.terms.dram.cycles).toBe(Math.ceil((c.bursts * c.burstBytes) / c.bytesPerCycle));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("cycleLowerBound: bad input is a ConfigError naming the field", () => {
  it.each([0, 17, 2.5, Number.NaN])("pesUsed %s", (pes) => {
    expect(() => cycleLowerBound(COUNTERS, ARCH, pes)).toThrow(ConfigError);
    expect(() => cycleLowerBound(COUNTERS, ARCH, pes)).toThrow(/^pesUsed must be an integer from 1 to the array's 16 PEs/);
  });

  it("a register file with one read port (no MAC can issue)", () => {
    const arch = { ...ARCH, rf: { ...ARCH.rf, readPorts: 1 } };
    expect(() => cycleLowerBound(COUNTERS, arch, 1)).toThrow(/^arch\.rf\.readPorts must be at least 2/);
  });
});
