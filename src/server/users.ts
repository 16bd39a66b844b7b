// hub.json: who may see what. Tokens are stored only as sha256; a new user's token is shown once.
import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { UsageError } from "../errors.js";
import { writeFileAtomic } from "../util/atomic-write.js";

const UserSchema = z.object({
  username: z.string().regex(/^[A-Za-z0-9][\w.-]*$/, "letters, digits, '.', '_' or '-'"),
  email: z.string().optional(),
  id: z.union([z.number(), z.string()]).optional(),
  token_sha256: z.string().regex(/^[0-9a-f]{64}$/, "64 lowercase hex characters"),
  description: z.string().optional(),
});

const HubConfigSchema = z.object({
  users: z.array(UserSchema).default([]),
  /** model id -> usernames who can see it; everyone else gets 404, as on the real hub. */
  private: z.record(z.string(), z.array(z.string())).default({}),
  /** model id -> usernames who can download it; visible to all, 403 (401 signed out) for the rest. */
  gated: z.record(z.string(), z.array(z.string())).default({}),
  /** organisation -> usernames who may create and write its repos. */
  organizations: z.record(z.string(), z.array(z.string())).default({}),
});

export type HubUser = z.infer<typeof UserSchema>;
export type HubConfig = z.infer<typeof HubConfigSchema>;

export function hubConfigPath(root: string): string {
  return path.join(root, "hub.json");
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Reads hub.json; a missing file means every model is public and no user exists. */
export function readHubConfig(root: string): HubConfig {
  let text: string;
  try {
    text = fs.readFileSync(hubConfigPath(root), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return HubConfigSchema.parse({});
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const detail = (err as Error).message;
    throw new UsageError(`${hubConfigPath(root)} is not valid JSON: ${detail}`, "fix the file, or remove it to serve every model publicly", { key: "hubJsonInvalid", vars: { path: hubConfigPath(root), detail } });
  }
  const parsed = HubConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.join(".") || "(top)";
    throw new UsageError(`${hubConfigPath(root)}: ${where}: ${issue.message}`, "fix the file; see README 'Local hub' for its shape", { key: "hubJsonShape", vars: { path: hubConfigPath(root), where, detail: issue.message } });
  }
  return parsed.data;
}

/** Caches hub.json by mtime, so edits (e.g. `serve user add`) take effect without a restart. */
export class HubConfigCache {
  private mtimeMs = -1;
  private config: HubConfig = HubConfigSchema.parse({});
  constructor(private readonly root: string) {}

  get(): HubConfig {
    let mtimeMs = 0;
    try {
      mtimeMs = fs.statSync(hubConfigPath(this.root)).mtimeMs;
    } catch {
      mtimeMs = 0;
    }
    if (mtimeMs !== this.mtimeMs) {
      this.config = readHubConfig(this.root);
      this.mtimeMs = mtimeMs;
    }
    return this.config;
  }

  userForToken(token: string | undefined): HubUser | undefined {
    if (!token) return undefined;
    const digest = sha256Hex(token);
    return this.get().users.find((u) => u.token_sha256 === digest);
  }
}

/** Adds a user to hub.json (created 0600 if missing) and returns the new token: the only time it is shown. */
export async function addUser(root: string, username: string, email?: string): Promise<{ user: HubUser; token: string }> {
  const config = readHubConfig(root);
  if (!UserSchema.shape.username.safeParse(username).success) {
    throw new UsageError(`Invalid user name '${username}'`, "use letters, digits, '.', '_' or '-'", { key: "badUserName", vars: { name: username } });
  }
  if (config.users.some((u) => u.username === username)) {
    throw new UsageError(`User '${username}' already exists in ${hubConfigPath(root)}`, "pick another name, or remove the user from hub.json first", { key: "userExists", vars: { name: username, path: hubConfigPath(root) } });
  }
  const token = `ms-${randomUUID()}`;
  const nextId = config.users.reduce((max, u) => (typeof u.id === "number" && u.id > max ? u.id : max), 0) + 1;
  const user: HubUser = { username, email: email ?? `${username}@example.com`, id: nextId, token_sha256: sha256Hex(token) };
  config.users.push(user);
  await writeFileAtomic(hubConfigPath(root), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return { user, token };
}
