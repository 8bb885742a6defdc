/**
 * The Sequencer's vocabulary: the requests it issues, the steps and threads that issue them, and
 * the plans and tiles its passes exchange (data only; no behaviour).
 */
import type { Box, Payload, Untracked } from "../../core/index.js";
import type { DramChannel, DramRequest, DramResponse, DramTensor, GbufRegion, GbufRequest, GbufResponse, GlobalBuffer } from "../../memory/index.js";
import type { Noc, NocRequest, NocResponse, PeArray, PeArrayCommand, PeArrayDone, PeRect, WaitReason } from "../../pe-array/index.js";
import type { OperandType } from "../../workload/dtype.js";

/** Indices of the eight loop dimensions (nest.ts order). */
export const N = 0, G = 1, K = 2, C = 3, P = 4, Q = 5, R = 6, S = 7;
/** The dimensions each tensor depends on. */
export const INPUT_DIMS = [N, G, C, P, Q, R, S];
export const WEIGHT_DIMS = [G, K, C, R, S];
export const OUTPUT_DIMS = [N, G, K, P, Q];
export const ALL_DIMS = [N, G, K, C, P, Q, R, S];

/**
 * A request to one of the components the Sequencer drives, as the passes plan it: data, with no
 * transaction id (STYLE rule 13). The Sequencer component gives each issue of it a fresh id; a
 * response is handed back under the planned request itself ({@link Thread.responses}), so a plan
 * refers to its own reads by reference ({@link Deferred.read}) and a replay can issue a stored
 * plan's requests again as they are.
 */
export type Req =
  | { readonly to: "dram"; readonly msg: Untracked<DramRequest> }
  | { readonly to: "gbuf"; readonly msg: Untracked<GbufRequest> }
  | { readonly to: "noc"; readonly msg: Untracked<NocRequest> }
  | { readonly to: "pe"; readonly msg: Untracked<PeArrayCommand> };

/** A response from one of them. */
export type Resp = DramResponse | GbufResponse | NocResponse | PeArrayDone;

import { Responses } from "./responses.js";
export { Responses };

/** The requests of a step that issues none (a spawn, a join, a delay): one shared empty list. */
export const NO_REQS: readonly Req[] = Object.freeze([]);

/** One step: transactions issued together; the step ends when all have completed. */
export interface Step {
  readonly reason: WaitReason;
  readonly reqs: readonly Req[];
  /** More requests, issued after {@link reqs} as if one list with them (no array made to join them). */
  readonly also?: readonly Req[];
  /** Start this thread and continue at once (its transactions overlap the caller's). */
  readonly spawn?: Thread;
  /** Wait until this thread has finished. */
  readonly join?: Thread;
  /** Wait this many cycles (a replayed timeline's length: timeline.ts). */
  readonly delay?: number;
}

/**
 * A cooperative thread of steps (a prefetch, a write-back) that runs alongside the main program:
 * its transactions are issued as soon as its previous step completes, whatever the main program
 * is waiting for. Threads are advanced in creation order, so runs stay deterministic.
 */
export interface Thread {
  /** Its program; once done, {@link FINISHED} (see {@link finish}). */
  gen: Generator<Step, void, Responses>;
  outstanding: number;
  /** Responses to its last step, by planned request (a new list for each step that got one). */
  responses: Responses;
  done: boolean;
  /** The thread this one waits for, if any. */
  joining: Thread | undefined;
  /** Whether this is the main program (what it waits for is the PE array's wait reason). */
  readonly main: boolean;
  /** What its last blocking step waits for. */
  reason: WaitReason | undefined;
  /** The cycle before which it does not run (a {@link Step.delay}). */
  wakeAt: number;
}

/** The program of every finished thread: a generator that has returned. */
export const FINISHED: Generator<Step, void, Responses> = (function* (): Generator<Step, void, Responses> {})();
FINISHED.next();

/**
 * Marks `t` done and lets go of its program. A returned generator keeps its parameters and
 * registers reachable for as long as it is, and threads are kept after they end (a prefetch is
 * held by the next one, which joins it): without this, every prefetch held the one before it and
 * its plan, a chain as long as the layer has dram tiles (4,300 of them, alive, 60% through VGG-16
 * conv1_2).
 */
