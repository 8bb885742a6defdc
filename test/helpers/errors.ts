/** The ConfigError a call throws (the tests of bad input). */
import { expect } from "vitest";
import { ConfigError } from "../../src/core/errors.js";

/** The ConfigError `f` throws; fails the test when it throws something else or nothing. */
export function configError(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error("expected a ConfigError, nothing was thrown");
}
