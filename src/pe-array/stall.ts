/**
 * Stall attribution: every PE-cycle is either busy (the PE issued at least one MAC) or idle for
 * exactly one cause. Two causes are the array's own: `pipeline` (a wave's pipeline fill/drain
 * cycles, after its last issue) and `unmapped` (a PE outside the running wave's rectangle: no work
 * mapped to it). The others are what the driver says it is waiting for, posted on the array's
 * `waitReason` port (one cycle of latency, like every message): `dram`, `gbuf` (global-buffer
 * port bandwidth), `bankConflict`, `network` (bus or link bandwidth), `drain` (outputs leaving the
 * array), and `control` (the default: the driver's own handshakes, or nothing to do).
 * Invariant (tested): busy + sum of idle = PEs x cycles.
 */

/** Causes the driver may post. */
export type WaitReason = "dram" | "gbuf" | "bankConflict" | "network" | "drain" | "control";

/** Every cause of an idle PE-cycle. */
export type StallCause = WaitReason | "pipeline" | "unmapped";

/** Every cause, in counter-registration order. */
export const STALL_CAUSES: readonly StallCause[] = Object.freeze(["dram", "gbuf", "bankConflict", "network", "drain", "control", "pipeline", "unmapped"]);

/** Whether `r` is a cause the driver may post. */
export function isWaitReason(r: unknown): r is WaitReason {
  return r === "dram" || r === "gbuf" || r === "bankConflict" || r === "network" || r === "drain" || r === "control";
}
