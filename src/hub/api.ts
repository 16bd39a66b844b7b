// HubApi: the hub's endpoints as typed functions, and the token chain behind them.
// `new HubApi().login(token)` / `getToken()` are the seed's `HubApi().login(token)` / `get_token()`.
import { activeAccount, removeAccounts, resolveToken, sameEndpoint, saveAccount, type ResolvedToken, type SaveResult } from "../auth/index.js";
import { BadResponseError, NotLoggedInError, UsageError, assertModelId, type ErrorSubject } from "../errors.js";
import { HubClient, type HubFileResponse, type HubResponse } from "../http/index.js";
import { DEFAULT_REVISION, modelscopeHome, networkSettings, resolveEndpoint, type EndpointChoice, type Env, type NetworkSettings } from "../settings.js";
import { assertNoFileFolderClash, assertSafeRepoPath } from "./repo-path.js";
import { repoTypeSegment, type ModelInfo, type RepoFile, type RepoType, type RevisionRef, type Revisions, type UserInfo } from "./types.js";

export interface HubApiOptions {
  /** Hub URL; default from --endpoint / MODELSCOPE_ENDPOINT / MODELSCOPE_DOMAIN / modelscope.cn. */
  endpoint?: string | undefined;
  /** Explicit token: wins over the env var and the saved token. */
  token?: string | undefined;
  /** Config home (default $MODELSCOPE_HOME or ~/.modelscope). */
  home?: string | undefined;
  /** Environment to read (default process.env). */
  env?: Env;
  /** Timeouts and retries (default from MODELSCOPE_API_* variables). */
  network?: Partial<NetworkSettings>;
}

export interface LogoutResult {
  /** The active login was removed (<home>/token and/or the official client's cookie jar). */
  removed: boolean;
  /** The files that held it. */
  files: string[];
  /** Saved accounts removed. */
  accounts: string[];
  /** MODELSCOPE_API_TOKEN is set, so requests are still signed in. */
  envTokenStillSet: boolean;
  /** The official client's cookie jar still signs you in (one we did not remove). */
  officialCookieStillValid: boolean;
}

export interface ListFilesOptions {
  revision?: string | undefined;
  root?: string | undefined;
  recursive?: boolean;
  signal?: AbortSignal | undefined;
  /** `dataset` lists `datasets/{id}/repo/tree` page by page, as the official client does (default `model`). */
  repoType?: RepoType | undefined;
}

/** Page size of a dataset listing (the official client's). */
export const DATASET_PAGE_SIZE = 200;

export class HubApi {
  readonly endpointChoice: EndpointChoice;
  readonly home: string;
  readonly env: Env;
  readonly network: NetworkSettings;
  private explicitToken: string | undefined;

  constructor(opts: HubApiOptions = {}) {
    this.env = opts.env ?? process.env;
    this.endpointChoice = resolveEndpoint(opts.endpoint, this.env);
    this.home = opts.home ?? modelscopeHome(this.env);
    this.network = { ...networkSettings(this.env), ...opts.network };
    this.explicitToken = opts.token?.trim() || undefined;
  }

  get endpoint(): string {
    return this.endpointChoice.endpoint;
  }

  /** The token in use and where it came from, or undefined when signed out. */
  tokenInfo(): ResolvedToken | undefined {
    return resolveToken({ explicit: this.explicitToken, home: this.home, env: this.env });
  }

  /**
   * The hub the token in use was checked against at login, when that is not this hub (a saved account's
   * token sent to another hub: worth a warning). Undefined when it matches or is not known.
   */
  tokenSavedForOtherEndpoint(): string | undefined {
    const info = this.tokenInfo();
    if (info?.source !== "file") return undefined;
    const saved = activeAccount(this.home, info.token)?.account.endpoint;
    return saved && !sameEndpoint(saved, this.endpoint) ? saved : undefined;
  }

  /** The token in use, or undefined when signed out (the seed's `get_token()`). */
  getToken(): string | undefined {
    return this.tokenInfo()?.token;
  }

  /** An HTTP client for this hub, signed in with the current token (if any). */
  client(token: string | undefined = this.getToken()): HubClient {
    return new HubClient({ endpoint: this.endpoint, token, network: this.network });
  }

  /**
   * Checks the token with the hub (POST /api/v1/login, then whoami) and, only once the hub accepted it,
   * saves it as the active account: <home>/token, and the official client's cookie jar. A rejected token
   * saves nothing and leaves an earlier login in place.
   */
  async login(token: string, opts: { signal?: AbortSignal; name?: string } = {}): Promise<UserInfo> {
    return (await this.loginAccount(token, opts)).user;
  }

