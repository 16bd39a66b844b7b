// Where parallel range streams' bytes go: off the main thread, as for the single stream (worker-sink.ts).
// Each stream (a lane) owns a small ring in shared memory; the socket reads straight into it (or a
// received chunk is copied in), and each batch (full, or one that waited LINGER_MS) goes to one worker
// thread that writes it at its file position while the lane goes on receiving. The hash follows the
// file in order on a second worker: a batch that starts exactly where the hash stands is hashed from
// the ring; bytes that landed ahead of it (other ranges, a resumed run) are read back from the file by
// that worker once the hash reaches them. No buffer is allocated per chunk.
import fsp from "node:fs/promises";
import { RingWorker, type RingPair } from "./worker-sink.js";
import { openPartial } from "../util/safe-open.js";

const KiB = 1024;
/** Each lane's ring; the socket reads at most READ_SLICE at once into it, and batches go out at BATCH (a capped
 * stream's batches mostly go at LINGER_MS: ~0.8 MB at 40 MB/s; messages to the workers cost ~50 µs each). */
const LANE_BYTES = 2048 * KiB;
const READ_SLICE = 256 * KiB;
const BATCH_BYTES = 1024 * KiB;
/**
 * Range writes go out in pieces of this size: a capped stream's batches are ~1 MiB, and 256 KiB pieces
 * cost ~0.1 CPU-s per GiB less than the single stream's 64 KiB (a quarter of the system calls; 1 GiB
 * capped, 4 interleaved runs each), within noise of 512 KiB. sink.ts says why the single stream's stay small.
 */
const RANGE_WRITE_PIECE = 256 * KiB;
/** Longest a received byte waits for its batch to fill before it is written anyway (a resume keeps what landed). */
const LINGER_MS = 20;

interface Batch {
  off: number; // ring offset (absolute)
  len: number;
  pos: number; // file position of its first byte
  /** Answers still awaited: the write, and the hash when hashed from the ring. */
  busy: number;
}

export class RangeSink {
  private readonly hasher: RingWorker;
  private readonly writer: RingWorker;
  private failure: Error | undefined;
  /** Where the hash will stand once every message posted to the hasher is done. */
  private hashQueued = 0;
  private closed = false;
  readonly lanes: Lane[];

  private constructor(
    private readonly fh: fsp.FileHandle,
    sab: SharedArrayBuffer,
    private readonly size: number,
    /** The end of the bytes landed contiguously from `pos` (in the part holding it). */
    private readonly landedEnd: (pos: number) => number,
    pair: RingPair | undefined,
  ) {
    const onFailure = (err: Error) => this.fail(err);
    if (pair) {
      this.hasher = pair.hasher;
      this.writer = pair.writer;
      this.hasher.onFailure = this.writer.onFailure = onFailure;
      this.hashQueued = pair.hashed;
    } else {
      this.hasher = new RingWorker("hashing", { ring: sab, fd: fh.fd }, onFailure);
      this.writer = new RingWorker("writing", { ring: sab, fd: fh.fd, piece: RANGE_WRITE_PIECE }, onFailure);
    }
    const ring = Buffer.from(sab);
    const lanes = sab.byteLength / LANE_BYTES;
    this.lanes = Array.from({ length: lanes }, (_, i) => new Lane(this, ring.subarray(i * LANE_BYTES, (i + 1) * LANE_BYTES), i * LANE_BYTES));
  }

  /**
   * Opens the preallocated temp file for positional writes; `landedEnd` tells what has landed where.
   * With `pair` (a single stream's threads), they go on here; its hash stands at `pair.hashed`, which
   * the caller made sure has landed. The pair is this sink's from the call on (closed with it).
   */
  static async open(file: string, lanes: number, size: number, landedEnd: (pos: number) => number, pair?: RingPair): Promise<RangeSink> {
    const sab = new SharedArrayBuffer(lanes * LANE_BYTES);
    let fh: fsp.FileHandle | undefined;
    try {
      fh = await openPartial(file, "resume");
      const attach = { t: "attach", ring: sab, fd: fh.fd, piece: RANGE_WRITE_PIECE };
      if (pair) await Promise.all([pair.hasher.call(attach), pair.writer.call(attach)]);
    } catch (err) {
      await Promise.all([fh?.close(), pair?.hasher.terminate(), pair?.writer.terminate()]);
      throw err;
    }
    return new RangeSink(fh, sab, size, landedEnd, pair);
  }

