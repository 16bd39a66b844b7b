// The saved token: <home>/token, one line, file 0600 in a 0700 folder, replaced atomically.
// Read only when it is a regular file of a sane size (a pipe must not hang a command, /dev/zero must not
// exhaust memory). A write goes through a temp file `.token.<pid>.<random>.tmp`; one left by a killed
// login still holds a token, so each read, write and delete first removes those of processes gone.
import fsSync from "node:fs";
import path from "node:path";
import { removeFileIfExists, writeFileAtomic } from "../util/atomic-write.js";
import { pidAlive } from "../util/pid-alive.js";
import { readSmallFileSync } from "../util/safe-open.js";
import { warnOnce } from "../util/warn.js";

/** A token is ~40 characters; anything much bigger is not a token file. */
const MAX_TOKEN_FILE_BYTES = 16 * 1024;
/** A live writer's temp file exists for milliseconds; one older than this is a leftover whatever its pid. */
const TEMP_MAX_AGE_MS = 60_000;
const TEMP_NAME = /^\.token\.(\d+)\.[0-9a-f]+\.tmp$/;

export function tokenFilePath(home: string): string {
  return path.join(home, "token");
}

/** Removes `.token.*.tmp` files that a killed login left in `home` (never one a live login is writing). */
export function removeLeftoverTokenTemps(home: string): void {
  let names: string[];
  try {
    names = fsSync.readdirSync(home);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = TEMP_NAME.exec(name)?.[1];
    if (pid === undefined) continue;
    const file = path.join(home, name);
    const st = fsSync.lstatSync(file, { throwIfNoEntry: false });
    if (!st) continue;
    if (Number(pid) !== process.pid && pidAlive(Number(pid)) && Date.now() - st.mtimeMs < TEMP_MAX_AGE_MS) continue;
    fsSync.rmSync(file, { force: true });
  }
}

export function readTokenFile(home: string): string | undefined {
  removeLeftoverTokenTemps(home);
  const file = tokenFilePath(home);
  const read = readSmallFileSync(file, MAX_TOKEN_FILE_BYTES);
  if (!read) return undefined;
  if ("problem" in read) {
    warnOnce("token-file", {
      en: `ignoring the saved token ${file}: ${read.problem} (run \`modelscope login\` to save a new one)`,
      zh: `忽略已保存的 token ${file}：${read.problem}（请运行 \`modelscope login\` 重新保存）`,
    });
    return undefined;
  }
  const token = read.data.toString("utf8").split(/\r?\n/, 1)[0]?.trim();
  return token ? token : undefined;
}

export async function writeTokenFile(home: string, token: string): Promise<void> {
  removeLeftoverTokenTemps(home);
  await writeFileAtomic(tokenFilePath(home), `${token}\n`, { mode: 0o600, dirMode: 0o700 });
}

/** Returns whether a token file was there to remove. */
export async function deleteTokenFile(home: string): Promise<boolean> {
  removeLeftoverTokenTemps(home);
  return removeFileIfExists(tokenFilePath(home));
}
