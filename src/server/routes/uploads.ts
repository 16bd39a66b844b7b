// The hub's write side (modelscope-upload.md §8): create repos, the LFS batch, blob PUTs, commits, tags
// and file deletion, for models and datasets, with the legacy envelopes and status codes. Access goes
// through call.repo(type, "write"): a repo the caller cannot see is 404 (private stays hidden), signed out
// is 401, visible but not theirs is 403. Bytes live in store/blobs.ts, trees and refs in store/commits.ts.
import { mayCreate } from "../access.js";
import type { Call } from "../context.js";
import { publicBase, publicUrlFor } from "../public-url.js";
import { repoIdProblem } from "../../hub/repo-api.js";
import { writeFileAtomic } from "../../util/atomic-write.js";
import { readBody, sendJson } from "../respond.js";
import { hubConfigPath, readHubConfig, rulesOf } from "../hub-config.js";
import { BlobError, OID } from "../store/blobs.js";
import { badRepoPath, type Action, type TreeEntry } from "../store/commits.js";
import { repoRef, typeFolder, type RepoType } from "../store/layout.js";
import type { StoredRepo } from "../store/repo-store.js";
import { REPO_ID, type Route } from "./route.js";
import type { ServerResponse } from "node:http";

const NAME_TAKEN_CODE: Record<RepoType, number> = { model: 10010101001, dataset: 10020101001 };
const NAME_TAKEN = "该名称已被注册使用，请重新命名 (Repository name already exists)";
const NOT_LOGGED_IN = "用户未登录 (User not logged in.)";
const DEFAULT_MAX_UPLOAD = 100 * 1024 ** 3;

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

/** Answers a store error (refusal, full disk); anything else is rethrown (a 500). */
function answerError(res: ServerResponse, err: unknown, what: string): void {
  if (err instanceof BlobError) return fail(res, err.status, err.message);
  if (isDiskFull(err)) return fail(res, 507, `Insufficient storage on the hub; ${what}.`);
  throw err;
}

function maxUpload(call: Call): number {
  return call.hub.opts.maxUploadBytes ?? DEFAULT_MAX_UPLOAD;
}

async function jsonBody(call: Call, limit: number): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readBody(call.req, limit);
  } catch {
    fail(call.res, 413, `Request body larger than ${limit} bytes.`);
    return undefined;
  }
  try {
    const body = JSON.parse(text || "{}") as unknown;
    if (body && typeof body === "object" && !Array.isArray(body)) return body as Record<string, unknown>;
  } catch {
    // answered below
  }
  fail(call.res, 400, "Request body must be a JSON object.");
  return undefined;
}

// --- create ------------------------------------------------------------------------------------------

let configWrites: Promise<unknown> = Promise.resolve();

