// Where a single stream's bytes go: hashed in order and written positionally into the temp file.
// Two implementations with one interface:
//  - InlineSink: hash on the main thread as chunks arrive, writes batched (one writev per few MiB, one
//    batch landing while the next fills).
//  - WorkerSink (big files): chunks are copied into a shared ring; a worker thread hashes and writes
//    them, so receiving, hashing and writing run on different cores. The worker owns the hash.
// Either way `landed` is the file position up to which every byte received has been written and hashed.
import { createHash, type Hash } from "node:crypto";
import fsp from "node:fs/promises";
import { Worker } from "node:worker_threads";
import { AbortedError } from "../errors.js";

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

async function writeAll(fh: fsp.FileHandle, bufs: Buffer[], pos: number): Promise<void> {
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

/** Hashes bytes [start, end) of an open file into `hash`. */
export async function hashRange(fh: fsp.FileHandle, start: number, end: number, hash: Hash, signal?: AbortSignal): Promise<void> {
  const buf = Buffer.allocUnsafe(Math.min(MiB, Math.max(1, end - start)));
  let pos = start;
  while (pos < end) {
    if (signal?.aborted) throw new AbortedError();
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, end - pos), pos);
    if (bytesRead === 0) throw new Error("temp file shorter than expected");
    hash.update(buf.subarray(0, bytesRead));
    pos += bytesRead;
  }
}

const INLINE_BATCH = 4 * MiB;
const INLINE_BACKLOG = 12 * MiB;

export class InlineSink implements Sink {
  private hash = createHash("sha256");
  private writer: BatchWriter;

  private constructor(private readonly fh: fsp.FileHandle) {
    this.writer = new BatchWriter(fh, 0, INLINE_BATCH);
  }

  /** Opens `file` (created when `prefix` is 0) and hashes its first `prefix` bytes. */
  static async open(file: string, prefix: number, signal?: AbortSignal): Promise<InlineSink> {
    const fh = await fsp.open(file, prefix > 0 ? "r+" : "w");
    const sink = new InlineSink(fh);
    try {
      if (prefix > 0) await hashRange(fh, 0, prefix, sink.hash, signal);
    } catch (err) {
      await fh.close();
      throw err;
    }
    sink.writer = new BatchWriter(fh, prefix, INLINE_BATCH);
    return sink;
  }

  get landed(): number {
    return this.writer.written;
  }

  get accepted(): number {
    return this.writer.next;
  }

