/**
 * `exportTimeloop`: a convsim layer, ArchSpec and Mapping as Timeloop v0.3 YAML (architecture,
 * cnn-layer problem, mapping), the inverse of import.ts: importing the export gives back the same
 * layer, the same Timeloop-given arch fields (sizes and level names; timing fields come from the
 * import's base) and the same mapping. Conventions (docs/formats.md):
 * - problem: P the output width, Q the height, R the kernel width, S the height (names.ts); a
 *   padded layer is written with its padding folded into the input (Timeloop's problem has none:
 *   the windows then read real zeros), and a note says so; groups are refused (cnn-layer has none);
 * - architecture: DRAM (`width` = burst bits, `read_bandwidth` in words), the global buffer
 *   (`depth` rows of one bank word, `n_banks`), one per-PE register file (a shared pool) or three
 *   (input, weight, psum partitions, psums innermost), one MAC per PE; `meshX` = the array's columns;
 * - mapping: convsim's loops, outermost first, become permutations innermost first; the spatial
 *   loops one spatial directive at the global buffer, column loops along X (below `split`), row
 *   loops along Y; every register-file loop at the innermost per-PE level.
 * Refused, with the field and the rule: streamed operands (`rf.stream`, no Timeloop form), a
 * dimension on both array axes (one factor per dimension and directive), factors that do not
 * multiply to a dimension exactly (Timeloop's model needs it), a 0-entry partition.
 */
import { stringify } from "yaml";
import type { ArchSpec } from "../../arch/spec.js";
import { ConfigError } from "../../core/errors.js";
import { dimSizes, type Dim, type Mapping, type SpatialLoop, type TemporalLoop, type TensorName } from "../../dataflow/mapping.js";
import type { OperandType } from "../../workload/dtype.js";
import type { ConvLayer } from "../../workload/layer.js";
import { DATASPACE, TO_TIMELOOP, type TimeloopDim } from "./names.js";
import { timeloopSizes } from "./problem.js";

/** What {@link exportTimeloop} takes. */
export interface TimeloopExportInput {
  readonly layer: ConvLayer;
  readonly arch: ArchSpec;
  readonly mapping: Mapping;
  /** The operands' type, which sets the word width (int8/uint8: 8 bits, int16: 16). Default int8. */
  readonly operandType?: OperandType;
}

/** The three Timeloop specs as YAML texts, and what the export had to say about them. */
export interface TimeloopExport {
  readonly arch: string;
  readonly problem: string;
  readonly mapping: string;
  readonly notes: readonly string[];
}

const TL_DIMS: readonly TimeloopDim[] = ["N", "C", "K", "P", "Q", "R", "S"];
const ALL: readonly TensorName[] = ["input", "weight", "output"];

function problemDoc(layer: ConvLayer, notes: string[]): object {
  if (layer.groups !== 1) throw new ConfigError("layer.groups", layer.groups, "be 1 to export: Timeloop's cnn-layer problem has no groups");
  if (layer.pads.some((p) => p !== 0)) notes.push(`the layer's padding [${layer.pads.join(", ")}] is folded into the input: Timeloop's problem has none, so its windows read the padding as real zeros`);
  const s = timeloopSizes(layer);
  const rank = (...terms: string[][]) => terms;
  return {
    problem: {
      shape: {
        name: "CNN-Layer",
        dimensions: ["C", "K", "R", "S", "N", "P", "Q"],
        coefficients: ["Wstride", "Hstride", "Wdilation", "Hdilation"].map((name) => ({ name, default: 1 })),
        "data-spaces": [
          { name: "Weights", projection: [rank(["C"]), rank(["K"]), rank(["R"]), rank(["S"])] },
          { name: "Inputs", projection: [rank(["N"]), rank(["C"]), rank(["R", "Wdilation"], ["P", "Wstride"]), rank(["S", "Hdilation"], ["Q", "Hstride"])] },
          { name: "Outputs", projection: [rank(["N"]), rank(["K"]), rank(["Q"]), rank(["P"])], "read-write": true },
        ],
      },
      instance: { ...s, Wstride: layer.strides[1], Hstride: layer.strides[0], Wdilation: layer.dilations[1], Hdilation: layer.dilations[0] },
    },
  };
}

