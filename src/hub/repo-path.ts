// Paths inside a repository come from the server and are untrusted: only plain relative paths pass.
import { BadResponseError } from "../errors.js";

/** Why a repo-relative path is unsafe to write, or undefined when it is fine. */
export function unsafePathReason(p: string): string | undefined {
  if (typeof p !== "string" || p.length === 0) return "empty path";
  if (p.includes("\0")) return "NUL byte";
  if (p.includes("\\")) return "backslash";
  if (p.startsWith("/") || /^[A-Za-z]:/.test(p)) return "absolute path";
  const parts = p.split("/");
  if (parts.some((s) => s === "..")) return "'..' segment";
  if (parts.some((s) => s === "" || s === ".")) return "empty or '.' segment";
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
