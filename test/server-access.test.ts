// Who may see what on the local hub (hub.json), and what a user is told: private models are invisible
// (404) to anyone not listed, gated ones are listed for all but 401/403 to download for non-members.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AccessDeniedError, NotFoundError, NotLoggedInError } from "../src/errors.js";
import { HubApi } from "../src/hub/api.js";
import { closeDispatchers } from "../src/http/dispatcher.js";
import { cleanEnv, modelscope, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";

let hub: TestHub;
let alice: string;
let bob: string;

before(async () => {
  hub = await startTestHub({
    models: { "acme/public": { "a.txt": "public" }, "acme/private": { "p.txt": "private" }, "acme/gated": { "g.txt": "gated" } },
    users: ["alice", "bob"],
    private: { "acme/private": ["alice"] },
    gated: { "acme/gated": ["alice"] },
  });
  ({ alice, bob } = hub.tokens as { alice: string; bob: string });
});
after(async () => {
  await closeDispatchers();
  await hub.close();
});

const api = (token?: string) => new HubApi({ endpoint: hub.url, token, home: tempDir(), env: {}, network: { maxRetries: 0 } });
const cli = (args: string[], extra: Record<string, string | undefined> = {}) => modelscope(args, { env: cleanEnv(tempDir(), { MODELSCOPE_ENDPOINT: hub.url, MODELSCOPE_API_MAX_RETRIES: "0", ...extra }) });

describe("private models (hub.json `private`)", () => {
  test("a member sees it: info, listing, file", async () => {
    const info = await api(alice).modelInfo("acme/private");
    assert.equal(info.private, true);
    assert.deepEqual((await api(alice).listFiles("acme/private")).map((f) => f.path), ["p.txt"]);
    assert.equal(await (await api(alice).openFile("acme/private", "p.txt")).body.text(), "private");
  });

  for (const [who, token] of [
    ["signed out", () => undefined],
    ["a non-member", () => bob],
  ] as const) {
    test(`${who} gets 404 everywhere, exactly like a model that does not exist`, async () => {
      const a = api(token());
      const signedIn = token() !== undefined;
      const isNotFound = (e: unknown) => e instanceof NotFoundError && e.signedIn === signedIn;
      await assert.rejects(a.modelInfo("acme/private"), isNotFound);
      await assert.rejects(a.listRevisions("acme/private"), isNotFound);
      await assert.rejects(a.listFiles("acme/private"), isNotFound);
      await assert.rejects(a.openFile("acme/private", "p.txt"), isNotFound);
      for (const p of ["/openapi/v1/models/acme/private", "/api/v1/models/acme/private", "/api/v1/models/acme/private/repo/files?Revision=master", "/api/v1/models/acme/private/repo?Revision=master&FilePath=p.txt"]) {
        const headers: Record<string, string> = token() ? { authorization: `Bearer ${token()}` } : {};
        const r = await fetch(hub.url + p, { headers });
        assert.equal(r.status, 404, p);
        assert.equal((await r.json()) instanceof Object, true);
      }
      const missing = await fetch(`${hub.url}/api/v1/models/acme/missing`);
      assert.equal(missing.status, 404);
      await missing.body?.cancel();
      // Not listed for them either.
      const list = (await (await fetch(`${hub.url}/openapi/v1/models`, { headers: token() ? { authorization: `Bearer ${token()}` } : {} })).json()) as { data: { models: { id: string }[] } };
      assert.ok(!list.data.models.some((m) => m.id === "acme/private"));
    });
  }

  test("the CLI: signed out says to sign in; a non-member is told to ask the owner; a member sees it", async () => {
    const out = await cli(["info", "acme/private"]);
    assert.equal(out.code, 1);
    assert.match(out.stderr, /^Error: Not found: acme\/private$/m);
    assert.match(out.stderr, /if it is private, sign in with `modelscope login`/);
    const nonMember = await cli(["info", "acme/private"], { MODELSCOPE_API_TOKEN: bob });
    assert.equal(nonMember.code, 1);
    assert.match(nonMember.stderr, /^Error: Not found: acme\/private$/m);
    assert.match(nonMember.stderr, /ask its owner for access/);
    const member = await cli(["info", "acme/private"], { MODELSCOPE_API_TOKEN: alice });
    assert.equal(member.code, 0, member.stderr);
    assert.match(member.stdout, /private/);
    const zh = await cli(["info", "acme/private"], { LANG: "zh_CN.UTF-8" });
    assert.match(zh.stderr, /^错误：未找到：acme\/private$/m);
  });
});

describe("gated models (hub.json `gated`)", () => {
  test("visible and listed for everyone", async () => {
    for (const token of [undefined, bob, alice]) {
      assert.equal((await api(token).modelInfo("acme/gated")).id, "acme/gated");
      assert.deepEqual((await api(token).listFiles("acme/gated")).map((f) => f.path), ["g.txt"]);
    }
  });

  test("download: signed out is 401 (not logged in), a non-member is 403 (access denied), a member gets the bytes", async () => {
    await assert.rejects(api().openFile("acme/gated", "g.txt"), NotLoggedInError);
    await assert.rejects(api(bob).openFile("acme/gated", "g.txt"), (e: unknown) => e instanceof AccessDeniedError && e.subject.modelId === "acme/gated");
    assert.equal(await (await api(alice).openFile("acme/gated", "g.txt")).body.text(), "gated");
    const raw = await fetch(`${hub.url}/api/v1/models/acme/gated/repo?Revision=master&FilePath=g.txt`, { headers: { authorization: `Bearer ${bob}` } });
    assert.equal(raw.status, 403);
    await raw.body?.cancel();
  });

  test("the CLI tells a signed-in non-member `Access denied` with the model named", async () => {
    const r = await cli(["download", "acme/gated", "--cache-dir", tempDir()], { MODELSCOPE_API_TOKEN: bob, MODELSCOPE_DOWNLOAD_MAX_RETRIES: "0" });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Access denied/);
    assert.match(r.stderr, /acme\/gated/);
  });
});

