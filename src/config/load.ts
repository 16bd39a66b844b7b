// loadConfig: files -> cascade -> parse -> merge -> overrides -> checks. Every problem in every file is
// collected and thrown at once as a ConfigError (ConfigSecretError when a credential is among them).
import path from "node:path";
import { Pair, Scalar, YAMLMap, isMap, isScalar, type Document } from "yaml";
import { ConfigError, ConfigSecretError, type ConfigProblem } from "../errors.js";
import { collectConfigFiles } from "./cascade.js";
import { classifyAll } from "./classify.js";
import { OriginRegistry, mergeDocuments, nodeForLocation, pairAt, parseConfigFile, type MergeClash, type ParsedFile } from "./merge.js";
import { pythonSideProblems } from "./python-checks.js";
import { schemaProblems } from "./schema.js";
import { overrideSecretProblems, secretProblems } from "./secrets.js";
import type { ConfigOverride, KeyOrigin, LoadOptions, LoadedConfig } from "./types.js";
import { SECTION_NAMES } from "./types.js";

function display(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : file;
}

function applyOverride(doc: Document, registry: OriginRegistry, o: ConfigOverride): void {
  const origin = { file: `(command line ${o.flag})` };
  let map = doc.contents as YAMLMap;
  const steps = [o.section, ...o.key.split(".")];
  const last = steps.pop()!;
  for (const step of steps) {
    let pair = map.items.find((p) => isScalar(p.key) && String(p.key.value) === step) as Pair | undefined;
    if (!pair) {
      pair = new Pair(new Scalar(step), new YAMLMap());
      map.items.push(pair);
      registry.markSynthetic(pair.key as object, { file: "(command line)" });
    }
    if (!isMap(pair.value)) pair.value = new YAMLMap();
    registry.markSynthetic(pair.value as object, { file: "(command line)" });
    map = pair.value as YAMLMap;
  }
  const existing = map.items.find((p) => isScalar(p.key) && String(p.key.value) === last) as Pair | undefined;
  const value = new Scalar(o.value);
  if (typeof o.value === "number") value.format = "FLOAT";
  registry.markSynthetic(value, origin);
  if (existing) {
    // Keep the key where it was (and its comments); only the value changes.
    const old = existing.value as { comment?: string | null } | null;
    if (old && typeof old === "object" && old.comment) value.comment = old.comment;
    existing.value = value;
    registry.markSynthetic(existing.key as object, origin);
  } else {
    const key = new Scalar(last);
    registry.markSynthetic(key, origin);
    map.items.push(new Pair(key, value));
  }
}

/**
 * Loads DeepCompressor configs the way the Python tool does (positional files, import lists, the
 * `__default__` cascade, later-wins deep merge, PyYAML's YAML 1.1, TOML) and applies `--model-path`-style
 * overrides. Throws ConfigError listing every problem, each with file, line and key; what the Python tool
 * would only warn about comes back in `warnings` (errors too with `strict`).
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
  for (const p of parsed) secrets.push(...secretProblems(p.doc, (n) => registry.originOf(n), p.text, p.file));
  secrets.push(...overrideSecretProblems(overrides));

  const clashes: MergeClash[] = [];
  const document = mergeDocuments(parsed, clashes);
  for (const c of clashes) {
    const was = registry.originOf(c.earlier);
    const where = registry.originOf(c.later);
    problems.push({ file: where?.file ?? "(config)", line: where?.line, column: where?.column, key: c.keyPath.join("."), message: `is a mapping here but not in ${was?.file ?? "an earlier file"}${was?.line ? ` (line ${was.line})` : ""}, which stops the Python DeepCompressor when it merges them: make both mappings` });
  }
  for (const s of SECTION_NAMES) {
    const pair = pairAt(document, [s]);
    if (pair && isScalar(pair.value) && pair.value.value === null) {
      const where = registry.originOf(pair.key);
      problems.push({ file: where?.file ?? "(config)", line: where?.line, column: where?.column, key: s, message: `is empty (null), which stops the Python DeepCompressor: give it keys (name, path, ...) or remove it` });
    }
  }
  for (const o of overrides) applyOverride(document, registry, o);
  const data = (document.toJS() ?? {}) as Record<string, unknown>;
  const locate = (keyPath: readonly (string | number)[]): KeyOrigin | undefined => registry.originOf(nodeForLocation(document, keyPath));
  const config: LoadedConfig = { configFiles: set.configFiles, defaultFiles: set.defaultFiles, data, document, overrides: [...overrides], locate, cwd, warnings: [] };

  if (parsed.length > 0 || problems.length === 0) {
    const typeProblems = schemaProblems(config);
    problems.push(...typeProblems);
    // Source rules only for sections whose types are right (one precise problem per mistake).
    const badSections = new Set(typeProblems.map((p) => (p.key ?? "").split(".")[0]));
    const ok = SECTION_NAMES.filter((s) => !badSections.has(s) && !problems.some((p) => p.key === s));
    problems.push(...classifyAll(config, ok, env).problems);
    const py = pythonSideProblems(config);
    problems.push(...py.errors);
    if (opts.strict) problems.push(...py.warnings);
    else config.warnings.push(...py.warnings);
  }
  const order = new Map<string, number>();
  for (const p of [...secrets, ...problems]) if (!order.has(p.file)) order.set(p.file, order.size);
  const all = [...secrets, ...problems].sort((a, b) => order.get(a.file)! - order.get(b.file)! || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  if (secrets.length > 0) throw new ConfigSecretError(all);
  if (all.length > 0) throw new ConfigError(all);
  return config;
}
