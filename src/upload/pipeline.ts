// The upload pipeline: scan -> hash -> ask the hub which blobs it lacks -> send those -> one commit.
// Nothing is committed until every blob is stored and every file is still what was hashed, so a failed
// or interrupted run leaves the repo as it was; a re-run sends only the blobs the hub still lacks.
import fs from "node:fs";
import { createHash } from "node:crypto";
import {
  AbortedError,
  BadResponseError,
  FileChangedError,
  ModelScopeError,
  NotLoggedInError,
  RateLimitError,
  RepoMissingError,
  ServerError,
  UploadFailedError,
  type ErrorSubject,
} from "../errors.js";
import { HubApi } from "../hub/api.js";
import { assertRepoId, lfsBatch, postCommit, postCreateRepo, putBlob, type CommitAction, type RepoType } from "../hub/repo-api.js";
import { isRetryableError } from "../http/error-mapping.js";
import { backoffDelay, sleep } from "../http/retry-policy.js";
import type { HubClient } from "../http/index.js";
import { DEFAULT_REVISION } from "../settings.js";
import { assertUnchanged, hashOne, pool } from "./hash.js";
import { BlobAsker, remoteTree, repoExistsDirect, type RemoteTree } from "./remote.js";
import type { LocalFile } from "./scan.js";
import { UploadState } from "./state.js";
import type { UploadEvent, UploadFileResult, UploadOptions, UploadResult } from "./types.js";

/** Files above this always travel as blobs (the official client's rule); smaller ones by suffix. */
const LFS_THRESHOLD = 1024 * 1024;
const MODEL_LFS_SUFFIX = ".7z .arrow .bin .bz2 .ckpt .ftz .gz .h5 .joblib .mlmodel .model .msgpack .npy .npz .onnx .ot .parquet .pb .pickle .pkl .pt .pth .rar .safetensors .tar .tflite .tgz .wasm .xz .zip .zst".split(" ");
const DATASET_LFS_SUFFIX =
  ".7z .aac .arrow .audio .bmp .bin .bz2 .flac .ftz .gif .gz .h5 .jack .jpeg .jpg .png .jsonl .joblib .lz4 .msgpack .npy .npz .ot .parquet .pb .pickle .pcm .pkl .raw .rar .sam .tar .tgz .wasm .wav .webm .webp .zip .zst .tiff .mp3 .mp4 .ogg".split(" ");
/** Blobs asked about per batch call. */
const BATCH_SIZE = 256;
const MAX_ATTEMPTS = 5;

export function isLfs(repoPath: string, size: number, repoType: RepoType): boolean {
  if (size > LFS_THRESHOLD) return true;
  const dot = repoPath.lastIndexOf(".");
  const suffix = dot > repoPath.lastIndexOf("/") ? repoPath.slice(dot).toLowerCase() : "";
  return (repoType === "dataset" ? DATASET_LFS_SUFFIX : MODEL_LFS_SUFFIX).includes(suffix);
}

/** Worth another attempt: network failures, 429 and 5xx. A refusal (4xx) or a changed file is not. */
function retryable(err: unknown): boolean {
  if (!(err instanceof ModelScopeError)) return false;
  return err instanceof ServerError || err instanceof RateLimitError || isRetryableError(err) || (err as { retryable?: boolean }).retryable === true;
}

/** Runs `fn`, retrying retryable failures with capped exponential backoff (0.5, 1, 2, 4 s, with jitter). */
export async function withRetry<T>(what: string, fn: () => Promise<T>, opts: { signal?: AbortSignal | undefined; onRetry?: (e: UploadEvent) => void }): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (opts.signal?.aborted) throw new AbortedError();
      if (!retryable(err) || attempt >= MAX_ATTEMPTS) throw err;
      const delayMs = backoffDelay(attempt, 8000, (err as { retryAfterMs?: number }).retryAfterMs);
      opts.onRetry?.({ type: "retry", path: what, attempt, delayMs, reason: (err as Error).message });
      await sleep(delayMs, opts.signal).catch(() => {
        throw new AbortedError();
      });
    }
  }
}

export interface Target {
  api: HubApi;
  client: HubClient;
  repoId: string;
  repoType: RepoType;
  revision: string;
}

export interface PreparedTarget extends Target {
  createdRepo: boolean;
  /** What the branch holds, asked for together with the repo check. */
  listing: Promise<RemoteTree>;
}

