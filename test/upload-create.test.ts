// `modelscope create` against the local hub: private by default, each error its own line and exit code,
// and a private repo invisible to everyone else.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { cleanEnv, modelscope, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";

describe("modelscope create", () => {
  let hub: TestHub;
  const env = (user?: string, extra: Record<string, string> = {}) => cleanEnv(tempDir(), { MODELSCOPE_ENDPOINT: hub.url, MODELSCOPE_API_TOKEN: user ? hub.tokens[user] : undefined, ...extra });

  before(async () => {
    hub = await startTestHub({ users: ["alice", "bob", "carol"] });
    const file = path.join(hub.root, "hub.json");
    const config = JSON.parse(fs.readFileSync(file, "utf8"));
    config.organizations = { lab: ["alice"] };
    fs.writeFileSync(file, JSON.stringify(config));
  });
  after(() => hub.close());

  it("creates a private repo by default: its owner sees it, nobody else does", async () => {
    const r = await modelscope(["create", "alice/secret"], { env: env("alice") });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `${hub.url}/models/alice/secret`);
    assert.match(r.stderr, /Created private repository alice\/secret/);
    const mine = await fetch(`${hub.url}/api/v1/models/alice/secret`, { headers: { authorization: `Bearer ${hub.tokens.alice}` } });
    assert.equal(mine.status, 200);
    assert.equal(((await mine.json()) as { Data: { Visibility: number } }).Data.Visibility, 1);
    assert.equal((await fetch(`${hub.url}/api/v1/models/alice/secret`)).status, 404);
    assert.equal((await fetch(`${hub.url}/api/v1/models/alice/secret`, { headers: { authorization: `Bearer ${hub.tokens.bob}` } })).status, 404);
    // An empty repo: master lists nothing.
    const files = await fetch(`${hub.url}/api/v1/models/alice/secret/repo/files?Revision=master`, { headers: { authorization: `Bearer ${hub.tokens.alice}` } });
    assert.deepEqual(((await files.json()) as { Data: { Files: unknown[] } }).Data.Files, []);
  });

  it("creates a public repo only when asked, and `repo create` is the same command", async () => {
    const r = await modelscope(["repo", "create", "alice/open", "--visibility", "public"], { env: env("alice") });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await fetch(`${hub.url}/api/v1/models/alice/open`)).status, 200);
  });

  it("an existing name is its own error (exit 2), whatever its case; --exist-ok accepts it", async () => {
    const again = await modelscope(["create", "alice/SECRET"], { env: env("alice") });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /^Error: Repository alice\/SECRET already exists\n {2}Fix: .*--exist-ok/);
    const ok = await modelscope(["create", "alice/secret", "--exist-ok"], { env: env("alice") });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /already exists/);
  });

  it("signed out: one line naming login, exit 1, nothing created", async () => {
    const r = await modelscope(["create", "alice/nope"], { env: env() });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: Not logged in.*\n {2}Fix: run `modelscope login`/);
    assert.equal(fs.existsSync(path.join(hub.root, "models", "alice--nope")), false);
  });

  it("someone else's namespace: no permission (exit 1); an organisation that lists you: allowed", async () => {
    const r = await modelscope(["create", "alice/bobs-try"], { env: env("bob") });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: No permission to create alice\/bobs-try\n {2}Fix: create it under your own user name/);
    assert.equal(fs.existsSync(path.join(hub.root, "models", "alice--bobs-try")), false);
    const org = await modelscope(["create", "lab/shared"], { env: env("alice") });
    assert.equal(org.code, 0, org.stderr);
    const deny = await modelscope(["create", "lab/other"], { env: env("carol") });
    assert.equal(deny.code, 1);
  });

  it("a bad name or flag is a usage error (exit 2) before any request", async () => {
    for (const args of [["create", "alice/-bad"], ["create", "no-slash"], ["create", "alice/x..y"], ["create", "alice/ok", "--visibility", "secret"], ["create", "alice/ok", "--repo-type", "space"]]) {
      const r = await modelscope(args, { env: env("alice") });
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /^Error: .*\n {2}Fix: /);
    }
  });

  it("creates datasets too (private)", async () => {
    const r = await modelscope(["create", "alice/data1", "--repo-type", "dataset"], { env: env("alice") });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await fetch(`${hub.url}/api/v1/datasets/alice/data1`)).status, 404);
    assert.equal((await fetch(`${hub.url}/api/v1/datasets/alice/data1`, { headers: { authorization: `Bearer ${hub.tokens.alice}` } })).status, 200);
  });

  it("Chinese messages under a Chinese locale", async () => {
    const r = await modelscope(["create", "alice/secret"], { env: env("alice", { LANG: "zh_CN.UTF-8" }) });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^错误：仓库 alice\/secret 已存在\n {2}解决：/);
  });
});
