/**
 * `convsim merge PART...`: the report of a run made in shards (`sweep|compare|map --shard i/n`),
 * from the shards' JSON Lines, byte for byte the report the run without shards prints, in any
 * format. The parts are checked first (src/report/shard.ts): one command, one set of options,
 * every shard once, every record once and complete; a problem names the file and line.
 */
import { readFileSync } from "node:fs";
import { ConfigError } from "../core/errors.js";
import { OUTPUT_FORMATS } from "../report/format.js";
import { readShardParts, type ShardPart } from "../report/shard.js";
import { parseOptions, type Command, type Io } from "./args.js";
import { compareShardable } from "./compare.js";
import { mapShardable } from "./map.js";
import { mergeTarget, type MergeTarget } from "./shard.js";
import { sweepShardable } from "./sweep.js";

/** The commands whose shards merge knows how to report, by name. A new shardable command adds a line here. */
export const MERGE_TARGETS: readonly MergeTarget[] = [mergeTarget(sweepShardable), mergeTarget(compareShardable), mergeTarget(mapShardable)];

const USAGE = `Usage: convsim merge PART... [options]

Prints the report of a run made in shards (convsim ${MERGE_TARGETS.map((t) => t.name).join("|")} --shard i/n), from the
shards' JSON Lines files: the same bytes as the run without --shard, in any format. Refuses
parts of different commands or options, a missing or repeated shard, a repeated or truncated
record, naming the file and line. Exit 1 if any merged simulation failed to verify.

  PART...        the shards' files (e.g. parts/*.jsonl), each shard 0..n-1 exactly once
  --format F     ${OUTPUT_FORMATS.join(", ")} (default table)
  --out FILE     write the report to FILE instead of stdout
  --svg FILE     write the command's chart (sweep, compare; map draws none)
`;

function readPart(file: string): ShardPart {
  try {
    return { name: file, text: readFileSync(file, "utf8") };
  } catch (e) {
    throw new ConfigError("PART", file, "name a readable shard file", (e as Error).message);
  }
}

/** `convsim merge`: the report of a run made in shards. */
export const mergeCommand: Command = {
  name: "merge",
  summary: "Merge the JSON Lines of sweep|compare|map --shard runs into the report of the whole run",
  usage: USAGE,
  async run(argv: string[], io: Io): Promise<number> {
    const { values, positionals } = parseOptions(argv, { format: { type: "string" }, out: { type: "string" }, svg: { type: "string" } }, true);
    const merged = readShardParts(positionals.map(readPart));
    const target = MERGE_TARGETS.find((t) => t.name === merged.command);
    if (!target) throw new ConfigError(`${positionals[0]}:1 command`, merged.command, `be a command merge knows (${MERGE_TARGETS.map((t) => t.name).join(", ")})`);
    return target.print(merged, values, io);
  },
};
