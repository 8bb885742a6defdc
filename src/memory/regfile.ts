/**
 * RegFile: the register files of the PEs of one array, one per PE, all organized alike.
 *
 * Modeled: each PE's register file has three partitions (Eyeriss: 224 weight entries, 12 input
 * entries, 24 partial-sum entries); one entry holds one element of its partition's tensor (an
 * int32 partial sum takes one entry, as a 16-bit input does). Storage is structure-of-arrays:
 * one `Int32Array` per partition for all PEs, PE `p`'s partition being the slice
 * `[p * entries, (p + 1) * entries)`, plus a parallel `Float64Array` of tags in checked mode. The
 * PE array's MAC kernels read these arrays directly: that is the hot path. The three arrays are
 * views on one buffer, which the PE array places in its WebAssembly kernels' memory in unchecked
 * runs (src/pe-array/wave-kernels.ts).
 *
 * Timing: none of its own. Its ports bound the rates of its users: a MAC reads two operands, so
 * a PE issues at most floor(readPorts / 2) MACs per cycle; a delivery of n words to a PE takes at
 * least ceil(n / writePorts) cycles (the Noc charges it).
 *
 * Line buffers (`RegFileLayout.lines`): a partition may hold one slice per line of the array
 * instead of one per PE, when every PE of a row (or of a column) holds the same words at the same
 * time: the buffer of a streamed operand, which enters at the array's edge and passes along the
 * line (src/dataflow/simulate.ts). PE `p`'s partition is then its line's slice; every access is
 * counted per PE as before (each PE's register is written and read), only the simulator's storage
 * is shared, so a 128 x 128 array does not keep 16,384 copies of one stream. Slides move each
 * line's slice once. A psum line buffer holds a line's sum (a streamed output summed down its
 * column, unchecked: every PE adds into the slice; design-notes.md): a reduction hop within it
 * moves no words but is counted, and two PEs of one line may not read it.
 *
 * Staged partitions (`RegFileLayout.staged`): an operand the mapping bypasses at the RF goes from
 * the network straight to the MAC. The simulator still keeps its words (so the MAC wave and
 * checked mode address them as a resident tile), but none of the accesses to them is a register
 * access: they are counted in counters of their own that no report reads, and `rf.*.<part>` stays
 * 0. The network's `noc.deliver.<part>` counts the words that reach the MACs.
 *
 * A shared pool (`arch.rf.sharedEntries`, one pool for all tensors as in Timeloop) is built as
 * these three partitions too, carved out of the pool by `simulate()` at exactly the sizes the
 * mapping's rf tiles need (src/dataflow/simulate.ts); the legality check has made sure they fit
 * together. A {@link RegFileLayout} is therefore always three partitions.
 *
 * Counts per partition: entries read and written (`rf.read.weight`, `rf.write.psum`, ...) and
 * entries filled locally without a network transfer (`rf.fill.*`, e.g. generated padding).
 * Not modeled: port conflicts between MAC reads, deliveries and accumulator write-backs in the
 * same cycle, register-file energy (src/report's table).
 * Source: Eyeriss (Chen, Krishna, Emer, Sze, JSSC 2017, Sec. IV-C; ISCA 2016 Table IV).
 */
import {
  Counter,
  boxRows,
  checkBox,
  checkTags,
  fillBox,
  fillRows,
  SET_MIN,
  gather,
  InvariantError,
  scatter,
  scatterRows,
  gatherRows,
  moveRows,
  rowsAscending,
  sameLayout,
  writeExpectedTags,
  type Box,
  type CounterRegistry,
  type Payload,
  type TagExpect,
  type WordArray,
} from "../core/index.js";
import { RF_PARTITIONS, slotCount, slotOf, validateRegFileSpec, type RegFileLayout, type RfPartition, type WriteList } from "./regfile-layout.js";

export { RF_PARTITIONS, validateRegFileSpec, type RegFileLayout, type RfPartition, type WriteList } from "./regfile-layout.js";

/** Counters of one partition. */
interface PartCounters {
  readonly read: Counter;
  readonly write: Counter;
  readonly fill: Counter;
  readonly slide: Counter;
}

