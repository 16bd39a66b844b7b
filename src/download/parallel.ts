// Parallel byte ranges of one big file, written positionally into one preallocated <file>.parallel_tmp
// with a small progress file (<file>.parallel_tmp.incomplete) so a killed run resumes each range. Range
// streams are read straight into a shared ring where the transport allows (plain http), and written and
// hashed (in file order) on worker threads (range-sink.ts). A single stream that split hands its open
// connection over as the first range stream.
import { setMaxListeners } from "node:events";
import fs from "node:fs";
import { AbortedError } from "../errors.js";
import { DirectBody, discardBody, type HubFileResponse } from "../http/index.js";
import { writeSmallFileAtomicSync } from "../util/atomic-write.js";
import { PARALLEL_STATE_SUFFIX, PARALLEL_SUFFIX } from "./layout.js";
import { preallocate } from "./preallocate.js";
import { endOfPart, landedPrefix, loadRangeState, planParts } from "./range-state.js";
import { RangeSink, type Lane } from "./range-sink.js";
import { RangeIgnoredError, contentRangeStart, open, premature, receiveInto, typedError, withRetries, type FetchContext, type Switch, type TempResult } from "./file-request.js";
import { openPartial } from "../util/safe-open.js";

export async function fetchParallel(outer: FetchContext, carried?: Switch): Promise<TempResult> {
  // One failed range stops the others at once (their finished bytes stay recorded for the next run).
  const local = new AbortController();
  setMaxListeners(0, local.signal);
  const onAbort = () => local.abort();
  outer.signal?.addEventListener("abort", onAbort, { once: true });
  if (outer.signal?.aborted) local.abort();
  try {
    return await fetchParallelInner({ ...outer, signal: local.signal }, local, outer, carried);
  } finally {
    outer.signal?.removeEventListener("abort", onAbort);
    await releaseThreads(carried); // when no range sink took them over
  }
}

/** Stops a switch's threads that no range sink took over. */
export async function releaseThreads(carried: Switch | undefined): Promise<void> {
  const t = carried?.threads;
  if (!t) return;
  carried.threads = undefined;
  await Promise.all([t.hasher.terminate(), t.writer.terminate()]);
}

