// Where parallel range streams' bytes go: off the main thread, as for the single stream (worker-sink.ts).
// Each stream (a lane) owns a small ring in shared memory; the socket reads straight into it (or a
// received chunk is copied in). A lane's bytes go out at a shared tick (TICK_MS) or once a batch is
// full: written at their file position by one worker thread, and hashed in file order by another: a
// batch that starts exactly where the hash stands is hashed from the ring; bytes that landed ahead of it
// (other ranges, a resumed run) are read back from the file by that thread once the hash reaches them.
// One message per thread and tick at most (not one per batch); no buffer allocated per chunk.
import fsp from "node:fs/promises";
import { RingWorker, type RingPair } from "./worker-sink.js";
import { openPartial } from "../util/safe-open.js";

const KiB = 1024;
/** Each lane's ring; the socket reads at most READ_SLICE at once into it, and its bytes go out at BATCH or at the tick. */
const LANE_BYTES = 2048 * KiB;
const READ_SLICE = 256 * KiB;
const BATCH_BYTES = 1024 * KiB;
/**
 * Range writes go out in pieces of this size: a capped stream's batches are ~1 MiB, and 256 KiB pieces
 * cost ~0.1 CPU-s per GiB less than the single stream's 64 KiB (a quarter of the system calls; 1 GiB
 * capped, 4 interleaved runs each), within noise of 512 KiB. sink.ts says why the single stream's stay small.
 */
const RANGE_WRITE_PIECE = 256 * KiB;
/**
 * The shared tick: the longest a received byte waits before it is written (a resume keeps what landed);
 * ~0.6 MB per lane at 40 MB/s. One timer for all lanes, and one message to each thread per tick.
 */
const TICK_MS = 15;

interface Batch {
  off: number; // ring offset (absolute)
  len: number;
  pos: number; // file position of its first byte
  /** Still being written by the writing thread, or hashed from the ring: its space is not free yet. */
  writing: boolean;
  hashing: boolean;
}

/** A batch in a message to a thread: its lane, told when the answer comes. */
interface Sent {
  lane: Lane;
  b: Batch;
}

export class RangeSink {
  private readonly hasher: RingWorker;
  private readonly writer: RingWorker;
  private failure: Error | undefined;
  /** Where the hash will stand once every message posted to the hasher is done. */
  private hashQueued = 0;
  private closed = false;
  /** The next message to the hash thread: flat [kind, a, len] (0 = ring data at a, 1 = file bytes from a). */
  private hashOps: number[] = [];
  private hashBatches: Sent[] = [];
  /** The next message to the writing thread: flat [off, len, pos]. */
  private writeOps: number[] = [];
  private writeBatches: Sent[] = [];
  /** Bytes written since the last progress event. */
  private unreported = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Received bytes as they are written (progress events: per tick or batch, not per read). */
  onBytes: (n: number) => void = () => undefined;
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

  /**
   * A lane's batch goes out with the next messages: written at its file position, and hashed from the
   * ring when the hash stands where it starts.
   */
  queue(lane: Lane, b: Batch): void {
    b.writing = true;
    this.writeOps.push(b.off, b.len, b.pos);
    this.writeBatches.push({ lane, b });
    if (b.pos === this.hashQueued) {
      b.hashing = true;
      this.hashQueued += b.len;
      this.hashOps.push(0, b.off, b.len);
      this.hashBatches.push({ lane, b });
    }
    this.unreported += b.len;
  }

  /** The writing thread wrote these: they count as landed, and the hash may read back what it reached. */
  private written(sent: Sent[]): void {
    for (const { lane, b } of sent) lane.written(b.pos + b.len);
    this.catchUp();
    for (const { lane, b } of sent) lane.done(b, "writing");
    this.send();
  }

