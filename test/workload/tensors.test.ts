import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import { dtypeInfo, OPERAND_TYPES, type OperandType } from "../../src/workload/dtype.js";
import { convLayer } from "../../src/workload/layer.js";
import { layerTensors, seededTensor, seededTensorTransposed, type ValueRange } from "../../src/workload/tensors.js";

/** What seededTensor was before it had its own ARC4: seedrandom's int32() per element, low bits. */
function viaSeedrandom(t: OperandType, length: number, seed: string | number, range: ValueRange): number[] {
  const info = dtypeInfo(t);
  const lo = range === "full" ? info.min : info.signed ? -8 : 0;
  const hi = range === "full" ? info.max : info.signed ? 7 : 15;
  const mask = hi - lo;
  const rng = seedrandom(String(seed));
  const out: number[] = [];
  for (let i = 0; i < length; i++) out.push(lo + (rng.int32() & mask));
  return out;
}

/** Index of the first differing element, or -1 (a readable failure instead of a huge diff). */
function firstDifference(got: ArrayLike<number>, want: readonly number[]): number {
  if (got.length !== want.length) return Math.min(got.length, want.length);
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) return i;
  return -1;
}

describe("seededTensor's ARC4 equals seedrandom's", () => {
  const longSeed = Array.from({ length: 300 }, (_, i) => String.fromCharCode(32 + ((i * 37) % 90))).join("");
  const seeds: readonly (string | number)[] = [
    1, 0, 42, -7, 3.5, 1e21, "golden", "", "1/x", "1/w", "42/x", "42/w", "seed/with/slashes", "é€😀", longSeed, longSeed.slice(0, 256), longSeed.slice(0, 257),
  ];
  for (const t of OPERAND_TYPES) {
    for (const range of ["full", "small"] as const) {
      it(`${t}, ${range} range, ${seeds.length} seeds`, () => {
        for (const seed of seeds) {
          for (const length of [0, 1, 3, 64, 257, 5000]) {
            const got = seededTensor(t, length, seed, range);
            const want = viaSeedrandom(t, length, seed, range);
            expect({ seed, length, firstDifference: firstDifference(got, want) }).toEqual({ seed, length, firstDifference: -1 });
          }
        }
      });
    }
  }

  it("layerTensors draws x from `${seed}/x` and w from `${seed}/w`", () => {
    const l = convLayer({ batch: 2, inChannels: 3, inHeight: 7, inWidth: 6, outChannels: 5, kernelHeight: 3, kernelWidth: 2 });
    for (const seed of [1, 9, "net/conv1"]) {
      for (const [xType, wType, range] of [
        ["int8", "int8", "full"],
        ["uint8", "int16", "small"],
        ["int16", "uint8", "full"],
      ] as const) {
        const { x, w } = layerTensors(l, { seed, xType, wType, range });
        expect(firstDifference(x, viaSeedrandom(xType, x.length, `${seed}/x`, range))).toBe(-1);
        expect(firstDifference(w, viaSeedrandom(wType, w.length, `${seed}/w`, range))).toBe(-1);
      }
    }
    const { x, w } = layerTensors(l);
    expect(firstDifference(x, viaSeedrandom("int8", x.length, "1/x", "full"))).toBe(-1);
    expect(firstDifference(w, viaSeedrandom("int8", w.length, "1/w", "full"))).toBe(-1);
  });
});

describe("seededTensorTransposed", () => {
  it("holds seededTensor's values, each group's rows x cols matrix of items transposed", () => {
    const shapes = [
      { groups: 1, rows: 1, cols: 1, item: 1 },
      { groups: 1, rows: 200, cols: 37, item: 1 },
      { groups: 3, rows: 65, cols: 5, item: 9 },
      { groups: 2, rows: 128, cols: 64, item: 1 },
    ];
    for (const t of ["int8", "uint8", "int16"] as const) {
      for (const range of ["full", "small"] as const) {
        for (const sh of shapes) {
          const { groups, rows, cols, item } = sh;
          const flat = seededTensor(t, groups * rows * cols * item, "tr", range);
          const got = seededTensorTransposed(t, sh, "tr", range);
          expect(got.constructor).toBe(flat.constructor);
          let wrong = 0;
          for (let g = 0; g < groups; g++)
            for (let r = 0; r < rows; r++)
              for (let c = 0; c < cols; c++)
                for (let e = 0; e < item; e++) if (got[((g * cols + c) * rows + r) * item + e] !== flat[((g * rows + r) * cols + c) * item + e]) wrong++;
          expect(wrong, `${t} ${range} ${JSON.stringify(sh)}`).toBe(0);
        }
      }
    }
  });

  it("refuses a shape count that is not a positive integer, naming it", () => {
    expect(() => seededTensorTransposed("int8", { groups: 1, rows: 0, cols: 3, item: 1 }, 1)).toThrow(/shape\.rows.*positive integer/);
    expect(() => seededTensorTransposed("int8", { groups: 1, rows: 2, cols: 2.5, item: 1 }, 1)).toThrow(/shape\.cols/);
  });
});

describe("layerTensors' weightOrder", () => {
  it("IOHW gives the OIHW weights stored input channel major per group, and the same x", () => {
    const layer = { inChannels: 6, inHeight: 4, inWidth: 4, outChannels: 4, kernelHeight: 3, kernelWidth: 2, groups: 2 };
    const a = layerTensors(layer, { seed: 9, wType: "int16" });
    const b = layerTensors(layer, { seed: 9, wType: "int16", weightOrder: "IOHW" });
    expect(b.x).toEqual(a.x);
    const [G, Kg, Cg, RS] = [2, 2, 3, 6];
    let wrong = 0;
    for (let g = 0; g < G; g++)
      for (let k = 0; k < Kg; k++)
        for (let c = 0; c < Cg; c++)
          for (let rs = 0; rs < RS; rs++) if (b.w[((g * Cg + c) * Kg + k) * RS + rs] !== a.w[((g * Kg + k) * Cg + c) * RS + rs]) wrong++;
    expect(wrong).toBe(0);
  });

  it("refuses another order, naming the field, the value and the rule", () => {
    expect(() => layerTensors({ inChannels: 2, inHeight: 1, inWidth: 1, outChannels: 2, kernelHeight: 1, kernelWidth: 1 }, { weightOrder: "HWIO" as never })).toThrow(/weightOrder.*"OIHW" or "IOHW".*HWIO|weightOrder.*HWIO.*"OIHW" or "IOHW"/);
  });
});
