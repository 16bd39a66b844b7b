// The local ModelScope-compatible hub: the real hub's endpoints, envelopes, status codes, login cookie
// and Range behaviour (protocol spec §10 and more), over a cache-layout root folder.
// Big files redirect to a second host name with a signed URL, like the real hub's redirect to its CDN.
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import fs from "node:fs";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { pipeline } from "node:stream/promises";
import { HubStore, type StoredFile } from "./store.js";
import { HubConfigCache, type HubUser } from "./users.js";
import { NO_FAULTS, createTestFaults, type FaultHooks } from "./faults.js";
import { readBody, sendJson } from "./respond.js";
import { sendFileRange } from "./send-file.js";
import { UploadRoutes } from "./routes/uploads.js";

export interface HubServerOptions {
  /** A ModelScope cache folder: ROOT/models/<owner>--<name>/snapshots/<rev>/..., plus optional ROOT/hub.json. */
  root: string;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Files at least this big are redirected to the CDN host (default 8 MiB; Infinity turns it off). */
  redirectThresholdBytes?: number;
  /** Host name of the redirect target (default `localhost`, the same server under another name). */
  cdnHost?: string;
  /** Largest blob (and inline commit content) accepted, in bytes (default 100 GiB). */
  maxUploadBytes?: number;
  /** Enables the /__test__ fault switches. Never on in normal use. */
  testFaults?: boolean;
}

export interface RunningHub {
  url: string;
  port: number;
  host: string;
  root: string;
  close(): Promise<void>;
}

const CDN_PREFIX = "/__cdn__/";
const CDN_URL_TTL_S = 3600;

