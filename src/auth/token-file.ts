// The saved token: <home>/token, one line, file 0600 in a 0700 folder, replaced atomically.
import { promises as fs } from "node:fs";
import path from "node:path";
import { readFileIfExists, writeFileAtomic } from "../util/atomic-write.js";

export function tokenFilePath(home: string): string {
  return path.join(home, "token");
}

export function readTokenFile(home: string): string | undefined {
  const text = readFileIfExists(tokenFilePath(home));
  const token = text?.split(/\r?\n/, 1)[0]?.trim();
  return token ? token : undefined;
}

export async function writeTokenFile(home: string, token: string): Promise<void> {
  await writeFileAtomic(tokenFilePath(home), `${token}\n`, { mode: 0o600, dirMode: 0o700 });
}

/** Returns whether a token file was there to remove. */
export async function deleteTokenFile(home: string): Promise<boolean> {
  try {
    await fs.unlink(tokenFilePath(home));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}