export function finish(t: Thread): void {
  t.done = true;
  t.gen = FINISHED;
}

/** A new thread running `gen`. */
export function thread(gen: Generator<Step, void, Responses>, main = false): Thread {
  return { gen, outstanding: 0, responses: new Responses(), done: false, joining: undefined, main, reason: undefined, wakeAt: 0 };
}


/** A tile on its way to memory: its box there, its words, and (checked) the tags they carry. */
export interface OutTile {
  readonly box: Box;
  readonly data: Int32Array;
  readonly tags: Float64Array | undefined;
  readonly has: number;
  readonly expect: { space: number; offset: number; strides: number[] };
}


/** Operand data and zero points of the run. */
export interface SequencerOperands {
  readonly xType: OperandType;
  readonly wType: OperandType;
  readonly xZeroPoint: number;
  readonly wZeroPoint: number;
}

/** The hardware the Sequencer drives. */
export interface SequencerHardware {
  readonly dram: DramChannel;
  readonly gbuf: GlobalBuffer;
  /** The network and the PE array: a replayed timeline applies its transfers and waves through them. */
  readonly noc: Noc;
  readonly pe: PeArray;
  readonly x: DramTensor;
  readonly w: DramTensor;
  readonly y: DramTensor;
}

/** Progress reported by the Sequencer. */
export interface SequencerProgress {
  /** MACs issued so far. */
  readonly macs: number;
  readonly totalMacs: number;
}


/** A GBuf tile: its start and extent. */
export interface OutputTile {
  readonly start: Int32Array;
  readonly ext: Int32Array;
}

/** Any tile's start and extent (GBuf tiles' and PEs' psum tiles'). */
export interface TileCoords {
  readonly start: Coords;
  readonly ext: Coords;
}

/** A tile's start or extent, per dimension (a PE's psum tile keeps plain arrays: cheap to make). */
export type Coords = Int32Array | readonly number[];


/** A psum tile in a PE: its extent and the psum entry it starts at (the half, for streamed outputs). */
export interface RfOutTile extends TileCoords {
  /** startKey of `ext` over the output dimensions (tiles of one shape drain together). */
  readonly extKey: number;
  /** startKey of `ext` over every dimension: equal exactly when the extents are (link signatures). */
  readonly shapeKey: number;
  readonly base: number;
}

/**
 * A transfer that waits for reads: the reads (requests of the same plan; a Box is affine, so one
 * transfer of tiles that are not one address step apart waits for several), and what to send once
 * their payloads are back (in the order of `reads`).
 */
export interface Deferred {
  readonly reads: readonly Req[];
  /** The operand it delivers. */
  readonly part: "input" | "weight";
  readonly send: (payloads: readonly Payload[]) => Req[];
}

/** One box of a tile to deliver: where it is read (GBuf region or DRAM) and where it goes in the RF. */
export interface Piece {
  readonly shape: readonly number[];
  readonly src: number;
  readonly srcStrides: readonly number[];
  /** Tag index of the first word and tag strides (checked mode). */
  readonly tag: number;
  readonly tagStrides: readonly number[];
  readonly dst: Box;
}

/** Where an input tile sits in a PE's register file: its channels and its span (padded coordinates). */
export interface InputSpan {
  readonly n: number;
  readonly ch0: number;
  readonly en: number;
  readonly eg: number;
  readonly ec: number;
  /** Padded row and column of the span's origin, and its size. */
  readonly oh: number;
  readonly ow: number;
  readonly rows: number;
  readonly cols: number;
  /** Every row and column of the span is read by some window or is padding (so all of it is valid). */
  readonly dense: boolean;
  /** Creation order: which PEs hold the same span object (plan signatures compare it relatively). */
  readonly serial: number;
}

/** Where an input span sits and how large it is: all of it but its density and serial. */
export type SpanPlace = Omit<InputSpan, "dense" | "serial">;

