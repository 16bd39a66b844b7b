// `serve --upstream URL`: the hub as a pull-through mirror of another hub. Model and dataset metadata
// (info, revisions, listings, the lists) is passed through with the client's own token and cached briefly
// (meta-cache.ts); file bytes come from the root when kept there, otherwise they are filled from upstream
// once and streamed to every waiting client as they land (fill.ts). Upstream decides who may have what
// (access.ts). Sign-in and whoami go to upstream: the tokens are upstream's.
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Call, decodePart, tokenOf, type Hub } from "../context.js";
import { legacyError, openApiError } from "../respond.js";
import { parseRange, sendFile } from "../routes/file-body.js";
import { repoRef, type RepoRef } from "../store/layout.js";
import { repoTypeSegment } from "../../hub/types.js";
import { DownloadFailedError, LocalWriteError, ModelScopeError, UnsafeLocalFileError, UsageError } from "../../errors.js";
// The dataset listing's page size as our client (and the official one) ask for it: their pages are the cache's.
import { DATASET_PAGE_SIZE } from "../../hub/api.js";
import { unsafePathReason } from "../../hub/repo-path.js";
import { MirrorAccess } from "./access.js";
import { Fills, keptSize, sendWhileLanding } from "./fill.js";
import { MetaCache, hashOf, type CachedAnswer } from "./meta-cache.js";
import { LOOP_HEADER, Upstream, UpstreamDown, UpstreamIsSelf, type UpstreamAnswer } from "./upstream.js";

export interface MirrorOptions {
  /** The hub to pull through, e.g. https://modelscope.cn. */
  upstream: string;
  /** How long listings, revisions and info are served from the cache before asking upstream again (default 60 s). */
  metaTtlMs?: number;
  /** How long upstream's answer to "may this token have this repo" is kept (default 60 s). */
  accessTtlMs?: number;
  /** Whether fills follow redirects to loopback/private/link-local addresses (default: when upstream's own address is one). */
  privateRedirects?: boolean;
}

/** A repo in a path: its type's segment, owner and name. */
const REPO = "/api/v1/(?<type>models|datasets)/(?<owner>[^/]+)/(?<name>[^/]+)";
const META_PATHS = [
  new RegExp(`^${REPO}$`),
  new RegExp(`^${REPO}/revisions$`),
  new RegExp(`^${REPO}/repo/files$`),
  new RegExp(`^${REPO}/repo/tree$`),
  /^\/openapi\/v1\/(?<type>models|datasets)\/(?<owner>[^/]+)\/(?<name>[^/]+)$/,
  /^\/openapi\/v1\/(?<type>models|datasets)$/,
  // The legacy dataset listing by numeric Id (upstream's Id, from its dataset info): no owner/name here.
  /^\/api\/v1\/datasets\/(?<numericId>\d{1,16})\/repo\/tree$/,
];
const FILE_PATH = new RegExp(`^${REPO}/repo$`);
const PASS_THROUGH = new Set(["POST /api/v1/login", "GET /openapi/v1/users/me"]);
/** How long the start-up look at upstream may take (an upstream that is away is no reason not to start). */
const START_PROBE_MS = 2_000;
/** A listing longer than this many pages is not searched further for one file. */
const MAX_LISTING_PAGES = 5000;
const SAFE_REVISION = /^[A-Za-z0-9][\w.-]*$/;
/** The longest file name a disk takes (NAME_MAX). */
const NAME_MAX = 255;
/** The query parameters of the metadata endpoints; anything else is dropped (it would only make cache keys). */
const META_PARAMS = ["Revision", "Recursive", "Root", "PageNumber", "PageSize", "owner", "page_number", "page_size", "search", "sort"];

/** The metadata request as it goes upstream and into the cache: its path and only its known parameters, in one order. */
export function metaKey(url: URL): string {
  const q = new URLSearchParams();
  for (const name of META_PARAMS) {
    const v = url.searchParams.get(name);
    if (v !== null) q.set(name, v);
  }
  const query = q.toString();
  return query ? `${url.pathname}?${query}` : url.pathname;
}

