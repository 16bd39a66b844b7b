// Publishing: create repos, upload files and folders (one commit per call), tag, delete.
import fs from "node:fs";
import path from "node:path";
import { UsageError } from "../errors.js";
import { prepareTarget, uploadLocalFiles } from "./pipeline.js";
import { repoPrefix, scanFolder, statFile } from "./scan.js";
import type { UploadFileOptions, UploadFolderOptions, UploadResult } from "./types.js";

export { createRepo, createTag, deleteFiles, type DeleteFilesResult } from "./repo.js";
export { isLfs } from "./pipeline.js";
export type * from "./types.js";

/** Uploads a folder's files (filtered) in one commit; only blobs the hub lacks are sent. */
export async function uploadFolder(repoId: string, folder: string, opts: UploadFolderOptions = {}): Promise<UploadResult> {
  const st = fs.statSync(folder, { throwIfNoEntry: false });
  if (!st?.isDirectory()) throw new UsageError(`${folder} is not a folder`, "give the folder to upload, or use uploadFile for one file", { key: "notAFolder", vars: { path: folder } });
  const prefix = repoPrefix(opts.pathInRepo);
  const files = scanFolder(folder, { prefix, include: opts.include, exclude: opts.exclude });
  if (files.length === 0) throw new UsageError(`No files to upload in ${folder}`, "check the folder and the --include/--exclude patterns", { key: "nothingToUpload", vars: { path: folder } });
  const target = await prepareTarget(repoId, opts);
  return uploadLocalFiles(files, target, opts);
}

/** Uploads one file in one commit (default path in the repo: its base name). */
export async function uploadFile(repoId: string, file: string, opts: UploadFileOptions = {}): Promise<UploadResult> {
  const abs = path.resolve(file);
  const st = fs.statSync(abs, { throwIfNoEntry: false });
  if (!st) throw new UsageError(`${file} does not exist`, "give an existing file or folder", { key: "noSuchLocalPath", vars: { path: file } });
  const repoPath = (opts.pathInRepo ?? "").replace(/^\/+/, "") || path.basename(abs);
  const local = statFile(abs, repoPath.endsWith("/") ? `${repoPath}${path.basename(abs)}` : repoPath);
  const target = await prepareTarget(repoId, opts);
  return uploadLocalFiles([local], target, opts);
}
