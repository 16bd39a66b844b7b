// Filling a miss: the file is fetched from upstream once, by the download engine (resume after a cut,
// parallel ranges on capped links, verify against upstream's sha256, commit by rename, a per-file lock
// across processes), and every client asking meanwhile is sent the bytes as they land, whichever process
// of the hub is fetching it: from the engine's <file>.incomplete while one stream fills it in order, and
// from <file>.parallel_tmp once it goes on in ranges. How far the bytes have landed: when this process
// fills, the engine says so as they land (onLanded) and wakes the waiting clients; when another process
// of the hub fills, from the partial file's size, or from the range state (saved twice a second; read
// again only when its file changed), looked at every POLL_MS. The file's last byte is held back until the
// engine has verified and kept the file; if the bytes sent turn out not to be the ones kept (a mismatch,
// a restart), the client's connection is cut: an error, never wrong bytes.
// The clients of one fill share the reads of its chunks (shared-chunks.ts); how far it has landed: landing.ts.
import fs from "node:fs";
import fsp from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { downloadFile } from "../../download/index.js";
import { INCOMPLETE_SUFFIX, PARALLEL_STATE_SUFFIX, PARALLEL_SUFFIX, snapshotDir } from "../../download/layout.js";
import { SendBudget, ShortReadError, budgetedSender } from "../send-file.js";
import { Landing, RangeStateReader } from "./landing.js";
import { SHARED_CHUNKS_BUDGET_BYTES, SHARED_CHUNK_BYTES, SharedChunks } from "./shared-chunks.js";
import type { RepoFile } from "../../hub/types.js";
import type { RepoRef } from "../store/layout.js";
import type { Upstream } from "./upstream.js";

/** How often a client waiting on another process's fill looks at its files. */
const POLL_MS = 20;

export interface FillResult {
  done: boolean;
  error?: unknown;
}

export interface Fill {
  promise: Promise<void>;
  state: FillResult;
  landing: Landing;
  /** Clients being sent it now. */
  waiters: number;
  /** The chunks read for the clients waiting on it (of one landing file: a new one after a restart). */
  shared?: SharedChunks;
  /** The memory all fills' shared chunks come out of. */
  chunkBudget: SendBudget;
}

/** The fills under way in this process, one per file. */
export class Fills {
  private readonly running = new Map<string, Fill>();
  private readonly chunkBudget = new SendBudget(SHARED_CHUNKS_BUDGET_BYTES);
  constructor(
    private readonly root: string,
    private readonly upstream: Upstream,
  ) {}

  finalPath(ref: RepoRef, revision: string, filePath: string): string {
    return [snapshotDir(this.root, ref.id, revision, ref.type), ...filePath.split("/")].join("/");
  }

  /**
   * The fill of this file: the one under way, or a new one with this client's token. `listed` is upstream's
   * listing entry for it, as the mirror has it: the engine does not list the repo again for each file.
   */
  fill(ref: RepoRef, revision: string, filePath: string, token: string | undefined, listed: { size: number; sha256: string | null }): Fill {
    const key = this.finalPath(ref, revision, filePath);
    const known = this.running.get(key);
    if (known) return known;
    const state: FillResult = { done: false };
    const landing = new Landing();
    const onLanded = (_: string, bytes: number) => landing.update(bytes);
    const file: RepoFile = { path: filePath, name: filePath.split("/").pop()!, size: listed.size, sha256: listed.sha256, isLfs: false };
    const promise = downloadFile(ref.id, filePath, { api: this.upstream.api(token), cacheDir: this.root, revision, repoType: ref.type, onLanded, listed: [file] }).then(
      () => {
        state.done = true;
      },
      (err: unknown) => {
        state.done = true;
        state.error = err;
        throw err;
      },
    );
    promise.catch(() => undefined).finally(() => this.running.delete(key));
    const entry: Fill = { promise, state, landing, waiters: 0, chunkBudget: this.chunkBudget };
    this.running.set(key, entry);
    return entry;
  }
}

/**
 * Sends bytes [start, end] of a file being filled, as they land. `headers` is called once, before the
 * first byte (so a fill that fails before any byte can still be answered with an error status instead).
 * Resolves "sent", or "failed" with nothing sent (the caller answers), or "cut" after a partial send.
 */
