/**
 * Folds of a systolic template (SCALE-Sim's, Samajdar et al., ISPASS 2020): the dimensions a
 * template spreads over one axis of the array are flattened into one index (mapping.ts, "Fused
 * dimensions"), so a fold's PEs take consecutive points of the dram tile even across the end of a
 * row of them: 169 output pixels of a 13 x 13 layer fill 32 rows in 6 folds where whole factors
 * of P and Q (P 2 x Q 13) fill 26 in 7.
 *
 * The step runs after the search (search.ts) on its winner. For each spec, the members (its
 * dimensions of size > 1 with no rf loop) become one gbuf loop over the folds, where the first of
 * their gbuf loops was, and one spatial loop over as many PEs as the axis has free. Their dram
 * tiles may grow: each member's extent is tried at its gbuf tile's (the winner's dram tiles) and at
 * every coarser split of its dram loops (`ceil(size / f)` for f below their product; the member's
 * dram loops become one, where the first was). A candidate whose tiles overflow the GBuf is also
 * tried over finer dram splits of each output dimension it does not fold ({@link foldsFitting}).
 * A candidate must be legal and move no more DRAM
 * words than the winner; among those, the lowest {@link foldCycles} estimate wins, then the fewest
 * DRAM words. If none is estimated at least 10% faster than the winner, the winner is returned as it is.
 *
 * Why an estimate and not the fold count: a fold's wave and the delivery of its streamed operand
 * overlap, and the longer one sets the fold's time. The delivery is one network transfer for all
 * the fold's lines (sequencer/deliver.ts serves tiles of one structure together, even when their
 * windows are not one address step apart), its words over the bus (a streamed operand's words
 * pass through the PEs' registers, not their write ports: pe-array/noc.ts). Lines whose tiles
 * differ in structure (windows clipped by padding) take transfers of their own, which the
 * estimate leaves out.
 */
import type { ArchSpec } from "../../arch/spec.js";
import type { ConvLayer } from "../../workload/layer.js";
import { checkMapping, type OperandTypes } from "../legality.js";
import { dimSizes, levelTrips, parseMapping, streamFlows, tileStride, tileVisits, type Axis, type Dim, type Mapping, type SpatialLoop, type TemporalLoop } from "../mapping.js";
import { Nest, NDIMS } from "../nest.js";
import { dramTraffic } from "../traffic.js";

/**
 * The share of the unfolded mapping's estimated cycles a fold must stay within: the estimate
 * leaves out the GBuf's banks, where a fold's scattered windows conflict more (os on AlexNet conv5,
 * 32 x 32: estimated 6% faster, simulated 9% slower with the banked GBuf), so only clear gains fold.
 */
const FOLD_GAIN = 0.9;

/** Dimensions a template may flatten over one axis, most significant first (the point order of a fold). */
export interface FoldSpec {
  readonly axis: Axis;
  readonly dims: readonly Dim[];
}

/** `m` with the dimensions of each spec folded over its axis where that takes fewer folds (see the file header). */
export function foldMapping(m: Mapping, specs: readonly FoldSpec[], layer: ConvLayer, arch: ArchSpec, types: OperandTypes): Mapping {
  let best = m;
  for (const spec of specs) {
    const limit = dramTraffic(best, layer).total;
    // A fold must be estimated at least 1 - FOLD_GAIN faster (the estimate ignores GBuf banks).
    let pick: { m: Mapping; cycles: number; dram: number } = { m: best, cycles: foldCycles(best, spec.axis, layer, arch) * FOLD_GAIN, dram: limit };
    const members = membersOf(best, spec, layer);
    for (const extents of extentChoices(best, spec, layer)) {
      for (const folded of foldsFitting(best, spec, extents, members, layer, arch, types)) {
        const cycles = foldCycles(folded, spec.axis, layer, arch);
        const dram = dramTraffic(folded, layer).total;
        if (dram > limit || cycles > pick.cycles || (cycles === pick.cycles && dram >= pick.dram)) continue;
        pick = { m: folded, cycles, dram };
      }
    }
    best = pick.m;
  }
  return best;
}

/** How many finer splits of one output dimension a fold that overflows the GBuf tries. */
const REPAIR_SPLITS = 3;

/**
 * The legal folds of `m` at `extents`: the fold itself, or, when its tiles overflow the GBuf
 * (a longer fold keeps more of the output tile), for each output dimension that is not a member
 * (N, K, P, Q), the first of its next {@link REPAIR_SPLITS} finer dram splits that fits (its rf,
 * then gbuf, then spatial factors shrink to the new tile). The caller's DRAM-word rule still
 * applies: a split that re-reads more than the winner does is not taken.
 */
