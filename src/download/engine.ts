// The download pipeline: list -> filter -> plan (what is already verified) -> fetch in parallel under
// per-file locks -> verify -> commit -> record (in the revision's summary: records.ts). Offline runs make
// no request at all.
import { setMaxListeners } from "node:events";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { AbortedError, AccessDeniedError, DownloadFailedError, IntegrityError, InvalidTokenError, NotFoundError, NotLoggedInError, OfflineCacheMissError, UnsafeLocalFileError, UsageError, assertModelId, localWriteError, LocalWriteError } from "../errors.js";
import { sleep } from "../http/retry-policy.js";
import { HubApi } from "../hub/api.js";
import { unsafePathReason } from "../hub/repo-path.js";
import { REPO_TYPES, type RepoFile, type RepoType } from "../hub/types.js";
import { walkFiles } from "../util/walk.js";
import { assertNoLinkedFolder } from "../util/safe-open.js";
import { warnOnce } from "../util/warn.js";
import { DEFAULT_REVISION, cacheRoot as defaultCacheRoot, downloadSettings, offlineFromEnv } from "../settings.js";
import { PathFilter } from "./filters.js";
import { META_DIR_NAME, assertSafeRevision, isTempName, localPathOf, lockPathFor, resolveTarget, type Target } from "./layout.js";
import { tryLock } from "./lock.js";
import { SummaryWriter, cacheState, loadListing, loadSummary, saveListing, type Summary } from "./records.js";
import type { DownloadOptions, FileResult, ProgressEvent, SnapshotResult } from "./types.js";

export const DEFAULT_MAX_WORKERS = 8;

/** What to fetch: a whole snapshot (filtered) or these exact files. */
export type Selection = { kind: "snapshot" } | { kind: "files"; paths: string[] };

interface Run {
  api: HubApi;
  modelId: string;
  repoType: RepoType;
  revision: string;
  cacheRoot: string;
  target: Target;
  opts: DownloadOptions;
  emit: (e: ProgressEvent) => void;
  /** Exactly one named file was asked for. */
  single: boolean;
}

export async function download(modelId: string, selection: Selection, opts: DownloadOptions = {}): Promise<SnapshotResult> {
  assertModelId(modelId);
  const api = opts.api ?? new HubApi();
  const repoType = opts.repoType ?? "model";
  if (!REPO_TYPES.includes(repoType)) throw new UsageError(`Invalid repo type '${String(repoType)}'`, "use model or dataset", { key: "badRepoType", vars: { value: String(repoType) } });
  const revision = opts.revision?.trim() || DEFAULT_REVISION;
  assertSafeRevision(revision);
  if (selection.kind === "files") for (const p of selection.paths) assertRequestedPath(p);
  const root = defaultCacheRoot(opts.cacheDir, api.env);
  const target = resolveTarget(root, modelId, revision, opts.localDir, repoType);
  const emit = (e: ProgressEvent) => {
    try {
      opts.onProgress?.(e);
    } catch {
      // a listener's bug must not break the download
    }
  };
  const run: Run = { api, modelId, repoType, revision, cacheRoot: root, target, opts, emit, single: selection.kind === "files" && selection.paths.length === 1 };
  if (opts.signal?.aborted) throw new AbortedError();
  // Every request in flight listens to the signal: many files x ranges is more than the default 10.
  if (opts.signal) setMaxListeners(0, opts.signal);
  const offline = opts.offline ?? offlineFromEnv(api.env);
  if (offline) return offlineResult(run, selection);

  const listing = opts.listed ?? (await api.listFiles(modelId, { revision, signal: opts.signal, repoType }));
  const chosen = select(listing, selection, opts, modelId, revision, api);
  warnIfUnhashed(modelId, chosen);
  // A cache hit: one summary read and one stat per file.
  const summary: Summary = opts.force ? new Map() : loadSummary(target);
  const planned = await Promise.all(
    chosen.map(async (f) => ({ file: f, cached: !opts.force && (await cacheState(target, f, { hash: false, summary })) === "verified" })),
  );
  emit({ type: "plan", modelId, revision, files: planned.map((p) => ({ path: p.file.path, size: p.file.size, cached: p.cached })) });
  if (opts.dryRun) {
    return { modelId, repoType, revision, path: target.root, files: planned.map((p) => result(target, p.file, p.cached ? "cached" : "planned")) };
  }
  const allCached = planned.every((p) => p.cached);
  if (!allCached) {
    await fsp.mkdir(target.root, { recursive: true });
    if (!opts.listed) await saveListing(target, modelId, revision, listing);
  }
  const results = await runPool(run, planned, summary);
  return { modelId, repoType, revision, path: target.root, files: results };
}