/** The PEs that received one input span in a planned iteration (for replays: see {@link PlanCache}). */
export interface SpanGroup {
  /** The PE whose tile start and extent give the span. */
  readonly pe0: number;
  readonly pes: Int32Array;
  readonly dense: boolean;
}

/** Where an iteration's reads are anchored: its start, its GBuf tiles' starts, their first stored row and column. */
export interface PlanAnchor {
  readonly g: Int32Array;
  readonly xs: Int32Array | undefined;
  readonly ws: Int32Array | undefined;
  readonly rowRun: number;
  readonly colRun: number;
  /** The GBuf input tile's rotations (gbuf-halo.ts; 0: none). */
  readonly rowRot: number;
  readonly colRot: number;
}

/**
 * How the PEs' input spans were made (IterationPlanner.spansFrom): by the span groups numbered
 * `id`, at the iteration that started at `iterStart`, whose PEs reached `reach`; and with
 * `prev`, the spans of the PEs active now that were not active then, by the span groups made
 * before (IterationPlanner.spansKey).
 */
export interface SpansFrom {
  readonly id: number;
  readonly iterStart: Int32Array;
  readonly reach: Int32Array;
  readonly prev?: SpansFrom;
}

/** What {@link PlanCache} keeps of a planned iteration: its requests (a replay shifts the reads' addresses). */
export interface PlanTemplate extends Pick<IterationPlan, "reads" | "after" | "direct" | "moves" | "waves" | "psumFills" | "operandFills"> {
  /** The number of its span groups (IterationPlanner.spanGroupsId; -1: none, or not numbered). */
  readonly spanId: number;
  /** Where its reads were: a replay shifts them by the difference ({@link Program.readShift}). */
  readonly anchor: PlanAnchor;
  /** The index in `reads` of each read the entries of `after` wait for, entry after entry (`after[i].reads.length` each). */
  readonly afterRead: Int32Array;
  /** MACs of the waves (counted again on every replay). */
  readonly macs: number;
  readonly spanGroups: readonly SpanGroup[] | undefined;
  /** The GBuf halves its reads came from (a replay reads the current ones). */
  readonly gbufHalf: { readonly input: number; readonly weight: number };
}


/** PEs that share one tile (one or more rectangles) and the pieces of that tile. */
export interface DeliveryGroup {
  readonly rects: PeRect[];
  readonly pieces: Piece[];
}

/**
 * A PE's partial-sum tile, from the iteration that starts it until it has drained: the record
 * the residency state holds (Residency.rfOut) is the one the drain takes (one record per tile,
 * not a tile and an entry made again for the drain).
 */
export interface DrainEntry extends RfOutTile {
  readonly pe: number;
  /** Its output tile's key (PEs with equal keys hold the same output tile). */
  readonly key: number;
  /**
   * The iteration its record was made in (Residency.moveTo's count): without fused groups, the
   * records of one iteration start at its start plus their PEs' offsets (drain.ts, drainSignature).
   */
  readonly gen: number;
}

/** What one iteration of the gbuf loops does, planned before it runs. */
export interface IterationPlan {
  readonly drains: readonly DrainEntry[];
  readonly reads: readonly Req[];
  readonly after: readonly Deferred[];
  readonly direct: readonly Req[];
  readonly waves: readonly Req[];
  /** Halo moves within the PEs' register files, done before the deliveries. */
  readonly moves: readonly Req[];
  /** Double-buffered register files: `direct` split into the psum fills and the operands' fills. */
  readonly psumFills?: readonly Req[];
  readonly operandFills?: readonly Req[];
  /**
   * Two accumulator sets: every PE's output tile changes and the new tiles go to the other set,
   * so `drains` run behind the wave (sequencer/program.ts).
   */
  readonly drainsBehind?: true;
  /** The first iteration of a dram tile: the prefetch of the GBuf tiles its reads wait for. */
  readonly fetched?: Thread;
  /** The first iteration of a dram tile whose GBuf output tile changes: what leaves and what comes. */
  readonly boundary?: TileBoundary;
  /** The planned iteration this one is (a stored plan) or replays; none when plans are not kept. */
  readonly template?: PlanTemplate;
}

