// The real hub's dataset endpoints, over ROOT/datasets/<owner>--<name>/snapshots/<rev>/...: info (openapi
// and legacy, the legacy one carrying a numeric Id), the list, revisions, the paged file tree (by
// owner/name, and by the numeric Id the official client's compat API uses), and file bytes. Every one reaches
// the dataset through Call.repo, so access is decided in access.ts as for models.
import { createHash } from "node:crypto";
import { visibilityOf } from "../access.js";
import { Call, RULES_UNREADABLE } from "../context.js";
import { legacyError, legacyOk, openApiError, openApiOk } from "../respond.js";
import type { RepoRef } from "../store/layout.js";
import { download, listing } from "./files.js";
import { openApiInfo, revisions, visibleRepos } from "./repos.js";
import { REPO_ID, getAndHead, type Route } from "./route.js";

/** A dataset's numeric Id: stable (from its canonical id), below 2^48, never 0. */
export function datasetNumericId(ref: RepoRef): number {
  return (createHash("sha256").update(`dataset:${ref.id}`).digest().readUIntBE(0, 6) % 2 ** 48) + 1;
}

/** Legacy info: the model fields, plus the dataset's numeric Id (which `repo/tree` also accepts). */
function legacyDatasetInfo(call: Call): void {
  const repo = call.repo("dataset", "see");
  if (!repo) return;
  const files = call.hub.store.listFiles(repo, "master") ?? [];
  const mtime = Math.floor(Math.max(0, ...files.map((f) => f.mtimeMs)) / 1000);
  const { isPrivate } = visibilityOf(call.rules, repo.ref);
  legacyOk(call.res, {
    Id: datasetNumericId(repo.ref),
    Name: repo.ref.name,
    Namespace: repo.ref.owner,
    Path: repo.ref.owner,
    Owner: repo.ref.owner,
    ChineseName: repo.ref.name,
    Visibility: isPrivate ? 1 : 5,
    Type: 0,
    License: "Apache License 2.0",
    Description: "",
    Downloads: 0,
    Likes: 0,
    Tags: [],
    CreatedAt: mtime,
    LastUpdatedTime: mtime,
  });
}

/**
 * `repo/tree` by numeric Id: the Id is looked up among all datasets (private ones included), and the
 * answer then goes through the same access check as the owner/name form (a hidden dataset is a 404).
 */
async function treeByNumericId(call: Call): Promise<void> {
  const wanted = Number(call.params[0]);
  const ref = call.hub.store.list("dataset").find((r) => datasetNumericId(r.ref) === wanted)?.ref;
  if (!ref) return legacyError(call.res, 404, `Dataset ${call.params[0]} does not exist.`);
  await listing(new Call(call.hub, call.req, call.res, call.url, [ref.owner, ref.name]), "dataset");
}

function datasetList(call: Call): void {
  if (call.rules.locked) return openApiError(call.res, 503, RULES_UNREADABLE);
  const datasets = visibleRepos(call, "dataset").map(({ repo, isPrivate }) => ({ id: repo.ref.id, display_name: repo.ref.name, private: isPrivate }));
  openApiOk(call.res, { datasets, total_count: datasets.length, page_number: 1, page_size: datasets.length });
}

export const datasetRoutes: Route[] = [
  { method: "GET", path: new RegExp(`^/openapi/v1/datasets/${REPO_ID}$`), handle: (c) => openApiInfo(c, "dataset") },
  { method: "GET", path: /^\/openapi\/v1\/datasets$/, handle: datasetList },
  { method: "GET", path: new RegExp(`^/api/v1/datasets/${REPO_ID}/revisions$`), handle: (c) => revisions(c, "dataset") },
  { method: "GET", path: new RegExp(`^/api/v1/datasets/${REPO_ID}/repo/tree$`), handle: (c) => listing(c, "dataset") },
  { method: "GET", path: new RegExp(`^/api/v1/datasets/${REPO_ID}/repo/files$`), handle: (c) => listing(c, "dataset") },
  { method: "GET", path: /^\/api\/v1\/datasets\/(\d{1,16})\/repo\/tree$/, handle: treeByNumericId },
  ...getAndHead(new RegExp(`^/api/v1/datasets/${REPO_ID}/repo$`), (c) => download(c, "dataset")),
  { method: "GET", path: new RegExp(`^/api/v1/datasets/${REPO_ID}$`), handle: legacyDatasetInfo },
];