/** The register files of `pes` PEs (see the file header). */
export class RegFile {
  /** The validated layout. */
  readonly spec: RegFileLayout;
  /** Entries per PE per partition. */
  readonly entries: Readonly<Record<RfPartition, number>>;
  /**
   * Per partition, PE `p`'s first word in `data` (and `tags`): `p * entries[part]`, or its line's
   * slice for a line buffer ({@link RegFileLayout.lines}). Read by the MAC kernels.
   */
  readonly base: Readonly<Record<RfPartition, Int32Array>>;
  /** Values, all PEs, per partition (PE p's slice at `base[part][p]`). Read by the MAC kernel. */
  readonly data: Readonly<Record<RfPartition, Int32Array>>;
  /**
   * Every word of the three partitions, one array: input, weight, psum one after the other (the
   * `data` arrays are its parts). For compiled copies of replayed plans (sequencer/copies.ts).
   */
  readonly words: Int32Array;
  /** Tags in checked mode, laid out like `data`. */
  readonly tags: Readonly<Record<RfPartition, Float64Array>> | undefined;
  /** Counters, per partition. Incremented by the owner (PeArray) and by this class. */
  readonly counters: Readonly<Record<RfPartition, PartCounters>>;

  /**
   * @param counters the engine's registry.
   * @param name counter prefix (`rf`).
   * @param pes number of PEs.
   * @param storage where the partitions live (input, weight, psum, one after the other from byte
   *   0; at least {@link RegFile.words} words): the MAC kernels' WebAssembly memory. Default: a
   *   buffer of their own.
   * @param arrayCols PEs per row of the array (PE `p` is in row `floor(p / arrayCols)`), for line
   *   buffers. Default: one row.
   */
  constructor(
    counters: CounterRegistry,
    readonly name: string,
    spec: RegFileLayout,
    readonly pes: number,
    checked: boolean,
    storage?: ArrayBuffer,
    arrayCols = pes,
  ) {
    this.spec = Object.freeze({
      ...validateRegFileSpec(spec, name),
      ...(spec.lines ? { lines: Object.freeze({ ...spec.lines }) } : {}),
      ...(spec.staged ? { staged: Object.freeze({ ...spec.staged }) } : {}),
    });
    this.entries = Object.freeze({ input: spec.inputEntries, weight: spec.weightEntries, psum: spec.psumEntries });
    const words = RegFile.words(spec, pes, arrayCols);
    if (storage && storage.byteLength < words * 4) throw new InvariantError(name, `storage of ${storage.byteLength} bytes cannot hold ${words} words`);
    const buffer = storage ?? new ArrayBuffer(words * 4);
    let at = 0;
    const d = {} as Record<RfPartition, Int32Array>;
    const t = {} as Record<RfPartition, Float64Array>;
    const c = {} as Record<RfPartition, PartCounters>;
    const base = {} as Record<RfPartition, Int32Array>;
    for (const p of RF_PARTITIONS) {
      const line = spec.lines?.[p];
      const words = slotCount(line, pes, arrayCols) * this.entries[p];
      d[p] = new Int32Array(buffer, at * 4, words);
      at += words;
      t[p] = new Float64Array(checked ? words : 0);
      base[p] = new Int32Array(pes);
      for (let q = 0; q < pes; q++) base[p][q] = slotOf(line, q, arrayCols) * this.entries[p];
      if (line !== undefined) {
        const slots = slotCount(line, pes, arrayCols);
        this.sliceMarks[p] = { stamp: new Float64Array(slots), from: new Float64Array(slots) };
      }
      this.shared[p] = line !== undefined;
      const reg = {
        read: counters.register(`${name}.read.${p}`, "words", `${p} entries read from PE register files`),
        write: counters.register(`${name}.write.${p}`, "words", `${p} entries written to PE register files`),
        fill: counters.register(`${name}.fill.${p}`, "words", `${p} entries set locally (generated, e.g. padding or psum init), no transfer`),
        slide: counters.register(`${name}.slide.${p}`, "words", `${p} entries kept by a sliding window (re-addressed, no access)`),
      };
      // A staged partition (an RF bypass) is no register file: its accesses go to counters of
      // their own, outside the registry, and the registered ones stay 0.
      const staged = p !== "psum" && spec.staged?.[p] === true;
      const own = (k: keyof PartCounters) => new Counter(`${name}.staged.${k}.${p}`, "words", `${p} words staged for the MACs (RF bypass), not a register access`);
      c[p] = staged ? { read: own("read"), write: own("write"), fill: own("fill"), slide: own("slide") } : reg;
    }
    this.base = Object.freeze(base);
    this.data = Object.freeze(d);
    this.words = new Int32Array(buffer, 0, at);
    this.tags = checked ? Object.freeze(t) : undefined;
    this.counters = Object.freeze(c);
  }

