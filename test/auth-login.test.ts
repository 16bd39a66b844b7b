// Sign-in as a user runs it: real `modelscope` processes against a real local hub, a temp HOME each.
// login (--token, --token-stdin, the hidden prompt through a real pseudo-terminal), logout, whoami,
// auth status, the token and endpoint orders, MODELSCOPE_HOME, file modes, and the Chinese messages.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { runInTerminal } from "./helpers/pty.js";
import { MODELSCOPE_BIN, cleanEnv, modelscope, secrets, startTestHub, tempDir, type CliResult, type TestHub } from "./helpers/hub.js";

const PROMPT = "Token (input hidden): ";

let hub: TestHub;
let alice: string;
let bob: string;
let carol: string;
/** A token the hub has never issued (and a secret all the same: it must never be printed). */
const BOGUS = "ms-00000000-dead-beef-0000-bogusbogus00";
secrets.add(BOGUS);

before(async () => {
  hub = await startTestHub({ models: { "acme/public": { "a.txt": "hello" } }, users: ["alice", "bob", "carol"] });
  ({ alice, bob, carol } = hub.tokens as { alice: string; bob: string; carol: string });
});
after(() => hub.close());

/** Fails if the output shows more of any token than its first 4 and last 4 characters. */
function assertMasked(text: string): void {
  for (const s of secrets) {
    for (let i = 0; i + 5 <= s.length; i++) {
      const window = s.slice(i, i + 5);
      assert.ok(!text.includes(window), `output shows more than 4 characters in a row of a token (${JSON.stringify(window)})`);
    }
  }
}

/** Runs the CLI in a temp HOME signed in to the test hub (env overridable) and checks masking. */
async function ms(home: string, args: string[], opts: { env?: Record<string, string | undefined>; input?: string } = {}): Promise<CliResult> {
  const r = await modelscope(args, { env: cleanEnv(home, { MODELSCOPE_ENDPOINT: hub.url, ...opts.env }), input: opts.input });
  assertMasked(r.stdout + r.stderr);
  return r;
}

function tokenFile(home: string): string {
  return path.join(home, ".modelscope", "token");
}

function mode(p: string): number {
  return fs.statSync(p).mode & 0o777;
}

/**
 * Runs `modelscope ARGS` in a real pseudo-terminal, typing `keys` once the prompt shows; returns the screen.
 * Asynchronous: the hub answering the CLI lives in this process, so the event loop must keep running.
 */
async function inTerminal(home: string, args: string[], keys: string, env: Record<string, string> = {}): Promise<{ code: number; screen: string }> {
  const out = await runInTerminal([process.execPath, MODELSCOPE_BIN, ...args], [[PROMPT, keys]], cleanEnv(home, { MODELSCOPE_ENDPOINT: hub.url, TERM: "xterm", ...env }));
  assertMasked(out.screen);
  return out;
}

/** The saved login and nothing else (no temp file left by an atomic replace): ours, the accounts, the official jar. */
function assertOnlyLoginFiles(home: string): void {
  const dir = path.dirname(tokenFile(home));
  assert.deepEqual(fs.readdirSync(dir).sort(), ["accounts.json", "credentials", "token"]);
  assert.deepEqual(fs.readdirSync(path.join(dir, "credentials")), ["cookies"]);
  for (const f of ["accounts.json", "token", "credentials/cookies"]) assert.equal(mode(path.join(dir, f)), 0o600, f);
  assert.equal(mode(path.join(dir, "credentials")), 0o700);
}