/** Signed in, a valid id, and the repo there (created private when asked). */
export async function prepareTarget(repoId: string, opts: UploadOptions): Promise<PreparedTarget> {
  assertRepoId(repoId);
  const api = opts.api ?? new HubApi();
  const token = api.getToken();
  if (!token) throw new NotLoggedInError({ modelId: repoId });
  const client = api.client(token);
  const repoType = opts.repoType ?? "model";
  const revision = opts.revision ?? DEFAULT_REVISION;
  const target = { api, client, repoId, repoType, revision };
  // One round trip instead of two: the listing of a missing repo is a 404, read as empty.
  const listing = remoteTree(api, target, opts.signal);
  listing.catch(() => undefined); // awaited later, or not at all when the repo turns out to be missing
  const exists = await withRetry(repoId, () => repoExistsDirect(client, repoId, repoType, opts.signal), opts.onProgress ? { signal: opts.signal, onRetry: opts.onProgress } : { signal: opts.signal });
  const empty = Promise.resolve<RemoteTree>(new Map());
  if (exists) return { ...target, createdRepo: false, listing };
  if (!opts.createRepo) throw new RepoMissingError(repoId);
  if (opts.dryRun) return { ...target, createdRepo: false, listing: empty };
  await postCreateRepo(client, { repoId, repoType, visibility: "private", signal: opts.signal });
  return { ...target, createdRepo: true, listing: empty };
}

