// The content-addressed blob store: ROOT/.blobs/sha256/<aa>/<sha256>, each blob stored once, read-only.
// A blob lands there only after its bytes were counted and hashed: it is received into ROOT/.blobs/tmp
// and renamed into place, so a dropped connection, a wrong hash or a full disk leaves no trace.
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";

export const OID = /^[0-9a-f]{64}$/;

export class BlobError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class BlobStore {
  readonly dir: string;
  private readonly tmpDir: string;

  /** inode -> sha256 of stored blobs (commit folders hard-link them), filled on first use. */
  private inodes: Map<number, string> | undefined;

  constructor(root: string) {
    this.dir = path.join(root, ".blobs", "sha256");
    this.tmpDir = path.join(root, ".blobs", "tmp");
  }

  path(oid: string): string {
    if (!OID.test(oid)) throw new BlobError(400, `invalid oid ${JSON.stringify(oid)}`);
    return path.join(this.dir, oid.slice(0, 2), oid);
  }

  /** The stored blob's size, or undefined when it is not stored. */
  size(oid: string): number | undefined {
    const st = fs.statSync(this.path(oid), { throwIfNoEntry: false });
    return st?.isFile() ? st.size : undefined;
  }

  private tmpFile(): string {
    fs.mkdirSync(this.tmpDir, { recursive: true });
    return path.join(this.tmpDir, `${process.pid}-${randomBytes(8).toString("hex")}`);
  }

  /** The sha256 of a file that is a hard link to a stored blob (so listing never re-reads uploaded bytes). */
  oidOf(absPath: string): string | undefined {
    const st = fs.statSync(absPath, { throwIfNoEntry: false });
    if (!st || st.nlink < 2) return undefined;
    if (!this.inodes) {
      this.inodes = new Map();
      for (const sub of safeReaddir(this.dir)) for (const name of safeReaddir(path.join(this.dir, sub))) {
        const b = fs.statSync(path.join(this.dir, sub, name), { throwIfNoEntry: false });
        if (b && OID.test(name)) this.inodes.set(b.ino, name);
      }
    }
    return this.inodes.get(st.ino); // unknown (e.g. stored by another process since): the caller hashes
  }

  /** Moves a verified temp file into place (or drops it when another upload stored the same blob first). */
  private settle(tmp: string, oid: string): void {
    const dest = this.path(oid);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    if (fs.existsSync(dest)) {
      // Stored meanwhile by another upload: same bytes; keep the first (commit folders link to its inode).
      fs.rmSync(tmp, { force: true });
      return;
    }
    fs.chmodSync(tmp, 0o444);
    fs.renameSync(tmp, dest);
    this.inodes?.set(fs.statSync(dest).ino, oid);
  }

  /**
   * Receives `expectedSize` bytes from `body`, hashing them; stores them as `oid` only if both match.
   * `transform` lets a test fault change bytes in transit.
   */
  async receive(body: Readable, oid: string, expectedSize: number, transform?: (chunk: Buffer) => Buffer | Promise<Buffer>): Promise<void> {
    const tmp = this.tmpFile();
    const hash = createHash("sha256");
    let size = 0;
    let fd: number | undefined;
    // Received chunks (64 KiB each) go to disk gathered, one write call per MiB with one write in flight:
    // a write per chunk cost a thread hand-off each, more CPU than the write itself.
    let batch: Buffer[] = [];
    let batchBytes = 0;
    let written = 0;
    let inflight: Promise<void> = Promise.resolve();
    const flush = async () => {
      await inflight;
      const bufs = batch;
      const at = written;
      written += batchBytes;
      batch = [];
      batchBytes = 0;
      inflight = writeAll(fd!, bufs, at);
      inflight.catch(() => undefined); // awaited by the next flush or at the end
    };
    try {
      // Opened now, so the cleanup below always finds the file it must remove.
      fd = fs.openSync(tmp, "wx", 0o644);
      for await (const raw of body) {
        const chunk = transform ? await transform(raw as Buffer) : (raw as Buffer);
        size += chunk.length;
        if (size > expectedSize) throw new BlobError(400, `body is longer than the declared size ${expectedSize}`);
        hash.update(chunk);
        batch.push(chunk);
        batchBytes += chunk.length;
        if (batchBytes >= WRITE_BATCH) await flush();
      }
      await flush();
      await inflight;
      fs.closeSync(fd);
      fd = undefined;
      if (size !== expectedSize) throw new BlobError(400, `received ${size} bytes, expected ${expectedSize}`);
      const got = hash.digest("hex");
      if (got !== oid) throw new BlobError(400, `sha256 mismatch: the body hashes to ${got}, not ${oid}`);
      this.settle(tmp, oid);
    } catch (err) {
      await inflight.catch(() => undefined);
      if (fd !== undefined) fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
      throw err;
    }
  }

  /** Stores bytes already in memory (inline commit content); returns their sha256. */
  storeBytes(data: Buffer): string {
    const oid = createHash("sha256").update(data).digest("hex");
    if (this.size(oid) === data.length) return oid;
    const tmp = this.tmpFile();
    try {
      fs.writeFileSync(tmp, data, { flag: "wx" });
      this.settle(tmp, oid);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      throw err;
    }
    return oid;
  }
}

const WRITE_BATCH = 1024 * 1024;

/** Writes every byte of `bufs` at `position` (a short write goes on from where it stopped). */
async function writeAll(fd: number, bufs: Buffer[], position: number): Promise<void> {
  let rest = bufs;
  let at = position;
  while (rest.length) {
    const n = await new Promise<number>((resolve, reject) => fs.writev(fd, rest, at, (err, w) => (err ? reject(err) : resolve(w))));
    if (n <= 0) throw new Error("write made no progress");
    at += n;
    let skip = n;
    while (rest.length && skip >= rest[0]!.length) skip -= rest.shift()!.length;
    if (skip > 0) rest = [rest[0]!.subarray(skip), ...rest.slice(1)];
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
