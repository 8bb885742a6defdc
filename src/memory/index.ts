/** The memory hierarchy: DRAM channel, global buffer, register files. */
export * from "./tensor-kind.js";
export * from "./dram.js";
export * from "./gbuf.js";
export * from "./regfile.js";
