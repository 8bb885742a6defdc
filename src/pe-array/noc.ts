/**
 * Noc: the on-chip network between the global buffer and the PE array, and between PEs.
 *
 * Modeled, as independent FIFO lanes (each serves one transfer at a time, in order):
 * - three delivery buses, GBuf -> PEs: `input` (inputWordsPerCycle), `weight`
 *   (weightWordsPerCycle) and `psum` (psumWordsPerCycle, default drainWordsPerCycle). A delivery
 *   carries a payload to a rectangle of PEs (one PE, a row, a column, all): multicast (the same
 *   words to every PE: the source read once, N deliveries counted) or, with `perPe`, a distinct
 *   box per PE (unicast over the same bus), or with `perRow` / `perCol` a distinct box per row
 *   (column) of the rectangle, each multicast along its row (column), or with `boxIndex` a
 *   distinct box per index, each multicast to the PEs that name it;
 * - the drain path, PEs -> GBuf (drainWordsPerCycle): the words of a rectangle of PEs;
 * - the neighbour links (when `neighbourLinks`): one word per cycle per link, one cycle per hop,
 *   all links of an operation in parallel; shifts (systolic forwarding) and psum reductions.
 *
 * Timing (lane occupancy d, from the cycle the transfer starts; its response is sent in the last
 * cycle, see core/lane.ts):
 *     deliver n words (per PE) to N PEs:   d = max(ceil(W / busWidth), ceil(n / rf.writePorts)),
 *                                          W = n (multicast), n * N (perPe), n * rows (perRow),
 *                                          n * cols (perCol), n * boxes (boxIndex): one bus
 *                                          word per source word; into a partition the words
 *                                          pass through (a streamed operand):
 *                                          d = max(1, ceil(W / busWidth))
 *     drain n words per PE from N PEs:     the PEs are read in the cycle the drain is accepted;
 *                                          the words reach the lane one cycle later, then
 *                                          d = ceil(n * N / drainWordsPerCycle)
 *     in-flight drain (streamed output):   d = max(1, ceil(n * N / drainWordsPerCycle) - min(t, f)),
 *                                          the words having left during the t cycles of their
 *                                          wave, in the f cycles the path was free before d starts
 *     link shift of n words:               d = n + 1            (n words, 1 hop)
 *     link reduce of n words over L PEs:   d = n + L - 1        (pipelined over L - 1 hops)
 *     in-flight reduce (streamed output):  d = 1                (the hops were the wave's skew)
 * Example: 16 input words multicast to a 12-PE column at 4 words/cycle with 1 RF write port:
 * d = max(4, 16) = 16 cycles; `noc.send.input` += 16, `noc.deliver.input` += 192.
 *
 * Counts per tensor (partition): words on each bus (`noc.send.*`, = words read at the source),
 * words delivered into PEs (`noc.deliver.*`), words drained (`noc.drain.*`), link transfers in
 * words x hops (`noc.link.*`), words added on the drain path (`noc.add.*`: PEs that share an
 * output tile off a line of the array are summed there, pipelined with the path).
 * Not modeled: contention between lanes, per-link contention (a link lane runs one operation at
 * a time for the whole array), routing and flits (Eyeriss's X/Y buses with ID matching are
 * modeled as rectangle multicast), energy per hop (src/report).
 * Source: Eyeriss NoC (Chen et al., JSSC 2017, Sec. V: GIN multicast, local PE-to-PE links for
 * psum accumulation); systolic forwarding as in the TPU (Jouppi et al., ISCA 2017).
 */
import {
  boxSize,
  Component,
  InvariantError,
  Lane,
  Outbox,
  type Box,
  type Counter,
  type Engine,
  type InPort,
  type OutPort,
  type Payload,
  type Untracked,
} from "../core/index.js";
import type { NocSpec, PeArraySpec, RegFileSpec } from "../arch/spec.js";
import { checkNocSpec } from "../arch/schema.js";
import { RF_PARTITIONS, type RegFileLayout, type RfPartition } from "../memory/regfile.js";
import { allocatePayload } from "../workload/dtype.js";
import type { LinkOp, NocToPe, PeReadData } from "./commands.js";
import { checkRect, deliveryBoxes, deliveryTargets, rectSize, type PeRect, type PeTagExpect } from "./pe-set.js";

