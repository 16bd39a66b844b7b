// The hub's repos, read straight from a ModelScope cache folder:
//   ROOT/models/<owner>--<name>/snapshots/<revision>/<path>     (and ROOT/datasets/... the same way)
// so a cache filled by either client can be served as it is. A repo is found only under its canonical id
// (layout.ts), and only inside the root (contained.ts). Hashes are computed once and remembered; a file our
// download engine verified (a mirror's fill, a cache filled by our client) is not read again: the engine's
// record of it (records.ts: size, mtime, sha256, in the repo's .dc-meta) says what it holds.
import fs from "node:fs";
import path from "node:path";
import { loadSummary, summaryPath, type Summary } from "../../download/records.js";
import { META_DIR_NAME } from "../../hub/repo-path.js";
import { hashFile } from "../../util/hash-file.js";
import { Contained, walkContained } from "./contained.js";
import { refOfFolder, typeFolder, type RepoRef, type RepoType } from "./layout.js";

export interface StoredFile {
  path: string;
  /** The real path (links resolved, inside the root). */
  absPath: string;
  size: number;
  mtimeMs: number;
}

/** A repo that exists in the store: its canonical ref and its real folder. */
export interface StoredRepo {
  ref: RepoRef;
  dir: string;
}

/** Leftovers of downloads in progress and tool bookkeeping are never served. */
export function isServable(relPath: string): boolean {
  const parts = relPath.split("/");
  if (parts.some((p) => p.startsWith(".dc-") || p === "._____temp" || p === ".cache")) return false;
  const base = parts[parts.length - 1] ?? "";
  return !(base.endsWith(".incomplete") || base.endsWith(".parallel_tmp") || base.endsWith(".lock"));
}

const SAFE_REVISION = /^[A-Za-z0-9][\w.-]*$/;

export class HubStore {
  private readonly hashes = new Map<string, { size: number; mtimeMs: number; sha256: Promise<string> }>();
  /** The engine's verified records of a revision, by their file, as last read (its size and mtime then). */
  private readonly summaries = new Map<string, { size: number; mtimeMs: number; summary: Summary }>();
  readonly contained: Contained;

  constructor(
    readonly root: string,
    /** A file's sha256 when it is known without reading it (uploaded blobs), else undefined. */
    private readonly knownSha256: (file: StoredFile) => string | undefined = () => undefined,
  ) {
    this.contained = new Contained(root);
  }

  /** The repo's folder when it exists (with a `snapshots` folder) inside the root; otherwise undefined. */
  resolve(ref: RepoRef): StoredRepo | undefined {
    const dir = this.contained.dir(path.join(this.root, typeFolder(ref.type), ref.folder));
    return dir && this.contained.dir(path.join(dir, "snapshots")) ? { ref, dir } : undefined;
  }

  /** Every repo of a type, by canonical id. */
  list(type: RepoType): StoredRepo[] {
    let entries: string[] = [];
    try {
      entries = fs.readdirSync(path.join(this.root, typeFolder(type)));
    } catch {
      return [];
    }
    return entries
      .map((e) => refOfFolder(type, e))
      .map((ref) => ref && this.resolve(ref))
      .filter((r): r is StoredRepo => r !== undefined)
      .sort((a, b) => (a.ref.id < b.ref.id ? -1 : a.ref.id > b.ref.id ? 1 : 0));
  }

  revisions(repo: StoredRepo): { name: string; createdAt: number }[] {
    const snaps = path.join(repo.dir, "snapshots");
    let names: string[];
    try {
      names = fs.readdirSync(snaps);
    } catch {
      return [];
    }
    // Commit folders written by uploads (40 hex) are downloadable by id but are not listed as revisions.
    return names
      .filter((n) => SAFE_REVISION.test(n) && !/^[0-9a-f]{40}$/.test(n))
      .map((name) => ({ name, dir: this.contained.dir(path.join(snaps, name)) }))
      .filter((r): r is { name: string; dir: string } => r.dir !== undefined)
      .map((r) => ({ name: r.name, createdAt: Math.floor(fs.statSync(r.dir).mtimeMs / 1000) }));
  }

