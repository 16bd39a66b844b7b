// Opening files in folders that others may write to (a shared cache, a --local-dir) without being steered
// by what they planted there. A temp or partial file is created exclusively (O_EXCL: a link at its name
// fails the create instead of being followed) and resumed only through O_NOFOLLOW, and only when it is
// a regular file of ours with no other name (a hard link to someone's file is not ours to grow). A link,
// pipe or folder in its place is refused (UnsafeLocalFileError); a plain file of another user is removed
// and started afresh. Also a bounded read for small files we only read (token, cookie jar, state files):
// a pipe cannot hang it and /dev/zero cannot exhaust memory.
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { UnsafeLocalFileError } from "../errors.js";

const { O_RDWR, O_RDONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
const CREATE = O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW;
// O_NONBLOCK: opening a pipe must not wait for a writer (it has no effect on a regular file).
const RESUME = O_RDWR | O_NOFOLLOW | O_NONBLOCK;
const READ = O_RDONLY | O_NONBLOCK;

export type PartialOpen = "create" | "resume";

/** What an entry is, when it is not a regular file. */
function notRegular(st: fs.Stats): string | undefined {
  if (st.isFile()) return undefined;
  if (st.isSymbolicLink()) return "a symbolic link";
  if (st.isFIFO()) return "a named pipe";
  if (st.isDirectory()) return "a folder";
  return "a device or socket";
}

/** A regular file of this user with no other name. */
function ours(st: fs.Stats): boolean {
  return st.isFile() && st.nlink === 1 && (process.getuid === undefined || st.uid === process.getuid());
}

/** The refusal for what an open failed on (a link at the name), or the error itself. */
function refusal(err: unknown, file: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ELOOP") return new UnsafeLocalFileError(file, "a symbolic link");
  if (code === "EEXIST") return new UnsafeLocalFileError(file, "a file someone else created at that moment");
  return err;
}

/**
 * Bytes of a partial file at `file` to resume from: 0 when there is none, or when it is a plain file not
 * ours to resume (removed). Throws UnsafeLocalFileError for a link or anything not a regular file.
 */
export function partialSize(file: string): number {
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  if (!st) return 0;
  const bad = notRegular(st);
  if (bad) throw new UnsafeLocalFileError(file, bad);
  if (ours(st)) return st.size;
  fs.rmSync(file, { force: true });
  return 0;
}

/** Makes way for an exclusive create: an earlier plain file goes, anything else is refused. */
function clearForCreate(file: string): void {
  partialSize(file);
  fs.rmSync(file, { force: true });
}

function checkOpened(file: string, st: fs.Stats): void {
  if (!ours(st)) throw new UnsafeLocalFileError(file, notRegular(st) ?? (st.nlink > 1 ? "a file with other names (hard links)" : "another user's file"));
}

/** Opens a temp/partial file read-write (fd): created empty and exclusively, or resumed as it is. */
export function openPartialSync(file: string, how: PartialOpen): number {
  let fd: number;
  try {
    if (how === "create") clearForCreate(file);
    fd = fs.openSync(file, how === "create" ? CREATE : RESUME, 0o644);
  } catch (err) {
    throw refusal(err, file);
  }
  try {
    checkOpened(file, fs.fstatSync(fd));
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  return fd;
}

/** openPartialSync for callers that want a FileHandle. */
export async function openPartial(file: string, how: PartialOpen): Promise<fsp.FileHandle> {
  let fh: fsp.FileHandle;
  try {
    if (how === "create") clearForCreate(file);
    fh = await fsp.open(file, how === "create" ? CREATE : RESUME, 0o644);
  } catch (err) {
    throw refusal(err, file);
  }
  try {
    checkOpened(file, await fh.stat());
  } catch (err) {
    await fh.close();
    throw err;
  }
  return fh;
}

/** chmod through the file we made (never through a link that replaced it). */
export function chmodPartial(file: string, mode: number): void {
  const fd = openPartialSync(file, "resume");
  try {
    fs.fchmodSync(fd, mode);
  } finally {
    fs.closeSync(fd);
  }
}

export type SmallRead = { data: Buffer } | { problem: string };

/**
 * Reads a small file that we only read (links are followed: a user may link their own files). Undefined
 * when it does not exist; `problem` when it is not a regular file or bigger than `maxBytes`.
 */
export function readSmallFileSync(file: string, maxBytes: number): SmallRead | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, READ);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    return { problem: code === "EACCES" ? "permission denied" : String((err as Error).message) };
  }
  try {
    const st = fs.fstatSync(fd);
    const bad = notRegular(st);
    if (bad) return { problem: `it is ${bad}, not a regular file` };
    if (st.size > maxBytes) return { problem: `it is ${st.size} bytes, more than ${maxBytes} expected at most` };
    // One byte more than its size: a file that grows meanwhile is still read bounded, and noticed.
    const buf = Buffer.allocUnsafe(st.size + 1);
    let n = 0;
    for (let got = -1; got !== 0 && n < buf.length; n += got) got = fs.readSync(fd, buf, n, buf.length - n, n);
    if (n > st.size) return { problem: "it grew while being read" };
    return { data: buf.subarray(0, n) };
  } finally {
    fs.closeSync(fd);
  }
}

/** A small JSON file of ours, parsed; throws when it is missing, not a regular file, too big or not JSON. */
export function readJsonSmallSync(file: string, maxBytes: number): unknown {
  const read = readSmallFileSync(file, maxBytes);
  if (!read || "problem" in read) throw new Error(`${file}: ${read ? read.problem : "missing"}`);
  return JSON.parse(read.data.toString("utf8"));
}

/**
 * Refuses to write `relPath` below `root` when one of its folders (below the root, which is the user's
 * choice) is a link or not a folder: a link planted there would take the file, and its rename, elsewhere.
 */
export function assertNoLinkedFolder(root: string, relPath: string): void {
  const parts = relPath.split("/").slice(0, -1);
  let dir = root;
  for (const part of parts) {
    dir = path.join(dir, part);
    const st = fs.lstatSync(dir, { throwIfNoEntry: false });
    if (!st) return; // made by us from here on
    if (!st.isDirectory()) throw new UnsafeLocalFileError(dir, notRegular(st) === "a symbolic link" ? "a symbolic link" : "not a folder");
  }
}
