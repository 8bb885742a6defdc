/**
 * GlobalBuffer: the banked on-chip SRAM shared by the PE array.
 *
 * Modeled: `capacityBytes` of storage in `banks` banks of `bankWordBytes`-byte words. The address
 * map is word-interleaved: byte address `a` is in bank word `w = floor(a / bankWordBytes)`, which
 * lives in bank `w mod banks`, row `floor(w / banks)`. The driver allocates one region per tensor
 * tile (optionally two, for double buffering); regions are packed from address 0, each aligned to
 * a bank word, and an allocation that does not fit is a `ConfigError`. Real values (and tags in
 * checked mode) live in a typed array per region; element `i` of a region of `b`-byte elements is
 * at byte `base + i*b`. A region's elements take their type's bytes, or fewer when the driver
 * allocates it narrower (`gbuf.psumBytes`: int32 partial sums stored in 2 or 3 bytes); the values
 * stay in an array of their type, and a write of a value the narrower word cannot hold is an
 * `InvariantError` (the driver checks the layer's partial sums fit before the run). An element
 * that straddles two bank words (3-byte words) is an access to each.
 *
 * Timing: a timing model picked by name (`gbuf.model`, gbuf-timing.ts). A request touches the
 * box's bank words in box order (consecutive elements in the same bank word cost one access): its
 * banked schedule issues, each cycle, accesses in order until either `ports` accesses have issued
 * or the next access's bank has already served `wordsPerCyclePerBank` words this cycle (a bank
 * conflict: the rest waits for the next cycle). The default model, `banked`, has reads and writes
 * in two independent FIFO lanes (read ports and write ports); a request occupies its lane for the
 * cycles of its schedule; its data move in the last of them and the response is sent then.
 *     conflictCycles = cycles - ceil(accesses / ports)
 * The `ideal` model completes every request in the cycle it is popped (unlimited bandwidth, no
 * latency, no conflicts).
 * Example (`banked`): 8 banks, 1 word/cycle/bank, 4 read ports, 8-byte words, int16 elements: a
 * contiguous 64-element read is 16 words -> 4 cycles, no conflicts; reading elements 0, 32, 64, ...
 * (stride 32, i.e. every 8th word, all in bank 0) costs one cycle per element (docs/timing.md).
 *
 * Counts per tensor kind: words (elements) and bytes read/written, bank-word accesses (the same
 * with every model), and cycles lost to bank conflicts (none with `ideal`). Not modeled:
 * conflicts between the read and the write lane, SRAM energy
 * (src/report multiplies `gbuf.bankReads.*` by a table), ECC, partial-word write masks.
 * Source: Eyeriss's 108 KB global buffer (Chen et al., ISSCC 2016 / JSSC 2017) organized as banks;
 * the interleaved map and per-bank port limit are the usual banked-SRAM model (gem5 `SimpleMemory` has none; Timeloop's buffer level counts the same actions).
 */
import {
  boxSize,
  bytes,
  checkBox,
  checkTags,
  Component,
  ConfigError,
  gather,
  InvariantError,
  Outbox,
  scatter,
  type Box,
  type Bytes,
  type Counter,
  type Engine,
  type InPort,
  type OutPort,
  type Payload,
  type TagExpect,
  type Untracked,
  type WordArray,
} from "../core/index.js";
import type { GlobalBufferSpec } from "../arch/spec.js";
import { checkGbufSpec } from "../arch/schema.js";
import { allocate as allocateArray, allocatePayload, dtypeInfo, dtypeOfArray, type ElementType } from "../workload/dtype.js";
import { TENSOR_KINDS, type TensorKind } from "./tensor-kind.js";
import { gbufTimingModel, type GbufJob, type GbufTimingModel } from "./gbuf-timing.js";
import { BankSchedules, type BankSchedule } from "./gbuf-banks.js";

/** An accumulate's sums before they are stored ({@link GlobalBuffer.move}; grown as needed). */
let accSum = new Int32Array(0);

/** A region of the global buffer holding one tensor tile. A handle: requests refer to it. */
export interface GbufRegion {
  /** Unique name, e.g. `input.0` for half 0 of a double-buffered input region. */
  readonly name: string;
  readonly kind: TensorKind;
  readonly dtype: ElementType;
  readonly elements: number;
  /** Bytes one element occupies: its type's, or fewer for a narrowed region (see the file header). */
  readonly elementBytes: number;
  /** Byte address of element 0 (a multiple of bankWordBytes). */
  readonly baseAddress: Bytes;
  readonly bytes: Bytes;
}

