/**
 * Groups side by side on the array: a step of every named dataflow, before its splits are
 * balanced (docs/mapping.md, "Groups side by side").
 *
 * The templates spread one group's output positions and channels over the PEs and walk the groups
 * at the DRAM level. A layer of small groups then leaves most of the array idle: on a depthwise
 * layer (one input and one output channel per group) `chen2020` placed MobileNetV2's block15_dw
 * (960 groups of 7 x 7 outputs) on 14 of the `chen2020` preset's 168 PEs, for 129,890 cycles.
 * Groups are independent convolutions with words of their own, so several can run at once on PEs
 * of their own: where the array has room along an axis for two or more copies of the spatial
 * loops, a spatial `G` loop (outermost on that axis) takes as many groups as fit, and the DRAM
 * loop over the groups takes fewer steps (the groups balanced over them: 32 groups in 12 rows go
 * 11 + 11 + 10). Each group's tiles, loops and words are as before; a DRAM tile holds the groups
 * of a step. block15_dw: 12 groups on the rows, 85,241 cycles (0.66x), the same DRAM words and
 * GBuf accesses.
 *
 * Kept only where the mapping stays legal (a DRAM tile of several groups must fit the GBuf) and
 * moves no more DRAM words and no more GBuf accesses (closed form, traffic.ts); else the largest
 * smaller number of groups that does, else none. Layers whose groups fill the array (AlexNet's
 * two towers) are unchanged. Not for streamed operands: a line of a systolic array carries one
 * stream that every PE along it takes, and groups side by side would need one each.
 */
import type { ArchSpec } from "../../arch/spec.js";
import type { ConvLayer } from "../../workload/layer.js";
import { checkMapping, type OperandTypes } from "../legality.js";
import { mapping, type Mapping, type SpatialLoop } from "../mapping.js";
import { dramTraffic, gbufArrayAccesses } from "../traffic.js";

/** Spreads the groups of mapping `m` over the array's idle PEs where that pays (see the file header). */
export function spreadGroups(m: Mapping, layer: ConvLayer, arch: ArchSpec, types: OperandTypes): Mapping {
  const stream = m.rf.stream;
  if (stream && (stream.input || stream.weight || stream.output)) return m;
  const dram = m.dram.loops;
  const at = dram.findIndex((l) => l.dim === "G");
  // (groups walked at the DRAM level only: a G loop elsewhere is the mapping's own choice)
  if (at < 0 || dram[at]!.factor < 2 || [m.gbuf.loops, m.spatial.loops, m.rf.loops].some((ls) => ls.some((l) => l.dim === "G"))) return m;
  const groups = dram[at]!.factor;
  const used = (axis: "row" | "col") => m.spatial.loops.reduce((a, l) => (l.axis === axis ? a * l.factor : a), 1);
  const room = { row: Math.floor(arch.array.rows / used("row")), col: Math.floor(arch.array.cols / used("col")) };
  const words = dramTraffic(m, layer).total;
  const accesses = gbufArrayAccesses(m, layer).total;
  for (const axis of room.row >= room.col ? (["row", "col"] as const) : (["col", "row"] as const)) {
    for (let most = Math.min(room[axis], groups); most >= 2; most--) {
      // As few DRAM steps as `most` groups a step allow, the groups balanced over them.
      const steps = Math.ceil(groups / most);
      const f = Math.ceil(groups / steps);
      if (f < most) continue; // (met again at most = f)
      const loops = dram.flatMap((l, i) => (i !== at ? [l] : steps > 1 ? [{ dim: "G" as const, factor: steps }] : []));
      const spatial: SpatialLoop[] = [{ dim: "G", factor: f, axis }, ...m.spatial.loops];
      const s = mapping({ ...m, dram: { loops }, spatial: { loops: spatial } }, layer);
      if (!checkMapping(s, layer, arch, { types }).ok) continue;
      if (dramTraffic(s, layer).total <= words && gbufArrayAccesses(s, layer).total <= accesses) return s;
    }
  }
  return m;
}