/** Deliver a payload into the register files of a rectangle of PEs. */
export interface NocDeliver {
  readonly op: "deliver";
  readonly id: number;
  readonly part: RfPartition;
  readonly pes: PeRect;
  /** Where each PE stores the words, in its `part` partition. */
  readonly box: Box;
  readonly payload: Payload;
  /** One box per PE (rectangle order) instead of one box for all (multicast). Default false. */
  readonly perPe?: boolean;
  /** One box per row of the rectangle, multicast to that row's PEs. Default false. */
  readonly perRow?: boolean;
  /** One box per column of the rectangle, multicast to that column's PEs. Default false. */
  readonly perCol?: boolean;
  /**
   * For each PE of the rectangle (row-major), the index of the payload box it receives, or -1
   * for none: the payload holds `max + 1` distinct boxes, each multicast to the PEs that name it.
   */
  readonly boxIndex?: Int32Array;
}


/** Drain `box` of `part` from every PE of a rectangle towards the global buffer. */
export interface NocDrain {
  readonly op: "drain";
  readonly id: number;
  readonly part: RfPartition;
  readonly pes: PeRect;
  readonly box: Box;
  /** Tags the words must carry (required in checked mode). */
  readonly expect?: PeTagExpect;
  /**
   * The adder on the drain path: this drain is part of a sum that adds PEs' words into slots
   * (PEs that share an output tile). Each PE of `pes` (row-major) adds its `box` words at word
   * `slot[i]` of the sum's accumulator (the first word to reach a position sets it, int32
   * wrap-around after). The sum is named by `sum.id`, has `words` words, and is returned by its
   * `last` part, whose response carries the accumulator (the other parts' carry no payload).
   */
  readonly sum?: DrainSum;
  /**
   * A streamed output's words, which left the array's edge during the wave that computed them
   * (one per line per MAC step, behind the partial sums' flow): the drain path carried them then,
   * over `inFlight` cycles of that wave, and the lane charges only what it could not carry in
   * that time (at least 1 cycle): the cycles of those that it was free, not carrying an earlier
   * drain. The words are read and counted as for any drain.
   */
  readonly inFlight?: number;
}

/** A drain's share of a sum on the drain path (see {@link NocDrain.sum}). */
export interface DrainSum {
  readonly id: number;
  readonly words: number;
  readonly slot: Int32Array;
  readonly last: boolean;
}

/** Move words between neighbouring PEs. */
export interface NocLink {
  readonly op: "link";
  readonly id: number;
  readonly link: LinkOp;
}

/** A request to the network. */
export type NocRequest = NocDeliver | NocDrain | NocLink;

/** A completed request; a drain carries its words (PE-major, box order within a PE). */
export interface NocResponse {
  readonly op: "deliver" | "drain" | "link";
  readonly id: number;
  readonly payload?: Payload;
  readonly completedAt: number;
}

/** Validates a NocSpec against the architecture schema (src/arch/schema.ts). @throws ConfigError naming `<path>.<field>`. */
export function validateNocSpec(spec: NocSpec, path = "noc"): NocSpec {
  checkNocSpec(spec as unknown as Record<string, unknown>, path);
  return spec;
}

interface DrainJob {
  readonly req: NocDrain;
  payload: Payload | undefined;
}

/** Options of a {@link Noc}. */
export interface NocOptions {
  /** Component name and counter prefix. Default `noc`. */
  readonly name?: string;
}

/**
 * The network. Ports: `cmd` / `resp` (driver), `peSide` (to the PE array's `fromNoc`),
 * `fromPe` (from the PE array's `toNoc`).
 */
