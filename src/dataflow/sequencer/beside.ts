/**
 * What may run beside a timeline (timeline.ts): the next dram tile's prefetch and output
 * write-backs past their GBuf read, whose tracks share no lane with it (docs/design-notes.md,
 * "Beside the next tile's prefetch", "Beside a write-back").
 */
import type { WriteBack } from "./accumulate.js";
import type { FetchPlan, Thread } from "./types.js";

/**
 * Threads running beside the program's main thread that a timeline may replay beside: the next
 * dram tile's prefetch (DRAM reads into GBuf writes), and output write-backs past their GBuf read
 * (their one step left is a DRAM write); and how many GBuf requests the prefetch sends in one step
 * at most (its writes; it must make no GBuf read).
 */
export interface Beside {
  readonly threads: readonly Thread[];
  readonly gbufWrites: number;
  readonly gbufReads: number;
}

/**
 * The threads running beside a program's main thread that a timeline may replay beside
 * ({@link Beside}): the next dram tile's prefetch, and the output write-backs past their GBuf
 * read (program.ts); undefined when none runs.
 */
export function besideOf(prefetch: { readonly thread: Thread; readonly plan: FetchPlan } | undefined, writeBacks: readonly (WriteBack | undefined)[]): Beside | undefined {
  const p = prefetch && !prefetch.thread.done ? prefetch : undefined;
  // (no list at the loop heads where nothing runs beside)
  let threads: Thread[] | undefined = p ? [p.thread] : undefined;
  for (const e of writeBacks) if (e && !e.thread.done && e.phase.dramOnly) (threads ??= []).push(e.thread);
  if (!threads) return undefined;
  return { threads, gbufWrites: p ? p.plan.writes.length : 0, gbufReads: p ? p.plan.copies.length : 0 };
}

/**
 * GBuf requests that may be on their way in one step, main thread and prefetch together, for a
 * replay beside a prefetch: half a link's capacity (a link holds 64, system.ts), so no send of
 * either is ever refused.
 */
export const BESIDE_SENDS = 32;

/** Whether a timeline that makes `reads` GBuf reads may run beside `beside` (TimelineReplay's besideOk rule). */
export function fitsBeside(reads: number, beside: Beside): boolean {
  return beside.gbufReads === 0 && beside.gbufWrites + reads <= BESIDE_SENDS;
}

/** Counters the tracks beside a timeline change: the DRAM channel's, and the GBuf's write side. */
export const BESIDE_COUNTER = /^(dram\.|gbuf\.(write|writeBytes|bankWrites|writeConflictCycles|add)\.)/;
