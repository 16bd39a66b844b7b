// A revision's file listing (repo/files) and a file's bytes (repo?FilePath=), which big files answer with
// a redirect to the CDN (cdn.ts), like the real hub's redirect to its object store.
import type { Call } from "../context.js";
import { legacyError, legacyOk } from "../respond.js";
import type { RepoType } from "../store/layout.js";
import { isCdnName, requestHostName } from "../public-url.js";
import { signedCdnUrl } from "./cdn.js";
import { sendFile } from "./file-body.js";
import { REPO_ID, getAndHead, type Route } from "./route.js";

const DEFAULT_REDIRECT_BYTES = 8 * 1024 * 1024;

export async function listing(call: Call, type: RepoType): Promise<void> {
  const repo = call.repo(type, "see");
  if (!repo) return;
  const q = call.url.searchParams;
  const revision = q.get("Revision") || "master";
  const recursive = (q.get("Recursive") ?? "True").toLowerCase() !== "false";
  const files = call.hub.store.listFiles(repo, revision, q.get("Root") ?? "", recursive);
  if (!files) return legacyError(call.res, 404, `Revision ${revision} of ${repo.ref.id} does not exist.`);
  const entries = await Promise.all(
    page(files, q).map(async (f) => ({
      Name: f.path.split("/").pop(),
      Path: f.path,
      Type: "blob",
      Size: f.size,
      Sha256: await call.hub.store.sha256(f, { repo, revision }),
      Revision: revision,
      IsLFS: f.size >= 1024 * 1024,
      Mode: "33188",
      InCheck: false,
      CommitMessage: "upload",
      CommittedDate: Math.floor(f.mtimeMs / 1000),
      CommitterName: "local-hub",
    })),
  );
  legacyOk(call.res, { Files: entries, IsVisual: 0 });
}

/** One page (PageNumber from 1, PageSize) when asked for, as the real hub pages a dataset's tree; else all. */
function page<T>(items: T[], q: URLSearchParams): T[] {
  const size = Number(q.get("PageSize"));
  if (!q.has("PageSize") || !Number.isInteger(size) || size < 1) return items;
  const number = Math.max(1, Math.floor(Number(q.get("PageNumber")) || 1));
  return items.slice((number - 1) * size, number * size);
}

export async function download(call: Call, type: RepoType): Promise<void> {
  const repo = call.repo(type, "download");
  if (!repo) return;
  const q = call.url.searchParams;
  const revision = q.get("Revision") || "master";
  const filePath = q.get("FilePath") ?? "";
  const file = call.hub.store.file(repo, revision, filePath);
  if (!file) return legacyError(call.res, 404, `File ${filePath} does not exist in ${repo.ref.id} at ${revision}.`);
  const threshold = call.hub.opts.redirectThresholdBytes ?? DEFAULT_REDIRECT_BYTES;
  // Asked on the CDN's own name already: served here, as before the redirect existed.
  if (file.size >= threshold && !isCdnName(call, requestHostName(call))) {
    call.res.writeHead(302, { location: signedCdnUrl(call, repo, revision, filePath), "content-length": "0" });
    call.res.end();
    return;
  }
  await sendFile(call, repo, revision, file);
}

export const fileRoutes: Route[] = [
  { method: "GET", path: new RegExp(`^/api/v1/models/${REPO_ID}/repo/files$`), handle: (c) => listing(c, "model") },
  ...getAndHead(new RegExp(`^/api/v1/models/${REPO_ID}/repo$`), (c) => download(c, "model")),
];
