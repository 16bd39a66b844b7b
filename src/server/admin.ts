// Administration of a hub without editing JSON (`serve user list|rm`, `serve access`, `serve org`):
// each change reads hub.json, checks it, and writes it back atomically (0600), under a lock so that two
// admins at once cannot lose each other's change. Running hubs see the new file on their next request.
import fs from "node:fs";
import path from "node:path";
import { UsageError } from "../errors.js";
import { lockWithin } from "../download/lock.js";
import { checkRoot } from "./check-root.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { NEW_OWNER_NAME, hubConfigPath, readHubConfig, rulesOf, type HubConfig, type HubUser } from "./hub-config.js";
import { hubStateDir } from "./shared-secret.js";
import { parseRepoId, typeFolder, type RepoType } from "./store/layout.js";

const LOCK_WAIT_MS = 10_000;

/**
 * Reads hub.json, lets `change` edit it, writes it back atomically; all under the root's hub.json lock.
 * The root must exist unless `makeRoot` (a new hub's first user): a mistyped --root is said, not made.
 */
export async function editHubConfig<T>(root: string, change: (config: HubConfig) => T, makeRoot = false): Promise<T> {
  if (!makeRoot) checkRoot(root);
  const lockFile = path.join(hubStateDir(root), "hub.json.lock");
  const lock = await lockWithin(lockFile, LOCK_WAIT_MS, 50);
  if (!lock) throw new UsageError(`${hubConfigPath(root)} is being changed by another command`, "try again in a moment", { key: "hubJsonBusy", vars: { path: hubConfigPath(root) } });
  try {
    const config = readHubConfig(root);
    const out = change(config);
    await writeFileAtomic(hubConfigPath(root), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    return out;
  } finally {
    await lock.release();
  }
}

/** The users, without their token hashes. */
export function listUsers(root: string): Omit<HubUser, "token_sha256">[] {
  checkRoot(root);
  return readHubConfig(root).users.map(({ token_sha256: _hash, ...rest }) => rest);
}

function noSuchUser(root: string, name: string): UsageError {
  return new UsageError(`No user '${name}' in ${hubConfigPath(root)}`, "see the users with `modelscope serve user list --root DIR`", { key: "noSuchUser", vars: { name, path: hubConfigPath(root) } });
}

/** Removes a user, and their name from every access list and organisation (so a later namesake inherits nothing). */
export async function removeUser(root: string, name: string): Promise<void> {
  await editHubConfig(root, (config) => {
    if (!config.users.some((u) => u.username === name)) throw noSuchUser(root, name);
    config.users = config.users.filter((u) => u.username !== name);
    for (const lists of [config.private, config.gated, config.datasets.private, config.datasets.gated, config.organizations]) {
      for (const key of Object.keys(lists)) lists[key] = lists[key]!.filter((u) => u !== name);
    }
  });
}

export type Visibility = "private" | "gated" | "public";

function checkUsers(root: string, config: HubConfig, users: string[]): void {
  for (const u of users) if (!config.users.some((x) => x.username === u)) throw noSuchUser(root, u);
}

/**
 * Makes a repo private (hidden from all but `users`), gated (downloads only for `users`) or public.
 * Without `users`, a repo that was private or gated keeps its list.
 */
export async function setAccess(root: string, type: RepoType, id: string, visibility: Visibility, users?: string[]): Promise<string[]> {
  const ref = parseRepoId(type, id);
  if (!ref || ref.id !== id) throw new UsageError(`Invalid ${type} id '${id}'`, "use owner/name, e.g. acme/llama-7b", { key: "badAccessId", vars: { id } });
  // A list would mean nothing for a public repo; taking it silently could let an admin think it limits something.
  if (visibility === "public" && users?.length) throw new UsageError("A public repo takes no --users: everyone may see and download it", "drop --users, or make it private or gated", { key: "publicWithUsers" });
  return editHubConfig(root, (config) => {
    if (users) checkUsers(root, config, users);
    const rules = rulesOf(config, type);
    const before = (Object.hasOwn(rules.private, id) ? rules.private[id] : Object.hasOwn(rules.gated, id) ? rules.gated[id] : undefined) ?? [];
    delete rules.private[id];
    delete rules.gated[id];
    const list = [...new Set(users ?? before)];
    if (visibility !== "public") rules[visibility][id] = list;
    return visibility === "public" ? [] : list;
  });
}

/** Is there a folder for this repo in the root? (A rule for a mistyped id would leave the real repo as it was.) */
export function repoInRoot(root: string, type: RepoType, id: string): boolean {
  const ref = parseRepoId(type, id);
  return !!ref && fs.existsSync(path.join(root, typeFolder(type), ref.folder));
}

/** Creates or replaces an organisation: its members may upload under `name/`. */
export async function setOrg(root: string, name: string, members: string[]): Promise<void> {
  if (!NEW_OWNER_NAME.test(name) || name.includes("--")) throw new UsageError(`Invalid organisation name '${name}'`, "use letters, digits, '.', '_' or '-' (at most 100)", { key: "badOrgName", vars: { name } });
  await editHubConfig(root, (config) => {
    checkUsers(root, config, members);
    if (config.users.some((u) => u.username === name)) throw new UsageError(`'${name}' is a user's name`, "an organisation needs a name of its own", { key: "orgIsUser", vars: { name } });
    config.organizations[name] = [...new Set(members)];
  });
}

/** The organisations and their members. */
export function listOrgs(root: string): Record<string, string[]> {
  checkRoot(root);
  return readHubConfig(root).organizations;
}

export async function removeOrg(root: string, name: string): Promise<void> {
  await editHubConfig(root, (config) => {
    if (!Object.hasOwn(config.organizations, name)) throw new UsageError(`No organisation '${name}' in ${hubConfigPath(root)}`, "see them with `modelscope serve org list --root DIR`", { key: "noSuchOrg", vars: { name, path: hubConfigPath(root) } });
    delete config.organizations[name];
  });
}
