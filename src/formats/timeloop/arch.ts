/**
 * Timeloop architecture specs, flattened: the tree of v0.3 (`architecture: { subtree: [{ local,
 * subtree }] }`, a component's instances from its name's range `PE[0..167]`, its `instances`
 * attribute or its enclosing subtrees' ranges, `meshX` its extent along X) and the node list of
 * v0.4 (`architecture: { nodes: [!Container { spatial: { meshX, meshY } }, !Component ...] }`, a
 * container's or component's `spatial` replicating everything after it) both become one list of
 * levels, outermost first, each with its class, instance count and X extent. Which of those levels
 * convsim can model is decided in import.ts. A `!Parallel` node's components (sibling buffers side
 * by side, such as Eyeriss's three scratchpads) become a chain in the order given, as Timeloop's
 * front end flattens them (its parsed-processed-input lists them so, and Timeloop's model is a
 * chain); its children must be components without a fan-out of their own.
 */
import { bareName, rangeCount } from "./names.js";
import { arrayAt, isObject, objectAt, positiveIntAt, TAG, Where, type Plain, type PlainObject } from "./yaml.js";

/** One node of a flattened Timeloop architecture. */
export interface ArchNode {
  /** A storage level, a compute unit (MACs), or a v0.4 container (a fan-out point). */
  readonly kind: "storage" | "compute" | "container";
  /** The bare name (no instance range), as mapping directives target it. */
  readonly name: string;
  readonly className: string;
  /** Instances in the whole accelerator. */
  readonly instances: number;
  /** The instances' extent along X (the rest is along Y). */
  readonly meshX: number;
  /** Attributes, keys with `-` written `_` (`word-bits` is `word_bits`). */
  readonly attributes: Readonly<Record<string, Plain>>;
  readonly where: Where;
}

/** A flattened architecture. */
export interface TimeloopArch {
  /** The name of the outermost subtree or container (the accelerator's name). */
  readonly name: string;
  readonly nodes: readonly ArchNode[];
}

const COMPUTE_CLASS = /mac|compute|adder|multiplier|alu/i;

function normalizedAttributes(raw: Plain | undefined): Record<string, Plain> {
  const out: Record<string, Plain> = {};
  if (isObject(raw)) for (const [k, v] of Object.entries(raw)) out[k.replace(/-/g, "_")] = v;
  return out;
}

function nodeKind(className: string, container: boolean): ArchNode["kind"] {
  if (container) return "container";
  return COMPUTE_CLASS.test(className) ? "compute" : "storage";
}

/** v0.3: a component's total instances from its own range, its `instances` attribute and the enclosing subtrees'. */
function componentInstances(w: Where, name: string, attrs: Record<string, Plain>, parent: number): number {
  const own = rangeCount(name);
  if (own === undefined) throw w.at("name").error(name, "be a name with an optional range such as PE[0..167]");
  const total = own > 1 && own % parent === 0 ? own : own * parent;
  if (attrs.instances !== undefined) {
    const given = positiveIntAt(w.at("attributes.instances"), attrs.instances);
    if (own > 1 && given !== total) throw w.at("attributes.instances").error(given, `agree with the name's range (${total} instances)`);
    return given;
  }
  return total;
}

function meshXOf(w: Where, attrs: Record<string, Plain>, instances: number): number {
  const meshX = attrs.meshX === undefined ? instances : positiveIntAt(w.at("attributes.meshX"), attrs.meshX);
  if (instances % meshX !== 0) throw w.at("attributes.meshX").error(meshX, `divide the level's ${instances} instances (meshX columns by instances / meshX rows)`);
  return meshX;
}

function walkV3(w: Where, raw: Plain, parent: number, out: ArchNode[]): void {
  const node = objectAt(w, raw, "a subtree { name, attributes, local, subtree }");
  const name = String(node.name ?? "");
  const count = rangeCount(name);
  if (count === undefined) throw w.at("name").error(name, "be a name with an optional range such as PE[0..167]");
  const instances = parent * count;
  const locals = node.local === undefined || node.local === null ? [] : arrayAt(w.at("local"), node.local, "a list of components");
  locals.forEach((c, i) => {
    const wc = w.at("local").at(i);
    const comp = objectAt(wc, c, "a component { name, class, attributes }");
    const cname = String(comp.name ?? "");
    const attrs = normalizedAttributes(comp.attributes);
    const n = componentInstances(wc, cname, attrs, instances);
    const className = String(comp.class ?? "");
    out.push({ kind: nodeKind(className, false), name: bareName(cname), className, instances: n, meshX: meshXOf(wc, attrs, n), attributes: attrs, where: wc });
  });
  const subtrees = node.subtree === undefined || node.subtree === null ? [] : arrayAt(w.at("subtree"), node.subtree, "a list of subtrees");
  subtrees.forEach((s, i) => walkV3(w.at("subtree").at(i), s, instances, out));
}

