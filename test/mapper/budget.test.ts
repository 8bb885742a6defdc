/** The mapper's budget (src/mapper/budget.ts): evaluations or a time, and the ConfigError for anything else. */
import { describe, expect, it } from "vitest";
import { formatBudget, parseBudget } from "../../src/mapper/budget.js";
import { configError } from "../helpers/errors.js";

describe("parseBudget", () => {
  it("reads evaluations and times", () => {
    expect(parseBudget(20000)).toEqual({ evaluations: 20000 });
    expect(parseBudget("20000")).toEqual({ evaluations: 20000 });
    expect(parseBudget("20k")).toEqual({ evaluations: 20000 });
    expect(parseBudget("10s")).toEqual({ seconds: 10 });
    expect(parseBudget("1.5m")).toEqual({ seconds: 90 });
    expect(parseBudget("500ms")).toEqual({ seconds: 0.5 });
    expect(parseBudget({ seconds: 3 })).toEqual({ seconds: 3 });
    expect(formatBudget({ evaluations: 20000 })).toBe("20,000 evaluations");
    expect(formatBudget({ seconds: 10 })).toBe("10 s");
  });

  it("refuses anything else, naming the field", () => {
    for (const bad of ["", "ten", "0", "-5", "1.5", "10h", 0, 2.5]) {
      const e = configError(() => parseBudget(bad as string | number, "--budget"));
      expect(e.field).toBe("--budget");
    }
  });
});
