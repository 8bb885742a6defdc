/**
 * How the PEs' input spans were made, as the plan signature names them (sequencer/span-history.ts
 * and the `spansFrom` part of Replayer.signature). The span groups of the last span-making
 * iteration decide every active PE's span when every PE active now was active then; else those
 * of the one before do for the PEs the last did not reach, when every PE active now was active
 * then. A signature must tell apart two histories that differ in either set. The simulations
 * that use them are compared with replay off in timeline-replay.test.ts; on the shapes there the
 * two-set case recurs with the same sets, so these pin its conditions.
 */
import { describe, expect, it } from "vitest";
import { NDIMS } from "../../src/dataflow/nest.js";
import type { SeqContext } from "../../src/dataflow/sequencer/context.js";
import { Replayer } from "../../src/dataflow/sequencer/replay.js";
import { SpanHistory } from "../../src/dataflow/sequencer/span-history.js";
import type { SpansFrom } from "../../src/dataflow/sequencer/types.js";

const dims = (...v: number[]) => Int32Array.from({ length: NDIMS }, (_, d) => v[d] ?? 0);

describe("span history", () => {
  it("names the last span groups when every PE active now was active then", () => {
    const h = new SpanHistory();
    expect(h.key(dims(1, 1, 4))).toBeUndefined();
    h.note(7, dims(0, 0, 4), dims(1, 1, 4, 1, 3));
    const k = h.key(dims(1, 1, 4, 1, 3))!;
    expect([k.id, Array.from(k.iterStart), Array.from(k.reach), k.prev]).toEqual([7, Array.from(dims(0, 0, 4)), Array.from(dims(1, 1, 4, 1, 3)), undefined]);
    expect(h.key(dims(1, 1, 2, 1, 1))).toBe(k);
    // A PE active now beyond the reach then, and no span groups known before: not named.
    expect(h.key(dims(1, 1, 4, 1, 4))).toBeUndefined();
  });

  it("names both when only the span groups before reached every PE active now", () => {
    const h = new SpanHistory();
    h.note(3, dims(0, 0, 0, 0, 0, 0, 0), dims(1, 1, 4, 1, 2, 1, 3));
    h.note(4, dims(0, 0, 0, 0, 0, 0, 3), dims(1, 1, 4, 1, 2, 1, 2));
    const both = h.key(dims(1, 1, 4, 1, 2, 1, 3))!;
    expect([both.id, Array.from(both.reach)]).toEqual([4, Array.from(dims(1, 1, 4, 1, 2, 1, 2))]);
    expect([both.prev!.id, Array.from(both.prev!.reach), Array.from(both.prev!.iterStart)]).toEqual([3, Array.from(dims(1, 1, 4, 1, 2, 1, 3)), Array.from(dims())]);
    // Beyond both reaches (and where one is longer in one dimension and the other in another:
    // the PE at the far corner was active at neither).
    expect(h.key(dims(1, 1, 4, 1, 3, 1, 3))).toBeUndefined();
    h.note(5, dims(0, 0, 0, 0, 0, 0, 6), dims(1, 1, 4, 1, 3, 1, 2));
    expect(h.key(dims(1, 1, 4, 1, 3, 1, 3))).toBeUndefined();
    expect(h.key(dims(1, 1, 4, 1, 2, 1, 2))!.id).toBe(5);
    expect(h.key(dims(1, 1, 4, 1, 2, 1, 2))!.prev).toBeUndefined();
  });

  it("forgets the span groups before an unknown set, and names nothing while the last is unknown", () => {
    const h = new SpanHistory();
    h.note(3, dims(), dims(1, 1, 4, 1, 2, 1, 2));
    h.note(4, dims(), dims(1, 1, 4, 1, 2, 1, 3));
    h.note(undefined, dims(), dims(1, 1, 4, 1, 2, 1, 2));
    expect(h.key(dims(1, 1, 4, 1, 2, 1, 2))).toBeUndefined();
    // (the groups numbered 4 reached R 3, but an unknown set came after them)
    h.note(5, dims(), dims(1, 1, 4, 1, 2, 1, 2));
    expect(h.key(dims(1, 1, 4, 1, 2, 1, 2))!.id).toBe(5);
    expect(h.key(dims(1, 1, 4, 1, 2, 1, 3))).toBeUndefined();
  });
});

describe("the plan signature's span form", () => {
  /** A context with what the signature reads (no GBuf halo kept: no absolute positions). */
  const c = {
    layer: { strides: [1, 1], dilations: [1, 1], pads: [2, 2], inHeight: 13, inWidth: 13 },
    m: { gbuf: { keep: { input: false } } },
    peSpan: { h: 8, w: 8 },
    psumBase: 0,
    pes: 4,
    checked: false,
  } as unknown as SeqContext;
  const sig = (from: SpansFrom) => Array.from(new Replayer(c).signature(dims(0, 0, 0, 0, 4), dims(1, 1, 4, 1, 2, 1, 3), dims(), new Float64Array(4), new Float64Array(4), new Float64Array(4), [], [], { input: 0, weight: 0 }, undefined, undefined, 2, from));
  const made = (id: number, start: number, reachR: number, prev?: SpansFrom): SpansFrom => ({ id, iterStart: dims(0, 0, 0, 0, start), reach: dims(1, 1, 4, 1, 2, 1, reachR), prev });

  it("tells apart histories that differ in the span groups before, and one set from two", () => {
    const one = sig(made(4, 0, 2));
    const two = sig(made(4, 0, 2, made(3, 0, 3)));
    expect(two).not.toEqual(one);
    expect(sig(made(4, 0, 2, made(3, 0, 3)))).toEqual(two);
    expect(sig(made(4, 0, 2, made(5, 0, 3)))).not.toEqual(two);
    expect(sig(made(4, 0, 2, made(3, 2, 3)))).not.toEqual(two);
    expect(sig(made(4, 0, 2, made(3, 0, 4)))).not.toEqual(two);
    expect(sig(made(4, 2, 2, made(3, 0, 3)))).not.toEqual(two);
  });
});
