// Several saved logins, as `hf auth` keeps them: <home>/accounts.json (0600 in 0700, replaced atomically)
// maps a name to a token, the user it belongs to and the hub it was checked against. The active one is
// also <home>/token (what every command reads, as the guide says) and the official client's cookie jar.
import { readFileIfExists, writeFileAtomic } from "../util/atomic-write.js";
import path from "node:path";
import { UsageError } from "../errors.js";
import { deleteOfficialLogin, writeOfficialLogin } from "./official-login.js";
import { officialCookiesPath } from "./official-cookies.js";
import { deleteTokenFile, readTokenFile, tokenFilePath, writeTokenFile } from "./token-file.js";

export interface Account {
  token: string;
  username?: string | undefined;
  /** The hub the token was checked against at login (undefined: saved before accounts existed). */
  endpoint?: string | undefined;
  savedAt: string;
}

export interface AccountStore {
  active?: string | undefined;
  accounts: Record<string, Account>;
}

/** The name an earlier login (a bare <home>/token, from before accounts) is kept under. */
export const EARLIER_LOGIN_NAME = "default";

export function accountsPath(home: string): string {
  return path.join(home, "accounts.json");
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@:-]{0,99}$/;

export function assertAccountName(name: string): void {
  if (!NAME.test(name)) {
    const shown = JSON.stringify(name).slice(1, -1).slice(0, 100);
    throw new UsageError(`Invalid account name '${shown}'`, "use letters, digits, '.', '_', '-', '@' or ':' (up to 100)", { key: "badAccountName", vars: { name: shown } });
  }
}

/** The saved accounts. A missing or unreadable file is an empty store (a broken file never blocks a command). */
export function readAccounts(home: string): AccountStore {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileIfExists(accountsPath(home)) ?? "{}");
  } catch {
    return { accounts: {} };
  }
  const store: AccountStore = { accounts: {} };
  const obj = raw as { active?: unknown; accounts?: unknown };
  if (obj?.accounts && typeof obj.accounts === "object") {
    for (const [name, a] of Object.entries(obj.accounts as Record<string, Partial<Account>>)) {
      if (!NAME.test(name) || typeof a?.token !== "string" || !a.token) continue;
      store.accounts[name] = {
        token: a.token,
        username: typeof a.username === "string" ? a.username : undefined,
        endpoint: typeof a.endpoint === "string" ? a.endpoint : undefined,
        savedAt: typeof a.savedAt === "string" ? a.savedAt : "",
      };
    }
  }
  if (typeof obj?.active === "string" && obj.active in store.accounts) store.active = obj.active;
  return store;
}

async function writeAccounts(home: string, store: AccountStore): Promise<void> {
  await writeFileAtomic(accountsPath(home), `${JSON.stringify(store, null, 2)}\n`, { mode: 0o600, dirMode: 0o700 });
}

/** The same hub? (origin, with `www.` ignored: modelscope.cn and www.modelscope.cn are one.) */
export function sameEndpoint(a: string, b: string): boolean {
  const norm = (u: string) => {
    try {
      const url = new URL(u);
      return `${url.protocol}//${url.host.replace(/^www\./, "")}`;
    } catch {
      return u;
    }
  };
  return norm(a) === norm(b);
}

/** The account the active token belongs to, if it is a saved one. */
export function activeAccount(home: string, token: string | undefined = readTokenFile(home)): { name: string; account: Account } | undefined {
  if (!token) return undefined;
  const store = readAccounts(home);
  const name = store.active && store.accounts[store.active]?.token === token ? store.active : Object.keys(store.accounts).find((n) => store.accounts[n]!.token === token);
  return name ? { name, account: store.accounts[name]! } : undefined;
}

export interface SaveResult {
  /** The name it was saved under. */
  name: string;
  /** An account of that name for another hub was replaced (only when the name was given). */
  replaced?: Account | undefined;
  /** An earlier login, not yet an account, kept under this name. */
  keptEarlier?: string | undefined;
}

