// Parses config files into YAML documents (comments, key order and positions kept) and merges them the
// way omniconfig's update_dict does: mappings merge key by key, recursively; anything else (scalars,
// lists) is replaced by the later file. The merged document reuses the parsed nodes, so every key still
// knows the file, line and column it came from.
import fs from "node:fs";
import { Document, LineCounter, Pair, Scalar, YAMLMap, isMap, isNode, isPair, isScalar, isSeq, parseDocument, visit, type Node } from "yaml";
import type { ConfigProblem } from "../errors.js";
import { expandDocument, keyId } from "./expand.js";
import { parseToml } from "./toml.js";
import type { KeyOrigin } from "./types.js";
import { YAML_OPTIONS } from "./yaml11.js";

export { YAML_OPTIONS };

interface Source {
  file: string;
  lines: LineCounter;
}

/** Which file each parsed node came from. */
export class OriginRegistry {
  private readonly sources = new WeakMap<object, Source>();
  private readonly synthetic = new WeakMap<object, KeyOrigin>();

  register(doc: Document, source: Source): void {
    visit(doc, (_key, node) => {
      if (isNode(node)) this.sources.set(node, source);
      if (isPair(node) && isNode(node.key)) this.sources.set(node.key, source);
    });
  }

  /** Marks a node created from the command line. */
  markSynthetic(node: object, origin: KeyOrigin): void {
    this.synthetic.set(node, origin);
  }

  originOf(node: unknown): KeyOrigin | undefined {
    if (!node || typeof node !== "object") return undefined;
    const syn = this.synthetic.get(node);
    if (syn) return syn;
    const src = this.sources.get(node);
    if (!src) return undefined;
    const range = (node as { range?: [number, number, number] | null }).range;
    if (!range) return { file: src.file };
    const pos = src.lines.linePos(range[0]);
    return { file: src.file, line: pos.line, column: pos.col };
  }
}

export interface ParsedFile {
  file: string;
  doc: Document;
  lines: LineCounter;
  /** The file's text (for the credential check of its comments). */
  text: string;
}

/** Reads and parses one file; syntax errors become problems (never quoting the source text). */
export function parseConfigFile(file: string, displayName: string, problems: ConfigProblem[]): ParsedFile | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    problems.push({ file: displayName, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
    return undefined;
  }
  const lines = new LineCounter();
  let doc: Document;
  if (file.endsWith("toml")) {
    const t = parseToml(text);
    if ("error" in t) {
      problems.push({ file: displayName, line: t.line, column: t.column, message: `TOML syntax error: ${t.error}` });
      return undefined;
    }
    doc = t.doc;
  } else {
    doc = parseDocument(text, { ...YAML_OPTIONS, lineCounter: lines });
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const pos = lines.linePos(e.pos[0]);
        // The first line of the message only: later lines quote the source, which may hold a secret.
        const msg = (e.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
        problems.push({ file: displayName, line: pos.line, column: pos.col, message: `YAML syntax error: ${msg}` });
      }
      return undefined;
    }
  }
  const at = (node: unknown) => {
    const range = (node as { range?: [number, number, number] | null } | null)?.range;
    const pos = range ? lines.linePos(range[0]) : undefined;
    return { file: displayName, line: pos?.line, column: pos?.col };
  };
  const expandProblems = expandDocument(doc);
  if (expandProblems.length > 0) {
    for (const p of expandProblems) problems.push({ ...at(p.node), message: p.message });
    return undefined;
  }
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    problems.push({ file: displayName, message: "is empty (or only comments), which stops the Python DeepCompressor: add a key, or remove the file" });
    return undefined;
  }
  if (!isMap(doc.contents)) {
    problems.push({ ...at(doc.contents), message: "the top level of a config must be a mapping (key: value)" });
    return undefined;
  }
  return { file: displayName, doc, lines, text };
}

function keyName(pair: Pair): string {
  const k = pair.key;
  if (isScalar(k)) return String(k.value);
  return String(k);
}

function findPair(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p) => keyName(p) === key) as Pair | undefined;
}

/**
 * omniconfig's update_dict stops (TypeError) when a mapping lands on an earlier value that is neither a
 * mapping nor empty ("" or []): null, a number, a boolean, text or a non-empty list.
 */
