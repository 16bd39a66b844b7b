// The upstream hub a mirror pulls through (modelscope.cn, or another `modelscope serve`): plain requests
// for metadata and access probes, and a HubApi for the download engine that fills files. The token sent
// is always the requesting client's own (or none): never the mirror operator's, never kept.
import path from "node:path";
import { HubApi } from "../../hub/api.js";
import { repoTypeSegment } from "../../hub/types.js";
import type { RepoRef } from "../store/layout.js";
import { normalizeEndpoint, type Env } from "../../settings.js";
import { isPrivateHost } from "../../http/private-address.js";

/** What upstream answered (status and body), or that it could not be reached / failed (5xx). */
export interface UpstreamAnswer {
  status: number;
  body: Buffer;
  contentType: string;
}

export class UpstreamDown extends Error {}

/** Upstream's answer came from this hub itself (any process of its root): --upstream points back at it. */
export class UpstreamIsSelf extends UpstreamDown {}

/** The header a mirror's own requests to upstream carry: seeing its own value come back means --upstream is itself. */
export const LOOP_HEADER = "x-dc-mirror-of";

/** Upstream failed in a way that says nothing about the repo: unreachable, a timeout, a 5xx or a 429. */
export function isDown(status: number): boolean {
  return status >= 500 || status === 429;
}

const META_TIMEOUT_MS = 15_000;
/** The most an answer may carry (as our client takes from a hub): a listing of 100k files is ~30 MB. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;
/** Content types relayed as upstream gave them; anything else (an HTML error page) goes out as plain text. */
const RELAYED_TYPE = /^(application\/([\w.+-]*\+)?json|text\/plain)\s*(;|$)/i;

export class Upstream {
  readonly base: string;
  /**
   * Whether the fills follow redirects to loopback, private and link-local addresses: only for an upstream
   * inside such a network itself (a lab's hub and its CDN name); a public one could otherwise point the
   * mirror at its own network and have the answer served to clients.
   */
  readonly privateRedirects: boolean;

  constructor(
    base: string,
    private readonly root: string,
    /** This hub's value of LOOP_HEADER (the same for every process of the root). */
    readonly loopId: string,
    privateRedirects?: boolean,
  ) {
    this.base = normalizeEndpoint(base);
    this.privateRedirects = privateRedirects ?? isPrivateHost(new URL(this.base).hostname);
  }

  private headers(token: string | undefined, extra: Record<string, string> = {}): Record<string, string> {
    const headers = { ...extra, [LOOP_HEADER]: this.loopId };
    return token ? { ...headers, authorization: `Bearer ${token}` } : headers;
  }

  /** One request; throws UpstreamDown when upstream cannot be reached or fails (5xx, 429). */
  async request(pathAndQuery: string, token: string | undefined, init: { method?: string; body?: string; headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<UpstreamAnswer> {
    let res: Response;
    try {
      res = await fetch(this.base + pathAndQuery, {
        method: init.method ?? "GET",
        headers: this.headers(token, init.headers),
        body: init.body,
        redirect: "manual",
        signal: AbortSignal.timeout(init.timeoutMs ?? META_TIMEOUT_MS),
      });
    } catch (err) {
      const code = (err as { cause?: { code?: unknown } }).cause?.code;
      const why = typeof code === "string" ? code : (err as Error).name === "TimeoutError" ? "no answer in time" : "no connection";
      throw new UpstreamDown(`the upstream hub ${this.base} cannot be reached (${why})`);
    }
    const body = await this.readCapped(res);
    if (res.status === 508 && res.headers.get(LOOP_HEADER) === this.loopId) throw new UpstreamIsSelf(`the upstream hub ${this.base} leads back to this hub itself`);
    if (isDown(res.status)) throw new UpstreamDown(`the upstream hub ${this.base} answered ${res.status}`);
    const type = res.headers.get("content-type") ?? "application/json; charset=utf-8";
    return { status: res.status, body, contentType: RELAYED_TYPE.test(type) ? type : "text/plain; charset=utf-8" };
  }

  /** The whole body, or UpstreamDown past MAX_ANSWER_BYTES (a broken or hostile upstream could send forever). */
  private async readCapped(res: Response): Promise<Buffer> {
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body ?? []) {
        size += chunk.length;
        // Leaving the loop cancels the stream (and its connection).
        if (size > MAX_ANSWER_BYTES) throw new UpstreamDown(`the upstream hub ${this.base} sent an answer larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB`);
        chunks.push(chunk);
      }
    } catch (err) {
      if (err instanceof UpstreamDown) throw err;
      // Cut or timed out mid-answer: what came is not the answer.
      throw new UpstreamDown(`the upstream hub ${this.base} ${(err as Error).name === "TimeoutError" ? "did not finish its answer in time" : "cut its answer short"}`);
    }
    return Buffer.concat(chunks);
  }

  /**
   * May this token download this file? A HEAD of the file (as the official client probes its redirect):
   * the same access check as the download, without its bytes. 2xx or a redirect to the object store is yes.
   */
  async mayDownload(ref: RepoRef, revision: string, filePath: string, token: string | undefined): Promise<{ ok: true } | { ok: false; answer: UpstreamAnswer }> {
    const q = new URLSearchParams({ Revision: revision, FilePath: filePath });
    const answer = await this.request(`/api/v1/${repoTypeSegment(ref.type)}/${ref.id}/repo?${q}`, token, { method: "HEAD" });
    if (answer.status >= 200 && answer.status < 400) return { ok: true };
    return { ok: false, answer };
  }

  /** The download engine's view of upstream, signed with this token only (no env token, no saved token). */
  api(token: string | undefined): HubApi {
    return new HubApi({ endpoint: this.base, token, env: fillEnv(), home: path.join(this.root, ".dc-hub", "no-home"), network: { privateRedirects: this.privateRedirects } });
  }
}

/**
 * The engine's settings for a fill: the operator's (timeouts, retries, range streams), and no token
 * variable: the token is the client's own, given to the HubApi.
 */
function fillEnv(): Env {
  const env: Env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if ((k.startsWith("MODELSCOPE_DOWNLOAD_") || k.startsWith("MODELSCOPE_API_")) && k !== "MODELSCOPE_API_TOKEN") env[k] = v;
  }
  return env;
}
