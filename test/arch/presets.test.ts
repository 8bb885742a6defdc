import { describe, expect, it } from "vitest";
import {
  archSpec,
  CHEN2020_BUDGET_BYTES,
  chen2020,
  eyeriss,
  onChipBytes,
  PRESET_NAMES,
  presets,
  resolveArch,
  systolic,
  type ArchSpecInput,
} from "../../src/arch/presets.js";
import { ConfigError } from "../../src/core/errors.js";
import { DRAM_MODEL_NAMES, GBUF_MODEL_NAMES, rfEntriesPerPe, rfTensorEntries } from "../../src/arch/spec.js";
import { burstsPerCycleOf } from "../../src/memory/index.js";

const plain = (): ArchSpecInput => JSON.parse(JSON.stringify(eyeriss)) as ArchSpecInput;

function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("archSpec", () => {
  it("rejects a bank count that is not a power of two, in the STYLE's words", () => {
    const s = plain();
    (s.gbuf as { banks: number }).banks = 6;
    expect(messageOf(() => archSpec(s))).toBe("arch.gbuf.banks must be a power of two in [1, 4096]; got 6");
    expect(messageOf(() => archSpec(s, "user.arch"))).toBe("user.arch.gbuf.banks must be a power of two in [1, 4096]; got 6");
  });

  it("names field, value and rule for every kind of mistake", () => {
    const cases: [(s: ArchSpecInput) => void, string][] = [
      [(s) => ((s.dram as { bytesPerCycle: number }).bytesPerCycle = 0), "arch.dram.bytesPerCycle must be an integer in [1, 65536]; got 0"],
      [(s) => ((s.dram as { burstBytes: number }).burstBytes = 48), "arch.dram.burstBytes must be a power of two in [1, 65536]; got 48"],
      [(s) => ((s.dram as { latencyCycles: number }).latencyCycles = 0), "arch.dram.latencyCycles must be an integer in [1, 1048576]; got 0"],
      [(s) => ((s.rf as { psumEntries: number }).psumEntries = -1), "arch.rf.psumEntries must be an integer in [0, 1048576]; got -1"],
      [(s) => ((s.array as { rows: number }).rows = 1.5), "arch.array.rows must be an integer in [1, 4096]; got 1.5"],
      [(s) => ((s.noc as { drainWordsPerCycle: number }).drainWordsPerCycle = 0), "arch.noc.drainWordsPerCycle must be an integer in [1, 65536]; got 0"],
      [(s) => ((s.noc as { neighbourLinks: unknown }).neighbourLinks = "yes"), 'arch.noc.neighbourLinks must be true or false; got "yes"'],
      [(s) => ((s.noc as { psumWordsPerCycle: number }).psumWordsPerCycle = 0), "arch.noc.psumWordsPerCycle must be an integer in [1, 65536]; got 0"],
      [(s) => ((s.noc as { forwarding: unknown }).forwarding = 1), "arch.noc.forwarding must be true or false; got 1"],
      [(s) => ((s.dram as { burstsPerCycle?: number }).burstsPerCycle = 0), "arch.dram.burstsPerCycle must be an integer in [1, 1024]; got 0"],
      [(s) => ((s.dram as { model?: unknown }).model = "hbm"), 'arch.dram.model must be one of channel, ideal; got "hbm"'],
      [(s) => ((s.gbuf as { model?: unknown }).model = "channel"), 'arch.gbuf.model must be one of banked, ideal; got "channel"'],
      [
        (s) => Object.assign(s.noc as object, { forwarding: true, neighbourLinks: false }),
        "arch.noc.forwarding must be false unless noc.neighbourLinks is true (operands are forwarded over the links); got true",
      ],
      [(s) => (s.gbuf.capacityBytes = 1000), "arch.gbuf.capacityBytes must be a multiple of banks x bankWordBytes = 128 bytes (every bank has the same number of whole words); got 1000"],
      [(s) => (s.gbuf.capacityBytes = "64KiW"), 'arch.gbuf.capacityBytes must be in bytes (B, KiB, kB, ...), not words; got "64KiW"'],
      [(s) => ((s as unknown as Record<string, unknown>).cache = {}), "arch.cache must be one of the fields name, dram, gbuf, rf, array, noc, levelNames; got {}"],
      [(s) => ((s.gbuf as unknown as Record<string, unknown>).size = 4), "arch.gbuf.size must be one of the fields capacityBytes, banks, bankWordBytes, wordsPerCyclePerBank, readPorts, writePorts, model, psumBytes; got 4"],
      [(s) => delete (s as unknown as Record<string, unknown>).noc, "arch.noc must be an object with the fields inputWordsPerCycle, weightWordsPerCycle, drainWordsPerCycle, psumWordsPerCycle, neighbourLinks, forwarding; got undefined"],
      [(s) => (s.name = ""), 'arch.name must be a non-empty string; got ""'],
      [(s) => ((s as unknown as Record<string, unknown>).levelNames = { gbuf: "" }), 'arch.levelNames.gbuf must be a non-empty string (the level\'s name); got ""'],
      [(s) => ((s as unknown as Record<string, unknown>).levelNames = { sram: "x" }), 'arch.levelNames.sram must be one of the fields dram, gbuf, rf, rfInput, rfWeight, rfOutput; got "x"'],
      [(s) => ((s.gbuf as { psumBytes?: number }).psumBytes = 1), "arch.gbuf.psumBytes must be one of 2, 3, 4; got 1"],
      [(s) => ((s.gbuf as { psumBytes?: unknown }).psumBytes = "2"), 'arch.gbuf.psumBytes must be one of 2, 3, 4; got "2"'],
      [(s) => ((s.rf as { sharedEntries?: number }).sharedEntries = 0), "arch.rf.sharedEntries must be an integer in [1, 1048576]; got 0"],
      [
        (s) => ((s.rf as { sharedEntries?: number }).sharedEntries = 260),
        "arch.rf.inputEntries must be absent when arch.rf.sharedEntries is given (the register file is one pool of 260 entries; give either sharedEntries or the three partitions); got 12",
      ],
      [
        (s) => {
          const rf = s.rf as { inputEntries: number; weightEntries: number; psumEntries: number };
          rf.inputEntries = rf.weightEntries = rf.psumEntries = 0;
        },
        "arch.rf must have at least one entry in some partition (inputEntries, weightEntries, psumEntries) or a pool (sharedEntries); got 0",
      ],
    ];
    for (const [mutate, message] of cases) {
      const s = plain();
      mutate(s);
      expect(messageOf(() => archSpec(s))).toBe(message);
    }
  });

  it("leaves the optional psum bus out when it is not given", () => {
    const s = plain();
    delete (s.noc as { psumWordsPerCycle?: number }).psumWordsPerCycle;
    expect("psumWordsPerCycle" in archSpec(s).noc).toBe(false);
    expect(eyeriss.noc.psumWordsPerCycle).toBe(4);
  });

  it("leaves the optional DRAM issue width and the memory models out when they are not given, keeps them when given", () => {
    const s = plain();
    const a = archSpec(s);
    for (const k of ["burstsPerCycle", "model"]) expect(k in a.dram).toBe(false);
    expect("model" in a.gbuf).toBe(false);
    Object.assign(s.dram, { burstsPerCycle: 2, model: "ideal" });
    Object.assign(s.gbuf, { model: "ideal" });
    const b = archSpec(s);
    expect([b.dram.burstsPerCycle, b.dram.model, b.gbuf.model]).toEqual([2, "ideal", "ideal"]);
    expect(DRAM_MODEL_NAMES).toEqual(["channel", "ideal"]);
    expect(GBUF_MODEL_NAMES).toEqual(["banked", "ideal"]);
  });

  it("accepts a capacity as a size string and returns a deeply frozen spec", () => {
    const s = plain();
    s.gbuf.capacityBytes = "64KiB";
    const a = archSpec(s);
    expect(a.gbuf.capacityBytes).toBe(65536);
    expect(Object.isFrozen(a)).toBe(true);
    for (const part of [a.dram, a.gbuf, a.rf, a.array, a.noc]) expect(Object.isFrozen(part)).toBe(true);
  });
});