/** Read `box` of a region; the response carries the words densely in box order. */
export interface GbufReadRequest {
  readonly op: "read";
  readonly id: number;
  readonly region: GbufRegion;
  readonly box: Box;
  /** Tags the words must hold (required in checked mode). */
  readonly expect?: TagExpect;
}

/** Write `payload` (dense, box order) into `box` of a region. */
export interface GbufWriteRequest {
  readonly op: "write";
  readonly id: number;
  readonly region: GbufRegion;
  readonly box: Box;
  readonly payload: Payload;
}

/**
 * Add `payload` (dense, box order, int32 wrap-around) into `box` of an int32 region, in place: the
 * accumulate unit at the buffer reads each word, adds, and writes it back (a read-modify-write).
 * Counts the words as read and written, and as added (`add.<kind>`); checked mode checks the
 * words' tags against `expect` first, then gives them the payload's tags.
 */
export interface GbufAccumulateRequest {
  readonly op: "accumulate";
  readonly id: number;
  readonly region: GbufRegion;
  readonly box: Box;
  readonly payload: Payload;
  readonly expect?: TagExpect;
}

/** A request to the global buffer. */
export type GbufRequest = GbufReadRequest | GbufWriteRequest | GbufAccumulateRequest;

/** A completed request. */
export interface GbufResponse {
  readonly op: "read" | "write" | "accumulate";
  readonly id: number;
  readonly payload?: Payload;
  /** Cycles the request occupied its lane, and how many of them were bank-conflict stalls. */
  readonly cycles: number;
  readonly conflictCycles: number;
  readonly completedAt: number;
}

interface Held {
  readonly region: GbufRegion;
  readonly data: WordArray;
  readonly tags: Float64Array | undefined;
}

interface Job extends GbufJob {
  readonly req: GbufRequest;
}

interface KindCounters {
  readonly words: Counter;
  readonly bytes: Counter;
  readonly accesses: Counter;
  readonly conflicts: Counter;
}


/** Validates a GlobalBufferSpec against the architecture schema (src/arch/schema.ts). @throws ConfigError naming `<path>.<field>`. */
export function validateGlobalBufferSpec(spec: GlobalBufferSpec, path = "gbuf"): GlobalBufferSpec {
  checkGbufSpec(spec as unknown as Record<string, unknown>, path);
  return spec;
}

/** Options of a {@link GlobalBuffer}. */
export interface GlobalBufferOptions {
  /** Component name and counter prefix. Default `gbuf`. */
  readonly name?: string;
}

/**
 * The global buffer. Ports: `cmd` (requests in), `resp` (responses out). Regions are allocated
 * by the driver with {@link GlobalBuffer.allocate} (between runs or while idle).
 */
export class GlobalBuffer extends Component {
  /** Requests from the driver. */
  readonly cmd: InPort<GbufRequest>;
  /** Responses to the driver. */
  readonly resp: OutPort<GbufResponse>;
  /** The validated spec. */
  readonly spec: GlobalBufferSpec;
  private readonly regions = new Map<string, Held>();
  private used = 0;
  /** The timing model (`spec.model`, default `banked`). */
  readonly timing: GbufTimingModel<Job>;
  private readonly outbox = new Outbox();
  /** The banked access schedules (gbuf-banks.ts). */
  private readonly banks: BankSchedules;
  private readonly readCounters: Record<TensorKind, KindCounters>;
  /** Words added in place by accumulate requests, per tensor kind. */
  private readonly addCounters: Record<TensorKind, Counter>;
  private readonly writeCounters: Record<TensorKind, KindCounters>;

  constructor(engine: Engine, spec: GlobalBufferSpec, options: GlobalBufferOptions = {}) {
    super(engine, options.name ?? "gbuf");
    this.spec = Object.freeze({ ...validateGlobalBufferSpec(spec, this.name) });
    this.cmd = this.inPort<GbufRequest>("cmd");
    this.resp = this.outPort<GbufResponse>("resp");
    this.banks = new BankSchedules(this.spec);
    const mk = (op: "read" | "write"): Record<TensorKind, KindCounters> => {
      const r = {} as Record<TensorKind, KindCounters>;
      const verb = op === "read" ? "read from" : "written to";
      for (const k of TENSOR_KINDS) {
        r[k] = {
          words: this.counter(`${op}.${k}`, "words", `${k} words ${verb} the global buffer`),
          bytes: this.counter(`${op}Bytes.${k}`, "bytes", `${k} bytes ${verb} the global buffer`),
          accesses: this.counter(`bank${op === "read" ? "Reads" : "Writes"}.${k}`, "accesses", `bank-word ${op}s for ${k} data`),
          conflicts: this.counter(`${op}ConflictCycles.${k}`, "cycles", `cycles ${k} ${op}s lost to bank conflicts`),
        };
      }
      return r;
    };
    this.readCounters = mk("read");
    this.writeCounters = mk("write");
    const adds = {} as Record<TensorKind, Counter>;
    for (const k of TENSOR_KINDS) adds[k] = this.counter(`add.${k}`, "words", `${k} words added in place by the accumulate unit (read-modify-writes)`);
    this.addCounters = adds;
    this.timing = gbufTimingModel<Job>(this.spec, (j, now, cycles, conflicts) => this.complete(j, now, cycles, conflicts), this.name);
  }

