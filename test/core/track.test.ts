import { describe, expect, it } from "vitest";
import { track, type Untracked } from "../../src/core/index.js";

interface Msg {
  readonly op: "read";
  readonly id: number;
  readonly box: number;
}

describe("track", () => {
  it("writes the transaction id into the planned message and returns the same object, each issue its own id", () => {
    const planned: Untracked<Msg> = { op: "read", box: 7 };
    const first = track<Msg>(planned, 41);
    expect(first).toBe(planned);
    expect(first.id).toBe(41);
    expect(first.box).toBe(7);
    const again = track<Msg>(planned, 42);
    expect(again.id).toBe(42);
    expect(Object.keys(again).sort()).toEqual(["box", "id", "op"]);
  });
});