  /** Whether a partition is a line buffer ({@link RegFileLayout.lines}). */
  private readonly shared: Record<RfPartition, boolean> = { input: false, weight: false, psum: false };

  /** Whether partition `part` is a line buffer ({@link RegFileLayout.lines}): one slice per line of the array. */
  isLineBuffer(part: RfPartition): boolean {
    return this.shared[part];
  }

  /** Per partition and slice, the last {@link writeList} call that copied into it and with which box (also stamps for slides and line reads). */
  private readonly sliceMarks: Record<RfPartition, { readonly stamp: Float64Array; readonly from: Float64Array }> = {
    input: { stamp: new Float64Array(0), from: new Float64Array(0) },
    weight: { stamp: new Float64Array(0), from: new Float64Array(0) },
    psum: { stamp: new Float64Array(0), from: new Float64Array(0) },
  };
  private writeStamp = 0;

  /** Words the partitions of `pes` PEs (in rows of `arrayCols`) take, all partitions together. */
  static words(spec: RegFileLayout, pes: number, arrayCols = pes): number {
    return (
      slotCount(spec.lines?.input, pes, arrayCols) * spec.inputEntries +
      slotCount(spec.lines?.weight, pes, arrayCols) * spec.weightEntries +
      slotCount(spec.lines?.psum, pes, arrayCols) * spec.psumEntries
    );
  }

  /** Describes a flat partition index as `PE p entry e`. */
  describe(part: RfPartition, flat: number): string {
    const e = this.entries[part];
    return `${this.shared[part] ? "line" : "PE"} ${Math.floor(flat / e)} ${part} entry ${flat % e}`;
  }

  private shift(part: RfPartition, pe: number, box: Box, what: string): Box {
    if (!Number.isInteger(pe) || pe < 0 || pe >= this.pes) throw new InvariantError(this.name, `${what}: no PE ${pe}`);
    checkBox(this.name, `${what} of ${part} in PE ${pe}`, box, this.entries[part]);
    return { shape: box.shape, offset: box.offset + this.base[part][pe]!, strides: box.strides };
  }

  /**
   * Writes `n` words of `payload` from `from` into `box` of PE `pe`'s partition, with their tags.
   * Counts `n` writes.
   */
  write(part: RfPartition, pe: number, box: Box, payload: Payload, from: number, n: number): void {
    const b = this.shift(part, pe, box, "write");
    scatter(payload.data, from, this.data[part], b);
    if (this.tags) {
      if (!payload.tags) throw new InvariantError(this.name, `write of ${part} in PE ${pe}: checked mode needs tags`);
      scatter(payload.tags, from, this.tags[part], b);
    }
    this.counters[part].write.value += n;
  }

  /**
   * The copies a write of payload boxes `boxes` (each PE's box index; negative: none) into PE
   * list `pes`, the first `count` of them, makes, for {@link writeListed}: one per PE written, in
   * order, except where a line buffer's slice already got the same box in the write (its PEs
   * share the copy; every PE written is still counted). A caller that writes the same lists
   * again keeps it.
   */
  writeList(part: RfPartition, pes: Int32Array, boxes: Int32Array, count: number): WriteList {
    const e = this.entries[part];
    const base = this.base[part];
    const shared = this.shared[part];
    const stamp = ++this.writeStamp;
    const marks = this.sliceMarks[part];
    const keep: number[] = [];
    let written = 0;
    for (let i = 0; i < count; i++) {
      const f = boxes[i]!;
      if (f < 0) continue;
      const pe = pes[i]!;
      if (pe < 0 || pe >= this.pes) throw new InvariantError(this.name, `write of ${part}: no PE ${pe}`);
      written++;
      if (shared) {
        const slot = base[pe]! / e;
        if (marks.stamp[slot] === stamp && marks.from[slot] === f) continue;
        marks.stamp[slot] = stamp;
        marks.from[slot] = f;
      }
      keep.push(i);
    }
    return { part, bases: Int32Array.from(keep, (i) => base[pes[i]!]!), boxes: Int32Array.from(keep, (i) => boxes[i]!), written };
  }

