// What was verified, remembered so that a cache hit never re-hashes: for each file, the size, mtime and
// sha256 it had when its bytes were checked. A file whose size or mtime changed since is checked again.
// One small JSON file per model file (so concurrent processes never fight over one index), written
// atomically. Also the last listing of a revision, so an offline run knows what a complete snapshot is.
// These small files are read and written with synchronous calls (see writeSmallFileAtomicSync).
import fs from "node:fs";
import path from "node:path";
import type { RepoFile } from "../hub/types.js";
import { writeSmallFileAtomicSync } from "../util/atomic-write.js";
import { hashFile } from "../util/hash-file.js";
import { localPathOf, type Target } from "./layout.js";

export interface VerifyRecord {
  size: number;
  mtimeMs: number;
  sha256: string;
  verifiedAt: string;
}

export function recordPath(target: Target, repoPath: string): string {
  return path.join(target.metaDir, "verified", ...repoPath.split("/")) + ".json";
}

export async function readRecord(target: Target, repoPath: string): Promise<VerifyRecord | undefined> {
  try {
    const r = JSON.parse(fs.readFileSync(recordPath(target, repoPath), "utf8")) as VerifyRecord;
    return typeof r?.size === "number" && typeof r.mtimeMs === "number" && typeof r.sha256 === "string" ? r : undefined;
  } catch {
    return undefined;
  }
}

export async function writeRecord(target: Target, repoPath: string, rec: Omit<VerifyRecord, "verifiedAt">): Promise<void> {
  writeSmallFileAtomicSync(recordPath(target, repoPath), JSON.stringify({ ...rec, verifiedAt: new Date().toISOString() }));
}

export async function removeRecord(target: Target, repoPath: string): Promise<void> {
  // The summary may vouch for this file too: it goes as well (the next complete run writes it again).
  await unlinkQuiet(recordPath(target, repoPath));
  await unlinkQuiet(summaryPath(target));
}

/** Removes a file; a file that is not there is fine. */
export async function unlinkQuiet(file: string): Promise<void> {
  try {
    fs.unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

// The summary: the records of a revision's files in one file, written after a run that left them all
// verified, so a cache hit reads one file and stats each model file instead of opening 200 records.
// Only an accelerator: an entry counts only when size and mtime still match (as a record), anything
// else falls back to the per-file record, and removing any record removes the summary.
export type Summary = Map<string, Omit<VerifyRecord, "verifiedAt">>;

export function summaryPath(target: Target): string {
  return path.join(target.metaDir, "verified-summary.json");
}

export async function loadSummary(target: Target): Promise<Summary> {
  try {
    const data = JSON.parse(fs.readFileSync(summaryPath(target), "utf8")) as { v?: number; files?: Record<string, [number, number, string]> };
    const out: Summary = new Map();
    if (data?.v !== 1 || !data.files || typeof data.files !== "object") return out;
    for (const [p, e] of Object.entries(data.files)) {
      if (Array.isArray(e) && typeof e[0] === "number" && typeof e[1] === "number" && typeof e[2] === "string") out.set(p, { size: e[0], mtimeMs: e[1], sha256: e[2] });
    }
    return out;
  } catch {
    return new Map();
  }
}

export async function saveSummary(target: Target, summary: Summary): Promise<void> {
  const files: Record<string, [number, number, string]> = {};
  for (const [p, r] of summary) files[p] = [r.size, r.mtimeMs, r.sha256];
  writeSmallFileAtomicSync(summaryPath(target), JSON.stringify({ v: 1, files }));
}


export type CacheState = "verified" | "missing" | "mismatch" | "unchecked";

function recordMatches(rec: VerifyRecord | undefined, st: fs.Stats, file: RepoFile): boolean {
  return !!rec && rec.size === st.size && rec.mtimeMs === st.mtimeMs && st.size === file.size && (file.sha256 === null || rec.sha256 === file.sha256);
}

/**
 * Is the file at its final path and known good? With `hash: false` only the record is consulted (a file
 * with no record is "unchecked"); with `hash: true` such a file (e.g. downloaded by the official client)
 * is hashed once and, if it matches the listing, recorded.
 */
export async function cacheState(
  target: Target,
  file: RepoFile,
  opts: { hash: boolean; signal?: AbortSignal; summary?: Summary; onVerified?: (rec: Omit<VerifyRecord, "verifiedAt">) => void },
): Promise<CacheState> {
  const local = localPathOf(target, file.path);
  let st: fs.Stats;
  try {
    st = fs.statSync(local);
  } catch {
    return "missing";
  }
  if (!st.isFile()) return "mismatch";
  const fromSummary = opts.summary?.get(file.path);
  if (fromSummary && recordMatches({ ...fromSummary, verifiedAt: "" }, st, file)) return "verified";
  const rec = await readRecord(target, file.path);
  if (recordMatches(rec, st, file)) {
    opts.onVerified?.(rec!);
    return "verified";
  }
  if (st.size !== file.size) return "mismatch";
  if (!opts.hash) return "unchecked";
  const sha = await hashFile(local, opts.signal);
  if (file.sha256 !== null && sha !== file.sha256) return "mismatch";
  await writeRecord(target, file.path, { size: st.size, mtimeMs: st.mtimeMs, sha256: sha });
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
    const data = JSON.parse(fs.readFileSync(listingPath(target), "utf8")) as { files?: RepoFile[] };
    return Array.isArray(data.files) ? data.files : undefined;
  } catch {
    return undefined;
  }
}
