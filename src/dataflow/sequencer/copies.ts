/**
 * Compiled copies (runs of timelines, runs.ts; docs/design-notes.md, "Runs of timelines").
 *
 * In a replayed timeline the iteration after a boundary reads its operands from the GBuf, slides
 * its halos and delivers and fills its register files: requests that only copy words. What they
 * leave in the register files depends on the plan's template and on where its reads are (their
 * boxes' offsets and GBuf regions), never on the words' values (the model has no value-dependent
 * behaviour). So each template's copies are compiled once into word lists, and a replay that
 * applies a plan of it writes the words directly, at the plan's own read offsets: no request,
 * payload or response is made and no component is called. Counters are not moved: a run sets
 * every counter to its recorded value (TimelineReplay.finishRun).
 *
 * Compiling a template: the first plan of it applied here runs its copies once on tagged words
 * (every register-file word holds a tag naming it, every word of a read's payload one naming the
 * read and the word), then on the real words through the components; each register-file word
 * the tagged run changed names its source (a register-file word before the copies, a word of a
 * read's box, or a constant). The lists are then run on the words as they were before the
 * copies and must leave exactly what the components left, or the template is never compiled
 * (its copies keep going through the components).
 */
import { Buffer } from "node:buffer";
import { boxSize, InvariantError, type Box, type Payload, type WordArray } from "../../core/index.js";
import type { GbufRegion, GlobalBuffer, RegFile } from "../../memory/index.js";
import { deliveries, type PayloadSource } from "./executor.js";
import { Responses, type IterationPlan, type PlanTemplate, type Req } from "./types.js";

/** Register-file word `a` before the copies holds `RF_TAG + a` while a template is compiled. */
const RF_TAG = -(2 ** 30);
/** Word `i` of read `r`'s payload holds `GB_TAG + r * READ_SPAN + i` while a template is compiled. */
const GB_TAG = -(2 ** 31);
const READ_SPAN = 2 ** 24;
/** Reads a compiled template may have (their tags stay below {@link RF_TAG}). */
const MAX_READS = 63;

/** What compiled copies need of the Sequencer component (timeline.ts, TimelineHost). */
export interface CopyHost {
  /** While applying: applies `reqs` at once, in order, keeping the responses with a payload in `into`. */
  apply(reqs: readonly Req[], into: Responses): void;
}

/** A template's copies as word lists (see the file header). */
interface CopyMap {
  /** Per read `r`, its segments in {@link gSeg}: `[gAt[r], gAt[r + 1])`, in units of one segment. */
  readonly gAt: Int32Array;
  /**
   * The GBuf words as affine segments ({@link segments}), five numbers each: the first
   * destination register-file word, the first source word relative to the read box's offset, the
   * count, and the destination's and the source's steps.
   */
  readonly gSeg: Int32Array;
  /** Per read, the least and greatest relative source word (the box's bounds check). */
  readonly gMin: Int32Array;
  readonly gMax: Int32Array;
  /**
   * Register-file words copied from register-file words (as they were before the copies): affine
   * segments as {@link gSeg}'s (source words absolute), through `rTmp`, one word per copy.
   */
  readonly rSeg: Int32Array;
  readonly rTmp: Int32Array;
  /** Register-file words set to constants. */
  readonly cDst: Int32Array;
  readonly cVal: Int32Array;
}

/** Runs the copies of replayed plans compiled (see the file header). */
export class CompiledCopies {
  private readonly maps = new WeakMap<PlanTemplate, CopyMap | null>();
  /** Every register-file word (RegFile.words). */
  private readonly rf: Int32Array;
  private readonly scratch = new Responses();
  /** Plans whose copies ran compiled, and templates that could not be compiled. */
  compiled = 0;
  refused = 0;

  /**
   * @param deliver an applied plan's deliveries and fills, given its reads' payloads (a
   *   single-buffered program's: executor.ts `deliveries`; a pipelined one's: its early sends,
   *   program.ts `sends`).
   */
  constructor(
    rf: RegFile,
    private readonly gbuf: GlobalBuffer,
    private readonly host: CopyHost,
    private readonly deliver: (p: IterationPlan, from: PayloadSource) => readonly Req[] = deliveries,
  ) {
    this.rf = rf.words;
  }

  /**
   * Applies the copies of plan `p` (a replay of a template, while its timeline is applied at once):
   * its reads, halo moves, deliveries and fills, compiled when its template is, else through the
   * components (compiling the template the first time). `got`: responses with payloads, for the
   * component path.
   */
  apply(p: IterationPlan, got: Responses): void {
    const t = p.template;
    if (!t) throw new InvariantError("sequencer", "compiled copies of a plan with no template");
    let m = this.maps.get(t);
    if (m === undefined) {
      m = this.compile(p, got);
      this.maps.set(t, m);
      if (!m) this.refused++;
      return;
    }
    if (m === null) {
      this.applyThrough(p, got, undefined);
      return;
    }
    this.run(m, p, this.rf);
    this.compiled++;
  }