  /**
   * Writes the copies of a {@link writeList}: box `boxes[i]` of `n` words of `payload` into
   * `box` of the slice at `bases[i]` (the box checked once); counts `n` writes per PE the list
   * counts.
   */
  writeListed(box: Box, payload: Payload, n: number, list: WriteList): void {
    const part = list.part;
    checkBox(this.name, "write", box, this.entries[part], part);
    const rows = boxRows(box);
    const data = this.data[part];
    const tags = this.tags?.[part];
    if (tags && !payload.tags) throw new InvariantError(this.name, `write of ${part}: checked mode needs tags`);
    const { bases, boxes } = list;
    const src = payload.data;
    const { inner, stride } = rows;
    if (!tags && rows.starts.length === 1 && (stride !== 1 || inner < SET_MIN)) {
      // (a box of one short row, as a weight or a line of inputs is, copied in place: the shared
      // run copier sees every kind of array, and its element accesses here were most of this)
      copyOneRow(src, data, bases, boxes, n, rows.starts[0]!, inner, stride);
    } else {
      for (let i = 0; i < bases.length; i++) {
        scatterRows(src, boxes[i]! * n, data, rows, bases[i]!);
        if (tags) scatterRows(payload.tags!, boxes[i]! * n, tags, rows, bases[i]!);
      }
    }
    this.counters[part].write.value += n * list.written;
  }

  /**
   * Reads `box` of PE `pe`'s partition into `dst` from `at` (and its tags into `dstTags`),
   * checking tags against `expect` in checked mode. Counts the reads.
   */
  read(part: RfPartition, pe: number, box: Box, dst: WordArray, dstTags: Float64Array | undefined, at: number, n: number, expect: TagExpect | undefined): void {
    const b = this.shift(part, pe, box, "read");
    if (this.tags) {
      if (!expect) throw new InvariantError(this.name, `read of ${part} in PE ${pe}: checked mode needs the expected tags`);
      checkTags(this.name, this.tags[part], b, expect, (f) => this.describe(part, f));
      if (dstTags) gather(this.tags[part], b, dstTags, at);
    }
    gather(this.data[part], b, dst, at);
    this.counters[part].read.value += n;
  }

  /**
   * {@link read} of the same `box` from `count` PEs (`pes`), untagged (unchecked mode): PE
   * `pes[i]`'s words go densely to `dst` from `i * size`. The box is checked and compiled once.
   * Counts the reads.
   */
  readMany(part: RfPartition, box: Box, dst: WordArray, pes: Int32Array, count: number): void {
    const e = this.entries[part];
    const n = checkBox(this.name, "read", box, e, part);
    const rows = boxRows(box);
    const data = this.data[part];
    // (a box of one row, as a psum tile often is, read in place: see fillMany)
    const { inner, stride } = rows;
    const one = rows.starts.length === 1 && (stride !== 1 || inner < SET_MIN);
    const first = rows.starts[0]!;
    // A psum line buffer holds its line's sum: two PEs of a line would each carry all of it.
    const marks = part === "psum" && this.shared.psum ? this.sliceMarks.psum : undefined;
    const stamp = marks ? ++this.writeStamp : 0;
    for (let i = 0; i < count; i++) {
      const pe = pes[i]!;
      if (pe < 0 || pe >= this.pes) throw new InvariantError(this.name, `read of ${part}: no PE ${pe}`);
      const b = this.base[part][pe]!;
      if (marks) {
        const slot = b / e;
        if (marks.stamp[slot] === stamp) throw new InvariantError(this.name, `read of psum: two PEs of one line (PE ${pe} and another) read the line's shared sum`);
        marks.stamp[slot] = stamp;
      }
      if (one) for (let q = 0, t = b + first, d = i * n; q < inner; q++, t += stride) dst[d++] = data[t]!;
      else gatherRows(data, rows, b, dst, i * n);
    }
    this.counters[part].read.value += n * count;
  }

