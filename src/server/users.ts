// `serve user add`: a new user in hub.json (written through admin.ts, under its lock). Tokens are stored only as sha256; a new token is shown once.
import { randomUUID } from "node:crypto";
import { UsageError } from "../errors.js";
import { hasControlChars } from "../util/terminal-text.js";
import { editHubConfig } from "./admin.js";
import { sha256Hex } from "./config-watch.js";
import { NEW_OWNER_NAME, hubConfigPath, type HubUser } from "./hub-config.js";

export { sha256Hex } from "./config-watch.js";
export { readHubConfig, type HubConfig, type HubUser } from "./hub-config.js";

/** Adds a user to hub.json (created 0600 if missing) and returns the new token: the only time it is shown. */
export async function addUser(root: string, username: string, email?: string): Promise<{ user: HubUser; token: string }> {
  if (!NEW_OWNER_NAME.test(username)) {
    throw new UsageError(`Invalid user name '${username}'`, "use letters, digits, '.', '_' or '-' (at most 100)", { key: "badUserName", vars: { name: username } });
  }
  // `serve user list` prints it and whoami hands it out: one printable line.
  if (email !== undefined && (!email || hasControlChars(email) || email.length > 254)) {
    throw new UsageError("Invalid --email: empty, with control characters, or over 254 characters", "give a plain address, e.g. alice@lab.example", { key: "badUserEmail" });
  }
  const token = `ms-${randomUUID()}`;
  const user = await editHubConfig(root, (config) => {
    if (config.users.some((u) => u.username === username)) {
      throw new UsageError(`User '${username}' already exists in ${hubConfigPath(root)}`, `pick another name, or remove the user first: \`modelscope serve user rm ${username} --root DIR\``, { key: "userExists", vars: { name: username, path: hubConfigPath(root) } });
    }
    const nextId = config.users.reduce((max, u) => (typeof u.id === "number" && u.id > max ? u.id : max), 0) + 1;
    const added: HubUser = { username, email: email ?? `${username}@example.com`, id: nextId, token_sha256: sha256Hex(token) };
    config.users.push(added);
    return added;
  }, true);
  return { user, token };
}
