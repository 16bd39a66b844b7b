// One parsed file made plain, the way PyYAML's safe_load builds it: aliases replaced by copies of what
// they name (bounded: an alias bomb is refused, not expanded), `<<` merge keys flattened (their keys
// first, the mapping's own keys win), duplicate keys collapsed (the last value wins, at the first key's
// place). Tags safe_load cannot build, and keys it cannot hash, are problems.
import { Alias, Document, Pair, Scalar, YAMLMap, isAlias, isMap, isPair, isScalar, isSeq, type Node } from "yaml";
import { SAFE_TAGS } from "./yaml11.js";

/** Most nodes aliases may expand a file to (PyYAML shares them; we copy them, so the copies are bounded). */
export const MAX_EXPANDED_NODES = 100_000;
const MAX_DEPTH = 500;

export interface ExpandProblem {
  node: unknown;
  message: string;
}

class TooBig extends Error {}

function size(node: unknown): number {
  if (isMap(node)) return 1 + node.items.reduce((n, p) => n + size(p.key) + size(p.value), 0);
  if (isSeq(node)) return 1 + node.items.reduce((n: number, i) => n + size(i), 0);
  return 1;
}

function isMergeKey(key: unknown): boolean {
  return isScalar(key) && key.type === "PLAIN" && !key.tag && key.value === "<<";
}

/** A key's identity as a Python dict sees it: True == 1 == 1.0, "1" != 1 (and PyYAML's NaN is one shared object, so equal too). */
export function keyId(key: unknown): string {
  if (!isScalar(key)) return `?${String(key)}`;
  const v = key.value;
  if (typeof v === "boolean") return `n:${v ? 1 : 0}`;
  if (typeof v === "number" || typeof v === "bigint") return `n:${String(v)}`;
  if (v === null) return "null";
  if (v instanceof Date) return `d:${v.getTime()}`;
  if (v instanceof Uint8Array) return `b:${Buffer.from(v).toString("latin1")}`;
  return `s:${String(v)}`;
}

export function expandDocument(doc: Document): ExpandProblem[] {
  const problems: ExpandProblem[] = [];
  const anchors = new Map<string, { node: Node; size: number }>();
  let budget = MAX_EXPANDED_NODES;

  const visit = (node: unknown, depth: number, isKey = false): unknown => {
    if (depth > MAX_DEPTH) {
      problems.push({ node, message: `nested more than ${MAX_DEPTH} levels deep` });
      return new Scalar(null);
    }
    if (isAlias(node)) {
      const target = anchors.get((node as Alias).source);
      if (!target) {
        problems.push({ node, message: `alias *${(node as Alias).source} names no anchor defined before it` });
        return new Scalar(null);
      }
      budget -= target.size;
      if (budget < 0) throw new TooBig();
      return target.node.clone();
    }
    let out: unknown = node;
    if (isScalar(node)) {
      if (node.tag && !SAFE_TAGS.has(node.tag)) problems.push({ node, message: `the tag ${node.tag} is not one PyYAML's safe_load reads: remove it` });
      if (!isKey && node.type === "PLAIN" && !node.tag && (node.value === "=" || node.value === "<<")) problems.push({ node, message: `a plain '${String(node.value)}' as a value stops PyYAML: put it in quotes` });
    } else if (isSeq(node)) {
      if (node.tag && !SAFE_TAGS.has(node.tag)) problems.push({ node, message: `the tag ${node.tag} is not one PyYAML's safe_load reads: remove it` });
      node.items = node.items.map((i) => visit(i, depth + 1));
    } else if (isMap(node)) {
      if (node.tag && !SAFE_TAGS.has(node.tag)) problems.push({ node, message: `the tag ${node.tag} is not one PyYAML's safe_load reads: remove it` });
      for (const p of node.items) {
        p.key = visit(p.key, depth + 1, true);
        p.value = visit(p.value, depth + 1);
      }
      out = flatten(node as YAMLMap<unknown, unknown>, problems);
    }
    const anchor = (node as { anchor?: string } | null)?.anchor;
    if (anchor && (isScalar(out) || isMap(out) || isSeq(out))) {
      delete (out as { anchor?: string }).anchor;
      anchors.set(anchor, { node: out, size: size(out) });
    }
    return out;
  };

  try {
    doc.contents = visit(doc.contents, 0) as typeof doc.contents;
  } catch (err) {
    if (!(err instanceof TooBig)) throw err;
    return [{ node: doc.contents, message: `its aliases (*name) expand to more than ${MAX_EXPANDED_NODES} values, which looks like an alias bomb: write the values out, or use fewer aliases` }];
  }
  return problems;
}

/** PyYAML's flatten_mapping, then construct_mapping's "last value wins" for repeated keys. */
function flatten(map: YAMLMap<unknown, unknown>, problems: ExpandProblem[]): YAMLMap<unknown, unknown> {
  const merged: Pair<unknown, unknown>[] = [];
  const own: Pair<unknown, unknown>[] = [];
  for (const p of map.items) {
    if (!isPair(p)) continue;
    if (!isMergeKey(p.key)) {
      own.push(p);
      continue;
    }
    const v = p.value;
    if (isMap(v)) merged.push(...(v.items as Pair<unknown, unknown>[]));
    else if (isSeq(v) && v.items.every((i) => isMap(i))) {
      for (const sub of [...v.items].reverse()) merged.push(...((sub as YAMLMap).items as Pair<unknown, unknown>[]));
    } else problems.push({ node: p.key, message: "a merge key (<<) needs a mapping or a list of mappings" });
  }
  const items: Pair<unknown, unknown>[] = [];
  const at = new Map<string, number>();
  for (const p of [...merged, ...own]) {
    if (p.key !== null && !isScalar(p.key)) {
      problems.push({ node: p.key, message: "a key must be a plain value (PyYAML cannot use a list or mapping as a key)" });
      continue;
    }
    const id = keyId(p.key);
    const i = at.get(id);
    if (i === undefined) {
      at.set(id, items.length);
      items.push(p);
    } else {
      // Python keeps the first key (its place and its type: `yes` then `1` keeps True) and the last value.
      items[i] = new Pair(items[i]!.key, p.value);
    }
  }
  map.items = items;
  return map;
}
