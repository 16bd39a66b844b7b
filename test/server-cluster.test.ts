// Several `serve` processes on one root answer as one hub (sign-in, CDN signatures, users and rules from
// the root), the admin commands change a running hub without a restart, and the access log says who did
// what without ever holding a token.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { mayAccess } from "../src/server/access.js";
import type { AccessSnapshot } from "../src/server/config-watch.js";
import { readHubConfig } from "../src/server/hub-config.js";
import { repoRef } from "../src/server/store/layout.js";
import { closeDispatchers } from "../src/http/dispatcher.js";
import { bytes, cleanEnv, modelscope, rawRequest, secrets, sha256, tempDir, waitFor, writeModel } from "./helpers/hub.js";
import { startServe, type ServeProcess } from "./helpers/serve-process.js";

const BIG = bytes(2 * 1024 * 1024, 3);
let root: string;
let logFile: string;
let a: ServeProcess;
let b: ServeProcess;
let alice: string;
let bob: string;

const admin = (args: string[]) => modelscope(["serve", ...args, "--root", root]);

before(async () => {
  root = tempDir("dc-cluster-");
  writeModel(root, "acme/m", { "a.txt": "m bytes" });
  writeModel(root, "acme/big", { "big.bin": BIG });
  const add = async (name: string) => {
    const r = await admin(["user", "add", name]);
    assert.equal(r.code, 0, r.stderr);
    const token = r.stdout.trim();
    secrets.add(token);
    return token;
  };
  alice = await add("alice");
  bob = await add("bob");
  logFile = path.join(tempDir(), "access.log");
  [a, b] = await Promise.all([
    startServe(["--root", root, "--redirect-threshold-mb", "1", "--access-log", logFile]),
    startServe(["--root", root, "--redirect-threshold-mb", "1"]),
  ]);
});

after(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await closeDispatchers();
});

const get = (base: string, p: string, token?: string, extra: Record<string, string> = {}) => fetch(base + p, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra }, redirect: "manual" });
const status = async (base: string, p: string, token?: string) => {
  const r = await get(base, p, token);
  await r.body?.cancel();
  return r.status;
};
const FILE = "/api/v1/models/acme/m/repo?Revision=master&FilePath=a.txt";