/** hub.json edits, one at a time, each an atomic replace (0600). */
function updateConfig(root: string, edit: (c: ReturnType<typeof readHubConfig>) => void): Promise<void> {
  const run = async () => {
    const config = readHubConfig(root);
    edit(config);
    await writeFileAtomic(hubConfigPath(root), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  };
  const next = configWrites.then(run, run);
  configWrites = next.catch(() => undefined);
  return next;
}

async function create(call: Call, type: RepoType): Promise<void> {
  const { res } = call;
  if (call.rules.locked) return fail(res, 503, "The hub's access rules cannot be read; ask the hub's administrator.");
  const user = call.caller();
  if (!user) return fail(res, 401, NOT_LOGGED_IN);
  const contentType = String(call.req.headers["content-type"] ?? "");
  let body: Record<string, unknown> | undefined;
  if (contentType.startsWith("multipart/form-data")) {
    body = parseMultipart(await readBody(call.req, 1024 * 1024).catch(() => ""), contentType);
    if (!body) return fail(res, 400, "Malformed multipart body.");
  } else {
    body = await jsonBody(call, 1024 * 1024);
    if (!body) return;
  }
  const owner = String(body.Path ?? body.Owner ?? "");
  const name = String(body.Name ?? "");
  const problem = repoIdProblem(`${owner}/${name}`);
  const ref = repoRef(type, owner, name);
  if (problem || !ref) return fail(res, 400, `Invalid repository name ${JSON.stringify(`${owner}/${name}`)}: ${problem ?? "not a valid owner/name"}.`);
  if (!mayCreate(call.rules, user, owner)) return fail(res, 403, `You cannot create repositories under '${owner}'.`);
  // Private unless the request says public (5); internal (3) is private here too: this hub has no wider circle.
  const visibility = Number(body.Visibility ?? 1);
  if (![1, 3, 5].includes(visibility)) return fail(res, 400, `Invalid Visibility ${JSON.stringify(body.Visibility)}: use 1 (private), 3 (internal) or 5 (public).`);
  if (call.hub.writer.existingFolder(ref)) return fail(res, 400, NAME_TAKEN, NAME_TAKEN_CODE[type]);
  const isPublic = visibility === 5;
  if (!isPublic) {
    // Hidden before it exists, so there is no moment where a private repo is public.
    const orgs = call.rules.config.organizations;
    const members = [user.username, ...(Object.hasOwn(orgs, owner) ? orgs[owner]! : [])];
    await updateConfig(call.hub.opts.root, (c) => {
      const hidden = rulesOf(c, type).private;
      hidden[ref.id] = [...new Set([...(Object.hasOwn(hidden, ref.id) ? hidden[ref.id]! : []), ...members])];
    });
  }
  try {
    call.hub.writer.create(ref, { owner, name, visibility, license: String(body.License ?? "apache-2.0"), chineseName: body.ChineseName ?? "", description: body.Description ?? "", creator: user.username });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOTEMPTY" || code === "EEXIST") return fail(res, 400, NAME_TAKEN, NAME_TAKEN_CODE[type]);
    return answerError(res, err, "nothing was created");
  }
  envelope(res, 200, { Id: 0, Name: name, Path: owner, Owner: owner, Visibility: isPublic ? 5 : 1, Private: !isPublic, License: body.License ?? "apache-2.0" });
}

// --- blobs -------------------------------------------------------------------------------------------

async function batch(call: Call, type: RepoType): Promise<void> {
  const repo = call.repo(type, "write");
  if (!repo) return;
  const { res } = call;
  const body = await jsonBody(call, 16 * 1024 * 1024);
  if (!body) return;
  if (body.operation !== undefined && body.operation !== "upload") return fail(res, 400, `Unsupported operation ${JSON.stringify(body.operation)}.`);
  if (!Array.isArray(body.objects)) return fail(res, 400, "objects must be a list.");
  // The upload URL is on the hub's own address (public-url.ts), so clients send credentials there and nowhere else.
  const base = publicBase(call);
  const limit = maxUpload(call);
  const out: unknown[] = [];
  for (const o of body.objects as { oid?: unknown; size?: unknown }[]) {
    const oid = typeof o?.oid === "string" ? o.oid.toLowerCase() : "";
    const size = o?.size;
    if (!OID.test(oid)) return fail(res, 400, `Invalid oid ${JSON.stringify(o?.oid)}: 64 hex characters expected.`);
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) return fail(res, 400, `Invalid size for ${oid}.`);
    if (size > limit) return fail(res, 400, `${oid} is ${size} bytes, over this hub's upload limit of ${limit} bytes.`);
    const stored = call.hub.blobs.size(oid);
    if (stored !== undefined && stored !== size) return fail(res, 400, `${oid} is stored with ${stored} bytes, not ${size}.`);
    if (stored !== undefined) continue; // stored: left out, as the real hub does
    const href = publicUrlFor(base, `/api/v1/repos/${typeFolder(type)}/${repo.ref.id}/info/lfs/objects/${oid}?size=${size}`);
    out.push({ oid, size, authenticated: true, actions: { upload: { href, expires_in: 3600 } } });
  }
  envelope(res, 200, { objects: out });
}

async function put(call: Call, type: RepoType): Promise<void> {
  const repo = call.repo(type, "write");
  if (!repo) return;
  const { req, res, url } = call;
  const oid = call.params[2]!;
  const length = Number(req.headers["content-length"]);
  if (req.headers["content-length"] === undefined || !Number.isSafeInteger(length)) return fail(res, 411, "Content-Length is required.");
  if (url.searchParams.has("size") && Number(url.searchParams.get("size")) !== length) return fail(res, 400, `Content-Length ${length} is not the declared size ${url.searchParams.get("size")}.`);
  if (length > maxUpload(call)) return fail(res, 413, `${length} bytes is over this hub's upload limit of ${maxUpload(call)} bytes.`);
  if (call.hub.blobs.size(oid) === length) {
    req.resume();
    await new Promise((r) => req.once("end", r).once("close", r));
    return envelope(res, 200, { oid, size: length });
  }
  const fault = call.hub.faults.uploadFault?.({ modelId: repo.ref.id, oid, size: length }, req);
  try {
    await call.hub.blobs.receive(req, oid, length, fault);
  } catch (err) {
    if (res.destroyed || !res.socket || res.socket.destroyed) return; // the client went away: nothing kept, no one to answer
    return answerError(res, err, "nothing was kept");
  }
  envelope(res, 200, { oid, size: length });
}

