/**
 * The input coordinates an input tile reads on one axis (sequencer/geometry.ts, touched): the
 * sorted real coordinates `o * stride - pad + k * dil` over its outputs and taps. The common case
 * (one run of coordinates) is computed from its ends; a scan of every output and tap is the
 * oracle here, on random axes with strides, dilations, padding and clipped tiles.
 */
import seedrandom from "seedrandom";
import { describe, expect, it } from "vitest";
import { touched } from "../../src/dataflow/sequencer/geometry.js";

/** Every output's every tap, kept where it is real, sorted and without repeats. */
function scan(inSize: number, stride: number, dil: number, pad: number, o0: number, on: number, k0: number, kn: number): number[] {
  const seen = new Set<number>();
  for (let o = o0; o < o0 + on; o++) {
    for (let k = k0; k < k0 + kn; k++) {
      const i = o * stride - pad + k * dil;
      if (i >= 0 && i < inSize) seen.add(i);
    }
  }
  return [...seen].sort((a, b) => a - b);
}

describe("touched", () => {
  it("equals a scan of every output and tap on 5,000 random axes", () => {
    const rnd = seedrandom("touched");
    const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
    let runs = 0;
    for (let t = 0; t < 5000; t++) {
      const inSize = int(1, 40);
      const stride = int(1, 5);
      const dil = rnd() < 0.6 ? 1 : int(2, 3);
      const pad = int(0, 4);
      const o0 = int(0, 12);
      const on = int(0, 8);
      const k0 = int(0, 4);
      const kn = int(0, 6);
      const want = scan(inSize, stride, dil, pad, o0, on, k0, kn);
      expect(touched(inSize, stride, dil, pad, o0, on, k0, kn), `in ${inSize} stride ${stride} dil ${dil} pad ${pad} o ${o0}+${on} k ${k0}+${kn}`).toEqual(want);
      if (want.length > 1 && want[want.length - 1]! - want[0]! === want.length - 1) runs++;
    }
    // (both paths ran: most axes give one run, some have gaps)
    expect(runs).toBeGreaterThan(1000);
  });

  it("has gaps where a stride passes the taps, and none where it does not", () => {
    // stride 4, 3 taps: outputs 0..2 read 0-2, 4-6, 8-10
    expect(touched(20, 4, 1, 0, 0, 3, 0, 3)).toEqual([0, 1, 2, 4, 5, 6, 8, 9, 10]);
    // stride 3, 3 taps: one run 0..8; padding 1 clips the first
    expect(touched(20, 3, 1, 1, 0, 3, 0, 3)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // dilation 2, 2 taps, one output: 0 and 2
    expect(touched(20, 1, 2, 0, 0, 1, 0, 2)).toEqual([0, 2]);
    // clipped at the far edge
    expect(touched(5, 1, 1, 0, 3, 4, 0, 2)).toEqual([3, 4]);
  });
});