export async function sendWhileLanding(
  res: ServerResponse,
  finalPath: string,
  size: number,
  start: number,
  end: number,
  fill: Fill,
  headers: () => void,
  budget: SendBudget,
): Promise<"sent" | "failed" | "cut"> {
  const incomplete = finalPath + INCOMPLETE_SUFFIX;
  const ranges = finalPath + PARALLEL_SUFFIX;
  const { landing } = fill;
  // Another process's fill: "single", the open file grows in order (its size is what landed); "ranges", a
  // full-size file whose landed prefix the range state tells.
  let mode: "single" | "ranges" = "single";
  const rangeState = new RangeStateReader(finalPath + PARALLEL_STATE_SUFFIX, size);
  const stop = end + 1;
  // The last byte waits for the verdict: until then a client cannot have the whole (unverified) file.
  const holdBack = size - 1;
  let fh: fsp.FileHandle | undefined;
  let ino = -1;
  /**
   * landing.restarts when fh was opened (-1: before this process fetched it): a restart since, or this
   * process taking the fetch over from another, means fh may no longer be the file being filled.
   */
  let openedAt = -1;
  let pos = start;
  /** Headers sent (the status can no longer change); body bytes sent is `pos > start`. */
  let started = false;
  const sentBody = () => pos > start;
  const { sender, release } = budgetedSender(res, stop - start, budget);
  fill.waiters++;
  /**
   * Sends up to `upto` from `from` (inode `fromIno`), of which the first `whole` bytes have landed: whole
   * chunks from the ones shared by every client of this fill; a part of a chunk only where this client's
   * range ends (otherwise it waits for the rest of the chunk, to share it).
   */
  const send = async (from: fsp.FileHandle, fromIno: number, upto: number, whole: number): Promise<void> => {
    // One client alone has nobody to share with: it reads for itself, holding no window of chunks.
    const chunks = fill.waiters > 1 ? sharedChunks(fill, `${fromIno} ${landing.restarts}`, size) : undefined;
    while (pos < upto) {
      const index = Math.floor(pos / SHARED_CHUNK_BYTES);
      const chunkStart = index * SHARED_CHUNK_BYTES;
      const chunkEnd = Math.min(chunkStart + SHARED_CHUNK_BYTES, size);
      const to = Math.min(chunkEnd, upto);
      if (chunkEnd > whole && to !== stop) return;
      if (!started) {
        started = true;
        headers();
      }
      const got = chunkEnd <= whole ? chunks?.acquire(index, from) : undefined;
      if (!got) await sender.send(from, pos, to);
      else {
        let bytes: Buffer;
        try {
          bytes = await got.bytes;
        } catch (err) {
          got.release();
          throw err;
        }
        await sender.sendShared(bytes.subarray(pos - chunkStart, to - chunkStart), got.release);
      }
      pos = to;
    }
  };
  try {
    for (;;) {
      if (res.destroyed) return "cut";
      if (fill.state.done) {
        if (fill.state.error !== undefined) return started ? "cut" : "failed";
        const kept = await fsp.open(finalPath, "r");
        try {
          // What was sent must have come from the very file that was verified and kept.
          const keptIno = (await kept.stat()).ino;
          if (sentBody() && fh && keptIno !== ino) return "cut";
          await send(kept, keptIno, stop, size);
          await sender.flush();
        } finally {
          await kept.close();
        }
        if (!started) headers();
        await new Promise<void>((resolve) => res.end(resolve));
        return "sent";
      }
      const here = landing.bytes >= 0;
      if (fh && here && landing.restarts !== openedAt) {
        // The fetch here started over in a new file: what was sent may not be what will be kept.
        if (sentBody()) return "cut";
        await fh.close();
        fh = undefined;
      }
      if (!fh) {
        openedAt = here ? landing.restarts : -1;
        for (const [file, kind] of [[incomplete, "single"], [ranges, "ranges"]] as const) {
          try {
            fh = await fsp.open(file, "r");
            const st = await fh.stat();
            // Only a regular file is a landing file (a folder of that name opens too, and has no bytes).
            if (!st.isFile()) throw new Error("not a file");
            ino = st.ino;
            mode = kind;
            break;
          } catch {
            await fh?.close().catch(() => undefined);
            fh = undefined;
          }
        }
      }
      if (fh) {
        let landedNow: number | undefined;
        if (here) landedNow = landing.bytes;
        else {
          if (mode === "single") {
            const grown = (await fh.stat()).size;
            // Still at its name after the size was read: the size is what landed. Gone: the engine renamed
            // it into the range file (then sized it to the whole file), so from now on the state tells.
            if (fs.lstatSync(incomplete, { throwIfNoEntry: false })?.ino === ino) landedNow = grown;
            else mode = "ranges";
          }
          if (mode === "ranges") landedNow = rangeState.prefix();
        }
        const landed = Math.min(stop, holdBack, landedNow ?? pos);
        if (landed > pos) {
          const before = pos;
          try {
            await send(fh, ino, landed, landedNow ?? pos);
          } catch (err) {
            // The file holds less than had landed: the fetch started over in it (an integrity retry) before
            // saying so. With none of its bytes sent yet, this client waits for the new ones.
            if (!(err instanceof ShortReadError) || sentBody()) throw err;
            await fh.close();
            fh = undefined;
          }
          if (pos > before) continue;
        }
      }
      const done = fill.promise.catch(() => undefined);
      await Promise.race([here ? landing.changed() : new Promise((r) => setTimeout(r, POLL_MS)), done]);
    }
  } catch {
    return started ? "cut" : "failed";
  } finally {
    release();
    if (--fill.waiters === 0) {
      fill.shared?.close();
      fill.shared = undefined;
    }
    await fh?.close();
  }
}

/** The fill's shared chunks of the landing file `key`: a new window when the file is another one. */
function sharedChunks(fill: Fill, key: string, size: number): SharedChunks {
  if (fill.shared?.key !== key) {
    fill.shared?.close();
    fill.shared = new SharedChunks(key, size, fill.chunkBudget);
  }
  return fill.shared;
}

/** Whether a file is at its final path (only ever a verified, kept copy in a mirror's root). */
export function keptSize(finalPath: string): number | undefined {
  const st = fs.statSync(finalPath, { throwIfNoEntry: false });
  return st?.isFile() ? st.size : undefined;
}
