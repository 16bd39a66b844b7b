// A bare HTTP/1.1 request over one plain TCP connection whose answer's body is read straight into memory
// the caller lends (net.Socket's `onread`): no buffer allocated per read and no copy through a parser. On
// a fast link that is most of a Node client's cost; undici copies every chunk into its WebAssembly parser
// and hands out a fresh buffer per read. Used only where it is simple and safe: big file bodies over plain
// http with no proxy configured (the local hub, air-gapped mirrors), answers framed by Content-Length (or,
// for answers read whole, chunked or up to the close). A request body (a blob PUT) is written by an
// `upload` (direct-put.ts) while the answer is awaited, so an early answer stops it.
// Anything else (https, proxies) goes through undici, from HubClient.
import net from "node:net";

const HEAD_BUFFER_BYTES = 16 * 1024;
const MAX_HEAD_BYTES = 64 * 1024;

/** Where a body's bytes go. */
export interface DirectTarget {
  /**
   * Where the next bytes go. May be called while paused: answer where they will go once you resume
   * (the socket writes there only after `data` returned true or you called `resume`).
   */
  buffer(): Uint8Array;
  /** `n` bytes are at the start of the last `buffer()`. Return false to pause until `resume()`. */
  data(buf: Uint8Array, n: number): boolean;
}

/** The answer's framing is not one this client reads: send the request another way. */
export class DirectUnsupportedError extends Error {}

/** A body bigger than the caller accepts. */
export class DirectBodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`larger than ${limit} bytes`);
  }
}

/** A network failure, with the code error-mapping understands (as undici's errors carry). */
class DirectNetworkError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** Writes a request's body once the head is out (direct-put.ts). */
export interface DirectUpload {
  start(socket: net.Socket, fail: (err: Error) => void): void;
  /** The answer's head arrived: send no more. */
  stop(): void;
}

export interface DirectGetOptions {
  headers: Record<string, string>;
  /** A request body, written after the head (the headers must give its Content-Length). */
  upload?: DirectUpload | undefined;
  signal?: AbortSignal | undefined;
  connectTimeoutMs: number;
  /** No byte for this long (while we want bytes) fails the request. */
  readTimeoutMs: number;
  /**
   * The caller reads the body whole (`json`/`text`), so a chunked answer or one that ends at the close is
   * fine too. Otherwise a success not framed by Content-Length is refused with DirectUnsupportedError.
   */
  wholeBody?: boolean;
}

export interface DirectResponse {
  statusCode: number;
  /** Lower-case names; repeated headers as arrays. */
  headers: Record<string, string | string[]>;
  body: DirectBody;
}

const PROXY_VARS = ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"];

/** Plain http, and no proxy configured at all (a proxy's rules are undici's job). */
export function directAllowed(url: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (!url.startsWith("http:")) return false;
  return PROXY_VARS.every((name) => !env[name]);
}

/** Sends the GET and resolves once the response head is in; the body waits for `pipeTo`. */
export function directGet(url: string, opts: DirectGetOptions): Promise<DirectResponse> {
  return directRequest("GET", url, opts);
}

/** Sends the request (and `opts.upload`'s body) and resolves once the response head is in. */
export function directRequest(method: "GET" | "PUT", url: string, opts: DirectGetOptions): Promise<DirectResponse> {
  const u = new URL(url);
  for (const [k, v] of Object.entries(opts.headers)) {
    // Our own values, but a header must never smuggle another line into the request.
    if (/[\r\n\0]/.test(k) || /[\r\n\0]/.test(v)) return Promise.reject(new Error(`invalid header ${k}`));
  }
  const lines = [`${method} ${u.pathname}${u.search} HTTP/1.1`, `host: ${u.host}`];
  for (const [k, v] of Object.entries(opts.headers)) lines.push(`${k}: ${v}`);
  lines.push("connection: close", "", "");
  return new Promise<DirectResponse>((resolve, reject) => {
    const body = new DirectBody(u.hostname.replace(/^\[|\]$/g, ""), Number(u.port || 80), lines.join("\r\n"), opts, resolve, reject);
    body.start();
  });
}

