// Reads the official Python client's login: <home>/credentials/cookies, a pickled requests cookie jar.
// We only ever read it (never write): its `m_session_id` cookie is the token, unless it has expired.
import fs from "node:fs";
import path from "node:path";
import { Parser } from "pickleparser";

export function officialCookiesPath(home: string): string {
  return path.join(home, "credentials", "cookies");
}

interface PickledCookie {
  name?: unknown;
  value?: unknown;
  expires?: unknown;
}

/** Walks the jar's `_cookies[domain][path][name]` maps, wherever they nest, and yields cookie objects. */
function* cookiesIn(node: unknown, depth = 0): Generator<PickledCookie> {
  if (!node || typeof node !== "object" || depth > 6) return;
  const rec = node as Record<string, unknown>;
  if (typeof rec.name === "string" && "value" in rec) {
    yield rec as PickledCookie;
    return;
  }
  const children = node instanceof Map ? [...node.values()] : Object.values(rec);
  for (const child of children) yield* cookiesIn(child, depth + 1);
}

/**
 * The token from the official client's cookie jar, or undefined when there is none, it has expired,
 * or the file cannot be read as a pickle (a broken file must never stop a command from running).
 */
export function readOfficialCookieToken(home: string, now: Date = new Date()): string | undefined {
  let data: Buffer;
  try {
    data = fs.readFileSync(officialCookiesPath(home));
  } catch {
    return undefined;
  }
  let jar: unknown;
  try {
    jar = new Parser().parse(data);
  } catch {
    return undefined;
  }
  const root = (jar as { _cookies?: unknown })?._cookies ?? jar;
  for (const cookie of cookiesIn(root)) {
    if (cookie.name !== "m_session_id" || typeof cookie.value !== "string" || !cookie.value) continue;
    // http.cookiejar: expires is epoch seconds, or None for a session cookie (is_expired() is then false).
    if (typeof cookie.expires === "number" && cookie.expires * 1000 <= now.getTime()) continue;
    return cookie.value;
  }
  return undefined;
}