export class Noc extends Component {
  /** Requests from the driver. */
  readonly cmd: InPort<NocRequest>;
  /** Responses to the driver. */
  readonly resp: OutPort<NocResponse>;
  /** Register-file traffic to the PE array. */
  readonly peSide: OutPort<NocToPe>;
  /** Drain data from the PE array. */
  readonly fromPe: InPort<PeReadData>;
  /** The validated spec. */
  readonly spec: NocSpec;
  private readonly rows: number;
  private readonly cols: number;
  private readonly rfWritePorts: number;
  private readonly passing: Readonly<Partial<Record<RfPartition, true>>>;
  private readonly buses: Record<RfPartition, Lane<NocDeliver>>;
  /** The buses in RF_PARTITIONS order, as a plain array (read every engine step; a frozen array's elements read slowly). */
  private readonly busList: readonly Lane<NocDeliver>[];
  private readonly busWidth: Record<RfPartition, number>;
  private readonly drainLane: Lane<DrainJob>;
  /** The first cycle the drain path has been free since its last drain (0 before any). */
  private drainFreeFrom = 0;
  private readonly linkLane: Lane<NocLink>;
  private drainsWaiting = new Map<number, DrainJob>();
  private readonly outbox = new Outbox();
  private readonly sendC: Record<RfPartition, Counter>;
  private readonly deliverC: Record<RfPartition, Counter>;
  private readonly drainC: Record<RfPartition, Counter>;
  private readonly linkC: Record<RfPartition, Counter>;
  private readonly addC: Record<RfPartition, Counter>;
  /** Sums in progress on the drain path, by id: the accumulator, its tags, which words are set. */
  private sums = new Map<number, { data: Int32Array; tags: Float64Array | undefined; set: Uint8Array }>();

  /** Adds a drained payload into its sum (pipelined with the drain path: no extra cycles); the sum when this part is the last. */
  private addToSum(req: NocDrain, p: Payload): Payload | undefined {
    const s = req.sum!;
    let acc = this.sums.get(s.id);
    // A sum of one part whose slots lie one after another from 0 and fill it (every systolic
    // drain: one column end per slot) is that part's words: the payload, fresh from the register
    // files, is the sum (no accumulator is made and nothing is added or copied).
    if (!acc && s.last && !p.tags && p.data instanceof Int32Array && p.data.length === s.words && inOrder(s.slot, boxSize(req.box.shape), s.words)) return { data: p.data };
    // (the sum and its marks die once written: from shared blocks, dtype.ts allocatePayload)
    if (!acc) this.sums.set(s.id, (acc = { data: allocatePayload("int32", s.words), tags: p.tags ? new Float64Array(s.words) : undefined, set: allocatePayload("uint8", s.words) }));
    const n = boxSize(req.box.shape);
    if (s.slot.length * n !== p.data.length) throw new InvariantError(this.name, `drain ${req.id}: ${s.slot.length} slots for ${p.data.length / n} PEs`);
    let adds = 0;
    const data = p.data;
    const sum = acc.data;
    const set = acc.set;
    for (let i = 0; i < s.slot.length; i++) {
      const at = s.slot[i]!;
      if (at < 0 || at + n > s.words) throw new InvariantError(this.name, `drain ${req.id}: slot ${at} outside a sum of ${s.words} words`);
      // A slot's words arrive together (every PE of an output tile drains all n of them), so its
      // first word tells whether the slot holds a sum yet.
      const from = i * n;
      if (set[at] !== set[at + n - 1]) throw new InvariantError(this.name, `drain ${req.id}: slot ${at} overlaps another slot of its sum`);
      if (set[at]) {
        for (let k = 0; k < n; k++) sum[at + k] = (sum[at + k]! + data[from + k]!) | 0;
        adds += n;
      } else {
        // (marked in the same loop: a fill call per slot cost more than its few words)
        for (let k = 0; k < n; k++) {
          sum[at + k] = data[from + k]!;
          set[at + k] = 1;
        }
        if (acc.tags) acc.tags.set(p.tags!.subarray(from, from + n), at);
      }
    }
    this.addC[req.part].value += adds;
    if (!s.last) return undefined;
    this.sums.delete(s.id);
    // (an emptied map is replaced: docs/design-notes.md, "Maps that churn")
    if (this.sums.size === 0) this.sums = new Map();
    return acc.tags ? { data: acc.data, tags: acc.tags } : { data: acc.data };
  }

