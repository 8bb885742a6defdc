/**
 * The mapper's count of the GBuf's accesses towards the array when tensors stream through the PEs
 * (`rf.stream`; docs/mapper.md, "Cost model"): the closed form of traffic.ts, with each streamed
 * tensor sent whole at every gbuf iteration.
 */
import { TENSOR_DIMS, TENSORS, tileVisits, type Mapping, type TensorName } from "../dataflow/mapping.js";
import { layerTraffic, type BoundaryWords } from "../dataflow/traffic.js";
import type { ConvLayer } from "../workload/layer.js";
import { tilesOf, type LevelExtents } from "./bursts.js";

/**
 * The GBuf's accesses towards the array with streamed tensors (`rf.stream`) sent whole at every
 * gbuf iteration: a streamed tile passes through the PEs and stays in none, so no iteration
 * reuses the one before (a streamed output drains, and adds into the GBuf, at each).
 */
export function streamedAccesses(m: Mapping, layer: ConvLayer, ga: BoundaryWords, x: LevelExtents): BoundaryWords {
  const stream = m.rf.stream;
  if (!stream || !(stream.input || stream.weight || stream.output)) return ga;
  const lt = layerTraffic(layer);
  const iterations = tilesOf(x, "spatial");
  const rf = x.rf;
  // The layer's words of a tensor over its spatial tiles (a fused group's folds as tileVisits
  // counts them): the average spatial tile, times the iterations.
  const perIteration = (t: TensorName) => lt.wordsPerVisit(t, rf) / tileVisits(m, layer, "spatial", TENSOR_DIMS[t]);
  const read = { ...ga.read }, write = { ...ga.write };
  if (stream.input) read.input = iterations * perIteration("input");
  if (stream.weight && m.gbuf.keep.weight) read.weight = iterations * perIteration("weight");
  if (stream.output) {
    write.output = iterations * perIteration("output");
    read.output = Math.max(0, write.output - lt.outputWords);
  }
  let total = 0;
  for (const t of TENSORS) total += read[t] + write[t];
  return { read, write, total };
}