export async function startHubServer(opts: HubServerOptions): Promise<RunningHub> {
  const host = opts.host ?? "127.0.0.1";
  const hub = new HubRoutes(opts);
  const server = http.createServer((req, res) => {
    hub.handle(req, res).catch((err) => {
      if (!res.headersSent) legacyError(res, 500, `Internal error: ${(err as Error).message}`);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  hub.port = port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    host,
    root: opts.root,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, m: RegExpMatchArray) => Promise<void> | void;

class HubRoutes {
  port = 0;
  private readonly store: HubStore;
  private readonly config: HubConfigCache;
  private readonly faults: FaultHooks;
  private readonly cdnSecret = randomBytes(32);
  private readonly routes: [string, RegExp, Handler][];
  private readonly uploads: UploadRoutes;

  constructor(private readonly opts: HubServerOptions) {
    this.config = new HubConfigCache(opts.root);
    this.faults = opts.testFaults ? createTestFaults() : NO_FAULTS;
    this.store = new HubStore(opts.root, (f) => this.uploads.blobs.oidOf(f.absPath));
    this.uploads = new UploadRoutes({
      root: opts.root,
      store: this.store,
      config: this.config,
      faults: this.faults,
      userOf: (req) => this.userOf(req),
      canSee: (id, user) => this.canSee(id, user),
      maxUploadBytes: opts.maxUploadBytes ?? 100 * 1024 ** 3,
    });
    const id = "([^/]+)/([^/]+)";
    this.routes = [
      ["POST", /^\/api\/v1\/login$/, (q, s) => this.login(q, s)],
      ["GET", /^\/openapi\/v1\/users\/me$/, (q, s) => this.whoami(q, s)],
      ["GET", new RegExp(`^/openapi/v1/models/${id}$`), (q, s, _u, m) => this.openApiModel(q, s, m)],
      ["GET", /^\/openapi\/v1\/models$/, (q, s, u) => this.openApiModelList(q, s, u)],
      ["GET", /^\/api\/v1\/repos\/internalAccelerationInfo$/, (_q, s) => legacyError(s, 404, "Not found")],
      ["GET", new RegExp(`^/api/v1/models/${id}/revisions$`), (q, s, _u, m) => this.revisions(q, s, m)],
      ["GET", new RegExp(`^/api/v1/models/${id}/repo/files$`), (q, s, u, m) => this.files(q, s, u, m)],
      ["GET", new RegExp(`^/api/v1/models/${id}/repo$`), (q, s, u, m) => this.download(q, s, u, m)],
      ["HEAD", new RegExp(`^/api/v1/models/${id}/repo$`), (q, s, u, m) => this.download(q, s, u, m)],
      ["GET", new RegExp(`^/api/v1/models/${id}$`), (q, s, _u, m) => this.legacyModel(q, s, m)],
      ["GET", /^\/__cdn__\//, (q, s, u) => this.cdn(q, s, u)],
      ["HEAD", /^\/__cdn__\//, (q, s, u) => this.cdn(q, s, u)],
      ...this.uploads.routes(),
    ];
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader("x-request-id", randomUUID().replace(/-/g, ""));
    const url = new URL(req.url ?? "/", "http://hub.local");
    if (await this.faults.onRequest(req, res, url)) return;
    for (const [method, pattern, handler] of this.routes) {
      const m = url.pathname.match(pattern);
      if (m && method === req.method) return handler(req, res, url, m);
    }
    const known = this.routes.some(([, pattern]) => pattern.test(url.pathname));
    legacyError(res, known ? 405 : 404, known ? "Method not allowed" : `No such endpoint: ${url.pathname}`);
  }

  // --- who is asking --------------------------------------------------------------------------

  /** The token from `Authorization: Bearer` or the `m_session_id` cookie, as the real hub accepts both. */
  private tokenOf(req: IncomingMessage): string | undefined {
    const auth = req.headers.authorization;
    if (auth?.startsWith("Bearer ")) return auth.slice(7).trim() || undefined;
    const cookie = req.headers.cookie ?? "";
    const m = cookie.match(/(?:^|;\s*)m_session_id=([^;]*)/);
    return m?.[1] ? decodeURIComponent(m[1]) : undefined;
  }

  private userOf(req: IncomingMessage): HubUser | undefined {
    return this.config.userForToken(this.tokenOf(req));
  }

  /** Private models are invisible (404) to anyone not listed, as on the real hub. */
  private canSee(modelId: string, user: HubUser | undefined): boolean {
    const members = this.config.get().private[modelId];
    return !members || (!!user && members.includes(user.username));
  }

  /** The model id from a route match, if it exists and the caller may see it; otherwise answers 404. */
  private visibleModel(req: IncomingMessage, res: ServerResponse, m: RegExpMatchArray, openApi = false): string | undefined {
    const modelId = `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`;
    if (this.store.modelDir(modelId) && this.canSee(modelId, this.userOf(req))) return modelId;
    if (openApi) openApiError(res, 404, "Model does not exist.");
    else legacyError(res, 404, `Model ${modelId} does not exist.`);
    return undefined;
  }

  // --- auth -----------------------------------------------------------------------------------

  private async login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: { AccessToken?: unknown };
    try {
      body = JSON.parse((await readBody(req, 64 * 1024)) || "{}") as { AccessToken?: unknown };
    } catch {
      return legacyError(res, 400, "Request body must be JSON");
    }
    if (typeof body?.AccessToken !== "string" || !body.AccessToken) return legacyError(res, 400, "AccessToken is required");
    const user = this.config.userForToken(body.AccessToken);
    if (!user) return legacyError(res, 401, "Authentication failed, please make sure that a valid ModelScope token is supplied.");
    const expires = new Date(Date.now() + 30 * 24 * 3600 * 1000).toUTCString();
    res.setHeader("set-cookie", `m_session_id=${encodeURIComponent(body.AccessToken)}; Path=/; Expires=${expires}; HttpOnly`);
    legacyOk(res, { AccessToken: `git-${user.username}`, Username: user.username, Email: user.email ?? "" });
  }

  private whoami(req: IncomingMessage, res: ServerResponse): void {
    const user = this.userOf(req);
    if (!user) return openApiError(res, 401, "Authentication failed, please make sure that a valid ModelScope token is supplied.");
    openApiOk(res, { id: user.id ?? null, username: user.username, email: user.email ?? null, avatar_url: null, description: user.description ?? "" });
  }

  // --- models ---------------------------------------------------------------------------------

  private modelFields(modelId: string) {
    const [owner, name] = modelId.split("/") as [string, string];
    const isPrivate = modelId in this.config.get().private;
    const files = this.store.listFiles(modelId, "master") ?? [];
    const size = files.reduce((n, f) => n + f.size, 0);
    const mtime = Math.floor(Math.max(0, ...files.map((f) => f.mtimeMs)) / 1000);
    return { owner, name, isPrivate, size, mtime, gated: modelId in this.config.get().gated };
  }

  private openApiModel(req: IncomingMessage, res: ServerResponse, m: RegExpMatchArray): void {
    const modelId = this.visibleModel(req, res, m, true);
    if (!modelId) return;
    const f = this.modelFields(modelId);
    openApiOk(res, {
      id: modelId,
      display_name: f.name,
      private: f.isPrivate,
      gated: f.gated,
      login_required: f.isPrivate || f.gated,
      downloads: 0,
      likes: 0,
      license: "Apache License 2.0",
      tasks: [],
      tags: [],
      file_size: f.size,
      created_at: f.mtime,
      last_modified: f.mtime,
    });
  }

  private openApiModelList(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const user = this.userOf(req);
    const owner = url.searchParams.get("owner");
    const models = this.store
      .listModels()
      .filter((id) => this.canSee(id, user) && (!owner || id.startsWith(`${owner}/`)))
      .map((id) => ({ id, display_name: id.split("/")[1], private: id in this.config.get().private }));
    openApiOk(res, { models, total_count: models.length, page_number: 1, page_size: models.length });
  }

  private legacyModel(req: IncomingMessage, res: ServerResponse, m: RegExpMatchArray): void {
    const modelId = this.visibleModel(req, res, m);
    if (!modelId) return;
    const f = this.modelFields(modelId);
    legacyOk(res, {
      Id: 0,
      Name: f.name,
      Path: f.owner,
      Owner: f.owner,
      ChineseName: f.name,
      Visibility: f.isPrivate ? 1 : 5,
      License: "Apache License 2.0",
      Description: "",
      Downloads: 0,
      Likes: 0,
      Tags: [],
      CreatedAt: f.mtime,
      LastUpdatedTime: f.mtime,
    });
  }

  private revisions(req: IncomingMessage, res: ServerResponse, m: RegExpMatchArray): void {
    const modelId = this.visibleModel(req, res, m);
    if (!modelId) return;
    const all = this.store.revisions(modelId).map((r) => ({ Revision: r.name, CreatedAt: r.createdAt, Description: "" }));
    // Version-looking names are tags (newest first, as the real hub orders them); the rest are branches.
    const tags = this.uploads.writer.tags("models", modelId);
    const isTag = (n: string) => n in tags || /^v?\d/.test(n);
    legacyOk(res, {
      RevisionMap: {
        Branches: all.filter((r) => !isTag(r.Revision)),
        Tags: all.filter((r) => isTag(r.Revision)).sort((a, b) => b.CreatedAt - a.CreatedAt),
      },
    });
  }

  private async files(req: IncomingMessage, res: ServerResponse, url: URL, m: RegExpMatchArray): Promise<void> {
    const modelId = this.visibleModel(req, res, m);
    if (!modelId) return;
    const revision = url.searchParams.get("Revision") || "master";
    const recursive = (url.searchParams.get("Recursive") ?? "True").toLowerCase() !== "false";
    const files = this.store.listFiles(modelId, revision, url.searchParams.get("Root") ?? "", recursive);
    if (!files) return legacyError(res, 404, `Revision ${revision} of ${modelId} does not exist.`);
    const entries = await Promise.all(
      files.map(async (f) => ({
        Name: f.path.split("/").pop(),
        Path: f.path,
        Type: "blob",
        Size: f.size,
        Sha256: await this.store.sha256(f),
        Revision: revision,
        IsLFS: f.size >= 1024 * 1024,
        Mode: "33188",
        InCheck: false,
        CommitMessage: "upload",
        CommittedDate: Math.floor(f.mtimeMs / 1000),
        CommitterName: "local-hub",
      })),
    );
    legacyOk(res, { Files: entries, IsVisual: 0 });
  }

  // --- file bytes -----------------------------------------------------------------------------

  private async download(req: IncomingMessage, res: ServerResponse, url: URL, m: RegExpMatchArray): Promise<void> {
    const modelId = this.visibleModel(req, res, m);
    if (!modelId) return;
    const gatedMembers = this.config.get().gated[modelId];
    if (gatedMembers) {
      const user = this.userOf(req);
      if (!user) return legacyError(res, 401, "Please log in to download this model.");
      if (!gatedMembers.includes(user.username)) return legacyError(res, 403, "You do not have permission to download this model.");
    }
    const revision = url.searchParams.get("Revision") || "master";
    const filePath = url.searchParams.get("FilePath") ?? "";
    const file = this.store.file(modelId, revision, filePath);
    if (!file) return legacyError(res, 404, `File ${filePath} does not exist in ${modelId} at ${revision}.`);
    const threshold = this.opts.redirectThresholdBytes ?? 8 * 1024 * 1024;
    const hostName = (req.headers.host ?? "").replace(/:\d+$/, "");
    const cdnHost = this.opts.cdnHost ?? "localhost";
    if (file.size >= threshold && hostName !== cdnHost) {
      res.writeHead(302, { location: this.signedCdnUrl(modelId, revision, filePath, cdnHost), "content-length": "0" });
      res.end();
      return;
    }
    await this.sendFile(req, res, { modelId, revision, file });
  }

  private signedCdnUrl(modelId: string, revision: string, filePath: string, cdnHost: string): string {
    const expires = Math.floor(Date.now() / 1000) + CDN_URL_TTL_S;
    const objectPath = `${modelId.replace("/", "--")}/${encodeURIComponent(revision)}/${filePath.split("/").map(encodeURIComponent).join("/")}`;
    const signature = this.sign(`${objectPath}\n${expires}`);
    return `http://${cdnHost}:${this.port}${CDN_PREFIX}${objectPath}?Expires=${expires}&Signature=${signature}`;
  }

  private sign(text: string): string {
    return createHmac("sha256", this.cdnSecret).update(text).digest("hex");
  }

  /** The CDN: serves signed URLs only, and refuses hub credentials, as a presigned object store does. */
  private async cdn(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.headers.authorization || /(?:^|;\s*)m_session_id=/.test(req.headers.cookie ?? "")) {
      return xmlError(res, 400, "InvalidArgument", "Hub credentials must not be sent to the CDN.");
    }
    const objectPath = url.pathname.slice(CDN_PREFIX.length);
    const expires = Number(url.searchParams.get("Expires"));
    const given = Buffer.from(url.searchParams.get("Signature") ?? "", "hex");
    const wanted = Buffer.from(this.sign(`${objectPath}\n${expires}`), "hex");
    if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) return xmlError(res, 403, "SignatureDoesNotMatch", "Bad signature.");
    if (!(expires * 1000 > Date.now())) return xmlError(res, 403, "AccessDenied", "Request has expired.");
    const [dir, revision, ...rest] = objectPath.split("/").map(decodeURIComponent);
    const modelId = (dir ?? "").replace("--", "/");
    const file = this.store.file(modelId, revision ?? "", rest.join("/"));
    if (!file) return xmlError(res, 404, "NoSuchKey", "The specified key does not exist.");
    await this.sendFile(req, res, { modelId, revision: revision!, file });
  }

  private async sendFile(req: IncomingMessage, res: ServerResponse, t: { modelId: string; revision: string; file: StoredFile }): Promise<void> {
    const { file } = t;
    const range = parseRange(req.headers.range, file.size);
    const headers: Record<string, string | number> = {
      "content-type": "application/octet-stream",
      "accept-ranges": "bytes",
      "last-modified": new Date(file.mtimeMs).toUTCString(),
      "content-disposition": `attachment; filename="${encodeURIComponent(file.path.split("/").pop() ?? "file")}"`,
    };
    if (range === "unsatisfiable") {
      res.writeHead(416, { "content-range": `bytes */${file.size}`, "content-length": 0 });
      res.end();
      return;
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? file.size - 1;
    headers["content-length"] = Math.max(0, end - start + 1);
    if (range) headers["content-range"] = `bytes ${start}-${end}/${file.size}`;
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === "HEAD" || file.size === 0) {
      res.end();
      return;
    }
    const open = () => fs.createReadStream(file.absPath, { start, end, highWaterMark: 1024 * 1024 });
    const wrapped = this.faults.wrapFileStream({ modelId: t.modelId, revision: t.revision, filePath: file.path, start, end, size: file.size }, open, res);
    try {
      await (wrapped ? pipeline(wrapped, res) : sendFileRange(file.absPath, start, end, res));
    } catch {
      // The client went away, or a fault cut the stream: nothing more to send.
      res.destroy();
    }
  }
}

// --- envelopes --------------------------------------------------------------------------------

function requestId(res: ServerResponse): string {
  return String(res.getHeader("x-request-id") ?? "");
}

export function legacyOk(res: ServerResponse, data: unknown): void {
  sendJson(res, 200, { Code: 200, Data: data, Message: "success", RequestId: requestId(res), Success: true });
}

export function legacyError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { Code: status * 100000000 + 10101, Message: message, RequestId: requestId(res), Success: false });
}

function openApiOk(res: ServerResponse, data: unknown): void {
  sendJson(res, 200, { success: true, data, message: "success", request_id: requestId(res) });
}

function openApiError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { success: false, code: String(status), message, request_id: requestId(res) });
}

function xmlError(res: ServerResponse, status: number, code: string, message: string): void {
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId(res)}</RequestId></Error>\n`;
  res.writeHead(status, { "content-type": "application/xml", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

// --- helpers ----------------------------------------------------------------------------------

/** One `bytes=` range (start-end, start-, or -suffix). Several ranges or a malformed header: the whole file. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | "unsatisfiable" | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    if (suffix === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return "unsatisfiable";
  return { start, end };
}