  /**
   * @param spec the network, the array and the register files: their write ports, and the
   * partitions the words pass through (`RegFileLayout.passing`: a streamed operand), into which a
   * delivery is bound by its bus only.
   */
  constructor(engine: Engine, spec: { readonly noc: NocSpec; readonly array: PeArraySpec; readonly rf: RegFileSpec | RegFileLayout }, options: NocOptions = {}) {
    super(engine, options.name ?? "noc");
    this.spec = Object.freeze({ ...validateNocSpec(spec.noc, this.name) });
    this.rows = spec.array.rows;
    this.cols = spec.array.cols;
    this.rfWritePorts = spec.rf.writePorts;
    this.passing = { ...("passing" in spec.rf ? spec.rf.passing : undefined) };
    this.cmd = this.inPort<NocRequest>("cmd");
    this.resp = this.outPort<NocResponse>("resp");
    this.peSide = this.outPort<NocToPe>("peSide");
    this.fromPe = this.inPort<PeReadData>("fromPe");
    this.busWidth = {
      input: spec.noc.inputWordsPerCycle,
      weight: spec.noc.weightWordsPerCycle,
      psum: spec.noc.psumWordsPerCycle ?? spec.noc.drainWordsPerCycle,
    };
    const mk = (what: string, desc: string): Record<RfPartition, Counter> => {
      const r = {} as Record<RfPartition, Counter>;
      for (const p of RF_PARTITIONS) r[p] = this.counter(`${what}.${p}`, "words", desc.replaceAll("%", p));
      return r;
    };
    this.sendC = mk("send", "% words carried by the % bus from the global buffer (one per source word, whatever the fan-out)");
    this.deliverC = mk("deliver", "% words delivered into PE register files (a multicast to N PEs counts N)");
    this.drainC = mk("drain", "% words carried by the drain path from PEs to the global buffer");
    this.linkC = mk("link", "% words moved over neighbour links, times hops");
    const bus = (p: RfPartition): Lane<NocDeliver> =>
      new Lane<NocDeliver>(`${p} bus`, (d) => this.deliverCycles(d), (d, now) => this.finishDeliver(d, now));
    this.buses = { input: bus("input"), weight: bus("weight"), psum: bus("psum") };
    this.busList = [this.buses.input, this.buses.weight, this.buses.psum];
    this.addC = mk("add", "% words added on the drain path (the partial sums of PEs that share an output tile)");
    this.drainLane = new Lane<DrainJob>(
      "drain path",
      (j, start) => {
        const d = Math.ceil(j.payload!.data.length / this.spec.drainWordsPerCycle);
        // (the path carried an in-flight drain's words in the cycles of its wave, just before
        // this start, that no earlier drain held it)
        return j.req.inFlight ? Math.max(1, d - Math.min(j.req.inFlight, start - this.drainFreeFrom)) : d;
      },
      (j, now) => {
        this.drainFreeFrom = now + 1;
        this.drainC[j.req.part].value += j.payload!.data.length;
        const payload = j.req.sum ? this.addToSum(j.req, j.payload!) : j.payload!;
        this.outbox.post(this.resp, payload ? { op: "drain", id: j.req.id, payload, completedAt: now } : { op: "drain", id: j.req.id, completedAt: now });
      },
    );
    this.linkLane = new Lane<NocLink>("links", (l) => this.linkCycles(l.link), (l, now) => this.finishLink(l, now));
  }

  /**
   * A delivery's cycles on its bus: its bus words over the width and, into a partition the PEs
   * keep, each PE's words over its register file's write ports. Words that pass through (a
   * streamed operand) are set in the registers of the line they enter as they move, one a cycle
   * during the wave (the wave's issue cycles), so only the bus binds them, as their fills take a
   * cycle (PeArray).
   */
  private deliverCycles(d: NocDeliver): number {
    const n = boxSize(d.box.shape);
    const bus = Math.ceil((n * deliveryBoxes(d)) / this.busWidth[d.part]);
    return this.passing[d.part] ? Math.max(1, bus) : Math.max(bus, Math.ceil(n / this.rfWritePorts));
  }

