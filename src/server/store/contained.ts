// Nothing outside the root is ever listed or served, whatever links the root holds: a path is used only
// by its real path (links resolved), and only when that lies inside the root's real path. Links that stay
// inside (a snapshot pointing at a blob, a model folder moved and linked back) keep working.
import fs from "node:fs";
import path from "node:path";

export class Contained {
  private readonly realRoot: string;

  constructor(root: string) {
    this.realRoot = fs.realpathSync.native(root);
  }

  /** The real path of `p` when it exists inside the root (the root itself included); otherwise undefined. */
  real(p: string): string | undefined {
    let real: string;
    try {
      real = fs.realpathSync.native(p); // one realpath(3) call, not an lstat per component
    } catch {
      return undefined;
    }
    return real === this.realRoot || real.startsWith(this.realRoot + path.sep) ? real : undefined;
  }

  /** The real path of a folder inside the root, or undefined. */
  dir(p: string): string | undefined {
    const real = this.real(p);
    return real && fs.statSync(real, { throwIfNoEntry: false })?.isDirectory() ? real : undefined;
  }

  /** The real path and stat of a regular file inside the root, or undefined. */
  file(p: string): { real: string; st: fs.Stats } | undefined {
    const real = this.real(p);
    const st = real ? fs.statSync(real, { throwIfNoEntry: false }) : undefined;
    return real && st?.isFile() ? { real, st } : undefined;
  }
}

export interface ContainedFile {
  /** Relative to the walked folder, `/`-separated. */
  relPath: string;
  /** The real path (links resolved), inside the root. */
  absPath: string;
  size: number;
  mtimeMs: number;
}

/**
 * Every file below `dir`, sorted by relative path; entries whose real path leaves the root are passed over,
 * as are unreadable folders. `skip` leaves out an entry and everything under it. A depth cap ends link loops.
 */
export function walkContained(contained: Contained, dir: string, skip: (relPath: string) => boolean, maxDepth = 64): ContainedFile[] {
  const out: ContainedFile[] = [];
  const walk = (dirAbs: string, rel: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dirAbs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const relPath = rel ? `${rel}/${e.name}` : e.name;
      if (skip(relPath)) continue;
      const abs = path.join(dirAbs, e.name);
      // A plain entry inside a contained folder is contained; only links need resolving.
      const real = e.isSymbolicLink() ? contained.real(abs) : abs;
      if (!real) continue;
      // lstat for a plain entry: one swapped for a link since readdir is then neither file nor folder.
      const st = real === abs ? fs.lstatSync(abs, { throwIfNoEntry: false }) : fs.statSync(real, { throwIfNoEntry: false });
      if (st?.isDirectory()) {
        if (depth < maxDepth) walk(real, relPath, depth + 1);
      } else if (st?.isFile()) {
        out.push({ relPath, absPath: real, size: st.size, mtimeMs: st.mtimeMs });
      }
    }
  };
  const start = contained.dir(dir);
  if (start) walk(start, "", 0);
  return out.sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
}
