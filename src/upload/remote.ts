// What the upload asks of the hub before sending: does the repo exist, what does the branch hold, and
// which blobs does the hub lack. The repo check and the listing go out together (a re-upload of an
// unchanged folder is these two requests and nothing else), both through the direct transport for GETs,
// so such a run never loads undici. Blob questions are gathered into one batch call while another is out.
import { NotFoundError } from "../errors.js";
import type { HubApi } from "../hub/api.js";
import { lfsBatch, repoPlural, type RepoType } from "../hub/repo-api.js";
import { readBodyText, type HubClient } from "../http/index.js";

export type RemoteTree = Map<string, { sha256: string | null; size: number }>;

/** True when the repo exists (and the caller may see it); a 404 is false, anything else an error. */
export async function repoExistsDirect(client: HubClient, repoId: string, repoType: RepoType, signal?: AbortSignal): Promise<boolean> {
  const res = await client.request({
    path: `/api/v1/${repoPlural(repoType)}/${repoId}`,
    accept: (s) => (s >= 200 && s < 300) || s === 404,
    signal,
    subject: { modelId: repoId },
    direct: true,
    wholeBody: true,
  });
  await readBodyText(res.body, 16 * 1024 * 1024);
  return res.status !== 404;
}

/** path -> sha256 of what the branch holds now (empty for a new repo or branch; models only). */
export async function remoteTree(api: HubApi, t: { repoId: string; repoType: RepoType; revision: string }, signal?: AbortSignal): Promise<RemoteTree> {
  const tree: RemoteTree = new Map();
  if (t.repoType !== "model") return tree;
  try {
    const files = await api.listFiles(t.repoId, { revision: t.revision, signal });
    for (const f of files) tree.set(f.path, { sha256: f.sha256, size: f.size });
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err; // an empty repo has no branch yet
  }
  return tree;
}

interface Ask {
  oid: string;
  size: number;
  resolve: (href: string | undefined) => void;
  reject: (err: unknown) => void;
}

/**
 * Asks the LFS batch about blobs as their hashes become known: questions that arrive while a call is out
 * go together in the next one (at most `max` per call). Resolves each with its upload URL, or undefined
 * when the hub has the blob already.
 */
export class BlobAsker {
  private pending: Ask[] = [];
  private busy = false;

  constructor(
    private readonly call: (objects: { oid: string; size: number }[]) => Promise<Map<string, string>>,
    private readonly max: number,
  ) {}

  static forTarget(client: HubClient, repoType: RepoType, repoId: string, max: number, withRetry: <T>(fn: () => Promise<T>) => Promise<T>, signal?: AbortSignal): BlobAsker {
    return new BlobAsker((objects) => withRetry(() => lfsBatch(client, repoType, repoId, objects, signal)), max);
  }

  ask(oid: string, size: number): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      this.pending.push({ oid, size, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.busy || this.pending.length === 0) return;
    const asks = this.pending.splice(0, this.max);
    this.busy = true;
    this.call(asks.map((a) => ({ oid: a.oid, size: a.size })))
      .then(
        (answer) => asks.forEach((a) => a.resolve(answer.get(a.oid))),
        (err: unknown) => asks.forEach((a) => a.reject(err)),
      )
      .finally(() => {
        this.busy = false;
        this.kick();
      });
  }
}
