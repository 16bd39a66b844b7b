// Cross-process, per-file locks that a killed process can never leave blocking the next run.
// A process that locks writes one owner file into the lock folder, {pid, host, nonce}, and each lock is
// a hard link to it, made with link(2): atomic, and it fails when the lock exists. No file is created per
// lock (on ext4, creating files was the dear part of locking 200 small files), and since links share the
// file's mtime, one heartbeat (touching the owner file) keeps every lock of the process fresh. Where hard
// links are not supported, a lock is a file of its own holding the same owner record (created O_EXCL).
// A lock is stale when its holder is a dead process on this host, or (another host, or an unreadable
// lock) when it has not been touched for STALE_MS. A stale lock is taken over by renaming it away
// (atomic), checking that what was moved is the stale lock seen, and only then making a new one.
// The owner file goes when the process exits; a killed process's one is a stale lock for `cache prune`.
// File calls are synchronous: each is a few µs, where an async one costs ~50 µs of thread hand-offs, and
// a download takes and releases a lock per file.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pidAlive } from "../util/pid-alive.js";

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

/** This process's identity in every lock it holds. */
const me: LockOwner = { pid: process.pid, host: os.hostname(), nonce: randomBytes(8).toString("hex"), created: new Date().toISOString() };

/** The owner file of each lock folder used (and its inode), or null where hard links failed (a file per lock there). */
const ownerFiles = new Map<string, { path: string; ino: number } | null>();
/** Locks held, by path: the inode of the link (or -1 for a file of its own). */
const heldLocks = new Map<string, number>();
let heartbeat: NodeJS.Timeout | undefined;
let exitHookSet = false;

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

/** The owner file in `dir`, written on first use (null once hard links failed there). */
function ownerFileIn(dir: string): { path: string; ino: number } | null {
  const known = ownerFiles.get(dir);
  if (known !== undefined) return known;
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `dc-owner-${me.pid}-${me.nonce}.lock`);
  fs.writeFileSync(file, JSON.stringify(me), { flag: "wx", mode: 0o644 });
  const owner = { path: file, ino: fs.statSync(file).ino };
  ownerFiles.set(dir, owner);
  if (!exitHookSet) {
    exitHookSet = true;
    process.once("exit", () => {
      for (const o of ownerFiles.values()) if (o) fs.rmSync(o.path, { force: true });
    });
  }
  return owner;
}

/** Makes the lock at `file`; false when it exists. Returns the inode to release it by (-1: a file of its own). */
function makeLock(file: string): number | false {
  const dir = path.dirname(file);
  const owner = ownerFileIn(dir);
  try {
    if (owner !== null) {
      try {
        fs.linkSync(owner.path, file);
        return owner.ino;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "EEXIST" || code === "ENOENT") throw err;
        // No hard links on this file system (EPERM, ENOTSUP, EMLINK...): a file per lock here from now on.
        ownerFiles.set(dir, null);
        fs.rmSync(owner.path, { force: true });
      }
    }
    fs.writeFileSync(file, JSON.stringify(me), { flag: "wx", mode: 0o644 });
    return -1;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
}

/** Tries once to take the lock; undefined when another live process holds it. */
export async function tryLock(file: string): Promise<FileLock | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    let ino: number | false;
    try {
      ino = makeLock(file);
    } catch (err) {
      // The folder (or our owner file) went away under us, e.g. a concurrent `cache rm`: make them again.
      if ((err as NodeJS.ErrnoException).code === "ENOENT" && attempt < 2) {
        ownerFiles.delete(path.dirname(file));
        continue;
      }
      throw err;
    }
    if (ino !== false) return held(file, ino);
    const seen = readOwner(file);
    if (!(await isStaleLock(file))) return undefined;
    breakLock(file, seen);
  }
  return undefined;
}

/** Tries for the lock every `pollMs` until it is taken or `waitMs` have passed (then undefined). */
export async function lockWithin(file: string, waitMs: number, pollMs: number): Promise<FileLock | undefined> {
  const t0 = Date.now();
  let lock = await tryLock(file);
  while (!lock && Date.now() - t0 < waitMs) {
    await new Promise((r) => setTimeout(r, pollMs));
    lock = await tryLock(file);
  }
  return lock;
}

/** Moves a stale lock away; if what moved turns out not to be the stale lock we saw, puts it back. */
function breakLock(file: string, seen: LockOwner | undefined): void {
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

/** Touches what proves the held locks alive: each owner file (all its links) and each lock of its own. */
function beat(): void {
  const now = new Date();
  const touched = new Set<string>();
  for (const [file, ino] of heldLocks) {
    const target = ino === -1 ? file : ownerFiles.get(path.dirname(file))?.path;
    if (!target || touched.has(target)) continue;
    touched.add(target);
    fs.utimes(target, now, now, () => undefined);
  }
}

function held(file: string, ino: number): FileLock {
  heldLocks.set(file, ino);
  if (!heartbeat) {
    heartbeat = setInterval(beat, HEARTBEAT_MS);
    heartbeat.unref();
  }
  let released = false;
  return {
    path: file,
    async release() {
      if (released) return;
      released = true;
      heldLocks.delete(file);
      if (heldLocks.size === 0 && heartbeat) {
        clearInterval(heartbeat);
        heartbeat = undefined;
      }
      // Only our own lock goes: a stale-lock breaker may have replaced it meanwhile.
      const ours = ino === -1 ? readOwner(file)?.nonce === me.nonce : fs.statSync(file, { throwIfNoEntry: false })?.ino === ino;
      if (ours) fs.rmSync(file, { force: true });
    },
  };
}
