// `modelscope serve` as a real process, used by a client written only from the protocol spec
// (test/interop/spec_client.py, Python `requests`), and then our CLI signed in through the cookie jar
// that client pickled, exactly as a user of the official Python client would be.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { MODELSCOPE_BIN, REPO_ROOT, assertNoSecrets, bytes, cleanEnv, modelscope, secrets, sha256, tempDir, writeModel } from "./helpers/hub.js";

const SPEC_CLIENT = path.join(REPO_ROOT, "test", "interop", "spec_client.py");
const hasRequests = spawnSync("/usr/bin/python3", ["-c", "import requests"]).status === 0;
const skip = hasRequests ? false : "/usr/bin/python3 has no `requests` module (install Debian's python3-requests; .ci/run does)";

const FILES = {
  "config.json": '{"model_type": "llama"}\n',
  "weights/model part 1.bin": bytes(64 * 1024, 7),
  "tokenizer+vocab.txt": "a b c\n",
};

let root: string;
let serve: ChildProcessWithoutNullStreams;
let url: string;
let token: string;

/** Starts `modelscope serve` as a real process on a free port and waits for its address. */
async function startServe(hubRoot: string): Promise<{ child: ChildProcessWithoutNullStreams; url: string }> {
  const child = spawn(process.execPath, [MODELSCOPE_BIN, "serve", "--root", hubRoot, "--port", "0", "--redirect-threshold-mb", "0.01"], {
    env: cleanEnv(tempDir()),
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  const address = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/ at (http:\/\/\S+)/);
      if (m) resolve(m[1]!);
    });
    child.once("exit", (code) => reject(new Error(`serve exited early (${code}): ${out}`)));
  });
  return { child, url: address };
}

before(async () => {
  root = tempDir("dc-serve-");
  writeModel(root, "acme/private-model", FILES);
  // `serve user add` prints the token once on stdout.
  const added = await modelscope(["serve", "user", "add", "alice", "--root", root, "--email", "alice@corp.example"]);
  assert.equal(added.code, 0, added.stderr);
  token = added.stdout.trim();
  secrets.add(token);
  const config = JSON.parse(fs.readFileSync(path.join(root, "hub.json"), "utf8")) as Record<string, unknown>;
  config.private = { "acme/private-model": ["alice"] };
  fs.writeFileSync(path.join(root, "hub.json"), JSON.stringify(config));
  ({ child: serve, url } = await startServe(root));
});

after(async () => {
  if (serve && serve.exitCode === null) {
    serve.kill("SIGTERM");
    await once(serve, "exit");
  }
});

