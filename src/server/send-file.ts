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

/** Writes bytes [start, end] (inclusive) of `absPath` to `res` and ends it. Rejects if the client goes away. */
export async function sendFileRange(absPath: string, start: number, end: number, res: ServerResponse, budget: SendBudget): Promise<void> {
  const length = end - start + 1;
  if (length <= SMALL_CHUNK_BYTES) return sendSmall(absPath, start, end, res);
  // One buffer of the body's size, or two of a chunk each: from the budget, or small ones past it.
  const wanted = length <= CHUNK_BYTES ? length : 2 * CHUNK_BYTES;
  if (!budget.take(wanted)) return sendChunks(absPath, start, end, res, SMALL_CHUNK_BYTES);
  try {
    await (length <= CHUNK_BYTES ? sendSmall(absPath, start, end, res) : sendChunks(absPath, start, end, res, CHUNK_BYTES));
  } finally {
    budget.give(wanted);
  }
}

async function sendChunks(absPath: string, start: number, end: number, res: ServerResponse, chunkBytes: number): Promise<void> {
  const fh = await fsp.open(absPath, "r");
  try {
    const stop = end + 1;
    const size = Math.max(1, Math.min(chunkBytes, stop - start));
    const buffers = [Buffer.allocUnsafeSlow(size), Buffer.allocUnsafeSlow(size)];
    // The write still using each buffer: it must finish before the buffer is read into again.
    const inFlight: (Promise<void> | undefined)[] = [undefined, undefined];
    const closed = new Promise<never>((_, reject) => res.once("close", () => reject(new Error("client went away"))));
    closed.catch(() => undefined);
    let pos = start;
    for (let i = 0; pos < stop; i ^= 1) {
      if (inFlight[i]) await Promise.race([inFlight[i], closed]);
      if (res.destroyed) throw new Error("client went away");
      const buf = buffers[i]!;
      const { bytesRead } = await fh.read(buf, 0, Math.min(size, stop - pos), pos);
      if (bytesRead === 0) throw new Error("the file is shorter than its listing");
      pos += bytesRead;
      inFlight[i] = new Promise<void>((resolve, reject) => {
        res.write(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead), (err) => (err ? reject(err) : resolve()));
      });
      inFlight[i]!.catch(() => undefined);
    }
    await Promise.race([Promise.all(inFlight), closed]);
    await new Promise<void>((resolve) => res.end(resolve));
  } finally {
    await fh.close();
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
      if (n === 0) throw new Error("the file is shorter than its listing");
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
