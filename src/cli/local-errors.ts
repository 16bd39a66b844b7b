// File-system failures a user can cause, found in raw Node errors that reach the CLI: a file where a
// folder must go (or the reverse) in the cache, --local-dir or MODELSCOPE_HOME. Each gets its own line.
import fs from "node:fs";
import path from "node:path";

export interface Clash {
  /** The path in the way. */
  blocker: string;
  /** "file": a file where a folder is needed; "folder": a folder where a file must go. */
  is: "file" | "folder";
}

function kind(p: string): "file" | "folder" | undefined {
  try {
    return fs.lstatSync(p).isDirectory() ? "folder" : "file";
  } catch {
    return undefined; // missing, or a file further up is in the way (ENOTDIR)
  }
}

/** The first existing part of `p` (itself or a parent) that is not a folder. */
function fileOnTheWay(p: string): string | undefined {
  for (let cur = path.resolve(p); ; cur = path.dirname(cur)) {
    const k = kind(cur);
    if (k === "file") return cur;
    if (cur === path.dirname(cur)) return undefined;
  }
}

/** What is in the way, for EEXIST (mkdir), ENOTDIR and EISDIR errors; undefined for anything else. */
export function clashOf(err: unknown): Clash | undefined {
  const e = err as NodeJS.ErrnoException & { dest?: string };
  if (!e || typeof e.code !== "string" || typeof e.path !== "string") return undefined;
  if (e.code === "EEXIST" && e.syscall === "mkdir" && kind(e.path) === "file") return { blocker: e.path, is: "file" };
  if (e.code === "ENOTDIR") {
    const blocker = fileOnTheWay(e.dest ?? e.path) ?? fileOnTheWay(e.path);
    return blocker ? { blocker, is: "file" } : undefined;
  }
  if (e.code === "EISDIR") {
    const target = e.dest ?? e.path;
    return kind(target) === "folder" ? { blocker: target, is: "folder" } : undefined;
  }
  return undefined;
}

/** Whether `p` is the config home (token, credentials) or inside it, or one of its parents is `p`. */
export function touchesHome(p: string, home: string): boolean {
  const a = path.resolve(p);
  const h = path.resolve(home);
  return a === h || a.startsWith(h + path.sep) || h.startsWith(a + path.sep);
}
