// Every file below a folder, with its `/`-separated relative path. One walker for the hub's store, the
// offline listing and cache maintenance. Symlinks are followed (the official legacy cache uses them),
// with a depth cap so a link loop cannot run forever.
import fs from "node:fs";
import path from "node:path";

export interface WalkedFile {
  /** Relative to the root, `/`-separated. */
  relPath: string;
  absPath: string;
  size: number;
  mtimeMs: number;
}

export interface WalkOptions {
  /** Leaves out an entry (file or folder, and everything under it). */
  skip?: (relPath: string, name: string) => boolean;
  /** Folders this deep are not entered (0: only the root's own files). Default 64. */
  maxDepth?: number;
}

/** Files sorted by relative path; unreadable folders are passed over. */
export function walkFiles(root: string, opts: WalkOptions = {}): WalkedFile[] {
  const maxDepth = opts.maxDepth ?? 64;
  const out: WalkedFile[] = [];
  const walk = (dirAbs: string, rel: string, depth: number) => {
    let names: string[];
    try {
      names = fs.readdirSync(dirAbs);
    } catch {
      return;
    }
    for (const name of names) {
      const relPath = rel ? `${rel}/${name}` : name;
      if (opts.skip?.(relPath, name)) continue;
      const absPath = path.join(dirAbs, name);
      const st = fs.statSync(absPath, { throwIfNoEntry: false });
      if (st?.isDirectory()) {
        if (depth < maxDepth) walk(absPath, relPath, depth + 1);
      } else if (st?.isFile()) {
        out.push({ relPath, absPath, size: st.size, mtimeMs: st.mtimeMs });
      }
    }
  };
  walk(root, "", 0);
  return out.sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
}
