// Sends a byte range of a file as a response body through two reused buffers: one is being read from
// disk while the other is on its way to the socket. A read stream allocates a fresh buffer per chunk,
// and on a fast client that garbage drove the hub into back-to-back full GCs (a third of its CPU when
// serving 2 GiB over loopback); here a transfer allocates nothing after its start.
//
// A client that stops reading pins whatever is on its way to it. So the 1 MiB buffers come out of one
// budget for the whole hub (`SendBudget`); past it a transfer uses 64 KiB ones, so a connection holds at
// most 2 MiB and the hub's total stays bounded however many clients stall (they are closed after the idle
// timeout, hub-server.ts).
import fs from "node:fs";
import fsp from "node:fs/promises";
import type { ServerResponse } from "node:http";

const CHUNK_BYTES = 1024 * 1024;
const SMALL_CHUNK_BYTES = 64 * 1024;

/** A file held fewer bytes than it was said to (a listing, or a fill's landed count that it started over since). */
export class ShortReadError extends Error {
  constructor() {
    super("the file is shorter than its listing");
  }
}

/** Bytes of send buffers in use across every transfer, against a limit. */
export class SendBudget {
  private used = 0;
  constructor(readonly limitBytes: number) {}

  /** Takes `bytes` when they fit in the budget; the caller gives them back with `give`. */
  take(bytes: number): boolean {
    if (this.used + bytes > this.limitBytes) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }
}

/** Default: 64 MiB, room for 32 transfers at full chunk size at once. */
export const DEFAULT_SEND_BUDGET_BYTES = 64 * 1024 * 1024;

/**
 * The test faults' hold on a body sent as it is (faults.ts): told of the bytes as they go to the socket,
 * and it may hold the next slice back (a throttle).
 */
export interface BodyPacer {
  /** Most bytes handed to the socket at once (undefined: the send's own chunks). */
  slice?: number | undefined;
  /** `n` more bytes were handed to the socket: milliseconds to wait before the next slice (0: none). */
  sent(n: number): number;
}

/** Writes bytes [start, end] (inclusive) of `absPath` to `res` and ends it. Rejects if the client goes away. */
export async function sendFileRange(absPath: string, start: number, end: number, res: ServerResponse, budget: SendBudget, pacer?: BodyPacer): Promise<void> {
  const length = end - start + 1;
  if (!pacer && length <= SMALL_CHUNK_BYTES) return sendSmall(absPath, start, end, res);
  // One buffer of the body's size from the budget; otherwise chunks (budgetedSender: small ones past it).
  if (!pacer && length <= CHUNK_BYTES && budget.take(length)) {
    try {
      return await sendSmall(absPath, start, end, res);
    } finally {
      budget.give(length);
    }
  }
  return sendChunks(absPath, start, end, res, budget, pacer);
}

/**
 * A body in chunks through a ChunkSender's two reused buffers. Under the test faults' pacer (faults.ts), in
 * its slices, waiting between them as it says, read with synchronous calls (small page-cached reads, where
 * a thread hand-off each costs more than the read): a read stream cut in slices through an async generator
 * cost the upstream hub of bench/mirror.bench.ts ~1.5 CPU-s per GiB, a third of it in garbage collection of
 * the stream's fresh 1 MiB buffers.
 */
async function sendChunks(absPath: string, start: number, end: number, res: ServerResponse, budget: SendBudget, pacer?: BodyPacer): Promise<void> {
  const stop = end + 1;
  const slice = pacer ? Math.max(1, pacer.slice ?? CHUNK_BYTES) : stop - start;
  const file = pacer ? fs.openSync(absPath, "r") : await fsp.open(absPath, "r");
  let release = (): void => undefined;
  try {
    const budgeted = budgetedSender(res, Math.min(slice, stop - start), budget);
    release = budgeted.release;
    for (let pos = start; pos < stop; ) {
      const to = Math.min(stop, pos + slice);
      await budgeted.sender.send(file, pos, to);
      const wait = pacer ? pacer.sent(to - pos) : 0;
      pos = to;
      if (wait > 0) await budgeted.sender.pause(wait);
    }
    await budgeted.sender.flush();
    await new Promise<void>((resolve) => res.end(resolve));
  } finally {
    release();
    if (typeof file === "number") fs.closeSync(file);
    else await file.close();
  }
}