  /**
   * Link reduction hops, untagged (unchecked mode): in order, for each `i < count`, PE `to[i]`'s
   * `box` becomes its own words plus PE `from[i]`'s (int32 wrap-around), exactly as a {@link read}
   * of each and a {@link write} of the sum would leave it. The box is checked and compiled once.
   * Counts two reads and one write of the box's words per hop.
   */
  reduceMany(part: RfPartition, box: Box, from: Int32Array, to: Int32Array, count: number): void {
    const e = this.entries[part];
    const n = checkBox(this.name, "reduce", box, e, part);
    const { starts, inner, stride } = boxRows(box);
    const data = this.data[part];
    const base = this.base[part];
    // In place, pair after pair: each pair's sum is complete before the next reads it (a chain
    // along a line), as staged copies would give.
    const shared = this.shared[part];
    for (let i = 0; i < count; i++) {
      const f = from[i]!;
      const t = to[i]!;
      if (f < 0 || f >= this.pes || t < 0 || t >= this.pes) throw new InvariantError(this.name, `reduce of ${part}: no PE ${f < 0 || f >= this.pes ? f : t}`);
      const fb = base[f]!;
      const tb = base[t]!;
      // A line's shared slice already holds the line's sum: the hop moves nothing.
      if (fb === tb && shared) continue;
      for (let r = 0; r < starts.length; r++) {
        let a = fb + starts[r]!;
        let b = tb + starts[r]!;
        for (let q = 0; q < inner; q++, a += stride, b += stride) data[b] = (data[b]! + data[a]!) | 0;
      }
    }
    this.counters[part].read.value += 2 * n * count;
    this.counters[part].write.value += n * count;
  }

  /**
   * Slides a window in every PE of `pes` (flat indices, `count` of them): the words of `src` of
   * the partition are addressed as `dst` from now on (same size; the boxes may overlap). Models a
   * re-addressing (no register access): counts the words in `slide`, not as reads or writes. Tags
   * move with the words. The boxes are checked once.
   */
  slideMany(part: RfPartition, src: Box, dst: Box, pes: Int32Array, count: number): void {
    // (a pair of boxes is checked once: a plan's slides come back with the same boxes)
    let checked = this.slideChecks.get(src);
    if (!checked || checked.dst !== dst || checked.part !== part) {
      const e = this.entries[part];
      const n = checkBox(this.name, "slide source", src, e, part);
      if (checkBox(this.name, "slide destination", dst, e, part) !== n) throw new InvariantError(this.name, `slide of ${part}: src and dst boxes differ in size`);
      const rows = boxRows(src);
      checked = { dst, part, n, inPlace: sameLayout(src, dst) && rows.stride === 1 && rowsAscending(rows) };
      this.slideChecks.set(src, checked);
    }
    const n = checked.n;
    this.counters[part].slide.value += n * count;
    for (let i = 0; i < count; i++) {
      const pe = pes[i]!;
      if (pe < 0 || pe >= this.pes) throw new InvariantError(this.name, `slide of ${part}: no PE ${pe}`);
    }
    // The slices to move: one per PE, or one per line for a line buffer (its PEs share it).
    const bases = this.slideBases(part, pes, count);
    if (checked.inPlace) {
      // The window moves by a constant offset with its layout unchanged (a halo slide): each row
      // moves in place, the rows taken in the order that never overwrites a row not yet moved.
      const rows = boxRows(src);
      const delta = dst.offset - src.offset;
      for (const base of bases) {
        moveRows(this.data[part], rows, base, delta);
        if (this.tags) moveRows(this.tags[part], rows, base, delta);
      }
      return;
    }
    const from = boxRows(src);
    const to = boxRows(dst);
    if (this.scratch.length < n) this.scratch = new Float64Array(n);
    const tmp = this.scratch;
    for (const base of bases) {
      gatherRows(this.data[part], from, base, tmp, 0);
      scatterRows(tmp, 0, this.data[part], to, base);
      if (this.tags) {
        gatherRows(this.tags[part], from, base, tmp, 0);
        scatterRows(tmp, 0, this.tags[part], to, base);
      }
    }
  }