describe("presets", () => {
  it("are valid, frozen and listed", () => {
    expect(PRESET_NAMES).toEqual(["eyeriss", "chen2020", "systolic"]);
    for (const n of PRESET_NAMES) {
      expect(archSpec(presets[n])).toEqual(presets[n]);
      expect(presets[n].name).toBe(n);
      expect(Object.isFrozen(presets[n].gbuf)).toBe(true);
    }
  });

  it("eyeriss has the published sizes", () => {
    expect([eyeriss.array.rows, eyeriss.array.cols]).toEqual([12, 14]);
    expect(eyeriss.gbuf.capacityBytes).toBe(108 * 1024);
    expect([eyeriss.rf.weightEntries, eyeriss.rf.inputEntries, eyeriss.rf.psumEntries]).toEqual([224, 12, 24]);
    expect(eyeriss.noc.neighbourLinks).toBe(true);
  });

  it("chen2020 stores no more on chip than Eyeriss's 181.5 KiB, psums counted at 32 bits", () => {
    expect(CHEN2020_BUDGET_BYTES).toBe(181.5 * 1024);
    expect(onChipBytes(chen2020)).toBe(185_856);
    expect(onChipBytes(chen2020)).toBeLessThanOrEqual(CHEN2020_BUDGET_BYTES);
    // Eyeriss itself, with its ifmap and psum pads (psums modeled as int32), is larger
    expect(onChipBytes(eyeriss)).toBe(108 * 1024 + 168 * (12 * 2 + 224 * 2 + 24 * 4));
    // psums hold most of it, in the PEs; the array is Eyeriss's; no links between PEs
    expect(chen2020.array.rows * chen2020.array.cols * chen2020.rf.psumEntries! * 4).toBeGreaterThan(0.65 * CHEN2020_BUDGET_BYTES);
    expect([chen2020.array.rows, chen2020.array.cols]).toEqual([12, 14]);
    expect(chen2020.noc.neighbourLinks).toBe(false);
  });

  it("systolic is a 32 x 32 array of single operand registers, two accumulators (Gemmini's c1/c2) and neighbour links", () => {
    expect([systolic.array.rows, systolic.array.cols]).toEqual([32, 32]);
    expect([systolic.rf.inputEntries, systolic.rf.weightEntries, systolic.rf.psumEntries]).toEqual([1, 1, 2]);
    expect(systolic.noc.neighbourLinks).toBe(true);
  });
});