async function fetchParallelInner(ctx: FetchContext, local: AbortController, outer: FetchContext, carried?: Switch): Promise<TempResult> {
  const { file, settings } = ctx;
  const tempPath = ctx.finalPath + PARALLEL_SUFFIX;
  const statePath = ctx.finalPath + PARALLEL_STATE_SUFFIX;
  let state = await loadRangeState(statePath, file, tempPath);
  if (!state) {
    const starts = planParts(file.size, settings);
    state = { v: 2, size: file.size, sha256: file.sha256, starts, done: starts.map(() => 0) };
    const fh = await openPartial(tempPath, "create");
    await fh.truncate(file.size);
    await fh.close();
    try {
      if (file.size >= settings.preallocateMinBytes) await preallocate(tempPath, file.size, ctx.signal);
    } catch (err) {
      // Too big for the disk: nothing fetched yet, so no partial file (nor its partial reservation) stays.
      for (const f of [tempPath, statePath]) fs.rmSync(f, { force: true });
      throw err;
    }
    writeSmallFileAtomicSync(statePath, JSON.stringify(state));
  }
  const st = state;
  const partLen = (i: number) => endOfPart(st.starts, i, file.size) - st.starts[i]!;
  const resumed = st.done.reduce((a, b) => a + b, 0);
  ctx.emit({ type: "file-start", path: file.path, size: file.size, resumeFrom: resumed });

  let saving: Promise<void> = Promise.resolve();
  let dirty = false;
  let lastSave = Date.now();
  const save = (force = false) => {
    dirty = true;
    if (!force && Date.now() - lastSave < 500) return saving;
    lastSave = Date.now();
    saving = saving.then(async () => {
      if (!dirty) return;
      dirty = false;
      try {
        writeSmallFileAtomicSync(statePath, JSON.stringify(st));
      } catch {
        // progress bookkeeping only: the next save (or a restart of those ranges) makes up for it
      }
    });
    return saving;
  };

  // The hash follows the file in order, on a worker thread (range-sink.ts): from memory where a batch
  // arrives exactly where it stands; bytes that landed ahead of it are read back once it reaches them.
  let hashPart = 0;
  const landedEnd = (pos: number) => {
    // The part holding `pos` (the hash only moves forward, so the search starts where it last ended).
    while (hashPart + 1 < st.starts.length && st.starts[hashPart + 1]! <= pos) hashPart++;
    return st.starts[hashPart]! + st.done[hashPart]!;
  };
  // The whole parts from the file's start, for ctx.landed (it only moves forward, as the hash's does).
  let prefixPart = 0;
  const prefix = () => {
    while (prefixPart < st.starts.length && st.done[prefixPart] === partLen(prefixPart)) prefixPart++;
    return prefixPart < st.starts.length ? st.starts[prefixPart]! + st.done[prefixPart]! : file.size;
  };
  ctx.landed?.(prefix());
  const pending = st.done.map((_, i) => i).filter((i) => st.done[i]! < partLen(i));
  const streams = Math.max(1, Math.min(settings.rangeWorkers, pending.length));
  // A single stream's threads go on here, its hash standing where it stopped, if those bytes are still
  // there (else the hash starts over and what landed is read back).
  let threads = carried?.threads;
  if (carried) carried.threads = undefined;
  if (threads && landedPrefix(st.starts, st.done, file.size) < threads.hashed) {
    const pair = threads;
    await pair.hasher.call({ t: "reset" }).catch(async (err: unknown) => {
      await Promise.all([pair.hasher.terminate(), pair.writer.terminate()]);
      throw err;
    });
    threads = { ...pair, hashed: 0 };
  }
  const sink = await RangeSink.open(tempPath, streams, file.size, landedEnd, threads);
  sink.onBytes = (bytes) => ctx.emit({ type: "bytes", path: file.path, bytes });

  /** One range's body read straight into its lane of the ring (direct transport). */
  const receiveDirect = (body: DirectBody, lane: Lane, partEnd: number): Promise<void> =>
    receiveInto(body, () => lane.nextSpace(), (n) => {
      const take = Math.min(n, partEnd - lane.next);
      const room = lane.commit(take, () => body.resume());
      if (lane.next >= partEnd) {
        body.destroy();
        return false;
      }
      return room;
    });

  const fetchPart = async (i: number, lane: Lane, handed?: { pos: number; body: DirectBody }) => {
    const partStart = st.starts[i]!;
    const partEnd = partStart + partLen(i); // exclusive
    const attempt = async () => {
      const start = partStart + st.done[i]!;
      const carry = handed;
      handed = undefined;
      if (start >= partEnd) return carry?.body.destroy();
      let res: { url: string; body: HubFileResponse["body"] };
      if (carry?.pos === start) {
        // The single stream's connection, still open, goes on with this part: no new request.
        res = { url: ctx.api.endpoint, body: carry.body };
      } else {
        carry?.body.destroy();
        const opened = await open(ctx, { start, end: partEnd - 1 }, true);
        if (opened.status !== 206 || contentRangeStart(opened) !== start) {
          discardBody(opened.body);
          throw new RangeIgnoredError();
        }
        res = opened;
      }
      lane.start(start, (end) => {
        st.done[i] = end - partStart;
        if (i === prefixPart) ctx.landed?.(prefix());
        void save();
      });
      try {
        if (res.body instanceof DirectBody) await receiveDirect(res.body, lane, partEnd);
        else for await (const chunk of res.body as AsyncIterable<Buffer>) {
          const data = lane.next + chunk.length > partEnd ? chunk.subarray(0, partEnd - lane.next) : chunk;
          const wait = lane.add(data);
          if (lane.next >= partEnd) {
            discardBody(res.body);
            break;
          }
          if (wait) await wait;
        }
      } catch (err) {
        discardBody(res.body);
        throw typedError(err, ctx, res.url.split("?")[0]!);
      } finally {
        // What was received lands (and is recorded) before a retry or the next part.
        await lane.flush();
      }
      if (partStart + st.done[i]! < partEnd) throw premature(res, ctx);
    };
    await withRetries(ctx, attempt, () => st.done[i]!);
    // Not forced: replacing the state file costs 3-12 ms of the receiving thread here (ext4 rename);
    // at most every 500 ms, and once at the end, is enough for a resume.
    void save();
  };

  // A single stream that split: its connection goes on in the part where it stood, on the first lane.
  let handed: { pos: number; body: DirectBody; part: number } | undefined;
  const carryBody = carried?.carry;
  if (carryBody) {
    const part = pending.findIndex((i) => st.starts[i]! + st.done[i]! === carried.switchAt);
    if (part < 0) carryBody.destroy();
    else {
      handed = { pos: carried.switchAt, body: carryBody, part: pending.splice(part, 1)[0]! };
      pending.unshift(handed.part);
      local.signal.addEventListener("abort", () => carryBody.destroy(), { once: true });
    }
  }
  let failure: unknown;
  const workers = sink.lanes.map(async (lane, w) => {
    for (let first = w === 0; ; first = false) {
      if (failure !== undefined) return;
      const i = pending.shift();
      if (i === undefined) return;
      try {
        await fetchPart(i, lane, first && handed?.part === i ? handed : undefined);
      } catch (err) {
        failure ??= outer.signal?.aborted ? new AbortedError() : err;
        local.abort();
        return;
      }
    }
  });
  let sha256: string;
  try {
    await Promise.all(workers);
    if (failure !== undefined) throw failure;
    sha256 = await sink.digest();
  } finally {
    carryBody?.destroy(); // unused (or done): never left open
    await save(true);
    await sink.close();
  }
  return { tempPath, sha256, bytes: file.size };
}