function mergeCrashes(old: unknown): boolean {
  if (isMap(old)) return false;
  if (isSeq(old)) return old.items.length > 0;
  if (isScalar(old)) return old.value !== "";
  return true;
}

export interface MergeClash {
  keyPath: string[];
  earlier: unknown;
  later: unknown;
}

/** Merges `from` into `into` (both mappings), later wins. Nodes of `from` are moved, not copied. */
function mergeMaps(into: YAMLMap, from: YAMLMap, clashes: MergeClash[], keyPath: string[]): void {
  for (const item of from.items) {
    const pair = item as Pair;
    const existing = into.items.find((p) => keyId(p.key) === keyId(pair.key)) as Pair | undefined;
    if (!existing) {
      into.items.push(pair);
      continue;
    }
    if (isMap(pair.value) && !isMap(existing.value) && mergeCrashes(existing.value)) {
      clashes.push({ keyPath: [...keyPath, keyName(pair)], earlier: existing.key, later: pair.key });
    }
    if (isMap(existing.value) && isMap(pair.value)) {
      // Both files' comments on this key are kept (the key itself stays where it first appeared).
      const oldKey = existing.key as Node | null;
      const newKey = pair.key as Node | null;
      if (isNode(oldKey) && isNode(newKey) && newKey.commentBefore && newKey.commentBefore !== oldKey.commentBefore) {
        oldKey.commentBefore = oldKey.commentBefore ? `${oldKey.commentBefore}\n${newKey.commentBefore}` : newKey.commentBefore;
      }
      mergeMaps(existing.value, pair.value, clashes, [...keyPath, keyName(pair)]);
      continue;
    }
    // Replace the value, keep the earlier key's place in the order; the later file's comments come along.
    const oldKey = existing.key as Node | null;
    const newKey = pair.key as Node | null;
    if (isNode(newKey) && isNode(oldKey)) {
      if (!newKey.commentBefore && oldKey.commentBefore) newKey.commentBefore = oldKey.commentBefore;
      if (oldKey.spaceBefore) newKey.spaceBefore = true;
    }
    existing.value = pair.value;
    existing.key = pair.key;
  }
}

/** Merges parsed files in order into one document (the first non-empty one is the base). */
export function mergeDocuments(files: ParsedFile[], clashes: MergeClash[] = []): Document {
  const merged = new Document(new YAMLMap(), YAML_OPTIONS);
  // Each file's leading comment is kept, in merge order, at the top of the merged document.
  const headers: string[] = [];
  for (const f of files) {
    if (f.doc.commentBefore) headers.push(f.doc.commentBefore);
    if (!isMap(f.doc.contents)) continue;
    mergeMaps(merged.contents as YAMLMap, f.doc.contents, clashes, []);
  }
  if (headers.length > 0) merged.commentBefore = headers.join("\n\n");
  return merged;
}

/** The pair at a key path in a document (undefined if any step is missing). */
export function pairAt(doc: Document, keyPath: readonly (string | number)[]): Pair | undefined {
  let node: unknown = doc.contents;
  let pair: Pair | undefined;
  for (const k of keyPath) {
    if (isMap(node)) {
      pair = findPair(node, String(k));
      if (!pair) return undefined;
      node = pair.value;
    } else if (isSeq(node) && typeof k === "number") {
      const item = node.items[k];
      pair = undefined;
      node = item;
      if (item === undefined) return undefined;
    } else {
      return undefined;
    }
  }
  return pair;
}

/** The node at a key path (the value), or the deepest existing one's key. */
export function nodeForLocation(doc: Document, keyPath: readonly (string | number)[]): unknown {
  let node: unknown = doc.contents;
  let best: unknown = undefined;
  for (const k of keyPath) {
    if (isMap(node)) {
      const pair = findPair(node, String(k));
      if (!pair) return best;
      best = pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof k === "number") {
      const item = node.items[k];
      if (item === undefined) return best;
      best = item;
      node = item;
    } else {
      return best;
    }
  }
  return best;
}

export { Scalar, Pair, YAMLMap, isMap, isScalar, type Node };
