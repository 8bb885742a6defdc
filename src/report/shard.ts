/**
 * Shards and merge: a design-space run split over machines by the schedulers clusters already
 * run (a Slurm job array, a Kubernetes Indexed Job), then merged into the report an unsharded run
 * prints (docs/scale-out.md).
 *
 * - **Work items.** A command (`sweep`, `compare`, `map`) lists its work items; each has an
 *   identity, a plain JSON value (layer, architecture, capacity, dataflow, objective, ...).
 * - **Stable partition.** An item belongs to shard `h mod n`, where `h` is the first 48 bits of
 *   the SHA-256 of the item's canonical JSON ({@link canonicalJson}: object keys sorted,
 *   undefined dropped). It depends on the item alone, not on its position in the list: adding or
 *   removing items never moves the others to another shard.
 * - **JSON Lines.** A shard's output is one header line (`"convsim": "shard"`: the command, the
 *   hash of its options, the shard `i/n`, its item count, the run's item count, and the options
 *   themselves as the command's report spec), then one record line per item of that shard
 *   (`"convsim": "record"`: command, options hash, shard, the item's key and identity, its
 *   result). The header is written even when a shard holds no item, so a missing shard shows.
 * - **Merge.** {@link readShardParts} refuses a part that is not a shard, parts of different
 *   commands or options, a duplicate or missing shard, a duplicate record, a record in the wrong
 *   shard and a truncated part, naming the file and line; the command then rebuilds its report
 *   from the spec and the records ({@link resultsInOrder}).
 */
import { createHash } from "node:crypto";
import { ConfigError } from "../core/errors.js";

/** One shard of a run: index `index` of `count`, 0 <= index < count. */
export interface ShardSpec {
  readonly index: number;
  readonly count: number;
}

/** The environment variables `--shard auto` reads (a subset of `process.env`). */
export type ShardEnv = Readonly<Record<string, string | undefined>>;

/** The format version of shard files; merge refuses another. */
export const SHARD_FORMAT_VERSION = 1;

/** JSON with object keys sorted at every level and undefined members dropped: the same value, the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const o = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
  });
}

/** The hex SHA-256 of a value's {@link canonicalJson}. */
export function stableHash(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex");
}

/** The shard (0 .. count-1) of a work item: the first 48 bits of its {@link stableHash}, mod count. */
export function shardOfItem(identity: unknown, count: number): number {
  return parseInt(stableHash(identity).slice(0, 12), 16) % count;
}

/** Whether a work item belongs to a shard. */
export function inShard(identity: unknown, shard: ShardSpec): boolean {
  return shardOfItem(identity, shard.count) === shard.index;
}

/** `i/n`, as records carry it. */
export function formatShard(s: ShardSpec): string {
  return `${s.index}/${s.count}`;
}

function integerText(field: string, text: string, rule: string): number {
  if (!/^\d+$/.test(text.trim())) throw new ConfigError(field, text, rule);
  return Number(text.trim());
}

function checkedShard(field: string, value: string, index: number, count: number): ShardSpec {
  if (count < 1) throw new ConfigError(field, value, "have a shard count n >= 1");
  if (index >= count) throw new ConfigError(field, value, `give a shard index i < n (0-based: 0 .. ${count - 1})`);
  return { index, count };
}

/** `i/n` with integers 0 <= i < n. */
function parseFraction(field: string, text: string): ShardSpec {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new ConfigError(field, text, "be i/n (integers, 0 <= i < n, e.g. 0/4) or auto");
  return checkedShard(field, text, Number(m[1]), Number(m[2]));
}

/**
 * The shard of a Slurm job array: `SLURM_ARRAY_TASK_ID` counted from `SLURM_ARRAY_TASK_MIN`
 * (default 0) in steps of `SLURM_ARRAY_TASK_STEP` (default 1), of `SLURM_ARRAY_TASK_COUNT`.
 * `--array=1-8` and `--array=0-7` both give shards 0/8 .. 7/8.
 */
