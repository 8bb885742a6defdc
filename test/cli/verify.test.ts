import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readNpy, writeNpy } from "../../src/workload/npy.js";
import { cli } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "convsim-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const p = (f: string) => join(dir, f);
const layer = "n=2,c=4,hw=7x6,k=6,r=3,stride=2,pad=1x0x2x1,g=2";

describe("convsim reference and verify", () => {
  it("writes seeded vectors and the reference, accepts a correct dump and catches one flipped element", async () => {
    const ref = await cli("reference", "--layer", layer, "--seed", "5", "--x-type", "uint8", "--w-type", "int8", "--x-zero-point", "100", "--w-zero-point", "-3", "--x-out", p("x.npy"), "--w-out", p("w.npy"), "--out", p("y.npy"));
    expect(ref.err).toBe("");
    expect(ref.code).toBe(0);
    const y = readNpy(p("y.npy"));
    expect(y.dtype).toBe("int32");
    expect(y.shape).toEqual([2, 6, 4, 3]);
    expect(readNpy(p("x.npy")).dtype).toBe("uint8");

    // The reference recomputed from the saved operands equals the seeded one.
    const again = await cli("reference", "--layer", layer, "--x", p("x.npy"), "--w", p("w.npy"), "--x-zero-point", "100", "--w-zero-point", "-3", "--out", p("y2.npy"));
    expect(again.code).toBe(0);
    expect(readNpy(p("y2.npy")).data).toEqual(y.data);

    const ok = await cli("verify", "--layer", layer, "--x", p("x.npy"), "--w", p("w.npy"), "--y", p("y.npy"), "--x-zero-point", "100", "--w-zero-point", "-3");
    expect(ok.code).toBe(0);
    expect(ok.out).toContain("PASS: 0 of 144 elements differ");

    const bad = new Int32Array(y.data as Int32Array);
    bad[77] = bad[77]! ^ 0x100;
    writeNpy(p("bad.npy"), { dtype: "int32", shape: y.shape, data: bad });
    const fail = await cli("verify", "--layer", layer, "--x", p("x.npy"), "--w", p("w.npy"), "--y", p("bad.npy"), "--x-zero-point", "100", "--w-zero-point", "-3");
    expect(fail.code).toBe(1);
    expect(fail.out).toContain("FAIL: 1 of 144 elements differ");
    // 77 = n1 (72 per image) + 5 -> k0, oh 1, ow 2
    expect(fail.out).toContain(`[1, 0, 1, 2]  ${y.data[77]} -> ${bad[77]}`);

    const wrongZp = await cli("verify", "--layer", layer, "--x", p("x.npy"), "--w", p("w.npy"), "--y", p("y.npy"), "--json");
    expect(wrongZp.code).toBe(1);
    expect(JSON.parse(wrongZp.out).mismatches).toBeGreaterThan(0);
  });

  it("rejects bad input with the field, the value and the rule, exit 2", async () => {
    const noY = await cli("verify", "--layer", layer, "--x", p("x.npy"), "--w", p("w.npy"));
    expect(noY.code).toBe(2);
    expect(noY.err).toContain("--y must be given");
    const shape = await cli("verify", "--layer", "n=1,c=4,hw=7x6,k=6,r=3,g=2", "--x", p("x.npy"), "--w", p("w.npy"), "--y", p("y.npy"));
    expect(shape.code).toBe(2);
    expect(shape.err).toMatch(/--x.*shape/);
    const zp = await cli("verify", "--layer", layer, "--x", p("x.npy"), "--w", p("w.npy"), "--y", p("y.npy"), "--x-zero-point", "300");
    expect(zp.code).toBe(2);
    expect(zp.err).toBe("convsim verify: --x-zero-point must be an integer in [0, 255]; got 300 (see convsim help verify)\n");
    const unknown = await cli("verify", "--bogus");
    expect(unknown.code).toBe(2);
    expect((await cli("nosuch")).code).toBe(2);
    const badLayer = await cli("reference", "--layer", "c=4,hw=7,k=6,r=9", "--seed", "1", "--out", p("z.npy"));
    expect(badLayer.code).toBe(2);
    expect(badLayer.err).toContain("--layer r must give a dilated kernel height (9)");
  });

  it("help lists the commands and prints usage", async () => {
    const h = await cli("help");
    expect(h.code).toBe(0);
    expect(h.out).toContain("verify");
    const u = await cli("help", "verify");
    expect(u.out).toContain("Usage: convsim verify");
  });
});

describe("convsim simulate input errors", () => {
  it("names the presets and dataflows when a name is unknown", async () => {
    const a = await cli("simulate", "--layer", "c=3,hw=8,k=4,r=3", "--arch", "nope");
    expect(a.code).toBe(2);
    expect(a.err).toContain('--arch must be a preset (eyeriss, chen2020, systolic), an architecture JSON file or inline JSON; got "nope"');
    const d = await cli("simulate", "--layer", "c=3,hw=8,k=4,r=3", "--dataflow", "xyz");
    expect(d.code).toBe(2);
    expect(d.err).toContain("--dataflow must be one of chen2020, ws, os, is, rs");
  });
  it("takes an inline ArchSpec for --arch, and names --arch when it is not valid JSON", async () => {
    const { eyeriss } = await import("../../src/arch/presets.js");
    const ok = await cli("simulate", "--layer", "c=3,hw=6,k=4,r=3,pad=1", "--arch", JSON.stringify({ ...eyeriss, name: "inline" }), "--dataflow", "os");
    expect(ok.code).toBe(0);
    expect(ok.out).toContain("arch       inline: 12x14 PEs");
    const bad = await cli("simulate", "--layer", "c=3,hw=6,k=4,r=3,pad=1", "--arch", "{bad");
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--arch must be valid JSON; got "{bad"');
    const batch = await cli("run", "--batch", "0");
    expect(batch.code).toBe(2);
    expect(batch.err).toContain('--batch must be a decimal integer in [1, 65536]; got "0"');
  });

  it("simulates a layer and exits 0 with a bit-exact verdict", async () => {
    const r = await cli("simulate", "--layer", "c=3,hw=6,k=4,r=3,pad=1", "--arch", "eyeriss", "--dataflow", "os", "--checked");
    expect(r.code).toBe(0);
    expect(r.out).toContain("PASS: 0 of 144 outputs differ from the reference (bit-exact)");
  });
});
