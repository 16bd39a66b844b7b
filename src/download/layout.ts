// Where a model's files live, exactly as the official client lays them out (protocol §5.1):
//   {cache}/models/{owner}--{name}/snapshots/{revision}/{path}   (datasets: {cache}/datasets/...)
// and a non-empty legacy folder ({cache}/models/{owner}/{name___} or {cache}/hub/models/...) is reused
// as if it were a local dir. Our own bookkeeping (verify records, the last listing) sits outside the
// snapshot folder, in {cache}/models/{owner}--{name}/.dc-meta/{revision}/ (or {localDir}/.dc-meta/),
// so neither client nor the local hub ever mistakes it for a model file.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { UsageError } from "../errors.js";
import { META_DIR_NAME, unsafePathReason } from "../hub/repo-path.js";
import { repoTypeSegment, type RepoType } from "../hub/types.js";

export { META_DIR_NAME };
export const INCOMPLETE_SUFFIX = ".incomplete";
export const PARALLEL_SUFFIX = ".parallel_tmp";
export const PARALLEL_STATE_SUFFIX = ".parallel_tmp.incomplete";

export interface Target {
  /** Folder the files go into. */
  root: string;
  /** Our bookkeeping for this target. */
  metaDir: string;
  kind: "cache" | "legacy" | "local";
}

/** A revision is used verbatim as a folder name, as the official client does: refuse anything unsafe. */
export function assertSafeRevision(revision: string): void {
  const reason = unsafePathReason(revision);
  if (reason || revision.startsWith(".")) {
    const shown = JSON.stringify(revision).slice(1, -1);
    throw new UsageError(`Invalid revision '${shown}'`, "use a branch, tag or commit id, e.g. master or v1.0", { key: "badRevision", vars: { revision: shown } });
  }
}

export function repoFolderName(modelId: string): string {
  const [owner, name] = modelId.split("/") as [string, string];
  return `${owner}--${name}`;
}

export function cacheRepoDir(cacheRoot: string, modelId: string, repoType?: RepoType): string {
  return path.join(cacheRoot, repoTypeSegment(repoType), repoFolderName(modelId));
}

export function snapshotDir(cacheRoot: string, modelId: string, revision: string, repoType?: RepoType): string {
  return path.join(cacheRepoDir(cacheRoot, modelId, repoType), "snapshots", ...revision.split("/"));
}

export function revisionMetaDir(cacheRoot: string, modelId: string, revision: string, repoType?: RepoType): string {
  return path.join(cacheRepoDir(cacheRoot, modelId, repoType), META_DIR_NAME, ...revision.split("/"));
}

/** The official client's legacy folders that it reuses when non-empty (`_find_legacy_repo_dir`). */
export function legacyRepoDir(cacheRoot: string, modelId: string, repoType?: RepoType): string | undefined {
  const [owner, name] = modelId.split("/") as [string, string];
  const masked = name.replace(/\./g, "___");
  const segment = repoTypeSegment(repoType);
  for (const base of [path.join(cacheRoot, segment), path.join(cacheRoot, "hub", segment)]) {
    const dir = path.join(base, owner, masked);
    try {
      if (fs.statSync(dir).isDirectory() && fs.readdirSync(dir).length > 0) return dir;
    } catch {
      // not there
    }
  }
  return undefined;
}

export function resolveTarget(cacheRoot: string, modelId: string, revision: string, localDir?: string, repoType?: RepoType): Target {
  if (localDir) {
    const root = path.resolve(localDir);
    return { root, metaDir: path.join(root, META_DIR_NAME), kind: "local" };
  }
  const legacy = legacyRepoDir(cacheRoot, modelId, repoType);
  if (legacy) return { root: legacy, metaDir: path.join(legacy, META_DIR_NAME), kind: "legacy" };
  return { root: snapshotDir(cacheRoot, modelId, revision, repoType), metaDir: revisionMetaDir(cacheRoot, modelId, revision, repoType), kind: "cache" };
}

export function localPathOf(target: Target, repoPath: string): string {
  return path.join(target.root, ...repoPath.split("/"));
}

/** Per-file lock, in the official client's lock folder ({cache}/.lock), keyed by the absolute target path. */
export function lockPathFor(cacheRoot: string, finalPath: string): string {
  const key = createHash("sha256").update(path.resolve(finalPath)).digest("hex").slice(0, 32);
  return path.join(cacheRoot, ".lock", `dc-${key}.lock`);
}

/** A name that is our temp file or the official client's (never a model file we report). */
export function isTempName(name: string): boolean {
  return name.endsWith(INCOMPLETE_SUFFIX) || name.endsWith(PARALLEL_SUFFIX);
}
