/**
 * Sets of PEs and per-PE tag expectations, shared by the PE array and the network.
 *
 * A {@link PeRect} is a rectangle of PEs: one PE, a row, a column, the whole array or any block.
 * PE (r, c) has flat index `r * cols + c`. Per-PE quantities are listed in the rectangle's
 * row-major order (index `i * rect.cols + j` for the PE at `(row0 + i, col0 + j)`).
 */
import { InvariantError, type TagExpect } from "../core/index.js";

/** A rectangle of PEs. */
export interface PeRect {
  readonly row0: number;
  readonly col0: number;
  readonly rows: number;
  readonly cols: number;
}

/** Number of PEs in a rectangle. */
export function rectSize(r: PeRect): number {
  return r.rows * r.cols;
}

/** Whether two rectangles share a PE. */
export function rectsOverlap(a: PeRect, b: PeRect): boolean {
  return a.row0 < b.row0 + b.rows && b.row0 < a.row0 + a.rows && a.col0 < b.col0 + b.cols && b.col0 < a.col0 + a.cols;
}

/** @throws InvariantError unless the rectangle lies inside a `rows x cols` array. */
export function checkRect(component: string, r: PeRect, rows: number, cols: number): void {
  const ok =
    Number.isInteger(r.row0) && Number.isInteger(r.col0) && Number.isInteger(r.rows) && Number.isInteger(r.cols) &&
    r.row0 >= 0 && r.col0 >= 0 && r.rows >= 1 && r.cols >= 1 && r.row0 + r.rows <= rows && r.col0 + r.cols <= cols;
  if (!ok) throw new InvariantError(component, `PE rectangle ${JSON.stringify(r)} is not inside the ${rows} x ${cols} array`);
}

/**
 * The tags a reader expects in each PE of a rectangle: for the PE at rectangle position (i, j),
 * element `base(i, j) + sum(coord[d] * strides[d])` of tag space `space`, where `base(i, j)` is
 * `perPe[i * rect.cols + j]` when given, else `offset + i * rowStride + j * colStride`.
 */
export interface PeTagExpect {
  readonly space: number;
  readonly offset?: number;
  readonly rowStride?: number;
  readonly colStride?: number;
  /** One base per PE of the rectangle, row-major (for spatial maps that are not affine). */
  readonly perPe?: ArrayLike<number>;
  /** Element-index stride per box (or loop) dimension. */
  readonly strides: readonly number[];
}

/** The element-index base of PE (i, j) of the rectangle. */
export function peTagBase(e: PeTagExpect, i: number, j: number, rectCols: number): number {
  if (e.perPe) {
    const v = e.perPe[i * rectCols + j];
    if (v === undefined) throw new InvariantError("tags", `perPe has no entry for rectangle position (${i}, ${j})`);
    return v;
  }
  return (e.offset ?? 0) + i * (e.rowStride ?? 0) + j * (e.colStride ?? 0);
}

/** The {@link TagExpect} of PE (i, j) of the rectangle. */
export function peTagExpect(e: PeTagExpect, i: number, j: number, rectCols: number): TagExpect {
  return { space: e.space, offset: peTagBase(e, i, j, rectCols), strides: e.strides };
}

/** What a delivery's payload carries and whom it reaches. */
export interface DeliveryShape {
  readonly pes: PeRect;
  readonly perPe?: boolean;
  readonly perRow?: boolean;
  readonly perCol?: boolean;
  readonly boxIndex?: Int32Array;
}

/** A box index's payload boxes and target PEs, computed once per index array (plans reuse them). */
const indexStats = new WeakMap<Int32Array, { readonly boxes: number; readonly targets: number }>();

function boxIndexStats(index: Int32Array): { readonly boxes: number; readonly targets: number } {
  let st = indexStats.get(index);
  if (!st) {
    let max = -1;
    let targets = 0;
    for (let i = 0; i < index.length; i++) {
      const v = index[i]!;
      if (v > max) max = v;
      if (v >= 0) targets++;
    }
    st = { boxes: max + 1, targets };
    indexStats.set(index, st);
  }
  return st;
}

/** Boxes a delivery's payload holds: 1 (multicast), one per PE, per row, per column, or per index. */
export function deliveryBoxes(d: DeliveryShape): number {
  if (d.boxIndex) return boxIndexStats(d.boxIndex).boxes;
  return d.perPe ? rectSize(d.pes) : d.perRow ? d.pes.rows : d.perCol ? d.pes.cols : 1;
}

/** PEs a delivery writes into. */
export function deliveryTargets(d: DeliveryShape): number {
  return d.boxIndex ? boxIndexStats(d.boxIndex).targets : rectSize(d.pes);
}
