// Fetches one file's bytes into a temp file beside its final path, hashing as it goes, and commits it
// (rename) only once the size and sha256 match the listing. Nothing unverified is ever at a final path.
//  - single stream: <file>.incomplete, resumed with `Range: bytes=<n>-` (the official client's name, so
//    either client resumes the other's partial file); a 200 to a Range request restarts it cleanly.
//  - large files: parallel byte ranges written positionally into one preallocated <file>.parallel_tmp,
//    with a small progress file (<file>.parallel_tmp.incomplete) so a killed run resumes each range.
//    Range streams are read straight into a shared ring where the transport allows (plain http), and
//    written and hashed (in file order) on worker threads (range-sink.ts).
// A small single stream writes each chunk as it comes (InlineSink); a big one hashes and writes on
// worker threads (worker-sink.ts). Metadata calls (stat, rename, chmod) are synchronous: cheaper.
import { createHash } from "node:crypto";
import { setMaxListeners } from "node:events";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { AbortedError, ConnectionFailedError, IntegrityError, ModelScopeError, RateLimitError, ServerError, ConnectionTimeoutError, localWriteError } from "../errors.js";
import { errorForNetwork } from "../http/error-mapping.js";
import { backoffDelay, sleep } from "../http/retry-policy.js";
import { DirectBody, HubClient, discardBody, type HubFileResponse } from "../http/index.js";
import type { HubApi } from "../hub/api.js";
import { FileLink, refusedLink } from "./file-link.js";
import type { RepoFile } from "../hub/types.js";
import type { DownloadSettings } from "../settings.js";
import { INCOMPLETE_SUFFIX, PARALLEL_STATE_SUFFIX, PARALLEL_SUFFIX } from "./layout.js";
import { writeSmallFileAtomicSync } from "../util/atomic-write.js";
import { preallocate, releaseUnused } from "./preallocate.js";
import { endOfPart, loadRangeState, planParts, type RangeState } from "./range-state.js";
import { InlineSink, type Sink } from "./sink.js";
import { RangeSink, type Lane } from "./range-sink.js";
import { WorkerSink } from "./worker-sink.js";
import { PROBE_BYTES, SplitProbe } from "./split-probe.js";
import type { ProgressEvent } from "./types.js";

/** Full re-downloads after a hash mismatch before giving up (the official DOWNLOAD_HASH_RETRY_TIMES). */
export const INTEGRITY_ATTEMPTS = 3;


export interface FetchContext {
  api: HubApi;
  modelId: string;
  revision: string;
  file: RepoFile;
  finalPath: string;
  settings: DownloadSettings;
  /** Resolved once per run (null: signed out), so every request of a run sends the same one. */
  token: string | null;
  maxBackoffMs: number;
  signal?: AbortSignal | undefined;
  emit: (event: ProgressEvent) => void;
  /** Folders already made in this run (saves a mkdir per file). */
  madeDirs?: Set<string>;
  /** The file's signed CDN URL, once a request through the hub found it (file-link.ts); set per file. */
  link?: FileLink;
}

/** Downloads, verifies and commits one file. Returns the verified sha256 and the committed file's mtime. */
export async function fetchAndCommit(ctx: FetchContext): Promise<{ sha256: string; mtimeMs: number }> {
  try {
    return await fetchAndCommitInner(ctx);
  } catch (err) {
    // A full disk or a folder we may not write is not a network problem: say so, and do not retry.
    throw localWriteError(err, ctx.finalPath) ?? err;
  }
}

