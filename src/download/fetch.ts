// Fetches one file's bytes into a temp file beside its final path, hashing as it goes, and commits it
// (rename) only once the size and sha256 match the listing. Nothing unverified is ever at a final path.
//  - single stream: <file>.incomplete, resumed with `Range: bytes=<n>-` (the official client's name, so
//    either client resumes the other's partial file); a 200 to a Range request restarts it cleanly.
//  - large files: parallel byte ranges (parallel.ts), into <file>.parallel_tmp; a big file starts as one
//    stream and splits into ranges when a second connection adds throughput (split-probe.ts).
// A small single stream writes each chunk as it comes (InlineSink); a big one hashes and writes on
// worker threads (worker-sink.ts). Metadata calls (stat, rename, chmod) are synchronous: cheaper.
import { createHash } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { AbortedError, IntegrityError, localWriteError } from "../errors.js";
import { DirectBody, discardBody } from "../http/index.js";
import { FileLink } from "./file-link.js";
import { INCOMPLETE_SUFFIX, PARALLEL_STATE_SUFFIX, PARALLEL_SUFFIX } from "./layout.js";
import { writeSmallFileAtomicSync } from "../util/atomic-write.js";
import { preallocate, releaseUnused } from "./preallocate.js";
import { endOfPart, loadRangeState, planParts, type RangeState } from "./range-state.js";
import { InlineSink, type Sink } from "./sink.js";
import { WorkerSink } from "./worker-sink.js";
import { PROBE_BYTES, SplitProbe } from "./split-probe.js";
import { RangeIgnoredError, contentRangeStart, open, premature, receiveInto, typedError, withRetries, type FetchContext, type Switch, type TempResult } from "./file-request.js";
import { fetchParallel, releaseThreads } from "./parallel.js";
import { chmodPartial, openPartial, openPartialSync, partialSize } from "../util/safe-open.js";

export type { FetchContext } from "./file-request.js";

/** Full re-downloads after a hash mismatch before giving up (the official DOWNLOAD_HASH_RETRY_TIMES). */
export const INTEGRITY_ATTEMPTS = 3;


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
        chmodPartial(tempPath, 0o644);
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
  // lstat: a link planted there is not followed (fetchSingle refuses it when it comes to resume).
  const single = fs.lstatSync(finalPath + INCOMPLETE_SUFFIX, { throwIfNoEntry: false });
  const ranges = await loadRangeState(finalPath + PARALLEL_STATE_SUFFIX, file, finalPath + PARALLEL_SUFFIX);
  const rangesDone = ranges ? ranges.done.reduce((a, b) => a + b, 0) : -1;
  if (ranges && !(single && single.size > rangesDone)) {
    fs.rmSync(finalPath + INCOMPLETE_SUFFIX, { force: true });
    return parallelOrSingle(ctx);
  }
  // No usable range state: its leftovers (if any) would only sit beside the committed file. A link or
  // anything else not a plain file at that name is refused, as at every temp name (safe-open.ts).
  partialSize(finalPath + PARALLEL_SUFFIX);
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
    await releaseThreads(result);
    throw err;
  }
  return parallelOrSingle(ctx, result);
}

async function parallelOrSingle(ctx: FetchContext, carried?: Switch): Promise<TempResult> {
  // Ranges: no verdict to wait for, only their first bytes.
  const started = ctx.started;
  const emit = ctx.emit;
  try {
    return await fetchParallel(started ? { ...ctx, emit: (e) => (e.type === "bytes" && started(), emit(e)) } : ctx, carried);
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
  const fh = await openPartial(finalPath + PARALLEL_SUFFIX, "resume");
  await fh.truncate(file.size).finally(() => fh.close());
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
  // Never through a link planted at the temp name (safe-open.ts); too long a partial file starts afresh.
  let offset = partialSize(tempPath);
  if (offset > file.size) offset = 0;
  if (file.size === 0) {
    ctx.emit({ type: "file-start", path: file.path, size: 0, resumeFrom: 0 });
    fs.closeSync(openPartialSync(tempPath, "create"));
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
    ctx.started?.();
    const worth = file.size - sink.accepted >= 2 * ctx.settings.partSizeBytes;
    if (verdict === "split") {
      splittable = false;
      return worth;
    }
    // A measurement can meet a moment when the machine was busy: look again a little later, a few times.
    splittable = verdict === "stay" && worth && ++probes < MAX_PROBES;
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
        if (!splittable) ctx.started?.();
        let take = n;
        if (ring.accepted + take > file.size) {
          overflow = true;
          take = Math.max(0, file.size - ring.accepted);
        }
        const room = ring.commit(take, () => body.resume());
        if (take > 0) ctx.emit({ type: "bytes", path: file.path, bytes: take });
        ctx.landed?.(ring.landed);
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
          if (!splittable) ctx.started?.();
          let data = chunk;
          if (sink.accepted + data.length > file.size) {
            overflow = true;
            data = data.subarray(0, Math.max(0, file.size - sink.accepted));
          }
          if (data.length > 0) {
            const wait = sink.add(data);
            ctx.emit({ type: "bytes", path: file.path, bytes: data.length });
            ctx.landed?.(sink.landed);
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
        ctx.landed?.(sink.landed);
      }
      if (!overflow && !split && sink.landed < file.size) throw premature(res, ctx);
    };
    await withRetries(ctx, attempt, () => sink.landed);
    offset = sink.landed;
    if (split) {
      // Its threads (and the hash of the bytes landed so far) go on in the range sink.
      const threads = sink instanceof WorkerSink ? await sink.handOver() : undefined;
      if (!threads) await sink.close();
      digest = "";
      return { switchAt: offset, carry, threads };
    }
    digest = await sink.finish();
  } finally {
    ctx.started?.();
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
