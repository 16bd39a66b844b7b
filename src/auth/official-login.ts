// Writes and removes the official Python client's login, so one `modelscope login` signs in both tools:
// <home>/credentials/cookies, a pickled `requests` RequestsCookieJar holding one `m_session_id` cookie,
// as the official client's own HubConfig.save_token builds it (domain: the hub's host, path /, 30 days).
// The reader (and its hardening) is official-cookies.ts.
import { removeFileIfExists, writeFileAtomic } from "../util/atomic-write.js";
import { officialCookiesPath } from "./official-cookies.js";
import { PyDict, PyObject, PyTuple, pickle, type PyValue } from "./pickle-write.js";

/** How long the official client's own saved login lasts. */
export const OFFICIAL_COOKIE_DAYS = 30;

/** The pickle bytes of a jar with `m_session_id=token` for `endpoint`'s host, expiring at `expires` (epoch s). */
export function officialCookieJar(token: string, endpoint: string, expires: number): Buffer {
  const domain = new URL(endpoint).hostname.replace(/^\[|\]$/g, "") || "modelscope.cn";
  const dict = (o: Record<string, PyValue>) => new PyDict(Object.entries(o));
  // http.cookiejar.Cookie's __dict__, in its own order (what pickle.dump of one writes).
  const cookie = new PyObject(
    "http.cookiejar",
    "Cookie",
    dict({
      version: 0,
      name: "m_session_id",
      value: token,
      port: null,
      port_specified: false,
      domain,
      domain_specified: true,
      domain_initial_dot: false,
      path: "/",
      path_specified: true,
      secure: false,
      expires,
      discard: false,
      comment: null,
      comment_url: null,
      rfc2109: false,
      _rest: dict({}),
    }),
  );
  // DefaultCookiePolicy() with its defaults: the jar needs a policy to be usable by a requests Session.
  const policy = new PyObject(
    "http.cookiejar",
    "DefaultCookiePolicy",
    dict({
      netscape: true,
      rfc2965: false,
      rfc2109_as_netscape: null,
      hide_cookie2: false,
      strict_domain: false,
      strict_rfc2965_unverifiable: true,
      strict_ns_unverifiable: false,
      strict_ns_domain: 0,
      strict_ns_set_initial_dollar: false,
      strict_ns_set_path: false,
      secure_protocols: new PyTuple(["https", "wss"]),
      _blocked_domains: new PyTuple([]),
      _allowed_domains: null,
    }),
  );
  // RequestsCookieJar.__getstate__ is its __dict__ without the lock; __setstate__ adds a new lock.
  const jar = new PyObject("requests.cookies", "RequestsCookieJar", dict({ _policy: policy, _cookies: dict({ [domain]: dict({ "/": dict({ m_session_id: cookie }) }) }) }));
  return pickle(jar);
}

/** Signs the official client in with `token` (file 0600 in a 0700 folder, replaced atomically). */
export async function writeOfficialLogin(home: string, token: string, endpoint: string, now: Date = new Date()): Promise<void> {
  const expires = Math.floor(now.getTime() / 1000) + OFFICIAL_COOKIE_DAYS * 24 * 3600;
  await writeFileAtomic(officialCookiesPath(home), officialCookieJar(token, endpoint, expires), { mode: 0o600, dirMode: 0o700 });
}

/** Signs the official client out (as its own logout: the jar goes; git_token, user, session stay). */
export function deleteOfficialLogin(home: string): Promise<boolean> {
  return removeFileIfExists(officialCookiesPath(home));
}
