// Sign-in: POST /api/v1/login (sets the m_session_id cookie, as the real hub does) and whoami.
import { RULES_UNREADABLE, type Call } from "../context.js";
import { legacyError, legacyOk, openApiError, openApiOk, readBody } from "../respond.js";
import type { Route } from "./route.js";

const AUTH_FAILED = "Authentication failed, please make sure that a valid ModelScope token is supplied.";
const TOO_MANY = "Too many failed sign-ins from this address; try again later.";
const SESSION_DAYS = 30;

/** Sign-in takes JSON only: a form or text/plain body (what a foreign page can post) is refused. */
function isJson(contentType: string | undefined): boolean {
  return /^application\/json\s*(;|$)/i.test(contentType ?? "");
}

async function login(call: Call): Promise<void> {
  const { req, res } = call;
  const wait = call.hub.signIns.retryAfter(call.address());
  if (wait > 0) return legacyError(res, 429, TOO_MANY, { "retry-after": String(wait) });
  if (!isJson(req.headers["content-type"])) return legacyError(res, 415, "Request body must be JSON (Content-Type: application/json)");
  let body: { AccessToken?: unknown };
  try {
    body = JSON.parse((await readBody(req, 64 * 1024)) || "{}") as { AccessToken?: unknown };
  } catch {
    return legacyError(res, 400, "Request body must be JSON");
  }
  if (typeof body?.AccessToken !== "string" || !body.AccessToken) return legacyError(res, 400, "AccessToken is required");
  if (call.rules.locked) return legacyError(res, 503, RULES_UNREADABLE);
  const user = call.rules.userForToken(body.AccessToken);
  if (!user) {
    await call.hub.signIns.failed(call.address());
    return legacyError(res, 401, AUTH_FAILED);
  }
  const expires = new Date(Date.now() + SESSION_DAYS * 24 * 3600 * 1000).toUTCString();
  const secure = isHttps(call) ? "; Secure" : "";
  res.setHeader("set-cookie", `m_session_id=${encodeURIComponent(body.AccessToken)}; Path=/; Expires=${expires}; HttpOnly; SameSite=Lax${secure}`);
  legacyOk(res, { AccessToken: `git-${user.username}`, Username: user.username, Email: user.email ?? "" });
}

/** Served over https: the public URL says so, or the TLS proxy in front does (it can only make the cookie stricter). */
function isHttps(call: Call): boolean {
  return call.hub.opts.publicUrl?.startsWith("https:") === true || call.req.headers["x-forwarded-proto"] === "https";
}

async function whoami(call: Call): Promise<void> {
  const wait = call.hub.signIns.retryAfter(call.address());
  if (wait > 0) return openApiError(call.res, 429, TOO_MANY, { "retry-after": String(wait) });
  if (call.rules.locked) return openApiError(call.res, 503, RULES_UNREADABLE);
  const user = call.caller();
  if (!user) {
    // whoami answers "is this token good" as sign-in does: its failures count the same.
    if (call.token()) await call.hub.signIns.failed(call.address());
    return openApiError(call.res, 401, AUTH_FAILED);
  }
  openApiOk(call.res, { id: user.id ?? null, username: user.username, email: user.email ?? null, avatar_url: null, description: user.description ?? "" });
}

export const authRoutes: Route[] = [
  { method: "POST", path: /^\/api\/v1\/login$/, handle: login },
  { method: "GET", path: /^\/openapi\/v1\/users\/me$/, handle: whoami },
];
