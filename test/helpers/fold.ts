/**
 * The output-stationary systolic fold of docs/timing.md ("A systolic fold"), shared by the tests
 * that time it: K on the 32 rows, Q on the 32 columns, the reduction C streaming through every PE
 * (inputs down the columns, weights along the rows), `folds` output rows P one after another.
 */

/** The fold's mapping: C = `c` streamed steps, `folds` folds over P. */
export function foldMapping(c: number, folds = 1, doubleBuffer = false) {
  return {
    name: "os-fold",
    dram: { loops: [] },
    gbuf: { loops: folds > 1 ? [{ dim: "P", factor: folds }] : [], keep: { input: true, weight: true, output: true }, doubleBuffer: false },
    spatial: {
      loops: [
        { dim: "Q", factor: 32, axis: "col" },
        { dim: "K", factor: 32, axis: "row" },
      ],
    },
    rf: { loops: [{ dim: "C", factor: c }], keep: { input: true, weight: true, output: true }, doubleBuffer, stream: { input: true, weight: true } },
  } as const;
}

/** The fold's layer: a 1 x 1 convolution of `c` channels over `folds` x 32 pixels to 32 channels. */
export function foldLayer(c: number, folds = 1) {
  return { inChannels: c, inHeight: folds, inWidth: 32, outChannels: 32, kernelHeight: 1, kernelWidth: 1 };
}
