// The random campaign (campaign.ts) in brief: a few cases of each kind with a fixed seed must
// run and pass (the campaign itself runs for minutes: `npm run campaign`), and a bad option is
// refused by name. That a failing case is reported is what its comparisons are for: the replay
// tests use the same `difference`.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import { CAMPAIGN_KINDS, runCampaign } from "./campaign.js";

describe("the random campaign", () => {
  for (const kind of CAMPAIGN_KINDS) {
    it(`runs ${kind} cases, each verified and replay on and off, checked and reference runs equal`, () => {
      const r = runCampaign({ kind, seed: "ci", cases: 12, checkedEvery: 3, referenceEvery: 4 });
      expect(r.failures).toEqual([]);
      expect(r.cases).toBe(12);
    });
  }

  it("draws the same cases from the same seed", () => {
    const a = runCampaign({ kind: "named", seed: "same", cases: 4 });
    const b = runCampaign({ kind: "named", seed: "same", cases: 4 });
    expect(b).toEqual(a);
  });

  it("refuses a bad kind or count, naming it", () => {
    expect(() => runCampaign({ kind: "random" as never, seed: "x", cases: 1 })).toThrow(ConfigError);
    expect(() => runCampaign({ kind: "named", seed: "x", cases: 0 })).toThrow(/cases must be a positive integer/);
    expect(() => runCampaign({ kind: "named", seed: "x" })).toThrow(/cases/);
    expect(() => runCampaign({ kind: "named", seed: "x", cases: 1, scale: 1.5 })).toThrow(/scale must be a positive integer/);
  });

  it("its command refuses a bad option by name, value and rule, with exit 2 (no count rounded)", () => {
    const tsx = join("node_modules", ".bin", "tsx");
    for (const [args, message] of [
      [["--cases", "2.5"], 'campaign: --cases must be a positive integer; got "2.5"'],
      [["--minutes", "abc"], 'campaign: --minutes must be a positive number; got "abc"'],
      [["--kind", "nope"], 'campaign: --kind must be one of named, mappings, fused, streamed, mapper; got "nope"'],
    ] as const) {
      const r = spawnSync(tsx, [join("test", "campaign", "main.ts"), ...args], { encoding: "utf8" });
      expect(r.status).toBe(2);
      expect(r.stderr.trim()).toBe(message);
    }
  });
});