interface Mesh {
  x: number;
  y: number;
}

function spatialOf(w: Where, raw: Plain | undefined): Mesh {
  if (raw === undefined || raw === null) return { x: 1, y: 1 };
  const s = objectAt(w, raw, "a fan-out { meshX, meshY }");
  return { x: s.meshX === undefined ? 1 : positiveIntAt(w.at("meshX"), s.meshX), y: s.meshY === undefined ? 1 : positiveIntAt(w.at("meshY"), s.meshY) };
}

function walkV4(w: Where, list: Plain, mesh: Mesh, out: ArchNode[]): void {
  arrayAt(w, list, "a list of nodes (!Container, !Component, !Hierarchical)").forEach((raw, i) => {
    const wn = w.at(i);
    const node = objectAt(wn, raw, "a node such as !Component { name, class, attributes }");
    const tag = String(node[TAG] ?? (node.class !== undefined ? "Component" : "Container"));
    if (tag === "Hierarchical") return walkV4(wn.at("nodes"), node.nodes ?? [], mesh, out);
    if (tag === "Parallel") return walkParallel(wn, node, mesh, out);
    if (tag === "Nothing") return;
    if (tag !== "Component" && tag !== "Container") {
      throw wn.error(`!${tag}`, "be a !Container, !Component, !Hierarchical or !Parallel node");
    }
    const s = spatialOf(wn.at("spatial"), node.spatial);
    mesh.x *= s.x;
    mesh.y *= s.y;
    const className = String(node.class ?? "");
    const attrs = normalizedAttributes(node.attributes);
    out.push({ kind: nodeKind(className, tag === "Container"), name: bareName(String(node.name ?? "")), className, instances: mesh.x * mesh.y, meshX: mesh.x, attributes: attrs, where: wn });
  });
}

/** A `!Parallel` node: its components in order, as a chain (see the file header). */
function walkParallel(w: Where, node: PlainObject, mesh: Mesh, out: ArchNode[]): void {
  const children = arrayAt(w.at("nodes"), node.nodes ?? [], "a list of !Component nodes");
  children.forEach((raw, i) => {
    const child = objectAt(w.at("nodes").at(i), raw, "a !Component { name, class, attributes }");
    const tag = String(child[TAG] ?? (child.class !== undefined ? "Component" : "Container"));
    if (tag !== "Component") throw w.at("nodes").at(i).error(`!${tag}`, "be a !Component: convsim flattens a !Parallel node's components into a chain, as Timeloop's front end does, and reads no nesting inside it");
    if (child.spatial !== undefined) throw w.at("nodes").at(i).at("spatial").error(child.spatial, "be absent: a fan-out inside a !Parallel node would replicate its siblings too");
  });
  walkV4(w.at("nodes"), children, mesh, out);
}

/**
 * Flattens a Timeloop architecture spec (parsed YAML, v0.3 or v0.4) into its levels, outermost first.
 * @param file the file's name, for error messages.
 * @throws ConfigError naming the file, the path inside it and the rule.
 */
export function flattenTimeloopArch(doc: Plain, file: string): TimeloopArch {
  const root = objectAt(new Where(file, ""), doc, "a Timeloop architecture spec: { architecture: { subtree | nodes } }");
  const w = new Where(file, "architecture");
  const arch: PlainObject = objectAt(w, root.architecture, "an object with subtree (v0.3) or nodes (v0.4)");
  const out: ArchNode[] = [];
  let name: string;
  if (arch.nodes !== undefined) {
    walkV4(w.at("nodes"), arch.nodes, { x: 1, y: 1 }, out);
    name = out.find((n) => n.kind === "container")?.name || "timeloop";
  } else {
    const subtrees = arrayAt(w.at("subtree"), arch.subtree, "a list of subtrees (v0.3) or give nodes (v0.4)");
    subtrees.forEach((s, i) => walkV3(w.at("subtree").at(i), s, 1, out));
    const first = subtrees[0];
    name = (isObject(first) ? bareName(String(first.name ?? "")) : "") || "timeloop";
  }
  const levels = new Map<string, ArchNode>();
  for (const n of out) {
    if (n.kind === "compute") continue;
    const first = levels.get(n.name);
    if (first) throw n.where.at("name").error(n.name, `be unique among the architecture's levels (${first.where.path} has it too): mapping directives name the level they target`);
    levels.set(n.name, n);
  }
  return Object.freeze({ name, nodes: Object.freeze(out) });
}
