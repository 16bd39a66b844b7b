// The local ModelScope-compatible hub: the real hub's endpoints, envelopes, status codes, login cookie
// and Range behaviour (protocol spec §10 and more), over a cache-layout root folder. This file starts the
// HTTP server and hands each request to its route (routes/); what a route may serve is decided by
// access.ts, where bytes live by store/.
import { randomUUID } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { UsageError } from "../errors.js";
import { createAccessLog } from "./access-log.js";
import { checkRoot } from "./check-root.js";
import { HubConfigWatcher } from "./config-watch.js";
import { DEFAULT_CONNECTION_LIMITS, closeStalled, isRefused, limitConnections } from "./connections.js";
import { BadRequest, Call, decodePart, tokenOf, type Hub, type HubServerOptions } from "./context.js";
import { NO_FAULTS, createTestFaults } from "./faults.js";
import { Mirror } from "./mirror/index.js";
import { legacyError } from "./respond.js";
import { ROUTES } from "./routes/index.js";
import { DEFAULT_SEND_BUDGET_BYTES, SendBudget } from "./send-file.js";
import { hubSecret } from "./shared-secret.js";
import { DEFAULT_SIGN_IN_LIMITS, SignInLimiter } from "./sign-in-limit.js";
import { HubStore } from "./store/repo-store.js";
import { BlobStore } from "./store/blobs.js";
import { RepoWriter } from "./store/commits.js";

export type { HubServerOptions } from "./context.js";

export interface RunningHub {
  url: string;
  port: number;
  host: string;
  root: string;
  close(): Promise<void>;
}

export async function startHubServer(opts: HubServerOptions): Promise<RunningHub> {
  const host = opts.host ?? "127.0.0.1";
  checkRoot(opts.root);
  const warn = opts.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  // Reads hub.json strictly now: a broken file stops the start, not the first request.
  const config = new HubConfigWatcher(opts.root, warn);
  const blobs = new BlobStore(opts.root);
  const hub: Hub = {
    opts,
    // Uploaded files are hard links to blobs named by their sha256: listing them never reads them again.
    store: new HubStore(opts.root, (f) => blobs.oidOf(f.absPath)),
    blobs,
    writer: new RepoWriter(opts.root, blobs),
    config,
    faults: opts.testFaults ? createTestFaults(() => ({ hubJsonChecks: config.checks, hubJsonReads: config.reads })) : NO_FAULTS,
    // Shared by every process serving this root: a URL one signs, any other accepts.
    cdnSecret: hubSecret(opts.root, warn),
    signIns: new SignInLimiter(opts.signInLimits ?? DEFAULT_SIGN_IN_LIMITS, opts.root),
    sendBudget: new SendBudget(opts.sendBufferBudgetBytes ?? DEFAULT_SEND_BUDGET_BYTES),
    warn,
    port: 0,
  };
  if (opts.mirror) hub.mirror = new Mirror(hub, opts.mirror);
  const log = createAccessLog(opts.accessLog ?? "off");
  const server = http.createServer((req, res) => {
    if (isRefused(req.socket)) return; // answered 503 when it connected
    log?.track(req, res, () => userOf(hub, req));
    handle(hub, req, res).catch((err) => {
      if (res.headersSent) res.destroy();
      else if (err instanceof BadRequest) legacyError(res, 400, err.message);
      else legacyError(res, 500, "Internal error");
    });
  });
  server.keepAliveTimeout = 5_000;
  // A whole request may take as long as it progresses (big uploads); its headers must come within 20 s.
  server.requestTimeout = 0;
  server.headersTimeout = 20_000;
  closeStalled(server, opts.idleTimeoutMs ?? 60_000);
  limitConnections(server, {
    max: opts.maxConnections ?? DEFAULT_CONNECTION_LIMITS.max,
    perAddress: opts.maxConnectionsPerAddress ?? DEFAULT_CONNECTION_LIMITS.perAddress,
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => reject(listenError(err as NodeJS.ErrnoException, host, opts.port ?? 0)));
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  hub.port = (server.address() as AddressInfo).port;
  try {
    await hub.mirror?.checkUpstream();
  } catch (err) {
    server.close();
    server.closeAllConnections();
    log?.close();
    throw err;
  }
  // Every network: this machine reaches it at 127.0.0.1 (others at the Host they use, or --public-url).
  const localHost = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  const urlHost = localHost.includes(":") ? `[${localHost}]` : localHost;
  return {
    url: opts.publicUrl ?? `http://${urlHost}:${hub.port}`,
    port: hub.port,
    host,
    root: opts.root,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          log?.close();
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}

async function handle(hub: Hub, req: IncomingMessage, res: ServerResponse): Promise<void> {
  res.setHeader("x-request-id", randomUUID().replace(/-/g, ""));
  let url: URL;
  try {
    url = new URL(req.url ?? "/", "http://hub.local");
  } catch {
    throw new BadRequest("Malformed request target");
  }
  if (await hub.faults.onRequest(req, res, url)) return;
  if (hub.mirror && (await hub.mirror.handle(req, res, url))) return;
  let pathKnown = false;
  for (const route of ROUTES) {
    const m = url.pathname.match(route.path);
    if (!m) continue;
    pathKnown = true;
    if (route.method !== req.method) continue;
    const params = m.slice(1).map((p) => decodePart(p ?? "", "path"));
    return route.handle(new Call(hub, req, res, url, params));
  }
  legacyError(res, pathKnown ? 405 : 404, pathKnown ? "Method not allowed" : `No such endpoint: ${url.pathname}`);
}

/** A failure to listen that the user can fix, as one line and the fix; anything else as it is. */
function listenError(err: NodeJS.ErrnoException, host: string, port: number): Error {
  const vars = { host, port: String(port) };
  switch (err.code) {
    case "EADDRINUSE":
      return new UsageError(`Port ${port} on ${host} is already in use`, "pick another with --port N (--port 0 picks a free one), or stop the program using it", { key: "portInUse", vars });
    case "EACCES":
    case "EPERM":
      return new UsageError(`Not allowed to listen on port ${port}`, "use a port above 1023, e.g. --port 8777", { key: "portDenied", vars });
    case "EADDRNOTAVAIL":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new UsageError(`Cannot listen on ${host}: not an address of this machine`, "use --host 127.0.0.1 (this machine only) or --host 0.0.0.0 (every network)", { key: "badHost", vars });
    default:
      return err;
  }
}

/** The access log's user: the hub.json name of the caller's token, if any (never the token). */
function userOf(hub: Hub, req: IncomingMessage): string | undefined {
  try {
    return hub.config.current().userForToken(tokenOf(req))?.username;
  } catch {
    return undefined;
  }
}