describe("resolveArch", () => {
  it("returns a preset by name", () => {
    expect(resolveArch("eyeriss")).toEqual(eyeriss);
  });

  it("deep-merges a user's JSON over a preset", () => {
    const a = resolveArch("eyeriss", JSON.parse('{ "name": "eyeriss-64k", "gbuf": { "capacityBytes": "64KiB" }, "noc": { "neighbourLinks": false } }'));
    expect(a.name).toBe("eyeriss-64k");
    expect(a.gbuf).toEqual({ ...eyeriss.gbuf, capacityBytes: 65536 });
    expect(a.noc).toEqual({ ...eyeriss.noc, neighbourLinks: false });
    expect(a.rf).toEqual(eyeriss.rf);
    expect(Object.isFrozen(a.gbuf)).toBe(true);
    // the preset is untouched
    expect(eyeriss.gbuf.capacityBytes).toBe(108 * 1024);
  });

  it("sets the memory models by override, and the default issue width follows an overridden bandwidth", () => {
    const a = resolveArch("systolic", { dram: { model: "ideal" }, gbuf: { model: "ideal" } });
    expect([a.dram.model, a.gbuf.model]).toEqual(["ideal", "ideal"]);
    expect(a.dram.bytesPerCycle).toBe(systolic.dram.bytesPerCycle);
    expect(burstsPerCycleOf(systolic.dram)).toBe(1);
    expect(burstsPerCycleOf(resolveArch("systolic", { dram: { bytesPerCycle: 256 } }).dram)).toBe(4);
  });

  it("merges over a complete spec too", () => {
    expect(resolveArch(systolic, { array: { rows: 16 } }).array).toEqual({ ...systolic.array, rows: 16 });
  });

  it("validates the merged result and names the field", () => {
    expect(messageOf(() => resolveArch("chen2020", { gbuf: { banks: 6 } }))).toBe("arch.gbuf.banks must be a power of two in [1, 4096]; got 6");
    expect(messageOf(() => resolveArch("chen2020", { gbuf: { bogus: 1 } }))).toContain("arch.gbuf.bogus must be one of the fields");
    expect(messageOf(() => resolveArch("chen2020", { gbuf: 5 }))).toBe("arch.gbuf must be an object (it overrides a section of the spec); got 5");
    expect(messageOf(() => resolveArch("tpu"))).toBe('arch must be a preset name (eyeriss, chen2020, systolic) or an ArchSpec object; got "tpu"');
  });
});

describe("GBuf psum width and register-file pool (spec fields)", () => {
  it("takes gbuf.psumBytes 2, 3 or 4 and leaves it out when not given (the presets: 4 bytes)", () => {
    for (const b of [2, 3, 4]) expect(resolveArch("eyeriss", { gbuf: { psumBytes: b } }).gbuf.psumBytes).toBe(b);
    for (const p of PRESET_NAMES) expect("psumBytes" in presets[p].gbuf).toBe(false);
  });

  it("takes a shared pool instead of the partitions, and an override switches the layout", () => {
    const pooled = resolveArch("eyeriss", { rf: { sharedEntries: 260 } });
    expect(pooled.rf).toEqual({ sharedEntries: 260, readPorts: 3, writePorts: 3 });
    expect(rfEntriesPerPe(pooled.rf)).toBe(260);
    expect(rfEntriesPerPe(eyeriss.rf)).toBe(12 + 224 + 24);
    expect(rfTensorEntries(pooled.rf)).toEqual({ input: 260, weight: 260, psum: 260 });
    expect(rfTensorEntries(eyeriss.rf)).toEqual({ input: 12, weight: 224, psum: 24 });
    // back to partitions: all three are needed
    expect(resolveArch(pooled, { rf: { inputEntries: 12, weightEntries: 224, psumEntries: 24 } }).rf).toEqual(eyeriss.rf);
    expect(messageOf(() => resolveArch(pooled, { rf: { inputEntries: 12 } }))).toBe("arch.rf.weightEntries must be an integer in [0, 1048576]; got undefined");
    // a complete spec may not give both
    const both = { ...plain(), rf: { ...eyeriss.rf, sharedEntries: 100 } };
    expect(() => archSpec(both)).toThrow("arch.rf.inputEntries must be absent when arch.rf.sharedEntries is given");
    // a pool's entries are counted at 4 bytes each (any may hold an int32 psum)
    expect(onChipBytes(pooled)).toBe(108 * 1024 + 168 * 260 * 4);
  });
});
