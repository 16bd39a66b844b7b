// The download engine's public shapes. The engine itself: snapshot.ts / file.ts (issue 3).
import type { HubApi } from "../hub/api.js";
import type { RepoFile, RepoType } from "../hub/types.js";

export interface DownloadOptions {
  /** `dataset` downloads a dataset (the hub's `datasets/...`, cached under `{cache}/datasets/`); default `model`. */
  repoType?: RepoType | undefined;
  /** Branch, tag or commit (default `master`). */
  revision?: string | undefined;
  /** Keep only files matching one of these globs (fnmatch: `*` crosses `/`; comma-separated lists allowed). */
  include?: string | string[] | undefined;
  /** Drop files matching any of these globs. */
  exclude?: string | string[] | undefined;
  /** Cache root (default $MODELSCOPE_CACHE or ~/.cache/modelscope). */
  cacheDir?: string | undefined;
  /** Put the files here instead of the cache. */
  localDir?: string | undefined;
  /** Files fetched at once (default 8). */
  maxWorkers?: number | undefined;
  /** Download again even when cached. */
  force?: boolean | undefined;
  /** No network at all: use the cache or fail naming what is missing (also MODELSCOPE_OFFLINE=1). */
  offline?: boolean | undefined;
  /** List what would be downloaded; write nothing. */
  dryRun?: boolean | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((event: ProgressEvent) => void) | undefined;
  /**
   * Bytes from the start of a file being fetched that are on disk in its temp file (`.incomplete`, or
   * `.parallel_tmp` once in ranges), called as they land; less than before means it started over. A
   * pull-through mirror sends them to its waiting clients meanwhile.
   */
  onLanded?: ((path: string, bytes: number) => void) | undefined;
  /**
   * The listing entries of the files asked for, when the caller has them already (a mirror: from upstream's
   * listing it keeps): no listing request is made, and none is saved in the cache (the caller keeps its own).
   */
  listed?: RepoFile[] | undefined;
  /** The hub to use (endpoint and token chain); default `new HubApi()`. */
  api?: HubApi | undefined;
}

export type FileStatus = "downloaded" | "cached" | "planned";

export interface FileResult {
  path: string;
  localPath: string;
  size: number;
  status: FileStatus;
}

export interface SnapshotResult {
  /** The repo id (`owner/name`), of a model or a dataset. */
  modelId: string;
  repoType: RepoType;
  revision: string;
  /** The local folder holding the files. */
  path: string;
  files: FileResult[];
}

export type ProgressEvent =
  | { type: "plan"; modelId: string; revision: string; files: { path: string; size: number; cached: boolean }[] }
  | { type: "file-start"; path: string; size: number; resumeFrom: number }
  | { type: "bytes"; path: string; bytes: number }
  | { type: "file-done"; path: string; status: FileStatus }
  | { type: "retry"; path: string; attempt: number; delayMs: number; reason: string }
  | { type: "waiting-for-lock"; path: string };