function slurmShard(env: ShardEnv, shards: number | undefined): ShardSpec {
  const id = integerText("SLURM_ARRAY_TASK_ID", env.SLURM_ARRAY_TASK_ID!, "be a non-negative integer (set by Slurm in a job array)");
  const countText = env.SLURM_ARRAY_TASK_COUNT;
  if (countText === undefined) throw new ConfigError("SLURM_ARRAY_TASK_COUNT", countText, "be set with SLURM_ARRAY_TASK_ID for --shard auto (Slurm sets both in a job array)");
  const count = integerText("SLURM_ARRAY_TASK_COUNT", countText, "be a positive integer");
  const min = integerText("SLURM_ARRAY_TASK_MIN", env.SLURM_ARRAY_TASK_MIN ?? "0", "be a non-negative integer");
  const step = integerText("SLURM_ARRAY_TASK_STEP", env.SLURM_ARRAY_TASK_STEP ?? "1", "be a positive integer");
  if (step < 1) throw new ConfigError("SLURM_ARRAY_TASK_STEP", env.SLURM_ARRAY_TASK_STEP, "be a positive integer");
  if (shards !== undefined && shards !== count) throw new ConfigError("--shards", shards, `equal SLURM_ARRAY_TASK_COUNT (${count}) under a Slurm job array`);
  const offset = id - min;
  const text = `SLURM_ARRAY_TASK_ID=${id}, SLURM_ARRAY_TASK_MIN=${min}, SLURM_ARRAY_TASK_STEP=${step}, SLURM_ARRAY_TASK_COUNT=${count}`;
  if (offset < 0 || offset % step !== 0 || offset / step >= count) {
    throw new ConfigError("SLURM_ARRAY_TASK_ID", text, "give a shard index (ID - MIN) / STEP in 0 .. COUNT-1: submit a contiguous array such as --array=0-" + (count - 1));
  }
  return checkedShard("SLURM_ARRAY_TASK_ID", text, offset / step, count);
}

/**
 * The `--shard` option (with `--shards`): `i/n`, or `auto`, which reads the index from a Slurm
 * job array (`SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_COUNT`, `SLURM_ARRAY_TASK_MIN`,
 * `SLURM_ARRAY_TASK_STEP`) or a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`, with
 * `--shards n`, the Job's completions). Undefined when `--shard` is not given.
 * @throws ConfigError naming the flag or variable, the value and the rule.
 */
export function parseShard(shard: string | undefined, shards: string | undefined, env: ShardEnv): ShardSpec | undefined {
  if (shard === undefined) {
    if (shards !== undefined) throw new ConfigError("--shards", shards, "be used with --shard auto (it gives n under a Kubernetes Indexed Job)");
    return undefined;
  }
  if (shard.trim() !== "auto") {
    if (shards !== undefined) throw new ConfigError("--shards", shards, "be used only with --shard auto (--shard i/n gives n itself)");
    return parseFraction("--shard", shard);
  }
  const n = shards === undefined ? undefined : integerText("--shards", shards, "be a positive integer");
  if (n !== undefined && n < 1) throw new ConfigError("--shards", shards, "be a positive integer");
  if (env.SLURM_ARRAY_TASK_ID !== undefined) return slurmShard(env, n);
  const k8s = env.JOB_COMPLETION_INDEX;
  if (k8s !== undefined) {
    const index = integerText("JOB_COMPLETION_INDEX", k8s, "be a non-negative integer (set by Kubernetes in an Indexed Job)");
    if (n === undefined) throw new ConfigError("--shards", shards, `be given with --shard auto under a Kubernetes Indexed Job (JOB_COMPLETION_INDEX=${k8s}): the Job's completions`);
    return checkedShard("JOB_COMPLETION_INDEX", `${k8s} with --shards ${n}`, index, n);
  }
  throw new ConfigError("--shard", shard, "run in a Slurm job array (SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT set) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX set, with --shards n) to be auto; neither is set");
}

/** The first line of a shard file. */
export interface ShardHeader {
  readonly convsim: "shard";
  readonly version: number;
  readonly command: string;
  /** {@link optionsHash} of the command and its spec. */
  readonly optionsHash: string;
  /** `i/n`. */
  readonly shard: string;
  /** Records in this file. */
  readonly items: number;
  /** Work items of the whole run (all shards). */
  readonly totalItems: number;
  /** The command's report spec: every option the report depends on. */
  readonly spec: unknown;
}

/** One work item's line in a shard file. */
export interface ShardRecord {
  readonly convsim: "record";
  readonly command: string;
  readonly optionsHash: string;
  readonly shard: string;
  /** {@link stableHash} of the item's identity. */
  readonly key: string;
  readonly item: unknown;
  readonly result: unknown;
}

