import { describe, expect, it } from "vitest";
import { checkField, intRule, parseJson, rejectUnsafeKeys } from "../../src/core/fields.js";
import { configError } from "../helpers/errors.js";

describe("field rules", () => {
  it("checks integers within bounds, powers of two, name lists and booleans, with one message form", () => {
    const r = intRule(1, 4096, "rows");
    expect(checkField("arch.array.rows", 12, r)).toBe(12);
    expect(configError(() => checkField("arch.array.rows", 4097, r)).message).toBe("arch.array.rows must be an integer in [1, 4096]; got 4097");
    expect(configError(() => checkField("arch.array.rows", 1.5, r)).message).toBe("arch.array.rows must be an integer in [1, 4096]; got 1.5");
    expect(configError(() => checkField("x", "3", r)).message).toBe('x must be an integer in [1, 4096]; got "3"');
    expect(configError(() => checkField("b", 6, intRule(1, 64, "banks", { powerOfTwo: true }))).message).toBe("b must be a power of two in [1, 64]; got 6");
    expect(checkField("o", undefined, intRule(1, 2, "o", { optional: true }))).toBeUndefined();
    expect(configError(() => checkField("m", "hbm", { kind: "oneOf", values: ["channel", "ideal"], doc: "" })).message).toBe('m must be one of channel, ideal; got "hbm"');
    expect(configError(() => checkField("f", 1, { kind: "bool", doc: "" })).message).toBe("f must be true or false; got 1");
  });

  it("refuses __proto__, constructor and prototype keys at any depth, and parses strict JSON", () => {
    expect(configError(() => rejectUnsafeKeys("a", JSON.parse('{"x":[{"__proto__":1}]}'))).field).toBe("a.x[0].__proto__");
    expect(configError(() => rejectUnsafeKeys("a", { y: { constructor: 1 } })).field).toBe("a.y.constructor");
    expect(configError(() => parseJson("--net", '{"prototype":{}}')).message).toBe('--net.prototype must not be used as a key (__proto__, constructor, prototype are refused); got "prototype"');
    expect(configError(() => parseJson("--arch", "{bad")).message).toMatch(/^--arch must be valid JSON; got "\{bad"/);
    const deep = "[".repeat(20000) + "]".repeat(20000);
    expect(parseJson("--x", deep)).toBeInstanceOf(Array);
  });
});
