/**
 * The mapper's estimate of the waits for DRAM that a double-buffered GBuf leaves when its tiles
 * fetch unevenly (docs/mapper.md, "Cycles"). A dram tile's prefetch runs beside the tile before,
 * so it is hidden when it takes no longer than that tile's work; but a tensor's tile changes only
 * when a dram loop over one of its dimensions steps (a loop over K brings new weights only when K
 * steps, the loops inside it wrapping), so the steps of an outer loop fetch more than the others,
 * and their prefetches can outlast a tile even where the layer's DRAM time as a whole is less
 * than its work.
 */
import { TENSOR_DIMS, TENSORS, type Mapping, type TensorName } from "../dataflow/mapping.js";

/**
 * The cycles the dram tiles' prefetches add beyond the tiles' work: at each step of dram loop j
 * (those inside it wrapping: `(f_j - 1) x` the outer loops' trips such steps), every tensor whose
 * tile depends on one of the loops from j in (`TENSOR_DIMS`: a loop over R or S moves the input
 * window) is fetched, each fetch of tensor t taking t's share of the time over t's fetches (its
 * first one and one per such step); a step waits for what its
 * fetches take beyond `tileWork`. With every step alike this is the whole DRAM time less the
 * work, which the aggregate term already charges; it adds only where the steps differ.
 * @param weights per tensor, its share of the DRAM transfers (bursts, say)
 * @param total the time of every DRAM transfer of the layer (cycles), shared out by `weights`
 * @param tileWork the work of one dram tile (cycles)
 */
export function unevenPrefetch(m: Mapping, weights: Readonly<Record<TensorName, number>>, total: number, tileWork: number): number {
  const sum = weights.input + weights.weight + weights.output;
  if (sum <= 0) return 0;
  const time = (t: TensorName) => (total * weights[t]) / sum;
  const loops = m.dram.loops.filter((l) => l.factor > 1);
  const steps: { readonly n: number; readonly fetches: Readonly<Record<TensorName, boolean>> }[] = [];
  const fetches: Record<TensorName, number> = { input: 1, weight: 1, output: 1 };
  let outer = 1;
  for (let j = 0; j < loops.length; j++) {
    const moved = loops.slice(j).map((l) => l.dim);
    const n = (loops[j]!.factor - 1) * outer;
    const f = { input: false, weight: false, output: false };
    for (const t of TENSORS) {
      f[t] = moved.some((d) => TENSOR_DIMS[t].includes(d));
      if (f[t]) fetches[t] += n;
    }
    steps.push({ n, fetches: f });
    outer *= loops[j]!.factor;
  }
  let wait = 0;
  for (const s of steps) {
    let d = 0;
    for (const t of TENSORS) if (s.fetches[t]) d += time(t) / fetches[t];
    wait += s.n * Math.max(0, d - tileWork);
  }
  return wait;
}
