// The hub's write endpoints (modelscope-upload.md): create a repo, the LFS batch, the blob PUT, the
// commit, tags and file deletion. Each is one typed function over HubClient; 400-class answers are read
// here (their message decides the error), everything else is mapped by HubClient.
import fs from "node:fs";
import { randomBytes } from "node:crypto";
import {
  AccessDeniedError,
  BadResponseError,
  CommitRefusedError,
  FileChangedError,
  RepoExistsError,
  UsageError,
  WriteDeniedError,
  type ErrorSubject,
} from "../errors.js";
import { readBodyText, readText, type HubClient, type HubRequestOptions } from "../http/index.js";
import { errorForNetwork, serverMessage } from "../http/error-mapping.js";

export type RepoType = "model" | "dataset";
export type Visibility = "private" | "internal" | "public";

export const VISIBILITY_CODE: Record<Visibility, number> = { private: 1, internal: 3, public: 5 };

/** `models` or `datasets`, as the API paths spell it. */
export function repoPlural(type: RepoType): "models" | "datasets" {
  return type === "dataset" ? "datasets" : "models";
}

/** Repo names the hub accepts (spec §2.3): 1-64 of [A-Za-z0-9_.-], starting with a letter or digit, no `..`, no `.git` end. */
export function repoIdProblem(repoId: string): string | undefined {
  const parts = repoId.split("/");
  if (parts.length !== 2) return "use the form owner/name";
  for (const p of parts) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(p)) return "each part: 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit";
    if (p.includes("..") || p.toLowerCase().endsWith(".git")) return "no '..' and no '.git' ending";
  }
  return undefined;
}

export function assertRepoId(repoId: string): void {
  const problem = repoIdProblem(repoId);
  if (problem) throw new UsageError(`Invalid repository ID '${repoId}'`, `${problem}, for example alice/my-model`, { key: "badRepoId", vars: { id: repoId } });
}

const EXISTS_CODES = new Set(["10020101001", "10010101001", "10010202004"]);
const EXISTS_WORDS = /exist|already|can not be used|not available|已被注册|已存在|名称不可用/i;

/** 400-class statuses are read here; HubClient maps the rest (401, 403, 404, 429, 5xx). */
const READ_REFUSALS = (s: number) => (s >= 200 && s < 300) || s === 400 || s === 405 || s === 409 || s === 422;

interface Answer {
  status: number;
  data: unknown;
  code: string;
  message: string;
}

async function call(client: HubClient, opts: HubRequestOptions): Promise<Answer> {
  const res = await client.request({ ...opts, accept: READ_REFUSALS });
  const text = await readBodyText(res.body, 16 * 1024 * 1024, opts.subject).catch((err: unknown) => {
    throw errorForNetwork(err, res.url, opts.signal);
  });
  let body: Record<string, unknown> | undefined;
  try {
    body = text.trim() ? (JSON.parse(text) as Record<string, unknown>) : undefined;
  } catch {
    if (res.status < 300) throw new BadResponseError("The hub answered with something that is not JSON", opts.subject ?? {});
  }
  const data = body && typeof body === "object" ? (body.Data ?? body.data) : undefined;
  const code = body && typeof body === "object" ? String(body.Code ?? body.code ?? "") : "";
  return { status: res.status, data, code, message: serverMessage(text) };
}

function ok(a: Answer): boolean {
  return a.status >= 200 && a.status < 300;
}

