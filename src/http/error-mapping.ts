// One function turns any failed request into a typed error. Call sites never look at status codes.
import {
  AbortedError,
  AccessDeniedError,
  ConnectionFailedError,
  ConnectionTimeoutError,
  InvalidTokenError,
  ModelScopeError,
  NotFoundError,
  NotLoggedInError,
  RateLimitError,
  ServerError,
  UsageError,
  type ErrorSubject,
} from "../errors.js";

const MESSAGE_KEYS = ["message", "Message", "msg", "Msg", "error", "Error", "detail", "Detail"];

/** The server's own message, from a JSON body's usual keys or the first line of text (the official rule). */
export function serverMessage(bodyText: string): string {
  try {
    const body = JSON.parse(bodyText) as Record<string, unknown>;
    for (const key of MESSAGE_KEYS) {
      const v = body?.[key];
      if (typeof v === "string" && v.trim()) return v.trim().slice(0, 500);
    }
    return "";
  } catch {
    return (bodyText.split(/\r?\n/, 1)[0] ?? "").slice(0, 500);
  }
}

/** What a 404 is about, named from the most specific subject. */
export function describeSubject(subject: ErrorSubject): string {
  if (subject.filePath) return `file '${subject.filePath}' in ${subject.modelId ?? "the model"}${subject.revision ? ` at revision '${subject.revision}'` : ""}`;
  if (subject.revision && subject.revision !== "master") return `${subject.modelId ?? "model"} at revision '${subject.revision}'`;
  return subject.modelId ?? "the requested resource";
}

export interface StatusContext {
  status: number;
  bodyText: string;
  tokenSent: boolean;
  subject: ErrorSubject;
  retryAfterMs?: number | undefined;
}

export function errorForStatus(ctx: StatusContext): ModelScopeError {
  const { status, subject } = ctx;
  if (status === 401) return ctx.tokenSent ? new InvalidTokenError(subject) : new NotLoggedInError(subject);
  if (status === 403) return new AccessDeniedError(subject);
  if (status === 404) return new NotFoundError(describeSubject(subject), subject, ctx.tokenSent);
  if (status === 429) return new RateLimitError(ctx.retryAfterMs, subject);
  if (status === 400 || status === 405 || status === 422) {
    const said = serverMessage(ctx.bodyText);
    return new UsageError(`The hub refused the request (${status})${said ? `: ${said}` : ""}`, "check the model ID, revision and file names in the command", { key: "hubRefused", vars: { status: String(status), said: said ? `：${said}` : "" } });
  }
  return new ServerError(status, serverMessage(ctx.bodyText), subject);
}

const TIMEOUT_CODES = new Set(["UND_ERR_CONNECT_TIMEOUT", "UND_ERR_HEADERS_TIMEOUT", "UND_ERR_BODY_TIMEOUT", "ETIMEDOUT"]);

/** Maps a thrown network error (undici or socket) to a typed error. The URL is shown without its query. */
export function errorForNetwork(err: unknown, url: string, signal?: AbortSignal): ModelScopeError {
  if (err instanceof ModelScopeError) return err;
  if (signal?.aborted) return new AbortedError();
  const e = err as { code?: string; cause?: { code?: string }; message?: string; name?: string };
  const code = e?.code ?? e?.cause?.code ?? "";
  const safeUrl = stripQuery(url);
  if (TIMEOUT_CODES.has(code)) {
    return new ConnectionTimeoutError(safeUrl, code === "UND_ERR_CONNECT_TIMEOUT" ? "connect" : "read", { cause: err });
  }
  if (e?.name === "AbortError") return new AbortedError();
  return new ConnectionFailedError(safeUrl, code || e?.message || "unknown error", { cause: err });
}

/** Signed CDN URLs carry secrets in their query: never show it. */
export function stripQuery(url: string): string {
  const i = url.indexOf("?");
  return i === -1 ? url : url.slice(0, i);
}

/** Network failures worth another attempt (not usage errors, not answers like 404). */
export function isRetryableError(err: ModelScopeError): boolean {
  return err instanceof ConnectionFailedError || err instanceof ConnectionTimeoutError;
}
