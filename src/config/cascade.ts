// Which files make up a config, in the order the Python DeepCompressor (omniconfig) merges them:
// positional files ending in .yaml/.yml are configs, any other file is an import list (one config path a
// line, its configs placed before the positional ones); then every `__default__.yaml` from the first folder
// below the working folder down to each config's own folder, outermost first, deduplicated. All defaults
// are merged before all configs; later files win.
import fs from "node:fs";
import path from "node:path";
import type { ConfigProblem } from "../errors.js";

const CONFIG_EXT = /\.ya?ml$/i;
const DEFAULT_NAMES = ["__default__.yaml", "__default__.yml"];

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

/** Reads an import list: one config path a line (blank lines and `#` comments skipped). */
function readImportList(listFile: string, cwd: string, problems: ConfigProblem[]): string[] {
  const out: string[] = [];
  const lines = fs.readFileSync(listFile, "utf8").split(/\r?\n/);
  lines.forEach((raw, i) => {
    const entry = raw.trim();
    if (!entry || entry.startsWith("#")) return;
    // As omniconfig: relative to the working folder; also accept paths relative to the list itself.
    const candidates = path.isAbsolute(entry) ? [entry] : [path.resolve(cwd, entry), path.resolve(path.dirname(listFile), entry)];
    const found = candidates.find(isFile);
    if (!found) {
      problems.push({ file: listFile, line: i + 1, column: 1, message: `listed config '${entry}' is not a file` });
    } else if (!CONFIG_EXT.test(found)) {
      problems.push({ file: listFile, line: i + 1, column: 1, message: `listed file '${entry}' is not a YAML config (.yaml or .yml)` });
    } else {
      out.push(found);
    }
  });
  return out;
}

/** The folders whose `__default__` files apply to `file`, outermost first. */
function cascadeFolders(file: string, cwd: string): string[] {
  const dir = path.dirname(file);
  const rel = path.relative(cwd, dir);
  const inside = rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
  if (inside) {
    // omniconfig starts at the first folder below the working folder; a file sitting directly in the
    // working folder (which omniconfig refuses) gets that folder's own defaults.
    if (rel === "") return [dir];
    const parts = rel.split(path.sep);
    return parts.map((_, i) => path.join(cwd, ...parts.slice(0, i + 1)));
  }
  // Outside the working folder (which omniconfig refuses): the unbroken chain of folders holding a
  // __default__ file, from the file's folder upwards.
  const chain = [dir];
  let cur = dir;
  for (;;) {
    const parent = path.dirname(cur);
    if (parent === cur || !findDefault(parent)) break;
    chain.unshift(parent);
    cur = parent;
  }
  return chain;
}

function findDefault(dir: string): string | undefined {
  for (const name of DEFAULT_NAMES) {
    const p = path.join(dir, name);
    if (isFile(p)) return p;
  }
  return undefined;
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
    if (CONFIG_EXT.test(abs)) direct.push(abs);
    else if (/\.toml$/i.test(abs)) problems.push({ file: arg, message: "TOML configs are not supported; use YAML" });
    else imported.push(...readImportList(abs, cwd, problems));
  }
  const configFiles = [...imported, ...direct];
  const defaultFiles: string[] = [];
  for (const file of configFiles) {
    for (const dir of cascadeFolders(file, cwd)) {
      const d = findDefault(dir);
      if (d && !defaultFiles.includes(d)) defaultFiles.push(d);
    }
  }
  if (configFiles.length === 0 && problems.length === 0) problems.push({ file: "(command line)", message: "no config file given" });
  return { configFiles, defaultFiles, problems };
}
