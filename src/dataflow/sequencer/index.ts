/**
 * The Sequencer: the accelerator's controller, as a folder of small parts (DESIGN.md, src/dataflow):
 * - component.ts: the component that runs the program's threads and posts their requests;
 * - program.ts: the schedule (dram iterations, GBuf tiles, gbuf iterations, pipelining);
 * - residency.ts: what each level holds; iteration.ts: the plan of one gbuf iteration;
 * - passes: fetch.ts (DRAM -> GBuf), deliver-inputs.ts and deliver.ts (-> RF), wave.ts (MAC
 *   waves), drain.ts and links.ts (RF -> GBuf), accumulate.ts (read-modify-writes, write-backs);
 * - replay.ts and plan-cache.ts: replays of planned iterations; executor.ts: payloads of steps;
 * - context.ts, types.ts, geometry.ts, transfer.ts, layout.ts: what the parts share.
 */
export { Sequencer } from "./component.js";
export { TAG_SPACE, layoutWeights, weightLayout, type WeightLayout } from "./layout.js";
export type { SequencerHardware, SequencerOperands, SequencerProgress, Thread } from "./types.js";
