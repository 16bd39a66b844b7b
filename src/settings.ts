// Every environment variable and default the toolkit reads, in one place.
// Functions (not constants) so that tests and long-lived processes see the env they pass in.
import os from "node:os";
import path from "node:path";

export type Env = NodeJS.ProcessEnv;

export const DEFAULT_ENDPOINT = "https://modelscope.cn";
export const TOKEN_PAGE_URL = "https://modelscope.cn/my/myaccesstoken";
export const DEFAULT_REVISION = "master";

function nonEmpty(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v ? v : undefined;
}

/** Normalises a URL or bare domain: adds https:// when there is no scheme, strips trailing slashes. */
export function normalizeEndpoint(value: string): string {
  let v = value.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) v = `https://${v}`;
  return v.replace(/\/+$/, "");
}

export interface EndpointChoice {
  endpoint: string;
  /** Where it came from, as the user would name it. */
  source: "flag" | "MODELSCOPE_ENDPOINT" | "MODELSCOPE_DOMAIN" | "default";
}

/** --endpoint, else MODELSCOPE_ENDPOINT, else MODELSCOPE_DOMAIN (deprecated), else modelscope.cn. */
export function resolveEndpoint(explicit?: string, env: Env = process.env): EndpointChoice {
  const flag = nonEmpty(explicit);
  if (flag) return { endpoint: normalizeEndpoint(flag), source: "flag" };
  const fromEnv = nonEmpty(env.MODELSCOPE_ENDPOINT);
  if (fromEnv) return { endpoint: normalizeEndpoint(fromEnv), source: "MODELSCOPE_ENDPOINT" };
  const domain = nonEmpty(env.MODELSCOPE_DOMAIN);
  if (domain) return { endpoint: normalizeEndpoint(domain), source: "MODELSCOPE_DOMAIN" };
  return { endpoint: DEFAULT_ENDPOINT, source: "default" };
}

function homeDir(env: Env): string {
  return nonEmpty(env.HOME) ?? nonEmpty(env.USERPROFILE) ?? os.homedir();
}

/** Expands a leading ~ the way a shell would. */
export function expandHome(p: string, env: Env = process.env): string {
  if (p === "~") return homeDir(env);
  if (p.startsWith("~/")) return path.join(homeDir(env), p.slice(2));
  return p;
}

/** Config home: $MODELSCOPE_HOME, else ~/.modelscope. Holds `token` and the official client's `credentials/`. */
export function modelscopeHome(env: Env = process.env): string {
  const v = nonEmpty(env.MODELSCOPE_HOME);
  return v ? path.resolve(expandHome(v, env)) : path.join(homeDir(env), ".modelscope");
}

/** Cache root: explicit, else $MODELSCOPE_CACHE, else ~/.cache/modelscope (no `hub/`, as the official client). */
export function cacheRoot(explicit?: string, env: Env = process.env): string {
  const v = nonEmpty(explicit) ?? nonEmpty(env.MODELSCOPE_CACHE);
  return v ? path.resolve(expandHome(v, env)) : path.join(homeDir(env), ".cache", "modelscope");
}

function positiveNumber(env: Env, names: string[], fallback: number): number {
  for (const name of names) {
    const raw = nonEmpty(env[name]);
    if (raw === undefined) continue;
    const n = Number(raw);
    if (Number.isFinite(n) && n > 0) return n;
  }
  return fallback;
}

/** Retry counts may be 0 (no retry), unlike the official client, which treats 0 as "default". */
function nonNegativeInt(env: Env, names: string[], fallback: number): number {
  for (const name of names) {
    const raw = nonEmpty(env[name]);
    if (raw === undefined) continue;
    const n = Number(raw);
    if (Number.isInteger(n) && n >= 0) return n;
  }
  return fallback;
}

export interface NetworkSettings {
  /** Connect timeout in ms (MODELSCOPE_API_CONNECT_TIMEOUT, seconds; default 10). */
  connectTimeoutMs: number;
  /** Read timeout in ms: no byte for this long fails the request (MODELSCOPE_API_TIMEOUT, seconds; default 60). */
  readTimeoutMs: number;
  /** Attempts for idempotent requests after the first (MODELSCOPE_API_MAX_RETRIES; default 5). */
  maxRetries: number;
  /** Longest single backoff sleep in ms, whatever Retry-After says. */
  maxBackoffMs: number;
  /** false: a redirect to a loopback, private or link-local address is refused (a mirror of a public hub). */
  privateRedirects?: boolean;
}

export function networkSettings(env: Env = process.env): NetworkSettings {
  return {
    connectTimeoutMs: positiveNumber(env, ["MODELSCOPE_API_CONNECT_TIMEOUT"], 10) * 1000,
    readTimeoutMs: positiveNumber(env, ["MODELSCOPE_API_TIMEOUT", "API_TIMEOUT"], 60) * 1000,
    maxRetries: nonNegativeInt(env, ["MODELSCOPE_API_MAX_RETRIES", "API_MAX_RETRIES"], 5),
    maxBackoffMs: positiveNumber(env, ["MODELSCOPE_MAX_BACKOFF"], 30) * 1000,
  };
}

