// Which files make up a config, exactly as the Python DeepCompressor's omniconfig picks them: an argument
// whose name ends in yaml, yml or toml (lower case) is a config, any other file is an import list (one
// config path a line, relative to the working folder, its configs placed before the positional ones);
// then the first of `__default__.yaml|.yml|.toml` in every folder from the first one below the working
// folder down to each config's own folder, outermost first, deduplicated. All defaults merge before all
// configs; later files win. Where omniconfig would stop on an assertion, this is a problem instead.
import fs from "node:fs";
import path from "node:path";
import type { ConfigProblem } from "../errors.js";

const CONFIG_EXTS = ["yaml", "yml", "toml"];
const DEFAULT_NAMES = CONFIG_EXTS.map((e) => `__default__.${e}`);

export interface ConfigFileSet {
  configFiles: string[];
  defaultFiles: string[];
  problems: ConfigProblem[];
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** omniconfig's test (`path.endswith(("yaml", "yml", "toml"))`: lower case, no dot needed). */
export function isConfigName(p: string): boolean {
  return CONFIG_EXTS.some((e) => p.endsWith(e));
}

function upperCaseExt(p: string): boolean {
  return !isConfigName(p) && /\.(ya?ml|toml)$/i.test(p);
}

/** Where omniconfig refuses a config: outside the working folder, or directly in it. */
export function placementProblem(file: string, cwd: string): string | undefined {
  const rel = path.relative(cwd, file);
  if (rel.startsWith("..") || path.isAbsolute(rel)) return "is outside the working folder, where the Python DeepCompressor does not read configs: run from a folder above it, or move it into a subfolder of this one";
  if (!rel.includes(path.sep)) return "is directly in the working folder, where the Python DeepCompressor does not read configs: move it into a subfolder (for example configs/)";
  return undefined;
}

/** Reads an import list as omniconfig does: every line, stripped, is a config path from the working folder. */
function readImportList(listFile: string, shown: string, cwd: string, problems: ConfigProblem[]): string[] {
  const out: string[] = [];
  const text = fs.readFileSync(listFile, "utf8");
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop(); // the newline that ends the last line
  lines.forEach((raw, i) => {
    const entry = raw.trim();
    const at = { file: shown, line: i + 1, column: 1 };
    if (!entry) return problems.push({ ...at, message: "a blank line in an import list stops the Python DeepCompressor: remove it" });
    if (entry.startsWith("#")) return problems.push({ ...at, message: "an import list has no comments (the Python DeepCompressor reads every line as a path): remove the line" });
    const abs = path.resolve(cwd, entry);
    if (!isFile(abs)) {
      const besideList = path.resolve(path.dirname(listFile), entry);
      const hint = !path.isAbsolute(entry) && isFile(besideList) ? ` (paths are relative to the working folder: write '${path.relative(cwd, besideList)}')` : "";
      return problems.push({ ...at, message: `listed config '${entry}' is not a file${hint}` });
    }
    if (!isConfigName(entry)) return problems.push({ ...at, message: `listed file '${entry}' is not a config (.yaml, .yml or .toml)` });
    out.push(abs);
  });
  return out;
}

/** The folders whose `__default__` files apply to `file` (inside the working folder), outermost first. */
export function cascadeFolders(file: string, cwd: string): string[] {
  const parts = path.relative(cwd, path.dirname(file)).split(path.sep).filter(Boolean);
  return parts.map((_, i) => path.join(cwd, ...parts.slice(0, i + 1)));
}

export function findDefault(dir: string): string | undefined {
  return DEFAULT_NAMES.map((n) => path.join(dir, n)).find(isFile);
}

/** Expands positional/--config arguments into the ordered list of default and config files. */
export function collectConfigFiles(args: readonly string[], cwd: string): ConfigFileSet {
  const problems: ConfigProblem[] = [];
  const imported: string[] = [];
  const direct: string[] = [];
  for (const arg of args) {
    const abs = path.resolve(cwd, arg);
    if (!isFile(abs)) {
      problems.push({ file: arg, message: fs.existsSync(abs) ? "is not a file" : "no such file" });
      continue;
    }
    if (isConfigName(arg)) direct.push(abs);
    else if (upperCaseExt(arg)) problems.push({ file: arg, message: `has an upper-case extension, which the Python DeepCompressor reads as an import list: rename it to ${path.basename(arg).replace(/\.[^.]+$/, (e) => e.toLowerCase())}` });
    else imported.push(...readImportList(abs, arg, cwd, problems));
  }
  const configFiles = [...imported, ...direct];
  for (const f of configFiles) {
    const why = placementProblem(f, cwd);
    if (why) problems.push({ file: path.relative(cwd, f) || f, message: why });
  }
  const defaultFiles: string[] = [];
  for (const file of configFiles) {
    if (placementProblem(file, cwd)) continue;
    for (const dir of cascadeFolders(file, cwd)) {
      // As omniconfig: the first of yaml, yml, toml not taken yet (so a second config in a folder with
      // both __default__.yml and __default__.toml brings in the .toml too).
      const d = DEFAULT_NAMES.map((n) => path.join(dir, n)).find((p) => isFile(p) && !defaultFiles.includes(p));
      if (d) defaultFiles.push(d);
    }
  }
  if (configFiles.length === 0 && problems.length === 0) problems.push({ file: "(command line)", message: "no config file given" });
  return { configFiles, defaultFiles, problems };
}
