/**
 * The named dataflows: each a function from a layer and an architecture to a legal Mapping
 * (docs/mapping.md gives each one's reading of its source). Besides them, `best` names the
 * mapper (src/mapper/best.ts, docs/mapper.md): a search with a small evaluation budget.
 */
import type { ArchSpec } from "../../arch/spec.js";
import { ConfigError } from "../../core/errors.js";
import { validLayer, type ConvLayer } from "../../workload/layer.js";
import type { Mapping } from "../mapping.js";
import { chen2020 } from "./chen2020.js";
import type { DataflowOptions } from "./common.js";

export type { DataflowOptions };
import { is } from "./is.js";
import { os } from "./os.js";
import { rs } from "./rs.js";
import { ws } from "./ws.js";
import { bestMapping } from "../../mapper/best.js";

/** The names of the built-in dataflows. */
export type DataflowName = "chen2020" | "ws" | "os" | "is" | "rs";

/** The built-in dataflow names, in a stable order. */
export const DATAFLOW_NAMES: readonly DataflowName[] = Object.freeze(["chen2020", "ws", "os", "is", "rs"] as DataflowName[]);

/** Every built-in dataflow by name. */
export const dataflows: Readonly<Record<DataflowName, (layer: ConvLayer, arch: ArchSpec, options?: DataflowOptions) => Mapping>> = Object.freeze({
  chen2020,
  ws,
  os,
  is,
  rs,
});

/** The name of the mapper as a dataflow: `best` (src/mapper/best.ts). */
export const MAPPER_DATAFLOW = "best";

/** Every name {@link buildMapping} accepts: the named dataflows, then `best`. */
export const DATAFLOW_CHOICES: readonly string[] = Object.freeze([...DATAFLOW_NAMES, MAPPER_DATAFLOW]);

/**
 * Builds the mapping of a named dataflow, or the mapper's (`best`). A plain layer (not a frozen ConvLayer) is validated first.
 * @throws ConfigError for an unknown name, or when the dataflow cannot fit the layer on the architecture.
 */
export function buildMapping(name: DataflowName | string, layer: ConvLayer, arch: ArchSpec, options: DataflowOptions = {}): Mapping {
  const valid = validLayer(layer);
  if (name === MAPPER_DATAFLOW) return bestMapping(valid, arch, options);
  if (!(DATAFLOW_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError("dataflow", name, `be one of ${DATAFLOW_CHOICES.join(", ")}`);
  }
  return dataflows[name as DataflowName](valid, arch, options);
}
