/**
 * Docs that cannot drift: every CLI command shown in README.md and docs/*.md runs here, in
 * process (src/cli/main.ts, the code `convsim` runs), and every output the docs show is compared
 * with what the command prints today.
 *
 * The convention (also in README.md, "Development"):
 * - A fenced block tagged `sh` is a command block. Each of its commands that starts with
 *   `convsim` or `npx convsim` runs (other commands, such as `npm ci`, do not); `\` continues a
 *   line, `&&` chains, a trailing `# comment` is ignored, quotes group as in a shell. Each must
 *   exit 0.
 * - A fenced block right after the HTML comment `<!-- doc: output -->` shows the exact standard
 *   output of the last command of the command block before it; after `<!-- doc: output-head -->`
 *   it shows the output's first lines (the rest is cut in the doc).
 * - `<!-- doc: skip REASON -->` right before a command block leaves it out; a reason is required.
 * - The commands of one document run in order, in one scratch directory of their own, so a
 *   command can read what an earlier one wrote (reference then verify).
 * A shown command must be quick (seconds): the docs show small cases and say how to scale up.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../src/cli/main.js";

const root = fileURLToPath(new URL("..", import.meta.url));

/** A fenced block of a Markdown file, with the doc marker just before it, if any. */
interface Block {
  readonly line: number;
  readonly info: string;
  readonly body: string;
  readonly marker: string | undefined;
}

/** A command block with its commands (as argv after `convsim`) and the output blocks that follow it. */
interface CommandBlock {
  readonly line: number;
  readonly commands: string[][];
  readonly skip: string | undefined;
  readonly outputs: { readonly line: number; readonly mode: "output" | "output-head"; readonly text: string }[];
}

const MARKER = /^<!--\s*doc:\s*(.*?)\s*-->$/;

/** The fenced blocks of a Markdown text. */
function fencedBlocks(text: string): Block[] {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  let lastText = "";
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) {
      if (lines[i]!.trim() !== "") lastText = lines[i]!.trim();
      continue;
    }
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    blocks.push({ line: start + 1, info: open[1]!, body: body.join("\n"), marker: MARKER.exec(lastText)?.[1] });
    lastText = "";
  }
  return blocks;
}

