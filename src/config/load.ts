// loadConfig: files -> cascade -> parse -> merge -> overrides -> checks. Every problem in every file is
// collected and thrown at once as a ConfigError (ConfigSecretError when a credential is among them).
import path from "node:path";
import { Pair, Scalar, YAMLMap, isMap, type Document } from "yaml";
import { ConfigError, ConfigSecretError, type ConfigProblem } from "../errors.js";
import { collectConfigFiles } from "./cascade.js";
import { classifyAll } from "./classify.js";
import { OriginRegistry, mergeDocuments, nodeForLocation, pairAt, parseConfigFile, type ParsedFile } from "./merge.js";
import { schemaProblems } from "./schema.js";
import { overrideSecretProblems, secretProblems } from "./secrets.js";
import type { ConfigOverride, KeyOrigin, LoadOptions, LoadedConfig } from "./types.js";

function display(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : file;
}

function applyOverride(doc: Document, registry: OriginRegistry, o: ConfigOverride): void {
  const root = doc.contents as YAMLMap;
  let sectionPair = pairAt(doc, [o.section]);
  if (!sectionPair || !isMap(sectionPair.value)) {
    const map = new YAMLMap();
    if (sectionPair) sectionPair.value = map;
    else {
      sectionPair = new Pair(new Scalar(o.section), map);
      root.items.push(sectionPair);
      registry.markSynthetic(sectionPair.key as object, { file: "(command line)" });
    }
    registry.markSynthetic(map, { file: "(command line)" });
  }
  const section = sectionPair.value as YAMLMap;
  const existing = pairAt(doc, [o.section, o.key]);
  const value = new Scalar(o.value);
  registry.markSynthetic(value, { file: `(command line ${o.flag})` });
  if (existing) {
    // Keep the key where it was (and its comments); only the value changes.
    const old = existing.value as { comment?: string | null } | null;
    if (old && typeof old === "object" && old.comment) value.comment = old.comment;
    existing.value = value;
    registry.markSynthetic(existing.key as object, { file: `(command line ${o.flag})` });
  } else {
    const key = new Scalar(o.key);
    registry.markSynthetic(key, { file: `(command line ${o.flag})` });
    section.items.push(new Pair(key, value));
  }
}

/**
 * Loads DeepCompressor configs the way the Python tool does (positional files, import lists, the
 * `__default__.yaml` cascade, later-wins deep merge) and applies `--model-path`-style overrides.
 * Throws ConfigError listing every problem, each with file, line and key.
 */
export function loadConfig(files: readonly string[], overrides: readonly ConfigOverride[] = [], opts: LoadOptions = {}): LoadedConfig {
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const env = opts.env ?? process.env;
  const set = collectConfigFiles(files, cwd);
  const problems: ConfigProblem[] = [...set.problems];
  const registry = new OriginRegistry();
  const parsed: ParsedFile[] = [];
  for (const file of [...set.defaultFiles, ...set.configFiles]) {
    const name = display(file, cwd);
    const p = parseConfigFile(file, name, problems);
    if (!p) continue;
    registry.register(p.doc, { file: name, lines: p.lines });
    parsed.push(p);
  }
  // Credentials are looked for in every file, even where a later file overrides the key.
  const secrets: ConfigProblem[] = [];
  for (const p of parsed) secrets.push(...secretProblems(p.doc, (n) => registry.originOf(n)));
  secrets.push(...overrideSecretProblems(overrides));

  const document = mergeDocuments(parsed);
  for (const o of overrides) applyOverride(document, registry, o);
  const data = (document.toJS({ maxAliasCount: 1000 }) ?? {}) as Record<string, unknown>;
  const locate = (keyPath: readonly (string | number)[]): KeyOrigin | undefined => registry.originOf(nodeForLocation(document, keyPath));
  const config: LoadedConfig = { configFiles: set.configFiles, defaultFiles: set.defaultFiles, data, document, overrides: [...overrides], locate, cwd };

  if (parsed.length > 0 || problems.length === 0) {
    const typeProblems = schemaProblems(config);
    problems.push(...typeProblems);
    // Source rules only for sections whose types are right (one precise problem per mistake).
    const badSections = new Set(typeProblems.map((p) => (p.key ?? "").split(".")[0]));
    const ok = (["model", "pipeline"] as const).filter((s) => !badSections.has(s));
    problems.push(...classifyAll(config, ok, env).problems);
  }
  const order = new Map<string, number>();
  for (const p of [...secrets, ...problems]) if (!order.has(p.file)) order.set(p.file, order.size);
  const all = [...secrets, ...problems].sort((a, b) => order.get(a.file)! - order.get(b.file)! || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  if (secrets.length > 0) throw new ConfigSecretError(all);
  if (all.length > 0) throw new ConfigError(all);
  return config;
}
