/**
 * A sum on the drain path made of one drain (the Noc's `addToSum`, unchecked): every PE's words
 * go to its slot of the sum, the first PE of a slot copied in, the others added (int32
 * wrap-around). Where a slot's words first arrive, and that the slots lie in the sum and do not
 * overlap, depend only on the slot list, so they are found once per list ({@link slotPlan}); a
 * replayed drain passes the same list again and again. A sum of several drains keeps the Noc's
 * general loop, which marks the words it has set. Internal to the array.
 */
import { InvariantError } from "../core/index.js";
import { allocatePayload } from "../workload/dtype.js";

/** A slot list's plan for `n` words per PE in a sum of `words` words. */
interface SlotPlan {
  readonly n: number;
  readonly words: number;
  /** Per PE: 1 where its slot is first seen (its words are copied), 0 where they are added. */
  readonly first: Uint8Array;
  /** Words added (not copied) in all. */
  readonly adds: number;
}

/** Plans by slot list (a replayed drain's list is the same array). */
const plans = new WeakMap<Int32Array, SlotPlan>();

/**
 * The plan of slot list `slot` for `n` words per PE in a sum of `words` words, made and checked
 * once per list.
 * @throws InvariantError (naming drain `id`) when a slot lies outside the sum or overlaps another.
 */
function slotPlan(slot: Int32Array, n: number, words: number, component: string, id: number): SlotPlan {
  const had = plans.get(slot);
  if (had && had.n === n && had.words === words) return had;
  const first = new Uint8Array(slot.length);
  const seen = new Set<number>();
  let adds = 0;
  for (let i = 0; i < slot.length; i++) {
    const at = slot[i]!;
    if (!Number.isInteger(at) || at < 0 || at + n > words) throw new InvariantError(component, `drain ${id}: slot ${at} outside a sum of ${words} words`);
    if (seen.has(at)) adds += n;
    else {
      seen.add(at);
      first[i] = 1;
    }
  }
  const starts = [...seen].sort((a, b) => a - b);
  for (let k = 1; k < starts.length; k++) {
    if (starts[k]! - starts[k - 1]! < n) throw new InvariantError(component, `drain ${id}: slot ${starts[k]} overlaps another slot of its sum`);
  }
  const plan = { n, words, first, adds };
  plans.set(slot, plan);
  return plan;
}

/**
 * The sum of one drain's payload `data` (`n` words per PE, PE-major) into a new sum of `words`
 * words by slot list `slot`: words no slot covers stay 0. Returns the sum and the words added.
 * @throws InvariantError as {@link slotPlan}.
 */
export function sumOfOneDrain(data: ArrayLike<number>, slot: Int32Array, n: number, words: number, component: string, id: number): { readonly sum: Int32Array; readonly adds: number } {
  const plan = slotPlan(slot, n, words, component, id);
  const first = plan.first;
  // (from the shared payload blocks, zeroed: dtype.ts allocatePayload)
  const sum = allocatePayload("int32", words);
  for (let i = 0, from = 0; i < slot.length; i++, from += n) {
    const at = slot[i]!;
    if (first[i]) for (let k = 0; k < n; k++) sum[at + k] = data[from + k]!;
    else for (let k = 0; k < n; k++) sum[at + k] = (sum[at + k]! + data[from + k]!) | 0;
  }
  return { sum, adds: plan.adds };
}
