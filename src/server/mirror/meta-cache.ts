// Upstream's metadata answers (listings, revisions, model info), kept briefly and served again; when
// upstream is down, served whatever their age. Answers given to a signed-in client are that client's
// (kept in memory under its token's hash, never written); answers to anonymous requests are public and
// are also written to the root (ROOT/.dc-hub/mirror-meta/), so every process of the hub, and a restarted
// one, can serve them while upstream is away.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { writeSmallFileAtomicSync } from "../../util/atomic-write.js";
import { readJsonSmallSync } from "../../util/safe-open.js";
import { hubStateDir } from "../shared-secret.js";
import type { UpstreamAnswer } from "./upstream.js";

export interface CachedAnswer extends UpstreamAnswer {
  /** When upstream gave it (ms since epoch). */
  at: number;
}

const MAX_ENTRIES = 10_000;
/** Bytes of answers kept in memory at most (an answer may be up to 64 MiB: upstream.ts). */
const MAX_MEMORY_BYTES = 256 * 1024 * 1024;
/** A saved answer's file at most: a 64 MiB answer in base64, and its envelope. */
const MAX_SAVED_BYTES = 90 * 1024 * 1024;
/**
 * Saved answers at most, and their bytes (per process): every distinct query an anonymous client makes
 * (`search=...`, `PageNumber=...`) is an answer, so the disk would otherwise fill at a client's pace. Past
 * either, new answers are kept in memory only; answers already saved are still replaced.
 */
export const DISK_LIMITS = { files: 100_000, bytes: 2 * 1024 * 1024 * 1024 };

export function hashOf(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export class MetaCache {
  private readonly mem = new Map<string, CachedAnswer>();
  private memBytes = 0;
  private readonly dir: string;
  /** The saved answers' count and bytes: counted from the folder at the first save, then kept up. */
  private saved: { files: number; bytes: number } | undefined;

  constructor(
    root: string,
    readonly ttlMs: number,
    private readonly diskLimits = DISK_LIMITS,
  ) {
    this.dir = path.join(hubStateDir(root), "mirror-meta");
  }

  /** `scope` is "anon" or the hash of a token (that client's answers). */
  get(scope: string, pathAndQuery: string): CachedAnswer | undefined {
    const key = `${scope} ${pathAndQuery}`;
    const inMem = this.mem.get(key);
    if (inMem || scope !== "anon") return inMem;
    try {
      const saved = readJsonSmallSync(this.file(pathAndQuery), MAX_SAVED_BYTES) as { status: number; body: string; contentType: string; at: number };
      return { status: saved.status, body: Buffer.from(saved.body, "base64"), contentType: saved.contentType, at: saved.at };
    } catch {
      return undefined;
    }
  }

  isFresh(entry: CachedAnswer): boolean {
    return Date.now() - entry.at < this.ttlMs;
  }

  put(scope: string, pathAndQuery: string, answer: UpstreamAnswer): void {
    const entry = { ...answer, at: Date.now() };
    const key = `${scope} ${pathAndQuery}`;
    this.forget(key);
    // The oldest answers go first, to keep to both limits.
    for (const [oldest] of this.mem) {
      if (this.mem.size < MAX_ENTRIES && this.memBytes + entry.body.length <= MAX_MEMORY_BYTES) break;
      this.forget(oldest);
    }
    this.mem.set(key, entry);
    this.memBytes += entry.body.length;
    if (scope === "anon" && answer.status === 200) this.save(pathAndQuery, entry);
  }

  private save(pathAndQuery: string, entry: CachedAnswer): void {
    try {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const file = this.file(pathAndQuery);
      const text = JSON.stringify({ status: entry.status, body: entry.body.toString("base64"), contentType: entry.contentType, at: entry.at });
      const saved = (this.saved ??= this.count());
      const old = fs.statSync(file, { throwIfNoEntry: false })?.size;
      const bytes = saved.bytes - (old ?? 0) + text.length;
      if (old === undefined && saved.files >= this.diskLimits.files) return;
      if (bytes > this.diskLimits.bytes) return;
      writeSmallFileAtomicSync(file, text);
      saved.bytes = bytes;
      if (old === undefined) saved.files++;
    } catch {
      // the memory copy still serves this process
    }
  }

  private count(): { files: number; bytes: number } {
    const out = { files: 0, bytes: 0 };
    for (const name of fs.readdirSync(this.dir)) {
      const st = fs.statSync(path.join(this.dir, name), { throwIfNoEntry: false });
      if (!st?.isFile()) continue;
      out.files++;
      out.bytes += st.size;
    }
    return out;
  }

  private forget(key: string): void {
    const known = this.mem.get(key);
    if (!known) return;
    this.mem.delete(key);
    this.memBytes -= known.body.length;
  }

  private file(pathAndQuery: string): string {
    return path.join(this.dir, `${hashOf(pathAndQuery)}.json`);
  }
}
