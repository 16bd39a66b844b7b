// The hub's write side (modelscope-upload.md §8): create repos, the LFS batch, blob PUTs, commits, tags
// and file deletion, for models and datasets, with the legacy envelopes and status codes. Access: a repo
// the caller cannot see is 404 (private stays hidden), signed out is 401, visible but not theirs is 403.
import type { IncomingMessage, ServerResponse } from "node:http";
import { repoIdProblem } from "../../hub/repo-api.js";
import { writeFileAtomic } from "../../util/atomic-write.js";
import type { FaultHooks } from "../faults.js";
import { readBody, sendJson } from "../respond.js";
import type { HubStore } from "../store.js";
import { BlobError, BlobStore, OID } from "../store/blobs.js";
import { RepoWriter, badRepoPath, type Action, type RepoKind, type TreeEntry } from "../store/commits.js";
import { hubConfigPath, readHubConfig, type HubConfigCache, type HubUser } from "../users.js";

export interface UploadRoutesContext {
  root: string;
  store: HubStore;
  config: HubConfigCache;
  faults: FaultHooks;
  userOf(req: IncomingMessage): HubUser | undefined;
  /** The one visibility rule (private repos are seen only by their members). */
  canSee(repoId: string, user: HubUser | undefined): boolean;
  /** Largest blob accepted (bytes); also bounds a commit's inline content. */
  maxUploadBytes: number;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, m: RegExpMatchArray) => Promise<void> | void;

const NAME_TAKEN_CODE: Record<RepoKind, number> = { models: 10010101001, datasets: 10020101001 };
const NOT_LOGGED_IN = "用户未登录 (User not logged in.)";

function envelope(res: ServerResponse, status: number, data: unknown, message = "success", code = status === 200 ? 200 : status * 100000000 + 10101): void {
  sendJson(res, status, { Code: code, Data: data, Message: message, RequestId: String(res.getHeader("x-request-id") ?? ""), Success: status === 200 });
}

function fail(res: ServerResponse, status: number, message: string, code?: number): void {
  envelope(res, status, null, message, code);
}

function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === "ENOSPC" || code === "EDQUOT" || code === "EFBIG";
}

export class UploadRoutes {
  readonly blobs: BlobStore;
  readonly writer: RepoWriter;
  private configWrites: Promise<unknown> = Promise.resolve();

  constructor(private readonly ctx: UploadRoutesContext) {
    this.blobs = new BlobStore(ctx.root);
    this.writer = new RepoWriter(ctx.root, this.blobs);
  }

  /** [method, path pattern, handler], to be added to the server's route table. */
  routes(): [string, RegExp, Handler][] {
    const id = "([^/]+)/([^/]+)";
    const kind = "(models|datasets)";
    return [
      ["POST", /^\/api\/v1\/(models|datasets)$/, (q, s, _u, m) => this.create(q, s, m[1] as RepoKind)],
      ["GET", new RegExp(`^/api/v1/datasets/${id}$`), (q, s, _u, m) => this.datasetInfo(q, s, m)],
      ["POST", new RegExp(`^/api/v1/repos/${kind}/${id}/info/lfs/objects/batch$`), (q, s, _u, m) => this.batch(q, s, m)],
      ["PUT", new RegExp(`^/api/v1/repos/${kind}/${id}/info/lfs/objects/([0-9a-f]{64})$`), (q, s, u, m) => this.put(q, s, u, m)],
      ["POST", new RegExp(`^/api/v1/repos/${kind}/${id}/commit/(.+)$`), (q, s, _u, m) => this.commit(q, s, m)],
      ["POST", new RegExp(`^/api/v1/${kind}/${id}/repo/tag$`), (q, s, _u, m) => this.tag(q, s, m)],
      ["DELETE", new RegExp(`^/api/v1/(models)/${id}/file$`), (q, s, u, m) => this.deleteFile(q, s, u, m)],
      ["DELETE", new RegExp(`^/api/v1/(datasets)/${id}/repo$`), (q, s, u, m) => this.deleteFile(q, s, u, m)],
    ];
  }

