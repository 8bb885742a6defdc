/**
 * The definition of a box, for tests that check the fast box walks against it: the flat index of
 * every coordinate, in row-major order.
 */
import type { Box } from "../../src/core/box.js";

/** The flat index of every coordinate of `box`, in row-major order. */
export function boxIndices(box: Box): number[] {
  const out: number[] = [];
  const walk = (d: number, at: number): void => {
    if (d === box.shape.length) {
      out.push(at);
      return;
    }
    for (let i = 0; i < box.shape[d]!; i++) walk(d + 1, at + i * box.strides[d]!);
  };
  walk(0, box.offset);
  return out;
}