/**
 * Sends byte ranges of open files to one response, in calls as the bytes become available (the mirror's
 * landing file, mirror/fill.ts), through two reused buffers: one is read into while the other is on its way.
 */
export class ChunkSender {
  private readonly buffers: Buffer[];
  // The write still using each buffer: it must finish before the buffer is read into again.
  private readonly inFlight: (Promise<void> | undefined)[] = [undefined, undefined];
  private next = 0;
  private readonly closed: Promise<never>;

  constructor(
    private readonly res: ServerResponse,
    chunkBytes: number,
  ) {
    const size = Math.max(1, chunkBytes);
    this.buffers = [Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)];
    this.closed = new Promise<never>((_, reject) => res.once("close", () => reject(new Error("client went away"))));
    this.closed.catch(() => undefined);
  }

  /**
   * Reads [from, to) of `fh` and hands it to the socket; resolves once the last piece is handed over. A file
   * descriptor instead is read synchronously (sendPaced: small page-cached reads, where a thread hand-off
   * each costs more than the read).
   */
  async send(fh: fsp.FileHandle | number, from: number, to: number): Promise<void> {
    for (let pos = from; pos < to; ) {
      const i = await this.slot();
      const buf = this.buffers[i]!;
      const length = Math.min(buf.length, to - pos);
      const bytesRead = typeof fh === "number" ? fs.readSync(fh, buf, 0, length, pos) : (await fh.read(buf, 0, length, pos)).bytesRead;
      if (bytesRead === 0) throw new ShortReadError();
      pos += bytesRead;
      this.write(i, bytesRead === buf.length ? buf : buf.subarray(0, bytesRead), undefined);
    }
  }

  /**
   * Hands the socket bytes someone else owns (not copied: they must not change until `written` is called,
   * once they are written or the client went away).
   */
  async sendShared(bytes: Buffer, written: () => void): Promise<void> {
    let i: number;
    try {
      i = await this.slot();
    } catch (err) {
      written();
      throw err;
    }
    this.write(i, bytes, written);
  }

  /** Waits `ms` (rejects at once if the client goes away meanwhile). */
  async pause(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))), this.closed]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The next of the two slots, once its last write is done (its buffer is then free). */
  private async slot(): Promise<number> {
    const i = this.next;
    this.next ^= 1;
    if (this.inFlight[i]) await Promise.race([this.inFlight[i], this.closed]);
    if (this.res.destroyed) throw new Error("client went away");
    return i;
  }

  private write(i: number, bytes: Buffer, written: (() => void) | undefined): void {
    const p = new Promise<void>((resolve, reject) => {
      this.res.write(bytes, (err) => {
        written?.();
        if (err) reject(err);
        else resolve();
      });
    });
    p.catch(() => undefined);
    this.inFlight[i] = p;
  }

  /** Resolves once everything handed over has been written (rejects if the client went away). */
  async flush(): Promise<void> {
    await Promise.race([Promise.all(this.inFlight), this.closed]);
  }
}

/**
 * A body of one chunk or less (within the budget): read with synchronous calls (a page-cached read of at most 1 MiB takes
 * well under a millisecond, where three async file calls cost ~150 µs of thread hand-offs) and sent at once.
 */
async function sendSmall(absPath: string, start: number, end: number, res: ServerResponse): Promise<void> {
  const fd = fs.openSync(absPath, "r");
  let body: Buffer;
  try {
    body = Buffer.allocUnsafe(end - start + 1);
    for (let got = 0; got < body.length; ) {
      const n = fs.readSync(fd, body, got, body.length - got, start + got);
      if (n === 0) throw new ShortReadError();
      got += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  await new Promise<void>((resolve, reject) => {
    res.once("close", () => (res.writableFinished ? resolve() : reject(new Error("client went away"))));
    res.end(body, () => resolve());
  });
}

/** A ChunkSender for a body of `length` bytes: two 1 MiB buffers out of the budget, or 64 KiB ones past it; `release` gives them back. */
export function budgetedSender(res: ServerResponse, length: number, budget: SendBudget): { sender: ChunkSender; release(): void } {
  const chunk = Math.min(CHUNK_BYTES, Math.max(1, length));
  const taken = budget.take(2 * chunk);
  return { sender: new ChunkSender(res, taken ? chunk : Math.min(chunk, SMALL_CHUNK_BYTES)), release: () => taken && budget.give(2 * chunk) };
}
