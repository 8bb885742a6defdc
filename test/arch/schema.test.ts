import { describe, expect, it } from "vitest";
import { chen2020, resolveArch } from "../../src/arch/presets.js";
import { ARCH_RULES } from "../../src/arch/schema.js";
import { Engine } from "../../src/core/engine.js";
import { CounterRegistry } from "../../src/core/counters.js";
import { DramChannel } from "../../src/memory/dram.js";
import { GlobalBuffer } from "../../src/memory/gbuf.js";
import { RegFile } from "../../src/memory/regfile.js";
import { configError } from "../helpers/errors.js";

describe("the architecture schema: one rule per field", () => {
  it("every integer field has an upper bound", () => {
    for (const [section, rules] of Object.entries(ARCH_RULES)) {
      for (const [field, rule] of Object.entries(rules)) {
        if (rule.kind === "int") expect(Number.isSafeInteger(rule.max), `${section}.${field}`).toBe(true);
      }
    }
  });

  it("the presets, resolveArch and the components give the same rule and message for a field", () => {
    const viaArch = configError(() => resolveArch("chen2020", { dram: { latencyCycles: 0 } }));
    const viaComponent = configError(() => new DramChannel(new Engine(), { ...chen2020.dram, latencyCycles: 0 }));
    expect(viaArch.rule).toBe(viaComponent.rule);
    expect(viaComponent.message).toBe("dram.latencyCycles must be an integer in [1, 1048576]; got 0");
    const gArch = configError(() => resolveArch("chen2020", { gbuf: { banks: 6 } }));
    const gComp = configError(() => new GlobalBuffer(new Engine(), { ...chen2020.gbuf, banks: 6 }));
    expect(gArch.rule).toBe(gComp.rule);
    // A register-file partition may be 0 in the arch and in the component alike (a tensor bypasses it).
    expect(resolveArch("chen2020", { rf: { inputEntries: 0 } }).rf.inputEntries).toBe(0);
    expect(new RegFile(new CounterRegistry(), "rf", { inputEntries: 0, weightEntries: 4, psumEntries: 4, readPorts: 2, writePorts: 1 }, 2, false).entries.input).toBe(0);
    const big = configError(() => resolveArch("chen2020", { rf: { psumEntries: 1e9 } }));
    expect(big.message).toBe("arch.rf.psumEntries must be an integer in [0, 1048576]; got 1000000000");
  });
});
