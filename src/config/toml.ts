// TOML configs (`x.toml`, `__default__.toml`), which omniconfig reads with Python's `toml` package, turned
// into a YAML document so they merge, check and print like the YAML ones. Integers stay exact and
// floats stay floats (written back as `3.0`, never as the integer `3`).
import { Document, Pair, Scalar, YAMLMap, YAMLSeq } from "yaml";
import { TomlError, parse } from "smol-toml";
import { YAML_OPTIONS } from "./yaml11.js";

function toNode(v: unknown): unknown {
  if (typeof v === "bigint") {
    const n = Number(v);
    return new Scalar(Number.isSafeInteger(n) ? n : v);
  }
  if (typeof v === "number") {
    const s = new Scalar(v);
    s.format = "FLOAT";
    return s;
  }
  if (Array.isArray(v)) {
    const seq = new YAMLSeq();
    seq.items = v.map(toNode);
    return seq;
  }
  if (v instanceof Date) return new Scalar(new Date(v.getTime()));
  if (v && typeof v === "object") {
    const map = new YAMLMap();
    for (const [k, x] of Object.entries(v)) map.items.push(new Pair(new Scalar(k), toNode(x)));
    return map;
  }
  return new Scalar(v);
}

/** A TOML text as a YAML document, or the parse error's first line and position. */
export function parseToml(text: string): { doc: Document } | { error: string; line?: number; column?: number } {
  try {
    const data = parse(text, { integersAsBigInt: true });
    const doc = new Document(null, YAML_OPTIONS);
    doc.contents = toNode(data) as YAMLMap;
    return { doc };
  } catch (err) {
    if (err instanceof TomlError) return { error: (err.message.split("\n")[0] ?? "").trim(), line: err.line, column: err.column };
    throw err;
  }
}
