/**
 * Printing a Mapping as a loop nest. Loop variables carry their level's number, counted from the
 * inside: `x3` dram, `x2` gbuf, `x1` spatial (printed `parfor`, with its array axis), `x0` rf.
 * Each level starts with a marker line saying what storage holds the tile below it, what it keeps
 * or streams (rf only: `mapping.rf.stream`) or bypasses and whether it is double-buffered; the
 * innermost body is one `mac`.
 *
 * ```
 * // dram: DRAM holds every tensor
 * for n3 in 0..2 {
 *   // gbuf: GBuf tile below; keeps input, weight; bypasses output; double-buffered
 *   for c2 in 0..3 {
 *     // spatial: 4 x 2 PEs
 *     parfor p1 in 0..4 (row) {
 *       ...
 * ```
 */
import { describeLoop, loopNest, spatialShape, TENSORS, type LevelName, type Mapping, type NestLoop, type RfLevel, type StorageLevel } from "./mapping.js";

/** Options of {@link formatMapping}. */
export interface FormatOptions {
  /** `tree` (default): one loop per line with level markers. `inline`: one line, levels separated by `|`. */
  readonly style?: "tree" | "inline";
  /** Spaces per nesting step in `tree` style (default 2). */
  readonly indent?: number;
}

function storageNote(lv: RfLevel | StorageLevel): string {
  const streamed = "stream" in lv && lv.stream ? TENSORS.filter((t) => lv.stream![t]) : [];
  const kept = TENSORS.filter((t) => lv.keep[t] && !streamed.includes(t));
  const bypassed = TENSORS.filter((t) => !lv.keep[t]);
  const parts = [kept.length > 0 ? `keeps ${kept.join(", ")}` : "keeps nothing"];
  if (streamed.length > 0) parts.push(`streams ${streamed.join(", ")}`);
  if (bypassed.length > 0) parts.push(`bypasses ${bypassed.join(", ")}`);
  if (lv.doubleBuffer) parts.push("double-buffered");
  if ("doubleBufferOutput" in lv && lv.doubleBufferOutput) parts.push("two accumulator sets");
  return parts.join("; ");
}

function marker(m: Mapping, level: LevelName): string {
  switch (level) {
    case "dram":
      return "dram: DRAM holds every tensor";
    case "gbuf":
      return `gbuf: GBuf tile below; ${storageNote(m.gbuf)}`;
    case "spatial": {
      const { rows, cols } = spatialShape(m);
      return `spatial: ${rows} x ${cols} PEs`;
    }
    case "rf":
      return `rf: one PE's RF tile below; ${storageNote(m.rf)}`;
  }
}

/**
 * Prints a mapping as a loop nest, e.g. `for k2 in 0..4 { for c1 in 0..3 { ... } }`.
 * Loops with factor 1 are printed too (they are part of the mapping as written).
 */
export function formatMapping(m: Mapping, options: FormatOptions = {}): string {
  const nest = loopNest(m);
  // A loop below the dram level on a fused group's lead walks the group's flattened index: named by the group.
  const describe = (l: NestLoop) => {
    const g = l.level === "dram" ? undefined : m.fuse?.find((x) => x.dims[0] === l.dim);
    return g ? describeLoop(l).replace(/^[a-z]/, g.dims.join("").toLowerCase()) : describeLoop(l);
  };
  const fused = (m.fuse ?? []).map((g) => `fuse ${g.dims.join(" x ")} (dram tiles ${g.extents.join(" x ")})`);
  const levels: LevelName[] = ["dram", "gbuf", "spatial", "rf"];
  if ((options.style ?? "tree") === "inline") {
    const parts: string[] = [];
    for (const level of levels) {
      const loops = nest.filter((l) => l.level === level);
      const text = loops.map((l) => `${l.level === "spatial" ? "parfor" : "for"} ${describe(l)}${l.axis ? ` (${l.axis})` : ""} {`).join(" ");
      parts.push(`${level}: ${text || "-"}`);
    }
    return `${m.name !== undefined ? `${m.name}: ` : ""}${fused.map((f) => `${f} | `).join("")}${parts.join(" | ")} mac ${"}".repeat(nest.length)}`.replace(/ +$/, "");
  }
  const step = " ".repeat(options.indent ?? 2);
  const lines: string[] = [];
  if (m.name !== undefined) lines.push(`// mapping ${m.name}`);
  for (const f of fused) lines.push(`// ${f}`);
  let depth = 0;
  for (const level of levels) {
    lines.push(`${step.repeat(depth)}// ${marker(m, level)}`);
    for (const l of nest.filter((x) => x.level === level)) {
      lines.push(`${step.repeat(depth)}${l.level === "spatial" ? "parfor" : "for"} ${describe(l)}${l.axis ? ` (${l.axis})` : ""} {`);
      depth++;
    }
  }
  lines.push(`${step.repeat(depth)}mac`);
  while (depth > 0) {
    depth--;
    lines.push(`${step.repeat(depth)}}`);
  }
  return lines.join("\n");
}
