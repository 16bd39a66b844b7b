// The chunks of a file being filled, read from its landing file once and sent to every client waiting on it:
// eight clients of one fill cost one read of each byte from the page cache, not eight (a read is ~0.17
// CPU-s per GiB here). The chunks kept are a window that follows the clients furthest on; a client that
// falls behind it, or finds the mirror's memory for chunks all taken, reads for itself (fill.ts). A chunk's
// memory is reused once it has left the window and every write of it is done, and given back to the budget
// when the last client of the fill has gone: nothing is allocated per chunk in the steady state.
import type fsp from "node:fs/promises";
import { ShortReadError, type SendBudget } from "../send-file.js";

export const SHARED_CHUNK_BYTES = 1024 * 1024;
/** Chunks kept at once per file: 64 MiB (with 16, eight curls on one machine drifted apart enough that 46% of
 * their bytes were read for themselves; with 64, none). */
const WINDOW = 64;
/** Memory for shared chunks, for all the mirror's fills at once. */
export const SHARED_CHUNKS_BUDGET_BYTES = 128 * 1024 * 1024;

interface Entry {
  ready: Promise<Buffer>;
  /** The chunk's memory (whole, SHARED_CHUNK_BYTES), until given back or pooled. */
  mem: Buffer | undefined;
  /** Writes of it not yet done. */
  refs: number;
  evicted: boolean;
}

export class SharedChunks {
  private readonly entries = new Map<number, Entry>();
  private readonly pool: Buffer[] = [];
  /** The lowest chunk index still kept. */
  private lo = 0;
  private closed = false;

  /** `key` names the landing file this is for (its inode, and the fill's restarts). */
  constructor(
    readonly key: string,
    private readonly size: number,
    private readonly budget: SendBudget,
  ) {}

  /**
   * Chunk `index` (whole: the caller has checked it has landed), read through `fh` by whichever client asks
   * first; undefined when it is behind the window or no memory is left for it. Call `release` once its last
   * write is done.
   */
  acquire(index: number, fh: fsp.FileHandle): { bytes: Promise<Buffer>; release: () => void } | undefined {
    if (this.closed || index < this.lo) return undefined;
    if (index >= this.lo + WINDOW) {
      const lo = index - WINDOW + 1;
      for (const [i, e] of this.entries) if (i < lo) this.evict(i, e);
      this.lo = lo;
    }
    let entry = this.entries.get(index);
    if (!entry) {
      const mem = this.pool.pop() ?? (this.budget.take(SHARED_CHUNK_BYTES) ? Buffer.allocUnsafeSlow(SHARED_CHUNK_BYTES) : undefined);
      if (!mem) return undefined;
      const e: Entry = { ready: this.read(index, fh, mem), mem, refs: 0, evicted: false };
      e.ready.catch(() => {
        if (this.entries.get(index) === e) this.entries.delete(index);
        e.evicted = true;
        this.recycle(e);
      });
      this.entries.set(index, e);
      entry = e;
    }
    const e = entry;
    e.refs++;
    let released = false;
    return {
      bytes: e.ready,
      release: () => {
        if (released) return;
        released = true;
        e.refs--;
        this.recycle(e);
      },
    };
  }

  /** The last client of the fill has gone: every chunk's memory goes back as soon as its writes are done. */
  close(): void {
    this.closed = true;
    for (const [i, e] of this.entries) this.evict(i, e);
    for (const _ of this.pool.splice(0)) this.budget.give(SHARED_CHUNK_BYTES);
  }

  private evict(index: number, e: Entry): void {
    this.entries.delete(index);
    e.evicted = true;
    this.recycle(e);
  }

  private recycle(e: Entry): void {
    if (!e.evicted || e.refs > 0 || !e.mem) return;
    const mem = e.mem;
    e.mem = undefined;
    if (!this.closed && this.pool.length < WINDOW) this.pool.push(mem);
    else this.budget.give(SHARED_CHUNK_BYTES);
  }

  private async read(index: number, fh: fsp.FileHandle, mem: Buffer): Promise<Buffer> {
    const start = index * SHARED_CHUNK_BYTES;
    const length = Math.min(SHARED_CHUNK_BYTES, this.size - start);
    for (let got = 0; got < length; ) {
      const { bytesRead } = await fh.read(mem, got, length - got, start + got);
      if (bytesRead === 0) throw new ShortReadError();
      got += bytesRead;
    }
    return mem.subarray(0, length);
  }
}
