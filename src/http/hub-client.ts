// The one door to the network. Every request to the hub (and to wherever it redirects) goes through
// HubClient.request: it adds credentials only for the hub's own origin, follows redirects without
// carrying them to other hosts, applies timeouts, retries idempotent requests on 429/5xx/network
// failures with capped backoff (honouring Retry-After), and turns every failure into a typed error.
// Each hop goes through undici (loaded at the first such request), except GETs asked for with `direct`
// (big file bodies, and JSON that `json` reads whole) over plain http with no proxy, which are read
// straight into the caller's memory (direct-get.ts).
import { randomUUID } from "node:crypto";
import type { Dispatcher } from "undici";
import type { Readable } from "node:stream";
import { ModelScopeError, AbortedError, BadResponseError, ConnectionFailedError, type ErrorSubject } from "../errors.js";
import type { NetworkSettings } from "../settings.js";
import { DirectBody, DirectBodyTooLargeError, DirectUnsupportedError, directAllowed, directGet } from "./direct-get.js";
import { isPrivateHost } from "./private-address.js";
import { directPut, isBodySource, sourceStream, type BodySource } from "./direct-put.js";
import { dispatcherFor, requestVia } from "./dispatcher.js";
import { errorForNetwork, errorForStatus, isRetryableError } from "./error-mapping.js";
import { REFUSED_MAX_RETRIES, noticeRetry } from "./retry-notice.js";
import { backoffDelay, isRetryableStatus, parseRetryAfter, sleep } from "./retry-policy.js";
import { USER_AGENT } from "../version.js";

const MAX_REDIRECTS = 5;
/** JSON answers bigger than this are refused: a listing of 100k files is ~30 MB. */
const MAX_JSON_BYTES = 64 * 1024 * 1024;

export interface HubRequestOptions {
  method?: "GET" | "HEAD" | "POST" | "PUT" | "DELETE";
  /** A path on the hub (`/api/v1/...`) or an absolute URL. */
  path: string;
  query?: Record<string, string | undefined>;
  headers?: Record<string, string>;
  json?: unknown;
  /**
   * A body that is not JSON (uploads): bytes, a stream, or a source to read (for a PUT with `direct`),
   * of exactly `length` bytes. Never re-sent on a redirect.
   */
  body?: { data: Buffer | Readable | BodySource; length: number; contentType?: string };
  /** Another origin that may get the credentials too (an upload host the hub named on its own domain). */
  trustOrigin?: (origin: string) => boolean;
  /** What the request is about, for error messages. */
  subject?: ErrorSubject;
  signal?: AbortSignal;
  /** Statuses that are answers rather than failures (default: 2xx). */
  accept?: (status: number) => boolean;
  /** Overrides the read timeout (downloads use their own stall timeout). */
  readTimeoutMs?: number;
  /** Overrides the retry count (0: one attempt). POST and PUT are never retried here. */
  maxRetries?: number;
  /** Add the OpenAPI session cookie too (the official client sends both on /openapi/v1). */
  openApi?: boolean;
  /** Called before each retry, so callers can show it. */
  onRetry?: (info: { attempt: number; delayMs: number; error: ModelScopeError }) => void;
  /**
   * A GET for a big body: where it can, read it straight into the caller's memory (`DirectBody`). A PUT
   * of a `BodySource`: where it can, written from reused buffers (direct-put.ts); the answer is a DirectBody.
   */
  direct?: boolean;
  /** With `direct`: the caller reads the body whole, so a chunked answer may come directly too. */
  wholeBody?: boolean;
  /** false: never send the token, whatever the origin (a signed CDN URL reused without the hub). */
  credentials?: boolean;
}

export interface HubResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable & Dispatcher.BodyMixin;
  /** The URL that answered, after redirects (for messages: strip its query before showing it). */
  url: string;
}

/** A body from either transport: undici's stream, or a direct one (only when asked for with `direct`). */
export type HubBody = (Readable & Dispatcher.BodyMixin) | DirectBody;

export interface HubFileResponse extends Omit<HubResponse, "body"> {
  body: HubBody;
}

/** Stops reading a body nobody wants. undici emits 'error' on destroy: listen, or the process dies. */
export function discardBody(body: HubBody): void {
  if (body instanceof DirectBody) return body.destroy();
  body.on("error", () => undefined);
  body.destroy();
}

/** One hop's answer, whichever transport carried it. */
interface Answer {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: HubBody;
}

