// What `modelscope download` adds to the library's answers so a mistake is easy to fix: a glob that
// selects nothing is an error naming it, and a missing file or revision comes with the names that exist.
import { UsageError } from "../errors.js";
import { PathFilter, normalizePatterns } from "../download/filters.js";

/** The first --include or --exclude pattern that matches no path of the listing, as a usage error. */
export function checkPatterns(paths: string[], include: string[] | undefined, exclude: string[] | undefined): void {
  for (const [flag, list] of [["--include", include], ["--exclude", exclude]] as const) {
    for (const pattern of normalizePatterns(list)) {
      const filter = new PathFilter(pattern);
      if (paths.some((p) => filter.matches(p))) continue;
      const near = nearNames(pattern, paths);
      throw new UsageError(
        `${flag} '${pattern}' matches no file of the model`,
        near.length ? `files with similar names: ${near.join(", ")}` : "run with --dry-run (and no --include/--exclude) to list the files",
        { key: near.length ? "patternMatchesNothing" : "patternMatchesNothingNoNear", vars: { flag, pattern, near: near.join(", ") } },
      );
    }
  }
}

/** Edit distance (Levenshtein), for near names. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * Up to `max` names close to `wanted`: the same base name in another folder, a shared stem, or a small
 * edit distance (case ignored), nearest first.
 */
export function nearNames(wanted: string, names: string[], max = 3): string[] {
  const w = wanted.toLowerCase();
  const base = (s: string) => s.slice(s.lastIndexOf("/") + 1);
  const stem = (s: string) => base(s).replace(/[.*?[].*$/, "");
  const scored = names.map((name) => {
    const n = name.toLowerCase();
    let score = Math.min(distance(w, n), distance(base(w), base(n)) + 1);
    if (stem(w).length >= 3 && stem(n).startsWith(stem(w))) score = Math.min(score, 1);
    return { name, score };
  });
  const limit = Math.max(2, Math.floor(w.length / 3));
  return scored
    .filter((s) => s.score <= limit)
    .sort((a, b) => a.score - b.score || (a.name < b.name ? -1 : 1))
    .slice(0, max)
    .map((s) => s.name);
}
