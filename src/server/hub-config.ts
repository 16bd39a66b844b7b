// hub.json: the hub's users and who may see what. Read strictly: an unknown key (a typo such as "privat"
// would otherwise make a private model public), a wrong type, a repo id in a non-canonical spelling or an
// unreadable file is refused with one line naming the problem, and never with the file's content.
//
//   { "users":    [ { "username", "email"?, "id"?, "token_sha256", "description"? } ],
//     "private":  { "<owner>/<name>": ["<username>", ...] },      models: hidden (404) from everyone else
//     "gated":    { "<owner>/<name>": ["<username>", ...] },      models: visible, downloads only for these
//     "datasets": { "private": { ... }, "gated": { ... } },       the same two rules for datasets
//     "organizations": { "<org>": ["<username>", ...] } }          who may create and write the org's repos
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { UsageError } from "../errors.js";
import { jsonErrorOffset } from "../util/json-error-offset.js";
import { parseRepoId, type RepoType } from "./store/layout.js";

const NAME = /^[A-Za-z0-9][\w.-]*$/;
/**
 * A new user's or organisation's name (admin commands): as NAME, and at most 100 characters, since it is
 * also the owner folder of their repos (`<owner>--<name>`, within a file name's 255).
 */
export const NEW_OWNER_NAME = /^[A-Za-z0-9][\w.-]{0,99}$/;

const UserSchema = z.strictObject({
  username: z.string().regex(NAME, "letters, digits, '.', '_' or '-'"),
  email: z.string().optional(),
  id: z.union([z.number(), z.string()]).optional(),
  token_sha256: z.string().regex(/^[0-9a-f]{64}$/, "64 lowercase hex characters"),
  description: z.string().optional(),
});

/** repo id -> usernames; the ids of one repo type, each in its canonical spelling. */
const members = (type: RepoType) =>
  z.record(
    z.string().refine((id) => parseRepoId(type, id)?.id === id, { message: `not a ${type} id in its one spelling (owner/name, the owner without '--')` }),
    z.array(z.string().regex(NAME, "a username: letters, digits, '.', '_' or '-'")),
  );

const RulesSchema = (type: RepoType) =>
  z.strictObject({
    /** id -> usernames who can see it; everyone else gets 404, as on the real hub. */
    private: members(type).default({}),
    /** id -> usernames who can download it; visible to all, 403 (401 signed out) for the rest. */
    gated: members(type).default({}),
  });

const HubConfigSchema = z
  .strictObject({
    users: z.array(UserSchema).default([]),
    private: members("model").default({}),
    gated: members("model").default({}),
    datasets: RulesSchema("dataset").default({ private: {}, gated: {} }),
    organizations: z.record(z.string().regex(NAME, "an organisation name: letters, digits, '.', '_' or '-'"), z.array(z.string().regex(NAME, "a username: letters, digits, '.', '_' or '-'"))).default({}),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    for (const [i, u] of c.users.entries()) {
      if (seen.has(u.username)) ctx.addIssue({ code: "custom", path: ["users", i, "username"], message: `'${u.username}' is listed twice` });
      seen.add(u.username);
    }
  });

export type HubUser = z.infer<typeof UserSchema>;
export type HubConfig = z.infer<typeof HubConfigSchema>;
export interface RepoRules {
  private: Record<string, string[]>;
  gated: Record<string, string[]>;
}

export function emptyHubConfig(): HubConfig {
  return HubConfigSchema.parse({});
}

export function hubConfigPath(root: string): string {
  return path.join(root, "hub.json");
}

/** The private/gated rules of one repo type. */
export function rulesOf(config: HubConfig, type: RepoType): RepoRules {
  return type === "model" ? config : config.datasets;
}

/** Where a JSON syntax error is, as line and column, without quoting the file (V8's messages can include its text). */
function jsonErrorPlace(text: string, err: Error): string {
  const found = jsonErrorOffset(text);
  const at = found >= 0 ? found : Number(/position (\d+)/.exec(err.message)?.[1] ?? -1);
  if (at < 0) return "somewhere in the file";
  const before = text.slice(0, at);
  return `line ${before.split("\n").length}, column ${before.length - before.lastIndexOf("\n")}`;
}

/** Parses hub.json's text; throws a UsageError naming the problem (never quoting the file). */
export function parseHubConfig(text: string, file: string): HubConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const detail = jsonErrorPlace(text, err as Error);
    throw new UsageError(`${file} is not valid JSON (${detail})`, "fix the file, or remove it to serve every model publicly", { key: "hubJsonInvalid", vars: { path: file, detail } });
  }
  const parsed = HubConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.map(String).join(".") || "(top)";
    // A bad record key's own problem is one level down.
    const detail = (issue.code === "invalid_key" && issue.issues[0]?.message) || issue.message;
    throw new UsageError(`${file}: ${where}: ${detail}`, "fix the file; see README 'The local hub' for its shape", { key: "hubJsonShape", vars: { path: file, where, detail } });
  }
  return parsed.data;
}

/** Reads hub.json; a missing file means every repo is public and no user exists. Unreadable or broken: throws. */
export function readHubConfig(root: string): HubConfig {
  const file = hubConfigPath(root);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "error";
    if (code === "ENOENT") return emptyHubConfig();
    throw new UsageError(`Cannot read ${file} (${code})`, "make it a readable file for the user running the hub, or remove it to serve every model publicly", { key: "hubJsonUnreadable", vars: { path: file, code } });
  }
  return parseHubConfig(text, file);
}
