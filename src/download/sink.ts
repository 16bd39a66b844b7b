// Where a single stream's bytes go: hashed in order and written positionally into the temp file.
// Two implementations with one interface:
//  - InlineSink: hash and write each chunk on the main thread as it arrives (synchronous writes).
//  - WorkerSink (worker-sink.ts, big files): hashing and writing on two worker threads.
// Either way `landed` is the file position up to which every byte received has been written and hashed.
// Also the BatchWriter the parallel range streams write through.
import { createHash } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import { AbortedError } from "../errors.js";
import { openPartialSync } from "../util/safe-open.js";

export interface Sink {
  /** Bytes (from offset 0) that are written and hashed. */
  readonly landed: number;
  /** Bytes accepted (landed or on their way). */
  readonly accepted: number;
  /** Accepts a chunk for the next position; resolves at once unless too much is waiting to land. */
  add(chunk: Buffer): Promise<void> | undefined;
  /** Lands everything accepted. */
  flush(): Promise<void>;
  /** Truncates the file to 0 and starts a new hash. */
  reset(): Promise<void>;
  /** Lands everything, closes the file, returns the hex sha256 of the bytes 0..landed. */
  finish(): Promise<string>;
  /** Closes without a digest (after a failure). */
  close(): Promise<void>;
}

const MiB = 1024 * 1024;
/** Longest a received byte waits for its batch to fill before it is written anyway. */
const LINGER_MS = 20;

/**
 * Positional writes batched: chunks are coalesced and written with one `writev` per batch, one batch in
 * flight while the next fills. `written` is the file position up to which every byte has landed.
 */
export class BatchWriter {
  private batch: Buffer[] = [];
  private batchBytes = 0;
  private inflight: Promise<void> | undefined;
  private failed: { err: unknown } | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** End of the bytes that have landed (contiguous from where the writer started). */
  written: number;
  /** Where the next chunk goes. */
  next: number;

  constructor(
    private readonly fh: fsp.FileHandle,
    start: number,
    private readonly batchSize: number,
    private readonly onWritten?: (bytes: number, end: number) => void,
    private readonly copy = false,
  ) {
    this.written = start;
    this.next = start;
  }

  private cur: Buffer | undefined;
  private curLen = 0;
  private readonly free: Buffer[] = [];

  /** Bytes received but not yet landed. */
  get backlog(): number {
    return this.next - this.written;
  }

  add(chunk: Buffer): void {
    if (this.failed) throw this.failed.err;
    if (!this.copy) this.batch.push(chunk);
    else {
      // Copied into reused buffers: the received chunk dies young (a chunk kept across a collection
      // would be promoted and its memory held until a full one).
      let src = chunk;
      while (src.length > 0) {
        if (!this.cur || this.curLen === this.cur.length) {
          if (this.cur) this.batch.push(this.cur);
          this.cur = this.free.pop() ?? Buffer.allocUnsafeSlow(this.batchSize);
          this.curLen = 0;
        }
        const n = src.copy(this.cur, this.curLen);
        this.curLen += n;
        src = src.subarray(n);
      }
    }
    this.batchBytes += chunk.length;
    this.next += chunk.length;
    if (this.inflight) return;
    if (this.batchBytes >= this.batchSize) this.kick();
    else this.timer ??= setTimeout(() => this.kickIfIdle(), LINGER_MS);
  }

  /** A slow stream's bytes still land promptly (what is on disk is what a resume keeps). */
  private kickIfIdle(): void {
    this.timer = undefined;
    if (!this.inflight && this.batchBytes > 0 && !this.failed) this.kick();
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const owned = this.batch;
    const bufs = [...owned];
    if (this.cur && this.curLen > 0) {
      owned.push(this.cur);
      bufs.push(this.cur.subarray(0, this.curLen));
      this.cur = undefined;
      this.curLen = 0;
    }
    const bytes = this.batchBytes;
    const pos = this.next - this.batchBytes;
    this.batch = [];
    this.batchBytes = 0;
    this.inflight = writeAll(this.fh, bufs, pos).then(
      () => {
        this.written = pos + bytes;
        this.inflight = undefined;
        if (this.copy) for (const b of owned) if (this.free.length < 2) this.free.push(b);
        this.onWritten?.(bytes, this.written);
        if (this.failed || this.batchBytes === 0) return;
        if (this.batchBytes >= this.batchSize) this.kick();
        else this.timer ??= setTimeout(() => this.kickIfIdle(), LINGER_MS);
      },
      (err: unknown) => {
        this.failed = { err };
        this.inflight = undefined;
      },
    );
  }

  /** Waits until at most `limit` bytes are waiting to land. */
  async waitBelow(limit: number): Promise<void> {
    while (this.backlog > limit && !this.failed) {
      if (!this.inflight) this.kick();
      await this.inflight;
    }
    if (this.failed) throw this.failed.err;
  }

