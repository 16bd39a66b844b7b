// The access log: one line per request, written when the response is done (or the client went away):
//   <ISO time> <client address> <user or -> <method> <path?query> <status> <body bytes> <duration ms>ms
// Never a token, its hash or a session value: the user is the name hub.json gives the caller, query
// values that are credentials (CDN signatures; any key naming a token, session, password...) are replaced
// by `-`, and anything a client sent is escaped so it cannot forge a line or reach a terminal as control
// characters.
import fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { UsageError } from "../errors.js";

/** Where the lines go: standard output, a file (appended), or nowhere. */
export type AccessLogTarget = "stdout" | "off" | { file: string };

export interface AccessLog {
  /** Starts timing a request; `user` is asked once the response is done. */
  track(req: IncomingMessage, res: ServerResponse, user: () => string | undefined): void;
  close(): void;
}

/**
 * Query keys whose values are credentials: the CDN's signature, and whatever a client may put a token,
 * session, password or key in. Matched on the key as the hub reads it (percent-decoded, any case).
 */
const SECRET_KEY = /token|signature|session|secret|passw|authori[sz]ation|cookie|api[-_]?key|credential/i;

/** A query key as URLSearchParams reads it; undefined when it does not decode. */
function decodedKey(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replace(/\+/g, " "));
  } catch {
    return undefined;
  }
}

/** Control characters, spaces and non-ASCII as %XX: one field, printable, unforgeable. */
function clean(text: string): string {
  return text.replace(/[^\x21-\x7e]/gu, (c) => [...Buffer.from(c, "utf8")].map((b) => `%${b.toString(16).padStart(2, "0").toUpperCase()}`).join(""));
}

/** The request's path and query, with credential-like query values blanked. */
export function loggedPath(rawUrl: string): string {
  const q = rawUrl.indexOf("?");
  if (q < 0) return clean(rawUrl);
  const params = rawUrl
    .slice(q + 1)
    .split("&")
    .map((kv) => {
      const eq = kv.indexOf("=");
      const raw = eq < 0 ? kv : kv.slice(0, eq);
      // Decoded, the key may hold an `=` of its own (`t%6Fken%3DSECRET`): only what comes before it names the value.
      const key = (decodedKey(raw) ?? raw).split("=")[0]!;
      return SECRET_KEY.test(key) && (eq >= 0 || key !== decodedKey(raw)) ? `${key}=-` : kv;
    });
  return clean(`${rawUrl.slice(0, q)}?${params.join("&")}`);
}

/** Opens the log file for appending; a file the hub cannot write is the admin's to fix, said before it listens. */
function openLogFile(file: string): number {
  try {
    return fs.openSync(file, "a", 0o640);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    throw new UsageError(`Cannot write the access log ${file} (${code})`, "give a file in a folder the hub's user may write, or --access-log off", { key: "accessLogUnwritable", vars: { path: file, code } });
  }
}

export function createAccessLog(target: AccessLogTarget): AccessLog | undefined {
  if (target === "off") return undefined;
  const fd = target === "stdout" ? undefined : openLogFile(target.file);
  const out = (line: string) => {
    // Standard output whose reader went away (destroyed): the log ends there, the hub goes on (cli/run.ts).
    if (fd !== undefined) fs.write(fd, line, () => undefined);
    else if (process.stdout.writable) process.stdout.write(line);
  };
  return {
    track(req, res, user) {
      const t0 = process.hrtime.bigint();
      let bytes = 0;
      // Counts body bytes as they are handed to the socket (headers are not counted, as in common log formats).
      const write = res.write.bind(res) as (...args: unknown[]) => boolean;
      const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
      const count = (chunk: unknown) => {
        if (typeof chunk === "string") bytes += Buffer.byteLength(chunk);
        else if (chunk instanceof Uint8Array) bytes += chunk.length;
      };
      res.write = ((chunk: unknown, ...rest: unknown[]) => {
        count(chunk);
        return write(chunk, ...rest);
      }) as ServerResponse["write"];
      res.end = ((chunk?: unknown, ...rest: unknown[]) => {
        if (typeof chunk !== "function") count(chunk);
        return end(chunk, ...rest);
      }) as ServerResponse["end"];
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        // A response cut before it finished is logged with its status and the bytes that went out.
        const status = res.headersSent ? res.statusCode : 0;
        let name: string | undefined;
        try {
          name = user();
        } catch {
          name = undefined;
        }
        const fields = [new Date().toISOString(), clean(req.socket.remoteAddress ?? "-"), name ? clean(name) : "-", clean(req.method ?? "-"), loggedPath(req.url ?? "/"), String(status), String(bytes), `${ms.toFixed(1)}ms`];
        out(`${fields.join(" ")}\n`);
      };
      res.once("finish", finish);
      res.once("close", finish);
    },
    close() {
      if (fd !== undefined) fs.closeSync(fd);
    },
  };
}