async function fetchAndCommitInner(ctx: FetchContext): Promise<{ sha256: string; mtimeMs: number }> {
  const { file, finalPath } = ctx;
  // Made here, so the copies of the context each range stream works with share it.
  ctx.link = new FileLink(new URL(ctx.api.endpoint).origin);
  const dir = path.dirname(finalPath);
  // Small metadata calls are synchronous: a few µs each, against ~50 µs of thread hand-offs for an
  // async one, several times per file.
  if (!ctx.madeDirs?.has(dir)) {
    fs.mkdirSync(dir, { recursive: true });
    ctx.madeDirs?.add(dir);
  }
  let lastDetail = "";
  for (let attempt = 1; attempt <= INTEGRITY_ATTEMPTS; attempt++) {
    const { tempPath, sha256, bytes } = await fetchToTemp(ctx);
    const sizeOk = bytes === file.size;
    const shaOk = file.sha256 === null || sha256 === file.sha256;
    if (sizeOk && shaOk) {
      try {
        fs.chmodSync(tempPath, 0o644);
      } catch {
        // the mode is a nicety; the rename below is what matters
      }
      fs.renameSync(tempPath, finalPath);
      // No temp file of this file stays behind, whichever kind this run used.
      await discardTemps(finalPath);
      return { sha256, mtimeMs: fs.statSync(finalPath).mtimeMs };
    }
    lastDetail = sizeOk ? `expected sha256 ${file.sha256!.slice(0, 16)}…, got ${sha256.slice(0, 16)}…` : `expected ${file.size} bytes, got ${bytes}`;
    await discardTemps(finalPath);
    if (attempt < INTEGRITY_ATTEMPTS) ctx.emit({ type: "retry", path: file.path, attempt, delayMs: 0, reason: `integrity check failed (${lastDetail})` });
  }
  throw new IntegrityError(file.path, lastDetail, { modelId: ctx.modelId, revision: ctx.revision, filePath: file.path });
}

export async function discardTemps(finalPath: string): Promise<void> {
  for (const suffix of [INCOMPLETE_SUFFIX, PARALLEL_SUFFIX, PARALLEL_STATE_SUFFIX]) fs.rmSync(finalPath + suffix, { force: true });
}

interface TempResult {
  tempPath: string;
  sha256: string;
  bytes: number;
}

/** Big enough for parallel ranges (so a range state file may exist beside it). */
function parallelEligible(ctx: FetchContext): boolean {
  const { file, settings } = ctx;
  return file.size >= settings.parallelThresholdBytes && file.size > settings.partSizeBytes && settings.rangeWorkers > 1;
}

async function fetchToTemp(ctx: FetchContext): Promise<TempResult> {
  const { file, finalPath } = ctx;
  const eligible = parallelEligible(ctx);
  // A partial file of either kind is resumed whatever the current settings say (they may have changed
  // since the run that left it); of two, the one further on wins and the other goes.
  const single = fs.statSync(finalPath + INCOMPLETE_SUFFIX, { throwIfNoEntry: false });
  const ranges = await loadRangeState(finalPath + PARALLEL_STATE_SUFFIX, file, finalPath + PARALLEL_SUFFIX);
  const rangesDone = ranges ? ranges.done.reduce((a, b) => a + b, 0) : -1;
  if (ranges && !(single && single.size > rangesDone)) {
    fs.rmSync(finalPath + INCOMPLETE_SUFFIX, { force: true });
    return parallelOrSingle(ctx);
  }
  // No usable range state: its leftovers (if any) would only sit beside the committed file.
  fs.rmSync(finalPath + PARALLEL_SUFFIX, { force: true });
  fs.rmSync(finalPath + PARALLEL_STATE_SUFFIX, { force: true });
  // A big file starts as one stream (the cheapest on CPU) and splits into ranges when more connections
  // turn out to carry more (see fetchSingle); below the adaptive size it goes straight to ranges.
  const adaptive = eligible && file.size >= ctx.settings.adaptiveMinBytes;
  if (eligible && !single && !adaptive) return parallelOrSingle(ctx);
  const result = await fetchSingle(ctx, adaptive);
  if (!("switchAt" in result)) return result;
  try {
    await convertToParallel(ctx, result.switchAt);
  } catch (err) {
    result.carry?.destroy();
    throw err;
  }
  return parallelOrSingle(ctx, result);
}

