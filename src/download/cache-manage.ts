// What `modelscope cache ls | rm | verify | prune` do, as library functions over a cache folder.
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { UsageError, assertModelId } from "../errors.js";
import { HubApi } from "../hub/api.js";
import { DEFAULT_REVISION, cacheRoot as defaultCacheRoot } from "../settings.js";
import { listOnDisk } from "./engine.js";
import { INCOMPLETE_SUFFIX, META_DIR_NAME, PARALLEL_STATE_SUFFIX, PARALLEL_SUFFIX, assertSafeRevision, cacheRepoDir, legacyRepoDir, localPathOf, lockPathFor, resolveTarget, snapshotDir, type Target } from "./layout.js";
import { isStaleLock } from "./lock.js";
import { hashFile } from "../util/hash-file.js";
import { walkFiles } from "../util/walk.js";
import { loadSummary, summaryPath, updateSummary, type Summary } from "./records.js";
import { repoTypeSegment, type RepoFile, type RepoType } from "../hub/types.js";

export interface CachedRevision {
  revision: string;
  path: string;
  files: number;
  bytes: number;
}

export interface CachedModel {
  modelId: string;
  repoType: RepoType;
  layout: "standard" | "legacy";
  path: string;
  revisions: CachedRevision[];
  bytes: number;
}

function dirs(p: string): string[] {
  try {
    return fs
      .readdirSync(p, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith("."))
      .map((d) => d.name);
  } catch {
    return [];
  }
}

function revisionInfo(revision: string, dir: string): CachedRevision {
  const files = listOnDisk(dir);
  return { revision, path: dir, files: files.length, bytes: files.reduce((a, f) => a + f.size, 0) };
}

/** Every model and dataset in the cache: the standard layout and the official client's legacy folders. */
export function scanCache(root: string): CachedModel[] {
  const out: CachedModel[] = [];
  for (const repoType of ["model", "dataset"] as const) {
    const top = path.join(root, repoTypeSegment(repoType));
    for (const name of dirs(top)) {
      if (name.includes("--")) {
        const repo = path.join(top, name);
        const revisions = dirs(path.join(repo, "snapshots")).map((r) => revisionInfo(r, path.join(repo, "snapshots", r)));
        out.push({ modelId: name.replace("--", "/"), repoType, layout: "standard", path: repo, revisions, bytes: revisions.reduce((a, r) => a + r.bytes, 0) });
      }
    }
    // The flat {cache}/hub/{owner}/{name} layout only ever held models.
    const legacyBases = [top, path.join(root, "hub", repoTypeSegment(repoType)), ...(repoType === "model" ? [path.join(root, "hub")] : [])];
    for (const base of legacyBases) {
      for (const owner of dirs(base)) {
        if (owner.includes("--") || owner === "models" || owner === "datasets") continue;
        for (const name of dirs(path.join(base, owner))) {
          const dir = path.join(base, owner, name);
          const rev = revisionInfo("(legacy)", dir);
          if (rev.files === 0) continue;
          out.push({ modelId: `${owner}/${name.replace(/___/g, ".")}`, repoType, layout: "legacy", path: dir, revisions: [rev], bytes: rev.bytes });
        }
      }
    }
  }
  return out.sort((a, b) => (a.modelId < b.modelId ? -1 : a.modelId > b.modelId ? 1 : a.repoType < b.repoType ? 1 : -1));
}

async function du(p: string): Promise<number> {
  let total = 0;
  const st = await fsp.lstat(p).catch(() => undefined);
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  for (const e of await fsp.readdir(p)) total += await du(path.join(p, e));
  return total;
}

/** Removes a model or dataset (every layout) or one revision of it. Returns the bytes freed and what was removed. */
export async function removeFromCache(root: string, modelId: string, revision?: string, repoType: RepoType = "model"): Promise<{ bytes: number; removed: string[] }> {
  assertModelId(modelId);
  const targets: string[] = [];
  const segment = repoTypeSegment(repoType);
  if (revision) {
    assertSafeRevision(revision);
    targets.push(snapshotDir(root, modelId, revision, repoType), path.join(cacheRepoDir(root, modelId, repoType), META_DIR_NAME, ...revision.split("/")));
  } else {
    const [owner, name] = modelId.split("/") as [string, string];
    targets.push(cacheRepoDir(root, modelId, repoType));
    for (const n of new Set([name, name.replace(/\./g, "___")])) {
      targets.push(path.join(root, segment, owner, n), path.join(root, "hub", segment, owner, n));
      if (repoType === "model") targets.push(path.join(root, "hub", owner, n), path.join(root, owner, n));
    }
  }
  let bytes = 0;
  const removed: string[] = [];
  for (const t of targets) {
    if (!fs.existsSync(t)) continue;
    bytes += await du(t);
    await fsp.rm(t, { recursive: true, force: true });
    removed.push(t);
  }
  return { bytes, removed };
}

export interface VerifyReport {
  modelId: string;
  revision: string;
  path: string;
  ok: string[];
  mismatched: string[];
  missing: string[];
  /** The hub gives no sha256 for these: only their size was checked. */
  unverified: string[];
  /** What is wrong with each mismatched file. */
  problems: Record<string, string>;
}