type Phase = "connecting" | "head" | "body" | "done";

export class DirectBody {
  /** Content-Length of the body (MAX_SAFE_INTEGER for a chunked one). */
  length = 0;
  /** Set for a chunked answer, or one that ends at the close, read whole (`wholeBody`). */
  private chunked: BodyDecoder | undefined;
  private phase: Phase = "connecting";
  private socket!: net.Socket;
  private head: Buffer = Buffer.allocUnsafe(HEAD_BUFFER_BYTES);
  private headUsed = 0;
  private readonly spill = Buffer.allocUnsafe(HEAD_BUFFER_BYTES);
  /** Body bytes read into our own memory, still to be copied to the target. */
  private pending: Buffer | undefined;
  private delivered = 0;
  private target: DirectTarget | undefined;
  private paused = false;
  /** The memory the socket reads into next (the last answer given to Node's buffer generator). */
  private current: Uint8Array = this.head;
  private finish: { resolve: () => void; reject: (err: Error) => void } | undefined;
  private failure: Error | undefined;
  /** Detached: the socket may still hold the old target's memory for its next read. */
  private stale = false;
  private readonly onAbort = () => this.fail(Object.assign(new Error("aborted"), { name: "AbortError" }));

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly request: string,
    private readonly opts: DirectGetOptions,
    private readonly onHead: (res: DirectResponse) => void,
    private readonly onHeadError: (err: Error) => void,
  ) {}

  start(): void {
    if (this.opts.signal?.aborted) return this.onAbort();
    this.opts.signal?.addEventListener("abort", this.onAbort, { once: true });
    this.socket = net.connect({
      host: this.host,
      port: this.port,
      noDelay: true,
      onread: { buffer: () => this.nextBuffer(), callback: (n: number) => this.onRead(n) },
    });
    this.socket.setTimeout(this.opts.connectTimeoutMs);
    this.socket.on("timeout", () => {
      const connecting = this.phase === "connecting";
      const code = connecting ? "UND_ERR_CONNECT_TIMEOUT" : this.phase === "head" ? "UND_ERR_HEADERS_TIMEOUT" : "UND_ERR_BODY_TIMEOUT";
      const ms = connecting ? this.opts.connectTimeoutMs : this.opts.readTimeoutMs;
      this.fail(new DirectNetworkError(`no answer for ${(ms / 1000).toFixed(ms < 1000 ? 1 : 0)} s`, code));
    });
    this.socket.on("connect", () => {
      this.phase = "head";
      this.socket.setTimeout(this.opts.readTimeoutMs);
      this.socket.write(this.request);
      this.opts.upload?.start(this.socket, (err) => this.fail(err));
    });
    this.socket.on("error", (err: NodeJS.ErrnoException) => this.fail(new DirectNetworkError(err.message, err.code ?? "ECONNRESET")));
    this.socket.on("close", () => {
      if (this.phase === "done") return;
      if (this.phase === "body" && this.chunked instanceof UntilClose) {
        // The close ends this body: what arrived is all of it.
        this.length = this.delivered;
        if (!this.pending) this.complete();
        return;
      }
      this.fail(new DirectNetworkError("other side closed", "UND_ERR_SOCKET"));
    });
  }

  /** Node asks where the next read goes (right after each read, and at the start). */
  private nextBuffer(): Uint8Array {
    if (this.phase === "connecting" || this.phase === "head") this.current = this.head.subarray(this.headUsed);
    else if (this.phase === "body" && this.target && !this.pending) this.current = this.target.buffer();
    else this.current = this.spill;
    return this.current;
  }

  private onRead(n: number): boolean {
    if (this.phase === "head") return this.onHeadBytes(n);
    if (this.phase !== "body") return false;
    const buf = this.current;
    const usable = Math.min(n, this.length - this.delivered);
    if (!this.target || this.pending || buf === this.spill || this.stale) {
      this.stale = false;
      // Read into our own memory (before pipeTo, or the one read after a pause): copy it over.
      const copy = Buffer.from(buf.subarray(0, usable));
      this.pending = this.pending ? Buffer.concat([this.pending, copy]) : copy;
      this.delivered += usable;
      if (!this.target) return this.pauseReading();
      return this.drainPending();
    }
    this.delivered += usable;
    const more = this.target.data(buf, usable);
    if (this.delivered >= this.length) {
      this.complete();
      return false;
    }
    return more ? true : this.pauseReading();
  }

  private onHeadBytes(n: number): boolean {
    this.headUsed += n;
    const end = this.head.subarray(0, this.headUsed).indexOf("\r\n\r\n");
    if (end < 0) {
      if (this.headUsed === this.head.length) {
        if (this.head.length >= MAX_HEAD_BYTES) {
          this.fail(new DirectNetworkError("response headers too large", "UND_ERR_HEADERS_OVERFLOW"));
          return false;
        }
        const bigger = Buffer.allocUnsafe(this.head.length * 2);
        this.head.copy(bigger);
        this.head = bigger;
      }
      return true;
    }
    const text = this.head.subarray(0, end).toString("latin1");
    if (/^HTTP\/1\.[01] 1\d\d/.test(text) && !/^HTTP\/1\.[01] 101/.test(text)) {
      // An interim answer (100 Continue, 103): the real one follows.
      this.head.copy(this.head, 0, end + 4, this.headUsed);
      this.headUsed -= end + 4;
      return this.onHeadBytes(0);
    }
    // The answer is here: a request body still being sent is not wanted any more.
    this.opts.upload?.stop();
    let res: DirectResponse;
    try {
      res = this.parseHead(text);
    } catch (err) {
      this.fail(err as Error);
      return false;
    }
    this.phase = "body";
    const rest = this.head.subarray(end + 4, this.headUsed);
    const usable = Math.min(rest.length, this.length);
    if (usable > 0) this.pending = Buffer.from(rest.subarray(0, usable));
    this.delivered = usable;
    this.opts.signal?.removeEventListener("abort", this.onAbort);
    const resolve = this.onHead;
    if (this.delivered >= this.length && !this.pending) this.phase = "done";
    resolve(res);
    // Wait for pipeTo (or destroy): nothing more is read until a target is there.
    if (this.phase === "done") {
      this.socket.destroy();
      return false;
    }
    return this.pauseReading();
  }

  private parseHead(text: string): DirectResponse {
    const [statusLine, ...lines] = text.split("\r\n");
    const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine ?? "");
    if (!m) throw new DirectNetworkError("not an HTTP/1.1 answer", "UND_ERR_INVALID_ARG");
    const statusCode = Number(m[1]);
    const headers: Record<string, string | string[]> = {};
    for (const line of lines) {
      const i = line.indexOf(":");
      if (i <= 0) continue;
      const name = line.slice(0, i).trim().toLowerCase();
      const value = line.slice(i + 1).trim();
      const prev = headers[name];
      headers[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
    }
    const lengths = [headers["content-length"] ?? []].flat();
    const framed = lengths.length > 0 && lengths.every((v) => /^\d+$/.test(v) && v === lengths[0]) && headers["transfer-encoding"] === undefined;
    const te = [headers["transfer-encoding"] ?? []].flat().join(",").toLowerCase().replace(/\s/g, "");
    if (statusCode === 204 || statusCode === 304) {
      this.length = 0;
      return { statusCode, headers, body: this };
    }
    if (te === "chunked" && this.opts.wholeBody) {
      this.chunked = new ChunkedDecoder();
      this.length = Number.MAX_SAFE_INTEGER; // until the last chunk
      return { statusCode, headers, body: this };
    }
    if (!framed && te === "" && this.opts.wholeBody) {
      this.chunked = new UntilClose();
      this.length = Number.MAX_SAFE_INTEGER; // until the connection closes
      return { statusCode, headers, body: this };
    }
    if (statusCode < 200 || (!framed && statusCode < 300)) {
      // 1xx, or a success whose length we would have to guess: undici does that properly.
      throw new DirectUnsupportedError(`status ${statusCode}, ${framed ? "framed" : "no Content-Length"}`);
    }
    // An unframed redirect or error: its body is only ever discarded or shown (best effort, up to close).
    this.length = framed ? Number(lengths[0]) : MAX_HEAD_BYTES;
    return { statusCode, headers, body: this };
  }

  private pauseReading(): false {
    this.paused = true;
    // Our own pause is not the network stalling.
    this.socket.setTimeout(0);
    return false;
  }

  /** Copies bytes held in our own memory to the target; false when the target wants a pause. */
  private drainPending(): boolean {
    while (this.pending && this.target) {
      const dst = this.target.buffer();
      const k = Math.min(dst.length, this.pending.length);
      dst.set(this.pending.subarray(0, k));
      this.pending = k === this.pending.length ? undefined : this.pending.subarray(k);
      const more = this.target.data(dst, k);
      if (!this.pending && this.delivered >= this.length) {
        this.complete();
        return false;
      }
      if (!more) return this.pauseReading();
    }
    return true;
  }

  /** Delivers the body to `target`; resolves when it has all arrived or `destroy()` stopped it. */
  pipeTo(target: DirectTarget): Promise<void> {
    if (this.target) return Promise.reject(new Error("the body is already being read"));
    this.target = target;
    return new Promise<void>((resolve, reject) => {
      this.finish = { resolve, reject };
      if (this.failure) return reject(this.failure);
      if (this.phase === "done") return resolve();
      this.opts.signal?.addEventListener("abort", this.onAbort, { once: true });
      this.resume();
    });
  }

  /**
   * Leaves the connection open and paused, and lets the current `pipeTo` resolve: the rest of the body
   * goes to the target of a later `pipeTo` (a single stream that goes on as one of the range streams).
   */
  detach(): void {
    if (this.phase !== "body") return;
    this.pauseReading();
    this.target = undefined;
    this.stale = true;
    const f = this.finish;
    this.finish = undefined;
    f?.resolve();
  }

  /** Goes on reading after the target paused. */
  resume(): void {
    if (!this.paused || this.phase !== "body" || !this.target) return;
    this.paused = false;
    if (this.pending && !this.drainPending()) return;
    this.socket.setTimeout(this.opts.readTimeoutMs);
    this.socket.resume();
  }

  /** Reads a short body (an error's) as text, up to `limit` bytes; best effort. */
  async text(limit: number): Promise<string> {
    return this.readAll(limit, false).catch(() => "");
  }

  /** Reads the whole body as UTF-8 text; rejects on a network failure or a body over `limit` bytes. */
  async json(limit: number): Promise<string> {
    if (!this.chunked && this.length > limit) {
      this.destroy();
      throw new DirectBodyTooLargeError(limit);
    }
    return this.readAll(limit, true);
  }

  private async readAll(limit: number, strict: boolean): Promise<string> {
    if (this.chunked) return this.readChunked(this.chunked, limit, strict);
    const out = Buffer.allocUnsafe(Math.min(this.length, limit));
    let size = 0;
    await this.pipeTo({
      buffer: () => out.subarray(size),
      data: (_b, n) => {
        size += n;
        if (size >= out.length) this.destroy();
        return true;
      },
    }).catch((err: unknown) => {
      if (strict) throw err;
    });
    if (strict && size < this.length) throw new DirectNetworkError("other side closed", "UND_ERR_SOCKET");
    return out.subarray(0, size).toString("utf8");
  }

  private async readChunked(decoder: BodyDecoder, limit: number, strict: boolean): Promise<string> {
    const scratch = Buffer.allocUnsafe(HEAD_BUFFER_BYTES);
    let failure: unknown;
    await this.pipeTo({
      buffer: () => scratch,
      data: (b, n) => {
        try {
          decoder.feed(b.subarray(0, n), limit);
        } catch (err) {
          failure = err;
        }
        if (decoder.done || failure) this.destroy();
        return true;
      },
    }).catch((err: unknown) => {
      failure ??= err;
    });
    if (strict && (failure || !decoder.done)) throw failure ?? new DirectNetworkError("other side closed", "UND_ERR_SOCKET");
    return Buffer.concat(decoder.parts).toString("utf8");
  }

  /** Stops reading and closes the connection; a pending pipeTo resolves. */
  destroy(): void {
    if (this.phase === "done") return;
    this.phase = "done";
    this.cleanup();
    this.finish?.resolve();
  }

  private complete(): void {
    if (this.chunked instanceof UntilClose) this.chunked.done = true;
    this.phase = "done";
    this.cleanup();
    this.finish?.resolve();
  }

  private fail(err: Error): void {
    if (this.phase === "done") return;
    const before = this.phase;
    this.phase = "done";
    this.failure = err;
    this.cleanup();
    if (before === "connecting" || before === "head") this.onHeadError(err);
    else this.finish?.reject(err);
  }

  private cleanup(): void {
    this.opts.signal?.removeEventListener("abort", this.onAbort);
    this.socket?.destroy();
  }
}

