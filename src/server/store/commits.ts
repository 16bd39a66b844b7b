// Repos the hub writes: creation, commits and tags, in the layout the read side already serves.
//   ROOT/<models|datasets>/<owner>--<name>/snapshots/<commit id>/...   one folder per commit, never changed
//                                          snapshots/<branch or tag> -> <commit id>   (a symlink)
//                                          .dc-commits/<id>.json, .dc-refs.json        (metadata)
// A commit builds its whole tree in a temp folder (hard links to blobs and to the parent's files), renames
// it to its id, then swaps the branch's symlink with one rename: a reader sees the old tree or the new one,
// never a mix; earlier commits stay downloadable by id. Anything failing before the swap changes nothing.
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { unsafePathReason } from "../../hub/repo-path.js";
import { walkFiles } from "../../util/walk.js";
import { BlobError, OID, type BlobStore } from "./blobs.js";
import { typeFolder, type RepoRef } from "./layout.js";
import { isServable, type StoredRepo } from "./repo-store.js";

export const COMMIT_ID = /^[0-9a-f]{40}$/;
const SAFE_SEGMENT = /^[A-Za-z0-9][\w.-]*$/;
const ON_BRANCH_ONLY = "You can only create or edit files when you are on a branch";

export interface TreeEntry {
  absPath: string;
  size: number;
  /** Known when the entry came from a blob; else computed on demand. */
  sha256?: string;
}

export type Action =
  | { action: "create"; path: string; oid: string; size: number }
  | { action: "create"; path: string; content: Buffer }
  | { action: "delete"; path: string };

export interface CommitInfo {
  id: string;
  parent: string | null;
  message: string;
  description: string;
  author: string;
  createdAt: number;
  branch: string;
  filesChanged: number;
}

export class CommitError extends BlobError {}

/** Why a repo path may not be written, or undefined. Names the read side never serves are refused too. */
export function badRepoPath(p: unknown): string | undefined {
  if (typeof p !== "string") return "path must be a string";
  const reason = unsafePathReason(p);
  if (reason) return reason;
  if (/[\x00-\x1f\x7f]/.test(p)) return "control character";
  if (!isServable(p)) return "reserved name";
  return undefined;
}

export class RepoWriter {
  /** One commit at a time per repo in this process. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    readonly root: string,
    readonly blobs: BlobStore,
  ) {}

  /** The existing repo whose folder matches case-insensitively (names are unique regardless of case), if any. */
  existingFolder(ref: RepoRef): string | undefined {
    const want = ref.folder.toLowerCase();
    let names: string[] = [];
    try {
      names = fs.readdirSync(path.join(this.root, typeFolder(ref.type)));
    } catch {
      return undefined;
    }
    return names.find((n) => n.toLowerCase() === want && fs.statSync(path.join(this.root, typeFolder(ref.type), n, "snapshots"), { throwIfNoEntry: false })?.isDirectory());
  }

