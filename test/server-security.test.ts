// The local hub as an attacker would try it (issue 10, hub items 1-3, 5-7): one model has one id, hub.json
// failing never opens anything, nothing outside the root through links, sign-in rate-limited and JSON
// only, malformed percent-encoding is a 400, and a private model costs what a missing one does.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { hubStats, rawRequest as request, startTestHub, tempDir, type TestHub } from "./helpers/hub.js";

const bearer = (token: string | undefined): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

/** Every read endpoint of a model, as a path. */
function modelPaths(id: string): string[] {
  return [
    `/openapi/v1/models/${id}`,
    `/api/v1/models/${id}`,
    `/api/v1/models/${id}/revisions`,
    `/api/v1/models/${id}/repo/files?Revision=master`,
    `/api/v1/models/${id}/repo?Revision=master&FilePath=secret.txt`,
  ];
}

describe("one model, one id (issue 10 item 1)", () => {
  let hub: TestHub;
  before(async () => {
    // The folder acme--llama--7b is the model acme/llama--7b, private to alice.
    hub = await startTestHub({ models: { "acme/llama--7b": { "secret.txt": "weights" } }, users: ["alice"], private: { "acme/llama--7b": ["alice"] } });
  });
  after(() => hub.close());

  test("an alias spelling of the folder (acme--llama/7b) reaches nothing: info, revisions, listing, file, list", async () => {
    for (const p of modelPaths("acme--llama/7b")) {
      const r = await request(hub.url + p);
      assert.equal(r.status, 404, p);
      assert.ok(!r.text.includes("weights"), p);
    }
    const list = JSON.parse((await request(`${hub.url}/openapi/v1/models`)).text) as { data: { models: { id: string }[] } };
    assert.deepEqual(list.data.models, []);
  });

  test("the canonical id: hidden from others, served to its member", async () => {
    for (const p of modelPaths("acme/llama--7b")) assert.equal((await request(hub.url + p)).status, 404, p);
    for (const p of modelPaths("acme/llama--7b")) assert.equal((await request(hub.url + p, { headers: bearer(hub.tokens.alice) })).status, 200, p);
    const list = JSON.parse((await request(`${hub.url}/openapi/v1/models`, { headers: bearer(hub.tokens.alice) })).text) as { data: { models: { id: string }[] } };
    assert.deepEqual(list.data.models.map((m) => m.id), ["acme/llama--7b"]);
  });
});

describe("hub.json fails closed at run time (issue 10 item 2)", () => {
  let hub: TestHub;
  let root: string;
  const warnings: string[] = [];
  before(async () => {
    root = tempDir("dc-hub-");
    hub = await startTestHub({
      root,
      models: { "acme/private": { "secret.txt": "private bytes" }, "acme/gated": { "g.txt": "gated bytes" }, "acme/public": { "a.txt": "public" } },
      users: ["alice"],
      private: { "acme/private": ["alice"] },
      gated: { "acme/gated": ["alice"] },
      warn: (line) => warnings.push(line),
    });
  });
  after(() => hub.close());

  const hidden = async () => {
    assert.equal((await request(`${hub.url}/api/v1/models/acme/private`)).status, 404);
    assert.equal((await request(`${hub.url}/api/v1/models/acme/private/repo?Revision=master&FilePath=secret.txt`)).status, 404);
    assert.equal((await request(`${hub.url}/api/v1/models/acme/gated/repo?Revision=master&FilePath=g.txt`)).status, 401);
    assert.equal((await request(`${hub.url}/api/v1/models/acme/public/repo?Revision=master&FilePath=a.txt`)).text, "public");
  };

  test("removed, broken, or made unreadable: private and gated stay hidden, and nothing of the file is echoed", async () => {
    const file = path.join(root, "hub.json");
    const good = fs.readFileSync(file, "utf8");
    await hidden();
    fs.rmSync(file);
    await hidden();
    fs.writeFileSync(file, `${good.slice(0, 40)} SECRET-CONTENT`);
    await hidden();
    for (const p of ["/api/v1/models/acme/private", "/openapi/v1/models", "/api/v1/models/acme/public/repo/files"]) {
      const r = await request(hub.url + p);
      assert.ok(!r.text.includes("SECRET-CONTENT") && !r.text.includes(root), `${p} echoed the file: ${r.text}`);
    }
    fs.rmSync(file);
    fs.mkdirSync(file); // unreadable: a folder where the file should be
    await hidden();
    fs.rmdirSync(file);
    // Fixed again: the file's rules apply, its member gets in.
    fs.writeFileSync(file, good);
    const member = await request(`${hub.url}/api/v1/models/acme/private/repo?Revision=master&FilePath=secret.txt`, { headers: bearer(hub.tokens.alice) });
    assert.equal(member.text, "private bytes");
    assert.ok(warnings.some((w) => /hub\.json is gone/.test(w)), warnings.join("\n"));
    assert.ok(warnings.some((w) => /not valid JSON.*keeping its last good rules/.test(w)), warnings.join("\n"));
    assert.ok(!warnings.some((w) => w.includes("SECRET-CONTENT")));
  });

  test("a hub started without hub.json refuses everything (503) when a broken one appears, until it is fixed", async () => {
    const bare = await startTestHub({ models: { "acme/maybe-private": { "a.txt": "x" } }, warn: () => undefined });
    try {
      assert.equal((await request(`${bare.url}/api/v1/models/acme/maybe-private`)).status, 200);
      fs.writeFileSync(path.join(bare.root, "hub.json"), '{"private": {"acme/maybe-private": []},');
      const r = await request(`${bare.url}/api/v1/models/acme/maybe-private/repo?Revision=master&FilePath=a.txt`);
      assert.equal(r.status, 503);
      assert.ok(!r.text.includes("private"), r.text);
      assert.equal((await request(`${bare.url}/openapi/v1/models`)).status, 503);
      fs.writeFileSync(path.join(bare.root, "hub.json"), '{"private": {"acme/maybe-private": []}}');
      assert.equal((await request(`${bare.url}/api/v1/models/acme/maybe-private`)).status, 404);
    } finally {
      await bare.close();
    }
  });
});

