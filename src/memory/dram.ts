/**
 * DramChannel: one DRAM channel holding the layer's tensors at byte addresses.
 *
 * Modeled: each tensor is stored contiguously in its own layout (the driver chooses it, e.g.
 * NCHW), at a base address aligned to the burst size; real values (and, in checked mode, tags)
 * live in a typed array per tensor. A request names a tensor and a {@link Box} of its elements.
 * The request's byte ranges (one per innermost row of the box, or one per element when the row is
 * strided) are split into aligned bursts of `burstBytes`; a burst shared by two consecutive ranges
 * is fetched once. Reads and writes share one data bus.
 *
 * Timing: a timing model picked by name (`dram.model`, dram-timing.ts) decides, when a request is
 * popped, the cycle it completes and the first cycle the next request may be popped. The default,
 * `channel`, is the burst pipeline (per burst, in global issue order; W = bytesPerCycle,
 * P = burstsPerCycle, M = maxOutstanding):
 *
 *     issue_i = max(pop, issue_{i-1}, issue_{i-P} + 1, done_{i-M} + 1)  (at most P issues per cycle,
 *                                                                      at most M bursts in flight)
 *     end_i   = max((issue_i + latencyCycles) * W, end_{i-1}) + burstBytes   (bus byte time)
 *     done_i  = ceil(end_i / W) - 1                        (the bus carries W bytes per cycle)
 *
 * `ideal` completes every request in the cycle it is popped (unlimited bandwidth, no latency).
 * A request completes in the cycle its model says: then its data move (a read gathers the words,
 * a write stores them), its counters are incremented and its response is sent (visible to the
 * driver one cycle later). Requests complete in order, with either model.
 * Example (`channel`): 1 KiB at 16 B/cycle, latency 100, 64-B bursts, 4 outstanding: 16 bursts in
 * 4 groups of 104 cycles; popped in cycle s, the read completes in cycle s + 427 (docs/timing.md).
 *
 * Counts per tensor kind: words and bytes read/written (useful data), bursts, and wasted bytes
 * (bytes moved by the bursts that the request did not ask for); the same with every model.
 * Not modeled: banks, row buffers, refresh, read/write turnaround, request reordering, capacity
 * limits (the address space is unbounded). To add banks and row buffers, add a timing model with a
 * per-bank state machine keyed on the burst address (docs/timing.md).
 * Source: the simple fixed-latency, fixed-bandwidth DRAM of SST `simpleDRAM` and Timeloop's DRAM
 * level; Chen, Han, Wang (HPCA 2020) count DRAM traffic in words, which `dram.read.*` gives.
 */
import {
  BoxMemo,
  boxSize,
  checkBox,
  checkTags,
  Component,
  ConfigError,
  forEachRow,
  gather,
  InvariantError,
  Outbox,
  scatter,
  tagOf,
  TAG_EMPTY,
  bytes,
  type Box,
  type Bytes,
  type Counter,
  type Engine,
  type InPort,
  type OutPort,
  type Payload,
  type TagExpect,
  type WordArray,
} from "../core/index.js";
import type { DramSpec } from "../arch/spec.js";
import { checkDramSpec } from "../arch/schema.js";
import { allocate, allocatePayload, dtypeInfo, dtypeOfArray, type ElementType } from "../workload/dtype.js";
import { TENSOR_KINDS, type TensorKind } from "./tensor-kind.js";
import { dramTimingModel, type DramTimingModel } from "./dram-timing.js";

/** A tensor resident in DRAM. A handle: requests refer to it. */
export interface DramTensor {
  /** Unique name, e.g. `x`. */
  readonly name: string;
  /** Counter key. */
  readonly kind: TensorKind;
  readonly dtype: ElementType;
  /** Byte address of element 0 (aligned to the burst size). */
  readonly baseAddress: Bytes;
  readonly elements: number;
  readonly bytes: Bytes;
}

