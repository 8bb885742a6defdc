import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { boxSize, gather, sameNumbers } from "../../src/core/box.js";
import { numberArraysOfEachKind, primeBoxFeedback } from "../../src/core/feedback.js";

describe("the box helpers' primed feedback (core/feedback.ts)", () => {
  it("makes one number array of each of V8's four element kinds, with the given values", () => {
    // V8's own view of the arrays, in a process that may ask it (natives syntax): the priming is
    // only worth its calls if the four kinds are really there.
    const module = fileURLToPath(new URL("../../src/core/feedback.ts", import.meta.url));
    const script = `import(${JSON.stringify(module)}).then(({ numberArraysOfEachKind }) => {
      const kinds = numberArraysOfEachKind([2, 3]).map((a) => [eval("%HasDoubleElements(a)"), eval("%HasHoleyElements(a)"), [...a]]);
      console.log(JSON.stringify(kinds));
    });`;
    const r = spawnSync(process.execPath, ["--allow-natives-syntax", "--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual([
      [false, false, [2, 3]],
      [true, false, [2, 3]],
      [false, true, [2, 3]],
      [true, true, [2, 3]],
    ]);
  }, 30_000);

  it("leaves what the helpers compute unchanged, for every kind", () => {
    primeBoxFeedback(2);
    const src = Int32Array.from({ length: 12 }, (_, i) => i * 7);
    for (const shape of numberArraysOfEachKind([2, 3])) {
      for (const strides of numberArraysOfEachKind([4, 1])) {
        expect(boxSize(shape)).toBe(6);
        expect(sameNumbers(shape, [2, 3])).toBe(true);
        const dst = new Int32Array(6);
        gather(src, { shape, offset: 1, strides }, dst);
        expect([...dst]).toEqual([7, 14, 21, 35, 42, 49]);
      }
    }
  });
});
