// The typed error family. The library throws these; the CLI turns each class into one line plus a fix
// (src/cli/messages.ts). Messages here are for library users and logs: they never contain a token.

/** What a failing request was about, so a message can name it ("model acme/x", "file a.bin"). */
export interface ErrorSubject {
  modelId?: string;
  revision?: string;
  filePath?: string;
}

export abstract class ModelScopeError extends Error {
  /** 1: hub, network or integrity failure. 2: bad usage or bad config. */
  readonly exitCode: 1 | 2 = 1;
  constructor(
    message: string,
    readonly subject: ErrorSubject = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The hub rejected the token (401 on a request that carried one). */
export class InvalidTokenError extends ModelScopeError {
  constructor(subject: ErrorSubject = {}, options?: { cause?: unknown }) {
    super("Invalid token: the hub rejected it", subject, options);
  }
}

/** A call that needs a token was made without one, or the hub answered 401 to an anonymous request. */
export class NotLoggedInError extends ModelScopeError {
  constructor(subject: ErrorSubject = {}) {
    super("Not logged in: this needs a ModelScope token", subject);
  }
}

/** 403: signed in, but not allowed. */
export class AccessDeniedError extends ModelScopeError {
  constructor(subject: ErrorSubject = {}) {
    super(`Access denied${subject.modelId ? ` to ${subject.modelId}` : ""}`, subject);
  }
}

/** 404: missing model, revision or file, or a private model the caller cannot see (the hub hides those). */
export class NotFoundError extends ModelScopeError {
  /** Whether the request carried a token: the fix differs (sign in, or ask the owner). */
  constructor(
    readonly what: string,
    subject: ErrorSubject = {},
    readonly signedIn = false,
  ) {
    super(`Not found: ${what}`, subject);
  }
}

/** No answer in time (connect or read). */
export class ConnectionTimeoutError extends ModelScopeError {
  constructor(
    readonly url: string,
    readonly phase: "connect" | "read",
    options?: { cause?: unknown },
  ) {
    super(`Connection timeout (${phase}) talking to ${url}`, {}, options);
  }
}

/** Could not connect at all (refused, DNS, reset before any answer, TLS). */
export class ConnectionFailedError extends ModelScopeError {
  constructor(
    readonly url: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Connection failed talking to ${url}: ${reason}`, {}, options);
  }
}

/** 429 after every retry. */
export class RateLimitError extends ModelScopeError {
  constructor(readonly retryAfterMs: number | undefined, subject: ErrorSubject = {}) {
    super("Rate limited by the hub", subject);
  }
}

/** 5xx after every retry, or any other unexpected status. */
export class ServerError extends ModelScopeError {
  constructor(
    readonly status: number,
    readonly serverMessage: string,
    subject: ErrorSubject = {},
  ) {
    super(`Hub error ${status}${serverMessage ? `: ${serverMessage}` : ""}`, subject);
  }
}

/** The hub answered something we cannot use (bad JSON, a hostile file path, a wrong byte count). */
export class BadResponseError extends ModelScopeError {
  constructor(message: string, subject: ErrorSubject = {}) {
    super(message, subject);
  }
}

/** Downloaded bytes did not match the listing's size or sha256, even after retries. */
export class IntegrityError extends ModelScopeError {
  constructor(
    readonly file: string,
    readonly detail: string,
    subject: ErrorSubject = {},
  ) {
    super(`Integrity check failed: ${file} (${detail})`, subject);
  }
}

/** The local side failed: the disk is full, over quota, read-only or refuses us. Not retried. */
export class LocalWriteError extends ModelScopeError {
  constructor(
    readonly code: string,
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(`Could not write ${file}: ${LOCAL_WRITE_REASONS[code] ?? code}`, {}, options);
  }
}

const LOCAL_WRITE_REASONS: Record<string, string> = {
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EROFS: "read-only file system",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EIO: "input/output error",
  EFBIG: "file too large for this file system",
};

/** A failed file-system call on our side (the codes above), as a LocalWriteError; undefined otherwise. */
export function localWriteError(err: unknown, file: string): LocalWriteError | undefined {
  const e = err as NodeJS.ErrnoException | undefined;
  if (!e || typeof e.code !== "string" || !(e.code in LOCAL_WRITE_REASONS) || typeof e.syscall !== "string") return undefined;
  return new LocalWriteError(e.code, file, { cause: err });
}

/**
 * Something we were about to write in the cache or --local-dir is a symbolic link (or a pipe, a folder, a
 * file of another user) that this tool did not make: refused rather than written through. Not retried.
 */
export class UnsafeLocalFileError extends ModelScopeError {
  constructor(
    readonly file: string,
    /** What is there instead: "a symbolic link", "a named pipe", ... */
    readonly found: string,
  ) {
    super(`Refused to write through ${file}: it is ${found}, not a file this tool made`);
  }
}

/** Cached files that no longer match the hub's listing (`cache verify`). */
export class CorruptCacheError extends ModelScopeError {
  constructor(
    /** Each bad file with what is wrong ("sha256 differs", "size differs: 10 bytes, the hub says 12"). */
    readonly files: { path: string; problem: string }[],
    subject: ErrorSubject = {},
    /** Where the files are, as the flags that name it again (" --local-dir DIR"), for the fix. */
    readonly where: string = "",
  ) {
    super(`${files.length} cached file(s) do not match the hub: ${files.map((f) => `${f.path} (${f.problem})`).join(", ")}`, subject);
  }
}

/** Some files of a snapshot failed; each failure is kept. */
export class DownloadFailedError extends ModelScopeError {
  constructor(readonly failures: { file: string; error: Error }[], subject: ErrorSubject = {}) {
    super(`${failures.length} file(s) failed to download: ${failures.map((f) => f.file).join(", ")}`, subject);
  }
}

/** Offline, and what was asked for is not in the cache. */
export class OfflineCacheMissError extends ModelScopeError {
  constructor(readonly missing: string[], subject: ErrorSubject = {}) {
    super(`Offline and not cached: ${missing.join(", ")}`, subject);
  }
}

/** Bad flags, arguments or model IDs. Exit code 2. */
export class UsageError extends ModelScopeError {
  override readonly exitCode = 2 as const;
  constructor(
    message: string,
    readonly fix?: string,
    /** The same problem as a key of the CLI's translations (messages.ts USAGE_ZH) and the values it names. */
    readonly text?: { key: string; vars?: Record<string, string> },
  ) {
    super(message);
  }
}

/** One problem in a DeepCompressor config, with where it is. */
export interface ConfigProblem {
  file: string;
  line?: number;
  column?: number;
  key?: string;
  message: string;
}

/** Bad DeepCompressor config: every problem found, at once. Exit code 2. */
export class ConfigError extends ModelScopeError {
  override readonly exitCode = 2 as const;
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatConfigProblem).join("\n"));
  }
}

export function formatConfigProblem(p: ConfigProblem): string {
  const where = [p.file, p.line, p.column].filter((x) => x !== undefined).join(":");
  return `${where}: ${p.key ? `${p.key}: ` : ""}${p.message}`;
}

/** The operation was cancelled (AbortSignal or Ctrl-C). Exit code 130 in the CLI. */
export class AbortedError extends ModelScopeError {
  constructor() {
    super("Interrupted");
  }
}

/** A model ID: `owner/name` with safe characters (letters, digits, '.', '_', '-'), no `..`. */
export function isModelId(id: string): boolean {
  return /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(id) && !id.includes("..");
}

/** Throws when a model ID is not `owner/name` with safe characters. */
export function assertModelId(id: string): void {
  if (!isModelId(id)) {
    throw new UsageError(`Invalid model ID '${id}'`, "use the form owner/name, for example qwen/Qwen-7B-Chat", { key: "badModelId", vars: { id } });
  }
}

/** A credential (token-like key or value) in a config: refused, never echoed. Exit code 2. */
export class ConfigSecretError extends ConfigError {}

// --- publishing (create / upload) ----------------------------------------------------------------

/** Creating a repo whose name is taken (the hub's "already exists" answer). Exit code 2, as the official client. */
export class RepoExistsError extends ModelScopeError {
  override readonly exitCode = 2 as const;
  constructor(readonly repoId: string) {
    super(`Repository ${repoId} already exists`, { modelId: repoId });
  }
}

/** Signed in, but not allowed to create or write this repo (403 on a write). */
export class WriteDeniedError extends ModelScopeError {
  constructor(
    readonly repoId: string,
    readonly operation: "create" | "upload" | "tag" | "delete",
  ) {
    super(`Not allowed to ${operation === "create" ? "create" : "write to"} ${repoId}`, { modelId: repoId });
  }
}

/** Uploading to a repo that does not exist (or that the caller cannot see), without asking to create it. */
export class RepoMissingError extends ModelScopeError {
  constructor(readonly repoId: string) {
    super(`Repository ${repoId} does not exist (or is private to someone else)`, { modelId: repoId });
  }
}

/** A local file changed while it was hashed or sent: it is not committed. */
export class FileChangedError extends ModelScopeError {
  constructor(readonly file: string) {
    super(`${file} changed while it was being uploaded`);
  }
}

/** The hub refused the commit (or a blob) for a reason that another attempt will not fix. Nothing was committed. */
export class CommitRefusedError extends ModelScopeError {
  constructor(
    readonly serverMessage: string,
    subject: ErrorSubject = {},
  ) {
    super(`The hub refused the commit${serverMessage ? `: ${serverMessage}` : ""}`, subject);
  }
}

/** Some blobs could not be sent; nothing was committed. */
export class UploadFailedError extends ModelScopeError {
  constructor(readonly failures: { file: string; error: Error }[], subject: ErrorSubject = {}) {
    super(`${failures.length} file(s) failed to upload, nothing was committed: ${failures.map((f) => f.file).join(", ")}`, subject);
  }
}
