// Test-only fault switches for the local hub. They exist only when the server is started with
// `testFaults: true` (CLI: the hidden `serve --test-faults` flag); in normal use there is no way to turn
// them on. Tests set them with POST /__test__/faults and clear them with DELETE /__test__/faults;
// GET /__test__/stats tells what the server saw (requests, whether they carried credentials, file bytes sent,
// and the server's own counters, e.g. how often hub.json was looked at and read).
//
// A fault is one JSON object; POST takes {"faults": [...]} (added to those already set) or one fault:
//   {"kind": "status", "status": 429, "retryAfter": 1, "on": "file"|"listing"|"any"|"cdn", "path"?, "model"?, "times"?}
//       (with "body": {...} it answers that JSON instead, e.g. status 200 and a hostile listing)
//   {"kind": "close",  "afterBytes": N, ...}   send N bytes of the body, then close the connection cleanly (FIN)
//   {"kind": "reset",  "afterBytes": N, ...}   send N bytes, then reset the connection (RST)
//   {"kind": "corrupt", ...}                    flip the first byte of the body
//   {"kind": "stall",  "afterBytes": N, "stallMs"?: ms}   send N bytes, then nothing (until stallMs, or forever)
//   {"kind": "throttle", "bytesPerSecond": N}   cap each body's rate (for benchmarks)
//       (with "shared": true, all bodies together: one link, or a machine whose CPU is the limit)
//   {"kind": "ignore-range"}                    answer Range requests with 200 and the whole file
//   {"kind": "cut-upload", "afterBytes": N}    a blob PUT: after N bytes received, drop the connection
//   {"kind": "corrupt-upload"}                  a blob PUT: flip the first received byte (the hash check must refuse it)
//   {"kind": "disk-full", "afterBytes"?: N}     a blob PUT: fail the write with ENOSPC after N bytes (default 0)
//   {"kind": "slow-upload", "afterBytes"?: N, "stallMs"?: ms}  a blob PUT: after N bytes, wait stallMs (200) per chunk read
// For uploads, `path` is the blob's sha256 and `model` the repo id.
// `times` (default: unlimited) counts how often the fault fires; `path` / `model` limit it to one file / model.
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { readBody, sendJson } from "./respond.js";
import type { BodyPacer } from "./send-file.js";

export interface FileServeContext {
  modelId: string;
  revision: string;
  filePath: string;
  /** First and last byte being sent (inclusive). */
  start: number;
  end: number;
  size: number;
}

export interface FaultHooks {
  /** Called first for every request; returns true when it answered the request itself. */
  onRequest(req: IncomingMessage, res: ServerResponse, url: URL): boolean | Promise<boolean>;
  /**
   * Lets a fault change the bytes of a file body (corrupt, stall, cut): returns the stream to send instead;
   * or a pacer when the bytes go as they are, only counted (and throttled); or undefined to send the file
   * untouched (the hub's fast path).
   */
  wrapFileStream(ctx: FileServeContext, open: () => Readable, res: ServerResponse): Readable | BodyPacer | undefined;
  /** For a blob PUT: a function that may change (or cut) the received bytes, or undefined. */
  uploadFault?(ctx: { modelId: string; oid: string; size: number }, req: IncomingMessage): ((chunk: Buffer) => Buffer | Promise<Buffer>) | undefined;
}

/** The hooks of a server started without test faults: nothing happens. */
export const NO_FAULTS: FaultHooks = {
  onRequest: () => false,
  wrapFileStream: () => undefined,
};

export type FaultKind = "status" | "close" | "reset" | "corrupt" | "stall" | "throttle" | "ignore-range" | "cut-upload" | "corrupt-upload" | "disk-full" | "slow-upload";