describe("links never lead out of the root (issue 10 item 3)", () => {
  let hub: TestHub;
  before(async () => {
    const outside = tempDir("dc-outside-");
    fs.writeFileSync(path.join(outside, "passwd"), "root:x:0:0");
    fs.mkdirSync(path.join(outside, "snapshots", "master"), { recursive: true });
    fs.writeFileSync(path.join(outside, "snapshots", "master", "stolen.txt"), "outside model");
    hub = await startTestHub({ models: { "acme/links": { "a.txt": "inside" } } });
    const snap = path.join(hub.root, "models", "acme--links", "snapshots", "master");
    fs.symlinkSync(outside, path.join(snap, "etc"));
    fs.symlinkSync(path.join(outside, "passwd"), path.join(snap, "passwd.txt"));
    // A link that stays inside the root still works (a file kept once, linked from a snapshot).
    fs.mkdirSync(path.join(hub.root, "blobs"));
    fs.writeFileSync(path.join(hub.root, "blobs", "b1"), "blob inside");
    fs.symlinkSync(path.join(hub.root, "blobs", "b1"), path.join(snap, "linked.txt"));
    // A whole model folder linked from outside.
    fs.symlinkSync(outside, path.join(hub.root, "models", "acme--elsewhere"));
  });
  after(() => hub.close());

  test("listing and serving skip whatever points outside; links inside keep working", async () => {
    const listing = JSON.parse((await request(`${hub.url}/api/v1/models/acme/links/repo/files?Revision=master`)).text) as { Data: { Files: { Path: string }[] } };
    assert.deepEqual(listing.Data.Files.map((f) => f.Path), ["a.txt", "linked.txt"]);
    for (const file of ["etc/passwd", "passwd.txt"]) {
      const r = await request(`${hub.url}/api/v1/models/acme/links/repo?Revision=master&FilePath=${file}`);
      assert.equal(r.status, 404, file);
      assert.ok(!r.text.includes("root:x"), file);
    }
    assert.equal((await request(`${hub.url}/api/v1/models/acme/links/repo?Revision=master&FilePath=linked.txt`)).text, "blob inside");
    assert.equal((await request(`${hub.url}/api/v1/models/acme/elsewhere/repo?Revision=master&FilePath=stolen.txt`)).status, 404);
    const list = JSON.parse((await request(`${hub.url}/openapi/v1/models`)).text) as { data: { models: { id: string }[] } };
    assert.deepEqual(list.data.models.map((m) => m.id), ["acme/links"]);
  });
});