  /** `p`'s copies through the components, with `fakes` as its reads' payloads (else its reads run). */
  private applyThrough(p: IterationPlan, got: Responses, fakes: readonly Payload[] | undefined): void {
    const host = this.host;
    if (!fakes) host.apply(p.reads, got);
    if (p.moves.length > 0) host.apply(p.moves, got);
    const sends = this.deliver(p, fakes ? { take: (q) => fakes[p.reads.indexOf(q)]! } : { take: (q) => payloadOf(got, q) });
    if (sends.length > 0) host.apply(sends, got);
  }

  /** Compiles `p`'s template while applying `p`'s copies (see the file header); null when it cannot be. */
  private compile(p: IterationPlan, got: Responses): CopyMap | null {
    const M = this.rf;
    const W = M.length;
    const boxes = p.reads.map((q) => readBox(q));
    if (boxes.length > MAX_READS || boxes.some((b) => !b || boxSize(b.shape) >= READ_SPAN) || W >= -RF_TAG) {
      this.applyThrough(p, got, undefined);
      return null;
    }
    // (two buffers kept for every compilation: a fresh one's pages cost more than the copies)
    const before = (this.before ??= new Int32Array(W));
    const tagged = (this.tagged ??= new Int32Array(W));
    before.set(M);
    const tags = (this.tags ??= rfTags(W));
    M.set(tags);
    const fakes = boxes.map((b, r) => {
      const data = new Int32Array(boxSize(b!.shape));
      for (let i = 0, v = GB_TAG + r * READ_SPAN; i < data.length; i++) data[i] = v + i;
      return { data };
    });
    this.applyThrough(p, this.scratch, fakes);
    tagged.set(M);
    M.set(before);
    this.applyThrough(p, got, undefined);
    const m = buildMap(tagged, differences(tagged, tags), boxes as Box[]);
    if (!m) return null;
    // The lists on the words as they were must leave what the components left.
    this.run(m, p, before);
    return bytesOf(before).equals(bytesOf(M)) ? m : null;
  }

  /** Runs map `m` at plan `p`'s reads on the register-file words `M`. */
  private run(m: CopyMap, p: IterationPlan, M: Int32Array): void {
    const { rSeg, rTmp, gAt, gSeg, cDst, cVal } = m;
    // (five numbers a segment: first destination, first source, count, their two steps)
    for (let k = 0, t = 0; k < rSeg.length; k += 5) {
      for (let i = 0, a = rSeg[k + 1]!, n = rSeg[k + 2]!, st = rSeg[k + 4]!; i < n; i++, a += st) rTmp[t++] = M[a]!;
    }
    for (let r = 0; r + 1 < gAt.length; r++) {
      const q = p.reads[r]!;
      const box = readBox(q)!;
      const data = this.words((q.msg as { region: GbufRegion }).region);
      const off = box.offset;
      if (off + m.gMin[r]! < 0 || off + m.gMax[r]! >= data.length) throw new InvariantError("sequencer", `a compiled read of ${(q.msg as { region: GbufRegion }).region.name} at ${off} lies outside it`);
      for (let k = 5 * gAt[r]!, end = 5 * gAt[r + 1]!; k < end; k += 5) {
        let d = gSeg[k]!;
        let a = off + gSeg[k + 1]!;
        const n = gSeg[k + 2]!;
        const sd = gSeg[k + 3]!;
        const sa = gSeg[k + 4]!;
        for (let i = 0; i < n; i++, d += sd, a += sa) M[d] = data[a]!;
      }
    }
    for (let k = 0, t = 0; k < rSeg.length; k += 5) {
      for (let i = 0, d = rSeg[k]!, n = rSeg[k + 2]!, sd = rSeg[k + 3]!; i < n; i++, d += sd) M[d] = rTmp[t++]!;
    }
    for (let k = 0; k < cDst.length; k++) M[cDst[k]!] = cVal[k]!;
  }

  /** Every register-file word's tag ({@link RF_TAG}), and two buffers of as many words, made with the first compilation. */
  private tags: Int32Array | undefined;
  private before: Int32Array | undefined;
  private tagged: Int32Array | undefined;

  /** The words of GBuf regions, by region (GlobalBuffer.words). */
  private readonly regionWords = new Map<GbufRegion, WordArray>();

  private words(region: GbufRegion): WordArray {
    let w = this.regionWords.get(region);
    if (!w) this.regionWords.set(region, (w = this.gbuf.words(region)));
    return w;
  }
}

/** The tags of `W` register-file words. */
function rfTags(W: number): Int32Array {
  const t = new Int32Array(W);
  for (let a = 0; a < W; a++) t[a] = RF_TAG + a;
  return t;
}

/** A GBuf read's box; undefined for any other request (a DRAM read is never compiled). */
function readBox(q: Req): Box | undefined {
  return q.to === "gbuf" && q.msg.op === "read" ? q.msg.box : undefined;
}