/** Collects a body read whole; `done` once all of it arrived. */
interface BodyDecoder {
  readonly parts: Buffer[];
  done: boolean;
  feed(bytes: Uint8Array, limit: number): void;
}

/** A body with neither length nor chunks: everything up to the close (set `done` by DirectBody). */
class UntilClose implements BodyDecoder {
  readonly parts: Buffer[] = [];
  done = false;
  private size = 0;

  feed(bytes: Uint8Array, limit: number): void {
    this.size += bytes.length;
    if (this.size > limit) throw new DirectBodyTooLargeError(limit);
    this.parts.push(Buffer.from(bytes));
  }
}

/** Decodes `Transfer-Encoding: chunked` as bytes arrive (trailers ignored). */
class ChunkedDecoder implements BodyDecoder {
  readonly parts: Buffer[] = [];
  done = false;
  private size = 0;
  /** Bytes left in the current chunk's data, or -1 while reading a size line. */
  private left = -1;
  private line = "";
  /** The CRLF after a chunk's data still to skip. */
  private crlf = 0;

  feed(bytes: Uint8Array, limit: number): void {
    let i = 0;
    while (i < bytes.length && !this.done) {
      if (this.crlf > 0) {
        i++;
        this.crlf--;
      } else if (this.left > 0) {
        const n = Math.min(this.left, bytes.length - i);
        this.size += n;
        if (this.size > limit) throw new DirectBodyTooLargeError(limit);
        this.parts.push(Buffer.from(bytes.subarray(i, i + n)));
        this.left -= n;
        i += n;
        if (this.left === 0) {
          this.left = -1;
          this.crlf = 2;
        }
      } else {
        const ch = bytes[i++]!;
        if (ch !== 0x0a) {
          if (this.line.length > 1024) throw new DirectNetworkError("bad chunk size line", "UND_ERR_INVALID_ARG");
          this.line += String.fromCharCode(ch);
          continue;
        }
        const m = /^([0-9a-fA-F]+)/.exec(this.line.trim());
        this.line = "";
        if (!m) throw new DirectNetworkError("bad chunk size line", "UND_ERR_INVALID_ARG");
        this.left = parseInt(m[1]!, 16);
        if (this.left === 0) this.done = true;
      }
    }
  }
}
