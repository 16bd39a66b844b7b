// include/exclude globs with the official client's semantics: fnmatch (`*` also crosses `/`, `?` one
// character, `[seq]` / `[!seq]`), case-sensitive, full match on the repo path; comma-separated lists are
// split and trimmed; a pattern containing `.*` is also tried with `.*` replaced by `*` (old regex style).

/** Splits comma lists and trims; drops empty entries. */
export function normalizePatterns(patterns: string | string[] | undefined): string[] {
  if (patterns === undefined) return [];
  const list = Array.isArray(patterns) ? patterns : [patterns];
  return list
    .flatMap((p) => String(p).split(","))
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
}

/** Python's fnmatch.translate, as a RegExp matching the whole string. */
export function fnmatchToRegExp(pattern: string): RegExp {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") {
      out += ".*";
      while (pattern[i + 1] === "*") i++;
    } else if (c === "?") {
      out += ".";
    } else if (c === "[") {
      let j = i + 1;
      if (pattern[j] === "!") j++;
      if (pattern[j] === "]") j++;
      while (j < pattern.length && pattern[j] !== "]") j++;
      if (j >= pattern.length) {
        out += "\\[";
      } else {
        let body = pattern.slice(i + 1, j).replace(/\\/g, "\\\\");
        if (body.startsWith("!")) body = `^${body.slice(1)}`;
        else if (body.startsWith("^")) body = `\\${body}`;
        out += `[${body}]`;
        i = j;
      }
    } else {
      out += c.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
    }
  }
  return new RegExp(`^(?:${out})$`, "s");
}

export class PathFilter {
  private readonly include: RegExp[];
  private readonly exclude: RegExp[];

  constructor(include?: string | string[], exclude?: string | string[]) {
    this.include = normalizePatterns(include).flatMap(compile);
    this.exclude = normalizePatterns(exclude).flatMap(compile);
  }

  get isEmpty(): boolean {
    return this.include.length === 0 && this.exclude.length === 0;
  }

  matches(repoPath: string): boolean {
    if (this.include.length > 0 && !this.include.some((r) => r.test(repoPath))) return false;
    return !this.exclude.some((r) => r.test(repoPath));
  }
}

function compile(pattern: string): RegExp[] {
  const out = [fnmatchToRegExp(pattern)];
  if (pattern.includes(".*")) out.push(fnmatchToRegExp(pattern.replace(/\.\*/g, "*")));
  return out;
}
