// Repo-level operations: create (private unless asked otherwise), tag, delete files.
import { NotLoggedInError, RepoExistsError } from "../errors.js";
import { HubApi } from "../hub/api.js";
import { assertRepoId, deleteRemoteFile, postCreateRepo, postTag, repoPlural } from "../hub/repo-api.js";
import { unsafePathReason } from "../hub/repo-path.js";
import { UsageError } from "../errors.js";
import { DEFAULT_REVISION } from "../settings.js";
import type { CreateRepoOptions, CreateRepoResult, RepoOptions } from "./types.js";

function signedInClient(api: HubApi, repoId: string) {
  const token = api.getToken();
  if (!token) throw new NotLoggedInError({ modelId: repoId });
  return api.client(token);
}

/** Creates a repo, private by default. With `existOk`, an existing repo is returned as `created: false`. */
export async function createRepo(repoId: string, opts: CreateRepoOptions = {}): Promise<CreateRepoResult> {
  assertRepoId(repoId);
  const api = opts.api ?? new HubApi();
  const repoType = opts.repoType ?? "model";
  const client = signedInClient(api, repoId);
  const url = `${api.endpoint}/${repoPlural(repoType)}/${repoId}`;
  try {
    await postCreateRepo(client, {
      repoId,
      repoType,
      visibility: opts.visibility ?? "private",
      license: opts.license,
      chineseName: opts.chineseName,
      description: opts.description,
      signal: opts.signal,
    });
  } catch (err) {
    if (err instanceof RepoExistsError && opts.existOk) return { repoId, repoType, created: false, url };
    throw err;
  }
  return { repoId, repoType, created: true, url };
}

/** Tags a branch or commit (default `master`). */
export async function createTag(repoId: string, tag: string, opts: RepoOptions & { ref?: string | undefined } = {}): Promise<void> {
  assertRepoId(repoId);
  if (!/^[A-Za-z0-9][\w.-]{0,127}$/.test(tag)) throw new UsageError(`Invalid tag name '${tag}'`, "use letters, digits, '.', '_' or '-', for example v1.0", { key: "badTagName", vars: { tag } });
  const api = opts.api ?? new HubApi();
  await postTag(signedInClient(api, repoId), { repoType: opts.repoType ?? "model", repoId, tag, ref: opts.ref ?? DEFAULT_REVISION, signal: opts.signal });
}

export interface DeleteFilesResult {
  deleted: string[];
}

/** Deletes files from a branch, one call each (the hub's API has no batch delete); stops at the first failure. */
export async function deleteFiles(repoId: string, paths: string[], opts: RepoOptions & { revision?: string | undefined } = {}): Promise<DeleteFilesResult> {
  assertRepoId(repoId);
  for (const p of paths) {
    const reason = unsafePathReason(p);
    if (reason) throw new UsageError(`Invalid path in the repo '${p}' (${reason})`, "use a plain relative path such as weights/model.bin", { key: "badPathInRepo", vars: { path: p } });
  }
  const api = opts.api ?? new HubApi();
  const client = signedInClient(api, repoId);
  const deleted: string[] = [];
  for (const p of paths) {
    await deleteRemoteFile(client, { repoType: opts.repoType ?? "model", repoId, path: p, revision: opts.revision ?? DEFAULT_REVISION, signal: opts.signal });
    deleted.push(p);
  }
  return { deleted };
}
