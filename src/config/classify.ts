// Decides, without any network, what a `model:` / `pipeline:` section's source is (PRODUCT.md "Config
// rules"): ModelScope, an existing local folder, or left untouched, or a problem at the right key.
import fs from "node:fs";
import path from "node:path";
import { isModelId, type ConfigProblem } from "../errors.js";
import { cacheRoot, expandHome } from "../settings.js";
import type { LoadedConfig, ModelSourceSection, ResolvedSection, SectionName } from "./types.js";
import { SECTION_NAMES } from "./types.js";
import { looksLikeToken } from "./secrets.js";

/** A value quoted in a message, unless it looks like a token (those are never repeated). */
function shown(v: string): string {
  return looksLikeToken(v) ? "the value" : `'${v}'`;
}

/** Written like a filesystem path rather than an ID: absolute, ~, ./ or ../, a Windows drive, a backslash. */
export function looksLocal(s: string): boolean {
  return path.isAbsolute(s) || s === "~" || s.startsWith("~/") || s === "." || s === ".." || s.startsWith("./") || s.startsWith("../") || /^[A-Za-z]:[\\/]/.test(s) || s.includes("\\");
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export interface Classified {
  resolved?: ResolvedSection;
  problems: ConfigProblem[];
}

function problemAt(config: Pick<LoadedConfig, "locate">, keyPath: string[], message: string): ConfigProblem {
  const where = config.locate(keyPath);
  return { file: where?.file ?? "(config)", line: where?.line, column: where?.column, key: keyPath.join("."), message };
}

/** Classifies one section (assumes the schema already passed for it). */
export function classifySection(config: Pick<LoadedConfig, "data" | "locate" | "cwd">, section: SectionName, env: NodeJS.ProcessEnv = process.env): Classified {
  const raw = config.data[section];
  if (raw === undefined || raw === null || typeof raw !== "object") return { problems: [] };
  const s = raw as ModelSourceSection;
  const p = typeof s.path === "string" ? s.path.trim() : "";
  const name = typeof s.name === "string" ? s.name.trim() : "";
  const revision = typeof s.revision === "string" ? s.revision : undefined;
  const use = s.use_modelscope;
  const cacheDir = typeof s.modelscope_cache_dir === "string" && s.modelscope_cache_dir.trim() ? path.resolve(config.cwd, expandHome(s.modelscope_cache_dir.trim(), env)) : cacheRoot(undefined, env);
  const base = { section, originalPath: s.path, revision } as const;
  const localDir = p ? path.resolve(config.cwd, expandHome(p, env)) : "";

  if (use === false) {
    return { resolved: { ...base, kind: "untouched", reason: "use_modelscope: false" }, problems: [] };
  }
  if (use === true) {
    if (!p) {
      const msg = name && isModelId(name) ? `path is required when use_modelscope is true (did you mean path: "${name}"?)` : "path is required when use_modelscope is true: a ModelScope ID such as qwen/Qwen-7B-Chat";
      const at = "path" in s ? [section, "path"] : [section, "use_modelscope"];
      return { problems: [problemAt(config, at, msg)] };
    }
    // An existing folder wins, as in the Python tool (ModelScope's loaders take a local folder as is).
    if (isDir(localDir)) return { resolved: { ...base, kind: "local", reason: "an existing local folder (it wins over use_modelscope: true)", localPath: localDir }, problems: [] };
    if (looksLocal(p)) return { problems: [problemAt(config, [section, "path"], `local folder ${shown(p)} does not exist`)] };
    if (!isModelId(p)) {
      return { problems: [problemAt(config, [section, "path"], `${shown(p)} is not a ModelScope ID: use the form owner/name, for example qwen/Qwen-7B-Chat`)] };
    }
    return { resolved: { ...base, kind: "modelscope", reason: "use_modelscope: true", modelId: p, cacheDir }, problems: [] };
  }
  // use_modelscope absent: auto-detect.
  if (p) {
    if (isDir(localDir)) return { resolved: { ...base, kind: "local", reason: "an existing local folder", localPath: localDir }, problems: [] };
    if (looksLocal(p)) return { problems: [problemAt(config, [section, "path"], `local folder ${shown(p)} does not exist`)] };
    if (isModelId(p)) return { resolved: { ...base, kind: "modelscope", reason: "auto-detected from path", modelId: p, cacheDir }, problems: [] };
    return { problems: [problemAt(config, [section, "path"], `${shown(p)} is neither an existing folder nor a ModelScope ID (owner/name); set use_modelscope: false to leave it to the Python side`)] };
  }
  if (name && isModelId(name)) {
    return { resolved: { ...base, kind: "modelscope", reason: "auto-detected from name (path is empty)", modelId: name, cacheDir }, problems: [] };
  }
  return { resolved: { ...base, kind: "untouched", reason: "no path, and name is not a ModelScope ID (left to the Python side)" }, problems: [] };
}

/** Classifies every section; problems for all of them at once. */
export function classifyAll(config: Pick<LoadedConfig, "data" | "locate" | "cwd">, sections: readonly SectionName[] = SECTION_NAMES, env?: NodeJS.ProcessEnv): { resolved: ResolvedSection[]; problems: ConfigProblem[] } {
  const resolved: ResolvedSection[] = [];
  const problems: ConfigProblem[] = [];
  for (const s of sections) {
    const c = classifySection(config, s, env);
    problems.push(...c.problems);
    if (c.resolved) resolved.push(c.resolved);
  }
  return { resolved, problems };
}
