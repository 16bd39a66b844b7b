// The resume state of one upload target: hashes of local files by (size, mtime, inode), so a re-run does
// not read unchanged files again. It lives under the config home (never in the folder being uploaded),
// one file per endpoint + repo type + repo + branch, 0600 in a 0700 folder.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomic } from "../util/atomic-write.js";
import type { LocalFile } from "./scan.js";

interface Entry {
  size: number;
  mtimeMs: number;
  ino: number;
  sha256: string;
}

interface StateFile {
  version: 1;
  target: string;
  hashes: Record<string, Entry>;
}

export function stateFilePath(home: string, target: { endpoint: string; repoType: string; repoId: string; revision: string }): { file: string; key: string } {
  const key = `${target.endpoint}\n${target.repoType}\n${target.repoId}\n${target.revision}`;
  const name = createHash("sha256").update(key).digest("hex").slice(0, 32);
  return { file: path.join(home, "upload-state", `${name}.json`), key };
}

export class UploadState {
  private data: StateFile;
  private dirty = false;

  private constructor(
    readonly file: string,
    key: string,
    data: StateFile | undefined,
  ) {
    this.data = data && data.version === 1 && data.target === key && data.hashes && typeof data.hashes === "object" ? data : { version: 1, target: key, hashes: {} };
  }

  static load(home: string, target: { endpoint: string; repoType: string; repoId: string; revision: string }): UploadState {
    const { file, key } = stateFilePath(home, target);
    let data: StateFile | undefined;
    try {
      data = JSON.parse(fs.readFileSync(file, "utf8")) as StateFile;
    } catch {
      data = undefined; // missing or damaged: start over, hashing everything
    }
    return new UploadState(file, key, data);
  }

  /** The remembered sha256 of a file, if its size, mtime and inode are the ones hashed. */
  known(f: LocalFile): string | undefined {
    const e = this.data.hashes[f.absPath];
    return e && e.size === f.size && e.mtimeMs === f.mtimeMs && e.ino === f.ino && /^[0-9a-f]{64}$/.test(e.sha256) ? e.sha256 : undefined;
  }

  remember(f: LocalFile, sha256: string): void {
    this.data.hashes[f.absPath] = { size: f.size, mtimeMs: f.mtimeMs, ino: f.ino, sha256 };
    this.dirty = true;
  }

  async save(): Promise<void> {
    if (!this.dirty) return;
    await writeFileAtomic(this.file, JSON.stringify(this.data), { mode: 0o600, dirMode: 0o700, sync: false });
    this.dirty = false;
  }
}
