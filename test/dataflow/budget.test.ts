import { totalmem } from "node:os";
import { describe, expect, it } from "vitest";
import { chen2020, resolveArch } from "../../src/arch/presets.js";
import { checkLimitNames, checkLimits, checkSimulationBudget, DEFAULT_MAX_MACS, simulationMemory } from "../../src/dataflow/budget.js";
import { simulate } from "../../src/dataflow/simulate.js";
import { convLayer, convShape } from "../../src/workload/layer.js";
import { configError } from "../helpers/errors.js";

const small = convLayer({ inChannels: 4, inHeight: 8, inWidth: 8, outChannels: 4, kernelHeight: 3, kernelWidth: 3 });

describe("limits before allocation", () => {
  it("estimates a run's memory term by term from the layer and the architecture", () => {
    const terms = simulationMemory(small, chen2020, {});
    const s = convShape(small);
    expect(terms.find((t) => t.what.startsWith("output"))!.bytes).toBe(s.outputElements * 12);
    expect(terms.find((t) => t.field === "arch.gbuf.capacityBytes")!.bytes).toBe(chen2020.gbuf.capacityBytes);
    const checked = simulationMemory(small, chen2020, { checked: true });
    expect(checked.reduce((a, t) => a + t.bytes, 0)).toBeGreaterThan(terms.reduce((a, t) => a + t.bytes, 0));
  });

  it("refuses over the memory limit, the register files' bound and the work limit, naming field, estimate and limit", () => {
    const big = convLayer({ inChannels: 40000, inHeight: 200, inWidth: 200, outChannels: 40000, kernelHeight: 1, kernelWidth: 1 });
    const e = configError(() => checkSimulationBudget(big, chen2020, {}, { maxMemoryBytes: 2 ** 30 }));
    expect(e.message).toMatch(/^layer must fit the memory limit of 1 GiB \(set by limits.maxMemoryBytes\); got "an estimated [\d.]+ GiB" \(largest: output tensor/);
    const d = configError(() => checkSimulationBudget(big, chen2020, {}, {}));
    expect(d.rule).toContain(`of this machine's`);
    expect(totalmem()).toBeGreaterThan(0);
    const wide = resolveArch("chen2020", { array: { rows: 2048, cols: 2048 } });
    expect(configError(() => checkSimulationBudget(small, wide)).field).toBe("arch.array (rows x cols) and arch.rf");
    expect(configError(() => checkSimulationBudget(small, chen2020, {}, { maxMacs: 100 })).message).toBe('layer must take at most 1.00e+2 MACs (the work limit; raise it with limits.maxMacs); got "5.18e+3 MACs"');
    expect(DEFAULT_MAX_MACS).toBe(1e11);
  });

  it("simulate() applies the limits before it allocates, and checks the limits themselves", () => {
    expect(configError(() => simulate({ layer: small, limits: { maxMacs: 10 } })).rule).toContain("the work limit");
    expect(configError(() => simulate({ layer: small, limits: { maxMacs: 0 } })).message).toBe("limits.maxMacs must be a positive integer; got 0");
    expect(configError(() => checkLimits({ maxRam: 1 })).field).toBe("limits.maxRam");
    expect(simulate({ layer: small, limits: { maxMacs: 10_000, maxMemoryBytes: 2 ** 26 } }).verification.ok).toBe(true);
  });

  it("limit errors name what the caller says raises each limit (the CLI's options), also once the mapping is known; the names themselves are checked", () => {
    expect(configError(() => simulate({ layer: small, limits: { maxMacs: 100 }, limitNames: { layer: "--layer", maxMacs: "--max-macs" } })).message).toBe(
      '--layer must take at most 1.00e+2 MACs (the work limit; raise it with --max-macs); got "5.18e+3 MACs"',
    );
    // A legal mapping that stages each PE's whole RF tile (bypassed): only the check made once the mapping is known refuses it.
    const layer = { inChannels: 1024, inHeight: 11, inWidth: 11, outChannels: 1, kernelHeight: 11, kernelWidth: 11 };
    const loops = [{ dim: "C", factor: 1024 }, { dim: "R", factor: 11 }, { dim: "S", factor: 11 }];
    const bypass = { gbuf: { keep: { input: false, weight: false, output: true } }, rf: { loops, keep: { input: false, weight: false, output: true } } };
    const staged = (limitNames?: { maxMemory: string }) => configError(() => simulate({ layer, arch: "eyeriss", dataflow: bypass, limits: { maxMemoryBytes: 2 ** 28 }, ...(limitNames ? { limitNames } : {}) }));
    expect(staged().message).toContain("mapping.rf must fit the memory limit of 256 MiB (set by limits.maxMemoryBytes)");
    expect(staged({ maxMemory: "--max-memory" }).message).toContain("mapping.rf must fit the memory limit of 256 MiB (set by --max-memory)");
    expect(configError(() => checkLimitNames({ maxRam: "x" })).field).toBe("limitNames.maxRam");
    expect(configError(() => simulate({ layer: small, limitNames: { maxMemory: 3 } as never })).message).toBe("limitNames.maxMemory must be a non-empty string; got 3");
    expect(configError(() => checkLimitNames("--max-memory")).field).toBe("limitNames");
  });
});
