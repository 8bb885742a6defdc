/**
 * Input tiles along one spatial axis (rows or columns): which real input coordinates a tile of
 * outputs and kernel taps reads, their span with the halo, and how many any aligned tile reads
 * at most (mapping.ts's header, "Input tiles and halo"). Pure math over a layer's axis
 * (`layerAxis` of workload/layer.ts); the footprints (mapping-tiles.ts), the traffic model and the Sequencer
 * use it. Re-exported by mapping.ts.
 */
import type { LayerAxis } from "../workload/layer.js";

/**
 * Span of input rows (or columns) covered by `outCount` consecutive outputs and `kernelCount`
 * consecutive kernel taps: `(outCount-1)*stride + (kernelCount-1)*dilation + 1`. Rows inside the
 * span may be padding or (with stride > dilated kernel, or dilation) unread.
 */
export function inputSpan(outCount: number, kernelCount: number, stride: number, dilation: number): number {
  if (outCount <= 0 || kernelCount <= 0) return 0;
  return (outCount - 1) * stride + (kernelCount - 1) * dilation + 1;
}

/**
 * The real input coordinates (sorted, distinct) read by outputs `[outStart, outStart+outCount)`
 * through taps `[kStart, kStart+kCount)` along one axis; counts are clipped to the axis.
 */
export function touchedInputs(axis: LayerAxis, outStart: number, outCount: number, kStart: number, kCount: number): number[] {
  const oEnd = Math.min(axis.outSize, outStart + outCount);
  const kEnd = Math.min(axis.kernel, kStart + kCount);
  const seen = new Set<number>();
  for (let o = outStart; o < oEnd; o++) {
    for (let k = kStart; k < kEnd; k++) {
      const i = o * axis.stride - axis.padBegin + k * axis.dilation;
      if (i >= 0 && i < axis.inSize) seen.add(i);
    }
  }
  return [...seen].sort((a, b) => a - b);
}

/**
 * The largest number of distinct real input coordinates that any tile of `outTile` outputs by
 * `kTile` taps reads along one axis, over every aligned tile position (tiles start at multiples of
 * their extent and the last ones are partial). Exact, by enumeration (cost: outSize * kernel).
 */
export function maxTouchedInputs(axis: LayerAxis, outTile: number, kTile: number): number {
  return axisCoverage(axis, outTile, kTile).max;
}

/** The sum and the maximum, over aligned tiles, of the real input coordinates each reads. */
export interface AxisCoverage {
  /** Sum over every (output tile, tap tile) pair of the distinct real input coordinates it reads. */
  readonly sum: number;
  /** The most distinct real input coordinates any one pair reads. */
  readonly max: number;
}

/** The input coverage of one axis by tiles of `outTile` outputs and `kTile` taps (aligned; exact by enumeration). */
export function axisCoverage(axis: LayerAxis, outTile: number, kTile: number): AxisCoverage {
  const ot = Math.min(outTile, axis.outSize);
  const kt = Math.min(kTile, axis.kernel);
  const stamp = new Int32Array(axis.inSize).fill(-1);
  let sum = 0;
  let max = 0;
  let id = 0;
  for (let o0 = 0; o0 < axis.outSize; o0 += ot) {
    const oEnd = Math.min(axis.outSize, o0 + ot);
    for (let k0 = 0; k0 < axis.kernel; k0 += kt, id++) {
      const kEnd = Math.min(axis.kernel, k0 + kt);
      let count = 0;
      for (let o = o0; o < oEnd; o++) {
        const base = o * axis.stride - axis.padBegin;
        for (let k = k0; k < kEnd; k++) {
          const i = base + k * axis.dilation;
          if (i >= 0 && i < axis.inSize && stamp[i] !== id) {
            stamp[i] = id;
            count++;
          }
        }
      }
      sum += count;
      if (count > max) max = count;
    }
  }
  return { sum, max };
}
