// The upload side's public shapes: options, progress events and results (the download side's mirror).
import type { HubApi } from "../hub/api.js";
import type { RepoType, Visibility } from "../hub/repo-api.js";

export type { RepoType, Visibility };

export interface RepoOptions {
  /** `model` (default) or `dataset`. */
  repoType?: RepoType | undefined;
  /** The hub to use (endpoint and token chain); default `new HubApi()`. */
  api?: HubApi | undefined;
  signal?: AbortSignal | undefined;
}

export interface CreateRepoOptions extends RepoOptions {
  /** Default `private`: a repo is never made public by accident. */
  visibility?: Visibility | undefined;
  license?: string | undefined;
  chineseName?: string | undefined;
  description?: string | undefined;
  /** An existing repo is not an error. */
  existOk?: boolean | undefined;
}

export interface CreateRepoResult {
  repoId: string;
  repoType: RepoType;
  /** False when it already existed (with `existOk`). */
  created: boolean;
  url: string;
}

export interface UploadOptions extends RepoOptions {
  /** Branch to commit to (default `master`). */
  revision?: string | undefined;
  commitMessage?: string | undefined;
  commitDescription?: string | undefined;
  /** Blobs sent at once (default 4). */
  maxWorkers?: number | undefined;
  /** Create the repo (private) when it does not exist; otherwise a missing repo is an error. */
  createRepo?: boolean | undefined;
  /** Hash and compare with the hub, send and commit nothing. */
  dryRun?: boolean | undefined;
  onProgress?: ((event: UploadEvent) => void) | undefined;
}

export interface UploadFolderOptions extends UploadOptions {
  /** Folder in the repo to put the files under (default: the root). */
  pathInRepo?: string | undefined;
  /** Only files matching one of these globs (fnmatch: `*` crosses `/`). */
  include?: string | string[] | undefined;
  /** Skip files matching any of these (`.git` and `.cache` are always skipped). */
  exclude?: string | string[] | undefined;
}

export interface UploadFileOptions extends UploadOptions {
  /** Where the file goes in the repo (default: its base name). */
  pathInRepo?: string | undefined;
}

/**
 * - `unchanged`: the repo already has this path with these bytes; not in the commit.
 * - `uploaded`: its blob was sent.  `deduplicated`: the hub already had the blob; only committed.
 * - `inline`: small file, sent inside the commit.  `planned`: dry run, would be sent.
 */
export type UploadFileStatus = "unchanged" | "uploaded" | "deduplicated" | "inline" | "planned";

export interface UploadFileResult {
  path: string;
  localPath: string;
  size: number;
  sha256: string;
  status: UploadFileStatus;
}

export interface UploadResult {
  repoId: string;
  repoType: RepoType;
  revision: string;
  /** The new commit, or the current one when nothing changed; empty on a dry run. */
  commitId: string;
  /** False when nothing changed (no commit was needed) or on a dry run. */
  committed: boolean;
  /** The repo was created by this run (`createRepo`). */
  createdRepo: boolean;
  dryRun: boolean;
  files: UploadFileResult[];
  /** Blob bytes sent over the network. */
  bytesSent: number;
}

export type UploadEvent =
  | { type: "scan"; files: number; bytes: number }
  | { type: "hashed"; path: string; size: number; cached: boolean }
  | { type: "plan"; files: { path: string; size: number; send: boolean }[] }
  | { type: "bytes"; path: string; bytes: number }
  | { type: "file-done"; path: string; status: UploadFileStatus }
  | { type: "retry"; path: string; attempt: number; delayMs: number; reason: string }
  | { type: "commit"; actions: number };