/** An iteration plan's fields: the required ones, and those a plan may leave out. */
type PlanFields = Pick<IterationPlan, "drains" | "reads" | "after" | "direct" | "waves" | "moves"> & Partial<IterationPlan>;

/**
 * An iteration plan with every field present, those left out undefined: every plan then has one
 * shape, which keeps the program's hot paths monomorphic (a spread copy that added `boundary` or
 * `fetched` to some plans made them polymorphic; see program.ts `chained` for what a second shape
 * of one command cost).
 */
export function iterationPlan(p: PlanFields): IterationPlan {
  return {
    drains: p.drains,
    reads: p.reads,
    after: p.after,
    direct: p.direct,
    waves: p.waves,
    moves: p.moves,
    psumFills: p.psumFills,
    operandFills: p.operandFills,
    drainsBehind: p.drainsBehind,
    fetched: p.fetched,
    boundary: p.boundary,
    template: p.template,
  };
}

/**
 * A change of the GBuf output tile between two dram iterations, decided when the new tile's first
 * gbuf iteration is planned and carried out after the old tile's last wave: every PE's partial
 * sums drain into the old tile, which is written back; the new tile starts empty.
 */
export interface TileBoundary {
  /** The PEs' psum tiles that drain into the old tile. */
  readonly entries: readonly DrainEntry[];
  /** The old tile (none at the first tile). */
  readonly old: PlacedOutputTile | undefined;
  readonly next: PlacedOutputTile;
  /** Two accumulator sets: the new tile accumulates in the other one, so the old one drains behind. */
  readonly behind?: true;
}

/** A GBuf output tile, the words of it that hold a partial sum, and the half it sits in. */
export interface PlacedOutputTile {
  readonly tile: OutputTile;
  readonly has: Uint8Array;
  readonly half: number;
}

/**
 * An input tile resident in the GBuf: its extent, its stored rows and columns, and the slot of
 * each (its rank, or in a single-buffered GBuf that kept a halo, its place in a circular buffer:
 * gbuf-halo.ts).
 */
export interface GbufInputTile {
  readonly start: Int32Array;
  readonly ext: Int32Array;
  readonly rowRank: Map<number, number>;
  readonly colRank: Map<number, number>;
  /** The first stored row (column) when the stored rows (columns) are consecutive, else NaN. */
  readonly rowRun: number;
  readonly colRun: number;
  /** The stored rows and columns (real coordinates, sorted). */
  readonly rows: readonly number[];
  readonly cols: readonly number[];
  /** The slot of the first stored row (column): 0 unless the rows (columns) are a rotated circular buffer. */
  readonly rowRot: number;
  readonly colRot: number;
}

/** The GBuf tiles one iteration of the dram loops needs, and the transfers that bring them. */
export interface FetchPlan {
  readonly keys: { input: number; weight: number };
  readonly halves: { input: number; weight: number };
  readonly input: GbufInputTile | undefined;
  readonly weight: OutputTile | undefined;
  readonly reads: Req[];
  /** GBuf reads of the halo a double-buffered GBuf copies from the old half (gbuf-halo.ts). */
  readonly copies: Req[];
  readonly writes: FetchWrite[];
}


/** A GBuf write a fetch plans: the words of `read` (from DRAM, or a halo copy's GBuf read), into `box` of `region`. */
export interface FetchWrite {
  readonly read: Req;
  readonly region: GbufRegion;
  readonly box: Box;
}

/** A pipelined program's loop head (runPipelined) as its replay sees it: `reads`, `after`'s, go with `next`'s early deliveries in a step of wait reason `reason`. */
export interface LoopHead extends LoopOn {
  readonly cur: IterationPlan;
  readonly after: IterationPlan | undefined;
  readonly afterReads: Thread | undefined;
  readonly running: Thread | undefined;
  readonly reads: readonly Req[];
  readonly reason: WaitReason;
}

/** Where a pipelined program's loop goes on after a replay. */
export interface LoopOn {
  readonly cur: IterationPlan | undefined;
  readonly next: IterationPlan | undefined;
  readonly ahead?: IterationPlan;
  readonly nextReads: Thread | undefined;
}
