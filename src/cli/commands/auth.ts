// `modelscope login | logout | whoami | auth status`: thin shells over HubApi.
import type { Command } from "commander";
import { activeAccount, describeTokenSource, maskToken, readAccounts, switchAccount, tokenFilePath } from "../../auth/index.js";
import { officialCookiesPath } from "../../auth/official-cookies.js";
import { AbortedError, ModelScopeError, UsageError, localWriteError } from "../../errors.js";
import { HubApi } from "../../hub/api.js";
import type { UserInfo } from "../../hub/types.js";
import { forTerminal } from "../../util/terminal-text.js";
import { VERSION } from "../../version.js";
import { explain, t } from "../messages.js";
import { action, interruptSignal, lang, note, printError, writeJson } from "../run.js";

interface HubFlags {
  endpoint?: string;
  token?: string;
}

function apiFrom(flags: HubFlags): HubApi {
  return new HubApi({ endpoint: flags.endpoint, token: flags.token });
}

/** Reads the whole of stdin (for --token-stdin). */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").trim();
}

/**
 * Asks for the token without echo. Only on a terminal; Ctrl-C, or Ctrl-D on an empty line (EOF), aborts.
 * Read byte by byte in raw mode (not with readline: its EOF leaves the prompt's promise unsettled).
 */
async function promptToken(): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw new UsageError(t(lang, "noTerminal"), t(lang, "noTerminalFix"));
  process.stderr.write("Token (input hidden): ");
  stdin.setRawMode(true);
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let typed = "";
      const finish = (settle: () => void) => {
        stdin.off("data", onData);
        stdin.off("end", onEnd);
        settle();
      };
      const onEnd = () => finish(() => reject(new AbortedError()));
      const onData = (chunk: Buffer) => {
        for (const ch of chunk.toString("utf8")) {
          if (ch === "\r" || ch === "\n") return finish(() => resolve(typed.trim()));
          if (ch === "\u0003" || (ch === "\u0004" && typed === "")) return onEnd();
          if (ch === "\u007f" || ch === "\b") typed = typed.slice(0, -1);
          else if (ch >= " ") typed += ch;
        }
      };
      stdin.on("data", onData);
      stdin.once("end", onEnd);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write("\n");
  }
}

/** One line on stderr when the saved token was checked against another hub than the one in use. */
export function warnIfTokenForOtherHub(api: HubApi): void {
  const saved = api.tokenSavedForOtherEndpoint();
  if (saved) process.stderr.write(`${t(lang, "tokenOtherEndpoint", { saved, endpoint: api.endpoint })}\n`);
}

function userName(u: UserInfo): string {
  return u.username ?? u.email ?? String(u.id ?? "unknown");
}