/** The hash that ties records to one run: SHA-256 of the command, the format version and the spec (16 hex digits). */
export function optionsHash(command: string, spec: unknown): string {
  return stableHash({ command, version: SHARD_FORMAT_VERSION, spec }).slice(0, 16);
}

/** A JSON replacer that drops `wallMs` (simulation wall time) unless timings are asked for. */
export function wallTimeReplacer(timing: boolean): ((key: string, value: unknown) => unknown) | undefined {
  return timing ? undefined : (k, v) => (k === "wallMs" ? undefined : v);
}

/**
 * A shard's JSON Lines: the header, then one record per item (identities and results in the same
 * order). Results are serialized as JSON, without `wallMs` unless `timing`.
 */
export function shardLines(command: string, spec: unknown, shard: ShardSpec, items: readonly unknown[], results: readonly unknown[], totalItems: number, timing = false): string {
  const hash = optionsHash(command, spec);
  const s = formatShard(shard);
  const header: ShardHeader = { convsim: "shard", version: SHARD_FORMAT_VERSION, command, optionsHash: hash, shard: s, items: items.length, totalItems, spec };
  const lines = [JSON.stringify(header)];
  items.forEach((item, i) => {
    const record: ShardRecord = { convsim: "record", command, optionsHash: hash, shard: s, key: stableHash(item), item, result: results[i] };
    lines.push(JSON.stringify(record, wallTimeReplacer(timing)));
  });
  return lines.join("\n") + "\n";
}

/** A part to merge: its name (for messages) and its text. */
export interface ShardPart {
  readonly name: string;
  readonly text: string;
}

/** A record as merge found it, with where it came from. */
export interface MergedRecord {
  readonly result: unknown;
  readonly item: unknown;
  /** `file:line`. */
  readonly where: string;
}

/** The parts of a run, checked and put together. */
export interface MergedShards {
  readonly command: string;
  readonly spec: unknown;
  readonly count: number;
  /** Records by key. */
  readonly records: ReadonlyMap<string, MergedRecord>;
}

function parseLine(where: string, line: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    throw new ConfigError(where, line.length > 80 ? line.slice(0, 77) + "..." : line, "be a JSON line of a convsim shard file", (e as Error).message);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new ConfigError(where, line, "be a JSON object (a convsim shard header or record)");
  return v as Record<string, unknown>;
}

function readHeader(part: ShardPart, line: string | undefined): ShardHeader & { index: number; count: number } {
  const where = `${part.name}:1`;
  if (line === undefined || line.trim() === "") throw new ConfigError(part.name, "", "be a shard file written by convsim sweep|compare|map --shard (it is empty)");
  const h = parseLine(where, line);
  if (h.convsim !== "shard") throw new ConfigError(`${where} convsim`, h.convsim, `be "shard": the first line of a shard file is its header (write parts with --shard)`);
  if (h.version !== SHARD_FORMAT_VERSION) throw new ConfigError(`${where} version`, h.version, `be ${SHARD_FORMAT_VERSION}, the shard format this convsim reads`);
  const m = /^(\d+)\/(\d+)$/.exec(String(h.shard));
  if (!m || Number(m[1]) >= Number(m[2])) throw new ConfigError(`${where} shard`, h.shard, "be i/n with 0 <= i < n");
  const header = h as unknown as ShardHeader;
  if (typeof header.command !== "string" || optionsHash(header.command, header.spec) !== header.optionsHash) {
    throw new ConfigError(`${where} optionsHash`, header.optionsHash, "match the hash of the header's command and spec (the file was edited or damaged)");
  }
  if (!Number.isInteger(header.items) || !Number.isInteger(header.totalItems)) throw new ConfigError(`${where} items`, header.items, "be integers (items, totalItems)");
  return { ...header, index: Number(m[1]), count: Number(m[2]) };
}

function checkSameRun(where: string, header: ShardHeader, first: { header: ShardHeader; name: string }): void {
  const f = first.header;
  if (header.command !== f.command) throw new ConfigError(`${where} command`, header.command, `be ${JSON.stringify(f.command)} as in ${first.name}: parts of different commands cannot merge`);
  if (header.optionsHash !== f.optionsHash) throw new ConfigError(`${where} optionsHash`, header.optionsHash, `be ${f.optionsHash} as in ${first.name}: the parts were run with different options`);
  if (header.shard.split("/")[1] !== f.shard.split("/")[1]) throw new ConfigError(`${where} shard`, header.shard, `have n = ${f.shard.split("/")[1]} as in ${first.name}`);
  if (header.totalItems !== f.totalItems) throw new ConfigError(`${where} totalItems`, header.totalItems, `be ${f.totalItems} as in ${first.name}`);
}