  /** Sends each thread what is queued for it (one message each), and reports progress. */
  send(): void {
    const fail = (err: unknown) => this.fail(err instanceof Error ? err : new Error(String(err)));
    if (this.writeOps.length > 0) {
      const w = this.writeOps;
      const sent = this.writeBatches;
      this.writeOps = [];
      this.writeBatches = [];
      this.writer.call({ t: "writes", w }).then(() => this.written(sent), fail);
    }
    if (this.hashOps.length > 0) {
      const h = this.hashOps;
      const sent = this.hashBatches;
      this.hashOps = [];
      this.hashBatches = [];
      this.hasher.call({ t: "hashes", h }).then(() => {
        for (const { lane, b } of sent) lane.done(b, "hashing");
      }, fail);
    }
    if (this.unreported > 0) {
      const n = this.unreported;
      this.unreported = 0;
      this.onBytes(n);
    }
  }

  /** Queues, for the hasher, the bytes that landed ahead of it and that it has now reached (read back from the file). */
  private catchUp(): void {
    while (this.hashQueued < this.size && !this.failure) {
      const end = this.landedEnd(this.hashQueued);
      if (end <= this.hashQueued) return;
      this.hashOps.push(1, this.hashQueued, end - this.hashQueued);
      this.hashQueued = end;
    }
  }

  /** Runs the tick soon (a lane has bytes waiting, or a thread a message). */
  schedule(): void {
    if (!this.timer && !this.closed) this.timer = setTimeout(() => this.tick(), TICK_MS);
  }

  private tick(): void {
    this.timer = undefined;
    for (const lane of this.lanes) lane.post();
    this.send(); // every lane's bytes went out: the next byte received schedules the next tick
  }

  /** Once every range has landed: the sha256 of the whole file. */
  async digest(): Promise<string> {
    this.catchUp();
    this.send();
    if (this.failure) throw this.failure;
    if (this.hashQueued !== this.size) throw new Error(`internal: hash at ${this.hashQueued} of ${this.size} bytes`);
    const r = await this.hasher.call({ t: "finish" });
    return r.hex!;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all(this.lanes.map((l) => l.flush().catch(() => undefined)));
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.all([this.hasher.terminate(), this.writer.terminate()]);
    await this.fh.close();
  }
}

/** One range stream's way into the sink: its own small ring, whose batches land in order. */
export class Lane {
  /** Batches still being written or hashed from the ring, in ring order. */
  private readonly batches: Batch[] = [];
  private head = 0; // lane offset where the next byte goes
  private pendingStart = 0; // lane offset of the bytes not yet written
  private pendingLen = 0;
  private outstanding = 0; // bytes pending, being written or hashed: their ring space is not free
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

  /** A batch was written or hashed: the space of the batches at the front that are both is free. */
  done(b: Batch, what: "writing" | "hashing"): void {
    b[what] = false;
    this.free();
    this.wake();
  }

  private free(): void {
    while (this.batches.length > 0 && !this.batches[0]!.hashing && !this.batches[0]!.writing) this.outstanding -= this.batches.shift()!.len;
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
    if (this.pendingLen >= BATCH_BYTES) {
      this.post();
      this.sink.send();
    } else if (this.head === LANE_BYTES) this.post(); // a batch never wraps
    this.sink.schedule(); // what waits (bytes, or messages for the threads) goes at the tick
    this.check();
    if (this.spaceFree()) return true;
    this.sink.send();
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
      if (!this.spaceFree()) {
        this.sink.send();
        return new Promise<void>((r) => this.whenSpace(r)).then(() => this.add(src));
      }
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

  /** Queues the bytes received since the last batch (sent with the sink's next messages). */
  post(): void {
    if (this.pendingLen === 0) return;
    const b: Batch = { off: this.base + this.pendingStart, len: this.pendingLen, pos: this.next - this.pendingLen, writing: false, hashing: false };
    this.batches.push(b);
    if (this.head === LANE_BYTES) this.head = 0;
    this.pendingStart = this.head;
    this.pendingLen = 0;
    this.sink.queue(this, b);
  }

  /** Lands everything received so far (a retry or the next range starts from there). */
  async flush(): Promise<void> {
    this.post();
    this.sink.send();
    while (this.batches.length > 0 && !this.sink.failed) await new Promise<void>((r) => (this.waiter = r));
    this.check();
  }
}