/** Read `box` of `tensor`; the response carries the words densely in box order. */
export interface DramReadRequest {
  readonly op: "read";
  /** Chosen by the driver; echoed in the response. */
  readonly id: number;
  readonly tensor: DramTensor;
  readonly box: Box;
  /** Tags the words must hold (required in checked mode). */
  readonly expect?: TagExpect;
}

/** Write `payload` (dense, box order) into `box` of `tensor`. */
export interface DramWriteRequest {
  readonly op: "write";
  readonly id: number;
  readonly tensor: DramTensor;
  readonly box: Box;
  readonly payload: Payload;
}

/**
 * Add `payload` (dense, box order, int32 wrap-around) into `box` of an int32 tensor: a
 * read-modify-write at the memory side (the box's bursts are read, then written back, on the one
 * bus). Counts the words, bytes and bursts as read and as written, and the words as added
 * (`add.<kind>`); checked mode checks the words' tags against `expect` first.
 */
export interface DramAccumulateRequest {
  readonly op: "accumulate";
  readonly id: number;
  readonly tensor: DramTensor;
  readonly box: Box;
  readonly payload: Payload;
  readonly expect?: TagExpect;
}

/** A request to the DRAM channel. */
export type DramRequest = DramReadRequest | DramWriteRequest | DramAccumulateRequest;

/** A completed request. */
export interface DramResponse {
  readonly op: "read" | "write" | "accumulate";
  readonly id: number;
  /** The words read (reads only). */
  readonly payload?: Payload;
  /** Bursts the request took. */
  readonly bursts: number;
  /** Cycle the request was popped, and cycle it completed. */
  readonly poppedAt: number;
  readonly completedAt: number;
}

interface Stored {
  readonly t: DramTensor;
  readonly data: WordArray;
  readonly tags: Float64Array | undefined;
}

interface Job {
  readonly req: DramRequest;
  readonly poppedAt: number;
  readonly bursts: number;
  readonly usefulBytes: number;
  readonly doneAt: number;
}

interface KindCounters {
  readonly words: Counter;
  readonly bytes: Counter;
  readonly bursts: Counter;
  readonly waste: Counter;
}

/** Options of a {@link DramChannel}. */
export interface DramChannelOptions {
  /** Component name and counter prefix. Default `dram`. */
  readonly name?: string;
}

/** Validates a DramSpec against the architecture schema (src/arch/schema.ts). @throws ConfigError naming `<path>.<field>`. */
export function validateDramSpec(spec: DramSpec, path = "dram"): DramSpec {
  checkDramSpec(spec as unknown as Record<string, unknown>, path);
  return spec;
}

/**
 * The DRAM channel. Ports: `cmd` (requests in), `resp` (responses out).
 * Tensors are placed with {@link DramChannel.load} / {@link DramChannel.allocate} before a run and
 * read back with {@link DramChannel.contents} after it (backdoor accesses: not timed, not counted).
 */
export class DramChannel extends Component {
  /** Requests from the driver. */
  readonly cmd: InPort<DramRequest>;
  /** Responses to the driver. */
  readonly resp: OutPort<DramResponse>;
  /** The validated spec. */
  readonly spec: DramSpec;
  /** The timing model (`spec.model`, default `channel`). */
  readonly timing: DramTimingModel;
  private readonly tensors = new Map<string, Stored>();
  private nextAddress = 0;
  private readonly inflight: Job[] = [];
  private readonly outbox = new Outbox();
  private readonly readCounters: Record<TensorKind, KindCounters>;
  private readonly writeCounters: Record<TensorKind, KindCounters>;