export class Mirror {
  readonly upstream: Upstream;
  private readonly meta: MetaCache;
  private readonly access: MirrorAccess;
  readonly fills: Fills;
  private readonly metaInFlight = new Map<string, Promise<UpstreamAnswer>>();

  constructor(
    private readonly hub: Hub,
    opts: MirrorOptions,
  ) {
    const root = hub.opts.root;
    this.upstream = new Upstream(opts.upstream, root, createHash("sha256").update(hub.cdnSecret).update("mirror loop").digest("hex").slice(0, 32), opts.privateRedirects);
    this.meta = new MetaCache(root, opts.metaTtlMs ?? 60_000);
    this.access = new MirrorAccess(root, this.upstream, opts.accessTtlMs ?? 60_000);
    this.fills = new Fills(root, this.upstream);
  }

  /**
   * Asks upstream once at start-up (a short wait at most): a request that comes back to this hub means
   * --upstream is this hub itself (or a process of the same root), which would make every miss wait on itself.
   * An upstream that cannot be reached is no reason not to start (kept files are served), but is said.
   */
  async checkUpstream(): Promise<void> {
    const probe = await this.upstream.request("/api/v1/repos/internalAccelerationInfo", undefined, { timeoutMs: START_PROBE_MS }).catch((err: unknown) => err);
    if (probe instanceof UpstreamIsSelf) {
      throw new UsageError(`--upstream ${this.upstream.base} leads back to this hub itself`, "give another hub's address: modelscope.cn or another `modelscope serve` (its own --root)", { key: "upstreamIsSelf", vars: { url: this.upstream.base } });
    }
    if (probe instanceof UpstreamDown) this.hub.warn(`Note: ${probe.message} now; kept files are served, misses fail until it answers (check --upstream if it should)`);
  }

  /** Answers the request when it is one the mirror serves; false leaves it to the hub's own routes. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    if (req.headers[LOOP_HEADER] === this.upstream.loopId) {
      legacyError(res, 508, "This hub's --upstream leads back to itself.", { [LOOP_HEADER]: this.upstream.loopId });
      return true;
    }
    const method = req.method ?? "GET";
    const p = url.pathname;
    if (PASS_THROUGH.has(`${method} ${p}`)) {
      await this.passThrough(req, res, url);
      return true;
    }
    if (method !== "GET" && method !== "HEAD") return false;
    const file = FILE_PATH.exec(p)?.groups;
    if (file) {
      await this.file(req, res, url, this.ref(file));
      return true;
    }
    const meta = META_PATHS.map((re) => re.exec(p)?.groups).find((m) => m);
    if (meta && method === "GET") {
      const type = meta.type === "datasets" || meta.numericId !== undefined ? "dataset" : "model";
      const ref = meta.owner !== undefined ? this.ref(meta) : undefined;
      if (meta.owner !== undefined && !ref) {
        legacyError(res, 404, `${type === "dataset" ? "Dataset" : "Model"} does not exist.`);
        return true;
      }
      const what = ref?.id ?? (meta.numericId !== undefined ? `dataset ${meta.numericId}` : `the ${type} list`);
      await this.metaRoute(req, res, url, what);
      return true;
    }
    return false;
  }

  private ref(groups: Record<string, string | undefined>): RepoRef | undefined {
    return repoRef(groups.type === "datasets" ? "dataset" : "model", decodePart(groups.owner!, "path"), decodePart(groups.name!, "path"));
  }

  /** Upstream's answer to a metadata request: fresh from the cache, else asked (once for all who wait), else stale. */
  private async metaAnswer(pathAndQuery: string, token: string | undefined): Promise<CachedAnswer | UpstreamAnswer> {
    const scope = token ? hashOf(token) : "anon";
    const cached = this.meta.get(scope, pathAndQuery);
    if (cached && this.meta.isFresh(cached)) return cached;
    const key = `${scope} ${pathAndQuery}`;
    let asking = this.metaInFlight.get(key);
    if (!asking) {
      asking = this.upstream.request(pathAndQuery, token);
      this.metaInFlight.set(key, asking);
      asking.catch(() => undefined).finally(() => this.metaInFlight.delete(key));
    }
    try {
      const answer = await asking;
      this.meta.put(scope, pathAndQuery, answer);
      return answer;
    } catch (err) {
      if (!(err instanceof UpstreamDown)) throw err;
      // Upstream is away: this client's last answer, or the public one, whatever its age.
      const stale = cached ?? (scope !== "anon" ? this.meta.get("anon", pathAndQuery) : undefined);
      if (stale) return stale;
      throw err;
    }
  }