function foldsFitting(m: Mapping, spec: FoldSpec, extents: readonly number[], members: readonly Dim[], layer: ConvLayer, arch: ArchSpec, types: OperandTypes): Mapping[] {
  const folded = foldAxis(m, spec, extents, layer, arch);
  if (!folded) return [];
  const v = checkMapping(folded, layer, arch, { types });
  if (v.ok) return [folded];
  if (v.level !== "gbuf") return [];
  const out: Mapping[] = [];
  for (const d of ["N", "K", "P", "Q"] as const) {
    if (members.includes(d)) continue;
    for (const split of finerSplits(m, d, layer)) {
      const c = foldAxis(split, spec, extents, layer, arch);
      if (c && checkMapping(c, layer, arch, { types }).ok) {
        out.push(c);
        break;
      }
    }
  }
  return out;
}

/**
 * `m` with the dram tiles of `d` split finer, one variant per smaller tile extent, largest first
 * (at most {@link REPAIR_SPLITS}):
 * the loops below the dram level on `d` shrink to the extent (rf first, then gbuf, then spatial)
 * and the dram loop takes the rest. Undefined variants (a tiling the layer refuses) are left out.
 */
function finerSplits(m: Mapping, d: Dim, layer: ConvLayer): Mapping[] {
  const size = dimSizes(layer)[d];
  const now = Math.min(size, tileStride(m, "gbuf", d));
  const out: Mapping[] = [];
  const seen = new Set<number>();
  for (let f = Math.ceil(size / now) + 1; f <= size && out.length < REPAIR_SPLITS; f++) {
    const e = Math.ceil(size / f);
    if (e >= now || seen.has(e) || (f - 1) * e >= size) continue;
    seen.add(e);
    let room = e;
    const shrink = <L extends TemporalLoop | SpatialLoop>(loops: readonly L[]): L[] =>
      loops.map((l) => {
        if (l.dim !== d) return l;
        const factor = Math.max(1, Math.min(l.factor, room));
        room = Math.max(1, Math.floor(room / factor));
        return { ...l, factor };
      });
    const rf = shrink(m.rf.loops);
    const gbuf = shrink(m.gbuf.loops);
    const spatial = shrink(m.spatial.loops);
    const inner = [...rf, ...gbuf, ...spatial].reduce((a, l) => (l.dim === d ? a * l.factor : a), 1);
    const tiles = Math.ceil(size / inner);
    const dram = m.dram.loops.some((l) => l.dim === d) ? m.dram.loops.map((l) => (l.dim === d ? { ...l, factor: tiles } : l)) : [...m.dram.loops, { dim: d, factor: tiles }];
    try {
      out.push(parseMapping({ ...m, dram: { loops: dram.filter((l) => l.factor > 1) }, gbuf: { ...m.gbuf, loops: gbuf.filter((l) => l.factor > 1) }, spatial: { loops: spatial.filter((l) => l.factor > 1) }, rf: { ...m.rf, loops: rf.filter((l) => l.factor > 1) } }, layer));
    } catch {
      // (a tiling the layer's sizes refuse: no such variant)
    }
  }
  return out;
}

/** The members of `spec` in `m` (size > 1, no rf loop over them, in no fused group yet). */
function membersOf(m: Mapping, spec: FoldSpec, layer: ConvLayer): Dim[] {
  const sizes = dimSizes(layer);
  return spec.dims.filter((d) => sizes[d] > 1 && !m.rf.loops.some((l) => l.dim === d && l.factor > 1) && !m.fuse?.some((g) => g.dims.includes(d)));
}

/** Every combination of the members' candidate dram-tile extents (see the file header). */
function extentChoices(m: Mapping, spec: FoldSpec, layer: ConvLayer): number[][] {
  const sizes = dimSizes(layer);
  const members = membersOf(m, spec, layer);
  if (members.length < 2) return [];
  let out: number[][] = [[]];
  for (const d of members) {
    const tiles = m.dram.loops.reduce((a, l) => (l.dim === d ? a * l.factor : a), 1);
    const now = Math.min(sizes[d], tileStride(m, "gbuf", d));
    const ext = new Set<number>([now]);
    for (let f = 1; f < tiles; f++) {
      const e = Math.ceil(sizes[d] / f);
      if ((f - 1) * e < sizes[d]) ext.add(e);
    }
    out = out.flatMap((c) => [...ext].map((e) => [...c, e]));
  }
  return out;
}