  constructor(engine: Engine, spec: DramSpec, options: DramChannelOptions = {}) {
    super(engine, options.name ?? "dram");
    this.spec = Object.freeze({ ...validateDramSpec(spec, this.name) });
    this.timing = dramTimingModel(this.spec, this.name);
    this.cmd = this.inPort<DramRequest>("cmd");
    this.resp = this.outPort<DramResponse>("resp");
    const mk = (op: "read" | "write"): Record<TensorKind, KindCounters> => {
      const r = {} as Record<TensorKind, KindCounters>;
      for (const k of TENSOR_KINDS) {
        r[k] = {
          words: this.counter(`${op}.${k}`, "words", `${k} words ${op === "read" ? "read from" : "written to"} DRAM (useful data)`),
          bytes: this.counter(`${op}Bytes.${k}`, "bytes", `${k} bytes ${op === "read" ? "read from" : "written to"} DRAM (useful data)`),
          bursts: this.counter(`${op}Bursts.${k}`, "bursts", `DRAM bursts of ${k} ${op}s`),
          waste: this.counter(`${op}Waste.${k}`, "bytes", `bytes moved by ${k} ${op} bursts that the requests did not ask for`),
        };
      }
      return r;
    };
    this.readCounters = mk("read");
    this.writeCounters = mk("write");
    const adds = {} as Record<TensorKind, Counter>;
    for (const k of TENSOR_KINDS) adds[k] = this.counter(`add.${k}`, "words", `${k} words added into DRAM by read-modify-writes`);
    this.addCounters = adds;
  }

  /** Words added by accumulate requests, per tensor kind. */
  private readonly addCounters: Record<TensorKind, Counter>;

  private place(name: string, kind: TensorKind, dtype: ElementType, elements: number): DramTensor {
    if (this.tensors.has(name)) throw new ConfigError(`${this.name}.tensors.${name}`, name, "be loaded once (the name is taken)");
    if (!Number.isInteger(elements) || elements < 1) throw new ConfigError(`${this.name}.tensors.${name}.elements`, elements, "be a positive integer");
    const b = dtypeInfo(dtype).bytes * elements;
    const base = Math.ceil(this.nextAddress / this.spec.burstBytes) * this.spec.burstBytes;
    this.nextAddress = base + b;
    return Object.freeze({ name, kind, dtype, baseAddress: bytes(base), elements, bytes: bytes(b) });
  }

  /**
   * Places a copy of `data` in DRAM as tensor `name` (with `adopt`, `data` itself: the caller hands
   * it over and must not use it again). In checked mode its words are tagged `tagOf(space, i)` (or
   * with `tags` when given).
   */
  load(name: string, kind: TensorKind, data: WordArray, options: { readonly space?: number; readonly tags?: Float64Array; readonly adopt?: boolean } = {}): DramTensor {
    const dtype = dtypeOfArray(data);
    if (!dtype) throw new ConfigError(`${this.name}.tensors.${name}`, typeof data, "be an integer typed array");
    const t = this.place(name, kind, dtype, data.length);
    let copy = data;
    if (!options.adopt) {
      copy = allocate(dtype, data.length);
      copy.set(data);
    }
    let tags: Float64Array | undefined;
    if (this.engine.checked) {
      tags = new Float64Array(data.length);
      if (options.tags) {
        if (options.tags.length !== data.length) throw new ConfigError(`${this.name}.tensors.${name}.tags.length`, options.tags.length, `equal the tensor's ${data.length} elements`);
        tags.set(options.tags);
      } else if (options.space !== undefined) {
        for (let i = 0; i < data.length; i++) tags[i] = tagOf(options.space, i);
      }
    }
    this.tensors.set(name, { t, data: copy, tags });
    return t;
  }

  /** Reserves a zeroed tensor (e.g. the output), its words untagged (never written). */
  allocate(name: string, kind: TensorKind, dtype: ElementType, elements: number): DramTensor {
    const t = this.place(name, kind, dtype, elements);
    this.tensors.set(name, { t, data: allocate(dtype, elements), tags: this.engine.checked ? new Float64Array(elements) : undefined });
    return t;
  }

  /** The tensor named `name`. */
  tensor(name: string): DramTensor {
    const s = this.tensors.get(name);
    if (!s) throw new InvariantError(this.name, `no tensor named ${name}`);
    return s.t;
  }

  /** A copy of a tensor's current contents (backdoor read: not timed, not counted). */
  contents(t: DramTensor | string): WordArray {
    const s = this.stored(t);
    return s.data.slice();
  }