  /** The distinct slices of `pes` (first `count`) in a partition: each PE's, or each line's once. */
  private slideBases(part: RfPartition, pes: Int32Array, count: number): number[] {
    const base = this.base[part];
    const out: number[] = [];
    if (!this.shared[part]) {
      for (let i = 0; i < count; i++) out.push(base[pes[i]!]!);
      return out;
    }
    const stamp = ++this.writeStamp;
    const marks = this.sliceMarks[part].stamp;
    const e = this.entries[part];
    for (let i = 0; i < count; i++) {
      const b = base[pes[i]!]!;
      if (marks[b / e] === stamp) continue;
      marks[b / e] = stamp;
      out.push(b);
    }
    return out;
  }

  /** Slide boxes checked, by source box: the destination, partition, size, and whether rows move in place. */
  private readonly slideChecks = new WeakMap<Box, { readonly dst: Box; readonly part: RfPartition; readonly n: number; readonly inPlace: boolean }>();

  /** Staging for slides (the source and destination may overlap). */
  private scratch = new Float64Array(0);

  /** Sets `box` of PE `pe`'s partition to `value`, tagging it as `tags` says. Counts fills. */
  fill(part: RfPartition, pe: number, box: Box, value: number, tags: TagExpect | undefined, n: number): void {
    const b = this.shift(part, pe, box, "fill");
    fillBox(this.data[part], b, value);
    if (this.tags) {
      if (!tags) throw new InvariantError(this.name, `fill of ${part} in PE ${pe}: checked mode needs the tags to write`);
      writeExpectedTags(this.tags[part], b, tags);
    }
    this.counters[part].fill.value += n;
  }

  /**
   * {@link fill} of the same `box` in `count` PEs (`pes`), untagged (unchecked mode): the box is
   * checked and compiled once. Counts `n` fills per PE.
   */
  fillMany(part: RfPartition, box: Box, value: number, n: number, pes: Int32Array, count: number): void {
    if (this.tags) throw new InvariantError(this.name, `fill of ${part}: checked mode needs per-PE tags (use fill)`);
    const e = this.entries[part];
    checkBox(this.name, "fill", box, e, part);
    const rows = boxRows(box);
    // (the partition's words and bases read once; a box of one row, as a psum tile often is,
    // filled in place: a call and two keyed reads per PE were most of this loop)
    const data = this.data[part];
    const base = this.base[part];
    // (a long contiguous row is filled by fillRows's TypedArray.fill: a systolic array's psum tiles)
    const { inner, stride } = rows;
    const one = rows.starts.length === 1 && (stride !== 1 || inner < SET_MIN);
    const first = rows.starts[0]!;
    // A line buffer's slice is filled once, however many of its PEs the list names (each PE's
    // fill is still counted): on a 128 x 128 systolic array, 128 slices instead of 16,384 fills.
    const marks = this.shared[part] ? this.sliceMarks[part].stamp : undefined;
    const stamp = marks ? ++this.writeStamp : 0;
    for (let i = 0; i < count; i++) {
      const pe = pes[i]!;
      if (pe < 0 || pe >= this.pes) throw new InvariantError(this.name, `fill of ${part}: no PE ${pe}`);
      const b = base[pe]!;
      if (marks) {
        if (marks[b / e] === stamp) continue;
        marks[b / e] = stamp;
      }
      if (one) for (let q = 0, t = b + first; q < inner; q++, t += stride) data[t] = value;
      else fillRows(data, rows, b, value);
    }
    this.counters[part].fill.value += n * count;
  }

  /** A copy of PE `pe`'s partition (backdoor, for tests). */
  contents(part: RfPartition, pe: number): Int32Array {
    const e = this.entries[part];
    return this.data[part].slice(this.base[part][pe]!, this.base[part][pe]! + e);
  }
}

/**
 * {@link RegFile.writeListed}'s copy of a one-row box into every listed PE: PE i's `inner` words
 * from `src` at `boxes[i] * n`, to `data` from `bases[i] + first`, `stride` apart. A function of its
 * own so that V8 compiles the loop alone when it first runs long (16,384 PEs): compiled on the stack
 * inside `writeListed`, it deoptimized at the first field read after it, at every call
 * (docs/design-notes.md, "The compiler's share").
 */
function copyOneRow(src: WordArray, data: WordArray, bases: Int32Array, boxes: Int32Array, n: number, first: number, inner: number, stride: number): void {
  for (let i = 0; i < bases.length; i++) {
    for (let q = 0, s = boxes[i]! * n, t = bases[i]! + first; q < inner; q++, t += stride) data[t] = src[s++]!;
  }
}
