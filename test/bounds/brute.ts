/**
 * Brute-force references for the bounds tests: plain loops over every MAC of small layers, sharing
 * no code with src/bounds. Also the random small layers the property tests draw from.
 */
import fc from "fast-check";

// Reproducible property runs: a fixed seed unless FC_SEED asks for another (e.g. FC_SEED=random).
const seedEnv = process.env.FC_SEED;
if (seedEnv !== "random") fc.configureGlobal({ seed: seedEnv === undefined ? 20200220 : Number(seedEnv) });
import { convLayer, convShape, type ConvLayer } from "../../src/workload/layer.js";

/** One useful MAC: indices of its input, weight and output elements (flat, NCHW / OIHW / NCHW). */
export interface Mac {
  readonly x: number;
  readonly w: number;
  readonly y: number;
  /** Output channel (global). */
  readonly k: number;
}

/** Every MAC whose input tap is a real (non-padding) element. */
export function usefulMacs(l: ConvLayer): Mac[] {
  const s = convShape(l);
  const cpg = l.inChannels / l.groups;
  const kpg = l.outChannels / l.groups;
  const out: Mac[] = [];
  for (let n = 0; n < l.batch; n++)
    for (let k = 0; k < l.outChannels; k++) {
      const g = Math.floor(k / kpg);
      for (let oh = 0; oh < s.outHeight; oh++)
        for (let ow = 0; ow < s.outWidth; ow++)
          for (let c = 0; c < cpg; c++)
            for (let kh = 0; kh < l.kernelHeight; kh++)
              for (let kw = 0; kw < l.kernelWidth; kw++) {
                const ih = oh * l.strides[0] - l.pads[0] + kh * l.dilations[0];
                const iw = ow * l.strides[1] - l.pads[1] + kw * l.dilations[1];
                if (ih < 0 || ih >= l.inHeight || iw < 0 || iw >= l.inWidth) continue;
                const cg = g * cpg + c;
                out.push({
                  x: ((n * l.inChannels + cg) * l.inHeight + ih) * l.inWidth + iw,
                  w: ((k * cpg + c) * l.kernelHeight + kh) * l.kernelWidth + kw,
                  y: ((n * l.outChannels + k) * s.outHeight + oh) * s.outWidth + ow,
                  k,
                });
              }
    }
  return out;
}

/** The maximum, over input elements and output channels, of the MACs reading that element for that channel. */
export function bruteMaxReuse(l: ConvLayer): number {
  const counts = new Map<string, number>();
  let best = 0;
  for (const m of usefulMacs(l)) {
    const key = `${m.k}:${m.x}`;
    const v = (counts.get(key) ?? 0) + 1;
    counts.set(key, v);
    if (v > best) best = v;
  }
  return best;
}

/** Small random layers covering groups, depthwise, batch, stride > kernel, dilation, asymmetric padding, 1x1. */
export function smallLayer(maxIn = 9, maxCh = 3): fc.Arbitrary<ConvLayer> {
  return fc
    .record({
      batch: fc.integer({ min: 1, max: 2 }),
      groups: fc.integer({ min: 1, max: 3 }),
      cpg: fc.integer({ min: 1, max: maxCh }),
      kpg: fc.integer({ min: 1, max: maxCh }),
      kh: fc.integer({ min: 1, max: 4 }),
      kw: fc.integer({ min: 1, max: 4 }),
      sh: fc.integer({ min: 1, max: 5 }),
      sw: fc.integer({ min: 1, max: 5 }),
      dh: fc.integer({ min: 1, max: 3 }),
      dw: fc.integer({ min: 1, max: 3 }),
      pads: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })),
      h: fc.integer({ min: 1, max: maxIn }),
      w: fc.integer({ min: 1, max: maxIn }),
    })
    .map((r) => {
      const dkh = (r.kh - 1) * r.dh + 1;
      const dkw = (r.kw - 1) * r.dw + 1;
      return convLayer({
        batch: r.batch,
        groups: r.groups,
        inChannels: r.cpg * r.groups,
        outChannels: r.kpg * r.groups,
        kernelHeight: r.kh,
        kernelWidth: r.kw,
        strides: [r.sh, r.sw],
        dilations: [r.dh, r.dw],
        pads: [...r.pads],
        inHeight: Math.max(r.h, dkh - r.pads[0] - r.pads[2]),
        inWidth: Math.max(r.w, dkw - r.pads[1] - r.pads[3]),
      });
    });
}