async function parallelOrSingle(ctx: FetchContext, carried?: Switch): Promise<TempResult> {
  try {
    return await fetchParallel(ctx, carried);
  } catch (err) {
    if (!(err instanceof RangeIgnoredError)) throw err;
    // The server ignores Range: start over with one plain stream.
    await discardTemps(ctx.finalPath);
  }
  return (await fetchSingle(ctx, false)) as TempResult;
}

/**
 * Turns a single stream's partial file (its first `landed` bytes) into parallel-range state, keeping
 * every byte. Order matters for a crash in between: rename, then the state, then the full size (a
 * state whose temp file has the wrong size is ignored, and the ranges start afresh).
 */
async function convertToParallel(ctx: FetchContext, landed: number): Promise<void> {
  const { file, finalPath } = ctx;
  const starts = planParts(file.size, ctx.settings);
  const done = starts.map((start, i) => Math.max(0, Math.min(landed - start, endOfPart(starts, i, file.size) - start)));
  const state: RangeState = { v: 2, size: file.size, sha256: file.sha256, starts, done };
  await fsp.rename(finalPath + INCOMPLETE_SUFFIX, finalPath + PARALLEL_SUFFIX);
  writeSmallFileAtomicSync(finalPath + PARALLEL_STATE_SUFFIX, JSON.stringify(state));
  await fsp.truncate(finalPath + PARALLEL_SUFFIX, file.size);
}

/**
 * Reads a direct body into `space()`: `onData(n)` says whether to go on (false: paused until
 * `body.resume()`, or the body was destroyed or detached). A throw stops the body and is rethrown.
 */
async function receiveInto(body: DirectBody, space: () => Uint8Array, onData: (n: number) => boolean): Promise<void> {
  let failed: { err: unknown } | undefined;
  await body.pipeTo({
    buffer: space,
    data: (_buf, n) => {
      try {
        return onData(n);
      } catch (err) {
        failed = { err };
        body.destroy();
        return false;
      }
    },
  });
  if (failed) throw failed.err;
}

/** A single stream that turned out to be worth splitting: where it stood, and its connection if it can go on. */
interface Switch {
  switchAt: number;
  carry?: DirectBody | undefined;
}

/** The server answered a Range request with the whole file. */
class RangeIgnoredError extends Error {}

/** A thrown value as a typed error: ours as it is, a local disk failure as such, anything else a network failure at `url`. */
function typedError(err: unknown, ctx: FetchContext, url: string): unknown {
  if (err instanceof ModelScopeError || err instanceof RangeIgnoredError) return err;
  return localWriteError(err, ctx.finalPath) ?? errorForNetwork(err, url, ctx.signal);
}

function isRetryable(err: unknown): boolean {
  return err instanceof ConnectionFailedError || err instanceof ConnectionTimeoutError || err instanceof ServerError || err instanceof RateLimitError;
}

/** Runs one attempt at a time until it succeeds, retrying network failures with backoff (progress resets the count). */
async function withRetries<T>(ctx: FetchContext, attemptFn: () => Promise<T>, progressed: () => number): Promise<T> {
  let failures = 0;
  for (;;) {
    const before = progressed();
    try {
      return await attemptFn();
    } catch (raw) {
      if (ctx.signal?.aborted) throw new AbortedError();
      const err = typedError(raw, ctx, ctx.api.endpoint);
      if (progressed() > before) failures = 0;
      if (!isRetryable(err) || failures >= ctx.settings.maxRetries) throw err;
      failures++;
      const delayMs = backoffDelay(failures, ctx.maxBackoffMs, (err as { retryAfterMs?: number }).retryAfterMs);
      ctx.emit({ type: "retry", path: ctx.file.path, attempt: failures, delayMs, reason: (err as Error).message });
      await sleep(delayMs, ctx.signal).catch(() => {
        throw new AbortedError();
      });
    }
  }
}

/**
 * One request for the file's bytes (all of them, or a range). Goes to the file's signed CDN URL when
 * this file already has one (no token, no hub round trip); otherwise through the hub, remembering
 * where it redirected to.
 */