  /** Bytes not yet allocated. */
  get freeBytes(): Bytes {
    return bytes(this.spec.capacityBytes - this.used);
  }

  /**
   * Allocates a region of `elements` elements of `dtype`, each taking `elementBytes` bytes
   * (default: the type's; fewer stores the values narrower, see the file header).
   * @throws ConfigError when it does not fit (naming the region, its size and the space left), or
   *   for an element size outside [1, the type's bytes].
   */
  allocate(name: string, kind: TensorKind, dtype: ElementType, elements: number, elementBytes = dtypeInfo(dtype).bytes): GbufRegion {
    if (this.regions.has(name)) throw new ConfigError(`${this.name}.regions.${name}`, name, "be allocated once (the name is taken)");
    if (!Number.isInteger(elements) || elements < 1) throw new ConfigError(`${this.name}.regions.${name}.elements`, elements, "be a positive integer");
    const typeBytes = dtypeInfo(dtype).bytes;
    if (!Number.isInteger(elementBytes) || elementBytes < 1 || elementBytes > typeBytes) {
      throw new ConfigError(`${this.name}.regions.${name}.elementBytes`, elementBytes, `be an integer in [1, ${typeBytes}] (the bytes of ${dtype})`);
    }
    this.requireIdle("allocate");
    const eb = elementBytes;
    const b = eb * elements;
    const bw = this.spec.bankWordBytes;
    const base = Math.ceil(this.used / bw) * bw;
    if (base + b > this.spec.capacityBytes) {
      throw new ConfigError(
        `${this.name}.capacityBytes`,
        this.spec.capacityBytes,
        `hold region ${name} (${elements} x ${dtype}${eb < typeBytes ? ` in ${eb} bytes` : ""} = ${b} B) on top of the ${base} B already allocated`,
      );
    }
    this.used = base + b;
    const region: GbufRegion = Object.freeze({ name, kind, dtype, elements, elementBytes: eb, baseAddress: bytes(base), bytes: bytes(b) });
    this.regions.set(name, {
      region,
      data: allocateArray(dtype, elements),
      tags: this.engine.checked ? new Float64Array(elements) : undefined,
    });
    return region;
  }

  /** Allocates two regions `<name>.0` and `<name>.1` of the same size (double buffering). */
  allocateDouble(name: string, kind: TensorKind, dtype: ElementType, elements: number, elementBytes = dtypeInfo(dtype).bytes): readonly [GbufRegion, GbufRegion] {
    const a = this.allocate(`${name}.0`, kind, dtype, elements, elementBytes);
    const b = this.allocate(`${name}.1`, kind, dtype, elements, elementBytes);
    return [a, b];
  }

  /** Frees every region (between layers). @throws InvariantError while requests are pending. */
  reset(): void {
    this.requireIdle("reset");
    this.regions.clear();
    this.used = 0;
  }

  private requireIdle(what: string): void {
    if (this.busy()) throw new InvariantError(this.name, `cannot ${what} while requests are pending`);
  }

  /**
   * A region's words themselves, to be read only: compiled copies of replayed plans read their
   * sources here (sequencer/copies.ts; not timed, not counted: the replay sets the counters).
   */
  words(region: GbufRegion): WordArray {
    return this.held(region).data;
  }

  /** A copy of a region's contents (backdoor, for tests: not timed, not counted). */
  contents(region: GbufRegion): WordArray {
    return this.words(region).slice();
  }

  private held(region: GbufRegion): Held {
    const h = this.regions.get(region.name);
    if (!h || h.region !== region) throw new InvariantError(this.name, `region ${region.name} is not allocated here`);
    return h;
  }