export interface HubClientOptions {
  endpoint: string;
  token?: string | undefined;
  network: NetworkSettings;
}

export class HubClient {
  readonly endpoint: string;
  readonly origin: string;
  readonly token: string | undefined;
  readonly network: NetworkSettings;

  constructor(opts: HubClientOptions) {
    this.endpoint = opts.endpoint;
    this.origin = new URL(opts.endpoint).origin;
    this.token = opts.token;
    this.network = opts.network;
  }

  url(path: string, query?: Record<string, string | undefined>): string {
    const u = /^https?:\/\//i.test(path) ? new URL(path) : new URL(this.endpoint + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.append(k, v);
    return u.toString();
  }

  /** Sends a request, retrying where safe. The caller owns (and must consume or destroy) the body. */
  async request(opts: HubRequestOptions & { direct: boolean }): Promise<HubFileResponse>;
  async request(opts: HubRequestOptions): Promise<HubResponse>;
  async request(opts: HubRequestOptions): Promise<HubResponse | HubFileResponse> {
    const method = opts.method ?? "GET";
    const retries = method === "POST" || method === "PUT" ? 0 : (opts.maxRetries ?? this.network.maxRetries);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(opts);
      } catch (err) {
        const error = err instanceof ModelScopeError ? err : errorForNetwork(err, this.url(opts.path), opts.signal);
        const retryable = (error as { retryable?: boolean }).retryable === true || isRetryableError(error);
        const refused = error instanceof ConnectionFailedError && error.reason === "ECONNREFUSED";
        const allowed = refused ? Math.min(retries, REFUSED_MAX_RETRIES) : retries;
        if (!retryable || attempt >= allowed || opts.signal?.aborted) throw error;
        const retryAfter = (error as { retryAfterMs?: number }).retryAfterMs;
        const delayMs = backoffDelay(attempt + 1, this.network.maxBackoffMs, retryAfter);
        opts.onRetry?.({ attempt: attempt + 1, delayMs, error });
        noticeRetry({ attempt: attempt + 1, of: allowed, delayMs, error });
        await sleep(delayMs, opts.signal).catch(() => {
          throw new AbortedError();
        });
      }
    }
  }

  /** Sends a request and parses its JSON answer, unwrapping the hub's envelope (`Data` or `data`). */
  async json<T>(opts: HubRequestOptions): Promise<T> {
    // A GET's answer is read whole here, so it can come through the direct transport too.
    const res = await this.request({ ...opts, direct: opts.direct ?? true, wholeBody: true });
    let text: string;
    try {
      text = await readBodyText(res.body, MAX_JSON_BYTES, opts.subject);
    } catch (err) {
      throw errorForNetwork(err, res.url, opts.signal);
    }
    if (!text.trim()) return null as T;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new BadResponseError("The hub answered with something that is not JSON", opts.subject ?? {});
    }
    const env = body as Record<string, unknown>;
    if (env && typeof env === "object" && !Array.isArray(env)) {
      if ("Data" in env) return env.Data as T;
      if ("data" in env) return env.data as T;
    }
    return body as T;
  }

  /** One attempt, following redirects. Throws typed errors; retryable ones are marked. */
  private async once(opts: HubRequestOptions): Promise<HubFileResponse> {
    let url = this.url(opts.path, opts.query);
    let method = opts.method ?? "GET";
    let body: string | Buffer | Readable | BodySource | undefined = opts.json === undefined ? opts.body?.data : JSON.stringify(opts.json);
    const timeouts = { connectTimeoutMs: this.network.connectTimeoutMs, readTimeoutMs: opts.readTimeoutMs ?? this.network.readTimeoutMs };
    // Credentials go to the hub's origin only; once a redirect leaves it, they are gone for good.
    let credentialsAllowed = opts.credentials !== false;
    for (let hop = 0; ; hop++) {
      const target = new URL(url).origin;
      const sendCredentials = credentialsAllowed && (target === this.origin || opts.trustOrigin?.(target) === true) && this.token !== undefined;
      const headers: Record<string, string> = {
        "user-agent": USER_AGENT,
        "x-request-id": randomUUID().replace(/-/g, ""),
        ...opts.headers,
      };
      if (opts.json !== undefined && body !== undefined) headers["content-type"] = "application/json";
      else if (opts.body && body !== undefined) {
        headers["content-type"] = opts.body.contentType ?? "application/octet-stream";
        headers["content-length"] = String(opts.body.length);
      }
      if (sendCredentials) {
        headers.authorization = `Bearer ${this.token}`;
        headers.cookie = opts.openApi ? `m_session_id=${this.token}; modelscope_session=${this.token}` : `m_session_id=${this.token}`;
      }
      let res: Answer | undefined;
      try {
        if (opts.direct && method === "GET" && body === undefined && directAllowed(url)) {
          res = await directGet(url, { headers, signal: opts.signal, wholeBody: opts.wholeBody, ...timeouts }).catch((err: unknown) => {
            if (err instanceof DirectUnsupportedError) return undefined; // sent again below, through undici
            throw err;
          });
        } else if (opts.direct && method === "PUT" && isBodySource(body) && directAllowed(url)) {
          res = await directPut(url, body, opts.body!.length, { headers, signal: opts.signal, ...timeouts });
        }
        if (!res) {
          const dispatcher = await dispatcherFor(timeouts);
          const data = isBodySource(body) ? sourceStream(body, opts.body!.length) : body;
          res = await requestVia(dispatcher, url, { method, headers, body: data, signal: opts.signal });
        }
      } catch (err) {
        throw errorForNetwork(err, url, opts.signal);
      }
      const location = res.headers.location;
      if (res.statusCode >= 300 && res.statusCode < 400 && location && res.statusCode !== 304) {
        discardBody(res.body);
        if (hop >= MAX_REDIRECTS) throw new BadResponseError(`The hub redirected more than ${MAX_REDIRECTS} times`, opts.subject ?? {});
        const next = new URL(Array.isArray(location) ? location[0]! : location, url);
        if (next.protocol !== "https:" && next.protocol !== "http:") {
          throw new BadResponseError(`Refused a redirect to a ${next.protocol} URL`, opts.subject ?? {});
        }
        if (this.network.privateRedirects === false && isPrivateHost(next.hostname)) {
          throw new BadResponseError(`Refused a redirect to a private address (${next.host})`, opts.subject ?? {});
        }
        if (next.origin !== this.origin) credentialsAllowed = false;
        if (opts.body && body !== undefined && !(res.statusCode === 303 || ((res.statusCode === 301 || res.statusCode === 302) && method === "POST"))) {
          throw new BadResponseError("The hub redirected an upload; refused to send the bytes again elsewhere", opts.subject ?? {});
        }
        if (res.statusCode === 303 || ((res.statusCode === 301 || res.statusCode === 302) && method === "POST")) {
          method = "GET";
          body = undefined;
        }
        url = next.toString();
        continue;
      }
      const ok = opts.accept ? opts.accept(res.statusCode) : res.statusCode >= 200 && res.statusCode < 300;
      if (ok) return { status: res.statusCode, headers: res.headers, body: res.body, url };
      const bodyText = await (res.body instanceof DirectBody ? res.body.text(64 * 1024) : readText({ body: res.body }, 64 * 1024)).catch(() => "");
      const error = errorForStatus({
        status: res.statusCode,
        bodyText,
        tokenSent: sendCredentials,
        subject: opts.subject ?? {},
        retryAfterMs: parseRetryAfter(res.headers["retry-after"]),
      });
      if (isRetryableStatus(res.statusCode)) Object.assign(error, { retryable: true, retryAfterMs: parseRetryAfter(res.headers["retry-after"]) });
      throw error;
    }
  }
}

/** Reads either transport's body whole as UTF-8 text, refusing more than `limit` bytes. */
export async function readBodyText(body: HubBody, limit: number, subject: ErrorSubject = {}): Promise<string> {
  if (!(body instanceof DirectBody)) return readText({ body }, limit, subject);
  try {
    return await body.json(limit);
  } catch (err) {
    if (err instanceof DirectBodyTooLargeError) throw new BadResponseError(`The hub's answer is larger than ${limit} bytes`, subject);
    throw err;
  }
}

/** Reads a body as UTF-8 text, refusing more than `limit` bytes (a hostile server could send forever). */
export async function readText(res: { body: AsyncIterable<unknown> & { destroy(): void } }, limit: number, subject: ErrorSubject = {}): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      (res.body as unknown as { on(e: string, f: () => void): void }).on?.("error", () => undefined);
      res.body.destroy();
      throw new BadResponseError(`The hub's answer is larger than ${limit} bytes`, subject);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
