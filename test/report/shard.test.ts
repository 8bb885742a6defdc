import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import {
  canonicalJson,
  inShard,
  optionsHash,
  parseShard,
  readShardParts,
  resultsInOrder,
  shardLines,
  shardOfItem,
  stableHash,
  type ShardPart,
} from "../../src/report/shard.js";

const items = Array.from({ length: 40 }, (_, i) => ({ layer: { c: i % 5, hw: 8 + i }, arch: "chen2020", dataflow: ["ws", "rs"][i % 2] }));
const spec = { layer: "c=4,hw=8", capacities: [256, 512], timing: false };

/** The n parts of a made-up run: each item's result is its index. */
function parts(n: number, command = "sweep", s: unknown = spec, list: readonly unknown[] = items): ShardPart[] {
  return Array.from({ length: n }, (_, index) => {
    const mine = list.map((item, i) => ({ item, i })).filter(({ item }) => inShard(item, { index, count: n }));
    return { name: `p${index}.jsonl`, text: shardLines(command, s, { index, count: n }, mine.map((m) => m.item), mine.map((m) => ({ index: m.i, wallMs: 7 })), list.length) };
  });
}

function edit(part: ShardPart, line: number, f: (o: Record<string, unknown>) => unknown): ShardPart {
  const lines = part.text.split("\n");
  lines[line - 1] = JSON.stringify(f(JSON.parse(lines[line - 1]!) as Record<string, unknown>));
  return { ...part, text: lines.join("\n") };
}

describe("stable partition", () => {
  it("hashes the canonical JSON: key order and undefined members do not matter, values do", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { y: 1, x: 0 }], c: undefined } })).toBe('{"a":{"d":[2,{"x":0,"y":1}]},"b":1}');
    expect(stableHash({ a: 1, b: 2 })).toBe(stableHash({ b: 2, a: 1 }));
    expect(stableHash({ a: 1, b: 2 })).not.toBe(stableHash({ a: 1, b: 3 }));
    expect(stableHash({ a: 1 })).toMatch(/^[0-9a-f]{64}$/);
  });

  it("puts an item in the same shard whatever other items the run has", () => {
    const before = items.map((it) => shardOfItem(it, 4));
    const more = [{ layer: { c: 99, hw: 1 }, arch: "eyeriss", dataflow: "os" }, ...items.slice().reverse()];
    const after = new Map(more.map((it) => [canonicalJson(it), shardOfItem(it, 4)]));
    items.forEach((it, i) => expect(after.get(canonicalJson(it))).toBe(before[i]));
    // every shard gets some of 40 items, and each item lands in exactly one shard
    expect(new Set(before).size).toBe(4);
    for (const it of items) expect([0, 1, 2, 3].filter((index) => inShard(it, { index, count: 4 }))).toHaveLength(1);
  });
});