  /** Bank-word address of a region element. */
  private wordOf(region: GbufRegion, i: number): number {
    return Math.floor((region.baseAddress + i * region.elementBytes) / this.spec.bankWordBytes);
  }

  /**
   * The lane cycles and bank-word accesses of touching `box` of `region` with `ports` ports,
   * by the in-order greedy rule of the file header (gbuf-banks.ts).
   */
  accessCycles(region: GbufRegion, box: Box, ports: number): BankSchedule {
    return this.banks.of(region.baseAddress, region.elementBytes, box, ports);
  }

  override interact(now: number): void {
    this.timing.interact(now);
    for (let req = this.cmd.pop(now); req; req = this.cmd.pop(now)) {
      const h = this.checkRequest(req);
      if (req.op !== "write" && h.tags && !req.expect) throw new InvariantError(this.name, `${req.op} of ${req.region.name}: checked mode needs the expected tags`);
      const t = this.accessCycles(req.region, req.box, req.op === "read" ? this.spec.readPorts : this.spec.writePorts);
      if (req.op === "accumulate") {
        // The read side of the read-modify-write: the same words through the read ports.
        const r = this.accessCycles(req.region, req.box, this.spec.readPorts);
        this.timing.accept({ req, op: "accumulate", accesses: t.accesses, bankedCycles: t.cycles + 1, readCycles: r.cycles }, now);
      } else {
        this.timing.accept({ req, op: req.op, accesses: t.accesses, bankedCycles: t.cycles }, now);
      }
    }
    this.outbox.flush(now);
  }

  /** A request's region, after checking its box and (a write's or an accumulate's) payload. */
  private checkRequest(req: Untracked<GbufRequest>): Held {
    const h = this.held(req.region);
    const n = checkBox(this.name, req.op, req.box, h.data.length, req.region.name);
    if (req.op !== "read") this.checkPayload(req, h, n);
    return h;
  }

  private checkPayload(req: Untracked<GbufWriteRequest | GbufAccumulateRequest>, h: Held, n: number): void {
    const what = `${req.op} of ${req.region.name}`;
    if (req.payload.data.length !== n) throw new InvariantError(this.name, `${what}: payload has ${req.payload.data.length} words for a box of ${n}`);
    if (dtypeOfArray(req.payload.data) !== req.region.dtype) throw new InvariantError(this.name, `${what}: payload is ${dtypeOfArray(req.payload.data)}, region is ${req.region.dtype}`);
    if (req.op === "accumulate" && req.region.dtype !== "int32") throw new InvariantError(this.name, `${what}: only int32 regions accumulate`);
    if (h.tags && (!req.payload.tags || req.payload.tags.length !== n)) throw new InvariantError(this.name, `${what}: checked mode needs one tag per payload word`);
    if (req.op === "write" && req.region.elementBytes < dtypeInfo(req.region.dtype).bytes) this.requireFits(req.region, req.payload.data);
  }

  private count(counters: Record<TensorKind, KindCounters>, kind: TensorKind, n: number, bytes: number, accesses: number, conflicts: number): void {
    const c = counters[kind];
    c.words.value += n;
    c.bytes.value += bytes;
    c.accesses.value += accesses;
    c.conflicts.value += conflicts;
  }

  private complete(job: Job, now: number, cycles: number, conflictCycles: number): void {
    const req = job.req;
    const n = boxSize(req.box.shape);
    const eb = req.region.elementBytes;
    const payload = this.move(req, this.held(req.region));
    const r: GbufResponse = { op: req.op, id: req.id, payload, cycles, conflictCycles, completedAt: now }; // (one shape, payload or not)
    if (req.op === "read") {
      this.count(this.readCounters, req.region.kind, n, n * eb, job.accesses, conflictCycles);
      this.outbox.post(this.resp, r);
      return;
    }
    if (req.op === "accumulate") {
      const readConflicts = this.timing.name === "banked" ? job.readCycles! - Math.ceil(job.accesses / this.spec.readPorts) : 0;
      this.count(this.readCounters, req.region.kind, n, n * eb, job.accesses, readConflicts);
      this.addCounters[req.region.kind].value += n;
    }
    this.count(this.writeCounters, req.region.kind, n, n * eb, job.accesses, req.op === "accumulate" ? Math.max(0, conflictCycles - 1) : conflictCycles);
    this.outbox.post(this.resp, r);
  }

