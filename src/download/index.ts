// Placeholder until the download engine lands (issue 3): the signatures are final, the body is not.
import type { DownloadOptions, SnapshotResult } from "./types.js";
export type * from "./types.js";

export async function snapshotDownload(_modelId: string, _opts: DownloadOptions = {}): Promise<SnapshotResult> {
  throw new Error("snapshotDownload is not implemented yet");
}

export async function downloadFile(_modelId: string, _filePath: string, _opts: DownloadOptions = {}): Promise<string> {
  throw new Error("downloadFile is not implemented yet");
}
