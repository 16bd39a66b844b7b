// The CDN: big files are redirected to signed, expiring URLs on a second host name, like the real hub's
// redirect to its object store. The signature is the permission (given by the download route after its
// access check). The URL is on the address the client used (public-url.ts).
import { createHmac, timingSafeEqual } from "node:crypto";
import { decodePart, type Call } from "../context.js";
import { cdnHostName, publicBase, publicUrlFor, refusesCredentials, requestHostName } from "../public-url.js";
import { xmlError } from "../respond.js";
import { REPO_TYPES, refOfFolder, typeFolder } from "../store/layout.js";
import type { StoredRepo } from "../store/repo-store.js";
import { sendFile } from "./file-body.js";
import { getAndHead, type Route } from "./route.js";

export const CDN_PREFIX = "/__cdn__/";
const CDN_URL_TTL_S = 3600;

function sign(call: Call, text: string): string {
  return createHmac("sha256", call.hub.cdnSecret).update(text).digest("hex");
}

export function signedCdnUrl(call: Call, repo: StoredRepo, revision: string, filePath: string): string {
  const expires = Math.floor(Date.now() / 1000) + CDN_URL_TTL_S;
  const objectPath = [typeFolder(repo.ref.type), repo.ref.folder, revision, ...filePath.split("/")].map(encodeURIComponent).join("/");
  const signature = sign(call, `${objectPath}\n${expires}`);
  const base = publicBase(call);
  return publicUrlFor(base, `${CDN_PREFIX}${objectPath}?Expires=${expires}&Signature=${signature}`, cdnHostName(call, base));
}

async function cdn(call: Call): Promise<void> {
  const { req, res, url } = call;
  // On its own name, like a presigned object store, it refuses hub credentials (clients must drop them on
  // the redirect); on the hub's own name (no second name known) they are harmless and ignored.
  const credentials = !!req.headers.authorization || /(?:^|;\s*)m_session_id=/.test(req.headers.cookie ?? "");
  if (credentials && refusesCredentials(call, requestHostName(call))) {
    return xmlError(res, 400, "InvalidArgument", "Hub credentials must not be sent to the CDN.");
  }
  const objectPath = url.pathname.slice(CDN_PREFIX.length);
  const expires = Number(url.searchParams.get("Expires"));
  const given = Buffer.from(url.searchParams.get("Signature") ?? "", "hex");
  const wanted = Buffer.from(sign(call, `${objectPath}\n${expires}`), "hex");
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return xmlError(res, 403, "SignatureDoesNotMatch", "Bad signature.");
  if (!(expires * 1000 > Date.now())) return xmlError(res, 403, "AccessDenied", "Request has expired.");
  const [typeDir = "", folder = "", revision = "", ...rest] = objectPath.split("/").map((p) => decodePart(p, "path"));
  const type = REPO_TYPES.find((t) => typeFolder(t) === typeDir);
  const ref = type && refOfFolder(type, folder);
  const repo = ref && call.hub.store.resolve(ref);
  const file = repo && call.hub.store.file(repo, revision, rest.join("/"));
  if (!repo || !file) return xmlError(res, 404, "NoSuchKey", "The specified key does not exist.");
  await sendFile(call, repo, revision, file);
}

export const cdnRoutes: Route[] = getAndHead(/^\/__cdn__\//, cdn);