describe("parseShard", () => {
  it("reads i/n and refuses what is not 0 <= i < n, naming the flag and the rule", () => {
    expect(parseShard(undefined, undefined, {})).toBeUndefined();
    expect(parseShard("2/4", undefined, {})).toEqual({ index: 2, count: 4 });
    expect(() => parseShard("4/4", undefined, {})).toThrow(/--shard must give a shard index i < n \(0-based: 0 \.\. 3\); got "4\/4"/);
    expect(() => parseShard("1/0", undefined, {})).toThrow(/--shard must have a shard count n >= 1/);
    for (const bad of ["-1/3", "1.5/3", "a/b", "3", ""]) expect(() => parseShard(bad, undefined, {})).toThrow(ConfigError);
    expect(() => parseShard("1/3", "3", {})).toThrow(/--shards must be used only with --shard auto/);
    expect(() => parseShard(undefined, "3", {})).toThrow(/--shards must be used with --shard auto/);
  });

  it("auto: a Slurm array's task id counted from SLURM_ARRAY_TASK_MIN in steps", () => {
    expect(parseShard("auto", undefined, { SLURM_ARRAY_TASK_ID: "3", SLURM_ARRAY_TASK_COUNT: "4", SLURM_ARRAY_TASK_MIN: "0" })).toEqual({ index: 3, count: 4 });
    expect(parseShard("auto", undefined, { SLURM_ARRAY_TASK_ID: "1", SLURM_ARRAY_TASK_COUNT: "4", SLURM_ARRAY_TASK_MIN: "1" })).toEqual({ index: 0, count: 4 });
    expect(parseShard("auto", "3", { SLURM_ARRAY_TASK_ID: "14", SLURM_ARRAY_TASK_COUNT: "3", SLURM_ARRAY_TASK_MIN: "10", SLURM_ARRAY_TASK_STEP: "2" })).toEqual({ index: 2, count: 3 });
    expect(() => parseShard("auto", undefined, { SLURM_ARRAY_TASK_ID: "4", SLURM_ARRAY_TASK_COUNT: "4" })).toThrow(/SLURM_ARRAY_TASK_ID must give a shard index \(ID - MIN\) \/ STEP in 0 \.\. COUNT-1.*--array=0-3; got "SLURM_ARRAY_TASK_ID=4/);
    expect(() => parseShard("auto", undefined, { SLURM_ARRAY_TASK_ID: "2" })).toThrow(/SLURM_ARRAY_TASK_COUNT must be set with SLURM_ARRAY_TASK_ID/);
    expect(() => parseShard("auto", undefined, { SLURM_ARRAY_TASK_ID: "x", SLURM_ARRAY_TASK_COUNT: "4" })).toThrow(/SLURM_ARRAY_TASK_ID must be a non-negative integer/);
    expect(() => parseShard("auto", "5", { SLURM_ARRAY_TASK_ID: "0", SLURM_ARRAY_TASK_COUNT: "4" })).toThrow(/--shards must equal SLURM_ARRAY_TASK_COUNT \(4\)/);
  });

  it("auto: a Kubernetes Indexed Job's JOB_COMPLETION_INDEX with --shards", () => {
    expect(parseShard("auto", "8", { JOB_COMPLETION_INDEX: "5" })).toEqual({ index: 5, count: 8 });
    expect(() => parseShard("auto", undefined, { JOB_COMPLETION_INDEX: "5" })).toThrow(/--shards must be given with --shard auto under a Kubernetes Indexed Job \(JOB_COMPLETION_INDEX=5\)/);
    expect(() => parseShard("auto", "4", { JOB_COMPLETION_INDEX: "5" })).toThrow(/JOB_COMPLETION_INDEX must give a shard index i < n/);
    expect(() => parseShard("auto", "0", { JOB_COMPLETION_INDEX: "0" })).toThrow(/--shards must be a positive integer/);
    expect(() => parseShard("auto", undefined, {})).toThrow(/--shard must run in a Slurm job array .* or a Kubernetes Indexed Job .*; neither is set; got "auto"/);
  });
});

describe("shard files and merge", () => {
  it("writes a header and a record per item; merge gives every result back in the run's order", () => {
    const ps = parts(3);
    const header = JSON.parse(ps[0]!.text.split("\n")[0]!) as Record<string, unknown>;
    expect(header).toMatchObject({ convsim: "shard", version: 1, command: "sweep", shard: "0/3", totalItems: 40, optionsHash: optionsHash("sweep", spec), spec });
    const record = JSON.parse(ps[1]!.text.split("\n")[1]!) as Record<string, unknown>;
    expect(record).toMatchObject({ convsim: "record", command: "sweep", shard: "1/3", optionsHash: optionsHash("sweep", spec) });
    expect(record.result).not.toHaveProperty("wallMs"); // no wall time unless timing
    const merged = readShardParts(ps.slice().reverse());
    expect(merged).toMatchObject({ command: "sweep", spec, count: 3 });
    expect(resultsInOrder(merged, items)).toEqual(items.map((_, index) => ({ index })));
  });

  it("writes a header for a shard with no item, so that a missing shard shows", () => {
    const one = [items[0]!];
    const ps = parts(8, "sweep", spec, one);
    expect(ps.filter((p) => p.text.split("\n").length === 2)).toHaveLength(7);
    expect(resultsInOrder(readShardParts(ps), one)).toEqual([{ index: 0 }]);
    // the part of the one item is missing: merge says which shard
    const k = shardOfItem(one[0], 8);
    expect(() => readShardParts(ps.filter((_, i) => i !== k))).toThrow(`parts must include every shard of 8; missing ${k}/8`);
  });

  it("refuses missing and repeated shards, other commands and options, naming the file", () => {
    const ps = parts(3);
    expect(() => readShardParts([ps[0]!, ps[2]!])).toThrow(/missing 1\/3/);
    expect(() => readShardParts([ps[0]!, ps[1]!, { ...ps[1]!, name: "copy.jsonl" }, ps[2]!])).toThrow(/copy\.jsonl:1 shard must appear once; p1\.jsonl holds the same shard/);
    const other = parts(3, "compare")[1]!;
    expect(() => readShardParts([ps[0]!, { ...other, name: "c1.jsonl" }, ps[2]!])).toThrow(/c1\.jsonl:1 command must be "sweep" as in p0\.jsonl/);
    const opts = parts(3, "sweep", { ...spec, capacities: [256] })[1]!;
    expect(() => readShardParts([ps[0]!, { ...opts, name: "o1.jsonl" }, ps[2]!])).toThrow(/o1\.jsonl:1 optionsHash must be .* as in p0\.jsonl: the parts were run with different options/);
    expect(() => readShardParts([ps[0]!, parts(4)[1]!])).toThrow(/p1\.jsonl:1 shard must have n = 3 as in p0\.jsonl/);
    expect(() => readShardParts([])).toThrow(/at least one shard file/);
  });

  it("refuses a damaged part, naming the file and the line", () => {
    const ps = parts(2);
    const p = ps[0]!;
    const lines = p.text.split("\n");
    expect(() => readShardParts([{ ...p, text: "" }, ps[1]!])).toThrow(/p0\.jsonl must be a shard file .* \(it is empty\)/);
    expect(() => readShardParts([{ ...p, text: lines.slice(0, -2).join("\n") }, ps[1]!])).toThrow(/p0\.jsonl must hold the \d+ records its header announces/);
    expect(() => readShardParts([{ ...p, text: lines.slice(1).join("\n") }, ps[1]!])).toThrow(/p0\.jsonl:1 convsim must be "shard"/);
    expect(() => readShardParts([{ ...p, text: [lines[0], "{not json", ...lines.slice(2)].join("\n") }, ps[1]!])).toThrow(/p0\.jsonl:2 must be a JSON line of a convsim shard file/);
    expect(() => readShardParts([edit(p, 1, (h) => ({ ...h, spec: { ...spec, timing: true } })), ps[1]!])).toThrow(/p0\.jsonl:1 optionsHash must match the hash of the header's command and spec/);
    expect(() => readShardParts([edit(p, 3, (r) => ({ ...r, item: { edited: true } })), ps[1]!])).toThrow(/p0\.jsonl:3 key must be the hash of the record's item/);
    expect(() => readShardParts([edit(p, 2, (r) => ({ ...r, shard: "1/2" })), ps[1]!])).toThrow(/p0\.jsonl:2 shard must be 0\/2, the header's/);
    // a record moved to the other shard's file (its header's count adjusted): in the wrong shard
    const q = ps[1]!.text.split("\n");
    const moved = [JSON.stringify({ ...JSON.parse(lines[0]!), items: Number(JSON.parse(lines[0]!).items) + 1 }), ...lines.slice(1, -1), JSON.stringify({ ...JSON.parse(q[1]!), shard: "0/2" }), ""].join("\n");
    expect(() => readShardParts([{ ...p, text: moved }, ps[1]!])).toThrow(new RegExp(`p0\\.jsonl:${lines.length - 1 + 1} item must belong to shard 0/2; it hashes to shard 1/2`));
  });

  it("refuses a record twice, and a run whose records do not cover its items", () => {
    const ps = parts(1);
    const lines = ps[0]!.text.split("\n");
    const twice = [JSON.stringify({ ...JSON.parse(lines[0]!), items: 41 }), ...lines.slice(1, -1), lines[1], ""].join("\n");
    expect(() => readShardParts([{ ...ps[0]!, text: twice }])).toThrow(/p0\.jsonl:42 must be a record merge has not seen; p0\.jsonl:2 holds the same item/);
    const merged = readShardParts(ps);
    expect(() => resultsInOrder(merged, [...items.slice(1), { other: 1 }])).toThrow(/parts must hold a record of every work item; shard 0\/1 lacks this one; got "{\\"other\\":1}"/);
  });
});
