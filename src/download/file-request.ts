// One request for a file's bytes, and the rules every fetch of a file follows: where the request goes
// (the hub, or the file's signed CDN URL: file-link.ts), retries with backoff, typed errors, and reading
// a direct body into a sink. Used by the single stream (fetch.ts) and the range streams (parallel.ts).
import { AbortedError, ConnectionFailedError, ModelScopeError, RateLimitError, ServerError, ConnectionTimeoutError, localWriteError } from "../errors.js";
import { errorForNetwork } from "../http/error-mapping.js";
import { backoffDelay, sleep } from "../http/retry-policy.js";
import { DirectBody, HubClient, type HubFileResponse } from "../http/index.js";
import type { HubApi } from "../hub/api.js";
import type { RepoFile, RepoType } from "../hub/types.js";
import type { DownloadSettings } from "../settings.js";
import { FileLink, refusedLink } from "./file-link.js";
import type { ProgressEvent } from "./types.js";
import type { RingPair } from "./worker-sink.js";

export interface FetchContext {
  api: HubApi;
  modelId: string;
  /** Datasets are fetched from `datasets/{id}/repo` (default: a model). */
  repoType?: RepoType | undefined;
  revision: string;
  file: RepoFile;
  finalPath: string;
  settings: DownloadSettings;
  /** Resolved once per run (null: signed out), so every request of a run sends the same one. */
  token: string | null;
  maxBackoffMs: number;
  signal?: AbortSignal | undefined;
  emit: (event: ProgressEvent) => void;
  /** Bytes from the file's start on disk in its temp file, as they land (DownloadOptions.onLanded). */
  landed?: ((bytes: number) => void) | undefined;
  /**
   * Told (perhaps more than once) when this file no longer needs the process to itself: its bytes flow
   * and, on a stream that may split, its first split verdict is in (the other files' start-up, read into
   * that window, made a busy main thread look like a slow link); or it ended.
   */
  started?: (() => void) | undefined;
  /** Folders already made in this run (saves a mkdir per file). */
  madeDirs?: Set<string>;
  /** The file's signed CDN URL, once a request through the hub found it (file-link.ts); set per file. */
  link?: FileLink;
}


export interface TempResult {
  tempPath: string;
  sha256: string;
  bytes: number;
}


/**
 * Reads a direct body into `space()`: `onData(n)` says whether to go on (false: paused until
 * `body.resume()`, or the body was destroyed or detached). A throw stops the body and is rethrown.
 */
export async function receiveInto(body: DirectBody, space: () => Uint8Array, onData: (n: number) => boolean): Promise<void> {
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
export interface Switch {
  switchAt: number;
  carry?: DirectBody | undefined;
  /** The single stream's hashing and writing threads, to go on as the range sink's (hash at `switchAt`). */
  threads?: RingPair | undefined;
}

/** The server answered a Range request with the whole file. */
export class RangeIgnoredError extends Error {}

/** A thrown value as a typed error: ours as it is, a local disk failure as such, anything else a network failure at `url`. */
export function typedError(err: unknown, ctx: FetchContext, url: string): unknown {
  if (err instanceof ModelScopeError || err instanceof RangeIgnoredError) return err;
  return localWriteError(err, ctx.finalPath) ?? errorForNetwork(err, url, ctx.signal);
}

export function isRetryable(err: unknown): boolean {
  return err instanceof ConnectionFailedError || err instanceof ConnectionTimeoutError || err instanceof ServerError || err instanceof RateLimitError;
}

/** Runs one attempt at a time until it succeeds, retrying network failures with backoff (progress resets the count). */
export async function withRetries<T>(ctx: FetchContext, attemptFn: () => Promise<T>, progressed: () => number): Promise<T> {
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
export async function open(ctx: FetchContext, range?: { start: number; end?: number }, direct = false): Promise<HubFileResponse> {
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
    repoType: ctx.repoType,
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
export function contentRangeStart(res: HubFileResponse): number | undefined {
  const v = res.headers["content-range"];
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(Array.isArray(v) ? v[0] : (v ?? "")).trim());
  return m ? Number(m[1]) : undefined;
}

export function premature(res: { url: string } | undefined, ctx: FetchContext): ConnectionFailedError {
  const url = res?.url ? res.url.split("?")[0]! : ctx.api.endpoint;
  return new ConnectionFailedError(url, `the connection closed before the end of ${ctx.file.path}`);
}