  /** A copy of a tensor's tags (checked mode), for tests. */
  tagsOf(t: DramTensor | string): Float64Array {
    const s = this.stored(t);
    return s.tags ? s.tags.slice() : new Float64Array(s.data.length).fill(TAG_EMPTY);
  }

  private stored(t: DramTensor | string): Stored {
    const name = typeof t === "string" ? t : t.name;
    const s = this.tensors.get(name);
    if (!s || (typeof t !== "string" && s.t !== t)) throw new InvariantError(this.name, `no tensor named ${name} in this channel`);
    return s;
  }

  /** Bursts a request touches, and its useful bytes (exported for tests and bounds). */
  burstsOf(tensor: DramTensor, box: Box): { readonly bursts: number; readonly usefulBytes: number } {
    const eb = dtypeInfo(tensor.dtype).bytes;
    const B = this.spec.burstBytes;
    // The count depends on burst-index equality only, so a box moved by whole bursts has the same
    // count: memoized on its start within a burst, its shape and strides (exact).
    const within = (tensor.baseAddress + box.offset * eb) % B;
    const hit = this.burstMemo.get(within, eb, 0, box);
    if (hit) return hit;
    const result = this.countBursts(tensor, box);
    this.burstMemo.set(within, eb, 0, box, result);
    return result;
  }

  /** Memoized burst counts (see {@link DramChannel.burstsOf}). */
  private readonly burstMemo = new BoxMemo<{ readonly bursts: number; readonly usefulBytes: number }>();

  private countBursts(tensor: DramTensor, box: Box): { readonly bursts: number; readonly usefulBytes: number } {
    const eb = dtypeInfo(tensor.dtype).bytes;
    const B = this.spec.burstBytes;
    const base = tensor.baseAddress;
    let last = -1;
    let n = 0;
    const range = (a: number, z: number): void => {
      let b0 = Math.floor(a / B);
      const b1 = Math.floor(z / B);
      if (b0 === last) b0++;
      if (b1 >= b0) n += b1 - b0 + 1;
      last = b1;
    };
    forEachRow(box, (start, length, stride) => {
      if (stride === 1 || length === 1) {
        range(base + start * eb, base + (start + length) * eb - 1);
      } else {
        for (let i = 0, e = start; i < length; i++, e += stride) range(base + e * eb, base + e * eb + eb - 1);
      }
    });
    return { bursts: n, usefulBytes: boxSize(box.shape) * eb };
  }

  override interact(now: number): void {
    // Completions first (in order), then new requests while the timing model lets them in.
    while (this.inflight.length > 0 && this.inflight[0]!.doneAt === now) this.complete(this.inflight.shift()!, now);
    while (now >= this.timing.nextPopAt) {
      const req = this.cmd.pop(now);
      if (!req) break;
      const s = this.stored(req.tensor);
      checkBox(this.name, `${req.op} of ${req.tensor.name}`, req.box, s.data.length);
      if (req.op !== "read") this.checkPayload(req, s);
      const { bursts: nb, usefulBytes } = this.burstsOf(req.tensor, req.box);
      // An accumulate reads its bursts, then writes them back.
      const doneAt = this.timing.schedule(now, req.op === "accumulate" ? 2 * nb : nb);
      const last = this.inflight.length > 0 ? this.inflight[this.inflight.length - 1]!.doneAt : now;
      if (doneAt < last) throw new InvariantError(this.name, `the ${this.timing.name} model completes a request in cycle ${doneAt}, before an earlier one (${last})`);
      const job: Job = { req, poppedAt: now, bursts: nb, usefulBytes, doneAt };
      if (doneAt === now) this.complete(job, now);
      else this.inflight.push(job);
    }
    this.outbox.flush(now);
  }