async function open(ctx: FetchContext, range?: { start: number; end?: number }, direct = false): Promise<HubFileResponse> {
  const link = ctx.link!;
  // Requests that start together (the range streams) wait for the first one's redirect, not ask again.
  if (!link.current() && link.resolving) await link.resolving;
  const cdn = link.current();
  if (cdn) {
    try {
      // A client without the token: the CDN never sees it (and `credentials: false` makes sure).
      return await (link.client ??= new HubClient({ endpoint: ctx.api.endpoint, token: undefined, network: ctx.api.network })).request({
        path: cdn,
        headers: range ? { range: `bytes=${range.start}-${range.end ?? ""}` } : {},
        subject: { modelId: ctx.modelId, revision: ctx.revision, filePath: ctx.file.path },
        signal: ctx.signal,
        readTimeoutMs: ctx.settings.stallTimeoutMs,
        maxRetries: 0,
        direct,
        credentials: false,
      });
    } catch (err) {
      if (!refusedLink(err)) throw err;
      link.drop(cdn); // expired or refused: ask the hub for a fresh one below
    }
  }
  const viaHub = ctx.api.openFile(ctx.modelId, ctx.file.path, {
    revision: ctx.revision,
    range,
    signal: ctx.signal,
    readTimeoutMs: ctx.settings.stallTimeoutMs,
    maxRetries: 0,
    direct,
    token: ctx.token,
  });
  const resolving = (link.resolving = viaHub.then(
    (res) => link.learn(res.url),
    () => undefined,
  ));
  try {
    return await viaHub;
  } finally {
    if (link.resolving === resolving) link.resolving = undefined;
  }
}

/** The first byte a 206 answer starts at, from Content-Range. */
function contentRangeStart(res: HubFileResponse): number | undefined {
  const v = res.headers["content-range"];
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(Array.isArray(v) ? v[0] : (v ?? "")).trim());
  return m ? Number(m[1]) : undefined;
}

function premature(res: { url: string } | undefined, ctx: FetchContext): ConnectionFailedError {
  const url = res?.url ? res.url.split("?")[0]! : ctx.api.endpoint;
  return new ConnectionFailedError(url, `the connection closed before the end of ${ctx.file.path}`);
}

/**
 * One stream into <file>.incomplete. With `splittable`, once its worker threads run it measures whether
 * a second connection adds throughput (split-probe.ts): then it stops with `switchAt` (the bytes landed)
 * for the caller to go on in parallel ranges, handing over its still-open connection (`carry`, on the
 * direct transport) as the first of them. Where one stream is as fast as two, it carries on alone.
 */
/** Measurements of a second connection per file, and how long after a "no" the next one starts. */
const MAX_PROBES = 3;
const REPROBE_MS = 2000;

