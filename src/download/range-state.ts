// The plan and saved progress of a parallel-range download: where each part starts, and how many of its
// bytes have landed. Saved as JSON in <file>.parallel_tmp.incomplete (ours; the official client keeps a
// part file per range instead), so a killed run resumes each range where it stopped.
import fsp from "node:fs/promises";
import type { RepoFile } from "../hub/types.js";
import { readJsonSmallSync } from "../util/safe-open.js";
import type { DownloadSettings } from "../settings.js";

export interface RangeState {
  v: 2;
  size: number;
  sha256: string | null;
  /** Where each part starts, ascending from 0; a part ends where the next one starts (the last at `size`). */
  starts: number[];
  /** Bytes done from the start of each part. */
  done: number[];
}

/** The state file of earlier versions: parts all of one size. */
interface RangeStateV1 {
  v: 1;
  size: number;
  sha256: string | null;
  partSize: number;
  done: number[];
}

/** The last parts shrink to this fraction of the configured part size, and no further (a request each). */
const MIN_PART_FRACTION = 8;
/** Part boundaries fall on whole pages of the page cache. */
const PART_ALIGN = 64 * 1024;

/**
 * Part boundaries for `size` bytes: parts of the configured size while plenty is left, then shrinking
 * (to an eighth of it) so that the streams finish close together. Why: the hash follows
 * the file in order, so every byte that lands ahead of the lowest unfinished part is read back and hashed
 * after it; equal parts left (streams - 1) whole parts of that for after the last byte (scenario 2:
 * 224 MiB, ~0.13 s). Small last parts also keep one slow connection from holding a big part at the end,
 * and let a file of a few parts' size use every stream (100 MiB: 4 of 8 streams before).
 */
export function planParts(size: number, settings: Pick<DownloadSettings, "partSizeBytes" | "rangeWorkers" | "inOrderParts">): number[] {
  const full = Math.max(1, Math.floor(settings.partSizeBytes));
  const min = Math.max(1, Math.floor(full / MIN_PART_FRACTION));
  const align = min >= PART_ALIGN ? PART_ALIGN : 1;
  const starts: number[] = [];
  for (let pos = 0, k = 1; pos < size; k++) {
    starts.push(pos);
    // A part is at most 2/3 of one stream's share of what is left (tried in a simulation of 8 equal
    // streams: the last byte came as early as with equal parts, with the least left to hash after it).
    let len = Math.max(min, Math.min(full, Math.ceil(((size - pos) * 2) / (3 * settings.rangeWorkers))));
    // In order: the first parts grow from 1/streams of a part to a whole one, so the streams, started
    // together, finish their first parts in file order one after another and the landed prefix moves on
    // from the start, instead of waiting a whole part's time and then jumping by (streams - 1) parts.
    if (settings.inOrderParts) len = Math.min(len, Math.ceil((k * full) / settings.rangeWorkers));
    pos += Math.ceil(len / align) * align;
  }
  return starts;
}

/** A state file is a few numbers per part; a bigger one is not ours (read bounded: it may be a planted link). */
const STATE_MAX_BYTES = 4 * 1024 * 1024;

/** Where part `i` ends (exclusive). */
export function endOfPart(starts: number[], i: number, size: number): number {
  return i + 1 < starts.length ? starts[i + 1]! : size;
}

/** Where the bytes have landed without a gap from the file's start (`size` once every part is done). */
export function landedPrefix(starts: number[], done: number[], size: number): number {
  for (let i = 0; i < starts.length; i++) {
    const reached = starts[i]! + done[i]!;
    if (reached < endOfPart(starts, i, size)) return reached;
  }
  return size;
}

/** The state saved beside `tempPath`, or undefined when it is missing, unreadable or for other bytes. */
export async function loadRangeState(file: string, repo: RepoFile, tempPath: string): Promise<RangeState | undefined> {
  try {
    let s = readJsonSmallSync(file, STATE_MAX_BYTES) as RangeState | RangeStateV1;
    if (s?.v === 1 && s.partSize > 0 && Array.isArray(s.done)) {
      const partSize = s.partSize;
      s = { v: 2, size: s.size, sha256: s.sha256, starts: s.done.map((_, i) => i * partSize), done: s.done };
    }
    if (s?.v !== 2 || s.size !== repo.size || s.sha256 !== repo.sha256 || !Array.isArray(s.done) || !Array.isArray(s.starts)) return undefined;
    const { starts, done } = s;
    if (starts.length === 0 || starts.length !== done.length || starts[0] !== 0) return undefined;
    for (let i = 0; i < starts.length; i++) {
      const end = endOfPart(starts, i, s.size);
      if (!Number.isSafeInteger(starts[i]) || !(end > starts[i]!) || !Number.isSafeInteger(done[i]) || done[i]! < 0 || done[i]! > end - starts[i]!) return undefined;
    }
    if ((await fsp.stat(tempPath)).size !== repo.size) return undefined;
    return s;
  } catch {
    return undefined;
  }
}
