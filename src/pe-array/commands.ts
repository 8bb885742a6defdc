/**
 * The PE array's port messages: the commands the driver sends on `cmd` (MAC waves, fills,
 * slides) and their completions on `done`; what the network sends on `fromNoc` (register-file
 * writes, drain reads, neighbour-link operations) and the drain data answered on `toNoc`.
 *
 * Types only: the array (pe-array.ts) applies them, the Noc (noc.ts) times and counts the
 * network's, the Sequencer builds them. Timing and counting conventions are in pe-array.ts's
 * header and docs/timing.md.
 */
import type { Box, Payload } from "../core/index.js";
import type { RfPartition } from "../memory/regfile.js";
import type { PeRect, PeTagExpect } from "./pe-set.js";
import type { MacWave } from "./wave.js";

/**
 * Run a MAC wave, and optionally more waves on disjoint rectangles at the same time: one
 * instruction stream for the array, every PE starting together (as in Eyeriss's SIMD-like
 * control), a PE whose part has fewer MACs (an edge tile) idling once it has issued them. The
 * command completes when the longest part has issued and drained.
 */
export interface PeWaveCommand {
  readonly op: "wave";
  readonly id: number;
  readonly wave: MacWave;
  /** Waves run alongside `wave`, on rectangles disjoint from it and from each other. */
  readonly alongside?: readonly MacWave[];
  /**
   * Operands that stream through the PEs (a systolic array): each MAC step takes a new word of
   * the part, which entered at the array's edge (left for `right`, top for `down`) and was
   * forwarded PE to PE over the links, one cycle per hop. See {@link WaveStream}.
   */
  readonly streams?: readonly WaveStream[];
  /**
   * The direction in which the partial sums of a streamed output flow during the wave (a
   * systolic array reducing them as they pass PE to PE): adds the hops of that direction to the
   * skew, as a stream does; the reduction itself is a link `reduce` marked `inFlight`.
   */
  readonly psumFlow?: "right" | "down";
  /**
   * May start as soon as the wave before it has issued its last MAC, while that wave drains its
   * pipeline (its last accumulations forward to this wave's MACs, as they do within a wave). The
   * driver sets it only when this wave reads nothing the one before writes but the accumulators
   * (double-buffered operands: the other half). The wave before still reports `done` after its
   * pipeline; without the flag a wave waits for it, as every other command does.
   */
  readonly chained?: boolean;
}

/**
 * A streamed operand of a wave. Timing: the edge feeders skew the streams so that PE (r, c)
 * runs its MACs h cycles after the command starts, h = c when some stream flows right plus r when
 * some flows down (SCALE-Sim's fill); the command lasts as much longer as its farthest PE's h.
 * Counts: in each line (a row for `right`, a column for `down`) the stream crosses one link per
 * PE it passes: `forward.<part>` adds, per line, (the line's MAC steps per PE) x (hops to its
 * farthest PE of the command), and `inject.<part>` the line's MAC steps (the words that enter
 * the array at its edge: what crosses the GBuf/register boundary). The words reach the PEs' registers through the Noc's deliveries
 * (counted there, and as register writes); the MAC reads them from there.
 */
export interface WaveStream {
  readonly part: "input" | "weight";
  readonly flow: "right" | "down";
}

/** Set `box` of partition `part` to `value` in every PE of `pes` (no network transfer: e.g. psum init, padding). */
export interface PeFill {
  readonly part: RfPartition;
  readonly pes: PeRect;
  readonly box: Box;
  readonly value: number;
  /** The tags to give the words (required in checked mode), strides per box dimension. */
  readonly tags?: PeTagExpect;
}

/**
 * A fill, and optionally more fills done at the same time: each PE writes its fills' words
 * through its own write ports, so the command takes as long as the busiest PE.
 */
export interface PeFillCommand extends PeFill {
  readonly op: "fill";
  readonly id: number;
  /** Fills done alongside this one (any rectangles and boxes). */
  readonly alongside?: readonly PeFill[];
  /**
   * Runs beside the command lane instead of in it, as a delivery does: the fill writes registers
   * no queued or running command reads (the half of a double-buffered partition the running wave
   * does not read: the next step's padding). It takes its usual cycles from when it arrives.
   */
  readonly shadow?: boolean;
}