/** Splits a command line into words as a POSIX shell would for these examples (quotes, no expansions). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: "'" | '"' | undefined;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else word = (word ?? "") + ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      word ??= "";
    } else if (/\s/.test(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? "") + ch;
    }
  }
  if (quote) throw new Error(`unclosed ${quote} in: ${line}`);
  if (word !== undefined) words.push(word);
  return words;
}

/** The convsim commands of a `sh` block, each as the argv after `convsim`. */
function convsimCommands(body: string): string[][] {
  const joined = body.replace(/\\\n\s*/g, " ");
  const out: string[][] = [];
  for (const raw of joined.split("\n")) {
    const line = raw.replace(/(^|\s)#\s.*$/, "").trim();
    for (const part of line.split("&&").map((p) => p.trim())) {
      const words = shellWords(part);
      const at = words[0] === "npx" && words[1] === "convsim" ? 2 : words[0] === "convsim" ? 1 : -1;
      if (at > 0) out.push(words.slice(at));
    }
  }
  return out;
}

/** The command blocks of a document, each with its outputs; throws on a misplaced output or a skip without a reason. */
function commandBlocks(text: string, file: string): CommandBlock[] {
  const result: CommandBlock[] = [];
  for (const b of fencedBlocks(text)) {
    const mode = b.marker === "output" || b.marker === "output-head" ? b.marker : undefined;
    if (mode) {
      const prev = result[result.length - 1];
      if (!prev) throw new Error(`${file}:${b.line}: an output block must follow a command block`);
      prev.outputs.push({ line: b.line, mode, text: b.body });
      continue;
    }
    if (b.info !== "sh") continue;
    const commands = convsimCommands(b.body);
    if (commands.length === 0) continue;
    const skip = b.marker?.startsWith("skip") ? b.marker.slice(4).trim() : undefined;
    if (skip === "") throw new Error(`${file}:${b.line}: <!-- doc: skip --> needs a reason`);
    result.push({ line: b.line, commands, skip, outputs: [] });
  }
  return result;
}

const docs = ["README.md", ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

describe("the doc convention's parser", () => {
  it("finds commands, outputs and skips as documented", () => {
    const md = [
      "```sh",
      "npm ci && npx convsim run --layers conv5   # a comment",
      "npx convsim simulate --layer c=1,hw=4,k=1,r=1 \\",
      "  --arch-override '{\"gbuf\": {\"banks\": 2}}'",
      "npm test",
      "```",
      "<!-- doc: output -->",
      "```",
      "shown",
      "```",
      "<!-- doc: skip takes an hour -->",
      "```sh",
      "convsim run --net vgg16",
      "```",
      "```ts",
      "convsim.simulate()",
      "```",
    ].join("\n");
    const blocks = commandBlocks(md, "x.md");
    expect(blocks).toHaveLength(2);
    expect(blocks[0]!.commands).toEqual([
      ["run", "--layers", "conv5"],
      ["simulate", "--layer", "c=1,hw=4,k=1,r=1", "--arch-override", '{"gbuf": {"banks": 2}}'],
    ]);
    expect(blocks[0]!.outputs).toEqual([{ line: 8, mode: "output", text: "shown" }]);
    expect(blocks[1]!.skip).toBe("takes an hour");
    expect(() => commandBlocks("<!-- doc: output -->\n```\nx\n```\n", "y.md")).toThrow(/must follow a command block/);
    expect(() => commandBlocks("<!-- doc: skip -->\n```sh\nconvsim run\n```\n", "y.md")).toThrow(/needs a reason/);
  });

  it("the README shows commands and their outputs under the convention", () => {
    const blocks = commandBlocks(readFileSync(join(root, "README.md"), "utf8"), "README.md");
    expect(blocks.filter((b) => !b.skip).length).toBeGreaterThanOrEqual(6);
    expect(blocks.flatMap((b) => b.outputs).length).toBeGreaterThanOrEqual(3);
    // Skips are rare and each says why: the SCALE-Sim import and the ONNX models read the reader's own files.
    expect(blocks.filter((b) => b.skip).length).toBeLessThanOrEqual(2);
  });
});

for (const file of docs) {
  const blocks = commandBlocks(readFileSync(join(root, file), "utf8"), file);
  if (blocks.length === 0) continue;
  describe(`the commands of ${file}`, () => {
    let scratch = "";
    const home = process.cwd();
    beforeAll(() => {
      scratch = mkdtempSync(join(tmpdir(), "convsim-docs-"));
      process.chdir(scratch);
    });
    afterAll(() => {
      process.chdir(home);
      rmSync(scratch, { recursive: true, force: true });
    });
    for (const b of blocks) {
      const title = `${file}:${b.line}: ${b.commands.map((c) => `convsim ${c.join(" ")}`).join("; ")}`;
      if (b.skip) {
        it.skip(`${title} (skipped: ${b.skip})`, () => undefined);
        continue;
      }
      it(title, async () => {
        let last = "";
        for (const argv of b.commands) {
          let out = "";
          let err = "";
          const code = await main(argv, { out: (t) => void (out += t), err: (t) => void (err += t), isTTY: false });
          expect(code, `convsim ${argv.join(" ")} exited ${code}:\n${err}`).toBe(0);
          last = out;
        }
        for (const o of b.outputs) {
          const shown = o.text.trimEnd();
          if (o.mode === "output") expect(last.trimEnd(), `${file}:${o.line}`).toBe(shown);
          else expect(last.split("\n").slice(0, shown.split("\n").length).join("\n").trimEnd(), `${file}:${o.line}`).toBe(shown);
        }
      }, 120_000);
    }
  });
}
