/**
 * Digit groups without the locale machinery (core/units.ts, groupDigits): the same text as
 * `toLocaleString("en-US")` for every number, safe integers by their own path.
 */
import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import { groupDigits } from "../../src/core/units.js";

describe("groupDigits", () => {
  it("equals toLocaleString(\"en-US\") on integers of every length and sign, and on other numbers", () => {
    const rnd = seedrandom("groups");
    const cases = [0, -0, 1, -1, 12, 123, 999, 1000, -1000, 12345, 123456, 1234567, -1234567, 999999999, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 60, 1.5, -2.25, 1234.5678, NaN, Infinity, -Infinity];
    for (let digits = 1; digits <= 16; digits++) {
      for (let t = 0; t < 20; t++) {
        const v = Math.floor(rnd() * 10 ** digits);
        cases.push(v, -v);
      }
    }
    for (const n of cases) expect(groupDigits(n), String(n)).toBe(n.toLocaleString("en-US"));
  });

  it("groups by threes from the right", () => {
    expect(groupDigits(1234567)).toBe("1,234,567");
    expect(groupDigits(-123456)).toBe("-123,456");
    expect(groupDigits(100)).toBe("100");
  });
});
