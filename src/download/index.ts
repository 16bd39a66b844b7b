// The download engine's entry points. See engine.ts for the pipeline, fetch.ts for the bytes.
import { download } from "./engine.js";
import type { DownloadOptions, SnapshotResult } from "./types.js";
export type * from "./types.js";

/**
 * Downloads a model (all files, or those matching `include` minus `exclude`) and returns its local folder:
 * the cache snapshot `models/<owner>--<name>/snapshots/<revision>`, a reused legacy folder, or `localDir`.
 * A cached, verified file costs nothing but the one listing request (none offline).
 * Throws DownloadFailedError naming every file that failed, after finishing the others.
 */
export async function snapshotDownload(modelId: string, opts: DownloadOptions = {}): Promise<SnapshotResult> {
  return download(modelId, { kind: "snapshot" }, opts);
}

/** Downloads one file of a model (verified against the listing) and returns its local path. */
export async function downloadFile(modelId: string, filePath: string, opts: DownloadOptions = {}): Promise<string> {
  const res = await download(modelId, { kind: "files", paths: [filePath] }, opts);
  return res.files[0]!.localPath;
}

/** Downloads several exact files with one listing request. */
export async function downloadFiles(modelId: string, filePaths: string[], opts: DownloadOptions = {}): Promise<SnapshotResult> {
  return download(modelId, { kind: "files", paths: [...new Set(filePaths)] }, opts);
}

export { PathFilter, normalizePatterns, fnmatchToRegExp } from "./filters.js";
