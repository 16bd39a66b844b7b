// Several saved accounts, as `hf auth` keeps them (issue 12 item 4), and the official client's login we
// write at each login (item 3): loaded by Python's own pickle with requests, removed at logout.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { PyDict, PyObject, PyTuple, pickle } from "../src/auth/pickle-write.js";
import { officialCookieJar } from "../src/auth/official-login.js";
import { cleanEnv, modelscope, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";

const hasRequests = spawnSync("/usr/bin/python3", ["-c", "import requests"]).status === 0;
const skipPy = hasRequests ? false : "/usr/bin/python3 has no `requests` module (install Debian's python3-requests; .ci/run does)";

/** Runs Python on a pickle file; the script prints JSON. Nothing but the stdlib and requests is importable. */
function py(file: string, script: string): unknown {
  const r = spawnSync("/usr/bin/python3", ["-I", "-c", `import json, pickle, sys\nobj = pickle.load(open(sys.argv[1], "rb"))\n${script}`, file], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const mode = (p: string) => fs.statSync(p).mode & 0o777;

describe("the pickle writer", { skip: skipPy }, () => {
  test("Python loads what it writes: None, bools, ints of every size, unicode, tuples, dicts, objects", () => {
    const file = path.join(tempDir(), "v.pkl");
    const ints = [0, 1, -1, 255, 256, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2 ** 40, -(2 ** 40), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 128, -129, 32768];
    const value = new PyDict([
      ["none", null],
      ["t", true],
      ["f", false],
      ["ints", new PyTuple(ints)],
      ["text", "ms-tök€n 🚀\n"],
      ["empty", new PyTuple([])],
      ["nested", new PyDict([["a", new PyDict([])]])],
      ["obj", new PyObject("collections", "OrderedDict", new PyDict([]))],
    ]);
    fs.writeFileSync(file, pickle(value));
    const got = py(file, "obj['obj'] = type(obj['obj']).__name__\nprint(json.dumps(obj))") as Record<string, unknown>;
    assert.deepEqual(got, { none: null, t: true, f: false, ints, text: "ms-tök€n 🚀\n", empty: [], nested: { a: {} }, obj: "OrderedDict" });
  });

  test("the official client's jar: a RequestsCookieJar whose m_session_id is the token, for the hub's host, 30 days", () => {
    const file = path.join(tempDir(), "cookies");
    const expires = Math.floor(Date.now() / 1000) + 30 * 24 * 3600;
    fs.writeFileSync(file, officialCookieJar("ms-abc", "http://127.0.0.1:8080", expires));
    const got = py(
      file,
      `import requests
assert type(obj) is requests.cookies.RequestsCookieJar
c = [c for c in obj][0]
s = requests.Session(); s.cookies = obj
print(json.dumps({"n": len(obj), "name": c.name, "value": c.value, "domain": c.domain, "path": c.path, "expires": c.expires, "expired": c.is_expired(), "get": obj.get("m_session_id")}))`,
    );
    assert.deepEqual(got, { n: 1, name: "m_session_id", value: "ms-abc", domain: "127.0.0.1", path: "/", expires, expired: false, get: "ms-abc" });
  });
});

let cn: TestHub; // stands in for modelscope.cn
let local: TestHub; // a local hub with a user of the same name
let aliceCn: string;
let aliceLocal: string;
let bobCn: string;

before(async () => {
  cn = await startTestHub({ users: ["alice", "bob"] });
  local = await startTestHub({ users: ["alice"] });
  ({ alice: aliceCn, bob: bobCn } = cn.tokens as { alice: string; bob: string });
  aliceLocal = local.tokens.alice!;
});
after(async () => {
  await cn.close();
  await local.close();
});

function ms(home: string, args: string[], endpoint: string, input?: string) {
  return modelscope(args, { env: cleanEnv(home, { MODELSCOPE_ENDPOINT: endpoint }), input });
}

const tokenFile = (home: string) => path.join(home, ".modelscope", "token");
const jarFile = (home: string) => path.join(home, ".modelscope", "credentials", "cookies");

interface ListRow {
  name: string;
  username: string | null;
  endpoint: string | null;
  token: string;
  active: boolean;
}

async function list(home: string, endpoint: string): Promise<ListRow[]> {
  const r = await ms(home, ["auth", "list", "--json"], endpoint);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { accounts: ListRow[] }).accounts;
}

describe("several accounts", () => {
  test("a local hub's login never replaces a modelscope.cn login; list, switch, warn, logout --name, logout", async () => {
    const home = tempDir();
    assert.equal((await ms(home, ["login", "--token-stdin"], cn.url, aliceCn)).code, 0);
    // Same username on another hub: saved beside it, not over it, and the message says how to get back.
    const second = await ms(home, ["login", "--token-stdin"], local.url, aliceLocal);
    assert.equal(second.code, 0, second.stderr);
    const localName = `alice@${new URL(local.url).host}`;
    assert.match(second.stderr, new RegExp(`Saved as account '${localName.replace(/[.]/g, "\\.")}'`));
    assert.match(second.stderr, /account 'alice' \(for http:\/\/127\.0\.0\.1:\d+\) is kept; switch back with `modelscope auth switch alice`/);
    assert.equal(fs.readFileSync(tokenFile(home), "utf8").trim(), aliceLocal);
    let rows = await list(home, local.url);
    assert.deepEqual(
      rows.map((r) => [r.name, r.username, r.endpoint, r.active]),
      [
        ["alice", "alice", cn.url, false],
        [localName, "alice", local.url, true],
      ],
    );
    for (const r of rows) assert.match(r.token, /…/); // masked (runCli also fails on any full token)
    const table = await ms(home, ["auth", "list"], local.url);
    assert.match(table.stdout, new RegExp(`^\\* ${localName.replace(/[.]/g, "\\.")}\\s+alice\\s+\\S+…\\S+\\s+${local.url}$`, "m"));

    // Switch back: the active token and the official client's jar follow.
    const sw = await ms(home, ["auth", "switch", "alice"], cn.url);
    assert.equal(sw.code, 0, sw.stderr);
    assert.doesNotMatch(sw.stderr, /Warning/);
    // Switching to an account of another hub than the one in use says so at once.
    const away = await ms(home, ["auth", "switch", localName], cn.url);
    assert.match(away.stderr, new RegExp(`^Warning: the saved token was checked against ${local.url}, not ${cn.url}`, "m"));
    assert.equal((await ms(home, ["auth", "switch", "alice"], cn.url)).code, 0);
    assert.equal(fs.readFileSync(tokenFile(home), "utf8").trim(), aliceCn);
    const who = await ms(home, ["whoami"], cn.url);
    assert.equal(who.code, 0, who.stderr);
    assert.doesNotMatch(who.stderr, /Warning/);
    // The modelscope.cn token sent to the local hub: one line of warning naming both hubs.
    const wrong = await ms(home, ["auth", "status"], local.url);
    const warnings = wrong.stderr.split("\n").filter((l) => l.startsWith("Warning:"));
    assert.deepEqual(warnings, [`Warning: the saved token was checked against ${cn.url}, not ${local.url} (see \`modelscope auth list\`).`]);

    // logout --name of the inactive account: the active login stays.
    const outLocal = await ms(home, ["logout", "--name", localName], cn.url);
    assert.equal(outLocal.code, 0, outLocal.stderr);
    assert.equal(fs.readFileSync(tokenFile(home), "utf8").trim(), aliceCn);
    rows = await list(home, cn.url);
    assert.deepEqual(rows.map((r) => r.name), ["alice"]);
    // logout: everything, both tools.
    assert.equal((await ms(home, ["login", "--token-stdin", "--name", "work"], cn.url, bobCn)).code, 0);
    assert.deepEqual((await list(home, cn.url)).map((r) => [r.name, r.active]), [["alice", false], ["work", true]]);
    const out = await ms(home, ["logout"], cn.url);
    assert.equal(out.code, 0, out.stderr);
    assert.equal(fs.existsSync(tokenFile(home)), false);
    assert.equal(fs.existsSync(jarFile(home)), false);
    assert.deepEqual(await list(home, cn.url), []);
    assert.equal((await ms(home, ["whoami"], cn.url)).code, 1);
  });

  test("the secrets are 0600 in 0700; a bad name or an unknown account is a usage error (exit 2)", async () => {
    const home = tempDir();
    assert.equal((await ms(home, ["login", "--token-stdin", "--name", "ci"], cn.url, bobCn)).code, 0);
    for (const f of ["token", "accounts.json", "credentials/cookies"]) assert.equal(mode(path.join(home, ".modelscope", f)), 0o600, f);
    for (const d of ["", "credentials"]) assert.equal(mode(path.join(home, ".modelscope", d)), 0o700, d);
    const bad = await ms(home, ["login", "--token-stdin", "--name", "../x"], cn.url, bobCn);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^Error: Invalid account name '\.\.\/x'$/m);
    const unknown = await ms(home, ["auth", "switch", "nobody"], cn.url);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^Error: No saved account 'nobody'$/m);
    assert.match(unknown.stderr, /saved: ci/);
  });

  test("an earlier login from before accounts is kept as 'default', not overwritten", async () => {
    const home = tempDir();
    fs.mkdirSync(path.join(home, ".modelscope"), { recursive: true, mode: 0o700 });
    fs.writeFileSync(tokenFile(home), `${aliceCn}\n`, { mode: 0o600 });
    const r = await ms(home, ["login", "--token-stdin"], local.url, aliceLocal);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /earlier login is kept as account 'default'/);
    assert.equal((await ms(home, ["auth", "switch", "default"], cn.url)).code, 0);
    const who = await ms(home, ["whoami"], cn.url);
    assert.match(who.stdout, /^username\s*: alice$/m);
  });
});
