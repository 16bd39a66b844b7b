// `serve --upstream` attacked by its clients and by its upstream: what a hostile party sends must not
// crash the mirror, reach its disk under names the disk refuses, or tell a client where the mirror keeps
// its files.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { MetaCache } from "../src/server/mirror/meta-cache.js";
import { fakeUpstream, type FakeUpstream } from "./helpers/fake-upstream.js";
import { rawRequest, tempDir } from "./helpers/hub.js";
import { startServe, type ServeProcess } from "./helpers/serve-process.js";

const BODY = "hello world 0123456789";
const SHA = createHash("sha256").update(BODY).digest("hex");
let upstream: FakeUpstream;
let mirror: ServeProcess;
let root: string;

before(async () => {
  // An upstream that has every repo, every revision and every file a client names: the mirror alone must refuse.
  upstream = await fakeUpstream((req, res, url, json) => {
    if (url.pathname.endsWith("/repo/files")) {
      const names = ["w.bin", "sub/w.bin", "s".repeat(300)];
      return json({ Code: 200, Data: { Files: names.map((n) => ({ Path: n, Name: n, Type: "blob", Size: BODY.length, Sha256: SHA })) } });
    }
    if (url.pathname.endsWith("/repo")) {
      res.writeHead(200, { "content-length": BODY.length });
      return void res.end(req.method === "HEAD" ? undefined : BODY);
    }
    json({ Code: 200, Data: { Id: 1 } });
  });
  root = tempDir("dc-attack-mirror-");
  const env = { MODELSCOPE_DOWNLOAD_MAX_RETRIES: "0", MODELSCOPE_API_MAX_RETRIES: "0" };
  mirror = await startServe(["--root", root, "--upstream", upstream.url, "--mirror-ttl", "0", "--access-log", "off"], env);
});

after(async () => {
  await mirror?.stop();
  await upstream?.close();
});

const get = (p: string) => rawRequest(`${mirror.url}${p}`);

test("names too long for a file name are refused as missing: no 500, no local path in the answer", async () => {
  const long = "n".repeat(250);
  for (const p of [
    `/api/v1/models/evil/${long}/repo?Revision=master&FilePath=w.bin`,
    `/api/v1/datasets/evil/${long}/repo?Revision=master&FilePath=w.bin`,
    `/api/v1/models/evil/m/repo?Revision=${"r".repeat(300)}&FilePath=w.bin`,
    `/api/v1/models/evil/m/repo?Revision=master&FilePath=${"s".repeat(300)}`,
    `/api/v1/models/evil/m/repo?Revision=master&FilePath=dir/${"s".repeat(300)}`,
  ]) {
    const r = await get(p);
    assert.equal(r.status, 404, `${p.slice(0, 60)}: ${r.text.slice(0, 200)}`);
    assert.ok(!r.text.includes(root), "the answer names the mirror's folder");
  }
  // Still serving.
  assert.equal((await get("/api/v1/models/evil/m/repo?Revision=master&FilePath=w.bin")).text, BODY);
});

test("a fill that fails on the mirror's own disk does not tell the client the mirror's paths", async () => {
  // A file where a folder must go (a crash, an operator's mistake: found before the fill), and a folder that
  // is a link (found by the fill, which never writes through one).
  fs.mkdirSync(path.join(root, "models", "evil--blocked"), { recursive: true });
  fs.writeFileSync(path.join(root, "models", "evil--blocked", "snapshots"), "not a folder");
  fs.mkdirSync(path.join(root, "models", "evil--linked", "snapshots", "master"), { recursive: true });
  fs.symlinkSync(tempDir("dc-attack-elsewhere-"), path.join(root, "models", "evil--linked", "snapshots", "master", "sub"));
  for (const [repo, file] of [["blocked", "w.bin"], ["linked", "sub/w.bin"]] as const) {
    const r = await get(`/api/v1/models/evil/${repo}/repo?Revision=master&FilePath=${file}`);
    assert.equal(r.status, 502, r.text);
    assert.ok(!r.text.includes(root), `the answer names the mirror's folder: ${r.text.slice(0, 300)}`);
    assert.match(r.text, new RegExp(`The mirror could not keep ${file.replace(".", "\\.")} of evil/${repo} on its disk`));
    // The operator is told where.
    assert.ok(mirror.stderr().includes(path.join(root, "models", `evil--${repo}`)), mirror.stderr());
  }
  // A folder where the fill's landing file goes: an error before any byte, not a 200 cut short.
  fs.mkdirSync(path.join(root, "models", "evil--landing", "snapshots", "master", "w.bin.incomplete"), { recursive: true });
  const landing = await get("/api/v1/models/evil/landing/repo?Revision=master&FilePath=w.bin");
  assert.equal(landing.status, 502, landing.text);
  assert.match(landing.text, /The mirror could not keep w\.bin of evil\/landing on its disk/);
  // The engine's bookkeeping folder blocked: only its records are lost; the file is fetched, checked and served.
  fs.mkdirSync(path.join(root, "models", "evil--meta"), { recursive: true });
  fs.writeFileSync(path.join(root, "models", "evil--meta", ".dc-meta"), "not a folder");
  const meta = await get("/api/v1/models/evil/meta/repo?Revision=master&FilePath=w.bin");
  assert.equal(meta.status, 200, meta.text);
  assert.equal(meta.text, BODY);
});

test("anonymous answers saved to the root are bounded in count and bytes: distinct queries cannot fill the disk", () => {
  const dir = tempDir("dc-attack-meta-");
  const answer = (n: number) => ({ status: 200, body: Buffer.alloc(n, 0x20), contentType: "application/json" });
  const saved = () => fs.readdirSync(path.join(dir, ".dc-hub", "mirror-meta")).length;
  const cache = new MetaCache(dir, 60_000, { files: 3, bytes: 1024 * 1024 });
  for (let i = 1; i <= 5; i++) cache.put("anon", `/openapi/v1/models?search=q${i}`, answer(10));
  assert.equal(saved(), 3);
  // Another process of the hub (or a restart) finds the first three on disk, not the rest.
  const other = new MetaCache(dir, 60_000, { files: 3, bytes: 1024 * 1024 });
  assert.ok(other.get("anon", "/openapi/v1/models?search=q1"));
  assert.equal(other.get("anon", "/openapi/v1/models?search=q5"), undefined);
  // A saved answer is still replaced when full, and it counts what is on disk.
  other.put("anon", "/openapi/v1/models?search=q1", answer(20));
  assert.equal(new MetaCache(dir, 60_000).get("anon", "/openapi/v1/models?search=q1")?.body.length, 20);
  other.put("anon", "/openapi/v1/models?search=q6", answer(10));
  assert.equal(saved(), 3);
  // The bytes bound: one answer past it is kept in memory only.
  const smallDir = tempDir("dc-attack-meta-");
  const small = new MetaCache(smallDir, 60_000, { files: 100, bytes: 1000 });
  small.put("anon", "/openapi/v1/models?search=big", answer(2000));
  assert.ok(small.get("anon", "/openapi/v1/models?search=big"), "served from memory");
  assert.equal(new MetaCache(smallDir, 60_000).get("anon", "/openapi/v1/models?search=big"), undefined);
});