describe("sign-in endpoints of the local hub", () => {
  test("POST /api/v1/login: 200 + envelope + m_session_id cookie (30 days); 401 bad token; 400 null token", async () => {
    const ok = await fetch(`${hub.url}/api/v1/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ AccessToken: alice }) });
    assert.equal(ok.status, 200);
    const body = (await ok.json()) as { Code: number; Success: boolean; Data: { Username: string; Email: string; AccessToken: string } };
    assert.equal(body.Code, 200);
    assert.equal(body.Success, true);
    assert.equal(body.Data.Username, "alice");
    assert.equal(body.Data.Email, "alice@example.com");
    assert.ok(body.Data.AccessToken && body.Data.AccessToken !== alice, "the git token is not the API token");
    const cookie = ok.headers.get("set-cookie") ?? "";
    assert.match(cookie, /^m_session_id=[^;]+; Path=\//);
    const expires = Date.parse(/Expires=([^;]+)/.exec(cookie)![1]!);
    assert.ok(expires > Date.now() + 29 * 24 * 3600 * 1000);
    assert.ok(ok.headers.get("x-request-id"));
    const bad = await fetch(`${hub.url}/api/v1/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ AccessToken: "ms-nope" }) });
    assert.equal(bad.status, 401);
    assert.equal(((await bad.json()) as { Success: boolean }).Success, false);
    const nul = await fetch(`${hub.url}/api/v1/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ AccessToken: null }) });
    assert.equal(nul.status, 400);
    await nul.body?.cancel();
  });

  test("GET /openapi/v1/users/me: by Bearer or by m_session_id cookie; 401 otherwise", async () => {
    const byBearer = await fetch(`${hub.url}/openapi/v1/users/me`, { headers: { authorization: `Bearer ${bob}` } });
    assert.deepEqual(((await byBearer.json()) as { data: { username: string } }).data.username, "bob");
    const byCookie = await fetch(`${hub.url}/openapi/v1/users/me`, { headers: { cookie: `m_session_id=${bob}` } });
    const me = (await byCookie.json()) as { success: boolean; data: Record<string, unknown> };
    assert.equal(me.success, true);
    assert.deepEqual(Object.keys(me.data).sort(), ["avatar_url", "description", "email", "id", "username"]);
    for (const headers of [{}, { authorization: "Bearer ms-nope" }] as Record<string, string>[]) {
      const r = await fetch(`${hub.url}/openapi/v1/users/me`, { headers });
      assert.equal(r.status, 401);
      assert.equal(((await r.json()) as { success: boolean }).success, false);
    }
  });
});

describe("file listing options of the local hub", () => {
  let listHub: TestHub;
  before(async () => {
    listHub = await startTestHub({ models: { "acme/tree": { "a.json": "1", "sub/b.bin": "2", "sub/deep/c.txt": "3", "subway.txt": "4" } } });
  });
  after(() => listHub.close());

  const list = async (query: string) => {
    const res = await fetch(`${listHub.url}/api/v1/models/acme/tree/repo/files?Revision=master&${query}`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { Data: { Files: { Path: string }[] } };
    return body.Data.Files.map((f) => f.Path);
  };

  test("Recursive and Root: everything, one folder, or only a folder's own files", async () => {
    assert.deepEqual(await list("Recursive=True"), ["a.json", "sub/b.bin", "sub/deep/c.txt", "subway.txt"]);
    assert.deepEqual(await list("Recursive=False"), ["a.json", "subway.txt"]);
    assert.deepEqual(await list("Recursive=True&Root=sub"), ["sub/b.bin", "sub/deep/c.txt"]);
    assert.deepEqual(await list("Recursive=False&Root=sub"), ["sub/b.bin"]);
    assert.deepEqual(await list("Recursive=True&Root=..%2F.."), []);
  });
});