export function registerAuthCommands(program: Command): void {
  program
    .command("login")
    .description("sign in: check a token with the hub, save it as an account and make it the active one (~/.modelscope/token and the official client's login)")
    .option("--token <token>", "the token (shows in shell history: prefer --token-stdin)")
    .option("--token-stdin", "read the token from standard input")
    .option("--name <name>", "save it under this account name (default: the username)")
    .option("--endpoint <url>", "hub URL (default: MODELSCOPE_ENDPOINT or https://modelscope.cn)")
    .action(
      action(async (flags: { token?: string; tokenStdin?: boolean; endpoint?: string; name?: string }) => {
        if (flags.token !== undefined && flags.tokenStdin) throw new UsageError("Use either --token or --token-stdin, not both", undefined, { key: "tokenFlagsBoth" });
        let token: string;
        if (flags.token !== undefined) {
          if (flags.token.trim()) note(t(lang, "tokenFlagHint"));
          token = flags.token;
        } else if (flags.tokenStdin) {
          token = await readStdin();
        } else {
          try {
            token = await promptToken();
          } catch (err) {
            if (err instanceof AbortedError) {
              process.stderr.write(`${lang === "zh" ? "错误：" : "Error: "}${t(lang, "loginAborted")}\n`);
              return 130;
            }
            throw err;
          }
        }
        const api = new HubApi({ endpoint: flags.endpoint });
        const before = readAccounts(api.home);
        // A failed write here is the token file's (a full disk names no path of its own).
        const { user, saved } = await api.loginAccount(token, { signal: interruptSignal(), name: flags.name }).catch((err: unknown) => {
          throw localWriteError(err, tokenFilePath(api.home)) ?? err;
        });
        process.stdout.write(`${t(lang, "loggedInAs", { user: userName(user) })}\n`);
        note(t(lang, "tokenSavedTo", { path: tokenFilePath(api.home) }));
        note(t(lang, "accountSaved", { name: saved.name }));
        if (saved.keptEarlier) note(t(lang, "accountKeptEarlier", { name: saved.keptEarlier }));
        if (saved.replaced) note(t(lang, "accountReplaced", { name: saved.name, endpoint: saved.replaced.endpoint ?? "?" }));
        // The login this one takes over from, when it was for another hub: still saved, and how to get back.
        const previous = before.active !== undefined && before.active !== saved.name ? before.accounts[before.active] : undefined;
        if (previous?.endpoint && previous.endpoint !== api.endpoint) {
          note(t(lang, "accountKeptOther", { other: before.active!, endpoint: previous.endpoint }));
        }
        const envToken = process.env.MODELSCOPE_API_TOKEN?.trim();
        if (envToken && envToken !== token.trim()) note(t(lang, "envOverridesSaved"));
      }),
    );

  program
    .command("logout")
    .description("sign out: remove every saved account (or only --name NAME), ~/.modelscope/token and the official client's login")
    .option("--name <name>", "only this saved account")
    .action(
      action(async (flags: { name?: string }) => {
        const api = new HubApi();
        const result = await api.logout({ name: flags.name });
        if (result.removed) process.stdout.write(`${t(lang, "loggedOut", { path: result.files.join(", ") })}\n`);
        else if (result.accounts.length > 0) process.stdout.write(`${t(lang, "accountsLoggedOut", { names: result.accounts.join(", ") })}\n`);
        else process.stdout.write(`${t(lang, "notLoggedInNothingToDo")}\n`);
        if (result.envTokenStillSet) note(t(lang, "envStillSignsIn"));
        if (result.officialCookieStillValid) note(t(lang, "officialStillSignsIn", { path: officialCookiesPath(api.home) }));
      }),
    );

  program
    .command("whoami")
    .description("show who the current token belongs to")
    .option("--token <token>", "check this token instead of the saved one")
    .option("--endpoint <url>", "hub URL")
    .option("--json", "machine-readable output")
    .action(
      action(async (flags: HubFlags & { json?: boolean }) => {
        const api = apiFrom(flags);
        warnIfTokenForOtherHub(api);
        const user = await api.whoami({ signal: interruptSignal() });
        const info = api.tokenInfo()!;
        if (flags.json) {
          const tokenFrom = describeTokenSource(info.source, api.home);
          const who = { username: user.username ?? null, email: user.email ?? null, id: user.id ?? null, description: user.description ?? null };
          return writeJson({ ...who, token: maskToken(info.token), tokenSource: info.source, tokenFrom, endpoint: api.endpoint });
        }
        const rows: [string, string][] = [
          ["username", user.username ?? "-"],
          ["email", user.email ?? "-"],
          ["id", user.id === undefined || user.id === null ? "-" : String(user.id)],
          ["token", `${maskToken(info.token)} (from ${describeTokenSource(info.source, api.home)})`],
          ["endpoint", api.endpoint],
        ];
        if (user.description) rows.splice(3, 0, ["description", user.description]);
        for (const [k, v] of rows) process.stdout.write(`${k.padEnd(11)}: ${forTerminal(v)}\n`);
      }),
    );

  const auth = program.command("auth").description("sign-in state");
  auth
    .command("status")
    .description("are you signed in, with which token, and does the hub accept it (exit 0 if signed in)")
    .option("--json", "machine-readable output")
    .option("--offline", "do not ask the hub; only say whether a token is present")
    .option("--token <token>", "check this token instead of the saved one")
    .option("--endpoint <url>", "hub URL")
    .action(action((flags: HubFlags & { json?: boolean; offline?: boolean }) => authStatus(flags)));

  auth
    .command("list")
    .description("saved accounts: name, user, hub, masked token; * marks the active one")
    .option("--json", "machine-readable output")
    .action(
      action(async (flags: { json?: boolean }) => {
        const api = new HubApi();
        const store = readAccounts(api.home);
        // Active: the account whose token is ~/.modelscope/token (what commands use unless --token or the env var).
        const active = activeAccount(api.home)?.name;
        const rows = Object.entries(store.accounts).map(([name, a]) => ({
          name,
          username: a.username ?? null,
          endpoint: a.endpoint ?? null,
          token: maskToken(a.token),
          active: name === active,
        }));
        if (flags.json) return writeJson({ accounts: rows });
        if (rows.length === 0) {
          process.stdout.write(`${t(lang, "accountsNone")}\n`);
          return;
        }
        const w = Math.max(4, ...rows.map((r) => r.name.length));
        const u = Math.max(4, ...rows.map((r) => (r.username ?? "-").length));
        process.stdout.write(`  ${"NAME".padEnd(w)}  ${"USER".padEnd(u)}  ${"TOKEN".padEnd(10)}  ENDPOINT\n`);
        for (const r of rows) process.stdout.write(`${r.active ? "*" : " "} ${r.name.padEnd(w)}  ${(r.username ?? "-").padEnd(u)}  ${r.token.padEnd(10)}  ${r.endpoint ?? "-"}\n`);
      }),
    );

  auth
    .command("switch <name>")
    .description("make a saved account the active one (~/.modelscope/token and the official client's login)")
    .action(
      action(async (name: string) => {
        const api = new HubApi();
        const account = await switchAccount(api.home, name);
        process.stdout.write(`${t(lang, "accountSwitched", { name, user: account.username ?? "-", endpoint: account.endpoint ?? "-" })}\n`);
        warnIfTokenForOtherHub(api);
        if (process.env.MODELSCOPE_API_TOKEN?.trim()) process.stderr.write(`${t(lang, "envOverridesSaved")}\n`);
      }),
    );
}