  private async metaRoute(req: IncomingMessage, res: ServerResponse, url: URL, what: string): Promise<void> {
    try {
      relay(res, await this.metaAnswer(metaKey(url), tokenOf(req)));
    } catch (err) {
      if (!(err instanceof UpstreamDown)) throw err;
      this.downError(res, url.pathname.startsWith("/openapi/"), err.message, what);
    }
  }

  /** Upstream is away and the mirror has nothing kept to answer with; `what` names what it never fetched. */
  private downError(res: ServerResponse, openApi: boolean, why: string, what?: string): void {
    const message = what ? `${why}, and ${what} was never fetched through this mirror; try again when it is back` : `${why}; try again when it is back`;
    if (openApi) openApiError(res, 502, message);
    else legacyError(res, 502, message);
  }

  private async passThrough(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    // The hub's own limit on failed sign-ins applies here too: upstream sees every client at the mirror's address.
    const address = (req.socket.remoteAddress ?? "").replace(/^::ffff:/, "");
    const wait = this.hub.signIns.retryAfter(address);
    if (wait > 0) return legacyError(res, 429, "Too many failed sign-ins from this address; try again later.", { "retry-after": String(wait) });
    if (req.method === "POST" && !/^application\/json\s*(;|$)/i.test(req.headers["content-type"] ?? "")) return legacyError(res, 415, "Request body must be JSON (Content-Type: application/json)");
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > 64 * 1024) return legacyError(res, 413, "Request body too large");
      chunks.push(c as Buffer);
    }
    const body = req.method === "POST" ? Buffer.concat(chunks).toString("utf8") : undefined;
    try {
      const answer = await this.upstream.request(url.pathname + url.search, tokenOf(req), { method: req.method, body, headers: body ? { "content-type": "application/json" } : {} });
      // A sign-in upstream accepted: the session cookie is the token, as on the local hub, for this mirror's host.
      let accessToken: unknown;
      try {
        accessToken = body ? (JSON.parse(body) as { AccessToken?: unknown }).AccessToken : undefined;
      } catch {
        accessToken = undefined;
      }
      if (answer.status === 200 && typeof accessToken === "string" && accessToken) {
        res.setHeader("set-cookie", `m_session_id=${encodeURIComponent(accessToken)}; Path=/; HttpOnly; SameSite=Lax`);
      }
      if ((answer.status === 401 || answer.status === 403) && (accessToken || tokenOf(req))) await this.hub.signIns.failed(address);
      relay(res, answer);
    } catch (err) {
      if (!(err instanceof UpstreamDown)) throw err;
      this.downError(res, url.pathname.startsWith("/openapi/"), err.message);
    }
  }

  private async file(req: IncomingMessage, res: ServerResponse, url: URL, ref: RepoRef | undefined): Promise<void> {
    const q = url.searchParams;
    const revision = q.get("Revision") || "master";
    const filePath = q.get("FilePath") ?? "";
    if (!ref || !SAFE_REVISION.test(revision) || unsafePathReason(filePath) || !fitsOnDisk(ref, revision, filePath)) return legacyError(res, 404, `File ${filePath} does not exist.`);
    const token = tokenOf(req);
    const verdict = await this.access.mayDownload(ref, revision, filePath, token);
    const finalPath = this.fills.finalPath(ref, revision, filePath);
    let kept: number | undefined;
    try {
      kept = keptSize(finalPath);
    } catch (err) {
      return this.diskError(res, ref, filePath, err);
    }
    if (!verdict.ok && "answer" in verdict) return this.denied(res, ref, verdict.answer);
    if (!verdict.ok) {
      // Kept bytes of a repo not known public wait for upstream's word; bytes never kept were never fetched.
      if (kept === undefined) return this.downError(res, false, verdict.down, `${ref.id}/${filePath}`);
      return legacyError(res, 502, `${verdict.down}, and ${ref.id} is not public: its kept files are served only once upstream confirms who may have them; try again when it is back`);
    }
    // The listing gives the size to announce and the sha256 the kept copy must have.
    const entry = await this.listingEntry(ref, revision, filePath, token);
    if (entry === "missing") return legacyError(res, 404, `File ${filePath} does not exist in ${ref.id} at ${revision}.`);
    if (entry && "bad" in entry) return legacyError(res, 502, `The upstream hub ${this.upstream.base} lists ${filePath} of ${ref.id} with ${entry.bad}; the mirror does not serve it. Ask the upstream hub's operator.`);
    const keptOk = kept !== undefined && (!entry || (kept === entry.size && (entry.sha256 === null || (await this.keptSha(ref, revision, filePath)) === entry.sha256)));
    if (keptOk) {
      return this.sendKept(req, res, url, ref, revision, filePath);
    }
    if (!entry) return this.downError(res, false, `the upstream hub ${this.upstream.base} cannot be reached`, `${ref.id}/${filePath}`);
    const range = parseRange(req.headers.range, entry.size);
    if (range === "unsatisfiable") {
      res.writeHead(416, { "content-range": `bytes */${entry.size}`, "content-length": 0 });
      return void res.end();
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? entry.size - 1;
    const headers = () => {
      const h: Record<string, string | number> = { "content-type": "application/octet-stream", "accept-ranges": "bytes", "content-length": Math.max(0, end - start + 1) };
      if (range) h["content-range"] = `bytes ${start}-${end}/${entry.size}`;
      res.writeHead(range ? 206 : 200, h);
    };
    if (req.method === "HEAD") {
      headers();
      return void res.end();
    }
    const fill = this.fills.fill(ref, revision, filePath, token, entry);
    const outcome = await sendWhileLanding(res, finalPath, entry.size, start, end, fill, headers, this.hub.sendBudget);
    if (outcome === "cut") res.destroy();
    if (outcome === "failed" && !res.headersSent) {
      const err = fill.state.error;
      if (isLocalFailure(err)) return this.diskError(res, ref, filePath, err);
      // The file's own failure, rather than "1 file(s) failed to download".
      const inner = innerError(err);
      const why = inner instanceof Error ? inner.message.split("\n")[0]! : "the upstream download failed";
      legacyError(res, 502, `The mirror could not fetch ${filePath} of ${ref.id} from upstream: ${why}`);
    } else if (outcome === "failed") {
      res.destroy();
    }
  }

  /** The mirror's own disk failed: the operator is told where, the client only that it is the mirror's side. */
  private diskError(res: ServerResponse, ref: RepoRef, filePath: string, err: unknown): void {
    const failed = innerError(err);
    this.hub.warn(`Mirror: could not keep ${ref.id}/${filePath}: ${failed instanceof Error ? failed.message : String(failed)}`);
    legacyError(res, 502, `The mirror could not keep ${filePath} of ${ref.id} on its disk; ask the hub's operator.`);
  }

  /** Upstream said no to a HEAD (no body): the same status, in the hub's envelope. */
  private denied(res: ServerResponse, ref: RepoRef, answer: UpstreamAnswer): void {
    if (answer.body.length > 0) return relay(res, answer);
    const kind = ref.type === "dataset" ? "dataset" : "model";
    const message = { 401: `Please log in to download this ${kind}.`, 403: `You do not have permission to download this ${kind}.` }[answer.status] ?? `${kind === "dataset" ? "Dataset" : "Model"} does not exist.`;
    legacyError(res, answer.status, message);
  }

  /**
   * The file's listing entry (size, sha256), undefined when upstream is away and nothing is cached. Asked
   * as the clients ask (models: repo/files; datasets: repo/tree pages of DATASET_PAGE_SIZE), so the answers
   * they fetched through the mirror serve here too, and the other way round.
   */
  private async listingEntry(ref: RepoRef, revision: string, filePath: string, token: string | undefined): Promise<{ size: number; sha256: string | null } | { bad: string } | "missing" | undefined> {
    for (let page = 1; page <= MAX_LISTING_PAGES; page++) {
      const q = new URLSearchParams({ Revision: revision, Recursive: "True" });
      if (ref.type === "dataset") {
        q.set("PageNumber", String(page));
        q.set("PageSize", String(DATASET_PAGE_SIZE));
      }
      const where = ref.type === "dataset" ? "repo/tree" : "repo/files";
      let answer: UpstreamAnswer;
      try {
        answer = await this.metaAnswer(metaKey(new URL(`/api/v1/${repoTypeSegment(ref.type)}/${ref.id}/${where}?${q}`, "http://mirror")), token);
      } catch (err) {
        if (err instanceof UpstreamDown) return undefined;
        throw err;
      }
      if (answer.status !== 200) return "missing";
      let files: { Path?: unknown; Size?: unknown; Sha256?: unknown; Type?: unknown }[];
      try {
        const data = JSON.parse(answer.body.toString("utf8")) as { Data?: { Files?: typeof files } };
        files = Array.isArray(data.Data?.Files) ? data.Data.Files : [];
      } catch {
        return "missing";
      }
      const f = files.find((x) => x.Path === filePath && x.Type !== "tree");
      if (f) {
        // Upstream is untrusted: a size must be a byte count and a sha256 64 hex digits (as our client checks).
        if (!Number.isSafeInteger(f.Size) || (f.Size as number) < 0) return { bad: "a size that is not a byte count" };
        if (f.Sha256 !== null && f.Sha256 !== undefined && f.Sha256 !== "" && (typeof f.Sha256 !== "string" || !/^[0-9a-fA-F]{64}$/.test(f.Sha256))) return { bad: "a sha256 that is not 64 hex digits" };
        return { size: f.Size as number, sha256: typeof f.Sha256 === "string" && f.Sha256 ? f.Sha256.toLowerCase() : null };
      }
      // Models list in one answer; a dataset's last page is a short one.
      if (ref.type !== "dataset" || files.length < DATASET_PAGE_SIZE) return "missing";
    }
    return "missing";
  }

  private async keptSha(ref: RepoRef, revision: string, filePath: string): Promise<string | undefined> {
    const repo = this.hub.store.resolve(ref);
    const file = repo && this.hub.store.file(repo, revision, filePath);
    return repo && file ? this.hub.store.sha256(file, { repo, revision }) : undefined;
  }

  private async sendKept(req: IncomingMessage, res: ServerResponse, url: URL, ref: RepoRef, revision: string, filePath: string): Promise<void> {
    const repo = this.hub.store.resolve(ref);
    const file = repo && this.hub.store.file(repo, revision, filePath);
    if (!repo || !file) return legacyError(res, 404, `File ${filePath} does not exist in ${ref.id} at ${revision}.`);
    await sendFile(new Call(this.hub, req, res, url, [ref.owner, ref.name]), repo, revision, file);
  }
}