  // --- access ------------------------------------------------------------------------------------

  /** May this user create or write repos under `owner`: it is them, or an organisation listing them. */
  private ownsNamespace(user: HubUser, owner: string): boolean {
    return user.username === owner || (this.ctx.config.get().organizations[owner] ?? []).includes(user.username);
  }

  /** The repo if the caller may write it; otherwise answers (404 hidden or missing, 401, 403) and returns undefined. */
  private writable(req: IncomingMessage, res: ServerResponse, kind: RepoKind, m: RegExpMatchArray, offset = 2): { repoId: string; user: HubUser } | undefined {
    const repoId = `${decodeURIComponent(m[offset]!)}/${decodeURIComponent(m[offset + 1]!)}`;
    const user = this.ctx.userOf(req);
    // Names are matched exactly here: another spelling of an existing repo is not that repo.
    if (this.writer.existingId(kind, repoId) !== repoId || !this.ctx.canSee(repoId, user)) {
      fail(res, 404, `${kind === "models" ? "Model" : "Dataset"} ${repoId} does not exist.`);
      return undefined;
    }
    if (!user) {
      fail(res, 401, NOT_LOGGED_IN);
      return undefined;
    }
    if (!this.ownsNamespace(user, repoId.split("/")[0]!)) {
      fail(res, 403, `You do not have write permission on ${repoId}.`);
      return undefined;
    }
    return { repoId, user };
  }

  private async json(req: IncomingMessage, res: ServerResponse, limit: number): Promise<Record<string, unknown> | undefined> {
    let text: string;
    try {
      text = await readBody(req, limit);
    } catch {
      fail(res, 413, `Request body larger than ${limit} bytes.`);
      return undefined;
    }
    try {
      const body = JSON.parse(text || "{}") as unknown;
      if (body && typeof body === "object" && !Array.isArray(body)) return body as Record<string, unknown>;
    } catch {
      // answered below
    }
    fail(res, 400, "Request body must be a JSON object.");
    return undefined;
  }

  // --- create --------------------------------------------------------------------------------------

