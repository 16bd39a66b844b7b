// Upload test helpers: a local folder from a path -> content map, and a repo's tree as the hub lists it.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { tempDir, type TestHub } from "./hub.js";

export function writeFolder(files: Record<string, string | Buffer>): string {
  const dir = tempDir("dc-up-");
  for (const [p, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    fs.writeFileSync(path.join(dir, p), content);
  }
  return dir;
}

/** The repo's files at a revision, as the hub lists them: path -> sha256. */
export async function remoteFiles(hub: TestHub, repoId: string, token: string, revision = "master"): Promise<Record<string, string>> {
  const res = await fetch(`${hub.url}/api/v1/models/${repoId}/repo/files?Revision=${revision}&Recursive=True`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, `listing ${repoId}@${revision}`);
  const files = ((await res.json()) as { Data: { Files: { Path: string; Sha256: string }[] } }).Data.Files;
  return Object.fromEntries(files.map((f) => [f.Path, f.Sha256]));
}