/** Files the hub gives no sha256 for are accepted on their size alone: say so, once per run. */
function warnIfUnhashed(modelId: string, files: RepoFile[]): void {
  const unhashed = files.filter((f) => f.sha256 === null);
  if (unhashed.length === 0) return;
  const n = String(unhashed.length);
  const first = unhashed[0]!.path;
  warnOnce("no-sha256", {
    en: `the hub gives no sha256 for ${n} file(s) of ${modelId} (e.g. ${first}): they are checked by size only`,
    zh: `服务器没有提供 ${modelId} 中 ${n} 个文件的 sha256（例如 ${first}）：只按大小校验`,
  });
}

function assertRequestedPath(p: string): void {
  const reason = unsafePathReason(p);
  if (!reason) return;
  const shown = JSON.stringify(p).slice(1, -1);
  throw new UsageError(`Invalid file path '${shown}' (${reason})`, "name a file as it appears in the model, e.g. config.json or weights/model.safetensors", { key: "badFilePath", vars: { path: shown, reason } });
}

function select(listing: RepoFile[], selection: Selection, opts: DownloadOptions, modelId: string, revision: string, api: HubApi): RepoFile[] {
  if (selection.kind === "files") {
    const byPath = new Map(listing.map((f) => [f.path, f]));
    return selection.paths.map((p) => {
      const f = byPath.get(p);
      if (!f) throw new NotFoundError(`file '${p}' in ${modelId}${revision !== DEFAULT_REVISION ? ` at revision '${revision}'` : ""}`, { modelId, revision, filePath: p }, api.getToken() !== undefined);
      return f;
    });
  }
  const filter = new PathFilter(opts.include, opts.exclude);
  return listing.filter((f) => filter.matches(f.path));
}

function result(target: Target, f: RepoFile, status: FileResult["status"]): FileResult {
  return { path: f.path, localPath: localPathOf(target, f.path), size: f.size, status };
}

async function runPool(run: Run, planned: { file: RepoFile; cached: boolean }[], summary: Summary): Promise<FileResult[]> {
  const records = new SummaryWriter(run.target);
  try {
    return await runPoolInner(run, planned, summary, records);
  } finally {
    records.flush();
  }
}

