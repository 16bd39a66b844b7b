// Paths inside a repository come from the server and are untrusted: only plain relative paths pass.
import { BadResponseError } from "../errors.js";
import { hasControlChars } from "../util/terminal-text.js";

/** Our bookkeeping folder beside (or, in a --local-dir, inside) the model's files: never a model path. */
export const META_DIR_NAME = ".dc-meta";

/** Why a repo-relative path is unsafe to write, or undefined when it is fine. */
export function unsafePathReason(p: string): string | undefined {
  if (typeof p !== "string" || p.length === 0) return "empty path";
  if (p.includes("\0")) return "NUL byte";
  if (hasControlChars(p)) return "control character";
  if (p.includes("\\")) return "backslash";
  if (p.startsWith("/") || /^[A-Za-z]:/.test(p)) return "absolute path";
  const parts = p.split("/");
  if (parts.some((s) => s === "..")) return "'..' segment";
  if (parts.some((s) => s === "" || s === ".")) return "empty or '.' segment";
  if (parts.includes(META_DIR_NAME)) return `inside our bookkeeping folder ${META_DIR_NAME}`;
  if (p.length > 4096) return "path too long";
  return undefined;
}

export function assertSafeRepoPath(p: string, modelId?: string): void {
  const reason = unsafePathReason(p);
  if (reason) {
    // JSON.stringify shows control characters escaped, so the message stays one readable line.
    throw new BadResponseError(`Refused unsafe file path from the hub (${reason}): ${JSON.stringify(String(p)).slice(0, 200)}`, modelId ? { modelId } : {});
  }
}

/**
 * A path of the listing that is also a folder of another path ("a" and "a/b"): one of the two could not
 * be written, and which one would depend on the order. Undefined when there is none.
 */
export function fileFolderClash(paths: readonly string[]): string | undefined {
  const files = new Set(paths);
  for (const p of paths) {
    for (let i = p.indexOf("/"); i > 0; i = p.indexOf("/", i + 1)) {
      if (files.has(p.slice(0, i))) return p.slice(0, i);
    }
  }
  return undefined;
}

export function assertNoFileFolderClash(paths: readonly string[], modelId?: string): void {
  const clash = fileFolderClash(paths);
  if (clash !== undefined) {
    throw new BadResponseError(`Refused the hub's listing: ${JSON.stringify(clash).slice(0, 200)} is both a file and a folder`, modelId ? { modelId } : {});
  }
}