  /** Creates an empty repo: one empty commit on `master`. Throws (EEXIST/ENOTEMPTY) if the folder appeared meanwhile. */
  create(ref: RepoRef, meta: Record<string, unknown>): void {
    const parent = path.join(this.root, typeFolder(ref.type));
    fs.mkdirSync(parent, { recursive: true });
    const tmp = path.join(parent, `.dc-new-${randomBytes(6).toString("hex")}`);
    try {
      fs.mkdirSync(path.join(tmp, "snapshots"), { recursive: true });
      const id = commitId(null, "", "Initial commit");
      fs.mkdirSync(path.join(tmp, "snapshots", id));
      fs.symlinkSync(id, path.join(tmp, "snapshots", "master"));
      writeJson(path.join(tmp, ".dc-repo.json"), { ...meta, createdAt: Math.floor(Date.now() / 1000) });
      writeJson(path.join(tmp, ".dc-commits", `${id}.json`), info(id, null, "Initial commit", "", String(meta.creator ?? ""), "master", 0));
      fs.renameSync(tmp, path.join(parent, ref.folder)); // fails if it appeared meanwhile: never two repos under one name
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  /** The commit id a branch, tag or id points to, or undefined. */
  resolve(repo: StoredRepo, ref: string): string | undefined {
    const snaps = path.join(repo.dir, "snapshots");
    if (!SAFE_SEGMENT.test(ref)) return undefined;
    const p = path.join(snaps, ref);
    const st = fs.lstatSync(p, { throwIfNoEntry: false });
    if (!st) return undefined;
    if (st.isSymbolicLink()) return path.basename(fs.readlinkSync(p));
    return st.isDirectory() ? ref : undefined;
  }

  /** Runs `fn` after every earlier write to the same repo has finished (in this process, then across processes). */
  private serialize<T>(key: string, fn: () => Promise<T> | T): Promise<T> {
    const prev = this.queues.get(key) ?? Promise.resolve();
    const locked = () => withRepoLock(key, fn);
    const next = prev.then(locked, locked);
    const tail = next.catch(() => undefined);
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return next;
  }

  /** Applies the actions on top of `branch` in one atomic step; validates everything first. */
  commit(repo: StoredRepo, r: { branch: string; message: string; description: string; author: string; actions: Action[]; sha256Of: (e: TreeEntry) => Promise<string> }): Promise<{ id: string; noop: boolean; info: CommitInfo }> {
    return this.serialize(repo.dir, () => this.commitNow(repo, r));
  }

  private async commitNow(repo: StoredRepo, r: { branch: string; message: string; description: string; author: string; actions: Action[]; sha256Of: (e: TreeEntry) => Promise<string> }) {
    const dir = repo.dir;
    const snaps = path.join(dir, "snapshots");
    const tags = tagsOf(dir);
    if (!SAFE_SEGMENT.test(r.branch) || COMMIT_ID.test(r.branch) || Object.hasOwn(tags, r.branch)) throw new CommitError(400, ON_BRANCH_ONLY);
    const branchPath = path.join(snaps, r.branch);
    const parent = this.resolve(repo, r.branch);
    if (parent === undefined && hasBranches(snaps, tags)) throw new CommitError(400, `${ON_BRANCH_ONLY} (no branch '${r.branch}')`);
    const parentDir = parent ? path.join(snaps, parent) : undefined;

    // The base tree, then every action checked against it before anything is written.
    const tree = new Map<string, TreeEntry>();
    if (parentDir) for (const f of walkFiles(parentDir, { skip: (rel) => !isServable(rel) })) tree.set(f.relPath, { absPath: f.absPath, size: f.size });
    const seen = new Set<string>();
    for (const a of r.actions) {
      const bad = badRepoPath(a.path);
      if (bad) throw new CommitError(400, `invalid commit action: path ${JSON.stringify(a.path)} (${bad})`);
      if (seen.has(a.path)) throw new CommitError(400, `invalid commit action: ${a.path} appears twice`);
      seen.add(a.path);
      if (a.action === "delete") {
        if (!tree.has(a.path)) throw new CommitError(400, `cannot delete ${a.path}: it does not exist on ${r.branch}`);
      } else if ("oid" in a) {
        if (!OID.test(a.oid)) throw new CommitError(400, `invalid commit action: bad sha256 for ${a.path}`);
        const size = this.blobs.size(a.oid);
        if (size === undefined) throw new CommitError(400, `blob ${a.oid} for ${a.path} was never uploaded`);
        if (size !== a.size) throw new CommitError(400, `blob ${a.oid} for ${a.path} has ${size} bytes, not ${a.size}`);
      }
    }
    const next = new Map(tree);
    let changed = 0;
    for (const a of r.actions) {
      if (a.action === "delete") {
        next.delete(a.path);
        changed++;
        continue;
      }
      const entry: TreeEntry = "oid" in a ? { absPath: this.blobs.path(a.oid), size: a.size, sha256: a.oid } : { absPath: "", size: a.content.length, sha256: sha256(a.content) };
      const old = tree.get(a.path);
      if (old && old.size === entry.size && (await r.sha256Of(old)) === entry.sha256) continue; // same bytes: not a change
      next.set(a.path, entry);
      changed++;
    }
    const paths = [...next.keys()].sort();
    for (let i = 1; i < paths.length; i++) {
      if (paths[i]!.startsWith(`${paths[i - 1]}/`)) throw new CommitError(400, `invalid commit action: ${paths[i - 1]} is both a file and a folder`);
    }
    if (changed === 0 && parent) {
      return { id: parent, noop: true, info: this.info(dir, parent, r.branch) };
    }

    // Write: inline contents become blobs, the tree is linked into a temp folder, renamed to its id.
    for (const a of r.actions) if (a.action === "create" && "content" in a) next.get(a.path)!.absPath = this.blobs.path(this.blobs.storeBytes(a.content));
    const tmp = path.join(snaps, `.dc-tmp-${randomBytes(6).toString("hex")}`);
    const id = commitId(parent ?? null, paths.map((p) => `${p}\0${next.get(p)!.absPath}\0${next.get(p)!.size}`).join("\n"), r.message);
    try {
      fs.mkdirSync(tmp);
      for (const p of paths) {
        const dest = path.join(tmp, ...p.split("/"));
        fs.mkdirSync(path.dirname(dest), { recursive: true });
        linkOrCopy(next.get(p)!.absPath, dest);
      }
      fs.renameSync(tmp, path.join(snaps, id));
      const meta = info(id, parent ?? null, r.message, r.description, r.author, r.branch, changed);
      writeJson(path.join(dir, ".dc-commits", `${id}.json`), meta);
      swapLink(snaps, r.branch, id, branchPath);
      return { id, noop: false, info: meta };
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw err;
    }
  }

  info(dir: string, id: string, branch: string): CommitInfo {
    try {
      return JSON.parse(fs.readFileSync(path.join(dir, ".dc-commits", `${id}.json`), "utf8")) as CommitInfo;
    } catch {
      return info(id, null, "", "", "", branch, 0);
    }
  }

  /** Points a new tag at what `ref` resolves to. Tags never move. */
  tag(repo: StoredRepo, tag: string, ref: string): Promise<string> {
    return this.serialize(repo.dir, () => {
      const dir = repo.dir;
      const snaps = path.join(dir, "snapshots");
      if (!SAFE_SEGMENT.test(tag) || COMMIT_ID.test(tag)) throw new CommitError(400, `invalid tag name ${JSON.stringify(tag)}`);
      if (fs.lstatSync(path.join(snaps, tag), { throwIfNoEntry: false })) throw new CommitError(400, `tag or branch ${tag} already exists`);
      const target = this.resolve(repo, ref);
      if (!target) throw new CommitError(400, `revision ${ref} does not exist`);
      const tags = tagsOf(dir);
      // A hand-seeded branch folder is pinned under an id first, so the tag never moves with the branch.
      const id = COMMIT_ID.test(target) ? target : pinFolder(snaps, target);
      tags[tag] = id;
      writeJson(path.join(dir, ".dc-refs.json"), { tags });
      fs.symlinkSync(id, path.join(snaps, tag));
      return id;
    });
  }
}

/** Tag name -> commit id, for a repo folder (tags made through the API; the read side lists them as tags). */
export function tagsOf(repoDir: string): Record<string, string> {
  try {
    const refs = JSON.parse(fs.readFileSync(path.join(repoDir, ".dc-refs.json"), "utf8")) as { tags?: unknown };
    return refs.tags && typeof refs.tags === "object" ? (refs.tags as Record<string, string>) : {};
  } catch {
    return {};
  }
}

const LOCK_STALE_MS = 10 * 60 * 1000;

/**
 * Other `serve` processes on the same root (a shared file system) take turns through a lock file in the
 * repo folder, made with O_EXCL; one left by a crashed process is taken over once it is stale.
 */
async function withRepoLock<T>(repoDir: string, fn: () => Promise<T> | T): Promise<T> {
  const lock = path.join(repoDir, ".dc-write.lock");
  for (let waited = 0; ; waited += 20) {
    try {
      fs.closeSync(fs.openSync(lock, "wx"));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const st = fs.statSync(lock, { throwIfNoEntry: false });
      if (st && Date.now() - st.mtimeMs > LOCK_STALE_MS) fs.rmSync(lock, { force: true });
      if (waited > LOCK_STALE_MS) throw new CommitError(503, "Could not update refs: the repository is busy, try again");
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

function hasBranches(snaps: string, tags: Record<string, string>): boolean {
  try {
    return fs.readdirSync(snaps).some((n) => !n.startsWith(".") && !COMMIT_ID.test(n) && !(n in tags));
  } catch {
    return false;
  }
}

/** Replaces `snapshots/<branch>` by a symlink to `id` in one rename. */
function swapLink(snaps: string, branch: string, id: string, branchPath: string): void {
  if (fs.lstatSync(branchPath, { throwIfNoEntry: false })?.isDirectory()) pinFolder(snaps, branch);
  const link = path.join(snaps, `.dc-link-${randomBytes(6).toString("hex")}`);
  fs.symlinkSync(id, link);
  fs.renameSync(link, branchPath);
}

/**
 * A branch that is a real folder (seeded by hand) becomes a commit of its own: the folder is renamed to an
 * id and the branch becomes a link to it. (Between the two renames the branch is briefly missing.)
 */
function pinFolder(snaps: string, name: string): string {
  const id = commitId(null, `seed:${name}`, "seed");
  fs.renameSync(path.join(snaps, name), path.join(snaps, id));
  fs.symlinkSync(id, path.join(snaps, name));
  return id;
}

function linkOrCopy(src: string, dest: string): void {
  try {
    fs.linkSync(src, dest);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOSPC" || code === "EDQUOT") throw err;
    fs.copyFileSync(src, dest);
  }
}

function commitId(parent: string | null, tree: string, message: string): string {
  return createHash("sha1").update(`${parent ?? ""}\n${tree}\n${message}\n${Date.now()}\n${randomBytes(8).toString("hex")}`).digest("hex");
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function info(id: string, parent: string | null, message: string, description: string, author: string, branch: string, filesChanged: number): CommitInfo {
  return { id, parent, message, description, author, createdAt: Math.floor(Date.now() / 1000), branch, filesChanged };
}

function writeJson(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value));
  fs.renameSync(tmp, file);
}
