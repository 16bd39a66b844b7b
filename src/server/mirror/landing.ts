// How far a file being filled has landed, for the clients waiting on it (fill.ts): when this process fetches
// it, the download engine says so as the bytes land (Landing, which wakes the waiters); when another process
// of the hub does, its range state says so (RangeStateReader), once the fill goes on in ranges.
import fs from "node:fs";
import { landedPrefix } from "../../download/range-state.js";
import { readJsonSmallSync } from "../../util/safe-open.js";

/** What this process's fill of a file has landed, and a wake-up for those waiting on more. */
export class Landing {
  /** Bytes from the start on disk in the temp file; -1 while this process is not fetching it (another may be). */
  bytes = -1;
  /** Counts the times the fetch started over (its temp file is then a new one). */
  restarts = 0;
  private wake: (() => void) | undefined;
  private next: Promise<void> | undefined;

  update(bytes: number): void {
    if (bytes === this.bytes) return;
    if (bytes < this.bytes) this.restarts++;
    this.bytes = bytes;
    const wake = this.wake;
    this.wake = undefined;
    this.next = undefined;
    wake?.();
  }

  /** Resolves at the next change. */
  changed(): Promise<void> {
    this.next ??= new Promise<void>((resolve) => (this.wake = resolve));
    return this.next;
  }
}

/**
 * The landed prefix another process's range state tells: its file is looked at (a stat) each time, and
 * read and parsed again only when it changed (the engine replaces it at most twice a second).
 */
export class RangeStateReader {
  private seen = "";
  private last: number | undefined;
  constructor(
    private readonly file: string,
    private readonly size: number,
  ) {}

  prefix(): number | undefined {
    const st = fs.statSync(this.file, { throwIfNoEntry: false });
    const stamp = st ? `${st.ino} ${st.size} ${st.mtimeMs}` : "";
    if (stamp !== this.seen) {
      this.seen = stamp;
      this.last = st ? rangePrefix(this.file, this.size) : undefined;
    }
    return this.last;
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
  const whole = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
  if (!starts.every(whole) || !done.every(whole)) return undefined;
  return landedPrefix(starts, done, size);
}
