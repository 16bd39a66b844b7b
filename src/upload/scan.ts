// Step 1: which local files go where in the repo. Dotfiles are included (as the official client), `.git`
// and `.cache` folders never; symlinks are followed only to files inside the folder being uploaded.
import fs from "node:fs";
import path from "node:path";
import { PathFilter } from "../download/filters.js";
import { UsageError } from "../errors.js";
import { unsafePathReason } from "../hub/repo-path.js";

export interface LocalFile {
  absPath: string;
  /** Where it goes in the repo. */
  path: string;
  size: number;
  mtimeMs: number;
  ino: number;
}

const ALWAYS_SKIPPED = new Set([".git", ".cache", ".ms_upload_cache", ".ms_upload_progress"]);

/** `path_in_repo` as a clean prefix: "" for the root, else "a/b/" (refusing `..` and the like). */
export function repoPrefix(pathInRepo: string | undefined): string {
  const p = (pathInRepo ?? "").replace(/\\/g, "/").replace(/^\/+|\/+$/g, "").replace(/^(\.\/)+/, "");
  if (p === "" || p === ".") return "";
  const reason = unsafePathReason(p);
  if (reason) throw new UsageError(`Invalid path in the repo '${pathInRepo}' (${reason})`, "use a plain relative folder such as weights/ or nothing for the root", { key: "badPathInRepo", vars: { path: String(pathInRepo) } });
  return `${p}/`;
}

export function scanFolder(folder: string, opts: { prefix: string; include?: string | string[] | undefined; exclude?: string | string[] | undefined }): LocalFile[] {
  const root = fs.realpathSync(folder);
  const filter = new PathFilter(opts.include, opts.exclude);
  const out: LocalFile[] = [];
  const walk = (dirAbs: string, rel: string, depth: number) => {
    for (const name of fs.readdirSync(dirAbs).sort()) {
      if (ALWAYS_SKIPPED.has(name)) continue;
      const relPath = rel ? `${rel}/${name}` : name;
      const abs = path.join(dirAbs, name);
      const st = fs.statSync(abs, { throwIfNoEntry: false });
      if (!st) continue;
      const lst = fs.lstatSync(abs);
      if (lst.isSymbolicLink()) {
        // A link out of the folder would publish a file the user did not put there.
        const real = fs.realpathSync(abs);
        if (real !== root && !real.startsWith(root + path.sep)) continue;
      }
      if (st.isDirectory()) {
        if (depth < 64) walk(abs, relPath, depth + 1);
      } else if (st.isFile()) {
        const repoPath = opts.prefix + relPath;
        if (!filter.matches(relPath)) continue; // patterns are relative to the folder, as the official client
        if (unsafePathReason(repoPath) || /[\x00-\x1f\x7f]/.test(repoPath)) {
          throw new UsageError(`Cannot upload '${relPath}': its name has characters a repo path cannot hold`, "rename the file, or leave it out with --exclude", { key: "badLocalName", vars: { path: JSON.stringify(relPath) } });
        }
        out.push({ absPath: abs, path: repoPath, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino });
      }
    }
  };
  walk(root, "", 0);
  return out;
}

export function statFile(absPath: string, repoPath: string): LocalFile {
  const st = fs.statSync(absPath);
  if (!st.isFile()) throw new UsageError(`${absPath} is not a file`, "give a file or a folder to upload", { key: "notAFile", vars: { path: absPath } });
  const reason = unsafePathReason(repoPath);
  if (reason) throw new UsageError(`Invalid path in the repo '${repoPath}' (${reason})`, "use a plain relative path such as weights/model.bin", { key: "badPathInRepo", vars: { path: repoPath } });
  return { absPath, path: repoPath, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
}
