/**
 * The PE array's register-file moves: the words that enter, leave or cross the PEs' register
 * files. From the network (`fromNoc`): deliveries written into a rectangle of PEs (one box for
 * all, or one per PE, row, column or index), drain reads answered on `toNoc`, and neighbour-link
 * shifts and reductions. From the driver: fills (a constant, such as psum init or padding) and
 * slides (a window re-addressed within each PE, counted as `rf.slide.<part>`).
 *
 * Each move takes effect when the array applies it (a network message in the cycle it arrives, a
 * fill or slide at its command's completion); its timing belongs to the Noc or to the command.
 * The register file counts every read and write. Unchecked, a move is one bulk register-file
 * operation over a list of PEs (the same reads and writes, each box checked and compiled once);
 * checked, it goes PE by PE so that each PE's words are checked against its tags. Internal to the
 * array (not exported from the package).
 */
import { boxSize, InvariantError, type Engine, type Payload } from "../core/index.js";
import type { PeArraySpec } from "../arch/spec.js";
import { RF_PARTITIONS, type RegFile, type RfPartition, type WriteList } from "../memory/regfile.js";
import { allocatePayload } from "../workload/dtype.js";
import type { Direction, LinkOp, PeFillCommand, PeRead, PeSlideCommand, PeWrite } from "./commands.js";
import type { RfWords } from "./rf-words.js";
import { checkRect, deliveryBoxes, peTagExpect, rectSize, type DeliveryShape, type PeRect } from "./pe-set.js";

/** What {@link RfMoves} works on: the array's name, engine, geometry and register files. */
export interface RfMovesArray {
  readonly name: string;
  readonly engine: Engine;
  readonly spec: PeArraySpec;
  readonly size: number;
  readonly rf: RegFile;
  /** The WebAssembly kernels the register files live in, if any (their word loops run fills and reads). */
  readonly kernels?: { readonly words: RfWords | undefined } | undefined;
}

/** Calls `f` for every PE of `r` in rectangle order: its flat index and its position (i, j) in `r`. */
export function forEachPe(r: PeRect, cols: number, f: (p: number, i: number, j: number) => void): void {
  for (let i = 0; i < r.rows; i++) for (let j = 0; j < r.cols; j++) f((r.row0 + i) * cols + r.col0 + j, i, j);
}

/** A number naming rectangle `r` of a `rows` x `cols` array, one per rectangle that lies in it (cache keys). */
function rectKey(r: PeRect, rows: number, cols: number): number {
  return ((r.row0 * (rows + 1) + r.rows) * (cols + 1) + r.col0) * (cols + 1) + r.cols;
}

/** The row and column steps of a direction. */
function neighbour(dir: Direction): [number, number] {
  return dir === "north" ? [-1, 0] : dir === "south" ? [1, 0] : dir === "west" ? [0, -1] : [0, 1];
}

/** Applies register-file moves to a PE array's register files (see the file header). */
export class RfMoves {
  /** Per-PE scratch: PE lists and offsets of bulk register-file operations. */
  private readonly scratch: { readonly pes: Int32Array; readonly from: Int32Array };
  /** Per-PE scratch of unchecked link operations: senders and receivers (one pair per shift or hop). */
  private readonly linkScratch: { readonly from: Int32Array; readonly to: Int32Array };

  constructor(private readonly array: RfMovesArray) {
    this.scratch = { pes: new Int32Array(array.size), from: new Int32Array(array.size) };
    this.linkScratch = { from: new Int32Array(array.size), to: new Int32Array(array.size) };
  }

  /** A delivery from the network: writes `m.box` of `m.part` in every PE of `m.pes`. */
  write(m: PeWrite): void {
    const { name, spec, rf } = this.array;
    checkRect(name, m.pes, spec.rows, spec.cols);
    const n = boxSize(m.box.shape);
    const need = n * deliveryBoxes(m);
    if (m.payload.data.length !== need) throw new InvariantError(name, `write of ${m.part}: payload has ${m.payload.data.length} words, needs ${need}`);
    rf.writeListed(m.box, m.payload, n, this.writeList(m.part, m));
  }