async function runPoolInner(run: Run, planned: { file: RepoFile; cached: boolean }[], summary: Summary, records: SummaryWriter): Promise<FileResult[]> {
  const { opts, emit, target } = run;
  const settings = downloadSettings(run.api.env);
  const results = new Map<string, FileResult>();
  const failures: { file: string; error: Error }[] = [];
  // Verified when planned: reported as they are (no lock, no second look; a concurrent process can only
  // replace such a file by an atomic rename of verified bytes).
  for (const p of planned) {
    if (!p.cached) continue;
    results.set(p.file.path, result(target, p.file, "cached"));
    emit({ type: "file-done", path: p.file.path, status: "cached" });
  }
  // Biggest first: the longest transfer starts at once and the small files fill in beside it, instead
  // of a big file that sorts last starting only when everything else is done.
  const queue = planned
    .filter((p) => !p.cached)
    .map((p) => p.file)
    .sort((a, b) => b.size - a.size);
  // The biggest file's bytes flow before the others start (and its first split verdict is in): their
  // start-up (loading undici, ~50-110 ms of the main thread, and their own requests) held up its
  // redirect and first byte by as much.
  const lead = queue.length > 1 && queue[0]!.size >= settings.workerSinkBytes ? queue[0] : undefined;
  let leadFlowing = () => {};
  const leadStarted = lead && new Promise<void>((resolve) => (leadFlowing = resolve));
  const madeDirs = new Set<string>();
  // One token for the whole run: every request is signed alike, and the token file and the official
  // cookie jar are read once rather than for every file.
  const token = run.api.getToken() ?? null;
  const deferred: RepoFile[] = [];
  const announcedWait = new Set<string>();
  let aborted = false;

  // A caller following the landed prefix (the mirror) gets parts planned to land in file order.
  const fileSettings = opts.onLanded ? { ...settings, inOrderParts: true } : settings;
  const processFile = async (f: RepoFile) => {
    const finalPath = localPathOf(target, f.path);
    if (!opts.force) {
      let state = await cacheState(target, f, { hash: false, summary });
      if (state === "unchecked") {
        // There, of the right size, and no record of this run's vouches for it: it may have just been
        // fetched and verified by another process (this one waited for its lock), whose record, read
        // again, saves hashing it. Otherwise it is hashed.
        const fresh = loadSummary(target).get(f.path);
        if (fresh) summary.set(f.path, fresh);
        state = await cacheState(target, f, { hash: true, summary, signal: opts.signal, onVerified: (rec) => records.add(f.path, rec) });
      }
      if (state === "verified") {
        results.set(f.path, result(target, f, "cached"));
        emit({ type: "file-done", path: f.path, status: "cached" });
        return;
      }
    }
    // A folder of the file's path that is a link someone planted would take the bytes elsewhere.
    assertNoLinkedFolder(target.root, f.path);
    const { fetchAndCommit } = await import("./fetch.js");
    const { sha256, mtimeMs } = await fetchAndCommit({
      madeDirs,
      api: run.api,
      modelId: run.modelId,
      repoType: run.repoType,
      revision: run.revision,
      file: f,
      finalPath,
      settings: fileSettings,
      token,
      maxBackoffMs: run.api.network.maxBackoffMs,
      signal: opts.signal,
      emit,
      started: f === lead ? leadFlowing : undefined,
      landed: opts.onLanded && ((bytes: number) => opts.onLanded!(f.path, bytes)),
    });
    records.add(f.path, { size: f.size, mtimeMs, sha256 });
    // A big file's record goes to disk before its lock is let go: a process waiting on that lock (another
    // download, a mirror's other process) then finds it vouched for, instead of hashing it again; for a
    // small file the write would cost more than that hash (the records are otherwise written in batches).
    if (f.size >= settings.workerSinkBytes) records.flush();
    results.set(f.path, result(target, f, "downloaded"));
    emit({ type: "file-done", path: f.path, status: "downloaded" });
  };

  // A full or read-only disk fails every file alike: stop taking new ones (those under way end by themselves).
  let diskFailed = false;
  const worker = async () => {
    while (!aborted && !diskFailed && (queue.length > 0 || deferred.length > 0)) {
      if (opts.signal?.aborted) {
        aborted = true;
        return;
      }
      const fromQueue = queue.length > 0;
      const f = fromQueue ? queue.shift()! : deferred.shift()!;
      const lock = await tryLock(lockPathFor(run.cacheRoot, localPathOf(target, f.path)));
      if (!lock) {
        if (f === lead) leadFlowing();
        // Another process is on this file: do the others first, then come back to it.
        deferred.push(f);
        if (!announcedWait.has(f.path)) {
          announcedWait.add(f.path);
          emit({ type: "waiting-for-lock", path: f.path });
        }
        if (!fromQueue) await sleep(200, opts.signal).catch(() => undefined);
        continue;
      }
      try {
        await processFile(f);
      } catch (err) {
        if (err instanceof AbortedError || opts.signal?.aborted) {
          aborted = true;
          return;
        }
        const local = err instanceof LocalWriteError ? err : localWriteError(err, localPathOf(target, f.path));
        if (local && ["ENOSPC", "EDQUOT", "EROFS"].includes(local.code)) diskFailed = true;
        failures.push({ file: f.path, error: local ?? (err instanceof Error ? err : new Error(String(err))) });
      } finally {
        if (f === lead) leadFlowing();
        await lock.release();
      }
    }
  };
  const workers = Math.max(1, Math.min(Math.floor(opts.maxWorkers ?? DEFAULT_MAX_WORKERS), 64, queue.length || 1));
  // The first worker takes the lead file at once (synchronously, before any other runs).
  await Promise.all(Array.from({ length: workers }, (_, i) => (i === 0 || !leadStarted ? worker() : leadStarted.then(worker))));
  if (aborted || opts.signal?.aborted) throw new AbortedError();
  if (failures.length > 0) {
    // One named file that failed with an error that already names it (or needs a sign-in): that error.
    const sole = run.single && failures.length === 1 ? failures[0]!.error : undefined;
    if (sole instanceof LocalWriteError || sole instanceof IntegrityError || sole instanceof NotFoundError || sole instanceof AccessDeniedError || sole instanceof InvalidTokenError || sole instanceof NotLoggedInError || sole instanceof UnsafeLocalFileError) throw sole;
    throw new DownloadFailedError(failures, { modelId: run.modelId, revision: run.revision });
  }
  return planned.map((p) => results.get(p.file.path)!);
}

