// Step 2: sha256 of every file, once. Several files are read at once (1 MiB reads into one buffer, so
// memory stays flat whatever the size); a file whose size, mtime and inode match the resume state is not read
// again. A file that changes while it is read is refused.
import { createHash } from "node:crypto";
import fs from "node:fs";
import { AbortedError, FileChangedError } from "../errors.js";
import type { LocalFile } from "./scan.js";
import type { UploadState } from "./state.js";

/** Throws FileChangedError when the file is no longer what was scanned. */
export function assertUnchanged(f: LocalFile): void {
  const st = fs.statSync(f.absPath, { throwIfNoEntry: false });
  if (!st || st.size !== f.size || st.mtimeMs !== f.mtimeMs || st.ino !== f.ino) throw new FileChangedError(f.path);
}

async function sha256Of(f: LocalFile, signal?: AbortSignal): Promise<string> {
  const hash = createHash("sha256");
  // One buffer per file, reused for every read: hashing 2 GiB allocates 1 MiB, not 2 GiB of garbage.
  // Synchronous reads: an async read costs a thread hand-off per MiB for a copy out of the page cache;
  // between reads the event loop runs (other files' sends go on while a big file hashes).
  const buf = Buffer.allocUnsafe(Math.min(1024 * 1024, Math.max(1, f.size)));
  const fd = fs.openSync(f.absPath, "r");
  let read = 0;
  try {
    for (;;) {
      if (signal?.aborted) throw new AbortedError();
      const bytesRead = fs.readSync(fd, buf, 0, buf.length, read);
      if (bytesRead === 0) break;
      read += bytesRead;
      hash.update(buf.subarray(0, bytesRead));
      if (read < f.size) await new Promise<void>((r) => setImmediate(r));
    }
  } finally {
    fs.closeSync(fd);
  }
  if (read !== f.size) throw new FileChangedError(f.path);
  assertUnchanged(f);
  return hash.digest("hex");
}

/** Runs `fn` over `items` with at most `limit` at once; the first error stops new work and is thrown. */
export async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      if (signal?.aborted) throw new AbortedError();
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed !== undefined) throw failed;
}

/** The file's sha256: remembered in the resume state when size, mtime and inode match, else read and hashed. */
export async function hashOne(f: LocalFile, state: UploadState, signal?: AbortSignal): Promise<{ sha256: string; cached: boolean }> {
  const known = state.known(f);
  if (known) return { sha256: known, cached: true };
  const sha256 = await sha256Of(f, signal).catch((err: unknown) => {
    if (signal?.aborted) throw new AbortedError();
    throw err;
  });
  state.remember(f, sha256);
  return { sha256, cached: false };
}