  /**
   * The copies of a delivery's shape ({@link RegFile.writeList}), into `part`: made once per
   * rectangle, partition and kind of payload (one box, per PE, row or column, or a box index),
   * as replayed plans deliver the same shapes again and again (a link shift's receivers too: a
   * box per PE); a line buffer's PEs then share one copy without a pass over them.
   */
  private writeList(part: RfPartition, m: DeliveryShape): WriteList {
    const { spec, rf } = this.array;
    const r = m.pes;
    const kind = m.boxIndex ? 4 : m.perPe ? 1 : m.perRow ? 2 : m.perCol ? 3 : 0;
    const key = (rectKey(r, spec.rows, spec.cols) * 5 + kind) * 3 + RF_PARTITIONS.indexOf(part);
    const lists = m.boxIndex ? this.indexedLists(m.boxIndex) : this.writeLists;
    const had = lists.get(key);
    if (had) return had;
    const { pes, from } = this.scratch;
    let k = 0;
    for (let i = 0; i < r.rows; i++) {
      for (let j = 0; j < r.cols; j++, k++) {
        pes[k] = (r.row0 + i) * spec.cols + r.col0 + j;
        from[k] = m.boxIndex ? m.boxIndex[k]! : m.perPe ? k : m.perRow ? i : m.perCol ? j : 0;
      }
    }
    const list = rf.writeList(part, pes, from, k);
    if (lists.size >= 256) lists.clear();
    lists.set(key, list);
    return list;
  }

  /** The write lists of deliveries without a box index, by {@link writeList}'s key. */
  private readonly writeLists = new Map<number, WriteList>();
  /** The write lists of deliveries with a box index, by the index (its own identity) and key. */
  private readonly byBoxIndex = new WeakMap<Int32Array, Map<number, WriteList>>();

  private indexedLists(index: Int32Array): Map<number, WriteList> {
    let m = this.byBoxIndex.get(index);
    if (!m) this.byBoxIndex.set(index, (m = new Map()));
    return m;
  }

  /** A drain read from the network: `m.box` of `m.part` of every PE of `m.pes`, PE-major (with tags when checked). */
  read(m: Omit<PeRead, "id">): Payload {
    const { name, spec, rf, engine } = this.array;
    checkRect(name, m.pes, spec.rows, spec.cols);
    const n = boxSize(m.box.shape);
    const total = n * rectSize(m.pes);
    // (a payload that dies once summed and written: from a shared block, dtype.ts allocatePayload)
    const data = allocatePayload("int32", total);
    const tags = engine.checked ? new Float64Array(total) : undefined;
    if (tags) {
      let k = 0;
      forEachPe(m.pes, spec.cols, (p, i, j) => {
        rf.read(m.part, p, m.box, data, tags, k * n, n, m.expect ? peTagExpect(m.expect, i, j, m.pes.cols) : undefined);
        k++;
      });
    } else if (!this.array.kernels?.words?.readRect(rf, m.part, m.box, data, m.pes, spec.cols)) {
      const pes = this.pesOf(m.pes);
      rf.readMany(m.part, m.box, data, pes, pes.length);
    }
    return tags ? { data, tags } : { data };
  }

  /** A neighbour-link operation from the network (timed and counted as traffic by the Noc). */
  link(l: LinkOp): void {
    checkRect(this.array.name, l.pes, this.array.spec.rows, this.array.spec.cols);
    if (l.kind === "shift") this.shiftLink(l);
    else this.reduceLink(l);
  }

  /** A fill command's words (and its alongside fills'), written at its completion. */
  fill(c: PeFillCommand): void {
    const { engine, rf, spec } = this.array;
    for (const f of c.alongside && c.alongside.length > 0 ? [c, ...c.alongside] : [c]) {
      const n = boxSize(f.box.shape);
      if (engine.checked) {
        forEachPe(f.pes, spec.cols, (p, i, j) => rf.fill(f.part, p, f.box, f.value, f.tags ? peTagExpect(f.tags, i, j, f.pes.cols) : undefined, n));
      } else {
        // (the rectangle checked first, as pesOf does, whichever loop then fills it)
        checkRect(this.array.name, f.pes, spec.rows, spec.cols);
        if (!this.array.kernels?.words?.fillRect(rf, f.part, f.box, f.value, n, f.pes, spec.cols)) {
          const pes = this.pesOf(f.pes);
          rf.fillMany(f.part, f.box, f.value, n, pes, pes.length);
        }
      }
    }
  }