  private checkPayload(req: DramWriteRequest | DramAccumulateRequest, s: Stored): void {
    const n = boxSize(req.box.shape);
    if (req.op === "accumulate" && s.t.dtype !== "int32") throw new InvariantError(this.name, `accumulate into ${s.t.name}: only int32 tensors accumulate`);
    if (req.payload.data.length !== n) throw new InvariantError(this.name, `write of ${s.t.name}: payload has ${req.payload.data.length} words for a box of ${n}`);
    if (dtypeOfArray(req.payload.data) !== s.t.dtype) throw new InvariantError(this.name, `write of ${s.t.name}: payload is ${dtypeOfArray(req.payload.data)}, tensor is ${s.t.dtype}`);
    if (this.engine.checked && (!req.payload.tags || req.payload.tags.length !== n)) throw new InvariantError(this.name, `write of ${s.t.name}: checked mode needs one tag per payload word`);
  }

  private complete(job: Job, now: number): void {
    const req = job.req;
    const s = this.stored(req.tensor);
    const n = boxSize(req.box.shape);
    let payload: Payload | undefined;
    if (req.op !== "write" && s.tags) {
      if (!req.expect) throw new InvariantError(this.name, `${req.op} of ${s.t.name}: checked mode needs the expected tags`);
      const eb = dtypeInfo(s.t.dtype).bytes;
      checkTags(this.name, s.tags, req.box, req.expect, (i) => `${s.t.name}[${i}] (byte address ${s.t.baseAddress + i * eb})`, this.engine.tagSpaceNames);
    }
    if (req.op === "read") {
      const data = allocatePayload(s.t.dtype, n);
      gather(s.data, req.box, data);
      let tags: Float64Array | undefined;
      if (s.tags) {
        tags = new Float64Array(n);
        gather(s.tags, req.box, tags);
      }
      payload = tags ? { data, tags } : { data };
      this.count(this.readCounters[s.t.kind], n, job);
    } else {
      let data = req.payload.data;
      if (req.op === "accumulate") {
        const sum = new Int32Array(n);
        gather(s.data, req.box, sum);
        const p = data as Int32Array;
        for (let i = 0; i < n; i++) sum[i] = (sum[i]! + p[i]!) | 0;
        data = sum;
        this.count(this.readCounters[s.t.kind], n, job);
        this.addCounters[s.t.kind].value += n;
      }
      scatter(data, 0, s.data, req.box);
      if (s.tags && req.payload.tags) scatter(req.payload.tags, 0, s.tags, req.box);
      this.count(this.writeCounters[s.t.kind], n, job);
    }
    // (one shape for every response, payload or not)
    const r: DramResponse = { op: req.op, id: req.id, payload, bursts: req.op === "accumulate" ? 2 * job.bursts : job.bursts, poppedAt: job.poppedAt, completedAt: now };
    this.outbox.post(this.resp, r);
  }

  private count(c: KindCounters, n: number, job: Job): void {
    const moved = job.bursts * this.spec.burstBytes;
    c.words.value += n;
    c.bytes.value += job.usefulBytes;
    c.bursts.value += job.bursts;
    c.waste.value += Math.max(0, moved - job.usefulBytes);
  }

  override progress(): void {
    // Time alone changes nothing: bursts in flight are scheduled in closed form at pop time.
  }

  override horizon(now: number): number {
    let h = this.outbox.horizon(now);
    if (this.inflight.length > 0) h = Math.min(h, this.inflight[0]!.doneAt - now);
    if (this.cmd.ready(now)) h = Math.min(h, Math.max(0, this.timing.nextPopAt - now));
    return h;
  }

  override busy(): boolean {
    return this.inflight.length > 0 || this.outbox.size > 0 || this.cmd.pending > 0;
  }

  override status(now: number): string {
    const parts: string[] = [];
    if (this.inflight.length) parts.push(`${this.inflight.length} request(s) in flight, next completes in cycle ${this.inflight[0]!.doneAt}`);
    if (this.cmd.ready(now)) parts.push(`a request waits: ${this.timing.status()}`);
    if (this.outbox.size) parts.push(this.outbox.status());
    return parts.join("; ") || "idle";
  }
}
