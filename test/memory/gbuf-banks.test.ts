import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Box } from "../../src/core/box.js";
import { BankSchedules } from "../../src/memory/gbuf-banks.js";
import { boxIndices } from "../helpers/box.js";

// 8 banks of 8-byte words, 1 word per bank per cycle (the example of gbuf.ts's header).
const spec = { capacityBytes: 1 << 16, banks: 8, bankWordBytes: 8, wordsPerCyclePerBank: 1, readPorts: 4, writePorts: 2 };

describe("BankSchedules", () => {
  it("schedules the header's examples: a contiguous read at the ports' rate, a one-bank stride one access per cycle", () => {
    const b = new BankSchedules(spec);
    // 64 int16 elements: 16 bank words, 4 per cycle through 4 ports.
    expect(b.of(0, 2, { shape: [64], offset: 0, strides: [1] }, 4)).toEqual({ cycles: 4, accesses: 16 });
    // Every 32nd element: every 8th bank word, all in bank 0.
    expect(b.of(0, 2, { shape: [10], offset: 0, strides: [32] }, 4)).toEqual({ cycles: 10, accesses: 10 });
    // 3-byte elements straddle bank words: 8 elements over 24 bytes, 3 words from byte 0.
    expect(b.of(0, 3, { shape: [8], offset: 0, strides: [1] }, 4)).toEqual({ cycles: 1, accesses: 3 });
  });

  it("equals the greedy rule applied to the box's bank words one cycle at a time (random boxes, element sizes, ports, banks)", () => {
    // The oracle: the box's bytes word by word in box order (a word repeated back to back is one
    // access), then cycles filled in order until the ports or the next access's bank run out.
    const oracle = (sp: typeof spec, base: number, eb: number, box: Box, ports: number) => {
      const words: number[] = [];
      for (const at of boxIndices(box)) {
        for (let w = Math.floor((base + at * eb) / sp.bankWordBytes); w <= Math.floor((base + at * eb + eb - 1) / sp.bankWordBytes); w++) if (words[words.length - 1] !== w) words.push(w);
      }
      let cycles = 1;
      let used = 0;
      let perBank = new Map<number, number>();
      for (const w of words) {
        const bank = w % sp.banks;
        if (used === ports || (perBank.get(bank) ?? 0) >= sp.wordsPerCyclePerBank) {
          cycles++;
          used = 0;
          perBank = new Map();
        }
        perBank.set(bank, (perBank.get(bank) ?? 0) + 1);
        used++;
      }
      return { cycles, accesses: words.length };
    };
    const specArb = fc.record({ banks: fc.constantFrom(1, 2, 4, 8, 16), bankWordBytes: fc.constantFrom(2, 4, 8), wordsPerCyclePerBank: fc.integer({ min: 1, max: 3 }) });
    const boxArb = fc
      .tuple(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }), fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 3, maxLength: 3 }), fc.integer({ min: 0, max: 50 }))
      .map(([shape, strides, offset]): Box => ({ shape, strides: strides.slice(0, shape.length), offset }));
    fc.assert(
      fc.property(specArb, boxArb, fc.integer({ min: 0, max: 100 }), fc.constantFrom(1, 2, 3, 4, 8), fc.integer({ min: 1, max: 5 }), (sp, box, base, eb, ports) => {
        const full = { ...spec, ...sp };
        expect(new BankSchedules(full).of(base, eb, box, ports)).toEqual(oracle(full, base, eb, box, ports));
      }),
      { numRuns: 500, seed: 21 },
    );
  });

  it.each([
    ["8 banks of 8 bytes (found by shape identity, then by value)", spec],
    ["2,048 banks of 8 bytes (by value only: rows over 1,024 bytes)", { ...spec, banks: 2048, capacityBytes: 1 << 20 }],
  ])("answers a box from its memos as a fresh schedule does: %s", (_, spec) => {
    const boxArb = fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: -3, max: 40 }), fc.integer({ min: 1, max: 3 }));
    fc.assert(
      fc.property(fc.array(fc.tuple(boxArb, fc.integer({ min: 0, max: 200 }), fc.constantFrom(1, 2, 3, 4), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 64 })), { minLength: 1, maxLength: 30 }), (cases) => {
        const memo = new BankSchedules(spec);
        // Boxes that share shape and strides arrays, as a replayed plan's shifted boxes do.
        const shapes = cases.map(([[a, b]]) => [a, b]);
        const strides = cases.map(([[, b, s0, s1]]) => [Math.max(s0, b * s1), s1]);
        for (let round = 0; round < 2; round++) {
          cases.forEach(([, offset, eb, ports, base], i) => {
            const box: Box = { shape: shapes[i % 3 === 0 ? 0 : i]!, offset, strides: strides[i % 3 === 0 ? 0 : i]! };
            const fresh = new BankSchedules(spec).of(base * 8, eb, { shape: [...box.shape], offset, strides: [...box.strides] }, ports);
            expect(memo.of(base * 8, eb, box, ports)).toEqual(fresh);
          });
        }
      }),
      { numRuns: 100, seed: 9 },
    );
  });
});
