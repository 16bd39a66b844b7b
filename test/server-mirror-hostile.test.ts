// `serve --upstream` in front of a broken or hostile upstream: what upstream sends is untrusted. An answer
// that never ends is refused past a cap, a listing's sizes and sha256s are checked as our client checks
// them, a cut answer is not taken for the whole one, and upstream's content types do not turn the
// mirror's origin into a web page.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { MirrorAccess } from "../src/server/mirror/access.js";
import { MetaCache } from "../src/server/mirror/meta-cache.js";
import type { Upstream } from "../src/server/mirror/upstream.js";
import { repoRef } from "../src/server/store/layout.js";
import { fakeUpstream, type FakeUpstream } from "./helpers/fake-upstream.js";
import { tempDir } from "./helpers/hub.js";
import { startServe, type ServeProcess } from "./helpers/serve-process.js";

const MiB = 1024 * 1024;
let upstream: FakeUpstream;
let mirror: ServeProcess;

/** A listing of one file, as the hub answers repo/files. */
const listing = (file: Record<string, unknown>) => JSON.stringify({ Code: 200, Data: { Files: [{ Path: "w.bin", Name: "w.bin", Type: "blob", ...file }] } });

before(async () => {
  upstream = await fakeUpstream((req, res, url) => {
    const repo = /^\/api\/v1\/models\/evil\/([^/]+)/.exec(url.pathname)?.[1];
    if (req.method === "HEAD") return void res.writeHead(200).end();
    if (repo === "huge") {
      // A listing that goes on and on (70 MiB of JSON-looking bytes).
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = Buffer.alloc(MiB, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < 70) {
          sent++;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        res.end();
      };
      return pump();
    }
    if (repo === "cut") {
      res.writeHead(200, { "content-type": "application/json", "content-length": 1000 });
      res.write('{"Code": 200, "Data": {"Files": [');
      return void setTimeout(() => res.socket?.destroy(), 50);
    }
    if (repo === "html") {
      res.writeHead(200, { "content-type": "text/html" });
      return void res.end("<script>alert(document.cookie)</script>");
    }
    const files = { badsize: { Size: -1 }, fractional: { Size: 1.5 }, badsha: { Size: 3, Sha256: "../../etc" } }[repo ?? ""];
    if (files && url.pathname.endsWith("/repo/files")) {
      res.writeHead(200, { "content-type": "application/json" });
      return void res.end(listing(files));
    }
    res.writeHead(404, { "content-type": "application/json" });
    res.end(JSON.stringify({ Code: 404, Message: "no such thing" }));
  });
  mirror = await startServe(["--root", tempDir("dc-mirror-hostile-"), "--upstream", upstream.url, "--mirror-ttl", "0", "--access-log", "off"]);
});

after(async () => {
  await mirror?.stop();
  await upstream?.close();
});

const get = async (path: string) => {
  const res = await fetch(`${mirror.url}${path}`);
  return { status: res.status, type: res.headers.get("content-type"), sniff: res.headers.get("x-content-type-options"), text: await res.text() };
};

test("an upstream answer past 64 MiB is refused, not held in memory and relayed", async () => {
  const r = await get("/api/v1/models/evil/huge/repo/files?Revision=master&Recursive=True");
  assert.equal(r.status, 502);
  assert.match(r.text, /sent an answer larger than 64 MiB, and evil\/huge was never fetched through this mirror/);
  // The mirror is still there.
  assert.equal((await get("/api/v1/models/evil/nothing")).status, 404);
});

test("an upstream answer cut short is not taken for the whole one", async () => {
  const r = await get("/api/v1/models/evil/cut/repo/files?Revision=master&Recursive=True");
  assert.equal(r.status, 502);
  assert.match(r.text, /cut its answer short/);
});

test("a listed size or sha256 that is not one: the file is refused with upstream named, nothing fetched", async () => {
  for (const [repo, why] of [
    ["badsize", /with a size that is not a byte count/],
    ["fractional", /with a size that is not a byte count/],
    ["badsha", /with a sha256 that is not 64 hex digits/],
  ] as const) {
    const r = await get(`/api/v1/models/evil/${repo}/repo?Revision=master&FilePath=w.bin`);
    assert.equal(r.status, 502, repo);
    assert.match(r.text, why, repo);
    assert.match(r.text, /The upstream hub http:\/\/127\.0\.0\.1:\d+ lists w\.bin of evil\//, repo);
  }
});

test("upstream's HTML goes out as plain text, never sniffed", async () => {
  const r = await get("/api/v1/models/evil/html");
  assert.equal(r.status, 200);
  assert.equal(r.type, "text/plain; charset=utf-8");
  assert.equal(r.sniff, "nosniff");
  // JSON stays JSON.
  const j = await get("/api/v1/models/evil/nothing");
  assert.equal(j.type, "application/json");
});

test("answers kept in memory are bounded in bytes, the oldest going first", () => {
  const cache = new MetaCache(tempDir("dc-meta-"), 60_000);
  // One buffer put under five keys: the cache counts each answer's bytes (60 MiB each, 300 MiB in all).
  const body = Buffer.alloc(60 * MiB);
  for (let i = 1; i <= 5; i++) cache.put("some-token-hash", `/api/v1/models/evil/m${i}/repo/files`, { status: 200, body, contentType: "application/json" });
  // Booleans only: a failed assertion would print the 60 MiB answer.
  const kept = (i: number) => cache.get("some-token-hash", `/api/v1/models/evil/m${i}/repo/files`) !== undefined;
  assert.deepEqual([1, 2, 3, 4, 5].map(kept), [false, true, true, true, true]);
});

test("a client with many tokens costs the others at most their oldest access answers, not all at once", async () => {
  let asked = 0;
  const upstream = { mayDownload: async () => (asked++, { ok: true as const }) } as unknown as Upstream;
  const access = new MirrorAccess(tempDir("dc-access-"), upstream, 60_000);
  const ref = repoRef("model", "acme", "priv")!;
  const ask = (i: number) => access.mayDownload(ref, "master", "w.bin", `token-${i}`);
  await ask(0);
  for (let i = 1; i <= 10_000; i++) await ask(i); // 10,001 tokens: one more than the mirror keeps
  asked = 0;
  await ask(5_000);
  await ask(10_000);
  assert.equal(asked, 0, "recent tokens' answers were dropped");
  await ask(0);
  assert.equal(asked, 1, "the oldest answer was kept past the bound");
});
