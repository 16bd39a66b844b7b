// The official Python client's sign-in: <home>/credentials/cookies, a pickled `requests` cookie jar.
// The pickles here are made by Python's real `requests` (Debian python3-requests), not by hand.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { cleanEnv, modelscope, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";

const hasRequests = spawnSync("/usr/bin/python3", ["-c", "import requests"]).status === 0;
const skip = hasRequests ? false : "/usr/bin/python3 has no `requests` module (install Debian's python3-requests; .ci/run does)";

// The token comes in through the environment, never argv.
const MAKE_JAR = `
import os, pickle, time, requests
jar = requests.cookies.RequestsCookieJar()
jar.set("other", "x", domain="127.0.0.1", path="/")
expires = os.environ.get("JAR_EXPIRES")
jar.set("m_session_id", os.environ["JAR_TOKEN"], domain="127.0.0.1", path="/",
        expires=None if expires == "session" else int(time.time()) + int(expires))
os.makedirs(os.path.dirname(os.environ["JAR_FILE"]), exist_ok=True)
with open(os.environ["JAR_FILE"], "wb") as f:
    pickle.dump(jar, f)
`;

let hub: TestHub;
let alice: string;
let bob: string;

before(async () => {
  hub = await startTestHub({ users: ["alice", "bob"] });
  ({ alice, bob } = hub.tokens as { alice: string; bob: string });
});
after(() => hub.close());

/** Writes <msHome>/credentials/cookies with Python requests; `expires` is seconds from now or "session". */
async function makeJar(msHome: string, token: string, expires: number | "session"): Promise<string> {
  const file = path.join(msHome, "credentials", "cookies");
  const child = spawn("/usr/bin/python3", ["-c", MAKE_JAR], {
    env: { PATH: process.env.PATH ?? "/usr/bin", JAR_TOKEN: token, JAR_FILE: file, JAR_EXPIRES: String(expires) },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const [code] = (await once(child, "close")) as [number];
  assert.equal(code, 0, stderr);
  return file;
}

function envFor(home: string, extra: Record<string, string | undefined> = {}) {
  return cleanEnv(home, { MODELSCOPE_ENDPOINT: hub.url, ...extra });
}

describe("the official client's cookie jar", { skip }, () => {
  test("a live jar signs you in (source: official cookie jar)", async () => {
    const home = tempDir();
    const jar = await makeJar(path.join(home, ".modelscope"), alice, 3600);
    const r = await modelscope(["whoami"], { env: envFor(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^username\s*: alice$/m);
    assert.ok(r.stdout.includes(`(from ${jar} (official client))`), r.stdout);
  });

  test("a session cookie (no expiry) counts as live, as http.cookiejar's is_expired() says", async () => {
    const home = tempDir();
    await makeJar(path.join(home, ".modelscope"), alice, "session");
    const r = await modelscope(["auth", "status", "--json"], { env: envFor(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { tokenSource: string }).tokenSource, "official-cookie");
  });

  test("an expired jar is ignored: not signed in", async () => {
    const home = tempDir();
    await makeJar(path.join(home, ".modelscope"), alice, -60);
    const who = await modelscope(["whoami"], { env: envFor(home) });
    assert.equal(who.code, 1);
    assert.match(who.stderr, /^Error: Not logged in/m);
    const st = await modelscope(["auth", "status", "--offline"], { env: envFor(home) });
    assert.equal(st.code, 1);
    assert.match(st.stdout, /Not logged in/);
  });

  test("<home>/token and MODELSCOPE_API_TOKEN both come before the jar; our login rewrites the jar, logout removes it", async () => {
    const home = tempDir();
    await makeJar(path.join(home, ".modelscope"), alice, 3600);
    const login = await modelscope(["login", "--token-stdin"], { env: envFor(home), input: bob });
    assert.equal(login.code, 0, login.stderr);
    const fromFile = await modelscope(["whoami"], { env: envFor(home) });
    assert.match(fromFile.stdout, /^username\s*: bob$/m);
    assert.ok(fromFile.stdout.includes(path.join(home, ".modelscope", "token")), fromFile.stdout);
    // Our login signs the official client in too (issue 12): the jar now holds bob.
    const env2 = await modelscope(["whoami"], { env: envFor(home, { MODELSCOPE_API_TOKEN: alice }) });
    assert.match(env2.stdout, /^username\s*: alice$/m);
    assert.match(env2.stdout, /from MODELSCOPE_API_TOKEN/);
    fs.rmSync(path.join(home, ".modelscope", "token"));
    const jarNow = await modelscope(["whoami"], { env: envFor(home) });
    assert.match(jarNow.stdout, /^username\s*: bob$/m);
    assert.match(jarNow.stdout, /official client/);
    // Logout signs both out.
    const out = await modelscope(["logout"], { env: envFor(home) });
    assert.equal(out.code, 0);
    assert.doesNotMatch(out.stderr, /still signs you in/);
    assert.equal((await modelscope(["whoami"], { env: envFor(home) })).code, 1);
  });

  test("MODELSCOPE_HOME moves where the jar is looked for", async () => {
    const home = tempDir();
    const msHome = path.join(tempDir(), "elsewhere");
    await makeJar(msHome, alice, 3600);
    assert.equal((await modelscope(["whoami"], { env: envFor(home) })).code, 1);
    const r = await modelscope(["whoami"], { env: envFor(home, { MODELSCOPE_HOME: msHome }) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^username\s*: alice$/m);
  });

  test("a broken cookies file is ignored, not a crash", async () => {
    const home = tempDir();
    const file = path.join(home, ".modelscope", "credentials", "cookies");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, "not a pickle");
    const r = await modelscope(["auth", "status", "--offline"], { env: envFor(home) });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /Not logged in/);
  });
});
