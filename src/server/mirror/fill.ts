// Filling a miss: the file is fetched from upstream once, by the download engine (resume after a cut,
// parallel ranges on capped links, verify against upstream's sha256, commit by rename, a per-file lock
// across processes), and every client asking meanwhile is sent the bytes as they land, whichever process
// of the hub is fetching it: from the engine's <file>.incomplete while one stream fills it in order, and
// from <file>.parallel_tmp up to the prefix its range state says has landed once it goes on in ranges. The file's last byte is held back until the engine has verified and kept
// the file; if the bytes sent turn out not to be the ones kept (a mismatch, a restart), the client's
// connection is cut: an error, never wrong bytes.
import fs from "node:fs";
import fsp from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { downloadFile } from "../../download/index.js";
import { INCOMPLETE_SUFFIX, PARALLEL_STATE_SUFFIX, PARALLEL_SUFFIX, snapshotDir } from "../../download/layout.js";
import { endOfPart } from "../../download/range-state.js";
import { readJsonSmallSync } from "../../util/safe-open.js";
import type { RepoRef } from "../store/layout.js";
import type { Upstream } from "./upstream.js";

const POLL_MS = 20;
const CHUNK_BYTES = 1024 * 1024;

export interface FillResult {
  done: boolean;
  error?: unknown;
}

/** The fills under way in this process, one per file. */
export class Fills {
  private readonly running = new Map<string, { promise: Promise<void>; state: FillResult }>();
  constructor(
    private readonly root: string,
    private readonly upstream: Upstream,
  ) {}

  finalPath(ref: RepoRef, revision: string, filePath: string): string {
    return [snapshotDir(this.root, ref.id, revision, ref.type), ...filePath.split("/")].join("/");
  }

  /** The fill of this file: the one under way, or a new one with this client's token. */
  fill(ref: RepoRef, revision: string, filePath: string, token: string | undefined): { promise: Promise<void>; state: FillResult } {
    const key = this.finalPath(ref, revision, filePath);
    const known = this.running.get(key);
    if (known) return known;
    const state: FillResult = { done: false };
    const promise = downloadFile(ref.id, filePath, { api: this.upstream.api(token), cacheDir: this.root, revision, repoType: ref.type }).then(
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
    const entry = { promise, state };
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
  fill: { promise: Promise<void>; state: FillResult },
  headers: () => void,
): Promise<"sent" | "failed" | "cut"> {
  const incomplete = finalPath + INCOMPLETE_SUFFIX;
  const ranges = finalPath + PARALLEL_SUFFIX;
  // "single": the open file grows in order (its size is what landed); "ranges": a full-size file whose
  // landed prefix the range state tells.
  let mode: "single" | "ranges" = "single";
  const stop = end + 1;
  // The last byte waits for the verdict: until then a client cannot have the whole (unverified) file.
  const holdBack = size - 1;
  let fh: fsp.FileHandle | undefined;
  let ino = -1;
  let pos = start;
  let started = false;
  const buf = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, Math.max(1, stop - start)));
  const send = async (from: fsp.FileHandle, upto: number): Promise<void> => {
    if (!started) {
      started = true;
      headers();
    }
    while (pos < upto) {
      const { bytesRead } = await from.read(buf, 0, Math.min(buf.length, upto - pos), pos);
      if (bytesRead === 0) throw new Error("the file is shorter than it should be");
      pos += bytesRead;
      const more = res.write(Buffer.from(buf.subarray(0, bytesRead)));
      if (!more) await new Promise<void>((resolve) => {
        const go = () => {
          res.off("drain", go);
          res.off("close", go);
          resolve();
        };
        res.once("drain", go);
        res.once("close", go);
      });
      if (res.destroyed) throw new Error("client went away");
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
          if (started && fh && (await kept.stat()).ino !== ino) return "cut";
          await send(kept, stop);
        } finally {
          await kept.close();
        }
        if (!started) headers();
        await new Promise<void>((resolve) => res.end(resolve));
        return "sent";
      }
      if (!fh) {
        for (const [file, kind] of [[incomplete, "single"], [ranges, "ranges"]] as const) {
          try {
            fh = await fsp.open(file, "r");
            ino = (await fh.stat()).ino;
            mode = kind;
            break;
          } catch {
            fh = undefined;
          }
        }
      }
      if (fh) {
        let landedNow: number | undefined;
        if (mode === "single") {
          const size = (await fh.stat()).size;
          // Still at its name after the size was read: the size is what landed. Gone: the engine renamed
          // it into the range file (then sized it to the whole file), so from now on the state tells.
          if (fs.lstatSync(incomplete, { throwIfNoEntry: false })?.ino === ino) landedNow = size;
          else mode = "ranges";
        }
        if (mode === "ranges") landedNow = rangePrefix(finalPath + PARALLEL_STATE_SUFFIX, size);
        const landed = Math.min(stop, holdBack, landedNow ?? pos);
        if (landed > pos) {
          await send(fh, landed);
          continue;
        }
      }
      await Promise.race([new Promise((r) => setTimeout(r, POLL_MS)), fill.promise.catch(() => undefined)]);
    }
  } catch {
    return started ? "cut" : "failed";
  } finally {
    await fh?.close();
  }
}

/** Bytes from the start that the engine's range state says have landed (undefined: no state for this file yet). */
function rangePrefix(statePath: string, size: number): number | undefined {
  let st: { size?: unknown; starts?: unknown; done?: unknown };
  try {
    st = readJsonSmallSync(statePath, 4 * 1024 * 1024) as typeof st;
  } catch {
    return undefined;
  }
  const { starts, done } = st;
  if (st.size !== size || !Array.isArray(starts) || !Array.isArray(done) || starts.length !== done.length) return undefined;
  for (let i = 0; i < starts.length; i++) {
    const start = Number(starts[i]);
    const got = Number(done[i]);
    if (!(got >= 0)) return undefined;
    if (start + got < endOfPart(starts as number[], i, size)) return start + got;
  }
  return size;
}

/** Whether a file is at its final path (only ever a verified, kept copy in a mirror's root). */
export function keptSize(finalPath: string): number | undefined {
  const st = fs.statSync(finalPath, { throwIfNoEntry: false });
  return st?.isFile() ? st.size : undefined;
}
