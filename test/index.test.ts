/**
 * The public API (src/index.ts) is closed over its types: every named type that a public
 * signature mentions (a parameter, a return type, an interface field, a type alias's parts, a
 * class's public members) is itself exported from src/index.ts, so a consumer can name it. The
 * check walks the declarations with the TypeScript compiler API (as API Extractor's
 * "forgotten export" check does) and resolves every type reference; a reference to a type
 * declared under src/ that index.ts does not export is a failure, listed with where it is used.
 * Inferred return types and the types of unannotated constants are checked through the checker.
 */
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const srcDir = fileURLToPath(new URL("../src/", import.meta.url));
const indexFile = `${srcDir}index.ts`;

/** The symbol an alias (an import or re-export) stands for. */
function resolved(checker: ts.TypeChecker, s: ts.Symbol): ts.Symbol {
  return s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
}

function declaredInSrc(s: ts.Symbol): boolean {
  return (s.declarations ?? []).some((d) => d.getSourceFile().fileName.startsWith(srcDir));
}

function isPrivateMember(node: ts.Node): boolean {
  if (ts.isPrivateIdentifier((node as { name?: ts.Node }).name ?? node)) return true;
  const mods = ts.canHaveModifiers(node) ? (ts.getModifiers(node) ?? []) : [];
  return mods.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword);
}

/** Named types of src/ that the public declarations mention but index.ts does not export: "Name (used by Where)". */
function unexportedTypes(): string[] {
  const program = ts.createProgram([indexFile], { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, noEmit: true, skipLibCheck: true, types: ["node"] });
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(indexFile)!)!;
  const exported = new Set(checker.getExportsOfModule(moduleSymbol).map((s) => resolved(checker, s)));
  const missing = new Map<string, Set<string>>();
  const note = (s: ts.Symbol | undefined, where: string) => {
    if (!s) return;
    const target = resolved(checker, s);
    if (exported.has(target) || !declaredInSrc(target)) return;
    if (target.flags & (ts.SymbolFlags.TypeParameter | ts.SymbolFlags.Property | ts.SymbolFlags.Method | ts.SymbolFlags.EnumMember)) return;
    const set = missing.get(target.name) ?? new Set<string>();
    set.add(where);
    missing.set(target.name, set);
  };
  const noteType = (t: ts.Type, where: string) => {
    note(t.aliasSymbol, where);
    if (t.isUnion() || t.isIntersection()) t.types.forEach((u) => noteType(u, where));
    else if (!(t.flags & ts.TypeFlags.Object) || !((t as ts.ObjectType).objectFlags & ts.ObjectFlags.Anonymous)) note(t.getSymbol(), where);
  };
  const walk = (node: ts.Node, where: string): void => {
    if (isPrivateMember(node)) return;
    if (ts.isBlock(node)) return; // function bodies are not part of a signature
    if (ts.isTypeReferenceNode(node) || ts.isExpressionWithTypeArguments(node)) note(checker.getSymbolAtLocation(ts.isTypeReferenceNode(node) ? node.typeName : node.expression), where);
    if (ts.isTypeQueryNode(node)) note(checker.getSymbolAtLocation(node.exprName), where);
    if ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isArrowFunction(node)) && node.type === undefined) {
      const sig = checker.getSignatureFromDeclaration(node);
      if (sig) noteType(checker.getReturnTypeOfSignature(sig), where);
    }
    if (ts.isVariableDeclaration(node) && node.type === undefined) {
      noteType(checker.getTypeAtLocation(node.name), where);
      return; // the initializer's inner expressions are not part of the signature
    }
    ts.forEachChild(node, (c) => walk(c, where));
  };
  for (const s of exported) {
    for (const d of s.declarations ?? []) {
      if (d.getSourceFile().fileName.startsWith(srcDir)) walk(d, s.name);
    }
  }
  return [...missing].map(([name, where]) => `${name} (used by ${[...where].sort().join(", ")})`).sort();
}

describe("src/index.ts", () => {
  it("exports every type that a public signature names", () => {
    expect(unexportedTypes()).toEqual([]);
  }, 120_000);
});
