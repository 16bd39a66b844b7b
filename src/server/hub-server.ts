// The local ModelScope-compatible hub: the real hub's endpoints, envelopes, status codes, login cookie
// and Range behaviour (protocol spec §10 and more), over a cache-layout root folder. This file starts the
// HTTP server and hands each request to its route (routes/); what a route may serve is decided by
// access.ts, where bytes live by store/.
import { randomBytes, randomUUID } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { HubConfigWatcher } from "./config-watch.js";
import { BadRequest, Call, decodePart, type Hub, type HubServerOptions } from "./context.js";
import { NO_FAULTS, createTestFaults } from "./faults.js";
import { legacyError } from "./respond.js";
import { ROUTES } from "./routes/index.js";
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
  const blobs = new BlobStore(opts.root);
  const hub: Hub = {
    opts,
    // Uploaded files are hard links to blobs named by their sha256: listing them never reads them again.
    store: new HubStore(opts.root, (f) => blobs.oidOf(f.absPath)),
    blobs,
    writer: new RepoWriter(opts.root, blobs),
    // Reads hub.json strictly now: a broken file stops the start, not the first request.
    config: new HubConfigWatcher(opts.root, opts.warn),
    faults: opts.testFaults ? createTestFaults() : NO_FAULTS,
    cdnSecret: randomBytes(32),
    port: 0,
  };
  const server = http.createServer((req, res) => {
    handle(hub, req, res).catch((err) => {
      if (res.headersSent) res.destroy();
      else if (err instanceof BadRequest) legacyError(res, 400, err.message);
      else legacyError(res, 500, "Internal error");
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  hub.port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${hub.port}`,
    port: hub.port,
    host,
    root: opts.root,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(hub: Hub, req: IncomingMessage, res: ServerResponse): Promise<void> {
  res.setHeader("x-request-id", randomUUID().replace(/-/g, ""));
  const url = new URL(req.url ?? "/", "http://hub.local");
  if (await hub.faults.onRequest(req, res, url)) return;
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
