/**
 * `importTimeloop`: a Timeloop architecture, problem and mapping (YAML texts, v0.3 or v0.4) as a
 * convsim layer, ArchSpec and Mapping that `simulate` runs. The conventions (docs/formats.md):
 * problem.ts reads the workload (no padding; Timeloop's P is the output width), levels.ts decides
 * which architecture levels convsim models, to-arch.ts and to-mapping.ts translate sizes and
 * loops. Whatever convsim cannot model exactly is a ConfigError naming the file, the path inside
 * it and the rule; what convsim does not read (energy and area attributes) is listed in `notes`.
 */
import type { PresetName } from "../../arch/presets.js";
import type { ArchSpec } from "../../arch/spec.js";
import type { Mapping } from "../../dataflow/mapping.js";
import type { OperandType } from "../../workload/dtype.js";
import type { ConvLayer } from "../../workload/layer.js";
import { flattenTimeloopArch } from "./arch.js";
import { parseTimeloopDirectives } from "./directives.js";
import { classifyLevels, keepMap } from "./levels.js";
import { parseTimeloopProblem } from "./problem.js";
import { ignoredAttributes, toConvsimArch, wordBits } from "./to-arch.js";
import { toConvsimMapping } from "./to-mapping.js";
import { readYaml } from "./yaml.js";

/** The three Timeloop specs, as YAML texts. */
export interface TimeloopSpecs {
  readonly arch: string;
  readonly problem: string;
  readonly mapping: string;
  /** File names for error messages (defaults `arch.yaml`, `problem.yaml`, `mapping.yaml`). */
  readonly files?: { readonly arch?: string; readonly problem?: string; readonly mapping?: string };
  /**
   * The architecture whose fields Timeloop does not give (timing: DRAM latency, GBuf ports,
   * network widths, MAC pipeline) are taken: a preset name or an ArchSpec. Default `eyeriss`.
   */
  readonly base?: PresetName | ArchSpec;
}

/** What {@link importTimeloop} returns. */
export interface TimeloopImport {
  /** The layer, unpadded, in convsim's names (docs/formats.md). */
  readonly layer: ConvLayer;
  readonly arch: ArchSpec;
  readonly mapping: Mapping;
  /** The operand type the architecture's word width asks for (8 bits: int8, 16 bits: int16). */
  readonly operandType: OperandType;
  /** What the import did not read (attributes that only price energy or area), one line each. */
  readonly notes: readonly string[];
}

/**
 * Reads Timeloop specs as convsim inputs (see the file header).
 * @throws ConfigError naming the file, the path inside it (e.g. `mapping[2].factors`) and the rule.
 */
export function importTimeloop(specs: TimeloopSpecs): TimeloopImport {
  const files = { arch: specs.files?.arch ?? "arch.yaml", problem: specs.files?.problem ?? "problem.yaml", mapping: specs.files?.mapping ?? "mapping.yaml" };
  const problem = parseTimeloopProblem(readYaml(specs.problem, files.problem), files.problem);
  const tlArch = flattenTimeloopArch(readYaml(specs.arch, files.arch), files.arch);
  const dirs = parseTimeloopDirectives(readYaml(specs.mapping, files.mapping), files.mapping);
  const levels = classifyLevels(tlArch, files.arch);
  const keep = keepMap(levels, tlArch.nodes, dirs);
  const mapping = toConvsimMapping(levels, tlArch.nodes, dirs, keep, problem.layer, problem.outChannelDim, files.mapping);
  const arch = toConvsimArch(tlArch, levels, keep, specs.base ?? "eyeriss");
  const notes = ignoredAttributes(levels);
  return Object.freeze({ layer: problem.layer, arch, mapping, operandType: wordBits(levels.gbuf) === 16 ? "int16" : "int8", notes: Object.freeze(notes) });
}
