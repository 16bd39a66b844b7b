// The sink for big single streams. Received bytes go into a shared ring (copied in by `add`, or read
// straight into it by the socket: `nextSpace`/`commit`); each batch is hashed by one worker thread
// while another writes it, so receiving, hashing and writing run on three threads. A batch's ring
// space is reused only once it is both hashed and written; `landed` counts those bytes, in order.
// Writes go out in pieces of at most WRITE_PIECE_BYTES (sink.ts says why).
import fsp from "node:fs/promises";
import { Worker } from "node:worker_threads";
import { openPartial } from "../util/safe-open.js";
import { WRITE_PIECE_BYTES, type Sink } from "./sink.js";

const MiB = 1024 * 1024;
const RING_BYTES = 8 * MiB;
const WORKER_BATCH = 512 * 1024;
/** Most a socket reads into the ring at once. */
const DIRECT_SLICE = MiB;
/** Longest a received byte waits for its batch to fill before it goes on anyway. */
const LINGER_MS = 20;

// One source, two roles. Messages, answered in order:
//   hasher: {t:"prefix", file, len} hashes the first `len` bytes of the file (a resume)
//           {t:"data", off, len}    hashes ring[off, off+len)
//           {t:"reset"}             starts a new hash
//           {t:"finish"}            -> {hex}
//           {t:"hashes", h}         several in one message (range-sink.ts): h = [kind, a, len, ...], kind 0 =
//                                   ring[a, a+len), 1 = the file's bytes [a, a+len) read back (workerData.fd)
//   writer: {t:"write", off, len, pos} writes ring[off, off+len) at pos, in pieces
//           {t:"writes", w}         several in one message: w = [off, len, pos, ...]
//   both:   {t:"ping"}              answered once the worker runs
//           {t:"attach", ring, fd, piece}  works on another ring and file from now on, the hash kept
//                                   (a single stream's threads going on as the range sink's)
// Answers: {t:"ok"} (with hex for finish), or {t:"error", message, code}.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const fs = require("node:fs");
const { createHash } = require("node:crypto");
let ring = Buffer.from(workerData.ring);
let fd = workerData.fd;
let piece = workerData.piece;
let hash = createHash("sha256");
let readBuf;
function write(off, len, pos) {
  let done = 0;
  while (done < len) {
    const n = fs.writeSync(fd, ring, off + done, Math.min(piece, len - done), pos + done);
    if (n <= 0) throw new Error("short write");
    done += n;
  }
}
function hashRing(off, len) {
  hash.update(ring.subarray(off, off + len));
}
function hashRange(from, len) {
  readBuf ??= Buffer.allocUnsafe(1 << 20);
  for (let pos = from, end = from + len; pos < end; ) {
    const n = fs.readSync(fd, readBuf, 0, Math.min(readBuf.length, end - pos), pos);
    if (n === 0) throw new Error("temp file shorter than expected");
    hash.update(readBuf.subarray(0, n));
    pos += n;
  }
}
parentPort.on("message", (m) => {
  try {
    if (m.t === "write") {
      write(m.off, m.len, m.pos);
      parentPort.postMessage({ t: "ok" });
    } else if (m.t === "writes") {
      for (let i = 0; i < m.w.length; i += 3) write(m.w[i], m.w[i + 1], m.w[i + 2]);
      parentPort.postMessage({ t: "ok" });
    } else if (m.t === "data") {
      hashRing(m.off, m.len);
      parentPort.postMessage({ t: "ok" });
    } else if (m.t === "hashes") {
      for (let i = 0; i < m.h.length; i += 3) {
        if (m.h[i] === 0) hashRing(m.h[i + 1], m.h[i + 2]);
        else hashRange(m.h[i + 1], m.h[i + 2]);
      }
      parentPort.postMessage({ t: "ok" });
    } else if (m.t === "prefix") {
      const fd = fs.openSync(m.file, "r");
      try {
        const buf = Buffer.allocUnsafe(1 << 20);
        let pos = 0;
        while (pos < m.len) {
          const n = fs.readSync(fd, buf, 0, Math.min(buf.length, m.len - pos), pos);
          if (n === 0) throw new Error("temp file shorter than expected");
          hash.update(buf.subarray(0, n));
          pos += n;
        }
      } finally {
        fs.closeSync(fd);
      }
      parentPort.postMessage({ t: "ok" });
    } else if (m.t === "reset") {
      hash = createHash("sha256");
      parentPort.postMessage({ t: "ok" });
    } else if (m.t === "finish") {
      parentPort.postMessage({ t: "ok", hex: hash.digest("hex") });
    } else if (m.t === "attach") {
      ring = Buffer.from(m.ring);
      fd = m.fd;
      piece = m.piece;
      parentPort.postMessage({ t: "ok" });
    } else if (m.t === "ping") {
      parentPort.postMessage({ t: "ok" });
    }
  } catch (err) {
    parentPort.postMessage({ t: "error", message: String((err && err.message) || err), code: err && err.code, syscall: err && err.syscall });
  }
});
`;

interface Reply {
  t: "ok" | "error";
  hex?: string;
  message?: string;
  code?: string;
  syscall?: string;
}

/** A worker thread over the ring whose answers come back in order. */
export class RingWorker {
  private readonly worker: Worker;
  private readonly waiting: ((r: Reply) => void)[] = [];

  constructor(
    name: string,
    workerData: Record<string, unknown>,
    /** Told when the thread fails (set again by a sink that takes the thread over). */
    public onFailure: (err: Error) => void,
  ) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData });
    this.worker.on("message", (r: Reply) => this.waiting.shift()?.(r));
    this.worker.on("error", (err) => this.failAll(err));
    this.worker.on("exit", () => this.failAll(new Error(`the ${name} worker exited`)));
  }

  private failAll(err: Error): void {
    this.onFailure(err);
    for (const w of this.waiting.splice(0)) w({ t: "error", message: err.message });
  }

  call(msg: Record<string, unknown>): Promise<Reply> {
    return new Promise<Reply>((resolve, reject) => {
      this.waiting.push((r) => (r.t === "error" ? reject(Object.assign(new Error(r.message), r.code ? { code: r.code, syscall: r.syscall } : {})) : resolve(r)));
      this.worker.postMessage(msg);
    });
  }

  async terminate(): Promise<void> {
    this.worker.removeAllListeners("exit");
    await this.worker.terminate();
  }
}

/** A hashing and a writing thread handed from one sink to the next; the hash covers the file's first `hashed` bytes. */
export interface RingPair {
  hasher: RingWorker;
  writer: RingWorker;
  hashed: number;
}

/** A stretch of the ring on its way to the file: it lands once it is both hashed and written. */
interface Batch {
  len: number;
  hashed: boolean;
  written: boolean;
}

export class WorkerSink implements Sink {
  private readonly ring: Buffer;
  private readonly hasher: RingWorker;
  private readonly writer: RingWorker;
  /** Batches posted and not yet landed, in file order. */
  private readonly batches: Batch[] = [];
  private failure: Error | undefined;
  private head = 0; // ring offset where the next byte goes
  private pendingStart = 0; // ring offset of the batch not yet posted
  private pendingLen = 0;
  private outstanding = 0; // ring bytes not yet freed (posted or pending)
  private nextPos: number; // file position of the next byte accepted
  private landedPos: number;
  private spaceWaiter: (() => void) | undefined;
  private drained: (() => void) | undefined;
  private closed = false;
  private started = false;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly fh: fsp.FileHandle,
    start: number,
  ) {
    const sab = new SharedArrayBuffer(RING_BYTES);
    this.ring = Buffer.from(sab);
    const onFailure = (err: Error) => this.fail(err);
    this.hasher = new RingWorker("hashing", { ring: sab }, onFailure);
    this.writer = new RingWorker("writing", { ring: sab, fd: fh.fd, piece: WRITE_PIECE_BYTES }, onFailure);
    this.nextPos = start;
    this.landedPos = start;
  }

  /** Opens `file` (created when `prefix` is 0) and hashes its first `prefix` bytes. */
  static async open(file: string, prefix: number): Promise<WorkerSink> {
    const fh = await openPartial(file, prefix > 0 ? "resume" : "create");
    const sink = new WorkerSink(fh, prefix);
    // The threads start while the request goes out; `ready` tells when both run (their start-up CPU is
    // not the cost of receiving, which the adaptive split's probe measures).
    void Promise.all([sink.hasher.call({ t: "ping" }), sink.writer.call({ t: "ping" })]).then(
      () => (sink.started = true),
      () => undefined,
    );
    try {
      if (prefix > 0) await sink.hasher.call({ t: "prefix", file, len: prefix });
    } catch (err) {
      await sink.close();
      throw err;
    }
    return sink;
  }

  /** Both worker threads are running. */
  get ready(): boolean {
    return this.started;
  }

  get landed(): number {
    return this.landedPos;
  }

  get accepted(): number {
    return this.nextPos;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.wake();
  }

  private wake(): void {
    const space = this.spaceWaiter;
    this.spaceWaiter = undefined;
    space?.();
    if (this.batches.length === 0 || this.failure) {
      const drained = this.drained;
      this.drained = undefined;
      drained?.();
    }
  }

  /** Frees the ring space of the batches at the front that are hashed and written. */
  private land(): void {
    while (this.batches.length > 0 && this.batches[0]!.hashed && this.batches[0]!.written) {
      const b = this.batches.shift()!;
      this.outstanding -= b.len;
      this.landedPos += b.len;
    }
    this.wake();
  }

  private post(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pendingLen === 0) return;
    const off = this.pendingStart;
    const len = this.pendingLen;
    const batch: Batch = { len, hashed: false, written: false };
    this.batches.push(batch);
    const failed = (err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err)));
    this.hasher.call({ t: "data", off, len }).then(() => {
      batch.hashed = true;
      this.land();
    }, failed);
    this.writer.call({ t: "write", off, len, pos: this.nextPos - len }).then(() => {
      batch.written = true;
      this.land();
    }, failed);
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

  /** Ring memory the next received bytes can be read into (at the head; not free yet if `commit` said so). */
  nextSpace(): Uint8Array {
    return this.ring.subarray(this.head, this.head + Math.min(RING_BYTES - this.head, DIRECT_SLICE));
  }

  /**
   * `n` bytes were received into `nextSpace()`. Returns true when the space after them is free for the
   * next read; otherwise false, and `onSpace` is called once it is (or once the sink failed).
   */
  commit(n: number, onSpace: () => void): boolean {
    if (this.failure) throw this.failure;
    this.accept(n);
    const free = () => RING_BYTES - this.outstanding >= Math.min(RING_BYTES - this.head, DIRECT_SLICE);
    if (free()) return true;
    this.post();
    const wait = () => {
      if (free() || this.failure) onSpace();
      else this.spaceWaiter = wait;
    };
    this.spaceWaiter = wait;
    return false;
  }

  /** Counts `n` bytes just placed at the head of the ring. */
  private accept(n: number): void {
    this.head += n;
    this.pendingLen += n;
    this.outstanding += n;
    this.nextPos += n;
    if (this.head === RING_BYTES || this.pendingLen >= WORKER_BATCH) this.post();
    else if (this.pendingLen > 0) this.timer ??= setTimeout(() => this.post(), LINGER_MS);
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
      this.accept(n);
      src = src.subarray(n);
    }
  }

  async flush(): Promise<void> {
    this.post();
    while (this.batches.length > 0 && !this.failure) await new Promise<void>((r) => (this.drained = r));
    if (this.failure) throw this.failure;
  }

  /**
   * Ends this sink but keeps its two threads running, the hash of every landed byte in the hasher, for
   * the range sink that goes on from here (a split): no new threads to start (~60 ms of CPU each).
   */
  async handOver(): Promise<RingPair> {
    await this.flush();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    try {
      await this.fh.close();
    } catch (err) {
      await Promise.all([this.hasher.terminate(), this.writer.terminate()]);
      throw err;
    }
    return { hasher: this.hasher, writer: this.writer, hashed: this.landedPos };
  }

  async reset(): Promise<void> {
    await this.flush();
    await this.fh.truncate(0);
    await this.hasher.call({ t: "reset" });
    this.nextPos = 0;
    this.landedPos = 0;
  }

  async finish(): Promise<string> {
    try {
      await this.flush();
      const r = await this.hasher.call({ t: "finish" });
      return r.hex!;
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    try {
      // The writer uses the descriptor: every write ends before the file is closed.
      await this.flush().catch(() => undefined);
    } finally {
      await Promise.all([this.hasher.terminate(), this.writer.terminate()]);
      await this.fh.close();
    }
  }
}