  /** Lands everything received so far. */
  async flush(): Promise<void> {
    await this.waitBelow(0);
  }
}

/**
 * Most bytes one write system call carries. On the Linux we measured (6.18, ext4, a VM), a big write
 * makes the page cache allocate large folios, which costs up to 5x more when memory was last freed in
 * small ones (as after a program that writes 16 KiB at a time): 2 GiB took 0.4 s in 64-128 KiB writes
 * and 0.9-2.1 s in 1 MiB writes. 64 KiB measured best right after curl and right after ourselves.
 */
export const WRITE_PIECE_BYTES = 64 * 1024;

/** Writes `bufs` at `pos`, in writes of at most WRITE_PIECE_BYTES, all under way at once (positional). */
async function writeAll(fh: fsp.FileHandle, bufs: Buffer[], pos: number): Promise<void> {
  const writes: Promise<void>[] = [];
  let group: Buffer[] = [];
  let groupBytes = 0;
  let at = pos;
  const send = () => {
    writes.push(writevFully(fh, group, at));
    at += groupBytes;
    group = [];
    groupBytes = 0;
  };
  for (let b of bufs) {
    while (b.length > 0) {
      const take = Math.min(b.length, WRITE_PIECE_BYTES - groupBytes);
      group.push(b.subarray(0, take));
      groupBytes += take;
      b = b.subarray(take);
      if (groupBytes === WRITE_PIECE_BYTES) send();
    }
  }
  if (groupBytes > 0) send();
  await Promise.all(writes);
}

async function writevFully(fh: fsp.FileHandle, bufs: Buffer[], pos: number): Promise<void> {
  let total = 0;
  for (const b of bufs) total += b.length;
  let done = 0;
  while (done < total) {
    const { bytesWritten } = await fh.writev(bufs, pos + done);
    if (bytesWritten <= 0) throw new Error("short write");
    done += bytesWritten;
    if (done < total) {
      // A partial write (rare): drop what landed and go on from there.
      let skip = bytesWritten;
      while (skip > 0 && bufs.length > 0) {
        const first = bufs[0]!;
        if (first.length <= skip) {
          skip -= first.length;
          bufs = bufs.slice(1);
        } else {
          bufs = [first.subarray(skip), ...bufs.slice(1)];
          skip = 0;
        }
      }
    }
  }
}

/**
 * Small single streams: each received chunk is hashed and written at once with synchronous calls (a few
 * µs for a chunk into the page cache, against ~50 µs of thread hand-offs for an async write), so
 * everything received has landed when `add` returns.
 */
export class InlineSink implements Sink {
  private hash = createHash("sha256");
  private pos: number;
  private closed = false;

  private constructor(
    private readonly fd: number,
    start: number,
  ) {
    this.pos = start;
  }

  /** Opens `file` (created when `prefix` is 0) and hashes its first `prefix` bytes. */
  static async open(file: string, prefix: number, signal?: AbortSignal): Promise<InlineSink> {
    const fd = openPartialSync(file, prefix > 0 ? "resume" : "create");
    const sink = new InlineSink(fd, prefix);
    try {
      if (prefix > 0) await sink.hashPrefix(prefix, signal);
    } catch (err) {
      await sink.close();
      throw err;
    }
    return sink;
  }

  /** Hashes the bytes a resumed download already has, a MiB at a time (yielding between reads). */
  private async hashPrefix(end: number, signal?: AbortSignal): Promise<void> {
    const buf = Buffer.allocUnsafe(Math.min(MiB, end));
    for (let pos = 0; pos < end; ) {
      if (signal?.aborted) throw new AbortedError();
      const n = fs.readSync(this.fd, buf, 0, Math.min(buf.length, end - pos), pos);
      if (n === 0) throw new Error("temp file shorter than expected");
      this.hash.update(buf.subarray(0, n));
      pos += n;
      await new Promise<void>((r) => setImmediate(r));
    }
  }

  get landed(): number {
    return this.pos;
  }

  get accepted(): number {
    return this.pos;
  }

  add(chunk: Buffer): undefined {
    this.hash.update(chunk);
    for (let done = 0; done < chunk.length; ) {
      const n = fs.writeSync(this.fd, chunk, done, Math.min(WRITE_PIECE_BYTES, chunk.length - done), this.pos + done);
      if (n <= 0) throw new Error("short write");
      done += n;
    }
    this.pos += chunk.length;
    return undefined;
  }

  async flush(): Promise<void> {
    // Nothing waits: every chunk was written by `add`.
  }

  async reset(): Promise<void> {
    fs.ftruncateSync(this.fd, 0);
    this.hash = createHash("sha256");
    this.pos = 0;
  }

  async finish(): Promise<string> {
    await this.close();
    return this.hash.digest("hex");
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
  }
}