describe("sign-in (issue 10 item 5)", () => {
  let hub: TestHub;
  before(async () => {
    hub = await startTestHub({ models: { "acme/m": { "a.txt": "x" } }, users: ["alice"], signInLimits: { burst: 3, refillMs: 60_000 } });
  });
  after(() => hub.close());

  const login = (token: string, localAddress: string, contentType = "application/json") =>
    request(`${hub.url}/api/v1/login`, { method: "POST", headers: { "content-type": contentType }, body: JSON.stringify({ AccessToken: token }), localAddress });

  test("failed sign-ins from one address are limited (429 + Retry-After, even for a right token); other addresses are not", async () => {
    for (let i = 0; i < 3; i++) assert.equal((await login("ms-wrong", "127.0.0.2")).status, 401);
    const limited = await login(hub.tokens.alice!, "127.0.0.2");
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers["retry-after"]) >= 1, String(limited.headers["retry-after"]));
    const whoami = await request(`${hub.url}/openapi/v1/users/me`, { headers: bearer("ms-wrong"), localAddress: "127.0.0.2" });
    assert.equal(whoami.status, 429);
    assert.equal((await login(hub.tokens.alice!, "127.0.0.3")).status, 200);
  });

  test("JSON only: a text/plain or form body is refused (login CSRF); the cookie is SameSite=Lax, Secure behind https", async () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      const r = await login(hub.tokens.alice!, "127.0.0.4", type);
      assert.equal(r.status, 415, type);
      assert.equal(r.headers["set-cookie"], undefined);
    }
    const ok = await login(hub.tokens.alice!, "127.0.0.4", "application/json; charset=utf-8");
    assert.equal(ok.status, 200);
    const cookie = ok.headers["set-cookie"]![0]!;
    assert.match(cookie, /; HttpOnly; SameSite=Lax$/);
    const viaTls = await request(`${hub.url}/api/v1/login`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-proto": "https" },
      body: JSON.stringify({ AccessToken: hub.tokens.alice }),
      localAddress: "127.0.0.4",
    });
    assert.match(viaTls.headers["set-cookie"]![0]!, /; SameSite=Lax; Secure$/);
  });
});

describe("malformed percent-encoding is a 400 (issue 10 item 6)", () => {
  let hub: TestHub;
  before(async () => {
    hub = await startTestHub({ models: { "acme/m": { "a.txt": "x" } } });
  });
  after(() => hub.close());

  test("in a path part or in the session cookie", async () => {
    for (const p of ["/api/v1/models/acme/%E0%A4%A", "/api/v1/models/%zz/m/revisions", "/api/v1/models/acme/m%/repo/files", "/openapi/v1/models/acme/%"]) {
      const r = await request(hub.url + p);
      assert.equal(r.status, 400, p);
      assert.match(r.text, /Malformed percent-encoding/);
    }
    const r = await request(`${hub.url}/openapi/v1/users/me`, { headers: { cookie: "m_session_id=%E0%A4%A" } });
    assert.equal(r.status, 400);
  });
});

describe("a private model costs what a missing one does (issue 10 item 7)", () => {
  let hub: TestHub;
  before(async () => {
    hub = await startTestHub({ models: { "acme/private": { "a.txt": "x" } }, users: ["alice"], private: { "acme/private": ["alice"] }, testFaults: true });
  });
  after(() => hub.close());

  test("the same hub.json work (one look, no read) and the same answer for both", async () => {
    const work = async (id: string) => {
      const before = (await hubStats(hub)) as unknown as { hubJsonChecks: number; hubJsonReads: number };
      const r = await request(`${hub.url}/api/v1/models/${id}`);
      const after = (await hubStats(hub)) as unknown as { hubJsonChecks: number; hubJsonReads: number };
      return { status: r.status, checks: after.hubJsonChecks - before.hubJsonChecks, reads: after.hubJsonReads - before.hubJsonReads, shape: r.text.replace(/"RequestId":"\w+"/, "").replace(id, "ID") };
    };
    const hiddenOne = await work("acme/private");
    const missing = await work("acme/missing");
    assert.deepEqual(hiddenOne, missing);
    assert.deepEqual({ checks: missing.checks, reads: missing.reads }, { checks: 1, reads: 0 });
  });
});