/** The sign-in check as a command (`modelscope auth status`). Also `deepcompressor check-auth`. */
export async function authStatus(flags: HubFlags & { json?: boolean; offline?: boolean }): Promise<number> {
  const api = apiFrom(flags);
  if (!flags.json) warnIfTokenForOtherHub(api);
  const info = api.tokenInfo();
  let user: UserInfo | undefined;
  let problem: unknown;
  if (info && !flags.offline) {
    try {
      user = await api.whoami({ signal: interruptSignal() });
    } catch (err) {
      problem = err;
    }
  }
  const signedIn = !!info && (flags.offline || !!user);
  const explained = problem ? explain(problem, lang, { endpoint: api.endpoint }) : undefined;
  if (flags.json) {
    writeJson({
      version: VERSION,
      endpoint: api.endpoint,
      endpointSource: api.endpointChoice.source,
      signedIn,
      tokenSource: info?.source ?? null,
      token: info ? maskToken(info.token) : null,
      hubAccepted: flags.offline || !info ? null : !!user,
      user: user ? { username: user.username ?? null, email: user.email ?? null, id: user.id ?? null } : null,
      error: explained ? { type: (problem as Error).name, message: explained.line, fix: explained.fix } : null,
    });
    return signedIn ? 0 : 1;
  }
  const out = (k: string, v: string) => process.stdout.write(`${k.padEnd(9)}: ${v}\n`);
  out("version", `deepcompressor ${VERSION}`);
  out("endpoint", `${api.endpoint} (${api.endpointChoice.source})`);
  if (!info) {
    process.stdout.write(`${t(lang, "statusNotLoggedIn")}\n${t(lang, "statusRunLogin")}\n`);
    return 1;
  }
  out("token", `${maskToken(info.token)} (from ${describeTokenSource(info.source, api.home)})`);
  if (flags.offline) {
    process.stdout.write(`${t(lang, "statusTokenPresent")}\n`);
    return 0;
  }
  if (user) {
    process.stdout.write(`${t(lang, "statusLoggedIn", { user: userName(user) })}\n`);
    return 0;
  }
  const rejected = problem instanceof ModelScopeError && problem.name === "InvalidTokenError";
  process.stdout.write(`${t(lang, rejected ? "statusRejected" : "statusUnreachable")}\n`);
  printError(problem, { endpoint: api.endpoint });
  return 1;
}