export interface Fault {
  kind: FaultKind;
  /** Only this repo path (default: every file). */
  path?: string;
  /** Only this model (default: every model). */
  model?: string;
  /** How many times it fires (default: always). */
  times?: number;
  /** For `status`: which requests (default `file`: downloads, hub and CDN; `cdn`: the CDN only; `batch`, `commit`, `blob`, `create`: uploads). */
  on?: "file" | "listing" | "any" | "cdn" | "batch" | "commit" | "blob" | "create";
  status?: number;
  /** For `status`: a JSON body to answer with instead of an error envelope (e.g. a hostile listing). */
  body?: unknown;
  /** Seconds, sent as Retry-After with `status`. */
  retryAfter?: number;
  afterBytes?: number;
  stallMs?: number;
  bytesPerSecond?: number;
  /** For `throttle`: one cap for all bodies together, paced from the first byte sent under it. */
  shared?: boolean;
  sharedStart?: number;
  sharedSent?: number;
}

export interface SeenRequest {
  method: string;
  path: string;
  filePath?: string | undefined;
  range?: string | undefined;
  /** The request carried Authorization or the m_session_id cookie. */
  credentials: boolean;
  host: string;
  /** The Connection header (our direct transport sends `close`; undici keeps connections alive). */
  connection: string;
}

export interface FaultStats {
  requests: SeenRequest[];
  /** File bytes sent, per repo path. */
  bytesSent: Record<string, number>;
}

const KINDS = new Set<FaultKind>(["status", "close", "reset", "corrupt", "stall", "throttle", "ignore-range", "cut-upload", "corrupt-upload", "disk-full", "slow-upload"]);

function validate(f: unknown): Fault {
  const x = f as Fault;
  if (!x || typeof x !== "object" || !KINDS.has(x.kind)) throw new Error(`unknown fault kind: ${JSON.stringify((x as { kind?: unknown })?.kind)}`);
  return { ...x };
}

/** Percent-decoding that never throws (a malformed name is answered 400 by the router, not here). */
function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Where a request is going: a file download (hub or CDN), a listing, or something else. */
function classify(url: URL): { type: "file" | "listing" | "batch" | "commit" | "blob" | "create" | "other"; model?: string | undefined; filePath?: string | undefined; cdn?: boolean } {
  const p = url.pathname;
  let m = /^\/api\/v1\/models\/([^/]+)\/([^/]+)\/repo$/.exec(p);
  if (m) return { type: "file", model: `${decode(m[1]!)}/${decode(m[2]!)}`, filePath: url.searchParams.get("FilePath") ?? "" };
  m = /^\/__cdn__\/[^/]+\/([^/]+)\/[^/]+\/(.+)$/.exec(p);
  if (m) return { type: "file", model: decode(m[1]!).replace("--", "/"), filePath: m[2]!.split("/").map(decode).join("/"), cdn: true };
  m = /^\/api\/v1\/repos\/(?:models|datasets)\/([^/]+)\/([^/]+)\/(info\/lfs\/objects\/batch|info\/lfs\/objects\/([0-9a-f]{64})|commit\/.+)$/.exec(p);
  if (m) {
    const type = m[3] === "info/lfs/objects/batch" ? "batch" : m[4] ? "blob" : "commit";
    return { type, model: `${decode(m[1]!)}/${decode(m[2]!)}`, filePath: m[4] };
  }
  if (/^\/api\/v1\/(?:models|datasets)$/.test(p)) return { type: "create" };
  m = /^\/api\/v1\/models\/([^/]+)\/([^/]+)\/repo\/files$/.exec(p);
  if (m) return { type: "listing", model: `${decode(m[1]!)}/${decode(m[2]!)}` };
  return { type: "other" };
}

function sleep(ms: number, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      res.off("close", done);
      resolve();
    }
    res.once("close", done);
  });
}

/**
 * A throttle's pacing of one body: slices of `slice` bytes, and after each the milliseconds until the next
 * is due, against the clock since the body started (or, shared, since the first byte sent under the fault),
 * so the average rate is the cap. In 10 ms steps: smooth enough for a client measuring its rate over
 * 100 ms, as on a real link.
 */
