/** The PE array, its PEs and the on-chip network. */
export * from "./pe-set.js";
export * from "./stall.js";
export * from "./wave.js";
export * from "./commands.js";
export * from "./pe-array.js";
export * from "./noc.js";
export * from "./wave-kernels.js";
export type { Phase } from "./stall-account.js";
