// The sink for big single streams. Received bytes go into a shared ring (copied in by `add`, or read
// straight into it by the socket: `nextSpace`/`commit`); one worker thread hashes them while another
// writes them, so receiving, hashing and writing run on three threads. Ring space is reused only once
// its bytes are both hashed and written; `landed` counts those bytes, in order.
//
// While bytes stream, the threads are driven through shared counters, not messages: the receiving thread
// publishes how far the ring is filled and wakes them (Atomics.notify) once per batch; each thread
// publishes how far it got. A message per batch and thread, and its reply, cost the receiving thread
// ~15 µs each (posting, cloning, the reply's wake-up and callback) and garbage: ~0.3 CPU-s per 2 GiB.
// Writes go out in pieces of at most WRITE_PIECE_BYTES (sink.ts says why).
import fsp from "node:fs/promises";
import { Worker } from "node:worker_threads";
import { openPartial } from "../util/safe-open.js";
import { WRITE_PIECE_BYTES, type Sink } from "./sink.js";

const MiB = 1024 * 1024;
const RING_BYTES = 16 * MiB;
/** The threads are woken once this much more is in the ring (or after LINGER_MS). */
const WORKER_BATCH = 2 * MiB;
/** Most a socket reads into the ring at once. */
const DIRECT_SLICE = MiB;
/** Longest a received byte waits for its batch to fill before it goes on anyway. */
const LINGER_MS = 20;

/**
 * The shared counters of a stream (BigInt64Array slots): bytes put in the ring since the stream
 * started, bytes hashed, bytes written, a stop request, and a count every step of either thread bumps
 * (what the receiving thread waits on for space).
 */
const PRODUCED = 0;
const HASHED = 1;
const WRITTEN = 2;
const STOP = 3;
const TICK = 4;
const CONTROL_SLOTS = 5;
/** A thread waiting for bytes looks again after this long even unwoken (a safety net: it is woken). */
const STREAM_WAIT_MS = 200;