/** The per-PE levels: [name, tensor kept (undefined: all, a shared pool), entries], outermost first. */
function peLevels(arch: ArchSpec): { name: string; tensor?: TensorName; entries: number }[] {
  const n = arch.levelNames ?? {};
  if (arch.rf.sharedEntries !== undefined) return [{ name: n.rf ?? "RegisterFile", entries: arch.rf.sharedEntries }];
  const parts: [TensorName, string, number][] = [
    ["input", n.rfInput ?? "InputRegFile", arch.rf.inputEntries ?? 0],
    ["weight", n.rfWeight ?? "WeightRegFile", arch.rf.weightEntries ?? 0],
    ["output", n.rfOutput ?? "PsumRegFile", arch.rf.psumEntries ?? 0],
  ];
  for (const [t, , e] of parts) if (e < 1) throw new ConfigError(`arch.rf.${t === "output" ? "psum" : t}Entries`, e, "be at least 1 to export: a Timeloop level needs a capacity");
  return parts.map(([tensor, name, entries]) => ({ name, tensor, entries }));
}

function archDoc(arch: ArchSpec, mapping: Mapping, bits: number, notes: string[]): object {
  const bytes = bits / 8;
  const pes = arch.array.rows * arch.array.cols;
  const multi = (db: boolean) => (db ? { multiple_buffering: 2 } : {});
  const dramAttrs: Record<string, number> = { "word-bits": bits, width: arch.dram.burstBytes * 8 };
  if (arch.dram.bytesPerCycle % bytes === 0) dramAttrs.read_bandwidth = arch.dram.bytesPerCycle / bytes;
  else notes.push(`DRAM bandwidth ${arch.dram.bytesPerCycle} B/cycle is not a whole number of ${bits}-bit words: not written`);
  const g = arch.gbuf;
  const locals = peLevels(arch).map((l) => ({ name: l.name, class: "regfile", attributes: { depth: l.entries, width: bits, "word-bits": bits, meshX: arch.array.cols, ...multi(mapping.rf.doubleBuffer) } }));
  return {
    architecture: {
      version: 0.3,
      subtree: [
        {
          name: arch.name,
          local: [{ name: arch.levelNames?.dram ?? "DRAM", class: "DRAM", attributes: dramAttrs }],
          subtree: [
            {
              name: "chip",
              local: [{ name: arch.levelNames?.gbuf ?? "GlobalBuffer", class: "SRAM", attributes: { depth: g.capacityBytes / g.bankWordBytes, width: g.bankWordBytes * 8, "word-bits": bits, n_banks: g.banks, ...multi(mapping.gbuf.doubleBuffer) } }],
              subtree: [{ name: `PE[0..${pes - 1}]`, local: [...locals, { name: "MACC", class: "intmac", attributes: { datawidth: bits, meshX: arch.array.cols } }] }],
            },
          ],
        },
      ],
    },
  };
}

/** Factors of every dimension (factor-1 ones too) and the permutation, innermost first, of loops listed outermost first. */
function loopsDirective(loops: readonly (TemporalLoop | SpatialLoop)[], field: string): { factors: string; permutation: string } {
  const factors = new Map<TimeloopDim, number>();
  const order: TimeloopDim[] = [];
  loops.forEach((l, i) => {
    if (l.dim === "G") throw new ConfigError(`${field}[${i}].dim`, "G", "not be G to export (cnn-layer has no groups)");
    const d = TO_TIMELOOP[l.dim];
    if (factors.has(d)) throw new ConfigError(`${field}[${i}].dim`, l.dim, "appear once per Timeloop directive (a spatial directive holds one factor per dimension: put a dimension on one array axis only)");
    factors.set(d, l.factor);
    order.unshift(d);
  });
  for (const d of TL_DIMS) if (!factors.has(d)) (factors.set(d, 1), order.push(d));
  return { factors: TL_DIMS.map((d) => `${d}=${factors.get(d)}`).join(" "), permutation: order.join("") };
}