describe("two processes, one hub", () => {
  test("a sign-in at one process is good at the other; a CDN URL signed by one is served by the other", async () => {
    const login = await fetch(`${a.url}/api/v1/login`, { method: "POST", body: JSON.stringify({ AccessToken: alice }), headers: { "content-type": "application/json" } });
    assert.equal(login.status, 200);
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    const me = await fetch(`${b.url}/openapi/v1/users/me`, { headers: { cookie } });
    assert.equal(((await me.json()) as { data: { username: string } }).data.username, "alice");
    const redirect = await get(a.url, "/api/v1/models/acme/big/repo?Revision=master&FilePath=big.bin");
    assert.equal(redirect.status, 302);
    const location = new URL(redirect.headers.get("location")!);
    const atB = new URL(location.pathname + location.search, b.url);
    const body = await fetch(atB);
    assert.equal(body.status, 200);
    assert.equal(sha256(Buffer.from(await body.arrayBuffer())), sha256(BIG));
    const secret = fs.statSync(path.join(root, ".dc-hub", "secret"));
    assert.equal(secret.mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.join(root, ".dc-hub")).mode & 0o777, 0o700);
  });

  test("failed sign-ins count for the root, not per process: 10 alternating between the two, then both answer 429", async () => {
    // An address of its own (the default limit: 10 at once, then one per 6 s), so no other test meets it.
    const login = (base: string, token: string, localAddress = "127.0.0.77") =>
      rawRequest(`${base}/api/v1/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ AccessToken: token }), localAddress });
    for (let i = 0; i < 10; i++) assert.equal((await login(i % 2 ? b.url : a.url, "ms-wrong")).status, 401, `failure ${i + 1}`);
    for (const base of [a.url, b.url]) {
      const limited = await login(base, alice);
      assert.equal(limited.status, 429, base);
      assert.ok(Number(limited.headers["retry-after"]) >= 1);
    }
    assert.equal((await login(a.url, alice, "127.0.0.78")).status, 200, "another address is not limited");
  });

  test("a client alternating between the processes downloads the model", async () => {
    for (const [i, base] of [a.url, b.url, a.url, b.url].entries()) {
      const home = tempDir();
      const r = await modelscope(["download", i % 2 ? "acme/big" : "acme/m"], { env: cleanEnv(home, { MODELSCOPE_ENDPOINT: base, MODELSCOPE_API_TOKEN: bob }) });
      assert.equal(r.code, 0, r.stderr);
    }
  });
});

describe("administration without editing JSON", () => {
  test("serve access: private, gated, public, seen by both running processes", async () => {
    let r = await admin(["access", "acme/m", "private", "--users", "alice"]);
    assert.equal(r.code, 0, r.stderr);
    for (const base of [a.url, b.url]) {
      await waitFor(async () => (await status(base, FILE, bob)) === 404, "private for bob");
      assert.equal(await status(base, FILE, alice), 200);
      assert.equal(await status(base, FILE), 404);
    }
    r = await admin(["access", "acme/m", "gated"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /gated; allowed: alice/);
    for (const base of [a.url, b.url]) {
      await waitFor(async () => (await status(base, FILE, bob)) === 403, "gated for bob");
      assert.equal(await status(base, FILE), 401);
      assert.equal(await status(base, FILE, alice), 200);
    }
    r = await admin(["access", "acme/m", "public"]);
    assert.equal(r.code, 0, r.stderr);
    for (const base of [a.url, b.url]) await waitFor(async () => (await status(base, FILE, bob)) === 200, "public again");
    assert.equal(fs.statSync(path.join(root, "hub.json")).mode & 0o777, 0o600);
  });

  test("bad input: one line, a fix, exit 2, hub.json unchanged", async () => {
    const before = fs.readFileSync(path.join(root, "hub.json"), "utf8");
    for (const args of [
      ["access", "acme/m", "secret"],
      ["access", "acme--x/m", "private"],
      ["access", "acme/m", "private", "--users", "nobody"],
      ["user", "rm", "nobody"],
      ["org", "add", "alice"],
      ["org", "rm", "nothing"],
    ]) {
      const r = await admin(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.ok(r.stderr.trim().split("\n").length <= 2, r.stderr);
    }
    assert.equal(fs.readFileSync(path.join(root, "hub.json"), "utf8"), before);
  });

  test("serve org: members may write under the organisation's namespace", async () => {
    const r = await admin(["org", "add", "lab", "--members", "bob"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await admin(["org", "list"])).stdout, "lab\tbob\n");
    const config = readHubConfig(root);
    const rules: AccessSnapshot = { config, locked: false, userForToken: () => undefined };
    const bobUser = config.users.find((u) => u.username === "bob")!;
    const aliceUser = config.users.find((u) => u.username === "alice")!;
    assert.equal(mayAccess(rules, bobUser, repoRef("model", "lab", "x")!, "write").ok, true);
    assert.equal(mayAccess(rules, aliceUser, repoRef("model", "lab", "x")!, "write").ok, false);
    assert.equal((await admin(["org", "rm", "lab"])).code, 0);
    assert.deepEqual(readHubConfig(root).organizations, {});
  });

  test("serve user list shows no secrets; user rm stops the token at every process at once", async () => {
    await admin(["access", "acme/m", "private", "--users", "alice,bob"]);
    const list = await admin(["user", "list"]);
    assert.equal(list.code, 0);
    assert.match(list.stdout, /^alice\t/m);
    assert.match(list.stdout, /^bob\t/m);
    assert.ok(!list.stdout.includes(sha256(alice)) && !list.stdout.includes("sha256"));
    const rm = await admin(["user", "rm", "alice"]);
    assert.equal(rm.code, 0, rm.stderr);
    for (const base of [a.url, b.url]) {
      await waitFor(async () => (await status(base, "/openapi/v1/users/me", alice)) === 401, "alice signed out");
      assert.equal(await status(base, FILE, bob), 200);
    }
    assert.deepEqual(readHubConfig(root).private, { "acme/m": ["bob"] });
  });
});

describe("access log", () => {
  test("one line per request: time, address, user, method, path, status, bytes, duration; no token, hash or session", async () => {
    await status(a.url, FILE, bob);
    await status(a.url, "/api/v1/models/acme/missing");
    const cdn = new URL((await get(a.url, "/api/v1/models/acme/big/repo?Revision=master&FilePath=big.bin")).headers.get("location")!);
    assert.equal(await status(a.url, cdn.pathname + cdn.search), 200);
    await waitFor(() => fs.readFileSync(logFile, "utf8").includes("Signature=- 200"), "the log lines");
    const lines = fs.readFileSync(logFile, "utf8").trim().split("\n");
    for (const line of lines) assert.match(line, /^\d{4}-\d\d-\d\dT\S+Z 127\.0\.0\.\d+ (-|[\w.-]+) (GET|POST|HEAD) \/\S* \d{3} \d+ \d+\.\dms$/, line);
    assert.ok(lines.some((l) => / bob GET \/api\/v1\/models\/acme\/m\/repo\?Revision=master&FilePath=a\.txt 200 7 /.test(l)), lines.join("\n"));
    assert.ok(lines.some((l) => / - GET \/__cdn__\/\S+Signature=- 200 /.test(l)), "the CDN request with its signature blanked");
    assert.ok(lines.some((l) => / - GET \/api\/v1\/models\/acme\/missing 404 /.test(l)), "the 404");
    const text = fs.readFileSync(logFile, "utf8");
    for (const t of [alice, bob]) {
      assert.ok(!text.includes(t), "a token in the log");
      assert.ok(!text.includes(sha256(t)), "a token hash in the log");
      assert.ok(!text.includes(encodeURIComponent(t)), "a session value in the log");
    }
    // Process B logs to standard output by default.
    await waitFor(() => / bob GET \/api\/v1\/models\/acme\/m\/repo/.test(b.stdout()), "B's log on stdout");
  });
});