describe("modelscope login", () => {
  test("--token checks the token, saves it 0600 in a 0700 folder, says who you are, and warns once about shell history", async () => {
    const home = tempDir();
    const r = await ms(home, ["login", "--token", alice]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "Logged in as alice.\n");
    assert.equal(r.stderr.match(/shell history/g)?.length, 1, r.stderr);
    assert.match(r.stderr, /--token-stdin/);
    assert.equal(fs.readFileSync(tokenFile(home), "utf8"), `${alice}\n`);
    assert.equal(mode(tokenFile(home)), 0o600);
    assert.equal(mode(path.dirname(tokenFile(home))), 0o700);
    // Replaced atomically: no temp file is left beside it.
    assertOnlyLoginFiles(home);
  });

  test("--token-stdin reads the token from a pipe, with no shell-history note", async () => {
    const home = tempDir();
    const r = await ms(home, ["login", "--token-stdin"], { input: `${bob}\n` });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "Logged in as bob.\n");
    assert.doesNotMatch(r.stderr, /shell history/);
    assert.equal(fs.readFileSync(tokenFile(home), "utf8").trim(), bob);
  });

  test("logging in again replaces the token atomically (no temp files) and keeps the modes", async () => {
    const home = tempDir();
    assert.equal((await ms(home, ["login", "--token-stdin"], { input: alice })).code, 0);
    fs.chmodSync(tokenFile(home), 0o644);
    fs.chmodSync(path.dirname(tokenFile(home)), 0o755);
    const r = await ms(home, ["login", "--token-stdin"], { input: bob });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(tokenFile(home), "utf8"), `${bob}\n`);
    assert.equal(mode(tokenFile(home)), 0o600);
    assert.equal(mode(path.dirname(tokenFile(home))), 0o700);
    assertOnlyLoginFiles(home);
  });

  test("a rejected token saves nothing and keeps the earlier login", async () => {
    const home = tempDir();
    assert.equal((await ms(home, ["login", "--token-stdin"], { input: alice })).code, 0);
    const r = await ms(home, ["login", "--token-stdin"], { input: BOGUS });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: Invalid token$/m);
    assert.ok(r.stderr.includes(`get a valid token for the hub at ${hub.url}`), r.stderr);
    assert.equal(r.stdout, "");
    assert.equal(fs.readFileSync(tokenFile(home), "utf8"), `${alice}\n`);
    assertOnlyLoginFiles(home);
    const who = await ms(home, ["whoami"]);
    assert.equal(who.code, 0, who.stderr);
    assert.match(who.stdout, /^username\s*: alice$/m);
  });

  test("a rejected token on a fresh machine creates no token file", async () => {
    const home = tempDir();
    const r = await ms(home, ["login", "--token", BOGUS]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: Invalid token$/m);
    assert.ok(!fs.existsSync(tokenFile(home)));
  });

  test("with no terminal and no flag, it says to use --token-stdin (exit 2) and saves nothing", async () => {
    const home = tempDir();
    const r = await ms(home, ["login"], { input: alice });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^Error: No terminal to prompt for the token$/m);
    assert.match(r.stderr, /--token-stdin/);
    assert.ok(!fs.existsSync(tokenFile(home)));
  });

  test("an empty token is bad usage (exit 2), from a flag or from stdin", async () => {
    const home = tempDir();
    for (const [args, input] of [
      [["login", "--token", ""], ""],
      [["login", "--token", "   "], ""],
      [["login", "--token-stdin"], ""],
      [["login", "--token-stdin"], "\n\n"],
    ] as const) {
      const r = await ms(home, [...args], { input });
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /^Error: .*token/im);
    }
    assert.ok(!fs.existsSync(tokenFile(home)));
  });

  test("--token and --token-stdin together are bad usage (exit 2)", async () => {
    const home = tempDir();
    const r = await ms(home, ["login", "--token", alice, "--token-stdin"], { input: alice });
    assert.equal(r.code, 2);
    assert.ok(!fs.existsSync(tokenFile(home)));
  });

  test("on a terminal it prompts without echo: the typed token never appears on the screen", async () => {
    const home = tempDir();
    const { code, screen } = await inTerminal(home, ["login"], `${carol}\r`);
    assert.equal(code, 0, screen);
    assert.ok(screen.includes(PROMPT), screen);
    assert.ok(!screen.includes(carol), "the typed token was echoed");
    assert.match(screen, /Logged in as carol\./);
    assert.equal(fs.readFileSync(tokenFile(home), "utf8"), `${carol}\n`);
  });

  test("a rejected token typed at the prompt saves nothing (exit 1)", async () => {
    const home = tempDir();
    const { code, screen } = await inTerminal(home, ["login"], `${BOGUS}\r`);
    assert.equal(code, 1, screen);
    assert.match(screen, /Error: Invalid token/);
    assert.ok(!fs.existsSync(tokenFile(home)));
  });

  for (const [what, keys] of [
    ["Ctrl-C", "ms-partial\u0003"],
    ["Ctrl-D (EOF)", "\u0004"],
  ] as const) {
    test(`${what} at the prompt exits 130 and saves nothing`, async () => {
      const home = tempDir();
      assert.equal((await ms(home, ["login", "--token-stdin"], { input: alice })).code, 0);
      const { code, screen } = await inTerminal(home, ["login"], keys);
      assert.equal(code, 130, screen);
      assert.match(screen, /Login aborted/);
      assert.equal(fs.readFileSync(tokenFile(home), "utf8"), `${alice}\n`, "the earlier login was touched");
    });
  }

  test("MODELSCOPE_HOME moves the saved token (and nothing is written to ~/.modelscope)", async () => {
    const home = tempDir();
    const msHome = path.join(tempDir(), "custom-home");
    const r = await ms(home, ["login", "--token-stdin"], { input: alice, env: { MODELSCOPE_HOME: msHome } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(fs.readFileSync(path.join(msHome, "token"), "utf8"), `${alice}\n`);
    assert.equal(mode(msHome), 0o700);
    assert.ok(!fs.existsSync(path.join(home, ".modelscope")));
    const who = await ms(home, ["whoami"], { env: { MODELSCOPE_HOME: msHome } });
    assert.equal(who.code, 0, who.stderr);
    assert.ok(who.stdout.includes(`${path.join(msHome, "token")}`), who.stdout);
    const without = await ms(home, ["whoami"]);
    assert.equal(without.code, 1);
  });

  test("login against an endpoint that does not answer reports the connection problem and saves nothing", async () => {
    const home = tempDir();
    const r = await ms(home, ["login", "--token-stdin", "--endpoint", "http://127.0.0.1:1"], { input: alice, env: { MODELSCOPE_API_MAX_RETRIES: "0" } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: Connection failed/m);
    assert.ok(!fs.existsSync(tokenFile(home)));
  });
});

describe("modelscope logout", () => {
  test("removes the saved token; a second logout is not an error", async () => {
    const home = tempDir();
    assert.equal((await ms(home, ["login", "--token-stdin"], { input: alice })).code, 0);
    const r = await ms(home, ["logout"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Logged out/);
    assert.ok(!fs.existsSync(tokenFile(home)));
    const again = await ms(home, ["logout"]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /Not logged in/);
    assert.equal((await ms(home, ["whoami"])).code, 1);
  });

  test("while MODELSCOPE_API_TOKEN is set, it says the env var still signs you in", async () => {
    const home = tempDir();
    assert.equal((await ms(home, ["login", "--token-stdin"], { input: alice })).code, 0);
    const env = { MODELSCOPE_API_TOKEN: bob };
    const r = await ms(home, ["logout"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!fs.existsSync(tokenFile(home)));
    assert.match(r.stderr, /MODELSCOPE_API_TOKEN is set and still signs you in/);
    const who = await ms(home, ["whoami"], { env });
    assert.equal(who.code, 0, who.stderr);
    assert.match(who.stdout, /^username\s*: bob$/m);
    // Even with nothing saved, logout mentions the env var.
    const again = await ms(home, ["logout"], { env });
    assert.equal(again.code, 0);
    assert.match(again.stderr, /MODELSCOPE_API_TOKEN/);
  });
});

describe("modelscope whoami", () => {
  test("shows username, email, id, the token's source and the token masked to at most 4+4 characters", async () => {
    const home = tempDir();
    assert.equal((await ms(home, ["login", "--token-stdin"], { input: alice })).code, 0);
    const r = await ms(home, ["whoami"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^username\s*: alice$/m);
    assert.match(r.stdout, /^email\s*: alice@example\.com$/m);
    assert.match(r.stdout, /^id\s*: 1$/m);
    const line = r.stdout.split("\n").find((l) => l.startsWith("token"));
    assert.ok(line, r.stdout);
    assert.ok(line.includes(`${alice.slice(0, 4)}…${alice.slice(-4)}`), line);
    assert.ok(line.includes(tokenFile(home)), line);
  });

  test("signed out: exit 1 with a clear error and the fix", async () => {
    const r = await ms(tempDir(), ["whoami"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: Not logged in/m);
    assert.match(r.stderr, /modelscope login/);
  });

  test("a token the hub rejects (401) gives `Error: Invalid token`, naming MODELSCOPE_API_TOKEN when it came from there", async () => {
    const r = await ms(tempDir(), ["whoami"], { env: { MODELSCOPE_API_TOKEN: BOGUS } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: Invalid token \(from MODELSCOPE_API_TOKEN\)$/m);
    assert.ok(r.stderr.includes(`Fix: ${hub.url} rejects the token in MODELSCOPE_API_TOKEN: set it to a valid token, or unset it`), r.stderr);
    const flag = await ms(tempDir(), ["whoami", "--token", BOGUS]);
    assert.match(flag.stderr, /^Error: Invalid token$/m);
    // Another hub than modelscope.cn is in use: the fix names it, not modelscope.cn's token page.
    assert.ok(flag.stderr.includes(`Fix: get a valid token for the hub at ${hub.url} and run \`modelscope login\``), flag.stderr);
    assert.ok(!flag.stderr.includes("modelscope.cn"), flag.stderr);
  });

  test("token order: --token beats MODELSCOPE_API_TOKEN beats <home>/token", async () => {
    const home = tempDir();
    assert.equal((await ms(home, ["login", "--token-stdin"], { input: alice })).code, 0);
    const env = { MODELSCOPE_API_TOKEN: bob };
    const explicit = await ms(home, ["whoami", "--token", carol], { env });
    assert.equal(explicit.code, 0, explicit.stderr);
    assert.match(explicit.stdout, /^username\s*: carol$/m);
    assert.match(explicit.stdout, /^token\s*: .*\(from --token\)$/m);
    const fromEnv = await ms(home, ["whoami"], { env });
    assert.match(fromEnv.stdout, /^username\s*: bob$/m);
    assert.match(fromEnv.stdout, /^token\s*: .*\(from MODELSCOPE_API_TOKEN\)$/m);
    const fromFile = await ms(home, ["whoami"], { env: { MODELSCOPE_API_TOKEN: "" } });
    assert.match(fromFile.stdout, /^username\s*: alice$/m);
    assert.ok(fromFile.stdout.includes(`(from ${tokenFile(home)})`), fromFile.stdout);
  });

  test("the env var beats the file even when the env token is the rejected one", async () => {
    const home = tempDir();
    assert.equal((await ms(home, ["login", "--token-stdin"], { input: alice })).code, 0);
    const r = await ms(home, ["whoami"], { env: { MODELSCOPE_API_TOKEN: BOGUS } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: Invalid token \(from MODELSCOPE_API_TOKEN\)$/m);
  });

  test("login while MODELSCOPE_API_TOKEN holds another token notes that the env var wins", async () => {
    const home = tempDir();
    const r = await ms(home, ["login", "--token-stdin"], { input: alice, env: { MODELSCOPE_API_TOKEN: bob } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "Logged in as alice.\n");
    assert.match(r.stderr, /MODELSCOPE_API_TOKEN is set and is used before the saved token/);
  });
});

describe("modelscope auth status", () => {
  test("signed in: version, endpoint, masked token, source, hub accepted; exit 0", async () => {
    const home = tempDir();
    assert.equal((await ms(home, ["login", "--token-stdin"], { input: alice })).code, 0);
    const r = await ms(home, ["auth", "status"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^version\s*: deepcompressor \d+\.\d+\.\d+/m);
    assert.ok(r.stdout.includes(`${hub.url} (MODELSCOPE_ENDPOINT)`), r.stdout);
    assert.ok(r.stdout.includes(`${alice.slice(0, 4)}…${alice.slice(-4)} (from ${tokenFile(home)})`), r.stdout);
    assert.match(r.stdout, /✅ Logged in to ModelScope as alice/);
  });

  test("--json gives the same facts for scripts", async () => {
    const home = tempDir();
    assert.equal((await ms(home, ["login", "--token-stdin"], { input: alice })).code, 0);
    const r = await ms(home, ["auth", "status", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(j.signedIn, true);
    assert.equal(j.endpoint, hub.url);
    assert.equal(j.endpointSource, "MODELSCOPE_ENDPOINT");
    assert.equal(j.tokenSource, "file");
    assert.equal(j.token, `${alice.slice(0, 4)}…${alice.slice(-4)}`);
    assert.equal(j.hubAccepted, true);
    assert.deepEqual(j.user, { username: "alice", email: "alice@example.com", id: 1 });
    assert.equal(j.error, null);
    assert.equal(typeof j.version, "string");
  });

  test("signed out: exit 1, text and --json", async () => {
    const home = tempDir();
    const r = await ms(home, ["auth", "status"]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /❌ Not logged in to ModelScope/);
    assert.match(r.stdout, /modelscope login/);
    const j = await ms(home, ["auth", "status", "--json"]);
    assert.equal(j.code, 1);
    const body = JSON.parse(j.stdout) as Record<string, unknown>;
    assert.equal(body.signedIn, false);
    assert.equal(body.tokenSource, null);
    assert.equal(body.token, null);
  });

  test("a rejected token: exit 1, says the hub rejected it", async () => {
    const r = await ms(tempDir(), ["auth", "status"], { env: { MODELSCOPE_API_TOKEN: BOGUS } });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /❌ The hub rejected the token/);
    assert.match(r.stderr, /^Error: Invalid token \(from MODELSCOPE_API_TOKEN\)$/m);
    const j = await ms(tempDir(), ["auth", "status", "--json"], { env: { MODELSCOPE_API_TOKEN: BOGUS } });
    assert.equal(j.code, 1);
    const body = JSON.parse(j.stdout) as { signedIn: boolean; hubAccepted: boolean; tokenSource: string; error: { type: string } };
    assert.equal(body.signedIn, false);
    assert.equal(body.hubAccepted, false);
    assert.equal(body.tokenSource, "env");
    assert.equal(body.error.type, "InvalidTokenError");
  });

  test("--offline does not call the hub: a token is enough (exit 0), none is exit 1", async () => {
    const env = { MODELSCOPE_ENDPOINT: "http://127.0.0.1:1", MODELSCOPE_API_TOKEN: alice };
    const r = await ms(tempDir(), ["auth", "status", "--offline"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /not checked with the hub/);
    assert.match(r.stdout, /\(from MODELSCOPE_API_TOKEN\)/);
    const j = await ms(tempDir(), ["auth", "status", "--offline", "--json"], { env });
    assert.equal(j.code, 0);
    assert.equal((JSON.parse(j.stdout) as { hubAccepted: unknown }).hubAccepted, null);
    const none = await ms(tempDir(), ["auth", "status", "--offline"], { env: { MODELSCOPE_ENDPOINT: "http://127.0.0.1:1" } });
    assert.equal(none.code, 1);
  });

  test("endpoint order: --endpoint > MODELSCOPE_ENDPOINT > MODELSCOPE_DOMAIN (a bare domain gets https://)", async () => {
    const status = async (args: string[], env: Record<string, string | undefined>) => {
      const r = await ms(tempDir(), ["auth", "status", "--offline", "--json", ...args], { env: { MODELSCOPE_ENDPOINT: undefined, ...env } });
      assert.equal(r.code, 1, `not signed in, so exit 1: ${r.stderr}`);
      const j = JSON.parse(r.stdout) as { endpoint: string; endpointSource: string };
      return `${j.endpoint} ${j.endpointSource}`;
    };
    const all = { MODELSCOPE_ENDPOINT: "http://env.example:1/", MODELSCOPE_DOMAIN: "domain.example" };
    assert.equal(await status(["--endpoint", "http://flag.example:2"], all), "http://flag.example:2 flag");
    assert.equal(await status([], all), "http://env.example:1 MODELSCOPE_ENDPOINT");
    assert.equal(await status([], { MODELSCOPE_DOMAIN: "domain.example" }), "https://domain.example MODELSCOPE_DOMAIN");
    assert.equal(await status([], {}), "https://modelscope.cn default");
    // And the chosen endpoint is the one actually called.
    const home = tempDir();
    const viaDomain = await ms(home, ["whoami"], { env: { MODELSCOPE_ENDPOINT: undefined, MODELSCOPE_DOMAIN: hub.url, MODELSCOPE_API_TOKEN: alice } });
    assert.equal(viaDomain.code, 0, `MODELSCOPE_DOMAIN: ${viaDomain.stdout}${viaDomain.stderr}`);
    assert.match(viaDomain.stderr, /^Warning: MODELSCOPE_DOMAIN is deprecated, use MODELSCOPE_ENDPOINT instead\.$/m);
    const flagWins = await ms(home, ["whoami", "--endpoint", hub.url], { env: { MODELSCOPE_ENDPOINT: "http://127.0.0.1:1", MODELSCOPE_API_TOKEN: alice } });
    assert.equal(flagWins.code, 0, `--endpoint: ${flagWins.stdout}${flagWins.stderr}`);
  });
});

describe("Chinese messages (locale zh)", () => {
  const zh = { LANG: "zh_CN.UTF-8" };

  test("login, a rejected token, and status speak Chinese", async () => {
    const home = tempDir();
    const ok = await ms(home, ["login", "--token-stdin"], { input: alice, env: zh });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, "登录成功：alice。\n");
    const bad = await ms(home, ["login", "--token-stdin"], { input: BOGUS, env: zh });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^错误：Token无效$/m);
    assert.match(bad.stderr, /解决：/);
    const st = await ms(home, ["auth", "status"], { env: zh });
    assert.match(st.stdout, /✅ ModelScope已登录：alice/);
    const out = await ms(tempDir(), ["auth", "status"], { env: zh });
    assert.match(out.stdout, /❌ ModelScope未登录/);
    const noTty = await ms(tempDir(), ["login"], { env: zh });
    assert.equal(noTty.code, 2);
    assert.match(noTty.stderr, /^错误：没有可用于输入 token 的终端$/m);
  });

  test("LC_ALL beats LANG, and an English LC_ALL keeps English", async () => {
    const r = await ms(tempDir(), ["whoami"], { env: { LANG: "en_US.UTF-8", LC_ALL: "zh_CN.UTF-8", MODELSCOPE_API_TOKEN: BOGUS } });
    assert.match(r.stderr, /^错误：Token无效（来自环境变量 MODELSCOPE_API_TOKEN）$/m);
    const en = await ms(tempDir(), ["whoami"], { env: { LANG: "zh_CN.UTF-8", LC_ALL: "C.UTF-8", MODELSCOPE_API_TOKEN: BOGUS } });
    assert.match(en.stderr, /^Error: Invalid token \(from MODELSCOPE_API_TOKEN\)$/m);
  });

  test("the hidden prompt in Chinese still never echoes the token", async () => {
    const home = tempDir();
    const { code, screen } = await inTerminal(home, ["login"], `${alice}\r`, zh);
    assert.equal(code, 0, screen);
    assert.ok(!screen.includes(alice));
    assert.match(screen, /登录成功：alice。/);
  });
});

describe("library: new HubApi().login(token) / getToken() and maskToken", () => {
  test("login saves only an accepted token; getToken follows the same order as the CLI", async () => {
    const { HubApi } = await import("../src/hub/api.js");
    const { InvalidTokenError } = await import("../src/errors.js");
    const { closeDispatchers } = await import("../src/http/dispatcher.js");
    const home = path.join(tempDir(), ".modelscope");
    const api = new HubApi({ endpoint: hub.url, home, env: {} });
    assert.equal(api.getToken(), undefined);
    await assert.rejects(api.login(BOGUS), InvalidTokenError);
    assert.ok(!fs.existsSync(path.join(home, "token")));
    const user = await api.login(alice);
    assert.equal(user.username, "alice");
    assert.equal(api.getToken(), alice);
    assert.equal(new HubApi({ endpoint: hub.url, home, env: {} }).tokenInfo()?.source, "file");
    assert.equal(new HubApi({ endpoint: hub.url, home, env: { MODELSCOPE_API_TOKEN: bob } }).getToken(), bob);
    assert.equal(new HubApi({ endpoint: hub.url, home, env: { MODELSCOPE_API_TOKEN: bob }, token: carol }).getToken(), carol);
    await closeDispatchers();
  });

  test("maskToken never shows more than the first 4 and last 4 characters, and less of short tokens", async () => {
    const { maskToken } = await import("../src/auth/mask.js");
    assert.equal(maskToken(alice), `${alice.slice(0, 4)}…${alice.slice(-4)}`);
    for (let n = 0; n <= 40; n++) {
      const tok = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF".slice(0, n);
      const [head = "", tail = ""] = maskToken(tok).split("…");
      assert.ok(head.length <= 4 && tail.length <= 4, `${n}: ${maskToken(tok)}`);
      assert.ok(head.length + tail.length <= n / 2, `${n}: shows half or more of a short token`);
    }
  });
});