describe("a client written only from the protocol spec, against `modelscope serve`", { skip }, () => {
  test("signs in, reads model info, lists and downloads (with redirect and Range resume) a private model; our CLI then uses its cookie jar", async () => {
    const home = tempDir();
    const msHome = path.join(home, ".modelscope");
    const outDir = path.join(home, "out");
    const child = spawn("/usr/bin/python3", [SPEC_CLIENT, "acme/private-model", outDir], {
      env: cleanEnv(home, { MODELSCOPE_ENDPOINT: url, MODELSCOPE_HOME: msHome, SPEC_CLIENT_TOKEN: token }),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const [code] = (await once(child, "close")) as [number];
    assertNoSecrets(stdout + stderr, "spec_client.py");
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    const report = JSON.parse(stdout) as {
      login_username: string;
      cookie_expires_set: boolean;
      whoami: { username: string; email: string; id: number };
      model_info_id: string;
      model_private: boolean;
      files: { path: string; sha256: string; resumed_from: number; resume_status?: number; redirected: boolean }[];
    };
    assert.equal(report.login_username, "alice");
    assert.equal(report.cookie_expires_set, true);
    assert.deepEqual(report.whoami, { id: 1, username: "alice", email: "alice@corp.example" });
    assert.equal(report.model_info_id, "acme/private-model");
    assert.equal(report.model_private, true);
    assert.deepEqual(report.files.map((f) => f.path).sort(), Object.keys(FILES).sort());
    for (const f of report.files) {
      const want = FILES[f.path as keyof typeof FILES];
      assert.equal(f.sha256, sha256(want), f.path);
      assert.ok(fs.readFileSync(path.join(outDir, ...f.path.split("/"))).equals(Buffer.from(want)), f.path);
      assert.ok(f.resumed_from > 0 && f.resume_status === 206, `${f.path} was not resumed with a 206`);
    }
    // The big file went through the CDN redirect, which refuses hub credentials: requests dropped them.
    assert.equal(report.files.find((f) => f.path === "weights/model part 1.bin")!.redirected, true);

    // Our CLI is now signed in through the official client's pickle.
    const env = cleanEnv(home, { MODELSCOPE_ENDPOINT: url, MODELSCOPE_HOME: msHome });
    assert.ok(fs.existsSync(path.join(msHome, "credentials", "cookies")));
    assert.ok(!fs.existsSync(path.join(msHome, "token")));
    const who = await modelscope(["whoami"], { env });
    assert.equal(who.code, 0, who.stderr);
    assert.match(who.stdout, /^username\s*: alice$/m);
    assert.ok(who.stdout.includes(`(from ${path.join(msHome, "credentials", "cookies")} (official client))`), who.stdout);
    const status = await modelscope(["auth", "status", "--json"], { env });
    assert.equal(status.code, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as { tokenSource: string }).tokenSource, "official-cookie");
    // One login for both tools (issue 12): our logout signs the official client out too.
    const out = await modelscope(["logout"], { env });
    assert.equal(out.code, 0);
    assert.doesNotMatch(out.stderr, /still signs you in/);
    assert.ok(!fs.existsSync(path.join(msHome, "credentials", "cookies")));
  });

  test("a rejected token gets 401 from POST /api/v1/login and no cookie", async () => {
    const home = tempDir();
    const bogus = "ms-ffffffff-0000-0000-0000-notarealtoken";
    const child = spawn("/usr/bin/python3", [SPEC_CLIENT, "acme/private-model", path.join(home, "out")], {
      env: cleanEnv(home, { MODELSCOPE_ENDPOINT: url, MODELSCOPE_HOME: path.join(home, ".modelscope"), SPEC_CLIENT_TOKEN: bogus }),
    });
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    const [code] = (await once(child, "close")) as [number];
    assert.equal(code, 1);
    assert.deepEqual(JSON.parse(stdout), { ok: false, error: "login answered 401" });
    assert.ok(!fs.existsSync(path.join(home, ".modelscope", "credentials", "cookies")));
  });
});

describe("`modelscope serve user add`", () => {
  test("prints the token once on stdout and stores only its sha256 (hub.json 0600)", () => {
    const text = fs.readFileSync(path.join(root, "hub.json"), "utf8");
    assert.match(token, /^ms-[0-9a-f-]{36}$/);
    assert.ok(!text.includes(token), "hub.json holds the token itself");
    const config = JSON.parse(text) as { users: { username: string; token_sha256: string; email: string }[] };
    assert.equal(config.users[0]!.username, "alice");
    assert.equal(config.users[0]!.token_sha256, sha256(token));
    assert.equal(fs.statSync(path.join(root, "hub.json")).mode & 0o777, 0o600);
  });

  test("a second user gets another token; an existing name or a bad name is bad usage (exit 2)", async () => {
    const r = await modelscope(["serve", "user", "add", "bob", "--root", root]);
    assert.equal(r.code, 0, r.stderr);
    const bobToken = r.stdout.trim();
    secrets.add(bobToken);
    assert.notEqual(bobToken, token);
    assert.equal(r.stdout.split("\n").filter(Boolean).length, 1, "the token is printed exactly once");
    assert.equal((await modelscope(["serve", "user", "add", "bob", "--root", root])).code, 2);
    assert.equal((await modelscope(["serve", "user", "add", "../evil", "--root", root])).code, 2);
    // The running server picks up the new user without a restart, and bob is not a member of the private model.
    const env = cleanEnv(tempDir(), { MODELSCOPE_ENDPOINT: url });
    const login = await modelscope(["login", "--token-stdin"], { env, input: bobToken });
    assert.equal(login.code, 0, login.stderr);
    assert.equal(login.stdout, "Logged in as bob.\n");
  });
});