  /** `login`, also saying which account name it was saved under (see saveAccount). */
  async loginAccount(token: string, opts: { signal?: AbortSignal; name?: string } = {}): Promise<{ user: UserInfo; saved: SaveResult }> {
    const t = typeof token === "string" ? token.trim() : "";
    if (!t) throw new UsageError("A non-empty token is required", "copy your token from https://modelscope.cn/my/myaccesstoken", { key: "emptyToken" });
    if (/\s/.test(t)) throw new UsageError("A token cannot contain spaces or line breaks", "paste the token exactly as shown on https://modelscope.cn/my/myaccesstoken", { key: "tokenWithSpaces" });
    const client = this.client(t);
    const res = await client.request({ method: "POST", path: "/api/v1/login", json: { AccessToken: t }, signal: opts.signal });
    res.body.resume();
    const user = await this.whoamiWith(client, opts.signal);
    const saved = await saveAccount(this.home, { token: t, username: user.username, endpoint: this.endpoint, name: opts.name });
    this.explicitToken = t;
    return { user, saved };
  }

  /**
   * Signs out: every saved account, or only `name`, and the active login (<home>/token and the official
   * client's cookie jar) when it was that account's. Not being signed in is not an error.
   */
  async logout(opts: { name?: string } = {}): Promise<LogoutResult> {
    const res = await removeAccounts(this.home, opts.name);
    this.explicitToken = undefined;
    const after = this.tokenInfo();
    return {
      removed: res.files.length > 0,
      files: res.files,
      accounts: res.removed,
      envTokenStillSet: after?.source === "env",
      officialCookieStillValid: after?.source === "official-cookie",
    };
  }

  /** Who the current token belongs to (GET /openapi/v1/users/me). */
  async whoami(opts: { signal?: AbortSignal } = {}): Promise<UserInfo> {
    const token = this.getToken();
    if (!token) throw new NotLoggedInError();
    return this.whoamiWith(this.client(token), opts.signal);
  }

  private async whoamiWith(client: HubClient, signal?: AbortSignal): Promise<UserInfo> {
    const data = await client.json<Record<string, unknown> | null>({ path: "/openapi/v1/users/me", openApi: true, signal });
    if (!data || typeof data !== "object") throw new BadResponseError("The hub's whoami answer has no user");
    return {
      id: pick(data, "id", "Id") as string | number | undefined,
      username: str(pick(data, "username", "Username")),
      email: str(pick(data, "email", "Email")),
      avatarUrl: str(pick(data, "avatar_url", "AvatarUrl")),
      description: str(pick(data, "description", "Description")),
    };
  }

  /** Model info (GET /api/v1/models/{owner}/{name}). A private model you cannot see is a NotFoundError. */
  async modelInfo(modelId: string, opts: { signal?: AbortSignal } = {}): Promise<ModelInfo> {
    assertModelId(modelId);
    const data = await this.client().json<Record<string, unknown>>({ path: `/api/v1/models/${modelId}`, subject: { modelId }, signal: opts.signal });
    if (!data || typeof data !== "object") throw new BadResponseError(`The hub's answer for ${modelId} has no model info`, { modelId });
    const [owner, name] = modelId.split("/") as [string, string];
    const visibility = pick(data, "Visibility", "visibility");
    const priv = pick(data, "private", "Private");
    return {
      id: modelId,
      owner: str(pick(data, "Path", "Owner", "owner")) ?? owner,
      name: str(pick(data, "Name", "name")) ?? name,
      private: typeof priv === "boolean" ? priv : visibility === 1,
      license: str(pick(data, "License", "license")),
      downloads: num(pick(data, "Downloads", "downloads")),
      description: str(pick(data, "Description", "description")),
      raw: data,
    };
  }

  /** Branches and tags (GET /api/v1/models/{id}/revisions). */
  async listRevisions(modelId: string, opts: { signal?: AbortSignal } = {}): Promise<Revisions> {
    assertModelId(modelId);
    const data = await this.client().json<{ RevisionMap?: { Branches?: unknown; Tags?: unknown } }>({
      path: `/api/v1/models/${modelId}/revisions`,
      subject: { modelId },
      signal: opts.signal,
    });
    const map = data?.RevisionMap ?? {};
    return { branches: revisionRefs(map.Branches), tags: revisionRefs(map.Tags) };
  }

  /**
   * Files of a revision, each path checked safe; folders dropped. Models: GET /api/v1/models/{id}/repo/files;
   * datasets: GET /api/v1/datasets/{id}/repo/tree, PageNumber 1, 2, ... until a page comes back short.
   */
  async listFiles(modelId: string, opts: ListFilesOptions = {}): Promise<RepoFile[]> {
    assertModelId(modelId);
    const revision = opts.revision ?? DEFAULT_REVISION;
    const subject: ErrorSubject = { modelId, revision };
    const recursive = opts.recursive === false ? "False" : "True";
    const files: RepoFile[] = [];
    const seen = new Set<string>();
    if (opts.repoType !== "dataset") {
      const data = await this.client().json<unknown>({ path: `/api/v1/models/${modelId}/repo/files`, query: { Revision: revision, Recursive: recursive, Root: opts.root }, subject, signal: opts.signal });
      addListedFiles(files, seen, listOf(data, modelId, subject), modelId, subject);
      assertNoFileFolderClash([...seen], modelId);
      return files;
    }
    const root = opts.root && opts.root !== "/" ? opts.root : undefined;
    // A hub that never sends a short page would loop forever: a million files is more than any dataset lists.
    for (let page = 1; page <= 5000; page++) {
      const data = await this.client().json<unknown>({
        path: `/api/v1/datasets/${modelId}/repo/tree`,
        query: { Revision: revision, Recursive: recursive, PageNumber: String(page), PageSize: String(DATASET_PAGE_SIZE), Root: root },
        subject,
        signal: opts.signal,
      });
      const list = listOf(data, modelId, subject);
      addListedFiles(files, seen, list, modelId, subject);
      if (list.length < DATASET_PAGE_SIZE) {
        assertNoFileFolderClash([...seen], modelId);
        return files;
      }
    }
    throw new BadResponseError(`The hub's file listing for ${modelId} never ends`, subject);
  }