async function fetchSingle(ctx: FetchContext, splittable: boolean): Promise<TempResult | Switch> {
  const { file } = ctx;
  const tempPath = ctx.finalPath + INCOMPLETE_SUFFIX;
  let offset = fs.statSync(tempPath, { throwIfNoEntry: false })?.size ?? 0;
  if (offset > file.size) {
    fs.truncateSync(tempPath, 0);
    offset = 0;
  }
  if (file.size === 0) {
    ctx.emit({ type: "file-start", path: file.path, size: 0, resumeFrom: 0 });
    fs.writeFileSync(tempPath, "");
    return { tempPath, sha256: createHash("sha256").digest("hex"), bytes: 0 };
  }
  // The sink (kept across attempts in this process, so a retry does not re-hash) hashes the resumed
  // prefix first. Big transfers hash and write on a worker thread, off the receiving thread.
  const sink: Sink =
    file.size - offset >= ctx.settings.workerSinkBytes ? await WorkerSink.open(tempPath, offset) : await InlineSink.open(tempPath, offset, ctx.signal);
  // The disk blocks are reserved before any byte is asked for: a disk too full fails here, at once.
  const reserved = file.size - offset >= ctx.settings.preallocateMinBytes;
  let overflow = false;
  let digest: string | undefined;
  let probe: SplitProbe | undefined;
  let probes = 0;
  let nextProbeAt = 0;
  let split = false;
  let carry: DirectBody | undefined;
  const shouldSplit = (): boolean => {
    // Worker threads starting up take CPU that is not the cost of receiving: measure once they run.
    if (sink instanceof WorkerSink && !sink.ready) return false;
    if (!probe && performance.now() < nextProbeAt) return false;
    probe ??= new SplitProbe(() => {
      // Further on in the file, where the ranges would go.
      const from = sink.accepted + Math.floor((file.size - sink.accepted) / 2 / 65536) * 65536;
      return open(ctx, { start: from, end: Math.min(file.size, from + PROBE_BYTES) - 1 }, true);
    }, () => sink.accepted);
    const verdict = probe.tick();
    if (verdict === undefined) return false;
    probe = undefined;
    const worth = file.size - sink.accepted >= 2 * ctx.settings.partSizeBytes;
    if (verdict === "split") {
      splittable = false;
      return worth;
    }
    // A measurement can meet a moment when the machine was busy: look again a little later, a few times.
    splittable = worth && ++probes < MAX_PROBES;
    nextProbeAt = performance.now() + REPROBE_MS;
    return false;
  };
  try {
    if (ctx.signal?.aborted) throw new AbortedError();
    if (reserved) {
      await preallocate(tempPath, file.size, ctx.signal).catch((err: unknown) => {
        if (offset === 0) fs.rmSync(tempPath, { force: true }); // nothing fetched: leave no partial file
        throw err;
      });
    }
    ctx.emit({ type: "file-start", path: file.path, size: file.size, resumeFrom: offset });
    if (offset > 0) ctx.emit({ type: "bytes", path: file.path, bytes: 0 });

    /** The body read straight into the worker sink's ring; same rules as the loop below. */
    const receiveDirect = (body: DirectBody, ring: WorkerSink): Promise<void> =>
      receiveInto(body, () => ring.nextSpace(), (n) => {
        let take = n;
        if (ring.accepted + take > file.size) {
          overflow = true;
          take = Math.max(0, file.size - ring.accepted);
        }
        const room = ring.commit(take, () => body.resume());
        if (take > 0) ctx.emit({ type: "bytes", path: file.path, bytes: take });
        if (overflow) {
          body.destroy();
          return false;
        }
        if (splittable && shouldSplit()) {
          // The connection stays open: it goes on as the first range stream.
          split = true;
          carry = body;
          body.detach();
          return false;
        }
        return room;
      });

    const attempt = async (): Promise<void> => {
      if (sink.landed === file.size) return;
      const from = sink.landed;
      // A big file's body comes straight into the worker sink's ring where the transport allows (plain
      // http, no proxy). Small files stay on undici's kept-alive connections: a connection per file
      // measured no cheaper for us and dearer for the server.
      const res = await open(ctx, from > 0 ? { start: from } : undefined, sink instanceof WorkerSink);
      if (from > 0 && (res.status !== 206 || contentRangeStart(res) !== from)) {
        // A 200 (or a range we did not ask for) to a resume: the body is the whole file. Restart cleanly.
        if (res.status === 206) {
          discardBody(res.body);
          await sink.reset();
          throw premature(res, ctx);
        }
        ctx.emit({ type: "bytes", path: file.path, bytes: -from });
        await sink.reset();
      }
      try {
        if (res.body instanceof DirectBody) await receiveDirect(res.body, sink as WorkerSink);
        else for await (const chunk of res.body as AsyncIterable<Buffer>) {
          let data = chunk;
          if (sink.accepted + data.length > file.size) {
            overflow = true;
            data = data.subarray(0, Math.max(0, file.size - sink.accepted));
          }
          if (data.length > 0) {
            const wait = sink.add(data);
            ctx.emit({ type: "bytes", path: file.path, bytes: data.length });
            if (wait) await wait;
          }
          if (overflow || (splittable && shouldSplit())) {
            split = !overflow;
            discardBody(res.body);
            break;
          }
        }
      } catch (err) {
        discardBody(res.body);
        throw typedError(err, ctx, res.url.split("?")[0]!);
      } finally {
        // Everything received lands on disk before anything else happens (a retry resumes from there).
        await sink.flush();
      }
      if (!overflow && !split && sink.landed < file.size) throw premature(res, ctx);
    };
    await withRetries(ctx, attempt, () => sink.landed);
    offset = sink.landed;
    if (split) {
      await sink.close();
      digest = "";
      return { switchAt: offset, carry };
    }
    digest = await sink.finish();
  } finally {
    (probe as SplitProbe | undefined)?.stop();
    if (digest === undefined) {
      carry?.destroy();
      await sink.close();
      // A failed run keeps its partial file to resume, but not the disk space reserved past its end.
      if (reserved) releaseUnused(tempPath);
    }
  }
  // Too many bytes: report a size mismatch so the integrity loop re-downloads from scratch.
  return { tempPath, sha256: digest, bytes: overflow ? file.size + 1 : offset };
}