/** The payload of read `q` among `got` (taken out). */
function payloadOf(got: Responses, q: Req): Payload {
  const p = (got.take(q) as { payload?: Payload } | undefined)?.payload;
  if (!p) throw new InvariantError("sequencer", `compiled copies have no payload for a ${q.to} ${q.msg.op}`);
  return p;
}

/** Each word of `box` in gather order, relative to its offset. */
function relativeWords(box: Box): Int32Array {
  const { shape, strides } = box;
  const out = new Int32Array(boxSize(shape));
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < out.length; i++) {
    let a = 0;
    for (let d = 0; d < shape.length; d++) a += idx[d]! * strides[d]!;
    out[i] = a;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * Appends to `out` the copies `dst[k] <- src[k]`, in their order, as affine segments: five
 * numbers each (first destination, first source, count, destination step, source step), each
 * segment as long as both steps stay the same. The word lists had been walked one copy at a time,
 * two index loads each; as segments AlexNet conv1's 17.3 M GBuf words with `chen2020` are 1.9 M
 * segments (the inputs are four words apart: its stride), fc6's 22.8 M are 1.2 M.
 */
function segments(dst: readonly number[], src: readonly number[], out: number[]): void {
  for (let k = 0; k < dst.length; ) {
    const sd = k + 1 < dst.length ? dst[k + 1]! - dst[k]! : 0;
    const ss = k + 1 < dst.length ? src[k + 1]! - src[k]! : 0;
    let n = 1;
    while (k + n < dst.length && dst[k + n]! - dst[k + n - 1]! === sd && src[k + n]! - src[k + n - 1]! === ss) n++;
    out.push(dst[k]!, src[k]!, n, sd, ss);
    k += n;
  }
}

/** The bytes of `x` (a view, not a copy). */
function bytesOf(x: Int32Array): Buffer {
  return Buffer.from(x.buffer, x.byteOffset, x.byteLength);
}

/** Words per block that {@link differences} compares natively before it looks at a word. */
const BLOCK = 256;

/**
 * The indices where `x` and `y` (of one length) differ, ascending: blocks of {@link BLOCK}
 * words compared with Buffer's native compare, only the blocks that differ scanned word by word
 * (a template's copies change few of the register files' words: a scan of every word at every
 * compilation was a tenth of a run of AlexNet conv1 with `chen2020`, 419 templates).
 */
function differences(x: Int32Array, y: Int32Array): number[] {
  const bx = bytesOf(x);
  const by = bytesOf(y);
  const out: number[] = [];
  for (let a0 = 0; a0 < x.length; a0 += BLOCK) {
    const a1 = Math.min(x.length, a0 + BLOCK);
    if (bx.compare(by, 4 * a0, 4 * a1, 4 * a0, 4 * a1) === 0) continue;
    for (let a = a0; a < a1; a++) if (x[a] !== y[a]) out.push(a);
  }
  return out;
}

/**
 * The word lists of the changes in `tagged` (see the file header), `changed` the words whose tag
 * is not their own; null when a read's word is written twice.
 */
function buildMap(tagged: Int32Array, changed: readonly number[], boxes: readonly Box[]): CopyMap | null {
  const W = tagged.length;
  const rels = boxes.map(relativeWords);
  const byRead: number[][] = boxes.map(() => []);
  const rDst: number[] = [];
  const rSrc: number[] = [];
  const cDst: number[] = [];
  const cVal: number[] = [];
  for (const a of changed) {
    const v = tagged[a]!;
    if (v >= RF_TAG && v < RF_TAG + W) {
      rDst.push(a);
      rSrc.push(v - RF_TAG);
    } else if (v >= GB_TAG && v < GB_TAG + boxes.length * READ_SPAN) {
      const x = v - GB_TAG;
      const r = Math.floor(x / READ_SPAN);
      const i = x % READ_SPAN;
      if (i >= rels[r]!.length) return null;
      byRead[r]!.push(a, rels[r]![i]!);
    } else {
      cDst.push(a);
      cVal.push(v);
    }
  }
  const gAt = new Int32Array(boxes.length + 1);
  const gSeg: number[] = [];
  const gMin = new Int32Array(boxes.length);
  const gMax = new Int32Array(boxes.length);
  byRead.forEach((list, r) => {
    let lo = 0;
    let hi = 0;
    const dst: number[] = [];
    const rel: number[] = [];
    for (let k = 0; k < list.length; k += 2) {
      dst.push(list[k]!);
      rel.push(list[k + 1]!);
      lo = Math.min(lo, list[k + 1]!);
      hi = Math.max(hi, list[k + 1]!);
    }
    gMin[r] = lo;
    gMax[r] = hi;
    segments(dst, rel, gSeg);
    gAt[r + 1] = gSeg.length / 5;
  });
  const rSeg: number[] = [];
  segments(rDst, rSrc, rSeg);
  return {
    gAt,
    gSeg: Int32Array.from(gSeg),
    gMin,
    gMax,
    rSeg: Int32Array.from(rSeg),
    rTmp: new Int32Array(rSrc.length),
    cDst: Int32Array.from(cDst),
    cVal: Int32Array.from(cVal),
  };
}
