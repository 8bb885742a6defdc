/**
 * STYLE.md rule 13, kept by a test: no file in src/ over 500 lines and no function over 80.
 *
 * Every .ts file under src/ (except the generated code under src/formats/onnx/gen/) is parsed
 * with the TypeScript compiler API (`ts.createSourceFile`, no type checking) and walked. A file
 * fails if it has more than {@link MAX_FILE_LINES} lines (counted as `wc -l` does). A
 * function-like node (function declaration or expression, generator, arrow function, method,
 * constructor, get/set accessor) with a body fails if it spans more than
 * {@link MAX_FUNCTION_LINES} lines, counted from the line of its start (after its TSDoc) to the
 * line of its end, inclusive. A nested function's lines count toward its parent too, so a long
 * closure fails both. The checker itself is tested on small synthetic sources first, so that a
 * checker that found nothing could not pass unnoticed.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const srcDir = join(root, "src");
/** Folders (relative to the repository root, `/`-separated) whose code is generated and exempt. */
const EXEMPT = ["src/formats/onnx/gen/"];
/** STYLE.md rule 13: the most lines a file in src/ may have. */
const MAX_FILE_LINES = 500;
/** STYLE.md rule 13: the most lines a function may span. */
const MAX_FUNCTION_LINES = 80;

/** One breach of a size limit: where, what, and how long. */
interface Breach {
  readonly file: string;
  /** `"(file)"` for a file too long, otherwise the function's name (and class, if any). */
  readonly what: string;
  readonly line: number;
  readonly lines: number;
}

/** Lines in a text, counted as `wc -l` counts them (a final line without a newline counts too). */
function countLines(text: string): number {
  if (text.length === 0) return 0;
  const newlines = text.split("\n").length - 1;
  return text.endsWith("\n") ? newlines : newlines + 1;
}

/** The name of a property, method or variable as written, or undefined if it is computed. */
function nameText(name: ts.Node | undefined, sf: ts.SourceFile): string | undefined {
  if (name === undefined) return undefined;
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name)) {
    return name.text;
  }
  return name.getText(sf);
}

/** A readable name for a function-like node: its own name, or the binding it is assigned to. */
function functionName(node: ts.FunctionLikeDeclaration, sf: ts.SourceFile): string {
  const owner =
    node.parent !== undefined && ts.isClassLike(node.parent) && node.parent.name !== undefined
      ? `${node.parent.name.text}.`
      : "";
  if (ts.isConstructorDeclaration(node)) return `${owner}constructor`;
  const prefix = ts.isGetAccessorDeclaration(node) ? "get " : ts.isSetAccessorDeclaration(node) ? "set " : "";
  const own = nameText(node.name, sf);
  if (own !== undefined) return `${prefix}${owner}${own}`;
  const parent = node.parent;
  if (
    parent !== undefined &&
    (ts.isVariableDeclaration(parent) ||
      ts.isPropertyAssignment(parent) ||
      ts.isPropertyDeclaration(parent))
  ) {
    const bound = nameText(parent.name, sf);
    if (bound !== undefined) return bound;
  }
  const kind = ts.isArrowFunction(node) ? "arrow function" : "function expression";
  return `<${kind}>`;
}

/** Whether a node is a function-like declaration or expression with a body (not a signature). */
function isFunctionWithBody(node: ts.Node): node is ts.FunctionLikeDeclaration {
  const functionLike =
    ts.isFunctionDeclaration(node) ||
    ts.isFunctionExpression(node) ||
    ts.isArrowFunction(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node);
  return functionLike && node.body !== undefined;
}

/** Every breach of the size limits in one source text; `file` only names it in the result. */
function checkSource(file: string, text: string): Breach[] {
  const breaches: Breach[] = [];
  const fileLines = countLines(text);
  if (fileLines > MAX_FILE_LINES) breaches.push({ file, what: "(file)", line: 1, lines: fileLines });
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const visit = (node: ts.Node): void => {
    if (isFunctionWithBody(node)) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      if (lines > MAX_FUNCTION_LINES) {
        breaches.push({ file, what: functionName(node, sf), line: start + 1, lines });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return breaches;
}

/** Every .ts file under a folder, as paths relative to the repository root with `/` separators. */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.isFile() && entry.name.endsWith(".ts")) {
      out.push(relative(root, path).split(sep).join("/"));
    }
  }
  return out.sort();
}