  /** A slide command's re-addressing (and its alongside slides'), at its completion. */
  slide(c: PeSlideCommand): void {
    // (the alongside slides one by one, not a new list of all per command)
    const pes = this.pesOf(c.pes);
    this.array.rf.slideMany(c.part, c.src, c.dst, pes, pes.length);
    if (c.alongside) {
      for (const sl of c.alongside) {
        const along = this.pesOf(sl.pes);
        this.array.rf.slideMany(sl.part, sl.src, sl.dst, along, along.length);
      }
    }
  }

  /** The PE lists of rectangles, by {@link pesOf}'s key. */
  private readonly peLists = new Map<number, Int32Array>();

  /**
   * The flat indices of the PEs of `r`, in rectangle order (checked to lie in the array): made
   * once per rectangle, as replayed plans fill, read and slide the same rectangles again and
   * again (listing them into a scratch array at every call was 1% of a replayed run).
   */
  private pesOf(r: PeRect): Int32Array {
    const { rows, cols } = this.array.spec;
    // (checked first: the key is one rectangle's only when it lies in the array)
    checkRect(this.array.name, r, rows, cols);
    const key = rectKey(r, rows, cols);
    const had = this.peLists.get(key);
    if (had) return had;
    const list = peList(r, cols);
    if (this.peLists.size >= 256) this.peLists.clear();
    this.peLists.set(key, list);
    return list;
  }

  /** A link shift: every PE's `src` words move to its neighbour's `dst` (one hop). */
  private shiftLink(l: LinkOp & { readonly kind: "shift" }): void {
    const { name, spec, rf, engine } = this.array;
    const [dr, dc] = neighbour(l.dir);
    const cols = spec.cols;
    if (l.part !== "psum" && rf.spec.lines?.[l.part]) throw new InvariantError(name, `shift of ${l.part}: a line buffer (rf.lines) is one slice for the whole line; its words cannot move PE to PE`);
    // The receivers: the rectangle one hop over.
    const to = { row0: l.pes.row0 + dr, col0: l.pes.col0 + dc, rows: l.pes.rows, cols: l.pes.cols };
    checkRect(name, to, spec.rows, spec.cols);
    const n = boxSize(l.src.shape);
    if (boxSize(l.dst.shape) !== n) throw new InvariantError(name, "link shift: src and dst boxes differ in size");
    const total = n * rectSize(l.pes);
    if (!engine.checked) {
      // Every sender's words first, then every receiver's (the same reads and writes as below,
      // each box checked and compiled once).
      const data = allocatePayload("int32", total);
      if (!this.array.kernels?.words?.readRect(rf, l.part, l.src, data, l.pes, cols)) {
        const senders = this.pesOf(l.pes);
        rf.readMany(l.part, l.src, data, senders, senders.length);
      }
      // (each receiver's box its sender's)
      rf.writeListed(l.dst, { data }, n, this.writeList(l.part, { pes: to, perPe: true }));
      return;
    }
    const data = new Int32Array(total);
    const tags = engine.checked ? new Float64Array(total) : undefined;
    let k = 0;
    forEachPe(l.pes, cols, (p, i, j) => {
      rf.read(l.part, p, l.src, data, tags, k * n, n, l.expect ? peTagExpect(l.expect, i, j, l.pes.cols) : undefined);
      k++;
    });
    const payload = tags ? { data, tags } : { data };
    k = 0;
    forEachPe(l.pes, cols, (p) => {
      rf.write(l.part, p + dr * cols + dc, l.dst, payload, k * n, n);
      k++;
    });
  }

