import { describe, expect, it } from "vitest";
import { Engine } from "../../src/core/engine.js";
import type { Box } from "../../src/core/box.js";
import { RegFile } from "../../src/memory/regfile.js";
import { RfMoves } from "../../src/pe-array/rf-moves.js";
import type { PeWrite } from "../../src/pe-array/commands.js";

// A 2 x 3 array; inputs are a line buffer along rows (rf.lines), weights one slice per PE.
const spec = { inputEntries: 4, weightEntries: 4, psumEntries: 4, readPorts: 2, writePorts: 2, lines: { input: "row" as const } };
const box: Box = { shape: [2], offset: 0, strides: [1] };

function moves(): { rf: RegFile; m: RfMoves } {
  const engine = new Engine({ mode: "fast", checked: false });
  const rf = new RegFile(engine.counters, "rf", spec, 6, false, undefined, 3);
  const arraySpec = { rows: 2, cols: 3 } as never;
  return { rf, m: new RfMoves({ name: "pe", engine, spec: arraySpec, size: 6, rf }) };
}

/** A delivery of `boxes` two-word boxes (box b holds 10b + 1, 10b + 2) into the whole array. */
function deliver(part: "input" | "weight", kind: Partial<Pick<PeWrite, "perPe" | "perRow" | "perCol" | "boxIndex">>, boxes: number): PeWrite {
  const data = Int32Array.from({ length: 2 * boxes }, (_, i) => 10 * (i >> 1) + (i & 1) + 1);
  return { op: "write", part, pes: { row0: 0, col0: 0, rows: 2, cols: 3 }, box, payload: { data }, perPe: false, ...kind };
}

describe("RfMoves deliveries", () => {
  it("write each PE's box of every kind of delivery, the same rectangle one after another (write lists are kept per kind)", () => {
    const { rf, m } = moves();
    const firstWords = (part: "input" | "weight") => Array.from({ length: 6 }, (_, p) => rf.contents(part, p)[0]);
    m.write(deliver("weight", { perRow: true }, 2));
    expect(firstWords("weight")).toEqual([1, 1, 1, 11, 11, 11]);
    m.write(deliver("weight", { perCol: true }, 3));
    expect(firstWords("weight")).toEqual([1, 11, 21, 1, 11, 21]);
    m.write(deliver("weight", { perPe: true }, 6));
    expect(firstWords("weight")).toEqual([1, 11, 21, 31, 41, 51]);
    m.write(deliver("weight", {}, 1));
    expect(firstWords("weight")).toEqual([1, 1, 1, 1, 1, 1]);
    m.write(deliver("weight", { boxIndex: Int32Array.of(1, -1, 0, 0, 1, -1) }, 2));
    expect(firstWords("weight")).toEqual([11, 1, 1, 1, 11, 1]);
    // The line buffer: a row's PEs share one slice; each PE's write is counted.
    m.write(deliver("input", { perRow: true }, 2));
    expect(firstWords("input")).toEqual([1, 1, 1, 11, 11, 11]);
    m.write(deliver("input", { perCol: true }, 3));
    expect(firstWords("input")).toEqual([21, 21, 21, 21, 21, 21]);
    expect(rf.counters.weight.write.value).toBe(2 * (6 + 6 + 6 + 6 + 4));
    expect(rf.counters.input.write.value).toBe(2 * 12);
  });
});