// --- commits, tags, deletion ----------------------------------------------------------------------------

function sha256Of(call: Call) {
  return (e: TreeEntry) => (e.sha256 ? Promise.resolve(e.sha256) : call.hub.store.sha256({ path: "", absPath: e.absPath, size: e.size, mtimeMs: 0 }));
}

async function commit(call: Call, type: RepoType): Promise<void> {
  const repo = call.repo(type, "write");
  if (!repo) return;
  const { res } = call;
  const branch = call.params[2]!;
  // Inline contents travel base64 (4/3 bigger), with room for the JSON around them.
  const body = await jsonBody(call, Math.min(2 * 1024 ** 3, Math.ceil(maxUpload(call) * 1.4) + 16 * 1024 * 1024));
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
    const r = await call.hub.writer.commit(repo, {
      branch,
      message,
      description: typeof body.commit_description === "string" ? body.commit_description : "",
      author: call.caller()!.username,
      actions,
      sha256Of: sha256Of(call),
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
    answerError(res, err, "nothing was committed");
  }
}

async function tag(call: Call, type: RepoType): Promise<void> {
  const repo = call.repo(type, "write");
  if (!repo) return;
  const body = await jsonBody(call, 64 * 1024);
  if (!body) return;
  const name = typeof body.TagName === "string" ? body.TagName.trim() : "";
  if (!name) return fail(call.res, 400, "参数错误：版本名称不能为空 (Tag name must not be empty)");
  const ref = typeof body.Ref === "string" && body.Ref ? body.Ref : "master";
  try {
    const id = await call.hub.writer.tag(repo, name, ref);
    envelope(call.res, 200, { TagName: name, Ref: ref, CommitId: id });
  } catch (err) {
    answerError(call.res, err, "no tag was made");
  }
}

/** DELETE one file: a one-action commit on the branch. */
async function deleteFile(call: Call, type: RepoType): Promise<void> {
  const repo: StoredRepo | undefined = call.repo(type, "write");
  if (!repo) return;
  const filePath = call.url.searchParams.get("FilePath") ?? "";
  const branch = call.url.searchParams.get("Revision") || "master";
  try {
    const r = await call.hub.writer.commit(repo, { branch, message: `Delete ${filePath}`, description: "", author: call.caller()!.username, actions: [{ action: "delete", path: filePath }], sha256Of: sha256Of(call) });
    envelope(call.res, 200, { oid: r.id });
  } catch (err) {
    if (err instanceof BlobError && err.status === 400 && /does not exist/.test(err.message)) return fail(call.res, 404, err.message);
    answerError(call.res, err, "nothing was deleted");
  }
}

export const uploadRoutes: Route[] = [
  { method: "POST", path: /^\/api\/v1\/models$/, handle: (c) => create(c, "model") },
  { method: "POST", path: /^\/api\/v1\/datasets$/, handle: (c) => create(c, "dataset") },
  ...(["model", "dataset"] as const).flatMap((type): Route[] => {
    const lfs = `^/api/v1/repos/${typeFolder(type)}/${REPO_ID}/info/lfs/objects`;
    return [
      { method: "POST", path: new RegExp(`${lfs}/batch$`), handle: (c) => batch(c, type) },
      { method: "PUT", path: new RegExp(`${lfs}/([0-9a-f]{64})$`), handle: (c) => put(c, type) },
      { method: "POST", path: new RegExp(`^/api/v1/repos/${typeFolder(type)}/${REPO_ID}/commit/([^/]+)$`), handle: (c) => commit(c, type) },
      { method: "POST", path: new RegExp(`^/api/v1/${typeFolder(type)}/${REPO_ID}/repo/tag$`), handle: (c) => tag(c, type) },
    ];
  }),
  { method: "DELETE", path: new RegExp(`^/api/v1/models/${REPO_ID}/file$`), handle: (c) => deleteFile(c, "model") },
  { method: "DELETE", path: new RegExp(`^/api/v1/datasets/${REPO_ID}/repo$`), handle: (c) => deleteFile(c, "dataset") },
];

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