function pacing(throttle: Fault, bytesPerSecond: number): { slice: number; after(n: number): number } {
  const slice = Math.max(16 * 1024, Math.floor(bytesPerSecond / 100));
  const start = Date.now();
  let sent = 0;
  return {
    slice,
    after(n) {
      sent += n;
      if (!throttle.shared) return start + (sent / bytesPerSecond) * 1000 - Date.now();
      throttle.sharedStart ??= Date.now();
      throttle.sharedSent = (throttle.sharedSent ?? 0) + n;
      return throttle.sharedStart + (throttle.sharedSent / bytesPerSecond) * 1000 - Date.now();
    },
  };
}

/** Creates the switchable hooks. */
export function createTestFaults(extraStats: () => Record<string, number> = () => ({})): FaultHooks {
  let faults: Fault[] = [];
  let stats: FaultStats = { requests: [], bytesSent: {} };

  const matches = (f: Fault, model: string | undefined, filePath: string | undefined) =>
    (f.times === undefined || f.times > 0) && (f.model === undefined || f.model === model) && (f.path === undefined || f.path === filePath);
  const fire = (f: Fault) => {
    if (f.times !== undefined) f.times--;
  };
  const take = (kind: FaultKind, model: string | undefined, filePath: string | undefined): Fault | undefined => {
    const f = faults.find((x) => x.kind === kind && matches(x, model, filePath));
    if (f) fire(f);
    return f;
  };

  return {
    async onRequest(req, res, url) {
      if (url.pathname === "/__test__/faults" || url.pathname === "/__test__/stats") {
        if (req.method === "GET") {
          sendJson(res, 200, url.pathname === "/__test__/stats" ? { ...stats, ...extraStats() } : { faults });
        } else if (req.method === "DELETE") {
          faults = [];
          stats = { requests: [], bytesSent: {} };
          sendJson(res, 200, { faults });
        } else if (req.method === "POST" && url.pathname === "/__test__/faults") {
          try {
            const body = JSON.parse((await readBody(req, 1024 * 1024)) || "{}") as { faults?: unknown[] } | Fault;
            const list = Array.isArray((body as { faults?: unknown[] }).faults) ? (body as { faults: unknown[] }).faults : [body];
            faults.push(...list.map(validate));
            sendJson(res, 200, { faults });
          } catch (err) {
            sendJson(res, 400, { error: (err as Error).message });
          }
        } else {
          sendJson(res, 405, { error: "method not allowed" });
        }
        return true;
      }
      const where = classify(url);
      stats.requests.push({
        method: req.method ?? "GET",
        path: url.pathname,
        filePath: where.filePath,
        range: req.headers.range,
        credentials: !!req.headers.authorization || /(?:^|;\s*)m_session_id=/.test(req.headers.cookie ?? ""),
        host: req.headers.host ?? "",
        connection: req.headers.connection ?? "",
      });
      if (where.type !== "other") {
        const on = (x: Fault) => x.on ?? "file";
        const f = faults.find((x) => x.kind === "status" && (on(x) === "any" || on(x) === where.type || (on(x) === "cdn" && where.cdn === true)) && matches(x, where.model, where.filePath));
        if (f) {
          fire(f);
          const status = f.status ?? 503;
          const body = f.body ?? { Code: status, Message: `injected fault ${status}`, RequestId: "", Success: false };
          sendJson(res, status, body, f.retryAfter !== undefined ? { "retry-after": String(f.retryAfter) } : {});
          return true;
        }
        if (where.type === "file" && req.headers.range && take("ignore-range", where.model, where.filePath)) delete req.headers.range;
      }
      return false;
    },

    uploadFault(ctx, req) {
      const cut = take("cut-upload", ctx.modelId, ctx.oid);
      const corrupt = take("corrupt-upload", ctx.modelId, ctx.oid);
      const full = take("disk-full", ctx.modelId, ctx.oid);
      const slow = take("slow-upload", ctx.modelId, ctx.oid);
      if (!cut && !corrupt && !full && !slow) return undefined;
      let received = 0;
      let corrupted = false;
      return (chunk) => {
        received += chunk.length;
        if (cut && received > (cut.afterBytes ?? 0)) {
          // As a network cut: the connection drops mid-body, no answer.
          req.socket.destroy();
          throw Object.assign(new Error("injected connection cut"), { code: "ECONNRESET" });
        }
        if (slow && received > (slow.afterBytes ?? 0)) {
          // Still reading (a paused socket would never notice the client going away), just slowly.
          return new Promise<Buffer>((resolve) => setTimeout(() => resolve(chunk), slow.stallMs ?? 200));
        }
        if (full && received > (full.afterBytes ?? 0)) throw Object.assign(new Error("injected: no space left on device"), { code: "ENOSPC", syscall: "write" });
        if (corrupt && !corrupted && chunk.length > 0) {
          corrupted = true;
          const copy = Buffer.from(chunk);
          copy[0] = copy[0]! ^ 0xff;
          return copy;
        }
        return chunk;
      };
    },

    wrapFileStream(ctx, open, res) {
      // Always wrapped in test mode: the stats count every byte sent.
      const cut = take("close", ctx.modelId, ctx.filePath) ?? take("reset", ctx.modelId, ctx.filePath);
      const corrupt = take("corrupt", ctx.modelId, ctx.filePath);
      const stall = take("stall", ctx.modelId, ctx.filePath);
      const throttle = faults.find((x) => x.kind === "throttle" && matches(x, ctx.modelId, ctx.filePath));
      if (throttle) fire(throttle);
      const count = (n: number) => {
        stats.bytesSent[ctx.filePath] = (stats.bytesSent[ctx.filePath] ?? 0) + n;
      };
      const pace = throttle?.bytesPerSecond ? pacing(throttle, throttle.bytesPerSecond) : undefined;
      // The bytes unchanged: sent as the hub sends any file (send-file.ts), counted and paced on the way.
      if (!cut && !corrupt && !stall) return { slice: pace?.slice, sent: (n) => (count(n), pace ? pace.after(n) : 0) };
      const body = open();
      async function* gen(): AsyncGenerator<Buffer> {
        let sent = 0;
        let corrupted = false;
        let triggered = false;
        for await (const raw of body as AsyncIterable<Buffer>) {
          let chunk = raw;
          if (corrupt && !corrupted && chunk.length > 0) {
            chunk = Buffer.from(chunk);
            chunk[0] = chunk[0]! ^ 0xff;
            corrupted = true;
          }
          const limit = triggered ? Infinity : cut ? (cut.afterBytes ?? 0) : stall ? (stall.afterBytes ?? 0) : Infinity;
          if (sent + chunk.length > limit || (limit === sent && chunk.length > 0)) {
            triggered = true;
            const head = chunk.subarray(0, Math.max(0, limit - sent));
            if (head.length) {
              count(head.length);
              yield head;
            }
            sent += head.length;
            // Let the bytes reach the socket before acting on it.
            await sleep(50, res);
            if (cut) {
              body.destroy();
              if (cut.kind === "reset") res.socket?.resetAndDestroy();
              else res.socket?.end();
              return;
            }
            await sleep(stall!.stallMs ?? 24 * 3600 * 1000, res);
            if (res.destroyed || res.socket?.destroyed) {
              body.destroy();
              return;
            }
            chunk = chunk.subarray(head.length);
          }
          if (pace) {
            for (let off = 0; off < chunk.length; off += pace.slice) {
              const piece = chunk.subarray(off, off + pace.slice);
              count(piece.length);
              sent += piece.length;
              yield piece;
              const due = pace.after(piece.length);
              if (due > 0) await sleep(due, res);
              if (res.destroyed) return;
            }
          } else if (chunk.length) {
            count(chunk.length);
            sent += chunk.length;
            yield chunk;
          }
        }
      }
      return Readable.from(gen(), { objectMode: false });
    },
  };
}
