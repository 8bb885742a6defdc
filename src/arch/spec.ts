/**
 * The architecture: one frozen ArchSpec per accelerator, composed of one spec per component.
 * Declared once here; validated once by `archSpec()` (in presets.ts) before any component exists
 * (STYLE rules 5 and 6). Capacities carry their unit in the field name.
 *
 * Word conventions: inputs and weights are stored as elements of their operand type (int8,
 * uint8 or int16); partial sums and outputs as int32, which the GBuf may store narrower
 * (`gbuf.psumBytes`). A GBuf capacity is in bytes and a region of n elements of b bytes takes
 * n*b bytes. Register files are counted in entries: one entry holds one element of any tensor
 * (an int32 psum takes one entry), in three partitions or in one shared pool (`rf.sharedEntries`).
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

/**
 * The widths, in bytes, `gbuf.psumBytes` may give a partial sum or output word in the GBuf: 2
 * (16 bits), 3 (24 bits) or 4 (32 bits, int32, the default). A word of 3 bytes may straddle two
 * bank words (it then costs an access to each).
 */
export const GBUF_PSUM_BYTES = Object.freeze([2, 3, 4] as const);

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
  /**
   * Bytes one partial-sum or output word occupies in the GBuf, one of {@link GBUF_PSUM_BYTES}
   * (Timeloop's per-level word width). Optional: default 4 (int32). It sets the output region's
   * size (legality, allocation), its bank-word accesses and its byte counters. The values stay
   * int32 inside the simulator, so a narrower word is legal only for a layer none of whose
   * partial sums can exceed it: `simulate()` checks, before the run, that the layer's worst-case
   * |psum| (C/groups x R x S x max|x - zx| x max|w - zw|) is at most 2^(8 x psumBytes - 1) - 1
   * (`checkPsumWidth`, src/dataflow/legality.ts); 4 bytes need no check (int32 is the model's
   * accumulator, whose wrap-around the reference shares). DRAM keeps outputs as int32.
   */
  readonly psumBytes?: number;
}

/**
 * One PE's register file, in one of two layouts. Partitioned (Eyeriss): `inputEntries`,
 * `weightEntries` and `psumEntries`, each tensor's rf tile within its own partition. Shared
 * (Timeloop's one buffer level for all tensors): `sharedEntries` alone, the three rf tiles
 * together within the pool; the simulator carves the pool into a region per tensor of exactly
 * the size the mapping needs. Give either the three partition fields or `sharedEntries`, not both.
 */
export interface RegFileSpec {
  /** Entries for input elements (partitioned; absent with `sharedEntries`). */
  readonly inputEntries?: number;
  /** Entries for weight elements (partitioned; absent with `sharedEntries`). */
  readonly weightEntries?: number;
  /** Entries for partial sums, int32 each (partitioned; absent with `sharedEntries`). */
  readonly psumEntries?: number;
  /**
   * Entries of one pool that holds inputs, weights and partial sums alike (one element, an int32
   * psum included, per entry). Optional: absent, the register file is partitioned.
   */
  readonly sharedEntries?: number;
  /** Reads per cycle. */
  readonly readPorts: number;
  /** Writes per cycle. */
  readonly writePorts: number;
}

/** Entries of one PE's register file: its shared pool, or its three partitions together. */
export function rfEntriesPerPe(rf: RegFileSpec): number {
  return rf.sharedEntries ?? (rf.inputEntries ?? 0) + (rf.weightEntries ?? 0) + (rf.psumEntries ?? 0);
}

/**
 * The most entries each tensor's rf tile may take in one PE: its partition's, or, in a shared
 * pool, the whole pool (the other tiles then take none).
 */
export function rfTensorEntries(rf: RegFileSpec): Readonly<{ input: number; weight: number; psum: number }> {
  if (rf.sharedEntries !== undefined) return Object.freeze({ input: rf.sharedEntries, weight: rf.sharedEntries, psum: rf.sharedEntries });
  return Object.freeze({ input: rf.inputEntries ?? 0, weight: rf.weightEntries ?? 0, psum: rf.psumEntries ?? 0 });
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

/**
 * Names of the storage levels, as another tool calls them (a Timeloop architecture's level names,
 * kept by `importTimeloop`). They change no count or cycle; reports keyed by level use them
 * (`simulate --counts timeloop`). Every field is optional: the defaults are `DRAM`,
 * `GlobalBuffer` and `RegisterFile`, and a partitioned register file's partitions default to
 * `rf`'s name.
 */
export interface LevelNames {
  readonly dram?: string;
  readonly gbuf?: string;
  readonly rf?: string;
  /** The input partition's level (partitioned register files). */
  readonly rfInput?: string;
  /** The weight partition's level (partitioned register files). */
  readonly rfWeight?: string;
  /** The psum partition's level (partitioned register files). */
  readonly rfOutput?: string;
}

/** A whole accelerator. */
export interface ArchSpec {
  readonly name: string;
  readonly dram: DramSpec;
  readonly gbuf: GlobalBufferSpec;
  readonly rf: RegFileSpec;
  readonly array: PeArraySpec;
  readonly noc: NocSpec;
  /** Names of the storage levels (optional; {@link LevelNames}). */
  readonly levelNames?: LevelNames;
}