export interface DownloadSettings {
  /** Read timeout for file bodies in ms (MODELSCOPE_DOWNLOAD_TIMEOUT, seconds; default 60). */
  stallTimeoutMs: number;
  /** Per-file attempts on network failure (MODELSCOPE_DOWNLOAD_MAX_RETRIES; default 5). */
  maxRetries: number;
  /** Files at least this big are fetched in parallel byte ranges (MODELSCOPE_DOWNLOAD_PARALLEL_THRESHOLD_MB; default 64). */
  parallelThresholdBytes: number;
  /** Size of one byte range (MODELSCOPE_DOWNLOAD_PART_SIZE_MB; default 32). */
  partSizeBytes: number;
  /** Range streams per large file (MODELSCOPE_DOWNLOAD_PARALLEL_WORKERS; default 12, capped at 16: the fastest of 8, 12 and 16 on capped links within the memory budget). */
  rangeWorkers: number;
  /** A single stream with at least this much left hashes and writes on a worker thread (MODELSCOPE_DOWNLOAD_HASH_WORKER_MB; default 32). */
  workerSinkBytes: number;
  /**
   * Files at least this big (and over the parallel threshold) start as one stream and split into ranges
   * only when that stream is network-bound (MODELSCOPE_DOWNLOAD_ADAPTIVE_MIN_MB; default 256).
   */
  adaptiveMinBytes: number;
  /**
   * Files with at least this much left to fetch get their disk blocks reserved first (`fallocate`), so a
   * full disk fails at once and writes are cheaper (MODELSCOPE_DOWNLOAD_PREALLOCATE_MB; default 64).
   */
  preallocateMinBytes: number;
  /** Parts planned to land in file order from the start (range-state.ts planParts): set for a caller following the landed prefix (DownloadOptions.onLanded). */
  inOrderParts?: boolean;
}

const MiB = 1024 * 1024;

export function downloadSettings(env: Env = process.env): DownloadSettings {
  return {
    stallTimeoutMs: positiveNumber(env, ["MODELSCOPE_DOWNLOAD_TIMEOUT", "DOWNLOAD_TIMEOUT"], 60) * 1000,
    maxRetries: nonNegativeInt(env, ["MODELSCOPE_DOWNLOAD_MAX_RETRIES", "DOWNLOAD_RETRY_TIMES"], 5),
    parallelThresholdBytes: positiveNumber(env, ["MODELSCOPE_DOWNLOAD_PARALLEL_THRESHOLD_MB"], 64) * MiB,
    partSizeBytes: positiveNumber(env, ["MODELSCOPE_DOWNLOAD_PART_SIZE_MB"], 32) * MiB,
    rangeWorkers: Math.min(16, Math.floor(positiveNumber(env, ["MODELSCOPE_DOWNLOAD_PARALLEL_WORKERS"], 12))),
    workerSinkBytes: positiveNumber(env, ["MODELSCOPE_DOWNLOAD_HASH_WORKER_MB"], 32) * MiB,
    adaptiveMinBytes: positiveNumber(env, ["MODELSCOPE_DOWNLOAD_ADAPTIVE_MIN_MB"], 256) * MiB,
    // Below 64 MiB the saving does not pay for starting a process (~5 ms).
    preallocateMinBytes: positiveNumber(env, ["MODELSCOPE_DOWNLOAD_PREALLOCATE_MB"], 64) * MiB,
  };
}

const TRUTHY = new Set(["1", "true", "yes", "on"]);

/** MODELSCOPE_OFFLINE=1 (our addition; the official client only has local_files_only). */
export function offlineFromEnv(env: Env = process.env): boolean {
  return TRUTHY.has((env.MODELSCOPE_OFFLINE ?? "").trim().toLowerCase());
}

/** Message language: Chinese when the first set of LC_ALL, LC_MESSAGES, LANG starts with zh. */
export function messageLanguage(env: Env = process.env): "en" | "zh" {
  const locale = nonEmpty(env.LC_ALL) ?? nonEmpty(env.LC_MESSAGES) ?? nonEmpty(env.LANG) ?? "";
  return locale.toLowerCase().startsWith("zh") ? "zh" : "en";
}

/** MODELSCOPE_DISABLE_PROGRESS_BARS=1: no progress bars even on a terminal (as HF_HUB_DISABLE_PROGRESS_BARS). */
export function progressBarsDisabled(env: Env = process.env): boolean {
  return TRUTHY.has((env.MODELSCOPE_DISABLE_PROGRESS_BARS ?? "").trim().toLowerCase());
}