  get failed(): Error | undefined {
    return this.failure;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const lane of this.lanes) lane.wake();
  }

  /** Sends a batch to be written (and hashed, when the hash stands where it starts); `done` once both answered. */
  post(lane: Lane, b: Batch): void {
    const failed = (err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err)));
    b.busy = 1;
    if (b.pos === this.hashQueued) {
      b.busy++;
      this.hashQueued += b.len;
      this.hasher.call({ t: "data", off: b.off, len: b.len }).then(() => lane.answered(b), failed);
    }
    this.writer.call({ t: "write", off: b.off, len: b.len, pos: b.pos }).then(() => {
      lane.written(b.pos + b.len);
      this.catchUp();
      lane.answered(b);
    }, failed);
  }

  /** Hands the hasher the bytes that landed ahead of it and that it has now reached (read back from the file). */
  catchUp(): void {
    while (this.hashQueued < this.size && !this.failure) {
      const end = this.landedEnd(this.hashQueued);
      if (end <= this.hashQueued) return;
      const from = this.hashQueued;
      this.hashQueued = end;
      this.hasher.call({ t: "range", from, len: end - from }).catch((err: unknown) => this.fail(err as Error));
    }
  }

  /** Once every range has landed: the sha256 of the whole file. */
  async digest(): Promise<string> {
    this.catchUp();
    if (this.failure) throw this.failure;
    if (this.hashQueued !== this.size) throw new Error(`internal: hash at ${this.hashQueued} of ${this.size} bytes`);
    const r = await this.hasher.call({ t: "finish" });
    return r.hex!;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.lanes.map((l) => l.flush().catch(() => undefined)));
    await Promise.all([this.hasher.terminate(), this.writer.terminate()]);
    await this.fh.close();
  }
}

/** One range stream's way into the sink: its own small ring, whose batches land in order. */
export class Lane {
  private readonly batches: Batch[] = [];
  private head = 0; // lane offset where the next byte goes
  private pendingStart = 0; // lane offset of the bytes not yet posted
  private pendingLen = 0;
  private outstanding = 0; // bytes posted or pending, not yet landed
  private timer: NodeJS.Timeout | undefined;
  private waiter: (() => void) | undefined;
  private onWritten: ((end: number) => void) | undefined;
  /** File position of the next byte. */
  next = 0;

  constructor(
    private readonly sink: RangeSink,
    private readonly ring: Buffer,
    private readonly base: number,
  ) {}

  /** Starts a new range at `pos` (after `flush`); `onWritten(end)` as its bytes land, in order. */
  start(pos: number, onWritten: (end: number) => void): void {
    this.next = pos;
    this.onWritten = onWritten;
  }

  written(end: number): void {
    this.onWritten?.(end);
  }

  /** A batch's answer came: free the landed batches at the front. */
  answered(b: Batch): void {
    b.busy--;
    while (this.batches.length > 0 && this.batches[0]!.busy === 0) this.outstanding -= this.batches.shift()!.len;
    this.wake();
  }

  wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private check(): void {
    if (this.sink.failed) throw this.sink.failed;
  }

  /** Memory the socket reads into next (at the head; not free yet if `commit` said so). */
  nextSpace(): Uint8Array {
    return this.ring.subarray(this.head, this.head + Math.min(LANE_BYTES - this.head, READ_SLICE));
  }

  private spaceFree(): boolean {
    return LANE_BYTES - this.outstanding >= Math.min(LANE_BYTES - this.head, READ_SLICE);
  }

  /**
   * `n` bytes were read into `nextSpace()`. True when the next read may go ahead; otherwise false, and
   * `onSpace` is called once it may (or the sink failed).
   */
  commit(n: number, onSpace: () => void): boolean {
    this.check();
    this.head += n;
    this.pendingLen += n;
    this.outstanding += n;
    this.next += n;
    if (this.head === LANE_BYTES || this.pendingLen >= BATCH_BYTES) this.post();
    else if (this.pendingLen > 0) this.timer ??= setTimeout(() => this.post(), LINGER_MS);
    if (this.spaceFree()) return true;
    this.post();
    const wait = () => {
      if (this.spaceFree() || this.sink.failed) onSpace();
      else this.waiter = wait;
    };
    this.waiter = wait;
    return false;
  }

  /** A received chunk (undici), copied into the ring. Resolves at once unless the ring is full. */
  add(chunk: Uint8Array): Promise<void> | undefined {
    for (let src = chunk; src.length > 0; ) {
      this.check();
      if (!this.spaceFree()) return new Promise<void>((r) => this.whenSpace(r)).then(() => this.add(src));
      const space = this.nextSpace();
      const k = Math.min(space.length, src.length);
      space.set(src.subarray(0, k));
      src = src.subarray(k);
      this.commit(k, () => undefined);
    }
    return undefined;
  }

  private whenSpace(fn: () => void): void {
    const wait = () => {
      if (this.spaceFree() || this.sink.failed) fn();
      else this.waiter = wait;
    };
    wait();
  }

  /** Sends the bytes received since the last batch. */
  private post(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pendingLen === 0) return;
    const b: Batch = { off: this.base + this.pendingStart, len: this.pendingLen, pos: this.next - this.pendingLen, busy: 0 };
    this.batches.push(b);
    if (this.head === LANE_BYTES) this.head = 0;
    this.pendingStart = this.head;
    this.pendingLen = 0;
    this.sink.post(this, b);
  }

  /** Lands everything received so far (a retry or the next range starts from there). */
  async flush(): Promise<void> {
    this.post();
    while (this.batches.length > 0 && !this.sink.failed) await new Promise<void>((r) => (this.waiter = r));
    this.check();
  }
}