  /**
   * Starts a file download (GET /api/v1/models/{id}/repo?Revision=&FilePath=), optionally from a byte
   * offset. With `direct: true` the body may come back as a `DirectBody` (plain http, no proxy), read
   * straight into memory the caller lends; otherwise it is a stream.
   */
  async openFile(modelId: string, filePath: string, opts: OpenFileOptions & { direct: boolean }): Promise<HubFileResponse>;
  async openFile(modelId: string, filePath: string, opts?: OpenFileOptions): Promise<HubResponse>;
  async openFile(modelId: string, filePath: string, opts: OpenFileOptions = {}): Promise<HubResponse | HubFileResponse> {
    assertModelId(modelId);
    assertSafeRepoPath(filePath, modelId);
    const revision = opts.revision ?? DEFAULT_REVISION;
    const headers: Record<string, string> = {};
    if (opts.range) headers.range = `bytes=${opts.range.start}-${opts.range.end ?? ""}`;
    const client = opts.token !== undefined ? this.client(opts.token ?? undefined) : this.client();
    return client.request({
      path: `/api/v1/${repoTypeSegment(opts.repoType)}/${modelId}/repo`,
      query: { Revision: revision, FilePath: filePath },
      headers,
      subject: { modelId, revision, filePath },
      signal: opts.signal,
      readTimeoutMs: opts.readTimeoutMs,
      maxRetries: opts.maxRetries,
      direct: opts.direct,
    });
  }
}

export interface OpenFileOptions {
  revision?: string;
  range?: { start: number; end?: number };
  signal?: AbortSignal;
  readTimeoutMs?: number;
  maxRetries?: number;
  /** The token to send (null: none), instead of resolving it again (a run resolves it once). */
  token?: string | null | undefined;
  direct?: boolean;
  repoType?: RepoType | undefined;
}

function listOf(data: unknown, modelId: string, subject: ErrorSubject): Record<string, unknown>[] {
  const list = Array.isArray(data) ? data : ((data as { Files?: unknown; files?: unknown })?.Files ?? (data as { files?: unknown })?.files);
  if (!Array.isArray(list)) throw new BadResponseError(`The hub's file listing for ${modelId} is not a list`, subject);
  return list as Record<string, unknown>[];
}

/** Validates listing entries (untrusted) and appends the files among them. */
function addListedFiles(files: RepoFile[], seen: Set<string>, list: Record<string, unknown>[], modelId: string, subject: ErrorSubject): void {
  for (const entry of list) {
    if (!entry || typeof entry !== "object") throw new BadResponseError(`The hub's file listing for ${modelId} has a malformed entry`, subject);
    if (entry.Type === "tree") continue;
    const p = entry.Path;
    assertSafeRepoPath(p as string, modelId);
    const size = entry.Size;
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
      throw new BadResponseError(`The hub's listing gives ${String(p)} an invalid size`, subject);
    }
    const sha = entry.Sha256;
    if (sha !== null && sha !== undefined && sha !== "" && (typeof sha !== "string" || !/^[0-9a-fA-F]{64}$/.test(sha))) {
      throw new BadResponseError(`The hub's listing gives ${String(p)} an invalid sha256`, subject);
    }
    if (seen.has(p as string)) throw new BadResponseError(`The hub's listing names ${String(p)} twice`, subject);
    seen.add(p as string);
    files.push({
      path: p as string,
      name: typeof entry.Name === "string" ? entry.Name : (p as string).split("/").pop()!,
      size,
      sha256: typeof sha === "string" && sha ? sha.toLowerCase() : null,
      revision: str(entry.Revision),
      isLfs: entry.IsLFS === true,
    });
  }
}

function pick(obj: Record<string, unknown>, ...keys: string[]): unknown {
  for (const k of keys) if (obj[k] !== undefined && obj[k] !== null) return obj[k];
  return undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

function revisionRefs(list: unknown): RevisionRef[] {
  if (!Array.isArray(list)) return [];
  return list
    .filter((r): r is Record<string, unknown> => !!r && typeof r === "object" && typeof (r as { Revision?: unknown }).Revision === "string")
    .map((r) => ({ name: r.Revision as string, createdAt: num(r.CreatedAt) }));
}