  private async create(req: IncomingMessage, res: ServerResponse, kind: RepoKind): Promise<void> {
    const user = this.ctx.userOf(req);
    if (!user) return fail(res, 401, NOT_LOGGED_IN);
    const type = String(req.headers["content-type"] ?? "");
    let body: Record<string, unknown> | undefined;
    if (type.startsWith("multipart/form-data")) {
      body = parseMultipart(await readBody(req, 1024 * 1024).catch(() => ""), type);
      if (!body) return fail(res, 400, "Malformed multipart body.");
    } else {
      body = await this.json(req, res, 1024 * 1024);
      if (!body) return;
    }
    const owner = String(body.Path ?? body.Owner ?? "");
    const name = String(body.Name ?? "");
    const repoId = `${owner}/${name}`;
    const problem = repoIdProblem(repoId);
    if (problem) return fail(res, 400, `Invalid repository name ${JSON.stringify(repoId)}: ${problem}.`);
    if (!this.ownsNamespace(user, owner)) return fail(res, 403, `You cannot create repositories under '${owner}'.`);
    // Private unless the request says public (5); "internal" (3) is private here too: there is no wider circle.
    const visibility = Number(body.Visibility ?? 1);
    if (![1, 3, 5].includes(visibility)) return fail(res, 400, `Invalid Visibility ${JSON.stringify(body.Visibility)}: use 1 (private), 3 (internal) or 5 (public).`);
    if (this.writer.existingId(kind, repoId)) return fail(res, 400, "该名称已被注册使用，请重新命名 (Repository name already exists)", NAME_TAKEN_CODE[kind]);
    const isPublic = visibility === 5;
    if (!isPublic) {
      // Hidden before it exists, so there is no moment where a private repo is public.
      const members = [user.username, ...(this.ctx.config.get().organizations[owner] ?? [])];
      await this.updateConfig((c) => void (c.private[repoId] = [...new Set(members)]));
    }
    try {
      this.writer.create(kind, repoId, { owner, name, visibility, license: String(body.License ?? "apache-2.0"), chineseName: body.ChineseName ?? "", description: body.Description ?? "", creator: user.username });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOTEMPTY" || (err as NodeJS.ErrnoException).code === "EEXIST") {
        return fail(res, 400, "该名称已被注册使用，请重新命名 (Repository name already exists)", NAME_TAKEN_CODE[kind]);
      }
      if (isDiskFull(err)) return fail(res, 507, "Insufficient storage on the hub.");
      throw err;
    }
    envelope(res, 200, { Id: 0, Name: name, Path: owner, Owner: owner, Visibility: isPublic ? 5 : 1, Private: !isPublic, License: body.License ?? "apache-2.0" });
  }

  /** hub.json edits, one at a time, each an atomic replace (0600). */
  private updateConfig(edit: (c: ReturnType<typeof readHubConfig>) => void): Promise<void> {
    const run = async () => {
      const config = readHubConfig(this.ctx.root);
      edit(config);
      await writeFileAtomic(hubConfigPath(this.ctx.root), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    };
    const next = this.configWrites.then(run, run);
    this.configWrites = next.catch(() => undefined);
    return next;
  }

  private datasetInfo(req: IncomingMessage, res: ServerResponse, m: RegExpMatchArray): void {
    const repoId = `${decodeURIComponent(m[1]!)}/${decodeURIComponent(m[2]!)}`;
    if (this.writer.existingId("datasets", repoId) !== repoId || !this.ctx.canSee(repoId, this.ctx.userOf(req))) return fail(res, 404, `Dataset ${repoId} does not exist.`);
    const [owner, name] = repoId.split("/");
    envelope(res, 200, { Id: 0, Name: name, Owner: owner, Namespace: owner, Private: repoId in this.ctx.config.get().private });
  }

  // --- blobs ---------------------------------------------------------------------------------------

  private async batch(req: IncomingMessage, res: ServerResponse, m: RegExpMatchArray): Promise<void> {
    const kind = m[1] as RepoKind;
    const target = this.writable(req, res, kind, m);
    if (!target) return;
    const body = await this.json(req, res, 16 * 1024 * 1024);
    if (!body) return;
    if (body.operation !== undefined && body.operation !== "upload") return fail(res, 400, `Unsupported operation ${JSON.stringify(body.operation)}.`);
    if (!Array.isArray(body.objects)) return fail(res, 400, "objects must be a list.");
    const origin = `http://${req.headers.host ?? "127.0.0.1"}`;
    const out: unknown[] = [];
    for (const o of body.objects as { oid?: unknown; size?: unknown }[]) {
      const oid = typeof o?.oid === "string" ? o.oid.toLowerCase() : "";
      const size = o?.size;
      if (!OID.test(oid)) return fail(res, 400, `Invalid oid ${JSON.stringify(o?.oid)}: 64 hex characters expected.`);
      if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) return fail(res, 400, `Invalid size for ${oid}.`);
      if (size > this.ctx.maxUploadBytes) return fail(res, 400, `${oid} is ${size} bytes, over this hub's upload limit of ${this.ctx.maxUploadBytes} bytes.`);
      const stored = this.blobs.size(oid);
      if (stored !== undefined && stored !== size) return fail(res, 400, `${oid} is stored with ${stored} bytes, not ${size}.`);
      if (stored !== undefined) continue; // stored: left out, as the real hub does
      const href = `${origin}/api/v1/repos/${kind}/${target.repoId}/info/lfs/objects/${oid}?size=${size}`;
      out.push({ oid, size, authenticated: true, actions: { upload: { href, expires_in: 3600 } } });
    }
    envelope(res, 200, { objects: out });
  }

  private async put(req: IncomingMessage, res: ServerResponse, url: URL, m: RegExpMatchArray): Promise<void> {
    const kind = m[1] as RepoKind;
    const target = this.writable(req, res, kind, m);
    if (!target) return;
    const oid = m[4]!;
    const declared = Number(url.searchParams.get("size"));
    const length = Number(req.headers["content-length"]);
    if (req.headers["content-length"] === undefined || !Number.isSafeInteger(length)) return fail(res, 411, "Content-Length is required.");
    if (url.searchParams.has("size") && declared !== length) return fail(res, 400, `Content-Length ${length} is not the declared size ${declared}.`);
    if (length > this.ctx.maxUploadBytes) return fail(res, 413, `${length} bytes is over this hub's upload limit of ${this.ctx.maxUploadBytes} bytes.`);
    const stored = this.blobs.size(oid);
    if (stored === length) {
      req.resume();
      await new Promise((r) => req.once("end", r).once("close", r));
      return envelope(res, 200, { oid, size: length });
    }
    const fault = this.ctx.faults.uploadFault?.({ modelId: target.repoId, oid, size: length }, req);
    try {
      await this.blobs.receive(req, oid, length, fault);
    } catch (err) {
      if (req.destroyed || res.destroyed || req.readableAborted) return; // the client went away: nothing kept
      if (err instanceof BlobError) return fail(res, err.status, err.message);
      if (isDiskFull(err)) return fail(res, 507, "Insufficient storage on the hub; nothing was kept.");
      throw err;
    }
    envelope(res, 200, { oid, size: length });
  }

  // --- commits ------------------------------------------------------------------------------------

  private async commit(req: IncomingMessage, res: ServerResponse, m: RegExpMatchArray): Promise<void> {
    const kind = m[1] as RepoKind;
    const target = this.writable(req, res, kind, m);
    if (!target) return;
    const branch = decodeURIComponent(m[4]!);
    // Inline contents travel base64 (4/3 bigger); room for the JSON around them.
    const body = await this.json(req, res, Math.ceil(this.ctx.maxUploadBytes * 1.4) + 16 * 1024 * 1024);
    if (!body) return;
    if (!Array.isArray(body.actions)) return fail(res, 400, "invalid commit action: actions must be a list");
    const actions: Action[] = [];
    for (const raw of body.actions as Record<string, unknown>[]) {
      const a = parseAction(raw);
      if (typeof a === "string") return fail(res, 400, `invalid commit action: ${a}`);
      actions.push(a);
    }
    const message = typeof body.commit_message === "string" && body.commit_message ? body.commit_message : "Upload";
    try {
      const r = await this.writer.commit(kind, target.repoId, {
        branch,
        message,
        description: typeof body.commit_description === "string" ? body.commit_description : "",
        author: target.user.username,
        actions,
        sha256Of: (e: TreeEntry) => e.sha256 ? Promise.resolve(e.sha256) : this.ctx.store.sha256({ path: "", absPath: e.absPath, size: e.size, mtimeMs: 0 }),
      });
      const i = r.info;
      envelope(res, 200, {
        oid: r.id,
        id: r.id,
        short_id: r.id.slice(0, 8),
        title: i.message,
        message: i.message,
        branch,
        parent_ids: i.parent ? [i.parent] : [],
        author_name: i.author,
        created_at: new Date(i.createdAt * 1000).toISOString(),
        files_changed: r.noop ? 0 : i.filesChanged,
        noop: r.noop,
      });
    } catch (err) {
      if (err instanceof BlobError) return fail(res, err.status, err.message);
      if (isDiskFull(err)) return fail(res, 507, "Insufficient storage on the hub; nothing was committed.");
      throw err;
    }
  }

  private async tag(req: IncomingMessage, res: ServerResponse, m: RegExpMatchArray): Promise<void> {
    const kind = m[1] as RepoKind;
    const target = this.writable(req, res, kind, m);
    if (!target) return;
    const body = await this.json(req, res, 64 * 1024);
    if (!body) return;
    const tag = typeof body.TagName === "string" ? body.TagName.trim() : "";
    if (!tag) return fail(res, 400, "参数错误：版本名称不能为空 (Tag name must not be empty)");
    const ref = typeof body.Ref === "string" && body.Ref ? body.Ref : "master";
    try {
      const id = await this.writer.tag(kind, target.repoId, tag, ref);
      envelope(res, 200, { TagName: tag, Ref: ref, CommitId: id });
    } catch (err) {
      if (err instanceof BlobError) return fail(res, err.status, err.message);
      throw err;
    }
  }

  /** DELETE one file: a one-action commit on the branch. */
  private async deleteFile(req: IncomingMessage, res: ServerResponse, url: URL, m: RegExpMatchArray): Promise<void> {
    const kind = m[1] as RepoKind;
    const target = this.writable(req, res, kind, m);
    if (!target) return;
    const filePath = url.searchParams.get("FilePath") ?? "";
    const branch = url.searchParams.get("Revision") || "master";
    try {
      const r = await this.writer.commit(kind, target.repoId, {
        branch,
        message: `Delete ${filePath}`,
        description: "",
        author: target.user.username,
        actions: [{ action: "delete", path: filePath }],
        sha256Of: () => Promise.resolve(""),
      });
      envelope(res, 200, { oid: r.id });
    } catch (err) {
      if (err instanceof BlobError) return fail(res, err.status === 400 && /does not exist/.test(err.message) ? 404 : err.status, err.message);
      if (isDiskFull(err)) return fail(res, 507, "Insufficient storage on the hub.");
      throw err;
    }
  }
}

