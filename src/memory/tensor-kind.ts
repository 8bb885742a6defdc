/**
 * The tensors that flow through the memory hierarchy, as counter keys. Every storage level counts
 * per tensor kind x action (DESIGN.md, "Counting conventions").
 */

/** Which tensor a word belongs to. `psum` is a partial sum; `output` a finished output element. */
export type TensorKind = "input" | "weight" | "psum" | "output";

/** Every tensor kind, in counter-registration order. */
export const TENSOR_KINDS: readonly TensorKind[] = Object.freeze(["input", "weight", "psum", "output"]);

/** Whether `k` is a tensor kind. */
export function isTensorKind(k: unknown): k is TensorKind {
  return k === "input" || k === "weight" || k === "psum" || k === "output";
}
