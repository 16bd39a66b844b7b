// What a route works with: the hub (its store, rules, options) and one request (`Call`): who is asking,
// the rules it is decided by, and `repo()`, the way every route reaches a repo through the access check.
import type { IncomingMessage, ServerResponse } from "node:http";
import { mayAccess, type AccessAction } from "./access.js";
import type { AccessSnapshot, HubConfigWatcher } from "./config-watch.js";
import type { AccessLogTarget } from "./access-log.js";
import type { FaultHooks } from "./faults.js";
import type { HubUser } from "./hub-config.js";
import type { Mirror, MirrorOptions } from "./mirror/index.js";
import { legacyError, openApiError } from "./respond.js";
import type { SendBudget } from "./send-file.js";
import type { SignInLimiter, SignInLimits } from "./sign-in-limit.js";
import type { HubStore, StoredRepo } from "./store/repo-store.js";
import type { BlobStore } from "./store/blobs.js";
import type { RepoWriter } from "./store/commits.js";
import { repoRef, type RepoType } from "./store/layout.js";

export interface HubServerOptions {
  /** A ModelScope cache folder: ROOT/models/<owner>--<name>/snapshots/<rev>/..., plus optional ROOT/hub.json. */
  root: string;
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Files at least this big are redirected to the CDN host (default 8 MiB; Infinity turns it off). */
  redirectThresholdBytes?: number;
  /** Host name of the redirect target: another name for this hub (default: `localhost` for a client at 127.0.0.1 and back; the hub's own name otherwise). */
  cdnHost?: string;
  /** Largest blob (and inline commit content) uploads may send, in bytes (default 100 GiB). */
  maxUploadBytes?: number;
  /** The address clients reach the hub at (e.g. https://hub.lab.example); redirects use it. Default: the Host the client asked for. */
  publicUrl?: string;
  /** Enables the /__test__ fault switches. Never on in normal use. */
  testFaults?: boolean;
  /** Where the hub's warnings go (a broken hub.json at run time); default standard error. */
  warn?: (line: string) => void;
  /** Pull-through mirror of another hub (`serve --upstream`). */
  mirror?: MirrorOptions;
  /** One line per request (default off for the library; the CLI logs to standard output). */
  accessLog?: AccessLogTarget;
  /** Connections at once, overall (default 1024) and from one address (default 256: a node downloading with many streams); 0: no cap. */
  maxConnections?: number;
  maxConnectionsPerAddress?: number;
  /** A connection that makes no progress this long (no byte read, no write done) is closed (default 60 s). */
  idleTimeoutMs?: number;
  /** Failed sign-ins allowed per address: `burst` at once, then one per `refillMs` (default 10, then one per 6 s). */
  signInLimits?: SignInLimits;
  /** Memory for file bodies on their way out, all connections together (default 64 MiB; past it, small buffers). */
  sendBufferBudgetBytes?: number;
}

/** The hub's parts every route can use. */
export interface Hub {
  readonly opts: HubServerOptions;
  readonly store: HubStore;
  /** Uploaded bytes, once per sha256. */
  readonly blobs: BlobStore;
  /** Creates repos, commits, tags. */
  readonly writer: RepoWriter;
  readonly config: HubConfigWatcher;
  readonly faults: FaultHooks;
  /** The key CDN URLs are signed with. */
  readonly cdnSecret: Buffer;
  readonly signIns: SignInLimiter;
  readonly sendBudget: SendBudget;
  /** Where the hub's warnings go: `opts.warn`, or standard error. */
  readonly warn: (line: string) => void;
  /** The port the hub listens on (known once it listens). */
  port: number;
  /** Set when the hub mirrors an upstream hub. */
  mirror?: Mirror;
}

/** A client error found while reading the request (bad percent-encoding, ...): answered with its status. */
export class BadRequest extends Error {
  constructor(message: string) {
    super(message);
  }
}

/** decodeURIComponent, with malformed input as a 400 instead of a crash. */
export function decodePart(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new BadRequest(`Malformed percent-encoding in the ${what}`);
  }
}

export const RULES_UNREADABLE = "The hub's access rules cannot be read; ask the hub's administrator.";

/** The token a request carries: `Authorization: Bearer` or the `m_session_id` cookie. */
export function tokenOf(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith("Bearer ")) return auth.slice(7).trim() || undefined;
  const m = (req.headers.cookie ?? "").match(/(?:^|;\s*)m_session_id=([^;]*)/);
  return m?.[1] ? decodePart(m[1], "m_session_id cookie") : undefined;
}

const NOUN: Record<RepoType, string> = { model: "Model", dataset: "Dataset" };

/** One request: the hub, the request and response, the route's decoded path parts, and the rules it is decided by. */
export class Call {
  /** Taken once when the request starts, so a private and a missing repo cost the same. */
  readonly rules: AccessSnapshot;
  private callerMemo: { user: HubUser | undefined } | undefined;

  constructor(
    readonly hub: Hub,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly url: URL,
    readonly params: string[],
  ) {
    this.rules = hub.config.current();
  }

  /** The client's address (IPv4 without the `::ffff:` prefix). */
  address(): string {
    const a = this.req.socket.remoteAddress ?? "";
    return a.startsWith("::ffff:") ? a.slice(7) : a;
  }

  /** The token from `Authorization: Bearer` or the `m_session_id` cookie, as the real hub accepts both. */
  token(): string | undefined {
    return tokenOf(this.req);
  }

  caller(): HubUser | undefined {
    this.callerMemo ??= { user: this.rules.userForToken(this.token()) };
    return this.callerMemo.user;
  }

  /**
   * The repo named by the route's first two path parts (owner, name), when it exists and the caller may do
   * `action` with it; otherwise answers (404 missing or hidden, 401/403 not allowed, 503 rules unreadable)
   * in the route's envelope and returns undefined.
   */
  repo(type: RepoType, action: AccessAction, envelope: "legacy" | "openapi" = "legacy"): StoredRepo | undefined {
    const [owner = "", name = ""] = this.params;
    const ref = repoRef(type, owner, name);
    const found = ref && this.hub.store.resolve(ref);
    // Decided on the canonical ref of the folder found, never on the client's spelling.
    const verdict = found ? mayAccess(this.rules, this.caller(), found.ref, action) : { ok: false as const, status: 404 as const };
    if (verdict.ok) return found;
    const id = `${owner}/${name}`;
    const message = {
      401: `Please log in to ${action === "write" ? "change" : "download"} this ${type}.`,
      403: `You do not have permission to ${action === "write" ? "change" : "download"} this ${type}.`,
      404: envelope === "openapi" ? `${NOUN[type]} does not exist.` : `${NOUN[type]} ${id} does not exist.`,
      503: RULES_UNREADABLE,
    }[verdict.status];
    if (envelope === "openapi") openApiError(this.res, verdict.status, message);
    else legacyError(this.res, verdict.status, message);
    return undefined;
  }
}
