// Failed sign-ins are rate-limited per client address: a few at once, then one per interval, so guessing
// tokens at thousands a second is not possible. Past the limit every sign-in from that address is answered
// 429 with Retry-After, a right token included, without looking at it.
//
// The count is kept in the root, not in a process (ROOT/.dc-hub/sign-ins/<hash of the address>.json,
// {tries, at}), so N processes serving one root allow what one does. A failure is counted under that
// file's lock (download/lock.ts: safe against processes that die holding it) and the file is replaced
// atomically, so a check reads it without the lock and two processes failing at once lose neither count.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { lockWithin, tryLock } from "../download/lock.js";
import { writeSmallFileAtomicSync } from "../util/atomic-write.js";
import { hubStateDir } from "./shared-secret.js";

export interface SignInLimits {
  /** Failures allowed at once. */
  burst: number;
  /** One more failure is allowed per this many milliseconds. */
  refillMs: number;
}

export const DEFAULT_SIGN_IN_LIMITS: SignInLimits = { burst: 10, refillMs: 6000 };

/** How long a failure waits for another process's count of the same address (held for a few ms). */
const LOCK_WAIT_MS = 2000;
/** Files of addresses back to their full allowance are removed this often (by whichever process looks). */
const PRUNE_EVERY_MS = 10 * 60_000;

interface Bucket {
  tries: number;
  at: number;
}

export class SignInLimiter {
  private readonly dir: string;
  private lastPrune = Date.now();

  constructor(
    private readonly limits: SignInLimits,
    root: string,
  ) {
    this.dir = path.join(hubStateDir(root), "sign-ins");
  }

  /** Seconds this address must wait before its next sign-in; 0 when it may try now. */
  retryAfter(address: string, now = Date.now()): number {
    const tries = this.tries(this.read(this.file(address)), now);
    return tries >= 1 ? 0 : Math.max(1, Math.ceil(((1 - tries) * this.limits.refillMs) / 1000));
  }

  /** Counts a failed sign-in of this address (resolves once every process will see it). */
  async failed(address: string, now = Date.now()): Promise<void> {
    const file = this.file(address);
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const lock = await lockWithin(`${file}.lock`, LOCK_WAIT_MS, 5);
    // A lock never freed in time (a stuck file system): the failure still counts, unlocked.
    try {
      const bucket: Bucket = { tries: this.tries(this.read(file), now) - 1, at: now };
      writeSmallFileAtomicSync(file, JSON.stringify(bucket));
    } finally {
      await lock?.release();
    }
    if (now - this.lastPrune > PRUNE_EVERY_MS) {
      this.lastPrune = now;
      await this.prune(now);
    }
  }

  private file(address: string): string {
    return path.join(this.dir, `${createHash("sha256").update(address).digest("hex").slice(0, 32)}.json`);
  }

  private read(file: string): Bucket | undefined {
    try {
      const b = JSON.parse(fs.readFileSync(file, "utf8")) as Bucket;
      return Number.isFinite(b?.tries) && Number.isFinite(b?.at) ? b : undefined;
    } catch {
      return undefined;
    }
  }

  private tries(b: Bucket | undefined, now: number): number {
    if (!b) return this.limits.burst;
    return Math.min(this.limits.burst, b.tries + Math.max(0, now - b.at) / this.limits.refillMs);
  }

  /** Removes the files of addresses whose allowance is full again (each under its lock; a busy one stays). */
  private async prune(now: number): Promise<void> {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir).filter((n) => /^[0-9a-f]{32}\.json$/.test(n));
    } catch {
      return;
    }
    for (const name of names) {
      const file = path.join(this.dir, name);
      const lock = await tryLock(`${file}.lock`).catch(() => undefined);
      if (!lock) continue;
      try {
        if (this.tries(this.read(file), now) >= this.limits.burst) fs.rmSync(file, { force: true });
      } finally {
        await lock.release();
      }
    }
  }
}
