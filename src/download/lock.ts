// Cross-process, per-file locks that a killed process can never leave blocking the next run.
// A lock is a file created with O_EXCL holding {pid, host, nonce}; its holder touches it every few
// seconds. It is stale when its holder is a dead process on this host, or (another host, or an
// unreadable lock) when it has not been touched for STALE_MS. A stale lock is taken over by renaming it
// away (atomic), checking that what was moved is the stale lock seen, and only then creating a new one.
import { randomBytes } from "node:crypto";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";

const HEARTBEAT_MS = 5_000;
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

async function readOwner(file: string): Promise<LockOwner | undefined> {
  try {
    const o = JSON.parse(await fsp.readFile(file, "utf8")) as LockOwner;
    return typeof o?.pid === "number" && typeof o.nonce === "string" ? o : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a lock file is stale (its owner cannot still be working). */
export async function isStaleLock(file: string, now = Date.now()): Promise<boolean> {
  let mtimeMs: number;
  try {
    mtimeMs = (await fsp.stat(file)).mtimeMs;
  } catch {
    return false;
  }
  const owner = await readOwner(file);
  if (owner && owner.host === os.hostname()) return owner.pid !== process.pid && !pidAlive(owner.pid);
  // Someone else's host, or a lock being written right now / garbage: trust only the heartbeat.
  return now - mtimeMs > STALE_MS;
}

/** Tries once to take the lock; undefined when another live process holds it. */
export async function tryLock(file: string): Promise<FileLock | undefined> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    const owner: LockOwner = { pid: process.pid, host: os.hostname(), nonce: randomBytes(8).toString("hex"), created: new Date().toISOString() };
    try {
      const fh = await fsp.open(file, "wx", 0o644);
      try {
        await fh.writeFile(JSON.stringify(owner));
      } finally {
        await fh.close();
      }
      return held(file, owner);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const seen = await readOwner(file);
    if (!(await isStaleLock(file))) return undefined;
    await breakLock(file, seen);
  }
  return undefined;
}

/** Moves a stale lock away; if what moved turns out not to be the stale lock we saw, puts it back. */
async function breakLock(file: string, seen: LockOwner | undefined): Promise<void> {
  const aside = `${file}.stale-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await fsp.rename(file, aside);
  } catch {
    return; // someone else broke it first
  }
  const moved = await readOwner(aside);
  if (seen && moved && moved.nonce !== seen.nonce) {
    // We raced with a process that had just taken the lock: give it back unless someone took it since.
    await fsp.link(aside, file).catch(() => undefined);
  }
  await fsp.rm(aside, { force: true });
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
      const current = await readOwner(file);
      if (current?.nonce === owner.nonce) await fsp.rm(file, { force: true });
    },
  };
}
