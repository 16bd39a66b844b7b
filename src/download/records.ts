// What was verified, remembered so that a cache hit never re-hashes: for each file, the size, mtime and
// sha256 it had when its bytes were checked. An entry vouches only for a file with that same size and
// mtime; anything else is checked again.
// All of a revision's entries live in one summary file, replaced atomically. A run adds its entries at
// most every CHECKPOINT_MS and once at the end (SummaryWriter): one write instead of a record file created
// per model file, which on ext4 cost more than downloading a small file. Runs merge (re-read, add,
// replace), so concurrent ones keep each other's entries; a lost race, or a run killed before its
// checkpoint, only costs a re-hash of those files. Also the last listing of a revision, so an offline run
// knows what a complete snapshot is. All of this is read and written with synchronous calls (see
// writeSmallFileAtomicSync).
import fs from "node:fs";
import path from "node:path";
import type { RepoFile } from "../hub/types.js";
import { writeSmallFileAtomicSync } from "../util/atomic-write.js";
import { readJsonSmallSync } from "../util/safe-open.js";
import { hashFile } from "../util/hash-file.js";
import { localPathOf, type Target } from "./layout.js";

export interface VerifyRecord {
  size: number;
  mtimeMs: number;
  sha256: string;
}

/** Entries by repo path. */
export type Summary = Map<string, VerifyRecord>;

/** Our bookkeeping files are read bounded (one may be a link planted in a shared cache). */
const RECORD_MAX_BYTES = 256 * 1024 * 1024;

/** How often a run adds its new entries to the summary on disk. */
const CHECKPOINT_MS = 1_000;

export function summaryPath(target: Target): string {
  return path.join(target.metaDir, "verified-summary.json");
}

export function loadSummary(target: Target): Summary {
  const out: Summary = new Map();
  try {
    const data = readJsonSmallSync(summaryPath(target), RECORD_MAX_BYTES) as { v?: number; files?: Record<string, [number, number, string]> };
    if (data?.v !== 1 || !data.files || typeof data.files !== "object") return out;
    for (const [p, e] of Object.entries(data.files)) {
      if (Array.isArray(e) && typeof e[0] === "number" && typeof e[1] === "number" && typeof e[2] === "string") out.set(p, { size: e[0], mtimeMs: e[1], sha256: e[2] });
    }
  } catch {
    // none yet, or unreadable: nothing is vouched for
  }
  return out;
}

function saveSummary(target: Target, summary: Summary): void {
  const files: Record<string, [number, number, string]> = {};
  for (const [p, r] of summary) files[p] = [r.size, r.mtimeMs, r.sha256];
  writeSmallFileAtomicSync(summaryPath(target), JSON.stringify({ v: 1, files }));
}

/** Adds `add` to the summary on disk and drops `drop` (re-reading it first: another run may have added to it). */
export function updateSummary(target: Target, add: Summary, drop: Iterable<string> = []): void {
  const summary = loadSummary(target);
  let changed = false;
  for (const p of drop) changed = summary.delete(p) || changed;
  for (const [p, r] of add) {
    if (sameRecord(summary.get(p), r)) continue;
    summary.set(p, r);
    changed = true;
  }
  if (changed) saveSummary(target, summary);
}

function sameRecord(a: VerifyRecord | undefined, b: VerifyRecord): boolean {
  return !!a && a.size === b.size && a.mtimeMs === b.mtimeMs && a.sha256 === b.sha256;
}

/** A run's new entries, added to the summary on disk at most every CHECKPOINT_MS and by `flush`. */
export class SummaryWriter {
  private readonly pending: Summary = new Map();
  private lastWrite = Date.now();

  constructor(private readonly target: Target) {}

  add(repoPath: string, rec: VerifyRecord): void {
    this.pending.set(repoPath, rec);
    if (Date.now() - this.lastWrite >= CHECKPOINT_MS) this.flush();
  }

  /** Never throws: the summary only saves re-hashing, and a full disk is reported by the download itself. */
  flush(): void {
    this.lastWrite = Date.now();
    if (this.pending.size === 0) return;
    try {
      updateSummary(this.target, this.pending);
      this.pending.clear();
    } catch {
      // kept pending for the next checkpoint
    }
  }
}

/** Removes a file; a file that is not there is fine. */
export async function unlinkQuiet(file: string): Promise<void> {
  try {
    fs.unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

export type CacheState = "verified" | "missing" | "mismatch" | "unchecked";

function recordMatches(rec: VerifyRecord | undefined, st: fs.Stats, file: RepoFile): boolean {
  return !!rec && rec.size === st.size && rec.mtimeMs === st.mtimeMs && st.size === file.size && (file.sha256 === null || rec.sha256 === file.sha256);
}

/**
 * Is the file at its final path and known good? With `hash: false` only the summary is consulted (a file
 * it does not vouch for is "unchecked"); with `hash: true` such a file (e.g. downloaded by the official
 * client) is hashed once and, if it matches the listing, passed to `onVerified` to be recorded.
 */
export async function cacheState(
  target: Target,
  file: RepoFile,
  opts: { hash: boolean; summary: Summary; signal?: AbortSignal; onVerified?: (rec: VerifyRecord) => void },
): Promise<CacheState> {
  const local = localPathOf(target, file.path);
  let st: fs.Stats;
  try {
    st = fs.statSync(local);
  } catch {
    return "missing";
  }
  if (!st.isFile()) return "mismatch";
  if (recordMatches(opts.summary.get(file.path), st, file)) return "verified";
  if (st.size !== file.size) return "mismatch";
  if (!opts.hash) return "unchecked";
  const sha = await hashFile(local, opts.signal);
  if (file.sha256 !== null && sha !== file.sha256) return "mismatch";
  opts.onVerified?.({ size: st.size, mtimeMs: st.mtimeMs, sha256: sha });
  return "verified";
}

export function listingPath(target: Target): string {
  return path.join(target.metaDir, "listing.json");
}

export async function saveListing(target: Target, modelId: string, revision: string, files: RepoFile[]): Promise<void> {
  writeSmallFileAtomicSync(listingPath(target), JSON.stringify({ modelId, revision, savedAt: new Date().toISOString(), files }));
}

export async function loadListing(target: Target): Promise<RepoFile[] | undefined> {
  try {
    const data = readJsonSmallSync(listingPath(target), RECORD_MAX_BYTES) as { files?: RepoFile[] };
    return Array.isArray(data.files) ? data.files : undefined;
  } catch {
    return undefined;
  }
}