export interface CreateRepoRequest {
  repoId: string;
  repoType: RepoType;
  visibility: Visibility;
  license?: string | undefined;
  chineseName?: string | undefined;
  description?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** POST /api/v1/models (JSON) or /api/v1/datasets (multipart). A taken name is RepoExistsError. */
export async function postCreateRepo(client: HubClient, r: CreateRepoRequest): Promise<void> {
  const [owner, name] = r.repoId.split("/") as [string, string];
  const fields: Record<string, string | number> = {
    [r.repoType === "dataset" ? "Owner" : "Path"]: owner,
    Name: name,
    Visibility: VISIBILITY_CODE[r.visibility],
    License: r.license ?? "apache-2.0",
  };
  if (r.chineseName) fields.ChineseName = r.chineseName;
  if (r.description) fields.Description = r.description;
  const subject: ErrorSubject = { modelId: r.repoId };
  const opts: HubRequestOptions = { method: "POST", path: `/api/v1/${repoPlural(r.repoType)}`, subject, signal: r.signal };
  if (r.repoType === "dataset") opts.body = multipart(fields);
  else opts.json = fields;
  let a: Answer;
  try {
    a = await call(client, opts);
  } catch (err) {
    if (err instanceof AccessDeniedError) throw new WriteDeniedError(r.repoId, "create");
    throw err;
  }
  if (ok(a)) return;
  if (EXISTS_CODES.has(a.code) || EXISTS_WORDS.test(a.message)) throw new RepoExistsError(r.repoId);
  throw new UsageError(`The hub refused to create ${r.repoId}${a.message ? `: ${a.message}` : ""}`, "check the name, license and visibility", {
    key: "createRefused",
    vars: { id: r.repoId, said: a.message ? `：${a.message}` : "" },
  });
}

function multipart(fields: Record<string, string | number>): { data: Buffer; length: number; contentType: string } {
  const boundary = `----dc${randomBytes(12).toString("hex")}`;
  const parts = Object.entries(fields).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
  const data = Buffer.from(`${parts.join("")}--${boundary}--\r\n`, "utf8");
  return { data, length: data.length, contentType: `multipart/form-data; boundary=${boundary}` };
}

/** GET /api/v1/{models|datasets}/o/n: true when it exists and we can see it. */
export async function repoExists(client: HubClient, repoId: string, repoType: RepoType, signal?: AbortSignal): Promise<boolean> {
  const res = await client.request({ path: `/api/v1/${repoPlural(repoType)}/${repoId}`, accept: (s) => (s >= 200 && s < 300) || s === 404, signal, subject: { modelId: repoId } });
  await readText({ body: res.body }, 16 * 1024 * 1024);
  return res.status !== 404;
}

export interface BlobRef {
  oid: string;
  size: number;
}

/** The LFS batch: which of these blobs the hub still needs, each with the URL to PUT it to. */
export async function lfsBatch(client: HubClient, repoType: RepoType, repoId: string, objects: BlobRef[], signal?: AbortSignal): Promise<Map<string, string>> {
  const subject: ErrorSubject = { modelId: repoId };
  let a: Answer;
  try {
    a = await call(client, {
      method: "POST",
      path: `/api/v1/repos/${repoPlural(repoType)}/${repoId}/info/lfs/objects/batch`,
      json: { operation: "upload", objects: objects.map((o) => ({ oid: o.oid, size: o.size })) },
      subject,
      signal,
    });
  } catch (err) {
    if (err instanceof AccessDeniedError) throw new WriteDeniedError(repoId, "upload");
    throw err;
  }
  if (!ok(a)) throw new CommitRefusedError(a.message, subject);
  const listed = (a.data as { objects?: unknown } | null)?.objects;
  const missing = new Map<string, string>();
  if (listed === undefined || listed === null) return missing;
  if (!Array.isArray(listed)) throw new BadResponseError("The hub's LFS batch answer has no object list", subject);
  const asked = new Set(objects.map((o) => o.oid));
  for (const o of listed as { oid?: unknown; actions?: { upload?: { href?: unknown } } }[]) {
    const href = o?.actions?.upload?.href;
    if (typeof o?.oid !== "string" || !asked.has(o.oid)) throw new BadResponseError("The hub's LFS batch answer names a blob we did not ask about", subject);
    if (href === undefined) continue; // listed without an upload action: already stored
    if (typeof href !== "string") throw new BadResponseError("The hub's LFS batch answer has a malformed upload URL", subject);
    const u = new URL(href, client.endpoint);
    if (u.protocol !== "https:" && u.protocol !== "http:") throw new BadResponseError(`Refused an upload URL with scheme ${u.protocol}`, subject);
    missing.set(o.oid, u.toString());
  }
  return missing;
}

/**
 * Whether an upload host other than the hub's own origin may get the token: only an https host under
 * the hub's own domain (modelscope.cn names lfs.modelscope.cn). Anything else gets the signed URL alone.
 */
export function trustedUploadOrigin(endpoint: string): (origin: string) => boolean {
  const hub = new URL(endpoint);
  return (origin) => {
    const u = new URL(origin);
    return u.protocol === "https:" && hub.protocol === "https:" && u.hostname.endsWith(`.${hub.hostname}`) && !/^[\d.]+$|:/.test(hub.hostname);
  };
}

/**
 * Files up to this size go as one buffer on undici's kept-alive connections (a connection per small file
 * would cost the hub more); bigger ones are read as they are sent, on a connection of their own.
 */
const WHOLE_BODY_BYTES = 1024 * 1024;

/**
 * PUT one blob's bytes from a file region (the whole file). Counts what was read. Reads are synchronous
 * (from the page cache, as a rule): an async open, read and close per file cost the client more CPU than
 * the small file's whole PUT. A big file goes through the direct transport where it can (plain http, no
 * proxy: read into reused buffers, direct-put.ts), else through undici, a MiB at a time as it pulls.
 * A file that ends early (shrank since it was hashed) is a FileChangedError.
 */
export async function putBlob(
  client: HubClient,
  href: string,
  file: { absPath: string; size: number; repoId: string; path: string },
  onBytes: (n: number) => void,
  signal?: AbortSignal,
): Promise<{ bytesRead: number }> {
  const fd = fs.openSync(file.absPath, "r");
  let bytesRead = 0;
  /** Reads the next bytes of the file into `buf` (at most its length). */
  const read = (buf: Buffer): number => {
    const want = Math.min(buf.length, file.size - bytesRead);
    if (want <= 0) return 0;
    const n = fs.readSync(fd, buf, 0, want, bytesRead);
    if (n === 0) throw new FileChangedError(file.path);
    bytesRead += n;
    onBytes(n);
    return n;
  };
  const subject: ErrorSubject = { modelId: file.repoId, filePath: file.path };
  try {
    let data: Buffer | { read: typeof read };
    if (file.size <= WHOLE_BODY_BYTES) {
      data = Buffer.allocUnsafe(file.size);
      while (bytesRead < file.size) read(data.subarray(bytesRead));
    } else {
      data = { read };
    }
    const a = await call(client, {
      method: "PUT",
      path: href,
      body: { data, length: file.size },
      direct: true,
      trustOrigin: trustedUploadOrigin(client.endpoint),
      readTimeoutMs: 3600_000,
      subject,
      signal,
    });
    if (!ok(a)) throw new CommitRefusedError(`blob ${file.path}: ${a.message}`, subject);
    if (a.code && a.code !== "200") throw new CommitRefusedError(`blob ${file.path}: ${a.message}`, subject);
  } finally {
    fs.closeSync(fd);
  }
  return { bytesRead };
}

export type CommitAction =
  | { action: "create"; path: string; type: "lfs"; size: number; sha256: string }
  | { action: "create"; path: string; type: "normal"; size: number; content: string }
  | { action: "delete"; path: string };

/** One commit with every action (POST .../commit/{branch}); returns the new commit id. */
export async function postCommit(
  client: HubClient,
  r: { repoType: RepoType; repoId: string; revision: string; message: string; description?: string | undefined; actions: CommitAction[]; signal?: AbortSignal | undefined },
): Promise<string> {
  const subject: ErrorSubject = { modelId: r.repoId, revision: r.revision };
  const actions = r.actions.map((a) =>
    a.action === "delete"
      ? { action: "delete", path: a.path, type: "normal", size: 0, sha256: "", content: "", encoding: "" }
      : a.type === "lfs"
        ? { action: "create", path: a.path, type: "lfs", size: a.size, sha256: a.sha256, content: "", encoding: "" }
        : { action: "create", path: a.path, type: "normal", size: a.size, sha256: "", content: a.content, encoding: "base64" },
  );
  let a: Answer;
  try {
    a = await call(client, {
      method: "POST",
      path: `/api/v1/repos/${repoPlural(r.repoType)}/${r.repoId}/commit/${encodeURIComponent(r.revision)}`,
      json: { commit_message: r.message, commit_description: r.description ?? "", actions },
      subject,
      signal: r.signal,
      readTimeoutMs: 600_000,
    });
  } catch (err) {
    if (err instanceof AccessDeniedError) throw new WriteDeniedError(r.repoId, "upload");
    throw err;
  }
  if (!ok(a)) throw new CommitRefusedError(a.message, subject);
  const oid = (a.data as { oid?: unknown; id?: unknown } | null)?.oid ?? (a.data as { id?: unknown } | null)?.id;
  return typeof oid === "string" ? oid : "";
}

/** POST /api/v1/{type}s/o/n/repo/tag {TagName, Ref}. A taken tag name is a RepoExistsError-like refusal. */
export async function postTag(client: HubClient, r: { repoType: RepoType; repoId: string; tag: string; ref: string; signal?: AbortSignal | undefined }): Promise<void> {
  const subject: ErrorSubject = { modelId: r.repoId, revision: r.ref };
  let a: Answer;
  try {
    a = await call(client, { method: "POST", path: `/api/v1/${repoPlural(r.repoType)}/${r.repoId}/repo/tag`, json: { TagName: r.tag, Ref: r.ref }, subject, signal: r.signal });
  } catch (err) {
    if (err instanceof AccessDeniedError) throw new WriteDeniedError(r.repoId, "tag");
    throw err;
  }
  if (!ok(a)) throw new UsageError(`The hub refused tag '${r.tag}'${a.message ? `: ${a.message}` : ""}`, "pick another tag name, and a branch or commit that exists", { key: "tagRefused", vars: { tag: r.tag, said: a.message ? `：${a.message}` : "" } });
}

/** DELETE one file: /api/v1/models/o/n/file?FilePath=&Revision= (datasets: /repo?FilePath=). */
export async function deleteRemoteFile(client: HubClient, r: { repoType: RepoType; repoId: string; path: string; revision: string; signal?: AbortSignal | undefined }): Promise<void> {
  const subject: ErrorSubject = { modelId: r.repoId, revision: r.revision, filePath: r.path };
  let a: Answer;
  try {
    a = await call(client, {
      method: "DELETE",
      path: r.repoType === "dataset" ? `/api/v1/datasets/${r.repoId}/repo` : `/api/v1/models/${r.repoId}/file`,
      query: { FilePath: r.path, Revision: r.revision },
      subject,
      signal: r.signal,
    });
  } catch (err) {
    if (err instanceof AccessDeniedError) throw new WriteDeniedError(r.repoId, "delete");
    throw err;
  }
  if (!ok(a)) throw new CommitRefusedError(a.message, subject);
}