  private finishDeliver(d: NocDeliver, now: number): void {
    const n = boxSize(d.box.shape);
    this.sendC[d.part].value += n * deliveryBoxes(d);
    this.deliverC[d.part].value += n * deliveryTargets(d);
    this.outbox.post(this.peSide, this.writeOf(d));
    this.outbox.post(this.resp, { op: "deliver", id: d.id, completedAt: now });
  }

  /** The register-file write a delivery makes at the PEs. */
  private writeOf(d: Untracked<NocDeliver>): NocToPe {
    return {
      op: "write",
      part: d.part,
      pes: d.pes,
      box: d.box,
      payload: d.payload,
      perPe: d.perPe ?? false,
      perRow: d.perRow ?? false,
      perCol: d.perCol ?? false,
      ...(d.boxIndex ? { boxIndex: d.boxIndex } : {}),
    };
  }

  /**
   * Timeline replay (docs/design-notes.md, "Timeline replay"): what a delivery or a link move
   * does at the PEs, returned at once (the replay applies it there), with no time passing, no
   * response and nothing counted. A drain goes through {@link drainNow}.
   */
  applyNow(r: Untracked<NocRequest>): NocToPe {
    if (r.op === "drain") throw new InvariantError(this.name, "a drain in a replayed timeline goes through drainNow");
    if (r.op === "link") {
      this.checkLink(r);
      return { op: "link", link: r.link };
    }
    this.checkDeliver(r);
    return this.writeOf(r);
  }

  /**
   * Timeline replay: drain `r` with the words `payload` read from its PEs now, through the adder
   * on the drain path as its lane would at completion (one sum per drain group; the last part
   * returns it), with no time passing and no response. Its counts are the replay's to set.
   */
  drainNow(r: NocDrain, payload: Payload): Payload | undefined {
    checkRect(this.name, r.pes, this.rows, this.cols);
    if (r.inFlight) throw new InvariantError(this.name, "a streamed output's drain in a replayed timeline");
    return r.sum ? this.addToSum(r, payload) : payload;
  }

  /** Whether nothing is in flight and no sum is open on the drain path (a timeline may be replayed). */
  replayIdle(): boolean {
    return !this.busy() && this.sums.size === 0;
  }

  private lineLength(l: LinkOp): number {
    return l.dir === "north" || l.dir === "south" ? l.pes.rows : l.pes.cols;
  }

  private linkCycles(l: LinkOp): number {
    const n = boxSize((l.kind === "shift" ? l.src : l.box).shape);
    if (l.kind === "shift") return n + 1;
    return l.inFlight ? 1 : n + this.lineLength(l) - 1;
  }

  private finishLink(l: NocLink, now: number): void {
    const k = l.link;
    const n = boxSize((k.kind === "shift" ? k.src : k.box).shape);
    const N = rectSize(k.pes);
    const L = this.lineLength(k);
    this.linkC[k.part].value += k.kind === "shift" ? n * N : n * (L - 1) * (N / L);
    this.outbox.post(this.peSide, { op: "link", link: k });
    this.outbox.post(this.resp, { op: "link", id: l.id, completedAt: now });
  }

  private checkLink(r: Untracked<NocLink>): void {
    if (!this.spec.neighbourLinks) throw new InvariantError(this.name, `link ${r.link.kind} requested but ${this.name}.neighbourLinks is false`);
    checkRect(this.name, r.link.pes, this.rows, this.cols);
  }

