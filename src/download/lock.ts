// Cross-process, per-file locks that a killed process can never leave blocking the next run.
// A lock is a file created with O_EXCL holding {pid, host, nonce}; its holder touches it every few
// seconds. It is stale when its holder is a dead process on this host, or (another host, or an
// unreadable lock) when it has not been touched for STALE_MS. A stale lock is taken over by renaming it
// away (atomic), checking that what was moved is the stale lock seen, and only then creating a new one.
// File calls are synchronous: each is a few µs, where an async one costs ~50 µs of thread hand-offs, and
// a download takes and releases a lock per file.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";

const HEARTBEAT_MS = 5_000;
/** Lock folders made by this process (saves a mkdir per lock). */
const madeDirs = new Set<string>();
const STALE_MS = 30_000;

interface LockOwner {
  pid: number;
  host: string;
  nonce: string;
  created: string;
}

export interface FileLock {
  path: string;
  release(): Promise<void>;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const o = JSON.parse(fs.readFileSync(file, "utf8")) as LockOwner;
    return typeof o?.pid === "number" && typeof o.nonce === "string" ? o : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a lock file is stale (its owner cannot still be working). */
export async function isStaleLock(file: string, now = Date.now()): Promise<boolean> {
  let mtimeMs: number;
  try {
    mtimeMs = fs.statSync(file).mtimeMs;
  } catch {
    return false;
  }
  const owner = readOwner(file);
  if (owner && owner.host === os.hostname()) return owner.pid !== process.pid && !pidAlive(owner.pid);
  // Someone else's host, or a lock being written right now / garbage: trust only the heartbeat.
  return now - mtimeMs > STALE_MS;
}

/** Tries once to take the lock; undefined when another live process holds it. */
export async function tryLock(file: string): Promise<FileLock | undefined> {
  const dir = path.dirname(file);
  if (!madeDirs.has(dir)) {
    fs.mkdirSync(dir, { recursive: true });
    madeDirs.add(dir);
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    const owner: LockOwner = { pid: process.pid, host: os.hostname(), nonce: randomBytes(8).toString("hex"), created: new Date().toISOString() };
    try {
      fs.writeFileSync(file, JSON.stringify(owner), { flag: "wx", mode: 0o644 });
      return held(file, owner);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && attempt < 2) {
        // The folder went away under us (a concurrent `cache rm`): make it again.
        fs.mkdirSync(dir, { recursive: true });
        continue;
      }
      if (code !== "EEXIST") throw err;
    }
    const seen = readOwner(file);
    if (!(await isStaleLock(file))) return undefined;
    await breakLock(file, seen);
  }
  return undefined;
}

/** Moves a stale lock away; if what moved turns out not to be the stale lock we saw, puts it back. */
async function breakLock(file: string, seen: LockOwner | undefined): Promise<void> {
  const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return; // someone else broke it first
  }
  const moved = readOwner(aside);
  if (seen && moved && moved.nonce !== seen.nonce) {
    // We raced with a process that had just taken the lock: give it back unless someone took it since.
    try {
      fs.linkSync(aside, file);
    } catch {
      // someone took it since
    }
  }
  fs.rmSync(aside, { force: true });
}

function held(file: string, owner: LockOwner): FileLock {
  const timer = setInterval(() => {
    const now = new Date();
    fsp.utimes(file, now, now).catch(() => undefined);
  }, HEARTBEAT_MS);
  timer.unref();
  let released = false;
  return {
    path: file,
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      const current = readOwner(file);
      if (current?.nonce === owner.nonce) fs.rmSync(file, { force: true });
    },
  };
}