/** Re-hashes every cached file of a revision against the hub's listing (the one place that re-hashes). */
export async function verifyCache(modelId: string, opts: { revision?: string; cacheDir?: string; localDir?: string; api?: HubApi; signal?: AbortSignal; repoType?: RepoType } = {}): Promise<VerifyReport> {
  assertModelId(modelId);
  const api = opts.api ?? new HubApi();
  const revision = opts.revision?.trim() || DEFAULT_REVISION;
  assertSafeRevision(revision);
  const root = defaultCacheRoot(opts.cacheDir, api.env);
  const target = resolveTarget(root, modelId, revision, opts.localDir, opts.repoType);
  if (!fs.existsSync(target.root)) {
    const scope = `${modelId}${revision !== DEFAULT_REVISION ? ` at revision '${revision}'` : ""}`;
    throw new UsageError(`${scope} is not in the cache (${target.root})`, "download it first with `modelscope download`", { key: "notInCache", vars: { id: modelId, revision, path: target.root } });
  }
  const listing = await api.listFiles(modelId, { revision, signal: opts.signal, repoType: opts.repoType });
  const report: VerifyReport = { modelId, revision, path: target.root, ok: [], mismatched: [], missing: [], unverified: [], problems: {} };
  const checked: Summary = new Map();
  try {
    await verifyFiles(listing, target, report, checked, opts.signal);
  } finally {
    // What was hashed so far is recorded, and a mismatch is no longer vouched for, even after Ctrl-C.
    updateSummary(target, checked, report.mismatched);
  }
  return report;
}

async function verifyFiles(listing: RepoFile[], target: Target, report: VerifyReport, checked: Summary, signal: AbortSignal | undefined): Promise<void> {
  for (const f of listing) {
    const local = localPathOf(target, f.path);
    const st = await fsp.stat(local).catch(() => undefined);
    if (!st?.isFile()) {
      report.missing.push(f.path);
      continue;
    }
    const sha = st.size === f.size ? await hashFile(local, signal) : "";
    if (st.size !== f.size || (f.sha256 !== null && sha !== f.sha256)) {
      report.mismatched.push(f.path);
      report.problems[f.path] = st.size !== f.size ? `${st.size} bytes, the hub says ${f.size}` : "sha256 differs from the hub's";
      continue;
    }
    checked.set(f.path, { size: st.size, mtimeMs: st.mtimeMs, sha256: sha });
    (f.sha256 === null ? report.unverified : report.ok).push(f.path);
  }
}

export interface PruneReport {
  /** Partial downloads removed (not those a running download holds). */
  partials: string[];
  staleLocks: string[];
  orphanRecords: string[];
  /** Disk space given back: allocated blocks, not file sizes. */
  bytes: number;
}

/** Drops the summary entries of files that are gone or changed since (they vouch for nothing). */
function pruneSummary(target: Target, removed: string[], dryRun: boolean | undefined): void {
  const stale: string[] = [];
  for (const [repoPath, rec] of loadSummary(target)) {
    const st = fs.statSync(localPathOf(target, repoPath), { throwIfNoEntry: false });
    if (!st?.isFile() || st.size !== rec.size || st.mtimeMs !== rec.mtimeMs) stale.push(repoPath);
  }
  for (const p of stale) removed.push(`${summaryPath(target)} [${p}]`);
  if (stale.length > 0 && !dryRun) updateSummary(target, new Map(), stale);
}

/** Absolute paths of every file below a folder. */
function filesUnder(dir: string): string[] {
  return walkFiles(dir).map((f) => f.absPath);
}

/** Cleans leftovers of interrupted downloads: partial files, stale locks, records of files that are gone. */
export async function pruneCache(root: string, opts: { dryRun?: boolean } = {}): Promise<PruneReport> {
  const report: PruneReport = { partials: [], staleLocks: [], orphanRecords: [], bytes: 0 };
  const rm = async (p: string, list: string[]) => {
    const st = await fsp.stat(p).catch(() => undefined);
    // What the disk gets back: a partial file holds space reserved past its end, a range file has holes.
    report.bytes += st ? (Number.isFinite(st.blocks) ? st.blocks * 512 : st.size) : 0;
    list.push(p);
    if (!opts.dryRun) await fsp.rm(p, { force: true });
  };
  for (const model of scanCache(root)) {
    const folders = model.layout === "standard" ? model.revisions.map((r) => r.path) : [model.path];
    for (const folder of folders) {
      for (const f of filesUnder(folder)) {
        const suffix = [PARALLEL_STATE_SUFFIX, INCOMPLETE_SUFFIX, PARALLEL_SUFFIX].find((s) => f.endsWith(s));
        if (!suffix) continue;
        const finalPath = f.slice(0, -suffix.length);
        const lock = lockPathFor(root, finalPath);
        if (fs.existsSync(lock) && !(await isStaleLock(lock))) continue; // a download is running on it
        await rm(f, report.partials);
      }
    }
    if (model.layout === "standard") {
      const metaRoot = path.join(model.path, META_DIR_NAME);
      for (const file of filesUnder(metaRoot)) {
        if (!/[\\/](listing|verified-summary)\.json$/.test(file)) continue;
        const revision = path.relative(metaRoot, path.dirname(file)).split(path.sep).join("/");
        const target = { root: snapshotDir(root, model.modelId, revision, model.repoType), metaDir: path.dirname(file), kind: "cache" as const };
        // A revision whose snapshot folder is gone (removed by hand) loses its saved listing and summary;
        // otherwise the summary loses the entries of files that are gone or changed.
        if (!fs.existsSync(target.root)) await rm(file, report.orphanRecords);
        else if (file === summaryPath(target)) pruneSummary(target, report.orphanRecords, opts.dryRun);
      }
    }
  }
  const lockDir = path.join(root, ".lock");
  for (const name of fs.existsSync(lockDir) ? fs.readdirSync(lockDir) : []) {
    const p = path.join(lockDir, name);
    if (!name.startsWith("dc-")) continue;
    if (/\.stale-/.test(name) || (name.endsWith(".lock") && (await isStaleLock(p)))) await rm(p, report.staleLocks);
  }
  return report;
}

export { legacyRepoDir };
