/**
 * Checked-mode tags: what a storage word holds.
 *
 * Modeled: in checked mode every storage word of every component (DRAM, global buffer, register
 * files) carries a tag in a parallel `Float64Array`. A tag names one element of one *tag space*
 * (a space is whatever the driver decides: a tensor, or a tensor seen through a padded index
 * space). Tags travel with the data on every copy; a reader states the tag it expects and a
 * mismatch (a word never written, or one left over from another tile) is an `InvariantError`
 * naming the component, the address and both tags.
 *
 * Layout: `tag = space * 2^32 + index + 1`, so 0 is "never written" ({@link TAG_EMPTY}), spaces
 * run from 1 to 2^20 - 1 and indices from 0 to 2^32 - 2; every tag is an exact double (< 2^53)
 * and a tag is affine in the index, which lets readers compute expected tags incrementally.
 *
 * Not modeled: tags cost nothing (no storage, no cycles, no counters); they exist only to catch a
 * wrong schedule. Source: convsim DESIGN.md, "Data really flows".
 */
import { InvariantError } from "./errors.js";

/** The tag of a word that was never written. */
export const TAG_EMPTY = 0;

/** 2^32: the distance between two tag spaces. */
export const TAG_SPACE_STRIDE = 4294967296;

/** The largest tag space. */
export const MAX_TAG_SPACE = 2 ** 20 - 1;

/**
 * The tag of element `index` of tag space `space`.
 * @throws InvariantError when space or index is out of range (a driver bug).
 */
export function tagOf(space: number, index: number): number {
  if (!Number.isInteger(space) || space < 1 || space > MAX_TAG_SPACE) {
    throw new InvariantError("tags", `tag space must be an integer in [1, ${MAX_TAG_SPACE}]; got ${space}`);
  }
  if (!Number.isInteger(index) || index < 0 || index >= TAG_SPACE_STRIDE - 1) {
    throw new InvariantError("tags", `tag index must be an integer in [0, 2^32 - 2]; got ${index}`);
  }
  return space * TAG_SPACE_STRIDE + index + 1;
}

/** The tag space of a tag (0 for {@link TAG_EMPTY}). */
export function tagSpace(tag: number): number {
  return tag === TAG_EMPTY ? 0 : Math.floor((tag - 1) / TAG_SPACE_STRIDE);
}

/** The element index of a tag (-1 for {@link TAG_EMPTY}). */
export function tagIndex(tag: number): number {
  return tag === TAG_EMPTY ? -1 : (tag - 1) % TAG_SPACE_STRIDE;
}

/**
 * Formats a tag for an error message: `empty`, or `<space name>[index]` (the space's number when
 * it has no name).
 */
export function formatTag(tag: number, spaceNames?: ReadonlyMap<number, string>): string {
  if (tag === TAG_EMPTY) return "empty (never written)";
  const space = tagSpace(tag);
  const name = spaceNames?.get(space) ?? `space${space}`;
  return `${name}[${tagIndex(tag)}]`;
}

/**
 * What a reader expects to find in a box of words: element `offset + sum(coord[d] * strides[d])`
 * of tag space `space`, for the box's coordinates in iteration order.
 */
export interface TagExpect {
  /** The tag space (1 ..). */
  readonly space: number;
  /** Element index of the box's first word. */
  readonly offset: number;
  /** Element-index stride per box dimension, outermost first (same rank as the box). */
  readonly strides: readonly number[];
}
