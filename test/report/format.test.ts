import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import { energyScale, formatCsv, formatMarkdown, formatReal, formatTable, requireOutputFormat, type Table } from "../../src/report/format.js";

const table: Table = {
  title: "T",
  columns: [
    { key: "name", header: "layer" },
    { key: "words", header: "DRAM", unit: "words", kind: "count" },
    { key: "ratio", header: "DRAM/bound", unit: "x", kind: "ratio" },
    { key: "e", header: "energy", unit: "pJ", kind: "energy" },
    { key: "f", header: "DRAM", unit: "pJ", kind: "energy" },
  ],
  rows: [
    { name: "conv1", words: 1234567, ratio: 1.23456, e: 2.5e6, f: 1.5e6 },
    { name: 'a,"b"', words: 5, ratio: null, e: 1000, f: 12 },
  ],
  footer: [{ name: "total", words: 1234572, ratio: 1.2, e: 2.501e6, f: 1.500012e6 }],
  notes: ["a note"],
};

describe("formats", () => {
  it("text: units in headers, digit groups, right-aligned numbers, a rule before the footer, one energy scale", () => {
    const t = formatTable(table);
    const lines = t.trimEnd().split("\n");
    expect(lines[0]).toBe("T");
    expect(lines[1]).toMatch(/^layer\s+DRAM \[words\]\s+DRAM\/bound \[x\]\s+energy \[µJ\]\s+DRAM \[µJ\]$/);
    expect(lines[3]).toMatch(/^conv1\s+1,234,567\s+1\.23\s+2\.50\s+1\.50$/);
    expect(lines[4]).toMatch(/^a,"b"\s+5\s+-\s+0\.00100\s+1\.20e-5$/);
    expect(lines[5]).toMatch(/^-+(\s+-+)+$/);
    expect(lines[6]).toMatch(/^total\s+1,234,572/);
    expect(lines[7]).toBe("a note");
    // numbers are right-aligned: the rows' last characters line up
    expect(lines[3]!.length).toBe(lines[6]!.length);
  });

  it("CSV keeps raw values, quotes per RFC 4180, units in headers, footer rows last", () => {
    const c = formatCsv(table).split("\r\n");
    expect(c[0]).toBe("layer,DRAM [words],DRAM/bound [x],energy [pJ],DRAM [pJ]");
    expect(c[1]).toBe("conv1,1234567,1.23456,2500000,1500000");
    expect(c[2]).toBe('"a,""b""",5,,1000,12');
    expect(c[3]).toMatch(/^total,1234572,/);
  });

  it("Markdown aligns numbers right and bolds the footer", () => {
    const m = formatMarkdown(table).split("\n");
    expect(m).toContain("| :--- | ---: | ---: | ---: | ---: |");
    expect(m.find((l) => l.startsWith("| **total**"))).toBeDefined();
  });

  it("energy scale and reals", () => {
    expect(energyScale(2.5e9, "pJ")).toEqual({ factor: 1e9, unit: "mJ" });
    expect(energyScale(12, "pJ")).toEqual({ factor: 1, unit: "pJ" });
    expect(energyScale(3e9, "MAC-eq")).toEqual({ factor: 1e9, unit: "G MAC-eq" });
    expect(formatReal(12.3456)).toBe("12.35");
    expect(formatReal(0)).toBe("0");
  });

  it("rejects an unknown format", () => {
    expect(() => requireOutputFormat("--format", "xml")).toThrow(ConfigError);
    expect(() => requireOutputFormat("--format", "xml")).toThrow(/--format must be one of table, json, csv, md; got "xml"/);
  });
});
