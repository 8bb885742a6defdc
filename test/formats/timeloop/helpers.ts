/** The Timeloop fixtures (test/formats/fixtures/timeloop), read as texts, and a builder of small specs. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { TimeloopSpecs } from "../../../src/formats/timeloop/import.js";

/** The three spec texts of a fixture directory (`v03-small`, `v04-eyeriss`). */
export function fixture(name: string): TimeloopSpecs {
  const read = (f: string) => readFileSync(fileURLToPath(new URL(`../fixtures/timeloop/${name}/${f}.yaml`, import.meta.url)), "utf8");
  return { arch: read("arch"), problem: read("problem"), mapping: read("mapping") };
}

/** The path of a fixture file. */
export function fixturePath(name: string, file: string): string {
  return fileURLToPath(new URL(`../fixtures/timeloop/${name}/${file}`, import.meta.url));
}

/** A v0.3 architecture: DRAM, a global buffer of `gbufDepth` 64-bit rows, `rows` x `cols` PEs with a `rfDepth`-entry register file. */
export function archYaml(o: { gbufDepth?: number; rows?: number; cols?: number; rfDepth?: number; gbufExtra?: string } = {}): string {
  const pes = (o.rows ?? 1) * (o.cols ?? 2);
  return `architecture:
  version: 0.3
  subtree:
    - name: test
      local:
        - name: DRAM
          class: DRAM
          attributes: { word-bits: 8, width: 512 }
      subtree:
        - name: chip
          local:
            - name: GlobalBuffer
              class: SRAM
              attributes: { depth: ${o.gbufDepth ?? 256}, width: 64, word-bits: 8${o.gbufExtra ?? ""} }
          subtree:
            - name: PE[0..${pes - 1}]
              local:
                - name: RegisterFile
                  class: regfile
                  attributes: { depth: ${o.rfDepth ?? 128}, width: 8, word-bits: 8, meshX: ${o.cols ?? 2} }
                - name: MACC
                  class: intmac
                  attributes: { datawidth: 8, meshX: ${o.cols ?? 2} }
`;
}

/** A v0.3 cnn-layer problem with the given instance (the shape by name). */
export function problemYaml(instance: Record<string, number>): string {
  return `problem:\n  shape: cnn-layer\n  instance:\n${Object.entries(instance)
    .map(([k, v]) => `    ${k}: ${v}`)
    .join("\n")}\n`;
}

/** A mapping of directives `[target, type, factors, permutation, split?]` (all data spaces kept). */
export function mappingYaml(dirs: readonly (readonly [string, string, string, string, number?])[]): string {
  return `mapping:\n${dirs
    .map(([target, type, factors, permutation, split]) => `  - target: ${target}\n    type: ${type}\n    factors: ${factors}\n    permutation: ${permutation}\n${split !== undefined ? `    split: ${split}\n` : ""}`)
    .join("")}`;
}