  /** A link reduction: lines along `dir` accumulate from the far end towards the `dir` end. */
  private reduceLink(l: LinkOp & { readonly kind: "reduce" }): void {
    const alongRows = l.dir === "north" || l.dir === "south";
    const lineLen = alongRows ? l.pes.rows : l.pes.cols;
    const lines = alongRows ? l.pes.cols : l.pes.rows;
    const towardsStart = l.dir === "north" || l.dir === "west";
    if (l.idle) this.clearIdle(l);
    if (this.array.engine.checked) {
      this.reduceLinkChecked(l, alongRows, lineLen, lines, towardsStart);
      return;
    }
    // The same hops in the same order as the checked path, each box checked and compiled once.
    const cols = this.array.spec.cols;
    const { from, to } = this.linkScratch;
    let k = 0;
    for (let line = 0; line < lines; line++) {
      for (let step = 0; step < lineLen - 1; step++) {
        const f = towardsStart ? lineLen - 1 - step : step;
        const t = towardsStart ? f - 1 : f + 1;
        from[k] = alongRows ? (l.pes.row0 + f) * cols + l.pes.col0 + line : (l.pes.row0 + line) * cols + l.pes.col0 + f;
        to[k] = alongRows ? (l.pes.row0 + t) * cols + l.pes.col0 + line : (l.pes.row0 + line) * cols + l.pes.col0 + t;
        k++;
      }
    }
    this.array.rf.reduceMany(l.part, l.box, from, to, k);
  }

  /** Clears the `box` of a reduction's idle PEs (uncounted: they add zero as the sums pass), tagged as the line's tile in checked mode. */
  private clearIdle(l: LinkOp & { readonly kind: "reduce" }): void {
    const { rf, spec } = this.array;
    // A line buffer holds the line's sum, to which an idle PE added nothing: nothing to clear.
    if (rf.isLineBuffer(l.part)) return;
    if (l.idle!.length !== l.pes.rows * l.pes.cols) throw new InvariantError("pe", `reduce: the idle mask has ${l.idle!.length} entries for ${l.pes.rows} x ${l.pes.cols} PEs`);
    forEachPe(l.pes, spec.cols, (p, i, j) => {
      if (l.idle![i * l.pes.cols + j]) rf.fill(l.part, p, l.box, 0, l.expect ? peTagExpect(l.expect, i, j, l.pes.cols) : undefined, 0);
    });
  }

  /** A link reduction in checked mode: hop by hop, each sender's and receiver's words checked against their tags. */
  private reduceLinkChecked(l: LinkOp & { readonly kind: "reduce" }, alongRows: boolean, lineLen: number, lines: number, towardsStart: boolean): void {
    const { rf, spec } = this.array;
    const cols = spec.cols;
    const n = boxSize(l.box.shape);
    const buf = new Int32Array(n);
    const own = new Int32Array(n);
    const tbuf = new Float64Array(n);
    for (let line = 0; line < lines; line++) {
      for (let step = 0; step < lineLen - 1; step++) {
        // position along the line of the sender, counted from the far end
        const from = towardsStart ? lineLen - 1 - step : step;
        const to = towardsStart ? from - 1 : from + 1;
        const at = (pos: number): [number, number] => (alongRows ? [pos, line] : [line, pos]);
        const [fi, fj] = at(from);
        const [ti, tj] = at(to);
        const fp = (l.pes.row0 + fi) * cols + l.pes.col0 + fj;
        const tp = (l.pes.row0 + ti) * cols + l.pes.col0 + tj;
        const ef = l.expect ? peTagExpect(l.expect, fi, fj, l.pes.cols) : undefined;
        const et = l.expect ? peTagExpect(l.expect, ti, tj, l.pes.cols) : undefined;
        rf.read(l.part, fp, l.box, buf, tbuf, 0, n, ef);
        // The sum keeps the receiver's tags (the same elements: both were checked).
        const ownTags = new Float64Array(n);
        rf.read(l.part, tp, l.box, own, ownTags, 0, n, et);
        for (let q = 0; q < n; q++) own[q] = (own[q]! + buf[q]!) | 0;
        rf.write(l.part, tp, l.box, { data: own, tags: ownTags }, 0, n);
      }
    }
  }
}

/**
 * The PEs of rectangle `r` of an array `cols` wide, row by row. A function of its own so that V8
 * compiles its loop alone when it first runs long (16,384 PEs), not on the stack inside its
 * caller, where it deoptimized at the first field read after it (docs/design-notes.md, "The
 * compiler's share").
 */
function peList(r: PeRect, cols: number): Int32Array {
  const list = new Int32Array(r.rows * r.cols);
  let k = 0;
  for (let i = 0; i < r.rows; i++) for (let j = 0; j < r.cols; j++) list[k++] = (r.row0 + i) * cols + r.col0 + j;
  return list;
}
