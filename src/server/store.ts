// The hub's models, read straight from a ModelScope cache folder:
//   ROOT/models/<owner>--<name>/snapshots/<revision>/<path>
// so a cache filled by either client can be served as it is. Hashes are computed once and remembered.
import fs from "node:fs";
import path from "node:path";
import { hashFile } from "../util/hash-file.js";
import { walkFiles } from "../util/walk.js";

export interface StoredFile {
  path: string;
  absPath: string;
  size: number;
  mtimeMs: number;
}

/** Leftovers of downloads in progress and tool bookkeeping are never served. */
export function isServable(relPath: string): boolean {
  const parts = relPath.split("/");
  if (parts.some((p) => p.startsWith(".dc-") || p === "._____temp" || p === ".cache")) return false;
  const base = parts[parts.length - 1] ?? "";
  return !(base.endsWith(".incomplete") || base.endsWith(".parallel_tmp") || base.endsWith(".lock"));
}

const SAFE_SEGMENT = /^[A-Za-z0-9][\w.-]*$/;

export class HubStore {
  private readonly hashes = new Map<string, { size: number; mtimeMs: number; sha256: Promise<string> }>();

  constructor(
    readonly root: string,
    /** A file's sha256 when it is already known without reading it (uploaded blobs), else undefined. */
    private readonly knownSha256: (file: StoredFile) => string | undefined = () => undefined,
  ) {}

  /** The model's folder, or undefined when it does not exist. Refuses anything that is not owner/name. */
  modelDir(modelId: string): string | undefined {
    const [owner, name, ...rest] = modelId.split("/");
    if (!owner || !name || rest.length || !SAFE_SEGMENT.test(owner) || !SAFE_SEGMENT.test(name)) return undefined;
    const dir = path.join(this.root, "models", `${owner}--${name}`);
    return isDir(path.join(dir, "snapshots")) ? dir : undefined;
  }

  listModels(): string[] {
    let entries: string[] = [];
    try {
      entries = fs.readdirSync(path.join(this.root, "models"));
    } catch {
      return [];
    }
    return entries
      .filter((e) => e.includes("--"))
      .map((e) => e.replace("--", "/"))
      .filter((id) => this.modelDir(id) !== undefined)
      .sort();
  }

  revisions(modelId: string): { name: string; createdAt: number }[] {
    const dir = this.modelDir(modelId);
    if (!dir) return [];
    return fs
      .readdirSync(path.join(dir, "snapshots"), { withFileTypes: true })
      // Branches and tags written by uploads are symlinks to commit folders; the commit folders themselves
      // (40 hex) are downloadable by id but are not listed as revisions.
      .filter((d) => (d.isDirectory() || (d.isSymbolicLink() && isDir(path.join(dir, "snapshots", d.name)))) && !d.name.startsWith(".") && !/^[0-9a-f]{40}$/.test(d.name))
      .map((d) => ({ name: d.name, createdAt: Math.floor(fs.statSync(path.join(dir, "snapshots", d.name)).mtimeMs / 1000) }));
  }

  snapshotDir(modelId: string, revision: string): string | undefined {
    const dir = this.modelDir(modelId);
    if (!dir || !SAFE_SEGMENT.test(revision)) return undefined;
    const snap = path.join(dir, "snapshots", revision);
    return isDir(snap) ? snap : undefined;
  }

  /** Every servable file of a revision, sorted by path; `root` limits it to a folder, `recursive: false` to its own files. */
  listFiles(modelId: string, revision: string, root = "", recursive = true): StoredFile[] | undefined {
    const snap = this.snapshotDir(modelId, revision);
    if (!snap) return undefined;
    const prefix = root.replace(/^\/+|\/+$/g, "");
    const under = prefix ? `${prefix}/` : "";
    // Filtered, never joined into a filesystem path, so `Root` cannot point outside the snapshot.
    return walkFiles(snap, { skip: (relPath) => !isServable(relPath) })
      .map((f) => ({ path: f.relPath, absPath: f.absPath, size: f.size, mtimeMs: f.mtimeMs }))
      .filter((f) => f.path.startsWith(under) && (recursive || !f.path.slice(under.length).includes("/")));
  }

  file(modelId: string, revision: string, filePath: string): StoredFile | undefined {
    const snap = this.snapshotDir(modelId, revision);
    if (!snap || !isServable(filePath)) return undefined;
    const parts = filePath.split("/");
    if (parts.some((p) => p === "" || p === "." || p === "..") || filePath.includes("\0") || filePath.includes("\\")) return undefined;
    const abs = path.join(snap, ...parts);
    const st = fs.statSync(abs, { throwIfNoEntry: false });
    return st?.isFile() ? { path: filePath, absPath: abs, size: st.size, mtimeMs: st.mtimeMs } : undefined;
  }

  /** sha256 of a file, computed once per (size, mtime). */
  sha256(file: StoredFile): Promise<string> {
    const known = this.hashes.get(file.absPath);
    if (known && known.size === file.size && known.mtimeMs === file.mtimeMs) return known.sha256;
    const stored = this.knownSha256(file);
    if (stored) return Promise.resolve(stored);
    const sha256 = hashFile(file.absPath);
    this.hashes.set(file.absPath, { size: file.size, mtimeMs: file.mtimeMs, sha256 });
    sha256.catch(() => this.hashes.delete(file.absPath));
    return sha256;
  }
}

function isDir(p: string): boolean {
  return fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;
}
