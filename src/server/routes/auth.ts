// Sign-in: POST /api/v1/login (sets the m_session_id cookie, as the real hub does) and whoami.
import type { Call } from "../context.js";
import { legacyError, legacyOk, openApiError, openApiOk, readBody } from "../respond.js";
import type { Route } from "./route.js";

const AUTH_FAILED = "Authentication failed, please make sure that a valid ModelScope token is supplied.";
const SESSION_DAYS = 30;

async function login(call: Call): Promise<void> {
  const { req, res } = call;
  let body: { AccessToken?: unknown };
  try {
    body = JSON.parse((await readBody(req, 64 * 1024)) || "{}") as { AccessToken?: unknown };
  } catch {
    return legacyError(res, 400, "Request body must be JSON");
  }
  if (typeof body?.AccessToken !== "string" || !body.AccessToken) return legacyError(res, 400, "AccessToken is required");
  const user = call.rules.userForToken(body.AccessToken);
  if (!user) return legacyError(res, 401, AUTH_FAILED);
  const expires = new Date(Date.now() + SESSION_DAYS * 24 * 3600 * 1000).toUTCString();
  res.setHeader("set-cookie", `m_session_id=${encodeURIComponent(body.AccessToken)}; Path=/; Expires=${expires}; HttpOnly`);
  legacyOk(res, { AccessToken: `git-${user.username}`, Username: user.username, Email: user.email ?? "" });
}

function whoami(call: Call): void {
  const user = call.caller();
  if (!user) return openApiError(call.res, 401, AUTH_FAILED);
  openApiOk(call.res, { id: user.id ?? null, username: user.username, email: user.email ?? null, avatar_url: null, description: user.description ?? "" });
}

export const authRoutes: Route[] = [
  { method: "POST", path: /^\/api\/v1\/login$/, handle: login },
  { method: "GET", path: /^\/openapi\/v1\/users\/me$/, handle: whoami },
];
