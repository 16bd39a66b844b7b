// Who may have a mirrored repo's bytes: upstream decides. A repo anonymous clients may download is public
// and its bytes are shared by everyone (remembered in the root, ROOT/.dc-hub/mirror-public/, so it is
// still served while upstream is down). Anything else is asked of upstream with the client's own token,
// and upstream's answer is kept for that token (by hash, in memory only) for a short while. When upstream
// cannot be asked: public repos are served, a token's fresh answer is used, everything else is refused.
import fs from "node:fs";
import path from "node:path";
import { hubStateDir } from "../shared-secret.js";
import type { RepoRef } from "../store/layout.js";
import { hashOf } from "./meta-cache.js";
import { UpstreamDown, type Upstream, type UpstreamAnswer } from "./upstream.js";

export type MirrorVerdict = { ok: true } | { ok: false; answer: UpstreamAnswer } | { ok: false; down: string };

const MAX_ENTRIES = 10_000;

export class MirrorAccess {
  private readonly publicAt = new Map<string, number>();
  private readonly byToken = new Map<string, { verdict: MirrorVerdict; at: number }>();
  private readonly dir: string;

  constructor(
    root: string,
    private readonly upstream: Upstream,
    private readonly ttlMs: number,
  ) {
    this.dir = path.join(hubStateDir(root), "mirror-public");
  }

  async mayDownload(ref: RepoRef, revision: string, filePath: string, token: string | undefined): Promise<MirrorVerdict> {
    const now = Date.now();
    const publicSince = this.publicAt.get(repoKey(ref));
    if (publicSince !== undefined && now - publicSince < this.ttlMs) return { ok: true };
    const key = token ? `${hashOf(token)} ${repoKey(ref)}` : "";
    const known = token ? this.byToken.get(key) : undefined;
    if (known && now - known.at < this.ttlMs) return known.verdict;
    try {
      const asked = await this.upstream.mayDownload(ref, revision, filePath, token);
      const verdict: MirrorVerdict = asked.ok ? { ok: true } : { ok: false, answer: asked.answer };
      if (!token) this.setPublic(ref, asked.ok);
      else this.remember(key, verdict);
      return verdict;
    } catch (err) {
      if (!(err instanceof UpstreamDown)) throw err;
      // Upstream is away: public bytes stay public; nothing private is served on an old answer.
      if (publicSince !== undefined || fs.existsSync(this.marker(ref))) return { ok: true };
      return { ok: false, down: err.message };
    }
  }

  private setPublic(ref: RepoRef, isPublic: boolean): void {
    if (isPublic) {
      this.publicAt.delete(repoKey(ref));
      forgetOldest(this.publicAt);
      this.publicAt.set(repoKey(ref), Date.now());
      try {
        fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
        fs.writeFileSync(this.marker(ref), "");
      } catch {
        // memory still knows
      }
    } else {
      this.publicAt.delete(repoKey(ref));
      fs.rmSync(this.marker(ref), { force: true });
    }
  }

  private remember(key: string, verdict: MirrorVerdict): void {
    this.byToken.delete(key);
    forgetOldest(this.byToken);
    this.byToken.set(key, { verdict, at: Date.now() });
  }

  private marker(ref: RepoRef): string {
    return path.join(this.dir, `${ref.type}--${ref.folder}`);
  }
}

/**
 * Makes room for one more answer by letting the oldest go (a Map keeps insertion order): a client with
 * many tokens then costs the others at most their oldest answers, not all of them at once.
 */
function forgetOldest(map: Map<string, unknown>): void {
  while (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value!);
}

/** A model and a dataset may share an id: the type is part of every key. */
function repoKey(ref: RepoRef): string {
  return `${ref.type} ${ref.id}`;
}