  /**
   * A request's words: a read's gathered into a new payload (returned), a write's or an
   * accumulate's stored (checked mode checks the tags first). Counts nothing.
   */
  private move(req: Untracked<GbufRequest>, h: Held): Payload | undefined {
    const n = boxSize(req.box.shape);
    const describe = h.tags && ((i: number) => `${req.region.name}[${i}] (bank ${this.wordOf(req.region, i) % this.spec.banks}, bank word ${this.wordOf(req.region, i)})`);
    if (req.op !== "write" && h.tags) checkTags(this.name, h.tags, req.box, req.expect!, describe!, this.engine.tagSpaceNames);
    if (req.op === "read") {
      const data = allocatePayload(req.region.dtype, n);
      gather(h.data, req.box, data);
      if (!h.tags) return { data };
      const tags = new Float64Array(n);
      gather(h.tags, req.box, tags);
      return { data, tags };
    }
    if (req.op === "accumulate") {
      const sum = accSum.length >= n ? accSum : (accSum = new Int32Array(n)); // (not a new array per accumulate: that was most of move's time on drain-heavy runs)
      gather(h.data, req.box, sum);
      addInto(sum, req.payload.data as Int32Array, n);
      if (req.region.elementBytes < 4) this.requireFits(req.region, sum.subarray(0, n));
      scatter(sum, 0, h.data, req.box);
    } else {
      scatter(req.payload.data, 0, h.data, req.box);
    }
    if (h.tags && req.payload.tags) scatter(req.payload.tags, 0, h.tags, req.box);
    return undefined;
  }

  /**
   * Timeline replay (docs/design-notes.md, "Timeline replay"): a request's words move now, as its
   * completion would move them, with no time passing, no response and nothing counted (the replay
   * sets the counters to their recorded values). Unchecked runs only. Returns a read's payload.
   */
  applyNow(req: Untracked<GbufRequest>): Payload | undefined {
    if (this.engine.checked) throw new InvariantError(this.name, "a replayed request in checked mode");
    return this.move(req, this.checkRequest(req));
  }

  /**
   * Appends to `into` all a request's timing and counts depend on besides its box's size: its op
   * (1 read, 2 write, 3 accumulate), its banked schedule's cycles and bank-word accesses
   * ({@link GlobalBuffer.accessCycles}; an accumulate's read cycles too). Two requests of one shape
   * with equal keys are timed and counted alike, whatever their addresses (timeline replay's key).
   */
  scheduleKey(req: Pick<GbufRequest, "op" | "region" | "box">, into: { push(v: number): unknown }): void {
    const t = this.accessCycles(req.region, req.box, req.op === "read" ? this.spec.readPorts : this.spec.writePorts);
    into.push(req.op === "read" ? 1 : req.op === "write" ? 2 : 3);
    into.push(t.cycles);
    into.push(t.accesses);
    if (req.op === "accumulate") into.push(this.accessCycles(req.region, req.box, this.spec.readPorts).cycles);
  }

  /** Throws unless every value fits a narrowed region's signed `elementBytes`-byte words. */
  private requireFits(region: GbufRegion, data: WordArray): void {
    const max = 2 ** (8 * region.elementBytes - 1) - 1;
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      if (v > max || v < -max - 1) {
        throw new InvariantError(this.name, `write of ${region.name}: value ${v} does not fit its ${region.elementBytes}-byte words ([${-max - 1}, ${max}]); the layer's partial sums should have been checked against gbuf.psumBytes`);
      }
    }
  }

  override progress(): void {
    // A request's duration is fixed when it is popped; time alone changes nothing.
  }

  override horizon(now: number): number {
    if (this.cmd.ready(now)) return 0;
    return Math.min(this.timing.horizon(now), this.outbox.horizon(now));
  }

  override busy(): boolean {
    return this.timing.pending > 0 || this.outbox.size > 0 || this.cmd.pending > 0;
  }

  /**
   * Whether the read side holds no request (timeline replay beside a prefetch: the write side may
   * be busy, and requests on their way in or responses on their way out are then the writer's).
   */
  readIdle(): boolean {
    return this.timing.readPending === 0;
  }

  override status(): string {
    return [this.timing.status(), this.outbox.status()].filter(Boolean).join("; ");
  }
}

/**
 * `sum[i] += p[i]` (modulo 2^32) for i < n. A function of its own: on a first large accumulate V8
 * compiles the loop alone, on the stack (OSR), and an OSR'd loop inside `move` deoptimized at the
 * first use after it of a field never read before, at every such accumulate after it
 * (docs/design-notes.md, "The compiler's share").
 */
function addInto(sum: Int32Array, p: Int32Array, n: number): void {
  for (let i = 0; i < n; i++) sum[i] = (sum[i]! + p[i]!) | 0;
}
