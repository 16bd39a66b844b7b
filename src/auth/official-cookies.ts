// Reads the official Python client's login: <home>/credentials/cookies, a pickled requests cookie jar.
// We only ever read it (never write): its `m_session_id` cookie is the token, unless it has expired.
import path from "node:path";
import { createRequire } from "node:module";
import type { Parser as PickleParser } from "pickleparser";
import { readSmallFileSync } from "../util/safe-open.js";
import { pickleOverBudget } from "./pickle-budget.js";
import { warnOnce } from "../util/warn.js";

export function officialCookiesPath(home: string): string {
  return path.join(home, "credentials", "cookies");
}

interface PickledCookie {
  name?: unknown;
  value?: unknown;
  expires?: unknown;
}

/** A real jar is about 1 KB; more is not the official client's login. */
const MAX_JAR_BYTES = 64 * 1024;
/** Objects looked at in the jar, at most (shared references are looked at once). */
const MAX_NODES = 10_000;
/** A jar of 8 cookies is ~500 pickle operations and 10 BUILDs: room for ~150 cookies, bounded work. */
const BUDGET = { maxOps: 10_000, maxBuilds: 64 };

class JarTooComplex extends Error {}

/**
 * The cookie objects in the jar's `_cookies[domain][path][name]` maps, wherever they nest. Each object is
 * looked at once (a crafted pickle can share one list thousands of times) and at most MAX_NODES in all.
 */
function cookiesIn(root: unknown): PickledCookie[] {
  const found: PickledCookie[] = [];
  const seen = new Set<object>();
  const stack: { node: unknown; depth: number }[] = [{ node: root, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (!node || typeof node !== "object" || depth > 6 || seen.has(node)) continue;
    seen.add(node);
    if (seen.size > MAX_NODES) throw new JarTooComplex(`more than ${MAX_NODES} objects`);
    const rec = node as Record<string, unknown>;
    if (typeof rec.name === "string" && "value" in rec) {
      found.push(rec as PickledCookie);
      continue;
    }
    const children = node instanceof Map ? [...node.values()] : Object.values(rec);
    // Pushed last to first, so the jar's own order is kept (the first live m_session_id wins, as before).
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i];
      if (child && typeof child === "object" && !seen.has(child)) stack.push({ node: child, depth: depth + 1 });
    }
    if (stack.length > MAX_NODES) throw new JarTooComplex(`more than ${MAX_NODES} objects`);
  }
  return found;
}

/** Says once that the jar is ignored, and why. */
function unreadable(file: string, why: string): undefined {
  warnOnce("official-cookies", {
    en: `ignoring the official client's login ${file}: ${why} (not signed in through it; run \`modelscope login\` to sign in)`,
    zh: `忽略官方客户端的登录信息 ${file}：${why}（不会用它登录；请运行 \`modelscope login\` 登录）`,
  });
  return undefined;
}

/** Loaded only when a jar is there to read: most runs have none, and loading it is ~5 ms of every start. */
function loadPickleParser(): typeof PickleParser {
  return (createRequire(import.meta.url)("pickleparser") as { Parser: typeof PickleParser }).Parser;
}

/**
 * The token from the official client's cookie jar, or undefined when there is none or it has expired.
 * A jar that cannot be read (not a regular file, too big, not a pickle, too many objects) counts as no
 * login, with a one-line warning: a broken or crafted file must never stop or stall a command.
 */
export function readOfficialCookieToken(home: string, now: Date = new Date()): string | undefined {
  const file = officialCookiesPath(home);
  const read = readSmallFileSync(file, MAX_JAR_BYTES);
  if (!read) return undefined;
  if ("problem" in read) return unreadable(file, read.problem);
  const over = pickleOverBudget(read.data, BUDGET);
  if (over) return unreadable(file, over);
  let cookies: PickledCookie[];
  try {
    const jar = new (loadPickleParser())().parse(read.data) as { _cookies?: unknown } | undefined;
    cookies = cookiesIn(jar?._cookies ?? jar);
  } catch (err) {
    return unreadable(file, err instanceof JarTooComplex ? err.message : "not a cookie jar the official client wrote");
  }
  for (const cookie of cookies) {
    if (cookie.name !== "m_session_id" || typeof cookie.value !== "string" || !cookie.value) continue;
    // http.cookiejar: expires is epoch seconds, or None for a session cookie (is_expired() is then false).
    if (typeof cookie.expires === "number" && cookie.expires * 1000 <= now.getTime()) continue;
    return cookie.value;
  }
  return undefined;
}
