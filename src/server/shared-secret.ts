// The key every hub process on one root signs with (CDN URLs), so a URL one process hands out is good at
// any other behind the same load balancer. It lives in the root (ROOT/.dc-hub/secret, 0600 in a 0700
// folder) and is made once: a process writes its candidate to a temp file and link(2)s it into place,
// which fails when another process got there first; then everyone reads the one that won.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { UsageError } from "../errors.js";

export const HUB_STATE_DIR = ".dc-hub";
const SECRET_BYTES = 32;

/** ROOT/.dc-hub: the hub's own files (never served: isServable skips `.dc-` names). */
export function hubStateDir(root: string): string {
  const dir = path.join(root, HUB_STATE_DIR);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} must be a folder`);
  if ((st.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
  return dir;
}

function readSecret(file: string): Buffer | undefined {
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  if (!st) return undefined;
  // Never a link we did not make, never a file others may read.
  // Refused, never replaced here: another process of the hub may be deciding the same at this moment.
  if (!st.isFile() || (st.mode & 0o077) !== 0) {
    throw new UsageError(`${file} must be a regular file readable only by its owner`, `chmod 600 ${file}, or remove it (with every hub process on this root stopped) to make a new one`, { key: "hubSecretOpen", vars: { path: file } });
  }
  const key = fs.readFileSync(file);
  if (key.length !== SECRET_BYTES) {
    // An empty or cut file (a crash as it was made): no key to sign with, so nothing is served on a guess.
    throw new UsageError(`${file} is not a hub secret (${SECRET_BYTES} bytes)`, "stop every hub process on this root, remove the file, and start the hub again: a new one is made", { key: "hubSecretBad", vars: { path: file } });
  }
  return key;
}

/** The shared signing key of the hub at `root`, made on first use. */
export function loadOrCreateSecret(root: string): Buffer {
  const dir = hubStateDir(root);
  const file = path.join(dir, "secret");
  const known = readSecret(file);
  if (known) return known;
  const tmp = path.join(dir, `.secret.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  fs.writeFileSync(tmp, randomBytes(SECRET_BYTES), { mode: 0o600, flag: "wx" });
  try {
    fs.linkSync(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return readSecret(file)!;
}

/**
 * The shared key, or, for a root this process may not write (a read-only mount) and that has none yet, a key
 * of this process's own: the hub still serves, but CDN URLs are then good only at the process that made them.
 */
export function hubSecret(root: string, warn: (line: string) => void): Buffer {
  try {
    return loadOrCreateSecret(root);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EROFS" && code !== "EACCES" && code !== "EPERM") throw err;
    warn(`Cannot write ${path.join(root, HUB_STATE_DIR, "secret")} (${code}): redirect URLs will work only at this process; make the root writable to share them between hub processes`);
    return randomBytes(SECRET_BYTES);
  }
}
