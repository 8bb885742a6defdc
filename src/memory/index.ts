/** The memory hierarchy: DRAM channel, global buffer, register files. */
export * from "./tensor-kind.js";
export * from "./dram.js";
export * from "./dram-timing.js";
export * from "./gbuf.js";
export * from "./gbuf-timing.js";
export * from "./regfile.js";
