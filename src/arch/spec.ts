/**
 * The architecture: one frozen ArchSpec per accelerator, composed of one spec per component.
 * Declared once here; validated once by `archSpec()` (in presets.ts) before any component exists
 * (STYLE rules 5 and 6). Capacities carry their unit in the field name.
 *
 * Word conventions: inputs and weights are stored as elements of their operand type (int8,
 * uint8 or int16); partial sums and outputs as int32. A GBuf capacity is in bytes and a region
 * of n elements of a type of b bytes takes n*b bytes. Register-file partitions are counted in
 * entries: one entry holds one element of the partition's tensor (an int32 psum takes one entry).
 */

/**
 * The DRAM timing models `dram.model` may name (src/memory/dram-timing.ts): `channel`, the
 * burst pipeline of docs/timing.md (issue stage, latency, outstanding window, shared data bus);
 * `ideal`, unlimited bandwidth and no latency (a request completes in the cycle it is popped).
 */
export const DRAM_MODEL_NAMES = Object.freeze(["channel", "ideal"] as const);
/** A name of a DRAM timing model. */
export type DramModelName = (typeof DRAM_MODEL_NAMES)[number];

/**
 * The global-buffer timing models `gbuf.model` may name (src/memory/gbuf-timing.ts): `banked`,
 * the read and write lanes with ports and bank conflicts of docs/timing.md; `ideal`, unlimited
 * bandwidth and no latency (a request completes in the cycle it is popped).
 */
export const GBUF_MODEL_NAMES = Object.freeze(["banked", "ideal"] as const);
/** A name of a global-buffer timing model. */
export type GbufModelName = (typeof GBUF_MODEL_NAMES)[number];

/** The DRAM channel. */
export interface DramSpec {
  /** Data-bus bandwidth, bytes per cycle (reads and writes share the bus). */
  readonly bytesPerCycle: number;
  /** Cycles from a burst's issue to its data's arrival. */
  readonly latencyCycles: number;
  /** Burst size in bytes; a request is split into aligned bursts. */
  readonly burstBytes: number;
  /** Maximum bursts in flight. */
  readonly maxOutstanding: number;
  /**
   * Bursts the issue stage may issue per cycle. Optional: default
   * `max(1, ceil(bytesPerCycle / burstBytes))`, the fewest that let the data bus, not the issue
   * stage, bound the bandwidth (1 whenever a burst fills the bus for a cycle or more, as in every
   * preset). See `burstsPerCycleOf` in src/memory/dram-timing.ts.
   */
  readonly burstsPerCycle?: number;
  /** The timing model, by name ({@link DRAM_MODEL_NAMES}). Optional: default `channel`. */
  readonly model?: DramModelName;
}

/** The global buffer: banked SRAM shared by the PE array. */
export interface GlobalBufferSpec {
  readonly capacityBytes: number;
  /** Number of banks (a power of two); addresses are word-interleaved across banks. */
  readonly banks: number;
  /** Width of one bank word in bytes. */
  readonly bankWordBytes: number;
  /** Bank words each bank can read or write per cycle. */
  readonly wordsPerCyclePerBank: number;
  readonly readPorts: number;
  readonly writePorts: number;
  /** The timing model, by name ({@link GBUF_MODEL_NAMES}). Optional: default `banked`. */
  readonly model?: GbufModelName;
}

/** One PE's register file. Either a shared pool or per-tensor partitions (Eyeriss). */
export interface RegFileSpec {
  /** Entries for input elements (when partitioned). */
  readonly inputEntries: number;
  /** Entries for weight elements (when partitioned). */
  readonly weightEntries: number;
  /** Entries for partial sums, int32 each (when partitioned). */
  readonly psumEntries: number;
  /** Reads per cycle. */
  readonly readPorts: number;
  /** Writes per cycle. */
  readonly writePorts: number;
}

/** The PE array. */
export interface PeArraySpec {
  readonly rows: number;
  readonly cols: number;
  /** MACs one PE completes per cycle. */
  readonly macsPerCycle: number;
  /** Cycles from operand read to accumulator write. */
  readonly pipelineLatency: number;
}

/** The on-chip network between the global buffer and the array, and between PEs. */
export interface NocSpec {
  /** Words per cycle on the input bus (GBuf -> PEs). */
  readonly inputWordsPerCycle: number;
  /** Words per cycle on the weight bus (GBuf -> PEs). */
  readonly weightWordsPerCycle: number;
  /** Words per cycle on the drain path (PEs -> GBuf), for outputs and spilled psums. */
  readonly drainWordsPerCycle: number;
  /**
   * Words per cycle on the psum bus (GBuf -> PEs: partial sums reloaded after a spill, or bias).
   * Optional: defaults to `drainWordsPerCycle` (the drain path's width, used in the other direction).
   */
  readonly psumWordsPerCycle?: number;
  /** Whether adjacent PEs are linked (one word per cycle per link, one cycle per hop). */
  readonly neighbourLinks: boolean;
  /**
   * Whether operands and partial sums can stream through the PEs: each PE's register passes its
   * word to the next PE over the link every cycle (a systolic array). A mapping may then list
   * tensors in `rf.stream`, and ws, os and is build the systolic (SCALE-Sim) forms of their
   * dataflows. Needs `neighbourLinks`. Optional: default false.
   */
  readonly forwarding?: boolean;
}

/** A whole accelerator. */
export interface ArchSpec {
  readonly name: string;
  readonly dram: DramSpec;
  readonly gbuf: GlobalBufferSpec;
  readonly rf: RegFileSpec;
  readonly array: PeArraySpec;
  readonly noc: NocSpec;
}
