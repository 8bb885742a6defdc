/**
 * `--shard i/n | auto` for the commands whose work splits into items (`sweep`, `compare`, `map`), and
 * the path from records to a report that both an unsharded run and `convsim merge` take, so the
 * two print the same bytes. The partition, the JSON Lines and the merge checks are in
 * src/report/shard.ts; docs/scale-out.md shows Slurm and Kubernetes jobs.
 *
 * A command opts in by describing itself as a {@link ShardableCommand} (its spec, its work
 * items and their identities, how to run items, how to report results) and calling
 * {@link runShardable} from its `run`; `convsim merge` finds it by name in its list (merge.ts).
 * A new command needs: a JSON-serializable spec holding every option its report
 * depends on (with `timing`), `items(spec)` in report order, `identity(item)` (plain JSON: what
 * makes the item, e.g. layer, arch, capacity, objective), `run`, `report`, `ok`; the options
 * {@link SHARD_OPTIONS} in its parser; a line in merge.ts's list.
 */
import { ConfigError } from "../core/errors.js";
import { formatJson, requireOutputFormat, type OutputFormat } from "../report/format.js";
import { formatShard, inShard, parseShard, readShardParts, resultsInOrder, shardLines, wallTimeReplacer, type MergedShards, type ShardEnv } from "../report/shard.js";
import type { Io } from "./args.js";
import { jobsOption } from "./jobs.js";
import { emit, writeSvg } from "./run.js";

/** The options of a command that can run a shard: `--shard`, `--shards`, `--timing`. */
export const SHARD_OPTIONS = {
  shard: { type: "string" },
  shards: { type: "string" },
  timing: { type: "boolean" },
} as const;

/** The options of a command's report (a spec's base): whether wall-clock times are shown. */
export interface ReportSpecBase {
  /** Keep simulation wall times (`wallMs`) in JSON reports and shard records (`--timing`). */
  readonly timing: boolean;
}

/**
 * A command whose work is a list of items that run independently.
 * @typeParam S the report spec: plain JSON, every option the report depends on.
 * @typeParam I a work item.
 * @typeParam R an item's result: plain JSON.
 */
export interface ShardableCommand<S extends ReportSpecBase, I, R> {
  readonly name: string;
  /** The run's work items, in the order the report lists them. */
  items(spec: S): readonly I[];
  /** What makes an item (plain JSON); its hash picks the item's shard. */
  identity(item: I): unknown;
  /** Runs items; one result per item, in order. */
  run(spec: S, items: readonly I[], options: { readonly jobs: number; readonly io: Io }): Promise<R[]>;
  /** The report text in a format, from every item's result (in `items` order). */
  report(spec: S, results: readonly R[], format: OutputFormat): string;
  /** The chart (`--svg`), when the command draws one. */
  svg?(spec: S, results: readonly R[]): string;
  /** Whether every result verified (exit 0) or not (exit 1). */
  ok(results: readonly R[]): boolean;
}

/** Where a report goes: `--format`, `--out`, `--svg` as given. */
export interface ReportOutputOptions {
  readonly format?: string;
  readonly out?: string;
  readonly svg?: string;
}

/** A command as merge sees it: its name, and how it prints a report from merged parts. */
export interface MergeTarget {
  readonly name: string;
  /** Prints the report of merged parts; resolves to the exit code. */
  print(merged: MergedShards, output: ReportOutputOptions, io: Io): number;
}

/** A {@link ShardableCommand} as a {@link MergeTarget}. */
export function mergeTarget<S extends ReportSpecBase, I, R>(cmd: ShardableCommand<S, I, R>): MergeTarget {
  return { name: cmd.name, print: (merged, output, io) => printReport(cmd, merged, output, io) };
}

function printReport<S extends ReportSpecBase, I, R>(cmd: ShardableCommand<S, I, R>, merged: MergedShards, output: ReportOutputOptions, io: Io): number {
  const format = requireOutputFormat("--format", output.format ?? "table");
  if (output.svg !== undefined && !cmd.svg) throw new ConfigError("--svg", output.svg, `be left out: convsim ${cmd.name} draws no chart`);
  const spec = merged.spec as S;
  const results = resultsInOrder(merged, cmd.items(spec).map((i) => cmd.identity(i))) as R[];
  emit(io, cmd.report(spec, results, format), output.out);
  if (output.svg !== undefined && cmd.svg) writeSvg(io, output.svg, cmd.svg(spec, results));
  return cmd.ok(results) ? 0 : 1;
}

/** The option values {@link runShardable} reads. */
export interface ShardRunValues extends ReportOutputOptions {
  readonly shard?: string;
  readonly shards?: string;
  readonly jobs?: string;
}

/**
 * Runs a command's items and prints its report; with `--shard`, runs only the shard's items and
 * writes their records as JSON Lines (to `--out` or stdout) instead. Without `--shard` the report
 * is built from the same records, read back as merge reads them, so `convsim merge` of the
 * shards prints the same bytes. Every option is checked before any item runs.
 */
export async function runShardable<S extends ReportSpecBase, I, R>(cmd: ShardableCommand<S, I, R>, spec: S, values: ShardRunValues, io: Io, env: ShardEnv = process.env): Promise<number> {
  const shard = parseShard(values.shard, values.shards, env);
  if (shard !== undefined) {
    const rule = "be left out with --shard: a shard writes JSON Lines; give it to convsim merge";
    if (values.format !== undefined) throw new ConfigError("--format", values.format, rule);
    if (values.svg !== undefined) throw new ConfigError("--svg", values.svg, rule);
  } else {
    requireOutputFormat("--format", values.format ?? "table");
  }
  const jobs = jobsOption(values.jobs);
  const all = cmd.items(spec);
  const mine = shard ? all.filter((i) => inShard(cmd.identity(i), shard)) : all;
  const results = await cmd.run(spec, mine, { jobs, io });
  const text = shardLines(cmd.name, spec, shard ?? { index: 0, count: 1 }, mine.map((i) => cmd.identity(i)), results, all.length, spec.timing);
  if (shard !== undefined) {
    emit(io, text, values.out, `shard ${formatShard(shard)} (${mine.length} of ${all.length} items)`);
    return cmd.ok(results) ? 0 : 1;
  }
  return printReport(cmd, readShardParts([{ name: `convsim ${cmd.name}`, text }]), values, io);
}

/** A report's JSON ({@link formatJson}), without simulation wall times (`wallMs`) unless `timing`. */
export function reportJson(value: unknown, timing: boolean): string {
  return formatJson(timing ? value : JSON.parse(JSON.stringify(value, wallTimeReplacer(false))));
}

/** The usage lines of {@link SHARD_OPTIONS}, the descriptions starting at column `width`. */
export function shardUsage(width: number): string {
  const line = (flag: string, text: string[]) => [`  ${flag}`.padEnd(width) + text[0], ...text.slice(1).map((t) => " ".repeat(width) + t)].join("\n");
  return [
    line("--shard i/n", [
      "run only shard i of n (0-based) of the work items (split by a stable",
      "hash of each item) and write JSON Lines for convsim merge; auto: i and n",
      "from a Slurm job array or a Kubernetes Indexed Job (docs/scale-out.md)",
    ]),
    line("--shards N", ["with --shard auto in a Kubernetes Indexed Job: n, the Job's completions"]),
    line("--timing", ["keep simulation wall times (wallMs) in JSON reports and records, and", "show them in the tables and CSV (a \"sim time\" column)"]),
  ].join("\n");
}