function readRecord(where: string, line: string, header: ShardHeader & { count: number; index: number }): ShardRecord {
  const r = parseLine(where, line) as unknown as ShardRecord;
  if (r.convsim !== "record") throw new ConfigError(`${where} convsim`, r.convsim, `be "record": every line after the header is a work item's record`);
  if (r.command !== header.command) throw new ConfigError(`${where} command`, r.command, `be ${JSON.stringify(header.command)}, the header's command`);
  if (r.optionsHash !== header.optionsHash) throw new ConfigError(`${where} optionsHash`, r.optionsHash, `be ${header.optionsHash}, the header's`);
  if (r.shard !== header.shard) throw new ConfigError(`${where} shard`, r.shard, `be ${header.shard}, the header's`);
  if (stableHash(r.item) !== r.key) throw new ConfigError(`${where} key`, r.key, "be the hash of the record's item (the line was edited or damaged)");
  const own = shardOfItem(r.item, header.count);
  if (own !== header.index) throw new ConfigError(`${where} item`, r.item, `belong to shard ${header.shard}; it hashes to shard ${own}/${header.count}`);
  return r;
}

/**
 * Reads and checks shard parts: every part a shard file of the same command, options and n;
 * each shard 0 .. n-1 exactly once; each part holding the records its header announces, each
 * record in its own shard, no record twice; `totalItems` records in all.
 * @throws ConfigError naming the file (and line) and what is wrong.
 */
export function readShardParts(parts: readonly ShardPart[]): MergedShards {
  if (parts.length === 0) throw new ConfigError("parts", [], "name at least one shard file (convsim merge parts/*.jsonl)");
  const records = new Map<string, MergedRecord>();
  const seen = new Map<number, string>();
  let first: { header: ShardHeader & { count: number }; name: string } | undefined;
  for (const part of parts) {
    const lines = part.text.split("\n");
    if (lines.at(-1) === "") lines.pop();
    const header = readHeader(part, lines[0]);
    first ??= { header, name: part.name };
    checkSameRun(`${part.name}:1`, header, first);
    const twin = seen.get(header.index);
    if (twin !== undefined) throw new ConfigError(`${part.name}:1 shard`, header.shard, `appear once; ${twin} holds the same shard`);
    seen.set(header.index, part.name);
    if (lines.length - 1 !== header.items) throw new ConfigError(part.name, `${lines.length - 1} records`, `hold the ${header.items} records its header announces (the part is truncated or was cut)`);
    lines.slice(1).forEach((line, i) => {
      const where = `${part.name}:${i + 2}`;
      const r = readRecord(where, line, header);
      const dup = records.get(r.key);
      if (dup) throw new ConfigError(where, r.item, `be a record merge has not seen; ${dup.where} holds the same item`);
      records.set(r.key, { result: r.result, item: r.item, where });
    });
  }
  const count = first!.header.count;
  const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
  if (missing.length > 0) throw new ConfigError("parts", parts.map((p) => p.name), `include every shard of ${count}; missing ${missing.map((i) => `${i}/${count}`).join(", ")}`);
  if (records.size !== first!.header.totalItems) throw new ConfigError("parts", `${records.size} records`, `hold the run's ${first!.header.totalItems} work items`);
  return { command: first!.header.command, spec: first!.header.spec, count, records };
}

/**
 * The merged results in the order of the run's work items (the order the report wants).
 * @throws ConfigError when an item has no record, naming the shard that should hold it.
 */
export function resultsInOrder(merged: MergedShards, items: readonly unknown[]): unknown[] {
  if (items.length !== merged.records.size) throw new ConfigError("parts", `${merged.records.size} records`, `hold the ${items.length} work items the spec lists`);
  return items.map((item) => {
    const r = merged.records.get(stableHash(item));
    if (!r) throw new ConfigError("parts", canonicalJson(item), `hold a record of every work item; shard ${shardOfItem(item, merged.count)}/${merged.count} lacks this one`);
    return r.result;
  });
}
