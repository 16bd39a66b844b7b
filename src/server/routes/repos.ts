// Repo info (openapi and legacy), the repo list, and revisions. Written for a repo type; the model paths
// are registered here, a dataset route file can register the same handlers under `datasets`.
import { mayAccess, visibilityOf } from "../access.js";
import { RULES_UNREADABLE, type Call } from "../context.js";
import { legacyOk, openApiError, openApiOk } from "../respond.js";
import type { StoredRepo } from "../store/repo-store.js";
import type { RepoType } from "../store/layout.js";
import { REPO_ID, type Route } from "./route.js";
import { tagsOf } from "../store/commits.js";

function summary(call: Call, repo: StoredRepo) {
  const files = call.hub.store.listFiles(repo, "master") ?? [];
  const size = files.reduce((n, f) => n + f.size, 0);
  const mtime = Math.floor(Math.max(0, ...files.map((f) => f.mtimeMs)) / 1000);
  return { ...visibilityOf(call.rules, repo.ref), size, mtime };
}

export function openApiInfo(call: Call, type: RepoType): void {
  const repo = call.repo(type, "see", "openapi");
  if (!repo) return;
  const f = summary(call, repo);
  openApiOk(call.res, {
    id: repo.ref.id,
    display_name: repo.ref.name,
    private: f.isPrivate,
    gated: f.gated,
    login_required: f.isPrivate || f.gated,
    downloads: 0,
    likes: 0,
    license: "Apache License 2.0",
    tasks: [],
    tags: [],
    file_size: f.size,
    created_at: f.mtime,
    last_modified: f.mtime,
  });
}

export function legacyInfo(call: Call, type: RepoType): void {
  const repo = call.repo(type, "see");
  if (!repo) return;
  const f = summary(call, repo);
  legacyOk(call.res, {
    Id: 0,
    Name: repo.ref.name,
    Path: repo.ref.owner,
    Owner: repo.ref.owner,
    ChineseName: repo.ref.name,
    Visibility: f.isPrivate ? 1 : 5,
    License: "Apache License 2.0",
    Description: "",
    Downloads: 0,
    Likes: 0,
    Tags: [],
    CreatedAt: f.mtime,
    LastUpdatedTime: f.mtime,
  });
}

/** The repos the caller may see, by canonical id; `?owner=` narrows to one namespace. */
export function visibleRepos(call: Call, type: RepoType): { repo: StoredRepo; isPrivate: boolean }[] {
  const owner = call.url.searchParams.get("owner");
  const user = call.caller();
  return call.hub.store
    .list(type)
    .filter((r) => (!owner || r.ref.owner === owner) && mayAccess(call.rules, user, r.ref, "see").ok)
    .map((repo) => ({ repo, isPrivate: visibilityOf(call.rules, repo.ref).isPrivate }));
}

function modelList(call: Call): void {
  if (call.rules.locked) return openApiError(call.res, 503, RULES_UNREADABLE);
  const models = visibleRepos(call, "model").map(({ repo, isPrivate }) => ({ id: repo.ref.id, display_name: repo.ref.name, private: isPrivate }));
  openApiOk(call.res, { models, total_count: models.length, page_number: 1, page_size: models.length });
}

export function revisions(call: Call, type: RepoType): void {
  const repo = call.repo(type, "see");
  if (!repo) return;
  const all = call.hub.store.revisions(repo).map((r) => ({ Revision: r.name, CreatedAt: r.createdAt, Description: "" }));
  // Version-looking names are tags (newest first, as the real hub orders them); the rest are branches.
  const tags = tagsOf(repo.dir);
  const isTag = (n: string) => Object.hasOwn(tags, n) || /^v?\d/.test(n);
  legacyOk(call.res, {
    RevisionMap: {
      Branches: all.filter((r) => !isTag(r.Revision)),
      Tags: all.filter((r) => isTag(r.Revision)).sort((a, b) => b.CreatedAt - a.CreatedAt),
    },
  });
}

export const repoRoutes: Route[] = [
  { method: "GET", path: new RegExp(`^/openapi/v1/models/${REPO_ID}$`), handle: (c) => openApiInfo(c, "model") },
  { method: "GET", path: /^\/openapi\/v1\/models$/, handle: modelList },
  // The official client asks this on every download (waiting up to 0.2 s) for an in-cloud fast path: none here.
  { method: "GET", path: /^\/api\/v1\/repos\/internalAccelerationInfo$/, handle: (c) => legacyOk(c.res, { InternalRegionQueryAddress: "" }) },
  { method: "GET", path: new RegExp(`^/api/v1/models/${REPO_ID}/revisions$`), handle: (c) => revisions(c, "model") },
  { method: "GET", path: new RegExp(`^/api/v1/models/${REPO_ID}$`), handle: (c) => legacyInfo(c, "model") },
];