/** A breach as one line of the failure message. */
function describeBreach(b: Breach): string {
  const limit = b.what === "(file)" ? MAX_FILE_LINES : MAX_FUNCTION_LINES;
  return `${b.file}:${b.line} ${b.what} spans ${b.lines} lines (limit ${limit})`;
}

/** A function of `bodyLines` lines in total (header and closing brace included). */
function fakeFunction(header: string, bodyLines: number, close = "}"): string {
  const filler = Array.from({ length: bodyLines - 2 }, (_, i) => `  const v${i} = ${i};`);
  return [header, ...filler, close].join("\n");
}

describe("the size checker", () => {
  it("flags a function of 81 lines and passes one of 80", () => {
    const src = `${fakeFunction("function long() {", 81)}\n${fakeFunction("function fine() {", 80)}\n`;
    expect(checkSource("x.ts", src).map((b) => [b.what, b.lines, b.line])).toEqual([["long", 81, 1]]);
  });

  it("starts a function after its TSDoc", () => {
    const doc = Array.from({ length: 10 }, () => " * doc").join("\n");
    const src = `/**\n${doc}\n */\n${fakeFunction("export function f() {", 80)}\n`;
    expect(checkSource("x.ts", src)).toEqual([]);
  });

  it("counts a nested closure toward its parent too", () => {
    const inner = fakeFunction("  const inner = () => {", 85, "  };");
    const src = `class Box {\n  method(): void {\n${inner}\n  }\n}\n`;
    const found = checkSource("x.ts", src).map((b) => [b.what, b.lines]);
    expect(found).toEqual([
      ["Box.method", 87],
      ["inner", 85],
    ]);
  });

  it("sees constructors, accessors, generators, function expressions and object methods", () => {
    const src = [
      "class A {",
      fakeFunction("  constructor() {", 81),
      fakeFunction("  get size(): number {", 82),
      fakeFunction("  set size(v: number) {", 83),
      fakeFunction("  *items(): Generator<number> {", 84),
      "}",
      fakeFunction("const f = function () {", 85, "};"),
      fakeFunction("function* gen() {", 86),
      "const o = {",
      fakeFunction("  run() {", 87, "  },"),
      fakeFunction("  go: (x: number) => {", 88, "  },"),
      "};",
      "declare function sig(x: number): number;",
      "",
    ].join("\n");
    const found = checkSource("x.ts", src)
      .filter((b) => b.what !== "(file)")
      .map((b) => [b.what, b.lines]);
    expect(found).toEqual([
      ["A.constructor", 81],
      ["get A.size", 82],
      ["set A.size", 83],
      ["A.items", 84],
      ["f", 85],
      ["gen", 86],
      ["run", 87],
      ["go", 88],
    ]);
  });

  it("flags a file over 500 lines, counted as wc -l counts", () => {
    const ok = "x;\n".repeat(500);
    expect(checkSource("x.ts", ok)).toEqual([]);
    expect(checkSource("x.ts", `${ok}y;`).map((b) => [b.what, b.lines])).toEqual([["(file)", 501]]);
    expect(checkSource("x.ts", `${ok}\n`).map((b) => [b.what, b.lines])).toEqual([["(file)", 501]]);
  });
});

describe("src/ keeps STYLE.md's size limits (rule 13)", () => {
  const files = sourceFiles(srcDir).filter((f) => !EXEMPT.some((dir) => f.startsWith(dir)));

  it("walks the source tree", () => {
    expect(files).toContain("src/index.ts");
    expect(files).toContain("src/pe-array/pe-array.ts");
    expect(files.some((f) => f.startsWith("src/formats/onnx/gen/"))).toBe(false);
  });

  it("has no file over 500 lines and no function over 80", () => {
    const breaches = files.flatMap((f) => checkSource(f, readFileSync(join(root, f), "utf8")));
    expect(breaches.map(describeBreach)).toEqual([]);
  });
});
