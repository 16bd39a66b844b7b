// A blob PUT over the direct transport (direct-get.ts): the request head, then the body read from its
// source into a few reused buffers and written to the socket, at most that many writes in flight (the
// socket's backpressure: a buffer is refilled only once the kernel took it). Through undici every piece
// was a fresh buffer and went through its request writer: ~0.05-0.1 CPU-s per 484 MB on this 2-core
// machine (README, Uploads), CPU the hub receiving on the same cores did not get. The answer is read as
// for a GET; one that arrives before the body is all sent (a refusal) stops the sending, so the caller
// sees the hub's answer.
import type net from "node:net";
import { Readable } from "node:stream";
import { directRequest, type DirectGetOptions, type DirectResponse, type DirectUpload } from "./direct-get.js";

/** Where a request body's bytes come from. */
export interface BodySource {
  /** Fills `buf` from its start with the next bytes; returns how many (0: no more). May throw. */
  read(buf: Buffer): number;
}

export function isBodySource(data: unknown): data is BodySource {
  return typeof (data as BodySource | undefined)?.read === "function" && !Buffer.isBuffer(data) && typeof (data as { pipe?: unknown }).pipe !== "function";
}

/** Buffers written at once: one being taken by the kernel while the next is read. */
const PIECES = 2;
const PIECE_BYTES = 1024 * 1024;

/** A body shorter than the Content-Length sent: nothing more can be sent on this request. */
export class DirectBodyShortError extends Error {
  constructor(
    readonly sent: number,
    readonly length: number,
  ) {
    super(`the body ended after ${sent} of ${length} bytes`);
  }
}

class BodyWriter implements DirectUpload {
  /** Bytes handed to the socket. */
  sent = 0;
  private socket: net.Socket | undefined;
  private fail: ((err: Error) => void) | undefined;
  private stopped = false;
  private readonly free: Buffer[];

  constructor(
    private readonly source: BodySource,
    private readonly length: number,
  ) {
    const piece = Math.max(1, Math.min(PIECE_BYTES, length));
    this.free = Array.from({ length: PIECES }, () => Buffer.allocUnsafe(piece));
  }

  start(socket: net.Socket, fail: (err: Error) => void): void {
    this.socket = socket;
    this.fail = fail;
    this.pump();
  }

  stop(): void {
    this.stopped = true;
  }

  private pump(): void {
    while (!this.stopped && this.free.length > 0 && this.sent < this.length && !this.socket!.destroyed) {
      const buf = this.free.pop()!;
      let n: number;
      try {
        n = this.source.read(buf.subarray(0, Math.min(buf.length, this.length - this.sent)));
      } catch (err) {
        this.stopped = true;
        return this.fail!(err as Error);
      }
      if (n <= 0) {
        this.stopped = true;
        return this.fail!(new DirectBodyShortError(this.sent, this.length));
      }
      this.sent += n;
      // The buffer is the socket's until this callback: only then is it read into again.
      this.socket!.write(buf.subarray(0, n), (err) => {
        this.free.push(buf);
        if (!err) this.pump();
      });
    }
  }
}

/**
 * PUTs `length` bytes from `source` and resolves once the answer's head is in (read its body with
 * `json`/`text`). The headers must carry the Content-Length. A success that came before the whole body
 * was sent is refused (a broken server: the blob cannot be whole).
 */
export async function directPut(url: string, source: BodySource, length: number, opts: Omit<DirectGetOptions, "upload" | "wholeBody">): Promise<DirectResponse> {
  const writer = new BodyWriter(source, length);
  const res = await directRequest("PUT", url, { ...opts, upload: writer, wholeBody: true });
  if (res.statusCode < 300 && writer.sent < length) {
    res.body.destroy();
    throw Object.assign(new Error(`the server answered ${res.statusCode} after ${writer.sent} of ${length} bytes`), { code: "UND_ERR_SOCKET" });
  }
  return res;
}

/** The same source as a stream for undici (https, proxies): a fresh buffer per piece, as it needs. */
export function sourceStream(source: BodySource, length: number): Readable {
  let left = length;
  return new Readable({
    highWaterMark: PIECE_BYTES,
    read() {
      try {
        if (left <= 0) return void this.push(null);
        const buf = Buffer.allocUnsafe(Math.min(PIECE_BYTES, left));
        const n = source.read(buf);
        if (n <= 0) return void this.push(null); // short: undici refuses the length mismatch
        left -= n;
        this.push(n < buf.length ? buf.subarray(0, n) : buf);
      } catch (err) {
        this.destroy(err as Error);
      }
    },
  });
}