  add(chunk: Buffer): Promise<void> | undefined {
    this.hash.update(chunk);
    this.writer.add(chunk);
    return this.writer.backlog > INLINE_BACKLOG ? this.writer.waitBelow(INLINE_BATCH) : undefined;
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  async reset(): Promise<void> {
    await this.writer.flush();
    await this.fh.truncate(0);
    this.hash = createHash("sha256");
    this.writer = new BatchWriter(this.fh, 0, INLINE_BATCH);
  }

  async finish(): Promise<string> {
    try {
      await this.writer.flush();
      return this.hash.digest("hex");
    } finally {
      await this.fh.close();
    }
  }

  async close(): Promise<void> {
    try {
      await this.writer.flush();
    } finally {
      await this.fh.close();
    }
  }
}

// The worker: owns the file descriptor and the hash. Messages, all answered in order:
//   {t:"open", file, flags, prefix} -> {t:"ok"}     hashes the first `prefix` bytes of the file
//   {t:"data", off, len, pos}        -> {t:"ok"}     hashes ring[off, off+len) and writes it at pos
//   {t:"reset"}                      -> {t:"ok"}     truncate to 0, new hash
//   {t:"finish"}                     -> {t:"ok", hex} digest and close
// Any failure: {t:"error", message, code}.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const fs = require("node:fs");
const { createHash } = require("node:crypto");
const ring = Buffer.from(workerData.ring);
let fd = -1;
let hash = createHash("sha256");
let broken = false;
parentPort.on("message", (m) => {
  try {
    if (m.t === "data") {
      if (broken) throw new Error("an earlier write failed");
      const view = ring.subarray(m.off, m.off + m.len);
      hash.update(view);
      let done = 0;
      while (done < m.len) done += fs.writeSync(fd, view, done, m.len - done, m.pos + done);
      parentPort.postMessage({ t: "ok" });
    } else if (m.t === "open") {
      fd = fs.openSync(m.file, m.flags);
      const buf = Buffer.allocUnsafe(1 << 20);
      let pos = 0;
      while (pos < m.prefix) {
        const n = fs.readSync(fd, buf, 0, Math.min(buf.length, m.prefix - pos), pos);
        if (n === 0) throw new Error("temp file shorter than expected");
        hash.update(buf.subarray(0, n));
        pos += n;
      }
      parentPort.postMessage({ t: "ok" });
    } else if (m.t === "reset") {
      fs.ftruncateSync(fd, 0);
      hash = createHash("sha256");
      parentPort.postMessage({ t: "ok" });
    } else if (m.t === "noop") {
      parentPort.postMessage({ t: "ok" });
    } else if (m.t === "close") {
      if (fd >= 0) fs.closeSync(fd);
      fd = -1;
      parentPort.postMessage({ t: "ok" });
    } else if (m.t === "finish") {
      const hex = hash.digest("hex");
      fs.closeSync(fd);
      fd = -1;
      parentPort.postMessage({ t: "ok", hex });
    }
  } catch (err) {
    if (m.t === "data" || m.t === "open") broken = true;
    parentPort.postMessage({ t: "error", message: String(err && err.message || err), code: err && err.code });
  }
});
`;

const RING_BYTES = 8 * MiB;
const WORKER_BATCH = 512 * 1024;

interface Reply {
  t: "ok" | "error";
  hex?: string;
  message?: string;
  code?: string;
}

export class WorkerSink implements Sink {
  private readonly ring: Buffer;
  private readonly worker: Worker;
  /** Replies awaited, in order. Each entry: bytes the request frees in the ring, and its resolver. */
  private readonly waiting: { bytes: number; resolve: (r: Reply) => void }[] = [];
  private failure: Error | undefined;
  private head = 0; // ring offset where the next byte goes
  private pendingStart = 0; // ring offset of the batch not yet posted
  private pendingLen = 0;
  private outstanding = 0; // ring bytes not yet freed (posted or pending)
  private nextPos: number; // file position of the next byte accepted
  private landedPos: number;
  private spaceWaiter: (() => void) | undefined;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;

  private constructor(start: number) {
    const sab = new SharedArrayBuffer(RING_BYTES);
    this.ring = Buffer.from(sab);
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ring: sab } });
    this.worker.on("message", (r: Reply) => this.onReply(r));
    this.worker.on("error", (err) => this.fail(err));
    this.worker.on("exit", () => this.fail(new Error("the hashing worker exited")));
    this.nextPos = start;
    this.landedPos = start;
  }

  static async open(file: string, prefix: number): Promise<WorkerSink> {
    const sink = new WorkerSink(prefix);
    try {
      await sink.call({ t: "open", file, flags: prefix > 0 ? "r+" : "w", prefix }, 0);
    } catch (err) {
      await sink.worker.terminate();
      throw err;
    }
    return sink;
  }

  get landed(): number {
    return this.landedPos;
  }

  get accepted(): number {
    return this.nextPos;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.waiting.splice(0)) w.resolve({ t: "error", message: err.message });
    this.spaceWaiter?.();
  }

  private onReply(r: Reply): void {
    const w = this.waiting.shift();
    if (!w) return;
    if (r.t === "error") {
      const err = Object.assign(new Error(r.message ?? "write failed"), r.code ? { code: r.code } : {});
      this.failure ??= err;
    } else if (w.bytes > 0 && !this.failure) {
      this.outstanding -= w.bytes;
      this.landedPos += w.bytes;
    }
    w.resolve(r);
    const wake = this.spaceWaiter;
    this.spaceWaiter = undefined;
    wake?.();
  }

  private call(msg: Record<string, unknown>, bytes: number): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Reply>((resolve, reject) => {
      this.waiting.push({
        bytes,
        resolve: (r) => (r.t === "error" ? reject(this.failure ?? new Error(r.message)) : resolve(r)),
      });
      this.worker.postMessage(msg);
    });
  }

  private post(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pendingLen === 0) return;
    const len = this.pendingLen;
    const pos = this.nextPos - len;
    this.call({ t: "data", off: this.pendingStart, len, pos }, len).catch(() => undefined);
    this.pendingStart = this.head === RING_BYTES ? 0 : this.head;
    if (this.head === RING_BYTES) this.head = 0;
    this.pendingLen = 0;
  }

  add(chunk: Buffer): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    if (RING_BYTES - this.outstanding < chunk.length) return this.waitForSpace(chunk.length).then(() => this.copyIn(chunk));
    this.copyIn(chunk);
    return undefined;
  }

  private async waitForSpace(n: number): Promise<void> {
    this.post();
    while (RING_BYTES - this.outstanding < n && !this.failure) await new Promise<void>((r) => (this.spaceWaiter = r));
    if (this.failure) throw this.failure;
  }

  private copyIn(chunk: Buffer): void {
    let src = chunk;
    while (src.length > 0) {
      const n = Math.min(src.length, RING_BYTES - this.head);
      src.copy(this.ring, this.head, 0, n);
      this.head += n;
      this.pendingLen += n;
      this.outstanding += n;
      this.nextPos += n;
      src = src.subarray(n);
      if (this.head === RING_BYTES || this.pendingLen >= WORKER_BATCH) this.post();
    }
    if (this.pendingLen > 0) this.timer ??= setTimeout(() => this.post(), LINGER_MS);
  }

  async flush(): Promise<void> {
    this.post();
    // Replies come in order: when the noop is answered, everything before it has landed.
    if (this.waiting.length > 0) await this.call({ t: "noop" }, 0);
    if (this.failure) throw this.failure;
  }

  async reset(): Promise<void> {
    await this.flush();
    await this.call({ t: "reset" }, 0);
    this.nextPos = 0;
    this.landedPos = 0;
  }

  async finish(): Promise<string> {
    try {
      await this.flush();
      const r = await this.call({ t: "finish" }, 0);
      return r.hex!;
    } finally {
      await this.terminate();
    }
  }

  async close(): Promise<void> {
    try {
      await this.flush().catch(() => undefined);
      // The descriptor belongs to the process, not the worker: close it before the worker goes.
      if (!this.failure || this.worker.threadId >= 0) await this.callAnyway({ t: "close" });
    } finally {
      await this.terminate();
    }
  }

  /** A request answered even after a write failed (the worker is still there). */
  private callAnyway(msg: Record<string, unknown>): Promise<void> {
    return new Promise<void>((resolve) => {
      this.waiting.push({ bytes: 0, resolve: () => resolve() });
      this.worker.postMessage(msg);
      setTimeout(resolve, 2000).unref();
    });
  }

  private async terminate(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.worker.removeAllListeners("exit");
    await this.worker.terminate();
  }
}