/** One commit action from the request, checked; a string says what is wrong. */
function parseAction(raw: Record<string, unknown>): Action | string {
  if (!raw || typeof raw !== "object") return "each action must be an object";
  const kind = raw.action;
  const bad = badRepoPath(raw.path);
  if (bad) return `path ${JSON.stringify(raw.path)} (${bad})`;
  const p = raw.path as string;
  if (kind === "delete") return { action: "delete", path: p };
  if (kind !== "create" && kind !== "update") return `unknown action ${JSON.stringify(kind)} for ${p}`;
  const size = raw.size;
  if (raw.type === "lfs") {
    const oid = typeof raw.sha256 === "string" ? raw.sha256.toLowerCase() : "";
    if (!OID.test(oid)) return `bad sha256 for ${p}`;
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) return `bad size for ${p}`;
    return { action: "create", path: p, oid, size };
  }
  if (typeof raw.content !== "string") return `no content for ${p}`;
  const encoding = raw.encoding ?? "base64";
  if (encoding !== "base64" && encoding !== "text" && encoding !== "") return `unknown encoding ${JSON.stringify(encoding)} for ${p}`;
  if (encoding === "base64" && !/^[A-Za-z0-9+/]*={0,2}$/.test(raw.content)) return `content of ${p} is not base64`;
  const content = encoding === "base64" ? Buffer.from(raw.content, "base64") : Buffer.from(raw.content, "utf8");
  if (typeof size === "number" && size !== content.length) return `${p} declares ${size} bytes but its content has ${content.length}`;
  return { action: "create", path: p, content };
}

/** Text fields of a small multipart/form-data body (the official client sends dataset creation so). */
function parseMultipart(text: string, contentType: string): Record<string, unknown> | undefined {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  const b = boundary?.[1] ?? boundary?.[2];
  if (!b) return undefined;
  const out: Record<string, unknown> = {};
  for (const part of text.split(`--${b}`)) {
    const m = /^\r\nContent-Disposition: form-data; name="([^"]+)"[^]*?\r\n\r\n([^]*)\r\n$/i.exec(part);
    if (m) out[m[1]!] = m[2];
  }
  return out;
}