  snapshotDir(repo: StoredRepo, revision: string): string | undefined {
    if (!SAFE_REVISION.test(revision)) return undefined;
    return this.contained.dir(path.join(repo.dir, "snapshots", revision));
  }

  /** Every servable file of a revision, sorted by path; `root` limits it to a folder, `recursive: false` to its own files. */
  listFiles(repo: StoredRepo, revision: string, root = "", recursive = true): StoredFile[] | undefined {
    const snap = this.snapshotDir(repo, revision);
    if (!snap) return undefined;
    const prefix = root.replace(/^\/+|\/+$/g, "");
    const under = prefix ? `${prefix}/` : "";
    // Filtered, never joined into a filesystem path, so `Root` cannot point outside the snapshot.
    return walkContained(this.contained, snap, (relPath) => !isServable(relPath))
      .map((f) => ({ path: f.relPath, absPath: f.absPath, size: f.size, mtimeMs: f.mtimeMs }))
      .filter((f) => f.path.startsWith(under) && (recursive || !f.path.slice(under.length).includes("/")));
  }

  file(repo: StoredRepo, revision: string, filePath: string): StoredFile | undefined {
    const parts = filePath.split("/");
    if (!isServable(filePath) || parts.some((p) => p === "" || p === "." || p === "..") || /[\0\\]/.test(filePath)) return undefined;
    const snap = this.snapshotDir(repo, revision);
    const found = snap ? this.contained.file(path.join(snap, ...parts)) : undefined;
    return found && { path: filePath, absPath: found.real, size: found.st.size, mtimeMs: found.st.mtimeMs };
  }

  /**
   * sha256 of a file, computed once per (size, mtime). With the revision it is in (`at`), a record of our
   * download engine that vouches for this very size and mtime gives it without reading the file (hashing
   * a just-filled 1 GiB file took ~0.6 s of the thread that serves every client).
   */
  sha256(file: StoredFile, at?: { repo: StoredRepo; revision: string }): Promise<string> {
    const known = this.hashes.get(file.absPath);
    if (known && known.size === file.size && known.mtimeMs === file.mtimeMs) return known.sha256;
    const blob = this.knownSha256(file);
    if (blob) return Promise.resolve(blob);
    const recorded = at && this.verified(at.repo, at.revision, file);
    // Remembered like a computed one: the next listing of a big repo does not look at the records again.
    const sha256 = recorded ? Promise.resolve(recorded) : hashFile(file.absPath);
    this.hashes.set(file.absPath, { size: file.size, mtimeMs: file.mtimeMs, sha256 });
    sha256.catch(() => this.hashes.delete(file.absPath));
    return sha256;
  }

  /** The sha256 the engine recorded for `file` in `revision` when it verified these very bytes, if it did. */
  private verified(repo: StoredRepo, revision: string, file: StoredFile): string | undefined {
    if (!SAFE_REVISION.test(revision)) return undefined;
    // The revision's bookkeeping folder as the engine lays it out (download/layout.ts), under the real repo folder.
    const records = { root: "", metaDir: path.join(repo.dir, META_DIR_NAME, revision), kind: "cache" } as const;
    const where = summaryPath(records);
    const st = fs.statSync(where, { throwIfNoEntry: false });
    if (!st?.isFile()) return undefined;
    let cached = this.summaries.get(where);
    if (!cached || cached.size !== st.size || cached.mtimeMs !== st.mtimeMs) {
      cached = { size: st.size, mtimeMs: st.mtimeMs, summary: loadSummary(records) };
      this.summaries.set(where, cached);
    }
    const rec = cached.summary.get(file.path);
    return rec && rec.size === file.size && rec.mtimeMs === file.mtimeMs && /^[0-9a-f]{64}$/.test(rec.sha256) ? rec.sha256 : undefined;
  }
}
