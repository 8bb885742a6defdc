import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkOutputPaths, formatOption, writeOutputFile } from "../../src/cli/outputs.js";
import { limitsOption, parseBytesFlag, parseIntegerFlag, parseSeedFlag } from "../../src/cli/numbers.js";
import { configError } from "../helpers/errors.js";

const dir = mkdtempSync(join(tmpdir(), "convsim-out-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const p = (f: string) => join(dir, f);

describe("output paths", () => {
  it("are checked before any work: directory, not a directory, not an input, not another output", () => {
    writeFileSync(p("x.npy"), "x");
    mkdirSync(p("sub"));
    expect(() => checkOutputPaths([{ flag: "--out", path: p("y.npy") }, { flag: "--svg", path: undefined }], [{ flag: "--x", path: p("x.npy") }])).not.toThrow();
    expect(configError(() => checkOutputPaths([{ flag: "--out", path: p("nodir/y.npy") }], [])).rule).toMatch(/^be in an existing directory/);
    expect(configError(() => checkOutputPaths([{ flag: "--out", path: p("sub") }], [])).rule).toBe("name a file, not a directory");
    expect(configError(() => checkOutputPaths([{ flag: "--out", path: join(dir, "sub", "..", "x.npy") }], [{ flag: "--x", path: p("x.npy") }])).rule).toBe("not be an input of the command (it is --x, which would be overwritten)");
    expect(configError(() => checkOutputPaths([{ flag: "--out", path: p("r.txt") }, { flag: "--svg", path: p("r.txt") }], [])).field).toBe("--svg");
    expect(configError(() => checkOutputPaths([{ flag: "--out", path: "" }], [])).rule).toBe("name a file");
  });

  it("are written through a temporary file and a rename, leaving no temporary file", () => {
    writeOutputFile("--out", p("r.txt"), "old");
    writeOutputFile("--out", p("r.txt"), "new");
    expect(readFileSync(p("r.txt"), "utf8")).toBe("new");
    expect(readdirSync(dir).filter((f) => f.endsWith(".convsim-tmp"))).toEqual([]);
    expect(configError(() => writeOutputFile("--out", p("nodir/r.txt"), "x")).field).toBe("--out");
  });

  it("--format and --json agree", () => {
    expect(formatOption(undefined, true)).toBe("json");
    expect(formatOption("md")).toBe("md");
    expect(configError(() => formatOption("csv", true)).field).toBe("--json");
    expect(configError(() => formatOption("xml")).message).toBe('--format must be one of table, json, csv, md; got "xml"');
  });
});

describe("strict numbers", () => {
  it("take decimal integers only, sizes with a unit, and name the option", () => {
    expect(parseIntegerFlag("--show", "08", 0)).toBe(8);
    expect(parseIntegerFlag("--x-zero-point", "-3")).toBe(-3);
    for (const t of ["", " 1", "1e1", "0x3", "1.5", "+1", "1_000", "Infinity"]) expect(configError(() => parseIntegerFlag("--batch", t, 1, 65536)).field).toBe("--batch");
    expect(configError(() => parseIntegerFlag("--batch", "99999999999999999999", 1)).rule).toBe("be a positive decimal integer");
    expect(configError(() => parseSeedFlag("")).message).toBe('--seed must be a decimal integer in [0, 4294967295] (no exponent, hex, fraction or spaces); got ""');
    expect(parseBytesFlag("--max-memory", "2GiB")).toBe(2 * 2 ** 30);
    expect(configError(() => parseBytesFlag("--max-memory", "512W")).rule).toMatch(/not words/);
    expect(limitsOption({ "max-memory": "1MiB", "max-macs": "1000" })).toEqual({ maxMemoryBytes: 2 ** 20, maxMacs: 1000 });
  });
});