// One source, two roles. Messages, answered in order:
//   hasher: {t:"prefix", file, len} hashes the first `len` bytes of the file (a resume)
//           {t:"reset"}             starts a new hash
//           {t:"finish"}            -> {hex}
//           {t:"hashes", h}         several in one message (range-sink.ts): h = [kind, a, len, ...], kind 0 =
//                                   ring[a, a+len), 1 = the file's bytes [a, a+len) read back (workerData.fd)
//   writer: {t:"writes", w}         writes ring[off, off+len) at pos, in pieces: w = [off, len, pos, ...]
//   both:   {t:"stream", ctrl, role, base}  works through the ring as the shared counters `ctrl` say
//                                   (the CONTROL_SLOTS above), hashing (role 0) or writing at file
//                                   position base + stream offset (role 1), until asked to stop with
//                                   every byte done; answered then
//           {t:"ping"}              answered once the worker runs
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
function hashRange(from, len, file = fd) {
  readBuf ??= Buffer.allocUnsafe(1 << 20);
  for (let pos = from, end = from + len; pos < end; ) {
    const n = fs.readSync(file, readBuf, 0, Math.min(readBuf.length, end - pos), pos);
    if (n === 0) throw new Error("temp file shorter than expected");
    hash.update(readBuf.subarray(0, n));
    pos += n;
  }
}
const PRODUCED = ${PRODUCED}, HASHED = ${HASHED}, WRITTEN = ${WRITTEN}, STOP = ${STOP}, TICK = ${TICK};
function stream(m) {
  const ctrl = new BigInt64Array(m.ctrl);
  const mine = m.role === 0 ? HASHED : WRITTEN;
  const size = BigInt(ring.length);
  let done = Atomics.load(ctrl, mine);
  for (;;) {
    const produced = Atomics.load(ctrl, PRODUCED);
    if (produced > done) {
      const off = Number(done % size);
      const len = Math.min(Number(produced - done), ring.length - off, ${DIRECT_SLICE});
      if (mine === HASHED) hashRing(off, len);
      else write(off, len, m.base + Number(done));
      done += BigInt(len);
      Atomics.store(ctrl, mine, done);
      Atomics.add(ctrl, TICK, 1n);
      Atomics.notify(ctrl, TICK);
    } else if (Atomics.load(ctrl, STOP) !== 0n) {
      if (Atomics.load(ctrl, PRODUCED) === done) return;
    } else Atomics.wait(ctrl, PRODUCED, produced, ${STREAM_WAIT_MS});
  }
}
parentPort.on("message", (m) => {
  try {
    if (m.t === "stream") {
      try {
        stream(m);
      } finally {
        // The receiving thread may be waiting for this thread's progress: it learns of the end.
        const ctrl = new BigInt64Array(m.ctrl);
        Atomics.add(ctrl, TICK, 1n);
        Atomics.notify(ctrl, TICK);
      }
      parentPort.postMessage({ t: "ok" });
      return;
    }
    if (m.t === "writes") {
      for (let i = 0; i < m.w.length; i += 3) write(m.w[i], m.w[i + 1], m.w[i + 2]);
      parentPort.postMessage({ t: "ok" });
    } else if (m.t === "hashes") {
      for (let i = 0; i < m.h.length; i += 3) {
        if (m.h[i] === 0) hashRing(m.h[i + 1], m.h[i + 2]);
        else hashRange(m.h[i + 1], m.h[i + 2]);
      }
      parentPort.postMessage({ t: "ok" });
    } else if (m.t === "prefix") {
      const file = fs.openSync(m.file, "r");
      try {
        hashRange(0, m.len, file);
      } finally {
        fs.closeSync(file);
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

export class WorkerSink implements Sink {
  private readonly ring: Buffer;
  private readonly control: SharedArrayBuffer;
  private readonly ctrl: BigInt64Array;
  private readonly hasher: RingWorker;
  private readonly writer: RingWorker;
  private failure: Error | undefined;
  /** Resolves once the sink failed (a waiter stops waiting). */
  private readonly failed: Promise<void>;
  private onFailed!: () => void;
  /** Both threads' answers to the running stream (undefined: no stream; the counters are zero). */
  private streaming: Promise<unknown> | undefined;
  /** The file position of the running stream's first byte. */
  private base: number;
  private head = 0; // ring offset where the next byte goes
  private produced = 0; // bytes of the running stream put in the ring
  private woken = 0; // `produced` when the threads were last woken
  private nextPos: number; // file position of the next byte accepted
  /** Landed bytes when no stream runs. */
  private landedPos: number;
  private closed = false;
  private started = false;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly fh: fsp.FileHandle,
    start: number,
  ) {
    const sab = new SharedArrayBuffer(RING_BYTES);
    this.ring = Buffer.from(sab);
    this.control = new SharedArrayBuffer(CONTROL_SLOTS * 8);
    this.ctrl = new BigInt64Array(this.control);
    this.failed = new Promise<void>((resolve) => (this.onFailed = resolve));
    const onFailure = (err: Error) => this.fail(err);
    this.hasher = new RingWorker("hashing", { ring: sab }, onFailure);
    this.writer = new RingWorker("writing", { ring: sab, fd: fh.fd, piece: WRITE_PIECE_BYTES }, onFailure);
    this.base = start;
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
    return this.streaming ? this.base + this.done() : this.landedPos;
  }

  get accepted(): number {
    return this.nextPos;
  }

  /** Bytes of the running stream both hashed and written (their ring space is free again). */
  private done(): number {
    const hashed = Atomics.load(this.ctrl, HASHED);
    const written = Atomics.load(this.ctrl, WRITTEN);
    return Number(hashed < written ? hashed : written);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.onFailed();
  }

  /** Starts both threads on a new stream from the current position (the ring is empty). */
  private startStream(): void {
    for (let i = 0; i < CONTROL_SLOTS; i++) this.ctrl[i] = 0n;
    this.base = this.nextPos;
    this.head = 0;
    this.produced = 0;
    this.woken = 0;
    const failed = (err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err)));
    const msg = (role: number) => ({ t: "stream", ctrl: this.control, role, base: this.base });
    this.streaming = Promise.all([this.hasher.call(msg(0)), this.writer.call(msg(1))]).catch(failed);
  }

  /** Every byte landed, the threads back on messages; the counters are zero again. */
  private async stopStream(): Promise<void> {
    if (!this.streaming) return;
    await this.flush();
    Atomics.store(this.ctrl, STOP, 1n);
    Atomics.notify(this.ctrl, PRODUCED);
    await this.streaming;
    this.landedPos = this.base + this.produced;
    this.streaming = undefined;
    if (this.failure) throw this.failure;
  }

  /** Wakes the threads for what is in the ring. */
  private wakeThreads(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.produced === this.woken) return;
    this.woken = this.produced;
    Atomics.notify(this.ctrl, PRODUCED);
  }

  /** Waits until `ready()` holds or the sink failed (a thread's every step bumps TICK). */
  private async waitFor(ready: () => boolean): Promise<void> {
    for (;;) {
      const tick = Atomics.load(this.ctrl, TICK);
      if (ready() || this.failure) return;
      const w = Atomics.waitAsync(this.ctrl, TICK, tick, 1000);
      if (w.async) await Promise.race([w.value, this.failed]);
    }
  }

  /** Whether `n` bytes from the head are free (their bytes, a lap before, hashed and written). */
  private room(n: number): boolean {
    return this.produced + n - this.done() <= RING_BYTES;
  }

  add(chunk: Buffer): Promise<void> | undefined {
    if (this.failure) throw this.failure;
    let src = chunk;
    while (src.length > 0) {
      const n = Math.min(src.length, RING_BYTES - this.head);
      if (!this.room(n)) return this.waitForRoom(n).then(() => this.add(src));
      src.copy(this.ring, this.head, 0, n);
      this.accept(n);
      src = src.subarray(n);
    }
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
    const next = Math.min(RING_BYTES - this.head, DIRECT_SLICE);
    if (this.room(next)) return true;
    void this.waitForRoom(next).then(onSpace, onSpace);
    return false;
  }

  /** Counts `n` bytes just placed at the head of the ring, and tells the threads. */
  private accept(n: number): void {
    if (n === 0) return;
    if (!this.streaming) this.startStream();
    this.head += n;
    if (this.head === RING_BYTES) this.head = 0;
    this.produced += n;
    this.nextPos += n;
    // Published at once (a thread at work sees it without a wake-up); the threads woken once a batch.
    Atomics.store(this.ctrl, PRODUCED, BigInt(this.produced));
    if (this.produced - this.woken >= WORKER_BATCH) this.wakeThreads();
    else this.timer ??= setTimeout(() => this.wakeThreads(), LINGER_MS);
  }

  private async waitForRoom(n: number): Promise<void> {
    this.wakeThreads();
    await this.waitFor(() => this.room(n));
    if (this.failure) throw this.failure;
  }

  async flush(): Promise<void> {
    if (this.streaming) {
      this.wakeThreads();
      await this.waitFor(() => this.done() === this.produced);
    }
    if (this.failure) throw this.failure;
  }

  /**
   * Ends this sink but keeps its two threads running, the hash of every landed byte in the hasher, for
   * the range sink that goes on from here (a split): no new threads to start (~60 ms of CPU each).
   */
  async handOver(): Promise<RingPair> {
    await this.stopStream();
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
    await this.stopStream();
    await this.fh.truncate(0);
    await this.hasher.call({ t: "reset" });
    this.nextPos = 0;
    this.landedPos = 0;
  }

  async finish(): Promise<string> {
    try {
      await this.stopStream();
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
      Atomics.store(this.ctrl, STOP, 1n);
      Atomics.notify(this.ctrl, PRODUCED);
      await Promise.all([this.hasher.terminate(), this.writer.terminate()]);
      await this.fh.close();
    }
  }
}