/**
 * Every name the file makes on disk within NAME_MAX bytes: the repo folder (as access.ts's public marker
 * `dataset--<folder>`, its longest use, with room), the revision, each path segment.
 */
function fitsOnDisk(ref: RepoRef, revision: string, filePath: string): boolean {
  return [`datasets--${ref.folder}`, revision, ...filePath.split("/")].every((name) => Buffer.byteLength(name) <= NAME_MAX);
}

/** A one-file download's failure as the file's own error. */
function innerError(err: unknown): unknown {
  return err instanceof DownloadFailedError && err.failures.length === 1 ? err.failures[0]!.error : err;
}

/** A fill that failed on the mirror's side (its disk), not upstream's: the message would name the mirror's paths. */
function isLocalFailure(err: unknown): boolean {
  const e = innerError(err);
  if (e instanceof LocalWriteError || e instanceof UnsafeLocalFileError) return true;
  return !(e instanceof ModelScopeError) && typeof (e as NodeJS.ErrnoException | undefined)?.syscall === "string";
}

function relay(res: ServerResponse, answer: UpstreamAnswer): void {
  // Upstream's bytes go out under the mirror's origin: a browser must not read them as anything but their type.
  res.writeHead(answer.status, { "content-type": answer.contentType, "content-length": answer.body.length, "x-content-type-options": "nosniff" });
  res.end(answer.body);
}
