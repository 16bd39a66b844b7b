// The chunks of a file being filled, read from its landing file once and sent to every client waiting on it:
// eight clients of one fill cost one read of each byte from the page cache, not eight (a read is ~0.17
// CPU-s per GiB here). The chunks kept are a window that follows the clients furthest on; a client that
// falls behind it reads for itself (fill.ts). A chunk's memory is reused once it has left the window and
// every write of it is done; nothing is allocated per chunk in the steady state.
import type fsp from "node:fs/promises";

export const SHARED_CHUNK_BYTES = 1024 * 1024;
/** Chunks kept at once per file (16 MiB). */
const WINDOW = 16;

interface Entry {
  ready: Promise<Buffer>;
  buf?: Buffer;
  /** Writes of it not yet done. */
  refs: number;
  evicted: boolean;
}

export class SharedChunks {
  private readonly entries = new Map<number, Entry>();
  private readonly pool: Buffer[] = [];
  /** The lowest chunk index still kept. */
  private lo = 0;

  /** `key` names the landing file this is for (its inode, and the fill's restarts). */
  constructor(
    readonly key: string,
    private readonly size: number,
  ) {}

  /**
   * Chunk `index` (whole: the caller has checked it has landed), read through `fh` by whichever client asks
   * first; undefined when it is behind the window. Call `release` once its last write is done.
   */
  acquire(index: number, fh: fsp.FileHandle): { bytes: Promise<Buffer>; release: () => void } | undefined {
    if (index < this.lo) return undefined;
    if (index >= this.lo + WINDOW) {
      const lo = index - WINDOW + 1;
      for (const [i, e] of this.entries) if (i < lo) this.evict(i, e);
      this.lo = lo;
    }
    let e = this.entries.get(index);
    if (!e) {
      const entry: Entry = { ready: this.read(index, fh), refs: 0, evicted: false };
      entry.ready.then(
        (buf) => (entry.buf = buf),
        () => this.entries.get(index) === entry && this.entries.delete(index),
      );
      this.entries.set(index, entry);
      e = entry;
    }
    const entry = e;
    entry.refs++;
    let released = false;
    return {
      bytes: entry.ready,
      release: () => {
        if (released) return;
        released = true;
        entry.refs--;
        this.recycle(entry);
      },
    };
  }

  private evict(index: number, e: Entry): void {
    this.entries.delete(index);
    e.evicted = true;
    this.recycle(e);
  }

  private recycle(e: Entry): void {
    if (e.evicted && e.refs === 0 && e.buf && e.buf.buffer.byteLength === SHARED_CHUNK_BYTES && this.pool.length < WINDOW) {
      this.pool.push(Buffer.from(e.buf.buffer, 0, SHARED_CHUNK_BYTES));
      e.buf = undefined;
    }
  }

  private async read(index: number, fh: fsp.FileHandle): Promise<Buffer> {
    const start = index * SHARED_CHUNK_BYTES;
    const length = Math.min(SHARED_CHUNK_BYTES, this.size - start);
    const buf = this.pool.pop() ?? Buffer.allocUnsafeSlow(SHARED_CHUNK_BYTES);
    for (let got = 0; got < length; ) {
      const { bytesRead } = await fh.read(buf, got, length - got, start + got);
      if (bytesRead === 0) throw new Error("the file is shorter than it should be");
      got += bytesRead;
    }
    return buf.subarray(0, length);
  }
}
