// `serve user|org|access` attacked with odd input and run many at once on one root: nothing odd is
// stored or printed raw, no change is lost, hub.json stays 0600 and never holds a token.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { test } from "node:test";
import { modelscope, tempDir } from "./helpers/hub.js";

test("an email with control characters is refused; one already in hub.json is listed escaped", async () => {
  const root = tempDir("dc-attack-admin-");
  const r = await modelscope(["serve", "user", "add", "alice", "--root", root, "--email", "a\x1b]0;PWNED\x07\x1b[2J@x"]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /Invalid --email: empty, with control characters, or over 254 characters/);
  assert.equal(r.stdout, "", "no token for a user that was not added");
  assert.ok(!fs.existsSync(path.join(root, "hub.json")), "nothing written");
  // An administrator's own edit of hub.json: `user list` must not hand its escapes to the terminal.
  fs.writeFileSync(path.join(root, "hub.json"), JSON.stringify({ users: [{ username: "bob", email: "b\x1b[2J\u202e@x", token_sha256: "0".repeat(64) }] }), { mode: 0o600 });
  const list = await modelscope(["serve", "user", "list", "--root", root]);
  assert.equal(list.code, 0, list.stderr);
  assert.equal(list.stdout, "bob\tb\\x1b[2J\\u{202e}@x\n");
});

test("user and organisation names longer than 100 characters are refused", async () => {
  const root = tempDir("dc-attack-admin-");
  const long = "n".repeat(101);
  const user = await modelscope(["serve", "user", "add", long, "--root", root]);
  assert.equal(user.code, 2, user.stderr);
  assert.match(user.stderr, /Invalid user name .*at most 100/s);
  const org = await modelscope(["serve", "org", "add", long, "--root", root]);
  assert.equal(org.code, 2, org.stderr);
  assert.match(org.stderr, /Invalid organisation name .*at most 100/s);
  const ok = await modelscope(["serve", "user", "add", "n".repeat(100), "--root", root]);
  assert.equal(ok.code, 0, ok.stderr);
});

test("admin commands at once on one root: every change kept, hub.json 0600 with no token in it", async () => {
  const root = tempDir("dc-attack-admin-");
  // An administrator's hand-made hub.json, readable by all: the first edit makes it 0600.
  fs.writeFileSync(path.join(root, "hub.json"), "{}\n", { mode: 0o644 });
  const users = ["u1", "u2", "u3", "u4", "u5"];
  const runs = await Promise.all([...users.map((u) => modelscope(["serve", "user", "add", u, "--root", root])), ...["o1", "o2", "o3"].map((o) => modelscope(["serve", "org", "add", o, "--root", root]))]);
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  const tokens = runs.slice(0, users.length).map((r) => r.stdout.trim());
  const list = await modelscope(["serve", "user", "list", "--root", root]);
  assert.deepEqual(list.stdout.split("\n").filter(Boolean).map((l) => l.split("\t")[0]).sort(), users);
  const orgs = await modelscope(["serve", "org", "list", "--root", root]);
  assert.deepEqual(orgs.stdout.split("\n").filter(Boolean).map((l) => l.split("\t")[0]).sort(), ["o1", "o2", "o3"]);
  const file = path.join(root, "hub.json");
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const text = fs.readFileSync(file, "utf8");
  for (const t of tokens) {
    assert.match(t, /^ms-[0-9a-f-]{36}$/);
    assert.ok(!text.includes(t) && !list.stdout.includes(t), "a token in hub.json or the user list");
  }
  // No lock left behind.
  assert.deepEqual(fs.readdirSync(path.join(root, ".dc-hub")).filter((f) => f.startsWith("hub.json.lock")), []);
});