  private checkDeliver(r: Untracked<NocDeliver>): void {
    checkRect(this.name, r.pes, this.rows, this.cols);
    const n = boxSize(r.box.shape);
    if ((r.perPe ? 1 : 0) + (r.perRow ? 1 : 0) + (r.perCol ? 1 : 0) + (r.boxIndex ? 1 : 0) > 1) throw new InvariantError(this.name, `deliver of ${r.part}: at most one of perPe, perRow, perCol, boxIndex`);
    if (r.boxIndex && r.boxIndex.length !== rectSize(r.pes)) throw new InvariantError(this.name, `deliver of ${r.part}: boxIndex has ${r.boxIndex.length} entries for ${rectSize(r.pes)} PEs`);
    const need = n * deliveryBoxes(r);
    if (r.payload.data.length !== need) throw new InvariantError(this.name, `deliver of ${r.part}: payload has ${r.payload.data.length} words, needs ${need}`);
  }

  private accept(r: NocRequest, now: number): void {
    if (r.op === "deliver") {
      this.checkDeliver(r);
      this.buses[r.part].push(r);
      this.buses[r.part].interact(now);
    } else if (r.op === "drain") {
      checkRect(this.name, r.pes, this.rows, this.cols);
      if (this.drainsWaiting.has(r.id)) throw new InvariantError(this.name, `two drains in flight with id ${r.id}`);
      this.drainsWaiting.set(r.id, { req: r, payload: undefined });
      const read = r.expect ? { op: "read" as const, id: r.id, part: r.part, pes: r.pes, box: r.box, expect: r.expect } : { op: "read" as const, id: r.id, part: r.part, pes: r.pes, box: r.box };
      this.outbox.post(this.peSide, read);
    } else {
      this.checkLink(r);
      this.linkLane.push(r);
      this.linkLane.interact(now);
    }
  }

  override interact(now: number): void {
    for (let i = 0; i < this.busList.length; i++) this.busList[i]!.interact(now);
    this.drainLane.interact(now);
    this.linkLane.interact(now);
    for (let d = this.fromPe.pop(now); d; d = this.fromPe.pop(now)) {
      const j = this.drainsWaiting.get(d.id);
      if (!j) throw new InvariantError(this.name, `drain data for unknown id ${d.id}`);
      this.drainsWaiting.delete(d.id);
      if (this.drainsWaiting.size === 0) this.drainsWaiting = new Map();
      j.payload = d.payload;
      this.drainLane.push(j);
      this.drainLane.interact(now);
    }
    for (let r = this.cmd.pop(now); r; r = this.cmd.pop(now)) this.accept(r, now);
    this.outbox.flush(now);
  }

  override progress(): void {
    // Lane occupancies are fixed when transfers start; time alone changes nothing.
  }

  override horizon(now: number): number {
    if (this.cmd.ready(now) || this.fromPe.ready(now)) return 0;
    let h = Math.min(this.drainLane.horizon(now), this.linkLane.horizon(now), this.outbox.horizon(now));
    for (let i = 0; i < this.busList.length; i++) h = Math.min(h, this.busList[i]!.horizon(now));
    return h;
  }

  override busy(): boolean {
    let b = this.drainLane.size > 0 || this.linkLane.size > 0 || this.outbox.size > 0 || this.drainsWaiting.size > 0 || this.cmd.pending > 0 || this.fromPe.pending > 0;
    for (let i = 0; i < this.busList.length; i++) b = b || this.busList[i]!.size > 0;
    return b;
  }

  override status(): string {
    const parts = RF_PARTITIONS.map((p) => this.buses[p].status());
    parts.push(this.drainLane.status(), this.linkLane.status());
    if (this.drainsWaiting.size) parts.push(`${this.drainsWaiting.size} drain(s) waiting for PE data`);
    if (this.outbox.size) parts.push(this.outbox.status());
    return parts.filter((s) => !s.endsWith("idle")).join("; ") || "idle";
  }
}

/** Whether `slot` lists the slots 0, n, 2n, ... of a sum of `words` words, which they fill. */
function inOrder(slot: Int32Array, n: number, words: number): boolean {
  if (slot.length * n !== words) return false;
  for (let i = 0; i < slot.length; i++) if (slot[i] !== i * n) return false;
  return true;
}