/** Offline: no request at all. Uses the last listing we saved; without one, what is on disk. */
async function offlineResult(run: Run, selection: Selection): Promise<SnapshotResult> {
  const { target, modelId, revision, opts } = run;
  const saved = (await loadListing(target))?.filter((f) => typeof f?.path === "string" && !unsafePathReason(f.path) && typeof f.size === "number");
  let wanted: RepoFile[];
  if (saved) {
    if (selection.kind === "files") {
      const byPath = new Map(saved.map((f) => [f.path, f]));
      wanted = selection.paths.map((p) => byPath.get(p) ?? { path: p, name: p, size: -1, sha256: null, isLfs: false });
    } else {
      wanted = saved.filter((f) => new PathFilter(opts.include, opts.exclude).matches(f.path));
    }
  } else {
    const onDisk = listOnDisk(target.root);
    if (selection.kind === "files") {
      wanted = selection.paths.map((p) => onDisk.find((f) => f.path === p) ?? { path: p, name: p, size: -1, sha256: null, isLfs: false });
    } else {
      if (onDisk.length === 0) throw new OfflineCacheMissError([`${modelId}${revision !== DEFAULT_REVISION ? `@${revision}` : ""}`], { modelId, revision });
      const filter = new PathFilter(opts.include, opts.exclude);
      wanted = onDisk.filter((f) => filter.matches(f.path));
    }
  }
  const missing: string[] = [];
  const files: FileResult[] = [];
  for (const f of wanted) {
    const local = localPathOf(target, f.path);
    const st = fs.statSync(local, { throwIfNoEntry: false });
    // Offline trusts a file of the right size (its record, when there is one, was checked when written).
    if (!st?.isFile() || (f.size >= 0 && st.size !== f.size)) missing.push(f.path);
    else files.push({ path: f.path, localPath: local, size: st.size, status: "cached" });
  }
  if (missing.length > 0) throw new OfflineCacheMissError(missing, { modelId, revision });
  run.emit({ type: "plan", modelId, revision, files: files.map((f) => ({ path: f.path, size: f.size, cached: true })) });
  return { modelId, repoType: run.repoType, revision, path: target.root, files };
}

/** Model files under a folder (not our bookkeeping, not temp files). */
export function listOnDisk(root: string): RepoFile[] {
  return walkFiles(root, { skip: (_relPath, name) => name === META_DIR_NAME || name === "._____temp" || isTempName(name) }).map((f) => ({
    path: f.relPath,
    name: path.basename(f.absPath),
    size: f.size,
    sha256: null,
    isLfs: false,
  }));
}
