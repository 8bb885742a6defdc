/**
 * Checked mode only adds tags and their checks: it must not change what the model does. The
 * unchecked path also reuses frozen MAC waves (sequencer and PE array caches), so this test
 * compares the two paths on every named dataflow.
 */
import { describe, expect, it } from "vitest";
import { simulate } from "../../src/dataflow/simulate.js";
import { DATAFLOW_NAMES } from "../../src/dataflow/dataflows/index.js";

describe("checked and unchecked runs agree", () => {
  const layer = { batch: 2, inChannels: 6, inHeight: 11, inWidth: 9, outChannels: 10, kernelHeight: 3, kernelWidth: 2, pads: [1, 0, 2, 1], strides: [2, 1] };
  for (const dataflow of DATAFLOW_NAMES) {
    for (const arch of ["eyeriss", "chen2020"]) {
      it(`${dataflow} on ${arch}: same output, counters and cycles`, () => {
        const opts = { layer, arch, dataflow, types: { input: "uint8", weight: "int8" }, zeroPoints: { input: 11, weight: -2 } } as const;
        const a = simulate({ ...opts, checked: true });
        const b = simulate({ ...opts, checked: false });
        expect(a.verification.ok).toBe(true);
        expect(b.verification.ok).toBe(true);
        expect(b.output).toEqual(a.output);
        expect(b.counters).toEqual(a.counters);
        expect(b.cycles).toBe(a.cycles);
      });
    }
  }
});