async function fetchParallel(outer: FetchContext, carried?: Switch): Promise<TempResult> {
  // One failed range stops the others at once (their finished bytes stay recorded for the next run).
  const local = new AbortController();
  setMaxListeners(0, local.signal);
  const onAbort = () => local.abort();
  outer.signal?.addEventListener("abort", onAbort, { once: true });
  if (outer.signal?.aborted) local.abort();
  try {
    return await fetchParallelInner({ ...outer, signal: local.signal }, local, outer, carried);
  } finally {
    outer.signal?.removeEventListener("abort", onAbort);
  }
}

async function fetchParallelInner(ctx: FetchContext, local: AbortController, outer: FetchContext, carried?: Switch): Promise<TempResult> {
  const { file, settings } = ctx;
  const tempPath = ctx.finalPath + PARALLEL_SUFFIX;
  const statePath = ctx.finalPath + PARALLEL_STATE_SUFFIX;
  let state = await loadRangeState(statePath, file, tempPath);
  if (!state) {
    const starts = planParts(file.size, settings);
    state = { v: 2, size: file.size, sha256: file.sha256, starts, done: starts.map(() => 0) };
    const fh = await fsp.open(tempPath, "w");
    await fh.truncate(file.size);
    await fh.close();
    try {
      if (file.size >= settings.preallocateMinBytes) await preallocate(tempPath, file.size, ctx.signal);
    } catch (err) {
      // Too big for the disk: nothing fetched yet, so no partial file (nor its partial reservation) stays.
      await discardTemps(ctx.finalPath);
      throw err;
    }
    writeSmallFileAtomicSync(statePath, JSON.stringify(state));
  }
  const st = state;
  const partLen = (i: number) => endOfPart(st.starts, i, file.size) - st.starts[i]!;
  const resumed = st.done.reduce((a, b) => a + b, 0);
  ctx.emit({ type: "file-start", path: file.path, size: file.size, resumeFrom: resumed });

  let saving: Promise<void> = Promise.resolve();
  let dirty = false;
  let lastSave = Date.now();
  const save = (force = false) => {
    dirty = true;
    if (!force && Date.now() - lastSave < 500) return saving;
    lastSave = Date.now();
    saving = saving.then(async () => {
      if (!dirty) return;
      dirty = false;
      try {
        writeSmallFileAtomicSync(statePath, JSON.stringify(st));
      } catch {
        // progress bookkeeping only: the next save (or a restart of those ranges) makes up for it
      }
    });
    return saving;
  };

  // The hash follows the file in order, on a worker thread (range-sink.ts): from memory where a batch
  // arrives exactly where it stands; bytes that landed ahead of it are read back once it reaches them.
  let hashPart = 0;
  const landedEnd = (pos: number) => {
    // The part holding `pos` (the hash only moves forward, so the search starts where it last ended).
    while (hashPart + 1 < st.starts.length && st.starts[hashPart + 1]! <= pos) hashPart++;
    return st.starts[hashPart]! + st.done[hashPart]!;
  };
  const pending = st.done.map((_, i) => i).filter((i) => st.done[i]! < partLen(i));
  const streams = Math.max(1, Math.min(settings.rangeWorkers, pending.length));
  const sink = await RangeSink.open(tempPath, streams, file.size, landedEnd);

  /** One range's body read straight into its lane of the ring (direct transport). */
  const receiveDirect = (body: DirectBody, lane: Lane, partEnd: number): Promise<void> =>
    receiveInto(body, () => lane.nextSpace(), (n) => {
      const take = Math.min(n, partEnd - lane.next);
      const room = lane.commit(take, () => body.resume());
      ctx.emit({ type: "bytes", path: file.path, bytes: take });
      if (lane.next >= partEnd) {
        body.destroy();
        return false;
      }
      return room;
    });

  const fetchPart = async (i: number, lane: Lane, handed?: { pos: number; body: DirectBody }) => {
    const partStart = st.starts[i]!;
    const partEnd = partStart + partLen(i); // exclusive
    const attempt = async () => {
      const start = partStart + st.done[i]!;
      const carry = handed;
      handed = undefined;
      if (start >= partEnd) return carry?.body.destroy();
      let res: { url: string; body: HubFileResponse["body"] };
      if (carry?.pos === start) {
        // The single stream's connection, still open, goes on with this part: no new request.
        res = { url: ctx.api.endpoint, body: carry.body };
      } else {
        carry?.body.destroy();
        const opened = await open(ctx, { start, end: partEnd - 1 }, true);
        if (opened.status !== 206 || contentRangeStart(opened) !== start) {
          discardBody(opened.body);
          throw new RangeIgnoredError();
        }
        res = opened;
      }
      lane.start(start, (end) => {
        st.done[i] = end - partStart;
        void save();
      });
      try {
        if (res.body instanceof DirectBody) await receiveDirect(res.body, lane, partEnd);
        else for await (const chunk of res.body as AsyncIterable<Buffer>) {
          const data = lane.next + chunk.length > partEnd ? chunk.subarray(0, partEnd - lane.next) : chunk;
          const wait = lane.add(data);
          ctx.emit({ type: "bytes", path: file.path, bytes: data.length });
          if (lane.next >= partEnd) {
            discardBody(res.body);
            break;
          }
          if (wait) await wait;
        }
      } catch (err) {
        discardBody(res.body);
        throw typedError(err, ctx, res.url.split("?")[0]!);
      } finally {
        // What was received lands (and is recorded) before a retry or the next part.
        await lane.flush();
      }
      if (partStart + st.done[i]! < partEnd) throw premature(res, ctx);
    };
    await withRetries(ctx, attempt, () => st.done[i]!);
    void save(true);
  };

  // A single stream that split: its connection goes on in the part where it stood, on the first lane.
  let handed: { pos: number; body: DirectBody; part: number } | undefined;
  const carryBody = carried?.carry;
  if (carryBody) {
    const part = pending.findIndex((i) => st.starts[i]! + st.done[i]! === carried.switchAt);
    if (part < 0) carryBody.destroy();
    else {
      handed = { pos: carried.switchAt, body: carryBody, part: pending.splice(part, 1)[0]! };
      pending.unshift(handed.part);
      local.signal.addEventListener("abort", () => carryBody.destroy(), { once: true });
    }
  }
  let failure: unknown;
  const workers = sink.lanes.map(async (lane, w) => {
    for (let first = w === 0; ; first = false) {
      if (failure !== undefined) return;
      const i = pending.shift();
      if (i === undefined) return;
      try {
        await fetchPart(i, lane, first && handed?.part === i ? handed : undefined);
      } catch (err) {
        failure ??= outer.signal?.aborted ? new AbortedError() : err;
        local.abort();
        return;
      }
    }
  });
  let sha256: string;
  try {
    await Promise.all(workers);
    if (failure !== undefined) throw failure;
    sha256 = await sink.digest();
  } finally {
    carryBody?.destroy(); // unused (or done): never left open
    await save(true);
    await sink.close();
  }
  return { tempPath, sha256, bytes: file.size };
}