/**
 * Saves a checked token as an account and makes it the active one (<home>/token and the official jar).
 * Without an explicit name it is the username; if that name holds a login for another hub, the new one
 * is `username@host` instead, so a local hub's login never replaces a modelscope.cn one.
 */
export async function saveAccount(home: string, opts: { token: string; username?: string | undefined; endpoint: string; name?: string | undefined }): Promise<SaveResult> {
  const store = readAccounts(home);
  const result: SaveResult = { name: "" };
  // An earlier bare <home>/token that is not an account yet: keep it, do not overwrite it.
  const earlier = readTokenFile(home);
  if (earlier && earlier !== opts.token && !Object.values(store.accounts).some((a) => a.token === earlier)) {
    let n = EARLIER_LOGIN_NAME;
    for (let i = 2; n in store.accounts; i++) n = `${EARLIER_LOGIN_NAME}-${i}`;
    store.accounts[n] = { token: earlier, savedAt: new Date().toISOString() };
    result.keptEarlier = n;
  }
  let name = opts.name;
  if (name !== undefined) {
    assertAccountName(name);
    const old = store.accounts[name];
    if (old && old.endpoint && !sameEndpoint(old.endpoint, opts.endpoint)) result.replaced = old;
  } else {
    name = opts.username && NAME.test(opts.username) ? opts.username : "default";
    const old = store.accounts[name];
    if (old && old.token !== opts.token && (!old.endpoint || !sameEndpoint(old.endpoint, opts.endpoint))) {
      name = `${name}@${new URL(opts.endpoint).host}`;
    }
  }
  store.accounts[name] = { token: opts.token, username: opts.username, endpoint: opts.endpoint, savedAt: new Date().toISOString() };
  store.active = name;
  await writeAccounts(home, store);
  await activate(home, store.accounts[name]!);
  result.name = name;
  return result;
}

async function activate(home: string, account: Account): Promise<void> {
  await writeTokenFile(home, account.token);
  await writeOfficialLogin(home, account.token, account.endpoint ?? "https://modelscope.cn");
}

function noSuchAccount(store: AccountStore, name: string): UsageError {
  const known = Object.keys(store.accounts);
  const shown = JSON.stringify(name).slice(1, -1).slice(0, 100);
  return new UsageError(`No saved account '${shown}'`, known.length ? `saved: ${known.join(", ")} (see \`modelscope auth list\`)` : "log in first: `modelscope login --name NAME`", {
    key: known.length ? "noSuchAccount" : "noAccounts",
    vars: { name: shown, known: known.join(", ") },
  });
}

/** Makes a saved account the active one. */
export async function switchAccount(home: string, name: string): Promise<Account> {
  const store = readAccounts(home);
  const account = store.accounts[name];
  if (!account) throw noSuchAccount(store, name);
  store.active = name;
  await writeAccounts(home, store);
  await activate(home, account);
  return account;
}

export interface RemoveResult {
  /** Names removed from the saved accounts. */
  removed: string[];
  /** The active login files removed (<home>/token, the official jar). */
  files: string[];
}

/**
 * Logs out. With a name: that account (and, if it is the active one, the active login). Without: every
 * saved account and the active login, as `hf auth logout` does.
 */
export async function removeAccounts(home: string, name?: string): Promise<RemoveResult> {
  const store = readAccounts(home);
  const activeToken = readTokenFile(home);
  let removed: string[];
  if (name !== undefined) {
    const account = store.accounts[name];
    if (!account) throw noSuchAccount(store, name);
    removed = [name];
    delete store.accounts[name];
    if (store.active === name) store.active = undefined;
    await writeAccounts(home, store);
    if (account.token !== activeToken) return { removed, files: [] };
  } else {
    removed = Object.keys(store.accounts);
    await writeAccounts(home, { accounts: {} });
  }
  const files: string[] = [];
  if (await deleteTokenFile(home)) files.push(tokenFilePath(home));
  if (await deleteOfficialLogin(home)) files.push(officialCookiesPath(home));
  return { removed, files };
}