function checkExact(mapping: Mapping, layer: ConvLayer): void {
  if (mapping.fuse) throw new ConfigError("mapping.fuse", mapping.fuse.map((g) => g.dims.join("*")).join(", "), "be absent to export: Timeloop's loops are over single dimensions (it has no folds over flattened ones)");
  const sizes = dimSizes(layer);
  const all = [...mapping.dram.loops, ...mapping.gbuf.loops, ...mapping.spatial.loops, ...mapping.rf.loops];
  for (const d of Object.keys(sizes) as Dim[]) {
    const p = all.filter((l) => l.dim === d).reduce((a, l) => a * l.factor, 1);
    if (p !== sizes[d]) throw new ConfigError(`mapping (dimension ${d})`, p, `give factors of ${d} that multiply to its size ${sizes[d]} exactly to export (Timeloop's model needs a perfect factorization)`);
  }
}

function keepDirective(target: string, kept: (t: TensorName) => boolean): object {
  return { target, type: "bypass", keep: ALL.filter(kept).map((t) => DATASPACE[t]), bypass: ALL.filter((t) => !kept(t)).map((t) => DATASPACE[t]) };
}

function mappingDoc(arch: ArchSpec, mapping: Mapping): object {
  if (mapping.rf.stream && ALL.some((t) => mapping.rf.stream![t])) throw new ConfigError("mapping.rf.stream", mapping.rf.stream, "be absent to export: Timeloop has no operands streamed PE to PE");
  const dram = arch.levelNames?.dram ?? "DRAM";
  const gbuf = arch.levelNames?.gbuf ?? "GlobalBuffer";
  const rows = mapping.spatial.loops.filter((l) => l.axis === "row");
  const cols = mapping.spatial.loops.filter((l) => l.axis === "col");
  // Spatial: X (columns) at permutation positions below split, Y (rows) after them.
  const spatial = loopsDirective([...rows, ...cols], "mapping.spatial.loops");
  const pe = peLevels(arch);
  const directives: object[] = [
    { target: dram, type: "temporal", ...loopsDirective(mapping.dram.loops, "mapping.dram.loops") },
    { target: gbuf, type: "temporal", ...loopsDirective(mapping.gbuf.loops, "mapping.gbuf.loops") },
    { target: gbuf, type: "spatial", ...spatial, split: cols.length },
  ];
  pe.forEach((l, i) => directives.push({ target: l.name, type: "temporal", ...loopsDirective(i === pe.length - 1 ? mapping.rf.loops : [], "mapping.rf.loops") }));
  directives.push(keepDirective(gbuf, (t) => mapping.gbuf.keep[t]));
  for (const l of pe) directives.push(keepDirective(l.name, (t) => mapping.rf.keep[t] && (l.tensor === undefined || l.tensor === t)));
  return { mapping: directives };
}

/**
 * Writes a convsim layer, architecture and mapping as Timeloop v0.3 specs (see the file header).
 * @throws ConfigError naming the field and the rule for what Timeloop cannot express.
 */
export function exportTimeloop(input: TimeloopExportInput): TimeloopExport {
  const notes: string[] = [];
  const bits = input.operandType === "int16" ? 16 : 8;
  checkExact(input.mapping, input.layer);
  const header = "# Written by convsim export timeloop (Timeloop v0.3 format; docs/formats.md).\n";
  const yaml = (doc: object) => header + stringify(doc, { lineWidth: 0 });
  const problem = yaml(problemDoc(input.layer, notes));
  const mapping = yaml(mappingDoc(input.arch, input.mapping));
  const arch = yaml(archDoc(input.arch, input.mapping, bits, notes));
  return Object.freeze({ arch, problem, mapping, notes: Object.freeze(notes) });
}
