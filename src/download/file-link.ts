// Where a file's bytes come from. The hub answers a file request with a 302 to a signed CDN URL; the
// first request of a file follows it (through the hub, with the token), and every later request of that
// file (ranges, resumes) goes straight to the signed URL, without the token, until it is about to expire
// or the CDN refuses it; then the hub is asked again. On the real hub each redirect is an API call: a
// 1 GiB file in 32 MiB ranges asked 30+ times where once is enough.
import { AbortedError, ModelScopeError, RateLimitError, ServerError } from "../errors.js";
import { isRetryableError } from "../http/error-mapping.js";
import type { HubClient } from "../http/hub-client.js";

/** A signed URL this close to its expiry is not used again (a range may take this long to start). */
const EXPIRY_MARGIN_MS = 60_000;

export class FileLink {
  private url: string | undefined;
  private expiresAtMs = Infinity;
  /** A request through the hub under way: the others wait for the URL it finds. */
  resolving: Promise<void> | undefined;
  /** The client for requests to the signed URL (made without a token). */
  client: HubClient | undefined;

  constructor(private readonly hubOrigin: string) {}

  /** The signed URL to use for the next request, or undefined: ask the hub. */
  current(now = Date.now()): string | undefined {
    return this.url !== undefined && this.expiresAtMs - now > EXPIRY_MARGIN_MS ? this.url : undefined;
  }

  /** A request through the hub ended up at `finalUrl`: remember it when it is off the hub's origin. */
  learn(finalUrl: string): void {
    let u: URL;
    try {
      u = new URL(finalUrl);
    } catch {
      return;
    }
    if (u.origin === this.hubOrigin) return;
    this.url = finalUrl;
    this.expiresAtMs = expiryOf(u);
  }

  /** The CDN refused `url` (expired, revoked): the next request asks the hub again. */
  drop(url: string): void {
    if (this.url === url) this.url = undefined;
  }
}

/**
 * When a signed URL stops working, from its query: `Expires` (epoch seconds: OSS, S3 v2, our hub) or
 * `X-Amz-Date` + `X-Amz-Expires` (S3 v4). Unknown: Infinity (used until refused).
 */
function expiryOf(u: URL): number {
  const q = u.searchParams;
  const expires = Number(q.get("Expires") ?? q.get("x-oss-expires") ?? NaN);
  if (Number.isFinite(expires) && expires > 0) return expires * 1000;
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(q.get("X-Amz-Date") ?? "");
  const secs = Number(q.get("X-Amz-Expires") ?? NaN);
  if (date && Number.isFinite(secs)) return Date.UTC(+date[1]!, +date[2]! - 1, +date[3]!, +date[4]!, +date[5]!, +date[6]!) + secs * 1000;
  return Infinity;
}

/** An answer from the CDN that says the URL itself is no good (not a network failure, not 429/5xx). */
export function refusedLink(err: unknown): boolean {
  if (!(err instanceof ModelScopeError) || err instanceof AbortedError || err instanceof RateLimitError || err instanceof ServerError || isRetryableError(err)) return false;
  return (err as { retryable?: boolean }).retryable !== true;
}