/**
 * Slide a window within each PE's register file: the words of `src` of partition `part` are from
 * now on addressed as `dst` (an input tile whose next position overlaps it keeps the overlap, its
 * halo). The hardware this models re-addresses the words (a circular buffer: a base-pointer
 * update, one cycle, no register access); the simulator moves them so that MAC waves keep affine
 * addresses, and counts them in `rf.slide.<part>`, not as reads or writes.
 */
export interface PeSlide {
  readonly part: RfPartition;
  readonly pes: PeRect;
  readonly src: Box;
  readonly dst: Box;
}

/** A slide, and optionally more slides done in the same cycle (other PEs or partitions). */
export interface PeSlideCommand extends PeSlide {
  readonly op: "slide";
  readonly id: number;
  readonly alongside?: readonly PeSlide[];
}

/** A command from the driver. */
export type PeArrayCommand = PeWaveCommand | PeFillCommand | PeSlideCommand;

/** Completion of a command. */
export interface PeArrayDone {
  readonly op: "wave" | "fill" | "slide";
  readonly id: number;
  readonly completedAt: number;
}

/** From the network: write `box` of `part` in every PE of `pes` (one payload for all, or one per PE). */
export interface PeWrite {
  readonly op: "write";
  readonly part: RfPartition;
  readonly pes: PeRect;
  readonly box: Box;
  readonly payload: Payload;
  /** When true the payload holds one box per PE, in rectangle order. */
  readonly perPe: boolean;
  /** When true the payload holds one box per row of the rectangle (each for that row's PEs). */
  readonly perRow?: boolean;
  /** When true the payload holds one box per column of the rectangle (each for that column's PEs). */
  readonly perCol?: boolean;
  /** Per PE of the rectangle (row-major): the payload box it receives, or -1 for none. Not changed once sent (its statistics and write lists are kept by identity). */
  readonly boxIndex?: Int32Array;
}

/** From the network: read `box` of `part` from every PE of `pes`; answered on `toNoc`. */
export interface PeRead {
  readonly op: "read";
  readonly id: number;
  readonly part: RfPartition;
  readonly pes: PeRect;
  readonly box: Box;
  readonly expect?: PeTagExpect;
}

/** A compass direction on the array: north = row - 1, south = row + 1, west = col - 1, east = col + 1. */
export type Direction = "north" | "south" | "east" | "west";

/** Neighbour-link operations (timed and counted by the Noc, applied by the array). */
export type LinkOp =
  | {
      /** Every PE of `pes` sends `src` to its neighbour in `dir`, which stores it in `dst`. */
      readonly kind: "shift";
      readonly part: RfPartition;
      readonly pes: PeRect;
      readonly dir: Direction;
      readonly src: Box;
      readonly dst: Box;
      /** Tags the senders' words must carry (checked mode). */
      readonly expect?: PeTagExpect;
    }
  | {
      /**
       * Partial-sum reduction along `dir`: in each line of `pes` (a column for north/south, a row
       * for east/west) each PE, starting at the far end, adds its `box` into the next PE's `box`;
       * the PE at the `dir` end ends up with the sum (int32 wrap-around).
       */
      readonly kind: "reduce";
      readonly part: RfPartition;
      readonly pes: PeRect;
      readonly dir: Direction;
      readonly box: Box;
      readonly expect?: PeTagExpect;
      /**
       * The partial sums of a streamed output (a systolic array), which flowed along the line
       * during the wave that computed them (that wave's skew charged their hops): the link lane
       * charges one cycle, the last hop, and counts the same words and register accesses.
       */
      readonly inFlight?: boolean;
      /**
       * PEs of `pes` (row-major within the rectangle, 1 = idle) that hold none of the lines'
       * partial sums: the sums pass through them, which add zero. The simulator clears their
       * `box` first (no register access: an idle PE's adder takes a zero, as a systolic array's
       * does), then reduces as usual; the hops through them are counted like any other.
       */
      readonly idle?: Uint8Array;
    };

/** From the network: apply a link operation. */
export interface PeLink {
  readonly op: "link";
  readonly link: LinkOp;
}

/** What the network sends to the array. */
export type NocToPe = PeWrite | PeRead | PeLink;

/** The array's answer to a {@link PeRead}: dense, PE-major (rectangle order), box order within a PE. */
export interface PeReadData {
  readonly id: number;
  readonly payload: Payload;
}