/** `m` with the members of `spec` fused at dram-tile extents `extents` (undefined when that is malformed for the layer). */
function foldAxis(m: Mapping, spec: FoldSpec, extents: readonly number[], layer: ConvLayer, arch: ArchSpec): Mapping | undefined {
  const sizes = dimSizes(layer);
  const members = membersOf(m, spec, layer);
  const points = extents.reduce((a, e) => a * e, 1);
  const others = m.spatial.loops.reduce((a, l) => (l.axis === spec.axis && !members.includes(l.dim) ? a * l.factor : a), 1);
  const lanes = Math.min(points, Math.floor((spec.axis === "row" ? arch.array.rows : arch.array.cols) / others));
  if (lanes < 1) return undefined;
  const folds = Math.ceil(points / lanes);
  const lead = members[0]!;
  // Each member's dram loops become one over its new tiles, where the first was; the members'
  // loops below the dram level become the lead's folds and lanes, where the first was.
  let dram: TemporalLoop[] = [...m.dram.loops];
  members.forEach((d, k) => {
    const tiles = Math.ceil(sizes[d] / extents[k]!);
    dram = replace(dram, [d], tiles > 1 ? { dim: d, factor: tiles } : undefined);
  });
  try {
    return parseMapping(
      {
        ...m,
        fuse: [...(m.fuse ?? []), { dims: members, extents }],
        dram: { loops: dram },
        gbuf: { ...m.gbuf, loops: replace(m.gbuf.loops, members, folds > 1 ? { dim: lead, factor: folds } : undefined) },
        spatial: { loops: replace(m.spatial.loops, members, lanes > 1 ? { dim: lead, factor: lanes, axis: spec.axis } : undefined) },
        rf: { ...m.rf, loops: m.rf.loops.filter((l) => !members.includes(l.dim)) },
      },
      layer,
    );
  } catch {
    return undefined; // (a tiling the layer's sizes refuse: no such candidate)
  }
}

/** `loops` without those over `dims`, with `loop` (if any) where the first of them was (else last). */
function replace<L extends TemporalLoop | SpatialLoop>(loops: readonly L[], dims: readonly Dim[], loop: L | undefined): L[] {
  const at = loops.findIndex((l) => dims.includes(l.dim));
  const rest = loops.filter((l) => !dims.includes(l.dim));
  if (loop) rest.splice(at < 0 ? rest.length : at, 0, loop);
  return rest;
}

/**
 * An estimate of the array's cycles: folds x the longer of a fold's wave (its rf steps plus the
 * skew, rows + cols) and the delivery of the operand streamed along `axis` (one transfer, its
 * words over the bus: see the file header), averaged over the folds of
 * the first dram tile. Not the simulator's cycles; a ranking of folds.
 */
export function foldCycles(m: Mapping, axis: Axis, layer: ConvLayer, arch: ArchSpec): number {
  const nest = new Nest(m, layer);
  const trips = levelTrips(m, "rf");
  const wave = trips + nest.usedRows + nest.usedCols;
  const flows = streamFlows(m);
  const part = (["input", "weight"] as const).find((t) => flows[t] === (axis === "row" ? "right" : "down"));
  const folds = tileVisits(m, layer, "spatial");
  if (!part) return folds * wave;
  const lines = axis === "row" ? nest.usedRows : nest.usedCols;
  const bus = part === "input" ? arch.noc.inputWordsPerCycle : arch.noc.weightWordsPerCycle;
  const dStart = new Int32Array(NDIMS);
  const { starts, folds: firsts } = nest.gbufIterations(dStart);
  let total = 0;
  const at = new Int32Array(NDIMS);
  // The first PE of each line (only they are read: the whole nest's per-PE arrays are not made).
  const ng = nest.groups.length;
  const heads = Array.from({ length: lines }, (_, line) => nest.peOffsetInto(axis === "row" ? line * nest.usedCols : line, new Int32Array(NDIMS + ng)));
  starts.forEach((g, i) => {
    // The lines the fold reaches: one transfer feeds them all (sequencer/deliver.ts).
    let reached = 0;
    for (let line = 0; line < lines; line++) {
      const head = heads[line]!;
      for (let d = 0; d < NDIMS; d++) at[d] = g[d]! + head[d]!;
      if (nest.groups.every((_, k) => nest.placeFused(k, g, firsts[i]![k]! + head[NDIMS + k]!, at))) reached++;
    }
    const delivery = reached > 0 ? Math.ceil((trips * reached) / bus) : 0;
    total += Math.max(wave, delivery);
  });
  return starts.length > 0 ? (folds * total) / starts.length : folds * wave;
}
