// Step 2: sha256 of every file, once. Several files are read at once (streaming, 1 MiB reads, so memory
// stays flat whatever the size); a file whose size, mtime and inode match the resume state is not read
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
  let read = 0;
  const stream = fs.createReadStream(f.absPath, { highWaterMark: 1024 * 1024, signal });
  for await (const chunk of stream) {
    read += (chunk as Buffer).length;
    hash.update(chunk as Buffer);
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

export async function hashAll(
  files: LocalFile[],
  state: UploadState,
  opts: { concurrency: number; signal?: AbortSignal | undefined; onHashed?: (f: LocalFile, cached: boolean) => void },
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await pool(
    files,
    opts.concurrency,
    async (f) => {
      const known = state.known(f);
      const sha = known ?? (await sha256Of(f, opts.signal).catch((err: unknown) => {
        if (opts.signal?.aborted) throw new AbortedError();
        throw err;
      }));
      if (!known) state.remember(f, sha);
      out.set(f.absPath, sha);
      opts.onHashed?.(f, !!known);
    },
    opts.signal,
  );
  return out;
}