/** At most `limit` of these at once. */
function limiter(limit: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (fn) => {
    if (running >= limit) await new Promise<void>((r) => waiting.push(r));
    running++;
    try {
      return await fn();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/**
 * Uploads these files to the target in one commit. Each file goes on as soon as it is hashed: compared
 * with the branch, asked about in the next LFS batch call, sent. The biggest file is hashed first, so its
 * PUT starts as early as it can while the small files hash and go out beside it.
 */
export async function uploadLocalFiles(files: LocalFile[], t: PreparedTarget, opts: UploadOptions): Promise<UploadResult> {
  const signal = opts.signal;
  // Sends start before every file is hashed; their events wait for the plan, which needs every hash.
  let planned = false;
  const held: UploadEvent[] = [];
  const emit = (e: UploadEvent) => {
    if (!planned && (e.type === "bytes" || e.type === "file-done")) held.push(e);
    else opts.onProgress?.(e);
  };
  const seen = new Set<string>();
  for (const f of files) {
    if (seen.has(f.path)) throw new BadResponseError(`Two local files map to ${f.path} in the repo`);
    seen.add(f.path);
  }
  emit({ type: "scan", files: files.length, bytes: files.reduce((a, f) => a + f.size, 0) });

  const state = UploadState.load(t.api.home, { endpoint: t.api.endpoint, repoType: t.repoType, repoId: t.repoId, revision: t.revision });
  // A failure anywhere stops the sends still running (a 2 GiB PUT need not finish for a run that fails).
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) stop.abort();
  const inner = { ...opts, signal: stop.signal };
  const asker = BlobAsker.forTarget(t.client, t.repoType, t.repoId, BATCH_SIZE, (fn) => withRetry("LFS batch", fn, { signal: stop.signal, onRetry: emit }), stop.signal);
  const sending = limiter(opts.maxWorkers ?? 4);
  const hashes = new Map<string, string>();
  /** oid -> true once we sent it, false when the hub had it or its send failed. */
  const sends = new Map<string, Promise<boolean>>();
  const failures: { file: string; error: Error }[] = [];
  let bytesSent = 0;
  let remote: RemoteTree = new Map();
  const listed = t.listing.then((r) => (remote = r));
  const changedLfs = (f: LocalFile) => {
    const r = remote.get(f.path);
    const same = r && r.size === f.size && r.sha256 === hashes.get(f.absPath);
    return !same && isLfs(f.path, f.size, t.repoType);
  };
  const planIfReady = () => {
    if (planned || hashes.size < files.length) return;
    planned = true;
    opts.onProgress?.({ type: "plan", files: files.map((f) => ({ path: f.path, size: f.size, send: !opts.dryRun && changedLfs(f) })) });
    for (const e of held.splice(0)) opts.onProgress?.(e);
  };
  const send = async (f: LocalFile, oid: string): Promise<boolean> => {
    const href = await asker.ask(oid, f.size);
    if (href === undefined) return false;
    try {
      await sending(() =>
        sendBlob(t, f, oid, href, inner, (n) => {
          bytesSent += n;
          emit({ type: "bytes", path: f.path, bytes: n });
        }),
      );
    } catch (err) {
      if (err instanceof AbortedError || stop.signal.aborted) throw new AbortedError();
      // A changed file stops the whole run: nothing will be committed anyway.
      if (err instanceof FileChangedError) throw err;
      failures.push({ file: f.path, error: err as Error });
      return false;
    }
    emit({ type: "file-done", path: f.path, status: "uploaded" });
    return true;
  };
  try {
    const biggestFirst = [...files].sort((a, b) => b.size - a.size);
    await pool(
      biggestFirst,
      Math.max(4, opts.maxWorkers ?? 4),
      async (f) => {
        try {
          const { sha256, cached } = await hashOne(f, state, stop.signal);
          hashes.set(f.absPath, sha256);
          emit({ type: "hashed", path: f.path, size: f.size, cached });
          if (hashes.size === files.length) void state.save().catch(() => undefined); // before the last sends end
          await listed;
          planIfReady();
          if (opts.dryRun || !changedLfs(f)) return;
          let sent = sends.get(sha256);
          if (!sent) sends.set(sha256, (sent = send(f, sha256)));
          await sent;
        } catch (err) {
          stop.abort();
          throw err;
        }
      },
      signal,
    );
  } finally {
    signal?.removeEventListener("abort", onAbort);
    await state.save().catch(() => undefined); // the cache is a speed-up: losing it costs a re-hash
  }

  const results = new Map<string, UploadFileResult>();
  const changed: LocalFile[] = [];
  for (const f of files) {
    const sha256 = hashes.get(f.absPath)!;
    const r = remote.get(f.path);
    const same = r && r.size === f.size && r.sha256 === sha256;
    results.set(f.path, { path: f.path, localPath: f.absPath, size: f.size, sha256, status: same ? "unchanged" : opts.dryRun ? "planned" : "inline" });
    if (!same) changed.push(f);
  }
  const base = { repoId: t.repoId, repoType: t.repoType, revision: t.revision, createdRepo: t.createdRepo };
  const list = () => files.map((f) => results.get(f.path)!);
  if (opts.dryRun || changed.length === 0) {
    return { ...base, commitId: "", committed: false, dryRun: !!opts.dryRun, files: list(), bytesSent: 0 };
  }
  const subject: ErrorSubject = { modelId: t.repoId, revision: t.revision };
  if (failures.length) throw new UploadFailedError(failures, subject);
  const sent = new Set<string>();
  for (const [oid, p] of sends) if (await p) sent.add(oid);

  // Every blob is stored: build the commit, checking once more that no file changed since it was hashed.
  const actions: CommitAction[] = [];
  for (const f of changed) {
    const sha256 = hashes.get(f.absPath)!;
    const r = results.get(f.path)!;
    if (isLfs(f.path, f.size, t.repoType)) {
      assertUnchanged(f);
      actions.push({ action: "create", path: f.path, type: "lfs", size: f.size, sha256 });
      r.status = sent.has(sha256) ? "uploaded" : "deduplicated";
      if (!sent.has(sha256)) emit({ type: "file-done", path: f.path, status: "deduplicated" });
    } else {
      const content = fs.readFileSync(f.absPath);
      if (content.length !== f.size || createHash("sha256").update(content).digest("hex") !== sha256) throw new FileChangedError(f.path);
      actions.push({ action: "create", path: f.path, type: "normal", size: f.size, content: content.toString("base64") });
      emit({ type: "file-done", path: f.path, status: "inline" });
    }
  }
  emit({ type: "commit", actions: actions.length });
  const commitId = await withRetry(
    "commit",
    () =>
      postCommit(t.client, {
        repoType: t.repoType,
        repoId: t.repoId,
        revision: t.revision,
        message: opts.commitMessage ?? (files.length === 1 ? "Upload file" : "Upload folder"),
        description: opts.commitDescription,
        actions,
        signal,
      }),
    { signal, onRetry: emit },
  );
  return { ...base, commitId, committed: true, dryRun: false, files: list(), bytesSent };
}

/** One blob: PUT, and on a retryable failure ask the batch again (a fresh URL, or "stored meanwhile") and retry. */
async function sendBlob(t: Target, f: LocalFile, oid: string, firstHref: string, opts: UploadOptions, onBytes: (n: number) => void): Promise<void> {
  let href: string | undefined = firstHref;
  let attempt = 0;
  await withRetry(
    f.path,
    async () => {
      if (attempt++ > 0) {
        href = (await lfsBatch(t.client, t.repoType, t.repoId, [{ oid, size: f.size }], opts.signal)).get(oid);
        if (href === undefined) return; // the hub has it now
      }
      assertUnchanged(f);
      let counted = 0;
      const { bytesRead } = await putBlob(t.client, href!, { absPath: f.absPath, size: f.size, repoId: t.repoId, path: f.path }, (n) => {
        counted += n;
        onBytes(n);
      }, opts.signal).catch((err: unknown) => {
        onBytes(-counted); // this attempt's bytes did not land
        throw err;
      });
      if (bytesRead !== f.size) throw new FileChangedError(f.path);
      assertUnchanged(f);
    },
    { signal: opts.signal, onRetry: opts.onProgress },
  );
}
