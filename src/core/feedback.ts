/**
 * The box helpers' type feedback, primed when this module loads.
 *
 * V8 keeps a plain array of numbers in one of four element kinds (small integers or doubles,
 * packed or with holes), and a box's `shape` and `strides` arrive in all four: they are made by
 * literals, `new Array(n)`, `map` and `slice`, from integers and from doubles. V8 optimizes a
 * function for the kinds it has seen so far; a later kind deoptimizes it and every optimized
 * function that inlined it (`boxSize` is inlined into the components' hot paths), and they are
 * compiled again. On `convsim run` (AlexNet) the helpers below made about 40 of 390 deoptimizations,
 * each throwing a caller's code away. Called here a few times with each kind (V8 allocates a
 * function's feedback only after several calls), they are optimized from the start for all four.
 * What they compute does not change; docs/design-notes.md ("The compiler's share") has the figures.
 */
import { boxExtent, boxRows, boxSize, checkBox, gather, normalizeBox, sameNumbers, type Box } from "./box.js";

/** One array of each element kind V8 keeps numbers in, each holding `values` (integers). */
export function numberArraysOfEachKind(values: readonly number[]): number[][] {
  const n = values.length;
  const smi = values.map((v) => v);
  const double = values.map((v) => v + 0.5);
  const holeySmi = new Array<number>(n);
  const holeyDouble = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    double[i] = values[i]!;
    holeySmi[i] = values[i]!;
    holeyDouble[i] = values[i]! + 0.5;
    holeyDouble[i] = values[i]!;
  }
  return [smi, double, holeySmi, holeyDouble];
}

/** Calls each box helper `rounds` times with shapes and strides of every element kind. */
export function primeBoxFeedback(rounds = 16): void {
  const shapes = numberArraysOfEachKind([2, 3]);
  const strides = numberArraysOfEachKind([4, 1]);
  const words = new Int32Array(8);
  const dense = new Int32Array(6);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < shapes.length; k++) {
      const box: Box = { shape: shapes[k]!, offset: 0, strides: strides[k]! };
      boxSize(box.shape);
      sameNumbers(box.shape, shapes[(k + 1) % shapes.length]!);
      checkBox("feedback", "box", box, words.length);
      boxExtent(box);
      normalizeBox(box);
      boxRows(box);
      gather(words, box, dense);
    }
  }
}

primeBoxFeedback();
